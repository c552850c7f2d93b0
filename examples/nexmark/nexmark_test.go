package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/sdk"
)

// reference computes the hot items the obvious way.
func reference(p Params) []string {
	type wk struct{ end, auction int64 }
	counts := map[wk]int64{}
	for i := range p.Events {
		b := GenerateBid(p, i)
		last := b.TS - b.TS%p.Slide
		for start := last; start > b.TS-p.Size; start -= p.Slide {
			counts[wk{start + p.Size, b.Auction}]++
		}
	}
	best := map[int64]AuctionCount{}
	for k, n := range counts {
		c, ok := best[k.end]
		if !ok || n > c.Count || (n == c.Count && k.auction < c.Auction) {
			best[k.end] = AuctionCount{Auction: k.auction, Count: n, End: k.end}
		}
	}
	var lines []string
	for _, c := range best {
		lines = append(lines, fmt.Sprintf("%d,%d,%d", c.End, c.Auction, c.Count))
	}
	slices.Sort(lines)
	return lines
}

func newEnv(t testing.TB, p int) *sdk.Env {
	cfg := conf.New()
	if err := cfg.Set("parallelism.default", strconv.Itoa(p)); err != nil {
		t.Fatal(err)
	}
	return sdk.NewEnv(sdk.WithConfig(cfg), sdk.WithLogger(zerolog.New(io.Discard)))
}

func TestHotItemsMatchReference(t *testing.T) {
	params := Params{Events: 50_000, Auctions: 500, BidsPerSecond: 1000, Size: 5000, Slide: 1000}
	want := reference(params)
	for _, p := range []int{1, 2, 4} {
		env := newEnv(t, p)
		got := sdk.Collect(Build(env, params))
		if _, err := env.Execute(context.Background(), "nexmark"); err != nil {
			t.Fatal(err)
		}
		items := got.Items()
		slices.Sort(items)
		if !slices.Equal(items, want) {
			t.Fatalf("p=%d: %d windows, want %d; first got %v, want %v", p, len(items), len(want), items[:min(3, len(items))], want[:3])
		}
	}
}

// BenchmarkHotItems: generator → sliding window count per auction → hottest
// auction per window, at parallelism 1.
func BenchmarkHotItems(b *testing.B) {
	params := Params{Events: 1_000_000, Auctions: 1000, BidsPerSecond: 10_000, Size: 10_000, Slide: 2_000}
	var total int64
	for b.Loop() {
		env := newEnv(b, 1)
		n := int64(0)
		sdk.SinkFunc(Build(env, params), func(batch []string) error { n += int64(len(batch)); return nil })
		if _, err := env.Execute(context.Background(), "nexmark"); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatal("no windows")
		}
		total += params.Events
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "bids/s")
}
