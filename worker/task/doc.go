// Package task runs one parallel instance of a chain: the operators of a
// graph.Chain, joined by direct typed calls, driven by one goroutine.
//
// # Records
//
// Records travel as batches ([]T). Each operator receives a batch through
// Output[T].Push, processes it with plain calls to the user's function and pushes
// its own batch to the next operator, or to a RecordWriter when the next operator
// runs in another task. There is no channel, no reflection and no interface
// conversion per record inside a chain; the only dynamic call is one per batch.
// Push does not hand over ownership: a callee must neither keep nor modify the
// batch after it returns, so a caller reuses its buffers.
//
// # The task loop
//
// A source task calls Source.PollNext until it reports EndOfInput; any other task
// polls its input gates and pushes each buffer into the head operator. When no
// input is available the task flushes its writers (so no record waits on an idle
// task) and sleeps until a gate wakes it. Outputs are also flushed when
// execution.buffer-timeout passes.
//
// When every input has ended, the task calls Finish on each operator in
// topological order (so what one operator emits in Finish reaches the next before
// its own Finish), then Finish on each writer, which flushes and sends
// EndOfPartition downstream, then Close on each operator.
//
// # Failures
//
// A user function that panics or returns an error fails its operator: the error
// becomes an *OperatorError naming the operator, its id and subtask. The task
// returns it; the JobMaster then closes every gate of the job, which unblocks all
// producers, and cancels the job context, which unblocks all consumers, so every
// task goroutine returns.
//
// # Checkpoints
//
// Source tasks take a checkpoint's trigger from their mailbox between polls;
// other tasks align its barrier over every input channel (BarrierHandler;
// exactly-once blocks the channels that delivered it, at-least-once does
// not). Then checkpoint (checkpointing.go) asks each Snapshotter operator of
// the chain, in order, for copies of its state, sends the barrier on every
// writer and goes on processing; a goroutine writes the copies through the
// CheckpointStorage and acknowledges with their handles. A snapshot error or
// panic declines the checkpoint without failing the task. Operators restore in
// their factories from OperatorContext.Restored. CheckpointListeners hear of
// completed checkpoints through the mailbox (two-phase-commit sinks commit);
// JobEndCommitters commit their final output once the whole job has finished.
// A stop-with-savepoint barrier ends every task after it, without finishing the
// operators (no final firing), unless it drains: then the sources finish their
// input first, as at the end of a bounded job.
package task
