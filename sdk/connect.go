package sdk

import (
	"fmt"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

// addTwoInputOperator appends a node with two inputs and returns its output.
func addTwoInputOperator[IN1, IN2, OUT any](a Stream[IN1], b Stream[IN2], name string, f task.Factory) Stream[OUT] {
	if a.env != b.env {
		a.env.fail("%s: the connected streams come from different environments", name)
		return Stream[OUT]{env: a.env}
	}
	a.env.checkNotPlanned(name)
	n := a.env.graph.AddNode(&graph.Node{Name: name, Kind: graph.KindOperator, InputSides: 2, Factory: f, OutType: typeName[OUT]()})
	for side, refs := range [][]ref{a.refs, b.refs} {
		for _, r := range refs {
			a.env.graph.ConnectTagged(r.node, n.Index, side, r.part, r.keyHash, r.tag, r.typ)
		}
	}
	return Stream[OUT]{env: a.env, refs: []ref{{node: n.Index}}}
}

// CoContext is what a CoProcessFunction sees of the record being processed.
type CoContext struct {
	op    *task.OperatorContext
	ts    int64
	sides map[string]any
}

// Timestamp is the record's event time, if it has one.
func (c *CoContext) Timestamp() (int64, bool) { return c.ts, c.ts != network.NoTimestamp }

// Subtask is this parallel instance, from 0.
func (c *CoContext) Subtask() int { return c.op.Subtask }

func (c *CoContext) operatorContext() *task.OperatorContext { return c.op }
func (c *CoContext) sideOutputs() map[string]any            { return c.sides }
func (c *CoContext) timestamp() int64                       { return c.ts }

// CoProcessFunction processes two connected streams (Flink's CoProcessFunction).
// The operator's watermark is the minimum of both inputs'.
type CoProcessFunction[T1, T2, U any] interface {
	ProcessElement1(ctx *CoContext, v T1, out *Collector[U]) error
	ProcessElement2(ctx *CoContext, v T2, out *Collector[U]) error
}

// CoProcess applies fn to two streams; newFn is called once per subtask and
// must not return nil.
func CoProcess[T1, T2, U any](a Stream[T1], b Stream[T2], newFn func() CoProcessFunction[T1, T2, U]) Stream[U] {
	a.env.checkFunc(newFn == nil, "CoProcess", "newFn, the function making a CoProcessFunction per subtask,")
	return addTwoInputOperator[T1, T2, U](a, b, "CoProcess", task.NewTwoInputFactory(
		func(ctx *task.OperatorContext, out task.Output[U]) (task.Operator, task.Output[T1], task.Output[T2], error) {
			op, in1, in2, err := task.NewCoProcess[struct{}, T1, T2, U](ctx, nil, nil, nil,
				func(*task.KeyedRuntime[struct{}]) (task.CoProcessor[T1, T2, U], error) {
					f := newFn()
					if f == nil {
						return nil, errNilInstance("CoProcess", "CoProcessFunction")
					}
					return &coProcessor[T1, T2, U]{f: f, c: &CoContext{op: ctx, sides: map[string]any{}}}, nil
				}, out)
			return op, in1, in2, err
		}))
}

type coProcessor[T1, T2, U any] struct {
	f CoProcessFunction[T1, T2, U]
	c *CoContext
}

func (p *coProcessor[T1, T2, U]) ProcessElement1(v T1, ts int64, out *Collector[U]) error {
	p.c.ts = ts
	return p.f.ProcessElement1(p.c, v, out)
}

func (p *coProcessor[T1, T2, U]) ProcessElement2(v T2, ts int64, out *Collector[U]) error {
	p.c.ts = ts
	return p.f.ProcessElement2(p.c, v, out)
}

func (p *coProcessor[T1, T2, U]) OnTimer(int64, TimeDomain, *Collector[U]) error {
	return task.ErrNoKeyedState
}

// KeyedCoProcessFunction processes two streams keyed the same way, with keyed
// state and timers shared by both inputs (Flink's KeyedCoProcessFunction). It may
// have Open(ctx *KeyedContext[K]) error to declare state.
type KeyedCoProcessFunction[K comparable, T1, T2, U any] interface {
	ProcessElement1(ctx *KeyedContext[K], v T1, out *Collector[U]) error
	ProcessElement2(ctx *KeyedContext[K], v T2, out *Collector[U]) error
	OnTimer(ctx *KeyedContext[K], ts int64, out *Collector[U]) error
}

// KeyedCoProcess connects two keyed streams with the same key type: records of
// one key from both meet in the same subtask and share its state. newFn is
// called once per subtask and must not return nil.
func KeyedCoProcess[K comparable, T1, T2, U any](a KeyedStream[K, T1], b KeyedStream[K, T2], newFn func() KeyedCoProcessFunction[K, T1, T2, U]) Stream[U] {
	a.s.env.checkFunc(newFn == nil, "KeyedCoProcess", "newFn, the function making a KeyedCoProcessFunction per subtask,")
	key1, key2, hash := a.key, b.key, a.hash
	return addTwoInputOperator[T1, T2, U](a.s, b.s, "KeyedCoProcess", task.NewTwoInputFactory(
		func(ctx *task.OperatorContext, out task.Output[U]) (task.Operator, task.Output[T1], task.Output[T2], error) {
			op, in1, in2, err := task.NewCoProcess(ctx, key1, key2, hash,
				func(rt *task.KeyedRuntime[K]) (task.CoProcessor[T1, T2, U], error) {
					f := newFn()
					if f == nil {
						return nil, errNilInstance("KeyedCoProcess", "KeyedCoProcessFunction")
					}
					kc := &KeyedContext[K]{rt: rt, sides: map[string]any{}}
					if o, ok := f.(opener[K]); ok {
						if err := o.Open(kc); err != nil {
							return nil, fmt.Errorf("open: %w", err)
						}
					}
					return &keyedCoProcessor[K, T1, T2, U]{f: f, c: kc}, nil
				}, out)
			return op, in1, in2, err
		}))
}

type keyedCoProcessor[K comparable, T1, T2, U any] struct {
	f KeyedCoProcessFunction[K, T1, T2, U]
	c *KeyedContext[K]
}

func (p *keyedCoProcessor[K, T1, T2, U]) ProcessElement1(v T1, ts int64, out *Collector[U]) error {
	p.c.ts = ts
	return p.f.ProcessElement1(p.c, v, out)
}

func (p *keyedCoProcessor[K, T1, T2, U]) ProcessElement2(v T2, ts int64, out *Collector[U]) error {
	p.c.ts = ts
	return p.f.ProcessElement2(p.c, v, out)
}

func (p *keyedCoProcessor[K, T1, T2, U]) OnTimer(ts int64, d TimeDomain, out *Collector[U]) error {
	p.c.ts, p.c.domain = ts, d
	if d == ProcessingTime {
		p.c.ts = network.NoTimestamp
	}
	return p.f.OnTimer(p.c, ts, out)
}
