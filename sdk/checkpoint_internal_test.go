package sdk

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// TestCheckpointBarriersAreConsistent: with aligned barriers, what the sinks
// counted at checkpoint n equals what the sources had emitted at n — no record
// is in flight across a snapshot — through a rebalance and a hash exchange at
// different parallelism. Both numbers are read back from the checkpoint files.
func TestCheckpointBarriersAreConsistent(t *testing.T) {
	dir := t.TempDir()
	cfg := conf.New()
	for k, v := range map[string]string{
		"execution.batch-size":                                      "16",
		"execution.checkpointing.interval":                          "20 ms",
		"state.checkpoints.dir":                                     dir,
		"state.checkpoints.num-retained":                            "100",
		"execution.checkpointing.externalized-checkpoint-retention": "RETAIN_ON_CANCELLATION",
	} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	env := NewEnv(WithConfig(cfg), WithLogger(zerolog.New(io.Discard)))
	src := Generate(env, -1, func(i int64) int64 { return i }).SetParallelism(2)
	mapped := Map(src.Rebalance(), func(v int64) int64 { return v * 2 }).SetParallelism(3)
	keyed := KeyBy(mapped, func(v int64) int64 { return v % 7 }).Stream()
	addSink(keyed, "Sink: counting", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[int64], error) {
		var n int64
		s := task.NewSinkFunc(ctx, func(b []int64) error { n += int64(len(b)); return nil }, nil, nil)
		s.Snapshot = func(int64) ([]state.Part, error) {
			p, err := state.SnapshotList("count", state.ListKind, []int64{n})
			return []state.Part{p}, err
		}
		return s, nil
	})).SetParallelism(2)
	client, err := env.ExecuteAsync(context.Background(), "checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for client.CheckpointStats().Completed < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d checkpoints completed: %+v", client.CheckpointStats().Completed, client.CheckpointStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	client.Cancel()
	_, _ = client.Wait()

	chks, err := filepath.Glob(filepath.Join(dir, client.ID(), "chk-*"))
	if err != nil || len(chks) < 5 {
		t.Fatalf("retained checkpoints: %v (%v)", chks, err)
	}
	for _, chk := range chks {
		m, err := checkpoint.ReadMetadata(hdfs.Local{}, chk)
		if err != nil {
			t.Fatal(err)
		}
		sum := func(op string, name string) (total int64) {
			for _, o := range m.Operators {
				if !strings.HasPrefix(o.Name, op) {
					continue
				}
				r := &state.Restored{Subtask: 0, Parallelism: 1, OldParallelism: o.Parallelism, Handles: o.Handles, Read: checkpoint.StateReader(hdfs.Local{}, chk)}
				switch name {
				case "_position":
					ps, err := state.RestoreList[task.GeneratorPosition](r, name, state.ListKind)
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range ps {
						total += p.Emitted
					}
				default:
					ns, err := state.RestoreList[int64](r, name, state.ListKind)
					if err != nil {
						t.Fatal(err)
					}
					for _, n := range ns {
						total += n
					}
				}
			}
			return total
		}
		emitted, counted := sum("Source: generator", "_position"), sum("Sink: counting", "count")
		if emitted == 0 || emitted != counted {
			t.Fatalf("%s: sources emitted %d, sinks counted %d", chk, emitted, counted)
		}
	}
}
