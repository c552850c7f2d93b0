package network

import "sync"

// InputGate merges the channels of one input of a consumer subtask. Poll and
// Recycle are called by the consumer task's goroutine only.
type InputGate[T any] struct {
	mu               sync.Mutex
	channels         []*Channel[T]
	avail            []int  // channels with queued buffers, each at most once, FIFO
	blocked          []bool // channels held back by barrier alignment
	parked           []bool // blocked channels with queued buffers, taken out of avail
	open             int    // channels that have not delivered EndOfPartition
	closeErr         error
	blockedProducers int
	notify           chan struct{}
}

// NewInputGate returns a gate with n channels, each owning credits buffers of
// batchSize records. notify receives a token (non-blocking, coalesced) whenever a
// buffer becomes available; several gates of one task may share it.
func NewInputGate[T any](n, credits, batchSize int, notify chan struct{}) *InputGate[T] {
	g := &InputGate[T]{notify: notify, open: n, blocked: make([]bool, n), parked: make([]bool, n)}
	for i := range n {
		c := &Channel[T]{gate: g, index: i, batchSize: batchSize, credits: credits, free: make([]Buffer[T], credits)}
		c.spaceAvail = sync.NewCond(&g.mu)
		g.channels = append(g.channels, c)
	}
	return g
}

// Channel returns channel i, the producer side handed to an upstream subtask.
func (g *InputGate[T]) Channel(i int) *Channel[T] { return g.channels[i] }

// NumChannels is the number of channels of the gate.
func (g *InputGate[T]) NumChannels() int { return len(g.channels) }

func (g *InputGate[T]) wake() {
	select {
	case g.notify <- struct{}{}:
	default:
	}
}

// Poll returns the next buffer and its channel index without blocking; ok is false
// when no buffer is queued. A data buffer must be handed back with Recycle.
// EndOfPartition events are counted: Finished reports when every channel has ended.
//
// A buffer from another process arrives encoded, and Poll decodes it: on the
// consumer's goroutine, so that the connection's reader, which serves every
// channel of the connection, only moves bytes. A buffer that does not decode
// breaks the connection (its gates close) and is not returned.
func (g *InputGate[T]) Poll() (b Buffer[T], channel int, ok bool) {
	b, channel, ok = g.poll()
	if ok && len(b.encoded) > 0 {
		c := g.channels[channel]
		var err error
		if b, err = c.decode(b); err != nil { // by value: b stays on the stack
			c.returnFree(b)
			return Buffer[T]{}, -1, false
		}
	}
	return b, channel, ok
}

func (g *InputGate[T]) poll() (b Buffer[T], channel int, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		if len(g.avail) == 0 {
			return b, -1, false
		}
		channel = g.avail[0]
		g.avail = popFront(g.avail)
		if !g.blocked[channel] {
			break
		}
		g.parked[channel] = true // back in avail when unblocked
	}
	c := g.channels[channel]
	b = c.queue[0]
	c.queue[0] = Buffer[T]{}
	c.queue = popFront(c.queue)
	if len(c.queue) > 0 {
		g.avail = append(g.avail, channel) // round-robin: back of the line
	}
	switch b.Event.Kind {
	case NoEvent:
		c.queued--
	case EndOfPartition:
		if !c.ended {
			c.ended = true
			g.open--
		}
	}
	return b, channel, true
}

// BlockChannel stops Poll from returning buffers of channel ch until UnblockAll:
// barrier alignment holds back a channel that already delivered the barrier.
// Its producer keeps sending until its credits run out.
func (g *InputGate[T]) BlockChannel(ch int) {
	g.mu.Lock()
	g.blocked[ch] = true
	g.mu.Unlock()
}

// UnblockAll releases every blocked channel.
func (g *InputGate[T]) UnblockAll() {
	g.mu.Lock()
	for ch := range g.blocked {
		g.blocked[ch] = false
		if g.parked[ch] {
			g.parked[ch] = false
			g.avail = append(g.avail, ch)
		}
	}
	g.mu.Unlock()
	g.wake()
}

// Recycle returns a data buffer's credit to its channel, waking a blocked producer.
func (g *InputGate[T]) Recycle(channel int, records []T) {
	g.RecycleBuffer(channel, Buffer[T]{Records: records})
}

// RecycleBuffer is Recycle for a buffer with timestamps.
func (g *InputGate[T]) RecycleBuffer(channel int, b Buffer[T]) {
	c := g.channels[channel]
	clear(b.Records) // drop references so the garbage collector can free records
	g.mu.Lock()
	c.free = append(c.free, Buffer[T]{Records: b.Records[:0], Timestamps: b.Timestamps[:0], encoded: b.encoded[:0]})
	g.mu.Unlock()
	c.spaceAvail.Signal()
	if c.onRecycle != nil {
		c.onRecycle()
	}
}

// Finished reports whether every channel delivered EndOfPartition.
func (g *InputGate[T]) Finished() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open == 0
}

// Close fails every current and future Acquire and Send with err and wakes
// blocked producers. The consumer stops polling on its own. The first Close
// also tells the remote producers (see RemoteReceiver), which would otherwise
// wait for credit forever.
func (g *InputGate[T]) Close(err error) {
	if err == nil {
		err = ErrGateClosed
	}
	var hooks []func(error)
	g.mu.Lock()
	if g.closeErr == nil {
		g.closeErr = err
		for _, c := range g.channels {
			if c.onClose != nil {
				hooks = append(hooks, c.onClose)
			}
		}
	}
	for _, c := range g.channels {
		c.spaceAvail.Broadcast()
	}
	g.mu.Unlock()
	g.wake()
	for _, h := range hooks {
		h(err)
	}
}

// closed returns the error the gate was closed with, or nil.
func (g *InputGate[T]) closed() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closeErr
}

// Stats is a snapshot of a gate's occupancy.
type Stats struct {
	Queued           int // data buffers queued now, over all channels
	MaxQueued        int // highest per-channel high-water mark
	Credits          int // buffers per channel
	BlockedProducers int // producers waiting in Acquire now
}

// Stats returns the gate's occupancy.
func (g *InputGate[T]) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := Stats{BlockedProducers: g.blockedProducers}
	for _, c := range g.channels {
		s.Queued += c.queued
		s.MaxQueued = max(s.MaxQueued, c.maxQueued)
		s.Credits = c.credits
	}
	return s
}

// popFront drops the first element; a slice that empties restarts at its base so
// its memory is reused instead of reallocated by the next append.
func popFront[E any](s []E) []E {
	if len(s) == 1 {
		return s[:0]
	}
	return s[1:]
}
