package sdk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
)

type apiPointerKey struct {
	Name string
	Next *int
}

// TestGraphMistakesAreReturnedByExecute: every mistake made while building the
// graph is an error from Execute (and from Plan), never a panic, and says what to
// change.
func TestGraphMistakesAreReturnedByExecute(t *testing.T) {
	for _, tc := range []struct {
		name string
		// build makes the mistake on env.
		build func(env *sdk.Env)
		is    error    // the error wraps it, when not nil
		says  []string // the message contains these
	}{
		{
			name: "SetParallelism(0)",
			build: func(env *sdk.Env) {
				sdk.Collect(sdk.Map(sdk.FromSequence(env, 1, 10), func(v int64) int64 { return v }).SetParallelism(0))
			},
			is: sdk.ErrInvalidJob, says: []string{"SetParallelism(0)", "at least 1"},
		},
		{
			name: "negative parallelism on a sink",
			build: func(env *sdk.Env) {
				sdk.Print(sdk.FromSequence(env, 1, 10)).SetParallelism(-2)
			},
			is: sdk.ErrInvalidJob, says: []string{"SetParallelism(-2)"},
		},
		{
			name: "SetParallelism on a rebalanced stream",
			build: func(env *sdk.Env) {
				sdk.Collect(sdk.FromSequence(env, 1, 10).Rebalance().SetParallelism(2))
			},
			is: sdk.ErrInvalidJob, says: []string{"SetParallelism", "Rebalance"},
		},
		{
			name: "Name on a union",
			build: func(env *sdk.Env) {
				a := sdk.FromSequence(env, 1, 10)
				sdk.Collect(a.Union(sdk.FromSequence(env, 1, 10)).Name("both"))
			},
			is: sdk.ErrInvalidJob, says: []string{"Name", "Union"},
		},
		{
			name: "DisableChaining on a keyed stream",
			build: func(env *sdk.Env) {
				k := sdk.KeyBy(sdk.FromSequence(env, 1, 10), func(v int64) int64 { return v })
				sdk.Collect(k.Stream().DisableChaining())
			},
			is: sdk.ErrInvalidJob, says: []string{"DisableChaining"},
		},
		{
			name: "operator parallelism above pipeline.max-parallelism",
			build: func(env *sdk.Env) {
				env.SetMaxParallelism(4)
				sdk.Collect(sdk.Map(sdk.FromSequence(env, 1, 10), func(v int64) int64 { return v }).Name("wide").SetParallelism(5))
			},
			is: graph.ErrInvalidGraph, says: []string{"wide", "pipeline.max-parallelism"},
		},
		{
			name: "default parallelism above pipeline.max-parallelism",
			build: func(env *sdk.Env) {
				env.SetParallelism(200)
				sdk.Collect(sdk.FromSequence(env, 1, 10))
			},
			is: graph.ErrInvalidGraph, says: []string{"pipeline.max-parallelism"},
		},
		{
			name: "pipeline.max-parallelism out of range",
			build: func(env *sdk.Env) {
				env.SetMaxParallelism(0)
				sdk.Collect(sdk.FromSequence(env, 1, 10))
			},
			is: conf.ErrInvalidValue, says: []string{"pipeline.max-parallelism"},
		},
		{
			name: "unknown configuration key",
			build: func(env *sdk.Env) {
				env.Configure("parallelism.defualt", "2")
				sdk.Collect(sdk.FromSequence(env, 1, 10))
			},
			is: conf.ErrUnknownKey, says: []string{"parallelism.defualt", "parallelism.default"},
		},
		{
			name: "invalid runtime mode",
			build: func(env *sdk.Env) {
				env.SetRuntimeMode("sometimes")
				sdk.Collect(sdk.FromSequence(env, 1, 10))
			},
			is: conf.ErrInvalidValue, says: []string{"execution.runtime-mode", "sometimes"},
		},
		{
			name: "key type with a pointer",
			build: func(env *sdk.Env) {
				k := sdk.KeyBy(sdk.FromSequence(env, 1, 10), func(v int64) apiPointerKey { return apiPointerKey{Name: "x"} })
				sdk.Collect(sdk.Sum(k, func(v int64) int64 { return v }))
			},
			is: state.ErrUnhashableKey, says: []string{"KeyBy", "Next"},
		},
		{
			name: "key type is an interface",
			build: func(env *sdk.Env) {
				k := sdk.KeyBy(sdk.FromSequence(env, 1, 10), func(v int64) any { return v })
				sdk.Collect(sdk.Sum(k, func(v int64) int64 { return v }))
			},
			is: state.ErrUnhashableKey, says: []string{"KeyBy"},
		},
		{
			name: "batch mode with an unbounded source",
			build: func(env *sdk.Env) {
				env.SetRuntimeMode(sdk.Batch)
				sdk.Collect(sdk.Generate(env, -1, func(i int64) int64 { return i }).Name("Source: forever"))
			},
			is: sdk.ErrInvalidJob, says: []string{"batch", "Source: forever"},
		},
		{
			name: "forward to a different parallelism",
			build: func(env *sdk.Env) {
				sdk.Collect(sdk.Map(sdk.FromSequence(env, 1, 10).SetParallelism(2).Forward(), func(v int64) int64 { return v }).SetParallelism(3))
			},
			is: graph.ErrInvalidGraph, says: []string{"forward", "Rebalance"},
		},
		{
			name: "duplicate uid",
			build: func(env *sdk.Env) {
				a := sdk.FromSequence(env, 1, 10).UID("same")
				sdk.Print(a).UID("same")
			},
			is: graph.ErrInvalidGraph, says: []string{`"same"`, "unique"},
		},
		{
			name: "FromSequence backwards",
			build: func(env *sdk.Env) {
				sdk.Collect(sdk.FromSequence(env, 10, 1))
			},
			is: sdk.ErrInvalidJob, says: []string{"FromSequence(10, 1)"},
		},
		{
			name: "negative rate",
			build: func(env *sdk.Env) {
				sdk.Collect(sdk.GenerateWithRate(env, 10, -1, func(i int64) int64 { return i }))
			},
			is: sdk.ErrInvalidJob, says: []string{"rate"},
		},
		{
			name: "union across environments",
			build: func(env *sdk.Env) {
				other, _ := apiEnv(t, 1)
				sdk.Collect(sdk.FromSequence(env, 1, 2).Union(sdk.FromSequence(other, 1, 2)))
			},
			is: sdk.ErrInvalidJob, says: []string{"Union", "different environments"},
		},
		{
			name:  "no operators",
			build: func(env *sdk.Env) {},
			is:    graph.ErrInvalidGraph, says: []string{"no operators"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := apiEnv(t, 1)
			tc.build(env)
			_, perr := env.Plan("mistake")
			// A timeout, so that a job wrongly started ends (and fails the test).
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := env.Execute(ctx, "mistake")
			for _, e := range []error{perr, err} {
				if e == nil {
					t.Fatal("no error")
				}
				if tc.is != nil && !errors.Is(e, tc.is) {
					t.Errorf("error %q does not wrap %q", e, tc.is)
				}
				for _, s := range tc.says {
					if !strings.Contains(e.Error(), s) {
						t.Errorf("error %q does not say %q", e, s)
					}
				}
			}
		})
	}
}

// TestPlanDoesNotSkipValidation: Plan finalizes the graph; a later Execute must
// still refuse a batch job with an unbounded source instead of running it forever.
func TestPlanDoesNotSkipValidation(t *testing.T) {
	env, _ := apiEnv(t, 1)
	env.SetRuntimeMode(sdk.Batch)
	sdk.Collect(sdk.Generate(env, -1, func(i int64) int64 { return i }))
	if _, err := env.Plan("batch"); !errors.Is(err, sdk.ErrInvalidJob) {
		t.Fatalf("Plan = %v, want ErrInvalidJob", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := env.Execute(ctx, "batch"); !errors.Is(err, sdk.ErrInvalidJob) {
		t.Fatalf("Execute after Plan = %v, want ErrInvalidJob", err)
	}
}

// TestOperatorsAddedAfterPlan: the graph is read-only once Plan has finalized it.
// An operator added later must either run like the others or make Execute
// return ErrInvalidJob saying what to change, not an internal error.
func TestOperatorsAddedAfterPlan(t *testing.T) {
	env, _ := apiEnv(t, 1)
	s := sdk.FromSequence(env, 1, 10)
	first := sdk.Collect(s)
	if _, err := env.Plan("plan"); err != nil {
		t.Fatal(err)
	}
	second := sdk.Collect(sdk.Map(s, func(v int64) int64 { return -v }))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := env.Execute(ctx, "plan")
	if err != nil {
		if !errors.Is(err, sdk.ErrInvalidJob) || !strings.Contains(err.Error(), "Plan") {
			t.Fatalf("Execute = %v, want ErrInvalidJob naming Plan", err)
		}
		return
	}
	apiEqual(t, "first", first.Items(), apiInt64s(1, 11))
	apiEqual(t, "second", second.Items(), []int64{-1, -2, -3, -4, -5, -6, -7, -8, -9, -10})
}

func TestExecuteTwiceIsAnError(t *testing.T) {
	env, _ := apiEnv(t, 1)
	got := sdk.Collect(sdk.FromSequence(env, 1, 3))
	apiRun(t, env)
	apiEqual(t, "first run", got.Items(), []int64{1, 2, 3})
	_, err := env.Execute(context.Background(), "again")
	if !errors.Is(err, sdk.ErrInvalidJob) || !strings.Contains(err.Error(), "new Env") {
		t.Fatalf("second Execute = %v, want ErrInvalidJob telling to build a new Env", err)
	}
	if _, err := env.ExecuteAsync(context.Background(), "again"); !errors.Is(err, sdk.ErrInvalidJob) {
		t.Fatalf("ExecuteAsync after Execute = %v, want ErrInvalidJob", err)
	}
	apiEqual(t, "after the refused runs", got.Items(), []int64{1, 2, 3})
}

func TestAllMistakesAreReported(t *testing.T) {
	env, _ := apiEnv(t, 1)
	env.Configure("no.such.key", "1")
	s := sdk.FromSequence(env, 1, 10).SetParallelism(0)
	sdk.Collect(s.Rebalance().Name("x"))
	_, err := env.Execute(context.Background(), "many")
	for _, want := range []string{"no.such.key", "SetParallelism(0)", "Name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Execute = %v, want it to report %q", err, want)
		}
	}
}

// TestJobResultCountsRecords pins RecordsIn and RecordsOut of every operator.
func TestJobResultCountsRecords(t *testing.T) {
	for _, p := range []int{1, 3} {
		for _, mode := range []sdk.RuntimeMode{sdk.Streaming, sdk.Batch} {
			t.Run(string(mode)+"/p="+string(rune('0'+p)), func(t *testing.T) {
				env, _ := apiEnv(t, p, "execution.batch-size", "64")
				env.SetRuntimeMode(mode)
				src := sdk.FromSlice(env, apiInts(0, 1000)).Name("numbers")
				evens := src.Filter(func(v int) bool { return v%2 == 0 }).Name("evens")
				pairs := sdk.FlatMap(evens, func(v int, out *sdk.Collector[int]) {
					if v%4 == 0 {
						out.Collect(v)
						out.Collect(v + 1)
					}
				}).Name("pairs")
				sums := sdk.Sum(sdk.KeyBy(pairs, func(v int) int { return v % 10 }), func(v int) int { return v }).Name("sum by last digit")
				sdk.Print(sdk.Map(sums, func(kv sdk.KeyValue[int, int]) string { return "" }).Name("format")).Name("out")
				res := apiRun(t, env)
				// 1000 numbers, 500 even, 250 multiples of 4 become 500 records; their last
				// digits are 0, 2, 4, 6, 8 and 1, 3, 5, 7, 9: ten keys.
				sumOut := int64(500)
				if mode == sdk.Batch {
					sumOut = 10
				}
				for _, want := range []struct {
					name    string
					p       int
					in, out int64
				}{
					{"numbers", 1, 0, 1000},
					{"evens", p, 1000, 500},
					{"pairs", p, 500, 500},
					{"sum by last digit", p, 500, sumOut},
					{"format", p, sumOut, sumOut},
					{"out", p, sumOut, 0},
				} {
					op, ok := res.Operator(want.name)
					if !ok {
						t.Fatalf("no operator %q in the result", want.name)
					}
					if op.Parallelism != want.p || op.RecordsIn != want.in || op.RecordsOut != want.out {
						t.Errorf("%s: parallelism %d, %d in, %d out; want %d, %d in, %d out",
							want.name, op.Parallelism, op.RecordsIn, op.RecordsOut, want.p, want.in, want.out)
					}
				}
				if len(res.Operators) != 6 {
					t.Errorf("result has %d operators, want 6", len(res.Operators))
				}
				if _, ok := res.Operator("no such operator"); ok {
					t.Error("Operator found an operator that does not exist")
				}
				if res.JobName != t.Name() || res.JobID == "" {
					t.Errorf("result names job %q id %q", res.JobName, res.JobID)
				}
			})
		}
	}
}
