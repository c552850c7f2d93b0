package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/hdfs/faultfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/connectors/filesystem"
)

// Resume safety inside the sdk: start-up checks, failures a restart cannot
// mend, the lease, and the text sink's guards around runs. Permission errors
// are injected with faultfs, so that the tests hold when run as root (as CI
// runs); integration/safety_test.go drops privileges for the real thing.

// TestUnwritableCheckpointDirFailsAtStart: a checkpoint or savepoint
// directory that cannot be written fails Execute before any task runs,
// naming the key; nothing restarts.
func TestUnwritableCheckpointDirFailsAtStart(t *testing.T) {
	for _, tc := range []struct {
		name, key, sub string
		op             string
	}{
		{"checkpoints", "state.checkpoints.dir", "checkpoints", faultfs.OpCreate},
		{"savepoints", "state.savepoints.dir", "savepoints", faultfs.OpMkdirAll},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := faultfs.New(hdfs.Local{})
			ffs.FailOn(tc.op, filepath.Join(dir, tc.sub), fs.ErrPermission)
			env := checkpointEnv(t, dir, "20 ms", nil, sdk.WithDeployOptions(func(o *jobmaster.Options) {
				o.Checkpointing.FS, o.Checkpointing.SavepointFS = ffs, ffs
			}))
			c := keyedCounts(env, 100, 0, 10, 2)
			_, err := env.Execute(context.Background(), "counts")
			verb := "is not writable: create " + filepath.Join(dir, tc.sub) + "/.spate-write-probe-[0-9a-f]{12}"
			if tc.op == faultfs.OpMkdirAll {
				verb = "cannot be created: mkdirall " + filepath.Join(dir, tc.sub)
			}
			want := regexp.MustCompile("^" + tc.key + ` "` + regexp.QuoteMeta(filepath.Join(dir, tc.sub)) + `" ` + verb +
				`: permission denied; set ` + tc.key + fmt.Sprintf(` to a directory this user \(uid %d\) can write$`, os.Getuid()))
			if err == nil || !want.MatchString(err.Error()) {
				t.Fatalf("Execute = %v; want %s", err, want)
			}
			if len(c.Items()) != 0 {
				t.Fatalf("the job ran: %d records", len(c.Items()))
			}
		})
	}
}

// TestUnmendableCheckpointFailureDoesNotRestart: a checkpoint declined
// because its directory refuses writes fails the job at once, whatever the
// restart strategy and the tolerance: the next checkpoint would fail too.
func TestUnmendableCheckpointFailureDoesNotRestart(t *testing.T) {
	for _, cause := range []error{fs.ErrPermission, syscall.ENOSPC, syscall.EROFS} {
		t.Run(cause.Error(), func(t *testing.T) {
			dir := t.TempDir()
			ffs := faultfs.New(hdfs.Local{})
			ffs.FailOn(faultfs.OpCreate, string(filepath.Separator)+"chk-2"+string(filepath.Separator), cause)
			env := checkpointEnv(t, dir, "20 ms", map[string]string{
				"execution.checkpointing.tolerable-failed-checkpoints": "5",
				"restart-strategy.type":                                "fixed-delay",
				"restart-strategy.fixed-delay.attempts":                "5",
				"restart-strategy.fixed-delay.delay":                   "1 ms",
			}, sdk.WithDeployOptions(func(o *jobmaster.Options) { o.Checkpointing.FS = ffs }))
			keyedCounts(env, -1, 20000, 10, 2)
			client, err := env.ExecuteAsync(context.Background(), "counts")
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.Wait()
			if !errors.Is(err, jobmaster.ErrSuppressRestarts) || !errors.Is(err, cause) || !strings.Contains(err.Error(), "checkpoint 2 declined by ") {
				t.Fatalf("Wait = %v; want checkpoint 2's %v, not restarted", err, cause)
			}
			if client.Restarts() != 0 {
				t.Fatalf("restarted %d times", client.Restarts())
			}
		})
	}
}

// TestLeaseLostFailsTheJob: a run whose lease is taken from it (here: the
// file removed) stops for good at its next renewal instead of writing beside
// another run.
func TestLeaseLostFailsTheJob(t *testing.T) {
	dir := t.TempDir()
	env := checkpointEnv(t, dir, "20 ms", map[string]string{
		"state.checkpoints.lease-timeout":       "300 ms",
		"restart-strategy.type":                 "fixed-delay",
		"restart-strategy.fixed-delay.attempts": "5",
	})
	keyedCounts(env, -1, 20000, 10, 2)
	client, err := env.ExecuteAsync(context.Background(), "counts")
	if err != nil {
		t.Fatal(err)
	}
	lease := checkpoint.LeasePath(filepath.Join(dir, "checkpoints"), "counts")
	waitFor(t, func() bool { return client.CheckpointStats().Completed >= 1 })
	if err := os.Remove(lease); err != nil {
		t.Fatal(err)
	}
	_, err = client.Wait()
	if !errors.Is(err, checkpoint.ErrLeaseLost) || !errors.Is(err, jobmaster.ErrSuppressRestarts) ||
		!strings.HasSuffix(err.Error(), "the job's lease was lost: "+lease+" was removed by someone else") {
		t.Fatalf("Wait = %v", err)
	}
	if client.Restarts() != 0 {
		t.Fatalf("restarted %d times", client.Restarts())
	}
}

// TestWriteTextRefusesNewlines: a record with '\n' would become two lines;
// the job fails naming it, without restarts, and commits nothing.
func TestWriteTextRefusesNewlines(t *testing.T) {
	for _, interval := range []string{"0 ms", "20 ms"} {
		t.Run("interval "+interval, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			env := checkpointEnv(t, dir, interval, map[string]string{"restart-strategy.type": "fixed-delay"})
			sdk.WriteText(sdk.FromSlice(env, []string{"fine", "two\nlines"}), out)
			_, err := env.Execute(context.Background(), "text")
			if !errors.Is(err, jobmaster.ErrSuppressRestarts) || !strings.Contains(err.Error(), `record "two\nlines" contains a newline, which would split it into two lines of the output; replace or escape newlines before WriteText`) {
				t.Fatalf("Execute = %v", err)
			}
			if parts, _ := filepath.Glob(filepath.Join(out, "part-*")); len(parts) != 0 {
				t.Fatalf("committed %v", parts)
			}
		})
	}
}

// TestWriteTextFreshStart: a fresh start removes the in-progress files that
// a killed run left, and refuses pending ones, which only a resume commits.
func TestWriteTextFreshStart(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(out, ".part-0-3.inprogress")
	if err := os.WriteFile(stale, []byte("lost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func() error {
		env := checkpointEnv(t, dir, "20 ms", nil)
		sdk.WriteText(sdk.FromSlice(env, []string{"a", "b", "c"}), out)
		_, err := env.Execute(context.Background(), "text")
		return err
	}
	if err := run(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale in-progress file left: %v", err)
	}
	var lines []string
	parts, _ := filepath.Glob(filepath.Join(out, "part-*"))
	for _, p := range parts {
		b, _ := os.ReadFile(p)
		lines = append(lines, strings.Fields(string(b))...)
	}
	sort.Strings(lines)
	if strings.Join(lines, ",") != "a,b,c" {
		t.Fatalf("output %v", lines)
	}

	out2 := filepath.Join(dir, "out2")
	if err := os.MkdirAll(out2, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out2, ".part-1-0.pending"), []byte("maybe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out = out2
	err := run()
	want := `Sink: text: output directory "` + out2 + `" holds pending files of an earlier run (.part-1-0.pending): resume that run (spate run --resume latest) to commit what its last checkpoint covered, or, if none of its checkpoints completed, delete them to start over, or choose another directory`
	if !errors.Is(err, filesystem.ErrPendingOutput) || err.Error() != want {
		t.Fatalf("Execute = %v\nwant %s", err, want)
	}
}

// TestSavepointsUseTheirOwnFileSystem: state.savepoints.dir is resolved to a
// filesystem of its own, and savepoints are written through it, not through
// the checkpoint directory's (env.go used to drop it).
func TestSavepointsUseTheirOwnFileSystem(t *testing.T) {
	dir := t.TempDir()
	spFS := faultfs.New(hdfs.Local{})
	spFS.FailOn(faultfs.OpCreate, "savepoint-", syscall.EIO)
	var resolved string
	env := checkpointEnv(t, dir, "20 ms", map[string]string{"state.savepoints.dir": "file://" + filepath.Join(dir, "sp")},
		sdk.WithDeployOptions(func(o *jobmaster.Options) {
			if _, ok := o.Checkpointing.SavepointFS.(hdfs.Local); ok {
				resolved = o.Checkpointing.SavepointDir
			}
			o.Checkpointing.SavepointFS = spFS
		}))
	keyedCounts(env, -1, 20000, 10, 2)
	client, err := env.ExecuteAsync(context.Background(), "counts")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { client.Cancel(); _, _ = client.Wait() }()
	if resolved != filepath.Join(dir, "sp") {
		t.Fatalf("savepoint directory resolved to %q on its own filesystem; want %q", resolved, filepath.Join(dir, "sp"))
	}
	waitFor(t, func() bool { return client.CheckpointStats().Completed >= 1 })
	_, err = client.TriggerSavepoint(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "create "+filepath.Join(dir, "sp", "savepoint-")) || !strings.HasSuffix(err.Error(), ": input/output error") {
		t.Fatalf("savepoint through the failing savepoint filesystem: %v", err)
	}
	n := client.CheckpointStats().Completed
	waitFor(t, func() bool { return client.CheckpointStats().Completed > n }) // checkpoints go on, on theirs
}

// TestStopWithSavepointThenResumeText: a text sink stopped with a savepoint
// (no drain) ends cleanly, and a run resumed from the savepoint into the same
// output directory finishes it: every number exactly once. The final commit
// of a stopped sink used to fail ("TxWriter used after Close").
func TestStopWithSavepointThenResumeText(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	const total = 20000
	build := func(env *sdk.Env, n int64, rate float64) {
		src := sdk.GenerateWithRate(env, n, rate, func(i int64) int64 { return i }).UID("numbers").SetParallelism(1)
		lines := sdk.Map(src.Rebalance(), func(i int64) string { return fmt.Sprint(i) }).UID("fmt")
		sdk.WriteText(lines, out).UID("sink")
	}
	env := checkpointEnv(t, dir, "20 ms", nil)
	env.SetParallelism(2)
	build(env, total, 20000)
	client, err := env.ExecuteAsync(context.Background(), "numbers")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return client.CheckpointStats().Completed >= 2 })
	sp, err := client.StopWithSavepoint(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Wait(); err != nil {
		t.Fatalf("stop-with-savepoint: %v", err)
	}
	env = checkpointEnv(t, dir, "20 ms", map[string]string{"execution.savepoint.path": sp})
	env.SetParallelism(2)
	build(env, total, 0)
	if _, err := env.Execute(context.Background(), "numbers"); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	parts, _ := filepath.Glob(filepath.Join(out, "part-*"))
	for _, p := range parts {
		b, _ := os.ReadFile(p)
		for _, l := range strings.Fields(string(b)) {
			seen[l]++
		}
	}
	for i := range total {
		if seen[fmt.Sprint(i)] != 1 {
			t.Fatalf("%d appears %d times (%d distinct)", i, seen[fmt.Sprint(i)], len(seen))
		}
	}
	if len(seen) != total {
		t.Fatalf("%d distinct lines, want %d", len(seen), total)
	}
}
