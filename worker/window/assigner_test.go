package window

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// testRand returns a generator seeded from SPATE_TEST_SEED, or from the clock
// when it is unset. The seed is logged and named in every failure, so a failing
// run can be replayed with SPATE_TEST_SEED=<seed>.
func testRand(t *testing.T) (*rand.Rand, uint64) {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SPATE_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SPATE_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with SPATE_TEST_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed
}

// mustAssigner returns a function that returns its Assigner, or fails t with
// its error: mustAssigner(t)(TumblingEventTime(10, 0)).
func mustAssigner(t testing.TB) func(Assigner, error) Assigner {
	return func(a Assigner, err error) Assigner {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
}

func TestTumblingWindowStart(t *testing.T) {
	tests := []struct {
		size, offset, ts int64
		want             Window
	}{
		{1000, 0, 0, Window{0, 1000}},
		{1000, 0, 1, Window{0, 1000}},
		{1000, 0, 999, Window{0, 1000}},
		{1000, 0, 1000, Window{1000, 2000}},
		{1000, 0, 123456, Window{123000, 124000}},
		// Negative timestamps, including those more than one size below the
		// offset, where Flink's ts - (ts - offset + size) % size would give
		// a window that does not contain ts ([-1000, 0) for -1500).
		{1000, 0, -1, Window{-1000, 0}},
		{1000, 0, -1000, Window{-1000, 0}},
		{1000, 0, -1001, Window{-2000, -1000}},
		{1000, 0, -1500, Window{-2000, -1000}},
		{1000, 0, -123456, Window{-124000, -123000}},
		// Offsets shift the grid: windows start at offset + k*size.
		{1000, 100, 50, Window{-900, 100}},
		{1000, 100, 100, Window{100, 1100}},
		{1000, 100, 1099, Window{100, 1100}},
		{1000, -100, 950, Window{900, 1900}},
		{1000, -100, 899, Window{-100, 900}},
		{1000, -100, -150, Window{-1100, -100}},
		{1000, 999, -5000, Window{-5001, -4001}},
		{1000, -999, -5000, Window{-5999, -4999}},
		{7, 3, -20, Window{-25, -18}},
		{7, -3, 20, Window{18, 25}},
		{1, 0, -7, Window{-7, -6}},
		// Daily windows in UTC+8 (offset -8h).
		{86_400_000, -28_800_000, 1_700_000_000_000, Window{1_699_977_600_000, 1_700_064_000_000}},
		// The ends of the int64 range saturate instead of wrapping.
		{1000, 0, math.MinInt64, Window{math.MinInt64, math.MinInt64 + 808}},
		{1000, 0, math.MaxInt64, Window{math.MaxInt64 - 807, math.MaxInt64}},
		{1000, 999, math.MinInt64, Window{math.MinInt64, math.MinInt64 + 807}},
		{1000, -999, math.MaxInt64, Window{math.MaxInt64 - 806, math.MaxInt64}},
		{math.MaxInt64, 0, -1, Window{-math.MaxInt64, 0}},
		{math.MaxInt64, 0, math.MinInt64, Window{math.MinInt64, math.MinInt64 + 1}},
		{math.MaxInt64, math.MaxInt64 - 1, 0, Window{-1, math.MaxInt64 - 1}},
	}
	for _, tt := range tests {
		for _, eventTime := range []bool{true, false} {
			var a Assigner
			var err error
			if eventTime {
				a, err = TumblingEventTime(tt.size, tt.offset)
			} else {
				a, err = TumblingProcessingTime(tt.size, tt.offset)
			}
			if err != nil {
				t.Fatal(err)
			}
			// Event time reads the timestamp, processing time the clock.
			ts, pt := tt.ts, int64(424242)
			if !eventTime {
				ts, pt = 424242, tt.ts
			}
			got := a.Assign(ts, pt)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("%v.Assign(%d, %d) = %v, want [%v]", a, ts, pt, got, tt.want)
			}
		}
	}
}

func TestSlidingWindows(t *testing.T) {
	var thousand []Window // size 1000, slide 1, ts 0: newest first
	for i := range int64(1000) {
		thousand = append(thousand, Window{-i, 1000 - i})
	}
	tests := []struct {
		size, slide, offset, ts int64
		want                    []Window
	}{
		{10, 5, 0, 12, []Window{{10, 20}, {5, 15}}},
		{10, 5, 0, 10, []Window{{10, 20}, {5, 15}}},
		{10, 5, 0, 9, []Window{{5, 15}, {0, 10}}},
		{10, 5, 0, 0, []Window{{0, 10}, {-5, 5}}},
		{10, 5, 0, -1, []Window{{-5, 5}, {-10, 0}}},
		{10, 5, 0, -11, []Window{{-15, -5}, {-20, -10}}},
		{10, 3, 1, 0, []Window{{-2, 8}, {-5, 5}, {-8, 2}}},
		{10, 3, -1, 0, []Window{{-1, 9}, {-4, 6}, {-7, 3}}},
		{10, 10, 0, 15, []Window{{10, 20}}}, // slide == size: tumbling
		{1000, 1, 0, 0, thousand},
		// slide > size leaves gaps: an element there has no window.
		{5, 10, 0, 3, []Window{{0, 5}}},
		{5, 10, 0, 5, []Window{}},
		{5, 10, 0, 9, []Window{}},
		{5, 10, 2, 1, []Window{}},
		{5, 10, 2, 2, []Window{{2, 7}}},
		{5, 10, 0, -7, []Window{{-10, -5}}},
		{5, 10, 0, -4, []Window{}},
		{5, 10, 0, -10, []Window{{-10, -5}}},
		// The top of the int64 range saturates.
		{10, 5, 0, math.MaxInt64, []Window{{math.MaxInt64 - 2, math.MaxInt64}, {math.MaxInt64 - 7, math.MaxInt64}}},
		{10, 5, 0, math.MinInt64, []Window{{math.MinInt64, math.MinInt64 + 8}, {math.MinInt64, math.MinInt64 + 3}}},
	}
	for _, tt := range tests {
		a := mustAssigner(t)(SlidingEventTime(tt.size, tt.slide, tt.offset))
		got := a.Assign(tt.ts, 0)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%v.Assign(%d) = %v, want %v", a, tt.ts, got, tt.want)
		}
		p := mustAssigner(t)(SlidingProcessingTime(tt.size, tt.slide, tt.offset))
		if got := p.Assign(0, tt.ts); !slices.Equal(got, tt.want) {
			t.Errorf("%v.Assign(0, %d) = %v, want %v", p, tt.ts, got, tt.want)
		}
	}
}

// referenceSliding is the slow, obvious sliding assignment: every start s in
// (ts-size, ts], latest first, that lies on the grid offset + k*slide.
func referenceSliding(size, slide, offset, ts int64) []Window {
	var ws []Window
	for s := ts; s > ts-size; s-- {
		if ((s-offset)%slide+slide)%slide == 0 {
			ws = append(ws, Window{s, s + size})
		}
	}
	return ws
}

func TestSlidingMatchesReference(t *testing.T) {
	r, seed := testRand(t)
	var dst []Window
	for i := range 20000 {
		size := 1 + r.Int64N(60)
		slide := 1 + r.Int64N(70)
		offset := r.Int64N(2*slide-1) - (slide - 1)
		ts := r.Int64N(2001) - 1000
		a := mustAssigner(t)(SlidingEventTime(size, slide, offset))
		want := referenceSliding(size, slide, offset, ts)
		if got := a.Assign(ts, 0); !slices.Equal(got, want) {
			t.Fatalf("seed %d case %d: %v.Assign(%d) = %v, want %v", seed, i, a, ts, got, want)
		}
		// AssignTo appends after what dst holds.
		dst = append(dst[:0], Window{1, 2})
		dst = a.AssignTo(dst, ts, 0)
		if dst[0] != (Window{1, 2}) || !slices.Equal(dst[1:], want) {
			t.Fatalf("seed %d case %d: %v.AssignTo([{1 2}], %d) = %v, want [{1 2}] + %v", seed, i, a, ts, dst, want)
		}
		if slide == size {
			tu := mustAssigner(t)(TumblingEventTime(size, offset))
			if got := tu.Assign(ts, 0); !slices.Equal(got, want) {
				t.Fatalf("seed %d case %d: %v.Assign(%d) = %v, want %v", seed, i, tu, ts, got, want)
			}
		}
	}
}

// bigSliding computes the sliding windows of ts in arbitrary precision and
// clamps them to the int64 range, the reference for the saturating arithmetic.
func bigSliding(size, slide, offset, ts int64) []Window {
	clamp := func(x *big.Int) int64 {
		switch {
		case x.Cmp(big.NewInt(math.MinInt64)) < 0:
			return math.MinInt64
		case x.Cmp(big.NewInt(math.MaxInt64)) > 0:
			return math.MaxInt64
		}
		return x.Int64()
	}
	bts, bsize, bslide := big.NewInt(ts), big.NewInt(size), big.NewInt(slide)
	d := new(big.Int).Sub(bts, big.NewInt(offset))
	d.Mod(d, bslide) // Euclidean: 0 <= d < slide
	low := new(big.Int).Sub(bts, bsize)
	var ws []Window
	for s := new(big.Int).Sub(bts, d); s.Cmp(low) > 0; s.Sub(s, bslide) {
		ws = append(ws, Window{clamp(s), clamp(new(big.Int).Add(s, bsize))})
	}
	return ws
}

func TestSlidingAtInt64Edges(t *testing.T) {
	r, seed := testRand(t)
	for i := range 20000 {
		slide := 1 + r.Int64N(math.MaxInt64/16)
		if r.IntN(2) == 0 {
			slide = 1 + r.Int64N(1000)
		}
		size := slide*(1+r.Int64N(8)) + r.Int64N(slide)
		if r.IntN(4) == 0 {
			size = 1 + r.Int64N(slide) // gaps between windows
		}
		offset := r.Int64N(2*slide-1) - (slide - 1)
		var ts int64
		switch r.IntN(3) {
		case 0:
			ts = math.MinInt64 + r.Int64N(size) + r.Int64N(size)
		case 1:
			ts = math.MaxInt64 - r.Int64N(size) - r.Int64N(size)
		default:
			ts = int64(r.Uint64())
		}
		a := mustAssigner(t)(SlidingEventTime(size, slide, offset))
		want := bigSliding(size, slide, offset, ts)
		got := a.Assign(ts, 0)
		if !slices.Equal(got, want) {
			t.Fatalf("seed %d case %d: %v.Assign(%d) = %v, want %v", seed, i, a, ts, got, want)
		}
		for _, w := range got {
			if !(w.Start <= ts && (ts < w.End || w.End == math.MaxInt64)) {
				t.Fatalf("seed %d case %d: %v.Assign(%d) gave %v, which does not hold ts", seed, i, a, ts, w)
			}
		}
	}
}

func TestSessionAssign(t *testing.T) {
	tests := []struct {
		gap, ts int64
		want    Window
	}{
		{10, 0, Window{0, 10}},
		{10, -5, Window{-5, 5}},
		{30_000, 1_700_000_000_000, Window{1_700_000_000_000, 1_700_000_030_000}},
		{10, math.MaxInt64 - 3, Window{math.MaxInt64 - 3, math.MaxInt64}},
		{10, math.MinInt64, Window{math.MinInt64, math.MinInt64 + 10}},
	}
	for _, tt := range tests {
		e := mustAssigner(t)(EventTimeSession(tt.gap))
		if got := e.Assign(tt.ts, 77); !slices.Equal(got, []Window{tt.want}) {
			t.Errorf("%v.Assign(%d, 77) = %v, want [%v]", e, tt.ts, got, tt.want)
		}
		p := mustAssigner(t)(ProcessingTimeSession(tt.gap))
		if got := p.Assign(77, tt.ts); !slices.Equal(got, []Window{tt.want}) {
			t.Errorf("%v.Assign(77, %d) = %v, want [%v]", p, tt.ts, got, tt.want)
		}
	}
}

func TestGlobalAssign(t *testing.T) {
	g := GlobalWindows()
	if got := g.Assign(5, 6); !slices.Equal(got, []Window{Global}) {
		t.Errorf("Assign = %v, want [Global]", got)
	}
	if got := g.AssignTo([]Window{{1, 2}}, 5, 6); !slices.Equal(got, []Window{{1, 2}, Global}) {
		t.Errorf("AssignTo = %v, want [{1 2} Global]", got)
	}
}

func TestAssignerProperties(t *testing.T) {
	must := mustAssigner(t)
	tests := []struct {
		a         Assigner
		str       string
		eventTime bool
		merging   bool
		trigger   string
	}{
		{must(TumblingEventTime(1000, 0)), "TumblingEventTimeWindows(size=1000, offset=0)", true, false, "EventTimeTrigger()"},
		{must(TumblingProcessingTime(1000, -10)), "TumblingProcessingTimeWindows(size=1000, offset=-10)", false, false, "ProcessingTimeTrigger()"},
		{must(SlidingEventTime(1000, 100, 5)), "SlidingEventTimeWindows(size=1000, slide=100, offset=5)", true, false, "EventTimeTrigger()"},
		{must(SlidingProcessingTime(1000, 100, 0)), "SlidingProcessingTimeWindows(size=1000, slide=100, offset=0)", false, false, "ProcessingTimeTrigger()"},
		{must(EventTimeSession(30)), "EventTimeSessionWindows(gap=30)", true, true, "EventTimeTrigger()"},
		{must(ProcessingTimeSession(30)), "ProcessingTimeSessionWindows(gap=30)", false, true, "ProcessingTimeTrigger()"},
		{GlobalWindows(), "GlobalWindows()", false, false, "NeverTrigger()"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.str {
			t.Errorf("String() = %q, want %q", got, tt.str)
		}
		if got := tt.a.EventTime(); got != tt.eventTime {
			t.Errorf("%v.EventTime() = %t, want %t", tt.a, got, tt.eventTime)
		}
		if got := tt.a.Merging(); got != tt.merging {
			t.Errorf("%v.Merging() = %t, want %t", tt.a, got, tt.merging)
		}
		if got := tt.a.DefaultTrigger().String(); got != tt.trigger {
			t.Errorf("%v.DefaultTrigger() = %s, want %s", tt.a, got, tt.trigger)
		}
		if tt.merging && !tt.a.DefaultTrigger().CanMerge() {
			t.Errorf("%v: default trigger %v cannot merge", tt.a, tt.a.DefaultTrigger())
		}
	}
}

func TestAssignerValidation(t *testing.T) {
	type ctor func() (Assigner, error)
	tests := []struct {
		name string
		new  ctor
		want string // "" means valid
	}{
		{"tumbling size 0", func() (Assigner, error) { return TumblingEventTime(0, 0) },
			"invalid window argument: TumblingEventTimeWindows size must be > 0, got 0"},
		{"tumbling size -1", func() (Assigner, error) { return TumblingProcessingTime(-1, 0) },
			"invalid window argument: TumblingProcessingTimeWindows size must be > 0, got -1"},
		{"tumbling offset = size", func() (Assigner, error) { return TumblingEventTime(1000, 1000) },
			"invalid window argument: TumblingEventTimeWindows offset must be within (-size, size) = (-1000, 1000), got 1000; an offset that differs by a multiple of size gives the same windows"},
		{"tumbling offset = -size", func() (Assigner, error) { return TumblingEventTime(1000, -1000) },
			"invalid window argument: TumblingEventTimeWindows offset must be within (-size, size) = (-1000, 1000), got -1000; an offset that differs by a multiple of size gives the same windows"},
		{"tumbling offset MinInt64", func() (Assigner, error) { return TumblingEventTime(math.MaxInt64, math.MinInt64) },
			"invalid window argument: TumblingEventTimeWindows offset must be within (-size, size) = (-9223372036854775807, 9223372036854775807), got -9223372036854775808; an offset that differs by a multiple of size gives the same windows"},
		{"tumbling offset size-1", func() (Assigner, error) { return TumblingEventTime(1000, 999) }, ""},
		{"tumbling offset 1-size", func() (Assigner, error) { return TumblingEventTime(1000, -999) }, ""},
		{"sliding size 0", func() (Assigner, error) { return SlidingEventTime(0, 10, 0) },
			"invalid window argument: SlidingEventTimeWindows size must be > 0, got 0"},
		{"sliding slide 0", func() (Assigner, error) { return SlidingProcessingTime(10, 0, 0) },
			"invalid window argument: SlidingProcessingTimeWindows slide must be > 0, got 0"},
		{"sliding slide -5", func() (Assigner, error) { return SlidingEventTime(10, -5, 0) },
			"invalid window argument: SlidingEventTimeWindows slide must be > 0, got -5"},
		{"sliding offset = slide", func() (Assigner, error) { return SlidingEventTime(100, 10, 10) },
			"invalid window argument: SlidingEventTimeWindows offset must be within (-slide, slide) = (-10, 10), got 10; an offset that differs by a multiple of slide gives the same windows"},
		{"sliding offset slide-1", func() (Assigner, error) { return SlidingEventTime(100, 10, -9) }, ""},
		{"sliding slide > size", func() (Assigner, error) { return SlidingEventTime(10, 100, 50) }, ""},
		{"sliding MaxWindowsPerElement windows", func() (Assigner, error) { return SlidingEventTime(MaxWindowsPerElement, 1, 0) }, ""},
		{"sliding 2*MaxWindowsPerElement by 2", func() (Assigner, error) { return SlidingEventTime(2*MaxWindowsPerElement, 2, 1) }, ""},
		{"sliding MaxWindowsPerElement+1 windows", func() (Assigner, error) { return SlidingEventTime(2*MaxWindowsPerElement+1, 2, 1) },
			"invalid window argument: SlidingEventTimeWindows size 2097153 and slide 2 put every element in 1048577 windows, more than the 1048576 allowed; use a larger slide or a smaller size"},
		{"sliding size MaxInt64 by 1", func() (Assigner, error) { return SlidingProcessingTime(math.MaxInt64, 1, 0) },
			"invalid window argument: SlidingProcessingTimeWindows size 9223372036854775807 and slide 1 put every element in 9223372036854775807 windows, more than the 1048576 allowed; use a larger slide or a smaller size"},
		{"sliding size MaxInt64 by MaxInt64", func() (Assigner, error) { return SlidingEventTime(math.MaxInt64, math.MaxInt64, 0) }, ""},
		{"session gap 0", func() (Assigner, error) { return EventTimeSession(0) },
			"invalid window argument: EventTimeSessionWindows gap must be > 0, got 0"},
		{"session gap -1", func() (Assigner, error) { return ProcessingTimeSession(-1) },
			"invalid window argument: ProcessingTimeSessionWindows gap must be > 0, got -1"},
		{"session gap 1", func() (Assigner, error) { return EventTimeSession(1) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.new()
			if tt.want == "" {
				if err != nil || a == nil {
					t.Fatalf("got (%v, %v), want a valid assigner", a, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %v, want error %q", a, tt.want)
			}
			if !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("error %v is not ErrInvalidArgument", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
		})
	}
}

func BenchmarkSlidingAssign(b *testing.B) {
	for _, bc := range []struct {
		name        string
		size, slide int64
	}{
		{"windows=1", 1000, 1000},
		{"windows=4", 4000, 1000},
		{"windows=60", 60_000, 1000},
	} {
		a := mustAssigner(b)(SlidingEventTime(bc.size, bc.slide, 0))
		b.Run(bc.name+"/AssignTo", func(b *testing.B) {
			var dst []Window
			ts := int64(1_700_000_000_000)
			for b.Loop() {
				dst = a.AssignTo(dst[:0], ts, 0)
				ts += 7
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
		b.Run(bc.name+"/Assign", func(b *testing.B) {
			ts := int64(1_700_000_000_000)
			for b.Loop() {
				_ = a.Assign(ts, 0)
				ts += 7
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
