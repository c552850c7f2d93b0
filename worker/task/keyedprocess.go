package task

import (
	"math"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
)

// TimeDomain says which clock fired a timer.
type TimeDomain uint8

const (
	EventTime TimeDomain = iota
	ProcessingTime
)

// KeyedRuntime is what a keyed operator's user function sees of its subtask:
// the keyed state backend and the timer service, both scoped to the current key.
type KeyedRuntime[K comparable] struct {
	Ctx     *OperatorContext
	Backend *state.HeapKeyedBackend[K]
	Timers  *state.TimerService[K, struct{}]
}

// newKeyedRuntime creates the backend and timers of a keyed operator, restored
// when the context says so: state is filled as the user function declares it.
func newKeyedRuntime[K comparable](ctx *OperatorContext, hash func(K) uint64) (*KeyedRuntime[K], error) {
	b := state.NewHeapKeyedBackend[K](ctx.KeyGroups, ctx.MaxParallelism, hash, ctx.Timers.Now)
	rt := &KeyedRuntime[K]{Ctx: ctx, Backend: b, Timers: state.NewTimerService[K, struct{}](b)}
	if ctx.Restored != nil {
		b.Restore(ctx.Restored)
		if err := rt.Timers.Restore(ctx.Restored, timerState); err != nil {
			return nil, err
		}
	}
	return rt, nil
}

// timerState names a keyed operator's timers in snapshots.
const timerState = "_timers"

// Snapshot copies the keyed state and the timers.
func (rt *KeyedRuntime[K]) Snapshot() ([]state.Part, error) {
	parts, err := rt.Backend.Snapshot()
	if err != nil {
		return nil, err
	}
	timers, err := rt.Timers.Snapshot(timerState)
	if err != nil {
		return nil, err
	}
	return append(parts, timers...), nil
}

// SnapshotHook is implemented by user functions that act on a checkpoint's
// snapshot, as Flink's CheckpointedFunction.snapshotState: it runs on the task
// goroutine before the state is copied.
type SnapshotHook interface {
	SnapshotState(checkpointID int64) error
}

// snapshotKeyed runs fn's hook, if any, and copies rt.
func snapshotKeyed[K comparable](rt *KeyedRuntime[K], fn any, id int64) ([]state.Part, error) {
	if h, ok := fn.(SnapshotHook); ok {
		if err := h.SnapshotState(id); err != nil {
			return nil, err
		}
	}
	if rt == nil {
		return nil, nil
	}
	return rt.Snapshot()
}

// notifyUser passes a checkpoint's completion to a user function that listens.
func notifyUser(fn any, id int64) error {
	if l, ok := fn.(CheckpointListener); ok {
		return l.NotifyCheckpointComplete(id)
	}
	return nil
}

// SnapshotState implements Snapshotter.
func (o *KeyedProcess[K, T, U]) SnapshotState(id int64) ([]state.Part, error) {
	return snapshotKeyed(o.rt, o.fn, id)
}

// NotifyCheckpointComplete implements CheckpointListener.
func (o *KeyedProcess[K, T, U]) NotifyCheckpointComplete(id int64) error { return notifyUser(o.fn, id) }

// KeyedProcessor is the per-subtask instance of a keyed process function. The
// backend's current key is set before every call.
type KeyedProcessor[T, U any] interface {
	ProcessElement(v T, ts int64, out *Collector[U]) error
	OnTimer(ts int64, domain TimeDomain, out *Collector[U]) error
}

// KeyedProcess runs a KeyedProcessor: per-key state, event- and processing-time
// timers, records out with the input's (or the timer's) timestamp.
type KeyedProcess[K comparable, T, U any] struct {
	emitter[U]
	key func(T) K
	rt  *KeyedRuntime[K]
	fn  KeyedProcessor[T, U]
}

// NewKeyedProcess builds the operator; newFn creates the user function instance.
func NewKeyedProcess[K comparable, T, U any](ctx *OperatorContext, key func(T) K, hash func(K) uint64,
	newFn func(rt *KeyedRuntime[K]) (KeyedProcessor[T, U], error), out Output[U]) (*KeyedProcess[K, T, U], error) {
	rt, err := newKeyedRuntime(ctx, hash)
	if err != nil {
		return nil, err
	}
	o := &KeyedProcess[K, T, U]{emitter: newEmitter(ctx, out), key: key, rt: rt}
	o.bind()
	fn, err := newFn(rt)
	if err != nil {
		return nil, err
	}
	o.fn = fn
	return o, nil
}

func (o *KeyedProcess[K, T, U]) Push(batch []T, ts []int64) (err error) {
	defer o.ctx.Recover(&err)
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	o.col.reset()
	o.col.setInput(ts != nil, network.NoTimestamp)
	for i, v := range batch {
		if err := o.rt.Backend.SetCurrentKey(o.key(v)); err != nil {
			return o.ctx.Fail(err)
		}
		if ts != nil {
			o.col.setCurrent(ts[i])
		}
		if err := o.fn.ProcessElement(v, o.col.cur, &o.col); err != nil {
			return o.ctx.Fail(err)
		}
		if err := o.col.failed(); err != nil {
			return o.ctx.Fail(err)
		}
	}
	return o.afterCalls()
}

func (o *KeyedProcess[K, T, U]) afterCalls() error {
	return o.emitter.afterCalls(o.rt.Timers.NextProcessingTime, o.onProcessingTime)
}

func (o *KeyedProcess[K, T, U]) fire(domain TimeDomain) func(K, struct{}, int64) error {
	return func(_ K, _ struct{}, ts int64) error { return o.onTimer(ts, domain, o.fn.OnTimer) }
}

// Emit advances event time on a watermark, firing due timers before the
// watermark moves on.
func (o *KeyedProcess[K, T, U]) Emit(e Event) (err error) {
	if e.Kind == network.Watermark {
		defer o.ctx.Recover(&err)
		o.col.reset()
		if err := o.rt.Timers.AdvanceWatermark(e.Timestamp, o.fire(EventTime)); err != nil {
			return o.ctx.Fail(err)
		}
		if err := o.afterCalls(); err != nil {
			return err
		}
	}
	return o.out.Emit(e)
}

func (o *KeyedProcess[K, T, U]) onProcessingTime(now int64) (err error) {
	defer o.ctx.Recover(&err)
	o.scheduled = math.MaxInt64
	o.col.reset()
	if err := o.rt.Timers.AdvanceProcessingTime(now, o.fire(ProcessingTime)); err != nil {
		return o.ctx.Fail(err)
	}
	return o.afterCalls()
}
