// Package worker is the TaskManager: it runs the subtasks a JobMaster deploys
// to it and reports back.
//
// # Model
//
// A JobMaster never holds a task. It sends a TaskDeploymentDescriptor
// (package worker/task: plain data) through its TaskManagerGateway, and the
// TaskExecutor binds it to local objects: the job's graph (registered with
// RegisterJob; in a TaskManager process, rebuilt from the job's own binary),
// input gates and output channels from the Shuffle, the checkpoint storage,
// the restore's state files. The task then runs on its own goroutine; its
// final state (FINISHED, FAILED, CANCELED) and its checkpoint
// acknowledgements go to the job's task.JobMasterGateway, each naming the
// execution attempt, so that the JobMaster drops what a dead attempt says.
//
//	JobMaster ──SubmitTask(tdd)──▶ TaskExecutor ──bind──▶ task.Task ──Run──▶ ...
//	          ◀─UpdateTaskExecutionState, Acknowledge/DeclineCheckpoint───┘
//
// Within one process tasks exchange typed buffers through the Shuffle's input
// gates, found by (job, attempt, chain, subtask, side) whichever side is
// deployed first. The embedded cluster runs its TaskManagers as TaskExecutors
// in the job's process, sharing one Shuffle.
//
// # Invariants
//
//   - A task's final state is reported once, after its asynchronous snapshot
//     writes are done: the JobMaster may clean up checkpoint storage then.
//   - CancelTask closes the task's input gates even when it already ended, so
//     no producer of the attempt stays blocked.
//   - A descriptor whose graph fingerprint is not the registered graph's is
//     refused (ErrGraphMismatch: "job binary or arguments differ").
//
// # What this package must never do
//
// It never decides about restarts or checkpoints: the JobMaster does. It
// never runs user code outside a task's goroutine.
package worker
