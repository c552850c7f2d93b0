package window

import (
	"math"
	"testing"
)

func TestWindowMaxTimestamp(t *testing.T) {
	tests := []struct {
		w    Window
		want int64
	}{
		{Window{0, 1000}, 999},
		{Window{-1000, 0}, -1},
		{Window{math.MinInt64, math.MinInt64 + 1}, math.MinInt64},
		{Window{0, math.MaxInt64 - 1}, math.MaxInt64 - 2},
		{Window{0, math.MaxInt64}, math.MaxInt64}, // ends with time: holds MaxInt64
		{Global, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := tt.w.MaxTimestamp(); got != tt.want {
			t.Errorf("%v.MaxTimestamp() = %d, want %d", tt.w, got, tt.want)
		}
	}
}

func TestWindowIntersectsAndCover(t *testing.T) {
	tests := []struct {
		a, b       Window
		intersects bool
		cover      Window
	}{
		{Window{0, 10}, Window{5, 15}, true, Window{0, 15}},
		{Window{5, 15}, Window{0, 10}, true, Window{0, 15}},
		{Window{0, 10}, Window{10, 20}, true, Window{0, 20}}, // touching: Flink merges them
		{Window{10, 20}, Window{0, 10}, true, Window{0, 20}},
		{Window{0, 10}, Window{11, 20}, false, Window{0, 20}},
		{Window{11, 20}, Window{0, 10}, false, Window{0, 20}},
		{Window{0, 100}, Window{20, 30}, true, Window{0, 100}},
		{Window{20, 30}, Window{0, 100}, true, Window{0, 100}},
		{Window{0, 10}, Window{0, 10}, true, Window{0, 10}},
		{Global, Window{-5, 5}, true, Global},
	}
	for _, tt := range tests {
		if got := tt.a.Intersects(tt.b); got != tt.intersects {
			t.Errorf("%v.Intersects(%v) = %t, want %t", tt.a, tt.b, got, tt.intersects)
		}
		if got := tt.a.Cover(tt.b); got != tt.cover {
			t.Errorf("%v.Cover(%v) = %v, want %v", tt.a, tt.b, got, tt.cover)
		}
	}
}

func TestWindowString(t *testing.T) {
	tests := []struct {
		w    Window
		want string
	}{
		{Window{0, 1000}, "TimeWindow{start=0, end=1000}"},
		{Window{-2000, -1000}, "TimeWindow{start=-2000, end=-1000}"},
		{Global, "GlobalWindow"},
		{Window{math.MinInt64, 0}, "TimeWindow{start=-9223372036854775808, end=0}"},
	}
	for _, tt := range tests {
		if got := tt.w.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestWindowIsMapKey(t *testing.T) {
	m := map[Window]int{{0, 10}: 1, Global: 2}
	if m[Window{0, 10}] != 1 || m[Window{Start: math.MinInt64, End: math.MaxInt64}] != 2 {
		t.Fatalf("map lookup by value failed: %v", m)
	}
}

func TestSaturatingArithmetic(t *testing.T) {
	tests := []struct {
		a, b     int64
		add, sub int64
	}{
		{1, 2, 3, -1},
		{math.MaxInt64, 1, math.MaxInt64, math.MaxInt64 - 1},
		{math.MaxInt64 - 1, 1, math.MaxInt64, math.MaxInt64 - 2},
		{math.MinInt64, -1, math.MinInt64, math.MinInt64 + 1},
		{math.MinInt64, 1, math.MinInt64 + 1, math.MinInt64},
		{math.MaxInt64, math.MinInt64, -1, math.MaxInt64},
		{math.MinInt64, math.MaxInt64, -1, math.MinInt64},
		{-1, math.MinInt64, math.MinInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := addSat(tt.a, tt.b); got != tt.add {
			t.Errorf("addSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.add)
		}
		if got := subSat(tt.a, tt.b); got != tt.sub {
			t.Errorf("subSat(%d, %d) = %d, want %d", tt.a, tt.b, got, tt.sub)
		}
	}
}
