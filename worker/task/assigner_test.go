package task_test

import (
	"errors"
	"math"
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

// TestTimestampAssignerRejectsNoTimestamp: an assigner that returns
// math.MinInt64, the "no timestamp" marker, fails the operator with
// ErrReservedTimestamp instead of passing on a record that silently lost its
// event time; nothing of the batch goes downstream. math.MinInt64+1 is a
// valid timestamp.
func TestTimestampAssignerRejectsNoTimestamp(t *testing.T) {
	var lines []string
	ctx := &task.OperatorContext{OperatorName: "wm", Parallelism: 1, BatchSize: 8, Metrics: &task.OperatorMetrics{},
		Timers: &fakeTimers{}, WatermarkInterval: 200 * time.Millisecond}
	op := task.NewTimestampsAndWatermarks(ctx, task.WatermarkSpec[int64]{
		Timestamp: func(v int64, _ int64) int64 { return v }}, task.Output[int64](eventLines{&lines}))
	err := op.Push([]int64{5, math.MinInt64, 7}, nil)
	const want = `operator "wm" (subtask 1 of 1) failed: timestamp assigner: timestamp -9223372036854775808 (math.MinInt64) is reserved for "no timestamp"; event timestamps must be greater`
	if err == nil || err.Error() != want {
		t.Fatalf("Push = %v\nwant %s", err, want)
	}
	if !errors.Is(err, task.ErrReservedTimestamp) {
		t.Errorf("Push = %v, does not wrap ErrReservedTimestamp", err)
	}
	if len(lines) != 0 {
		t.Errorf("the failed batch went downstream: %q", lines)
	}
	if err := op.Push([]int64{math.MinInt64 + 1}, nil); err != nil {
		t.Fatalf("Push(MinInt64+1) = %v, want it accepted", err)
	}
	if got, want := strings.Join(lines, "|"), "record -9223372036854775807"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTimestampsPassThroughWithoutAssigner: without a Timestamp function
// records keep the timestamps they carry, "no timestamp" included; that is
// not an error, since no user function produced it.
func TestTimestampsPassThroughWithoutAssigner(t *testing.T) {
	var lines []string
	ctx := &task.OperatorContext{OperatorName: "wm", Parallelism: 1, BatchSize: 8, Metrics: &task.OperatorMetrics{},
		Timers: &fakeTimers{}, WatermarkInterval: 200 * time.Millisecond}
	op := task.NewTimestampsAndWatermarks(ctx, task.WatermarkSpec[int64]{}, task.Output[int64](eventLines{&lines}))
	if err := op.Push([]int64{1, 2}, []int64{40, network.NoTimestamp}); err != nil {
		t.Fatal(err)
	}
	if err := op.Push([]int64{3}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(lines, "|"), "record 40|record none|record none"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestWatermarkSaturatesAtMinInt64: the watermark, highest timestamp minus
// the bound minus 1, does not wrap around to the far future for timestamps
// near math.MinInt64; it stays at "no watermark" until it is above it.
func TestWatermarkSaturatesAtMinInt64(t *testing.T) {
	for _, tc := range []struct {
		ts   int64
		want string // the watermark emitted, "" for none
	}{
		{math.MinInt64 + 1, ""},
		{math.MinInt64 + 50, ""},
		{math.MinInt64 + 51, ""}, // exactly math.MinInt64: no progress
		{math.MinInt64 + 52, "Watermark(-9223372036854775807)"},
		{0, "Watermark(-51)"},
	} {
		var lines []string
		clock := &fakeTimers{}
		ctx := &task.OperatorContext{OperatorName: "wm", Parallelism: 1, BatchSize: 8, Metrics: &task.OperatorMetrics{},
			Timers: clock, WatermarkInterval: 200 * time.Millisecond}
		op := task.NewTimestampsAndWatermarks(ctx, task.WatermarkSpec[int64]{
			Timestamp: func(v int64, _ int64) int64 { return v }, OutOfOrderness: 50}, task.Output[int64](eventLines{&lines}))
		if err := op.Push([]int64{tc.ts}, nil); err != nil {
			t.Fatal(err)
		}
		lines = nil
		if err := clock.advance(200); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(lines, "|"); got != tc.want {
			t.Errorf("timestamp %d, bound 50: emitted %q, want %q", tc.ts, got, tc.want)
		}
	}
}
