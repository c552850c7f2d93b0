package sdk_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
)

type kpEvent struct {
	Key string
	TS  int64
}

// kpCounter counts each key's records per 10 ms bucket and emits the count when
// the watermark passes the bucket's end; records behind the watermark go to a
// side output.
type kpCounter struct {
	counts sdk.MapState[int64, int64]
	late   sdk.OutputTag[kpEvent]
}

func (c *kpCounter) Open(ctx *sdk.KeyedContext[string]) (err error) {
	c.counts, err = sdk.GetMapState(ctx, sdk.MapStateDescriptor[int64, int64]{Name: "counts"})
	return err
}

func (c *kpCounter) ProcessElement(ctx *sdk.KeyedContext[string], v kpEvent, out *sdk.Collector[string]) error {
	ts, ok := ctx.Timestamp()
	if !ok || ts != v.TS {
		return fmt.Errorf("record %v has timestamp %d, %v", v, ts, ok)
	}
	if ts <= ctx.CurrentWatermark() {
		return sdk.EmitSide(ctx, c.late, v)
	}
	bucket := ts / 10 * 10
	n, _ := c.counts.Get(bucket)
	c.counts.Put(bucket, n+1)
	ctx.RegisterEventTimeTimer(bucket + 9)
	return nil
}

func (c *kpCounter) OnTimer(ctx *sdk.KeyedContext[string], ts int64, out *sdk.Collector[string]) error {
	bucket := ts - 9
	n, _ := c.counts.Get(bucket)
	c.counts.Remove(bucket)
	out.Collect(fmt.Sprintf("%s@%d=%d", ctx.CurrentKey(), bucket, n))
	return nil
}

func TestKeyedProcessEventTimeTimersAndLateSideOutput(t *testing.T) {
	events := []kpEvent{{"a", 1}, {"b", 2}, {"a", 5}, {"a", 12}, {"b", 11}, {"a", 3}, {"a", 25}, {"b", 13}, {"a", 30}}
	for _, p := range []int{1, 2, 3} {
		cfg := conf.New()
		// No periodic watermark during the run: only the final one of the bounded
		// input fires the timers, so the result is exact.
		_ = cfg.Set("pipeline.auto-watermark-interval", "1 h")
		env := sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard)))
		late := sdk.NewOutputTag[kpEvent]("late")
		src := sdk.FromSlice(env, events).AssignTimestampsAndWatermarks(
			sdk.ForBoundedOutOfOrderness[kpEvent](2 * time.Millisecond).WithTimestampAssigner(func(e kpEvent) int64 { return e.TS }))
		counted := sdk.KeyedProcess(sdk.KeyBy(src, func(e kpEvent) string { return e.Key }),
			func() sdk.KeyedProcessFunction[string, kpEvent, string] { return &kpCounter{late: late} }).SetParallelism(p)
		got := sdk.Collect(counted)
		lateGot := sdk.Collect(sdk.SideOutput(counted, late))
		if _, err := env.Execute(context.Background(), "keyed-process"); err != nil {
			t.Fatal(err)
		}
		items := got.Items()
		slices.Sort(items)
		want := []string{"a@0=3", "a@10=1", "a@20=1", "a@30=1", "b@0=1", "b@10=2"}
		if !slices.Equal(items, want) || len(lateGot.Items()) != 0 {
			t.Fatalf("p=%d: got %v and late %v, want %v and none late", p, items, lateGot.Items(), want)
		}
	}
}

type kpJoin struct{ left sdk.ListState[int] }

func (j *kpJoin) Open(ctx *sdk.KeyedContext[int]) (err error) {
	j.left, err = sdk.GetListState(ctx, sdk.ListStateDescriptor[int]{Name: "left"})
	return err
}

func (j *kpJoin) ProcessElement1(ctx *sdk.KeyedContext[int], v int, out *sdk.Collector[string]) error {
	j.left.Add(v)
	return nil
}

func (j *kpJoin) ProcessElement2(ctx *sdk.KeyedContext[int], v string, out *sdk.Collector[string]) error {
	out.Collect(fmt.Sprintf("%s:%v", v, j.left.Get()))
	return nil
}

func (j *kpJoin) OnTimer(*sdk.KeyedContext[int], int64, *sdk.Collector[string]) error { return nil }

// TestKeyedCoProcessSharesStateAcrossInputs: both inputs of one key meet in one
// subtask and see the same keyed state, at any parallelism.
func TestKeyedCoProcessSharesStateAcrossInputs(t *testing.T) {
	for _, p := range []int{1, 3} {
		env := sdk.NewEnv(sdk.WithConfig(conf.New()), sdk.WithLogger(zerolog.New(io.Discard)))
		nums := sdk.FromSlice(env, []int{1, 2, 3, 4, 5, 6, 7, 8, 9})
		// The two sources race, so a name sees its key's numbers so far: always a
		// prefix, in order, of that key's numbers, never another key's.
		names := sdk.FromSlice(env, []string{"zero", "one", "two"})
		joined := sdk.KeyedCoProcess(sdk.KeyBy(nums, func(n int) int { return n % 3 }),
			sdk.KeyBy(names, func(s string) int { return map[string]int{"zero": 0, "one": 1, "two": 2}[s] }),
			func() sdk.KeyedCoProcessFunction[int, int, string, string] { return &kpJoin{} }).SetParallelism(p)
		got := sdk.Collect(joined)
		if _, err := env.Execute(context.Background(), "join"); err != nil {
			t.Fatal(err)
		}
		full := map[string][]int{"zero": {3, 6, 9}, "one": {1, 4, 7}, "two": {2, 5, 8}}
		if len(got.Items()) != 3 {
			t.Fatalf("p=%d: %v", p, got.Items())
		}
		for _, line := range got.Items() {
			var name string
			var rest string
			if i := strings.Index(line, ":"); i > 0 {
				name, rest = line[:i], line[i+1:]
			}
			want := full[name]
			ok := false
			for n := 0; n <= len(want); n++ {
				if rest == fmt.Sprint(want[:n]) {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("p=%d: %q does not see a prefix of its key's numbers %v", p, line, want)
			}
		}
	}
}
