package state

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"

	"github.com/spate-io/spate/sdk/codec"
)

// TimerService holds the event-time and processing-time timers of one keyed
// operator, as Flink's InternalTimerService. A timer belongs to a key and a
// namespace N (a window, or struct{} when the operator has none) and is unique
// per (key, namespace, timestamp). Timers live in the backend's key groups so a
// key group's timers move with its state.
//
// Like the backend it is owned by the task's goroutine. Register and delete
// apply to the backend's current key and panic without one.
type TimerService[K comparable, N comparable] struct {
	b         *HeapKeyedBackend[K]
	watermark int64
	event     timerQueue[K, N]
	proc      timerQueue[K, N]
	firing    bool
}

// NewTimerService returns a timer service over b's key groups, with the
// watermark at math.MinInt64.
func NewTimerService[K comparable, N comparable](b *HeapKeyedBackend[K]) *TimerService[K, N] {
	return &TimerService[K, N]{
		b:         b,
		watermark: math.MinInt64,
		event:     newTimerQueue[K, N](b.rng),
		proc:      newTimerQueue[K, N](b.rng),
	}
}

// RegisterEventTimeTimer registers a timer for the current key that fires when
// the watermark reaches ts. Registering the same (key, ns, ts) again does
// nothing. A timer at or before the current watermark fires on the next
// AdvanceWatermark, as in Flink.
func (t *TimerService[K, N]) RegisterEventTimeTimer(ns N, ts int64) {
	t.b.mustHaveKey()
	t.event.add(t.b.kg, t.b.key, ns, ts)
}

// DeleteEventTimeTimer deletes the current key's timer (ns, ts), if any.
func (t *TimerService[K, N]) DeleteEventTimeTimer(ns N, ts int64) {
	t.b.mustHaveKey()
	t.event.remove(t.b.kg, t.b.key, ns, ts)
}

// RegisterProcessingTimeTimer registers a timer for the current key that fires
// when processing time reaches ts; registering it twice does nothing. The task
// learns when to wake up from NextProcessingTime.
func (t *TimerService[K, N]) RegisterProcessingTimeTimer(ns N, ts int64) {
	t.b.mustHaveKey()
	t.proc.add(t.b.kg, t.b.key, ns, ts)
}

// DeleteProcessingTimeTimer deletes the current key's processing-time timer
// (ns, ts), if any.
func (t *TimerService[K, N]) DeleteProcessingTimeTimer(ns N, ts int64) {
	t.b.mustHaveKey()
	t.proc.remove(t.b.kg, t.b.key, ns, ts)
}

// CurrentWatermark is the highest watermark passed to AdvanceWatermark, or
// math.MinInt64 before the first.
func (t *TimerService[K, N]) CurrentWatermark() int64 { return t.watermark }

// AdvanceWatermark raises the watermark to wm (a lower wm leaves it where it
// is) and then fires every event-time timer with a timestamp at or before the
// watermark, earliest first and, for equal timestamps, in registration order.
// Before each call of fire the backend's current key is the timer's key, and
// the timer is already gone: fire may register it again. Timers that fire
// registers at or before the watermark fire in this call. An error from fire
// stops the firing and is returned as is; the remaining timers stay. fire must
// not call AdvanceWatermark or AdvanceProcessingTime.
func (t *TimerService[K, N]) AdvanceWatermark(wm int64, fire func(key K, ns N, ts int64) error) error {
	if wm > t.watermark {
		t.watermark = wm
	}
	return t.fire(&t.event, t.watermark, fire)
}

// AdvanceProcessingTime fires every processing-time timer with a timestamp at
// or before now, as AdvanceWatermark does for event time.
func (t *TimerService[K, N]) AdvanceProcessingTime(now int64, fire func(key K, ns N, ts int64) error) error {
	return t.fire(&t.proc, now, fire)
}

// NextProcessingTime is the timestamp of the earliest processing-time timer,
// and false when there is none.
func (t *TimerService[K, N]) NextProcessingTime() (int64, bool) {
	tm, ok := t.proc.peek()
	return tm.ts, ok
}

// NumEventTimeTimers is the number of registered event-time timers.
func (t *TimerService[K, N]) NumEventTimeTimers() int { return t.event.live }

// NumProcessingTimeTimers is the number of registered processing-time timers.
func (t *TimerService[K, N]) NumProcessingTimeTimers() int { return t.proc.live }

func (t *TimerService[K, N]) fire(q *timerQueue[K, N], upTo int64, fire func(key K, ns N, ts int64) error) error {
	if t.firing {
		panic("state: a timer callback advanced the watermark or processing time of its own timer service")
	}
	t.firing = true
	defer func() { t.firing = false }()
	for {
		tm, ok := q.popDue(upTo)
		if !ok {
			return nil
		}
		t.b.setCurrentKeyInGroup(tm.key, tm.kg)
		if err := fire(tm.key, tm.ns, tm.ts); err != nil {
			return err
		}
	}
}

// timerEntry is the record of a timer in a state file. Seq keeps the
// registration order, which breaks ties between equal timestamps.
type timerEntry[K comparable, N comparable] struct {
	KeyGroup  int32  `avro:"keyGroup"`
	Key       K      `avro:"key"`
	Namespace N      `avro:"namespace"`
	Timestamp int64  `avro:"timestamp"`
	Seq       uint64 `avro:"seq"`
}

// Snapshot copies the timers as two keyed parts, name+"/event" and
// name+"/processing".
func (t *TimerService[K, N]) Snapshot(name string) ([]Part, error) {
	ev, err := t.event.snapshot(name + "/event")
	if err != nil {
		return nil, err
	}
	pr, err := t.proc.snapshot(name + "/processing")
	if err != nil {
		return nil, err
	}
	return []Part{ev, pr}, nil
}

// Restore registers the timers of r's parts name+"/event" and
// name+"/processing" that fall in this service's key groups, in their original
// registration order. Call it before any timer is registered.
func (t *TimerService[K, N]) Restore(r *Restored, name string) error {
	if err := t.event.restore(r, name+"/event"); err != nil {
		return err
	}
	return t.proc.restore(r, name+"/processing")
}

func (q *timerQueue[K, N]) snapshot(name string) (Part, error) {
	c, err := codec.For[timerEntry[K, N]]()
	if err != nil {
		return Part{}, fmt.Errorf("timers %q: %w", name, err)
	}
	var entries []timerEntry[K, N]
	for i, set := range q.sets {
		for id, seq := range set {
			entries = append(entries, timerEntry[K, N]{KeyGroup: int32(q.rng.Start + i), Key: id.key, Namespace: id.ns, Timestamp: id.ts, Seq: seq})
		}
	}
	// entries is a copy already; it may only share keys and namespaces with
	// pointers in them, which are encoded at once.
	owned := flat(reflect.TypeFor[K]()) && flat(reflect.TypeFor[N]())
	return encodedPart(Part{Name: name, Kind: KeyedKind, KeyGroups: q.rng}, owned, func(w io.Writer) error {
		slices.SortFunc(entries, func(a, b timerEntry[K, N]) int { return cmp.Compare(a.Seq, b.Seq) })
		return writeRecords(w, c, slices.Values(entries))
	})
}

func (q *timerQueue[K, N]) restore(r *Restored, name string) error {
	hs, err := r.handles(name, KeyedKind)
	if err != nil {
		return err
	}
	c, err := codec.For[timerEntry[K, N]]()
	if err != nil {
		return fmt.Errorf("timers %q: %w", name, err)
	}
	var entries []timerEntry[K, N]
	if err := readAll(r, hs, c, func(e timerEntry[K, N]) {
		if q.rng.Contains(int(e.KeyGroup)) {
			entries = append(entries, e)
		}
	}); err != nil {
		return err
	}
	// Stable: equal sequence numbers come from different old subtasks; their
	// file order stands.
	slices.SortStableFunc(entries, func(a, b timerEntry[K, N]) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, e := range entries {
		q.add(int(e.KeyGroup), e.Key, e.Namespace, e.Timestamp)
	}
	return nil
}
