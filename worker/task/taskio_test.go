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
