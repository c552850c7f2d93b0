// Command spatejobs holds Spate's side of the benchmark workloads that no
// example covers: W1, a stateless chain, W3, examples/windowcount read by one
// subtask as Flink reads it, and W5, a keyed count with exactly-once
// checkpoints. Their Flink twins are in ../flink; both must print the same
// lines for the same flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
)

const usage = `usage: spatejobs chain --events N [--parallelism P]
       spatejobs windowcount --input PATH --window tumbling:SIZE|sliding:SIZE:SLIDE|session:GAP --out-of-orderness MS --output DIR [--parallelism P]
       spatejobs keyedcount --events N --keys K --checkpoint-interval MS --checkpoint-dir DIR [--parallelism P]`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// golden is the multiplier of W1's first map (2^64 / φ), as in Flink's twin.
const golden = -7046029254386353131 // 0x9E3779B97F4A7C15 as int64

// BuildChain adds W1 to env: generator → map → filter → map → a sink that only
// counts and sums, so the chain's cost is the engine's. count and sum are
// added per batch.
func BuildChain(env *sdk.Env, events int64, count, sum *atomic.Int64) {
	src := sdk.Generate(env, events, func(i int64) int64 { return i }).Name("Source: generator")
	scrambled := sdk.Map(src, func(i int64) int64 { return i * golden }).Name("Map: scramble")
	kept := scrambled.Filter(func(v int64) bool { return uint64(v)>>61 != 0 }).Name("Filter: 7 in 8")
	folded := sdk.Map(kept, func(v int64) int64 { return v ^ int64(uint64(v)>>29) }).Name("Map: fold")
	sdk.SinkFunc(folded, func(batch []int64) error {
		var s int64
		for _, v := range batch {
			s += v
		}
		count.Add(int64(len(batch)))
		sum.Add(s)
		return nil
	}).Name("Sink: count,sum")
}

// keyCount counts a key's records and, once the input ended (the final
// watermark fires its timer), emits "key,count".
type keyCount struct {
	n sdk.ValueState[int64]
}

func (k *keyCount) Open(ctx *sdk.KeyedContext[int64]) (err error) {
	k.n, err = sdk.GetValueState(ctx, sdk.ValueStateDescriptor[int64]{Name: "count"})
	return err
}

func (k *keyCount) ProcessElement(ctx *sdk.KeyedContext[int64], _ int64, _ *sdk.Collector[string]) error {
	n, _ := k.n.Value()
	if n == 0 {
		ctx.RegisterEventTimeTimer(math.MaxInt64 - 1)
	}
	k.n.Update(n + 1)
	return nil
}

func (k *keyCount) OnTimer(ctx *sdk.KeyedContext[int64], _ int64, out *sdk.Collector[string]) error {
	n, _ := k.n.Value()
	out.Collect(strconv.FormatInt(ctx.CurrentKey(), 10) + "," + strconv.FormatInt(n, 10))
	return nil
}

// KeyOf is the key of record i of W5: spread over keys by a hash, so that
// consecutive records touch unrelated state.
func KeyOf(i, keys int64) int64 { return int64(state.Mix64(uint64(i)) % uint64(keys)) }

// BuildKeyedCount adds W5 to env: generator → keyBy → count per key in keyed
// state → one line per key at the end.
func BuildKeyedCount(env *sdk.Env, events, keys int64) {
	src := sdk.Generate(env, events, func(i int64) int64 { return KeyOf(i, keys) }).Name("Source: generator").UID("source")
	counts := sdk.KeyedProcess(sdk.KeyBy(src, func(k int64) int64 { return k }),
		func() sdk.KeyedProcessFunction[int64, int64, string] { return &keyCount{} }).Name("KeyedProcess: count").UID("count")
	sdk.Print(counts).Name("Sink: print").UID("sink")
}

// Event is one "timestamp_ms,key,value" line of W3's input.
type Event struct {
	TS    int64
	Key   string
	Value int64
}

// parseEvent reads what examples/windowcount's ParseLine reads; a bad line is
// an error here (the benchmark's input has none).
func parseEvent(line string) (Event, error) {
	f := strings.Split(strings.TrimSpace(line), ",")
	if len(f) != 3 {
		return Event{}, fmt.Errorf("line %q: want timestamp_ms,key,value", line)
	}
	ts, err1 := strconv.ParseInt(strings.TrimSpace(f[0]), 10, 64)
	v, err2 := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
	if err1 != nil || err2 != nil || strings.TrimSpace(f[1]) == "" {
		return Event{}, fmt.Errorf("line %q: want timestamp_ms,key,value with integer timestamp and value", line)
	}
	return Event{TS: ts, Key: strings.TrimSpace(f[1]), Value: v}, nil
}

// window parses examples/windowcount's --window.
func window(spec string) (sdk.WindowAssigner, error) {
	parts := strings.Split(spec, ":")
	var ms []time.Duration
	for _, p := range parts[1:] {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return sdk.WindowAssigner{}, fmt.Errorf("--window %q: %q is not a positive number of milliseconds", spec, p)
		}
		ms = append(ms, time.Duration(n)*time.Millisecond)
	}
	switch {
	case parts[0] == "tumbling" && len(ms) == 1:
		return sdk.TumblingEventTimeWindows(ms[0]), nil
	case parts[0] == "sliding" && len(ms) == 2:
		return sdk.SlidingEventTimeWindows(ms[0], ms[1]), nil
	case parts[0] == "session" && len(ms) == 1:
		return sdk.EventTimeSessionWindows(ms[0]), nil
	}
	return sdk.WindowAssigner{}, fmt.Errorf("--window %q: want tumbling:SIZE, sliding:SIZE:SLIDE or session:GAP", spec)
}

type countSum struct{ count, sum int64 }

type aggregate struct{}

func (aggregate) CreateAccumulator() countSum      { return countSum{} }
func (aggregate) Add(e Event, a countSum) countSum { return countSum{a.count + 1, a.sum + e.Value} }
func (aggregate) GetResult(a countSum) countSum    { return a }
func (aggregate) Merge(a, b countSum) countSum     { return countSum{a.count + b.count, a.sum + b.sum} }

// BuildWindowCount adds W3 to env: examples/windowcount's dataflow, but with
// the file read, parsed and watermarked by one subtask, as Flink's one reader
// of a text file does, so that both systems' windows see the same watermarks.
// (At parallelism p the example splits the file by bytes, and the subtask
// that starts in its middle holds windows open until the first catches up.)
func BuildWindowCount(env *sdk.Env, input, output string, assigner sdk.WindowAssigner, outOfOrderness time.Duration) {
	lines := sdk.ReadTextFile(env, input).SetParallelism(1)
	events := sdk.FlatMap(lines, func(line string, out *sdk.Collector[Event]) {
		if strings.TrimSpace(line) == "" {
			return
		}
		e, err := parseEvent(line)
		if err != nil {
			panic(err) // fails the job, naming the line
		}
		out.Collect(e)
	}).Name("FlatMap: parse").SetParallelism(1).AssignTimestampsAndWatermarks(
		sdk.ForBoundedOutOfOrderness[Event](outOfOrderness).WithTimestampAssigner(func(e Event) int64 { return e.TS }))
	windowed := sdk.KeyBy(events, func(e Event) string { return e.Key }).Window(assigner)
	results := sdk.AggregateProcess(windowed, aggregate{}, func(ctx *sdk.WindowContext[string], r []countSum, out *sdk.Collector[string]) error {
		out.Collect(fmt.Sprintf("%s,%d,%d,%d,%d", ctx.Key, ctx.Window.Start, ctx.Window.End, r[0].count, r[0].sum))
		return nil
	}).Name("Window: count,sum")
	sdk.WriteText(results, output).Name("Sink: text")
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fl := flag.NewFlagSet("spatejobs "+args[0], flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	events := fl.Int64("events", -1, "")
	keys := fl.Int64("keys", 0, "")
	interval := fl.Int64("checkpoint-interval", 0, "")
	dir := fl.String("checkpoint-dir", "", "")
	input := fl.String("input", "", "")
	spec := fl.String("window", "", "")
	ooo := fl.Int64("out-of-orderness", -1, "")
	output := fl.String("output", "", "")
	parallelism := fl.Int("parallelism", 0, "")
	if err := fl.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
			return 0
		}
		fmt.Fprintf(stderr, "spatejobs: %v\n%s\n", err, usage)
		return 2
	}
	bad := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "spatejobs %s: "+format+"\n%s\n", append(append([]any{args[0]}, a...), usage)...)
		return 2
	}
	switch {
	case *events < 0 && args[0] != "windowcount":
		return bad("--events is required (0 or more)")
	case *parallelism < 0:
		return bad("--parallelism must be at least 1, got %d", *parallelism)
	case fl.NArg() > 0:
		return bad("unexpected argument %q", fl.Arg(0))
	}
	env := sdk.NewEnv()
	if *parallelism > 0 {
		env.SetParallelism(*parallelism)
	}
	var count, sum atomic.Int64
	switch args[0] {
	case "chain":
		BuildChain(env, *events, &count, &sum)
	case "windowcount":
		assigner, err := window(*spec)
		switch {
		case *input == "" || *output == "" || *ooo < 0:
			return bad("--input, --window, --out-of-orderness (0 or more) and --output are required")
		case err != nil:
			return bad("%v", err)
		}
		BuildWindowCount(env, *input, *output, assigner, time.Duration(*ooo)*time.Millisecond)
	case "keyedcount":
		switch {
		case *keys < 1:
			return bad("--keys must be at least 1, got %d", *keys)
		case *interval < 10:
			return bad("--checkpoint-interval must be at least 10 (milliseconds), got %d", *interval)
		case *dir == "":
			return bad("--checkpoint-dir is required")
		}
		env.Configure("execution.checkpointing.interval", fmt.Sprintf("%d ms", *interval))
		env.Configure("execution.checkpointing.mode", "exactly_once")
		env.Configure("state.checkpoints.dir", *dir)
		BuildKeyedCount(env, *events, *keys)
	default:
		return bad("unknown workload; want chain, windowcount or keyedcount")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := env.Execute(ctx, "bench-"+args[0]); err != nil {
		fmt.Fprintf(stderr, "spatejobs %s: %v\n", args[0], err)
		return 1
	}
	if args[0] == "chain" {
		fmt.Fprintf(stdout, "%d,%d\n", count.Load(), sum.Load())
	}
	return 0
}
