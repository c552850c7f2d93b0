package sdk

import (
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// Stream is a stream of records of type T: the output of one operator, or of
// several (Union), possibly repartitioned (Rebalance, Broadcast, …).
type Stream[T any] struct {
	env  *Env
	refs []ref
}

// ref is one upstream of a stream and how its records are partitioned to the
// next operator.
type ref struct {
	node    int
	part    graph.Partitioner
	keyHash any    // func(T) uint64 for graph.Hash
	tag     string // side output of node, "" for its main output
	typ     any    // task.StreamType of the side output
}

// Env is the environment the stream belongs to.
func (s Stream[T]) Env() *Env { return s.env }

// node is the operator this stream comes from, when it is exactly one operator
// with no repartitioning; op names the calling method for the error.
func (s Stream[T]) node(op string) *graph.Node {
	if s.env.graph.Finalized() {
		s.env.fail("%s after Plan or Execute has no effect; configure operators before", op)
		return nil
	}
	if len(s.refs) != 1 || s.refs[0].part != graph.PartitionDefault || s.refs[0].tag != "" {
		s.env.fail("%s applies to the stream of one operator, not to the result of Union or a repartitioning (Rebalance, Broadcast, KeyBy, …); call it before", op)
		return nil
	}
	return s.env.graph.Nodes[s.refs[0].node]
}

// Name sets the operator's name, shown in plans, logs and errors.
func (s Stream[T]) Name(name string) Stream[T] {
	if n := s.node("Name"); n != nil {
		n.Name = name
	}
	return s
}

// UID sets the operator's stable id: state in savepoints is matched by it, so set
// it on every stateful operator of a long-running job.
func (s Stream[T]) UID(uid string) Stream[T] {
	if n := s.node("UID"); n != nil {
		n.UID = uid
	}
	return s
}

// SetParallelism sets the operator's number of parallel subtasks.
func (s Stream[T]) SetParallelism(p int) Stream[T] {
	if p < 1 {
		s.env.fail("SetParallelism(%d): parallelism must be at least 1", p)
		return s
	}
	if n := s.node("SetParallelism"); n != nil {
		n.Parallelism = p
	}
	return s
}

// DisableChaining keeps the operator in a task of its own: it is chained neither
// to its input nor to its output.
func (s Stream[T]) DisableChaining() Stream[T] {
	if n := s.node("DisableChaining"); n != nil {
		n.ChainingDisabled = true
	}
	return s
}

func (s Stream[T]) repartition(p graph.Partitioner) Stream[T] {
	out := Stream[T]{env: s.env, refs: make([]ref, len(s.refs))}
	for i, r := range s.refs {
		out.refs[i] = ref{node: r.node, part: p, tag: r.tag, typ: r.typ}
	}
	return out
}

// Rebalance distributes records round-robin over the next operator's subtasks.
func (s Stream[T]) Rebalance() Stream[T] { return s.repartition(graph.Rebalance) }

// Rescale distributes records round-robin over a local subset of the next
// operator's subtasks.
func (s Stream[T]) Rescale() Stream[T] { return s.repartition(graph.Rescale) }

// Broadcast sends every record to every subtask of the next operator.
func (s Stream[T]) Broadcast() Stream[T] { return s.repartition(graph.Broadcast) }

// Forward sends the records of subtask i to subtask i of the next operator, which
// must have the same parallelism.
func (s Stream[T]) Forward() Stream[T] { return s.repartition(graph.Forward) }

// Global sends every record to the first subtask of the next operator.
func (s Stream[T]) Global() Stream[T] { return s.repartition(graph.Global) }

// Union merges streams of the same type.
func (s Stream[T]) Union(others ...Stream[T]) Stream[T] {
	out := Stream[T]{env: s.env, refs: append([]ref(nil), s.refs...)}
	for _, o := range others {
		if o.env != s.env {
			s.env.fail("Union of streams from different environments")
			continue
		}
		out.refs = append(out.refs, o.refs...)
	}
	return out
}

// addOperator appends a node consuming s and returns its output stream.
func addOperator[IN, OUT any](s Stream[IN], name string, kind graph.Kind, f task.Factory) Stream[OUT] {
	s.env.checkNotPlanned(name)
	n := &graph.Node{Name: name, Kind: kind, InputSides: 1, Factory: f}
	if kind != graph.KindSink {
		n.OutType = typeName[OUT]()
	}
	s.env.graph.AddNode(n)
	for _, r := range s.refs {
		s.env.graph.ConnectTagged(r.node, n.Index, 0, r.part, r.keyHash, r.tag, r.typ)
	}
	return Stream[OUT]{env: s.env, refs: []ref{{node: n.Index}}}
}

// checkNotPlanned reports an operator added after Plan or Execute finalized the
// graph, which is read-only from then on.
func (e *Env) checkNotPlanned(name string) {
	if e.graph.Finalized() {
		e.fail("%s was added after Plan or Execute; build the whole job before calling either", name)
	}
}

// addSource appends a source node.
func addSource[OUT any](env *Env, name string, bounded bool, f task.Factory) Stream[OUT] {
	env.checkNotPlanned(name)
	n := env.graph.AddNode(&graph.Node{Name: name, Kind: graph.KindSource, Bounded: bounded, OutType: typeName[OUT](), Factory: f})
	return Stream[OUT]{env: env, refs: []ref{{node: n.Index}}}
}

// Sink is the end of a stream; like a Stream it configures its operator.
type Sink struct {
	s Stream[struct{}]
}

func newSink(env *Env, node int) Sink {
	return Sink{s: Stream[struct{}]{env: env, refs: []ref{{node: node}}}}
}

// Name sets the sink's name.
func (k Sink) Name(name string) Sink { k.s.Name(name); return k }

// UID sets the sink's stable id.
func (k Sink) UID(uid string) Sink { k.s.UID(uid); return k }

// SetParallelism sets the sink's number of parallel subtasks.
func (k Sink) SetParallelism(p int) Sink { k.s.SetParallelism(p); return k }

// DisableChaining keeps the sink in a task of its own.
func (k Sink) DisableChaining() Sink { k.s.DisableChaining(); return k }
