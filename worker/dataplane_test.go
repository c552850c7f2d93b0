package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/sdk/codec"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
)

// TestDataPlaneCredits: across a real authenticated TCP connection, a
// consumer that does not poll receives exactly as many buffers as its
// channel has credits, the producer then waits for credit, its bytes sent are
// exactly those buffers, and each recycled buffer lets exactly one more
// through.
func TestDataPlaneCredits(t *testing.T) {
	const credits, batch = 3, 64
	out, in, consumer, sinkChain := twoPlanes(t)
	w, cid := openChannel(t, out, in, sinkChain, 0, credits, batch)
	c, _ := codec.For[int64]()
	buf := func() network.Buffer[int64] {
		b := network.Buffer[int64]{}
		for i := range batch {
			b.Records = append(b.Records, int64(1000+i))
		}
		return b
	}
	var one int64
	{
		w2 := network.NewRemoteWriter[int64](countLink{&one}, c, batch)
		w2.AddCredit(1)
		b, _ := w2.AcquireBuffer()
		b.Records = buf().Records
		_ = w2.SendBuffer(b)
	}
	sent := make(chan struct{}, 100)
	go func() {
		for range 10 {
			b, err := w.AcquireBuffer()
			if err != nil {
				return
			}
			b.Records = append(b.Records, buf().Records...)
			if w.SendBuffer(b) != nil {
				return
			}
			sent <- struct{}{}
		}
	}()
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	wait("the producer to wait for credit", func() bool { return len(sent) == credits && w.Blocked() })
	if w.Credits() != 0 || w.BytesSent() != credits*one {
		t.Fatalf("%d credits left, %d bytes sent; want 0 and %d", w.Credits(), w.BytesSent(), credits*one)
	}
	gate := consumer.existing(cid).sides()[0].(*network.InputGate[int64])
	wait("the buffers at the consumer", func() bool { return gate.Stats().Queued == credits })
	b, ch, ok := gate.Poll()
	if !ok || len(b.Records) != batch || b.Records[0] != 1000 {
		t.Fatalf("poll: %d records, %v", len(b.Records), ok)
	}
	gate.RecycleBuffer(ch, b)
	wait("exactly one more buffer", func() bool { return len(sent) == credits+1 && w.Blocked() && gate.Stats().Queued == credits })
	if w.BytesSent() != (credits+1)*one || gate.Stats().Queued != credits {
		t.Fatalf("after one recycle: %d bytes sent, %d queued", w.BytesSent(), gate.Stats().Queued)
	}
}

// twoPlanes is a job of one source feeding one sink through a rebalance,
// and two DataPlanes on loopback: the producer's and the consumer's, whose
// gates are in consumer.
func twoPlanes(t *testing.T) (out, in *DataPlane, consumer *Shuffle, sinkChain int) {
	t.Helper()
	g := graph.New("planes")
	src := g.AddNode(&graph.Node{Name: "src", Kind: graph.KindSource, Parallelism: 1, OutType: "int64",
		Factory: task.NewSourceFactory(task.SourceSpec[int64]{})})
	sink := g.AddNode(&graph.Node{Name: "sink", Kind: graph.KindSink, Parallelism: 1, InputSides: 1, ChainingDisabled: true})
	g.Connect(src.Index, sink.Index, 0, graph.Rebalance, nil)
	if err := g.Finalize(1, 128); err != nil {
		t.Fatal(err)
	}
	auth, err := transport.NewSharedSecret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	log := zerolog.New(io.Discard)
	reg := &task.JobRegistration{JobID: "j", Graph: g}
	consumer = NewShuffle()
	in, err = NewDataPlane("127.0.0.1:0", auth, transport.Options{}, consumer, func(string) *task.JobRegistration { return reg }, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Close)
	out, err = NewDataPlane("127.0.0.1:0", auth, transport.Options{}, NewShuffle(), func(string) *task.JobRegistration { return reg }, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(out.Close)
	return out, in, consumer, sink.Chain
}

// openChannel opens the channel from attempt's source to attempt's sink.
func openChannel(t *testing.T, out, in *DataPlane, sinkChain, attempt, credits, batch int) (*network.RemoteWriter[int64], task.ExecutionAttemptID) {
	t.Helper()
	cid := task.ExecutionAttemptID{JobID: "j", Attempt: attempt, Chain: sinkChain}
	rc, err := out.Open(context.Background(), in.Addr(), task.ExecutionAttemptID{JobID: "j", Attempt: attempt},
		channelKey{Consumer: cid, Side: 0, Channel: 0, GateChannels: 1, Edge: 0, Credits: credits, BatchSize: batch}, task.TypeOf[int64]())
	if err != nil {
		t.Fatal(err)
	}
	return rc.(*network.RemoteWriter[int64]), cid
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestDataPlaneStaleBufferAfterCancel: a buffer of a cancelled attempt that
// reaches the consumer after its gate was closed is dropped, and the
// connection goes on carrying the next attempt's channels. (It used to count
// as a broken peer: the consumer closed the whole connection, which failed
// the restarted attempt's channels on it too, and the job restarted twice:
// TestRemoteExactlyOnceRecovery's "2 restarts, want 1" under load.)
func TestDataPlaneStaleBufferAfterCancel(t *testing.T) {
	const credits, batch = 2, 4
	out, in, consumer, sinkChain := twoPlanes(t)
	w0, cid0 := openChannel(t, out, in, sinkChain, 0, credits, batch)
	waitFor(t, "the first attempt's credits", func() bool { return w0.Credits() == credits })
	out.mu.Lock()
	o := out.out[in.Addr()]
	var id0 int64
	for id := range o.writers {
		id0 = id
	}
	out.mu.Unlock()

	// The consumer task is cancelled; the producer has a buffer on its way.
	consumer.existing(cid0).close(errors.New("task cancelled"))
	c, _ := codec.For[int64]()
	var stale []byte
	w := network.NewRemoteWriter[int64](captureLink{&stale}, c, batch)
	w.AddCredit(1)
	b, _ := w.AcquireBuffer()
	b.Records = append(b.Records, 7, 8)
	_ = w.SendBuffer(b)
	if err := (muxLink{mux: o.mux, id: id0}).Send(network.RemoteMessage{Kind: network.MsgBuffer, Payload: stale}); err != nil {
		t.Fatal(err)
	}

	// The next attempt opens its channel on the same connection.
	w1, cid1 := openChannel(t, out, in, sinkChain, 1, credits, batch)
	b, err := w1.AcquireBuffer()
	if err != nil {
		t.Fatalf("the second attempt's channel: %v", err)
	}
	b.Records = append(b.Records, 1, 2, 3)
	if err := w1.SendBuffer(b); err != nil {
		t.Fatal(err)
	}
	if err := w1.SendEvent(network.Event{Kind: network.EndOfPartition}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second attempt's gate", func() bool {
		in1 := consumer.existing(cid1)
		return in1 != nil && len(in1.sides()) == 1 && in1.sides()[0].Stats().Queued == 1
	})
	g1 := consumer.existing(cid1).sides()[0].(*network.InputGate[int64])
	var got []string
	for len(got) < 2 {
		// Finished turns true only once the EndOfPartition is polled: wait
		// for the next buffer or event itself.
		var b network.Buffer[int64]
		var ch int
		waitFor(t, "the next buffer or event", func() bool {
			var ok bool
			b, ch, ok = g1.Poll()
			return ok
		})
		if b.Event.Kind != network.NoEvent {
			got = append(got, b.Event.String())
			continue
		}
		got = append(got, fmt.Sprint(b.Records))
		g1.RecycleBuffer(ch, b)
	}
	if want := []string{"[1 2 3]", "EndOfPartition"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("second attempt got %q, want %q", got, want)
	}
	if q := consumer.existing(cid0).sides()[0].Stats().Queued; q != 0 {
		t.Fatalf("the cancelled attempt's gate has %d buffers, want none", q)
	}
	waitFor(t, "the first attempt's writer to learn of the close", func() bool { return w0.Err() != nil })
	if got, want := w0.Err().Error(), "the consumer closed the channel: task cancelled"; got != want {
		t.Fatalf("first attempt's writer: %q, want %q", got, want)
	}
	out.mu.Lock()
	same := out.out[in.Addr()] == o
	out.mu.Unlock()
	if !same || w1.Err() != nil {
		t.Fatalf("the connection was replaced (%v) or the second writer closed (%v)", !same, w1.Err())
	}
}

// TestDataPlaneCancelWakesProducer: a producer waiting for credit from a
// consumer in another process is woken, with the consumer's reason, when the
// consumer's gate closes (its task is cancelled); it used to wait forever,
// and the attempt's cancellation with it.
func TestDataPlaneCancelWakesProducer(t *testing.T) {
	const credits, batch = 2, 4
	out, in, consumer, sinkChain := twoPlanes(t)
	w, cid := openChannel(t, out, in, sinkChain, 0, credits, batch)
	ended := make(chan error, 1)
	go func() {
		for {
			b, err := w.AcquireBuffer()
			if err != nil {
				ended <- err
				return
			}
			b.Records = append(b.Records, 1)
			if err := w.SendBuffer(b); err != nil {
				ended <- err
				return
			}
		}
	}()
	waitFor(t, "the producer to wait for credit", func() bool {
		in := consumer.existing(cid)
		return w.Blocked() && in != nil && len(in.sides()) == 1 && in.sides()[0].Stats().Queued == credits
	})
	consumer.existing(cid).close(errors.New("task cancelled"))
	select {
	case err := <-ended:
		if got, want := err.Error(), "the consumer closed the channel: task cancelled"; got != want {
			t.Fatalf("producer ended with %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the producer still waits for credit after its consumer was cancelled")
	}
}

// TestDataPlaneBrokenPeerClosesGates: a producer that sends a buffer without
// a credit breaks its connection, and the consumer's gates on it are closed
// with that error (they used to stay open: the connection's close forgot
// them first).
func TestDataPlaneBrokenPeerClosesGates(t *testing.T) {
	out, in, consumer, sinkChain := twoPlanes(t)
	w, cid := openChannel(t, out, in, sinkChain, 0, 1, 4)
	waitFor(t, "the credit", func() bool { return w.Credits() == 1 })
	out.mu.Lock()
	o := out.out[in.Addr()]
	out.mu.Unlock()
	c, _ := codec.For[int64]()
	var p []byte
	cw := network.NewRemoteWriter[int64](captureLink{&p}, c, 4)
	cw.AddCredit(1)
	b, _ := cw.AcquireBuffer()
	_ = cw.SendBuffer(network.Buffer[int64]{Records: append(b.Records, 1)})
	for range 2 { // one credit, two buffers
		if err := (muxLink{mux: o.mux, id: 1}).Send(network.RemoteMessage{Kind: network.MsgBuffer, Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	g := consumer.existing(cid).sides()[0].(*network.InputGate[int64])
	var err error
	waitFor(t, "the gate to close", func() bool {
		err = g.Channel(0).SendEvent(network.Event{Kind: network.WatermarkStatus})
		return err != nil
	})
	if !errors.Is(err, network.ErrCreditExceeded) || !strings.HasPrefix(err.Error(), "data connection from 127.0.0.1:") {
		t.Fatalf("gate closed with %v, want the lost connection and ErrCreditExceeded", err)
	}
}

// captureLink keeps the payload of the last message sent through it.
type captureLink struct{ p *[]byte }

func (captureLink) Fail(error) {}

func (l captureLink) Send(m network.RemoteMessage) error {
	*l.p = append((*l.p)[:0], m.Payload...)
	return nil
}

// countLink counts the payload bytes sent through it.
type countLink struct{ n *int64 }

func (countLink) Fail(error) {}

func (l countLink) Send(m network.RemoteMessage) error {
	*l.n += int64(len(m.Payload))
	return nil
}

// TestCreditAnnouncerCoalesces: the credits queued between two writes go out
// as one CREDIT per channel, summed, in the order the channels were first
// queued; later credits go out anew.
func TestCreditAnnouncerCoalesces(t *testing.T) {
	auth, err := transport.NewSharedSecret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := transport.Listen("127.0.0.1:0", auth, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	accepted := make(chan *transport.Conn, 1)
	go func() {
		c, _ := l.Accept()
		accepted <- c
	}()
	pc, err := transport.Dial(t.Context(), l.Addr().String(), auth, transport.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 16)
	producer := transport.NewMux(pc, func(e *transport.Envelope) { got <- fmt.Sprintf("%v %d:%d", e.Kind, e.ChannelId, e.Credits) }, nil)
	t.Cleanup(func() { producer.Close() })
	consumer := transport.NewMux(<-accepted, func(*transport.Envelope) {}, nil)
	t.Cleanup(func() { consumer.Close() })

	// No goroutine: the test flushes.
	a := &creditAnnouncer{mux: consumer, wake: make(chan struct{}, 1), pending: map[int64]int32{}}
	for _, c := range []struct {
		ch int64
		n  int32
	}{{7, 1}, {3, 2}, {7, 1}, {7, 1}, {3, 1}, {9, 4}} {
		a.announce(c.ch, c.n)
	}
	if err := a.flush(); err != nil {
		t.Fatal(err)
	}
	a.announce(3, 1)
	if err := a.flush(); err != nil {
		t.Fatal(err)
	}
	if err := a.flush(); err != nil { // nothing queued: nothing sent
		t.Fatal(err)
	}
	for _, want := range []string{"CREDIT 7:3", "CREDIT 3:3", "CREDIT 9:4", "CREDIT 3:1"} {
		select {
		case e := <-got:
			if e != want {
				t.Fatalf("got %s, want %s", e, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s", want)
		}
	}
	if err := consumer.Send(&transport.Envelope{ChannelId: 1, Kind: transport.KindClose}); err != nil {
		t.Fatal(err)
	}
	if e := <-got; e != "CLOSE 1:0" {
		t.Fatalf("after the credits: %s, want CLOSE 1:0 (nothing else in between)", e)
	}
}
