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
			op.Inputs = append(op.Inputs, PlanInput{Operator: g.Nodes[e.Source].ID, Side: e.Side, Partitioner: e.Partitioner, SideOutput: e.Tag, Chained: e.Chained})
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
