package graph

import (
	"errors"
	"fmt"
)

// Partitioner says how records travel along an edge from the upstream subtasks to
// the downstream ones.
type Partitioner string

const (
	// PartitionDefault is resolved by Finalize: Forward when the parallelism of both
	// ends is equal, else Rebalance (as in Flink).
	PartitionDefault Partitioner = ""
	// Forward sends subtask i's records to subtask i; both ends need equal parallelism.
	Forward Partitioner = "forward"
	// Rebalance distributes records round-robin over all downstream subtasks.
	Rebalance Partitioner = "rebalance"
	// Rescale distributes round-robin over a local subset of downstream subtasks.
	Rescale Partitioner = "rescale"
	// Hash routes each record by the key group of its key.
	Hash Partitioner = "hash"
	// Broadcast sends every record to every downstream subtask.
	Broadcast Partitioner = "broadcast"
	// Global sends every record to downstream subtask 0.
	Global Partitioner = "global"
)

// Pointwise reports whether each upstream subtask talks to a subset of the
// downstream subtasks rather than to all of them.
func (p Partitioner) Pointwise() bool { return p == Forward || p == Rescale }

// Kind classifies a node.
type Kind string

const (
	KindSource   Kind = "source"
	KindOperator Kind = "operator"
	KindSink     Kind = "sink"
)

// Node is one operator of the JobGraph.
type Node struct {
	Index            int    // position in creation order; topological
	ID               string // operator id, set by Finalize
	UID              string // user-assigned stable id, optional
	Name             string
	Kind             Kind
	Parallelism      int // 0 = the job's default, resolved by Finalize
	MaxParallelism   int // set by Finalize from the job
	ChainingDisabled bool
	Bounded          bool   // sources only: the input ends
	Inputs           []int  // indices into JobGraph.Edges, in input order
	Outputs          []int  // indices into JobGraph.Edges
	InputSides       int    // number of typed inputs: 0 (source), 1, or 2
	OutType          string // type name of emitted records, "" for sinks
	Factory          any    // the runtime's operator factory; opaque here
	Chain            int    // index of the chain (task) this node runs in, set by Finalize
}

// Edge joins the output of one node to an input side of another.
type Edge struct {
	Index       int
	Source      int // node index
	Target      int // node index
	Side        int // input side of the target: 0, or 1 for the second input of a two-input operator
	Partitioner Partitioner
	// KeyHash is set for Hash edges: an opaque func(T) uint64 over the record type,
	// evaluated by the runtime to pick the key group.
	KeyHash any
	// Tag names the side output of Source this edge carries ("" for the main
	// output); Type is then that output's record type (opaque, as Factory).
	Tag     string
	Type    any
	Chained bool // set by Finalize
}

// Chain is a group of nodes that runs as one task: a tree rooted at Head whose
// edges are all chained.
type Chain struct {
	Index       int
	Head        int   // node index
	Nodes       []int // node indices in topological order, Head first
	Parallelism int
	Name        string // "Source: text -> FlatMap: tokenize"
}

// JobGraph is the logical plan of one job.
type JobGraph struct {
	Name           string
	MaxParallelism int
	Nodes          []*Node
	Edges          []*Edge
	Chains         []*Chain // set by Finalize
	finalized      bool
}

// New returns an empty JobGraph.
func New(name string) *JobGraph { return &JobGraph{Name: name} }

// AddNode appends n and sets its Index.
func (g *JobGraph) AddNode(n *Node) *Node {
	n.Index = len(g.Nodes)
	g.Nodes = append(g.Nodes, n)
	return n
}

// Connect adds an edge from node source to input side of node target.
func (g *JobGraph) Connect(source, target, side int, p Partitioner, keyHash any) *Edge {
	return g.ConnectTagged(source, target, side, p, keyHash, "", nil)
}

// ConnectTagged adds an edge from the side output tag (of record type typ) of
// node source; an empty tag is the main output.
func (g *JobGraph) ConnectTagged(source, target, side int, p Partitioner, keyHash any, tag string, typ any) *Edge {
	e := &Edge{Index: len(g.Edges), Source: source, Target: target, Side: side, Partitioner: p, KeyHash: keyHash, Tag: tag, Type: typ}
	g.Edges = append(g.Edges, e)
	g.Nodes[source].Outputs = append(g.Nodes[source].Outputs, e.Index)
	g.Nodes[target].Inputs = append(g.Nodes[target].Inputs, e.Index)
	return e
}

// ErrInvalidGraph wraps every validation error returned by Finalize.
var ErrInvalidGraph = errors.New("invalid job graph")

// Finalize resolves defaults, validates the graph, assigns operator ids and
// computes chains. defaultParallelism applies to nodes that set none.
func (g *JobGraph) Finalize(defaultParallelism, maxParallelism int) error {
	if g.finalized {
		return nil
	}
	if defaultParallelism < 1 {
		return fmt.Errorf("%w: parallelism.default must be at least 1, got %d", ErrInvalidGraph, defaultParallelism)
	}
	if len(g.Nodes) == 0 {
		return fmt.Errorf("%w: the job has no operators; add a source and a sink before Execute", ErrInvalidGraph)
	}
	g.MaxParallelism = maxParallelism
	uids := map[string]string{}
	for _, n := range g.Nodes {
		if n.Parallelism == 0 {
			n.Parallelism = defaultParallelism
		}
		n.MaxParallelism = maxParallelism
		if n.Parallelism < 1 {
			return fmt.Errorf("%w: %s: parallelism must be at least 1, got %d", ErrInvalidGraph, n.Name, n.Parallelism)
		}
		if n.Parallelism > maxParallelism {
			return fmt.Errorf("%w: %s: parallelism %d exceeds pipeline.max-parallelism %d; raise pipeline.max-parallelism or lower the parallelism",
				ErrInvalidGraph, n.Name, n.Parallelism, maxParallelism)
		}
		if n.UID != "" {
			if other, dup := uids[n.UID]; dup {
				return fmt.Errorf("%w: uid %q is used by both %q and %q; uids must be unique", ErrInvalidGraph, n.UID, other, n.Name)
			}
			uids[n.UID] = n.Name
		}
		if n.Kind == KindSource && len(n.Inputs) > 0 {
			return fmt.Errorf("%w: source %s has inputs", ErrInvalidGraph, n.Name)
		}
		if n.Kind != KindSource && len(n.Inputs) == 0 {
			return fmt.Errorf("%w: %s has no input", ErrInvalidGraph, n.Name)
		}
	}
	for _, e := range g.Edges {
		src, dst := g.Nodes[e.Source], g.Nodes[e.Target]
		if e.Source >= e.Target {
			return fmt.Errorf("%w: edge %s -> %s goes backwards", ErrInvalidGraph, src.Name, dst.Name)
		}
		if e.Partitioner == PartitionDefault {
			if src.Parallelism == dst.Parallelism {
				e.Partitioner = Forward
			} else {
				e.Partitioner = Rebalance
			}
		}
		if e.Partitioner == Forward && src.Parallelism != dst.Parallelism {
			return fmt.Errorf("%w: forward partitioning from %s (parallelism %d) to %s (parallelism %d) needs equal parallelism; use Rebalance or Rescale, or set equal parallelism",
				ErrInvalidGraph, src.Name, src.Parallelism, dst.Name, dst.Parallelism)
		}
		if e.Partitioner == Hash && e.KeyHash == nil {
			return fmt.Errorf("%w: hash edge %s -> %s has no key", ErrInvalidGraph, src.Name, dst.Name)
		}
	}
	g.assignIDs()
	g.chain()
	g.finalized = true
	return nil
}

// Finalized reports whether Finalize succeeded.
func (g *JobGraph) Finalized() bool { return g.finalized }

// chainable reports whether edge e joins its two nodes into one chain.
func (g *JobGraph) chainable(e *Edge) bool {
	src, dst := g.Nodes[e.Source], g.Nodes[e.Target]
	return e.Partitioner == Forward &&
		len(dst.Inputs) == 1 &&
		src.Parallelism == dst.Parallelism &&
		!src.ChainingDisabled && !dst.ChainingDisabled &&
		dst.Kind != KindSource
}

func (g *JobGraph) chain() {
	g.Chains = nil
	for _, n := range g.Nodes {
		if len(n.Inputs) == 1 && g.chainable(g.Edges[n.Inputs[0]]) {
			e := g.Edges[n.Inputs[0]]
			e.Chained = true
			n.Chain = g.Nodes[e.Source].Chain
			c := g.Chains[n.Chain]
			c.Nodes = append(c.Nodes, n.Index)
			c.Name += " -> " + n.Name
			continue
		}
		n.Chain = len(g.Chains)
		g.Chains = append(g.Chains, &Chain{Index: n.Chain, Head: n.Index, Nodes: []int{n.Index}, Parallelism: n.Parallelism, Name: n.Name})
	}
}

// Bounded reports whether every source of the job ends.
func (g *JobGraph) Bounded() bool {
	for _, n := range g.Nodes {
		if n.Kind == KindSource && !n.Bounded {
			return false
		}
	}
	return true
}

// MaxChainParallelism is the number of slots the job needs with slot sharing.
func (g *JobGraph) MaxChainParallelism() int {
	m := 0
	for _, c := range g.Chains {
		m = max(m, c.Parallelism)
	}
	return m
}
