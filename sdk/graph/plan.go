package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// assignIDs gives every node its operator id. Nodes are visited in topological
// order so an input's id is known before it is hashed into its consumer's.
func (g *JobGraph) assignIDs() {
	for _, n := range g.Nodes {
		h := sha256.New()
		if n.UID != "" {
			fmt.Fprintf(h, "uid\x00%s", n.UID)
		} else {
			fmt.Fprintf(h, "pos\x00%d\x00%s\x00%s\x00%d", n.Index, n.Kind, n.Name, n.InputSides)
			for _, ei := range n.Inputs {
				e := g.Edges[ei]
				fmt.Fprintf(h, "\x00in\x00%s\x00%d\x00%s", g.Nodes[e.Source].ID, e.Side, e.Partitioner)
				if e.Tag != "" {
					fmt.Fprintf(h, "\x00tag\x00%s", e.Tag)
				}
			}
		}
		n.ID = hex.EncodeToString(h.Sum(nil)[:16])
	}
}

// Plan is the JSON form of a finalized JobGraph, printed by `spate info`.
type Plan struct {
	Job            string         `json:"job"`
	MaxParallelism int            `json:"maxParallelism"`
	Bounded        bool           `json:"bounded"`
	Fingerprint    string         `json:"fingerprint"`
	Operators      []PlanOperator `json:"operators"`
	Tasks          []PlanTask     `json:"tasks"`
	// Config is the job's effective configuration, key by key, when the
	// plan is made for a submission (spate submit); it is not part of the
	// fingerprint.
	Config map[string]string `json:"config,omitempty"`
}

// PlanOperator is one node of the plan.
type PlanOperator struct {
	ID               string      `json:"id"`
	UID              string      `json:"uid,omitempty"`
	Name             string      `json:"name"`
	Kind             Kind        `json:"kind"`
	Parallelism      int         `json:"parallelism"`
	OutType          string      `json:"outType,omitempty"`
	ChainingDisabled bool        `json:"chainingDisabled,omitempty"`
	Task             int         `json:"task"`
	Inputs           []PlanInput `json:"inputs,omitempty"`
}

// PlanInput is one incoming edge of an operator.
type PlanInput struct {
	// Edge is the edge's index in the graph: descriptors name edges by it.
	Edge        int         `json:"edge"`
	Operator    string      `json:"operator"`
	Side        int         `json:"side,omitempty"`
	Partitioner Partitioner `json:"partitioner"`
	SideOutput  string      `json:"sideOutput,omitempty"`
	Chained     bool        `json:"chained"`
}

// PlanTask is one chain: the operators that run together as one task.
type PlanTask struct {
	Index       int      `json:"index"`
	Name        string   `json:"name"`
	Parallelism int      `json:"parallelism"`
	Operators   []string `json:"operators"`
}

// Plan returns the plan of a finalized graph, with its fingerprint.
func (g *JobGraph) Plan() Plan {
	p := Plan{Job: g.Name, MaxParallelism: g.MaxParallelism, Bounded: g.Bounded()}
	for _, n := range g.Nodes {
		op := PlanOperator{ID: n.ID, UID: n.UID, Name: n.Name, Kind: n.Kind, Parallelism: n.Parallelism,
			OutType: n.OutType, ChainingDisabled: n.ChainingDisabled, Task: n.Chain}
		for _, ei := range n.Inputs {
			e := g.Edges[ei]
			op.Inputs = append(op.Inputs, PlanInput{Edge: ei, Operator: g.Nodes[e.Source].ID, Side: e.Side, Partitioner: e.Partitioner, SideOutput: e.Tag, Chained: e.Chained})
		}
		p.Operators = append(p.Operators, op)
	}
	for _, c := range g.Chains {
		t := PlanTask{Index: c.Index, Name: c.Name, Parallelism: c.Parallelism}
		for _, ni := range c.Nodes {
			t.Operators = append(t.Operators, g.Nodes[ni].ID)
		}
		p.Tasks = append(p.Tasks, t)
	}
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // the plan holds only strings, ints and bools
	}
	sum := sha256.Sum256(b)
	p.Fingerprint = hex.EncodeToString(sum[:16])
	return p
}

// Fingerprint identifies the plan: equal graphs, equal fingerprints.
func (g *JobGraph) Fingerprint() string { return g.Plan().Fingerprint }

// JSON renders the plan indented, with a trailing newline.
func (p Plan) JSON() []byte {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// String renders the plan as a short human-readable outline, one task a line.
func (p Plan) String() string {
	var sb strings.Builder
	for _, t := range p.Tasks {
		fmt.Fprintf(&sb, "task %d (parallelism %d): %s\n", t.Index, t.Parallelism, t.Name)
	}
	return sb.String()
}

// FromPlan rebuilds the structure of a finalized JobGraph from its plan:
// nodes, edges (with their indices), chains and ids, without the operators'
// factories or key functions. It is what a JobManager that never runs the
// job's code schedules from. The result's plan must be p itself: a plan
// whose parts do not fit together is an error.
func FromPlan(p Plan) (*JobGraph, error) {
	bad := func(format string, a ...any) (*JobGraph, error) {
		return nil, fmt.Errorf("%w: plan of %q: "+format, append([]any{ErrInvalidGraph, p.Job}, a...)...)
	}
	g := &JobGraph{Name: p.Job, MaxParallelism: p.MaxParallelism}
	byID := map[string]int{}
	nEdges := 0
	for i, op := range p.Operators {
		if _, dup := byID[op.ID]; dup || op.ID == "" {
			return bad("operator %d has id %q, empty or already used", i, op.ID)
		}
		byID[op.ID] = i
		g.AddNode(&Node{ID: op.ID, UID: op.UID, Name: op.Name, Kind: op.Kind, Parallelism: op.Parallelism, MaxParallelism: p.MaxParallelism,
			ChainingDisabled: op.ChainingDisabled, OutType: op.OutType, Chain: op.Task, Bounded: p.Bounded})
		nEdges += len(op.Inputs)
	}
	g.Edges = make([]*Edge, nEdges)
	for i, op := range p.Operators {
		n := g.Nodes[i]
		for _, in := range op.Inputs {
			src, ok := byID[in.Operator]
			if !ok || src >= i {
				return bad("operator %q reads %q, which does not come before it", op.Name, in.Operator)
			}
			if in.Edge < 0 || in.Edge >= nEdges || g.Edges[in.Edge] != nil {
				return bad("operator %q names edge %d, out of range or used twice", op.Name, in.Edge)
			}
			g.Edges[in.Edge] = &Edge{Index: in.Edge, Source: src, Target: i, Side: in.Side, Partitioner: in.Partitioner, Tag: in.SideOutput, Chained: in.Chained}
			n.Inputs = append(n.Inputs, in.Edge)
			n.InputSides = max(n.InputSides, in.Side+1)
		}
	}
	for _, e := range g.Edges { // outputs in edge order, as Connect appends them
		g.Nodes[e.Source].Outputs = append(g.Nodes[e.Source].Outputs, e.Index)
	}
	for i, t := range p.Tasks {
		if t.Index != i || len(t.Operators) == 0 {
			return bad("task %d is numbered %d or has no operators", i, t.Index)
		}
		c := &Chain{Index: i, Name: t.Name, Parallelism: t.Parallelism}
		for _, id := range t.Operators {
			ni, ok := byID[id]
			if !ok || g.Nodes[ni].Chain != i {
				return bad("task %d lists operator %q, which is not one of its own", i, id)
			}
			c.Nodes = append(c.Nodes, ni)
		}
		c.Head = c.Nodes[0]
		g.Chains = append(g.Chains, c)
	}
	for _, n := range g.Nodes {
		if n.Chain < 0 || n.Chain >= len(g.Chains) {
			return bad("operator %q runs in task %d, which does not exist", n.Name, n.Chain)
		}
	}
	g.finalized = true
	if got := g.Plan(); got.Fingerprint != p.Fingerprint {
		return bad("the rebuilt graph's fingerprint %s is not the plan's %s", got.Fingerprint, p.Fingerprint)
	}
	return g, nil
}
