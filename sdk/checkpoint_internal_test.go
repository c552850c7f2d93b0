package sdk

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/worker/task"
)

type ackCollector struct {
	mu   sync.Mutex
	acks map[int64][]task.OperatorSnapshot
	n    map[int64]int
	err  error
}

func (a *ackCollector) Acknowledge(id int64, _ string, _ int, snaps []task.OperatorSnapshot) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.acks[id] = append(a.acks[id], snaps...)
	a.n[id]++
}

func (a *ackCollector) Decline(id int64, name string, subtask int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

func (a *ackCollector) count(id int64) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[id]
}

// TestCheckpointBarriersAreConsistent: with aligned barriers, what the sinks
// counted at checkpoint n equals what the sources had emitted at n — no record
// is in flight across a snapshot — through a rebalance and a hash exchange at
// different parallelism.
func TestCheckpointBarriersAreConsistent(t *testing.T) {
	acks := &ackCollector{acks: map[int64][]task.OperatorSnapshot{}, n: map[int64]int{}}
	cfg := conf.New()
	_ = cfg.Set("execution.batch-size", "16")
	env := NewEnv(WithConfig(cfg), WithLogger(zerolog.New(io.Discard)), WithDeployOptions(func(o *jobmaster.Options) {
		o.ExactlyOnce, o.Checkpoints = true, acks
	}))
	src := Generate(env, -1, func(i int64) int64 { return i }).SetParallelism(2)
	mapped := Map(src.Rebalance(), func(v int64) int64 { return v * 2 }).SetParallelism(3)
	keyed := KeyBy(mapped, func(v int64) int64 { return v % 7 }).Stream()
	addSink(keyed, "Sink: counting", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[int64], error) {
		var n int64
		s := task.NewSinkFunc(ctx, func(b []int64) error { n += int64(len(b)); return nil }, nil, nil)
		s.Snapshot = func(int64) (any, error) { return n, nil }
		return s, nil
	})).SetParallelism(2)
	client, err := env.ExecuteAsync(context.Background(), "checkpoints")
	if err != nil {
		t.Fatal(err)
	}
	sourceOut := func() int64 {
		for _, o := range client.Progress().Operators {
			if o.Name == "Source: generator" {
				return o.RecordsOut
			}
		}
		return 0
	}
	last := int64(0)
	for id := int64(1); id <= 5; id++ {
		// Let records flow between checkpoints, so each one cuts through traffic.
		deadline := time.Now().Add(10 * time.Second)
		for sourceOut() <= last+1000 {
			if time.Now().After(deadline) {
				t.Fatal("the source does not progress")
			}
			time.Sleep(time.Millisecond)
		}
		last = sourceOut()
		if missed := client.TriggerCheckpoint(id); len(missed) > 0 {
			t.Fatalf("checkpoint %d missed %v", id, missed)
		}
		deadline = time.Now().Add(10 * time.Second)
		for acks.count(id) < client.NumTasks() {
			if time.Now().After(deadline) {
				t.Fatalf("checkpoint %d: %d of %d tasks acknowledged", id, acks.count(id), client.NumTasks())
			}
			time.Sleep(time.Millisecond)
		}
	}
	client.Cancel()
	_, _ = client.Wait()
	if acks.err != nil {
		t.Fatal(acks.err)
	}
	for id := int64(1); id <= 5; id++ {
		var emitted, counted int64
		for _, s := range acks.acks[id] {
			switch st := s.State.(type) {
			case task.GeneratorPosition:
				emitted += st.Emitted
			case int64:
				counted += st
			}
		}
		if acks.n[id] != 2+3+2 || emitted == 0 || emitted != counted {
			t.Fatalf("checkpoint %d: %d acks, sources emitted %d, sinks counted %d", id, acks.n[id], emitted, counted)
		}
	}
}
