package task

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/window"
)

// timeWindowOperator is the window operator of tumbling and sliding windows
// with their default trigger (EventTimeTrigger, ProcessingTimeTrigger) and no
// evictor, the shape of nearly every windowed aggregation. The general
// WindowOperator keeps one map entry and one timer per key and window, so each
// element costs several operations on maps as large as the key space. Here the
// contents of one window, for every key of the subtask, sit in one
// windowBucket: an open-addressing table over the key's hash (computed once,
// also for the key group) into a slab of accumulators updated in place, and the
// window fires from one timer for all its keys.
//
// What it emits, and when, is exactly what WindowOperator emits with these
// triggers: a window fires when the watermark (or the clock) reaches its
// MaxTimestamp, its keys in the order their first element arrived (the order of
// WindowOperator's timers); an element within the allowed lateness fires its
// key's window at once; a window's contents are dropped at its cleanup time.
// Snapshots have WindowOperator's layout, so either restores the other's.
type timeWindowOperator[K comparable, T, ACC, OUT any] struct {
	emitter[OUT]
	spec      WindowSpec[K, T, ACC, OUT]
	eventTime bool
	maxP      int
	rng       state.KeyGroupRange
	watermark int64
	buckets   []*windowBucket[K, ACC] // in flight, ordered by window
	hot       []*windowBucket[K, ACC] // hot[i]: the bucket of the element's i-th window last time
	spare     *windowBucket[K, ACC]   // a dropped bucket kept for its memory
	late      *SideOutput[T]
	windows   []window.Window
	// LateDropped counts elements dropped for lateness without a side output.
	LateDropped int64
}

// isTimeWindowSpec reports whether spec fits timeWindowOperator.
func isTimeWindowSpec[K comparable, T, ACC, OUT any](spec WindowSpec[K, T, ACC, OUT]) bool {
	a := spec.Assigner
	// The trigger types are comparable, so == never panics.
	return window.FixedSize(a) && !a.Merging() && spec.Evict == nil &&
		(spec.Trigger == nil || spec.Trigger == a.DefaultTrigger())
}

func newTimeWindowOperator[K comparable, T, ACC, OUT any](ctx *OperatorContext, spec WindowSpec[K, T, ACC, OUT], out Output[OUT]) (*timeWindowOperator[K, T, ACC, OUT], error) {
	o := &timeWindowOperator[K, T, ACC, OUT]{emitter: newEmitter(ctx, out), spec: spec,
		eventTime: spec.Assigner.EventTime(), maxP: ctx.MaxParallelism, rng: ctx.KeyGroups,
		watermark: math.MinInt64}
	o.bind()
	if r := ctx.Restored; r != nil {
		if err := o.restore(r); err != nil {
			return nil, err
		}
	}
	if spec.LateTag != "" {
		late, err := NewSideOutput[T](ctx, spec.LateTag)
		if err != nil {
			return nil, err
		}
		o.late = late
	}
	return o, nil
}

func (o *timeWindowOperator[K, T, ACC, OUT]) Push(batch []T, ts []int64) (err error) {
	defer o.ctx.Recover(&err)
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	o.col.reset()
	for i, v := range batch {
		t := int64(network.NoTimestamp)
		if ts != nil {
			t = ts[i]
		}
		if err := o.processElement(v, t); err != nil {
			return o.ctx.Fail(err)
		}
	}
	return o.afterCalls()
}

func (o *timeWindowOperator[K, T, ACC, OUT]) processElement(v T, ts int64) error {
	key := o.spec.Key(v)
	h := o.spec.Hash(key)
	kg := state.KeyGroupForHash(h, o.maxP)
	if !o.rng.Contains(kg) {
		return fmt.Errorf("%w: key %v is in key group %d, outside this subtask's %v; the key selector must return the same key for the same record every time",
			state.ErrKeyGroupOutOfRange, key, kg, o.rng)
	}
	var now int64
	if o.eventTime {
		if ts == network.NoTimestamp {
			return errNoTimestamp
		}
	} else {
		now = o.ctx.Timers.Now()
	}
	o.windows = o.spec.Assigner.AssignTo(o.windows[:0], ts, now)
	if len(o.hot) < len(o.windows) {
		o.hot = make([]*windowBucket[K, ACC], len(o.windows))
	}
	skipped := true
	for j, w := range o.windows {
		if window.IsLate(w, o.spec.AllowedLateness, o.watermark, o.eventTime) {
			continue
		}
		skipped = false
		b := o.hot[j]
		if b == nil || b.w != w {
			b = o.bucket(w)
			o.hot[j] = b
		}
		i, fresh := b.entry(h, key, kg)
		e := &b.entries[i]
		e.acc = o.spec.Add(e.acc, !fresh, v, ts)
		if o.eventTime && w.MaxTimestamp() <= o.watermark {
			// EventTimeTrigger fires a window the watermark has passed at
			// once: a late element within the allowed lateness.
			if err := o.emit(e.key, w, e.acc); err != nil {
				return err
			}
			continue
		}
		if !e.pending {
			e.pending = true
			b.pending = append(b.pending, i)
		}
	}
	if skipped && window.IsElementLate(ts, o.spec.AllowedLateness, o.watermark, o.eventTime) {
		if o.late != nil {
			return o.late.Collect(v, ts)
		}
		o.LateDropped++
	}
	return nil
}

// bucket returns w's bucket, adding an empty one if w has none.
func (o *timeWindowOperator[K, T, ACC, OUT]) bucket(w window.Window) *windowBucket[K, ACC] {
	i, found := slices.BinarySearchFunc(o.buckets, w, func(b *windowBucket[K, ACC], w window.Window) int {
		return cmp.Or(cmp.Compare(b.w.End, w.End), cmp.Compare(b.w.Start, w.Start))
	})
	if found {
		return o.buckets[i]
	}
	b := o.spare
	if b != nil {
		o.spare = nil
		b.reset()
	} else {
		// Size it like the fullest window in flight: windows of a steady
		// stream hold about as many keys, and growing a table of a million
		// keys step by step copies it twenty times.
		hint := 0
		for _, l := range o.buckets {
			hint = max(hint, len(l.entries))
		}
		b = newWindowBucket[K, ACC](hint)
	}
	b.w = w
	o.buckets = slices.Insert(o.buckets, i, b)
	return b
}

// emit runs the window function on one key's window.
func (o *timeWindowOperator[K, T, ACC, OUT]) emit(key K, w window.Window, acc ACC) error {
	o.col.setInput(true, w.MaxTimestamp())
	if err := o.spec.Emit(key, w, acc, &o.col); err != nil {
		return err
	}
	return o.ctx.Fail(o.col.failed())
}

// fire emits the windows of b's pending keys, in the order they became
// pending.
func (o *timeWindowOperator[K, T, ACC, OUT]) fire(b *windowBucket[K, ACC]) error {
	for n, i := range b.pending {
		e := &b.entries[i]
		e.pending = false
		if err := o.emit(e.key, b.w, e.acc); err != nil {
			b.pending = b.pending[n+1:]
			return err
		}
	}
	b.pending = b.pending[:0]
	return nil
}

func (o *timeWindowOperator[K, T, ACC, OUT]) cleanupTime(w window.Window) int64 {
	return window.CleanupTime(w, o.spec.AllowedLateness, o.eventTime)
}

// advance fires the buckets whose MaxTimestamp is at or before t (the
// watermark or the clock) and drops those whose cleanup time is, earliest
// window first.
func (o *timeWindowOperator[K, T, ACC, OUT]) advance(t int64) error {
	for _, b := range o.buckets {
		if b.w.MaxTimestamp() > t {
			break
		}
		if err := o.fire(b); err != nil {
			return err
		}
	}
	// Cleanup times grow with the window like MaxTimestamps: drop a prefix.
	n := 0
	for n < len(o.buckets) && o.cleanupTime(o.buckets[n].w) <= t {
		n++
	}
	if n > 0 {
		o.spare = o.buckets[n-1]
		o.buckets = slices.Delete(o.buckets, 0, n)
		clear(o.hot)
	}
	return nil
}

func (o *timeWindowOperator[K, T, ACC, OUT]) nextProcessingTime() (int64, bool) {
	if o.eventTime || len(o.buckets) == 0 {
		return 0, false
	}
	return o.buckets[0].w.MaxTimestamp(), true
}

func (o *timeWindowOperator[K, T, ACC, OUT]) afterCalls() error {
	return o.emitter.afterCalls(o.nextProcessingTime, o.onProcessingTime)
}

// Emit advances event time: due windows fire before the watermark moves on.
func (o *timeWindowOperator[K, T, ACC, OUT]) Emit(e Event) (err error) {
	if e.Kind == network.Watermark {
		defer o.ctx.Recover(&err)
		o.col.reset()
		o.watermark = max(o.watermark, e.Timestamp)
		if o.eventTime {
			if err := o.advance(o.watermark); err != nil {
				return o.ctx.Fail(err)
			}
		}
		if err := o.afterCalls(); err != nil {
			return err
		}
	}
	return o.out.Emit(e)
}

func (o *timeWindowOperator[K, T, ACC, OUT]) onProcessingTime(now int64) (err error) {
	defer o.ctx.Recover(&err)
	o.scheduled = math.MaxInt64
	o.col.reset()
	if err := o.advance(now); err != nil {
		return o.ctx.Fail(err)
	}
	return o.afterCalls()
}

// Finish fires the processing-time windows still open when a bounded input
// ends; event-time windows were fired by the final watermark.
func (o *timeWindowOperator[K, T, ACC, OUT]) Finish() error {
	if o.eventTime {
		return nil
	}
	return o.onProcessingTime(math.MaxInt64)
}

// SnapshotState writes WindowOperator's parts: the contents under (key,
// window), a timer per pending key at the window's MaxTimestamp and one at its
// cleanup time, in the order WindowOperator would have registered them, and
// empty trigger counters and merging sets.
func (o *timeWindowOperator[K, T, ACC, OUT]) SnapshotState(int64) ([]state.Part, error) {
	b := state.NewHeapKeyedBackend[K](o.rng, o.maxP, o.spec.Hash, o.ctx.Timers.Now)
	timers := state.NewTimerService[K, window.Window](b)
	register := timers.RegisterEventTimeTimer
	if !o.eventTime {
		register = timers.RegisterProcessingTimeTimer
	}
	contents := state.NewKeyedMap[winKey[K], ACC](o.rng)
	for _, bk := range o.buckets {
		for _, i := range bk.pending {
			if err := b.SetCurrentKey(bk.entries[i].key); err != nil {
				return nil, err
			}
			register(bk.w, bk.w.MaxTimestamp())
		}
		cleanup := o.cleanupTime(bk.w)
		for i := range bk.entries {
			e := &bk.entries[i]
			contents.Put(int(e.kg), winKey[K]{e.key, bk.w}, e.acc)
			if cleanup != math.MaxInt64 {
				if err := b.SetCurrentKey(e.key); err != nil {
					return nil, err
				}
				register(bk.w, cleanup)
			}
		}
	}
	parts, err := timers.Snapshot(timerState)
	if err != nil {
		return nil, err
	}
	cp, err := state.SnapshotKeyedMap(windowContentsState, contents)
	if err != nil {
		return nil, err
	}
	counts, err := state.SnapshotKeyedMap(windowCountsState, state.NewKeyedMap[trigKey[K], int64](o.rng))
	if err != nil {
		return nil, err
	}
	merging, err := state.SnapshotKeyedMap(windowMergingState, state.NewKeyedMap[K, []mergedWindow](o.rng))
	if err != nil {
		return nil, err
	}
	return append(parts, cp, counts, merging), nil
}

// restore rebuilds the buckets from WindowOperator's parts. A key's window is
// pending when it has a timer at the window's MaxTimestamp; timers are read in
// firing order, so pending keys keep their order. Trigger counters and merging
// sets are not read: the default triggers of tumbling and sliding windows
// keep none.
func (o *timeWindowOperator[K, T, ACC, OUT]) restore(r *state.Restored) error {
	b := state.NewHeapKeyedBackend[K](o.rng, o.maxP, o.spec.Hash, o.ctx.Timers.Now)
	timers := state.NewTimerService[K, window.Window](b)
	if err := timers.Restore(r, timerState); err != nil {
		return err
	}
	contents := state.NewKeyedMap[winKey[K], ACC](o.rng)
	if err := state.RestoreKeyedMap(r, windowContentsState, contents); err != nil {
		return err
	}
	add := func(key K, w window.Window, acc ACC, pending bool) {
		h := o.spec.Hash(key)
		bk := o.bucket(w)
		i, _ := bk.entry(h, key, state.KeyGroupForHash(h, o.maxP))
		e := &bk.entries[i]
		e.acc = acc
		if pending && !e.pending {
			e.pending = true
			bk.pending = append(bk.pending, i)
		}
	}
	// A timer without contents fires nothing in WindowOperator either. A
	// key's cleanup timer comes after its firing timer and finds its entry.
	fromTimer := func(key K, w window.Window, ts int64) error {
		if acc, ok := contents.Get(b.CurrentKeyGroup(), winKey[K]{key, w}); ok {
			add(key, w, acc, ts == w.MaxTimestamp())
		}
		return nil
	}
	if err := timers.AdvanceWatermark(math.MaxInt64, fromTimer); err != nil {
		return err
	}
	if err := timers.AdvanceProcessingTime(math.MaxInt64, fromTimer); err != nil {
		return err
	}
	// Every window's contents, also those without a timer (windows that end at
	// the end of time); entries already added keep their order.
	contents.All(func(_ int, k winKey[K], acc ACC) bool {
		add(k.key, k.w, acc, false)
		return true
	})
	return nil
}
