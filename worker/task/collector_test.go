package task_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/window"
)

// countOutput counts what is pushed into it and keeps nothing.
type countOutput[T any] struct{ records, batches int }

func (c *countOutput[T]) Push(batch []T, _ []int64) error {
	c.records += len(batch)
	c.batches++
	return nil
}
func (c *countOutput[T]) Emit(task.Event) error { return nil }

// BenchmarkFlatMap pushes one batch of 1024 records through a FlatMap whose
// function emits fanout records per input record, with or without timestamps.
func BenchmarkFlatMap(b *testing.B) {
	const batchSize = 1024
	for _, bc := range []struct {
		fanout     int
		timestamps bool
	}{{1, false}, {8, false}, {10 * batchSize, false}, {8, true}} {
		fanout := bc.fanout
		name := fmt.Sprintf("fanout=%d", fanout)
		if bc.timestamps {
			name += "/timestamps"
		}
		b.Run(name, func(b *testing.B) {
			ctx := &task.OperatorContext{OperatorName: "flatmap", Parallelism: 1, BatchSize: batchSize, Metrics: &task.OperatorMetrics{}}
			out := &countOutput[int]{}
			op := task.NewFlatMap(ctx, func(v int, c *task.Collector[int]) error {
				for i := range fanout {
					c.Collect(v + i)
				}
				return nil
			}, task.Output[int](out))
			in := make([]int, batchSize)
			var ts []int64
			if bc.timestamps {
				ts = make([]int64, batchSize)
			}
			if fanout > batchSize {
				in, ts = in[:1], nil // one call emits a lot
			}
			for b.Loop() {
				if err := op.Push(in, ts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(out.records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// batchOutput records what is pushed into it: each batch's size, each record
// with its timestamp, each watermark. It fails the Push numbered failAt (1-based).
type batchOutput struct {
	events  []string
	batches []int
	pushes  int
	failAt  int
}

var errDownstream = errors.New("downstream failed")

func (o *batchOutput) Push(batch []string, ts []int64) error {
	o.pushes++
	if o.pushes == o.failAt {
		return errDownstream
	}
	if ts != nil && len(ts) != len(batch) {
		return fmt.Errorf("%d timestamps for %d records", len(ts), len(batch))
	}
	o.batches = append(o.batches, len(batch))
	for i, v := range batch {
		t := "none"
		if ts != nil && ts[i] != network.NoTimestamp {
			t = fmt.Sprint(ts[i])
		}
		o.events = append(o.events, v+"@"+t)
	}
	return nil
}

func (o *batchOutput) Emit(e task.Event) error {
	if e.Kind == network.Watermark {
		o.events = append(o.events, fmt.Sprintf("watermark %d", e.Timestamp))
	}
	return nil
}

// emitted is what a function emitting n records per input record v with
// timestamp ts should produce: "v-0@ts" … "v-(n-1)@ts".
func emitted(v string, n int, ts string) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s-%d@%s", v, i, ts))
	}
	return out
}

// checkBatches checks that no batch exceeded the batch size.
func checkBatches(t *testing.T, o *batchOutput, batchSize int) {
	t.Helper()
	for i, n := range o.batches {
		if n > batchSize {
			t.Errorf("batch %d holds %d records, more than the batch size %d", i, n, batchSize)
		}
	}
}

// TestFlatMapEmitsTenBatchesPerCall: a function that emits ten batches' worth
// per call gets every record downstream, in order, with its input's timestamp,
// in batches of at most the batch size pushed during the call; the collector
// never holds more than a batch.
func TestFlatMapEmitsTenBatchesPerCall(t *testing.T) {
	const batchSize = 4
	const n = 10 * batchSize
	ctx := &task.OperatorContext{OperatorName: "explode", Parallelism: 1, BatchSize: batchSize, Metrics: &task.OperatorMetrics{}}
	out := &batchOutput{}
	var col *task.Collector[string]
	maxCap := 0
	op := task.NewFlatMap(ctx, func(v string, c *task.Collector[string]) error {
		col = c
		before := len(out.events)
		for i := range n {
			c.Collect(fmt.Sprintf("%s-%d", v, i))
			maxCap = max(maxCap, cap(c.Records()))
		}
		if got := len(out.events) - before; got != n-n%batchSize {
			t.Errorf("%s: %d records pushed during the call, want %d", v, got, n-n%batchSize)
		}
		return nil
	}, task.Output[string](out))

	if err := op.Push([]string{"a", "b"}, []int64{10, 20}); err != nil {
		t.Fatal(err)
	}
	if err := op.Push([]string{"c"}, nil); err != nil {
		t.Fatal(err)
	}
	want := append(append(emitted("a", n, "10"), emitted("b", n, "20")...), emitted("c", n, "none")...)
	if !slices.Equal(out.events, want) {
		t.Errorf("got %d records\n%q\nwant %d\n%q", len(out.events), out.events, len(want), want)
	}
	checkBatches(t, out, batchSize)
	if maxCap > batchSize || cap(col.Records()) > batchSize {
		t.Errorf("collector capacity reached %d (now %d), want at most the batch size %d", maxCap, cap(col.Records()), batchSize)
	}
	if got := ctx.Metrics.RecordsOut.Load(); got != 3*n {
		t.Errorf("RecordsOut = %d, want %d", got, 3*n)
	}
}

// TestCollectorMixesTimestamps: records with and without an explicit
// timestamp, across flushes in the middle of a call, keep theirs.
func TestCollectorMixesTimestamps(t *testing.T) {
	ctx := &task.OperatorContext{OperatorName: "mix", Parallelism: 1, BatchSize: 3, Metrics: &task.OperatorMetrics{}}
	out := &batchOutput{}
	op := task.NewFlatMap(ctx, func(v string, c *task.Collector[string]) error {
		c.Collect(v + "-0")
		c.CollectWithTimestamp(v+"-1", 7)
		c.Collect(v + "-2")
		c.Collect(v + "-3")
		c.CollectWithTimestamp(v+"-4", 8)
		return nil
	}, task.Output[string](out))
	if err := op.Push([]string{"a", "b"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := op.Push([]string{"c"}, []int64{5}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"a-0@none", "a-1@7", "a-2@none", "a-3@none", "a-4@8",
		"b-0@none", "b-1@7", "b-2@none", "b-3@none", "b-4@8",
		"c-0@5", "c-1@7", "c-2@5", "c-3@5", "c-4@8",
	}
	if !slices.Equal(out.events, want) {
		t.Errorf("got\n%q\nwant\n%q", out.events, want)
	}
	checkBatches(t, out, 3)
}

// TestFlatMapFlushFailsDuringCall: when the output fails in the middle of a
// call, the operator returns that error after the call, and the records the
// call goes on collecting are not kept.
func TestFlatMapFlushFailsDuringCall(t *testing.T) {
	const batchSize = 4
	ctx := &task.OperatorContext{OperatorName: "explode", Parallelism: 1, BatchSize: batchSize, Metrics: &task.OperatorMetrics{}}
	out := &batchOutput{failAt: 2}
	var col *task.Collector[string]
	op := task.NewFlatMap(ctx, func(v string, c *task.Collector[string]) error {
		col = c
		for i := range 100 * batchSize {
			c.Collect(fmt.Sprintf("%s-%d", v, i))
		}
		return nil
	}, task.Output[string](out))
	err := op.Push([]string{"a"}, nil)
	var oe *task.OperatorError
	if !errors.Is(err, errDownstream) || !errors.As(err, &oe) || oe.Operator != "explode" {
		t.Fatalf("Push = %v, want the output's error, as an OperatorError of explode", err)
	}
	if !slices.Equal(out.events, emitted("a", batchSize, "none")) || out.pushes != 2 {
		t.Errorf("after the failure: %d pushes, records %q; want the first batch only, and no push after the failed one", out.pushes, out.events)
	}
	if cap(col.Records()) > batchSize {
		t.Errorf("collector capacity %d after the failure, want at most %d", cap(col.Records()), batchSize)
	}
}

// explodeTimer is a keyed process function whose every record sets an
// event-time timer, and whose timer emits n records.
type explodeTimer struct {
	rt *task.KeyedRuntime[string]
	n  int
}

func (f *explodeTimer) ProcessElement(v string, ts int64, out *task.Collector[string]) error {
	f.rt.Timers.RegisterEventTimeTimer(struct{}{}, ts)
	return nil
}

func (f *explodeTimer) OnTimer(ts int64, _ task.TimeDomain, out *task.Collector[string]) error {
	key := f.rt.Backend.CurrentKey()
	for i := range f.n {
		out.Collect(fmt.Sprintf("%s%d-%d", key, ts, i))
	}
	return nil
}

// TestKeyedProcessTimerEmitsTenBatches: timers that emit ten batches each get
// every record downstream, in timer order, with the timer's timestamp, before
// the watermark that fired them.
func TestKeyedProcessTimerEmitsTenBatches(t *testing.T) {
	const batchSize = 4
	const n = 10 * batchSize
	hash, _ := state.HasherFor[string]()
	ctx := &task.OperatorContext{OperatorName: "timers", Parallelism: 1, MaxParallelism: 128,
		KeyGroups: state.KeyGroupRange{Start: 0, End: 127}, BatchSize: batchSize, Metrics: &task.OperatorMetrics{}, Timers: &fakeTimers{}}
	out := &batchOutput{}
	op, err := task.NewKeyedProcess(ctx, func(s string) string { return s }, hash, func(rt *task.KeyedRuntime[string]) (task.KeyedProcessor[string, string], error) {
		return &explodeTimer{rt: rt, n: n}, nil
	}, task.Output[string](out))
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Push([]string{"k", "j"}, []int64{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := op.Emit(network.WatermarkEvent(5)); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("k1-%d@1", i))
	}
	for i := range n {
		want = append(want, fmt.Sprintf("j2-%d@2", i))
	}
	want = append(want, "watermark 5")
	if !slices.Equal(out.events, want) {
		t.Errorf("got %d events\n%q\nwant %d\n%q", len(out.events), out.events, len(want), want)
	}
	checkBatches(t, out, batchSize)
}

// TestWindowEmitsTenBatches: a window function that emits ten batches gets
// every record downstream, in order, with the window's timestamp, before the
// watermark that fired it.
func TestWindowEmitsTenBatches(t *testing.T) {
	const batchSize = 4
	const n = 10 * batchSize
	hash, _ := state.HasherFor[string]()
	ctx := &task.OperatorContext{OperatorName: "window", Parallelism: 1, MaxParallelism: 128,
		KeyGroups: state.KeyGroupRange{Start: 0, End: 127}, BatchSize: batchSize, Metrics: &task.OperatorMetrics{}, Timers: &fakeTimers{}}
	tumbling, err := window.TumblingEventTime(10, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := &batchOutput{}
	spec := task.WindowSpec[string, string, int64, string]{Key: func(s string) string { return s }, Hash: hash, Assigner: tumbling,
		Add:   func(acc int64, _ bool, _ string, _ int64) int64 { return acc + 1 },
		Merge: func(a, b int64) int64 { return a + b },
		Emit: func(k string, w window.Window, acc int64, c *task.Collector[string]) error {
			for i := range n {
				c.Collect(fmt.Sprintf("%s%d-%d", k, acc, i))
			}
			return nil
		}}
	op, err := task.NewWindowOperator(ctx, spec, task.Output[string](out))
	if err != nil {
		t.Fatal(err)
	}
	if err := op.Push([]string{"k", "k", "j"}, []int64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := op.Emit(network.WatermarkEvent(20)); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{} // the order of keys within a firing is the timer queue's
	var rest []string
	for _, e := range out.events {
		switch {
		case strings.HasPrefix(e, "k"), strings.HasPrefix(e, "j"):
			got[e[:1]] = append(got[e[:1]], e)
		default:
			rest = append(rest, e)
		}
	}
	if want := emitted("k2", n, "9"); !slices.Equal(got["k"], want) {
		t.Errorf("key k: %q, want %q", got["k"], want)
	}
	if want := emitted("j1", n, "9"); !slices.Equal(got["j"], want) {
		t.Errorf("key j: %q, want %q", got["j"], want)
	}
	if want := []string{"watermark 20"}; !slices.Equal(rest, want) || out.events[len(out.events)-1] != "watermark 20" {
		t.Errorf("events other than records: %q, want the watermark last", rest)
	}
	checkBatches(t, out, batchSize)
}

// TestFlatMapPushDoesNotAllocate: the FlatMap path, a batch at a time, is
// allocation-free once warm, whether one call emits a few records or many
// batches, with or without timestamps.
func TestFlatMapPushDoesNotAllocate(t *testing.T) {
	const batchSize = 64
	for _, fanout := range []int{1, 8, 10 * batchSize} {
		for _, withTS := range []bool{false, true} {
			ctx := &task.OperatorContext{OperatorName: "flatmap", Parallelism: 1, BatchSize: batchSize, Metrics: &task.OperatorMetrics{}}
			op := task.NewFlatMap(ctx, func(v int, c *task.Collector[int]) error {
				for i := range fanout {
					c.Collect(v + i)
				}
				return nil
			}, task.Output[int](&countOutput[int]{}))
			in := make([]int, batchSize)
			var ts []int64
			if withTS {
				ts = make([]int64, batchSize)
			}
			if n := testing.AllocsPerRun(20, func() {
				if err := op.Push(in, ts); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("fanout %d, timestamps %v: %v allocations per Push, want 0", fanout, withTS, n)
			}
		}
	}
}

// TestCollectWithReservedTimestamp: math.MinInt64 means "no timestamp", so a
// function that emits it fails its operator naming the cause, and the record
// goes nowhere; the timestamp one above is fine.
func TestCollectWithReservedTimestamp(t *testing.T) {
	ctx := &task.OperatorContext{OperatorName: "stamp", Parallelism: 1, BatchSize: 4, Metrics: &task.OperatorMetrics{}}
	out := &batchOutput{failAt: -1}
	op := task.NewFlatMap(ctx, func(v int64, c *task.Collector[string]) error {
		c.CollectWithTimestamp(fmt.Sprint(v), v)
		return nil
	}, task.Output[string](out))
	if err := op.Push([]int64{math.MinInt64 + 1}, nil); err != nil {
		t.Fatal(err)
	}
	err := op.Push([]int64{math.MinInt64}, nil)
	var oe *task.OperatorError
	if !errors.Is(err, task.ErrReservedTimestamp) || !errors.As(err, &oe) || oe.Operator != "stamp" ||
		!strings.HasSuffix(err.Error(), `CollectWithTimestamp: timestamp -9223372036854775808 (math.MinInt64) is reserved for "no timestamp"; event timestamps must be greater`) {
		t.Fatalf("Push = %v", err)
	}
	if err := op.Finish(); err != nil {
		t.Fatal(err)
	}
	if want := []string{fmt.Sprintf("-9223372036854775807@%d", int64(math.MinInt64+1))}; !slices.Equal(out.events, want) {
		t.Fatalf("emitted %q, want %q", out.events, want)
	}
}
