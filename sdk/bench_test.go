package sdk_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
)

func benchEnv(b *testing.B, parallelism int) *sdk.Env {
	cfg := conf.New()
	if err := cfg.Set("parallelism.default", "1"); err != nil {
		b.Fatal(err)
	}
	env := sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard)))
	env.SetParallelism(parallelism)
	return env
}

// discard is a sink that only counts: the benchmark measures the operators.
func discard[T any](s sdk.Stream[T]) *int64 {
	var n int64
	sdk.SinkFunc(s, func(batch []T) error { n += int64(len(batch)); return nil })
	return &n
}

// BenchmarkChainedMapFilter: source → map → filter → sink, all in one chain.
func BenchmarkChainedMapFilter(b *testing.B) {
	const records = 1 << 24
	data := make([]int64, records)
	for i := range data {
		data[i] = int64(i)
	}
	var total int64
	for b.Loop() {
		env := benchEnv(b, 1)
		s := sdk.FromSlice(env, data)
		m := sdk.Map(s, func(v int64) int64 { return v*3 + 1 })
		f := m.Filter(func(v int64) bool { return v&1 == 0 })
		n := discard(f)
		if _, err := env.Execute(context.Background(), "bench"); err != nil {
			b.Fatal(err)
		}
		if *n != records/2 {
			b.Fatalf("sink got %d records, want %d", *n, records/2)
		}
		total += records
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkKeyedExchange: a source task hashes records by key into a keyed sum
// running in another task (two goroutines, one exchange).
func BenchmarkKeyedExchange(b *testing.B) {
	const records = 1 << 22
	ints := make([]int64, records)
	strs := make([]string, records)
	for i := range ints {
		ints[i] = int64(i % 4096)
		strs[i] = fmt.Sprintf("key-%d", i%4096)
	}
	b.Run("int64", func(b *testing.B) { benchKeyedSum(b, ints) })
	b.Run("string", func(b *testing.B) { benchKeyedSum(b, strs) })
}

func benchKeyedSum[K comparable](b *testing.B, data []K) {
	var total int64
	for b.Loop() {
		env := benchEnv(b, 1)
		s := sdk.FromSlice(env, data)
		k := sdk.KeyBy(s, func(v K) K { return v })
		sum := sdk.Sum(k, func(K) int64 { return 1 })
		n := discard(sum)
		if _, err := env.Execute(context.Background(), "bench"); err != nil {
			b.Fatal(err)
		}
		if *n != int64(len(data)) {
			b.Fatalf("sink got %d records, want %d", *n, len(data))
		}
		total += int64(len(data))
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkTumblingWindowCount: generator → event time → keyed 1 s tumbling
// window count (incremental) → sink, with 1 K and 1 M distinct keys; 1000 events
// per ms of event time.
func BenchmarkTumblingWindowCount(b *testing.B) {
	const records = 1 << 22
	for _, keys := range []int64{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			var total int64
			for b.Loop() {
				env := benchEnv(b, 1)
				type ev struct{ key, ts int64 }
				s := sdk.Generate(env, records, func(i int64) ev { return ev{int64(state.Mix64(uint64(i)) % uint64(keys)), i / 1000} }).
					AssignTimestampsAndWatermarks(sdk.ForMonotonousTimestamps[ev]().WithTimestampAssigner(func(e ev) int64 { return e.ts }))
				counts := sdk.Aggregate(sdk.KeyBy(s, func(e ev) int64 { return e.key }).Window(sdk.TumblingEventTimeWindows(time.Second)),
					countAgg[ev]{})
				n := discard(counts)
				if _, err := env.Execute(context.Background(), "bench"); err != nil {
					b.Fatal(err)
				}
				if *n == 0 {
					b.Fatal("no windows fired")
				}
				total += records
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

type countAgg[T any] struct{}

func (countAgg[T]) CreateAccumulator() int64  { return 0 }
func (countAgg[T]) Add(_ T, acc int64) int64  { return acc + 1 }
func (countAgg[T]) GetResult(acc int64) int64 { return acc }
func (countAgg[T]) Merge(a, b int64) int64    { return a + b }

// BenchmarkKeyedCountCheckpoints: a keyed count over 1 M keys (generator →
// hash exchange → rolling Sum → discarding sink), without checkpoints and with
// one every second, each record updating its key's keyed state. The ratio of
// the two records/s is the cost of checkpointing; ckpt-ms and ckpt-MB are the
// duration (trigger to _metadata) and size of the last completed checkpoint.
func BenchmarkKeyedCountCheckpoints(b *testing.B) {
	const keys, records = 1 << 20, 40 << 20
	for _, interval := range []string{"0", "1 s"} {
		b.Run("checkpoints="+interval, func(b *testing.B) {
			var total int64
			var last sdk.CheckpointAttempt
			var completed int64
			for b.Loop() {
				env := benchEnv(b, 1)
				if interval != "0" {
					env.Configure("execution.checkpointing.interval", interval)
					env.Configure("state.checkpoints.dir", b.TempDir())
				}
				src := sdk.Generate(env, records, func(i int64) int64 { return i })
				sums := sdk.Sum(sdk.KeyBy(src, func(i int64) int64 { return i % keys }), func(int64) int64 { return 1 })
				n := discard(sums)
				client, err := env.ExecuteAsync(context.Background(), "bench")
				if err != nil {
					b.Fatal(err)
				}
				done := waitDone(client)
				for running := true; running; {
					select {
					case <-time.After(100 * time.Millisecond):
						if st := client.CheckpointStats(); st.LatestCompleted.ID != 0 {
							last, completed = st.LatestCompleted, st.Completed
						}
					case <-done:
						running = false
					}
				}
				if *n != records {
					b.Fatalf("sink got %d records, want %d", *n, records)
				}
				total += records
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
			if interval != "0" {
				b.ReportMetric(float64(completed), "ckpts")
				b.ReportMetric(float64(last.Duration.Milliseconds()), "ckpt-ms")
				b.ReportMetric(float64(last.Size)/(1<<20), "ckpt-MB")
			}
		})
	}
}

func waitDone(c sdk.JobClient) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		_, _ = c.Wait()
		close(done)
	}()
	return done
}
