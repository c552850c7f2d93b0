package jobmaster

import (
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// ExecutionGraph is the physical plan of a JobGraph: every chain split into
// its parallel subtasks, and every exchange into channels, each with its index
// in its consumer's input gate. It is pure: built from the graph's structure
// alone (never its operators' factories), so a JobManager that holds only a
// job's plan can build it, and the same graph always gives the same channels.
type ExecutionGraph struct {
	graph       *graph.JobGraph
	fingerprint string
	vertices    []*ExecutionVertex // by chain, then subtask
}

// ExecutionVertex is one subtask of a chain with its input gates and the
// channels it feeds.
type ExecutionVertex struct {
	Chain   *graph.Chain
	Subtask int
	Inputs  []task.InputGateDescriptor
	Outputs []task.OutputDescriptor
}

// NewExecutionGraph lays out the channels of a finalized graph. Channels of a
// gate are numbered by input edge (in the head's input order), then by
// producer subtask; a producer's targets on an edge are in consumer order.
// Pointwise edges follow Flink's pattern (see consumerRange).
func NewExecutionGraph(g *graph.JobGraph) *ExecutionGraph {
	eg := &ExecutionGraph{graph: g, fingerprint: g.Fingerprint()}
	type chanKey struct{ edge, producer, consumer int }
	chanIndex := map[chanKey]int{}
	gateSize := map[[3]int]int{} // (chain, subtask, side) → channels
	byChain := make([][]*ExecutionVertex, len(g.Chains))
	for _, c := range g.Chains {
		head := g.Nodes[c.Head]
		sides := 0
		for _, ei := range head.Inputs {
			sides = max(sides, g.Edges[ei].Side+1)
		}
		for sub := range c.Parallelism {
			v := &ExecutionVertex{Chain: c, Subtask: sub}
			for side := range sides {
				n := 0
				for _, ei := range head.Inputs {
					e := g.Edges[ei]
					if e.Side != side {
						continue
					}
					for _, prod := range producersOf(e.Partitioner, g.Nodes[e.Source].Parallelism, head.Parallelism, sub) {
						chanIndex[chanKey{ei, prod, sub}] = n
						n++
					}
				}
				v.Inputs = append(v.Inputs, task.InputGateDescriptor{Side: side, Channels: n})
				gateSize[[3]int{c.Index, sub, side}] = n
			}
			byChain[c.Index] = append(byChain[c.Index], v)
			eg.vertices = append(eg.vertices, v)
		}
	}
	for _, v := range eg.vertices {
		c := v.Chain
		for _, ni := range c.Nodes {
			for _, ei := range g.Nodes[ni].Outputs {
				e := g.Edges[ei]
				if e.Chained {
					continue
				}
				down := g.Nodes[e.Target]
				out := task.OutputDescriptor{Edge: ei}
				for _, cons := range consumersOf(e.Partitioner, c.Parallelism, down.Parallelism, v.Subtask) {
					out.Targets = append(out.Targets, task.ChannelTarget{Chain: down.Chain, Subtask: cons, Side: e.Side,
						Channel: chanIndex[chanKey{ei, v.Subtask, cons}], GateChannels: gateSize[[3]int{down.Chain, cons, e.Side}]})
				}
				v.Outputs = append(v.Outputs, out)
			}
		}
	}
	return eg
}

// Vertices are every subtask of every chain, by chain, then subtask.
func (eg *ExecutionGraph) Vertices() []*ExecutionVertex { return eg.vertices }

// Descriptor is the TaskDeploymentDescriptor of v in attempt attempt of job jobID.
func (eg *ExecutionGraph) Descriptor(v *ExecutionVertex, jobID string, attempt int, knobs task.TaskKnobs, restore *task.TaskRestore) task.TaskDeploymentDescriptor {
	outputs := make([]task.OutputDescriptor, len(v.Outputs))
	for i, o := range v.Outputs { // copies: the caller fills in addresses
		outputs[i] = task.OutputDescriptor{Edge: o.Edge, Targets: append([]task.ChannelTarget(nil), o.Targets...)}
	}
	return task.TaskDeploymentDescriptor{
		ID:          task.ExecutionAttemptID{JobID: jobID, Attempt: attempt, Chain: v.Chain.Index, Subtask: v.Subtask},
		Fingerprint: eg.fingerprint,
		Inputs:      v.Inputs,
		Outputs:     outputs,
		Knobs:       knobs,
		Restore:     restore,
	}
}
