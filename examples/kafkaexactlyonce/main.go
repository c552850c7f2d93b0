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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/sdk/connectors/kafka"
)

const usage = "usage: kafkaexactlyonce --bootstrap HOST:PORT --in TOPIC --out TOPIC [--group G] [--failures F] [--fail-in process|snapshot|commit] [--checkpoint-interval MS] [--parallelism P] [--bounded] [--throttle R]"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Failure places.
const (
	InProcess  = "process"
	InSnapshot = "snapshot"
	// InCommit fails after a checkpoint completed and before the sink, chained
	// behind the checker, commits its transactions: the recovery must commit
	// them from the checkpoint.
	InCommit = "commit"
)

// Injector decides when the checker panics: at most once per execution
// attempt, and only once a checkpoint of that attempt has completed, so every
// attempt makes progress. It outlives restarts: they run in this process.
type Injector struct {
	mu       sync.Mutex
	left     int
	where    string
	armed    map[int]int // attempt → records still to pass before a processing failure
	fired    map[int]bool
	injected int
}

func (in *Injector) completed(attempt int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if _, ok := in.armed[attempt]; !ok {
		in.armed[attempt] = 1 + 37*(in.injected+1)
	}
}

// take reports whether a failure is due now at place in attempt, and counts it.
func (in *Injector) take(attempt int, place string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.left == 0 || in.fired[attempt] || place != in.where {
		return false
	}
	n, ok := in.armed[attempt]
	if !ok {
		return false
	}
	if place == InProcess && n > 1 {
		in.armed[attempt] = n - 1
		return false
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

// counts keeps each key's highest sequence number seen in this process.
type counts struct {
	mu  sync.Mutex
	max map[int64]int64
}

func (c *counts) saw(key, seq int64) {
	c.mu.Lock()
	c.max[key] = max(c.max[key], seq)
	c.mu.Unlock()
}

func (c *counts) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, m := range c.max {
		n += m
	}
	return n
}

// checker verifies with keyed state that each key's numbers arrive as
// previous+1, and passes the line on.
type checker struct {
	in      *Injector
	counts  *counts
	last    sdk.ValueState[int64]
	attempt int
}

func (c *checker) Open(ctx *sdk.KeyedContext[int64]) error {
	c.attempt = ctx.Attempt()
	var err error
	c.last, err = sdk.GetValueState(ctx, sdk.ValueStateDescriptor[int64]{Name: "last"})
	return err
}

func (c *checker) ProcessElement(ctx *sdk.KeyedContext[int64], line string, out *sdk.Collector[string]) error {
	key, seq, err := parseLine(line)
	if err != nil {
		return sdk.SuppressRestarts(err)
	}
	last, _ := c.last.Value()
	if seq != last+1 {
		return sdk.SuppressRestarts(fmt.Errorf("key %d: sequence number %d follows %d; exactly-once is broken", key, seq, last))
	}
	c.last.Update(seq)
	c.counts.saw(key, seq)
	out.Collect(line)

	if c.in.take(c.attempt, InProcess) {
		panic(fmt.Sprintf("injected failure while processing key %d, sequence number %d", key, seq))
	}
	return nil
}

func (c *checker) OnTimer(*sdk.KeyedContext[int64], int64, *sdk.Collector[string]) error { return nil }

func (c *checker) SnapshotState(id int64) error {
	if c.in.take(c.attempt, InSnapshot) {
		panic(fmt.Sprintf("injected failure during the snapshot of checkpoint %d", id))
	}
	return nil
}

func (c *checker) NotifyCheckpointComplete(id int64) error {
	if c.in.take(c.attempt, InCommit) {
		panic(fmt.Sprintf("injected failure after checkpoint %d completed, before its commit", id))
	}
	c.in.completed(c.attempt)
	return nil
}

// parseLine reads "key,seq".
func parseLine(line string) (key, seq int64, err error) {
	k, s, ok := strings.Cut(line, ",")
	if ok {
		if key, err = strconv.ParseInt(k, 10, 64); err == nil {
			seq, err = strconv.ParseInt(s, 10, 64)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("input line %.80q is not \"key,seq\" with two integers", line)
	}
	return key, seq, nil
}

// Config is the parsed command line.
type Config struct {
	Bootstrap, In, Out, Group string
	Failures                  int
	FailIn                    string
	Interval                  time.Duration
	Parallelism               int
	Bounded                   bool
	Throttle                  int
}

// Build adds the job to env.
func Build(env *sdk.Env, c Config, in *Injector, cs *counts) error {
	b := kafka.NewSourceBuilder[string]().SetBootstrapServers(c.Bootstrap).SetTopics(c.In).
		SetDeserializer(kafka.StringValue()).SetGroupID(c.Group)
	if c.Bounded {
		b.SetBounded(kafka.Latest())
	}
	src, err := b.Build()
	if err != nil {
		return err
	}
	snk, err := kafka.NewSinkBuilder[string]().SetBootstrapServers(c.Bootstrap).SetTopic(c.Out).
		SetRecordSerializer(func(line string) (kafka.ProducerRecord, error) {
			k, _, _ := strings.Cut(line, ",")
			return kafka.ProducerRecord{Key: []byte(k), Value: []byte(line), Partition: -1}, nil
		}).SetDeliveryGuarantee(kafka.ExactlyOnce).SetTransactionTimeout(max(time.Minute, 10*c.Interval)).Build()
	if err != nil {
		return err
	}
	lines := kafka.FromSource(env, src, "Source: kafka").UID("source")
	if c.Throttle > 0 {
		// Chained to the source, so the source itself slows down and is
		// still running when checkpoints are taken.
		var n atomic.Int64
		pause := 10 * time.Second / time.Duration(c.Throttle)
		lines = sdk.Map(lines, func(line string) string {
			if n.Add(1)%10 == 0 {
				time.Sleep(pause)
			}
			return line
		}).Name("Throttle").UID("throttle")
	}
	keyed := sdk.KeyBy(lines, func(line string) int64 { k, _, _ := parseLine(line); return k })
	checked := sdk.KeyedProcess(keyed, func() sdk.KeyedProcessFunction[int64, string, string] {
		return &checker{in: in, counts: cs}
	}).Name("Check sequences").UID("check")
	kafka.SinkTo(checked, snk, "Sink: kafka").UID("sink")
	return nil
}

func parse(args []string, stderr io.Writer) (Config, int) {
	fl := flag.NewFlagSet("kafkaexactlyonce", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	var c Config
	fl.StringVar(&c.Bootstrap, "bootstrap", "", "")
	fl.StringVar(&c.In, "in", "", "")
	fl.StringVar(&c.Out, "out", "", "")
	fl.StringVar(&c.Group, "group", "", "")
	fl.IntVar(&c.Failures, "failures", 0, "")
	fl.StringVar(&c.FailIn, "fail-in", InProcess, "")
	interval := fl.Int64("checkpoint-interval", 500, "")
	fl.IntVar(&c.Parallelism, "parallelism", 0, "")
	fl.BoolVar(&c.Bounded, "bounded", false, "")
	fl.IntVar(&c.Throttle, "throttle", 0, "")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
			return Config{}, 0
		}
		fmt.Fprintf(stderr, "kafkaexactlyonce: %v; %s\n", err, usage)
		return Config{}, 2
	}
	bad := func(format string, a ...any) (Config, int) {
		fmt.Fprintf(stderr, "kafkaexactlyonce: "+format+"; %s\n", append(a, usage)...)
		return Config{}, 2
	}
	switch {
	case c.Bootstrap == "" || c.In == "" || c.Out == "":
		return bad("--bootstrap, --in and --out are required")
	case c.Failures < 0:
		return bad("--failures must not be negative, got %d", c.Failures)
	case c.FailIn != InProcess && c.FailIn != InSnapshot && c.FailIn != InCommit:
		return bad("--fail-in must be process, snapshot or commit, got %q", c.FailIn)
	case *interval < 10:
		return bad("--checkpoint-interval must be at least 10 (milliseconds), got %d", *interval)
	case c.Throttle < 0:
		return bad("--throttle must not be negative, got %d", c.Throttle)
	case c.Parallelism < 0:
		return bad("--parallelism must be at least 1, got %d", c.Parallelism)
	case fl.NArg() > 0:
		return bad("unexpected argument %q", fl.Arg(0))
	}
	c.Interval = time.Duration(*interval) * time.Millisecond
	return c, -1
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
	if c.Throttle > 0 && !env.Config().IsSet("execution.batch-size") {
		// A source task takes a checkpoint's barrier between batches: small
		// ones let it through while the throttle sleeps.
		env.Configure("execution.batch-size", "16")
	}
	in := &Injector{left: c.Failures, where: c.FailIn, armed: map[int]int{}, fired: map[int]bool{}}
	cs := &counts{max: map[int64]int64{}}
	if err := Build(env, c, in, cs); err != nil {
		fmt.Fprintf(stderr, "kafkaexactlyonce: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := env.Execute(ctx, "kafkaexactlyonce")
	if err != nil {
		fmt.Fprintf(stderr, "kafkaexactlyonce: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "kafkaexactlyonce: %d records, %d failures injected, %d recoveries\n", cs.total(), in.Injected(), res.Restarts)
	if in.Injected() != c.Failures {
		fmt.Fprintf(stderr, "kafkaexactlyonce: only %d of %d failures could be injected before the input ended; use more records or a shorter --checkpoint-interval\n", in.Injected(), c.Failures)
		return 1
	}
	return 0
}
