package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// collector is a handler that keeps what it gets, per channel.
type collector struct {
	mu    sync.Mutex
	got   map[int64][]*Envelope
	count atomic.Int64
}

func newCollector() *collector { return &collector{got: map[int64][]*Envelope{}} }

func (c *collector) handle(e *Envelope) {
	e = &Envelope{ChannelId: e.ChannelId, Kind: e.Kind, Credits: e.Credits, Backlog: e.Backlog, Payload: bytes.Clone(e.Payload)}
	c.mu.Lock()
	c.got[e.ChannelId] = append(c.got[e.ChannelId], e)
	c.mu.Unlock()
	c.count.Add(1)
}

// closeRecorder records the onClose calls.
type closeRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *closeRecorder) onClose(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *closeRecorder) calls() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func muxPair(t *testing.T, opts Options) (a, b *Mux, ca, cb *collector, ra, rb *closeRecorder) {
	t.Helper()
	client, server := connPair(t, opts)
	ca, cb = newCollector(), newCollector()
	ra, rb = &closeRecorder{}, &closeRecorder{}
	a = NewMux(client, ca.handle, ra.onClose)
	b = NewMux(server, cb.handle, rb.onClose)
	t.Cleanup(func() { a.Close(); b.Close() })
	return
}

// TestMuxExactlyOnceInOrder: 1000 envelopes on 8 channels from 4 concurrent
// senders (each owns 2 channels) arrive exactly once, in order per channel, in
// both directions at once.
func TestMuxExactlyOnceInOrder(t *testing.T) {
	const (
		senders     = 4
		channels    = 8
		perSender   = 250
		total       = senders * perSender
		perChannel  = total / channels
		payloadSize = 100
	)
	a, b, ca, cb, _, _ := muxPair(t, Options{})
	send := func(m *Mux) error {
		var wg sync.WaitGroup
		errs := make(chan error, senders)
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perSender {
					ch := int64(s + senders*(i%2)) // sender s owns channels s and s+4
					seq := i / 2
					payload := make([]byte, payloadSize)
					binary.BigEndian.PutUint64(payload, uint64(ch))
					binary.BigEndian.PutUint64(payload[8:], uint64(seq))
					e := &Envelope{ChannelId: ch, Kind: KindBuffer, Backlog: int32(perChannel - 1 - seq), Payload: payload}
					if err := m.Send(e); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}
	results := make(chan error, 2)
	go func() { results <- send(a) }()
	go func() { results <- send(b) }()
	for range 2 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*collector{ca, cb} {
		waitFor(t, "1000 envelopes", func() bool { return c.count.Load() >= total })
		c.mu.Lock()
		if len(c.got) != channels {
			t.Errorf("envelopes on %d channels, want %d", len(c.got), channels)
		}
		for ch := range int64(channels) {
			got := c.got[ch]
			if len(got) != perChannel {
				t.Errorf("channel %d: %d envelopes, want %d", ch, len(got), perChannel)
				continue
			}
			for seq, e := range got {
				gotCh, gotSeq := binary.BigEndian.Uint64(e.Payload), binary.BigEndian.Uint64(e.Payload[8:])
				if e.Kind != KindBuffer || len(e.Payload) != payloadSize || gotCh != uint64(ch) ||
					gotSeq != uint64(seq) || e.Backlog != int32(perChannel-1-seq) {
					t.Errorf("channel %d, envelope %d: kind %v, %d bytes, payload for channel %d seq %d, backlog %d",
						ch, seq, e.Kind, len(e.Payload), gotCh, gotSeq, e.Backlog)
					break
				}
			}
		}
		c.mu.Unlock()
		if n := c.count.Load(); n != total {
			t.Errorf("received %d envelopes, want %d", n, total)
		}
	}
}

// TestMuxKinds: every kind goes through with its fields exactly.
func TestMuxKinds(t *testing.T) {
	a, _, _, cb, _, _ := muxPair(t, Options{})
	sent := []*Envelope{
		{ChannelId: 1, Kind: KindBuffer, Backlog: 3, Payload: make([]byte, 32<<10)},
		{ChannelId: 1, Kind: KindEvent, Payload: []byte("barrier 7")},
		{ChannelId: -9, Kind: KindCredit, Credits: 2},
		{ChannelId: 1 << 62, Kind: KindClose},
		{ChannelId: 5, Kind: KindError, Payload: []byte("producer failed: disk full")},
	}
	for _, e := range sent {
		if err := a.Send(e); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "5 envelopes", func() bool { return cb.count.Load() == int64(len(sent)) })
	cb.mu.Lock()
	defer cb.mu.Unlock()
	for _, want := range sent {
		got := cb.got[want.ChannelId]
		if len(got) == 0 {
			t.Errorf("nothing on channel %d", want.ChannelId)
			continue
		}
		if !got[0].Equals(want) {
			t.Errorf("channel %d: got %v, want %v", want.ChannelId, got[0], want)
		}
		cb.got[want.ChannelId] = got[1:]
	}
}

func TestMuxSendRefusesBadEnvelopes(t *testing.T) {
	a, _, _, _, _, _ := muxPair(t, Options{MaxFrameSize: 1024})
	tests := []struct {
		e    *Envelope
		want error
		text string
	}{
		{&Envelope{ChannelId: 1, Kind: 0}, ErrBadEnvelope, "unknown kind 0"},
		{&Envelope{ChannelId: 1, Kind: KindCredit}, ErrBadEnvelope, "grants 0 credits"},
		{&Envelope{ChannelId: 1, Kind: KindBuffer, Credits: 1}, ErrBadEnvelope, "carries 1 credits"},
		{&Envelope{ChannelId: 1, Kind: KindEvent, Backlog: 1}, ErrBadEnvelope, "has backlog 1"},
		{&Envelope{ChannelId: 1, Kind: KindBuffer, Payload: make([]byte, 1024)}, ErrFrameTooLarge, "above the frame limit of 1024 bytes"},
	}
	for _, tt := range tests {
		err := a.Send(tt.e)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.text) {
			t.Errorf("Send(%v) = %v, want %v (%s)", tt.e, err, tt.want, tt.text)
		}
	}
	// The connection goes on.
	if err := a.Send(&Envelope{ChannelId: 1, Kind: KindBuffer, Payload: make([]byte, 1000)}); err != nil {
		t.Fatal(err)
	}
}

// TestMuxClose: Close reports nil once, the peer sees io.EOF once, and Send
// afterwards fails with ErrClosed on both ends.
func TestMuxClose(t *testing.T) {
	a, b, _, _, ra, rb := muxPair(t, Options{})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	<-a.Done()
	<-b.Done()
	if got := ra.calls(); len(got) != 1 || got[0] != nil {
		t.Errorf("onClose of the closing end: %v, want one nil", got)
	}
	got := rb.calls()
	if len(got) != 1 || !errors.Is(got[0], io.EOF) || !strings.Contains(got[0].Error(), "connection closed by 127.0.0.1:") {
		t.Errorf("onClose of the other end: %v, want one io.EOF naming the peer", got)
	}
	e := &Envelope{ChannelId: 1, Kind: KindClose}
	if err := a.Send(e); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	if err := b.Send(e); !errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) {
		t.Errorf("Send after the peer closed: %v, want ErrClosed wrapping io.EOF", err)
	}
	if got := rb.calls(); len(got) != 1 {
		t.Errorf("onClose called %d times, want once", len(got))
	}
}

// TestMuxBadFrames: an oversized frame, a truncated frame or a frame that is
// not an envelope ends that connection, reported once, naming the peer and
// the sizes; another Mux on another connection goes on.
func TestMuxBadFrames(t *testing.T) {
	const max = 4096
	tests := []struct {
		name  string
		send  []byte
		close bool
		is    error
		text  string
	}{
		{name: "oversized", send: []byte{0, 0, 0x10, 0x01}, is: ErrFrameTooLarge,
			text: "declares 4097 bytes, above the limit of 4096 bytes"},
		{name: "truncated", send: append([]byte{0, 0, 0, 100}, "0123456789"...), close: true, is: ErrTruncatedFrame,
			text: "stream ended after 10 of 100 declared bytes"},
		{name: "not an envelope", send: frameBytes("hello"), is: ErrBadEnvelope, text: "envelope from 127.0.0.1:"},
	}
	other, _, _, otherGot, _, _ := muxPair(t, Options{MaxFrameSize: max})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := connPair(t, Options{MaxFrameSize: max})
			got := newCollector()
			closes := &closeRecorder{}
			m := NewMux(server, got.handle, closes.onClose)
			defer m.Close()
			good := &Envelope{ChannelId: 3, Kind: KindBuffer, Payload: []byte("before")}
			w := NewMux(client, func(*Envelope) {}, nil)
			if err := w.Send(good); err != nil {
				t.Fatal(err)
			}
			if _, err := client.Write(tt.send); err != nil {
				t.Fatal(err)
			}
			if tt.close {
				client.Conn.(*net.TCPConn).CloseWrite()
			}
			<-m.Done()
			errs := closes.calls()
			if len(errs) != 1 || !errors.Is(errs[0], tt.is) || !strings.Contains(errs[0].Error(), tt.text) {
				t.Fatalf("onClose: %v, want one %v (%s)", errs, tt.is, tt.text)
			}
			if !strings.Contains(errs[0].Error(), client.LocalAddr().String()) {
				t.Errorf("error %v does not name the peer %s", errs[0], client.LocalAddr())
			}
			if got.count.Load() != 1 {
				t.Errorf("received %d envelopes before the bad frame, want 1", got.count.Load())
			}
			w.Close()

			before := otherGot.count.Load()
			if err := other.Send(good); err != nil {
				t.Fatalf("the other connection after %s: %v", tt.name, err)
			}
			waitFor(t, "the other connection's envelope", func() bool { return otherGot.count.Load() == before+1 })
		})
	}
}

// TestMuxSendersMeetClose: senders racing Close all return, nil or ErrClosed.
func TestMuxSendersMeetClose(t *testing.T) {
	a, _, _, _, _, _ := muxPair(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				err := a.Send(&Envelope{ChannelId: int64(s), Kind: KindBuffer, Payload: make([]byte, 1024)})
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						errs <- fmt.Errorf("sender %d: %w", s, err)
					}
					return
				}
				if s == 0 && i == 100 {
					a.Close()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestMuxSendAll: SendAll sends its envelopes in order, stops at the first
// the peer would refuse (those before it sent, the error says why), and the
// connection goes on.
func TestMuxSendAll(t *testing.T) {
	a, _, _, cb, _, _ := muxPair(t, Options{})
	if err := a.SendAll([]*Envelope{
		{ChannelId: 1, Kind: KindCredit, Credits: 3},
		{ChannelId: 2, Kind: KindBuffer, Payload: make([]byte, 8<<10)},
		{ChannelId: 1, Kind: KindCredit, Credits: 1},
	}); err != nil {
		t.Fatal(err)
	}
	err := a.SendAll([]*Envelope{
		{ChannelId: 3, Kind: KindCredit, Credits: 2},
		{ChannelId: 3, Kind: KindBuffer, Credits: 1}, // credits only on CREDIT
		{ChannelId: 3, Kind: KindCredit, Credits: 5},
	})
	if !errors.Is(err, ErrBadEnvelope) {
		t.Fatalf("SendAll with a bad envelope: %v, want ErrBadEnvelope", err)
	}
	if err := a.Send(&Envelope{ChannelId: 3, Kind: KindClose}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "5 envelopes", func() bool { return cb.count.Load() == 5 })
	cb.mu.Lock()
	defer cb.mu.Unlock()
	var got []string
	for _, ch := range []int64{1, 2, 3} {
		for _, e := range cb.got[ch] {
			got = append(got, fmt.Sprintf("%d:%v:%d:%d", e.ChannelId, e.Kind, e.Credits, len(e.Payload)))
		}
	}
	want := []string{"1:CREDIT:3:0", "1:CREDIT:1:0", "2:BUFFER:0:8192", "3:CREDIT:2:0", "3:CLOSE:0:0"}
	if !slices.Equal(got, want) {
		t.Fatalf("received %q, want %q", got, want)
	}
}
