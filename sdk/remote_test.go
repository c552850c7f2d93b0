package sdk_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/worker"
	"github.com/spate-io/spate/worker/transport"
)

// remoteTaskManagers makes n TaskExecutors that share no Shuffle, each
// serving data connections on loopback with one cluster secret: every
// exchange between them crosses a real authenticated TCP connection as
// Avro-encoded buffers under credit-based flow control.
func remoteTaskManagers(t testing.TB, n int) []jobmaster.TaskManagerGateway {
	t.Helper()
	auth, err := transport.NewSharedSecret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	var gws []jobmaster.TaskManagerGateway
	for i := range n {
		x := worker.NewTaskExecutor(fmt.Sprintf("tm-%d", i), worker.NewShuffle())
		if err := x.ServeData("127.0.0.1:0", auth, transport.Options{}, zerolog.New(io.Discard)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.Close)
		gws = append(gws, x)
	}
	return gws
}

// onTaskManagers deploys the job's slots on the given TaskManagers, one slot each.
func onTaskManagers(gws []jobmaster.TaskManagerGateway) sdk.Option {
	return sdk.WithDeployOptions(func(o *jobmaster.Options) {
		o.Slots = resource.NewSlotPool(len(gws), 1)
		o.TaskManagers = gws
	})
}

// TestRemoteExchangeIsExact: a keyed count and a rebalance between two
// TaskManagers that exchange over TCP give exactly what the embedded run
// gives, at every key.
func TestRemoteExchangeIsExact(t *testing.T) {
	words := strings.Fields(strings.Repeat("the quick brown fox jumps over the lazy dog again and again ", 400))
	run := func(opts ...sdk.Option) []string {
		env := sdk.NewEnv(append([]sdk.Option{sdk.WithLogger(zerolog.New(io.Discard))}, opts...)...)
		env.SetParallelism(2).Configure("execution.batch-size", "16").Configure("execution.runtime-mode", "streaming")
		src := sdk.FromSlice(env, words).SetParallelism(1)
		counts := sdk.Sum(sdk.KeyBy(src.Rebalance(), func(w string) string { return w }), func(string) int64 { return 1 })
		out := sdk.Collect(sdk.Map(counts, func(kv sdk.KeyValue[string, int64]) string { return fmt.Sprintf("%s=%d", kv.Key, kv.Value) }))
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := env.Execute(ctx, "remote-exchange"); err != nil {
			t.Fatal(err)
		}
		return out.Items()
	}
	want := run()
	got := run(onTaskManagers(remoteTaskManagers(t, 2)))
	apiSameMultiset(t, "rolling counts", got, want)
	if len(got) != len(words) {
		t.Fatalf("%d updates, want one per word (%d)", len(got), len(words))
	}
}

// TestRemoteExactlyOnceRecovery: a job with checkpoints whose tasks fail once
// recovers across TaskManagers that exchange over TCP, and its text output
// holds every record exactly once.
func TestRemoteExactlyOnceRecovery(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	env := checkpointEnv(t, dir, "30 ms", map[string]string{
		"restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "2", "restart-strategy.fixed-delay.delay": "1 ms",
	}, onTaskManagers(remoteTaskManagers(t, 2)))
	env.SetParallelism(2)
	const total = 6000
	src := sdk.GenerateWithRate(env, total, 20000, func(i int64) int64 { return i }).UID("numbers").SetParallelism(1)
	keyed := sdk.KeyBy(src, func(i int64) int64 { return i % 7 })
	lines := sdk.KeyedProcess(keyed, func() sdk.KeyedProcessFunction[int64, int64, string] { return &failOnce{last: total - 1} }).UID("fail-once")
	sdk.WriteText(lines, out).UID("sink")
	res, err := env.Execute(context.Background(), "remote-eo")
	if err != nil {
		t.Fatal(err)
	}
	if res.Restarts != 1 {
		t.Fatalf("%d restarts, want 1", res.Restarts)
	}
	seen := map[string]int{}
	parts, _ := filepath.Glob(filepath.Join(out, "part-*"))
	for _, p := range parts {
		for _, l := range readLines(t, p) {
			seen[l]++
		}
	}
	for i := range int64(total) {
		if n := seen[fmt.Sprint(i)]; n != 1 {
			t.Fatalf("record %d appears %d times (of %d distinct lines)", i, n, len(seen))
		}
	}
	if len(seen) != total {
		t.Fatalf("%d distinct lines, want %d", len(seen), total)
	}
}

// failOnce emits every number as a line, and fails in the first attempt once
// a checkpoint has completed, or at the last number at the latest: a run so
// slow that no checkpoint completes before the end (under load) still fails
// exactly once, and recovers from the start.
type failOnce struct {
	last      int64
	attempt   int
	completed bool
}

func (f *failOnce) Open(ctx *sdk.KeyedContext[int64]) error {
	f.attempt = ctx.Attempt()
	return nil
}

func (f *failOnce) ProcessElement(_ *sdk.KeyedContext[int64], v int64, out *sdk.Collector[string]) error {
	if f.attempt == 0 && (f.completed || v == f.last) {
		return fmt.Errorf("injected failure at %d", v)
	}
	out.Collect(fmt.Sprint(v))
	return nil
}

func (f *failOnce) OnTimer(*sdk.KeyedContext[int64], int64, *sdk.Collector[string]) error { return nil }
func (f *failOnce) SnapshotState(int64) error                                             { return nil }
func (f *failOnce) NotifyCheckpointComplete(int64) error {
	f.completed = true
	return nil
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
