package sdk

import (
	"fmt"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

// Keyed state, declared by descriptors with a name and a type (see package state).
type (
	ValueStateDescriptor[V any]                  = state.ValueStateDescriptor[V]
	ListStateDescriptor[V any]                   = state.ListStateDescriptor[V]
	MapStateDescriptor[UK comparable, UV any]    = state.MapStateDescriptor[UK, UV]
	ReducingStateDescriptor[V any]               = state.ReducingStateDescriptor[V]
	AggregatingStateDescriptor[IN, ACC, OUT any] = state.AggregatingStateDescriptor[IN, ACC, OUT]
	ValueState[V any]                            = state.ValueState[V]
	ListState[V any]                             = state.ListState[V]
	MapState[UK comparable, UV any]              = state.MapState[UK, UV]
	ReducingState[V any]                         = state.ReducingState[V]
	AggregatingState[IN, OUT any]                = state.AggregatingState[IN, OUT]
	AggregateFunction[IN, ACC, OUT any]          = state.AggregateFunction[IN, ACC, OUT]
	TTLConfig                                    = state.TTLConfig
)

// TimeDomain says which clock fired a timer.
type TimeDomain = task.TimeDomain

const (
	EventTime      = task.EventTime
	ProcessingTime = task.ProcessingTime
)

// KeyedContext is what a KeyedProcessFunction sees: the current key, the
// record's (or the timer's) timestamp, timers and side outputs. Keyed state is
// declared in Open and always reads and writes the current key's value.
type KeyedContext[K comparable] struct {
	rt     *task.KeyedRuntime[K]
	ts     int64
	domain TimeDomain
	sides  map[string]any
}

// CurrentKey is the key of the record or timer being processed.
func (c *KeyedContext[K]) CurrentKey() K { return c.rt.Backend.CurrentKey() }

// Timestamp is the event time of the record (or event-time timer), if it has one.
func (c *KeyedContext[K]) Timestamp() (int64, bool) { return c.ts, c.ts != network.NoTimestamp }

// TimeDomain is the clock of the timer being fired (OnTimer only).
func (c *KeyedContext[K]) TimeDomain() TimeDomain { return c.domain }

// CurrentWatermark is the operator's event time.
func (c *KeyedContext[K]) CurrentWatermark() int64 { return c.rt.Timers.CurrentWatermark() }

// CurrentProcessingTime is the wall clock in milliseconds.
func (c *KeyedContext[K]) CurrentProcessingTime() int64 { return c.rt.Ctx.Timers.Now() }

// RegisterEventTimeTimer calls OnTimer for the current key once the watermark
// reaches ts. Timers are deduplicated per key and timestamp.
func (c *KeyedContext[K]) RegisterEventTimeTimer(ts int64) {
	c.rt.Timers.RegisterEventTimeTimer(struct{}{}, ts)
}

// DeleteEventTimeTimer removes a timer of the current key.
func (c *KeyedContext[K]) DeleteEventTimeTimer(ts int64) {
	c.rt.Timers.DeleteEventTimeTimer(struct{}{}, ts)
}

// RegisterProcessingTimeTimer calls OnTimer for the current key at processing time ts.
func (c *KeyedContext[K]) RegisterProcessingTimeTimer(ts int64) {
	c.rt.Timers.RegisterProcessingTimeTimer(struct{}{}, ts)
}

// DeleteProcessingTimeTimer removes a processing-time timer of the current key.
func (c *KeyedContext[K]) DeleteProcessingTimeTimer(ts int64) {
	c.rt.Timers.DeleteProcessingTimeTimer(struct{}{}, ts)
}

// Subtask is this parallel instance, from 0.
func (c *KeyedContext[K]) Subtask() int { return c.rt.Ctx.Subtask }

// IsRestored reports whether the subtask starts from a checkpoint or
// savepoint (after a failure, or with -s), as Flink's isRestored().
func (c *KeyedContext[K]) IsRestored() bool { return c.rt.Ctx.Restored != nil }

// Attempt counts the job's restarts: 0 in the first execution.
func (c *KeyedContext[K]) Attempt() int { return c.rt.Ctx.Attempt }

// StateBackend gives Get*State access to the keyed state (use it in Open).
func (c *KeyedContext[K]) StateBackend() *state.HeapKeyedBackend[K] { return c.rt.Backend }

func (c *KeyedContext[K]) operatorContext() *task.OperatorContext { return c.rt.Ctx }
func (c *KeyedContext[K]) sideOutputs() map[string]any            { return c.sides }
func (c *KeyedContext[K]) timestamp() int64                       { return c.ts }

// GetValueState declares (or finds) a value state; call it in Open.
func GetValueState[K comparable, V any](c *KeyedContext[K], d ValueStateDescriptor[V]) (ValueState[V], error) {
	return state.GetValueState(c.rt.Backend, d)
}

// GetListState declares (or finds) a list state; call it in Open.
func GetListState[K comparable, V any](c *KeyedContext[K], d ListStateDescriptor[V]) (ListState[V], error) {
	return state.GetListState(c.rt.Backend, d)
}

// GetMapState declares (or finds) a map state; call it in Open.
func GetMapState[K comparable, UK comparable, UV any](c *KeyedContext[K], d MapStateDescriptor[UK, UV]) (MapState[UK, UV], error) {
	return state.GetMapState(c.rt.Backend, d)
}

// GetReducingState declares (or finds) a reducing state; call it in Open.
func GetReducingState[K comparable, V any](c *KeyedContext[K], d ReducingStateDescriptor[V]) (ReducingState[V], error) {
	return state.GetReducingState(c.rt.Backend, d)
}

// GetAggregatingState declares (or finds) an aggregating state; call it in Open.
func GetAggregatingState[K comparable, IN, ACC, OUT any](c *KeyedContext[K], d AggregatingStateDescriptor[IN, ACC, OUT]) (AggregatingState[IN, OUT], error) {
	return state.GetAggregatingState(c.rt.Backend, d)
}

// KeyedProcessFunction processes a keyed stream one key at a time, with keyed
// state and timers (Flink's KeyedProcessFunction). If it also has a method
// Open(ctx *KeyedContext[K]) error, Open is called once per subtask before any
// record: declare state there.
type KeyedProcessFunction[K comparable, T, U any] interface {
	ProcessElement(ctx *KeyedContext[K], v T, out *Collector[U]) error
	OnTimer(ctx *KeyedContext[K], ts int64, out *Collector[U]) error
}

type opener[K comparable] interface {
	Open(ctx *KeyedContext[K]) error
}

// KeyedProcess applies a KeyedProcessFunction. newFn is called once per subtask,
// so each instance keeps its state handles in its own fields; it must not
// return nil.
func KeyedProcess[K comparable, T, U any](k KeyedStream[K, T], newFn func() KeyedProcessFunction[K, T, U]) Stream[U] {
	k.s.env.checkFunc(newFn == nil, "KeyedProcess", "newFn, the function making a KeyedProcessFunction per subtask,")
	key, hash := k.key, k.hash
	return addOperator[T, U](k.s, "KeyedProcess", graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[U]) (task.OneInput[T], error) {
			return task.NewKeyedProcess(ctx, key, hash, func(rt *task.KeyedRuntime[K]) (task.KeyedProcessor[T, U], error) {
				f := newFn()
				if f == nil {
					return nil, errNilInstance("KeyedProcess", "KeyedProcessFunction")
				}
				kc := &KeyedContext[K]{rt: rt, sides: map[string]any{}}
				if o, ok := f.(opener[K]); ok {
					if err := o.Open(kc); err != nil {
						return nil, fmt.Errorf("open: %w", err)
					}
				}
				return &keyedProcessor[K, T, U]{f: f, c: kc}, nil
			}, out)
		}))
}

// errNilInstance is the error of a subtask whose newFn, given to call,
// returned a nil function of type what.
func errNilInstance(call, what string) error {
	return fmt.Errorf("%s: newFn returned a nil %s; return a new %s for each subtask", call, what, what)
}

type keyedProcessor[K comparable, T, U any] struct {
	f KeyedProcessFunction[K, T, U]
	c *KeyedContext[K]
}

// CheckpointedFunction is implemented by process functions that act on
// checkpoints, as Flink's CheckpointedFunction and CheckpointListener:
// SnapshotState runs on the barrier, before the keyed state is copied;
// NotifyCheckpointComplete when a checkpoint has completed (not guaranteed to
// be called for every checkpoint).
type CheckpointedFunction interface {
	SnapshotState(checkpointID int64) error
	NotifyCheckpointComplete(checkpointID int64) error
}

// SnapshotState passes the barrier to the user function, if it listens.
func (p *keyedProcessor[K, T, U]) SnapshotState(id int64) error {
	if f, ok := any(p.f).(CheckpointedFunction); ok {
		return f.SnapshotState(id)
	}
	return nil
}

// NotifyCheckpointComplete passes the completion to the user function.
func (p *keyedProcessor[K, T, U]) NotifyCheckpointComplete(id int64) error {
	if f, ok := any(p.f).(CheckpointedFunction); ok {
		return f.NotifyCheckpointComplete(id)
	}
	return nil
}

func (p *keyedProcessor[K, T, U]) ProcessElement(v T, ts int64, out *Collector[U]) error {
	p.c.ts = ts
	return p.f.ProcessElement(p.c, v, out)
}

func (p *keyedProcessor[K, T, U]) OnTimer(ts int64, d TimeDomain, out *Collector[U]) error {
	p.c.ts, p.c.domain = ts, d
	if d == ProcessingTime {
		p.c.ts = network.NoTimestamp
	}
	return p.f.OnTimer(p.c, ts, out)
}

// OutputTag names a side output carrying records of type X.
type OutputTag[X any] struct{ id string }

// NewOutputTag returns the tag id; ids must be unique within an operator.
func NewOutputTag[X any](id string) OutputTag[X] { return OutputTag[X]{id: id} }

// ID is the tag's name.
func (t OutputTag[X]) ID() string { return t.id }

// sideEmitter is a context that can write to side outputs.
type sideEmitter interface {
	operatorContext() *task.OperatorContext
	sideOutputs() map[string]any
	timestamp() int64
}

// EmitSide writes v to the side output tag, with the current record's timestamp.
func EmitSide[X any](ctx sideEmitter, tag OutputTag[X], v X) error {
	m := ctx.sideOutputs()
	so, ok := m[tag.id]
	if !ok {
		s, err := task.NewSideOutput[X](ctx.operatorContext(), tag.id)
		if err != nil {
			return err
		}
		m[tag.id], so = s, s
	}
	s, ok := so.(*task.SideOutput[X])
	if !ok {
		return fmt.Errorf("side output %q is used with two record types", tag.id)
	}
	return s.Collect(v, ctx.timestamp())
}

// SideOutput is the stream of what the operator of s emits to tag.
func SideOutput[T, X any](s Stream[T], tag OutputTag[X]) Stream[X] {
	n := s.node("SideOutput")
	if n == nil {
		return Stream[X]{env: s.env}
	}
	return Stream[X]{env: s.env, refs: []ref{{node: n.Index, tag: tag.id, typ: task.TypeOf[X]()}}}
}
