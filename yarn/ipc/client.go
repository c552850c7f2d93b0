package ipc

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// Options say how a Client reaches one protocol of one server.
type Options struct {
	// Addr is the server's host:port.
	Addr string
	// Protocol is the Java interface served, as the server registered it
	// (e.g. "org.apache.hadoop.yarn.api.ApplicationClientProtocolPB");
	// ProtocolVersion its version (1 for every YARN protocol).
	Protocol        string
	ProtocolVersion uint64
	// User is the effective user of the connection context under SIMPLE
	// authentication (no Mechanisms); with a Mechanism, its User is sent.
	User string
	// Mechanisms are the SASL mechanisms the client may use, in order of
	// preference; the first that the server also offers is used. None means
	// SIMPLE authentication (no SASL), as on an insecure cluster.
	Mechanisms []Mechanism
	// Dial makes the TCP connection; nil is a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ConnectTimeout bounds each connection attempt, including the SASL
	// exchange; 0 is 20 s (ipc.client.connect.timeout).
	ConnectTimeout time.Duration
	// ConnectRetries is how many times a failed connection attempt is
	// repeated, ConnectRetryInterval apart; 0 is 10 (ipc.client.connect.max.retries),
	// a negative value none.
	ConnectRetries       int
	ConnectRetryInterval time.Duration
	// CallTimeout bounds a call whose context has no deadline; 0 is 60 s.
	CallTimeout time.Duration
	// MaxResponseLength bounds a response frame; 0 is DefaultMaxResponseLength.
	MaxResponseLength int
}

// Client makes calls to one protocol of one server over one connection,
// made on first use and made again after it fails. Calls may be concurrent:
// they share the connection and are matched to their responses by call id.
type Client struct {
	opts     Options
	clientID []byte

	mu     sync.Mutex
	conn   *conn
	nextID int32
	closed bool
}

// NewClient returns a client; it connects on the first call.
func NewClient(opts Options) (*Client, error) {
	if opts.Addr == "" {
		return nil, errors.New("ipc: no server address")
	}
	if opts.Protocol == "" {
		return nil, errors.New("ipc: no protocol name")
	}
	if opts.Dial == nil {
		var d net.Dialer
		opts.Dial = d.DialContext
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 20 * time.Second
	}
	if opts.ConnectRetries == 0 {
		opts.ConnectRetries = 10
	} else if opts.ConnectRetries < 0 {
		opts.ConnectRetries = 0
	}
	if opts.ConnectRetryInterval == 0 {
		opts.ConnectRetryInterval = time.Second
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 60 * time.Second
	}
	if opts.MaxResponseLength == 0 {
		opts.MaxResponseLength = DefaultMaxResponseLength
	}
	// The client id lets the server's retry cache recognise a retried call;
	// Java's is a random UUID's 16 bytes.
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return &Client{opts: opts, clientID: id}, nil
}

// Addr returns the server's address.
func (c *Client) Addr() string { return c.opts.Addr }

// Close closes the connection; calls in flight fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	cn := c.conn
	c.conn, c.closed = nil, true
	c.mu.Unlock()
	if cn != nil {
		cn.fail(ErrClosed)
	}
	return nil
}

// Call invokes method with req and decodes the response into resp. A server
// exception is a *RemoteError; a connection that fails mid-call wraps
// ErrConnectionLost. The call ends at the context's deadline (or after
// CallTimeout) with the context's error.
func (c *Client) Call(ctx context.Context, method string, req, resp proto.Message) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.opts.CallTimeout)
		defer cancel()
	}
	cn, err := c.connection(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	id := c.nextID
	if c.nextID == math.MaxInt32 {
		c.nextID = 0
	} else {
		c.nextID++
	}
	c.mu.Unlock()

	frame, err := AppendFrame(nil,
		requestHeader(id, c.clientID, 0),
		&yarnpb.RequestHeaderProto{
			MethodName:                 proto.String(method),
			DeclaringClassProtocolName: proto.String(c.opts.Protocol),
			ClientProtocolVersion:      proto.Uint64(c.opts.ProtocolVersion),
		},
		req)
	if err != nil {
		return err
	}
	done := make(chan *Response, 1)
	if err := cn.register(id, done); err != nil {
		return err
	}
	defer cn.unregister(id)
	if err := cn.send(ctx, frame); err != nil {
		// A server that refuses the connection (a FATAL response) closes it
		// at once, so the write may fail before the reader has seen why:
		// give the reader a moment to deliver the server's reason.
		t := time.NewTimer(time.Second)
		select {
		case <-cn.dead:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		cn.fail(fmt.Errorf("%w: write: %w", ErrConnectionLost, err))
		var re *RemoteError
		if cerr := cn.callError(method); errors.As(cerr, &re) {
			return cerr
		}
		return fmt.Errorf("ipc: send %s to %s: %w", method, c.opts.Addr, err)
	}
	var r *Response
	select {
	case r = <-done:
	case <-cn.dead:
		// A response that arrived just before the connection died still counts.
		select {
		case r = <-done:
		default:
			return cn.callError(method)
		}
	case <-ctx.Done():
		return fmt.Errorf("ipc: %s on %s: %w", method, c.opts.Addr, ctx.Err())
	}
	{
		if r.Header.GetStatus() != yarnpb.RpcResponseHeaderProto_SUCCESS {
			re := remoteError(r.Header)
			re.Method, re.Protocol = method, c.opts.Protocol
			return re
		}
		if err := proto.Unmarshal(r.Body, resp); err != nil {
			return fmt.Errorf("%w: response of %s: %v", ErrMalformed, method, err)
		}
		return nil
	}
}

// connection returns the live connection, making one if there is none.
func (c *Client) connection(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.conn != nil && !c.conn.isDead() {
		return c.conn, nil
	}
	// Dialling under the lock makes concurrent first calls share one
	// connection, as Java's Client does per ConnectionId.
	cn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	c.conn = cn
	return cn, nil
}

// connect dials with bounded retries and runs the handshake. Only dial
// errors are retried: a server that answers and refuses will refuse again.
func (c *Client) connect(ctx context.Context) (*conn, error) {
	var last error
	attempts := 0
	for {
		attempts++
		nc, err := c.dial(ctx)
		if err == nil {
			cn, err := c.handshake(ctx, nc)
			if err != nil {
				nc.Close()
				return nil, err
			}
			return cn, nil
		}
		last = err
		if ctx.Err() != nil || attempts > c.opts.ConnectRetries {
			return nil, &ConnectError{Addr: c.opts.Addr, Attempts: attempts, Err: last}
		}
		t := time.NewTimer(c.opts.ConnectRetryInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, &ConnectError{Addr: c.opts.Addr, Attempts: attempts, Err: ctx.Err()}
		case <-t.C:
		}
	}
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	nc, err := c.opts.Dial(dctx, "tcp", c.opts.Addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true) // Hadoop's ipc.client.tcpnodelay default
		tc.SetKeepAlive(true)
	}
	return nc, nil
}

// handshake sends the connection header, authenticates, sends the
// connection context and starts the reader.
func (c *Client) handshake(ctx context.Context, nc net.Conn) (*conn, error) {
	deadline := time.Now().Add(c.opts.ConnectTimeout)
	ctxBound := false // the context's deadline, not ConnectTimeout, bounds the handshake
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline, ctxBound = d, true
	}
	nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	cn := &conn{
		nc:      nc,
		r:       &plainReader{r: bufio.NewReader(nc), max: c.opts.MaxResponseLength},
		w:       &plainWriter{w: nc},
		pending: map[int32]chan *Response{},
		dead:    make(chan struct{}),
		addr:    c.opts.Addr,
	}
	user := c.opts.User
	if len(c.opts.Mechanisms) == 0 {
		if _, err := nc.Write(ConnectionHeader(0, AuthNone)); err != nil {
			return nil, fmt.Errorf("ipc: connect to %s: %w", c.opts.Addr, err)
		}
	} else {
		if _, err := nc.Write(ConnectionHeader(0, AuthSASL)); err != nil {
			return nil, fmt.Errorf("ipc: connect to %s: %w", c.opts.Addr, err)
		}
		m, layer, err := saslConnect(cn.r, cn.w, c.opts.Mechanisms, c.opts.Addr)
		if err != nil {
			// The socket's deadline may fire a moment before the context's.
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%w)", err, ctx.Err())
			} else if ctxBound && errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("%w (%w)", err, context.DeadlineExceeded)
			}
			return nil, err
		}
		user = m.User()
		if layer != nil {
			cn.r = &wrappedReader{inner: cn.r, layer: layer, max: c.opts.MaxResponseLength}
			cn.w = &wrappedWriter{inner: cn.w, layer: layer}
		}
	}
	cc := &yarnpb.IpcConnectionContextProto{Protocol: proto.String(c.opts.Protocol)}
	if user != "" {
		cc.UserInfo = &yarnpb.UserInformationProto{EffectiveUser: proto.String(user)}
	}
	frame, err := AppendFrame(nil, requestHeader(connectionContextCallID, c.clientID, invalidRetryCount), cc)
	if err != nil {
		return nil, err
	}
	if err := cn.w.WriteFrame(frame); err != nil {
		return nil, fmt.Errorf("ipc: connect to %s: %w", c.opts.Addr, err)
	}
	nc.SetDeadline(time.Time{})
	go cn.readLoop()
	return cn, nil
}

// conn is one TCP connection and its calls in flight.
type conn struct {
	nc   net.Conn
	addr string
	r    frameReader // used by readLoop only, after the handshake
	wmu  sync.Mutex  // serialises frames
	w    frameWriter

	mu      sync.Mutex
	pending map[int32]chan *Response
	err     error         // why the connection died
	dead    chan struct{} // closed when it died
}

func (cn *conn) isDead() bool {
	select {
	case <-cn.dead:
		return true
	default:
		return false
	}
}

func (cn *conn) register(id int32, ch chan *Response) error {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.err != nil {
		return cn.err
	}
	cn.pending[id] = ch
	return nil
}

func (cn *conn) unregister(id int32) {
	cn.mu.Lock()
	delete(cn.pending, id)
	cn.mu.Unlock()
}

// send writes one frame; the context's deadline bounds the write.
func (cn *conn) send(ctx context.Context, frame []byte) error {
	cn.wmu.Lock()
	defer cn.wmu.Unlock()
	if d, ok := ctx.Deadline(); ok {
		cn.nc.SetWriteDeadline(d)
	}
	// A failed write leaves the stream unusable: the caller fails the connection.
	return cn.w.WriteFrame(frame)
}

// fail closes the connection once, recording why.
func (cn *conn) fail(err error) {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.err != nil {
		return
	}
	cn.err = err
	cn.nc.Close()
	close(cn.dead)
}

func (cn *conn) callError(method string) error {
	cn.mu.Lock()
	err := cn.err
	cn.mu.Unlock()
	var re *RemoteError
	if errors.As(err, &re) {
		cp := *re
		cp.Method = method
		return &cp
	}
	return fmt.Errorf("ipc: %s on %s: %w", method, cn.addr, err)
}

// readLoop delivers responses to their calls until the connection fails.
func (cn *conn) readLoop() {
	for {
		frame, err := cn.r.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the server closed the connection")
			}
			cn.fail(fmt.Errorf("%w: %w", ErrConnectionLost, err))
			return
		}
		r, err := DecodeResponse(frame)
		if err != nil {
			cn.fail(err)
			return
		}
		if r.Header.GetStatus() == yarnpb.RpcResponseHeaderProto_FATAL {
			// The server closes the connection after a fatal error, which
			// may not name a call (id -1): every call fails with it.
			cn.fail(remoteError(r.Header))
			return
		}
		cn.mu.Lock()
		ch, ok := cn.pending[r.CallID()]
		delete(cn.pending, r.CallID())
		cn.mu.Unlock()
		if ok {
			ch <- r
		}
		// A response to a call that gave up (its context ended) is dropped.
	}
}

// frameReader yields response frames (without their length prefix).
type frameReader interface {
	ReadFrame() ([]byte, error)
}

// frameWriter sends request frames (with their length prefix).
type frameWriter interface {
	WriteFrame(frame []byte) error
}

type plainReader struct {
	r   io.Reader
	max int
}

func (p *plainReader) ReadFrame() ([]byte, error) { return ReadFrame(p.r, p.max) }

type plainWriter struct{ w io.Writer }

func (p *plainWriter) WriteFrame(frame []byte) error {
	_, err := p.w.Write(frame)
	return err
}
