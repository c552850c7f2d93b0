package task

import (
	"errors"
	"math"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
)

// CoProcessor is the per-subtask instance of a function over two connected
// streams. In keyed mode the backend's current key is set before every call.
type CoProcessor[T1, T2, U any] interface {
	ProcessElement1(v T1, ts int64, out *Collector[U]) error
	ProcessElement2(v T2, ts int64, out *Collector[U]) error
	OnTimer(ts int64, domain TimeDomain, out *Collector[U]) error
}

// CoProcess runs a CoProcessor over two inputs. Its watermark is the minimum of
// the two inputs' watermarks (an idle input does not hold it back). With key
// functions it is keyed: state and timers per key, both inputs partitioned by
// the same key.
type CoProcess[K comparable, T1, T2, U any] struct {
	emitter[U]
	key1  func(T1) K
	key2  func(T2) K
	rt    *KeyedRuntime[K] // nil when not keyed
	fn    CoProcessor[T1, T2, U]
	valve *WatermarkValve
}

// ErrNoKeyedState is returned when a non-keyed function uses timers or state.
var ErrNoKeyedState = errors.New("keyed state and timers need keyed inputs: connect two KeyedStreams")

// NewCoProcess builds the operator and its two inputs. key1 and key2 are both
// nil (not keyed) or both set.
func NewCoProcess[K comparable, T1, T2, U any](ctx *OperatorContext, key1 func(T1) K, key2 func(T2) K, hash func(K) uint64,
	newFn func(rt *KeyedRuntime[K]) (CoProcessor[T1, T2, U], error), out Output[U]) (*CoProcess[K, T1, T2, U], Output[T1], Output[T2], error) {
	o := &CoProcess[K, T1, T2, U]{emitter: newEmitter(ctx, out), key1: key1, key2: key2, valve: NewWatermarkValve(2)}
	o.bind()
	if key1 != nil {
		rt, err := newKeyedRuntime(ctx, hash)
		if err != nil {
			return nil, nil, nil, err
		}
		o.rt = rt
	}
	fn, err := newFn(o.rt)
	if err != nil {
		return nil, nil, nil, err
	}
	o.fn = fn
	return o, coInput1[K, T1, T2, U]{o}, coInput2[K, T1, T2, U]{o}, nil
}

// SnapshotState implements Snapshotter.
func (o *CoProcess[K, T1, T2, U]) SnapshotState(id int64) ([]state.Part, error) {
	return snapshotKeyed(o.rt, o.fn, id)
}

// NotifyCheckpointComplete implements CheckpointListener.
func (o *CoProcess[K, T1, T2, U]) NotifyCheckpointComplete(id int64) error {
	return notifyUser(o.fn, id)
}

type coInput1[K comparable, T1, T2, U any] struct{ o *CoProcess[K, T1, T2, U] }
type coInput2[K comparable, T1, T2, U any] struct{ o *CoProcess[K, T1, T2, U] }

func (in coInput1[K, T1, T2, U]) Push(batch []T1, ts []int64) error {
	return pushCo(in.o, batch, ts, in.o.key1, in.o.fn.ProcessElement1)
}
func (in coInput1[K, T1, T2, U]) Emit(e Event) error { return in.o.emitSide(0, e) }

func (in coInput2[K, T1, T2, U]) Push(batch []T2, ts []int64) error {
	return pushCo(in.o, batch, ts, in.o.key2, in.o.fn.ProcessElement2)
}
func (in coInput2[K, T1, T2, U]) Emit(e Event) error { return in.o.emitSide(1, e) }

func pushCo[K comparable, T1, T2, U, V any](o *CoProcess[K, T1, T2, U], batch []V, ts []int64, key func(V) K,
	process func(V, int64, *Collector[U]) error) (err error) {
	defer o.ctx.Recover(&err)
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	o.col.reset()
	o.col.setInput(ts != nil, network.NoTimestamp)
	for i, v := range batch {
		if key != nil {
			if err := o.rt.Backend.SetCurrentKey(key(v)); err != nil {
				return o.ctx.Fail(err)
			}
		}
		if ts != nil {
			o.col.setCurrent(ts[i])
		}
		if err := process(v, o.col.cur, &o.col); err != nil {
			return o.ctx.Fail(err)
		}
		if err := o.col.failed(); err != nil {
			return o.ctx.Fail(err)
		}
	}
	return o.afterCalls()
}

func (o *CoProcess[K, T1, T2, U]) afterCalls() error {
	if o.rt == nil {
		return o.emitter.afterCalls(noTimers, nil)
	}
	return o.emitter.afterCalls(o.rt.Timers.NextProcessingTime, o.onProcessingTime)
}

func (o *CoProcess[K, T1, T2, U]) fire(domain TimeDomain) func(K, struct{}, int64) error {
	return func(_ K, _ struct{}, ts int64) error { return o.onTimer(ts, domain, o.fn.OnTimer) }
}

// emitSide combines one input's event with the other's.
func (o *CoProcess[K, T1, T2, U]) emitSide(side int, e Event) (err error) {
	var events []Event
	switch e.Kind {
	case network.Watermark:
		events = o.valve.Watermark(side, e.Timestamp)
	case network.WatermarkStatus:
		events = o.valve.Status(side, e.Idle)
	default:
		return nil
	}
	for _, ev := range append([]Event(nil), events...) {
		if ev.Kind == network.Watermark && o.rt != nil {
			defer o.ctx.Recover(&err)
			o.col.reset()
			if err := o.rt.Timers.AdvanceWatermark(ev.Timestamp, o.fire(EventTime)); err != nil {
				return o.ctx.Fail(err)
			}
			if err := o.afterCalls(); err != nil {
				return err
			}
		}
		if err := o.out.Emit(ev); err != nil {
			return err
		}
	}
	return nil
}

// CurrentWatermark is the combined watermark of both inputs.
func (o *CoProcess[K, T1, T2, U]) CurrentWatermark() int64 { return o.valve.Current() }

func (o *CoProcess[K, T1, T2, U]) onProcessingTime(now int64) (err error) {
	defer o.ctx.Recover(&err)
	o.scheduled = math.MaxInt64
	o.col.reset()
	if err := o.rt.Timers.AdvanceProcessingTime(now, o.fire(ProcessingTime)); err != nil {
		return o.ctx.Fail(err)
	}
	return o.afterCalls()
}

type twoInputFactory[IN1, IN2, OUT any] struct {
	create func(ctx *OperatorContext, out Output[OUT]) (Operator, Output[IN1], Output[IN2], error)
}

// NewTwoInputFactory returns the Factory of an operator with two inputs.
func NewTwoInputFactory[IN1, IN2, OUT any](create func(ctx *OperatorContext, out Output[OUT]) (Operator, Output[IN1], Output[IN2], error)) Factory {
	return &twoInputFactory[IN1, IN2, OUT]{create: create}
}

func (f *twoInputFactory[IN1, IN2, OUT]) OutputType() StreamType { return TypeOf[OUT]() }

func (f *twoInputFactory[IN1, IN2, OUT]) Create(ctx *OperatorContext, out any) (Operator, []any, error) {
	op, in1, in2, err := f.create(ctx, out.(Output[OUT]))
	if err != nil {
		return nil, nil, err
	}
	return op, []any{in1, in2}, nil
}
