package sdk_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/graph"
)

// The helpers of these tests carry the prefix "api" so that they do not collide
// with those of other test files of the package.

// apiEnv returns an environment with parallelism.default = parallelism, the
// given key/value configuration pairs, a discarded log and Print's output in the
// returned buffer. It never reads the process environment.
func apiEnv(t testing.TB, parallelism int, kv ...string) (*sdk.Env, *bytes.Buffer) {
	t.Helper()
	cfg := conf.New()
	if err := cfg.Set(conf.ParallelismDefault.Key(), strconv.Itoa(parallelism)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if err := cfg.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	return sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard)), sdk.WithStdout(&out)), &out
}

// apiRun executes env's job and fails the test on error.
func apiRun(t testing.TB, env *sdk.Env) *sdk.JobResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := env.Execute(ctx, t.Name())
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return res
}

// apiSorted returns a sorted copy of s.
func apiSorted[T cmp.Ordered](s []T) []T {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// apiSameMultiset fails the test unless got and want hold the same elements the
// same number of times.
func apiSameMultiset[T cmp.Ordered](t testing.TB, what string, got, want []T) {
	t.Helper()
	g, w := apiSorted(got), apiSorted(want)
	if slices.Equal(g, w) {
		return
	}
	t.Fatalf("%s: got %d records, want %d; %s", what, len(g), len(w), apiDiff(g, w))
}

// apiDiff describes the first difference between two sorted slices.
func apiDiff[T cmp.Ordered](got, want []T) string {
	i, j := 0, 0
	for i < len(got) && j < len(want) {
		switch c := cmp.Compare(got[i], want[j]); {
		case c == 0:
			i++
			j++
		case c < 0:
			return fmt.Sprintf("unexpected %v", got[i])
		default:
			return fmt.Sprintf("missing %v", want[j])
		}
	}
	if i < len(got) {
		return fmt.Sprintf("unexpected %v", got[i])
	}
	if j < len(want) {
		return fmt.Sprintf("missing %v", want[j])
	}
	return "equal"
}

// apiEqual fails the test unless got equals want element by element, in order.
func apiEqual[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("%s: first difference at %d: got %v, want %v (len %d, want %d)", what, i, got[i], want[i], len(got), len(want))
		}
	}
	t.Fatalf("%s: got %d records, want %d", what, len(got), len(want))
}

// apiTagged is a record with the subtask and parallelism that saw it.
type apiTagged[T any] struct {
	Subtask, Parallelism int
	V                    T
}

// apiTag tags every record with the ProcessContext of the subtask that sees it.
func apiTag[T any](s sdk.Stream[T]) sdk.Stream[apiTagged[T]] {
	return sdk.Process(s, func(pc *sdk.ProcessContext, v T, out *sdk.Collector[apiTagged[T]]) error {
		out.Collect(apiTagged[T]{Subtask: pc.Subtask, Parallelism: pc.Parallelism, V: v})
		return nil
	})
}

// apiBySubtask splits tagged records by subtask, checking the parallelism.
func apiBySubtask[T any](t testing.TB, recs []apiTagged[T], parallelism int) [][]T {
	t.Helper()
	out := make([][]T, parallelism)
	for _, r := range recs {
		if r.Parallelism != parallelism || r.Subtask < 0 || r.Subtask >= parallelism {
			t.Fatalf("record %v seen by subtask %d of %d, want parallelism %d", r.V, r.Subtask, r.Parallelism, parallelism)
		}
		out[r.Subtask] = append(out[r.Subtask], r.V)
	}
	return out
}

func apiInts(from, to int) []int {
	out := make([]int, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func apiInt64s(from, to int64) []int64 {
	out := make([]int64, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// apiPlanOp returns the plan's operator named name.
func apiPlanOp(t testing.TB, p graph.Plan, name string) graph.PlanOperator {
	t.Helper()
	var found []graph.PlanOperator
	for _, op := range p.Operators {
		if op.Name == name {
			found = append(found, op)
		}
	}
	if len(found) != 1 {
		t.Fatalf("plan has %d operators named %q, want 1:\n%s", len(found), name, p.JSON())
	}
	return found[0]
}

// apiPlanTaskOf returns the names of the operators in the task running the operator named name.
func apiPlanTaskOf(t testing.TB, p graph.Plan, name string) []string {
	t.Helper()
	op := apiPlanOp(t, p, name)
	names := map[string]string{}
	for _, o := range p.Operators {
		names[o.ID] = o.Name
	}
	for _, task := range p.Tasks {
		if slices.Contains(task.Operators, op.ID) {
			if task.Index != op.Task {
				t.Fatalf("operator %q says task %d but is listed in task %d", name, op.Task, task.Index)
			}
			var out []string
			for _, id := range task.Operators {
				out = append(out, names[id])
			}
			return out
		}
	}
	t.Fatalf("operator %q is in no task:\n%s", name, p.JSON())
	return nil
}

// --- Map, FlatMap, Filter, Process ---

func TestMapFlatMapFilterInOrder(t *testing.T) {
	for _, chained := range []bool{true, false} {
		t.Run(fmt.Sprintf("chained=%v", chained), func(t *testing.T) {
			// A small batch size makes the records cross the exchanges in many batches.
			env, _ := apiEnv(t, 1, "execution.batch-size", "7")
			data := apiInts(0, 1000)
			m := sdk.Map(sdk.FromSlice(env, data), func(v int) int { return v*3 + 1 })
			f := sdk.FlatMap(m, func(v int, out *sdk.Collector[string]) {
				out.Collect(fmt.Sprintf("%d.0", v))
				if v%4 == 0 { // three records, one of which the filter drops
					out.Collect(fmt.Sprintf("%d.x", v))
					out.Collect(fmt.Sprintf("%d.y", v))
				}
			})
			kept := f.Filter(func(s string) bool { return !strings.HasSuffix(s, ".y") })
			if !chained {
				m.DisableChaining()
				f.DisableChaining()
				kept.DisableChaining()
			}
			got := sdk.Collect(kept)
			apiRun(t, env)

			var want []string
			for _, v := range data {
				w := v*3 + 1
				want = append(want, fmt.Sprintf("%d.0", w))
				if w%4 == 0 {
					want = append(want, fmt.Sprintf("%d.x", w))
				}
			}
			apiEqual(t, "records in order", got.Items(), want)
		})
	}
}

func TestFlatMapEmitsMoreThanABatch(t *testing.T) {
	env, _ := apiEnv(t, 2, "execution.batch-size", "16")
	src := sdk.FromSlice(env, []int{0, 100, 3, 50}).SetParallelism(2)
	exploded := sdk.FlatMap(src, func(n int, out *sdk.Collector[string]) {
		for i := range n {
			out.Collect(fmt.Sprintf("%d/%d", n, i))
		}
	})
	got := sdk.Collect(exploded)
	apiRun(t, env)
	var want []string
	for _, n := range []int{0, 100, 3, 50} {
		for i := range n {
			want = append(want, fmt.Sprintf("%d/%d", n, i))
		}
	}
	apiSameMultiset(t, "flat-mapped records", got.Items(), want)
}

func TestProcessContext(t *testing.T) {
	env, _ := apiEnv(t, 1)
	const n = 300
	seen := sdk.Process(sdk.FromSlice(env, apiInts(0, n)).Rebalance(),
		func(pc *sdk.ProcessContext, v int, out *sdk.Collector[string]) error {
			if v%10 == 0 {
				return nil // Process may drop records
			}
			out.Collect(fmt.Sprintf("%s|%d|%d", pc.Operator, pc.Parallelism, v))
			if v%10 == 1 {
				out.Collect(fmt.Sprintf("%s|%d|%d+", pc.Operator, pc.Parallelism, v))
			}
			return nil
		}).Name("tagger").SetParallelism(3)
	got := sdk.Collect(seen)
	tagged := sdk.Collect(apiTag(sdk.FromSlice(env, apiInts(0, n)).Rebalance()).SetParallelism(3))
	apiRun(t, env)

	var want []string
	for v := range n {
		if v%10 == 0 {
			continue
		}
		want = append(want, fmt.Sprintf("tagger|3|%d", v))
		if v%10 == 1 {
			want = append(want, fmt.Sprintf("tagger|3|%d+", v))
		}
	}
	apiSameMultiset(t, "process output", got.Items(), want)

	var all []int
	for s, part := range apiBySubtask(t, tagged.Items(), 3) {
		if len(part) == 0 {
			t.Errorf("subtask %d saw no record", s)
		}
		all = append(all, part...)
	}
	apiSameMultiset(t, "tagged records", all, apiInts(0, n))
}

// --- Keyed aggregations ---

type apiWord struct {
	Word string
	N    int64
}

// apiWords is a deterministic sequence of words with counts.
func apiWords(n int) []apiWord {
	words := []string{"a", "bb", "ccc", "dd", "e", "ffff", "g"}
	out := make([]apiWord, n)
	for i := range out {
		out[i] = apiWord{Word: words[(i*i+3*i)%len(words)], N: int64(i%5 + 1)}
	}
	return out
}

func TestKeyedSumStreamingEmitsRunningTotals(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			env, _ := apiEnv(t, p, "execution.batch-size", "5")
			data := apiWords(500)
			// FromSlice runs at parallelism 1, so each key's records reach Sum in input order.
			sums := sdk.Sum(sdk.KeyBy(sdk.FromSlice(env, data), func(w apiWord) string { return w.Word }),
				func(w apiWord) int64 { return w.N })
			got := sdk.Collect(sums)
			apiRun(t, env)

			want := map[string][]int64{}
			total := map[string]int64{}
			for _, w := range data {
				total[w.Word] += w.N
				want[w.Word] = append(want[w.Word], total[w.Word])
			}
			gotByKey := map[string][]int64{}
			for _, kv := range got.Items() {
				gotByKey[kv.Key] = append(gotByKey[kv.Key], kv.Value)
			}
			if len(gotByKey) != len(want) {
				t.Fatalf("got %d keys, want %d", len(gotByKey), len(want))
			}
			for k, w := range want {
				apiEqual(t, "running totals of "+k, gotByKey[k], w)
			}
		})
	}
}

func TestKeyedReduceStreamingEmitsEveryUpdate(t *testing.T) {
	env, _ := apiEnv(t, 1) // the source and the Map: each key's records reach Reduce in input order
	data := apiWords(300)
	type acc struct {
		Word string
		Seq  string // the N of every record so far, in order: the reduce is not commutative
	}
	in := sdk.Map(sdk.FromSlice(env, data), func(w apiWord) acc { return acc{w.Word, strconv.FormatInt(w.N, 10)} })
	red := sdk.KeyBy(in, func(a acc) string { return a.Word }).Reduce(func(a, b acc) acc {
		return acc{a.Word, a.Seq + "," + b.Seq}
	}).SetParallelism(4)
	got := sdk.Collect(red)
	apiRun(t, env)

	want := map[string][]string{}
	last := map[string]string{}
	for _, w := range data {
		s := strconv.FormatInt(w.N, 10)
		if prev, ok := last[w.Word]; ok {
			s = prev + "," + s
		}
		last[w.Word] = s
		want[w.Word] = append(want[w.Word], s)
	}
	gotByKey := map[string][]string{}
	for _, a := range got.Items() {
		gotByKey[a.Word] = append(gotByKey[a.Word], a.Seq)
	}
	if len(gotByKey) != len(want) {
		t.Fatalf("got %d keys, want %d", len(gotByKey), len(want))
	}
	for k, w := range want {
		apiEqual(t, "rolling reduce of "+k, gotByKey[k], w)
	}
}

func TestKeyedAggregationBatchEmitsOneFinalValuePerKey(t *testing.T) {
	for _, mode := range []sdk.RuntimeMode{sdk.Batch, sdk.Automatic} {
		for _, p := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/p=%d", mode, p), func(t *testing.T) {
				env, _ := apiEnv(t, p, "execution.batch-size", "4")
				env.SetRuntimeMode(mode)
				data := apiWords(1000)
				keyed := sdk.KeyBy(sdk.FromSlice(env, data), func(w apiWord) string { return w.Word })
				sums := sdk.Collect(sdk.Sum(keyed, func(w apiWord) int64 { return w.N }))
				longest := sdk.Collect(keyed.Reduce(func(a, b apiWord) apiWord {
					return apiWord{a.Word, max(a.N, b.N)*100 + min(a.N, b.N)%7} // not commutative in N
				}))
				apiRun(t, env)

				wantSum := map[string]int64{}
				wantRed := map[string]apiWord{}
				for _, w := range data {
					wantSum[w.Word] += w.N
					if a, ok := wantRed[w.Word]; ok {
						wantRed[w.Word] = apiWord{a.Word, max(a.N, w.N)*100 + min(a.N, w.N)%7}
					} else {
						wantRed[w.Word] = w
					}
				}
				var gotSum, wantSumLines, gotRed, wantRedLines []string
				for _, kv := range sums.Items() {
					gotSum = append(gotSum, fmt.Sprintf("%s=%d", kv.Key, kv.Value))
				}
				for k, v := range wantSum {
					wantSumLines = append(wantSumLines, fmt.Sprintf("%s=%d", k, v))
				}
				for _, w := range longest.Items() {
					gotRed = append(gotRed, fmt.Sprintf("%s=%d", w.Word, w.N))
				}
				for _, w := range wantRed {
					wantRedLines = append(wantRedLines, fmt.Sprintf("%s=%d", w.Word, w.N))
				}
				apiSameMultiset(t, "batch sums", gotSum, wantSumLines)
				apiSameMultiset(t, "batch reduce", gotRed, wantRedLines)
			})
		}
	}
}

// --- Union and partitioners ---

func TestUnionOfThreeStreams(t *testing.T) {
	env, _ := apiEnv(t, 2)
	a := sdk.FromSlice(env, apiInt64s(0, 100))                                         // parallelism 1
	b := sdk.Generate(env, 50, func(i int64) int64 { return 1000 + i })                // parallelism 2
	c := sdk.FromSequence(env, 5000, 5299).SetParallelism(3).Rebalance()               // repartitioned
	d := sdk.Map(sdk.FromSlice(env, []int64{7, 8}), func(v int64) int64 { return -v }) // a fourth, via Union of a union
	u := a.Union(b, c).Union(d)
	tagged := sdk.Collect(apiTag(u).SetParallelism(3))
	doubled := sdk.Collect(sdk.Map(a.Union(a), func(v int64) int64 { return v }))
	apiRun(t, env)

	want := append(append(append(apiInt64s(0, 100), apiInt64s(1000, 1050)...), apiInt64s(5000, 5300)...), -7, -8)
	var got []int64
	for _, part := range apiBySubtask(t, tagged.Items(), 3) {
		got = append(got, part...)
	}
	apiSameMultiset(t, "union", got, want)
	apiSameMultiset(t, "a stream unioned with itself", doubled.Items(), append(apiInt64s(0, 100), apiInt64s(0, 100)...))
}

func TestUnionThenKeyBy(t *testing.T) {
	env, _ := apiEnv(t, 3)
	env.SetRuntimeMode(sdk.Batch)
	a := sdk.FromSlice(env, apiWords(200))
	b := sdk.Generate(env, 200, func(i int64) apiWord { return apiWords(200)[i] })
	sums := sdk.Collect(sdk.Sum(sdk.KeyBy(a.Union(b.Rebalance()), func(w apiWord) string { return w.Word }),
		func(w apiWord) int64 { return w.N }))
	apiRun(t, env)
	want := map[string]int64{}
	for _, w := range apiWords(200) {
		want[w.Word] += 2 * w.N
	}
	var got, wantLines []string
	for _, kv := range sums.Items() {
		got = append(got, fmt.Sprintf("%s=%d", kv.Key, kv.Value))
	}
	for k, v := range want {
		wantLines = append(wantLines, fmt.Sprintf("%s=%d", k, v))
	}
	apiSameMultiset(t, "sums over a union", got, wantLines)
}

func TestRebalanceSpreadsEvenly(t *testing.T) {
	for _, n := range []int{1000, 1001, 1003} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			env, _ := apiEnv(t, 1)
			tagged := sdk.Collect(apiTag(sdk.FromSlice(env, apiInts(0, n)).Rebalance()).SetParallelism(4))
			apiRun(t, env)
			var all []int
			for s, part := range apiBySubtask(t, tagged.Items(), 4) {
				if len(part) < n/4 || len(part) > n/4+1 {
					t.Errorf("subtask %d saw %d records, want %d±1", s, len(part), n/4)
				}
				if !slices.IsSorted(part) {
					t.Errorf("subtask %d saw the records of one producer out of order", s)
				}
				all = append(all, part...)
			}
			apiSameMultiset(t, "rebalanced records", all, apiInts(0, n))
		})
	}
}

func TestRescale(t *testing.T) {
	t.Run("up", func(t *testing.T) {
		// Two producers, four consumers: producer 0 feeds consumers 0 and 1, producer 1
		// feeds 2 and 3. FromSlice at parallelism 2 splits the slice in two halves.
		const n = 400
		env, _ := apiEnv(t, 1)
		tagged := sdk.Collect(apiTag(sdk.FromSlice(env, apiInts(0, n)).SetParallelism(2).Rescale()).SetParallelism(4))
		apiRun(t, env)
		var all []int
		for s, part := range apiBySubtask(t, tagged.Items(), 4) {
			if len(part) != n/4 {
				t.Errorf("subtask %d saw %d records, want %d", s, len(part), n/4)
			}
			for _, v := range part {
				if producer := v / (n / 2); producer != s/2 {
					t.Fatalf("record %d of producer %d reached subtask %d, outside its rescale group", v, producer, s)
				}
			}
			all = append(all, part...)
		}
		apiSameMultiset(t, "rescaled records", all, apiInts(0, n))
	})
	t.Run("down", func(t *testing.T) {
		// Four producers, two consumers: producers 0 and 1 feed consumer 0, 2 and 3 feed 1.
		const n = 400
		env, _ := apiEnv(t, 1)
		tagged := sdk.Collect(apiTag(sdk.FromSlice(env, apiInts(0, n)).SetParallelism(4).Rescale()).SetParallelism(2))
		apiRun(t, env)
		var all []int
		for s, part := range apiBySubtask(t, tagged.Items(), 2) {
			want := apiInts(s*n/2, (s+1)*n/2)
			apiSameMultiset(t, fmt.Sprintf("subtask %d", s), part, want)
			all = append(all, part...)
		}
		apiSameMultiset(t, "rescaled records", all, apiInts(0, n))
	})
}

func TestBroadcastReachesEverySubtask(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			env, _ := apiEnv(t, 2)
			src := sdk.Generate(env, 101, func(i int64) int64 { return i }) // two producers
			tagged := sdk.Collect(apiTag(src.Broadcast()).SetParallelism(p))
			apiRun(t, env)
			for s, part := range apiBySubtask(t, tagged.Items(), p) {
				apiSameMultiset(t, fmt.Sprintf("subtask %d", s), part, apiInt64s(0, 101))
			}
		})
	}
}

func TestForward(t *testing.T) {
	for _, chained := range []bool{true, false} {
		t.Run(fmt.Sprintf("chained=%v", chained), func(t *testing.T) {
			env, _ := apiEnv(t, 3)
			src := sdk.Generate(env, 300, func(i int64) int64 { return i }) // subtask s emits s, s+3, …
			tag := apiTag(src.Forward())
			if !chained {
				tag.DisableChaining()
			}
			tagged := sdk.Collect(tag)
			p, err := env.Plan("forward")
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"Source: generator", "Process", "Sink: collect"}
			if !chained {
				want = []string{"Process"}
			}
			if got := apiPlanTaskOf(t, p, "Process"); !slices.Equal(got, want) {
				t.Fatalf("Process runs in a task of %q, want %q", got, want)
			}
			apiRun(t, env)
			for s, part := range apiBySubtask(t, tagged.Items(), 3) {
				var want []int64
				for i := int64(s); i < 300; i += 3 {
					want = append(want, i)
				}
				apiEqual(t, fmt.Sprintf("subtask %d", s), part, want)
			}
		})
	}
}

func TestForwardWithUnequalParallelismIsAnError(t *testing.T) {
	env, _ := apiEnv(t, 2)
	src := sdk.Generate(env, 10, func(i int64) int64 { return i })
	sdk.Collect(sdk.Map(src.Forward(), func(v int64) int64 { return v }).SetParallelism(3))
	_, err := env.Execute(context.Background(), "forward")
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "forward") {
		t.Fatalf("Execute = %v, want an error about forward partitioning", err)
	}
}

func TestGlobalSendsEverythingToSubtaskZero(t *testing.T) {
	env, _ := apiEnv(t, 3)
	src := sdk.Generate(env, 500, func(i int64) int64 { return i })
	tagged := sdk.Collect(apiTag(src.Global()).SetParallelism(4))
	apiRun(t, env)
	parts := apiBySubtask(t, tagged.Items(), 4)
	apiSameMultiset(t, "subtask 0", parts[0], apiInt64s(0, 500))
	for s := 1; s < 4; s++ {
		if len(parts[s]) != 0 {
			t.Errorf("subtask %d saw %d records, want none", s, len(parts[s]))
		}
	}
}

// --- Plan: parallelism, chaining, names, uids ---

func TestPlanParallelismChainingNamesAndUIDs(t *testing.T) {
	env, _ := apiEnv(t, 2)
	src := sdk.FromSlice(env, apiInts(0, 10)).Name("numbers").UID("src-uid")
	m := sdk.Map(src, func(v int) int { return v + 1 }).Name("plus one").SetParallelism(1)
	f := m.Filter(func(int) bool { return true }).Name("keep all").DisableChaining()
	s := sdk.Map(f, func(v int) string { return strconv.Itoa(v) }).Name("to string").SetParallelism(3).UID("str")
	sdk.Print(s).Name("out").SetParallelism(3)
	p, err := env.Plan("plan")
	if err != nil {
		t.Fatal(err)
	}
	if p.Job != "plan" {
		t.Errorf("plan job name %q, want %q", p.Job, "plan")
	}
	for name, want := range map[string]struct {
		parallelism int
		uid         string
		task        []string
	}{
		"numbers":   {1, "src-uid", []string{"numbers", "plus one"}},
		"plus one":  {1, "", []string{"numbers", "plus one"}},
		"keep all":  {2, "", []string{"keep all"}}, // the default parallelism
		"to string": {3, "str", []string{"to string", "out"}},
		"out":       {3, "", []string{"to string", "out"}},
	} {
		op := apiPlanOp(t, p, name)
		if op.Parallelism != want.parallelism || op.UID != want.uid {
			t.Errorf("%s: parallelism %d uid %q, want %d %q", name, op.Parallelism, op.UID, want.parallelism, want.uid)
		}
		if task := apiPlanTaskOf(t, p, name); !slices.Equal(task, want.task) {
			t.Errorf("%s runs in a task of %q, want %q", name, task, want.task)
		}
	}
	if !apiPlanOp(t, p, "keep all").ChainingDisabled {
		t.Error("keep all: ChainingDisabled not shown in the plan")
	}
	if got := len(p.Tasks); got != 3 {
		t.Errorf("plan has %d tasks, want 3:\n%s", got, p)
	}
	// The uid decides the id: the same uid in another job gives the same id.
	env2, _ := apiEnv(t, 1)
	sdk.Print(sdk.FromSlice(env2, []int{1}).UID("src-uid"))
	p2, err := env2.Plan("other")
	if err != nil {
		t.Fatal(err)
	}
	if p2.Operators[0].ID != apiPlanOp(t, p, "numbers").ID {
		t.Errorf("uid src-uid gave ids %s and %s", p2.Operators[0].ID, apiPlanOp(t, p, "numbers").ID)
	}
}

func TestSetParallelismIsSeenByTheOperator(t *testing.T) {
	env, _ := apiEnv(t, 2)
	src := sdk.FromSequence(env, 0, 99) // the default: 2
	a := apiTag(src).Name("a")          // 2, chained
	b := apiTag(sdk.Map(a, func(r apiTagged[int64]) int64 { return r.V })).SetParallelism(5).Name("b")
	ca, cb := sdk.Collect(a), sdk.Collect(b)
	apiRun(t, env)
	var all []int64
	for _, part := range apiBySubtask(t, ca.Items(), 2) {
		all = append(all, part...)
	}
	apiSameMultiset(t, "a", all, apiInt64s(0, 100))
	all = nil
	for _, part := range apiBySubtask(t, cb.Items(), 5) {
		all = append(all, part...)
	}
	apiSameMultiset(t, "b", all, apiInt64s(0, 100))
}

func TestDisableChainingOnASink(t *testing.T) {
	env2, _ := apiEnv(t, 1)
	sdk.SinkFunc(sdk.FromSlice(env2, apiInts(0, 10)), func([]int) error { return nil }).Name("lonely").DisableChaining()
	p, err := env2.Plan("x")
	if err != nil {
		t.Fatal(err)
	}
	if task := apiPlanTaskOf(t, p, "lonely"); !slices.Equal(task, []string{"lonely"}) {
		t.Fatalf("sink runs with %q, want alone", task)
	}
}

// --- Sources ---

func TestFromSliceKeepsOrderAtParallelismOne(t *testing.T) {
	env, _ := apiEnv(t, 1, "execution.batch-size", "3")
	data := make([]string, 2000)
	for i := range data {
		data[i] = strconv.Itoa((i * 7919) % 2003) // not sorted
	}
	direct := sdk.Collect(sdk.FromSlice(env, data))
	// Through an exchange to a single consumer: still in order.
	viaNetwork := sdk.Collect(sdk.Map(sdk.FromSlice(env, data), func(s string) string { return s }).SetParallelism(1).DisableChaining())
	apiRun(t, env)
	apiEqual(t, "FromSlice", direct.Items(), data)
	apiEqual(t, "FromSlice through an exchange", viaNetwork.Items(), data)
}

func TestFromSliceSplitsContiguously(t *testing.T) {
	env, _ := apiEnv(t, 3)
	tagged := sdk.Collect(apiTag(sdk.FromSlice(env, apiInts(0, 10)).SetParallelism(3)))
	apiRun(t, env)
	parts := apiBySubtask(t, tagged.Items(), 3)
	want := [][]int{{0, 1, 2}, {3, 4, 5}, {6, 7, 8, 9}}
	for s := range 3 {
		apiEqual(t, fmt.Sprintf("subtask %d", s), parts[s], want[s])
	}
}

func TestFromSequence(t *testing.T) {
	for _, tc := range []struct{ from, to int64 }{{5, 1004}, {-3, 3}, {7, 7}} {
		for _, p := range []int{1, 3} {
			env, _ := apiEnv(t, p)
			got := sdk.Collect(sdk.FromSequence(env, tc.from, tc.to))
			apiRun(t, env)
			apiSameMultiset(t, fmt.Sprintf("FromSequence(%d, %d) at %d", tc.from, tc.to, p), got.Items(), apiInt64s(tc.from, tc.to+1))
		}
	}
}

func TestGenerateSplitsIndicesOverSubtasks(t *testing.T) {
	for _, p := range []int{1, 2, 3, 4} {
		for _, count := range []int64{0, 1, 10, 1001} {
			t.Run(fmt.Sprintf("p=%d/count=%d", p, count), func(t *testing.T) {
				env, _ := apiEnv(t, p, "execution.batch-size", "64")
				gen := sdk.Generate(env, count, func(i int64) string { return "r" + strconv.FormatInt(i, 10) })
				tagged := sdk.Collect(apiTag(gen))
				apiRun(t, env)
				var all []string
				for s, part := range apiBySubtask(t, tagged.Items(), p) {
					var want []string
					for i := int64(s); i < count; i += int64(p) {
						want = append(want, "r"+strconv.FormatInt(i, 10))
					}
					apiEqual(t, fmt.Sprintf("subtask %d", s), part, want)
					all = append(all, part...)
				}
				var want []string
				for i := range count {
					want = append(want, "r"+strconv.FormatInt(i, 10))
				}
				apiSameMultiset(t, "every index once", all, want)
			})
		}
	}
}

func TestGenerateWithRateEmitsExactlyCount(t *testing.T) {
	env, _ := apiEnv(t, 2)
	gen := sdk.GenerateWithRate(env, 200, 2000, func(i int64) int64 { return i * i })
	got := sdk.Collect(gen)
	apiRun(t, env)
	var want []int64
	for i := range int64(200) {
		want = append(want, i*i)
	}
	apiSameMultiset(t, "rated generator", got.Items(), want)
}

// --- Sinks ---

type apiPoint struct{ X, Y int }

func (p apiPoint) String() string { return fmt.Sprintf("(%d;%d)", p.X, p.Y) }

type apiPair struct {
	A string
	B int
}

func TestPrint(t *testing.T) {
	t.Run("p=1 in order", func(t *testing.T) {
		env, out := apiEnv(t, 1)
		sdk.Print(sdk.FromSlice(env, []string{"hello", "", "wörld", "a b c"}))
		apiRun(t, env)
		if got, want := out.String(), "hello\n\nwörld\na b c\n"; got != want {
			t.Fatalf("stdout = %q, want %q", got, want)
		}
	})
	t.Run("formats", func(t *testing.T) {
		env, out := apiEnv(t, 1)
		sdk.Print(sdk.FromSlice(env, []apiPoint{{1, 2}, {-3, 4}}))
		sdk.Print(sdk.FromSlice(env, []apiPair{{"x", 1}}))
		sdk.Print(sdk.FromSlice(env, []float64{1.5, -2}))
		sdk.Print(sdk.FromSlice(env, []*apiPoint{{5, 6}}))
		apiRun(t, env)
		apiSameMultiset(t, "printed lines", strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"),
			[]string{"(1;2)", "(-3;4)", "{x 1}", "1.5", "-2", "(5;6)"})
	})
	t.Run("p=4 whole lines", func(t *testing.T) {
		env, out := apiEnv(t, 4, "execution.batch-size", "3")
		const n = 2000
		lines := sdk.Map(sdk.FromSlice(env, apiInts(0, n)).Rebalance(), func(v int) string {
			return strings.Repeat(strconv.Itoa(v%10), v%37) + "#" + strconv.Itoa(v) // lines of many lengths
		})
		sdk.Print(lines)
		apiRun(t, env)
		s := out.String()
		if !strings.HasSuffix(s, "\n") {
			t.Fatalf("stdout does not end with a newline: %q", s[max(0, len(s)-40):])
		}
		var want []string
		for v := range n {
			want = append(want, strings.Repeat(strconv.Itoa(v%10), v%37)+"#"+strconv.Itoa(v))
		}
		apiSameMultiset(t, "printed lines", strings.Split(strings.TrimSuffix(s, "\n"), "\n"), want)
	})
}

func TestCollectItemsBySubtask(t *testing.T) {
	env, _ := apiEnv(t, 3)
	// Subtask s of the generator emits s, s+3, …; the forward-connected Collect keeps
	// them per subtask in arrival order, subtask by subtask.
	got := sdk.Collect(sdk.Generate(env, 10, func(i int64) int64 { return i }))
	apiRun(t, env)
	apiEqual(t, "Items", got.Items(), []int64{0, 3, 6, 9, 1, 4, 7, 2, 5, 8})
}
