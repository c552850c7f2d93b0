package task_test

import (
	"strings"
	"testing"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

type joinFn struct {
	rt   *task.KeyedRuntime[string]
	seen state.ValueState[string]
}

func (j *joinFn) ProcessElement1(v string, ts int64, out *task.Collector[string]) error {
	j.seen.Update(v)
	j.rt.Timers.RegisterEventTimeTimer(struct{}{}, ts+10)
	return nil
}

func (j *joinFn) ProcessElement2(v string, ts int64, out *task.Collector[string]) error {
	if left, ok := j.seen.Value(); ok {
		out.Collect(left + "+" + v)
	}
	return nil
}

func (j *joinFn) OnTimer(ts int64, _ task.TimeDomain, out *task.Collector[string]) error {
	if left, ok := j.seen.Value(); ok {
		out.Collect("expired " + left)
		j.seen.Clear()
	}
	return nil
}

// TestCoProcessWatermarkIsMinimumOfInputs: the operator's watermark follows the
// slower input, and keyed timers fire on the combined watermark only.
func TestCoProcessWatermarkIsMinimumOfInputs(t *testing.T) {
	var lines []string
	hash, _ := state.HasherFor[string]()
	ctx := &task.OperatorContext{OperatorName: "join", Parallelism: 1, MaxParallelism: 128,
		KeyGroups: state.KeyGroupRange{Start: 0, End: 127}, BatchSize: 8, Metrics: &task.OperatorMetrics{}, Timers: &fakeTimers{}}
	out := lineOutput[string]{&lines, func(s string, ts int64) string { return s + " @" + fmtTS(ts) }}
	key := func(s string) string { return s[:1] }
	_, in1, in2, err := task.NewCoProcess(ctx, key, key, hash, func(rt *task.KeyedRuntime[string]) (task.CoProcessor[string, string, string], error) {
		j := &joinFn{rt: rt}
		var err error
		j.seen, err = state.GetValueState(rt.Backend, state.ValueStateDescriptor[string]{Name: "seen"})
		return j, err
	}, task.Output[string](out))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return in1.Push([]string{"a1", "b1"}, []int64{1, 2}) }, ""},
		{func() error { return in2.Push([]string{"a2", "c2"}, []int64{3, 4}) }, "a1+a2 @3"},
		{func() error { return in1.Emit(network.WatermarkEvent(20)) }, ""},
		{func() error { return in2.Emit(network.WatermarkEvent(11)) }, "expired a1 @11|watermark 11"},
		{func() error { return in2.Emit(network.WatermarkEvent(30)) }, "expired b1 @12|watermark 20"},
		{func() error { return in1.Emit(network.WatermarkEvent(25)) }, "watermark 25"},
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
