// Package network moves batches of records between tasks with credit-based flow
// control.
//
// The model, in one process:
//
//	producer subtask                         consumer subtask
//	RecordWriter[T] ──► Channel[T] (credits) ──► InputGate[T] ──► task
//	     ▲                    │ free buffers ◄──── Recycle ◄────────┘
//
// A Channel joins one producer subtask to one consumer subtask. It owns a fixed
// number of buffers, its credits (taskmanager.network.memory.buffers-per-channel).
// The producer takes a free buffer (Acquire), fills it with up to
// execution.batch-size records and Sends it; the consumer Polls it from its
// InputGate, processes it and Recycles it, which returns the credit. When all of a
// channel's buffers are queued or in use the producer blocks in Acquire: that is
// back-pressure, and it bounds the memory of every exchange at
// credits × batch size records per channel.
//
// Events (end of partition; later watermarks and barriers) travel in the same
// FIFO as data, so they stay ordered with the records, but take no credit.
//
// An InputGate merges the channels of one input of a consumer subtask. It hands
// out buffers round-robin over channels with data and wakes its consumer through a
// coalesced notification channel. Close fails every blocked producer and consumer
// at once, which is how a failing job stops without leaving goroutines behind.
//
// Remote channels (Thrift transports between TaskManagers) will implement the same
// producer and consumer sides; nothing above this package needs to change.
package network
