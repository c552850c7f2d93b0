package transport

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

func TestHandshakeBothWays(t *testing.T) {
	client, server := connPair(t, Options{})
	for _, c := range []*Conn{client, server} {
		if got := c.Peer().Mechanism; got != SharedSecretMechanism {
			t.Errorf("peer mechanism = %q, want %q", got, SharedSecretMechanism)
		}
		if got := c.Peer().Principal; got != "" {
			t.Errorf("peer principal = %q, want empty for a shared secret", got)
		}
	}
	if got, want := server.Peer().Addr.String(), client.LocalAddr().String(); got != want {
		t.Errorf("server sees peer %s, want %s", got, want)
	}
	// Nothing of the handshake is left in either stream.
	exchange := func(from, to *Conn, msg string) {
		t.Helper()
		if _, err := from.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(to, got); err != nil {
			t.Fatal(err)
		}
		if string(got) != msg {
			t.Fatalf("read %q, want %q", got, msg)
		}
	}
	exchange(client, server, "client to server")
	exchange(server, client, "server to client")
}

// otherMechanism stands for a side configured with Kerberos.
type otherMechanism struct{}

func (otherMechanism) Mechanism() string { return "GSSAPI" }
func (otherMechanism) Client(net.Conn, string) (Peer, error) {
	return Peer{}, errors.New("not reached")
}
func (otherMechanism) Server(net.Conn) (Peer, error) { return Peer{}, errors.New("not reached") }

// TestHandshakeRefused: each bad client is dropped with a log line that names
// its address and why, and a good client is accepted right after it.
func TestHandshakeRefused(t *testing.T) {
	const timeout = 300 * time.Millisecond
	auth := testSecret(t, 1)
	tests := []struct {
		name string
		// client does its bad thing on raw and returns the error its side saw
		// (nil where it only writes and reads the close).
		client func(t *testing.T, raw net.Conn) error
		logs   string // in the server's log line
		err    error  // what client must return, if anything
	}{
		{
			name: "wrong secret",
			client: func(t *testing.T, raw net.Conn) error {
				_, _, err := clientHandshake(raw, testSecret(t, 2), "")
				return err
			},
			logs: "client's proof does not match",
			err:  ErrAuthFailed,
		},
		{
			name:   "connects and closes without a word",
			client: func(t *testing.T, raw net.Conn) error { return nil },
			logs:   "peer closed the connection during the handshake",
		},
		{
			name: "garbage first",
			client: func(t *testing.T, raw net.Conn) error {
				_, err := raw.Write([]byte("GET / HTTP/1.1\r\nHost: spate\r\nAccept: */*\r\n\r\n"))
				return err
			},
			logs: `first bytes \"GET / HTTP/1.1\\r\\nHost: spate\\r\\nAcc\": not a spate handshake`,
		},
		{
			name: "a frame instead of the handshake",
			client: func(t *testing.T, raw net.Conn) error {
				_, err := raw.Write(append([]byte{0, 0, 0, 28}, make([]byte, 28)...))
				return err
			},
			logs: "not a spate handshake",
		},
		{
			name: "other mechanism",
			client: func(t *testing.T, raw net.Conn) error {
				_, _, err := clientHandshake(raw, otherMechanism{}, "")
				return err
			},
			logs: "client offers GSSAPI, this server requires HMAC-SHA256",
			err:  ErrMechanismMismatch,
		},
		{
			name: "slow peer beyond the timeout",
			client: func(t *testing.T, raw net.Conn) error {
				p := encodePreamble(SharedSecretMechanism)
				_, err := raw.Write(p[:10])
				return err
			},
			logs: "no handshake within 300ms",
		},
		{
			name: "silent after the preamble",
			client: func(t *testing.T, raw net.Conn) error {
				p := encodePreamble(SharedSecretMechanism)
				_, err := raw.Write(p[:])
				return err
			},
			logs: "no handshake within 300ms",
		},
	}
	l, logs := listen(t, auth, Options{HandshakeTimeout: timeout})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			raw.SetDeadline(time.Now().Add(testTimeout))
			remote := raw.LocalAddr().String()
			err = tt.client(t, raw)
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("client error = %v, want %v", err, tt.err)
			}
			if tt.err == nil && err != nil {
				t.Fatalf("client: %v", err)
			}
			if tt.name == "connects and closes without a word" {
				raw.Close()
			} else {
				// The server hangs up: the rest of what it sends, if anything, then EOF.
				if _, err := io.Copy(io.Discard, raw); err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
					t.Fatalf("reading until the server hangs up: %v", err)
				}
			}
			line := logs.waitLine(t, `"remote":"`+remote+`"`, "refused unauthenticated connection")
			if !strings.Contains(line, tt.logs) {
				t.Errorf("log line %s\ndoes not contain %s", line, tt.logs)
			}

			// A good client is served right after.
			accepted := acceptAsync(l)
			good, err := Dial(testCtx(t), l.Addr().String(), auth, Options{})
			if err != nil {
				t.Fatalf("good client after %s: %v", tt.name, err)
			}
			defer good.Close()
			r := <-accepted
			if r.err != nil {
				t.Fatal(r.err)
			}
			r.c.Close()
		})
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset by peer")
}

// TestHandshakeWrongSecretDial: Dial itself reports a wrong secret as ErrAuthFailed.
func TestHandshakeWrongSecretDial(t *testing.T) {
	l, _ := listen(t, testSecret(t, 1), Options{})
	_, err := Dial(testCtx(t), l.Addr().String(), testSecret(t, 2), Options{})
	if !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("Dial with the wrong secret: %v, want ErrAuthFailed", err)
	}
	if !strings.Contains(err.Error(), "refused our proof") {
		t.Errorf("error %q does not say the server refused our proof", err)
	}
}

// TestHandshakeRogueServer: a server that does not hold the secret cannot make a
// client believe it does.
func TestHandshakeRogueServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, preambleSize+nonceSize+proofSize)
		p := encodePreamble(SharedSecretMechanism)
		io.ReadFull(c, buf[:preambleSize])
		c.Write(p[:])
		io.ReadFull(c, buf[:nonceSize])
		rand.Read(buf[:nonceSize])
		c.Write(buf[:nonceSize])
		io.ReadFull(c, buf[:proofSize])
		rand.Read(buf[:proofSize])
		c.Write(buf[:proofSize]) // a guess
		io.Copy(io.Discard, c)
	}()
	_, err = Dial(testCtx(t), ln.Addr().String(), testSecret(t, 1), Options{})
	if !errors.Is(err, ErrAuthFailed) || !strings.Contains(err.Error(), "server's proof does not match") {
		t.Fatalf("Dial to a rogue server: %v, want ErrAuthFailed (server's proof does not match)", err)
	}
}

// TestDialTimeout: a server that accepts but never answers makes Dial fail by
// the handshake timeout, and by the context when that comes first.
func TestDialTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // never answers
		}
	}()
	auth := testSecret(t, 1)

	_, err = Dial(testCtx(t), ln.Addr().String(), auth, Options{HandshakeTimeout: 100 * time.Millisecond})
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Dial with HandshakeTimeout: %v, want a deadline error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	result := make(chan error, 1)
	go func() {
		_, err := Dial(ctx, ln.Addr().String(), auth, Options{HandshakeTimeout: testTimeout})
		result <- err
	}()
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("Dial with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestListenerCloseEndsHandshakes: Close does not wait for slow peers.
func TestListenerCloseEndsHandshakes(t *testing.T) {
	l, err := Listen("127.0.0.1:0", testSecret(t, 1), Options{HandshakeTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	waitFor(t, "the handshake to start", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.pending) == 1
	})
	done := make(chan error, 1)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close waited for a handshake")
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

func TestPreamble(t *testing.T) {
	p := encodePreamble(SharedSecretMechanism)
	want := append([]byte("SPATE\x01\x0bHMAC-SHA256"), make([]byte, preambleSize-18)...)
	if !bytes.Equal(p[:], want) {
		t.Fatalf("preamble = %q, want %q", p[:], want)
	}
	if got, err := parsePreamble(p); err != nil || got != SharedSecretMechanism {
		t.Fatalf("parsePreamble = %q, %v", got, err)
	}
	bad := p
	bad[5] = 2
	if _, err := parsePreamble(bad); !errors.Is(err, ErrNotHandshake) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("version 2: %v", err)
	}
	bad = p
	bad[31] = 'x'
	if _, err := parsePreamble(bad); !errors.Is(err, ErrNotHandshake) {
		t.Errorf("no zero padding: %v", err)
	}
	bad = p
	bad[7] = 'h'
	if _, err := parsePreamble(bad); !errors.Is(err, ErrNotHandshake) {
		t.Errorf("lower-case mechanism: %v", err)
	}
}
