package ipc

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// A server that accepts and then never answers: the call must end at its
// context's deadline, not hang. (The real-server tests are in package yarn.)
func TestCallEndsAtContextDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	cl, err := NewClient(Options{Addr: l.Addr().String(), Protocol: "p", User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	err = cl.Call(ctx, "m", &yarnpb.GetClusterMetricsRequestProto{}, &yarnpb.GetClusterMetricsResponseProto{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("call took %v", d)
	}
	// With no deadline of its own, CallTimeout bounds the call.
	cl2, _ := NewClient(Options{Addr: l.Addr().String(), Protocol: "p", User: "u", CallTimeout: 100 * time.Millisecond})
	defer cl2.Close()
	if err := cl2.Call(context.Background(), "m", &yarnpb.GetClusterMetricsRequestProto{}, &yarnpb.GetClusterMetricsResponseProto{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded from CallTimeout", err)
	}
}

// A SASL handshake against a server that never answers ends at the
// deadline too, as an AuthError.
func TestSASLHandshakeEndsAtContextDeadline(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
		}
	}()
	cl, _ := NewClient(Options{Addr: l.Addr().String(), Protocol: "p", Mechanisms: []Mechanism{nopMechanism{}}})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = cl.Call(ctx, "m", &yarnpb.GetClusterMetricsRequestProto{}, &yarnpb.GetClusterMetricsResponseProto{})
	var ae *AuthError
	if !errors.As(err, &ae) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want an AuthError with DeadlineExceeded", err)
	}
}

type nopMechanism struct{}

func (nopMechanism) Method() string    { return "TOKEN" }
func (nopMechanism) Mechanism() string { return "DIGEST-MD5" }
func (nopMechanism) User() string      { return "" }
func (nopMechanism) Start(*yarnpb.RpcSaslProto_SaslAuth) (Session, []byte, error) {
	return nil, nil, errors.New("not used")
}

// A server that closes the connection after reading a call fails the call
// with ErrConnectionLost, and the next call makes a new connection.
func TestConnectionLostMidCall(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{}, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() {
				// Header (7 bytes) and the connection context, then the call.
				buf := make([]byte, 7)
				io.ReadFull(c, buf)
				ReadFrame(c, 1<<20)
				ReadFrame(c, 1<<20)
				c.Close()
			}()
		}
	}()
	cl, _ := NewClient(Options{Addr: l.Addr().String(), Protocol: "p", User: "u"})
	defer cl.Close()
	for i := 0; i < 2; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := cl.Call(ctx, "m", &yarnpb.GetClusterMetricsRequestProto{}, &yarnpb.GetClusterMetricsResponseProto{})
		cancel()
		if !errors.Is(err, ErrConnectionLost) {
			t.Fatalf("call %d: err = %v, want ErrConnectionLost", i, err)
		}
	}
	if len(accepted) != 2 {
		t.Fatalf("%d connections, want a new one for the second call", len(accepted))
	}
}
