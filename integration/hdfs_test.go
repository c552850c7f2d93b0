package integration

// End-to-end tests against the real secure Hadoop of integration/hadoop (a
// KDC, HDFS with two DataNodes, YARN), started once for this test binary and
// shared (hadooptest.Shared): the example binaries checkpoint to and write
// their output on hdfs://, Spate's files are read back through Hadoop's own
// client, a DataNode is stopped under a running job, and every wrong
// credential ends in one line that says what to change. They skip only when
// neither java nor mvn is on PATH.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/integration/hadooptest"
	"github.com/spate-io/spate/sdk"
)

// secureHadoop is the cluster of every TestHDFS* test. Two DataNodes (so
// dfs.replication=2): one can be stopped while the other keeps HDFS writable.
var secureHadoop = &hadooptest.Shared{Options: hadooptest.Options{Secure: true, DataNodes: 2}}

// ticketLifetime is the KDC's maximum ticket lifetime in shortTicketHadoop.
const ticketLifetime = 30 * time.Second

// shortTicketHadoop is the cluster of TestHDFSTicketRenewal: its tickets
// last ticketLifetime, and its NameNode closes a connection idle for 2 s
// (2 × ipc.client.connection.maxidletime, scanned every second whatever the
// number of connections), so that a long job connects again, and needs
// fresh tickets, many times.
var shortTicketHadoop = &hadooptest.Shared{Options: hadooptest.Options{Secure: true, MaxTicketLifetime: ticketLifetime,
	CoreSite: map[string]string{
		"ipc.client.connection.maxidletime":           "1000",
		"ipc.client.idlethreshold":                    "0",
		"ipc.client.connection.idle-scan-interval.ms": "1000",
	}}}

// prestartHadoop starts the cluster while the binaries build, when the run
// may include a TestHDFS* test.
func prestartHadoop() {
	flag.Parse()
	run := ""
	if f := flag.Lookup("test.run"); f != nil {
		run = f.Value.String()
	}
	if !testing.Short() && (run == "" || strings.Contains(run, "HDFS")) {
		secureHadoop.Prestart()
	}
}

// stopHadoop stops the cluster if a test started it, and with
// SPATE_HADOOP_TIMES set says how long it took to start.
func stopHadoop() {
	for name, s := range map[string]*hadooptest.Shared{"secure": secureHadoop, "short-ticket": shortTicketHadoop} {
		if c, ok := s.Started(); ok && os.Getenv("SPATE_HADOOP_TIMES") != "" {
			fmt.Fprintf(os.Stderr, "hadoop %s: ready %v after exec (launcher: %v); maven %v\n",
				name, c.StartupTime.Round(time.Millisecond), c.LauncherStartup, hadooptest.BuildTime.Round(time.Millisecond))
		}
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// onHDFS is a test's view of the cluster: a client logged in from the
// client keytab, and a fresh directory of the test's own under /user/spate.
type onHDFS struct {
	c    *hadooptest.Cluster
	fs   *hdfs.HDFS
	dir  string // the test's directory, an HDFS path
	env  []string
	conf *hdfs.HadoopConf
}

func newOnHDFS(t *testing.T) *onHDFS {
	t.Helper()
	return newOnHDFSOf(t, secureHadoop)
}

func newOnHDFSOf(t *testing.T, shared *hadooptest.Shared) *onHDFS {
	t.Helper()
	c := shared.Get(t)
	hc, err := hdfs.LoadHadoopConf(c.ConfDir)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	h := hdfs.NewHadoop(hdfs.HadoopOptions{Conf: hc, Getenv: func(k string) string { return env[k] },
		Login: hdfs.KerberosLogin{Principal: c.ClientPrincipal, Keytab: c.ClientKeytab}})
	t.Cleanup(func() { h.Close() })
	fsys, err := h.FileSystem("")
	if err != nil {
		t.Fatal(err)
	}
	dir := fmt.Sprintf("/user/spate/%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	if err := fsys.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	return &onHDFS{c: c, fs: fsys, dir: dir, env: c.Env(), conf: hc}
}

// uri is the hdfs:// URI of a path under the test's directory.
func (o *onHDFS) uri(rel string) string { return o.c.DefaultFS + path.Join(o.dir, rel) }

// files lists every file under dir (relative names), walking it.
func (o *onHDFS) files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	var walk func(string)
	walk = func(d string) {
		entries, err := o.fs.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir {
				walk(e.Path)
			} else {
				out = append(out, strings.TrimPrefix(e.Path, dir+"/"))
			}
		}
	}
	walk(dir)
	return out
}

func (o *onHDFS) read(t *testing.T, p string) []byte {
	t.Helper()
	f, err := o.fs.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// put copies a local file to HDFS through a client whose blocks are 1 MiB,
// so that the splits of a few megabytes cross block boundaries.
func (o *onHDFS) put(t *testing.T, local, p string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"core-site.xml", "hdfs-site.xml"} {
		b, err := os.ReadFile(filepath.Join(o.c.ConfDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "hdfs-site.xml" {
			b = bytes.Replace(b, []byte("</configuration>"), []byte("<property><name>dfs.blocksize</name><value>1m</value></property></configuration>"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hc, err := hdfs.LoadHadoopConf(dir)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, kv := range o.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	h := hdfs.NewHadoop(hdfs.HadoopOptions{Conf: hc, Getenv: func(k string) string { return env[k] },
		Login: hdfs.KerberosLogin{Principal: o.c.ClientPrincipal, Keytab: o.c.ClientKeytab}})
	defer h.Close()
	fsys, err := h.FileSystem("")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}
	if err := fsys.MkdirAll(path.Dir(p)); err != nil {
		t.Fatal(err)
	}
	w, err := fsys.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// partFiles returns the paths of the part files in dir, and the names of
// any hidden files other than commit markers.
func (o *onHDFS) partFiles(t *testing.T, dir string) (parts, hidden []string) {
	t.Helper()
	entries, err := o.fs.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch {
		case commitMarker.MatchString(e.Name):
		case strings.HasPrefix(e.Name, "."):
			hidden = append(hidden, e.Name)
		case strings.HasPrefix(e.Name, "part-"):
			parts = append(parts, e.Path)
		default:
			t.Fatalf("unexpected file %s in the output directory", e.Path)
		}
	}
	return parts, hidden
}

// checkByteIdentical reads the files through Hadoop's own client (hadoop fs
// -cat, one JVM for all of them) and compares with what Spate's client reads:
// the bytes on HDFS are what Spate meant, not only what Spate reads back.
func (o *onHDFS) checkByteIdentical(t *testing.T, paths []string) []byte {
	t.Helper()
	if len(paths) == 0 {
		t.Fatal("no files to compare")
	}
	var want bytes.Buffer
	uris := make([]string, len(paths))
	for i, p := range paths {
		want.Write(o.read(t, p))
		uris[i] = o.c.DefaultFS + p
	}
	got, err := o.c.HadoopFS(append([]string{"-cat"}, uris...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("hadoop fs -cat of %d files read %d bytes, Spate's client %d: they differ", len(paths), len(got), want.Len())
	}
	return got
}

// checkExactLines checks that lines hold every key,seq of keys × perKey
// exactly once.
func checkExactLines(t *testing.T, lines []string, keys, perKey int) {
	t.Helper()
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
		t.Fatalf("%d lost (%.5v), %d duplicated (%.5v), %d unexpected lines", len(lost), lost, len(dup), dup, len(seen))
	}
}

// checkExactOnHDFS checks an exactlyonce output directory on HDFS: every
// key,seq exactly once, nothing uncommitted left; and the part files read
// the same through Hadoop's client.
func (o *onHDFS) checkExactOnHDFS(t *testing.T, out string, keys, perKey int) {
	t.Helper()
	parts, hidden := o.partFiles(t, out)
	if len(hidden) > 0 {
		t.Fatalf("uncommitted files left: %v", hidden)
	}
	all := o.checkByteIdentical(t, parts)
	checkExactLines(t, strings.Split(strings.TrimSuffix(string(all), "\n"), "\n"), keys, perKey)
}

// checkFinishedOnHDFS is checkFinished for a checkpoint directory on HDFS.
func (o *onHDFS) checkFinishedOnHDFS(t *testing.T, ckpt string) {
	t.Helper()
	left := o.files(t, ckpt)
	if len(left) != 1 || !regexp.MustCompile(`^[0-9a-f]{32}/_finished$`).MatchString(left[0]) {
		t.Fatalf("a finished job left %v under its checkpoint directory; want only <job-id>/_finished", left)
	}
	if leases, err := o.fs.ReadDir(path.Join(ckpt, "_leases")); err != nil || len(leases) != 0 {
		t.Fatalf("leases left: %v, %v", leases, err)
	}
}

// TestHDFSExactlyOnce runs examples/exactlyonce with its checkpoints and its
// output on secure HDFS, with failures injected while processing and while
// snapshotting: the output holds every key,seq exactly once, reads the same
// through Hadoop's client, and the checkpoint directory is left as a
// finished job leaves it.
func TestHDFSExactlyOnce(t *testing.T) {
	const keys, perKey, failures = 7, 3000, 3
	for _, tc := range []struct {
		failIn      string
		parallelism int
	}{
		{"process", 2}, {"snapshot", 3},
	} {
		t.Run(fmt.Sprintf("%s/p=%d", tc.failIn, tc.parallelism), func(t *testing.T) {
			o := newOnHDFS(t)
			start := time.Now()
			r := runBin(t, append(o.env, "SPATE_PROPERTIES=state.checkpoints.dir="+o.uri("ckpt")), "exactlyonce",
				"--keys", fmt.Sprint(keys), "--per-key", fmt.Sprint(perKey), "--failures", fmt.Sprint(failures),
				"--checkpoint-interval", "100", "--output", o.uri("out"), "--parallelism", fmt.Sprint(tc.parallelism), "--fail-in", tc.failIn)
			t.Logf("exactlyonce on HDFS: %v", time.Since(start).Round(time.Millisecond))
			if r.code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			want := fmt.Sprintf("exactlyonce: %d records, %d failures injected, %d recoveries\n", keys*perKey, failures, failures)
			if r.stdout != want {
				t.Fatalf("stdout %q, want %q", r.stdout, want)
			}
			if n := strings.Count(r.stderr, "job failed; restarting"); n != failures {
				t.Fatalf("%d recoveries logged, want %d:\n%s", n, failures, r.stderr)
			}
			o.checkExactOnHDFS(t, path.Join(o.dir, "out"), keys, perKey)
			o.checkFinishedOnHDFS(t, path.Join(o.dir, "ckpt"))
		})
	}
}

// TestHDFSWordCount: WordCount reads two files of several 1 MiB blocks from
// HDFS (hdfs:///, resolved against fs.defaultFS) and writes its part files
// there, at parallelism 1 and 3; the counts equal the reference counts of the
// local copies, and the part files read the same through Hadoop's client.
func TestHDFSWordCount(t *testing.T) {
	o := newOnHDFS(t)
	local := t.TempDir()
	a, b := filepath.Join(local, "a.txt"), filepath.Join(local, "b.txt")
	writeLargeText(t, a, 3<<20+12345, 11)
	writeLargeText(t, b, 2<<20, 12)
	want := referenceCounts(t, a, b)
	o.put(t, a, path.Join(o.dir, "in", "a.txt"))
	o.put(t, b, path.Join(o.dir, "in", "b.txt"))
	for _, p := range []string{"1", "3"} {
		t.Run("p="+p, func(t *testing.T) {
			out := path.Join(o.dir, "out-"+p)
			r := runBin(t, o.env, "wordcount", "--input", "hdfs://"+path.Join(o.dir, "in"), "--output", "hdfs://"+out, "--parallelism", p)
			if r.code != 0 || r.stdout != "" {
				t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
			}
			parts, hidden := o.partFiles(t, out)
			if len(hidden) > 0 {
				t.Fatalf("uncommitted files left: %v", hidden)
			}
			got := o.checkByteIdentical(t, parts)
			if d := diffLines(sortedOutput(string(got)), want); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// TestHDFSSavepointRescale stops a keyed count at parallelism 2 with a
// savepoint into state.savepoints.dir on HDFS, then finishes it from the
// savepoint at parallelism 3 into the same output directory on HDFS: every
// key,count update is written exactly once. The savepoint's _metadata reads
// the same through Hadoop's client. The job runs in this process (a
// savepoint is triggered through the JobClient; no command triggers one yet).
func TestHDFSSavepointRescale(t *testing.T) {
	o := newOnHDFS(t)
	for _, kv := range o.env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v) // for this process's hdfs:// clients
	}
	const keys, total = 20, 20000
	out := o.uri("out")
	newEnv := func(p int, settings ...string) *sdk.Env {
		cfg := conf.New()
		for _, kv := range append([]string{
			"execution.checkpointing.interval=100 ms",
			"state.checkpoints.dir=" + o.uri("ckpt"),
			"state.savepoints.dir=" + o.uri("savepoints"),
		}, settings...) {
			k, v, _ := strings.Cut(kv, "=")
			if err := cfg.Set(k, v); err != nil {
				t.Fatal(err)
			}
		}
		env := sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard)))
		env.SetParallelism(p)
		return env
	}
	build := func(env *sdk.Env, rate float64) {
		src := sdk.GenerateWithRate(env, total, rate, func(i int64) int64 { return i }).UID("numbers").SetParallelism(1)
		counts := sdk.Sum(sdk.KeyBy(src, func(i int64) int64 { return i % keys }), func(int64) int64 { return 1 }).UID("counts")
		lines := sdk.Map(counts, func(kv sdk.KeyValue[int64, int64]) string {
			return strconv.FormatInt(kv.Key, 10) + "," + strconv.FormatInt(kv.Value, 10)
		}).UID("format")
		sdk.WriteText(lines, out).UID("sink")
	}

	env := newEnv(2)
	build(env, 5000)
	client, err := env.ExecuteAsync(context.Background(), "counts")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); client.CheckpointStats().Completed < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no two checkpoints in 30 s: %+v", client.CheckpointStats())
		}
	}
	sp, err := client.StopWithSavepoint(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Wait(); err != nil {
		t.Fatalf("stop with savepoint: %v", err)
	}
	if !strings.HasPrefix(sp, o.uri("savepoints")+"/savepoint-") {
		t.Fatalf("savepoint at %q, want under %s", sp, o.uri("savepoints"))
	}
	spPath := strings.TrimPrefix(sp, o.c.DefaultFS)
	meta := o.checkByteIdentical(t, []string{path.Join(spPath, "_metadata")})
	if !bytes.HasPrefix(meta, []byte("SPATE-CHECKPOINT-METADATA 1 ")) || !bytes.Contains(meta, []byte(`"kind": "stop-with-savepoint"`)) {
		t.Fatalf("the savepoint's _metadata, read by Hadoop's client:\n%.300s", meta)
	}
	before, _ := o.partFiles(t, path.Join(o.dir, "out"))
	if len(before) == 0 {
		t.Fatal("the first run committed no output before its savepoint")
	}

	env = newEnv(3, "execution.savepoint.path="+sp)
	build(env, 0)
	if _, err := env.Execute(context.Background(), "counts"); err != nil {
		t.Fatalf("restore at parallelism 3: %v", err)
	}
	o.checkExactOnHDFS(t, path.Join(o.dir, "out"), keys, total/keys)
	after, _ := o.partFiles(t, path.Join(o.dir, "out"))
	if !slices.ContainsFunc(after, func(p string) bool { return strings.HasPrefix(path.Base(p), "part-2-") }) {
		t.Fatalf("no part file of subtask 2 after the restore at parallelism 3: %v", after)
	}
}

// logEvent is one line of a job's JSON log on stderr.
type logEvent struct {
	Message    string `json:"message"`
	Checkpoint int64  `json:"checkpoint"`
	Error      string `json:"error"`
	Reason     string `json:"reason"`
}

// logEvents parses the JSON lines of stderr; other lines are skipped.
func logEvents(stderr string) []logEvent {
	var out []logEvent
	for _, line := range strings.Split(stderr, "\n") {
		var e logEvent
		if json.Unmarshal([]byte(line), &e) == nil && e.Message != "" {
			out = append(out, e)
		}
	}
	return out
}

// completedOnHDFS lists the ids of the completed checkpoints under ckpt.
func (o *onHDFS) completedOnHDFS(ckpt string) []int64 {
	var ids []int64
	jobs, _ := o.fs.ReadDir(ckpt)
	for _, j := range jobs {
		chks, _ := o.fs.ReadDir(j.Path)
		for _, c := range chks {
			n, err := strconv.ParseInt(strings.TrimPrefix(c.Name, "chk-"), 10, 64)
			if err != nil || !strings.HasPrefix(c.Name, "chk-") {
				continue
			}
			if _, err := o.fs.Stat(path.Join(c.Path, "_metadata")); err == nil {
				ids = append(ids, n)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// lockedBuffer is a child's output that a test may read while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestHDFSDataNodeStopped stops one of the two DataNodes while exactlyonce
// checkpoints to HDFS every 500 ms and writes its output there. As on a real
// cluster, the NameNode goes on placing blocks on the stopped DataNode until
// it counts it dead, and the library cannot rebuild a pipeline without it:
// the next checkpoint written is declined (tolerated), and the sink, whose
// part file is lost with its pipeline, may fail its task and restart the job
// from the last completed checkpoint. Once the NameNode counts the DataNode
// dead, a later checkpoint completes on the remaining one, and the output
// holds every key,seq exactly once. The DataNode is restarted afterwards.
func TestHDFSDataNodeStopped(t *testing.T) {
	const keys, perKey = 10, 4000
	o := newOnHDFS(t)
	ckpt := path.Join(o.dir, "ckpt")
	props := "state.checkpoints.dir=" + o.uri("ckpt") + "\nexecution.checkpointing.tolerable-failed-checkpoints=50\nlog.level=info\nlog.format=json"
	cmd := exec.Command(filepath.Join(binDir, "exactlyonce"), "--keys", fmt.Sprint(keys), "--per-key", fmt.Sprint(perKey), "--failures", "0",
		"--checkpoint-interval", "500", "--output", o.uri("out"), "--parallelism", "2")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(append(cleanEnv(), o.env...), "SPATE_PROPERTIES="+props)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once Wait returned waitErr
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	started := time.Now()
	// The run spans about eight checkpoint intervals: stop early in it.
	var before int64
	poll(t, "two completed checkpoints on HDFS", func() bool {
		ids := o.completedOnHDFS(ckpt)
		if len(ids) > 0 {
			before = ids[0]
		}
		return before >= 2
	})
	if err := o.c.StopDataNode(1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := o.c.RestartDataNode(1); err != nil {
			t.Errorf("restart DataNode 1: %v", err)
		}
	})
	t.Logf("DataNode 1 stopped %v into the run, after checkpoint %d", time.Since(started).Round(time.Millisecond), before)
	declined := func() (int64, string) {
		for _, e := range logEvents(stderr.String()) {
			if e.Message == "checkpoint declined" && e.Checkpoint > before {
				return e.Checkpoint, e.Error
			}
		}
		return 0, ""
	}
	poll(t, "a checkpoint declined after the DataNode stopped", func() bool { id, _ := declined(); return id > 0 })
	failed, why := declined()
	t.Logf("checkpoint %d declined %v into the run: %s", failed, time.Since(started).Round(time.Millisecond), why)
	if !strings.Contains(why, hdfs.ErrWritePipeline.Error()) {
		t.Errorf("checkpoint %d was declined for another reason than the broken pipeline: %s", failed, why)
	}
	if err := o.c.DeadDataNode(1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exactlyonce: %v\nstdout: %s\nstderr: %s", waitErr, stdout.String(), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("exactlyonce did not end within 2 minutes of the DataNode's stop:\n%s", stderr.String())
	}
	if want := fmt.Sprintf("exactlyonce: %d records, 0 failures injected, ", keys*perKey); !strings.HasPrefix(stdout.String(), want) {
		t.Fatalf("stdout %q, want %q…", stdout.String(), want)
	}
	var completedAfter int64
	restarts := 0
	for _, e := range logEvents(stderr.String()) {
		switch {
		case e.Message == "checkpoint completed" && e.Checkpoint > failed && completedAfter == 0:
			completedAfter = e.Checkpoint
		case e.Message == "job failed; restarting":
			restarts++
			t.Logf("restart: %s", e.Error)
		}
	}
	if completedAfter == 0 {
		t.Fatalf("no checkpoint completed after checkpoint %d was declined:\n%s", failed, stderr.String())
	}
	t.Logf("checkpoint %d completed after it; %d restarts", completedAfter, restarts)
	o.checkExactOnHDFS(t, path.Join(o.dir, "out"), keys, perKey)
	o.checkFinishedOnHDFS(t, ckpt)
}

// writeTicketCache writes a ticket cache (MIT's file format, version 4) that
// holds one ticket-granting ticket for user@realm, valid from start to end;
// its ticket bytes are not a real ticket, which is never reached: an expired
// ticket is refused before anything is sent.
func writeTicketCache(t *testing.T, p, user, realm string, start, end time.Time) {
	t.Helper()
	var b bytes.Buffer
	u32 := func(v uint32) { b.Write([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) }
	data := func(s string) { u32(uint32(len(s))); b.WriteString(s) }
	principal := func(nameType uint32, realm string, names ...string) {
		u32(nameType)
		u32(uint32(len(names)))
		data(realm)
		for _, n := range names {
			data(n)
		}
	}
	b.Write([]byte{5, 4, 0, 0}) // version 4, no header tags
	principal(1, realm, user)   // the default principal
	principal(1, realm, user)   // the credential's client…
	principal(2, realm, "krbtgt", realm)
	b.Write([]byte{0, 18}) // aes256-cts-hmac-sha1-96
	data(strings.Repeat("k", 32))
	for _, ts := range []time.Time{start, start, end, end} { // auth, start, end, renew-till
		u32(uint32(ts.Unix()))
	}
	b.WriteByte(0)  // not a session-key ticket
	u32(0x40e00000) // forwardable, renewable, initial, pre-authenticated
	u32(0)          // addresses
	u32(0)          // authorization data
	data("not a real ticket")
	data("") // no second ticket
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestHDFSBadCredentials runs WordCount on an input on secure HDFS with each
// wrong credential a user meets: each ends with exit 1 and one line on
// stderr that names what to change, within a bound, never a hang or a
// stack trace.
func TestHDFSBadCredentials(t *testing.T) {
	o := newOnHDFS(t)
	local := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(local, []byte("a b a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	o.put(t, local, path.Join(o.dir, "in.txt"))
	input := o.uri("in.txt")
	dir := t.TempDir()
	expired := filepath.Join(dir, "krb5cc_expired")
	writeTicketCache(t, expired, "spate", o.c.Realm, time.Now().Add(-2*time.Hour), time.Now().Add(-time.Hour))
	// A NameNode that is not there: a port nothing listens on, with the
	// retries of a configuration that allows two.
	confDir := filepath.Join(dir, "conf")
	if err := os.MkdirAll(confDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"core-site.xml", "hdfs-site.xml"} {
		b, err := os.ReadFile(filepath.Join(o.c.ConfDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "core-site.xml" {
			b = bytes.Replace(b, []byte("</configuration>"), []byte("<property><name>ipc.client.connect.max.retries</name><value>2</value></property></configuration>"), 1)
		}
		if err := os.WriteFile(filepath.Join(confDir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadNN := l.Addr().String()
	l.Close()

	keytab := func(principal, keytab string) string {
		return "SPATE_PROPERTIES=security.kerberos.login.principal=" + principal + "\nsecurity.kerberos.login.keytab=" + keytab
	}
	krb5 := o.c.Krb5Conf
	for _, tc := range []struct {
		name  string
		env   []string
		input string
		want  string // a regular expression for the one line
	}{
		{"no ticket", []string{"KRB5CCNAME=FILE:" + filepath.Join(dir, "none")}, input,
			`kerberos: no Kerberos ticket: the ticket cache ` + regexp.QuoteMeta(filepath.Join(dir, "none")) + ` does not exist: run kinit, or set security.kerberos.login.keytab and security.kerberos.login.principal`},
		{"expired ticket without keytab", []string{"KRB5CCNAME=FILE:" + expired}, input,
			`kerberos: the ticket of spate@` + o.c.Realm + ` in ` + regexp.QuoteMeta(expired) + ` expired at \S+: run kinit again, or set security.kerberos.login.keytab to renew from a keytab`},
		{"keytab of another principal", []string{keytab(o.c.ClientPrincipal, o.c.OtherKeytab)}, input,
			`kerberos: keytab ` + regexp.QuoteMeta(o.c.OtherKeytab) + ` has no key for ` + o.c.ClientPrincipal + ` \(it holds ` + o.c.OtherPrincipal + `\): set security.kerberos.login.principal to the keytab's principal, or use that principal's keytab`},
		{"wrong realm", []string{keytab("spate@WRONG.REALM", o.c.ClientKeytab)}, input,
			`kerberos: no KDC for realm WRONG.REALM in ` + regexp.QuoteMeta(krb5) + `: correct the realm of spate@WRONG.REALM, or add WRONG.REALM to \[realms\] there`},
		{"missing krb5.conf", []string{"KRB5_CONFIG=" + filepath.Join(dir, "krb5.conf")}, input,
			`kerberos: Kerberos configuration ` + regexp.QuoteMeta(filepath.Join(dir, "krb5.conf")) + ` \(KRB5_CONFIG\): no such file: set KRB5_CONFIG to the cluster's krb5.conf`},
		{"unreachable NameNode", []string{"HADOOP_CONF_DIR=" + confDir}, "hdfs://" + deadNN + "/in.txt",
			`hdfs://` + deadNN + `: cannot reach the NameNode ` + deadNN + `: dial tcp ` + deadNN + `: connect: connection refused \(3 attempts in \S+, ipc.client.connect.max.retries=2\): check the URI or fs.defaultFS in ` + regexp.QuoteMeta(confDir) + `, and that the NameNode runs`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := runBin(t, append(append([]string{}, o.env...), tc.env...), "wordcount", "--input", tc.input)
			took := time.Since(start)
			want := regexp.MustCompile(`^wordcount: Source: text: cannot use "` + regexp.QuoteMeta(tc.input) + `": ` + tc.want + "\n$")
			if r.code != 1 || !want.MatchString(r.stderr) || r.stdout != "" {
				t.Fatalf("exit %d after %v, stdout %q, stderr:\n%s\nwant the line %s", r.code, took, r.stdout, r.stderr, want)
			}
			if took > 20*time.Second {
				t.Fatalf("took %v to fail", took)
			}
		})
	}
	// And the right keytab, with no ticket cache at all, works.
	r := runBin(t, append(append([]string{}, o.env...), "KRB5CCNAME=FILE:"+filepath.Join(dir, "none"),
		keytab(o.c.ClientPrincipal, o.c.ClientKeytab)+"\nsecurity.kerberos.login.use-ticket-cache=false"), "wordcount", "--input", input)
	if r.code != 0 || r.stdout != "a 2\nb 1\n" && r.stdout != "b 1\na 2\n" {
		t.Fatalf("with the client's keytab: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestHDFSDoctor: spate doctor passes every check against the secure
// cluster with the client's keytab and a checkpoint directory on HDFS, and
// with another principal's keytab fails the keytab check, naming what to
// change, and exits 1.
func TestHDFSDoctor(t *testing.T) {
	o := newOnHDFS(t)
	props := func(keytab string) string {
		return "SPATE_PROPERTIES=security.kerberos.login.principal=" + o.c.ClientPrincipal + "\nsecurity.kerberos.login.keytab=" + keytab +
			"\nstate.checkpoints.dir=" + o.uri("ckpt")
	}
	r := runBin(t, append(append([]string{}, o.env...), props(o.c.ClientKeytab)), "spate", "doctor")
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			t.Fatalf("line %q", line)
		}
		got = append(got, f[0]+" "+f[1]+" "+f[2])
	}
	want := []string{"ok hadoop configuration", "ok fs.defaultFS hdfs://" + strings.TrimPrefix(o.c.DefaultFS, "hdfs://") + ":",
		"ok kerberos configuration", "ok keytab " + o.c.ClientKeytab, "ok ticket " + o.c.ClientPrincipal, "ok clock skew",
		"ok hdfs home", "ok checkpoint directory", "ok yarn resourcemanager"}
	if r.code != 0 || !slices.Equal(got, want) || r.stderr != "" {
		t.Fatalf("spate doctor: exit %d, checks %q, want %q\nstdout:\n%s\nstderr: %s", r.code, got, want, r.stdout, r.stderr)
	}
	r = runBin(t, append(append([]string{}, o.env...), props(o.c.OtherKeytab)), "spate", "doctor")
	fail := regexp.MustCompile(`(?m)^FAIL +keytab +kerberos: keytab ` + regexp.QuoteMeta(o.c.OtherKeytab) + ` has no key for ` + o.c.ClientPrincipal + ` .*set security.kerberos.login.principal to the keytab's principal, or use that principal's keytab$`)
	if r.code != 1 || !fail.MatchString(r.stdout) || r.stderr != "spate doctor: 1 of 6 checks failed\n" {
		t.Fatalf("spate doctor with another principal's keytab: exit %d\nstdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestHDFSTicketRenewal runs exactlyonce for about 96 s (eight checkpoint
// intervals of 12 s) on a cluster whose tickets last 30 s and whose NameNode
// drops idle connections after 2 s, logged in from a keytab only (no ticket
// cache): every checkpoint reconnects, with tickets renewed or fetched again
// from the keytab, and checkpoints go on completing through three ticket
// lifetimes (at least two after the second has ended); the output is exact.
func TestHDFSTicketRenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for about two minutes")
	}
	const keys, perKey = 4, 2000
	o := newOnHDFSOf(t, shortTicketHadoop)
	props := "state.checkpoints.dir=" + o.uri("ckpt") + "\nlog.level=info\nlog.format=json" +
		"\nsecurity.kerberos.login.principal=" + o.c.ClientPrincipal + "\nsecurity.kerberos.login.keytab=" + o.c.ClientKeytab +
		"\nsecurity.kerberos.login.use-ticket-cache=false"
	start := time.Now()
	r := runBin(t, append(append([]string{}, o.env...), "KRB5CCNAME=FILE:"+filepath.Join(t.TempDir(), "none"), "SPATE_PROPERTIES="+props),
		"exactlyonce", "--keys", fmt.Sprint(keys), "--per-key", fmt.Sprint(perKey), "--failures", "0",
		"--checkpoint-interval", "12000", "--output", o.uri("out"), "--parallelism", "2")
	took := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d after %v\nstdout: %s\nstderr: %s", r.code, took, r.stdout, r.stderr)
	}
	var completed []string
	late := 0 // completed after two ticket lifetimes
	for _, line := range strings.Split(r.stderr, "\n") {
		var e struct {
			Message    string    `json:"message"`
			Checkpoint int64     `json:"checkpoint"`
			Time       time.Time `json:"time"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Message == "checkpoint completed" {
			completed = append(completed, fmt.Sprintf("%d at %v", e.Checkpoint, e.Time.Sub(start).Round(time.Second)))
			if e.Time.After(start.Add(2 * ticketLifetime)) {
				late++
			}
		}
	}
	t.Logf("ran %v; checkpoints completed: %s", took.Round(time.Second), strings.Join(completed, ", "))
	if len(completed) < 6 || late < 2 {
		t.Fatalf("%d checkpoints completed, %d of them after two ticket lifetimes (%v); want at least 6 and 2:\n%s",
			len(completed), late, 2*ticketLifetime, r.stderr)
	}
	o.checkExactOnHDFS(t, path.Join(o.dir, "out"), keys, perKey)
	o.checkFinishedOnHDFS(t, path.Join(o.dir, "ckpt"))
}

// TestHDFSConcurrentRunRefused: the lease on a checkpoint directory on HDFS
// (an exclusive create on the NameNode) refuses a second run of the job
// while the first runs, naming the lease file; the first run's output stays
// exact.
func TestHDFSConcurrentRunRefused(t *testing.T) {
	o := newOnHDFS(t)
	ckpt := path.Join(o.dir, "ckpt")
	env := append(append([]string{}, o.env...), "SPATE_PROPERTIES=state.checkpoints.dir="+o.uri("ckpt"))
	first := start(t, env, "exactlyonce", eoArgs(o.uri("out"))...)
	poll(t, "a checkpoint of the first run", func() bool { return len(o.completedOnHDFS(ckpt)) > 0 })
	r := runBin(t, env, "exactlyonce", eoArgs(o.uri("out2"))...)
	held := regexp.MustCompile(`^exactlyonce: job "exactlyonce" is already running on this checkpoint directory: run [0-9a-f]{32} \(pid ` +
		strconv.Itoa(first.cmd.Process.Pid) + ` on host \S+\) holds ` + regexp.QuoteMeta(path.Join(ckpt, "_leases", "exactlyonce.lease")) + `, renewed \d+s ago, expires in \d+s; `)
	if r.code != 1 || !held.MatchString(lastLine(r.stderr)) {
		t.Fatalf("second run: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if code := first.wait(t); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, first.stderr.String())
	}
	o.checkExactOnHDFS(t, path.Join(o.dir, "out"), eoKeys, eoPerKey)
	if _, err := o.fs.Stat(path.Join(o.dir, "out2")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the refused run created its output directory: %v", err)
	}
	o.checkFinishedOnHDFS(t, ckpt)
}
