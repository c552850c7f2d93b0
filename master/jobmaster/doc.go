// Package jobmaster turns a finalized JobGraph into running tasks and reports the
// job's result.
//
// Deploy builds the ExecutionGraph: every chain becomes Parallelism subtasks; every
// edge that leaves a chain becomes channels from its producer subtasks to its
// consumer subtasks (all-to-all for rebalance, hash, broadcast and global;
// pointwise for forward and rescale). Each consumer subtask gets one input gate
// per input side of its head, holding the channels of every edge into that side
// (a union is just several edges into one side). With slot sharing, subtask i of
// every chain runs in the job's i-th slot.
//
// Failure handling today is "fail the job": the first task error is the job's
// error; every gate is then closed and the job context cancelled so that all
// other tasks return, and Wait returns only when every task goroutine has ended.
// Restart strategies arrive with checkpoints.
package jobmaster
