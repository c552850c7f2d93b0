package checkpoint

import (
	"fmt"
	"time"

	"github.com/spate-io/spate/state"
)

// TaskID names one subtask: a vertex (chain) of the ExecutionGraph and the
// subtask's index in it.
type TaskID struct {
	Vertex  string
	Subtask int
}

func (t TaskID) String() string { return fmt.Sprintf("%s/%d", t.Vertex, t.Subtask) }

// compareTasks orders tasks by vertex, then subtask.
func compareTasks(a, b TaskID) int {
	switch {
	case a.Vertex < b.Vertex:
		return -1
	case a.Vertex > b.Vertex:
		return 1
	}
	return a.Subtask - b.Subtask
}

// Kind says what a snapshot is for.
type Kind uint8

const (
	// Checkpoint is periodic, owned by the job, for recovery; retained and
	// discarded by the coordinator.
	Checkpoint Kind = iota
	// Savepoint is triggered by the user and owned by the user; the job goes on.
	Savepoint
	// SavepointStop is stop-with-savepoint: the last snapshot of a job that then
	// stops.
	SavepointStop
)

func (k Kind) String() string {
	switch k {
	case Checkpoint:
		return "checkpoint"
	case Savepoint:
		return "savepoint"
	case SavepointStop:
		return "stop-with-savepoint"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// StateHandle points at a piece of state a task wrote for a checkpoint. The
// coordinator never looks inside; it carries the handles from the
// acknowledgements to Persist and CompletedCheckpoint.
type StateHandle = state.Handle

// CompletedCheckpoint is a checkpoint or savepoint whose _metadata is written.
// Handles holds every task's acknowledged state, including tasks that
// acknowledged none (nil slice); it is shared and must not be modified.
type CompletedCheckpoint struct {
	ID        int64
	Kind      Kind
	Timestamp time.Time // trigger time, also carried by the barrier
	Completed time.Time
	Handles   map[TaskID][]StateHandle
}

// Command is a decision of the coordinator that the JobMaster shell carries
// out. The commands of one step are executed in the order returned.
type Command interface{ isCommand() }

// TriggerBarrier asks every source subtask in Sources to snapshot and inject
// the barrier of checkpoint ID. A source that cannot be reached must be
// reported with Decline, or the checkpoint will time out.
type TriggerBarrier struct {
	ID        int64
	Timestamp time.Time
	Kind      Kind
	Sources   []TaskID
}

// Persist asks the shell to write the checkpoint's _metadata (temporary name,
// sync, rename: it is published last) and to answer with Persisted, success or
// not. Acks holds every task's handles; it is shared and must not be modified.
type Persist struct {
	ID        int64
	Kind      Kind
	Timestamp time.Time // trigger time, for the metadata
	Acks      map[TaskID][]StateHandle
}

// NotifyComplete reports that checkpoint ID completed. When ForTasks says so,
// the shell tells every task (two-phase-commit sinks commit); for a savepoint
// it answers the user who triggered it.
type NotifyComplete struct {
	ID   int64
	Kind Kind
}

// ForTasks reports whether the tasks must be notified. Like Flink since 1.15,
// an intermediate savepoint commits no side effects: it is not a recovery
// point, so committing on it would break exactly-once after a failover to an
// older checkpoint. Checkpoints and stop-with-savepoint are notified.
func (n NotifyComplete) ForTasks() bool { return n.Kind != Savepoint }

// NotifyAborted reports that checkpoint ID will never complete. The shell tells
// every task (sinks abort what they pre-committed for it, tasks drop its
// alignment) and, for a savepoint, answers the user with Reason.
type NotifyAborted struct {
	ID     int64
	Reason string
}

// Discard asks the shell to delete checkpoint ID's directory. It is issued for
// a completed checkpoint that retention drops, and for a checkpoint or
// savepoint whose _metadata was written after the coordinator had aborted it.
// A completed savepoint is never discarded.
type Discard struct {
	ID int64
}

// FailJob says that more consecutive checkpoints failed than tolerated. The
// shell fails the job: it restarts per the restart strategy (and then calls
// TaskFailed) or ends as failed (and then calls Stop).
type FailJob struct {
	Reason string
}

func (TriggerBarrier) isCommand() {}
func (Persist) isCommand()        {}
func (NotifyComplete) isCommand() {}
func (NotifyAborted) isCommand()  {}
func (Discard) isCommand()        {}
func (FailJob) isCommand()        {}
