package task

import (
	"testing"

	"github.com/spate-io/spate/worker/network"
)

// TestInputWatermarkMetric: the watermark a gate input publishes is the
// valve's (the minimum over channels), and the task's is the minimum over
// its inputs; NoWatermark until every channel has one.
func TestInputWatermarkMetric(t *testing.T) {
	gate := network.NewInputGate[int](2, 10, 1, make(chan struct{}, 1))
	var io TaskIO
	io.Inputs = 1
	io.InputWatermarks[0].Store(NoWatermark)
	in, err := TypeOf[int]().newInput(gate, Output[int](discard[int]{}), 0, NewBarrierHandler([]Gate{gate}, true, nil), &io.InputWatermarks[0])
	if err != nil {
		t.Fatal(err)
	}
	step := func(ch int, ts int64, want int64) {
		t.Helper()
		if err := gate.Channel(ch).SendEvent(network.WatermarkEvent(ts)); err != nil {
			t.Fatal(err)
		}
		if ok, err := in.processNext(); !ok || err != nil {
			t.Fatalf("processNext = %v, %v", ok, err)
		}
		if got := io.InputWatermark(); got != want {
			t.Fatalf("after watermark %d on channel %d: input watermark %d, want %d", ts, ch, got, want)
		}
	}
	step(0, 100, NoWatermark) // channel 1 has none yet
	step(1, 50, 50)
	step(1, 300, 100)
	step(0, 400, 300)
}

func TestTaskIOInputWatermark(t *testing.T) {
	var io TaskIO
	if got := io.InputWatermark(); got != NoWatermark {
		t.Fatalf("a source's input watermark = %d, want NoWatermark", got)
	}
	io.Inputs = 2
	io.InputWatermarks[0].Store(7)
	io.InputWatermarks[1].Store(5)
	if got := io.InputWatermark(); got != 5 {
		t.Fatalf("two inputs at 7 and 5: %d, want 5", got)
	}
}

// BenchmarkGateInput is the input side of a task's loop: a batch of 1024
// records through a gate input, with a watermark every 16 batches (its
// store into TaskIO is the only metrics work on this path; the record path
// itself only counts per batch in the operators).
func BenchmarkGateInput(b *testing.B) {
	gate := network.NewInputGate[int](1, 4, 1024, make(chan struct{}, 1))
	var io TaskIO
	io.Inputs = 1
	in, err := TypeOf[int]().newInput(gate, Output[int](discard[int]{}), 0, NewBarrierHandler([]Gate{gate}, true, nil), &io.InputWatermarks[0])
	if err != nil {
		b.Fatal(err)
	}
	ch := gate.Channel(0)
	n := int64(0)
	for b.Loop() {
		buf, err := ch.Acquire()
		if err != nil {
			b.Fatal(err)
		}
		for i := range 1024 {
			buf = append(buf, i)
		}
		if err := ch.Send(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := in.processNext(); err != nil {
			b.Fatal(err)
		}
		if n++; n%16 == 0 {
			if err := ch.SendEvent(network.WatermarkEvent(n)); err != nil {
				b.Fatal(err)
			}
			if _, err := in.processNext(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*1024), "ns/record")
}
