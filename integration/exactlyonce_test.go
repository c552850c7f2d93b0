package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestExactlyOnce runs examples/exactlyonce with injected failures — while
// processing, while a snapshot is taken, and while a restore runs — at
// parallelism 2 and 4, and checks that the output holds every key,seq exactly
// once: nothing lost, nothing duplicated, one recovery per failure.
func TestExactlyOnce(t *testing.T) {
	const keys, perKey, failures = 7, 3000, 3
	for _, tc := range []struct {
		failIn      string
		parallelism int
	}{
		{"process", 2}, {"process", 4}, {"snapshot", 2}, {"restore", 4},
	} {
		t.Run(fmt.Sprintf("%s/p=%d", tc.failIn, tc.parallelism), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			ckpt := t.TempDir()
			r := runBin(t, []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt}, "exactlyonce",
				"--keys", fmt.Sprint(keys), "--per-key", fmt.Sprint(perKey), "--failures", fmt.Sprint(failures),
				"--checkpoint-interval", "50", "--output", out, "--parallelism", fmt.Sprint(tc.parallelism), "--fail-in", tc.failIn)
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			want := fmt.Sprintf("exactlyonce: %d records, %d failures injected, %d recoveries\n", keys*perKey, failures, failures)
			if r.stdout != want {
				t.Fatalf("stdout %q, want %q", r.stdout, want)
			}
			if n := len(regexp.MustCompile(`job failed; restarting`).FindAllString(r.stderr, -1)); n != failures {
				t.Fatalf("%d recoveries logged, want %d:\n%s", n, failures, r.stderr)
			}
			checkExact(t, out, keys, perKey)
			checkFinished(t, ckpt)
		})
	}
}

// checkFinished checks what a finished job leaves under its checkpoint
// directory: no checkpoint, an empty lease directory, and one job directory
// holding only the marker of its finished lineage.
func checkFinished(t *testing.T, ckpt string) {
	t.Helper()
	var left []string
	err := filepath.WalkDir(ckpt, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, strings.TrimPrefix(p, ckpt+"/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || !regexp.MustCompile(`^[0-9a-f]{32}/_finished$`).MatchString(left[0]) {
		t.Fatalf("a finished job left %v under its checkpoint directory; want only <job-id>/_finished", left)
	}
	if leases, err := os.ReadDir(filepath.Join(ckpt, "_leases")); err != nil || len(leases) != 0 {
		t.Fatalf("leases left: %v, %v", leases, err)
	}
}

// commitMarker matches a sink subtask's commit marker (see
// filesystem.CheckRestore): hidden, empty, one per subtask.
var commitMarker = regexp.MustCompile(`^\.part-\d+\.committed-(\d+|end)-[0-9a-f]{32}$`)

// readPartFiles returns the lines of every part file in dir, and the names of any
// hidden files other than commit markers (in-progress or pending files).
func readPartFiles(t *testing.T, dir string) (lines, hidden []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if commitMarker.MatchString(e.Name()) {
			continue
		}
		if strings.HasPrefix(e.Name(), ".") {
			hidden = append(hidden, e.Name())
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	sort.Strings(lines)
	return lines, hidden
}

// TestRunRestoreFlags: spate run hands -s and --resume to the job, which names
// what it cannot restore; contradictory flags are usage errors.
func TestRunRestoreFlags(t *testing.T) {
	dir := t.TempDir()
	eo := filepath.Join(binDir, "exactlyonce")
	args := []string{"--", "--keys", "1", "--per-key", "1", "--failures", "0", "--checkpoint-interval", "50", "--output", filepath.Join(dir, "out")}
	env := []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + filepath.Join(dir, "ckpt")}
	for _, tc := range []struct {
		flags  []string
		code   int
		stderr string
	}{
		{[]string{"-s", filepath.Join(dir, "nope")}, 1,
			"exactlyonce: restore: " + filepath.Join(dir, "nope") + ": not a completed checkpoint or savepoint (no _metadata file)\n"},
		{[]string{"--resume", "latest"}, 1,
			`exactlyonce: no completed checkpoint or savepoint of job "exactlyonce" under ` + filepath.Join(dir, "ckpt") + ": nothing to resume; " +
				"a job that fails or is cancelled deletes its checkpoints unless execution.checkpointing.externalized-checkpoint-retention is retain_on_cancellation " +
				"(or delete_on_cancellation, to keep them after a failure only); a run interrupted by Ctrl-C, SIGTERM or kill keeps its latest checkpoint\n"},
		{[]string{"--resume", "first"}, 2, "spate run: --resume \"first\": only 'latest' is supported (or use -s PATH)\n"},
		{[]string{"-s", dir, "--resume", "latest"}, 2, "spate run: -s and --resume both say where to start from; give one\n"},
		{[]string{"--allow-non-restored-state"}, 2, "spate run: --allow-non-restored-state needs -s PATH or --resume latest\n"},
	} {
		r := runBin(t, env, "spate", append(append(append([]string{"run"}, tc.flags...), eo), args...)...)
		if r.code != tc.code || r.stderr != tc.stderr {
			t.Errorf("spate run %v: exit %d, stderr %q; want %d, %q", tc.flags, r.code, r.stderr, tc.code, tc.stderr)
		}
	}
}
