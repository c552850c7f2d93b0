package window

import (
	"math"
	"testing"
)

func TestCleanupTime(t *testing.T) {
	tests := []struct {
		w         Window
		lateness  int64
		eventTime bool
		want      int64
	}{
		{Window{0, 1000}, 0, true, 999},
		{Window{0, 1000}, 100, true, 1099},
		{Window{0, 1000}, 100, false, 999}, // lateness does not apply to processing time
		{Window{-1000, 0}, 500, true, 499},
		{Window{0, math.MaxInt64 - 10}, 10, true, math.MaxInt64 - 1},
		{Window{0, math.MaxInt64 - 10}, 11, true, math.MaxInt64},
		{Window{0, math.MaxInt64 - 10}, 12, true, math.MaxInt64}, // overflow: saturated
		{Window{0, math.MaxInt64 - 10}, math.MaxInt64, true, math.MaxInt64},
		{Global, 0, true, math.MaxInt64},
		{Global, 1000, true, math.MaxInt64},
		{Global, 1000, false, math.MaxInt64},
	}
	for _, tt := range tests {
		if got := CleanupTime(tt.w, tt.lateness, tt.eventTime); got != tt.want {
			t.Errorf("CleanupTime(%v, %d, %t) = %d, want %d", tt.w, tt.lateness, tt.eventTime, got, tt.want)
		}
	}
}

func TestIsLate(t *testing.T) {
	tests := []struct {
		w                   Window
		lateness, watermark int64
		eventTime           bool
		want                bool
	}{
		{Window{0, 1000}, 0, 998, true, false},
		{Window{0, 1000}, 0, 999, true, true},
		{Window{0, 1000}, 0, 5000, false, false}, // processing time: never late
		{Window{0, 1000}, 100, 999, true, false},
		{Window{0, 1000}, 100, 1098, true, false},
		{Window{0, 1000}, 100, 1099, true, true},
		{Window{0, 1000}, 0, math.MinInt64, true, false},
		{Window{0, math.MaxInt64 - 10}, 100, math.MaxInt64 - 1, true, false}, // no overflow into the past
		{Window{0, math.MaxInt64 - 10}, 100, math.MaxInt64, true, true},      // the final watermark
		{Global, 0, math.MaxInt64 - 1, true, false},
		{Global, 0, math.MaxInt64, true, true},
	}
	for _, tt := range tests {
		if got := IsLate(tt.w, tt.lateness, tt.watermark, tt.eventTime); got != tt.want {
			t.Errorf("IsLate(%v, %d, %d, %t) = %t, want %t", tt.w, tt.lateness, tt.watermark, tt.eventTime, got, tt.want)
		}
	}
}

func TestIsElementLate(t *testing.T) {
	tests := []struct {
		ts, lateness, watermark int64
		eventTime               bool
		want                    bool
	}{
		{999, 0, 998, true, false},
		{999, 0, 999, true, true},
		{999, 0, 999, false, false},
		{999, 100, 1098, true, false},
		{999, 100, 1099, true, true},
		{-5, 0, -5, true, true},
		{math.MaxInt64 - 1, 10, math.MaxInt64 - 1, true, false}, // Flink's sum would wrap and call it late
		{math.MaxInt64 - 1, 10, math.MaxInt64, true, true},
	}
	for _, tt := range tests {
		if got := IsElementLate(tt.ts, tt.lateness, tt.watermark, tt.eventTime); got != tt.want {
			t.Errorf("IsElementLate(%d, %d, %d, %t) = %t, want %t", tt.ts, tt.lateness, tt.watermark, tt.eventTime, got, tt.want)
		}
	}
}
