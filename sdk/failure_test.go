package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/worker/task"
)

// apiNoGoroutineLeft polls until no more goroutines run than before, and fails
// the test with every goroutine's stack when that does not happen in time.
func apiNoGoroutineLeft(t testing.TB, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines run after the job ended, %d before it:\n%s", n, before, buf)
		}
		time.Sleep(time.Millisecond)
	}
}

// apiWaitFor polls cond until it holds, failing the test after a deadline.
func apiWaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// apiOperatorError checks that err is the failure of subtask subtask (-1: any
// subtask) of the operator named operator, and returns it.
func apiOperatorError(t testing.TB, err error, operator string, subtask, parallelism int) *task.OperatorError {
	t.Helper()
	if err == nil {
		t.Fatalf("the job succeeded, want a failure of %q", operator)
	}
	var oe *task.OperatorError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not a *task.OperatorError", err, err)
	}
	if oe.Operator != operator || (subtask >= 0 && oe.Subtask != subtask) || oe.Parallelism != parallelism {
		t.Fatalf("failure of %q subtask %d of %d, want %q subtask %d of %d: %v",
			oe.Operator, oe.Subtask, oe.Parallelism, operator, subtask, parallelism, err)
	}
	if oe.OperatorID == "" {
		t.Errorf("OperatorError has no operator id: %+v", oe)
	}
	if !strings.Contains(err.Error(), operator) {
		t.Errorf("error %q does not name operator %q", err, operator)
	}
	return oe
}

// apiPanicError checks that err was caused by a panic with the given value.
func apiPanicError(t testing.TB, err error, value any) {
	t.Helper()
	var pe *task.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v is not caused by a *task.PanicError", err)
	}
	if pe.Value != value {
		t.Errorf("panic value %v, want %v", pe.Value, value)
	}
	if !strings.Contains(string(pe.Stack), "failure_test.go") {
		t.Errorf("panic stack does not show the panicking function:\n%s", pe.Stack)
	}
	if !strings.Contains(pe.Location, "failure_test.go:") {
		t.Errorf("panic location %q is not the panicking function in failure_test.go", pe.Location)
	}
	if !strings.Contains(err.Error(), "panic") || !strings.Contains(err.Error(), fmt.Sprint(value)) {
		t.Errorf("error %q does not say it was a panic with %v", err, value)
	}
}

// apiExecute runs env's job and returns its error.
func apiExecute(t testing.TB, env *sdk.Env, name string) error {
	t.Helper()
	client, err := env.ExecuteAsync(context.Background(), name)
	if err != nil {
		return err
	}
	_, err = apiWait(t, client)
	return err
}

// apiWait waits for the job to end, failing the test with every goroutine's
// stack when it does not: a job that hangs after a failure is a bug.
func apiWait(t testing.TB, client sdk.JobClient) (*sdk.JobResult, error) {
	t.Helper()
	type result struct {
		res *sdk.JobResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := client.Wait()
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, r.err
	case <-time.After(20 * time.Second):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("the job did not end within 20s:\n%s", buf)
		return nil, nil
	}
}

func TestPanicInMap(t *testing.T) {
	for _, chained := range []bool{true, false} {
		t.Run(fmt.Sprintf("chained=%v", chained), func(t *testing.T) {
			before := runtime.NumGoroutine()
			env, _ := apiEnv(t, 4, "execution.batch-size", "32")
			const bad = 4097 // Generate's subtask 1 emits it: 4097 % 4 == 1
			var src sdk.Stream[int64]
			if chained {
				src = sdk.Generate(env, 100_000, func(i int64) int64 { return i })
			} else {
				src = sdk.Generate(env, 100_000, func(i int64) int64 { return i }).SetParallelism(1).Rebalance()
			}
			m := sdk.Map(src, func(v int64) int64 {
				if v == bad {
					panic("boom")
				}
				return v
			}).Name("Map: boom")
			sdk.Collect(sdk.Map(m, func(v int64) int64 { return v }))
			err := apiExecute(t, env, "boom")
			want := bad % 4
			if !chained {
				want = -1 // whichever subtask the rebalance chose
			}
			oe := apiOperatorError(t, err, "Map: boom", want, 4)
			if oe.Subtask < 0 || oe.Subtask >= 4 {
				t.Errorf("OperatorError.Subtask = %d, want 0…3", oe.Subtask)
			}
			apiPanicError(t, err, "boom")
			apiNoGoroutineLeft(t, before)
		})
	}
}

func TestErrorFromProcess(t *testing.T) {
	before := runtime.NumGoroutine()
	errBad := errors.New("bad record")
	env, _ := apiEnv(t, 1, "execution.batch-size", "8")
	var failedAt atomic.Int64
	failedAt.Store(-1)
	checked := sdk.Process(sdk.FromSlice(env, apiInts(0, 5000)).Rebalance(),
		func(pc *sdk.ProcessContext, v int, out *sdk.Collector[int]) error {
			if v == 777 {
				failedAt.Store(int64(pc.Subtask))
				return fmt.Errorf("record %d: %w", v, errBad)
			}
			out.Collect(v)
			return nil
		}).Name("Process: validate").SetParallelism(4)
	sdk.Collect(checked)
	err := apiExecute(t, env, "validate")
	apiOperatorError(t, err, "Process: validate", int(failedAt.Load()), 4)
	if !errors.Is(err, errBad) {
		t.Errorf("error %v does not wrap the function's error", err)
	}
	if !strings.Contains(err.Error(), "record 777: bad record") {
		t.Errorf("error %q does not show the function's message", err)
	}
	var pe *task.PanicError
	if errors.As(err, &pe) {
		t.Errorf("an error return is reported as a panic: %v", err)
	}
	apiNoGoroutineLeft(t, before)
}

func TestPanicInSink(t *testing.T) {
	before := runtime.NumGoroutine()
	env, _ := apiEnv(t, 3, "execution.batch-size", "16")
	src := sdk.Generate(env, 10_000, func(i int64) int64 { return i })
	sdk.SinkFunc(src, func(b []int64) error {
		for _, v := range b {
			if v == 500 { // subtask 500 % 3 == 2
				panic(fmt.Errorf("sink exploded at %d", v))
			}
		}
		return nil
	}).Name("Sink: explode")
	err := apiExecute(t, env, "sink")
	apiOperatorError(t, err, "Sink: explode", 2, 3)
	var pe *task.PanicError
	if !errors.As(err, &pe) || fmt.Sprint(pe.Value) != "sink exploded at 500" {
		t.Fatalf("error %v is not the sink's panic", err)
	}
	apiNoGoroutineLeft(t, before)
}

func TestPanicInStringerOfPrint(t *testing.T) {
	before := runtime.NumGoroutine()
	env, _ := apiEnv(t, 2)
	sdk.Print(sdk.Map(sdk.Generate(env, 100, func(i int64) int64 { return i }), func(v int64) apiBadStringer { return apiBadStringer(v) }))
	err := apiExecute(t, env, "print")
	apiOperatorError(t, err, "Sink: print", 1, 2)
	apiPanicError(t, err, "bad stringer 51")
	apiNoGoroutineLeft(t, before)
}

type apiBadStringer int64

func (s apiBadStringer) String() string {
	if s == 51 {
		panic(fmt.Sprintf("bad stringer %d", int64(s)))
	}
	return fmt.Sprint(int64(s))
}

func TestPanicInSource(t *testing.T) {
	before := runtime.NumGoroutine()
	env, _ := apiEnv(t, 2, "execution.batch-size", "10")
	src := sdk.Generate(env, 100_000, func(i int64) int64 {
		if i == 1234 { // subtask 0
			panic("source broke")
		}
		return i
	})
	sdk.Collect(sdk.Map(src.Rebalance(), func(v int64) int64 { return v }).SetParallelism(3))
	err := apiExecute(t, env, "source")
	apiOperatorError(t, err, "Source: generator", 0, 2)
	apiPanicError(t, err, "source broke")
	apiNoGoroutineLeft(t, before)
}

func TestPanicInKeySelector(t *testing.T) {
	for _, source := range []string{"slice", "text"} {
		t.Run(source, func(t *testing.T) {
			before := runtime.NumGoroutine()
			env, _ := apiEnv(t, 2)
			var lines sdk.Stream[string]
			if source == "slice" {
				var data []string
				for i := range 1000 {
					data = append(data, fmt.Sprint(i))
				}
				lines = sdk.FromSlice(env, data)
			} else {
				dir := t.TempDir()
				var b strings.Builder
				for i := range 1000 {
					fmt.Fprintln(&b, i)
				}
				apiWriteFiles(t, dir, map[string]string{"in.txt": b.String()})
				lines = sdk.ReadTextFile(env, dir).SetParallelism(1)
			}
			keyed := sdk.KeyBy(lines, func(s string) string {
				if s == "600" {
					panic("no key for 600")
				}
				return s
			})
			sdk.Collect(sdk.Sum(keyed, func(string) int { return 1 }))
			err := apiExecute(t, env, "key")
			// The key is computed where the record is routed: in the upstream task.
			apiOperatorError(t, err, "Source: "+source, 0, 1)
			apiPanicError(t, err, "no key for 600")
			apiNoGoroutineLeft(t, before)
		})
	}
}

// apiExchangeInto returns the occupancy of the input gate of the task named name.
func apiExchangeInto(p sdk.Progress, name string) (sdk.ExchangeStats, bool) {
	for _, ex := range p.Exchanges {
		if ex.Task == name {
			return ex, true
		}
	}
	return sdk.ExchangeStats{}, false
}

// TestPanicUnderBackPressure: a fast unbounded source feeds a Map in its own task
// that feeds a slow sink, so both the source and the Map block on their outputs.
// Once the test has seen them blocked, the Map panics: the job must end with the
// panic and every goroutine must return, blocked ones included.
func TestPanicUnderBackPressure(t *testing.T) {
	before := runtime.NumGoroutine()
	env, _ := apiEnv(t, 1, "execution.batch-size", "16", "taskmanager.network.memory.buffers-per-channel", "1")
	var armed atomic.Bool
	var afterArmed atomic.Int64
	const n = 100 // records the Map passes after it is armed
	src := sdk.Generate(env, -1, func(i int64) int64 { return i })
	m := sdk.Map(src, func(v int64) int64 {
		if armed.Load() && afterArmed.Add(1) == n {
			panic("boom under back-pressure")
		}
		return v
	}).Name("Map: boom").DisableChaining()
	sdk.SinkFunc(m, func([]int64) error {
		time.Sleep(time.Millisecond) // a slow sink
		return nil
	}).Name("Sink: slow")
	client, err := env.ExecuteAsync(context.Background(), "backpressure")
	if err != nil {
		t.Fatal(err)
	}
	apiWaitFor(t, "the source and the Map are blocked by back-pressure", func() bool {
		p := client.Progress()
		intoMap, ok1 := apiExchangeInto(p, "Map: boom")
		intoSink, ok2 := apiExchangeInto(p, "Sink: slow")
		return ok1 && ok2 && intoMap.BlockedProducers == 1 && intoSink.BlockedProducers == 1
	})
	armed.Store(true)
	_, err = apiWait(t, client)
	apiOperatorError(t, err, "Map: boom", 0, 1)
	apiPanicError(t, err, "boom under back-pressure")
	apiNoGoroutineLeft(t, before)
}

// TestSinkPanicsWhileProducersAreBlocked: the sink fails while every task
// upstream of it waits for buffer space.
func TestSinkPanicsWhileProducersAreBlocked(t *testing.T) {
	before := runtime.NumGoroutine()
	env, _ := apiEnv(t, 2, "execution.batch-size", "16", "taskmanager.network.memory.buffers-per-channel", "1")
	fail := make(chan struct{})
	src := sdk.Generate(env, -1, func(i int64) int64 { return i }).SetParallelism(3)
	m := sdk.Map(src.Rebalance(), func(v int64) int64 { return v }).Name("Map: pass").DisableChaining()
	sdk.SinkFunc(m.Global(), func([]int64) error {
		<-fail
		panic("sink gave up")
	}).Name("Sink: stuck").SetParallelism(1)
	client, err := env.ExecuteAsync(context.Background(), "blocked")
	if err != nil {
		t.Fatal(err)
	}
	apiWaitFor(t, "every producer is blocked", func() bool {
		p := client.Progress()
		intoMap, ok1 := apiExchangeInto(p, "Map: pass")
		intoSink, ok2 := apiExchangeInto(p, "Sink: stuck")
		var blockedIntoMap int // each source subtask waits on one channel at a time
		for _, ex := range p.Exchanges {
			if ex.Task == "Map: pass" {
				blockedIntoMap += ex.BlockedProducers
			}
		}
		return ok1 && ok2 && intoMap.Channels == 3 && blockedIntoMap == 3 && intoSink.BlockedProducers == 2
	})
	close(fail)
	_, err = apiWait(t, client)
	apiOperatorError(t, err, "Sink: stuck", 0, 1)
	apiPanicError(t, err, "sink gave up")
	apiNoGoroutineLeft(t, before)
}

func TestFailureLeavesNoInProgressFile(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := filepath.Join(t.TempDir(), "out")
	env, _ := apiEnv(t, 2, "execution.batch-size", "8")
	lines := sdk.Map(sdk.Generate(env, 10_000, func(i int64) int64 { return i }), func(v int64) string {
		if v == 5000 { // subtask 0
			panic("half way")
		}
		return fmt.Sprint(v)
	})
	sdk.WriteText(lines, dir)
	err := apiExecute(t, env, "write")
	apiOperatorError(t, err, "Map", 0, 2)
	entries, rerr := os.ReadDir(dir)
	if rerr != nil {
		t.Fatal(rerr)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.Name() == "part-0-0" {
			t.Errorf("%s left in the output directory of a failed job", e.Name())
		}
	}
	apiNoGoroutineLeft(t, before)
}

// --- Cancellation ---

func TestCancelUnboundedJob(t *testing.T) {
	for _, tc := range []struct {
		name string
		// build adds a job reading an unbounded generator; it returns a counter of
		// the records that reached the sink.
		build func(env *sdk.Env) *atomic.Int64
		// how cancels the job: by its context or by the client.
		byClient bool
	}{
		{name: "chained/context", build: apiUnboundedChained},
		{name: "exchange/context", build: apiUnboundedExchange},
		{name: "exchange/client", build: apiUnboundedExchange, byClient: true},
		{name: "slow sink/context", build: apiUnboundedSlowSink},
		{name: "rated/context", build: apiUnboundedRated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			env, _ := apiEnv(t, 2, "execution.batch-size", "16")
			seen := tc.build(env)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			client, err := env.ExecuteAsync(ctx, "unbounded")
			if err != nil {
				t.Fatal(err)
			}
			apiWaitFor(t, "records reach the sink", func() bool { return seen.Load() > 100 })
			if tc.byClient {
				client.Cancel()
			} else {
				cancel()
			}
			res, err := apiWait(t, client)
			if !errors.Is(err, jobmaster.ErrJobCancelled) {
				t.Fatalf("Wait = %v, want an error wrapping jobmaster.ErrJobCancelled", err)
			}
			if !tc.byClient && !errors.Is(err, context.Canceled) {
				t.Errorf("Wait = %v, want it to wrap the context's cause", err)
			}
			var oe *task.OperatorError
			if errors.As(err, &oe) {
				t.Errorf("a cancelled job reports an operator failure: %v", err)
			}
			if res == nil {
				t.Fatal("Wait returned no result")
			}
			if op, ok := res.Operator("Source: generator"); !ok || op.RecordsOut < 100 {
				t.Errorf("the source reports %+v, want at least 100 records out", op)
			}
			apiNoGoroutineLeft(t, before)
		})
	}
}

func apiCountingSink(s sdk.Stream[int64]) *atomic.Int64 {
	var n atomic.Int64
	sdk.SinkFunc(s, func(b []int64) error { n.Add(int64(len(b))); return nil })
	return &n
}

func apiUnboundedChained(env *sdk.Env) *atomic.Int64 {
	return apiCountingSink(sdk.Map(sdk.Generate(env, -1, func(i int64) int64 { return i }), func(v int64) int64 { return v }))
}

func apiUnboundedExchange(env *sdk.Env) *atomic.Int64 {
	src := sdk.Generate(env, -1, func(i int64) int64 { return i })
	return apiCountingSink(sdk.Map(src.Rebalance(), func(v int64) int64 { return v }).SetParallelism(3))
}

func apiUnboundedSlowSink(env *sdk.Env) *atomic.Int64 {
	var n atomic.Int64
	src := sdk.Generate(env, -1, func(i int64) int64 { return i })
	sdk.SinkFunc(src.Rebalance(), func(b []int64) error {
		n.Add(int64(len(b)))
		time.Sleep(100 * time.Microsecond) // slow: the source blocks on back-pressure
		return nil
	}).SetParallelism(1)
	return &n
}

func apiUnboundedRated(env *sdk.Env) *atomic.Int64 {
	return apiCountingSink(sdk.GenerateWithRate(env, -1, 5000, func(i int64) int64 { return i }).Rebalance())
}

func TestCancelBeforeStart(t *testing.T) {
	before := runtime.NumGoroutine()
	env, _ := apiEnv(t, 2)
	apiCountingSink(sdk.Generate(env, -1, func(i int64) int64 { return i }).Rebalance())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	client, err := env.ExecuteAsync(ctx, "cancelled")
	if err == nil {
		_, err = apiWait(t, client)
	}
	if !errors.Is(err, jobmaster.ErrJobCancelled) && !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute with a cancelled context = %v, want a cancellation", err)
	}
	apiNoGoroutineLeft(t, before)
}
