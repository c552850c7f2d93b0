package integration

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spate-io/spate/integration/kafkatest"
)

// The Kafka tests share one real broker (scripts/kafka.sh), started by the
// first of them; TestMain stops it (stopKafka).
var (
	kafkaOnce   sync.Once
	kafkaBroker *kafkatest.Broker
	kafkaErr    error
)

func kafkaStart(t *testing.T) *kafkatest.Broker {
	t.Helper()
	kafkaOnce.Do(func() {
		out := filepath.Join(binDir, "kafkaexactlyonce")
		cmd := exec.Command("go", "build", "-o", out, "./examples/kafkaexactlyonce")
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			kafkaErr = fmt.Errorf("build examples/kafkaexactlyonce: %v\n%s", err, b)
			return
		}
		kafkaBroker, kafkaErr = kafkatest.Start()
	})
	if kafkaErr != nil {
		t.Fatal(kafkaErr)
	}
	return kafkaBroker
}

// stopKafka stops the broker if a test started one.
func stopKafka() {
	if kafkaBroker != nil {
		kafkaBroker.Stop()
	}
}

func kctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// kafkaTopics creates an input topic of 8 partitions holding keys×perKey
// lines "key,seq" keyed by key, and an empty output topic of 4; it returns
// their names and the lines, sorted.
func kafkaTopics(t *testing.T, b *kafkatest.Broker, keys, perKey int) (in, out string, want []string) {
	t.Helper()
	name := strings.NewReplacer("/", "-", "=", "-").Replace(t.Name())
	in, out = name+"-in", name+"-out"
	if err := b.CreateTopic(kctx(t), in, 8); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateTopic(kctx(t), out, 4); err != nil {
		t.Fatal(err)
	}
	var kvs []kafkatest.KV
	for s := 1; s <= perKey; s++ {
		for k := range keys {
			v := fmt.Sprintf("%d,%d", k, s)
			kvs = append(kvs, kafkatest.KV{Key: strconv.Itoa(k), Value: v})
			want = append(want, v)
		}
	}
	if err := b.Produce(kctx(t), in, kvs); err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	return in, out, want
}

// checkKafkaExact fails unless a read_committed consumer of topic sees
// exactly want.
func checkKafkaExact(t *testing.T, b *kafkatest.Broker, topic string, want []string) {
	t.Helper()
	got, err := b.ReadCommitted(kctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, v := range got {
		seen[v]++
	}
	var dup, missing []string
	for v, n := range seen {
		if n > 1 {
			dup = append(dup, v)
		}
	}
	for _, v := range want {
		if seen[v] == 0 {
			missing = append(missing, v)
		}
	}
	if len(dup) > 0 || len(missing) > 0 || len(got) != len(want) {
		sort.Strings(dup)
		sort.Strings(missing)
		t.Fatalf("%s: %d records, want %d; %d duplicated (%.5q), %d missing (%.5q)", topic, len(got), len(want), len(dup), dup, len(missing), missing)
	}
}

// TestKafkaExactlyOnceBounded runs kafkaexactlyonce --bounded at
// parallelism 2 with two failures injected while processing, in a snapshot,
// and between a checkpoint's completion and its commit: the job ends by
// itself, and a read_committed consumer of --out sees every line once.
func TestKafkaExactlyOnceBounded(t *testing.T) {
	b := kafkaStart(t)
	const keys, perKey = 16, 150
	for _, where := range []string{"process", "snapshot", "commit"} {
		t.Run(where, func(t *testing.T) {
			in, out, want := kafkaTopics(t, b, keys, perKey)
			ckpt := filepath.Join(t.TempDir(), "ckpt")
			r := runBin(t, []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt}, "kafkaexactlyonce", "--bootstrap", b.Bootstrap, "--in", in, "--out", out, "--group", "g-"+where,
				"--failures", "2", "--fail-in", where, "--checkpoint-interval", "50", "--parallelism", "2", "--bounded", "--throttle", "1500")
			wantLine := fmt.Sprintf("kafkaexactlyonce: %d records, 2 failures injected, 2 recoveries\n", keys*perKey)
			if r.code != 0 || lastLine(r.stdout) != wantLine {
				t.Fatalf("exit %d, stdout %q, want %q; stderr:\n%s", r.code, r.stdout, wantLine, kafkaTail(r.stderr, 20))
			}
			checkKafkaExact(t, b, out, want)
		})
	}
}

// TestKafkaResumeAfterKill kills the job binary of a bounded run with
// kill -9 after two checkpoints, then resumes it with spate run --resume
// latest: the resumed run commits the transactions of the checkpoint,
// aborts those the killed one left open, reads on from the checkpointed
// offsets, and the output holds every line once.
func TestKafkaResumeAfterKill(t *testing.T) {
	b := kafkaStart(t)
	const keys, perKey = 16, 250
	in, out, want := kafkaTopics(t, b, keys, perKey)
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	env := []string{"SPATE_PROPERTIES=state.checkpoints.dir=" + ckpt}
	job := filepath.Join(binDir, "kafkaexactlyonce")
	args := []string{"--", "--bootstrap", b.Bootstrap, "--in", in, "--out", out, "--checkpoint-interval", "100",
		"--parallelism", "2", "--bounded", "--throttle", "1000"}
	a := start(t, env, "spate", append([]string{"run", job}, args...)...)
	pid := childOf(t, a.cmd.Process.Pid)
	poll(t, "two checkpoints of run A", func() bool { ids := completedCheckpoints(ckpt); return len(ids) > 0 && ids[len(ids)-1] >= 2 })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if code := a.wait(t); code != 128+9 {
		t.Fatalf("run A: exit %d, want 137; stderr:\n%s", code, kafkaTail(a.stderr.String(), 20))
	}
	r := runBin(t, env, "spate", append([]string{"run", "--resume", "latest", job}, args...)...)
	if r.code != 0 || !strings.HasPrefix(lastLine(r.stdout), "kafkaexactlyonce: ") {
		t.Fatalf("resume: exit %d, stdout %q; stderr:\n%s", r.code, r.stdout, kafkaTail(r.stderr, 20))
	}
	checkKafkaExact(t, b, out, want)
}

// TestKafkaUnreachable: a broker that is not there is a clear error, and
// the job exits 1 instead of retrying forever.
func TestKafkaUnreachable(t *testing.T) {
	kafkaStart(t)
	r := runBin(t, nil, "kafkaexactlyonce", "--bootstrap", "127.0.0.1:1", "--in", "in", "--out", "out", "--bounded")
	if r.code != 1 || !strings.Contains(r.stderr, "kafka: no broker reachable at 127.0.0.1:1") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, kafkaTail(r.stderr, 10))
	}
}

// kafkaTail is the last n lines of s.
func kafkaTail(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestKafkaTaskManagerKilledOnSession submits kafkaexactlyonce --bounded to
// a standalone session cluster (a JobManager and three one-slot
// TaskManagers: two for the job, one spare) and kills a TaskManager that
// runs a part of it with kill -9 after two checkpoints: the job fails over
// onto the spare from its latest checkpoint, whose transactions the new
// attempt commits while it aborts the ones the dead attempt left open; it
// ends by itself, and a read_committed consumer of --out sees every key,seq
// exactly once.
func TestKafkaTaskManagerKilledOnSession(t *testing.T) {
	b := kafkaStart(t)
	const keys, perKey = 16, 250
	in, out, want := kafkaTopics(t, b, keys, perKey)
	c := startSession(t, 3, 1)
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	s := c.submit(t, []string{"-D", "state.checkpoints.dir=" + ckpt}, "kafkaexactlyonce", "--bootstrap", b.Bootstrap,
		"--in", in, "--out", out, "--checkpoint-interval", "100", "--parallelism", "2", "--bounded", "--throttle", "500")
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
	if err := c.tms[victim].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// spate submit waits for the job's end: its stdout is the job id, the
	// job's own summary line stays on the cluster.
	if code := s.wait(t); code != 0 || !strings.Contains(s.stderr.String(), "Job "+id+" finished.") {
		t.Fatalf("spate submit: exit %d, stdout %q\n%s", code, s.stdout.String(), kafkaTail(s.stderr.String(), 20))
	}
	if n := c.restarts(t, id); n != 1 {
		t.Fatalf("%d restarts, want 1\n%s", n, kafkaTail(c.jm.stderr.String(), 20))
	}
	checkKafkaExact(t, b, out, want)
}
