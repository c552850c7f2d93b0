package worker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/sdk/codec"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
)

// envConsumer makes the test binary the consumer process of
// TestDataPlaneCreditsAcrossProcesses.
const envConsumer = "SPATE_TEST_DATAPLANE_CONSUMER"

// TestMain runs the consumer process when asked to, else the tests.
func TestMain(m *testing.M) {
	if os.Getenv(envConsumer) == "1" {
		os.Exit(consumerProcess())
	}
	os.Exit(m.Run())
}

// consumerProcess serves a DataPlane whose one gate is polled only when told:
// it prints "addr <host:port>", then answers each line on stdin, "queued"
// with "queued <n>" (buffers waiting in the gate) and "poll" with
// "polled <first record>" after recycling one buffer.
func consumerProcess() int {
	g, err := planesGraph()
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	auth, _ := transport.NewSharedSecret([]byte("0123456789abcdef0123456789abcdef"))
	reg := &task.JobRegistration{JobID: "j", Graph: g}
	shuffle := NewShuffle()
	in, err := NewDataPlane("127.0.0.1:0", auth, transport.Options{}, shuffle, func(string) *task.JobRegistration { return reg }, zerolog.New(io.Discard))
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	defer in.Close()
	fmt.Println("addr", in.Addr())
	cid := task.ExecutionAttemptID{JobID: "j", Chain: g.Nodes[1].Chain}
	gate := func() *network.InputGate[int64] {
		ti := shuffle.existing(cid)
		if ti == nil {
			return nil
		}
		return ti.sides()[0].(*network.InputGate[int64])
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		gt := gate()
		switch sc.Text() {
		case "queued":
			n := -1
			if gt != nil {
				n = gt.Stats().Queued
			}
			fmt.Println("queued", n)
		case "poll":
			b, ch, ok := gt.Poll()
			if !ok {
				fmt.Println("error nothing to poll")
				continue
			}
			first := b.Records[0]
			gt.RecycleBuffer(ch, b)
			fmt.Println("polled", first)
		}
	}
	return 0
}

// TestDataPlaneCreditsAcrossProcesses: the consumer is another process
// that does not poll. The producer sends exactly as many buffers as the
// channel has credits, then waits; its bytes sent are exactly those
// buffers, the consumer holds exactly that many, and each buffer the
// consumer recycles lets exactly one more through.
func TestDataPlaneCreditsAcrossProcesses(t *testing.T) {
	const credits, batch = 3, 64
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envConsumer+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	ask := func(q string) string {
		t.Helper()
		if q != "" {
			fmt.Fprintln(stdin, q)
		}
		if !lines.Scan() {
			t.Fatalf("the consumer process ended: %v", lines.Err())
		}
		return lines.Text()
	}
	addr, ok := strings.CutPrefix(ask(""), "addr ")
	if !ok {
		t.Fatalf("consumer: %q", addr)
	}

	g, err := planesGraph()
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := transport.NewSharedSecret([]byte("0123456789abcdef0123456789abcdef"))
	reg := &task.JobRegistration{JobID: "j", Graph: g}
	out, err := NewDataPlane("127.0.0.1:0", auth, transport.Options{}, NewShuffle(), func(string) *task.JobRegistration { return reg }, zerolog.New(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(out.Close)
	cid := task.ExecutionAttemptID{JobID: "j", Chain: g.Nodes[1].Chain}
	rc, err := out.Open(t.Context(), addr, task.ExecutionAttemptID{JobID: "j"},
		channelKey{Consumer: cid, Side: 0, Channel: 0, GateChannels: 1, Edge: 0, Credits: credits, BatchSize: batch}, task.TypeOf[int64]())
	if err != nil {
		t.Fatal(err)
	}
	w := rc.(*network.RemoteWriter[int64])
	c, _ := codec.For[int64]()
	// Buffer n's first record is 1000+n; all encode to the same size.
	records := func(n int) []int64 {
		r := make([]int64, batch)
		for i := range r {
			r[i] = int64(1000 + i)
		}
		r[0] = int64(1000 + n)
		return r
	}
	// The encoded size of one buffer, from a writer of its own.
	var one int64
	{
		w2 := network.NewRemoteWriter[int64](countLink{&one}, c, batch)
		w2.AddCredit(1)
		b, _ := w2.AcquireBuffer()
		b.Records = records(0)
		_ = w2.SendBuffer(b)
	}
	sent := make(chan struct{}, 100)
	go func() {
		for n := range 10 {
			b, err := w.AcquireBuffer()
			if err != nil {
				return
			}
			b.Records = append(b.Records, records(n)...)
			if w.SendBuffer(b) != nil {
				return
			}
			sent <- struct{}{}
		}
	}()
	waitFor(t, "the producer to wait for credit", func() bool { return len(sent) == credits && w.Blocked() })
	if w.Credits() != 0 || w.BytesSent() != credits*one {
		t.Fatalf("%d credits left, %d bytes sent; want 0 and %d", w.Credits(), w.BytesSent(), credits*one)
	}
	waitFor(t, "the buffers at the consumer", func() bool { return ask("queued") == "queued "+strconv.Itoa(credits) })
	if got := ask("poll"); got != "polled 1000" {
		t.Fatalf("consumer: %q, want polled 1000", got)
	}
	waitFor(t, "exactly one more buffer", func() bool { return len(sent) == credits+1 && w.Blocked() })
	waitFor(t, "the consumer to hold it", func() bool { return ask("queued") == "queued "+strconv.Itoa(credits) })
	if w.BytesSent() != (credits+1)*one || len(sent) != credits+1 {
		t.Fatalf("after one recycle: %d bytes sent, %d buffers; want %d and %d", w.BytesSent(), len(sent), (credits+1)*one, credits+1)
	}
}

// planesGraph is a source feeding a sink through a rebalance: the same job
// in both processes.
func planesGraph() (*graph.JobGraph, error) {
	g := graph.New("planes")
	src := g.AddNode(&graph.Node{Name: "src", Kind: graph.KindSource, Parallelism: 1, OutType: "int64",
		Factory: task.NewSourceFactory(task.SourceSpec[int64]{})})
	sink := g.AddNode(&graph.Node{Name: "sink", Kind: graph.KindSink, Parallelism: 1, InputSides: 1, ChainingDisabled: true})
	g.Connect(src.Index, sink.Index, 0, graph.Rebalance, nil)
	return g, g.Finalize(1, 128)
}
