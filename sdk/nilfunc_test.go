package sdk_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/worker/task"
)

// nilKeyed is a KeyedProcessFunction, KeyedCoProcessFunction and
// CoProcessFunction that is never called.
type nilKeyed struct{}

func (nilKeyed) ProcessElement(*sdk.KeyedContext[int64], int64, *sdk.Collector[int64]) error {
	return nil
}
func (nilKeyed) ProcessElement1(*sdk.KeyedContext[int64], int64, *sdk.Collector[int64]) error {
	return nil
}
func (nilKeyed) ProcessElement2(*sdk.KeyedContext[int64], int64, *sdk.Collector[int64]) error {
	return nil
}
func (nilKeyed) OnTimer(*sdk.KeyedContext[int64], int64, *sdk.Collector[int64]) error { return nil }

// sumAgg is an AggregateFunction summing int64s.
type sumAgg struct{}

func (sumAgg) CreateAccumulator() int64     { return 0 }
func (sumAgg) Add(v int64, acc int64) int64 { return acc + v }
func (sumAgg) GetResult(acc int64) int64    { return acc }
func (sumAgg) Merge(a, b int64) int64       { return a + b }
func identity(v int64) int64                { return v }
func emitAll(_ *sdk.WindowContext[int64], vs []int64, out *sdk.Collector[int64]) error {
	for _, v := range vs {
		out.Collect(v)
	}
	return nil
}

// TestNilFunctionsAreGraphErrors: every sdk call that takes a user function
// refuses nil when the graph is built. Plan and Execute return exactly one
// error, wrapping ErrInvalidJob, that names the call, the operator it added
// (its position from 1 and its name, also one set after the call) and the
// nil argument, instead of a task panicking at run time.
func TestNilFunctionsAreGraphErrors(t *testing.T) {
	// Every case starts from FromSequence, operator 1 "Source: sequence".
	keyed := func(env *sdk.Env) sdk.KeyedStream[int64, int64] {
		return sdk.KeyBy(sdk.FromSequence(env, 1, 10), identity)
	}
	windowed := func(env *sdk.Env) sdk.WindowedStream[int64, int64] {
		return keyed(env).Window(sdk.TumblingEventTimeWindows(time.Second))
	}
	for _, tc := range []struct {
		name  string
		build func(env *sdk.Env)
		want  string
	}{
		{"Map", func(env *sdk.Env) {
			sdk.Collect(sdk.Map[int64, int64](sdk.FromSequence(env, 1, 10), nil))
		}, `invalid job: Map (operator 2 "Map"): the function is nil`},
		{"Map named after the call", func(env *sdk.Env) {
			sdk.Collect(sdk.Map[int64, string](sdk.FromSequence(env, 1, 10), nil).Name("parse"))
		}, `invalid job: Map (operator 2 "parse"): the function is nil`},
		{"Map with a nil variable", func(env *sdk.Env) {
			var fn func(int64) int64
			sdk.Collect(sdk.Map(sdk.Map(sdk.FromSequence(env, 1, 10), identity), fn))
		}, `invalid job: Map (operator 3 "Map"): the function is nil`},
		{"FlatMap", func(env *sdk.Env) {
			sdk.Collect(sdk.FlatMap[int64, int64](sdk.FromSequence(env, 1, 10), nil))
		}, `invalid job: FlatMap (operator 2 "FlatMap"): the function is nil`},
		{"Filter", func(env *sdk.Env) {
			sdk.Collect(sdk.FromSequence(env, 1, 10).Filter(nil))
		}, `invalid job: Stream.Filter (operator 2 "Filter"): the function is nil`},
		{"Process", func(env *sdk.Env) {
			sdk.Collect(sdk.Process[int64, int64](sdk.FromSequence(env, 1, 10), nil))
		}, `invalid job: Process (operator 2 "Process"): the ProcessFunc is nil`},
		{"KeyBy", func(env *sdk.Env) {
			sdk.Collect(sdk.Sum(sdk.KeyBy[int64, int64](sdk.FromSequence(env, 1, 10), nil), identity))
		}, `invalid job: KeyBy: the key selector is nil`},
		{"KeyedStream.Reduce", func(env *sdk.Env) {
			sdk.Collect(keyed(env).Reduce(nil))
		}, `invalid job: KeyedStream.Reduce (operator 2 "Reduce"): the reduce function is nil`},
		{"Sum", func(env *sdk.Env) {
			sdk.Collect(sdk.Sum[int64, int64, int64](keyed(env), nil))
		}, `invalid job: Sum (operator 2 "Sum"): the value function is nil`},
		{"KeyedProcess", func(env *sdk.Env) {
			sdk.Collect(sdk.KeyedProcess[int64, int64, int64](keyed(env), nil))
		}, `invalid job: KeyedProcess (operator 2 "KeyedProcess"): newFn, the function making a KeyedProcessFunction per subtask, is nil`},
		{"CoProcess", func(env *sdk.Env) {
			b := sdk.FromSequence(env, 1, 10)
			sdk.Collect(sdk.CoProcess[int64, int64, int64](sdk.FromSequence(env, 1, 10), b, nil))
		}, `invalid job: CoProcess (operator 3 "CoProcess"): newFn, the function making a CoProcessFunction per subtask, is nil`},
		{"KeyedCoProcess", func(env *sdk.Env) {
			b := keyed(env)
			sdk.Collect(sdk.KeyedCoProcess[int64, int64, int64, int64](keyed(env), b, nil))
		}, `invalid job: KeyedCoProcess (operator 3 "KeyedCoProcess"): newFn, the function making a KeyedCoProcessFunction per subtask, is nil`},
		{"WindowedStream.Reduce", func(env *sdk.Env) {
			sdk.Collect(windowed(env).Reduce(nil))
		}, `invalid job: WindowedStream.Reduce (operator 2 "Window(Reduce)"): the reduce function is nil`},
		{"ReduceProcess reduce", func(env *sdk.Env) {
			sdk.Collect(sdk.ReduceProcess(windowed(env), nil, emitAll))
		}, `invalid job: ReduceProcess (operator 2 "Window(Reduce)"): the reduce function is nil`},
		{"ReduceProcess both", func(env *sdk.Env) {
			sdk.Collect(sdk.ReduceProcess[int64, int64, int64](windowed(env), nil, nil).Name("w"))
		}, "invalid job: ReduceProcess (operator 2 \"w\"): the reduce function is nil\n" +
			`invalid job: ReduceProcess (operator 2 "w"): the ProcessWindowFunction is nil`},
		{"Aggregate", func(env *sdk.Env) {
			sdk.Collect(sdk.Aggregate[int64, int64, int64, int64](windowed(env), nil))
		}, `invalid job: Aggregate (operator 2 "Window(Aggregate)"): the AggregateFunction is nil`},
		{"Aggregate with an evictor", func(env *sdk.Env) {
			sdk.Collect(sdk.Aggregate[int64, int64, int64, int64](windowed(env).Evictor(sdk.CountEvictor[int64](2)), nil))
		}, `invalid job: Aggregate (operator 2 "Window(Aggregate)"): the AggregateFunction is nil`},
		{"AggregateProcess function", func(env *sdk.Env) {
			sdk.Collect(sdk.AggregateProcess[int64, int64, int64, int64, int64](windowed(env), sumAgg{}, nil))
		}, `invalid job: AggregateProcess (operator 2 "Window(Aggregate)"): the ProcessWindowFunction is nil`},
		{"AggregateProcess aggregate", func(env *sdk.Env) {
			sdk.Collect(sdk.AggregateProcess[int64, int64, int64, int64, int64](windowed(env), nil, emitAll))
		}, `invalid job: AggregateProcess (operator 2 "Window(Aggregate)"): the AggregateFunction is nil`},
		{"ProcessWindow", func(env *sdk.Env) {
			sdk.Collect(sdk.ProcessWindow[int64, int64, int64](windowed(env), nil))
		}, `invalid job: ProcessWindow (operator 2 "Window(Process)"): the ProcessWindowFunction is nil`},
		{"Window with the zero WindowAssigner", func(env *sdk.Env) {
			sdk.Collect(sdk.ProcessWindow(keyed(env).Window(sdk.WindowAssigner{}), emitAll))
		}, `invalid job: Window: the WindowAssigner is the zero value; make one with TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows, GlobalWindows or their processing-time forms`},
		{"Generate", func(env *sdk.Env) {
			sdk.Collect(sdk.Generate[int64](env, 10, nil))
		}, `invalid job: Generate (operator 1 "Source: generator"): the function is nil`},
		{"GenerateWithRate", func(env *sdk.Env) {
			sdk.Collect(sdk.GenerateWithRate[int64](env, 10, 5, nil).Name("ticks"))
		}, `invalid job: GenerateWithRate (operator 1 "ticks"): the function is nil`},
		{"WithTimestampAssigner", func(env *sdk.Env) {
			sdk.Collect(sdk.FromSequence(env, 1, 10).AssignTimestampsAndWatermarks(sdk.ForMonotonousTimestamps[int64]().WithTimestampAssigner(nil)))
		}, `invalid job: WatermarkStrategy.WithTimestampAssigner (operator 2 "Timestamps/Watermarks"): the function is nil`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := apiEnv(t, 1)
			tc.build(env)
			_, perr := env.Plan("nil")
			// A timeout, so that a job wrongly started ends (and fails the test).
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := env.Execute(ctx, "nil")
			for what, e := range map[string]error{"Plan": perr, "Execute": err} {
				if e == nil || e.Error() != tc.want {
					t.Errorf("%s = %v\nwant %s", what, e, tc.want)
				}
				if !errors.Is(e, sdk.ErrInvalidJob) {
					t.Errorf("%s = %v, does not wrap ErrInvalidJob", what, e)
				}
			}
		})
	}
}

// TestNonNilFunctionsStillRun: the checks refuse nothing that is set; a job
// through every checked call runs and gives its exact result.
func TestNonNilFunctionsStillRun(t *testing.T) {
	env, _ := apiEnv(t, 1)
	src := sdk.Generate(env, 6, func(i int64) int64 { return i + 1 }).
		AssignTimestampsAndWatermarks(sdk.ForMonotonousTimestamps[int64]().WithTimestampAssigner(func(v int64) int64 { return v * 100 }))
	evens := sdk.Map(src, identity).Filter(func(v int64) bool { return v%2 == 0 }) // 2, 4, 6
	doubled := sdk.FlatMap(evens, func(v int64, out *sdk.Collector[int64]) { out.Collect(v); out.Collect(v) })
	keyed := sdk.KeyBy(sdk.Process(doubled, func(_ *sdk.ProcessContext, v int64, out *sdk.Collector[int64]) error {
		out.Collect(v)
		return nil
	}), identity)
	sums := sdk.Collect(sdk.Map(sdk.Sum(keyed, identity), func(kv sdk.KeyValue[int64, int64]) int64 { return kv.Value }))
	reduced := sdk.Collect(keyed.Reduce(func(a, b int64) int64 { return a + b }))
	windows := sdk.Collect(sdk.Aggregate(keyed.Window(sdk.TumblingEventTimeWindows(time.Second)), sdk.AggregateFunction[int64, int64, int64](sumAgg{})))
	apiRun(t, env)
	apiSameMultiset(t, "sums", sums.Items(), []int64{2, 4, 4, 8, 6, 12})
	apiSameMultiset(t, "reduced", reduced.Items(), []int64{2, 4, 4, 8, 6, 12})
	apiSameMultiset(t, "windows", windows.Items(), []int64{4, 8, 12})
}

// TestNilInstanceFromNewFn: a newFn that returns nil fails the subtask with
// an error saying so, instead of a nil-pointer panic at the first record.
func TestNilInstanceFromNewFn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(env *sdk.Env, src sdk.Stream[int64])
		op    string
		want  string
	}{
		{"KeyedProcess", func(env *sdk.Env, src sdk.Stream[int64]) {
			sdk.Collect(sdk.KeyedProcess(sdk.KeyBy(src, identity), func() sdk.KeyedProcessFunction[int64, int64, int64] { return nil }))
		}, "KeyedProcess", "KeyedProcess: newFn returned a nil KeyedProcessFunction; return a new KeyedProcessFunction for each subtask"},
		{"KeyedCoProcess", func(env *sdk.Env, src sdk.Stream[int64]) {
			k := sdk.KeyBy(src, identity)
			sdk.Collect(sdk.KeyedCoProcess(k, k, func() sdk.KeyedCoProcessFunction[int64, int64, int64, int64] { return nil }))
		}, "KeyedCoProcess", "KeyedCoProcess: newFn returned a nil KeyedCoProcessFunction; return a new KeyedCoProcessFunction for each subtask"},
		{"CoProcess", func(env *sdk.Env, src sdk.Stream[int64]) {
			sdk.Collect(sdk.CoProcess(src, src, func() sdk.CoProcessFunction[int64, int64, int64] { return nil }))
		}, "CoProcess", "CoProcess: newFn returned a nil CoProcessFunction; return a new CoProcessFunction for each subtask"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := apiEnv(t, 1)
			tc.build(env, sdk.FromSequence(env, 1, 10))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := env.Execute(ctx, "nil instance")
			var oe *task.OperatorError
			if !errors.As(err, &oe) {
				t.Fatalf("Execute = %v, want an OperatorError", err)
			}
			if oe.Operator != tc.op || oe.Err.Error() != tc.want {
				t.Fatalf("operator %q failed with %q\nwant operator %q failing with %q", oe.Operator, oe.Err, tc.op, tc.want)
			}
		})
	}
}

var _ sdk.KeyedProcessFunction[int64, int64, int64] = nilKeyed{}
var _ sdk.KeyedCoProcessFunction[int64, int64, int64, int64] = nilKeyed{}
