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

// RecordWriter is the producer side of one exchange for one producer subtask: it
// routes records into per-channel buffers and sends a buffer when it is full or
// when Flush is called. Owned by the producer task's goroutine.
type RecordWriter[T any] struct {
	channels       []*Channel[T]
	bufs           [][]T
	mode           Partitioning
	keyHash        func(T) uint64
	maxParallelism int
	next           int // round-robin position
	batchSize      int
	timeout        time.Duration
	lastFlush      time.Time
	pending        int // records buffered and not yet sent
	records        int64
}

// NewRecordWriter returns a writer over channels (in consumer subtask order).
// keyHash is required for PartitionKeyGroup; channel i then serves the key groups
// of consumer subtask i at parallelism len(channels).
func NewRecordWriter[T any](channels []*Channel[T], mode Partitioning, keyHash func(T) uint64, maxParallelism, batchSize int, timeout time.Duration, startAt int) (*RecordWriter[T], error) {
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
	return &RecordWriter[T]{channels: channels, bufs: make([][]T, len(channels)), mode: mode, keyHash: keyHash,
		maxParallelism: maxParallelism, batchSize: batchSize, timeout: timeout, lastFlush: time.Now(),
		next: startAt % len(channels)}, nil
}

// Push routes every record of batch. It does not retain batch.
func (w *RecordWriter[T]) Push(batch []T) error {
	w.records += int64(len(batch))
	switch w.mode {
	case PartitionForward, PartitionFirst:
		return w.copyTo(0, batch)
	case PartitionBroadcast:
		for ch := range w.channels {
			if err := w.copyTo(ch, batch); err != nil {
				return err
			}
		}
		return nil
	case PartitionRoundRobin:
		n := len(w.channels)
		for _, r := range batch {
			if err := w.add(w.next, r); err != nil {
				return err
			}
			w.next++
			if w.next == n {
				w.next = 0
			}
		}
		return nil
	case PartitionKeyGroup:
		n, maxP := len(w.channels), w.maxParallelism
		for _, r := range batch {
			kg := state.KeyGroupForHash(w.keyHash(r), maxP)
			if err := w.add(state.SubtaskForKeyGroup(kg, maxP, n), r); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown partitioning %d", w.mode)
}

// add appends one record to channel ch's buffer, sending it when full.
func (w *RecordWriter[T]) add(ch int, r T) error {
	b := w.bufs[ch]
	if b == nil {
		var err error
		if b, err = w.channels[ch].Acquire(); err != nil {
			return err
		}
	}
	b = append(b, r)
	if len(b) >= w.batchSize {
		w.bufs[ch] = nil
		w.pending -= len(b) - 1
		return w.channels[ch].Send(b)
	}
	w.bufs[ch] = b
	w.pending++
	return nil
}

// copyTo appends a whole batch to channel ch, a buffer at a time.
func (w *RecordWriter[T]) copyTo(ch int, batch []T) error {
	for len(batch) > 0 {
		b := w.bufs[ch]
		if b == nil {
			var err error
			if b, err = w.channels[ch].Acquire(); err != nil {
				return err
			}
		}
		n := min(w.batchSize-len(b), len(batch))
		b = append(b, batch[:n]...)
		batch = batch[n:]
		if len(b) >= w.batchSize {
			w.bufs[ch] = nil
			w.pending -= len(b) - n
			if err := w.channels[ch].Send(b); err != nil {
				return err
			}
			continue
		}
		w.bufs[ch] = b
		w.pending += n
	}
	return nil
}

// Flush sends every partly filled buffer.
func (w *RecordWriter[T]) Flush() error {
	w.lastFlush = time.Now()
	if w.pending == 0 {
		return nil
	}
	for ch, b := range w.bufs {
		if len(b) > 0 {
			w.bufs[ch] = nil
			if err := w.channels[ch].Send(b); err != nil {
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

// Finish flushes and sends EndOfPartition on every channel.
func (w *RecordWriter[T]) Finish() error {
	if err := w.Flush(); err != nil {
		return err
	}
	for _, c := range w.channels {
		if err := c.SendEvent(Event{Kind: EndOfPartition}); err != nil {
			return err
		}
	}
	return nil
}

// RecordsOut is the number of records pushed into the writer.
func (w *RecordWriter[T]) RecordsOut() int64 { return w.records }
