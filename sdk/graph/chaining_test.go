package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// gb builds small graphs by hand; nodes are addressed by name.
type gb struct {
	g     *JobGraph
	index map[string]int
}

func newGB() *gb { return &gb{g: New("test"), index: map[string]int{}} }

func (b *gb) add(kind Kind, name string, parallelism int, opts ...func(*Node)) *gb {
	n := &Node{Name: name, Kind: kind, Parallelism: parallelism, OutType: "int64"}
	switch kind {
	case KindSource:
		n.Bounded = true
	case KindOperator:
		n.InputSides = 1
	case KindSink:
		n.InputSides = 1
		n.OutType = ""
	}
	for _, o := range opts {
		o(n)
	}
	b.index[name] = b.g.AddNode(n).Index
	return b
}

func (b *gb) src(name string, p int, opts ...func(*Node)) *gb {
	return b.add(KindSource, name, p, opts...)
}
func (b *gb) op(name string, p int, opts ...func(*Node)) *gb {
	return b.add(KindOperator, name, p, opts...)
}
func (b *gb) sink(name string, p int, opts ...func(*Node)) *gb {
	return b.add(KindSink, name, p, opts...)
}

var noChain = func(n *Node) { n.ChainingDisabled = true }

func uid(u string) func(*Node) { return func(n *Node) { n.UID = u } }

func twoInputs(n *Node) { n.InputSides = 2 }

// keyFn stands for the runtime's func(T) uint64; graph treats it as opaque.
var keyFn = func(int64) uint64 { return 0 }

func (b *gb) edge(from, to string, p Partitioner) *gb {
	var key any
	if p == Hash {
		key = keyFn
	}
	b.g.Connect(b.index[from], b.index[to], 0, p, key)
	return b
}

func (b *gb) edgeSide(from, to string, side int, p Partitioner) *gb {
	b.g.Connect(b.index[from], b.index[to], side, p, nil)
	return b
}

// chains renders the chains as node names, in chain order.
func (b *gb) chains() [][]string {
	var out [][]string
	for _, c := range b.g.Chains {
		var names []string
		for _, ni := range c.Nodes {
			names = append(names, b.g.Nodes[ni].Name)
		}
		out = append(out, names)
	}
	return out
}

// edges renders every edge as "from->to partitioner chained|-".
func (b *gb) edges() []string {
	var out []string
	for _, e := range b.g.Edges {
		s := b.g.Nodes[e.Source].Name + "->" + b.g.Nodes[e.Target].Name + " " + string(e.Partitioner)
		if e.Chained {
			s += " chained"
		} else {
			s += " -"
		}
		out = append(out, s)
	}
	return out
}

func TestChaining(t *testing.T) {
	for _, c := range []struct {
		name   string
		build  func() *gb
		chains [][]string
		edges  []string
	}{
		{
			name: "forward with equal parallelism chains",
			build: func() *gb {
				return newGB().src("s", 2).op("m", 2).sink("k", 2).edge("s", "m", "").edge("m", "k", Forward)
			},
			chains: [][]string{{"s", "m", "k"}},
			edges:  []string{"s->m forward chained", "m->k forward chained"},
		},
		{
			name:   "unequal parallelism with the default partitioner is rebalance and does not chain",
			build:  func() *gb { return newGB().src("s", 2).op("m", 4).sink("k", 4).edge("s", "m", "").edge("m", "k", "") },
			chains: [][]string{{"s"}, {"m", "k"}},
			edges:  []string{"s->m rebalance -", "m->k forward chained"},
		},
		{
			name:   "explicit rebalance with equal parallelism does not chain",
			build:  func() *gb { return newGB().src("s", 2).op("m", 2).edge("s", "m", Rebalance) },
			chains: [][]string{{"s"}, {"m"}},
			edges:  []string{"s->m rebalance -"},
		},
		{
			name:   "rescale does not chain",
			build:  func() *gb { return newGB().src("s", 2).op("m", 2).edge("s", "m", Rescale) },
			chains: [][]string{{"s"}, {"m"}},
			edges:  []string{"s->m rescale -"},
		},
		{
			name:   "hash never chains",
			build:  func() *gb { return newGB().src("s", 3).op("m", 3).edge("s", "m", Hash) },
			chains: [][]string{{"s"}, {"m"}},
			edges:  []string{"s->m hash -"},
		},
		{
			name: "broadcast and global do not chain",
			build: func() *gb {
				return newGB().src("s", 1).op("a", 1).op("b", 1).edge("s", "a", Broadcast).edge("a", "b", Global)
			},
			chains: [][]string{{"s"}, {"a"}, {"b"}},
			edges:  []string{"s->a broadcast -", "a->b global -"},
		},
		{
			name: "a union (two inputs into one side) is not chained",
			build: func() *gb {
				return newGB().src("s1", 2).src("s2", 2).op("u", 2).sink("k", 2).
					edge("s1", "u", "").edge("s2", "u", "").edge("u", "k", "")
			},
			chains: [][]string{{"s1"}, {"s2"}, {"u", "k"}},
			edges:  []string{"s1->u forward -", "s2->u forward -", "u->k forward chained"},
		},
		{
			name: "a two-input operator is not chained",
			build: func() *gb {
				return newGB().src("a", 2).src("b", 2).op("j", 2, twoInputs).
					edgeSide("a", "j", 0, "").edgeSide("b", "j", 1, "")
			},
			chains: [][]string{{"a"}, {"b"}, {"j"}},
			edges:  []string{"a->j forward -", "b->j forward -"},
		},
		{
			name: "chaining disabled upstream breaks the chain",
			build: func() *gb {
				return newGB().src("s", 2, noChain).op("m", 2).sink("k", 2).edge("s", "m", "").edge("m", "k", "")
			},
			chains: [][]string{{"s"}, {"m", "k"}},
			edges:  []string{"s->m forward -", "m->k forward chained"},
		},
		{
			name: "chaining disabled downstream breaks the chain on both sides of it",
			build: func() *gb {
				return newGB().src("s", 2).op("m", 2, noChain).sink("k", 2).edge("s", "m", "").edge("m", "k", "")
			},
			chains: [][]string{{"s"}, {"m"}, {"k"}},
			edges:  []string{"s->m forward -", "m->k forward -"},
		},
		{
			name: "two sources are two chains",
			build: func() *gb {
				return newGB().src("s1", 1).src("s2", 1).sink("k1", 1).edge("s1", "k1", "").sink("k2", 1).edge("s2", "k2", "")
			},
			chains: [][]string{{"s1", "k1"}, {"s2", "k2"}},
			edges:  []string{"s1->k1 forward chained", "s2->k2 forward chained"},
		},
		{
			name: "a tree: one node feeding two forward successors is one chain",
			build: func() *gb {
				return newGB().src("s", 2).op("a", 2).op("b", 2).sink("ka", 2).sink("kb", 2).
					edge("s", "a", "").edge("s", "b", Forward).edge("a", "ka", "").edge("b", "kb", "")
			},
			chains: [][]string{{"s", "a", "b", "ka", "kb"}},
			edges:  []string{"s->a forward chained", "s->b forward chained", "a->ka forward chained", "b->kb forward chained"},
		},
		{
			name: "a tree with one hashed branch",
			build: func() *gb {
				return newGB().src("s", 2).op("a", 2).op("b", 2).sink("k", 2).
					edge("s", "a", "").edge("s", "b", Hash).edge("b", "k", "")
			},
			chains: [][]string{{"s", "a"}, {"b", "k"}},
			edges:  []string{"s->a forward chained", "s->b hash -", "b->k forward chained"},
		},
		{
			name: "default parallelism resolves before partitioners",
			build: func() *gb {
				return newGB().src("s", 0).op("m", 0).op("w", 3).edge("s", "m", "").edge("m", "w", "")
			},
			chains: [][]string{{"s", "m"}, {"w"}},
			edges:  []string{"s->m forward chained", "m->w rebalance -"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.build()
			if err := b.g.Finalize(2, 128); err != nil {
				t.Fatalf("Finalize: %v", err)
			}
			if got := b.chains(); !slices.EqualFunc(got, c.chains, slices.Equal) {
				t.Errorf("chains = %v, want %v", got, c.chains)
			}
			if got := b.edges(); !slices.Equal(got, c.edges) {
				t.Errorf("edges = %q, want %q", got, c.edges)
			}
			// Every node knows its chain; every chain's head is its first node,
			// and its parallelism and name follow from its nodes.
			for ci, ch := range b.g.Chains {
				if ch.Index != ci || ch.Head != ch.Nodes[0] {
					t.Errorf("chain %d: Index %d, Head %d, Nodes %v", ci, ch.Index, ch.Head, ch.Nodes)
				}
				var names []string
				for _, ni := range ch.Nodes {
					n := b.g.Nodes[ni]
					names = append(names, n.Name)
					if n.Chain != ci {
						t.Errorf("node %s: Chain = %d, want %d", n.Name, n.Chain, ci)
					}
					if n.Parallelism != ch.Parallelism {
						t.Errorf("node %s: parallelism %d in chain of parallelism %d", n.Name, n.Parallelism, ch.Parallelism)
					}
					if n.MaxParallelism != 128 {
						t.Errorf("node %s: MaxParallelism = %d, want 128", n.Name, n.MaxParallelism)
					}
				}
				if want := strings.Join(names, " -> "); ch.Name != want {
					t.Errorf("chain %d Name = %q, want %q", ci, ch.Name, want)
				}
			}
		})
	}
}

func TestFinalizeResolvesAndIsIdempotent(t *testing.T) {
	b := newGB().src("s", 0).op("m", 5).sink("k", 5).edge("s", "m", "").edge("m", "k", "")
	if b.g.Finalized() {
		t.Fatal("Finalized before Finalize")
	}
	if err := b.g.Finalize(3, 64); err != nil {
		t.Fatal(err)
	}
	if !b.g.Finalized() {
		t.Fatal("not Finalized after Finalize")
	}
	if got := b.g.Nodes[0].Parallelism; got != 3 {
		t.Errorf("default parallelism: got %d, want 3", got)
	}
	if got := b.g.MaxChainParallelism(); got != 5 {
		t.Errorf("MaxChainParallelism = %d, want 5", got)
	}
	fp := b.g.Fingerprint()
	ids := nodeIDs(b.g)
	// A second Finalize, even with other arguments, changes nothing.
	if err := b.g.Finalize(7, 1024); err != nil {
		t.Fatal(err)
	}
	if b.g.MaxParallelism != 64 || b.g.Fingerprint() != fp || !slices.Equal(nodeIDs(b.g), ids) {
		t.Errorf("second Finalize changed the graph: maxP %d", b.g.MaxParallelism)
	}
	if !b.g.Bounded() {
		t.Errorf("Bounded() = false with only bounded sources")
	}
	b.g.Nodes[0].Bounded = false
	if b.g.Bounded() {
		t.Errorf("Bounded() = true with an unbounded source")
	}
}

func nodeIDs(g *JobGraph) []string {
	var out []string
	for _, n := range g.Nodes {
		out = append(out, n.ID)
	}
	return out
}

// pipeline is the graph used by the id tests: src -> map -> (hash) sum -> sink.
type pipelineSpec struct {
	mapName    string
	sumInput   Partitioner
	sumUID     string
	extraFirst bool // add an unrelated source before everything, shifting positions
	keyedP     int  // parallelism of sum and sink; 2 when 0
}

func buildPipeline(t *testing.T, s pipelineSpec) *JobGraph {
	t.Helper()
	b := newGB()
	if s.extraFirst {
		b.src("other", 1).sink("other-sink", 1).edge("other", "other-sink", "")
	}
	var sumOpts []func(*Node)
	if s.sumUID != "" {
		sumOpts = append(sumOpts, uid(s.sumUID))
	}
	if s.sumInput == "" {
		s.sumInput = Hash
	}
	if s.keyedP == 0 {
		s.keyedP = 2
	}
	b.src("src", 2).op(s.mapName, 2).op("sum", s.keyedP, sumOpts...).sink("sink", s.keyedP).
		edge("src", s.mapName, "").edge(s.mapName, "sum", s.sumInput).edge("sum", "sink", "")
	if err := b.g.Finalize(2, 128); err != nil {
		t.Fatal(err)
	}
	return b.g
}

func idOf(g *JobGraph, name string) string {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n.ID
		}
	}
	return ""
}

func TestOperatorIDs(t *testing.T) {
	base := pipelineSpec{mapName: "map"}
	a, b := buildPipeline(t, base), buildPipeline(t, base)
	if !slices.Equal(nodeIDs(a), nodeIDs(b)) {
		t.Fatalf("identical builds got different ids:\n%v\n%v", nodeIDs(a), nodeIDs(b))
	}
	seen := map[string]string{}
	for _, n := range a.Nodes {
		if len(n.ID) != 32 {
			t.Errorf("%s: id %q is not 32 hex digits", n.Name, n.ID)
		}
		if other, dup := seen[n.ID]; dup {
			t.Errorf("%s and %s share id %s", n.Name, other, n.ID)
		}
		seen[n.ID] = n.Name
	}

	// Renaming map changes map's id and, through the inputs, everything downstream;
	// not the source's.
	renamed := buildPipeline(t, pipelineSpec{mapName: "map2"})
	if idOf(renamed, "src") != idOf(a, "src") {
		t.Errorf("renaming map changed src's id")
	}
	for _, pair := range [][2]string{{"map", "map2"}, {"sum", "sum"}, {"sink", "sink"}} {
		if idOf(a, pair[0]) == idOf(renamed, pair[1]) {
			t.Errorf("renaming map left %s's id unchanged", pair[1])
		}
	}

	// Changing sum's input edge changes sum's id and sink's, not map's.
	rebalanced := buildPipeline(t, pipelineSpec{mapName: "map", sumInput: Rebalance})
	if idOf(rebalanced, "map") != idOf(a, "map") {
		t.Errorf("changing sum's input changed map's id")
	}
	if idOf(rebalanced, "sum") == idOf(a, "sum") || idOf(rebalanced, "sink") == idOf(a, "sink") {
		t.Errorf("changing sum's input partitioner left sum's or sink's id unchanged")
	}

	// Shifting every node's position changes the auto ids.
	shifted := buildPipeline(t, pipelineSpec{mapName: "map", extraFirst: true})
	if idOf(shifted, "src") == idOf(a, "src") {
		t.Errorf("a node at another position kept its auto id")
	}

	// Parallelism is not part of an id: state finds its operator after rescaling.
	rescaled := buildPipeline(t, pipelineSpec{mapName: "map", keyedP: 4})
	if !slices.Equal(nodeIDs(rescaled), nodeIDs(a)) {
		t.Errorf("rescaling sum and sink changed ids:\n%v\n%v", nodeIDs(rescaled), nodeIDs(a))
	}
}

func TestOperatorIDFromUID(t *testing.T) {
	sum := sha256.Sum256([]byte("uid\x00sum-v1"))
	want := hex.EncodeToString(sum[:16])
	for _, s := range []pipelineSpec{
		{mapName: "map", sumUID: "sum-v1"},
		{mapName: "map2", sumUID: "sum-v1"},                     // another input name
		{mapName: "map", sumUID: "sum-v1", sumInput: Rebalance}, // another input edge
		{mapName: "map", sumUID: "sum-v1", extraFirst: true},    // another position
	} {
		g := buildPipeline(t, s)
		if got := idOf(g, "sum"); got != want {
			t.Errorf("%+v: sum's id = %s, want %s (from uid alone)", s, got, want)
		}
	}
	// A uid'd node renamed keeps its id.
	b := newGB().src("s", 1, uid("source-1")).sink("k", 1).edge("s", "k", "")
	c := newGB().src("renamed", 1, uid("source-1")).sink("k", 1).edge("renamed", "k", "")
	for _, x := range []*gb{b, c} {
		if err := x.g.Finalize(1, 128); err != nil {
			t.Fatal(err)
		}
	}
	if b.g.Nodes[0].ID != c.g.Nodes[0].ID {
		t.Errorf("renaming a node with a uid changed its id")
	}
}

func TestFingerprint(t *testing.T) {
	base := pipelineSpec{mapName: "map"}
	fp := buildPipeline(t, base).Fingerprint()
	if len(fp) != 32 {
		t.Fatalf("fingerprint %q is not 32 hex digits", fp)
	}
	if got := buildPipeline(t, base).Fingerprint(); got != fp {
		t.Errorf("equal graphs: fingerprints %s and %s", fp, got)
	}
	for _, s := range []pipelineSpec{
		{mapName: "map2"},
		{mapName: "map", sumInput: Rebalance},
		{mapName: "map", sumUID: "sum-v1"},
		{mapName: "map", extraFirst: true},
		{mapName: "map", keyedP: 4}, // same ids, other parallelism
	} {
		if got := buildPipeline(t, s).Fingerprint(); got == fp {
			t.Errorf("%+v: fingerprint equals the base graph's", s)
		}
	}
	// Job name, max parallelism and chaining are part of the plan too.
	g := buildPipeline(t, base)
	g.Name = "other"
	if g.Fingerprint() == fp {
		t.Errorf("renaming the job kept the fingerprint")
	}
	b := newGB().src("s", 1).sink("k", 1).edge("s", "k", "")
	c := newGB().src("s", 1, noChain).sink("k", 1).edge("s", "k", "")
	d := newGB().src("s", 1).sink("k", 1).edge("s", "k", "")
	for _, x := range []*gb{b, c} {
		if err := x.g.Finalize(1, 128); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.g.Finalize(1, 256); err != nil {
		t.Fatal(err)
	}
	if b.g.Fingerprint() == c.g.Fingerprint() {
		t.Errorf("disabling chaining kept the fingerprint")
	}
	if b.g.Fingerprint() == d.g.Fingerprint() {
		t.Errorf("another max parallelism kept the fingerprint")
	}
}

func TestPlanString(t *testing.T) {
	g := buildPipeline(t, pipelineSpec{mapName: "map"})
	want := "task 0 (parallelism 2): src -> map\ntask 1 (parallelism 2): sum -> sink\n"
	if got := g.Plan().String(); got != want {
		t.Errorf("Plan().String() = %q, want %q", got, want)
	}
	p := g.Plan()
	if p.Fingerprint != g.Fingerprint() || p.Job != "test" || p.MaxParallelism != 128 || !p.Bounded {
		t.Errorf("Plan header = %+v", p)
	}
	if got := p.Operators[2].Inputs; len(got) != 1 || got[0] != (PlanInput{Edge: 1, Operator: idOf(g, "map"), Partitioner: Hash}) {
		t.Errorf("sum's plan inputs = %+v", got)
	}
}

func TestFinalizeRejectsInvalidGraphs(t *testing.T) {
	for _, c := range []struct {
		name     string
		build    func() *gb
		defaultP int
		maxP     int
		want     string
	}{
		{
			name:  "forward with unequal parallelism",
			build: func() *gb { return newGB().src("s", 2).op("m", 3).edge("s", "m", Forward) },
			want:  "invalid job graph: forward partitioning from s (parallelism 2) to m (parallelism 3) needs equal parallelism; use Rebalance or Rescale, or set equal parallelism",
		},
		{
			name:  "parallelism above max",
			build: func() *gb { return newGB().src("s", 2).op("m", 129).edge("s", "m", "") },
			want:  "invalid job graph: m: parallelism 129 exceeds pipeline.max-parallelism 128; raise pipeline.max-parallelism or lower the parallelism",
		},
		{
			name:     "default parallelism above max",
			build:    func() *gb { return newGB().src("s", 0).sink("k", 1).edge("s", "k", "") },
			defaultP: 8,
			maxP:     4,
			want:     "invalid job graph: s: parallelism 8 exceeds pipeline.max-parallelism 4; raise pipeline.max-parallelism or lower the parallelism",
		},
		{
			name:  "negative parallelism",
			build: func() *gb { return newGB().src("s", -1).sink("k", 1).edge("s", "k", "") },
			want:  "invalid job graph: s: parallelism must be at least 1, got -1",
		},
		{
			name: "duplicate uid",
			build: func() *gb {
				return newGB().src("s", 1, uid("x")).op("m", 1, uid("x")).edge("s", "m", "")
			},
			want: `invalid job graph: uid "x" is used by both "s" and "m"; uids must be unique`,
		},
		{
			name:  "operator without input",
			build: func() *gb { return newGB().src("s", 1).op("m", 1) },
			want:  "invalid job graph: m has no input",
		},
		{
			name:  "sink without input",
			build: func() *gb { return newGB().src("s", 1).sink("k", 1) },
			want:  "invalid job graph: k has no input",
		},
		{
			name: "hash edge without key",
			build: func() *gb {
				b := newGB().src("s", 1).op("m", 1)
				b.g.Connect(0, 1, 0, Hash, nil)
				return b
			},
			want: "invalid job graph: hash edge s -> m has no key",
		},
		{
			name:  "a source with an input",
			build: func() *gb { return newGB().src("a", 1).src("b", 1).edge("a", "b", "") },
			want:  "invalid job graph: source b has inputs",
		},
		{
			name: "an edge going backwards",
			build: func() *gb {
				b := newGB().src("s", 1).op("m", 1).op("n", 1).edge("s", "m", "")
				b.g.Connect(2, 1, 0, Forward, nil)
				b.g.Connect(0, 2, 0, Forward, nil)
				return b
			},
			want: "invalid job graph: edge n -> m goes backwards",
		},
		{
			name:  "empty graph",
			build: newGB,
			want:  "invalid job graph: the job has no operators; add a source and a sink before Execute",
		},
		{
			name:     "default parallelism below 1",
			build:    func() *gb { return newGB().src("s", 1) },
			defaultP: -2,
			want:     "invalid job graph: parallelism.default must be at least 1, got -2",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.build()
			defaultP, maxP := c.defaultP, c.maxP
			if defaultP == 0 {
				defaultP = 1
			}
			if maxP == 0 {
				maxP = 128
			}
			err := b.g.Finalize(defaultP, maxP)
			if !errors.Is(err, ErrInvalidGraph) {
				t.Fatalf("Finalize = %v, want ErrInvalidGraph", err)
			}
			if err.Error() != c.want {
				t.Errorf("Finalize error\n got %q\nwant %q", err.Error(), c.want)
			}
			if b.g.Finalized() {
				t.Errorf("Finalized() = true after a failed Finalize")
			}
		})
	}
}

// TestFromPlan: a graph rebuilt from its plan has the same structure (nodes,
// edges by index, chains, ids) and so the same plan and fingerprint; plans
// whose parts do not fit are refused.
func TestFromPlan(t *testing.T) {
	g := buildPipeline(t, pipelineSpec{mapName: "map"})
	p := g.Plan()
	r, err := FromPlan(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Plan(), p) || !r.Finalized() || r.MaxChainParallelism() != g.MaxChainParallelism() {
		t.Fatalf("rebuilt plan %+v\nwant %+v", r.Plan(), p)
	}
	for i, e := range g.Edges {
		re := r.Edges[i]
		if re.Source != e.Source || re.Target != e.Target || re.Side != e.Side || re.Partitioner != e.Partitioner || re.Chained != e.Chained {
			t.Fatalf("edge %d: %+v, want %+v", i, re, e)
		}
	}
	for i, c := range g.Chains {
		if rc := r.Chains[i]; rc.Head != c.Head || !slices.Equal(rc.Nodes, c.Nodes) || rc.Parallelism != c.Parallelism || rc.Name != c.Name {
			t.Fatalf("chain %d: %+v, want %+v", i, rc, c)
		}
	}
	broken := p
	broken.Operators = slices.Clone(p.Operators)
	broken.Operators[1].Parallelism = 7
	if _, err := FromPlan(broken); !errors.Is(err, ErrInvalidGraph) || !strings.Contains(err.Error(), "fingerprint") {
		t.Fatalf("a plan edited after its fingerprint: %v", err)
	}
	broken = p
	broken.Operators = slices.Clone(p.Operators)
	broken.Operators[2].Inputs = []PlanInput{{Edge: 9, Operator: p.Operators[1].ID}}
	if _, err := FromPlan(broken); !errors.Is(err, ErrInvalidGraph) || !strings.Contains(err.Error(), "names edge 9") {
		t.Fatalf("an edge out of range: %v", err)
	}
}
