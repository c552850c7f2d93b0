package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spate-io/spate/worker/transport"
)

// Application mode across processes: a job binary started as the JobManager
// and the same binary started as TaskManagers, talking over authenticated
// Thrift RPC and exchanging records over the data plane.

// clusterSettings generates a cluster secret in dir and picks a free port
// for the JobManager; it returns the SPATE_PROPERTIES of every process (the
// defaults of these tests, then extra, which win) and the JobManager's address.
func clusterSettings(t *testing.T, dir string, extra ...string) (props, addr string) {
	t.Helper()
	secret := filepath.Join(dir, "secret")
	if err := transport.GenerateSecretFile(secret); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	all := append([]string{
		"security.cluster.secret-file=" + secret,
		"jobmanager.rpc.port=" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port),
		"taskmanager.numberOfTaskSlots=1",
		"heartbeat.interval=100 ms",
		"heartbeat.timeout=5 s",
		"slot.request.timeout=30 s",
		"rest.port=0",
	}, extra...)
	return strings.Join(all, "\n"), addr
}

// roleEnv is the environment of process i of a cluster in role.
func roleEnv(props, role string, i int) []string {
	return []string{"SPATE_PROPERTIES=" + props, "SPATE_ROLE=" + role, fmt.Sprintf("SPATE_TASKMANAGER_NAME=tm-%d", i)}
}

// appCluster runs name with args as one JobManager and n TaskManagers (one
// slot each) with the extra properties, and returns the JobManager's result
// and what the TaskManagers printed (print sinks run there, as in Flink).
func appCluster(t *testing.T, n int, extra []string, name string, args ...string) (jm result, tmOut string) {
	t.Helper()
	props, _ := clusterSettings(t, t.TempDir(), extra...)
	env := func(role string, i int) []string { return roleEnv(props, role, i) }
	j := start(t, env("jobmanager", 0), name, args...)
	var tms []*running
	for i := range n {
		tms = append(tms, start(t, env("taskmanager", i), name, args...))
	}
	code := j.wait(t)
	for i, tm := range tms {
		if c := tm.wait(t); c != 0 {
			t.Errorf("TaskManager %d: exit %d\n%s", i, c, tm.stderr.String())
		}
		tmOut += tm.stdout.String()
	}
	return result{code: code, stdout: j.stdout.String(), stderr: j.stderr.String()}, tmOut
}

// TestWordCountOnAppCluster: WordCount on a JobManager and TaskManager
// processes prints exactly what the embedded run prints, at p=1, 2 and 4.
func TestWordCountOnAppCluster(t *testing.T) {
	input := filepath.Join("..", "examples", "wordcount", "testdata", "words.txt")
	for _, p := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			args := []string{"--input", input, "--parallelism", strconv.Itoa(p)}
			want := runBin(t, nil, "wordcount", args...)
			if want.code != 0 {
				t.Fatalf("embedded: exit %d\n%s", want.code, want.stderr)
			}
			got, printed := appCluster(t, p, nil, "wordcount", args...)
			if got.code != 0 || got.stdout != "" {
				t.Fatalf("cluster: exit %d, JobManager stdout %q\n%s", got.code, got.stdout, got.stderr)
			}
			if sortedLines(printed) != sortedLines(want.stdout) {
				t.Fatalf("cluster output differs from the embedded run's: %d vs %d lines", strings.Count(printed, "\n"), strings.Count(want.stdout, "\n"))
			}
		})
	}
}

// TestExactlyOnceOnAppCluster: exactlyonce on a JobManager and two
// TaskManager processes, checkpoints on local disk written by the
// TaskManagers: every key,seq exactly once. (Its failure injector counts per
// process, so failures are injected by killing processes instead, once a
// lost TaskManager's slots can be replaced.)
func TestExactlyOnceOnAppCluster(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	const keys, perKey, failures = 5, 2000, 0
	r, _ := appCluster(t, 2, []string{"state.checkpoints.dir=" + filepath.Join(dir, "ckpt")}, "exactlyonce",
		"--keys", strconv.Itoa(keys), "--per-key", strconv.Itoa(perKey), "--failures", strconv.Itoa(failures),
		"--checkpoint-interval", "50", "--output", out, "--parallelism", "2")
	want := fmt.Sprintf("exactlyonce: %d records, %d failures injected, %d recoveries\n", keys*perKey, failures, failures)
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d, stdout %q, want %q\n%s", r.code, r.stdout, want, r.stderr)
	}
	checkExact(t, out, keys, perKey)
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestTaskManagerKilledOnAppCluster: kill -9 of a TaskManager process in the
// middle of exactlyonce (whose JobManager serves the job's REST API), with a
// spare TaskManager registered: the JobManager
// declares it lost after heartbeat.timeout, the job restarts on the spare
// from its latest checkpoint, reports one recovery, and every key,seq is
// written exactly once.
func TestTaskManagerKilledOnAppCluster(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	props, _ := clusterSettings(t, dir, "heartbeat.timeout=2 s", "state.checkpoints.dir="+ckpt, "log.level=info", "log.format=json")
	args := eoArgs(out)
	env := func(role string, i int) []string { return roleEnv(props, role, i) }
	jm := start(t, env("jobmanager", 0), "exactlyonce", args...)
	tms := map[string]*running{}
	for i := range 3 {
		tms[fmt.Sprintf("tm-%d", i)] = start(t, env("taskmanager", i), "exactlyonce", args...)
	}
	// The first TaskManager to register gets slot 0; the third is the spare.
	first := regexp.MustCompile(`"taskmanager":"(tm-\d)".*"number":0,`)
	var victim string
	poll(t, "the first registration", func() bool {
		m := first.FindStringSubmatch(jm.stderr.String())
		if m != nil {
			victim = m[1]
		}
		return m != nil
	})
	poll(t, "two checkpoints", func() bool { ids := completedCheckpoints(ckpt); return len(ids) > 0 && ids[len(ids)-1] >= 2 })
	// The application's JobManager serves the REST API of its job.
	var rest *sessionCluster
	restLine := regexp.MustCompile(`"rest":"http://([^"]+)".*"message":"REST API serving"`)
	poll(t, "the REST address", func() bool {
		m := restLine.FindStringSubmatch(jm.stderr.String())
		if m != nil {
			rest = &sessionCluster{rest: m[1]}
		}
		return m != nil
	})
	var jobs struct {
		Jobs []struct {
			ID    string `json:"jid"`
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"jobs"`
	}
	if err := rest.get("/jobs/overview", &jobs); err != nil || len(jobs.Jobs) != 1 || jobs.Jobs[0].Name != "exactlyonce" || jobs.Jobs[0].State != "RUNNING" {
		t.Fatalf("/jobs/overview: %+v, %v", jobs, err)
	}
	var cps struct {
		Counts struct {
			Completed int `json:"completed"`
		} `json:"counts"`
	}
	if err := rest.get("/jobs/"+jobs.Jobs[0].ID+"/checkpoints", &cps); err != nil || cps.Counts.Completed < 2 {
		t.Fatalf("/jobs/%s/checkpoints: %+v, %v", jobs.Jobs[0].ID, cps, err)
	}
	if err := tms[victim].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if code := jm.wait(t); code != 0 {
		t.Fatalf("JobManager: exit %d\n%s", code, jm.stderr.String())
	}
	want := fmt.Sprintf("exactlyonce: %d records, 0 failures injected, 1 recoveries\n", eoKeys*eoPerKey)
	if jm.stdout.String() != want {
		t.Fatalf("stdout %q, want %q\n%s", jm.stdout.String(), want, jm.stderr.String())
	}
	if !strings.Contains(jm.stderr.String(), `"message":"TaskManager lost"`) {
		t.Fatalf("the JobManager did not report the loss:\n%s", jm.stderr.String())
	}
	for name, tm := range tms {
		if name == victim {
			continue
		}
		if c := tm.wait(t); c != 0 {
			t.Errorf("%s: exit %d\n%s", name, c, tm.stderr.String())
		}
	}
	checkExact(t, out, eoKeys, eoPerKey)
}

// TestPanicOnAppCluster: a panic in user code on a TaskManager process fails
// the job with the user's message and frame on the JobManager, never a hang.
func TestPanicOnAppCluster(t *testing.T) {
	dir := t.TempDir()
	r, _ := appCluster(t, 2, []string{"state.checkpoints.dir=" + filepath.Join(dir, "ckpt"), "restart-strategy.type=none"}, "exactlyonce",
		"--keys", "3", "--per-key", "3000", "--failures", "1", "--checkpoint-interval", "50", "--output", filepath.Join(dir, "out"), "--parallelism", "2")
	want := regexp.MustCompile(`exactlyonce: operator "Check sequences" \(subtask \d of 2\) failed: panic: injected failure while processing key \d, sequence number \d+ \(at exactlyonce/main\.go:\d+\)`)
	if r.code != 1 || !want.MatchString(r.stderr) {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

// TestIntrudersOnAppCluster: while exactlyonce runs, peers without the
// secret, with a wrong one, or sending garbage connect to the JobManager;
// each is refused and logged with its address, and the job finishes exactly.
func TestIntrudersOnAppCluster(t *testing.T) {
	dir := t.TempDir()
	out, ckpt := filepath.Join(dir, "out"), filepath.Join(dir, "ckpt")
	props, addr := clusterSettings(t, dir, "state.checkpoints.dir="+ckpt, "log.level=warn", "log.format=json")
	env := func(role string, i int) []string { return roleEnv(props, role, i) }
	jm := start(t, env("jobmanager", 0), "exactlyonce", eoArgs(out)...)
	tm0 := start(t, env("taskmanager", 0), "exactlyonce", eoArgs(out)...)
	tm1 := start(t, env("taskmanager", 1), "exactlyonce", eoArgs(out)...)
	poll(t, "a checkpoint", func() bool { return len(completedCheckpoints(ckpt)) > 0 })
	other, err := transport.NewSharedSecret([]byte("not the cluster's secret, not at all"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transport.Dial(context.Background(), addr, other, transport.Options{}); !errors.Is(err, transport.ErrAuthFailed) {
		t.Fatalf("dial with a wrong secret: %v", err)
	}
	for _, junk := range [][]byte{[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), {0, 0, 0, 16, 1, 2, 3}, nil} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(junk)
		c.(*net.TCPConn).CloseWrite()
		_, _ = io.ReadAll(c) // the JobManager closes it
		c.Close()
	}
	if code := jm.wait(t); code != 0 {
		t.Fatalf("JobManager: exit %d\n%s", code, jm.stderr.String())
	}
	for _, tm := range []*running{tm0, tm1} {
		if c := tm.wait(t); c != 0 {
			t.Fatalf("TaskManager: exit %d\n%s", c, tm.stderr.String())
		}
	}
	refused := regexp.MustCompile(`"remote":"127\.0\.0\.1:\d+".*"message":"transport: refused unauthenticated connection"`)
	if n := len(refused.FindAllString(jm.stderr.String(), -1)); n != 4 {
		t.Fatalf("%d refusals logged with the peer's address, want 4:\n%s", n, jm.stderr.String())
	}
	checkExact(t, out, eoKeys, eoPerKey)
}

// TestWindowCountOnAppCluster: event-time windows on a JobManager and two
// TaskManager processes give exactly the reference windows. (The count of
// malformed lines is kept in the job's memory, so on a cluster it is kept on
// each TaskManager and not reported by the JobManager: accumulators that
// reach the JobManager are still to come.)
func TestWindowCountOnAppCluster(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "events.csv")
	const ooo = 300
	evs := writeEvents(t, input, 20000, ooo, 7)
	for _, tc := range []struct {
		spec             string
		kind             string
		size, slide, gap int64
	}{
		{"tumbling:1000", "tumbling", 1000, 0, 0},
		{"session:150", "session", 0, 0, 150},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			r, printed := appCluster(t, 2, nil, "windowcount", "--input", input, "--window", tc.spec,
				"--out-of-orderness", fmt.Sprint(ooo), "--parallelism", "2")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if d := diffLines(sortedOutput(printed), referenceWindows(evs, tc.kind, tc.size, tc.slide, tc.gap)); d != "" {
				t.Fatal(d)
			}
		})
	}
}
