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
	"syscall"
	"time"

	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/state"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// Bid is one generated bid.
type Bid struct {
	Auction int64
	Bidder  int64
	Price   int64
	TS      int64 // event time, ms
}

// Params shape the generated stream and the query.
type Params struct {
	Events        int64
	Auctions      int64
	BidsPerSecond int64 // event-time density
	Size, Slide   int64 // window, ms
	Rate          float64
}

// GenerateBid is bid i of the stream: a pure function of i, so every run and
// every parallelism sees the same bids.
func GenerateBid(p Params, i int64) Bid {
	h := state.Mix64(uint64(i) + 0x9e3779b97f4a7c15)
	// Skew: a third of the bids go to the first 1% of auctions.
	auction := int64(h % uint64(p.Auctions))
	if h>>60 < 5 {
		auction = int64((h >> 8) % uint64(max(1, p.Auctions/100)))
	}
	return Bid{Auction: auction, Bidder: int64(h>>20) % 10000, Price: int64(h>>40)%1000 + 1, TS: i * 1000 / p.BidsPerSecond}
}

// AuctionCount is the number of bids of an auction in the window ending at End.
type AuctionCount struct {
	Auction, Count, End int64
}

type counter struct{}

func (counter) CreateAccumulator() int64   { return 0 }
func (counter) Add(_ Bid, acc int64) int64 { return acc + 1 }
func (counter) GetResult(acc int64) int64  { return acc }
func (counter) Merge(a, b int64) int64     { return a + b }

// hottest keeps, per window end, the auction with the most bids and emits it
// when the watermark passes the window.
type hottest struct {
	best sdk.ValueState[AuctionCount]
}

func (h *hottest) Open(ctx *sdk.KeyedContext[int64]) (err error) {
	h.best, err = sdk.GetValueState(ctx, sdk.ValueStateDescriptor[AuctionCount]{Name: "best"})
	return err
}

func (h *hottest) ProcessElement(ctx *sdk.KeyedContext[int64], c AuctionCount, _ *sdk.Collector[string]) error {
	best, ok := h.best.Value()
	if !ok || c.Count > best.Count || (c.Count == best.Count && c.Auction < best.Auction) {
		h.best.Update(c)
	}
	ctx.RegisterEventTimeTimer(c.End - 1)
	return nil
}

func (h *hottest) OnTimer(_ *sdk.KeyedContext[int64], _ int64, out *sdk.Collector[string]) error {
	if best, ok := h.best.Value(); ok {
		out.Collect(fmt.Sprintf("%d,%d,%d", best.End, best.Auction, best.Count))
		h.best.Clear()
	}
	return nil
}

// Build adds the hot-items query to env and returns its result stream.
func Build(env *sdk.Env, p Params) sdk.Stream[string] {
	bids := sdk.GenerateWithRate(env, p.Events, p.Rate, func(i int64) Bid { return GenerateBid(p, i) }).
		Name("Source: bids").
		AssignTimestampsAndWatermarks(sdk.ForMonotonousTimestamps[Bid]().WithTimestampAssigner(func(b Bid) int64 { return b.TS }))
	windowed := sdk.KeyBy(bids, func(b Bid) int64 { return b.Auction }).
		Window(sdk.SlidingEventTimeWindows(time.Duration(p.Size)*time.Millisecond, time.Duration(p.Slide)*time.Millisecond))
	counts := sdk.AggregateProcess(windowed, counter{}, func(ctx *sdk.WindowContext[int64], r []int64, out *sdk.Collector[AuctionCount]) error {
		out.Collect(AuctionCount{Auction: ctx.Key, Count: r[0], End: ctx.Window.End})
		return nil
	}).Name("Window: bids per auction")
	return sdk.KeyedProcess(sdk.KeyBy(counts, func(c AuctionCount) int64 { return c.End }),
		func() sdk.KeyedProcessFunction[int64, AuctionCount, string] { return &hottest{} }).Name("KeyedProcess: hottest")
}

func run(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("nexmark", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	p := Params{}
	fl.Int64Var(&p.Events, "events", 1_000_000, "")
	fl.Int64Var(&p.Auctions, "auctions", 1000, "")
	fl.Int64Var(&p.BidsPerSecond, "bids-per-second", 10_000, "")
	fl.Int64Var(&p.Size, "window-size", 10_000, "")
	fl.Int64Var(&p.Slide, "window-slide", 2_000, "")
	fl.Float64Var(&p.Rate, "rate", 0, "")
	parallelism := fl.Int("parallelism", 0, "")
	const usage = "usage: nexmark [--events N] [--auctions A] [--window-size MS] [--window-slide MS] [--bids-per-second R] [--rate R] [--parallelism P]"
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, usage)
			return 0
		}
		fmt.Fprintf(stderr, "nexmark: %v; %s\n", err, usage)
		return 2
	}
	if p.Events < 0 || p.Auctions < 1 || p.BidsPerSecond < 1 || p.Size < 1 || p.Slide < 1 || p.Rate < 0 || *parallelism < 0 || p.Events > math.MaxInt64/1000 {
		fmt.Fprintf(stderr, "nexmark: --events ≥ 0, --auctions, --bids-per-second, --window-size, --window-slide ≥ 1 and --rate ≥ 0 are required; %s\n", usage)
		return 2
	}
	env := sdk.NewEnv()
	if *parallelism > 0 {
		env.SetParallelism(*parallelism)
	}
	sdk.Print(Build(env, p)).Name("Sink: print")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := env.Execute(ctx, "nexmark-hot-items"); err != nil {
		fmt.Fprintf(stderr, "nexmark: %v\n", err)
		return 1
	}
	return 0
}
