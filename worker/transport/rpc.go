package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
)

// The control plane is Thrift RPC in the compact protocol, one message per
// frame, over an authenticated Conn. The framing is this package's (frame.go):
// the same bytes as Thrift's TFramedTransport, but with the errors that name the
// peer and the sizes, and with a frame's buffer grown only as its bytes arrive.

// keepFrameBuffer: a frame buffer larger than this is dropped after use rather
// than kept for the connection's life.
const keepFrameBuffer = 1 << 20

// frameTransport is a thrift.TTransport over one Conn: Write buffers a message,
// Flush sends it as one frame, Read reads frame after frame. A read error is
// sticky, because the position in the stream is lost with it.
type frameTransport struct {
	conn net.Conn
	fr   frameReader
	max  int
	rbuf []byte
	roff int
	rerr error
	wbuf []byte // frameHeaderSize reserved bytes, then the message
}

var _ thrift.TRichTransport = (*frameTransport)(nil)

func newFrameTransport(c *Conn, max int) *frameTransport {
	return &frameTransport{
		conn: c,
		fr:   frameReader{r: c, max: max, peer: c.RemoteAddr().String()},
		max:  max,
		wbuf: make([]byte, frameHeaderSize, 512),
	}
}

func (t *frameTransport) fill() error {
	for t.roff == len(t.rbuf) {
		if t.rerr != nil {
			return t.rerr
		}
		buf := t.rbuf
		if cap(buf) > keepFrameBuffer {
			buf = nil
		}
		f, err := t.fr.readFrame(buf)
		if err != nil {
			t.rbuf, t.roff, t.rerr = nil, 0, err
			return err
		}
		t.rbuf, t.roff = f, 0
	}
	return nil
}

func (t *frameTransport) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := t.fill(); err != nil {
		return 0, err
	}
	n := copy(p, t.rbuf[t.roff:])
	t.roff += n
	return n, nil
}

func (t *frameTransport) ReadByte() (byte, error) {
	if err := t.fill(); err != nil {
		return 0, err
	}
	b := t.rbuf[t.roff]
	t.roff++
	return b, nil
}

func (t *frameTransport) Write(p []byte) (int, error) {
	t.wbuf = append(t.wbuf, p...)
	return len(p), nil
}

func (t *frameTransport) WriteByte(b byte) error {
	t.wbuf = append(t.wbuf, b)
	return nil
}

func (t *frameTransport) WriteString(s string) (int, error) {
	t.wbuf = append(t.wbuf, s...)
	return len(s), nil
}

// Flush sends the buffered message as one frame.
func (t *frameTransport) Flush(context.Context) error {
	if len(t.wbuf) == frameHeaderSize {
		return nil
	}
	defer func() {
		if cap(t.wbuf) > keepFrameBuffer {
			t.wbuf = make([]byte, frameHeaderSize, 512)
		}
		t.wbuf = t.wbuf[:frameHeaderSize]
	}()
	if err := putFrameHeader(t.wbuf, t.max, t.conn.RemoteAddr().String()); err != nil {
		return err
	}
	_, err := t.conn.Write(t.wbuf)
	return err
}

// RemainingBytes is what is left of the current frame; Thrift checks declared
// lengths against it.
func (t *frameTransport) RemainingBytes() uint64 { return uint64(len(t.rbuf) - t.roff) }
func (t *frameTransport) IsOpen() bool           { return true }
func (t *frameTransport) Open() error            { return nil }
func (t *frameTransport) Close() error           { return t.conn.Close() }

func thriftConf(max int) *thrift.TConfiguration {
	return &thrift.TConfiguration{MaxMessageSize: int32(max), MaxFrameSize: int32(max)}
}

func newRPCProtocol(c *Conn) (thrift.TProtocol, *frameTransport) {
	max := c.opts.maxFrame(DefaultControlMaxFrame)
	t := newFrameTransport(c, max)
	return thrift.NewTCompactProtocolConf(t, thriftConf(max)), t
}

// ServeRPC serves processor (a generated wire.New…Processor, or a
// thrift.TMultiplexedProcessor) on every connection l accepts, one goroutine per
// connection, calls on a connection one at a time. A connection ends on the
// peer's close, on a transport or protocol error (an oversized or truncated
// frame, a malformed message), which is logged with the remote address, and
// when ctx ends. An error a handler returns that the IDL does not declare is
// answered as a TApplicationException (INTERNAL_ERROR) and the connection goes
// on.
//
// ServeRPC returns nil after ctx ends (it then closes l and every connection and
// waits for their goroutines), or the error that stopped l.
func ServeRPC(ctx context.Context, l *Listener, processor thrift.TProcessor) error {
	var (
		mu    sync.Mutex
		conns = make(map[*Conn]struct{})
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	var err error
	for {
		var c *Conn
		c, err = l.Accept()
		if err != nil {
			break
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			c.Close()
			break
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveRPCConn(ctx, c, processor)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
	stop()
	l.Close()
	mu.Lock()
	for c := range conns {
		c.Close()
	}
	mu.Unlock()
	wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func serveRPCConn(ctx context.Context, c *Conn, processor thrift.TProcessor) {
	defer c.Close()
	proto, _ := newRPCProtocol(c)
	log := c.opts.Log.With().Str("remote", c.RemoteAddr().String()).Logger()
	for {
		ok, err := processor.Process(ctx, proto, proto)
		if err != nil {
			var tae thrift.TApplicationException
			switch {
			case errors.Is(err, io.EOF) && !errors.Is(err, ErrTruncatedFrame):
				return // the client closed between calls
			case ctx.Err() != nil:
				return
			case errors.As(err, &tae) && tae.TypeId() == thrift.UNKNOWN_METHOD:
				log.Warn().Err(err).Msg("transport: rpc call to an unknown method")
				continue
			case !ok:
				log.Warn().Err(err).Msg("transport: rpc connection ended")
				return
			default:
				// The handler failed; the client was told.
				log.Debug().Err(err).Msg("transport: rpc handler error")
			}
		}
		if !ok {
			return
		}
	}
}

// RPCClient is a thrift.TClient over one Conn, for the generated clients:
//
//	rm := wire.NewResourceManagerGatewayClient(transport.NewRPCClient(conn))
//
// It is safe for concurrent use; calls are made one at a time. The generated
// clients are not (they record the last response without a lock): give each
// goroutine its own, over the same RPCClient; they cost an allocation. A call ends by
// its context's deadline; a call whose context ends, or that fails in the
// transport or the protocol, leaves the stream at an unknown position, so it
// closes the connection and every later call returns an error wrapping
// ErrClosed: dial again. Errors the server's handler returned (declared
// exceptions, TApplicationException for the rest) leave the connection usable.
type RPCClient struct {
	mu     sync.Mutex
	conn   *Conn
	client *thrift.TStandardClient
	err    error // why the connection is unusable
}

var _ thrift.TClient = (*RPCClient)(nil)

// NewRPCClient returns a client over c, which it owns from now on.
func NewRPCClient(c *Conn) *RPCClient {
	proto, _ := newRPCProtocol(c)
	return &RPCClient{conn: c, client: thrift.NewTStandardClient(proto, proto)}
}

// Call implements thrift.TClient.
func (c *RPCClient) Call(ctx context.Context, method string, args, result thrift.TStruct) (thrift.ResponseMeta, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return thrift.ResponseMeta{}, fmt.Errorf("rpc %s to %s: %w (%v)", method, c.conn.RemoteAddr(), ErrClosed, c.err)
	}
	if err := ctx.Err(); err != nil {
		return thrift.ResponseMeta{}, fmt.Errorf("rpc %s to %s: %w", method, c.conn.RemoteAddr(), err)
	}
	dl, _ := ctx.Deadline() // zero: no deadline
	c.conn.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	meta, err := c.client.Call(ctx, method, args, result)
	stop()
	if err == nil || remoteHandlerError(err) {
		return meta, err
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	c.err = err
	c.conn.Close()
	return meta, fmt.Errorf("rpc %s to %s: %w", method, c.conn.RemoteAddr(), err)
}

// remoteHandlerError reports whether err is the server's answer to a call it
// read in full: the stream is still in step.
func remoteHandlerError(err error) bool {
	var tae thrift.TApplicationException
	if !errors.As(err, &tae) {
		return false
	}
	switch tae.TypeId() {
	case thrift.UNKNOWN_APPLICATION_EXCEPTION, thrift.UNKNOWN_METHOD, thrift.INTERNAL_ERROR, thrift.MISSING_RESULT:
		return true
	}
	return false
}

// Close closes the connection. Calls in progress fail.
func (c *RPCClient) Close() error {
	err := c.conn.Close()
	c.mu.Lock()
	if c.err == nil {
		c.err = errors.New("closed by the client")
	}
	c.mu.Unlock()
	return err
}
