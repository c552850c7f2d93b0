package transport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// muxBufferSize is the size of a Mux's read buffer and what its write buffer
// holds before it is written out: two default network buffers, so small
// envelopes (credits, events) coalesce into few system calls.
const muxBufferSize = 64 << 10

// directPayload is the payload size from which Send writes the payload from
// the caller's slice (one vectored write with what is buffered before it)
// instead of copying it into the write buffer.
const directPayload = 4 << 10

// Mux carries the logical channels between two TaskManagers over one
// authenticated connection. It is symmetric: either end may send on any
// channel; what a channel id means is the business of the layer above.
//
// Sending: Send is safe for concurrent use. Envelopes are encoded under a lock
// into a write buffer; the last of the concurrent senders writes it out, so
// under load many envelopes share one system call and at rest nothing waits in
// the buffer: when no Send is running, every envelope sent is on its way. A
// large payload is not copied: it goes out at once from the caller's slice,
// with what is buffered before it, in one vectored write.
//
// Receiving: one goroutine reads frames, into one buffer it reuses, and calls
// the handler with each envelope, in the order they were sent (per
// connection, so per channel). The envelope and its payload are valid only
// until the handler returns. The handler must not block: the credit-based flow control above this layer
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

	mu      sync.Mutex   // guards the write side: wbuf and iov
	wbuf    []byte       // encoded envelopes not yet written
	iov     [3][]byte    // a direct write: wbuf, the payload, the stop byte
	waiting atomic.Int32 // senders between asking for mu and taking it

	closing atomic.Bool
	err     error         // why it ended; set before closed is closed
	closed  chan struct{} // closed when the connection ended
	done    chan struct{} // closed when the reader has stopped
}

// NewMux starts the data plane on c, which it owns from now on. handle receives
// every envelope, on the Mux's reader goroutine; the envelope and its payload
// are the Mux's again once handle returns, so handle copies what it keeps. It
// must not block and must not call Close (onClose may). onClose may be nil.
func NewMux(c *Conn, handle func(*Envelope), onClose func(error)) *Mux {
	m := &Mux{
		conn:    c,
		peer:    c.RemoteAddr().String(),
		max:     c.opts.maxFrame(DefaultDataMaxFrame),
		handle:  handle,
		onClose: onClose,
		wbuf:    make([]byte, 0, muxBufferSize+maxEnvelopeHeader+frameHeaderSize),
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
	}
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
	one := [1]*Envelope{e}
	return m.SendAll(one[:])
}

// SendAll is Send for each of es in turn, under one turn of the write lock:
// what is small among them goes out in one system call. It stops at the
// first envelope refused (above the frame limit, or one the peer would
// refuse), having sent those before it, and returns why.
func (m *Mux) SendAll(es []*Envelope) error {
	for i, e := range es {
		if err := checkEnvelope(e); err != nil {
			es = es[:i]
			if i == 0 {
				return fmt.Errorf("send to %s: %w", m.peer, err)
			}
			return errors.Join(m.SendAll(es), fmt.Errorf("send to %s: %w", m.peer, err))
		}
	}
	m.waiting.Add(1)
	m.mu.Lock()
	last := m.waiting.Add(-1) == 0
	if m.closing.Load() {
		m.mu.Unlock()
		return m.closedErr()
	}
	var err, refused error
	for _, e := range es {
		n := len(m.wbuf)
		m.wbuf = appendEnvelopeHeader(m.wbuf, e)
		if size := len(m.wbuf) - n - frameHeaderSize + len(e.Payload) + 1; size > m.max {
			m.wbuf = m.wbuf[:n]
			refused = fmt.Errorf("envelope of %d bytes to %s is above the frame limit of %d bytes: %w", size, m.peer, m.max, ErrFrameTooLarge)
			break
		} else if len(e.Payload) >= directPayload {
			err = m.writeDirect(e.Payload)
		} else {
			m.wbuf = append(append(m.wbuf, e.Payload...), compactStop)
			if len(m.wbuf) >= muxBufferSize {
				err = m.flush()
			}
		}
		if err != nil {
			break
		}
	}
	if err == nil && len(m.wbuf) > 0 && last {
		err = m.flush() // even when e was refused: senders before us left it to us
	}
	m.mu.Unlock()
	if err != nil {
		m.fail(fmt.Errorf("write to %s: %w", m.peer, err))
		return m.closedErr()
	}
	return refused
}

// stop is the last byte of every envelope, after its payload.
var stop = []byte{compactStop}

// writeDirect writes the buffered envelopes and payload, then the stop byte
// that ends its envelope, in one vectored write. Under mu.
func (m *Mux) writeDirect(payload []byte) error {
	m.iov = [3][]byte{m.wbuf, payload, stop}
	bufs := net.Buffers(m.iov[:])
	_, err := bufs.WriteTo(m.conn.Conn)
	m.iov = [3][]byte{}
	m.wbuf = m.wbuf[:0]
	return err
}

// flush writes the buffered envelopes. Under mu.
func (m *Mux) flush() error {
	_, err := m.conn.Conn.Write(m.wbuf)
	m.wbuf = m.wbuf[:0]
	return err
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
	var buf []byte // every frame, in turn: the handler copies what it keeps
	var e Envelope
	for {
		frame, err := fr.readFrame(buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = fmt.Errorf("connection closed by %s: %w", m.peer, err)
			} else if !errors.As(err, new(*FrameError)) {
				err = fmt.Errorf("read from %s: %w", m.peer, err)
			}
			m.readFailed(err)
			return
		}
		buf = frame
		if err := decodeEnvelopeInto(frame, m.max, &e); err != nil {
			m.readFailed(fmt.Errorf("envelope from %s: %w", m.peer, err))
			return
		}
		m.handle(&e)
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
