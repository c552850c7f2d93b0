package integration

// spate yarn-submit on the real secure Hadoop (hdfs_test.go's secureHadoop):
// the job binary runs as the ApplicationMaster and JobManager in one YARN
// container and as TaskManagers in others that the AM asks for, reading and
// writing HDFS with the shipped keytab; the client follows the application
// and exits with its final status.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/integration/hadooptest"
	"github.com/spate-io/spate/yarn"
	yarnpb "github.com/spate-io/spate/yarn/proto"
)

var appIDLine = regexp.MustCompile(`^application_\d+_\d+$`)

// yarnSubmitted is one run of spate yarn-submit.
type yarnSubmitted struct {
	result
	app    yarn.ApplicationID
	report *yarnpb.ApplicationReportProto
}

// submitToYARN runs spate yarn-submit of job with the test cluster's
// keytab (shipped to the containers, which log in to HDFS with it) and
// small containers, and returns its result and the RM's final report.
func submitToYARN(t *testing.T, o *onHDFS, props []string, job string, args ...string) yarnSubmitted {
	t.Helper()
	c := o.c
	cmd := []string{"yarn-submit",
		"-D", "security.kerberos.login.keytab=" + c.ClientKeytab,
		"-D", "security.kerberos.login.principal=" + c.ClientPrincipal,
		"-D", "security.kerberos.krb5-conf.path=" + c.Krb5Conf,
		"-D", "jobmanager.memory.process.size=256m",
		"-D", "taskmanager.memory.process.size=256m",
		"-D", "yarn.tags=spate-test," + strings.ToLower(t.Name()),
	}
	for _, p := range props {
		cmd = append(cmd, "-D", p)
	}
	cmd = append(append(cmd, filepath.Join(binDir, job), "--"), args...)
	start := time.Now()
	r := runBin(t, o.env, "spate", cmd...)
	t.Logf("yarn-submit %s: exit %d after %v", job, r.code, time.Since(start).Round(time.Millisecond))
	first, _, _ := strings.Cut(r.stderr, "\n")
	if !appIDLine.MatchString(first) {
		t.Fatalf("first line of stderr %q, want the application id\nexit %d\nstderr: %s", first, r.code, r.stderr)
	}
	id, err := yarn.ParseApplicationID(first)
	if err != nil {
		t.Fatal(err)
	}
	s := yarnSubmitted{result: r, app: id}
	t.Cleanup(func() {
		if t.Failed() {
			for id, log := range containerLogs(t, c, s.app, "stderr") {
				t.Logf("%s stderr (last 4000 bytes):\n%s", id, log[max(0, len(log)-4000):])
			}
		}
	})
	cl := yarnClientOf(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.report, err = cl.GetApplicationReport(ctx, id); err != nil {
		t.Fatal(err)
	}
	if !yarn.Final(s.report) {
		t.Fatalf("yarn-submit exited %d while %s is %s", r.code, id, s.report.GetYarnApplicationState())
	}
	if got := s.report.GetApplicationType(); got != "Spate" {
		t.Errorf("application type %q, want Spate", got)
	}
	// The staging directory is gone once the client saw the final status.
	staging := path.Join("/user", c.User, ".spate", id.String())
	if _, err := o.fs.Stat(staging); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staging directory %s: %v, want it removed", staging, err)
	}
	return s
}

func yarnClientOf(t *testing.T, c *hadooptest.Cluster) *yarn.Client {
	t.Helper()
	conf, err := yarn.LoadConf(c.ConfDir)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	kc, err := hdfs.KerberosClient(hdfs.KerberosLogin{Principal: c.ClientPrincipal, Keytab: c.ClientKeytab}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Destroy)
	cl, err := yarn.NewClient(yarn.ClientOptions{Conf: conf, Kerberos: kc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// containerStdout returns the stdout the NodeManager kept for each container
// of app, by container id.
func containerStdout(t *testing.T, c *hadooptest.Cluster, app yarn.ApplicationID) map[string]string {
	return containerLogs(t, c, app, "stdout")
}

// containerLogs returns the log file name of each container of app.
func containerLogs(t *testing.T, c *hadooptest.Cluster, app yarn.ApplicationID, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(c.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != name || filepath.Base(filepath.Dir(filepath.Dir(p))) != app.String() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			out[filepath.Base(filepath.Dir(p))] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// amStdout is the stdout of app's first AM container (..._01_000001). It
// is complete once YARN reports the application final: the AM unregisters
// after main() returned (appmaster.Supervise).
func amStdout(t *testing.T, c *hadooptest.Cluster, app yarn.ApplicationID) string {
	t.Helper()
	logs := containerStdout(t, c, app)
	for id, s := range logs {
		if strings.HasSuffix(id, "_01_000001") {
			return s
		}
	}
	t.Fatalf("no AM container stdout of %s among %d containers' logs under %s", app, len(logs), c.Dir)
	return ""
}

func wantSucceeded(t *testing.T, s yarnSubmitted) {
	t.Helper()
	if s.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", s.code, s.stdout, s.stderr)
	}
	if st, fs := s.report.GetYarnApplicationState(), s.report.GetFinalApplicationStatus(); st != yarnpb.YarnApplicationStateProto_FINISHED || fs != yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED {
		t.Fatalf("%s ended %s / %s (%s), want FINISHED / APP_SUCCEEDED", s.app, st, fs, s.report.GetDiagnostics())
	}
	if !strings.Contains(s.stderr, s.app.String()+" RUNNING\n") || !strings.Contains(s.stderr, "Tracking URL: http") {
		t.Errorf("stderr does not follow the application through RUNNING with its tracking URL:\n%s", s.stderr)
	}
}

// TestYARNSubmitWordCount: WordCount submitted with yarn-submit at
// parallelism 2 reads its input from HDFS and writes there exactly the
// reference counts; the application FINISHED/SUCCEEDED and the client
// exited 0.
func TestYARNSubmitWordCount(t *testing.T) {
	o := newOnHDFS(t)
	local := t.TempDir()
	a, b := filepath.Join(local, "a.txt"), filepath.Join(local, "b.txt")
	writeLargeText(t, a, 300<<10, 21)
	writeLargeText(t, b, 200<<10, 22)
	want := referenceCounts(t, a, b)
	o.put(t, a, path.Join(o.dir, "in", "a.txt"))
	o.put(t, b, path.Join(o.dir, "in", "b.txt"))
	out := path.Join(o.dir, "out")
	s := submitToYARN(t, o, nil, "wordcount", "--input", o.uri("in"), "--output", o.uri("out"), "--parallelism", "2")
	wantSucceeded(t, s)
	parts, hidden := o.partFiles(t, out)
	if len(hidden) > 0 {
		t.Fatalf("uncommitted files left: %v", hidden)
	}
	if len(parts) != 2 {
		t.Errorf("part files %v, want one per subtask of 2", parts)
	}
	if d := diffLines(sortedOutput(string(o.checkByteIdentical(t, parts))), want); d != "" {
		t.Fatal(d)
	}
	// Two TaskManagers, one slot each, ran besides the AM.
	if logs := containerStdout(t, o.c, s.app); len(logs) != 3 {
		t.Errorf("%d containers kept a stdout, want the AM and 2 TaskManagers: %v", len(logs), keysOf(logs))
	}
}

// TestYARNSubmitExactlyOnce: exactlyonce with checkpoints on HDFS, two
// TaskManagers of two slots: every key,seq exactly once in the output, the
// job's own report (on the AM's stdout) is exact.
func TestYARNSubmitExactlyOnce(t *testing.T) {
	o := newOnHDFS(t)
	const keys, perKey = 5, 2000
	s := submitToYARN(t, o, []string{"state.checkpoints.dir=" + o.uri("ckpt"), "taskmanager.numberOfTaskSlots=2"}, "exactlyonce",
		"--keys", fmt.Sprint(keys), "--per-key", fmt.Sprint(perKey), "--failures", "0",
		"--checkpoint-interval", "100", "--output", o.uri("out"), "--parallelism", "4")
	wantSucceeded(t, s)
	if got, want := amStdout(t, o.c, s.app), fmt.Sprintf("exactlyonce: %d records, 0 failures injected, 0 recoveries\n", keys*perKey); got != want {
		t.Errorf("AM stdout %q, want %q", got, want)
	}
	o.checkExactOnHDFS(t, path.Join(o.dir, "out"), keys, perKey)
	o.checkFinishedOnHDFS(t, path.Join(o.dir, "ckpt"))
	if logs := containerStdout(t, o.c, s.app); len(logs) != 3 {
		t.Errorf("%d containers kept a stdout, want the AM and 2 TaskManagers: %v", len(logs), keysOf(logs))
	}
}

// TestYARNSubmitJobFails: a job that fails (a task panics, no restarts)
// ends FINISHED/FAILED in YARN with the job's error as the diagnostics, and
// the client exits 1 printing it.
func TestYARNSubmitJobFails(t *testing.T) {
	o := newOnHDFS(t)
	s := submitToYARN(t, o, []string{"state.checkpoints.dir=" + o.uri("ckpt"), "restart-strategy.type=none"}, "exactlyonce",
		"--keys", "3", "--per-key", "20000", "--failures", "1", "--checkpoint-interval", "50", "--output", o.uri("out"), "--parallelism", "2")
	if s.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr: %s", s.code, s.stderr)
	}
	if st, fs := s.report.GetYarnApplicationState(), s.report.GetFinalApplicationStatus(); st != yarnpb.YarnApplicationStateProto_FINISHED || fs != yarnpb.FinalApplicationStatusProto_APP_FAILED {
		t.Fatalf("%s ended %s / %s, want FINISHED / APP_FAILED", s.app, st, fs)
	}
	failure := regexp.MustCompile(`operator "Check sequences" \(subtask \d of 2\) failed: panic: injected failure while processing key \d, sequence number \d+ \(at exactlyonce/main\.go:\d+\)`)
	if d := s.report.GetDiagnostics(); !failure.MatchString(d) {
		t.Errorf("diagnostics %q, want the job's error", d)
	}
	lines := strings.Split(strings.TrimSpace(s.stderr), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "spate yarn-submit: "+s.app.String()+" finished (APP_FAILED): ") || !failure.MatchString(last) {
		t.Errorf("last line of stderr %q, want the application's failure with the job's error", last)
	}
}

func keysOf[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestYARNSubmitTaskManagerKilled: kill -9 of a TaskManager container's
// process in the middle of exactlyonce (two TaskManagers of one slot, two
// checkpoints completed, the job seen RUNNING through the tracking URL,
// which is the JobManager's REST API): the AM learns of the completed
// container from YARN and has the JobManager fail the job over at once, asks
// for a replacement container, and the job recovers from its latest
// checkpoint: one recovery, every key,seq exactly once.
func TestYARNSubmitTaskManagerKilled(t *testing.T) {
	o := newOnHDFS(t)
	c := o.c
	args := []string{"yarn-submit",
		"-D", "security.kerberos.login.keytab=" + c.ClientKeytab,
		"-D", "security.kerberos.login.principal=" + c.ClientPrincipal,
		"-D", "security.kerberos.krb5-conf.path=" + c.Krb5Conf,
		"-D", "jobmanager.memory.process.size=256m", "-D", "taskmanager.memory.process.size=256m",
		"-D", "state.checkpoints.dir=" + o.uri("ckpt"),
		// Far longer than the test: the loss must come from YARN's report.
		"-D", "heartbeat.timeout=5 min",
		filepath.Join(binDir, "exactlyonce"), "--"}
	args = append(args, eoArgs(o.uri("out"))...)
	client := start(t, o.env, "spate", args...)
	var app yarn.ApplicationID
	poll(t, "the application id", func() bool {
		first, _, ok := strings.Cut(client.stderr.String(), "\n")
		if ok && appIDLine.MatchString(first) {
			app, _ = yarn.ParseApplicationID(first)
		}
		return ok
	})
	if app == (yarn.ApplicationID{}) {
		t.Fatalf("first line of stderr is not the application id:\n%s", client.stderr.String())
	}
	cl := yarnClientOf(t, c)
	var rest *sessionCluster
	poll(t, "the tracking URL", func() bool {
		r, err := cl.GetApplicationReport(context.Background(), app)
		if err != nil {
			return false // not submitted yet: the id comes before the upload
		}
		if u, ok := strings.CutPrefix(r.GetOriginalTrackingUrl(), "http://"); ok {
			rest = &sessionCluster{rest: u}
		}
		return rest != nil
	})
	var jobs struct {
		Jobs []struct {
			ID    string `json:"jid"`
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"jobs"`
	}
	poll(t, "the job RUNNING with two checkpoints", func() bool {
		if err := rest.get("/jobs/overview", &jobs); err != nil || len(jobs.Jobs) != 1 || jobs.Jobs[0].State != "RUNNING" {
			return false
		}
		var cps struct {
			Counts struct {
				Completed int `json:"completed"`
			} `json:"counts"`
		}
		return rest.get("/jobs/"+jobs.Jobs[0].ID+"/checkpoints", &cps) == nil && cps.Counts.Completed >= 2
	})
	if jobs.Jobs[0].Name != "exactlyonce" {
		t.Fatalf("the tracking URL serves %+v, want the exactlyonce job", jobs)
	}
	victim := fmt.Sprintf("container_%d_%04d_01_000002", app.ClusterTimestamp, app.ID)
	pid := processWithEnv(t, "exactlyonce", "SPATE_TASKMANAGER_NAME="+victim)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s (pid %d)", victim, pid)
	if code := client.wait(t); code != 0 {
		t.Fatalf("yarn-submit: exit %d\n%s", code, client.stderr.String())
	}
	if got, want := amStdout(t, c, app), fmt.Sprintf("exactlyonce: %d records, 0 failures injected, 1 recoveries\n", eoKeys*eoPerKey); got != want {
		t.Errorf("AM stdout %q, want %q", got, want)
	}
	if am := containerLogs(t, c, app, "stderr"); !strings.Contains(am[fmt.Sprintf("container_%d_%04d_01_000001", app.ClusterTimestamp, app.ID)], `"container":"`+victim+`"`) {
		t.Errorf("the AM did not log the completion of %s", victim)
	}
	// The AM, two TaskManagers, and the replacement.
	if logs := containerStdout(t, c, app); len(logs) != 4 {
		t.Errorf("%d containers kept a stdout, want 4: %v", len(logs), keysOf(logs))
	}
	o.checkExactOnHDFS(t, path.Join(o.dir, "out"), eoKeys, eoPerKey)
}

// processWithEnv returns the pid of the one process of the binary named exe
// whose environment holds kv (the NodeManager's launch scripts have it too).
func processWithEnv(t *testing.T, exe, kv string) int {
	t.Helper()
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		if err != nil {
			continue
		}
		if p, err := os.Readlink(filepath.Join("/proc", d.Name(), "exe")); err != nil || filepath.Base(p) != exe {
			continue
		}
		for _, e := range strings.Split(string(b), "\x00") {
			if e == kv {
				pids = append(pids, pid)
			}
		}
	}
	if len(pids) != 1 {
		t.Fatalf("processes with %s: %v, want one", kv, pids)
	}
	return pids[0]
}

// TestYARNSubmitRefused: a queue that does not exist exits 3 with YARN's
// reason.
func TestYARNSubmitRefused(t *testing.T) {
	o := newOnHDFS(t)
	s := submitToYARN(t, o, []string{"yarn.application.queue=nosuch"}, "wordcount", "--input", o.uri("in"), "--output", o.uri("out"))
	if s.code != 3 {
		t.Fatalf("exit %d, want 3\nstderr: %s", s.code, s.stderr)
	}
	lines := strings.Split(strings.TrimSpace(s.stderr), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "spate yarn-submit: YARN refused "+s.app.String()+": ") || !strings.Contains(last, "nosuch") {
		t.Errorf("last line of stderr %q, want YARN's refusal naming the queue", last)
	}
}

// TestYARNSubmitKilled: an application killed through YARN (as by `yarn
// application -kill`) while its job runs makes the attached client exit 4;
// so does SIGTERM to the attached client, which kills the application
// within seconds.
func TestYARNSubmitKilled(t *testing.T) {
	for _, how := range []string{"yarn", "sigterm"} {
		t.Run(how, func(t *testing.T) { testYARNSubmitKilled(t, how) })
	}
}

func testYARNSubmitKilled(t *testing.T, how string) {
	o := newOnHDFS(t)
	c := o.c
	args := []string{"yarn-submit",
		"-D", "security.kerberos.login.keytab=" + c.ClientKeytab,
		"-D", "security.kerberos.login.principal=" + c.ClientPrincipal,
		"-D", "security.kerberos.krb5-conf.path=" + c.Krb5Conf,
		"-D", "jobmanager.memory.process.size=256m", "-D", "taskmanager.memory.process.size=256m",
		"-D", "state.checkpoints.dir=" + o.uri("ckpt"),
		filepath.Join(binDir, "exactlyonce"), "--"}
	client := start(t, o.env, "spate", append(args, eoArgs(o.uri("out"))...)...)
	cl := yarnClientOf(t, c)
	var app yarn.ApplicationID
	poll(t, "the application RUNNING", func() bool {
		first, _, ok := strings.Cut(client.stderr.String(), "\n")
		if !ok || !appIDLine.MatchString(first) {
			return false
		}
		app, _ = yarn.ParseApplicationID(first)
		r, err := cl.GetApplicationReport(context.Background(), app)
		return err == nil && strings.HasPrefix(r.GetOriginalTrackingUrl(), "http://")
	})
	killed := time.Now()
	if how == "sigterm" {
		if err := client.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := cl.Kill(ctx, app, "killed by TestYARNSubmitKilled", 100*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if code := client.wait(t); code != 4 {
		t.Fatalf("yarn-submit: exit %d, want 4\n%s", code, client.stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := cl.GetApplicationReport(ctx, app)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_KILLED {
		t.Fatalf("%s is %s after the client exited, want KILLED", app, rep.GetYarnApplicationState())
	}
	if d := time.Since(killed); d > 10*time.Second {
		t.Errorf("the kill took %v", d)
	}
	if !strings.Contains(client.stderr.String(), "spate yarn-submit: "+app.String()+" was killed: ") {
		t.Errorf("stderr does not say the application was killed:\n%s", client.stderr.String())
	}
}

// TestYARNSubmitDetached: --detached returns once YARN accepted the
// application, exit 0; the application goes on to FINISHED/SUCCEEDED with
// WordCount's exact counts, and the AM removes the staging directory itself.
func TestYARNSubmitDetached(t *testing.T) {
	o := newOnHDFS(t)
	c := o.c
	local := filepath.Join(t.TempDir(), "a.txt")
	writeLargeText(t, local, 100<<10, 31)
	want := referenceCounts(t, local)
	o.put(t, local, path.Join(o.dir, "in", "a.txt"))
	r := runBin(t, o.env, "spate", "yarn-submit", "--detached",
		"-D", "security.kerberos.login.keytab="+c.ClientKeytab,
		"-D", "security.kerberos.login.principal="+c.ClientPrincipal,
		"-D", "security.kerberos.krb5-conf.path="+c.Krb5Conf,
		"-D", "jobmanager.memory.process.size=256m", "-D", "taskmanager.memory.process.size=256m",
		filepath.Join(binDir, "wordcount"), "--", "--input", o.uri("in"), "--output", o.uri("out"))
	first, _, _ := strings.Cut(r.stderr, "\n")
	if r.code != 0 || !appIDLine.MatchString(first) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	app, _ := yarn.ParseApplicationID(first)
	cl := yarnClientOf(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	rep, err := cl.WaitForApplication(ctx, app, 100*time.Millisecond, yarn.Final)
	if err != nil {
		t.Fatal(err)
	}
	if rep.GetYarnApplicationState() != yarnpb.YarnApplicationStateProto_FINISHED || rep.GetFinalApplicationStatus() != yarnpb.FinalApplicationStatusProto_APP_SUCCEEDED {
		t.Fatalf("%s ended %s / %s: %s", app, rep.GetYarnApplicationState(), rep.GetFinalApplicationStatus(), rep.GetDiagnostics())
	}
	if rep.GetDiagnostics() != "the job finished" {
		t.Errorf("diagnostics %q, want the AM's", rep.GetDiagnostics())
	}
	parts, _ := o.partFiles(t, path.Join(o.dir, "out"))
	if d := diffLines(sortedOutput(string(o.checkByteIdentical(t, parts))), want); d != "" {
		t.Fatal(d)
	}
	staging := path.Join("/user", c.User, ".spate", app.String())
	if _, err := o.fs.Stat(staging); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staging directory %s: %v, want it removed by the AM", staging, err)
	}
}

// TestYARNSubmitJobCannotStart: a job whose input does not exist fails in
// the AM before it runs (Deploy: the source plans its splits): the attempt
// fails, YARN reports FAILED with the job's error from the AM's stderr in
// the diagnostics, and the client exits 1.
func TestYARNSubmitJobCannotStart(t *testing.T) {
	o := newOnHDFS(t)
	s := submitToYARN(t, o, nil, "wordcount", "--input", o.uri("missing"), "--output", o.uri("out"))
	if s.code != 1 {
		t.Fatalf("exit %d, want 1\nstderr: %s", s.code, s.stderr)
	}
	if st := s.report.GetYarnApplicationState(); st != yarnpb.YarnApplicationStateProto_FAILED {
		t.Fatalf("%s ended %s, want FAILED", s.app, st)
	}
	if d := s.report.GetDiagnostics(); !strings.Contains(d, path.Join(o.dir, "missing")) {
		t.Errorf("diagnostics do not name the missing input:\n%s", d)
	}
}

// TestYARNSubmitWindowCount: windowcount (sliding event-time windows,
// out-of-order input with malformed lines) submitted with yarn-submit at
// parallelism 2 writes on HDFS exactly the reference windows.
func TestYARNSubmitWindowCount(t *testing.T) {
	o := newOnHDFS(t)
	local := filepath.Join(t.TempDir(), "events.csv")
	const ooo = 300
	evs := writeEvents(t, local, 20000, ooo, 43)
	want := referenceWindows(evs, "sliding", 2000, 500, 0)
	o.put(t, local, path.Join(o.dir, "in", "events.csv"))
	s := submitToYARN(t, o, nil, "windowcount", "--input", o.uri("in/events.csv"), "--window", "sliding:2000:500",
		"--out-of-orderness", fmt.Sprint(ooo), "--parallelism", "2", "--output", o.uri("out"))
	wantSucceeded(t, s)
	parts, hidden := o.partFiles(t, path.Join(o.dir, "out"))
	if len(hidden) > 0 {
		t.Fatalf("uncommitted files left: %v", hidden)
	}
	if d := diffLines(sortedOutput(string(o.checkByteIdentical(t, parts))), want); d != "" {
		t.Fatal(d)
	}
}
