package integration

// A session cluster on the secure YARN (spate yarn-session): the AM runs the
// generic spate binary as the JobManager; jobs submitted with submit
// --session run on TaskManager containers of their own binary.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/yarn"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

// TestYARNSession: a session started detached serves; wordcount and
// windowcount submitted to it by name at the same time both write exactly
// the reference results on HDFS; every TaskManager container ran the jobs
// of one binary only, the one localized from the session's staging
// directory; idle containers are released after
// resourcemanager.taskmanager-timeout; the session then stops itself after
// its idle timeout, FINISHED/SUCCEEDED, and its staging directory is gone.
func TestYARNSession(t *testing.T) {
	o := newOnHDFS(t)
	c := o.c
	name := fmt.Sprintf("session-%d", time.Now().UnixNano())
	login := []string{
		"-D", "security.kerberos.login.keytab=" + c.ClientKeytab,
		"-D", "security.kerberos.login.principal=" + c.ClientPrincipal,
		"-D", "security.kerberos.krb5-conf.path=" + c.Krb5Conf,
	}
	const idle = 10 * time.Second
	args := append([]string{"yarn-session", "start", "--detached", "--name", name, "--idle-timeout", idle.String()}, login...)
	args = append(args, "-D", "jobmanager.memory.process.size=256m", "-D", "taskmanager.memory.process.size=256m",
		"-D", "resourcemanager.taskmanager-timeout=2 s", "-D", "heartbeat.interval=500 ms", "-D", "yarn.tags=spate-test",
		"-D", "log.level=info", "-D", "log.format=json") // the containers' logs say which binary ran which job
	began := time.Now()
	step := func(what string) { t.Logf("%v: %s", time.Since(began).Round(100*time.Millisecond), what) }
	r := runBin(t, o.env, "spate", args...)
	step("the session serves")
	first, _, _ := strings.Cut(r.stderr, "\n")
	if r.code != 0 || !appIDLine.MatchString(first) {
		t.Fatalf("yarn-session start: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	app, _ := yarn.ParseApplicationID(first)
	t.Cleanup(func() {
		if t.Failed() {
			for id, log := range containerLogs(t, c, app, "stderr") {
				t.Logf("%s stderr (last 3000 bytes):\n%s", id, log[max(0, len(log)-3000):])
			}
			runBin(t, o.env, "spate", append([]string{"yarn-session", "stop", app.String()}, login...)...)
		}
	})
	m := regexp.MustCompile(`^(\S+) http://(\S+)\n$`).FindStringSubmatch(r.stdout)
	if m == nil || m[1] != app.String() {
		t.Fatalf("yarn-session start printed %q, want %q and the REST address", r.stdout, app.String()+" http://HOST:PORT")
	}
	sc := &sessionCluster{rest: m[2]}

	list := runBin(t, o.env, "spate", append([]string{"yarn-session", "list"}, login...)...)
	if !regexp.MustCompile(`(?m)^` + app.String() + ` RUNNING  ` + name + ` http://\S+$`).MatchString(list.stdout) {
		t.Errorf("yarn-session list: exit %d\n%s%s", list.code, list.stdout, list.stderr)
	}

	// Two binaries at once, each by the session's name.
	local := t.TempDir()
	text := filepath.Join(local, "a.txt")
	writeLargeText(t, text, 200<<10, 51)
	wantCounts := referenceCounts(t, text)
	o.put(t, text, path.Join(o.dir, "wc-in", "a.txt"))
	events := filepath.Join(local, "events.csv")
	const ooo = 200
	evs := writeEvents(t, events, 10000, ooo, 52)
	wantWindows := referenceWindows(evs, "tumbling", 1000, 0, 0)
	o.put(t, events, path.Join(o.dir, "win-in", "events.csv"))
	submit := func(job string, jobArgs ...string) *running {
		a := append(append([]string{"submit", "--session", name}, login...), filepath.Join(binDir, job), "--")
		return start(t, o.env, "spate", append(a, jobArgs...)...)
	}
	wc := submit("wordcount", "--input", o.uri("wc-in"), "--output", o.uri("wc-out"), "--parallelism", "2")
	win := submit("windowcount", "--input", o.uri("win-in/events.csv"), "--window", "tumbling:1000",
		"--out-of-orderness", fmt.Sprint(ooo), "--parallelism", "2", "--output", o.uri("win-out"))
	jobs := map[string]string{} // job id → binary
	for job, s := range map[string]*running{"wordcount": wc, "windowcount": win} {
		if code := waitLong(t, s, 3*time.Minute); code != 0 {
			t.Fatalf("submit --session %s: exit %d\nstderr: %s", job, code, s.stderr.String())
		}
		id, _, _ := strings.Cut(s.stdout.String(), "\n")
		jobs[id] = job
		step(job + " finished")
	}
	// Idle containers go after resourcemanager.taskmanager-timeout, well
	// before the session's idle timeout.
	poll(t, "the idle TaskManager containers' release", func() bool {
		var ov struct {
			TaskManagers int `json:"taskmanagers"`
			JobsFinished int `json:"jobs-finished"`
		}
		return sc.get("/overview", &ov) == nil && ov.TaskManagers == 0 && ov.JobsFinished == 2
	})
	step("the containers are released")
	for dir, want := range map[string][]string{"wc-out": wantCounts, "win-out": wantWindows} {
		parts, hidden := o.partFiles(t, path.Join(o.dir, dir))
		if len(hidden) > 0 {
			t.Fatalf("%s: uncommitted files left: %v", dir, hidden)
		}
		if d := diffLines(sortedOutput(string(o.checkByteIdentical(t, parts))), want); d != "" {
			t.Fatalf("%s: %s", dir, d)
		}
	}

	// Each job's subtasks ran in TaskManager containers of its own binary.
	shaOf := map[string]string{}
	for _, job := range []string{"wordcount", "windowcount"} {
		shaOf[job] = fileSum(t, filepath.Join(binDir, job))
	}
	ranBy := map[string][]string{} // job → containers
	for container, log := range containerLogs(t, c, app, "stderr") {
		var binary string
		ran := map[string]bool{}
		for _, line := range strings.Split(log, "\n") {
			var e struct {
				Message, Binary, Job string
			}
			if json.Unmarshal([]byte(line), &e) != nil {
				continue
			}
			switch e.Message {
			case "session TaskManager container of a job binary":
				binary = e.Binary
			case "job process started":
				ran[e.Job] = true
			}
		}
		for id := range ran {
			job := jobs[id]
			if job == "" {
				t.Errorf("%s ran job %s, which was not submitted", container, id)
				continue
			}
			if binary != shaOf[job] {
				t.Errorf("%s ran %s (job %s) but is the container of binary %q, not %s", container, job, id, binary, shaOf[job])
			}
			ranBy[job] = append(ranBy[job], container)
		}
	}
	for _, job := range []string{"wordcount", "windowcount"} {
		sort.Strings(ranBy[job])
		if len(ranBy[job]) == 0 {
			t.Errorf("no TaskManager container ran %s", job)
		}
	}
	t.Logf("containers by job: %v", ranBy)

	step("outputs and logs checked")
	// The session itself goes after its idle timeout.
	cl := yarnClientOf(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), idle+90*time.Second)
	defer cancel()
	rep, err := cl.WaitForApplication(ctx, app, 250*time.Millisecond, yarn.Final)
	step("the session ended")
	if err != nil {
		t.Fatal(err)
	}
	if st, fs := rep.GetYarnApplicationState(), rep.GetFinalApplicationStatus(); st != yarnpb.YarnApplicationStateProto_FINISHED || fs != yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED {
		t.Fatalf("%s ended %s / %s (%s), want FINISHED / APP_SUCCEEDED", app, st, fs, rep.GetDiagnostics())
	}
	if got, want := rep.GetDiagnostics(), "the session was idle for "+idle.String(); got != want {
		t.Errorf("diagnostics %q, want %q", got, want)
	}
	staging := path.Join("/user", c.User, ".spate", app.String())
	if _, err := o.fs.Stat(staging); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staging directory %s: %v, want it removed by the AM", staging, err)
	}
}

// waitLong is running.wait with a longer deadline.
func waitLong(t *testing.T, r *running, d time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
		return r.code
	case <-time.After(d):
		t.Fatalf("%v did not exit within %v; stderr:\n%s", r.cmd.Args, d, r.stderr.String())
		return 0
	}
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
