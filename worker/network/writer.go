package network

import (
	"fmt"
	"time"

	"github.com/spate-io/spate/state"
)

// Partitioning says how a RecordWriter picks the channel of a record.
type Partitioning int

const (
	// PartitionForward: every record to the single channel (pointwise).
	PartitionForward Partitioning = iota
	// PartitionRoundRobin: record by record over all channels (rebalance, rescale).
	PartitionRoundRobin
	// PartitionKeyGroup: by the key group of the record's key.
	PartitionKeyGroup
	// PartitionBroadcast: every record to every channel.
	PartitionBroadcast
	// PartitionFirst: every record to channel 0 (global).
	PartitionFirst
)

// ChannelWriter is the producer's end of one channel: what a RecordWriter
// writes to. The local implementation is *Channel (typed buffers handed over in
// memory); a remote one encodes buffers for another process and blocks in
// AcquireBuffer until the receiver has announced a credit (a free buffer) for
// the channel. Methods are called from the producer task's goroutine only.
//
// The buffer from AcquireBuffer belongs to the caller until it is handed to
// SendBuffer, which takes it; SendEvent queues an event behind every buffer
// sent before it. After a failure or a close of the receiving side, every
// method returns the error that closed it.
type ChannelWriter[T any] interface {
	AcquireBuffer() (Buffer[T], error)
	SendBuffer(b Buffer[T]) error
	SendEvent(e Event) error
}

var _ ChannelWriter[int] = (*Channel[int])(nil)

// RecordWriter is the producer side of one exchange for one producer subtask: it
// routes records into per-channel buffers and sends a buffer when it is full or
// when Flush is called. Owned by the producer task's goroutine.
type RecordWriter[T any] struct {
	channels       []ChannelWriter[T]
	bufs           []Buffer[T] // Records == nil: no buffer acquired for that channel
	mode           Partitioning
	keyHash        func(T) uint64
	maxParallelism int
	// keyGroupChannel maps each key group to its channel: the two divisions
	// of state.KeyGroupForHash and SubtaskForKeyGroup, per record, become a
	// lookup (and a mask, for a power-of-two number of key groups).
	keyGroupChannel []int32
	next            int // round-robin position
	batchSize       int
	timeout         time.Duration
	lastFlush       time.Time
	pending         int // records buffered and not yet sent
	records         int64
	lastWatermark   int64
}

// NewRecordWriter returns a writer over channels (in consumer subtask order).
// keyHash is required for PartitionKeyGroup; channel i then serves the key groups
// of consumer subtask i at parallelism len(channels).
func NewRecordWriter[T any](channels []ChannelWriter[T], mode Partitioning, keyHash func(T) uint64, maxParallelism, batchSize int, timeout time.Duration, startAt int) (*RecordWriter[T], error) {
	if len(channels) == 0 {
		return nil, fmt.Errorf("record writer needs at least one channel")
	}
	if batchSize < 1 {
		return nil, fmt.Errorf("record writer needs a batch size of at least 1, got %d", batchSize)
	}
	if mode == PartitionKeyGroup && keyHash == nil {
		return nil, fmt.Errorf("key-group partitioning needs a key hash")
	}
	if mode == PartitionKeyGroup && maxParallelism < len(channels) {
		return nil, fmt.Errorf("key-group partitioning needs at least as many key groups (%d) as channels (%d)", maxParallelism, len(channels))
	}
	if mode == PartitionForward && len(channels) != 1 {
		return nil, fmt.Errorf("forward partitioning needs exactly one channel, got %d", len(channels))
	}
	w := &RecordWriter[T]{channels: channels, bufs: make([]Buffer[T], len(channels)), mode: mode, keyHash: keyHash,
		maxParallelism: maxParallelism, batchSize: batchSize, timeout: timeout, lastFlush: time.Now(),
		next: startAt % len(channels), lastWatermark: NoTimestamp}
	if mode == PartitionKeyGroup {
		w.keyGroupChannel = make([]int32, maxParallelism)
		for kg := range w.keyGroupChannel {
			w.keyGroupChannel[kg] = int32(state.SubtaskForKeyGroup(kg, maxParallelism, len(channels)))
		}
	}
	return w, nil
}

// Push routes every record of batch; ts holds their timestamps, or is nil. It
// retains neither slice.
func (w *RecordWriter[T]) Push(batch []T, ts []int64) error {
	w.records += int64(len(batch))
	switch w.mode {
	case PartitionForward, PartitionFirst:
		return w.copyTo(0, batch, ts)
	case PartitionBroadcast:
		for ch := range w.channels {
			if err := w.copyTo(ch, batch, ts); err != nil {
				return err
			}
		}
		return nil
	case PartitionRoundRobin:
		n := len(w.channels)
		for i, r := range batch {
			if err := w.add(w.next, r, ts, i); err != nil {
				return err
			}
			w.next++
			if w.next == n {
				w.next = 0
			}
		}
		return nil
	case PartitionKeyGroup:
		table := w.keyGroupChannel
		if maxP := uint64(len(table)); maxP&(maxP-1) == 0 {
			for i, r := range batch {
				if err := w.add(int(table[w.keyHash(r)&(maxP-1)]), r, ts, i); err != nil {
					return err
				}
			}
			return nil
		}
		for i, r := range batch {
			if err := w.add(int(table[state.KeyGroupForHash(w.keyHash(r), len(table))]), r, ts, i); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown partitioning %d", w.mode)
}

// buffer returns channel ch's open buffer, acquiring one (and blocking on
// back-pressure) when there is none.
func (w *RecordWriter[T]) buffer(ch int) (*Buffer[T], error) {
	b := &w.bufs[ch]
	if b.Records == nil {
		nb, err := w.channels[ch].AcquireBuffer()
		if err != nil {
			return nil, err
		}
		*b = nb
	}
	return b, nil
}

// add appends record i of a batch to channel ch's buffer, sending it when full.
func (w *RecordWriter[T]) add(ch int, r T, ts []int64, i int) error {
	b, err := w.buffer(ch)
	if err != nil {
		return err
	}
	if ts != nil {
		if len(b.Timestamps) < len(b.Records) { // earlier records had no timestamp
			b.Timestamps = padTimestamps(b.Timestamps, len(b.Records))
		}
		b.Timestamps = append(b.Timestamps, ts[i])
	} else if len(b.Timestamps) > 0 {
		b.Timestamps = append(b.Timestamps, NoTimestamp)
	}
	b.Records = append(b.Records, r)
	w.pending++
	if len(b.Records) >= w.batchSize {
		return w.send(ch)
	}
	return nil
}

// copyTo appends a whole batch to channel ch, a buffer at a time.
func (w *RecordWriter[T]) copyTo(ch int, batch []T, ts []int64) error {
	for len(batch) > 0 {
		b, err := w.buffer(ch)
		if err != nil {
			return err
		}
		n := min(w.batchSize-len(b.Records), len(batch))
		if ts != nil {
			if len(b.Timestamps) < len(b.Records) {
				b.Timestamps = padTimestamps(b.Timestamps, len(b.Records))
			}
			b.Timestamps = append(b.Timestamps, ts[:n]...)
			ts = ts[n:]
		} else if len(b.Timestamps) > 0 {
			b.Timestamps = padTimestamps(b.Timestamps, len(b.Records)+n)
		}
		b.Records = append(b.Records, batch[:n]...)
		batch = batch[n:]
		w.pending += n
		if len(b.Records) >= w.batchSize {
			if err := w.send(ch); err != nil {
				return err
			}
		}
	}
	return nil
}

func padTimestamps(ts []int64, n int) []int64 {
	for len(ts) < n {
		ts = append(ts, NoTimestamp)
	}
	return ts
}

func (w *RecordWriter[T]) send(ch int) error {
	b := w.bufs[ch]
	w.bufs[ch] = Buffer[T]{}
	w.pending -= len(b.Records)
	return w.channels[ch].SendBuffer(b)
}

// Flush sends every partly filled buffer.
func (w *RecordWriter[T]) Flush() error {
	w.lastFlush = time.Now()
	if w.pending == 0 {
		return nil
	}
	for ch := range w.bufs {
		if len(w.bufs[ch].Records) > 0 {
			if err := w.send(ch); err != nil {
				return err
			}
		}
	}
	w.pending = 0
	return nil
}

// FlushIfDue flushes when the buffer timeout has passed since the last flush.
func (w *RecordWriter[T]) FlushIfDue(now time.Time) error {
	if w.pending == 0 || now.Sub(w.lastFlush) < w.timeout {
		return nil
	}
	return w.Flush()
}

// Emit flushes, so the event stays behind every record pushed before it, and
// sends e on every channel. A watermark that does not advance is dropped.
func (w *RecordWriter[T]) Emit(e Event) error {
	if e.Kind == Watermark {
		if e.Timestamp <= w.lastWatermark {
			return nil
		}
		w.lastWatermark = e.Timestamp
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, c := range w.channels {
		if err := c.SendEvent(e); err != nil {
			return err
		}
	}
	return nil
}

// Finish flushes and sends EndOfPartition on every channel.
func (w *RecordWriter[T]) Finish() error {
	return w.Emit(Event{Kind: EndOfPartition})
}

// RecordsOut is the number of records pushed into the writer.
func (w *RecordWriter[T]) RecordsOut() int64 { return w.records }
