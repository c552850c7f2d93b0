package window

import (
	"math"
	"math/big"
	"slices"
	"testing"
)

// clampBig is x clamped to the int64 range.
func clampBig(x *big.Int) int64 {
	switch {
	case x.Cmp(big.NewInt(math.MinInt64)) < 0:
		return math.MinInt64
	case x.Cmp(big.NewInt(math.MaxInt64)) > 0:
		return math.MaxInt64
	}
	return x.Int64()
}

// bigTumbling computes the tumbling window of ts in arbitrary precision,
// [ts - (ts-offset) mod size, that + size), clamped to the int64 range: the
// reference for the saturating arithmetic of the assigner.
func bigTumbling(size, offset, ts int64) Window {
	bts := big.NewInt(ts)
	d := new(big.Int).Sub(bts, big.NewInt(offset))
	d.Mod(d, big.NewInt(size)) // Euclidean: 0 <= d < size
	start := new(big.Int).Sub(bts, d)
	return Window{clampBig(start), clampBig(new(big.Int).Add(start, big.NewInt(size)))}
}

// holds reports whether w contains ts, counting math.MaxInt64 as inside a
// window that ends at math.MaxInt64 (see Window).
func holds(w Window, ts int64) bool {
	return w.Start <= ts && (ts < w.End || w.End == math.MaxInt64)
}

// TestAssignersSaturateAtInt64Edges checks the promise of Window's doc,
// "Assigners saturate at these bounds instead of wrapping around": for
// sizes, gaps and offsets up to the whole int64 range and timestamps at its
// ends, every tumbling and session window equals the arbitrary-precision
// window clamped to int64 and contains its timestamp. (Sliding windows:
// TestSlidingAtInt64Edges.)
func TestAssignersSaturateAtInt64Edges(t *testing.T) {
	r, seed := testRand(t)
	sizes := []int64{1, 2, 1000, math.MaxInt64 / 2, math.MaxInt64/2 + 1, math.MaxInt64 - 1, math.MaxInt64}
	for i := range 20000 {
		size := sizes[r.IntN(len(sizes))]
		if r.IntN(2) == 0 {
			size = 1 + r.Int64N(math.MaxInt64)
		}
		offset := r.Int64N(size) // in [0, size)
		if r.IntN(2) == 0 {
			offset = -offset
		}
		var ts int64
		switch r.IntN(4) {
		case 0:
			ts = math.MinInt64 + r.Int64N(min(size, 1<<20))
		case 1:
			ts = math.MaxInt64 - r.Int64N(min(size, 1<<20))
		case 2:
			ts = []int64{math.MinInt64, math.MinInt64 + 1, -1, 0, math.MaxInt64 - 1, math.MaxInt64}[r.IntN(6)]
		default:
			ts = int64(r.Uint64())
		}
		tum := mustAssigner(t)(TumblingEventTime(size, offset))
		if got, want := tum.Assign(ts, 0), bigTumbling(size, offset, ts); len(got) != 1 || got[0] != want || !holds(got[0], ts) {
			t.Fatalf("seed %d case %d: %v.Assign(%d) = %v, want [%v], holding ts", seed, i, tum, ts, got, want)
		}
		ses := mustAssigner(t)(EventTimeSession(size))
		want := Window{ts, clampBig(new(big.Int).Add(big.NewInt(ts), big.NewInt(size)))}
		if got := ses.Assign(ts, 0); len(got) != 1 || got[0] != want || !holds(got[0], ts) {
			t.Fatalf("seed %d case %d: %v.Assign(%d) = %v, want [%v], holding ts", seed, i, ses, ts, got, want)
		}
	}
}

// TestSaturatedWindowsAtInt64Edges pins, window by window, what the
// assigners give at the ends of the int64 range with the largest sizes and
// offsets; Flink's arithmetic would wrap around in each of these cases.
func TestSaturatedWindowsAtInt64Edges(t *testing.T) {
	must := mustAssigner(t)
	for _, tc := range []struct {
		a    Assigner
		ts   int64
		want []Window
	}{
		{must(TumblingEventTime(math.MaxInt64, math.MaxInt64-1)), math.MaxInt64, []Window{{math.MaxInt64 - 1, math.MaxInt64}}},
		// Windows start at MaxInt64-1 + k*MaxInt64: k = -2 starts at MinInt64.
		{must(TumblingEventTime(math.MaxInt64, math.MaxInt64-1)), math.MinInt64, []Window{{math.MinInt64, -1}}},
		{must(TumblingEventTime(math.MaxInt64, -(math.MaxInt64 - 1))), math.MaxInt64, []Window{{1, math.MaxInt64}}},
		{must(TumblingEventTime(math.MaxInt64, -(math.MaxInt64 - 1))), math.MinInt64, []Window{{math.MinInt64, math.MinInt64 + 2}}},
		{must(TumblingEventTime(math.MaxInt64/2+1, 0)), math.MaxInt64, []Window{{math.MaxInt64/2 + 1, math.MaxInt64}}},
		{must(TumblingEventTime(math.MaxInt64/2+1, 0)), math.MinInt64, []Window{{math.MinInt64, math.MinInt64 / 2}}},
		// size MaxInt64, offset 0: MaxInt64 starts a window of its own; [0, MaxInt64) is the one before.
		{must(TumblingEventTime(math.MaxInt64, 0)), math.MaxInt64, []Window{{math.MaxInt64, math.MaxInt64}}},
		// Windows of size MaxInt64 start every 2^62; [0, MaxInt64) ends just before MaxInt64.
		{must(SlidingEventTime(math.MaxInt64, math.MaxInt64/2+1, 0)), math.MaxInt64,
			[]Window{{math.MaxInt64/2 + 1, math.MaxInt64}}},
		// [-2^63, -1) and [-3*2^62, -2^62-1), the second cut at MinInt64.
		{must(SlidingEventTime(math.MaxInt64, math.MaxInt64/2+1, 0)), math.MinInt64,
			[]Window{{math.MinInt64, -1}, {math.MinInt64, math.MinInt64/2 - 1}}},
		{must(EventTimeSession(math.MaxInt64)), math.MaxInt64 - 1, []Window{{math.MaxInt64 - 1, math.MaxInt64}}},
		{must(EventTimeSession(math.MaxInt64)), math.MinInt64 + 1, []Window{{math.MinInt64 + 1, 0}}},
	} {
		got := tc.a.Assign(tc.ts, 0)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v.Assign(%d) = %v, want %v", tc.a, tc.ts, got, tc.want)
		}
		for _, w := range got {
			if !holds(w, tc.ts) {
				t.Errorf("%v.Assign(%d) gave %v, which does not hold ts", tc.a, tc.ts, w)
			}
			// Lateness past the end of time stays at the end of time.
			if c := CleanupTime(w, math.MaxInt64, true); c < w.MaxTimestamp() {
				t.Errorf("CleanupTime(%v, MaxInt64) = %d wrapped below the window's end %d", w, c, w.MaxTimestamp())
			}
		}
	}
}
