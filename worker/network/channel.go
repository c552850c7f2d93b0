package network

import (
	"errors"
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
)

// Event is a control message that travels in order with the records.
type Event struct {
	Kind EventKind
}

// Buffer is what a channel carries: records, or an event.
type Buffer[T any] struct {
	Records []T
	Event   Event
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
	free       [][]T       // empty buffers: the credits the producer may use
	queued     int         // data buffers in queue
	maxQueued  int         // high-water mark of queued, for tests and metrics
	ended      bool        // EndOfPartition was received by the consumer
	spaceAvail *sync.Cond  // producer waits here for a free buffer
}

// Acquire returns an empty buffer with capacity for a batch, blocking while every
// buffer of the channel is queued or being processed (back-pressure).
func (c *Channel[T]) Acquire() ([]T, error) {
	g := c.gate
	g.mu.Lock()
	for len(c.free) == 0 && g.closeErr == nil {
		g.blockedProducers++
		c.spaceAvail.Wait()
		g.blockedProducers--
	}
	if g.closeErr != nil {
		g.mu.Unlock()
		return nil, g.closeErr
	}
	b := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	g.mu.Unlock()
	if b == nil {
		b = make([]T, 0, c.batchSize)
	}
	return b[:0], nil
}

// Send queues a buffer obtained from Acquire. The channel owns it afterwards.
func (c *Channel[T]) Send(records []T) error {
	return c.enqueue(Buffer[T]{Records: records})
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
