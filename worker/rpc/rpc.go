// Package rpc carries the gateways between a JobMaster and the TaskExecutors
// of other processes over worker/transport's Thrift services: the JobMaster
// side's TaskManagerGateway (TaskExecutorClient) and its server
// (TaskExecutorServer, over a worker.TaskExecutor), and the TaskExecutor
// side's task.JobMasterGateway (JobMasterClient) and its server
// (JobMasterServer, which dispatches to the jobs of one JobManager by id).
//
// Values cross as the IDL's structs, the TaskDeploymentDescriptor, metrics
// and state handles as JSON. Errors cross as their text and a class, so that
// the JobMaster's restart logic sees across the process boundary what it
// would see in one process (a corrupt checkpoint, a full disk, a failure the
// job marked unmendable). Calls that report (state updates, acknowledgements)
// are retried by nobody: a lost JobManager connection fails the TaskManager's
// tasks, and the JobMaster fails over.
//
// # What this package must never do
//
// It decides nothing: no restarts, no checkpoints, no scheduling. It only
// translates calls.
package rpc

import (
	"errors"
	"io/fs"
	"syscall"

	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport/gen/wire"
)

// ClassSuppressRestarts is the class of a failure no restart can mend.
const ClassSuppressRestarts = "suppress-restarts"

// errorClasses are the failures the JobMaster treats apart, by the class
// name that crosses the wire; the first that matches names an error.
var errorClasses = []struct {
	name     string
	sentinel error
}{
	{ClassSuppressRestarts, jobmaster.ErrSuppressRestarts},
	{"corrupt-state", state.ErrCorruptState},
	{"incompatible-state", state.ErrIncompatibleState},
	{"lease-lost", checkpoint.ErrLeaseLost},
	{"reserved-timestamp", task.ErrReservedTimestamp},
	{"permission", fs.ErrPermission},
	{"no-space", syscall.ENOSPC},
	{"read-only", syscall.EROFS},
	{"quota", syscall.EDQUOT},
	{"cancelled", jobmaster.ErrJobCancelled},
}

// classOf is the class of err ("" for an ordinary failure).
func classOf(err error) string {
	for _, c := range errorClasses {
		if errors.Is(err, c.sentinel) {
			return c.name
		}
	}
	return ""
}

// RemoteError is an error that crossed a process boundary: its text, and
// the class that errors.Is matches against the sentinel of.
type RemoteError struct {
	Message string
	Class   string
}

func (e *RemoteError) Error() string { return e.Message }

// Is matches the sentinel of the error's class.
func (e *RemoteError) Is(target error) bool {
	for _, c := range errorClasses {
		if c.name == e.Class && c.sentinel == target {
			return true
		}
	}
	return false
}

// remoteError rebuilds an error from the wire; nil for an empty message.
func remoteError(msg, class string) error {
	if msg == "" && class == "" {
		return nil
	}
	return &RemoteError{Message: msg, Class: class}
}

func toWireID(id task.ExecutionAttemptID) *wire.ExecutionAttemptID {
	return &wire.ExecutionAttemptID{JobId: id.JobID, Attempt: int32(id.Attempt), Vertex: int32(id.Chain), Subtask: int32(id.Subtask)}
}

func fromWireID(id *wire.ExecutionAttemptID) task.ExecutionAttemptID {
	if id == nil {
		return task.ExecutionAttemptID{}
	}
	return task.ExecutionAttemptID{JobID: id.JobId, Attempt: int(id.Attempt), Chain: int(id.Vertex), Subtask: int(id.Subtask)}
}

func toWireState(s task.ExecutionState) wire.ExecutionState {
	switch s {
	case task.Finished:
		return wire.ExecutionState_FINISHED
	case task.Failed:
		return wire.ExecutionState_FAILED
	case task.Canceled:
		return wire.ExecutionState_CANCELED
	}
	return wire.ExecutionState_RUNNING
}

func fromWireState(s wire.ExecutionState) task.ExecutionState {
	switch s {
	case wire.ExecutionState_FINISHED:
		return task.Finished
	case wire.ExecutionState_FAILED:
		return task.Failed
	case wire.ExecutionState_CANCELED:
		return task.Canceled
	}
	return task.Running
}
