package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

const (
	// DefaultHandshakeTimeout bounds a handshake, from accept (or dial) to done.
	DefaultHandshakeTimeout = 10 * time.Second
	// DefaultMaxPendingHandshakes bounds the handshakes a Listener runs at once.
	DefaultMaxPendingHandshakes = 64
)

// Options tune Listen and Dial and the connections they return. The zero value
// is usable.
type Options struct {
	// Log gets one line for each connection refused (with its remote address and
	// the reason) and each connection ended by an error. The zero Logger logs
	// nothing.
	Log zerolog.Logger
	// HandshakeTimeout bounds the handshake; default DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// MaxPendingHandshakes bounds the handshakes a Listener runs at once (further
	// connections wait in the kernel's backlog); default DefaultMaxPendingHandshakes.
	MaxPendingHandshakes int
	// MaxFrameSize bounds the frames read and written on the connection; 0 means
	// DefaultControlMaxFrame for RPC and DefaultDataMaxFrame for a Mux. Both
	// sides of a connection must allow the frames the other sends.
	MaxFrameSize int
}

func (o Options) check() error {
	if o.MaxFrameSize < 0 || o.MaxFrameSize > MaxFrameLimit {
		return fmt.Errorf("transport: MaxFrameSize must be between 0 (the default) and %d, got %d", MaxFrameLimit, o.MaxFrameSize)
	}
	if o.HandshakeTimeout < 0 || o.MaxPendingHandshakes < 0 {
		return fmt.Errorf("transport: HandshakeTimeout and MaxPendingHandshakes must not be negative")
	}
	return nil
}

func (o Options) handshakeTimeout() time.Duration {
	if o.HandshakeTimeout > 0 {
		return o.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

func (o Options) maxFrame(def int) int {
	if o.MaxFrameSize > 0 {
		return o.MaxFrameSize
	}
	return def
}

// Conn is an authenticated connection. Nothing has been read past the
// handshake, so the first byte read is the peer's first frame.
type Conn struct {
	net.Conn
	peer Peer
	opts Options
}

// Peer returns who authenticated at the other end.
func (c *Conn) Peer() Peer { return c.peer }

// Listener accepts connections and authenticates them, each in a goroutine of
// its own, so a slow or hostile peer never delays the others. Accept returns
// only connections that completed the handshake; the rest are logged and
// closed.
type Listener struct {
	ln   net.Listener
	auth Authenticator
	opts Options

	ready chan *Conn
	done  chan struct{}
	sem   chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	pending map[net.Conn]struct{} // connections in their handshake
	closed  bool
}

// Listen listens on the TCP address addr and authenticates every connection
// with auth.
func Listen(addr string, auth Authenticator, opts Options) (*Listener, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if err := validMechanism(auth.Mechanism()); err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	n := opts.MaxPendingHandshakes
	if n == 0 {
		n = DefaultMaxPendingHandshakes
	}
	l := &Listener{
		ln:      ln,
		auth:    auth,
		opts:    opts,
		ready:   make(chan *Conn),
		done:    make(chan struct{}),
		sem:     make(chan struct{}, n),
		pending: make(map[net.Conn]struct{}),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

// Addr returns the address listened on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Accept waits for the next authenticated connection. After Close it returns
// an error wrapping net.ErrClosed.
func (l *Listener) Accept() (*Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, fmt.Errorf("accept on %s: %w", l.ln.Addr(), net.ErrClosed)
	}
}

// Close stops listening, ends the handshakes in progress and waits for the
// listener's goroutines. Connections already returned by Accept stay open.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.done)
	for c := range l.pending {
		c.Close()
	}
	l.mu.Unlock()
	err := l.ln.Close()
	l.wg.Wait()
	return err
}

func (l *Listener) acceptLoop() {
	defer l.wg.Done()
	var backoff time.Duration
	for {
		raw, err := l.ln.Accept()
		if err != nil {
			select {
			case <-l.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.opts.Log.Error().Err(err).Str("listen", l.ln.Addr().String()).Dur("retry_in", backoff).Msg("transport: accept failed")
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		select {
		case l.sem <- struct{}{}:
		case <-l.done:
			raw.Close()
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			raw.Close()
			return
		}
		l.pending[raw] = struct{}{}
		l.mu.Unlock()
		l.wg.Add(1)
		go l.handshake(raw)
	}
}

func (l *Listener) handshake(raw net.Conn) {
	defer l.wg.Done()
	defer func() { <-l.sem }()
	timeout := l.opts.handshakeTimeout()
	raw.SetDeadline(time.Now().Add(timeout))
	conn, peer, err := serverHandshake(raw, l.auth)
	if err == nil {
		err = raw.SetDeadline(time.Time{})
	}
	l.mu.Lock()
	delete(l.pending, raw)
	closed := l.closed
	l.mu.Unlock()
	if closed {
		raw.Close()
		return
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("no handshake within %v: %w", timeout, err)
		}
		l.opts.Log.Warn().Str("remote", raw.RemoteAddr().String()).Str("mechanism", l.auth.Mechanism()).
			Err(err).Msg("transport: refused unauthenticated connection")
		raw.Close()
		return
	}
	c := &Conn{Conn: conn, peer: peer, opts: l.opts}
	select {
	case l.ready <- c:
	case <-l.done:
		raw.Close()
	}
}

// Dial connects to the TCP address addr and authenticates with auth. The
// handshake ends by Options.HandshakeTimeout or ctx's deadline, whichever comes
// first; cancelling ctx aborts it.
func Dial(ctx context.Context, addr string, auth Authenticator, opts Options) (*Conn, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if err := validMechanism(auth.Mechanism()); err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	deadline := time.Now().Add(opts.handshakeTimeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	conn, peer, err := clientHandshake(raw, auth, addr)
	if !stop() && err == nil {
		err = ctx.Err() // cancelled as we finished: the deadline may be set
	}
	if err == nil {
		err = raw.SetDeadline(time.Time{})
	}
	if err != nil {
		raw.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return nil, fmt.Errorf("handshake with %s (%s): %w", addr, auth.Mechanism(), err)
	}
	return &Conn{Conn: conn, peer: peer, opts: opts}, nil
}
