package window

import (
	"math"
	"strconv"
)

// Window is the time window [Start, End): every timestamp t with
// Start <= t < End belongs to it. It is comparable and used as a map key, for
// instance as the namespace of a key's window state.
//
// The int64 range bounds every window: End == math.MaxInt64 means "until the end
// of time" (the window also holds math.MaxInt64 itself, see MaxTimestamp) and
// Start == math.MinInt64 "since the beginning of time". Assigners saturate at
// these bounds instead of wrapping around, so a window always contains the
// timestamp it was assigned for.
type Window struct {
	Start, End int64
}

// Global is the single window of GlobalWindows: all of time.
var Global = Window{Start: math.MinInt64, End: math.MaxInt64}

// NoTimestamp is the timestamp of a record that has none (Flink's
// Long.MIN_VALUE marker). Event-time assigners must not be given it: the
// operator rejects such records before assigning windows.
const NoTimestamp int64 = math.MinInt64

// MaxTimestamp is the largest timestamp that belongs to w, End-1, at which
// event-time and processing-time triggers fire. A window that ends at
// math.MaxInt64, such as Global, never ends before the final watermark, so its
// MaxTimestamp is math.MaxInt64.
func (w Window) MaxTimestamp() int64 {
	if w.End == math.MaxInt64 {
		return math.MaxInt64
	}
	return w.End - 1
}

// Intersects reports whether w and o overlap or touch, as Flink's
// TimeWindow.intersects: [a,b) and [b,c) intersect, so session windows that
// meet merge.
func (w Window) Intersects(o Window) bool {
	return w.Start <= o.End && w.End >= o.Start
}

// Cover returns the smallest window that contains both w and o.
func (w Window) Cover(o Window) Window {
	return Window{Start: min(w.Start, o.Start), End: max(w.End, o.End)}
}

// String returns "GlobalWindow" for Global and Flink's
// "TimeWindow{start=0, end=1000}" form for any other window.
func (w Window) String() string {
	if w == Global {
		return "GlobalWindow"
	}
	b := make([]byte, 0, 64)
	b = append(b, "TimeWindow{start="...)
	b = strconv.AppendInt(b, w.Start, 10)
	b = append(b, ", end="...)
	b = strconv.AppendInt(b, w.End, 10)
	b = append(b, '}')
	return string(b)
}

// addSat returns a+b, saturated to the int64 range instead of wrapping.
func addSat(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}

// subSat returns a-b, saturated to the int64 range instead of wrapping.
func subSat(a, b int64) int64 {
	s := a - b
	if b > 0 && s > a {
		return math.MinInt64
	}
	if b < 0 && s < a {
		return math.MaxInt64
	}
	return s
}

// floorMod returns (ts - offset) mod size in [0, size), for size > 0, without
// overflowing for any ts and offset. Flink's
// ts - (ts - offset + size) % size agrees with ts - floorMod(ts, offset, size)
// whenever ts - offset >= -size; below that Java's remainder is negative and
// Flink's formula returns a window that does not contain ts.
func floorMod(ts, offset, size int64) int64 {
	a := ts % size
	if a < 0 {
		a += size
	}
	b := offset % size
	if b < 0 {
		b += size
	}
	r := a - b // both in [0, size): no overflow
	if r < 0 {
		r += size
	}
	return r
}
