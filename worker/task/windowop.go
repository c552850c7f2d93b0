package task

import (
	"math"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/window"
)

// WindowSpec configures a WindowOperator (Flink's WindowOperator).
//
// ACC is what a window holds: an accumulator for incremental aggregation, or the
// list of its elements ([]window.TimestampedValue[T]) when an evictor or a
// process function needs them all.
type WindowSpec[K comparable, T, ACC, OUT any] struct {
	Key      func(T) K
	Hash     func(K) uint64
	Assigner window.Assigner
	Trigger  window.Trigger // nil: the assigner's default
	// AllowedLateness (ms) keeps event-time windows after they fired, so late
	// elements within it update and re-fire them.
	AllowedLateness int64
	// LateTag is the side output for elements too late for every window; "" drops them.
	LateTag string
	// Add folds an element into a window's contents; seen is false for the first.
	Add func(acc ACC, seen bool, v T, ts int64) ACC
	// Merge combines two windows' contents when session windows merge.
	Merge func(a, b ACC) ACC
	// Evict (optional) removes elements before (before=true) or after the window
	// function runs.
	Evict func(acc ACC, w window.Window, before bool) ACC
	// Emit runs the window function on a firing window.
	Emit func(key K, w window.Window, acc ACC, out *Collector[OUT]) error
}

type winKey[K comparable] struct {
	key K
	w   window.Window
}

type trigKey[K comparable] struct {
	key  K
	w    window.Window
	name string
}

// WindowOperator assigns elements to windows per key, keeps each window's
// contents, and fires them when the trigger says so.
type WindowOperator[K comparable, T, ACC, OUT any] struct {
	emitter[OUT]
	spec     WindowSpec[K, T, ACC, OUT]
	trigger  window.Trigger
	backend  *state.HeapKeyedBackend[K]
	timers   *state.TimerService[K, window.Window]
	contents *state.KeyedMap[winKey[K], ACC]
	counts   *state.KeyedMap[trigKey[K], int64]
	merging  *state.KeyedMap[K, *window.MergingWindowSet] // live, per key
	late     *SideOutput[T]
	windows  []window.Window
	tctx     triggerCtx[K, T, ACC, OUT]
	// LateDropped counts elements dropped for lateness without a side output.
	LateDropped int64
}

// NewWindowOperator builds the operator for one subtask: for tumbling and
// sliding windows with their default trigger and no evictor, one that keeps
// each window's contents for all keys together (timeWindowOperator); for the
// others a WindowOperator. Both emit the same and snapshot the same state.
func NewWindowOperator[K comparable, T, ACC, OUT any](ctx *OperatorContext, spec WindowSpec[K, T, ACC, OUT], out Output[OUT]) (OneInput[T], error) {
	if isTimeWindowSpec(spec) {
		o, err := newTimeWindowOperator(ctx, spec, out)
		if err != nil {
			return nil, err
		}
		return o, nil
	}
	o, err := newWindowOperator(ctx, spec, out)
	if err != nil {
		return nil, err
	}
	return o, nil
}

// newWindowOperator builds a WindowOperator, which handles every assigner,
// trigger and evictor.
func newWindowOperator[K comparable, T, ACC, OUT any](ctx *OperatorContext, spec WindowSpec[K, T, ACC, OUT], out Output[OUT]) (*WindowOperator[K, T, ACC, OUT], error) {
	b := state.NewHeapKeyedBackend[K](ctx.KeyGroups, ctx.MaxParallelism, spec.Hash, ctx.Timers.Now)
	o := &WindowOperator[K, T, ACC, OUT]{emitter: newEmitter(ctx, out),
		spec: spec, trigger: spec.Trigger, backend: b,
		timers:   state.NewTimerService[K, window.Window](b),
		contents: state.NewKeyedMap[winKey[K], ACC](ctx.KeyGroups),
		counts:   state.NewKeyedMap[trigKey[K], int64](ctx.KeyGroups),
		merging:  state.NewKeyedMap[K, *window.MergingWindowSet](ctx.KeyGroups)}
	if o.trigger == nil {
		o.trigger = spec.Assigner.DefaultTrigger()
	}
	o.tctx.op = o
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

func (o *WindowOperator[K, T, ACC, OUT]) eventTime() bool { return o.spec.Assigner.EventTime() }

func (o *WindowOperator[K, T, ACC, OUT]) Push(batch []T, ts []int64) (err error) {
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

func (o *WindowOperator[K, T, ACC, OUT]) processElement(v T, ts int64) error {
	if err := o.backend.SetCurrentKey(o.spec.Key(v)); err != nil {
		return err
	}
	if o.eventTime() && ts == network.NoTimestamp {
		return errNoTimestamp
	}
	key, kg := o.backend.CurrentKey(), o.backend.CurrentKeyGroup()
	wm := o.timers.CurrentWatermark()
	lateness := o.spec.AllowedLateness
	o.windows = o.spec.Assigner.AssignTo(o.windows[:0], ts, o.ctx.Timers.Now())
	skipped := true
	if o.spec.Assigner.Merging() {
		set, ok := o.merging.Get(kg, key)
		if !ok {
			set = window.NewMergingWindowSet(nil)
		}
		for _, w := range o.windows {
			actual, err := set.AddWindow(w, func(result window.Window, merged []window.Window, stateResult window.Window, mergedState []window.Window) error {
				o.tctx.mergedWindows = merged
				o.trigger.OnMerge(result, o.tctx.at(key, result))
				o.tctx.mergedWindows = nil
				for _, m := range merged {
					o.trigger.Clear(m, o.tctx.at(key, m))
					o.deleteCleanupTimer(m)
				}
				acc, seen := o.contents.Get(kg, winKey[K]{key, stateResult})
				for _, ms := range mergedState {
					if macc, ok := o.contents.Get(kg, winKey[K]{key, ms}); ok {
						if seen {
							acc = o.spec.Merge(acc, macc)
						} else {
							acc, seen = macc, true
						}
						o.contents.Delete(kg, winKey[K]{key, ms})
					}
				}
				if seen {
					o.contents.Put(kg, winKey[K]{key, stateResult}, acc)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if window.IsLate(actual, lateness, wm, o.eventTime()) {
				set.Retire(actual)
				continue
			}
			skipped = false
			sw, _ := set.StateWindow(actual)
			if err := o.addAndTrigger(key, kg, actual, sw, v, ts); err != nil {
				return err
			}
		}
		switch {
		case !ok && set.Len() > 0:
			o.merging.Put(kg, key, set)
		case ok && set.Len() == 0:
			o.merging.Delete(kg, key)
		}
	} else {
		for _, w := range o.windows {
			if window.IsLate(w, lateness, wm, o.eventTime()) {
				continue
			}
			skipped = false
			if err := o.addAndTrigger(key, kg, w, w, v, ts); err != nil {
				return err
			}
		}
	}
	if skipped && window.IsElementLate(ts, lateness, wm, o.eventTime()) {
		if o.late != nil {
			return o.late.Collect(v, ts)
		}
		o.LateDropped++
	}
	return nil
}

// addAndTrigger adds v to window w (whose contents live under stateWindow) and
// acts on the trigger's answer.
func (o *WindowOperator[K, T, ACC, OUT]) addAndTrigger(key K, kg int, w, stateWindow window.Window, v T, ts int64) error {
	wk := winKey[K]{key, stateWindow}
	acc, seen := o.contents.Get(kg, wk)
	acc = o.spec.Add(acc, seen, v, ts)
	o.contents.Put(kg, wk, acc)
	res := o.trigger.OnElement(ts, w, o.tctx.at(key, w))
	if err := o.act(res, key, kg, w, stateWindow); err != nil {
		return err
	}
	o.registerCleanupTimer(w)
	return nil
}

// act fires and/or purges a window's contents.
func (o *WindowOperator[K, T, ACC, OUT]) act(res window.Result, key K, kg int, w, stateWindow window.Window) error {
	wk := winKey[K]{key, stateWindow}
	if res.IsFire() {
		if acc, ok := o.contents.Get(kg, wk); ok {
			if o.spec.Evict != nil {
				acc = o.spec.Evict(acc, w, true)
			}
			o.col.setInput(true, w.MaxTimestamp())
			if err := o.spec.Emit(key, w, acc, &o.col); err != nil {
				return err
			}
			if err := o.col.failed(); err != nil {
				return o.ctx.Fail(err)
			}
			if o.spec.Evict != nil {
				o.contents.Put(kg, wk, o.spec.Evict(acc, w, false))
			}
		}
	}
	if res.IsPurge() {
		o.contents.Delete(kg, wk)
	}
	return nil
}

func (o *WindowOperator[K, T, ACC, OUT]) cleanupTime(w window.Window) int64 {
	return window.CleanupTime(w, o.spec.AllowedLateness, o.eventTime())
}

func (o *WindowOperator[K, T, ACC, OUT]) registerCleanupTimer(w window.Window) {
	t := o.cleanupTime(w)
	if t == math.MaxInt64 {
		return // the global window is never cleaned up
	}
	if o.eventTime() {
		o.timers.RegisterEventTimeTimer(w, t)
	} else {
		o.timers.RegisterProcessingTimeTimer(w, t)
	}
}

func (o *WindowOperator[K, T, ACC, OUT]) deleteCleanupTimer(w window.Window) {
	t := o.cleanupTime(w)
	if t == math.MaxInt64 {
		return
	}
	if o.eventTime() {
		o.timers.DeleteEventTimeTimer(w, t)
	} else {
		o.timers.DeleteProcessingTimeTimer(w, t)
	}
}

// onTimer handles a window timer of the current key.
func (o *WindowOperator[K, T, ACC, OUT]) onTimer(key K, w window.Window, ts int64, domain TimeDomain) error {
	kg := o.backend.CurrentKeyGroup()
	stateWindow := w
	var set *window.MergingWindowSet
	if o.spec.Assigner.Merging() {
		var ok bool
		if set, ok = o.merging.Get(kg, key); !ok {
			return nil // the key has no windows in flight
		}
		sw, ok := set.StateWindow(w)
		if !ok {
			return nil // the window was merged away or cleaned up
		}
		stateWindow = sw
	}
	var res window.Result
	if domain == EventTime {
		res = o.trigger.OnEventTime(ts, w, o.tctx.at(key, w))
	} else {
		res = o.trigger.OnProcessingTime(ts, w, o.tctx.at(key, w))
	}
	if err := o.act(res, key, kg, w, stateWindow); err != nil {
		return err
	}
	if (domain == EventTime) == o.eventTime() && ts == o.cleanupTime(w) {
		o.contents.Delete(kg, winKey[K]{key, stateWindow})
		o.trigger.Clear(w, o.tctx.at(key, w))
		if set != nil {
			set.Retire(w)
			if set.Len() == 0 {
				o.merging.Delete(kg, key)
			}
		}
	}
	return nil
}

func (o *WindowOperator[K, T, ACC, OUT]) afterCalls() error {
	return o.emitter.afterCalls(o.timers.NextProcessingTime, o.onProcessingTime)
}

// Emit advances event time: due window timers fire before the watermark moves on.
func (o *WindowOperator[K, T, ACC, OUT]) Emit(e Event) (err error) {
	if e.Kind == network.Watermark {
		defer o.ctx.Recover(&err)
		o.col.reset()
		if err := o.timers.AdvanceWatermark(e.Timestamp, func(k K, w window.Window, ts int64) error {
			return o.onTimer(k, w, ts, EventTime)
		}); err != nil {
			return o.ctx.Fail(err)
		}
		if err := o.afterCalls(); err != nil {
			return err
		}
	}
	return o.out.Emit(e)
}

func (o *WindowOperator[K, T, ACC, OUT]) onProcessingTime(now int64) (err error) {
	defer o.ctx.Recover(&err)
	o.scheduled = math.MaxInt64
	o.col.reset()
	if err := o.timers.AdvanceProcessingTime(now, func(k K, w window.Window, ts int64) error {
		return o.onTimer(k, w, ts, ProcessingTime)
	}); err != nil {
		return o.ctx.Fail(err)
	}
	return o.afterCalls()
}

// Finish fires the processing-time windows still open when a bounded input
// ends, as if the clock had run out; event-time windows were fired by the final
// watermark.
func (o *WindowOperator[K, T, ACC, OUT]) Finish() (err error) {
	if o.eventTime() {
		return nil
	}
	return o.onProcessingTime(math.MaxInt64)
}

// triggerCtx is the TriggerContext of one (key, window), reused for every call.
type triggerCtx[K comparable, T, ACC, OUT any] struct {
	op            *WindowOperator[K, T, ACC, OUT]
	key           K
	w             window.Window
	mergedWindows []window.Window
}

func (c *triggerCtx[K, T, ACC, OUT]) at(key K, w window.Window) window.TriggerContext {
	c.key, c.w = key, w
	return c
}

func (c *triggerCtx[K, T, ACC, OUT]) CurrentWatermark() int64 { return c.op.timers.CurrentWatermark() }
func (c *triggerCtx[K, T, ACC, OUT]) CurrentProcessingTime() int64 {
	return c.op.ctx.Timers.Now()
}
func (c *triggerCtx[K, T, ACC, OUT]) RegisterEventTimeTimer(ts int64) {
	c.op.timers.RegisterEventTimeTimer(c.w, ts)
}
func (c *triggerCtx[K, T, ACC, OUT]) DeleteEventTimeTimer(ts int64) {
	c.op.timers.DeleteEventTimeTimer(c.w, ts)
}
func (c *triggerCtx[K, T, ACC, OUT]) RegisterProcessingTimeTimer(ts int64) {
	c.op.timers.RegisterProcessingTimeTimer(c.w, ts)
}
func (c *triggerCtx[K, T, ACC, OUT]) DeleteProcessingTimeTimer(ts int64) {
	c.op.timers.DeleteProcessingTimeTimer(c.w, ts)
}
func (c *triggerCtx[K, T, ACC, OUT]) GetCount(name string) int64 {
	n, _ := c.op.counts.Get(c.op.backend.CurrentKeyGroup(), trigKey[K]{c.key, c.w, name})
	return n
}
func (c *triggerCtx[K, T, ACC, OUT]) SetCount(name string, v int64) {
	kg, k := c.op.backend.CurrentKeyGroup(), trigKey[K]{c.key, c.w, name}
	if v == 0 {
		c.op.counts.Delete(kg, k)
		return
	}
	c.op.counts.Put(kg, k, v)
}
func (c *triggerCtx[K, T, ACC, OUT]) MergeCount(name string) {
	kg := c.op.backend.CurrentKeyGroup()
	sum := c.GetCount(name)
	for _, m := range c.mergedWindows {
		if m == c.w {
			continue
		}
		n, _ := c.op.counts.Get(kg, trigKey[K]{c.key, m, name})
		sum += n
	}
	c.SetCount(name, sum)
}

// Names of a window operator's state in snapshots.
const (
	windowContentsState = "_window-contents"
	windowCountsState   = "_window-trigger-counts"
	windowMergingState  = "_window-merging"
)

func (o *WindowOperator[K, T, ACC, OUT]) restore(r *state.Restored) error {
	o.backend.Restore(r)
	if err := o.timers.Restore(r, timerState); err != nil {
		return err
	}
	if err := state.RestoreKeyedMap(r, windowContentsState, o.contents); err != nil {
		return err
	}
	if err := state.RestoreKeyedMap(r, windowCountsState, o.counts); err != nil {
		return err
	}
	pairs := state.NewKeyedMap[K, []mergedWindow](o.merging.Range())
	if err := state.RestoreKeyedMap(r, windowMergingState, pairs); err != nil {
		return err
	}
	pairs.All(func(kg int, key K, ps []mergedWindow) bool {
		m := make(map[window.Window]window.Window, len(ps))
		for _, p := range ps {
			m[p.Window] = p.StateWindow
		}
		o.merging.Put(kg, key, window.NewMergingWindowSet(m))
		return true
	})
	return nil
}

// mergedWindow is one entry of a key's merging window set in snapshots: Avro
// maps need string keys, so the set is written as a list.
type mergedWindow struct {
	Window      window.Window
	StateWindow window.Window
}

// SnapshotState copies the window contents, trigger counters, merged-window
// sets and timers.
func (o *WindowOperator[K, T, ACC, OUT]) SnapshotState(int64) ([]state.Part, error) {
	parts, err := o.timers.Snapshot(timerState)
	if err != nil {
		return nil, err
	}
	contents, err := state.SnapshotKeyedMap(windowContentsState, o.contents)
	if err != nil {
		return nil, err
	}
	counts, err := state.SnapshotKeyedMap(windowCountsState, o.counts)
	if err != nil {
		return nil, err
	}
	pairs := state.NewKeyedMap[K, []mergedWindow](o.merging.Range())
	o.merging.All(func(kg int, key K, set *window.MergingWindowSet) bool {
		ps := make([]mergedWindow, 0, set.Len())
		set.All(func(w, sw window.Window) bool {
			ps = append(ps, mergedWindow{Window: w, StateWindow: sw})
			return true
		})
		pairs.Put(kg, key, ps)
		return true
	})
	merging, err := state.SnapshotKeyedMap(windowMergingState, pairs)
	if err != nil {
		return nil, err
	}
	return append(parts, contents, counts, merging), nil
}
