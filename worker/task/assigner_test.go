package task_test

import (
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

type eventLines struct{ lines *[]string }

func (o eventLines) Push(batch []int64, ts []int64) error {
	for i := range batch {
		*o.lines = append(*o.lines, "record "+fmtTS(ts[i]))
	}
	return nil
}

func (o eventLines) Emit(e task.Event) error {
	*o.lines = append(*o.lines, e.String())
	return nil
}

// TestTimestampsAndWatermarks: bounded out-of-orderness emits max-bound-1 every
// interval, never backwards; idleness marks the stream idle and the next record
// active again; upstream watermarks are dropped except the final one.
func TestTimestampsAndWatermarks(t *testing.T) {
	var lines []string
	clock := &fakeTimers{}
	ctx := &task.OperatorContext{OperatorName: "wm", Parallelism: 1, BatchSize: 8, Metrics: &task.OperatorMetrics{},
		Timers: clock, WatermarkInterval: 200 * time.Millisecond}
	op := task.NewTimestampsAndWatermarks(ctx, task.WatermarkSpec[int64]{
		Timestamp: func(v int64, _ int64) int64 { return v }, OutOfOrderness: 50, Idleness: 1000}, task.Output[int64](eventLines{&lines}))
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return clock.advance(200) }, ""}, // nothing seen yet: no watermark
		{func() error { return op.Push([]int64{100, 300, 250}, nil) }, "record 100|record 300|record 250"},
		{func() error { return clock.advance(400) }, "Watermark(249)"},
		{func() error { return op.Push([]int64{120}, nil) }, "record 120"}, // late, still passed on
		{func() error { return clock.advance(600) }, ""},                   // no progress, nothing emitted
		{func() error { return op.Emit(network.WatermarkEvent(10_000)) }, ""},
		{func() error { return clock.advance(1400) }, "WatermarkStatus(idle)"},
		{func() error { return op.Push([]int64{400}, nil) }, "WatermarkStatus(active)|record 400"},
		{func() error { return clock.advance(1600) }, "Watermark(349)"},
		{func() error { return op.Emit(network.WatermarkEvent(network.MaxWatermark)) }, "Watermark(9223372036854775807)"},
		{func() error { return clock.advance(5000) }, ""},
	}
	for i, s := range steps {
		lines = nil
		if err := s.do(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(lines, "|"); got != s.want {
			t.Fatalf("step %d: got %q, want %q", i, got, s.want)
		}
	}
}
