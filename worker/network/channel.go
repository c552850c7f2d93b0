package network

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// ErrGateClosed is returned by Acquire and Send when the consumer side was closed,
// because the job is failing or cancelled.
var ErrGateClosed = errors.New("input gate closed")

// EventKind is the kind of a control event carried in a channel.
type EventKind uint8

const (
	// NoEvent marks a data buffer.
	NoEvent EventKind = iota
	// EndOfPartition: the producer subtask has emitted its last record on this channel.
	EndOfPartition
	// Watermark: no record with a timestamp at or below Event.Timestamp follows.
	Watermark
	// WatermarkStatus: the channel turns idle (Event.Idle) or active again; an idle
	// channel does not hold back the watermark of its consumer.
	WatermarkStatus
	// CheckpointBarrier separates the records before checkpoint Event.CheckpointID
	// from those after it.
	CheckpointBarrier
)

// NoTimestamp marks a record without a timestamp (Flink's Long.MIN_VALUE).
const NoTimestamp = math.MinInt64

// MaxWatermark is the watermark of an ended input: it fires every event-time timer.
const MaxWatermark = math.MaxInt64

// Event is a control message that travels in order with the records.
type Event struct {
	Kind      EventKind
	Timestamp int64 // Watermark
	Idle      bool  // WatermarkStatus
	// CheckpointBarrier: the checkpoint's id and trigger time (ms), and whether it
	// is a savepoint.
	CheckpointID int64
	Savepoint    bool
	// Stop marks the barrier of a stop-with-savepoint: every task ends after it.
	// Without Drain the operators are not finished (no final firing), so the
	// job resumes from the savepoint as if it had never stopped; with Drain
	// the sources end their input first, as at the end of a bounded job.
	Stop, Drain bool
}

// WatermarkEvent returns a Watermark event at ts.
func WatermarkEvent(ts int64) Event { return Event{Kind: Watermark, Timestamp: ts} }

func (e Event) String() string {
	switch e.Kind {
	case NoEvent:
		return "NoEvent"
	case EndOfPartition:
		return "EndOfPartition"
	case Watermark:
		return fmt.Sprintf("Watermark(%d)", e.Timestamp)
	case CheckpointBarrier:
		return fmt.Sprintf("CheckpointBarrier(%d)", e.CheckpointID)
	case WatermarkStatus:
		if e.Idle {
			return "WatermarkStatus(idle)"
		}
		return "WatermarkStatus(active)"
	}
	return fmt.Sprintf("Event(%d)", e.Kind)
}

// Buffer is what a channel carries: records with their timestamps, or an event.
// Timestamps is empty when the records have none, else as long as Records.
type Buffer[T any] struct {
	Records    []T
	Timestamps []int64
	Event      Event

	// encoded holds a remote data buffer's bytes from its arrival until Poll
	// decodes them, on the consumer's goroutine; a free buffer keeps the
	// capacity for the next one.
	encoded []byte
}

// Channel joins one producer subtask to one consumer subtask. Its methods are safe
// for one producer goroutine and one consumer goroutine.
type Channel[T any] struct {
	gate      *InputGate[T]
	index     int // position in the gate
	batchSize int
	credits   int

	// guarded by gate.mu
	queue      []Buffer[T] // FIFO; head at queue[0]
	free       []Buffer[T] // empty buffers: the credits the producer may use
	queued     int         // data buffers in queue
	maxQueued  int         // high-water mark of queued, for tests and metrics
	ended      bool        // EndOfPartition was received by the consumer
	spaceAvail *sync.Cond  // producer waits here for a free buffer

	// onRecycle, set for a channel whose producer is remote, announces the
	// credit of each recycled buffer (see RemoteReceiver).
	onRecycle func()
	// onClose, set (under gate.mu) for a channel whose producer is remote,
	// tells the producer that the gate was closed.
	onClose func(error)
	// decode, set for a channel whose producer is remote, decodes a buffer's
	// encoded bytes into its records (see Poll); an error is the producer's
	// breach of the protocol, reported to its connection.
	decode func(b Buffer[T]) (Buffer[T], error)
}

// Acquire returns an empty records slice with capacity for a batch, blocking
// while every buffer of the channel is queued or being processed (back-pressure).
func (c *Channel[T]) Acquire() ([]T, error) {
	b, err := c.AcquireBuffer()
	return b.Records, err
}

// AcquireBuffer is Acquire for records with timestamps: both slices are empty.
func (c *Channel[T]) AcquireBuffer() (Buffer[T], error) {
	g := c.gate
	g.mu.Lock()
	for len(c.free) == 0 && g.closeErr == nil {
		g.blockedProducers++
		c.spaceAvail.Wait()
		g.blockedProducers--
	}
	if g.closeErr != nil {
		g.mu.Unlock()
		return Buffer[T]{}, g.closeErr
	}
	b := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	g.mu.Unlock()
	if b.Records == nil {
		b.Records = make([]T, 0, c.batchSize)
	}
	return Buffer[T]{Records: b.Records[:0], Timestamps: b.Timestamps[:0]}, nil
}

// Send queues a buffer obtained from Acquire. The channel owns it afterwards.
func (c *Channel[T]) Send(records []T) error {
	return c.enqueue(Buffer[T]{Records: records})
}

// SendBuffer queues a buffer obtained from AcquireBuffer.
func (c *Channel[T]) SendBuffer(b Buffer[T]) error {
	b.Event = Event{}
	return c.enqueue(b)
}

// SendEvent queues an event after everything sent before it.
func (c *Channel[T]) SendEvent(e Event) error {
	return c.enqueue(Buffer[T]{Event: e})
}

func (c *Channel[T]) enqueue(b Buffer[T]) error {
	g := c.gate
	g.mu.Lock()
	if g.closeErr != nil {
		err := g.closeErr
		g.mu.Unlock()
		return err
	}
	wasEmpty := len(c.queue) == 0
	c.queue = append(c.queue, b)
	if b.Event.Kind == NoEvent {
		c.queued++
		c.maxQueued = max(c.maxQueued, c.queued)
	}
	if wasEmpty {
		g.avail = append(g.avail, c.index)
	}
	g.mu.Unlock()
	g.wake()
	return nil
}

// Credits is the number of buffers the channel owns.
func (c *Channel[T]) Credits() int { return c.credits }

// MaxQueued is the most data buffers that were ever queued at once.
func (c *Channel[T]) MaxQueued() int {
	c.gate.mu.Lock()
	defer c.gate.mu.Unlock()
	return c.maxQueued
}
