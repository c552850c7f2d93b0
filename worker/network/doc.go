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
// A RecordWriter writes through ChannelWriters: a local *Channel, or a
// RemoteWriter to a consumer in another process (remote.go). A remote channel
// carries each buffer as one message of Avro-encoded records (sdk/codec),
// under credit-based flow control: the consumer's RemoteReceiver announces a
// credit for each free buffer of its local Channel, the RemoteWriter sends a
// data buffer only against a credit, and every recycled buffer announces one
// more. Events take no credit. A receiver therefore always has room for what
// arrives, and one slow channel of a multiplexed connection never blocks the
// others. The connection's reader only copies a buffer's bytes into the
// channel's free buffer; the consumer's Poll decodes them, on the consumer's
// goroutine, so the channels of one connection decode in parallel (as Flink's
// network threads move bytes and its task threads deserialize). A buffer
// that does not decode breaks its connection (Link.Fail), as one that arrives
// without credit does. The link under a remote channel (worker/transport) moves bytes;
// nothing above this package needs to know which kind a channel is.
package network
