package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// refTimers is the slow, obvious model of one timer queue: a map from timer to
// its registration number. The next timer to fire is found by scanning it.
type refTimers struct {
	live map[timerID[string, int]]int
	seq  int
}

func (r *refTimers) register(id timerID[string, int]) {
	if _, ok := r.live[id]; !ok {
		r.seq++
		r.live[id] = r.seq
	}
}

// next is the live timer with the smallest (ts, registration) at or before upTo.
func (r *refTimers) next(upTo int64) (timerID[string, int], bool) {
	var best timerID[string, int]
	bestSeq, found := 0, false
	for id, seq := range r.live {
		if id.ts > upTo {
			continue
		}
		if !found || id.ts < best.ts || (id.ts == best.ts && seq < bestSeq) {
			best, bestSeq, found = id, seq, true
		}
	}
	return best, found
}

// TestTimersAgainstReference registers, deletes and fires random event-time and
// processing-time timers, and random callbacks register and delete more while
// firing. Every fired timer must be the one the reference picks by sorting, and
// the backend's current key must be the timer's key.
func TestTimersAgainstReference(t *testing.T) {
	r, seed := keyGroupTestRand(t)
	const maxP = 16
	b := newStringBackend(t, maxP, nil)
	ts := NewTimerService[string, int](b)
	keys := make([]string, 12)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
	}
	event := &refTimers{live: map[timerID[string, int]]int{}}
	proc := &refTimers{live: map[timerID[string, int]]int{}}
	var refWatermark int64 = -1 << 63
	var procTime int64
	step := 0
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d step %d: %s", seed, step, fmt.Sprintf(format, args...))
	}

	// mutate applies one random register or delete to both the service and the
	// reference, for a random key; base keeps timestamps near the current time.
	mutate := func(r *rand.Rand, base int64) {
		k := keys[r.IntN(len(keys))]
		setKey(t, b, k)
		id := timerID[string, int]{key: k, ns: r.IntN(3), ts: base + int64(r.IntN(40)) - 10}
		switch r.IntN(4) {
		case 0:
			ts.RegisterEventTimeTimer(id.ns, id.ts)
			event.register(id)
		case 1:
			ts.DeleteEventTimeTimer(id.ns, id.ts)
			delete(event.live, id)
		case 2:
			ts.RegisterProcessingTimeTimer(id.ns, id.ts)
			proc.register(id)
		case 3:
			ts.DeleteProcessingTimeTimer(id.ns, id.ts)
			delete(proc.live, id)
		}
	}
	// fireFn checks each fired timer against ref and then, if mutating,
	// registers and deletes timers at random.
	fireFn := func(ref *refTimers, upTo int64, kind string, mutating bool) func(string, int, int64) error {
		return func(key string, ns int, at int64) error {
			got := timerID[string, int]{key: key, ns: ns, ts: at}
			want, ok := ref.next(upTo)
			if !ok {
				fail("%s fired %+v, reference has nothing due at %d", kind, got, upTo)
			}
			if got != want {
				fail("%s fired %+v, reference fires %+v", kind, got, want)
			}
			delete(ref.live, got)
			if b.CurrentKey() != key {
				fail("%s firing %+v with current key %q", kind, got, b.CurrentKey())
			}
			if mutating {
				for range r.IntN(3) {
					mutate(r, at)
				}
			}
			return nil
		}
	}

	for step = range 20_000 {
		switch op := r.IntN(10); {
		case op < 6:
			mutate(r, max(refWatermark, 0))
		case op < 8:
			wm := refWatermark + int64(r.IntN(30)) - 5 // sometimes lower: ignored
			if refWatermark < 0 {
				wm = int64(r.IntN(30))
			}
			refWatermark = max(refWatermark, wm)
			if err := ts.AdvanceWatermark(wm, fireFn(event, refWatermark, "event time", true)); err != nil {
				fail("AdvanceWatermark: %v", err)
			}
			if id, ok := event.next(refWatermark); ok {
				fail("after AdvanceWatermark(%d), %+v is still due", wm, id)
			}
			if ts.CurrentWatermark() != refWatermark {
				fail("CurrentWatermark() = %d, want %d", ts.CurrentWatermark(), refWatermark)
			}
		default:
			procTime += int64(r.IntN(30))
			if err := ts.AdvanceProcessingTime(procTime, fireFn(proc, procTime, "processing time", true)); err != nil {
				fail("AdvanceProcessingTime: %v", err)
			}
			if id, ok := proc.next(procTime); ok {
				fail("after AdvanceProcessingTime(%d), %+v is still due", procTime, id)
			}
		}
		if ts.NumEventTimeTimers() != len(event.live) || ts.NumProcessingTimeTimers() != len(proc.live) {
			fail("Num timers = %d event, %d processing; reference %d, %d",
				ts.NumEventTimeTimers(), ts.NumProcessingTimeTimers(), len(event.live), len(proc.live))
		}
		wantNext, wantOK := proc.next(1<<63 - 1)
		if got, ok := ts.NextProcessingTime(); ok != wantOK || (ok && got != wantNext.ts) {
			fail("NextProcessingTime() = %d, %v; reference %d, %v", got, ok, wantNext.ts, wantOK)
		}
		if step%500 == 0 {
			checkQueue(t, &ts.event, b.hash, maxP)
			checkQueue(t, &ts.proc, b.hash, maxP)
		}
	}
	// Drain both queues: everything left fires in reference order. The
	// callbacks no longer register timers, so the reference ends empty.
	if err := ts.AdvanceWatermark(1<<62, fireFn(event, 1<<62, "event time", false)); err != nil {
		fail("final AdvanceWatermark: %v", err)
	}
	if err := ts.AdvanceProcessingTime(1<<62, fireFn(proc, 1<<62, "processing time", false)); err != nil {
		fail("final AdvanceProcessingTime: %v", err)
	}
	if len(event.live) != 0 || len(proc.live) != 0 {
		fail("after draining, reference holds %d event and %d processing timers", len(event.live), len(proc.live))
	}
}
