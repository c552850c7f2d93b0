package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spate-io/spate/sdk"
)

const usage = "usage: windowcount --input PATH --window tumbling:SIZE|sliding:SIZE:SLIDE|session:GAP --out-of-orderness MS [--parallelism N] [--output DIR]"

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// Event is one parsed input line.
type Event struct {
	TS    int64
	Key   string
	Value int64
}

// ParseWindow turns a SPEC into an assigner.
func ParseWindow(spec string) (sdk.WindowAssigner, error) {
	parts := strings.Split(spec, ":")
	nums := make([]int64, 0, 2)
	for _, p := range parts[1:] {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n <= 0 {
			return sdk.WindowAssigner{}, fmt.Errorf("--window %q: %q is not a positive number of milliseconds", spec, p)
		}
		nums = append(nums, n)
	}
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	switch {
	case parts[0] == "tumbling" && len(nums) == 1:
		return sdk.TumblingEventTimeWindows(ms(nums[0])), nil
	case parts[0] == "sliding" && len(nums) == 2:
		return sdk.SlidingEventTimeWindows(ms(nums[0]), ms(nums[1])), nil
	case parts[0] == "session" && len(nums) == 1:
		return sdk.EventTimeSessionWindows(ms(nums[0])), nil
	}
	return sdk.WindowAssigner{}, fmt.Errorf("--window %q: want tumbling:SIZE, sliding:SIZE:SLIDE or session:GAP", spec)
}

// ParseLine parses "timestamp_ms,key,value".
func ParseLine(line string) (Event, error) {
	f := strings.Split(strings.TrimSpace(line), ",")
	if len(f) != 3 {
		return Event{}, fmt.Errorf("want 3 comma-separated fields, got %d", len(f))
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(f[0]), 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("timestamp %q is not an integer", f[0])
	}
	v, err := strconv.ParseInt(strings.TrimSpace(f[2]), 10, 64)
	if err != nil {
		return Event{}, fmt.Errorf("value %q is not an integer", f[2])
	}
	key := strings.TrimSpace(f[1])
	if key == "" {
		return Event{}, errors.New("empty key")
	}
	return Event{TS: ts, Key: key, Value: v}, nil
}

// Malformed counts the lines that could not be parsed, keeping a few examples.
type Malformed struct {
	mu       sync.Mutex
	count    int64
	examples []string
}

func (m *Malformed) add(line string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count++
	if len(m.examples) < 3 {
		m.examples = append(m.examples, fmt.Sprintf("%q: %v", line, err))
	}
}

// Report writes one line if any line was malformed.
func (m *Malformed) Report(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.count > 0 {
		fmt.Fprintf(w, "windowcount: skipped %d malformed input lines, e.g. %s\n", m.count, strings.Join(m.examples, "; "))
	}
}

type acc struct{ count, sum int64 }

type countSum struct{}

func (countSum) CreateAccumulator() acc { return acc{} }
func (countSum) Add(e Event, a acc) acc { return acc{a.count + 1, a.sum + e.Value} }
func (countSum) GetResult(a acc) acc    { return a }
func (countSum) Merge(a, b acc) acc     { return acc{a.count + b.count, a.sum + b.sum} }

// Build adds the windowcount dataflow to env and returns the malformed-line counter.
func Build(env *sdk.Env, input, output string, assigner sdk.WindowAssigner, outOfOrderness time.Duration) *Malformed {
	bad := &Malformed{}
	lines := sdk.ReadTextFile(env, input)
	events := sdk.FlatMap(lines, func(line string, out *sdk.Collector[Event]) {
		if strings.TrimSpace(line) == "" {
			return
		}
		e, err := ParseLine(line)
		if err != nil {
			bad.add(line, err)
			return
		}
		out.Collect(e)
	}).Name("FlatMap: parse").AssignTimestampsAndWatermarks(
		sdk.ForBoundedOutOfOrderness[Event](outOfOrderness).WithTimestampAssigner(func(e Event) int64 { return e.TS }))
	windowed := sdk.KeyBy(events, func(e Event) string { return e.Key }).Window(assigner)
	results := sdk.AggregateProcess(windowed, countSum{}, func(ctx *sdk.WindowContext[string], r []acc, out *sdk.Collector[string]) error {
		out.Collect(fmt.Sprintf("%s,%d,%d,%d,%d", ctx.Key, ctx.Window.Start, ctx.Window.End, r[0].count, r[0].sum))
		return nil
	}).Name("Window: count,sum")
	if output != "" {
		sdk.WriteText(results, output).Name("Sink: text")
	} else {
		sdk.Print(results).Name("Sink: print")
	}
	return bad
}

func run(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("windowcount", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	input := fl.String("input", "", "")
	spec := fl.String("window", "", "")
	ooo := fl.Int64("out-of-orderness", -1, "")
	output := fl.String("output", "", "")
	parallelism := fl.Int("parallelism", 0, "")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
			return 0
		}
		fmt.Fprintf(stderr, "windowcount: %v; %s\n", err, usage)
		return 2
	}
	switch {
	case *input == "" || *spec == "" || *ooo < 0:
		fmt.Fprintf(stderr, "windowcount: --input, --window and --out-of-orderness (≥ 0) are required; %s\n", usage)
		return 2
	case fl.NArg() > 0:
		fmt.Fprintf(stderr, "windowcount: unexpected argument %q; %s\n", fl.Arg(0), usage)
		return 2
	case *parallelism < 0:
		fmt.Fprintf(stderr, "windowcount: --parallelism must be at least 1, got %d\n", *parallelism)
		return 2
	}
	assigner, err := ParseWindow(*spec)
	if err != nil {
		fmt.Fprintf(stderr, "windowcount: %v\n", err)
		return 2
	}
	env := sdk.NewEnv()
	if *parallelism > 0 {
		env.SetParallelism(*parallelism)
	}
	bad := Build(env, *input, *output, assigner, time.Duration(*ooo)*time.Millisecond)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err = env.Execute(ctx, "windowcount")
	bad.Report(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "windowcount: %v\n", err)
		return 1
	}
	return 0
}
