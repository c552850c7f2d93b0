// Package checkpoint is the JobMaster's checkpoint coordinator: it decides when
// checkpoints and savepoints are triggered, collects the tasks'
// acknowledgements, and decides when one is complete, aborted, retained or
// discarded, with the semantics of Flink's CheckpointCoordinator. README.md
// draws the protocol.
//
// # Model
//
// Coordinator is a pure state machine, in the manner of etcd's raft: each
// method is one step that takes the current time as an argument and returns
// Commands for the shell (the JobMaster) to execute, in order. It starts no
// goroutine, reads no clock, does no I/O and never blocks, so it is tested by
// replaying scripts (testdata/*.txt) with exact outputs. The shell owns
// everything else: the RPCs to the tasks, the files, the timers, the lock.
//
// A checkpoint (or savepoint) goes through these states:
//
//	triggered ──every task acked──▶ persisting ──Persisted(ok)──▶ completed
//	    │                               │
//	    └──── decline, timeout, ────────┴──▶ aborted
//	          subsumed, failover, Persisted(err)
//
// Triggered and persisting checkpoints are "pending". Ids come from one counter
// and strictly increase, whatever the kind.
//
//   - Tick triggers a periodic checkpoint when Interval has passed since the
//     last periodic trigger (or the failover, or creation), MinPause since the
//     last completion of any kind, fewer than MaxConcurrent checkpoints and
//     savepoints are pending, and periodic checkpoints are on (no Stop, no
//     stop-with-savepoint pending or done, no FailJob awaiting its failover).
//     Tick also aborts what has been pending for Timeout, in id order, before
//     triggering. Timeouts are only noticed by Tick: an ack or Persisted that
//     arrives before the first Tick past the deadline still counts.
//   - TriggerSavepoint starts a savepoint at once, regardless of interval, min
//     pause and concurrency, as Flink does; it still counts as pending for the
//     next periodic trigger. SavepointStop suspends periodic checkpoints while
//     it is pending; if it is aborted they resume, if it completes they are
//     over and no further savepoint is accepted (ErrStopping).
//   - Ack records one task's state handles. The last one turns the checkpoint
//     into persisting and returns Persist. Acks and declines that are unknown,
//     duplicated, late, or from a task not in the job change nothing and return
//     nothing.
//   - Persisted(ok) completes it. Completion of a checkpoint or a
//     stop-with-savepoint aborts the older pending checkpoints ("subsumed", as
//     Flink's CHECKPOINT_SUBSUMED: its notification commits their side effects
//     too) and notifies the tasks. An intermediate savepoint subsumes nothing,
//     and its NotifyComplete is for the user only (ForTasks is false): like
//     Flink since 1.15 it is not a recovery point and commits no side effects.
//     Savepoints are never subsumed.
//   - Retention: completed checkpoints are kept up to Retained (Completed,
//     LatestCompleted: the restore point); the oldest beyond that is Discarded.
//     Savepoints are not retained, only reported (LatestSavepoint), and a
//     completed savepoint is never Discarded: it belongs to the user.
//
// # Failures
//
// A checkpoint that is declined by a task, expires, or whose _metadata cannot
// be written (Persisted with an error) is a failure. Failures of periodic
// checkpoints count; the count is reset by any completion (savepoints too).
// When it exceeds TolerableFailures, FailJob is returned once, right after the
// NotifyAborted of the failure that crossed the line, and the count restarts
// from zero. As in Flink's CheckpointFailureManager, the following do not
// count: savepoint failures (reported through NotifyAborted only), subsumed
// checkpoints, aborts by failover (TaskFailed), and failures of a checkpoint
// older than the last completed one. Between FailJob and the failover
// (TaskFailed) nothing is counted, no periodic checkpoint is triggered and
// savepoints are refused (ErrJobFailing).
//
// TaskFailed aborts everything pending without counting it and restarts the
// interval. A checkpoint aborted while persisting is an orphan: if its
// Persisted later reports success, Discard is returned, because its _metadata
// exists but the checkpoint must not.
//
// # Invariants
//
// Checked after every step of every script and random walk (script_test.go):
//
//   - trigger ids strictly increase;
//   - Persist carries an ack from every task, once per id;
//   - every id ends at most once, completed (after its Persist) or aborted;
//   - a periodic checkpoint is triggered only with at most MaxConcurrent
//     pending (itself included) and MinPause after the last completion;
//   - the consecutive-failure count never exceeds TolerableFailures;
//   - Completed holds at most Retained checkpoints, ascending, none discarded,
//     never a savepoint; a completed savepoint is never Discarded;
//   - Discard names only a completed checkpoint dropped by retention or an
//     orphan whose _metadata was written.
//
// # What the shell must do
//
//   - Call every method from one goroutine (the JobMaster's main loop); the
//     coordinator has no lock. Call Tick often enough for its resolution,
//     e.g. every 100 ms or at the earliest deadline.
//   - TriggerBarrier: ask each source task to snapshot and inject the barrier.
//     A source that cannot take it (unreachable, full mailbox) is reported with
//     Decline, or the checkpoint will expire.
//   - Feed the tasks' acknowledgements and declines to Ack and Decline.
//   - Persist: write <state.checkpoints.dir>/<job>/chk-<id>/_metadata (or the
//     savepoint directory) with a checksum, last, published by rename; then
//     call Persisted with the result, always, exactly once. Persist.Acks and
//     CompletedCheckpoint.Handles are shared: do not modify them.
//   - NotifyComplete: if ForTasks, tell every task (sinks commit); for a
//     savepoint, answer the user who triggered it. NotifyAborted: tell every
//     task (they drop the alignment, sinks abort); for a savepoint, answer the
//     user with the reason.
//   - Discard: delete chk-<id>/ (asynchronously; it is not reported back).
//     State written for checkpoints that were aborted has no _metadata, so it
//     does not exist; the store sweeps such leftovers on start.
//   - FailJob: fail the job. On a restart call TaskFailed, then restore
//     LatestCompleted; if the job ends, call Stop. Also call TaskFailed on any
//     other failover, and Stop when the job finishes or is cancelled.
//   - After a JobManager failover, create the coordinator with a nextID above
//     every id used before.
//
// # Storage
//
// Storage (storage.go) lays a job's checkpoints out as
// <state.checkpoints.dir>/<job-id>/chk-<n>/ and savepoints as
// <dir>/savepoint-<job-id prefix>-<random>/, through hdfs.FileSystem. Each
// operator subtask writes one file per piece of state (state.Part: an Avro
// container file, see sdk/codec), named <operator-id>-<subtask>-<i>, synced,
// with its size and CRC-32C returned in its handle. _metadata is JSON behind a
// header line carrying its own CRC-32C; it lists every handle with paths
// relative to the directory, so a savepoint can be moved. It is written to a
// hidden temporary name, synced and renamed last, without replacing an
// existing _metadata (hdfs.RenameNoReplace, as Hadoop's rename): what was
// published is never changed by a late publisher. A directory without it is
// not a checkpoint, and CleanupIncomplete removes such directories on failover
// and when checkpoints are retained. ReadMetadata and StateReader check every
// byte against the checksums and name the file in their errors; a _metadata
// whose bytes are sound but whose content could not come from Spate (a state
// file outside its directory, say) is corrupt too.
//
// # Around runs: lineages, finished markers, leases
//
// A job is run many times: killed, resumed, resumed again, rerun by cron.
// Exactly-once must hold across runs too, so the directory under
// state.checkpoints.dir also says which runs belong together:
//
//	<dir>/<job-id>/chk-<n>/_metadata   lineage: the job id of the first run of the chain
//	<dir>/<job-id>/_finished           this run finished lineage L (FinishedMarker)
//	<dir>/_leases/<job name>.lease     the run holding the job's checkpoints now (Lease)
//
// A run that starts fresh begins a lineage named by its job id; a run that
// restores a checkpoint or savepoint continues that one's lineage, and its
// checkpoints and savepoints carry it (Metadata.Lineage). When a run finishes
// because its input ended, its lineage is finished: the JobMaster deletes the
// lineage's checkpoints under the directory and writes _finished, and
// FindLatest ("--resume latest") never resumes a checkpoint or savepoint of
// that lineage completed before the finish, since its output is final.
// FindLatest logs nothing itself: it returns what it chose and what newer
// directories it passed over and why (Found.Skipped), or a
// NothingToResumeError that says why there is nothing.
//
// A Lease keeps a second run of the same job off the same checkpoints: two
// runs resuming one checkpoint would each delete the other's uncommitted
// output. It is a JSON file created exclusively (hdfs.CreateExclusive),
// renewed by its holder every third of state.checkpoints.lease-timeout,
// removed at the end. An expired lease, or one whose holder's process is gone
// from this host (kill -9), is stale and taken over.
package checkpoint
