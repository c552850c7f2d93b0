package transport

import (
	"errors"
	"fmt"
	"io"
	"net"
)

// Authenticator is one authentication mechanism, SASL-style: a fixed sequence of
// messages that ends with both sides knowing who is at the other end, or with an
// error. Two implement it: the shared secret (NewSharedSecret) and Kerberos
// (NewGSSAPI), which takes the server's principal from the configuration with
// _HOST replaced by the host dialed. WithTLS wraps either in TLS.
//
// Client and Server run on a fresh connection after the preamble (which names
// the mechanism) has been exchanged. The caller has set a deadline on conn and
// closes it on error. A mechanism must read only bounded amounts (a fixed
// message size, or a length it checks against a small limit before reading),
// must not read past its own last message (what follows is framed traffic), and
// must not log or return the secret or any proof.
type Authenticator interface {
	// Mechanism names the mechanism on the wire ("HMAC-SHA256", "GSSAPI"):
	// 1 to maxMechanismLen bytes of A-Z, 0-9 and '-'.
	Mechanism() string
	// Client authenticates to the server at the other end of conn, and the server
	// to us: both directions must succeed. host is the host part of the address
	// dialed (Kerberos names the server's principal by it).
	Client(conn net.Conn, host string) (Peer, error)
	// Server authenticates the client at the other end of conn, and us to it.
	Server(conn net.Conn) (Peer, error)
}

// Peer is the authenticated other end of a connection.
type Peer struct {
	Mechanism string
	// Principal is the authenticated identity where the mechanism has one
	// (GSSAPI: the Kerberos principal). It is empty for the shared secret, which
	// proves membership of the cluster, not identity.
	Principal string
	Addr      net.Addr
	// TLS is set when the connection runs inside mutual TLS (WithTLS).
	TLS bool
}

// The preamble opens every connection, in both directions, before the
// mechanism's messages:
//
//	offset  size  field
//	0       5     magic "SPATE"
//	5       1     handshake version (1)
//	6       1     length n of the mechanism name, 1..maxMechanismLen
//	7       n     mechanism name; the rest zero
//
// It lets a server tell a Spate client from garbage after 32 bytes, and two
// sides configured with different mechanisms fail with an error that says so.
const (
	preambleSize     = 32
	handshakeVersion = 1
	maxMechanismLen  = preambleSize - 7
)

var preambleMagic = [5]byte{'S', 'P', 'A', 'T', 'E'}

func validMechanism(name string) error {
	if len(name) == 0 || len(name) > maxMechanismLen {
		return fmt.Errorf("mechanism name %q must have 1 to %d bytes", name, maxMechanismLen)
	}
	for _, c := range []byte(name) {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("mechanism name %q may hold only A-Z, 0-9 and '-'", name)
		}
	}
	return nil
}

func encodePreamble(mechanism string) [preambleSize]byte {
	var p [preambleSize]byte
	copy(p[:], preambleMagic[:])
	p[5] = handshakeVersion
	p[6] = byte(len(mechanism))
	copy(p[7:], mechanism)
	return p
}

// parsePreamble returns the mechanism a valid preamble names, or an error
// wrapping ErrNotHandshake that quotes the bytes.
func parsePreamble(p [preambleSize]byte) (string, error) {
	if [5]byte(p[:5]) != preambleMagic {
		return "", fmt.Errorf("first bytes %q: %w", p[:], ErrNotHandshake)
	}
	if p[5] != handshakeVersion {
		return "", fmt.Errorf("handshake version %d, this build speaks %d: %w", p[5], handshakeVersion, ErrNotHandshake)
	}
	n := int(p[6])
	if n == 0 || n > maxMechanismLen {
		return "", fmt.Errorf("mechanism name of %d bytes: %w", n, ErrNotHandshake)
	}
	for _, c := range p[7+n:] {
		if c != 0 {
			return "", fmt.Errorf("preamble %q is not zero-padded: %w", p[:], ErrNotHandshake)
		}
	}
	name := string(p[7 : 7+n])
	if err := validMechanism(name); err != nil {
		return "", fmt.Errorf("%v: %w", err, ErrNotHandshake)
	}
	return name, nil
}

// connLayer is a layer below the handshake's preamble (TLS): it replaces the
// raw connection by one that runs over it. The deadline set on the raw
// connection bounds the layer's own handshake too.
type connLayer interface {
	clientLayer(conn net.Conn, host string) (net.Conn, error)
	serverLayer(conn net.Conn) (net.Conn, error)
}

// serverHandshake authenticates a freshly accepted connection: it reads the
// client's preamble (32 bytes, so garbage is refused after a bounded read),
// answers with its own, and runs the mechanism. It returns the connection to
// use from now on: conn itself, or the TLS connection over it. The caller
// sets the deadline.
func serverHandshake(conn net.Conn, auth Authenticator) (net.Conn, Peer, error) {
	if l, ok := auth.(connLayer); ok {
		var err error
		if conn, err = l.serverLayer(conn); err != nil {
			return nil, Peer{}, err
		}
	}
	var in [preambleSize]byte
	if _, err := io.ReadFull(conn, in[:]); err != nil {
		return nil, Peer{}, fmt.Errorf("read preamble: %w", describeReadErr(err))
	}
	mech, err := parsePreamble(in)
	if err != nil {
		return nil, Peer{}, err
	}
	out := encodePreamble(auth.Mechanism())
	if _, err := conn.Write(out[:]); err != nil {
		return nil, Peer{}, fmt.Errorf("write preamble: %w", err)
	}
	if mech != auth.Mechanism() {
		return nil, Peer{}, fmt.Errorf("client offers %s, this server requires %s: %w", mech, auth.Mechanism(), ErrMechanismMismatch)
	}
	peer, err := auth.Server(conn)
	return conn, peer, err
}

// clientHandshake is serverHandshake's other half; addr is the address
// dialed, whose host the mechanism may need.
func clientHandshake(conn net.Conn, auth Authenticator, addr string) (net.Conn, Peer, error) {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if l, ok := auth.(connLayer); ok {
		var err error
		if conn, err = l.clientLayer(conn, host); err != nil {
			return nil, Peer{}, err
		}
	}
	out := encodePreamble(auth.Mechanism())
	if _, err := conn.Write(out[:]); err != nil {
		return nil, Peer{}, fmt.Errorf("write preamble: %w", err)
	}
	var in [preambleSize]byte
	if _, err := io.ReadFull(conn, in[:]); err != nil {
		return nil, Peer{}, fmt.Errorf("read the server's preamble: %w", describeReadErr(err))
	}
	mech, err := parsePreamble(in)
	if err != nil {
		return nil, Peer{}, fmt.Errorf("server's answer: %w", err)
	}
	if mech != auth.Mechanism() {
		return nil, Peer{}, fmt.Errorf("server requires %s, this client offers %s: %w", mech, auth.Mechanism(), ErrMechanismMismatch)
	}
	peer, err := auth.Client(conn, host)
	return conn, peer, err
}

// describeReadErr turns the end of stream in the middle of a handshake into
// something a log reader understands.
func describeReadErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("peer closed the connection during the handshake: %w", err)
	}
	// TLS 1.3 tells a client that the server refused its certificate only
	// with the first read after the TLS handshake.
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return fmt.Errorf("the peer refused our TLS certificate (it must chain to the peer's security.ssl.internal.truststore): %w", err)
	}
	return err
}
