package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/spate-io/spate/worker/transport"
)

// A standalone session cluster: the generic `spate jobmanager` and `spate
// taskmanager` processes, jobs submitted with `spate submit`, each job's
// subtasks in child processes of its own binary on the TaskManagers.

type sessionCluster struct {
	jm   *running
	tms  []*running
	rest string // host:port
	rpc  string
	env  []string
}

// startSession starts a JobManager and n TaskManagers of slots slots each,
// with the extra properties, and waits until every TaskManager registered.
func startSession(t *testing.T, n, slots int, extra ...string) *sessionCluster {
	t.Helper()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := transport.GenerateSecretFile(secret); err != nil {
		t.Fatal(err)
	}
	props := strings.Join(append([]string{
		"security.cluster.secret-file=" + secret,
		"jobmanager.rpc.port=0",
		"rest.port=0",
		"taskmanager.numberOfTaskSlots=" + strconv.Itoa(slots),
		"heartbeat.interval=100 ms",
		"heartbeat.timeout=3 s",
		"slot.request.timeout=30 s",
		"log.level=info",
		"log.format=json",
	}, extra...), "\n")
	c := &sessionCluster{env: []string{"SPATE_PROPERTIES=" + props}}
	c.jm = start(t, c.env, "spate", "jobmanager")
	addrs := regexp.MustCompile(`rest: http://(\S+)\nrpc: (\S+)\n`)
	poll(t, "the JobManager's addresses", func() bool {
		m := addrs.FindStringSubmatch(c.jm.stdout.String())
		if m != nil {
			c.rest, c.rpc = m[1], m[2]
		}
		return m != nil
	})
	for i := range n {
		c.tms = append(c.tms, start(t, append(c.env, fmt.Sprintf("SPATE_TASKMANAGER_NAME=tm-%d", i)), "spate", "taskmanager", "--jobmanager", c.rpc))
	}
	poll(t, "the TaskManagers' registrations", func() bool {
		var o struct {
			TaskManagers int `json:"taskmanagers"`
		}
		return c.get("/overview", &o) == nil && o.TaskManagers == n
	})
	return c
}

func (c *sessionCluster) get(path string, out any) error {
	resp, err := http.Get("http://" + c.rest + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	if s, ok := out.(*string); ok {
		*s = string(b)
		return nil
	}
	return json.Unmarshal(b, out)
}

// submit runs spate submit against the cluster; flags go before the job.
func (c *sessionCluster) submit(t *testing.T, flags []string, job string, args ...string) *running {
	t.Helper()
	cmdline := append([]string{"submit", "--jobmanager", c.rest}, flags...)
	cmdline = append(append(cmdline, filepath.Join(binDir, job), "--"), args...)
	return start(t, nil, "spate", cmdline...)
}

// restarts is the job's restart count from the JobManager's /metrics.
func (c *sessionCluster) restarts(t *testing.T, job string) int {
	t.Helper()
	var page string
	if err := c.get("/metrics", &page); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`spate_jobmanager_job_numRestarts\{job_id="` + job + `",[^}]*\} (\d+)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no restart count of job %s in /metrics:\n%s", job, page)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// jobID is the first line spate submit printed.
func jobID(t *testing.T, r *running) string {
	t.Helper()
	var id string
	poll(t, "the job id", func() bool {
		line, _, ok := strings.Cut(r.stdout.String(), "\n")
		id = line
		return ok
	})
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("spate submit printed %q first, not a job id", id)
	}
	return id
}

// children are the pids of the processes whose parent is pid.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, s := range stats {
		b, err := os.ReadFile(s)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		rest := string(b[bytes.LastIndexByte(b, ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(filepath.Base(filepath.Dir(s)))
			out = append(out, n)
		}
	}
	return out
}

// TestWordCountOnSession: WordCount submitted to a session cluster of one
// JobManager and two TaskManagers writes exactly the embedded run's part
// files' lines, at p=1, 2 and 4; the job processes end with the job.
func TestWordCountOnSession(t *testing.T) {
	c := startSession(t, 2, 2)
	input, _ := filepath.Abs(filepath.Join("..", "examples", "wordcount", "testdata", "words.txt"))
	for _, p := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			dir := t.TempDir()
			args := func(out string) []string {
				return []string{"--input", input, "--output", out, "--parallelism", strconv.Itoa(p)}
			}
			if want := runBin(t, nil, "wordcount", args(filepath.Join(dir, "embedded"))...); want.code != 0 {
				t.Fatalf("embedded: exit %d\n%s", want.code, want.stderr)
			}
			s := c.submit(t, nil, "wordcount", args(filepath.Join(dir, "session"))...)
			if code := s.wait(t); code != 0 {
				t.Fatalf("spate submit: exit %d\n%s", code, s.stderr.String())
			}
			id := jobID(t, s)
			got, want := partLines(t, filepath.Join(dir, "session")), partLines(t, filepath.Join(dir, "embedded"))
			if got != want || got == "" {
				t.Fatalf("session output differs from the embedded run's:\n%s\nwant\n%s", got, want)
			}
			var j struct {
				State string `json:"state"`
			}
			if err := c.get("/jobs/"+id, &j); err != nil || j.State != "FINISHED" {
				t.Fatalf("job %s: state %q, %v", id, j.State, err)
			}
			for _, tm := range c.tms {
				poll(t, "the job's processes to end", func() bool { return len(children(tm.cmd.Process.Pid)) == 0 })
			}
		})
	}
}

// partLines is the sorted lines of the part files in dir.
func partLines(t *testing.T, dir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "part-*"))
	var all []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	return sortedLines(strings.Join(all, "\n"))
}

// TestExactlyOnceOnSession: exactlyonce on a session cluster, with
// checkpoints: every key,seq exactly once, no restart.
func TestExactlyOnceOnSession(t *testing.T) {
	c := startSession(t, 2, 1)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	s := c.submit(t, []string{"-D", "state.checkpoints.dir=" + filepath.Join(dir, "ckpt")}, "exactlyonce",
		"--keys", "5", "--per-key", "2000", "--failures", "0", "--checkpoint-interval", "50", "--output", out, "--parallelism", "2")
	if code := s.wait(t); code != 0 {
		t.Fatalf("spate submit: exit %d\n%s", code, s.stderr.String())
	}
	if n := c.restarts(t, jobID(t, s)); n != 0 {
		t.Fatalf("%d restarts, want 0", n)
	}
	checkExact(t, out, 5, 2000)
}

// TestWindowCountOnSession: event-time windows on a session cluster give
// exactly the reference windows (printed by the job processes, on the
// TaskManagers' stdout).
func TestWindowCountOnSession(t *testing.T) {
	c := startSession(t, 2, 1)
	dir := t.TempDir()
	input := filepath.Join(dir, "events.csv")
	const ooo = 300
	evs := writeEvents(t, input, 20000, ooo, 7)
	s := c.submit(t, nil, "windowcount", "--input", input, "--window", "tumbling:1000", "--out-of-orderness", fmt.Sprint(ooo), "--parallelism", "2")
	if code := s.wait(t); code != 0 {
		t.Fatalf("spate submit: exit %d\n%s", code, s.stderr.String())
	}
	printed := c.tms[0].stdout.String() + c.tms[1].stdout.String()
	if d := diffLines(sortedOutput(printed), referenceWindows(evs, "tumbling", 1000, 0, 0)); d != "" {
		t.Fatal(d)
	}
}

// TestJobProcessKilledOnSession: kill -9 of a job's child process in the
// middle of exactlyonce: the JobMaster's heartbeat notices, the job fails
// over from its latest checkpoint into a new child, reports one restart,
// and every key,seq is written exactly once.
func TestJobProcessKilledOnSession(t *testing.T) {
	c := startSession(t, 2, 1)
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	s := c.submit(t, []string{"-D", "state.checkpoints.dir=" + ckpt}, "exactlyonce", eoArgs(out)...)
	id := jobID(t, s)
	poll(t, "two checkpoints", func() bool { ids := completedCheckpoints(ckpt); return len(ids) > 0 && ids[len(ids)-1] >= 2 })
	kids := children(c.tms[0].cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("TaskManager 0 has %d child processes, want 1", len(kids))
	}
	if err := syscall.Kill(kids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("spate submit: exit %d\n%s", code, s.stderr.String())
	}
	if n := c.restarts(t, id); n != 1 {
		t.Fatalf("%d restarts, want 1\n%s", n, c.jm.stderr.String())
	}
	if !strings.Contains(c.jm.stderr.String(), `"message":"job process lost"`) {
		t.Fatalf("the JobManager did not report the lost process:\n%s", c.jm.stderr.String())
	}
	checkExact(t, out, eoKeys, eoPerKey)
}

// TestPanicOnSession: a panic in user code inside a job process fails the
// job, and spate submit exits 1 with the user's message and frame.
func TestPanicOnSession(t *testing.T) {
	c := startSession(t, 2, 1)
	dir := t.TempDir()
	s := c.submit(t, []string{"-D", "state.checkpoints.dir=" + filepath.Join(dir, "ckpt"), "-D", "restart-strategy.type=none"}, "exactlyonce",
		"--keys", "3", "--per-key", "3000", "--failures", "1", "--checkpoint-interval", "50", "--output", filepath.Join(dir, "out"), "--parallelism", "2")
	want := regexp.MustCompile(`job [0-9a-f]{32} failed: .*operator "Check sequences" \(subtask \d of 2\) failed: panic: injected failure while processing key \d, sequence number \d+ \(at exactlyonce/main\.go:\d+\)`)
	if code := s.wait(t); code != 1 || !want.MatchString(s.stderr.String()) {
		t.Fatalf("exit %d, stderr:\n%s", code, s.stderr.String())
	}
}

// TestOtherArgumentsOnSession: a submission whose arguments do not build the
// graph of its plan (here: the plan of p=2, the arguments of p=1) is refused
// by the job processes ("job binary or arguments differ") and fails without
// a restart.
func TestOtherArgumentsOnSession(t *testing.T) {
	c := startSession(t, 1, 2)
	input, _ := filepath.Abs(filepath.Join("..", "examples", "wordcount", "testdata", "words.txt"))
	out := filepath.Join(t.TempDir(), "out")
	info := runBin(t, nil, "spate", "info", filepath.Join(binDir, "wordcount"), "--", "--input", input, "--output", out, "--parallelism", "2")
	if info.code != 0 {
		t.Fatalf("spate info: exit %d\n%s", info.code, info.stderr)
	}
	bin, err := os.ReadFile(filepath.Join(binDir, "wordcount"))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("binary", "wordcount")
	fw.Write(bin)
	mw.WriteField("arguments", fmt.Sprintf(`["--input", %q, "--output", %q, "--parallelism", "1"]`, input, out))
	mw.WriteField("plan", info.stdout)
	mw.Close()
	resp, err := http.Post("http://"+c.rest+"/jobs", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var sub struct {
		ID string `json:"jid"`
	}
	json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("POST /jobs: %s", resp.Status)
	}
	var ex struct {
		History struct {
			Entries []struct {
				StackTrace string `json:"stacktrace"`
			} `json:"entries"`
		} `json:"exceptionHistory"`
	}
	poll(t, "the job to fail", func() bool {
		var j struct {
			State string `json:"state"`
		}
		return c.get("/jobs/"+sub.ID, &j) == nil && j.State == "FAILED"
	})
	if err := c.get("/jobs/"+sub.ID+"/exceptions", &ex); err != nil || len(ex.History.Entries) != 1 {
		t.Fatalf("exceptions: %+v, %v", ex, err)
	}
	if msg := ex.History.Entries[0].StackTrace; !strings.Contains(msg, "job binary or arguments differ") {
		t.Fatalf("failure %q does not say the binary or arguments differ", msg)
	}
	if n := c.restarts(t, sub.ID); n != 0 {
		t.Fatalf("%d restarts, want 0", n)
	}
}

// TestCLIOnSession: list, savepoint, stop with a savepoint and a resubmission
// from it, cancel, and SIGTERM of an attached submit, each through the CLI.
func TestCLIOnSession(t *testing.T) {
	c := startSession(t, 2, 1)
	dir := t.TempDir()
	out, ckpt, sps := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt"), filepath.Join(dir, "savepoints")
	flags := []string{"-D", "state.checkpoints.dir=" + ckpt}
	slow := []string{"--keys", "10", "--per-key", "200000", "--failures", "0", "--checkpoint-interval", "200", "--output", out, "--parallelism", "2"}
	s := c.submit(t, flags, "exactlyonce", slow...)
	id := jobID(t, s)
	poll(t, "a checkpoint", func() bool { return len(completedCheckpoints(ckpt)) > 0 })

	l := runBin(t, nil, "spate", "list", "--jobmanager", c.rest)
	if l.code != 0 || !regexp.MustCompile(`(?m)^`+id+` RUNNING +\S+ exactlyonce$`).MatchString(l.stdout) {
		t.Fatalf("spate list: exit %d\n%s%s", l.code, l.stdout, l.stderr)
	}
	sp := runBin(t, nil, "spate", "savepoint", "--jobmanager", c.rest, id, sps)
	if sp.code != 0 || !strings.HasPrefix(sp.stdout, sps+string(filepath.Separator)) {
		t.Fatalf("spate savepoint: exit %d, stdout %q\n%s", sp.code, sp.stdout, sp.stderr)
	}
	if _, err := os.Stat(filepath.Join(strings.TrimSpace(sp.stdout), "_metadata")); err != nil {
		t.Fatal(err)
	}
	st := runBin(t, nil, "spate", "stop", "--jobmanager", c.rest, "--savepoint-path", sps, id)
	if st.code != 0 {
		t.Fatalf("spate stop: exit %d\n%s", st.code, st.stderr)
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("the stopped job's spate submit: exit %d\n%s", code, s.stderr.String())
	}
	// Resume from the stop's savepoint, then cancel the job with the CLI.
	r := c.submit(t, append(flags, "-s", strings.TrimSpace(st.stdout)), "exactlyonce", slow...)
	rid := jobID(t, r)
	poll(t, "the resumed job to run", func() bool {
		var j struct {
			State string `json:"state"`
		}
		return c.get("/jobs/"+rid, &j) == nil && j.State == "RUNNING"
	})
	if cl := runBin(t, nil, "spate", "cancel", "--jobmanager", c.rest, rid); cl.code != 0 {
		t.Fatalf("spate cancel: exit %d\n%s", cl.code, cl.stderr)
	}
	if code := r.wait(t); code != 1 || !strings.Contains(r.stderr.String(), "job "+rid+" canceled") {
		t.Fatalf("cancelled job's spate submit: exit %d\n%s", code, r.stderr.String())
	}
	// SIGTERM of an attached submit cancels its job.
	k := c.submit(t, []string{"-D", "state.checkpoints.dir=" + filepath.Join(dir, "ckpt2")}, "exactlyonce",
		"--keys", "10", "--per-key", "200000", "--failures", "0", "--checkpoint-interval", "200", "--output", filepath.Join(dir, "out2"), "--parallelism", "2")
	kid := jobID(t, k)
	_ = k.cmd.Process.Signal(syscall.SIGTERM)
	if code := k.wait(t); code != 128+int(syscall.SIGTERM) {
		t.Fatalf("spate submit after SIGTERM: exit %d\n%s", code, k.stderr.String())
	}
	var j struct {
		State string `json:"state"`
	}
	if err := c.get("/jobs/"+kid, &j); err != nil || j.State != "CANCELED" {
		t.Fatalf("job after SIGTERM of its submit: %q, %v", j.State, err)
	}
}

// TestClusterScripts: scripts/start-cluster.sh starts a JobManager and two
// TaskManagers from bin/spate with their pid files and logs in
// SPATE_LOG_DIR and prints the REST address; taskmanager.sh adds and removes
// one; a job submitted with a relative input path runs; stop-cluster.sh
// stops every process.
func TestClusterScripts(t *testing.T) {
	logDir := t.TempDir()
	env := []string{"SPATE_LOG_DIR=" + logDir, "SPATE_BIN=" + filepath.Join(binDir, "spate"),
		"SPATE_PROPERTIES=rest.port=0\njobmanager.rpc.port=0\nheartbeat.interval=100 ms"}
	script := func(name string, args ...string) result {
		t.Helper()
		cmd := exec.Command(filepath.Join("..", "scripts", name), args...)
		return runCmd(t, cmd, env)
	}
	t.Cleanup(func() { script("stop-cluster.sh") })
	r := script("start-cluster.sh")
	m := regexp.MustCompile(`(?m)^REST: http://(127\.0\.0\.1:\d+)$`).FindStringSubmatch(r.stdout)
	if r.code != 0 || m == nil {
		t.Fatalf("start-cluster.sh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c := &sessionCluster{rest: m[1]}
	overview := func(want int) {
		t.Helper()
		poll(t, fmt.Sprintf("%d TaskManagers", want), func() bool {
			var o struct {
				TaskManagers int `json:"taskmanagers"`
			}
			return c.get("/overview", &o) == nil && o.TaskManagers == want
		})
	}
	overview(2)
	if r := script("taskmanager.sh", "start"); r.code != 0 || !strings.Contains(r.stdout, "started TaskManager 2") {
		t.Fatalf("taskmanager.sh start: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	overview(3)
	if r := script("taskmanager.sh", "stop"); r.code != 0 || !strings.Contains(r.stdout, "stopped TaskManager 2") {
		t.Fatalf("taskmanager.sh stop: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The TaskManagers work in this directory, as the submit does.
	s := runBin(t, nil, "spate", "submit", "--jobmanager", c.rest, filepath.Join(binDir, "wordcount"), "--",
		"--input", filepath.Join("..", "examples", "wordcount", "testdata", "words.txt"), "--parallelism", "2")
	if s.code != 0 {
		t.Fatalf("spate submit: exit %d\n%s", s.code, s.stderr)
	}
	want := runBin(t, nil, "wordcount", "--input", filepath.Join("..", "examples", "wordcount", "testdata", "words.txt"))
	var printed string
	for _, n := range []string{"0", "1"} {
		b, _ := os.ReadFile(filepath.Join(logDir, "taskmanager-"+n+".out"))
		printed += string(b)
	}
	if sortedLines(printed) != sortedLines(want.stdout) {
		t.Fatalf("the TaskManagers printed\n%s\nwant\n%s", printed, want.stdout)
	}
	pids, _ := filepath.Glob(filepath.Join(logDir, "*.pid"))
	if len(pids) != 3 {
		t.Fatalf("pid files %v, want the JobManager's and two TaskManagers'", pids)
	}
	var ps []int
	for _, p := range pids {
		b, _ := os.ReadFile(p)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		ps = append(ps, n)
	}
	if r := script("stop-cluster.sh"); r.code != 0 || strings.Count(r.stdout, "stopped ") != 3 {
		t.Fatalf("stop-cluster.sh: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, p := range ps {
		if syscall.Kill(p, 0) == nil {
			t.Fatalf("process %d still runs after stop-cluster.sh", p)
		}
	}
}

// TestRESTLimitsOnSession: a job binary larger than
// rest.server.max-content-length is refused with 413 and the key to raise,
// and paths with "..", "%2e%2e" or "%252f" get a 400 without reaching a
// job; the JobManager keeps serving.
func TestRESTLimitsOnSession(t *testing.T) {
	c := startSession(t, 1, 1, "rest.server.max-content-length=1048576")
	input, _ := filepath.Abs(filepath.Join("..", "examples", "wordcount", "testdata", "words.txt"))
	s := c.submit(t, nil, "wordcount", "--input", input)
	if code := s.wait(t); code != 1 || !strings.Contains(s.stderr.String(), "exceeds the limit of 1048576 bytes; raise rest.server.max-content-length") {
		t.Fatalf("oversized submit: exit %d\n%s", code, s.stderr.String())
	}
	for _, p := range []string{"/jobs/../config", "/jobs/%2e%2e/config", "/jobs/0123456789abcdef0123456789abcdef%252fcheckpoints"} {
		resp, err := http.Get("http://" + c.rest + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("GET %s: %s, want 400", p, resp.Status)
		}
	}
	var o struct {
		TaskManagers int `json:"taskmanagers"`
		Running      int `json:"jobs-running"`
	}
	if err := c.get("/overview", &o); err != nil || o.TaskManagers != 1 || o.Running != 0 {
		t.Fatalf("overview after the refusals: %+v, %v", o, err)
	}
}

// TestTaskManagerKilledOnSession: kill -9 of a session TaskManager (its job
// process dies with it) in the middle of exactlyonce, with a spare
// TaskManager registered: the job fails over onto the spare from its latest
// checkpoint, reports one restart, and every key,seq is written exactly once.
func TestTaskManagerKilledOnSession(t *testing.T) {
	c := startSession(t, 3, 1)
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	s := c.submit(t, []string{"-D", "state.checkpoints.dir=" + ckpt}, "exactlyonce", eoArgs(out)...)
	id := jobID(t, s)
	poll(t, "two checkpoints", func() bool { ids := completedCheckpoints(ckpt); return len(ids) > 0 && ids[len(ids)-1] >= 2 })
	victim := -1
	for i, tm := range c.tms {
		if len(children(tm.cmd.Process.Pid)) == 1 {
			victim = i
			break
		}
	}
	if victim < 0 {
		t.Fatal("no TaskManager runs a job process")
	}
	if err := c.tms[victim].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code := s.wait(t); code != 0 {
		t.Fatalf("spate submit: exit %d\n%s", code, s.stderr.String())
	}
	if n := c.restarts(t, id); n != 1 {
		t.Fatalf("%d restarts, want 1\n%s", n, c.jm.stderr.String())
	}
	if !strings.Contains(c.jm.stderr.String(), `"message":"TaskManager lost"`) {
		t.Fatalf("the JobManager did not report the lost TaskManager:\n%s", c.jm.stderr.String())
	}
	checkExact(t, out, eoKeys, eoPerKey)
}
