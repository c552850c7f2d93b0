package sdk

import (
	"fmt"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// Collector receives the records a FlatMap or Process function emits.
type Collector[T any] = task.Collector[T]

// nilFuncError is a nil function given to an sdk call, such as Map(s, nil):
// found while the graph is built, it makes Execute and Plan fail with
// ErrInvalidJob instead of a task panicking at run time. It names the
// operator the call added by its position (from 1, in the order the job adds
// operators, sources included) and by its name, read when the error is
// printed so that a Name set after the call shows.
type nilFuncError struct {
	call string          // the sdk call, as the user writes it: "Map", "KeyedStream.Reduce"
	what string          // the nil argument: "the function", "the key selector"
	g    *graph.JobGraph // the graph the operator is in
	node int             // its index in g.Nodes; -1 for a call that adds no operator (KeyBy)
}

func (e *nilFuncError) Error() string {
	if e.node < 0 || e.node >= len(e.g.Nodes) {
		return fmt.Sprintf("%v: %s: %s is nil", ErrInvalidJob, e.call, e.what)
	}
	return fmt.Sprintf("%v: %s (operator %d %q): %s is nil", ErrInvalidJob, e.call, e.node+1, e.g.Nodes[e.node].Name, e.what)
}

func (e *nilFuncError) Unwrap() error { return ErrInvalidJob }

// checkFunc records a nil function (isNil) given to call, which is about to
// add the job's next operator: call it before the operator is added.
func (e *Env) checkFunc(isNil bool, call, what string) {
	if isNil {
		e.errs = append(e.errs, &nilFuncError{call: call, what: what, g: e.graph, node: len(e.graph.Nodes)})
	}
}

// Map applies fn to every record.
func Map[T, U any](s Stream[T], fn func(T) U) Stream[U] {
	s.env.checkFunc(fn == nil, "Map", "the function")
	return addOperator[T, U](s, "Map", graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[U]) (task.OneInput[T], error) {
			return task.NewMap(ctx, fn, out), nil
		}))
}

// FlatMap calls fn for every record; fn emits any number of records.
func FlatMap[T, U any](s Stream[T], fn func(T, *Collector[U])) Stream[U] {
	s.env.checkFunc(fn == nil, "FlatMap", "the function")
	f := func(v T, c *Collector[U]) error { fn(v, c); return nil }
	return addOperator[T, U](s, "FlatMap", graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[U]) (task.OneInput[T], error) {
			return task.NewFlatMap(ctx, f, out), nil
		}))
}

// Filter keeps the records for which fn returns true.
func (s Stream[T]) Filter(fn func(T) bool) Stream[T] {
	s.env.checkFunc(fn == nil, "Stream.Filter", "the function")
	return addOperator[T, T](s, "Filter", graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[T]) (task.OneInput[T], error) {
			return task.NewFilter(ctx, fn, out), nil
		}))
}

// ProcessContext tells a ProcessFunc where it runs.
type ProcessContext struct {
	// Subtask is this parallel instance, from 0 to Parallelism-1.
	Subtask     int
	Parallelism int
	// Operator is the operator's name.
	Operator string
}

// ProcessFunc handles one record, emitting any number of records through out. An
// error fails the job, naming the operator and subtask. It is called by every
// subtask, from as many goroutines: keep per-subtask data keyed by ctx.Subtask.
type ProcessFunc[T, U any] func(ctx *ProcessContext, v T, out *Collector[U]) error

// Process applies a ProcessFunc to every record.
func Process[T, U any](s Stream[T], fn ProcessFunc[T, U]) Stream[U] {
	s.env.checkFunc(fn == nil, "Process", "the ProcessFunc")
	return addOperator[T, U](s, "Process", graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[U]) (task.OneInput[T], error) {
			pc := &ProcessContext{Subtask: ctx.Subtask, Parallelism: ctx.Parallelism, Operator: ctx.OperatorName}
			return task.NewFlatMap(ctx, func(v T, c *Collector[U]) error { return fn(pc, v, c) }, out), nil
		}))
}

// KeyedStream is a stream partitioned by key: every record of one key goes to the
// same subtask, which keeps that key's state.
type KeyedStream[K comparable, T any] struct {
	s    Stream[T]
	key  func(T) K
	hash func(K) uint64
}

// KeyBy partitions s by the key key(v). The key must be the same for the same
// record every time: a string, a number, a bool, a struct or array of those, or a
// type implementing state.Hasher.
func KeyBy[T any, K comparable](s Stream[T], key func(T) K) KeyedStream[K, T] {
	if key == nil {
		s.env.errs = append(s.env.errs, &nilFuncError{call: "KeyBy", what: "the key selector", node: -1})
	}
	hash, err := state.HasherFor[K]()
	if err != nil {
		s.env.fail("KeyBy: %w", err)
		hash = func(K) uint64 { return 0 }
	}
	keyHash := func(v T) uint64 { return hash(key(v)) }
	out := Stream[T]{env: s.env, refs: make([]ref, len(s.refs))}
	for i, r := range s.refs {
		out.refs[i] = ref{node: r.node, part: graph.Hash, keyHash: keyHash, tag: r.tag, typ: r.typ}
	}
	return KeyedStream[K, T]{s: out, key: key, hash: hash}
}

// Stream is the keyed stream's records, still partitioned by key for the next operator.
func (k KeyedStream[K, T]) Stream() Stream[T] { return k.s }

// Reduce combines each record with the previous result of its key. In streaming
// mode it emits every updated result (a rolling reduce); in batch mode, the final
// result of each key once the input ends.
func (k KeyedStream[K, T]) Reduce(fn func(acc, v T) T) Stream[T] {
	k.s.env.checkFunc(fn == nil, "KeyedStream.Reduce", "the reduce function")
	add := func(acc T, seen bool, v T) T {
		if !seen {
			return v
		}
		return fn(acc, v)
	}
	return keyedRolling(k, "Reduce", add, func(_ K, acc T) T { return acc })
}

// Number is the constraint of Sum.
type Number interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// KeyValue pairs a key with a value, as Sum emits.
type KeyValue[K, V any] struct {
	Key   K
	Value V
}

// Sum adds value(v) per key and emits (key, sum): every update in streaming mode,
// the final sum of each key in batch mode.
func Sum[K comparable, T any, N Number](k KeyedStream[K, T], value func(T) N) Stream[KeyValue[K, N]] {
	k.s.env.checkFunc(value == nil, "Sum", "the value function")
	add := func(acc N, _ bool, v T) N { return acc + value(v) }
	return keyedRolling(k, "Sum", add, func(key K, acc N) KeyValue[K, N] { return KeyValue[K, N]{key, acc} })
}

func keyedRolling[K comparable, T, A, U any](k KeyedStream[K, T], name string, add func(A, bool, T) A, result func(K, A) U) Stream[U] {
	key, hash := k.key, k.hash
	return addOperator[T, U](k.s, name, graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[U]) (task.OneInput[T], error) {
			return task.NewKeyedRolling(ctx, key, hash, add, result, out)
		}))
}
