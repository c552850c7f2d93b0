package sdk

import (
	"fmt"
	"time"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/window"
)

// Window is a time window [Start, End) in milliseconds; the global window spans
// every timestamp.
type Window = window.Window

// Trigger decides when a window fires and when it is purged.
type Trigger = window.Trigger

// Evictor removes elements from a window before or after its function runs.
type Evictor[T any] = window.Evictor[T]

// TimestampedValue is an element of a window with its timestamp.
type TimestampedValue[T any] = window.TimestampedValue[T]

// Triggers and evictors, as in Flink.
var (
	EventTimeTrigger      = window.EventTimeTrigger
	ProcessingTimeTrigger = window.ProcessingTimeTrigger
	CountTrigger          = window.CountTrigger
	PurgingTrigger        = window.PurgingTrigger
)

// CountEvictor keeps the last maxCount elements of a window.
func CountEvictor[T any](maxCount int) Evictor[T] { return window.CountEvictor[T](maxCount, false) }

// TimeEvictor keeps the elements within keep of the newest one.
func TimeEvictor[T any](keep time.Duration) Evictor[T] {
	return window.TimeEvictor[T](keep.Milliseconds(), false)
}

// WindowAssigner assigns elements to windows. Window sizes, slides and gaps
// are whole milliseconds: a time.Duration is truncated to milliseconds and
// must be at least 1ms. Windows near the ends of the int64 range of
// milliseconds are cut there (see window.Window): no timestamp makes a window
// wrap around.
type WindowAssigner struct {
	a   window.Assigner
	err error
}

func assigner(a window.Assigner, err error) WindowAssigner { return WindowAssigner{a, err} }

// windowMillis converts the duration param of the assigner name to
// milliseconds, the unit of window time. A positive duration below 1ms would
// become 0 and be reported as "must be > 0, got 0"; it is reported as too
// small instead.
func windowMillis(name, param string, d time.Duration) (int64, error) {
	if d > 0 && d < time.Millisecond {
		return 0, fmt.Errorf("%w: %s %s %v is below 1ms, the resolution of window time; use at least 1ms",
			window.ErrInvalidArgument, name, param, d)
	}
	return d.Milliseconds(), nil
}

// TumblingEventTimeWindows: fixed, non-overlapping windows of size on event time.
func TumblingEventTimeWindows(size time.Duration) WindowAssigner {
	ms, err := windowMillis("TumblingEventTimeWindows", "size", size)
	if err != nil {
		return WindowAssigner{err: err}
	}
	return assigner(window.TumblingEventTime(ms, 0))
}

// TumblingProcessingTimeWindows: fixed, non-overlapping windows on processing time.
func TumblingProcessingTimeWindows(size time.Duration) WindowAssigner {
	ms, err := windowMillis("TumblingProcessingTimeWindows", "size", size)
	if err != nil {
		return WindowAssigner{err: err}
	}
	return assigner(window.TumblingProcessingTime(ms, 0))
}

// SlidingEventTimeWindows: windows of size starting every slide, on event time.
// Each element belongs to about size/slide windows, at most
// window.MaxWindowsPerElement.
func SlidingEventTimeWindows(size, slide time.Duration) WindowAssigner {
	return sliding("SlidingEventTimeWindows", size, slide, window.SlidingEventTime)
}

// SlidingProcessingTimeWindows: windows of size starting every slide, on
// processing time, with the limits of SlidingEventTimeWindows.
func SlidingProcessingTimeWindows(size, slide time.Duration) WindowAssigner {
	return sliding("SlidingProcessingTimeWindows", size, slide, window.SlidingProcessingTime)
}

// sliding makes the sliding assigner name with newAssigner, after checking
// size and slide as windowMillis does.
func sliding(name string, size, slide time.Duration, newAssigner func(size, slide, offset int64) (window.Assigner, error)) WindowAssigner {
	sizeMS, err := windowMillis(name, "size", size)
	if err != nil {
		return WindowAssigner{err: err}
	}
	slideMS, err := windowMillis(name, "slide", slide)
	if err != nil {
		return WindowAssigner{err: err}
	}
	return assigner(newAssigner(sizeMS, slideMS, 0))
}

// EventTimeSessionWindows: a key's elements closer than gap share a window.
func EventTimeSessionWindows(gap time.Duration) WindowAssigner {
	ms, err := windowMillis("EventTimeSessionWindows", "gap", gap)
	if err != nil {
		return WindowAssigner{err: err}
	}
	return assigner(window.EventTimeSession(ms))
}

// ProcessingTimeSessionWindows: sessions on processing time.
func ProcessingTimeSessionWindows(gap time.Duration) WindowAssigner {
	ms, err := windowMillis("ProcessingTimeSessionWindows", "gap", gap)
	if err != nil {
		return WindowAssigner{err: err}
	}
	return assigner(window.ProcessingTimeSession(ms))
}

// GlobalWindows puts every element of a key in one window, which fires only by a
// custom trigger (CountTrigger, for example).
func GlobalWindows() WindowAssigner { return WindowAssigner{a: window.GlobalWindows()} }

// WindowedStream is a keyed stream cut into windows.
type WindowedStream[K comparable, T any] struct {
	k        KeyedStream[K, T]
	assigner window.Assigner
	trigger  window.Trigger
	evictor  window.Evictor[T]
	lateness int64
	lateTag  string
}

// Window cuts the keyed stream into windows.
func (k KeyedStream[K, T]) Window(a WindowAssigner) WindowedStream[K, T] {
	switch {
	case a.err != nil:
		k.s.env.fail("Window: %v", a.err)
		a.a = window.GlobalWindows()
	case a.a == nil:
		k.s.env.fail("Window: the WindowAssigner is the zero value; make one with TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows, GlobalWindows or their processing-time forms")
		a.a = window.GlobalWindows()
	}
	return WindowedStream[K, T]{k: k, assigner: a.a}
}

// Trigger replaces the assigner's default trigger.
func (w WindowedStream[K, T]) Trigger(t Trigger) WindowedStream[K, T] { w.trigger = t; return w }

// Evictor keeps every element of a window and removes some before the window
// function runs.
func (w WindowedStream[K, T]) Evictor(e Evictor[T]) WindowedStream[K, T] { w.evictor = e; return w }

// AllowedLateness keeps event-time windows for d after they fired: late elements
// within it update the window and fire it again.
func (w WindowedStream[K, T]) AllowedLateness(d time.Duration) WindowedStream[K, T] {
	if d < 0 {
		w.k.s.env.fail("AllowedLateness(%v) must not be negative", d)
	}
	w.lateness = d.Milliseconds()
	return w
}

// SideOutputLateData sends elements too late for every window to tag; read them
// with SideOutput on the windowed result.
func (w WindowedStream[K, T]) SideOutputLateData(tag OutputTag[T]) WindowedStream[K, T] {
	w.lateTag = tag.id
	return w
}

// WindowContext describes the window being emitted.
type WindowContext[K comparable] struct {
	Key    K
	Window Window
}

// ProcessWindowFunction gets a window's key, bounds and elements (or the single
// pre-aggregated value) and emits any number of records.
type ProcessWindowFunction[K comparable, IN, OUT any] func(ctx *WindowContext[K], elements []IN, out *Collector[OUT]) error

// Reduce combines a window's elements incrementally and emits the result.
func (w WindowedStream[K, T]) Reduce(fn func(a, b T) T) Stream[T] {
	w.k.s.env.checkFunc(fn == nil, "WindowedStream.Reduce", "the reduce function")
	return reduceProcess(w, fn, func(_ *WindowContext[K], r []T, out *Collector[T]) error {
		out.Collect(r[0])
		return nil
	})
}

// ReduceProcess reduces incrementally, then hands the result to fn with the
// window's metadata.
func ReduceProcess[K comparable, T, OUT any](w WindowedStream[K, T], reduce func(a, b T) T, fn ProcessWindowFunction[K, T, OUT]) Stream[OUT] {
	w.k.s.env.checkFunc(reduce == nil, "ReduceProcess", "the reduce function")
	w.k.s.env.checkFunc(fn == nil, "ReduceProcess", "the ProcessWindowFunction")
	return reduceProcess(w, reduce, fn)
}

// reduceProcess is ReduceProcess without the checks of its arguments, which
// its callers made.
func reduceProcess[K comparable, T, OUT any](w WindowedStream[K, T], reduce func(a, b T) T, fn ProcessWindowFunction[K, T, OUT]) Stream[OUT] {
	agg := reduceAggregate[T]{reduce}
	return aggregateProcess[K, T, reduceAcc[T], T, OUT](w, agg, fn).Name("Window(Reduce)")
}

type reduceAcc[T any] struct {
	v    T
	seen bool
}

type reduceAggregate[T any] struct{ reduce func(a, b T) T }

func (r reduceAggregate[T]) CreateAccumulator() reduceAcc[T] { return reduceAcc[T]{} }
func (r reduceAggregate[T]) Add(v T, acc reduceAcc[T]) reduceAcc[T] {
	if !acc.seen {
		return reduceAcc[T]{v, true}
	}
	return reduceAcc[T]{r.reduce(acc.v, v), true}
}
func (r reduceAggregate[T]) GetResult(acc reduceAcc[T]) T { return acc.v }
func (r reduceAggregate[T]) Merge(a, b reduceAcc[T]) reduceAcc[T] {
	switch {
	case !a.seen:
		return b
	case !b.seen:
		return a
	}
	return reduceAcc[T]{r.reduce(a.v, b.v), true}
}

// Aggregate aggregates a window's elements incrementally with agg.
func Aggregate[K comparable, T, ACC, OUT any](w WindowedStream[K, T], agg AggregateFunction[T, ACC, OUT]) Stream[OUT] {
	w.k.s.env.checkFunc(agg == nil, "Aggregate", "the AggregateFunction")
	return aggregateProcess(w, agg, func(_ *WindowContext[K], r []OUT, out *Collector[OUT]) error {
		out.Collect(r[0])
		return nil
	}).Name("Window(Aggregate)")
}

// AggregateProcess aggregates incrementally, then hands the result to fn with the
// window's metadata. With an evictor the elements are kept and aggregated when
// the window fires.
func AggregateProcess[K comparable, T, ACC, V, OUT any](w WindowedStream[K, T], agg AggregateFunction[T, ACC, V], fn ProcessWindowFunction[K, V, OUT]) Stream[OUT] {
	w.k.s.env.checkFunc(agg == nil, "AggregateProcess", "the AggregateFunction")
	w.k.s.env.checkFunc(fn == nil, "AggregateProcess", "the ProcessWindowFunction")
	return aggregateProcess(w, agg, fn)
}

// aggregateProcess is AggregateProcess without the checks of its arguments,
// which its callers made. A nil agg is not called: the job does not run.
func aggregateProcess[K comparable, T, ACC, V, OUT any](w WindowedStream[K, T], agg AggregateFunction[T, ACC, V], fn ProcessWindowFunction[K, V, OUT]) Stream[OUT] {
	emitResult := func(key K, win window.Window, acc ACC, out *Collector[OUT]) error {
		return fn(&WindowContext[K]{Key: key, Window: win}, []V{agg.GetResult(acc)}, out)
	}
	if w.evictor != nil {
		return windowAll(w, "Window(Aggregate)", func(key K, win window.Window, elems []window.TimestampedValue[T], out *Collector[OUT]) error {
			acc := agg.CreateAccumulator()
			for _, e := range elems {
				acc = agg.Add(e.Value, acc)
			}
			return emitResult(key, win, acc, out)
		})
	}
	add := func(acc ACC, seen bool, v T, _ int64) ACC {
		if !seen {
			acc = agg.CreateAccumulator()
		}
		return agg.Add(v, acc)
	}
	var merge func(a, b ACC) ACC
	if agg != nil { // agg.Merge of a nil interface would panic here
		merge = agg.Merge
	}
	return windowOperator(w, "Window(Aggregate)", add, merge, nil, emitResult)
}

// ProcessWindow keeps every element of a window and hands them all to fn.
func ProcessWindow[K comparable, T, OUT any](w WindowedStream[K, T], fn ProcessWindowFunction[K, T, OUT]) Stream[OUT] {
	w.k.s.env.checkFunc(fn == nil, "ProcessWindow", "the ProcessWindowFunction")
	return windowAll(w, "Window(Process)", func(key K, win window.Window, elems []window.TimestampedValue[T], out *Collector[OUT]) error {
		// A slice of its own for each firing: every subtask calls this one
		// function, and fn may keep what it gets.
		vals := make([]T, len(elems))
		for i, e := range elems {
			vals[i] = e.Value
		}
		return fn(&WindowContext[K]{Key: key, Window: win}, vals, out)
	})
}

// windowAll is a window operator that keeps every element.
func windowAll[K comparable, T, OUT any](w WindowedStream[K, T], name string,
	emit func(K, window.Window, []window.TimestampedValue[T], *Collector[OUT]) error) Stream[OUT] {
	type elems = []window.TimestampedValue[T]
	add := func(acc elems, _ bool, v T, ts int64) elems {
		return append(acc, window.TimestampedValue[T]{Value: v, Timestamp: ts})
	}
	merge := func(a, b elems) elems { return append(a, b...) }
	var evict func(elems, window.Window, bool) elems
	if ev := w.evictor; ev != nil {
		evict = func(acc elems, win window.Window, before bool) elems {
			if before {
				return ev.EvictBefore(acc, win)
			}
			return ev.EvictAfter(acc, win)
		}
	}
	return windowOperator(w, name, add, merge, evict, emit)
}

func windowOperator[K comparable, T, ACC, OUT any](w WindowedStream[K, T], name string,
	add func(ACC, bool, T, int64) ACC, merge func(a, b ACC) ACC, evict func(ACC, window.Window, bool) ACC,
	emit func(K, window.Window, ACC, *Collector[OUT]) error) Stream[OUT] {
	spec := task.WindowSpec[K, T, ACC, OUT]{Key: w.k.key, Hash: w.k.hash, Assigner: w.assigner, Trigger: w.trigger,
		AllowedLateness: w.lateness, LateTag: w.lateTag, Add: add, Merge: merge, Evict: evict, Emit: emit}
	return addOperator[T, OUT](w.k.s, name, graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[OUT]) (task.OneInput[T], error) {
			return task.NewWindowOperator(ctx, spec, out)
		}))
}
