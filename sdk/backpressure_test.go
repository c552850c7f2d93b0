package sdk_test

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk"
)

// pollUntil polls cond until it holds or the deadline passes.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBackPressureBoundsInFlightRecords: an unbounded, unthrottled source feeds a
// sink that consumes only when the test lets it. The source must stall, with the
// records between it and the sink bounded by the exchange's credits, not grow
// with time; and it must resume when the sink does.
func TestBackPressureBoundsInFlightRecords(t *testing.T) {
	const batch, credits = 64, 2
	cfg := conf.New()
	for k, v := range map[string]string{
		"execution.batch-size": "64", "taskmanager.network.memory.buffers-per-channel": "2", "parallelism.default": "1",
	} {
		if err := cfg.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	env := sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard)))
	release := make(chan struct{})
	var consumed atomic.Int64
	src := sdk.Generate(env, -1, func(i int64) int64 { return i })
	sdk.SinkFunc(src, func(b []int64) error {
		<-release
		consumed.Add(int64(len(b)))
		return nil
	}).Name("Sink: slow").DisableChaining()

	client, err := env.ExecuteAsync(context.Background(), "backpressure")
	if err != nil {
		t.Fatal(err)
	}
	sourceOut := func(p sdk.Progress) int64 {
		for _, o := range p.Operators {
			if o.Name == "Source: generator" {
				return o.RecordsOut
			}
		}
		t.Fatal("no source in progress")
		return 0
	}
	var last int64
	for round := range 5 {
		var p sdk.Progress
		pollUntil(t, "the source is blocked by back-pressure", func() bool {
			p = client.Progress()
			return len(p.Exchanges) == 1 && p.Exchanges[0].BlockedProducers == 1
		})
		ex := p.Exchanges[0]
		inFlight := sourceOut(p) - consumed.Load()
		// One buffer in the sink's hands, one queued or being filled, and the batch
		// the source is pushing: at most (credits+1) batches.
		if inFlight > (credits+1)*batch {
			t.Fatalf("round %d: %d records in flight between source and sink, want at most %d", round, inFlight, (credits+1)*batch)
		}
		if ex.Queued > credits || ex.MaxQueued > credits || ex.Credits != credits {
			t.Fatalf("round %d: gate occupancy %+v exceeds %d credits", round, ex, credits)
		}
		if round > 0 && sourceOut(p) <= last {
			t.Fatalf("round %d: the source did not resume after the sink consumed (out %d, before %d)", round, sourceOut(p), last)
		}
		last = sourceOut(p)
		for range 10 { // let the sink take ten batches
			release <- struct{}{}
		}
	}
	close(release)
	client.Cancel()
	if _, err := client.Wait(); !errors.Is(err, jobmaster.ErrJobCancelled) {
		t.Fatalf("Wait after Cancel = %v, want ErrJobCancelled", err)
	}
}
