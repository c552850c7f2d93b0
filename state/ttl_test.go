package state

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TTL behaviour is pinned by small scripts, one command per line:
//
//	<ms>: <command> [args] [-> <want>]
//
// The fake clock is set to <ms>, then the command runs against one state of the
// case's kind, whose TTL is 10ms. "key <k>" sets the current key (the initial
// key is "a"); "cleanup" runs CleanupExpired and prints how many entries it
// dropped. A read prints "-" for absence; a list prints as [1 2]; a map as
// {a:1 b:2} in key order.

type ttlCase struct {
	name   string
	kind   string // value, list, map, reducing, aggregating
	update TTLUpdate
	vis    TTLVisibility
	script string
}

const (
	create = OnCreateAndWrite
	read   = OnReadAndWrite
	never  = NeverReturnExpired
	stale  = ReturnExpiredIfNotCleanedUp
)

var ttlCases = []ttlCase{
	// ValueState.
	{"value expires after TTL", "value", create, never, `
		0: update 1
		9: value -> 1
		10: value -> -
		10: value -> -`},
	{"value write restarts TTL", "value", create, never, `
		0: update 1
		5: update 2
		14: value -> 2
		15: value -> -`},
	{"value read does not restart TTL with OnCreateAndWrite", "value", create, never, `
		0: update 1
		9: value -> 1
		10: value -> -`},
	{"value read restarts TTL with OnReadAndWrite", "value", read, never, `
		0: update 1
		9: value -> 1
		18: value -> 1
		27: value -> 1
		37: value -> -`},
	{"value expired returned once if not cleaned up", "value", create, stale, `
		0: update 1
		9: value -> 1
		100: value -> 1
		100: value -> -`},
	{"value expired read does not restart TTL", "value", read, stale, `
		0: update 1
		5: value -> 1
		14: value -> 1
		24: value -> 1
		24: value -> -`},
	{"value TTL per key", "value", create, never, `
		0: update 1
		5: key b
		5: update 2
		10: value -> 2
		10: key a
		10: value -> -
		15: key b
		15: value -> -`},
	{"value clear and rewrite", "value", create, never, `
		0: update 1
		5: clear
		5: value -> -
		20: update 3
		29: value -> 3`},
	{"value cleanup", "value", create, stale, `
		0: update 1
		5: key b
		5: update 2
		9: cleanup -> 0
		10: cleanup -> 1
		10: value -> 2
		10: key a
		10: value -> -
		15: cleanup -> 1
		15: key b
		15: value -> -`},

	// ListState: every element has its own TTL.
	{"list elements expire one by one", "list", create, never, `
		0: add 1
		5: add 2
		9: get -> [1 2]
		10: get -> [2]
		15: get -> []`},
	{"list addall stamps every element", "list", create, never, `
		0: addall 1 2
		5: add 3
		9: get -> [1 2 3]
		10: get -> [3]`},
	{"list update restamps the list", "list", create, never, `
		0: add 1
		5: update 3 4
		14: get -> [3 4]
		15: get -> []`},
	{"list read restarts TTL with OnReadAndWrite", "list", read, never, `
		0: add 1
		5: add 2
		9: get -> [1 2]
		18: get -> [1 2]
		20: add 3
		28: get -> [3]
		38: get -> []`},
	{"list expired elements returned once if not cleaned up", "list", create, stale, `
		0: add 1
		5: add 2
		10: get -> [1 2]
		10: get -> [2]
		50: get -> [2]
		50: get -> []`},
	{"list expired elements are kept by add until read", "list", create, stale, `
		0: add 1
		20: add 2
		20: get -> [1 2]
		20: get -> [2]`},
	{"list cleanup", "list", create, never, `
		0: add 1
		5: add 2
		5: key b
		5: add 3
		10: cleanup -> 1
		14: key a
		14: get -> [2]
		15: cleanup -> 2
		15: key b
		15: get -> []`},

	// MapState: every entry has its own TTL.
	{"map entries expire one by one", "map", create, never, `
		0: put a 1
		5: put b 2
		9: all -> {a:1 b:2}
		10: get a -> -
		10: contains a -> false
		10: len -> 1
		10: all -> {b:2}
		14: get b -> 2
		15: isempty -> true
		15: all -> {}`},
	{"map put restarts an entry's TTL", "map", create, never, `
		0: put a 1
		5: put a 2
		14: get a -> 2
		15: get a -> -`},
	{"map read restarts TTL with OnReadAndWrite", "map", read, never, `
		0: put a 1
		0: put b 2
		9: get a -> 1
		15: all -> {a:1}
		24: get a -> 1
		34: contains a -> false`},
	{"map contains is a read", "map", read, never, `
		0: put a 1
		9: contains a -> true
		18: get a -> 1`},
	{"map len does not restart TTL", "map", read, never, `
		0: put a 1
		9: len -> 1
		9: isempty -> false
		10: get a -> -`},
	{"map expired entries returned once if not cleaned up", "map", create, stale, `
		0: put a 1
		5: put b 2
		10: len -> 2
		10: all -> {a:1 b:2}
		10: all -> {b:2}
		15: get b -> 2
		15: get b -> -
		15: isempty -> true`},
	{"map contains sees an expired entry once if not cleaned up", "map", create, stale, `
		0: put a 1
		10: contains a -> true
		10: contains a -> false`},
	{"map remove and clear", "map", create, never, `
		0: put a 1
		0: put b 2
		5: remove a
		5: all -> {b:2}
		6: clear
		6: all -> {}`},
	{"map cleanup", "map", create, never, `
		0: put a 1
		5: put b 2
		10: cleanup -> 1
		10: all -> {b:2}
		15: cleanup -> 1
		15: isempty -> true`},

	// ReducingState (sum).
	{"reducing expires after the last add", "reducing", create, never, `
		0: add 1
		5: add 2
		14: get -> 3
		15: get -> -`},
	{"reducing starts over after expiry", "reducing", create, never, `
		0: add 1
		10: add 2
		10: get -> 2`},
	{"reducing merges an expired value not cleaned up", "reducing", create, stale, `
		0: add 1
		10: add 2
		10: get -> 3
		20: get -> 3
		20: get -> -`},
	{"reducing read restarts TTL with OnReadAndWrite", "reducing", read, never, `
		0: add 1
		9: get -> 1
		18: get -> 1
		28: get -> -`},
	{"reducing cleanup", "reducing", create, never, `
		0: add 4
		10: cleanup -> 1
		10: get -> -`},

	// AggregatingState (average).
	{"aggregating expires after the last add", "aggregating", create, never, `
		0: add 2
		5: add 4
		14: get -> 3
		15: get -> -`},
	{"aggregating starts a new accumulator after expiry", "aggregating", create, never, `
		0: add 2
		10: add 4
		10: get -> 4`},
	{"aggregating adds to an expired accumulator not cleaned up", "aggregating", create, stale, `
		0: add 2
		10: add 4
		10: get -> 3
		20: get -> 3
		20: get -> -`},
	{"aggregating read restarts TTL with OnReadAndWrite", "aggregating", read, never, `
		0: add 2
		9: get -> 2
		18: get -> 2
		28: get -> -`},
	{"aggregating cleanup", "aggregating", create, stale, `
		0: add 2
		10: cleanup -> 1
		10: get -> -`},
}

func TestTTL(t *testing.T) {
	for _, c := range ttlCases {
		t.Run(c.name, func(t *testing.T) { runTTLScript(t, c) })
	}
}

func runTTLScript(t *testing.T, c ttlCase) {
	clock := &fakeClock{}
	b := newStringBackend(t, 8, clock)
	cfg := &TTLConfig{TTL: 10 * time.Millisecond, Update: c.update, Visibility: c.vis}
	run := ttlDriver(t, b, c.kind, cfg)
	setKey(t, b, "a")
	for i, line := range strings.Split(strings.TrimSpace(c.script), "\n") {
		line = strings.TrimSpace(line)
		at, rest, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("line %d %q: no time", i+1, line)
		}
		ms, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		cmd, want, _ := strings.Cut(rest, " -> ")
		clock.now = ms
		args := strings.Fields(cmd)
		var got string
		switch args[0] {
		case "key":
			setKey(t, b, args[1])
		case "cleanup":
			got = strconv.Itoa(b.CleanupExpired())
		default:
			got = run(args)
		}
		if got != want {
			t.Fatalf("line %d %q: got %q, want %q", i+1, line, got, want)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func atois(t *testing.T, ss []string) []int {
	t.Helper()
	out := make([]int, len(ss))
	for i, s := range ss {
		out[i] = atoi(t, s)
	}
	return out
}

func show[V any](v V, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprint(v)
}

// ttlDriver returns a function that runs one script command on a state of kind.
func ttlDriver(t *testing.T, b *HeapKeyedBackend[string], kind string, cfg *TTLConfig) func(args []string) string {
	bad := func(args []string) string {
		t.Fatalf("unknown %s command %q", kind, args)
		return ""
	}
	switch kind {
	case "value":
		s, err := GetValueState(b, ValueStateDescriptor[int]{Name: "s", TTL: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return func(args []string) string {
			switch args[0] {
			case "update":
				s.Update(atoi(t, args[1]))
			case "value":
				return show(s.Value())
			case "clear":
				s.Clear()
			default:
				return bad(args)
			}
			return ""
		}
	case "list":
		s, err := GetListState(b, ListStateDescriptor[int]{Name: "s", TTL: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return func(args []string) string {
			switch args[0] {
			case "add":
				s.Add(atoi(t, args[1]))
			case "addall":
				s.AddAll(atois(t, args[1:]))
			case "update":
				s.Update(atois(t, args[1:]))
			case "get":
				return fmt.Sprint(s.Get())
			default:
				return bad(args)
			}
			return ""
		}
	case "map":
		s, err := GetMapState(b, MapStateDescriptor[string, int]{Name: "s", TTL: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return func(args []string) string {
			switch args[0] {
			case "put":
				s.Put(args[1], atoi(t, args[2]))
			case "get":
				return show(s.Get(args[1]))
			case "contains":
				return strconv.FormatBool(s.Contains(args[1]))
			case "remove":
				s.Remove(args[1])
			case "len":
				return strconv.Itoa(s.Len())
			case "isempty":
				return strconv.FormatBool(s.IsEmpty())
			case "all":
				m := maps.Collect(s.All())
				var parts []string
				for _, k := range slices.Sorted(maps.Keys(m)) {
					parts = append(parts, fmt.Sprintf("%s:%d", k, m[k]))
				}
				return "{" + strings.Join(parts, " ") + "}"
			case "clear":
				s.Clear()
			default:
				return bad(args)
			}
			return ""
		}
	case "reducing":
		s, err := GetReducingState(b, ReducingStateDescriptor[int]{Name: "s", Reduce: func(a, b int) int { return a + b }, TTL: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return func(args []string) string {
			switch args[0] {
			case "add":
				s.Add(atoi(t, args[1]))
			case "get":
				return show(s.Get())
			default:
				return bad(args)
			}
			return ""
		}
	case "aggregating":
		s, err := GetAggregatingState(b, AggregatingStateDescriptor[int, avgAcc, float64]{Name: "s", Aggregate: avgAgg{}, TTL: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return func(args []string) string {
			switch args[0] {
			case "add":
				s.Add(atoi(t, args[1]))
			case "get":
				return show(s.Get())
			default:
				return bad(args)
			}
			return ""
		}
	}
	t.Fatalf("unknown state kind %q", kind)
	return nil
}

func TestTTLExpired(t *testing.T) {
	for _, c := range []struct {
		ts, ttl, now int64
		want         bool
	}{
		{0, 10, 9, false},
		{0, 10, 10, true}, // Flink: expired when ts + ttl <= now
		{0, 10, 11, true},
		{-5, 10, 4, false},
		{-5, 10, 5, true},
		{math.MaxInt64 - 5, 10, math.MaxInt64 - 1, false}, // ts + ttl saturates at MaxInt64
		{math.MaxInt64 - 5, 10, math.MaxInt64, true},
		{math.MaxInt64, 1, math.MaxInt64, true},
	} {
		p := &ttlPolicy{ttl: c.ttl}
		if got := p.expired(c.ts, c.now); got != c.want {
			t.Errorf("expired(ts=%d, ttl=%d, now=%d) = %v, want %v", c.ts, c.ttl, c.now, got, c.want)
		}
	}
}

// TestTTLWholeMilliseconds checks that the TTL is truncated to the clock's unit.
func TestTTLWholeMilliseconds(t *testing.T) {
	clock := &fakeClock{}
	b := newStringBackend(t, 4, clock)
	v, err := GetValueState(b, ValueStateDescriptor[int]{Name: "v", TTL: &TTLConfig{TTL: 2500 * time.Microsecond}})
	if err != nil {
		t.Fatal(err)
	}
	setKey(t, b, "a")
	v.Update(1)
	clock.now = 1
	if _, ok := v.Value(); !ok {
		t.Fatal("value expired after 1ms of a 2.5ms TTL")
	}
	clock.now = 2
	if _, ok := v.Value(); ok {
		t.Fatal("value alive after 2ms of a 2.5ms TTL, which counts as 2ms")
	}
}

func TestTTLStrings(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{OnCreateAndWrite.String(), "OnCreateAndWrite"},
		{OnReadAndWrite.String(), "OnReadAndWrite"},
		{NeverReturnExpired.String(), "NeverReturnExpired"},
		{ReturnExpiredIfNotCleanedUp.String(), "ReturnExpiredIfNotCleanedUp"},
		{TTLConfig{TTL: time.Hour}.String(), "TTL 1h0m0s (OnCreateAndWrite, NeverReturnExpired)"},
	} {
		if c.got != c.want {
			t.Errorf("String() = %q, want %q", c.got, c.want)
		}
	}
}
