package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// muxBufferSize is the size of a Mux's read and write buffers: two default
// network buffers, so small envelopes (credits, events) coalesce into few
// system calls and 32 KiB buffers go through with one copy.
const muxBufferSize = 64 << 10

// Mux carries the logical channels between two TaskManagers over one
// authenticated connection. It is symmetric: either end may send on any
// channel; what a channel id means is the business of the layer above.
//
// Sending: Send is safe for concurrent use. Envelopes are written under a lock
// into a write buffer; the last of the concurrent senders flushes it, so under
// load many envelopes share one system call and at rest nothing waits in the
// buffer: when no Send is running, every envelope sent is on its way.
//
// Receiving: one goroutine reads frames and calls the handler with each
// envelope, in the order they were sent (per connection, so per channel). The
// handler must not block: the credit-based flow control above this layer
// guarantees the receiver always has room for what a sender was allowed to
// send, so the handler hands the envelope over and returns. A handler that
// blocked would stall every channel of the connection.
//
// Ending: a read or write error, the peer's close, or a bad frame ends the
// connection; onClose is called once with the cause (an error wrapping io.EOF
// for the peer's close, a *FrameError for a bad frame, ErrBadEnvelope for a bad
// envelope), or with nil when Close ended it.
type Mux struct {
	conn    *Conn
	peer    string
	max     int
	handle  func(*Envelope)
	onClose func(error)

	mu      sync.Mutex // guards the write side: w and ew
	w       *bufio.Writer
	ew      *envelopeWriter
	waiting atomic.Int32 // senders between asking for mu and taking it

	closing atomic.Bool
	err     error         // why it ended; set before closed is closed
	closed  chan struct{} // closed when the connection ended
	done    chan struct{} // closed when the reader has stopped
}

// NewMux starts the data plane on c, which it owns from now on. handle receives
// every envelope, on the Mux's reader goroutine, and owns it (and its payload)
// after the call; it must not block and must not call Close (onClose may).
// onClose may be nil.
func NewMux(c *Conn, handle func(*Envelope), onClose func(error)) *Mux {
	m := &Mux{
		conn:    c,
		peer:    c.RemoteAddr().String(),
		max:     c.opts.maxFrame(DefaultDataMaxFrame),
		handle:  handle,
		onClose: onClose,
		w:       bufio.NewWriterSize(c, muxBufferSize),
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	m.ew = newEnvelopeWriter(m.w, m.max)
	go m.readLoop()
	return m
}

// Peer returns who authenticated at the other end.
func (m *Mux) Peer() Peer { return m.conn.Peer() }

// Send writes e. It returns once e is encoded into the connection's buffer (or
// on the wire), so the caller may reuse e and its payload at once; a nil error
// does not mean the peer received it (credits say that). After the connection
// ended, Send returns an error wrapping ErrClosed and the cause. An envelope
// the peer would refuse (see the IDL) is refused here, and the connection goes
// on.
func (m *Mux) Send(e *Envelope) error {
	if err := checkEnvelope(e); err != nil {
		return fmt.Errorf("send to %s: %w", m.peer, err)
	}
	m.waiting.Add(1)
	m.mu.Lock()
	last := m.waiting.Add(-1) == 0
	if m.closing.Load() {
		m.mu.Unlock()
		return m.closedErr()
	}
	size, err := m.ew.size(e)
	var refused error
	if err == nil && size > m.max {
		refused = fmt.Errorf("envelope of %d bytes to %s is above the frame limit of %d bytes: %w", size, m.peer, m.max, ErrFrameTooLarge)
	} else if err == nil {
		err = m.ew.write(e, size)
	}
	if err == nil && last {
		err = m.w.Flush() // even when e was refused: senders before us left it to us
	}
	m.mu.Unlock()
	if err != nil {
		m.fail(fmt.Errorf("write to %s: %w", m.peer, err))
		return m.closedErr()
	}
	return refused
}

func (m *Mux) closedErr() error {
	<-m.closed
	if m.err == nil {
		return fmt.Errorf("send to %s: %w by Close", m.peer, ErrClosed)
	}
	return fmt.Errorf("send to %s: %w: %w", m.peer, ErrClosed, m.err)
}

// Close ends the connection at once: what Send returned for is on its way, the
// rest is dropped. To end gracefully, send CLOSE on every channel and wait for
// the peer's. onClose gets nil. Done tells when the handler has been called for
// the last time.
func (m *Mux) Close() error {
	m.fail(nil)
	return nil
}

// Done is closed once the reader has stopped: the handler will not be called
// again, and onClose has returned.
func (m *Mux) Done() <-chan struct{} { return m.done }

// fail ends the connection with cause; only the first call counts.
func (m *Mux) fail(cause error) {
	if !m.closing.CompareAndSwap(false, true) {
		return
	}
	m.err = cause
	close(m.closed)
	m.conn.Close()
	if m.onClose != nil {
		m.onClose(cause)
	}
}

func (m *Mux) readLoop() {
	defer close(m.done)
	fr := frameReader{r: bufio.NewReaderSize(m.conn, muxBufferSize), max: m.max, peer: m.peer}
	for {
		// A fresh buffer per frame: the envelope's payload is a slice of it
		// and belongs to the handler.
		frame, err := fr.readFrame(nil)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("connection closed by %s: %w", m.peer, err)
			} else if !errors.As(err, new(*FrameError)) {
				err = fmt.Errorf("read from %s: %w", m.peer, err)
			}
			m.readFailed(err)
			return
		}
		e, err := decodeEnvelope(frame, m.max)
		if err != nil {
			m.readFailed(fmt.Errorf("envelope from %s: %w", m.peer, err))
			return
		}
		m.handle(e)
	}
}

// readFailed ends the connection for a read error, unless Close (or a failed
// Send) ended it first, which is what made the read fail.
func (m *Mux) readFailed(err error) {
	if !m.closing.Load() {
		if errors.Is(err, io.EOF) {
			m.conn.opts.Log.Debug().Str("remote", m.peer).Msg("transport: data connection closed by the peer")
		} else {
			m.conn.opts.Log.Warn().Str("remote", m.peer).Err(err).Msg("transport: data connection ended")
		}
	}
	m.fail(err)
}
