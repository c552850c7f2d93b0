package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/spate-io/spate/sdk"
)

const usage = "usage: exactlyonce --keys K --per-key N --failures F --checkpoint-interval MS --output DIR [--parallelism P] [--fail-in process|snapshot|restore] [--seed S]"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Record is one generated element: the seq-th number of key.
type Record struct {
	Key int64
	Seq int64
}

// Failure places.
const (
	InProcess  = "process"
	InSnapshot = "snapshot"
	InRestore  = "restore"
)

// Injector decides when a task panics. It is shared by the checker's subtasks
// and outlives restarts (the job runs in this process): at most one failure
// per execution attempt, and only once a checkpoint of that attempt has
// completed, so every attempt makes progress.
type Injector struct {
	mu       sync.Mutex
	left     int
	where    string
	rng      *rand.Rand
	spread   int64         // records per subtask between checkpoints, roughly
	armed    map[int]int64 // attempt → records still to pass before the failure
	fired    map[int]bool
	injected int
	restore  bool // the next failure is due in the restore (alternating mode)
}

// NewInjector injects failures failures at where.
func NewInjector(failures int, where string, seed uint64, spread int64) *Injector {
	return &Injector{left: failures, where: where, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		spread: max(1, spread), armed: map[int]int64{}, fired: map[int]bool{}}
}

// Completed arms attempt after one of its checkpoints completed.
func (in *Injector) Completed(attempt int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.armed[attempt]; !ok {
		in.armed[attempt] = 1 + in.rng.Int64N(in.spread)
	}
}

// take reports whether a failure is due now at place in attempt, and counts it.
func (in *Injector) take(attempt int, place string, record bool) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.left == 0 || in.fired[attempt] {
		return false
	}
	switch {
	case place == InRestore:
		if !in.restore {
			return false
		}
		in.restore = false
	default:
		if place != in.where && !(in.where == InRestore && place == InProcess) {
			return false
		}
		n, ok := in.armed[attempt]
		if !ok {
			return false
		}
		if record && n > 1 {
			in.armed[attempt] = n - 1
			return false
		}
		in.restore = in.where == InRestore
	}
	in.left--
	in.injected++
	in.fired[attempt] = true
	return true
}

// Injected is the number of failures injected so far.
func (in *Injector) Injected() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.injected
}

// checker verifies each key's sequence with keyed state and formats the
// output line.
type checker struct {
	in      *Injector
	last    sdk.ValueState[int64]
	attempt int
}

func (c *checker) Open(ctx *sdk.KeyedContext[int64]) error {
	c.attempt = ctx.Attempt()
	if ctx.IsRestored() && c.in.take(c.attempt, InRestore, false) {
		panic(fmt.Sprintf("injected failure during the restore of attempt %d", c.attempt))
	}
	var err error
	c.last, err = sdk.GetValueState(ctx, sdk.ValueStateDescriptor[int64]{Name: "last"})
	return err
}

func (c *checker) ProcessElement(ctx *sdk.KeyedContext[int64], r Record, out *sdk.Collector[string]) error {
	last, _ := c.last.Value()
	if r.Seq != last+1 {
		return sdk.SuppressRestarts(fmt.Errorf("key %d: sequence number %d follows %d; exactly-once is broken", r.Key, r.Seq, last))
	}
	c.last.Update(r.Seq)
	out.Collect(strconv.FormatInt(r.Key, 10) + "," + strconv.FormatInt(r.Seq, 10))
	if c.in.take(c.attempt, InProcess, true) {
		panic(fmt.Sprintf("injected failure while processing key %d, sequence number %d", r.Key, r.Seq))
	}
	return nil
}

func (c *checker) OnTimer(*sdk.KeyedContext[int64], int64, *sdk.Collector[string]) error { return nil }

func (c *checker) SnapshotState(id int64) error {
	if c.in.take(c.attempt, InSnapshot, false) {
		panic(fmt.Sprintf("injected failure during the snapshot of checkpoint %d", id))
	}
	return nil
}

func (c *checker) NotifyCheckpointComplete(int64) error {
	c.in.Completed(c.attempt)
	return nil
}

// Config is the parsed command line.
type Config struct {
	Keys, PerKey int64
	Failures     int
	Interval     time.Duration
	Output       string
	Parallelism  int
	FailIn       string
	Seed         uint64
}

// Build adds the job to env and returns its failure injector.
func Build(env *sdk.Env, c Config) *Injector {
	total := c.Keys * c.PerKey
	// Span about eight checkpoint intervals per failure (a snapshot failure needs
	// two checkpoints of an attempt), and at least a second.
	span := max(time.Second, time.Duration(c.Failures+1)*8*c.Interval)
	rate := float64(total) / span.Seconds()
	perSubtask := int64(rate*c.Interval.Seconds()) / int64(max(1, c.Parallelism))
	in := NewInjector(c.Failures, c.FailIn, c.Seed, perSubtask)
	keys := c.Keys
	src := sdk.GenerateWithRate(env, total, rate, func(i int64) Record {
		return Record{Key: i % keys, Seq: i/keys + 1}
	}).Name("Source: sequences").UID("sequences").SetParallelism(1)
	checked := sdk.KeyedProcess(sdk.KeyBy(src, func(r Record) int64 { return r.Key }),
		func() sdk.KeyedProcessFunction[int64, Record, string] { return &checker{in: in} }).Name("Check sequences").UID("check")
	sdk.WriteText(checked, c.Output).Name("Sink: text").UID("sink")
	return in
}

func parse(args []string, stderr io.Writer) (Config, int) {
	fl := flag.NewFlagSet("exactlyonce", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	keys := fl.Int64("keys", 0, "")
	perKey := fl.Int64("per-key", 0, "")
	failures := fl.Int("failures", -1, "")
	interval := fl.Int64("checkpoint-interval", 0, "")
	output := fl.String("output", "", "")
	parallelism := fl.Int("parallelism", 0, "")
	failIn := fl.String("fail-in", InProcess, "")
	seed := fl.Uint64("seed", 1, "")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
			return Config{}, 0
		}
		fmt.Fprintf(stderr, "exactlyonce: %v; %s\n", err, usage)
		return Config{}, 2
	}
	bad := func(format string, a ...any) (Config, int) {
		fmt.Fprintf(stderr, "exactlyonce: "+format+"; %s\n", append(a, usage)...)
		return Config{}, 2
	}
	switch {
	case *keys < 1 || *perKey < 1:
		return bad("--keys and --per-key must be at least 1, got %d and %d", *keys, *perKey)
	case *failures < 0:
		return bad("--failures is required (0 or more)")
	case *interval < 10:
		return bad("--checkpoint-interval must be at least 10 (milliseconds), got %d", *interval)
	case *output == "":
		return bad("--output is required")
	case *parallelism < 0:
		return bad("--parallelism must be at least 1, got %d", *parallelism)
	case *failIn != InProcess && *failIn != InSnapshot && *failIn != InRestore:
		return bad("--fail-in must be process, snapshot or restore, got %q", *failIn)
	case fl.NArg() > 0:
		return bad("unexpected argument %q", fl.Arg(0))
	}
	return Config{Keys: *keys, PerKey: *perKey, Failures: *failures, Interval: time.Duration(*interval) * time.Millisecond,
		Output: *output, Parallelism: *parallelism, FailIn: *failIn, Seed: *seed}, -1
}

func run(args []string, stdout, stderr io.Writer) int {
	c, code := parse(args, stderr)
	if code >= 0 {
		return code
	}
	env := sdk.NewEnv()
	if c.Parallelism > 0 {
		env.SetParallelism(c.Parallelism)
	}
	env.Configure("execution.checkpointing.interval", fmt.Sprintf("%d ms", c.Interval.Milliseconds()))
	if c.Failures > 0 && !env.Config().IsSet("restart-strategy.type") {
		env.Configure("restart-strategy.type", "fixed-delay")
		env.Configure("restart-strategy.fixed-delay.attempts", strconv.Itoa(c.Failures))
		env.Configure("restart-strategy.fixed-delay.delay", "10 ms")
	}
	in := Build(env, c)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := env.Execute(ctx, "exactlyonce")
	if err != nil {
		fmt.Fprintf(stderr, "exactlyonce: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "exactlyonce: %d records, %d failures injected, %d recoveries\n", c.Keys*c.PerKey, in.Injected(), res.Restarts)
	if in.Injected() != c.Failures {
		fmt.Fprintf(stderr, "exactlyonce: only %d of %d failures could be injected before the input ended; use more records or a shorter --checkpoint-interval\n", in.Injected(), c.Failures)
		return 1
	}
	return 0
}
