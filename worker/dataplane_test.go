package worker

import (
	"context"
	"io"
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
	g := graph.New("credits")
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
	consumer := NewShuffle()
	in, err := NewDataPlane("127.0.0.1:0", auth, transport.Options{}, consumer, func(string) *task.JobRegistration { return reg }, log)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := NewDataPlane("127.0.0.1:0", auth, transport.Options{}, NewShuffle(), func(string) *task.JobRegistration { return reg }, log)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cid := task.ExecutionAttemptID{JobID: "j", Chain: sink.Chain}
	rc, err := out.Open(context.Background(), in.Addr(), task.ExecutionAttemptID{JobID: "j"},
		channelKey{Consumer: cid, Side: 0, Channel: 0, GateChannels: 1, Edge: 0, Credits: credits, BatchSize: batch}, task.TypeOf[int64]())
	if err != nil {
		t.Fatal(err)
	}
	w := rc.(*network.RemoteWriter[int64])
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
	wait("exactly one more buffer", func() bool { return len(sent) == credits+1 && w.Blocked() })
	if w.BytesSent() != (credits+1)*one || gate.Stats().Queued != credits {
		t.Fatalf("after one recycle: %d bytes sent, %d queued", w.BytesSent(), gate.Stats().Queued)
	}
}

// countLink counts the payload bytes sent through it.
type countLink struct{ n *int64 }

func (l countLink) Send(m network.RemoteMessage) error {
	*l.n += int64(len(m.Payload))
	return nil
}
