package worker

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

// noJobMaster takes reports and keeps nothing.
type noJobMaster struct{}

func (noJobMaster) UpdateTaskExecutionState(task.ExecutionAttemptID, task.ExecutionState, error) {}
func (noJobMaster) AcknowledgeCheckpoint(task.ExecutionAttemptID, int64, []state.Handle)         {}
func (noJobMaster) DeclineCheckpoint(task.ExecutionAttemptID, int64, error)                      {}

func oneNodeGraph(t *testing.T, name string) *graph.JobGraph {
	t.Helper()
	g := graph.New(name)
	g.AddNode(&graph.Node{Name: "src", Kind: graph.KindSource, Parallelism: 1, OutType: "int"})
	if err := g.Finalize(1, 128); err != nil {
		t.Fatal(err)
	}
	return g
}

// TestSubmitTaskRefusals: a descriptor the TaskManager cannot run is refused
// before anything is built, saying why.
func TestSubmitTaskRefusals(t *testing.T) {
	x := NewTaskExecutor("tm-0", NewShuffle())
	g := oneNodeGraph(t, "job")
	if err := x.RegisterJob(task.JobRegistration{JobID: "j", Graph: g, JobMaster: noJobMaster{}, Log: zerolog.New(io.Discard)}); err != nil {
		t.Fatal(err)
	}
	ok := task.TaskDeploymentDescriptor{ID: task.ExecutionAttemptID{JobID: "j"}, Fingerprint: g.Fingerprint(), Knobs: task.TaskKnobs{BatchSize: 8, Credits: 2}}
	for _, tc := range []struct {
		name string
		edit func(*task.TaskDeploymentDescriptor)
		is   error
		want string
	}{
		{"unknown job", func(d *task.TaskDeploymentDescriptor) { d.ID.JobID = "nope" }, ErrUnknownJob,
			"submit nope/0/0.0: job not registered with this TaskManager"},
		{"another graph", func(d *task.TaskDeploymentDescriptor) { d.Fingerprint = oneNodeGraph(t, "other").Fingerprint() }, ErrGraphMismatch,
			"job binary or arguments differ"},
		{"no such chain", func(d *task.TaskDeploymentDescriptor) { d.ID.Chain = 3 }, nil, "submit j/0/3.0: the graph has no chain 3"},
		{"no such input", func(d *task.TaskDeploymentDescriptor) { d.Inputs = []task.InputGateDescriptor{{Side: 0, Channels: 1}} }, nil,
			`submit j/0/0.0: "src" has no input side 0 with 1 channels`},
		{"no such edge", func(d *task.TaskDeploymentDescriptor) { d.Outputs = []task.OutputDescriptor{{Edge: 9}} }, nil,
			"submit j/0/0.0: the graph has no edge 9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.edit(&d)
			err := x.SubmitTask(d)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("SubmitTask = %v; want %q", err, tc.want)
			}
		})
	}
	// Calls about tasks it does not run are ignored.
	x.CancelTask(ok.ID, errors.New("x"))
	x.NotifyCheckpointComplete(ok.ID, 1)
	if x.TriggerCheckpoint(ok.ID, 1, 0, false, false, false) {
		t.Fatal("triggered a checkpoint of no task")
	}
	if m := x.TaskMetrics(ok.ID); m.Operators != nil {
		t.Fatalf("metrics of no task: %+v", m)
	}
}

// TestCancelUnsubmittedTaskClosesItsGates: a consumer whose submission failed
// never runs, but its producer may already block on the gate it created;
// cancelling the consumer must close that gate (the job hung on a failed
// restore before).
func TestCancelUnsubmittedTaskClosesItsGates(t *testing.T) {
	s := NewShuffle()
	x := NewTaskExecutor("tm-0", s)
	consumer := task.ExecutionAttemptID{JobID: "j", Attempt: 1, Chain: 1}
	g := s.gate(s.inputs(consumer), 0, task.TypeOf[int](), 1, task.TaskKnobs{Credits: 1, BatchSize: 1})
	cause := errors.New("the consumer's restore failed")
	x.CancelTask(consumer, cause)
	if !gateClosed(g) {
		t.Fatal("the gate of a never-submitted task is still open")
	}
	// A task nobody created gates for: nothing to do, and nothing created.
	x.CancelTask(task.ExecutionAttemptID{JobID: "j", Attempt: 1, Chain: 2}, cause)
	if s.existing(task.ExecutionAttemptID{JobID: "j", Attempt: 1, Chain: 2}) != nil {
		t.Fatal("CancelTask created inputs")
	}
}

// gateClosed reports whether a producer on g would fail rather than block.
func gateClosed(g task.Gate) bool {
	_, err := g.(*network.InputGate[int]).Channel(0).AcquireBuffer()
	return err != nil
}
