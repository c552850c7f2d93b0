package sdk_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/spate-io/spate/sdk"
)

var apiSeed = flag.Uint64("sdk.seed", 0, "seed of TestKeyedPipelineIndependentOfParallelism; 0 picks one")

// apiEvent is the record type of the property test.
type apiEvent struct {
	Key string
	Val int64
	Seq int64 // unique: breaks ties in the reduce
}

// apiGenEvents returns n events over a skewed set of keys.
func apiGenEvents(r *rand.Rand, n int) []apiEvent {
	keys := 1 + r.IntN(200)
	out := make([]apiEvent, n)
	for i := range out {
		k := r.IntN(keys)
		if r.IntN(3) == 0 {
			k = r.IntN(1 + keys/10) // a few hot keys
		}
		out[i] = apiEvent{Key: "k" + strconv.Itoa(k), Val: 1 + r.Int64N(100), Seq: int64(i)}
	}
	return out
}

// apiReferencePipeline is the pipeline of the property test in plain Go: the slow,
// obvious reference. It returns the records that reach the keyed operators.
func apiReferencePipeline(events []apiEvent) []apiEvent {
	var out []apiEvent
	for _, e := range events {
		for _, x := range apiExplode(e) {
			if apiKeep(x) {
				out = append(out, apiTransform(x))
			}
		}
	}
	return out
}

func apiExplode(e apiEvent) []apiEvent {
	if e.Val%7 == 0 {
		return []apiEvent{e, {Key: e.Key + "!", Val: e.Val * 2, Seq: -e.Seq - 1}}
	}
	return []apiEvent{e}
}

func apiKeep(e apiEvent) bool { return e.Val%5 != 0 }

func apiTransform(e apiEvent) apiEvent { e.Val = e.Val*3 - 1; return e }

func apiMaxEvent(a, b apiEvent) apiEvent {
	if b.Val > a.Val || (b.Val == a.Val && b.Seq > a.Seq) {
		return b
	}
	return a
}

// TestKeyedPipelineIndependentOfParallelism runs the same keyed pipeline over
// generated data at parallelism 1, 2, 3, 4 and 8, in batch and streaming mode,
// and compares every result with a plain-Go reference. Rerun a failure with
// -sdk.seed=<the logged seed>.
func TestKeyedPipelineIndependentOfParallelism(t *testing.T) {
	seed := *apiSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -sdk.seed=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	events := apiGenEvents(r, 2000+r.IntN(8000))
	batchSize := 1 + r.IntN(100)
	t.Logf("%d events, batch size %d", len(events), batchSize)

	keyed := apiReferencePipeline(events)
	wantSum := map[string]int64{}
	wantMax := map[string]apiEvent{}
	wantVals := map[string][]int64{}
	for _, e := range keyed {
		wantSum[e.Key] += e.Val
		wantVals[e.Key] = append(wantVals[e.Key], e.Val)
		if m, ok := wantMax[e.Key]; ok {
			wantMax[e.Key] = apiMaxEvent(m, e)
		} else {
			wantMax[e.Key] = e
		}
	}

	for _, mode := range []sdk.RuntimeMode{sdk.Batch, sdk.Streaming} {
		for _, p := range []int{1, 2, 3, 4, 8} {
			t.Run(fmt.Sprintf("%s/p=%d", mode, p), func(t *testing.T) {
				env, _ := apiEnv(t, p, "execution.batch-size", strconv.Itoa(batchSize))
				env.SetRuntimeMode(mode)
				src := sdk.Generate(env, int64(len(events)), func(i int64) apiEvent { return events[i] })
				exploded := sdk.FlatMap(src, func(e apiEvent, out *sdk.Collector[apiEvent]) {
					for _, x := range apiExplode(e) {
						out.Collect(x)
					}
				})
				kept := exploded.Filter(apiKeep)
				// A different parallelism in the middle, reached by a rebalance.
				transformed := sdk.Map(kept.Rebalance(), apiTransform).SetParallelism(max(1, p-1))
				byKey := sdk.KeyBy(transformed, func(e apiEvent) string { return e.Key })
				sums := sdk.Collect(sdk.Sum(byKey, func(e apiEvent) int64 { return e.Val }))
				// At the default parallelism p, as the Collect sink, so that the sink is
				// forward-connected and sees each key's updates in order.
				maxes := sdk.Collect(byKey.Reduce(apiMaxEvent))
				res := apiRun(t, env)

				gotSums := map[string][]int64{}
				for _, kv := range sums.Items() {
					gotSums[kv.Key] = append(gotSums[kv.Key], kv.Value)
				}
				gotMaxes := map[string][]apiEvent{}
				for _, e := range maxes.Items() {
					gotMaxes[e.Key] = append(gotMaxes[e.Key], e)
				}
				if len(gotSums) != len(wantSum) || len(gotMaxes) != len(wantMax) {
					t.Fatalf("%d keys summed and %d reduced, want %d", len(gotSums), len(gotMaxes), len(wantSum))
				}
				for k, want := range wantSum {
					got := gotSums[k]
					if mode == sdk.Batch {
						if !slices.Equal(got, []int64{want}) {
							t.Fatalf("key %s: sums %v, want exactly [%d]", k, got, want)
						}
						if !slices.Equal(gotMaxes[k], []apiEvent{wantMax[k]}) {
							t.Fatalf("key %s: reduced %v, want exactly [%v]", k, gotMaxes[k], wantMax[k])
						}
						continue
					}
					// Streaming: one update per record, in the order the key's records
					// arrived, so the steps between updates are the key's values.
					if len(got) != len(wantVals[k]) || got[len(got)-1] != want {
						t.Fatalf("key %s: %d updates ending at %d, want %d ending at %d", k, len(got), got[len(got)-1], len(wantVals[k]), want)
					}
					steps := []int64{got[0]}
					for i := 1; i < len(got); i++ {
						steps = append(steps, got[i]-got[i-1])
					}
					apiSameMultiset(t, "steps of the running sum of "+k, steps, wantVals[k])
					ms := gotMaxes[k]
					if len(ms) != len(wantVals[k]) || ms[len(ms)-1] != wantMax[k] {
						t.Fatalf("key %s: %d reduce updates ending at %v, want %d ending at %v: %v", k, len(ms), ms[len(ms)-1], len(wantVals[k]), wantMax[k], ms)
					}
				}
				sumOut := int64(len(keyed))
				if mode == sdk.Batch {
					sumOut = int64(len(wantSum))
				}
				if op, _ := res.Operator("Sum"); op.RecordsIn != int64(len(keyed)) || op.RecordsOut != sumOut {
					t.Errorf("Sum: %d in, %d out; want %d, %d", op.RecordsIn, op.RecordsOut, len(keyed), sumOut)
				}
			})
		}
	}
}
