package window

import (
	"math"
	"slices"
	"testing"
)

// tv builds elements from (value, timestamp) pairs.
func tv(pairs ...any) []TimestampedValue[string] {
	var out []TimestampedValue[string]
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, TimestampedValue[string]{Value: pairs[i].(string), Timestamp: int64(pairs[i+1].(int))})
	}
	return out
}

func TestEvictors(t *testing.T) {
	w := Window{0, 1000}
	abcd := func() []TimestampedValue[string] { return tv("a", 100, "b", 250, "c", 199, "d", 300) }
	tests := []struct {
		name          string
		ev            Evictor[string]
		in            []TimestampedValue[string]
		before, after []TimestampedValue[string] // results of EvictBefore and EvictAfter
		str           string
	}{
		{"count before", CountEvictor[string](2, false), abcd(), tv("c", 199, "d", 300), abcd(), "CountEvictor(2, evictAfter=false)"},
		{"count after", CountEvictor[string](2, true), abcd(), abcd(), tv("c", 199, "d", 300), "CountEvictor(2, evictAfter=true)"},
		{"count keeps all", CountEvictor[string](4, false), abcd(), abcd(), abcd(), "CountEvictor(4, evictAfter=false)"},
		{"count keeps more than there are", CountEvictor[string](10, false), abcd(), abcd(), abcd(), "CountEvictor(10, evictAfter=false)"},
		{"count 0 evicts all", CountEvictor[string](0, false), abcd(), nil, abcd(), "CountEvictor(0, evictAfter=false)"},
		{"count -1 evicts all", CountEvictor[string](-1, false), abcd(), nil, abcd(), "CountEvictor(0, evictAfter=false)"},
		{"count empty", CountEvictor[string](2, false), nil, nil, nil, "CountEvictor(2, evictAfter=false)"},

		// max ts 300, keep 100: keep ts > 200.
		{"time before", TimeEvictor[string](100, false), tv("a", 100, "b", 250, "c", 199, "d", 300, "e", 200, "f", 201), tv("b", 250, "d", 300, "f", 201),
			tv("a", 100, "b", 250, "c", 199, "d", 300, "e", 200, "f", 201), "TimeEvictor(100, evictAfter=false)"},
		{"time after", TimeEvictor[string](100, true), abcd(), abcd(), tv("b", 250, "d", 300), "TimeEvictor(100, evictAfter=true)"},
		{"time keep 1 keeps the max", TimeEvictor[string](1, false), tv("a", 300, "b", 299, "c", 300), tv("a", 300, "c", 300), tv("a", 300, "b", 299, "c", 300), "TimeEvictor(1, evictAfter=false)"},
		{"time keep 0 evicts all", TimeEvictor[string](0, false), abcd(), nil, abcd(), "TimeEvictor(0, evictAfter=false)"},
		{"time keep < 0 evicts all", TimeEvictor[string](-5, false), abcd(), nil, abcd(), "TimeEvictor(-5, evictAfter=false)"},
		{"time negative timestamps", TimeEvictor[string](100, false), tv("a", -300, "b", -150, "c", -250, "d", -249), tv("b", -150, "d", -249),
			tv("a", -300, "b", -150, "c", -250, "d", -249), "TimeEvictor(100, evictAfter=false)"},
		{"time without timestamps", TimeEvictor[string](1, false), tv("a", math.MinInt64, "b", 5), tv("a", math.MinInt64, "b", 5), tv("a", math.MinInt64, "b", 5), "TimeEvictor(1, evictAfter=false)"},
		{"time across the int64 range", TimeEvictor[string](math.MaxInt64, false), tv("a", math.MinInt64+1, "b", 0, "c", 1, "d", math.MaxInt64),
			tv("c", 1, "d", math.MaxInt64), tv("a", math.MinInt64+1, "b", 0, "c", 1, "d", math.MaxInt64), "TimeEvictor(9223372036854775807, evictAfter=false)"},
		{"time empty", TimeEvictor[string](1, false), nil, nil, nil, "TimeEvictor(1, evictAfter=false)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ev.(interface{ String() string }).String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			in := slices.Clone(tt.in)
			if got := tt.ev.EvictBefore(in, w); !slices.Equal(got, tt.before) {
				t.Errorf("EvictBefore(%v) = %v, want %v", tt.in, got, tt.before)
			} else if len(got) < len(in) {
				// Evicted slots are zeroed for the garbage collector.
				for i, e := range in[len(got):] {
					if e != (TimestampedValue[string]{}) {
						t.Errorf("EvictBefore left %v at index %d past the result", e, len(got)+i)
					}
				}
			}
			in = slices.Clone(tt.in)
			if got := tt.ev.EvictAfter(in, w); !slices.Equal(got, tt.after) {
				t.Errorf("EvictAfter(%v) = %v, want %v", tt.in, got, tt.after)
			}
		})
	}
}

func TestDeltaEvictor(t *testing.T) {
	w := Window{0, 1000}
	abs := func(a, b float64) float64 { return math.Abs(a - b) }
	mk := func(vs ...float64) []TimestampedValue[float64] {
		var out []TimestampedValue[float64]
		for i, v := range vs {
			out = append(out, TimestampedValue[float64]{Value: v, Timestamp: int64(i)})
		}
		return out
	}
	tests := []struct {
		name          string
		threshold     float64
		evictAfter    bool
		in            []TimestampedValue[float64]
		before, after []TimestampedValue[float64]
	}{
		// last is 10: deltas 9, 5, 1, 4, 0; evict delta >= 4.
		{"before", 4, false, mk(1, 5, 9, 6, 10), []TimestampedValue[float64]{{9, 2}, {10, 4}}, mk(1, 5, 9, 6, 10)},
		{"after", 4, true, mk(1, 5, 9, 6, 10), mk(1, 5, 9, 6, 10), []TimestampedValue[float64]{{9, 2}, {10, 4}}},
		{"threshold 0 evicts all", 0, false, mk(1, 10), nil, mk(1, 10)},
		{"empty", 4, false, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := DeltaEvictor(tt.threshold, abs, tt.evictAfter)
			if got := ev.EvictBefore(slices.Clone(tt.in), w); !slices.Equal(got, tt.before) {
				t.Errorf("EvictBefore(%v) = %v, want %v", tt.in, got, tt.before)
			}
			if got := ev.EvictAfter(slices.Clone(tt.in), w); !slices.Equal(got, tt.after) {
				t.Errorf("EvictAfter(%v) = %v, want %v", tt.in, got, tt.after)
			}
		})
	}

	// A NaN delta is not >= threshold: the element stays, as in Flink.
	got := DeltaEvictor(4, abs, false).EvictBefore(mk(math.NaN(), 10), w)
	if len(got) != 2 || !math.IsNaN(got[0].Value) || got[1].Value != 10 {
		t.Errorf("EvictBefore([NaN 10]) = %v, want [NaN 10]", got)
	}
	if got := DeltaEvictor(2.5, abs, true).(interface{ String() string }).String(); got != "DeltaEvictor(2.5, evictAfter=true)" {
		t.Errorf("String() = %q", got)
	}
}
