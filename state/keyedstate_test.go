package state

import (
	"maps"
	"slices"
	"testing"
)

// avgAcc and avgAgg average ints: an AggregateFunction whose accumulator,
// input and result types all differ.
type avgAcc struct{ sum, n int }

type avgAgg struct{}

func (avgAgg) CreateAccumulator() avgAcc    { return avgAcc{} }
func (avgAgg) Add(v int, acc avgAcc) avgAcc { return avgAcc{acc.sum + v, acc.n + 1} }
func (avgAgg) GetResult(acc avgAcc) float64 { return float64(acc.sum) / float64(acc.n) }
func (avgAgg) Merge(a, b avgAcc) avgAcc     { return avgAcc{a.sum + b.sum, a.n + b.n} }

func TestValueState(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	v, err := GetValueState(b, ValueStateDescriptor[int]{Name: "v"})
	if err != nil {
		t.Fatal(err)
	}
	m := v.(*valueState[string, int]).m
	check := func(step string, want int, wantOK bool, wantKeys int) {
		t.Helper()
		if got, ok := v.Value(); got != want || ok != wantOK {
			t.Fatalf("%s: Value() = %d, %v; want %d, %v", step, got, ok, want, wantOK)
		}
		if m.Len() != wantKeys {
			t.Fatalf("%s: %d keys stored, want %d", step, m.Len(), wantKeys)
		}
	}
	setKey(t, b, "a")
	check("new", 0, false, 0)
	v.Update(5)
	check("Update(5)", 5, true, 1)
	v.Update(0) // the zero value is a value, not absence
	check("Update(0)", 0, true, 1)
	setKey(t, b, "b")
	check("other key", 0, false, 1)
	v.Update(9)
	check("other key Update(9)", 9, true, 2)
	setKey(t, b, "a")
	check("back to a", 0, true, 2)
	v.Clear()
	check("Clear", 0, false, 1)
	v.Clear()
	check("Clear twice", 0, false, 1)
	setKey(t, b, "b")
	check("b after clearing a", 9, true, 1)
}

func TestListState(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	l, err := GetListState(b, ListStateDescriptor[int]{Name: "l"})
	if err != nil {
		t.Fatal(err)
	}
	m := l.(*listState[string, int]).m
	check := func(step string, want []int, wantKeys int) {
		t.Helper()
		got := l.Get()
		if !slices.Equal(got, want) || (want == nil) != (got == nil) {
			t.Fatalf("%s: Get() = %#v, want %#v", step, got, want)
		}
		if m.Len() != wantKeys {
			t.Fatalf("%s: %d keys stored, want %d", step, m.Len(), wantKeys)
		}
	}
	setKey(t, b, "a")
	check("new", nil, 0)
	l.AddAll(nil)
	l.AddAll([]int{})
	check("AddAll of nothing", nil, 0)
	l.Add(1)
	check("Add(1)", []int{1}, 1)
	in := []int{2, 3}
	l.AddAll(in)
	check("AddAll(2, 3)", []int{1, 2, 3}, 1)
	in[0] = 99 // AddAll copied its argument
	check("after changing AddAll's slice", []int{1, 2, 3}, 1)
	got := l.Get()
	got[0] = 42 // Get returns a copy
	_ = append(got[:1], 77)
	check("after changing Get's result", []int{1, 2, 3}, 1)

	setKey(t, b, "b")
	check("other key", nil, 1)
	up := []int{7, 8}
	l.Update(up)
	up[1] = 0 // Update copied its argument
	check("Update(7, 8)", []int{7, 8}, 2)
	l.Add(9)
	check("Add after Update", []int{7, 8, 9}, 2)
	l.Update(nil)
	check("Update(nil) clears", nil, 1)
	l.Update([]int{4})
	l.Update([]int{})
	check("Update(empty) clears", nil, 1)

	setKey(t, b, "a")
	check("a untouched", []int{1, 2, 3}, 1)
	l.Clear()
	check("Clear", nil, 0)
	l.Clear()
	check("Clear twice", nil, 0)
	l.Add(5)
	check("Add after Clear", []int{5}, 1)
}

func TestMapState(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	ms, err := GetMapState(b, MapStateDescriptor[string, int]{Name: "m"})
	if err != nil {
		t.Fatal(err)
	}
	km := ms.(*mapState[string, string, int]).m
	check := func(step string, want map[string]int, wantKeys int) {
		t.Helper()
		if got := maps.Collect(ms.All()); !maps.Equal(got, want) {
			t.Fatalf("%s: All() = %v, want %v", step, got, want)
		}
		if ms.Len() != len(want) || ms.IsEmpty() != (len(want) == 0) {
			t.Fatalf("%s: Len, IsEmpty = %d, %v; want %d, %v", step, ms.Len(), ms.IsEmpty(), len(want), len(want) == 0)
		}
		for _, k := range []string{"x", "y", "z", "w"} {
			wv, wok := want[k]
			if v, ok := ms.Get(k); v != wv || ok != wok {
				t.Fatalf("%s: Get(%q) = %d, %v; want %d, %v", step, k, v, ok, wv, wok)
			}
			if ms.Contains(k) != wok {
				t.Fatalf("%s: Contains(%q) = %v, want %v", step, k, !wok, wok)
			}
		}
		if km.Len() != wantKeys {
			t.Fatalf("%s: %d keys stored, want %d", step, km.Len(), wantKeys)
		}
	}
	setKey(t, b, "a")
	check("new", map[string]int{}, 0)
	ms.Remove("x")
	check("Remove on empty", map[string]int{}, 0)
	ms.Put("x", 1)
	ms.Put("y", 2)
	check("Put x, y", map[string]int{"x": 1, "y": 2}, 1)
	ms.Put("x", 0)
	check("overwrite x with 0", map[string]int{"x": 0, "y": 2}, 1)
	ms.Remove("z")
	check("Remove missing", map[string]int{"x": 0, "y": 2}, 1)

	setKey(t, b, "b")
	check("other key", map[string]int{}, 1)
	ms.Put("z", 3)
	check("b Put z", map[string]int{"z": 3}, 2)
	ms.Remove("z")
	check("removing the last entry drops the key", map[string]int{}, 1)
	ms.Put("w", 4)
	ms.Clear()
	check("Clear", map[string]int{}, 1)

	setKey(t, b, "a")
	check("a untouched", map[string]int{"x": 0, "y": 2}, 1)

	// All stops when the loop breaks.
	n := 0
	for range ms.All() {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("All yielded %d entries before the break, want 1", n)
	}
	// All belongs to the key current when it was called.
	seq := ms.All()
	setKey(t, b, "b")
	if got := maps.Collect(seq); !maps.Equal(got, map[string]int{"x": 0, "y": 2}) {
		t.Fatalf("All() called for a, ranged with b current: %v", got)
	}
	setKey(t, b, "a")
	// The loop body may remove entries; the sequence can be ranged again.
	for k := range seq {
		if k == "x" {
			ms.Remove(k)
		}
	}
	check("removed x during All", map[string]int{"y": 2}, 1)
	for k := range seq {
		ms.Remove(k)
	}
	check("removed everything during All", map[string]int{}, 0)
}

func TestReducingState(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	// Concatenation is not commutative: it shows that the stored value comes first.
	r, err := GetReducingState(b, ReducingStateDescriptor[string]{Name: "r", Reduce: func(a, b string) string { return a + b }})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step, want string, wantOK bool) {
		t.Helper()
		if got, ok := r.Get(); got != want || ok != wantOK {
			t.Fatalf("%s: Get() = %q, %v; want %q, %v", step, got, ok, want, wantOK)
		}
	}
	setKey(t, b, "a")
	check("new", "", false)
	r.Add("x")
	check("Add(x)", "x", true)
	r.Add("y")
	r.Add("z")
	check("Add(y), Add(z)", "xyz", true)
	setKey(t, b, "b")
	check("other key", "", false)
	r.Add("q")
	check("b Add(q)", "q", true)
	setKey(t, b, "a")
	r.Clear()
	check("Clear", "", false)
	r.Add("w")
	check("Add after Clear", "w", true)
	setKey(t, b, "b")
	check("b untouched", "q", true)
}

// countingAvg counts accumulator creations.
type countingAvg struct {
	avgAgg
	created *int
}

func (c countingAvg) CreateAccumulator() avgAcc { *c.created++; return avgAcc{} }

func TestAggregatingState(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	created := 0
	a, err := GetAggregatingState(b, AggregatingStateDescriptor[int, avgAcc, float64]{Name: "avg", Aggregate: countingAvg{created: &created}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, want float64, wantOK bool, wantCreated int) {
		t.Helper()
		if got, ok := a.Get(); got != want || ok != wantOK {
			t.Fatalf("%s: Get() = %v, %v; want %v, %v", step, got, ok, want, wantOK)
		}
		if created != wantCreated {
			t.Fatalf("%s: %d accumulators created, want %d", step, created, wantCreated)
		}
	}
	setKey(t, b, "a")
	check("new", 0, false, 0)
	a.Add(1)
	check("Add(1)", 1, true, 1)
	a.Add(2)
	a.Add(6)
	check("Add(2), Add(6)", 3, true, 1)
	setKey(t, b, "b")
	check("other key", 0, false, 1)
	a.Add(10)
	check("b Add(10)", 10, true, 2)
	setKey(t, b, "a")
	a.Clear()
	check("Clear", 0, false, 2)
	a.Add(4)
	check("Add after Clear", 4, true, 3)
	setKey(t, b, "b")
	check("b untouched", 10, true, 3)
}
