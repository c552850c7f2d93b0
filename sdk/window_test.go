package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
)

// TestWindowSizeErrors: window sizes, slides and gaps that cannot work are
// graph-building errors that say why: below the 1ms resolution (not "must
// be > 0, got 0"), or so large against the slide that every element would go
// to trillions of windows.
func TestWindowSizeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    sdk.WindowAssigner
		want string
	}{
		{"tumbling 500µs", sdk.TumblingEventTimeWindows(500 * time.Microsecond),
			`invalid job: Window: invalid window argument: TumblingEventTimeWindows size 500µs is below 1ms, the resolution of window time; use at least 1ms`},
		{"tumbling 0", sdk.TumblingProcessingTimeWindows(0),
			`invalid job: Window: invalid window argument: TumblingProcessingTimeWindows size must be > 0, got 0`},
		{"sliding by 999µs", sdk.SlidingEventTimeWindows(time.Second, 999*time.Microsecond),
			`invalid job: Window: invalid window argument: SlidingEventTimeWindows slide 999µs is below 1ms, the resolution of window time; use at least 1ms`},
		{"sliding of 1ns", sdk.SlidingProcessingTimeWindows(time.Nanosecond, time.Second),
			`invalid job: Window: invalid window argument: SlidingProcessingTimeWindows size 1ns is below 1ms, the resolution of window time; use at least 1ms`},
		{"session gap 1µs", sdk.EventTimeSessionWindows(time.Microsecond),
			`invalid job: Window: invalid window argument: EventTimeSessionWindows gap 1µs is below 1ms, the resolution of window time; use at least 1ms`},
		{"processing-time session gap -1ms", sdk.ProcessingTimeSessionWindows(-time.Millisecond),
			`invalid job: Window: invalid window argument: ProcessingTimeSessionWindows gap must be > 0, got -1`},
		{"sliding the longest duration by 1ms", sdk.SlidingEventTimeWindows(time.Duration(math.MaxInt64), time.Millisecond),
			`invalid job: Window: invalid window argument: SlidingEventTimeWindows size 9223372036854 and slide 1 put every element in 9223372036854 windows, more than the 1048576 allowed; use a larger slide or a smaller size`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := apiEnv(t, 1)
			sdk.Collect(sdk.ProcessWindow(sdk.KeyBy(sdk.FromSequence(env, 1, 10), identity).Window(tc.a), emitAll))
			_, err := env.Plan("windows")
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Plan = %v\nwant %s", err, tc.want)
			}
			if !errors.Is(err, sdk.ErrInvalidJob) {
				t.Errorf("Plan = %v, does not wrap ErrInvalidJob", err)
			}
		})
	}
}

// TestWindowsAtTheEndsOfTime runs windows of the longest size over
// timestamps at both ends of the int64 range: the windows are cut at
// math.MinInt64 and math.MaxInt64 instead of wrapping around, hold their
// elements and fire on the final watermark.
func TestWindowsAtTheEndsOfTime(t *testing.T) {
	stamps := []int64{math.MinInt64 + 1, math.MaxInt64 - 3, math.MaxInt64 - 2, math.MaxInt64 - 1}
	describe := func(ctx *sdk.WindowContext[int64], vs []int64, out *sdk.Collector[string]) error {
		out.Collect(fmt.Sprintf("%v: %d elements", ctx.Window, len(vs)))
		return nil
	}
	env, _ := apiEnv(t, 1)
	src := sdk.FromSlice(env, stamps).AssignTimestampsAndWatermarks(
		sdk.ForBoundedOutOfOrderness[int64](time.Hour).WithTimestampAssigner(func(v int64) int64 { return v }))
	key := sdk.KeyBy(src, func(int64) int64 { return 0 })
	tumbling := sdk.Collect(sdk.ProcessWindow(key.Window(sdk.TumblingEventTimeWindows(time.Duration(math.MaxInt64))), describe))
	sessions := sdk.Collect(sdk.ProcessWindow(key.Window(sdk.EventTimeSessionWindows(time.Duration(math.MaxInt64))), describe))
	apiRun(t, env)
	// The size is 9223372036854 ms; windows start at its multiples.
	apiSameMultiset(t, "tumbling", tumbling.Items(), []string{
		"TimeWindow{start=-9223372036854775808, end=-9223372036854000000}: 1 elements",
		"TimeWindow{start=9223372036854000000, end=9223372036854775807}: 3 elements",
	})
	// A gap of 9223372036854 ms: the three last elements make one session,
	// cut at the end of time.
	apiSameMultiset(t, "sessions", sessions.Items(), []string{
		"TimeWindow{start=-9223372036854775807, end=-9223362813482738953}: 1 elements",
		"TimeWindow{start=9223372036854775804, end=9223372036854775807}: 3 elements",
	})
}

// TestProcessWindowAtParallelism: each window of ProcessWindow gets exactly
// its key's elements at every parallelism. The elements' slice was once
// shared by all subtasks, so at p > 1 windows received other keys' elements
// (and the race detector, which CI runs on this package, flagged it).
func TestProcessWindowAtParallelism(t *testing.T) {
	const keys, perKey = 40, 500
	type ev struct{ key, ts int64 }
	for _, p := range []int{1, 4} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			env := sdk.NewEnv(sdk.WithConfig(conf.New()))
			env.SetParallelism(p)
			env.Configure("execution.batch-size", "16")
			src := sdk.Generate(env, keys*perKey, func(i int64) ev { return ev{key: i % keys, ts: i / keys} }).SetParallelism(1).
				AssignTimestampsAndWatermarks(sdk.ForMonotonousTimestamps[ev]().WithTimestampAssigner(func(e ev) int64 { return e.ts }))
			w := sdk.KeyBy(src, func(e ev) int64 { return e.key }).Window(sdk.TumblingEventTimeWindows(100 * time.Millisecond))
			sums := sdk.Collect(sdk.ProcessWindow(w, func(ctx *sdk.WindowContext[int64], elems []ev, out *sdk.Collector[string]) error {
				for _, e := range elems {
					if e.key != ctx.Key {
						return fmt.Errorf("window of key %d got an element of key %d", ctx.Key, e.key)
					}
				}
				out.Collect(fmt.Sprintf("%d@%d:%d", ctx.Key, ctx.Window.Start, len(elems)))
				return nil
			}))
			if _, err := env.Execute(context.Background(), "process-window"); err != nil {
				t.Fatal(err)
			}
			got := sums.Items()
			sort.Strings(got)
			var want []string
			for k := range int64(keys) {
				for start := int64(0); start < perKey; start += 100 {
					want = append(want, fmt.Sprintf("%d@%d:%d", k, start, 100))
				}
			}
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%d windows, want %d; first %.5q", len(got), len(want), got)
			}
		})
	}
}
