package sdk_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
)

// TestKeyAlwaysReachesItsSubtask: at every parallelism, each key is seen by
// exactly one subtask after KeyBy, and that subtask is the one that owns the
// key's key group.
func TestKeyAlwaysReachesItsSubtask(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	keys := make([]string, 20000)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%d", rng.IntN(3000))
	}
	hash, err := state.HasherFor[string]()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{1, 2, 3, 5, 8} {
		for _, maxP := range []int{8, 128, 1000} {
			cfg := conf.New()
			if err := cfg.Set("pipeline.max-parallelism", fmt.Sprint(maxP)); err != nil {
				t.Fatal(err)
			}
			env := sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard)))
			src := sdk.FromSlice(env, keys).SetParallelism(3)
			type seen struct {
				key     string
				subtask int
			}
			tagged := sdk.Process(sdk.KeyBy(src, func(k string) string { return k }).Stream(),
				func(ctx *sdk.ProcessContext, k string, out *sdk.Collector[seen]) error {
					out.Collect(seen{k, ctx.Subtask})
					return nil
				}).SetParallelism(p)
			got := sdk.Collect(tagged)
			if _, err := env.Execute(context.Background(), "routing"); err != nil {
				t.Fatal(err)
			}
			owner := map[string]int{}
			for _, s := range got.Items() {
				want := state.SubtaskForKeyGroup(state.KeyGroupForHash(hash(s.key), maxP), maxP, p)
				if s.subtask != want {
					t.Fatalf("p=%d maxP=%d: key %q reached subtask %d, its key group belongs to %d", p, maxP, s.key, s.subtask, want)
				}
				if o, ok := owner[s.key]; ok && o != s.subtask {
					t.Fatalf("p=%d maxP=%d: key %q reached subtasks %d and %d", p, maxP, s.key, o, s.subtask)
				}
				owner[s.key] = s.subtask
			}
			if len(got.Items()) != len(keys) {
				t.Fatalf("p=%d maxP=%d: %d records arrived, want %d", p, maxP, len(got.Items()), len(keys))
			}
		}
	}
}
