package jobmanager

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// wordcount is the plan `spate info` prints for examples/wordcount at
// parallelism 2: Source: text -> FlatMap: tokenize ═hash═▶ Sum: count ->
// Map: format -> Sink.
func wordcount(t *testing.T) *graph.JobGraph {
	t.Helper()
	b, err := os.ReadFile("testdata/wordcount-plan.json")
	if err != nil {
		t.Fatal(err)
	}
	var p graph.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	g, err := graph.FromPlan(p)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestFoldSubtasks pins what a snapshot derives from the TaskManagers'
// reports: records in from the chain's head, out from its tail; a
// producer's back-pressure is the occupancy of the gates its output fills,
// over every consumer subtask; idle is waiting time over the attempt's.
func TestFoldSubtasks(t *testing.T) {
	g := wordcount(t)
	if len(g.Chains) != 2 {
		t.Fatalf("%d chains, want 2", len(g.Chains))
	}
	src, sum := g.Chains[0], g.Chains[1]
	counts := func(c *graph.Chain, in, out int64) map[int]task.OperatorCounts {
		m := map[int]task.OperatorCounts{}
		for i, ni := range c.Nodes {
			m[ni] = task.OperatorCounts{RecordsIn: in + int64(i), RecordsOut: out + int64(i)}
		}
		return m
	}
	subs := []jobmaster.SubtaskMetrics{
		{Chain: src, Subtask: 0, TaskManager: 0, Attempt: 1, TaskMetrics: task.TaskMetrics{Operators: counts(src, 0, 100)}},
		{Chain: src, Subtask: 1, TaskManager: 1, Attempt: 1, TaskMetrics: task.TaskMetrics{Operators: counts(src, 0, 200)}},
		{Chain: sum, Subtask: 0, TaskManager: 0, Attempt: 1, TaskMetrics: task.TaskMetrics{Operators: counts(sum, 1000, 50), IdleNanos: int64(250 * time.Millisecond),
			Gates: []task.GateMetrics{{Side: 0, Channels: 2, Queued: 3, MaxQueued: 4}}, InputWatermark: 42}},
		{Chain: sum, Subtask: 1, TaskManager: 1, Attempt: 1, TaskMetrics: task.TaskMetrics{Operators: counts(sum, 2000, 60), IdleNanos: int64(3 * time.Second),
			Gates: []task.GateMetrics{{Side: 0, Channels: 2, Queued: 1, MaxQueued: 4}}}},
	}
	got := foldSubtasks(g, subs, func(attempt int) time.Duration {
		if attempt != 1 {
			t.Fatalf("elapsed asked for attempt %d", attempt)
		}
		return time.Second
	}, func(tm int) string { return fmt.Sprintf("tm-%d", tm) })
	type row struct {
		vertex, tm         string
		in, out            int64
		backPressure, idle float64
	}
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.vertexID, s.tmName, s.recordsIn, s.recordsOut, s.backPressure, s.idle})
	}
	last := func(c *graph.Chain) int64 { return int64(len(c.Nodes) - 1) }
	want := []row{
		{g.Nodes[src.Head].ID, "tm-0", 0, 100 + last(src), 0.5, 0},
		{g.Nodes[src.Head].ID, "tm-1", 0, 200 + last(src), 0.5, 0},
		{g.Nodes[sum.Head].ID, "tm-0", 1000, 50 + last(sum), 0, 0.25},
		{g.Nodes[sum.Head].ID, "tm-1", 2000, 60 + last(sum), 0, 1}, // capped at 1
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Fatalf("folded\n%v\nwant\n%v", rows, want)
	}

	m := vertexMetrics(jobSnap{subtasks: got}, g.Nodes[sum.Head].ID, 2)
	if m.ReadRecords != 3000 || m.WriteRecords != 110+2*last(sum) || m.AccumulatedIdleTime != 3250 || !m.ReadRecordsComplete {
		t.Fatalf("vertex metrics %+v", m)
	}
	if m := vertexMetrics(jobSnap{subtasks: got[:1]}, g.Nodes[src.Head].ID, 2); m.ReadRecordsComplete || m.WriteRecords != 100+last(src) {
		t.Fatalf("one of two subtasks reported: %+v, want incomplete", m)
	}
}

// TestRememberEndedSubtask: a subtask its TaskManager forgot (it ended)
// keeps its last counters; a newer attempt drops the older one's.
func TestRememberEndedSubtask(t *testing.T) {
	c := &graph.Chain{Index: 1}
	var clock attemptClock
	live := jobmaster.SubtaskMetrics{Chain: c, Subtask: 0, Attempt: 0, TaskMetrics: task.TaskMetrics{Operators: map[int]task.OperatorCounts{3: {RecordsIn: 7}}}}
	if m := clock.remember(live); m.Operators[3].RecordsIn != 7 {
		t.Fatalf("live: %+v", m)
	}
	gone := live
	gone.TaskMetrics = task.TaskMetrics{}
	if m := clock.remember(gone); m.Operators[3].RecordsIn != 7 {
		t.Fatalf("ended: %+v, want the last counters", m)
	}
	next := jobmaster.SubtaskMetrics{Chain: c, Subtask: 1, Attempt: 1, TaskMetrics: task.TaskMetrics{Operators: map[int]task.OperatorCounts{}}}
	clock.remember(next)
	if m := clock.remember(gone); m.Operators != nil {
		t.Fatalf("attempt 0 after attempt 1 reported: %+v, want nothing", m)
	}
}
