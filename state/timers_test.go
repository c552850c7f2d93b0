package state

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// firedTimer is one call of a fire function, with the backend's current key
// at the time of the call.
type firedTimer struct {
	key, ns string
	ts      int64
	current string
	kg      int
}

func (f firedTimer) String() string { return fmt.Sprintf("%s/%s@%d", f.key, f.ns, f.ts) }

func firedString(fs []firedTimer) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.String()
	}
	return strings.Join(parts, " ")
}

// recorder returns a fire function that records each call and checks that the
// backend's current key is the timer's key, then runs then (if not nil).
func recorder(t *testing.T, b *HeapKeyedBackend[string], out *[]firedTimer, then func(f firedTimer) error) func(string, string, int64) error {
	return func(key, ns string, ts int64) error {
		f := firedTimer{key: key, ns: ns, ts: ts, current: b.CurrentKey(), kg: b.CurrentKeyGroup()}
		if f.current != key {
			t.Errorf("firing %v: current key %q", f, f.current)
		}
		if want := KeyGroupForHash(b.hash(key), b.maxP); f.kg != want {
			t.Errorf("firing %v: current key group %d, want %d", f, f.kg, want)
		}
		*out = append(*out, f)
		if then != nil {
			return then(f)
		}
		return nil
	}
}

// checkQueue verifies the timer queue's bookkeeping and that every live timer
// is filed under its key's key group.
func checkQueue[N comparable](t *testing.T, q *timerQueue[string, N], hash func(string) uint64, maxP int) {
	t.Helper()
	live := 0
	for i, set := range q.sets {
		live += len(set)
		for id := range set {
			if kg := KeyGroupForHash(hash(id.key), maxP); kg != q.rng.Start+i {
				t.Fatalf("timer %v is filed under key group %d, its key's key group is %d", id, q.rng.Start+i, kg)
			}
		}
	}
	if live != q.live {
		t.Fatalf("%d timers in the key group sets, live count %d", live, q.live)
	}
	if len(q.heap) != q.live+q.stale {
		t.Fatalf("heap holds %d entries, live %d + stale %d", len(q.heap), q.live, q.stale)
	}
}

type timerOp struct {
	op  string // "e" event-time register, "de" delete, "p"/"dp" processing time
	key string
	ns  string
	ts  int64
}

func TestEventTimeTimers(t *testing.T) {
	for _, c := range []struct {
		name   string
		ops    []timerOp
		wm     []int64  // successive AdvanceWatermark calls
		fired  []string // fired timers per call
		remain int
	}{
		{
			name:  "timestamp order across keys",
			ops:   []timerOp{{"e", "a", "w", 30}, {"e", "b", "w", 10}, {"e", "c", "w", 20}, {"e", "a", "w", 5}},
			wm:    []int64{100},
			fired: []string{"a/w@5 b/w@10 c/w@20 a/w@30"},
		},
		{
			name:  "ties in registration order",
			ops:   []timerOp{{"e", "b", "w", 10}, {"e", "a", "w", 10}, {"e", "c", "x", 10}, {"e", "a", "x", 10}, {"e", "a", "w", 9}},
			wm:    []int64{10},
			fired: []string{"a/w@9 b/w@10 a/w@10 c/x@10 a/x@10"},
		},
		{
			name:   "only timers at or before the watermark",
			ops:    []timerOp{{"e", "a", "w", 10}, {"e", "a", "w", 11}, {"e", "b", "w", 12}},
			wm:     []int64{9, 10, 11},
			fired:  []string{"", "a/w@10", "a/w@11"},
			remain: 1,
		},
		{
			name:  "duplicates are one timer",
			ops:   []timerOp{{"e", "a", "w", 10}, {"e", "a", "w", 10}, {"e", "a", "x", 10}, {"e", "b", "w", 10}, {"e", "a", "w", 10}},
			wm:    []int64{10},
			fired: []string{"a/w@10 a/x@10 b/w@10"},
		},
		{
			name:   "deleted timers do not fire",
			ops:    []timerOp{{"e", "a", "w", 10}, {"e", "b", "w", 10}, {"de", "a", "w", 10}, {"de", "a", "w", 10}, {"de", "c", "w", 10}, {"de", "b", "x", 10}, {"de", "b", "w", 11}},
			wm:     []int64{20},
			fired:  []string{"b/w@10"},
			remain: 0,
		},
		{
			name:  "a re-registered timer takes its new registration's place",
			ops:   []timerOp{{"e", "a", "w", 10}, {"e", "b", "w", 10}, {"de", "a", "w", 10}, {"e", "a", "w", 10}},
			wm:    []int64{10},
			fired: []string{"b/w@10 a/w@10"},
		},
		{
			name:  "a lower watermark is ignored",
			ops:   []timerOp{{"e", "a", "w", 15}},
			wm:    []int64{20, 5},
			fired: []string{"a/w@15", ""},
		},
		{
			name:  "extreme timestamps",
			ops:   []timerOp{{"e", "a", "w", math.MaxInt64}, {"e", "a", "w", math.MinInt64}, {"e", "a", "w", 0}},
			wm:    []int64{math.MinInt64, 0, math.MaxInt64},
			fired: []string{"a/w@-9223372036854775808", "a/w@0", "a/w@9223372036854775807"},
		},
		{
			name:  "processing-time timers are separate",
			ops:   []timerOp{{"p", "a", "w", 10}, {"e", "a", "w", 10}, {"dp", "a", "w", 10}},
			wm:    []int64{10},
			fired: []string{"a/w@10"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			const maxP = 8
			b := newStringBackend(t, maxP, nil)
			ts := NewTimerService[string, string](b)
			for _, op := range c.ops {
				setKey(t, b, op.key)
				switch op.op {
				case "e":
					ts.RegisterEventTimeTimer(op.ns, op.ts)
				case "de":
					ts.DeleteEventTimeTimer(op.ns, op.ts)
				case "p":
					ts.RegisterProcessingTimeTimer(op.ns, op.ts)
				case "dp":
					ts.DeleteProcessingTimeTimer(op.ns, op.ts)
				}
				checkQueue(t, &ts.event, b.hash, maxP)
			}
			highest := int64(math.MinInt64)
			for i, wm := range c.wm {
				var fired []firedTimer
				if err := ts.AdvanceWatermark(wm, recorder(t, b, &fired, nil)); err != nil {
					t.Fatal(err)
				}
				highest = max(highest, wm)
				if got := firedString(fired); got != c.fired[i] {
					t.Fatalf("AdvanceWatermark(%d) fired %q, want %q", wm, got, c.fired[i])
				}
				if got := ts.CurrentWatermark(); got != highest {
					t.Fatalf("after AdvanceWatermark(%d): CurrentWatermark() = %d, want %d", wm, got, highest)
				}
				checkQueue(t, &ts.event, b.hash, maxP)
			}
			if got := ts.NumEventTimeTimers(); got != c.remain {
				t.Fatalf("NumEventTimeTimers() = %d, want %d", got, c.remain)
			}
		})
	}
}

func TestWatermarkStartsAtMinInt64(t *testing.T) {
	ts := NewTimerService[string, struct{}](newStringBackend(t, 4, nil))
	if got := ts.CurrentWatermark(); got != math.MinInt64 {
		t.Fatalf("CurrentWatermark() = %d, want math.MinInt64", got)
	}
	if ts.NumEventTimeTimers() != 0 || ts.NumProcessingTimeTimers() != 0 {
		t.Fatal("new timer service has timers")
	}
}

// TestLateTimerFiresOnNextAdvance: a timer registered at or before the current
// watermark fires on the next AdvanceWatermark, even one with a lower value.
func TestLateTimerFiresOnNextAdvance(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	ts := NewTimerService[string, string](b)
	var fired []firedTimer
	if err := ts.AdvanceWatermark(100, recorder(t, b, &fired, nil)); err != nil {
		t.Fatal(err)
	}
	setKey(t, b, "a")
	ts.RegisterEventTimeTimer("late", 50)
	ts.RegisterEventTimeTimer("now", 100)
	ts.RegisterEventTimeTimer("future", 101)
	if err := ts.AdvanceWatermark(90, recorder(t, b, &fired, nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := firedString(fired), "a/late@50 a/now@100"; got != want {
		t.Fatalf("fired %q, want %q", got, want)
	}
	if ts.CurrentWatermark() != 100 {
		t.Fatalf("CurrentWatermark() = %d after a lower watermark, want 100", ts.CurrentWatermark())
	}
}

func TestTimersRegisteredWhileFiring(t *testing.T) {
	const maxP = 8
	b := newStringBackend(t, maxP, nil)
	ts := NewTimerService[string, string](b)
	setKey(t, b, "a")
	ts.RegisterEventTimeTimer("w", 5)
	ts.RegisterEventTimeTimer("w", 6)
	setKey(t, b, "b")
	ts.RegisterEventTimeTimer("w", 8)
	var fired []firedTimer
	first := true
	err := ts.AdvanceWatermark(10, recorder(t, b, &fired, func(f firedTimer) error {
		if got := ts.CurrentWatermark(); got != 10 {
			t.Errorf("CurrentWatermark() while firing = %d, want 10", got)
		}
		if f.String() != "a/w@5" || !first {
			return nil
		}
		first = false
		// For the current key (a): due now, and later than the watermark.
		ts.RegisterEventTimeTimer("again", 7)
		ts.RegisterEventTimeTimer("later", 15)
		// Itself again: it is already gone, so it is a new timer that fires
		// after the others registered at 5.
		ts.RegisterEventTimeTimer("w", 5)
		setKey(t, b, "c")
		ts.RegisterEventTimeTimer("w", 5)
		// A pending timer deleted by a callback does not fire.
		setKey(t, b, "b")
		ts.DeleteEventTimeTimer("w", 8)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := firedString(fired), "a/w@5 a/w@5 c/w@5 a/w@6 a/again@7"; got != want {
		t.Fatalf("fired %q\nwant  %q", got, want)
	}
	if ts.NumEventTimeTimers() != 1 {
		t.Fatalf("NumEventTimeTimers() = %d, want 1 (a/later@15)", ts.NumEventTimeTimers())
	}
	checkQueue(t, &ts.event, b.hash, maxP)
	fired = nil
	if err := ts.AdvanceWatermark(15, recorder(t, b, &fired, nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := firedString(fired), "a/later@15"; got != want {
		t.Fatalf("fired %q, want %q", got, want)
	}
}

func TestTimerFireError(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	ts := NewTimerService[string, string](b)
	setKey(t, b, "a")
	for _, at := range []int64{1, 2, 3, 4} {
		ts.RegisterEventTimeTimer("w", at)
	}
	boom := errors.New("boom")
	var fired []firedTimer
	err := ts.AdvanceWatermark(10, recorder(t, b, &fired, func(f firedTimer) error {
		if f.ts == 2 {
			return boom
		}
		return nil
	}))
	if err != boom {
		t.Fatalf("AdvanceWatermark returned %v, want the callback's error itself", err)
	}
	if got, want := firedString(fired), "a/w@1 a/w@2"; got != want {
		t.Fatalf("fired %q, want %q", got, want)
	}
	if ts.NumEventTimeTimers() != 2 {
		t.Fatalf("NumEventTimeTimers() = %d after the error, want 2: the failing timer is consumed, the rest stay", ts.NumEventTimeTimers())
	}
	fired = nil
	if err := ts.AdvanceWatermark(10, recorder(t, b, &fired, nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := firedString(fired), "a/w@3 a/w@4"; got != want {
		t.Fatalf("after the error, fired %q, want %q", got, want)
	}
}

func TestProcessingTimeTimers(t *testing.T) {
	const maxP = 8
	b := newStringBackend(t, maxP, nil)
	ts := NewTimerService[string, string](b)
	next := func(want int64, wantOK bool) {
		t.Helper()
		if got, ok := ts.NextProcessingTime(); got != want || ok != wantOK {
			t.Fatalf("NextProcessingTime() = %d, %v; want %d, %v", got, ok, want, wantOK)
		}
	}
	advance := func(now int64, want string) {
		t.Helper()
		var fired []firedTimer
		if err := ts.AdvanceProcessingTime(now, recorder(t, b, &fired, nil)); err != nil {
			t.Fatal(err)
		}
		if got := firedString(fired); got != want {
			t.Fatalf("AdvanceProcessingTime(%d) fired %q, want %q", now, got, want)
		}
		checkQueue(t, &ts.proc, b.hash, maxP)
	}
	next(0, false)
	setKey(t, b, "a")
	ts.RegisterProcessingTimeTimer("w", 30)
	ts.RegisterProcessingTimeTimer("w", 20)
	ts.RegisterProcessingTimeTimer("w", 20)
	setKey(t, b, "b")
	ts.RegisterProcessingTimeTimer("w", 20)
	ts.RegisterProcessingTimeTimer("w", 40)
	if ts.NumProcessingTimeTimers() != 4 || ts.NumEventTimeTimers() != 0 {
		t.Fatalf("Num timers = %d processing, %d event; want 4, 0", ts.NumProcessingTimeTimers(), ts.NumEventTimeTimers())
	}
	next(20, true)
	advance(19, "")
	advance(20, "a/w@20 b/w@20")
	next(30, true)
	setKey(t, b, "a")
	ts.DeleteProcessingTimeTimer("w", 30) // the earliest is deleted: the next one shows
	next(40, true)
	// The watermark does not fire processing-time timers.
	var fired []firedTimer
	if err := ts.AdvanceWatermark(math.MaxInt64, recorder(t, b, &fired, nil)); err != nil || len(fired) != 0 {
		t.Fatalf("AdvanceWatermark fired %q, %v", firedString(fired), err)
	}
	advance(1000, "b/w@40")
	next(0, false)
	if got := b.CurrentKey(); got != "b" {
		t.Fatalf("after firing, CurrentKey() = %q, want the last fired timer's key b", got)
	}
	// Processing time may go backwards (a clock step): nothing earlier than "now" is lost.
	ts.RegisterProcessingTimeTimer("w", 50)
	advance(10, "")
	advance(50, "b/w@50")
}

func TestTimerCompaction(t *testing.T) {
	const maxP = 8
	b := newStringBackend(t, maxP, nil)
	ts := NewTimerService[string, string](b)
	setKey(t, b, "a")
	for i := range int64(1000) {
		ts.RegisterEventTimeTimer("w", i)
	}
	for i := range int64(990) {
		ts.DeleteEventTimeTimer("w", i)
		checkQueue(t, &ts.event, b.hash, maxP)
	}
	if n := len(ts.event.heap); n > 2*10+minCompact {
		t.Fatalf("heap holds %d entries for 10 live timers: stale entries were not compacted", n)
	}
	var fired []firedTimer
	if err := ts.AdvanceWatermark(2000, recorder(t, b, &fired, nil)); err != nil {
		t.Fatal(err)
	}
	if got, want := firedString(fired), "a/w@990 a/w@991 a/w@992 a/w@993 a/w@994 a/w@995 a/w@996 a/w@997 a/w@998 a/w@999"; got != want {
		t.Fatalf("fired %q\nwant  %q", got, want)
	}
	checkQueue(t, &ts.event, b.hash, maxP)
	if len(ts.event.heap) != 0 {
		t.Fatalf("heap holds %d entries after firing everything", len(ts.event.heap))
	}

	// Deleting every timer compacts the heap to nothing.
	for i := range int64(minCompact) {
		ts.RegisterProcessingTimeTimer("p", i)
	}
	for i := range int64(minCompact) {
		ts.DeleteProcessingTimeTimer("p", i)
		checkQueue(t, &ts.proc, b.hash, maxP)
	}
	if n := len(ts.proc.heap); n != 0 {
		t.Fatalf("heap holds %d entries with no live timer", n)
	}
	if at, ok := ts.NextProcessingTime(); ok {
		t.Fatalf("NextProcessingTime() = %d, true with no timer", at)
	}
	checkQueue(t, &ts.proc, b.hash, maxP)
}

// TestTimersInPartialRange: timers of a subtask that owns some key groups are
// filed by key group, and a key outside the range cannot register one.
func TestTimersInPartialRange(t *testing.T) {
	const maxP = 16
	rng := KeyGroupRange{Start: 4, End: 9}
	b := NewHeapKeyedBackend(rng, maxP, stringHash(t), nil)
	ts := NewTimerService[string, string](b)
	for kg := rng.Start; kg <= rng.End; kg++ {
		setKey(t, b, keyInGroup(t, maxP, kg))
		ts.RegisterEventTimeTimer("w", int64(kg))
		ts.RegisterProcessingTimeTimer("w", int64(kg))
	}
	for i, set := range ts.event.sets {
		if len(set) != 1 {
			t.Fatalf("key group %d holds %d event-time timers, want 1", rng.Start+i, len(set))
		}
	}
	checkQueue(t, &ts.event, b.hash, maxP)
	checkQueue(t, &ts.proc, b.hash, maxP)
	if err := b.SetCurrentKey(keyInGroup(t, maxP, 12)); !errors.Is(err, ErrKeyGroupOutOfRange) {
		t.Fatalf("SetCurrentKey outside the range: %v", err)
	}
	mustPanic(t, "without a current key", func() { ts.RegisterEventTimeTimer("w", 1) })
	var fired []firedTimer
	if err := ts.AdvanceWatermark(100, recorder(t, b, &fired, nil)); err != nil {
		t.Fatal(err)
	}
	if len(fired) != rng.Len() {
		t.Fatalf("fired %d timers, want %d", len(fired), rng.Len())
	}
}

func TestTimerCallbackMustNotAdvance(t *testing.T) {
	b := newStringBackend(t, 4, nil)
	ts := NewTimerService[string, string](b)
	setKey(t, b, "a")
	ts.RegisterEventTimeTimer("w", 1)
	nop := func(string, string, int64) error { return nil }
	mustPanic(t, "timer callback advanced", func() {
		_ = ts.AdvanceWatermark(1, func(string, string, int64) error {
			return ts.AdvanceProcessingTime(5, nop)
		})
	})
	// The panic left the service usable.
	ts.RegisterEventTimeTimer("w", 2)
	if err := ts.AdvanceWatermark(2, nop); err != nil {
		t.Fatal(err)
	}
	if ts.NumEventTimeTimers() != 0 {
		t.Fatalf("NumEventTimeTimers() = %d, want 0", ts.NumEventTimeTimers())
	}
}
