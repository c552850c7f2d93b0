// Package jobmaster turns a finalized JobGraph into running tasks and reports the
// job's result.
//
// Deploy builds the ExecutionGraph (executiongraph.go, pure): every chain
// becomes Parallelism subtasks; every edge that leaves a chain becomes channels
// from its producer subtasks to its consumer subtasks (all-to-all for
// rebalance, hash, broadcast and global; pointwise for forward and rescale).
// Each consumer subtask gets one input gate per input side of its head,
// holding the channels of every edge into that side (a union is just several
// edges into one side). With slot sharing, subtask i of every chain runs in
// the job's i-th slot.
//
// # The seam to the TaskManagers
//
// The JobMaster never holds a task. For each subtask of an attempt it sends a
// task.TaskDeploymentDescriptor (plain data: attempt id, gates, the channels
// it feeds, knobs, the state handles to restore) through the
// TaskManagerGateway of the slot's TaskManager (execution.go), and drives the
// task by its task.ExecutionAttemptID: cancel, trigger and notify
// checkpoints, commit at job end, read metrics. The Job is the
// task.JobMasterGateway the TaskManagers report to: final task states and
// checkpoint acknowledgements, dropped when they name an attempt that is not
// the running one. worker.TaskExecutor is the in-process TaskManager of the
// embedded cluster; a Thrift client will be that of a TaskManager process.
//
// # Attempts and failover
//
// A Job runs one execution attempt at a time. The first task error fails the
// attempt: every task of it is cancelled (its gates closed, so none stays
// blocked), and the JobMaster waits until each task has reported its final
// state, which a TaskManager does once the task's asynchronous snapshot writes
// are done. The
// RestartStrategy (restart-strategy.*: none, fixed-delay, failure-rate,
// exponential-delay, Flink's semantics; restart.go) then says whether and
// after what delay a new attempt starts. It is built from the same graph and
// restored from the latest completed checkpoint (or from the savepoint the job
// started from, if no checkpoint has completed yet), so sources rewind and
// two-phase-commit sinks commit what the checkpoint covered and drop the rest.
// Failures that a restart cannot mend end the job at once (safety.go): a
// corrupt or unreadable checkpoint (state.ErrCorruptState: it is never
// skipped for an older one), state declared with another type
// (state.ErrIncompatibleState), a directory that refuses writes or is full,
// a lost lease, the reserved timestamp, a cancellation, or an error wrapping
// ErrSuppressRestarts.
//
// Around runs (safety.go, checkpoints.go): Deploy checks that the checkpoint
// and savepoint directories can be written and takes the job's lease on the
// checkpoint directory before anything runs; the job's lineage is the
// restored checkpoint's, or its own id; and at the end a finished job
// discards its lineage's checkpoints and marks it finished, a stopped one
// (stop-with-savepoint) discards its checkpoints, an interrupted one (its
// context cancelled) keeps the latest, and a cancelled or failed one follows
// the retention setting.
// Failover restarts every task, as Flink's "full" failover strategy.
//
// # Checkpoints
//
// With checkpointing on, checkpoints.go runs the shell of the
// master/checkpoint coordinator: one goroutine owns it and receives ticks, the
// tasks' acknowledgements (stale attempts' are dropped), the results of
// _metadata writes and savepoint requests as functions on a channel. Once any
// task has finished, no new checkpoint can complete (the finished task cannot
// acknowledge), so pending ones are abandoned without counting as failures and
// none is triggered any more; a failure after that restores the last checkpoint
// taken before. A job that finishes lets its sinks commit their final output
// (task.JobEndCommitter), then deletes or keeps its checkpoints per
// execution.checkpointing.externalized-checkpoint-retention.
package jobmaster
