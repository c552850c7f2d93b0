package state

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// refKeyState is the slow, obvious model of one key's state: plain Go values.
type refKeyState struct {
	value   *int
	list    []int
	m       map[int]int
	reduced *int
	agg     *avgAcc
}

// TestKeyedStateAgainstReference applies random operations on random keys to
// every kind of state and to a map[key]refKeyState, and compares every read.
// State written under one key must never be visible under another.
func TestKeyedStateAgainstReference(t *testing.T) {
	r, seed := keyGroupTestRand(t)
	const maxP = 16
	b := newStringBackend(t, maxP, nil)
	hash := stringHash(t)
	v, err := GetValueState(b, ValueStateDescriptor[int]{Name: "value"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := GetListState(b, ListStateDescriptor[int]{Name: "list"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := GetMapState(b, MapStateDescriptor[int, int]{Name: "map"})
	if err != nil {
		t.Fatal(err)
	}
	red, err := GetReducingState(b, ReducingStateDescriptor[int]{Name: "reducing", Reduce: func(a, b int) int { return a*31 + b }})
	if err != nil {
		t.Fatal(err)
	}
	agg, err := GetAggregatingState(b, AggregatingStateDescriptor[int, avgAcc, float64]{Name: "aggregating", Aggregate: avgAgg{}})
	if err != nil {
		t.Fatal(err)
	}

	keys := make([]string, 40)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
	}
	ref := map[string]*refKeyState{}
	cur := ""
	refOf := func() *refKeyState {
		s := ref[cur]
		if s == nil {
			s = &refKeyState{m: map[int]int{}}
			ref[cur] = s
		}
		return s
	}
	fail := func(step int, op, format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d step %d key %q %s: %s", seed, step, cur, op, fmt.Sprintf(format, args...))
	}
	checkKey := func(step int, op string) {
		t.Helper()
		s := refOf()
		gv, gok := v.Value()
		if gok != (s.value != nil) || (gok && gv != *s.value) {
			fail(step, op, "Value() = %s; reference %s", show(gv, gok), deref(s.value))
		}
		if got := l.Get(); !slices.Equal(got, s.list) {
			fail(step, op, "List Get() = %v, reference %v", got, s.list)
		}
		if got := maps.Collect(m.All()); !maps.Equal(got, s.m) {
			fail(step, op, "Map All() = %v, reference %v", got, s.m)
		}
		if m.Len() != len(s.m) {
			fail(step, op, "Map Len() = %d, reference %d", m.Len(), len(s.m))
		}
		gr, rok := red.Get()
		if rok != (s.reduced != nil) || (rok && gr != *s.reduced) {
			fail(step, op, "Reducing Get() = %s; reference %s", show(gr, rok), deref(s.reduced))
		}
		ga, aok := agg.Get()
		if aok != (s.agg != nil) || (aok && ga != (avgAgg{}).GetResult(*s.agg)) {
			fail(step, op, "Aggregating Get() = %s; reference %s", show(ga, aok), deref(s.agg))
		}
	}

	for step := range 20_000 {
		if step%7 == 0 || cur == "" {
			cur = keys[r.IntN(len(keys))]
			setKey(t, b, cur)
		}
		s := refOf()
		x := r.IntN(100)
		switch op := r.IntN(16); op {
		case 0:
			v.Update(x)
			s.value = &x
		case 1:
			v.Clear()
			s.value = nil
		case 2:
			l.Add(x)
			s.list = append(s.list, x)
		case 3:
			vs := make([]int, r.IntN(4))
			for i := range vs {
				vs[i] = r.IntN(100)
			}
			l.AddAll(vs)
			s.list = append(s.list, vs...)
		case 4:
			vs := make([]int, r.IntN(3))
			for i := range vs {
				vs[i] = r.IntN(100)
			}
			l.Update(vs)
			s.list = slices.Clone(vs)
			if len(vs) == 0 {
				s.list = nil
			}
		case 5:
			l.Clear()
			s.list = nil
		case 6, 7:
			k := r.IntN(8)
			m.Put(k, x)
			s.m[k] = x
		case 8:
			k := r.IntN(8)
			m.Remove(k)
			delete(s.m, k)
		case 9:
			k := r.IntN(8)
			gv, gok := m.Get(k)
			wv, wok := s.m[k]
			if gv != wv || gok != wok || m.Contains(k) != wok {
				fail(step, "map get", "Get(%d) = %d, %v; reference %d, %v", k, gv, gok, wv, wok)
			}
		case 10:
			m.Clear()
			clear(s.m)
		case 11:
			red.Add(x)
			if s.reduced == nil {
				s.reduced = &x
			} else {
				n := *s.reduced*31 + x
				s.reduced = &n
			}
		case 12:
			red.Clear()
			s.reduced = nil
		case 13:
			agg.Add(x)
			if s.agg == nil {
				s.agg = &avgAcc{}
			}
			s.agg.sum += x
			s.agg.n++
		case 14:
			agg.Clear()
			s.agg = nil
		case 15:
			checkKey(step, "check")
		}
	}
	// Every key, every state, at the end.
	for _, k := range keys {
		cur = k
		setKey(t, b, k)
		checkKey(-1, "final")
	}
	// Every stored entry sits in its key's key group, and only keys with state are stored.
	want := map[string]int{}
	for _, s := range ref {
		if s.value != nil {
			want["value"]++
		}
		if len(s.list) > 0 {
			want["list"]++
		}
		if len(s.m) > 0 {
			want["map"]++
		}
		if s.reduced != nil {
			want["reducing"]++
		}
		if s.agg != nil {
			want["aggregating"]++
		}
	}
	checkGroups(t, seed, "value", v.(*valueState[string, int]).m, hash, maxP, want["value"])
	checkGroups(t, seed, "list", l.(*listState[string, int]).m, hash, maxP, want["list"])
	checkGroups(t, seed, "map", m.(*mapState[string, int, int]).m, hash, maxP, want["map"])
	checkGroups(t, seed, "reducing", red.(*reducingState[string, int]).m, hash, maxP, want["reducing"])
	checkGroups(t, seed, "aggregating", agg.(*aggregatingState[string, int, avgAcc, float64]).m, hash, maxP, want["aggregating"])
}

func checkGroups[V any](t *testing.T, seed uint64, name string, m *KeyedMap[string, V], hash func(string) uint64, maxP, wantLen int) {
	t.Helper()
	if m.Len() != wantLen {
		t.Errorf("seed %d: state %q stores %d keys, reference has %d keys with state", seed, name, m.Len(), wantLen)
	}
	m.All(func(kg int, key string, _ V) bool {
		if want := KeyGroupForHash(hash(key), maxP); kg != want {
			t.Errorf("seed %d: state %q stores key %q in key group %d, its key group is %d", seed, name, key, kg, want)
		}
		return true
	})
}

// deref prints a reference value as show does: "-" for absence.
func deref[V any](p *V) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}
