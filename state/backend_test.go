package state

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable processing-time clock in milliseconds.
type fakeClock struct{ now int64 }

func (c *fakeClock) read() int64 { return c.now }

func stringHash(t testing.TB) func(string) uint64 {
	t.Helper()
	h, err := HasherFor[string]()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// newStringBackend returns a backend with string keys over all maxP key groups.
func newStringBackend(t testing.TB, maxP int, clock *fakeClock) *HeapKeyedBackend[string] {
	t.Helper()
	var c func() int64
	if clock != nil {
		c = clock.read
	}
	return NewHeapKeyedBackend(KeyGroupRange{Start: 0, End: maxP - 1}, maxP, stringHash(t), c)
}

// keyInGroup returns the first key "k<i>" that hashes to key group kg.
func keyInGroup(t testing.TB, maxP, kg int) string {
	t.Helper()
	h := stringHash(t)
	for i := range 100_000 {
		k := "k" + strconv.Itoa(i)
		if KeyGroupForHash(h(k), maxP) == kg {
			return k
		}
	}
	t.Fatalf("no key found in key group %d of %d", kg, maxP)
	return ""
}

func setKey[K comparable](t testing.TB, b *HeapKeyedBackend[K], k K) {
	t.Helper()
	if err := b.SetCurrentKey(k); err != nil {
		t.Fatalf("SetCurrentKey(%v): %v", k, err)
	}
}

// mustPanic runs fn and checks that it panics with a message containing want.
func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one containing %q", want)
		}
		if msg := fmt.Sprint(r); !strings.Contains(msg, want) {
			t.Fatalf("panic %q, want one containing %q", msg, want)
		}
	}()
	fn()
}

func TestSetCurrentKey(t *testing.T) {
	const maxP = 8
	rng := KeyGroupRange{Start: 2, End: 5}
	b := NewHeapKeyedBackend(rng, maxP, stringHash(t), nil)
	if got := b.KeyGroupRange(); got != rng {
		t.Fatalf("KeyGroupRange() = %v, want %v", got, rng)
	}
	if got := b.MaxParallelism(); got != maxP {
		t.Fatalf("MaxParallelism() = %d, want %d", got, maxP)
	}
	if k, kg := b.CurrentKey(), b.CurrentKeyGroup(); k != "" || kg != -1 {
		t.Fatalf("new backend: CurrentKey, CurrentKeyGroup = %q, %d; want \"\", -1", k, kg)
	}
	for kg := rng.Start; kg <= rng.End; kg++ {
		k := keyInGroup(t, maxP, kg)
		setKey(t, b, k)
		if b.CurrentKey() != k || b.CurrentKeyGroup() != kg {
			t.Fatalf("after SetCurrentKey(%q): %q in key group %d, want key group %d", k, b.CurrentKey(), b.CurrentKeyGroup(), kg)
		}
	}

	inside := keyInGroup(t, maxP, 3)
	outside := keyInGroup(t, maxP, 6)
	setKey(t, b, inside)
	err := b.SetCurrentKey(outside)
	if !errors.Is(err, ErrKeyGroupOutOfRange) {
		t.Fatalf("SetCurrentKey(%q in key group 6) = %v, want ErrKeyGroupOutOfRange", outside, err)
	}
	want := "key group out of range: key " + outside + " is in key group 6, outside this subtask's KeyGroupRange{2..5}; the key selector must return the same key for the same record every time"
	if err.Error() != want {
		t.Fatalf("error = %q\nwant    %q", err, want)
	}
	// The failed call leaves no current key: state cannot land under the previous one.
	if k, kg := b.CurrentKey(), b.CurrentKeyGroup(); k != "" || kg != -1 {
		t.Fatalf("after the error: CurrentKey, CurrentKeyGroup = %q, %d; want \"\", -1", k, kg)
	}
	v, err := GetValueState(b, ValueStateDescriptor[int]{Name: "v"})
	if err != nil {
		t.Fatal(err)
	}
	mustPanic(t, "without a current key", func() { v.Update(1) })
	setKey(t, b, inside)
	v.Update(1)
	if got, ok := v.Value(); got != 1 || !ok {
		t.Fatalf("Value() = %d, %v; want 1, true", got, ok)
	}
}

func TestNoCurrentKeyPanics(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	v, _ := GetValueState(b, ValueStateDescriptor[int]{Name: "v"})
	l, _ := GetListState(b, ListStateDescriptor[int]{Name: "l"})
	m, _ := GetMapState(b, MapStateDescriptor[string, int]{Name: "m"})
	r, _ := GetReducingState(b, ReducingStateDescriptor[int]{Name: "r", Reduce: func(a, b int) int { return a + b }})
	a, _ := GetAggregatingState(b, AggregatingStateDescriptor[int, avgAcc, float64]{Name: "a", Aggregate: avgAgg{}})
	ts := NewTimerService[string, struct{}](b)
	for name, fn := range map[string]func(){
		"Value.Value":          func() { v.Value() },
		"Value.Update":         func() { v.Update(1) },
		"Value.Clear":          func() { v.Clear() },
		"List.Get":             func() { l.Get() },
		"List.Add":             func() { l.Add(1) },
		"List.AddAll":          func() { l.AddAll(nil) },
		"List.Update":          func() { l.Update(nil) },
		"List.Clear":           func() { l.Clear() },
		"Map.Get":              func() { m.Get("x") },
		"Map.Put":              func() { m.Put("x", 1) },
		"Map.Remove":           func() { m.Remove("x") },
		"Map.Contains":         func() { m.Contains("x") },
		"Map.All":              func() { m.All() },
		"Map.Len":              func() { m.Len() },
		"Map.IsEmpty":          func() { m.IsEmpty() },
		"Map.Clear":            func() { m.Clear() },
		"Reducing.Get":         func() { r.Get() },
		"Reducing.Add":         func() { r.Add(1) },
		"Reducing.Clear":       func() { r.Clear() },
		"Aggregating.Get":      func() { a.Get() },
		"Aggregating.Add":      func() { a.Add(1) },
		"Aggregating.Clear":    func() { a.Clear() },
		"RegisterEventTime":    func() { ts.RegisterEventTimeTimer(struct{}{}, 1) },
		"DeleteEventTime":      func() { ts.DeleteEventTimeTimer(struct{}{}, 1) },
		"RegisterProcessing":   func() { ts.RegisterProcessingTimeTimer(struct{}{}, 1) },
		"DeleteProcessingTime": func() { ts.DeleteProcessingTimeTimer(struct{}{}, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			mustPanic(t, "keyed state accessed without a current key", fn)
		})
	}
}

func TestNewHeapKeyedBackendPanics(t *testing.T) {
	h := stringHash(t)
	for _, c := range []struct {
		name string
		fn   func()
		want string
	}{
		{"nil hash", func() { NewHeapKeyedBackend[string](KeyGroupRange{0, 3}, 4, nil, nil) }, "needs a hash function"},
		{"max parallelism 0", func() { NewHeapKeyedBackend(KeyGroupRange{0, 3}, 0, h, nil) }, "max parallelism must be between 1 and 32768, got 0"},
		{"range past the end", func() { NewHeapKeyedBackend(KeyGroupRange{2, 4}, 4, h, nil) }, "KeyGroupRange{2..4} is outside the 4 key groups"},
		{"negative start", func() { NewHeapKeyedBackend(KeyGroupRange{-1, 2}, 4, h, nil) }, "KeyGroupRange{-1..2} is outside the 4 key groups"},
	} {
		t.Run(c.name, func(t *testing.T) { mustPanic(t, c.want, c.fn) })
	}
}

// TestDefaultClockIsWallClock checks that a nil clock means milliseconds since the epoch.
func TestDefaultClockIsWallClock(t *testing.T) {
	b := NewHeapKeyedBackend(KeyGroupRange{0, 0}, 1, stringHash(t), nil)
	before := time.Now().UnixMilli()
	got := b.clock()
	after := time.Now().UnixMilli()
	if got < before || got > after {
		t.Fatalf("default clock = %d, want within [%d, %d]", got, before, after)
	}
}

func TestStateRegistration(t *testing.T) {
	sum := func(a, b int) int { return a + b }
	ttl := &TTLConfig{TTL: time.Minute}
	b := newStringBackend(t, 4, nil)

	v1, err := GetValueState(b, ValueStateDescriptor[int]{Name: "count"})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := GetValueState(b, ValueStateDescriptor[int]{Name: "count"})
	if err != nil {
		t.Fatal(err)
	}
	if v1 != v2 {
		t.Fatal("the same descriptor twice returned two states")
	}
	r1, err := GetReducingState(b, ReducingStateDescriptor[int]{Name: "sum", Reduce: sum})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := GetReducingState(b, ReducingStateDescriptor[int]{Name: "sum", Reduce: func(a, b int) int { return a * b }})
	if err != nil {
		t.Fatal(err)
	}
	if r1 != r2 {
		t.Fatal("the same reducing descriptor twice returned two states")
	}
	setKey(t, b, "k")
	r2.Add(2)
	r2.Add(3)
	if got, _ := r1.Get(); got != 5 {
		t.Fatalf("reduced = %d, want 5: the first registration's function is kept", got)
	}
	t1, err := GetMapState(b, MapStateDescriptor[string, int]{Name: "ttl", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t2, err := GetMapState(b, MapStateDescriptor[string, int]{Name: "ttl", TTL: &TTLConfig{TTL: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	if t1 != t2 {
		t.Fatal("equal TTL configs in two descriptors returned two states")
	}
	ttl.TTL = time.Hour // the backend copied the config: changing it later changes nothing
	if _, err := GetMapState(b, MapStateDescriptor[string, int]{Name: "ttl", TTL: &TTLConfig{TTL: time.Minute}}); err != nil {
		t.Fatalf("after changing the caller's config: %v", err)
	}
	// Different names are different states.
	other, err := GetValueState(b, ValueStateDescriptor[int]{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	v1.Update(7)
	if _, ok := other.Value(); ok {
		t.Fatal("state \"other\" sees the value of state \"count\"")
	}
	_, err = GetListState(b, ListStateDescriptor[string]{Name: "list"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = GetAggregatingState(b, AggregatingStateDescriptor[int, avgAcc, float64]{Name: "avg", Aggregate: avgAgg{}})
	if err != nil {
		t.Fatal(err)
	}

	conflict := "state name registered twice: "
	for _, c := range []struct {
		name string
		get  func() error
		want string
	}{
		{"value as list", func() error {
			_, err := GetListState(b, ListStateDescriptor[int]{Name: "count"})
			return err
		}, `state "count" is registered as ValueState[int] without TTL, requested as ListState[int] without TTL`},
		{"value of another type", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int64]{Name: "count"})
			return err
		}, `state "count" is registered as ValueState[int] without TTL, requested as ValueState[int64] without TTL`},
		{"value with a TTL", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int]{Name: "count", TTL: &TTLConfig{TTL: time.Second}})
			return err
		}, `state "count" is registered as ValueState[int] without TTL, requested as ValueState[int] with TTL 1s (OnCreateAndWrite, NeverReturnExpired)`},
		{"reducing as value", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int]{Name: "sum"})
			return err
		}, `state "sum" is registered as ReducingState[int] without TTL, requested as ValueState[int] without TTL`},
		{"map with another value type", func() error {
			_, err := GetMapState(b, MapStateDescriptor[string, string]{Name: "ttl", TTL: &TTLConfig{TTL: time.Minute}})
			return err
		}, `state "ttl" is registered as MapState[string, int] with TTL 1m0s (OnCreateAndWrite, NeverReturnExpired), requested as MapState[string, string] with TTL 1m0s (OnCreateAndWrite, NeverReturnExpired)`},
		{"map with another TTL update type", func() error {
			_, err := GetMapState(b, MapStateDescriptor[string, int]{Name: "ttl", TTL: &TTLConfig{TTL: time.Minute, Update: OnReadAndWrite}})
			return err
		}, `state "ttl" is registered as MapState[string, int] with TTL 1m0s (OnCreateAndWrite, NeverReturnExpired), requested as MapState[string, int] with TTL 1m0s (OnReadAndWrite, NeverReturnExpired)`},
		{"map without TTL", func() error {
			_, err := GetMapState(b, MapStateDescriptor[string, int]{Name: "ttl"})
			return err
		}, `state "ttl" is registered as MapState[string, int] with TTL 1m0s (OnCreateAndWrite, NeverReturnExpired), requested as MapState[string, int] without TTL`},
		{"list of another type", func() error {
			_, err := GetListState(b, ListStateDescriptor[int]{Name: "list"})
			return err
		}, `state "list" is registered as ListState[string] without TTL, requested as ListState[int] without TTL`},
		{"aggregating with another accumulator", func() error {
			_, err := GetAggregatingState(b, AggregatingStateDescriptor[int, int, float64]{Name: "avg", Aggregate: intAgg{}})
			return err
		}, `state "avg" is registered as AggregatingState[int, state.avgAcc, float64] without TTL, requested as AggregatingState[int, int, float64] without TTL`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.get()
			if !errors.Is(err, ErrStateConflict) {
				t.Fatalf("err = %v, want ErrStateConflict", err)
			}
			if err.Error() != conflict+c.want {
				t.Fatalf("err = %q\nwant  %q", err, conflict+c.want)
			}
		})
	}
}

// intAgg is an AggregateFunction with another accumulator type than avgAgg.
type intAgg struct{}

func (intAgg) CreateAccumulator() int    { return 0 }
func (intAgg) Add(v int, acc int) int    { return acc + v }
func (intAgg) GetResult(acc int) float64 { return float64(acc) }
func (intAgg) Merge(a, b int) int        { return a + b }

func TestInvalidStateDescriptor(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	const prefix = "invalid state descriptor: "
	for _, c := range []struct {
		name string
		get  func() error
		want string
	}{
		{"no name", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int]{})
			return err
		}, "ValueState needs a name"},
		{"no name, map", func() error {
			_, err := GetMapState(b, MapStateDescriptor[int, int]{})
			return err
		}, "MapState needs a name"},
		{"no reduce", func() error {
			_, err := GetReducingState(b, ReducingStateDescriptor[int]{Name: "r"})
			return err
		}, `ReducingState "r" needs a Reduce function`},
		{"no aggregate", func() error {
			_, err := GetAggregatingState(b, AggregatingStateDescriptor[int, avgAcc, float64]{Name: "a"})
			return err
		}, `AggregatingState "a" needs an Aggregate function`},
		{"zero TTL", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int]{Name: "v", TTL: &TTLConfig{}})
			return err
		}, `state "v": TTL must be at least 1ms, got 0s`},
		{"sub-millisecond TTL", func() error {
			_, err := GetListState(b, ListStateDescriptor[int]{Name: "l", TTL: &TTLConfig{TTL: 999 * time.Microsecond}})
			return err
		}, `state "l": TTL must be at least 1ms, got 999µs`},
		{"negative TTL", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int]{Name: "v", TTL: &TTLConfig{TTL: -time.Second}})
			return err
		}, `state "v": TTL must be at least 1ms, got -1s`},
		{"bad update type", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int]{Name: "v", TTL: &TTLConfig{TTL: time.Second, Update: 7}})
			return err
		}, `state "v": TTL update type must be OnCreateAndWrite or OnReadAndWrite, got TTLUpdate(7)`},
		{"bad visibility", func() error {
			_, err := GetValueState(b, ValueStateDescriptor[int]{Name: "v", TTL: &TTLConfig{TTL: time.Second, Visibility: 9}})
			return err
		}, `state "v": TTL visibility must be NeverReturnExpired or ReturnExpiredIfNotCleanedUp, got TTLVisibility(9)`},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.get()
			if !errors.Is(err, ErrInvalidStateDescriptor) {
				t.Fatalf("err = %v, want ErrInvalidStateDescriptor", err)
			}
			if err.Error() != prefix+c.want {
				t.Fatalf("err = %q\nwant  %q", err, prefix+c.want)
			}
		})
	}
	// A failed registration registers nothing: the name is still free.
	if _, err := GetValueState(b, ValueStateDescriptor[string]{Name: "v"}); err != nil {
		t.Fatalf("after failed registrations of \"v\": %v", err)
	}
}
