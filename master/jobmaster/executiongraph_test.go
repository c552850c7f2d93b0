package jobmaster

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// TestExecutionGraphLayout pins the channels of a small graph: a source at
// p=2, rebalanced to a map at p=3, hashed to a two-input join at p=2 whose
// second input is a broadcast source at p=1, then forward to a sink.
func TestExecutionGraphLayout(t *testing.T) {
	g := graph.New("layout")
	src := g.AddNode(&graph.Node{Name: "src", Kind: graph.KindSource, Parallelism: 2, OutType: "int"})
	m := g.AddNode(&graph.Node{Name: "map", Kind: graph.KindOperator, Parallelism: 3, InputSides: 1, OutType: "int"})
	other := g.AddNode(&graph.Node{Name: "other", Kind: graph.KindSource, Parallelism: 1, OutType: "int"})
	join := g.AddNode(&graph.Node{Name: "join", Kind: graph.KindOperator, Parallelism: 2, InputSides: 2, OutType: "int"})
	sink := g.AddNode(&graph.Node{Name: "sink", Kind: graph.KindSink, Parallelism: 2, InputSides: 1})
	g.Connect(src.Index, m.Index, 0, graph.Rebalance, nil)                       // edge 0
	g.Connect(m.Index, join.Index, 0, graph.Hash, func(int) uint64 { return 0 }) // edge 1
	g.Connect(other.Index, join.Index, 1, graph.Broadcast, nil)                  // edge 2
	g.Connect(join.Index, sink.Index, 0, graph.Forward, nil)                     // edge 3: chained
	if err := g.Finalize(1, 128); err != nil {
		t.Fatal(err)
	}
	eg := NewExecutionGraph(g)
	type vertex struct {
		Chain, Subtask int
		Inputs         []task.InputGateDescriptor
		Outputs        []task.OutputDescriptor
	}
	var got []vertex
	for _, v := range eg.Vertices() {
		got = append(got, vertex{v.Chain.Index, v.Subtask, v.Inputs, v.Outputs})
	}
	tgt := func(chain, sub, side, ch, n int) task.ChannelTarget {
		return task.ChannelTarget{Chain: chain, Subtask: sub, Side: side, Channel: ch, GateChannels: n}
	}
	gate := func(side, n int) task.InputGateDescriptor { return task.InputGateDescriptor{Side: side, Channels: n} }
	// Chains: 0 src, 1 map, 2 other, 3 join+sink.
	want := []vertex{
		{0, 0, nil, []task.OutputDescriptor{{Edge: 0, Targets: []task.ChannelTarget{tgt(1, 0, 0, 0, 2), tgt(1, 1, 0, 0, 2), tgt(1, 2, 0, 0, 2)}}}},
		{0, 1, nil, []task.OutputDescriptor{{Edge: 0, Targets: []task.ChannelTarget{tgt(1, 0, 0, 1, 2), tgt(1, 1, 0, 1, 2), tgt(1, 2, 0, 1, 2)}}}},
		{1, 0, []task.InputGateDescriptor{gate(0, 2)}, []task.OutputDescriptor{{Edge: 1, Targets: []task.ChannelTarget{tgt(3, 0, 0, 0, 3), tgt(3, 1, 0, 0, 3)}}}},
		{1, 1, []task.InputGateDescriptor{gate(0, 2)}, []task.OutputDescriptor{{Edge: 1, Targets: []task.ChannelTarget{tgt(3, 0, 0, 1, 3), tgt(3, 1, 0, 1, 3)}}}},
		{1, 2, []task.InputGateDescriptor{gate(0, 2)}, []task.OutputDescriptor{{Edge: 1, Targets: []task.ChannelTarget{tgt(3, 0, 0, 2, 3), tgt(3, 1, 0, 2, 3)}}}},
		{2, 0, nil, []task.OutputDescriptor{{Edge: 2, Targets: []task.ChannelTarget{tgt(3, 0, 1, 0, 1), tgt(3, 1, 1, 0, 1)}}}},
		{3, 0, []task.InputGateDescriptor{gate(0, 3), gate(1, 1)}, nil},
		{3, 1, []task.InputGateDescriptor{gate(0, 3), gate(1, 1)}, nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("layout\n got %+v\nwant %+v", got, want)
	}
}

// TestDescriptorIsPlainData: a descriptor survives a JSON round trip whole,
// as it must to cross a process boundary.
func TestDescriptorIsPlainData(t *testing.T) {
	d := task.TaskDeploymentDescriptor{
		ID:          task.ExecutionAttemptID{JobID: "j", Attempt: 2, Chain: 1, Subtask: 3},
		Fingerprint: "fp",
		Inputs:      []task.InputGateDescriptor{{Side: 0, Channels: 4}},
		Outputs:     []task.OutputDescriptor{{Edge: 5, Targets: []task.ChannelTarget{{Chain: 2, Subtask: 1, Side: 0, Channel: 3, GateChannels: 4}}}},
		Knobs:       task.TaskKnobs{BatchSize: 64, Credits: 2, BufferTimeout: 100e6, ExactlyOnce: true, Checkpointing: true, Lineage: "l"},
		Restore:     &task.TaskRestore{CheckpointID: 7, Dir: "/ck/j/chk-7", Operators: []task.OperatorRestore{{OperatorID: "op", Parallelism: 4, OldParallelism: 2}}},
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back task.TaskDeploymentDescriptor
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, d) {
		t.Fatalf("round trip: %+v, %v\nwant %+v", back, err, d)
	}
}
