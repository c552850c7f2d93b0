package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Resume safety: exactly once around runs, not only inside one. These tests
// drive real processes the way a user meets them: kill -9, Ctrl-C, a second
// run beside the first, a rerun after the job finished.

const eoKeys, eoPerKey = 10, 2000

// eoArgs are the arguments of a failure-free exactlyonce run that spans
// about eight checkpoint intervals (four seconds), long enough to be killed
// mid-run after some checkpoints.
func eoArgs(out string) []string {
	return []string{"--keys", strconv.Itoa(eoKeys), "--per-key", strconv.Itoa(eoPerKey), "--failures", "0",
		"--checkpoint-interval", "500", "--output", out, "--parallelism", "2"}
}

// running is a spate or job process started in the background.
type running struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

func start(t *testing.T, env []string, name string, args ...string) *running {
	t.Helper()
	r := &running{cmd: exec.Command(filepath.Join(binDir, name), args...), done: make(chan struct{})}
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	r.cmd.Env = append(cleanEnv(), env...)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := r.cmd.Wait()
		r.code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.code = 128 + int(ws.Signal())
			}
		}
		close(r.done)
	}()
	t.Cleanup(func() {
		_ = r.cmd.Process.Kill()
		<-r.done
	})
	return r
}

// wait returns the process's exit code once it has exited.
func (r *running) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not exit; stderr:\n%s", r.cmd.Args, r.stderr.String())
		return 0
	}
}

// poll waits until cond holds, failing the test after a deadline.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// completedCheckpoints lists the ids of the completed checkpoints under ckpt.
func completedCheckpoints(ckpt string) []int {
	ms, _ := filepath.Glob(filepath.Join(ckpt, "*", "chk-*", "_metadata"))
	var ids []int
	for _, m := range ms {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(filepath.Dir(m)), "chk-"))
		if err == nil {
			ids = append(ids, n)
		}
	}
	sort.Ints(ids)
	return ids
}

// committedBy reports the checkpoint that each sink subtask's commit marker
// names, by subtask.
func committedBy(out string) map[int]string {
	entries, _ := os.ReadDir(out)
	got := map[int]string{}
	re := regexp.MustCompile(`^\.part-(\d+)\.committed-(\d+|end)-`)
	for _, e := range entries {
		if m := re.FindStringSubmatch(e.Name()); m != nil {
			s, _ := strconv.Atoi(m[1])
			got[s] = m[2]
		}
	}
	return got
}

// childOf returns the pid of the one child of ppid, read from /proc.
func childOf(t *testing.T, ppid int) int {
	t.Helper()
	var pid int
	poll(t, fmt.Sprintf("the child of %d", ppid), func() bool {
		stats, _ := filepath.Glob("/proc/[0-9]*/stat")
		for _, st := range stats {
			b, err := os.ReadFile(st)
			if err != nil {
				continue
			}
			i := bytes.LastIndexByte(b, ')')
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
				pid, _ = strconv.Atoi(filepath.Base(filepath.Dir(st)))
				return true
			}
		}
		return false
	})
	return pid
}

// gone reports whether pid has exited (a zombie counts: it has).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i+2 < len(b) && b[i+2] == 'Z'
}

// checkExact checks that the part files in out hold every key,seq of an
// exactlyonce run of keys × perKey records exactly once, and that no
// uncommitted file is left.
func checkExact(t *testing.T, out string, keys, perKey int) {
	t.Helper()
	lines, hidden := readPartFiles(t, out)
	if len(hidden) > 0 {
		t.Fatalf("uncommitted files left: %v", hidden)
	}
	seen := map[string]int{}
	for _, l := range lines {
		seen[l]++
	}
	var lost, dup []string
	for k := range keys {
		for s := 1; s <= perKey; s++ {
			l := fmt.Sprintf("%d,%d", k, s)
			switch seen[l] {
			case 0:
				lost = append(lost, l)
			case 1:
			default:
				dup = append(dup, l)
			}
			delete(seen, l)
		}
	}
	if len(lost) > 0 || len(dup) > 0 || len(seen) > 0 {
		t.Fatalf("%s: %d lost (%.5v), %d duplicated (%.5v), %d unexpected lines", out, len(lost), lost, len(dup), dup, len(seen))
	}
}

// outputLines is what out holds now, for comparing before and after a refusal.
func outputLines(t *testing.T, out string) string {
	t.Helper()
	lines, _ := readPartFiles(t, out)
	return strings.Join(lines, "\n")
}

// TestResumeAfterKill: kill -9 of spate mid-run (the job binary dies with it),
// resume, kill -9 of the job binary mid-run, resume to the end, then resume
// once more: every key,seq exactly once, and the last resume is refused
// because the job has finished.
func TestResumeAfterKill(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	env := []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt}
	eo := filepath.Join(binDir, "exactlyonce")
	resume := append([]string{"run", "--resume", "latest", eo, "--"}, eoArgs(out)...)

	// Run A, killed with its spate after two checkpoints committed output.
	a := start(t, env, "spate", append([]string{"run", eo, "--"}, eoArgs(out)...)...)
	job := childOf(t, a.cmd.Process.Pid)
	poll(t, "two checkpoints of run A", func() bool { ids := completedCheckpoints(ckpt); return len(ids) > 0 && ids[len(ids)-1] >= 2 })
	poll(t, "output of run A", func() bool { return len(committedBy(out)) == 2 })
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != 128+9 {
		t.Fatalf("run A: exit %d, want 137", code)
	}
	poll(t, "the job binary of run A to die with spate", func() bool { return gone(job) })

	// Run B resumes A, and its job binary is killed after two more checkpoints.
	b := start(t, env, "spate", resume...)
	job = childOf(t, b.cmd.Process.Pid)
	first := completedCheckpoints(ckpt)
	poll(t, "two checkpoints of run B", func() bool {
		ids := completedCheckpoints(ckpt)
		return len(ids) > 0 && ids[len(ids)-1] >= first[len(first)-1]+2
	})
	if err := syscall.Kill(job, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := b.wait(t); code != 128+9 || !strings.Contains(b.stderr.String(), `was killed by signal: killed`) {
		t.Fatalf("run B: exit %d, stderr:\n%s", code, b.stderr.String())
	}
	if !strings.Contains(b.stderr.String(), `"message":"--resume latest: resuming the newest completed checkpoint`) {
		t.Fatalf("run B did not say at warn level what it resumed:\n%s", b.stderr.String())
	}

	// Run C resumes B and finishes.
	r := runBin(t, env, "spate", resume...)
	want := fmt.Sprintf("exactlyonce: %d records, 0 failures injected, 0 recoveries\n", eoKeys*eoPerKey)
	if r.code != 0 || r.stdout != want {
		t.Fatalf("run C: exit %d, stdout %q\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	checkExact(t, out, eoKeys, eoPerKey)
	checkFinished(t, ckpt)
	for s, cp := range committedBy(out) {
		if cp != "end" {
			t.Errorf("subtask %d's commit marker names checkpoint %s, want end", s, cp)
		}
	}

	// Run D: the same command again is refused, and the output stays exact.
	r = runBin(t, env, "spate", resume...)
	if r.code != 1 || !regexp.MustCompile(`^exactlyonce: nothing to resume: the last run of job "exactlyonce" \(job id [0-9a-f]{32}\) finished at \S+, and a finished job is never resumed: its output is final; run the job without --resume, into a new output directory, to process its input again\n$`).MatchString(lastLine(r.stderr)) {
		t.Fatalf("run D: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	checkExact(t, out, eoKeys, eoPerKey)

	// A fresh run into the same output is refused too.
	r = runBin(t, env, "spate", append([]string{"run", eo, "--"}, eoArgs(out)...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "already holds part files") {
		t.Fatalf("fresh run into a finished output: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	checkExact(t, out, eoKeys, eoPerKey)
}

// lastLine is the last line of s, with its newline.
func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:] + "\n"
}

// TestConcurrentRunsRefused: while a run of a job holds the lease on its
// checkpoint directory, a second run, fresh or resuming, is refused, naming
// the first; the first run's output stays exact.
func TestConcurrentRunsRefused(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	env := []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt}
	eo := filepath.Join(binDir, "exactlyonce")
	first := start(t, env, "spate", append([]string{"run", eo, "--"}, eoArgs(out)...)...)
	job := childOf(t, first.cmd.Process.Pid)
	poll(t, "a checkpoint of the first run", func() bool { return len(completedCheckpoints(ckpt)) > 0 })
	lease := filepath.Join(ckpt, "_leases", "exactlyonce.lease")
	held := regexp.MustCompile(`^exactlyonce: job "exactlyonce" is already running on this checkpoint directory: run [0-9a-f]{32} \(pid ` +
		strconv.Itoa(job) + ` on host \S+\) holds ` + regexp.QuoteMeta(lease) + `, renewed \d+s ago, expires in \d+s; stop that run first \(or, if it died on another host, wait until its lease expires\)\n$`)
	for _, args := range [][]string{
		append([]string{"run", eo, "--"}, eoArgs(filepath.Join(dir, "out2"))...),
		append([]string{"run", "--resume", "latest", eo, "--"}, eoArgs(out)...),
	} {
		r := runBin(t, env, "spate", args...)
		if r.code != 1 || !held.MatchString(lastLine(r.stderr)) {
			t.Fatalf("second run %v: exit %d, stderr:\n%s", args[:3], r.code, r.stderr)
		}
	}
	if code := first.wait(t); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, first.stderr.String())
	}
	checkExact(t, out, eoKeys, eoPerKey)
	if _, err := os.Stat(filepath.Join(dir, "out2")); !os.IsNotExist(err) {
		t.Fatalf("the refused run created its output directory: %v", err)
	}
}

// TestInterruptThenResume: SIGINT to spate run (as Ctrl-C would send; here
// forwarded by spate) interrupts the job, which keeps its latest checkpoint;
// --resume latest then finishes exactly once.
func TestInterruptThenResume(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	env := []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt}
	eo := filepath.Join(binDir, "exactlyonce")
	r := start(t, env, "spate", append([]string{"run", eo, "--"}, eoArgs(out)...)...)
	poll(t, "two checkpoints", func() bool { ids := completedCheckpoints(ckpt); return len(ids) > 0 && ids[len(ids)-1] >= 2 })
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(t); code != 1 || !strings.Contains(r.stderr.String(), "exactlyonce: job interrupted: ") ||
		!strings.Contains(r.stderr.String(), `"message":"job interrupted; its latest checkpoint is kept: run it again with --resume latest to go on from there"`) {
		t.Fatalf("interrupted run: exit %d, stderr:\n%s", code, r.stderr.String())
	}
	if len(completedCheckpoints(ckpt)) != 1 {
		t.Fatalf("interrupted run kept checkpoints %v, want its latest", completedCheckpoints(ckpt))
	}
	res := runBin(t, env, "spate", append([]string{"run", "--resume", "latest", eo, "--"}, eoArgs(out)...)...)
	if res.code != 0 {
		t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
	}
	checkExact(t, out, eoKeys, eoPerKey)
	checkFinished(t, ckpt)
}

// TestResumeRefusesDuplicatingOutput: with three checkpoints retained, the
// newest one's _metadata removed after a kill -9, --resume latest goes back
// to the one before, naming the newest it skipped, and the sink refuses:
// the output already holds files the newest checkpoint committed.
func TestResumeRefusesDuplicatingOutput(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	env := []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt + "\nstate.checkpoints.num-retained=3"}
	eo := filepath.Join(binDir, "exactlyonce")
	r := start(t, env, "spate", append([]string{"run", eo, "--"}, eoArgs(out)...)...)
	var newest int
	poll(t, "three checkpoints, the newest committed by both sinks", func() bool {
		ids := completedCheckpoints(ckpt)
		if len(ids) < 3 {
			return false
		}
		newest = ids[len(ids)-1]
		c := committedBy(out)
		return c[0] == strconv.Itoa(newest) && c[1] == strconv.Itoa(newest)
	})
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	r.wait(t)
	ids := completedCheckpoints(ckpt)
	if ids[len(ids)-1] != newest {
		// A checkpoint completed between the poll and the kill; its files may
		// not all be committed. The test needs the state it polled for.
		t.Skipf("checkpoint %d completed after the poll; rerun", ids[len(ids)-1])
	}
	metas, _ := filepath.Glob(filepath.Join(ckpt, "*", fmt.Sprintf("chk-%d", newest), "_metadata"))
	if len(metas) != 1 {
		t.Fatalf("metadata of checkpoint %d: %v", newest, metas)
	}
	if err := os.Remove(metas[0]); err != nil {
		t.Fatal(err)
	}
	before := outputLines(t, out)
	res := runBin(t, env, "spate", append([]string{"run", "--resume", "latest", eo, "--"}, eoArgs(out)...)...)
	want := regexp.MustCompile(`output would be duplicated: output directory "` + regexp.QuoteMeta(out) + `" holds part-\d+-\d+( and \d+ more)?, committed by checkpoint ` +
		strconv.Itoa(newest) + `, and the restore is from checkpoint ` + strconv.Itoa(ids[len(ids)-2]) + `; use a new output directory, or restore checkpoint ` + strconv.Itoa(newest) + "\n$")
	if res.code != 1 || !want.MatchString(lastLine(res.stderr)) {
		t.Fatalf("resume onto a later checkpoint's output: exit %d, stderr:\n%s", res.code, res.stderr)
	}
	skipped := filepath.Dir(metas[0]) + ": no _metadata: the checkpoint never completed"
	if !strings.Contains(res.stderr, skipped) {
		t.Fatalf("the warning does not name the skipped checkpoint (%q):\n%s", skipped, res.stderr)
	}
	if after := outputLines(t, out); after != before {
		t.Fatal("the refused resume changed the output")
	}
}
