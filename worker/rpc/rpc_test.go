package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/master/resource"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker"
	"github.com/spate-io/spate/worker/rpc"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/transport"
)

// cluster is a JobManager's JobMasterGateway server and n TaskExecutors,
// each behind its own TaskExecutorGateway server and data plane, all on
// loopback: every call and every record between the JobMaster and the tasks
// crosses an authenticated TCP connection, as between processes. Each
// TaskExecutor has storage of its own, as a TaskManager process would.
type cluster struct {
	gateways []jobmaster.TaskManagerGateway
}

func newCluster(t *testing.T, n int, checkpoints string) *cluster {
	t.Helper()
	log := zerolog.New(io.Discard)
	auth, err := transport.NewSharedSecret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	serve := func(proc interface{}) string {
		l, err := transport.Listen("127.0.0.1:0", auth, transport.Options{Log: log})
		if err != nil {
			t.Fatal(err)
		}
		switch p := proc.(type) {
		case *rpc.JobMasterServer:
			go transport.ServeRPC(ctx, l, p.Processor())
		case rpc.TaskExecutorServer:
			go transport.ServeRPC(ctx, l, p.Processor())
		}
		return l.Addr().String()
	}
	dial := func(addr string) *transport.Conn {
		c, err := transport.Dial(ctx, addr, auth, transport.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	jms := rpc.NewJobMasterServer()
	jmAddr := serve(jms)
	c := &cluster{}
	for i := range n {
		x := worker.NewTaskExecutor(fmt.Sprintf("tm-%d", i), worker.NewShuffle())
		if err := x.ServeData("127.0.0.1:0", auth, transport.Options{}, log); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.Close)
		teAddr := serve(rpc.TaskExecutorServer{X: x})
		jm := rpc.NewJobMasterClient(dial(jmAddr), log)
		t.Cleanup(func() { jm.Close() })
		// What a TaskManager process does when a job starts there: register
		// the job with the TaskExecutor (graph, its own storage, the
		// JobMaster reached over RPC), and the job with the JobMaster server.
		register := func(reg task.JobRegistration) error {
			jms.Serve(reg.JobID, rpc.ServedJob{Gateway: reg.JobMaster})
			local := reg
			local.JobMaster = jm
			if reg.Storage != nil {
				local.Storage = checkpoint.NewStorage(hdfs.Local{}, checkpoints, reg.JobID)
			}
			return x.RegisterJob(local)
		}
		gw := rpc.NewTaskExecutorClient(dial(teAddr), x.DataAddress(), register, log)
		t.Cleanup(func() { gw.Close() })
		c.gateways = append(c.gateways, gw)
	}
	return c
}

// option deploys the job on the cluster, one slot per TaskExecutor.
func (c *cluster) option() sdk.Option {
	return sdk.WithDeployOptions(func(o *jobmaster.Options) {
		o.Slots = resource.NewSlotPool(len(c.gateways), 1)
		o.TaskManagers = c.gateways
	})
}

func env(t *testing.T, dir string, settings map[string]string, opts ...sdk.Option) *sdk.Env {
	t.Helper()
	cfg := conf.New()
	all := map[string]string{"parallelism.default": "2", "execution.batch-size": "32",
		"state.checkpoints.dir": filepath.Join(dir, "checkpoints"), "state.savepoints.dir": filepath.Join(dir, "savepoints")}
	for k, v := range settings {
		all[k] = v
	}
	for k, v := range all {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return sdk.NewEnv(append([]sdk.Option{sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard))}, opts...)...)
}

// TestKeyedCountOverRPC: a keyed rolling count deployed through the Thrift
// gateways gives exactly the embedded run's updates.
func TestKeyedCountOverRPC(t *testing.T) {
	dir := t.TempDir()
	words := strings.Fields(strings.Repeat("a b c d e f g a b c a ", 300))
	run := func(opts ...sdk.Option) []string {
		e := env(t, dir, nil, opts...)
		src := sdk.FromSlice(e, words).SetParallelism(1)
		counts := sdk.Sum(sdk.KeyBy(src, func(w string) string { return w }), func(string) int64 { return 1 })
		out := sdk.Collect(sdk.Map(counts, func(kv sdk.KeyValue[string, int64]) string { return fmt.Sprintf("%s=%d", kv.Key, kv.Value) }))
		if _, err := e.Execute(context.Background(), "count"); err != nil {
			t.Fatal(err)
		}
		got := out.Items()
		sort.Strings(got)
		return got
	}
	want := run()
	got := run(newCluster(t, 2, filepath.Join(dir, "checkpoints")).option())
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("over RPC: %d updates, embedded: %d", len(got), len(want))
	}
}

// counts is the job of the savepoint test: numbers counted per key, the
// counts written as text at the end.
func counts(e *sdk.Env, n int64, rate float64, out string) {
	src := sdk.GenerateWithRate(e, n, rate, func(i int64) int64 { return i }).UID("numbers").SetParallelism(1)
	sums := sdk.Sum(sdk.KeyBy(src, func(i int64) int64 { return i % 5 }), func(int64) int64 { return 1 }).UID("sums")
	sdk.WriteText(sdk.Map(sums, func(kv sdk.KeyValue[int64, int64]) string { return fmt.Sprintf("%d=%d", kv.Key, kv.Value) }).UID("fmt"), out).UID("sink")
}

// TestSavepointOverRPC: a stop-with-savepoint of a job whose tasks run
// behind the gateways writes its state through the TaskExecutors' own
// storage into the savepoint directory (announced to them before the
// barrier), and a job restored from it counts on to exactly the right total.
func TestSavepointOverRPC(t *testing.T) {
	dir := t.TempDir()
	c := newCluster(t, 2, filepath.Join(dir, "checkpoints"))
	e := env(t, dir, map[string]string{"execution.checkpointing.interval": "50 ms", "execution.runtime-mode": "streaming"}, c.option())
	counts(e, -1, 5000, filepath.Join(dir, "out1"))
	client, err := e.ExecuteAsync(context.Background(), "counts")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); client.CheckpointStats().Completed < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint completed")
		}
	}
	sp, err := client.StopWithSavepoint(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Wait(); err != nil {
		t.Fatal(err)
	}
	m, err := checkpoint.ReadMetadata(hdfs.Local{}, sp)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := os.ReadDir(sp)
	if len(files) < 3 { // _metadata and a state file of each task with state
		t.Fatalf("savepoint %s holds %d files", sp, len(files))
	}
	var seen int64
	for _, o := range m.Operators {
		for _, h := range o.Handles {
			if h.Kind == state.ListKind && o.Name == "Source: generator" {
				seen++
			}
		}
	}
	if seen == 0 {
		t.Fatalf("the savepoint has no source position: %+v", m.Operators)
	}
	c2 := newCluster(t, 2, filepath.Join(dir, "checkpoints"))
	e2 := env(t, dir, map[string]string{"execution.checkpointing.interval": "50 ms", "execution.savepoint.path": sp}, c2.option())
	const total = 20000
	counts(e2, total, 0, filepath.Join(dir, "out2"))
	if _, err := e2.Execute(context.Background(), "counts"); err != nil {
		t.Fatal(err)
	}
	finals := map[string]int64{}
	parts, _ := filepath.Glob(filepath.Join(dir, "out2", "part-*"))
	for _, p := range parts {
		b, _ := os.ReadFile(p)
		for _, l := range strings.Fields(string(b)) {
			k, v, _ := strings.Cut(l, "=")
			var n int64
			fmt.Sscan(v, &n)
			finals[k] = max(finals[k], n)
		}
	}
	for k := range 5 {
		if got := finals[fmt.Sprint(k)]; got != total/5 {
			t.Fatalf("key %d ends at %d, want %d (all: %v)", k, got, total/5, finals)
		}
	}
}

// TestUnmendableFailureOverRPC: a failure the job marks unmendable stays so
// after the trip through the JobMasterGateway: no restart, whatever the
// strategy, and the user's message intact.
func TestUnmendableFailureOverRPC(t *testing.T) {
	dir := t.TempDir()
	c := newCluster(t, 2, filepath.Join(dir, "checkpoints"))
	e := env(t, dir, map[string]string{"execution.checkpointing.interval": "50 ms",
		"restart-strategy.type": "fixed-delay", "restart-strategy.fixed-delay.attempts": "3", "restart-strategy.fixed-delay.delay": "1 ms"}, c.option())
	src := sdk.FromSlice(e, []int64{1, 2, 3, 4}).SetParallelism(1)
	failing := sdk.Process(src.Rebalance(), func(_ *sdk.ProcessContext, i int64, out *sdk.Collector[int64]) error {
		if i == 3 {
			return sdk.SuppressRestarts(errors.New("record 3 is poison"))
		}
		out.Collect(i)
		return nil
	})
	sdk.SinkFunc(failing, func([]int64) error { return nil })
	client, err := e.ExecuteAsync(context.Background(), "poison")
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.Wait()
	if !errors.Is(err, jobmaster.ErrSuppressRestarts) || !strings.Contains(err.Error(), "record 3 is poison") {
		t.Fatalf("Wait = %v", err)
	}
	if client.Restarts() != 0 {
		t.Fatalf("%d restarts", client.Restarts())
	}
}
