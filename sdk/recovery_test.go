package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/hdfs/faultfs"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
)

// checkpointEnv returns an environment with checkpoints every interval into
// dir, plus settings.
func checkpointEnv(t *testing.T, dir string, interval string, settings map[string]string, opts ...sdk.Option) *sdk.Env {
	t.Helper()
	cfg := conf.New()
	all := map[string]string{
		"execution.checkpointing.interval": interval,
		"state.checkpoints.dir":            filepath.Join(dir, "checkpoints"),
		"state.savepoints.dir":             filepath.Join(dir, "savepoints"),
		"execution.batch-size":             "64",
	}
	for k, v := range settings {
		all[k] = v
	}
	for k, v := range all {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return sdk.NewEnv(append([]sdk.Option{sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(testLogWriter()))}, opts...)...)
}

// keyedCounts is the rescaling job: a generator (parallelism 1, it cannot be
// rescaled) of numbers i, keyed by i % keys, counted per key by a rolling Sum
// at parallelism p. It emits (key, count) updates.
func keyedCounts(env *sdk.Env, count int64, rate float64, keys int64, p int) *sdk.Collected[sdk.KeyValue[int64, int64]] {
	src := sdk.GenerateWithRate(env, count, rate, func(i int64) int64 { return i }).UID("numbers").SetParallelism(1)
	counts := sdk.Sum(sdk.KeyBy(src, func(i int64) int64 { return i % keys }), func(int64) int64 { return 1 }).UID("counts").SetParallelism(p)
	c := sdk.Collect(counts)
	c.UID("collect").SetParallelism(p)
	return c
}

// finalCounts keeps the highest count emitted per key: a rolling count's last
// update.
func finalCounts(items []sdk.KeyValue[int64, int64]) map[int64]int64 {
	out := map[int64]int64{}
	for _, kv := range items {
		out[kv.Key] = max(out[kv.Key], kv.Value)
	}
	return out
}

// TestSavepointRescales stops a keyed count at parallelism 2 with a savepoint,
// then finishes it from the savepoint at parallelism 3 and at 1: every key's
// count carries on from the savepoint, so each ends at exactly its number of
// elements.
func TestSavepointRescales(t *testing.T) {
	const keys, total = 50, 20000
	dir := t.TempDir()
	savepoint, items := countsSavepoint(t, dir, keys)
	before := finalCounts(items)
	var seen int64
	for _, n := range before {
		seen += n
	}
	if seen == 0 || seen >= total {
		t.Fatalf("the first run counted %d elements before its savepoint; want some, fewer than %d", seen, total)
	}
	if !strings.HasPrefix(savepoint, filepath.Join(dir, "savepoints", "savepoint-")) {
		t.Fatalf("savepoint in %q", savepoint)
	}
	for _, p := range []int{3, 1} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			env := checkpointEnv(t, dir, "50 ms", map[string]string{"execution.savepoint.path": savepoint})
			c := keyedCounts(env, total, 0, keys, p)
			if _, err := env.Execute(context.Background(), "counts"); err != nil {
				t.Fatal(err)
			}
			got := finalCounts(c.Items())
			for k := int64(0); k < keys; k++ {
				if want := int64(total / keys); got[k] != want {
					t.Fatalf("key %d counted %d, want %d (the savepoint had %d)", k, got[k], want, before[k])
				}
			}
		})
	}
}

// TestRestoreFailsOnCorruptCheckpoint corrupts a savepoint's _metadata, then a
// state file: each restore fails, naming the file, and never falls back to
// anything else.
func TestRestoreFailsOnCorruptCheckpoint(t *testing.T) {
	dir := t.TempDir()
	savepoint, _ := countsSavepoint(t, dir, 10)
	restore := func() error {
		env := checkpointEnv(t, dir, "50 ms", map[string]string{"execution.savepoint.path": savepoint})
		keyedCounts(env, 100, 0, 10, 2)
		_, err := env.Execute(context.Background(), "counts")
		return err
	}
	flip := func(path string) func() {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c := append([]byte(nil), b...)
		c[len(c)/2] ^= 0x40
		if err := os.WriteFile(path, c, 0o644); err != nil {
			t.Fatal(err)
		}
		return func() { _ = os.WriteFile(path, b, 0o644) }
	}
	meta := filepath.Join(savepoint, "_metadata")
	undo := flip(meta)
	err := restore()
	if err == nil || !errors.Is(err, state.ErrCorruptState) || !strings.Contains(err.Error(), meta) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("corrupt _metadata: %v", err)
	}
	undo()
	files, _ := filepath.Glob(filepath.Join(savepoint, "*-*-*"))
	if len(files) == 0 {
		t.Fatal("no state files in the savepoint")
	}
	flip(files[0])
	err = restore()
	if err == nil || !errors.Is(err, state.ErrCorruptState) || !strings.Contains(err.Error(), files[0]) {
		t.Fatalf("corrupt state file: %v", err)
	}
	if err := os.Remove(files[0]); err != nil {
		t.Fatal(err)
	}
	err = restore()
	if err == nil || !strings.Contains(err.Error(), files[0]) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing state file: %v", err)
	}
}

// TestCheckpointStorageFailureIsDeclined makes every write into chk-2 fail: the
// checkpoint is declined, counted against the tolerable failures, never
// completes, and later checkpoints do. With the tolerance used up, the next
// failure fails the job over.
func TestCheckpointStorageFailureIsDeclined(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(hdfs.Local{})
	ffs.FailOn(faultfs.OpCreate, string(filepath.Separator)+"chk-2"+string(filepath.Separator), syscall.EIO)
	env := checkpointEnv(t, dir, "30 ms", map[string]string{
		"execution.checkpointing.tolerable-failed-checkpoints":      "1",
		"state.checkpoints.num-retained":                            "10",
		"execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
	}, sdk.WithDeployOptions(func(o *jobmaster.Options) { o.Checkpointing.FS = ffs }))
	keyedCounts(env, -1, 20000, 10, 2)
	client, err := env.ExecuteAsync(context.Background(), "counts")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return client.CheckpointStats().Completed >= 3 })
	st := client.CheckpointStats()
	client.Cancel()
	_, _ = client.Wait()
	if st.LatestFailed.ID != 2 || !strings.Contains(st.LatestFailed.Reason, "declined") || !strings.Contains(st.LatestFailed.Reason, "input/output error") {
		t.Fatalf("latest failed checkpoint: %+v", st.LatestFailed)
	}
	if client.Restarts() != 0 {
		t.Fatalf("one declined checkpoint within the tolerance restarted the job %d times", client.Restarts())
	}
	chks, _ := filepath.Glob(filepath.Join(dir, "checkpoints", client.ID(), "chk-*", "_metadata"))
	for _, m := range chks {
		if strings.Contains(m, "chk-2"+string(filepath.Separator)) {
			t.Fatalf("checkpoint 2 completed: %s", m)
		}
	}
	if len(chks) < 3 {
		t.Fatalf("completed checkpoints: %v", chks)
	}
}

// TestStopWithSavepointDrain: draining fires every window before the
// savepoint, so a restored job has nothing left to emit for them; without
// drain the windows stay open in the savepoint and fire after the restore.
func TestStopWithSavepointDrain(t *testing.T) {
	for _, drain := range []bool{false, true} {
		t.Run(fmt.Sprintf("drain=%v", drain), func(t *testing.T) {
			dir := t.TempDir()
			build := func(env *sdk.Env, count int64, rate float64) *sdk.Collected[int64] {
				src := sdk.GenerateWithRate(env, count, rate, func(i int64) int64 { return i }).UID("numbers").SetParallelism(1)
				ts := src.AssignTimestampsAndWatermarks(sdk.ForMonotonousTimestamps[int64]().WithTimestampAssigner(func(int64) int64 { return 0 })).UID("timestamps")
				sums := sdk.KeyBy(ts, func(i int64) int64 { return i % 3 }).Window(sdk.TumblingEventTimeWindows(time.Hour)).
					Reduce(func(a, b int64) int64 { return a + b })
				sums.UID("sums")
				c := sdk.Collect(sums)
				c.UID("collect")
				return c
			}
			env := checkpointEnv(t, dir, "50 ms", nil)
			first := build(env, -1, 20000)
			client, err := env.ExecuteAsync(context.Background(), "windows")
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return client.CheckpointStats().Completed >= 1 })
			sp, err := client.StopWithSavepoint(context.Background(), "", drain)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.Wait(); err != nil {
				t.Fatal(err)
			}
			if got := len(first.Items()); drain != (got == 3) || (!drain && got != 0) {
				t.Fatalf("drain=%v: %d window results before the restore: %v", drain, got, first.Items())
			}
			env = checkpointEnv(t, dir, "50 ms", map[string]string{"execution.savepoint.path": sp})
			second := build(env, 0, 0) // nothing more: only what the savepoint holds
			if _, err := env.Execute(context.Background(), "windows"); err != nil {
				t.Fatal(err)
			}
			if got := len(second.Items()); drain != (got == 0) {
				t.Fatalf("drain=%v: %d window results after the restore: %v", drain, got, second.Items())
			}
		})
	}
}

// countsSavepoint runs the keyed count at parallelism 2 until a checkpoint has
// completed, stops it with a savepoint and returns the savepoint and what the
// job emitted before it.
func countsSavepoint(t *testing.T, dir string, keys int64) (string, []sdk.KeyValue[int64, int64]) {
	t.Helper()
	env := checkpointEnv(t, dir, "50 ms", nil)
	c := keyedCounts(env, -1, 20000, keys, 2)
	client, err := env.ExecuteAsync(context.Background(), "counts")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return client.CheckpointStats().Completed >= 1 })
	sp, err := client.StopWithSavepoint(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Wait(); err != nil {
		t.Fatalf("stop-with-savepoint: %v", err)
	}
	return sp, c.Items()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLogWriter() io.Writer {
	if os.Getenv("SPATE_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// TestRestoreMatchesOperatorsByUID: a savepoint's state belongs to operators
// by UID. A job without one of them refuses the savepoint, naming the
// operator, unless told to drop that state; "latest" finds the savepoint by
// the job's name, and once a run resumed from it has finished, no longer.
func TestRestoreMatchesOperatorsByUID(t *testing.T) {
	dir := t.TempDir()
	sp, _ := countsSavepoint(t, dir, 10)
	// latest: the newest completed checkpoint or savepoint of "counts" is sp.
	env := checkpointEnv(t, dir, "50 ms", map[string]string{"execution.savepoint.path": "latest"})
	c := keyedCounts(env, 40000, 0, 10, 2)
	if _, err := env.Execute(context.Background(), "counts"); err != nil {
		t.Fatal(err)
	}
	for k, n := range finalCounts(c.Items()) {
		if n != 4000 {
			t.Fatalf("resumed from latest: key %d counted %d, want 4000", k, n)
		}
	}
	// That run finished the lineage: latest must not resume sp again.
	env = checkpointEnv(t, dir, "50 ms", map[string]string{"execution.savepoint.path": "latest"})
	keyedCounts(env, 40000, 0, 10, 2)
	_, err := env.Execute(context.Background(), "counts")
	if err == nil || !strings.HasPrefix(err.Error(), `nothing to resume: the last run of job "counts" (job id `) ||
		!strings.Contains(err.Error(), "(passed over: "+sp+": stop-with-savepoint ") {
		t.Fatalf("latest after the resumed run finished: %v", err)
	}
	// The same job, its count renamed: the old count's state has no owner.
	// An explicit savepoint path is taken even though its lineage finished.
	renamed := func(settings map[string]string) error {
		env := checkpointEnv(t, dir, "50 ms", settings)
		src := sdk.Generate(env, 100, func(i int64) int64 { return i }).UID("numbers").SetParallelism(1)
		sums := sdk.Sum(sdk.KeyBy(src, func(i int64) int64 { return i % 10 }), func(int64) int64 { return 1 }).UID("counts-v2")
		sdk.Collect(sums).UID("collect")
		_, err := env.Execute(context.Background(), "counts")
		return err
	}
	err = renamed(map[string]string{"execution.savepoint.path": sp})
	if err == nil || !strings.Contains(err.Error(), `the state of operator "Sum"`) || !strings.Contains(err.Error(), "--allow-non-restored-state") {
		t.Fatalf("unmatched state: %v", err)
	}
	// The _metadata file's path names its savepoint, as in Flink.
	if err := renamed(map[string]string{"execution.savepoint.path": filepath.Join(sp, "_metadata"), "execution.savepoint.ignore-unclaimed-state": "true"}); err != nil {
		t.Fatal(err)
	}
	env = checkpointEnv(t, dir, "50 ms", map[string]string{"execution.savepoint.path": "latest"})
	keyedCounts(env, 10, 0, 10, 2)
	if _, err := env.Execute(context.Background(), "other"); err == nil || !strings.Contains(err.Error(), `no completed checkpoint or savepoint of job "other"`) {
		t.Fatalf("latest of an unknown job: %v", err)
	}
}

// TestRestartStrategyGivesUp: a job that fails after every checkpoint restarts
// as often as the fixed-delay strategy allows, then fails with its last error
// and the strategy named.
func TestRestartStrategyGivesUp(t *testing.T) {
	env := checkpointEnv(t, t.TempDir(), "20 ms", map[string]string{
		"restart-strategy.type":                 "fixed-delay",
		"restart-strategy.fixed-delay.attempts": "2",
		"restart-strategy.fixed-delay.delay":    "1 ms",
	})
	src := sdk.GenerateWithRate(env, -1, 10000, func(i int64) int64 { return i })
	failing := sdk.KeyedProcess(sdk.KeyBy(src, func(i int64) int64 { return i % 4 }), func() sdk.KeyedProcessFunction[int64, int64, int64] {
		return &failAfterCheckpoint{}
	})
	discardSink(failing)
	client, err := env.ExecuteAsync(context.Background(), "failing")
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Wait()
	if err == nil || !strings.Contains(err.Error(), "boom after checkpoint") || !strings.Contains(err.Error(), "restart strategy fixed-delay (attempts 2") {
		t.Fatalf("job error: %v", err)
	}
	if res.Restarts != 2 {
		t.Fatalf("%d restarts, want 2", res.Restarts)
	}
}

type failAfterCheckpoint struct{ completed bool }

func (f *failAfterCheckpoint) ProcessElement(_ *sdk.KeyedContext[int64], v int64, out *sdk.Collector[int64]) error {
	if f.completed {
		return errors.New("boom after checkpoint")
	}
	out.Collect(v)
	return nil
}
func (f *failAfterCheckpoint) OnTimer(*sdk.KeyedContext[int64], int64, *sdk.Collector[int64]) error {
	return nil
}
func (f *failAfterCheckpoint) SnapshotState(int64) error { return nil }
func (f *failAfterCheckpoint) NotifyCheckpointComplete(int64) error {
	f.completed = true
	return nil
}

func discardSink[T any](s sdk.Stream[T]) {
	sdk.SinkFunc(s, func([]T) error { return nil })
}
