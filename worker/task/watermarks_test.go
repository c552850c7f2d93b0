package task_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/spate-io/spate/worker/task"
)

func events(es []task.Event) string {
	var parts []string
	for _, e := range es {
		parts = append(parts, e.String())
	}
	return strings.Join(parts, " ")
}

func TestWatermarkValve(t *testing.T) {
	v := task.NewWatermarkValve(3)
	steps := []struct {
		op   string
		ch   int
		ts   int64
		want string
	}{
		{"wm", 0, 10, ""},
		{"wm", 1, 5, ""},
		{"wm", 2, 7, "Watermark(5)"},
		{"wm", 1, 20, "Watermark(7)"},
		{"wm", 0, 3, ""}, // a channel going backwards changes nothing
		{"idle", 2, 0, "Watermark(10)"},
		{"idle", 0, 0, "Watermark(20)"},
		{"idle", 1, 0, "WatermarkStatus(idle)"},
		{"wm", 2, 8, "WatermarkStatus(active)"}, // active again, but behind: no regression
		{"wm", 2, 25, "Watermark(25)"},
		// Channels 0 and 1 are idle, so the ended channel 2 (at the maximum
		// watermark) alone decides, as in Flink's StatusWatermarkValve.
		{"end", 2, 0, fmt.Sprintf("Watermark(%d)", int64(math.MaxInt64))},
		{"active", 0, 0, ""}, // behind: nothing to emit, and the input was active already
		{"end", 0, 0, ""},
		{"end", 1, 0, ""},
	}
	for i, s := range steps {
		var got []task.Event
		switch s.op {
		case "wm":
			got = v.Watermark(s.ch, s.ts)
		case "idle":
			got = v.Status(s.ch, true)
		case "active":
			got = v.Status(s.ch, false)
		case "end":
			got = v.End(s.ch)
		}
		if events(got) != s.want {
			t.Fatalf("step %d %s(%d, %d): got %q, want %q", i, s.op, s.ch, s.ts, events(got), s.want)
		}
	}
}

// TestWatermarkValveNeverDecreases: the combined watermark is monotonous and
// equals the minimum over active channels whenever it advances.
func TestWatermarkValveNeverDecreases(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for range 200 {
		n := 1 + rng.IntN(5)
		v := task.NewWatermarkValve(n)
		wms := make([]int64, n)
		for i := range wms {
			wms[i] = math.MinInt64
		}
		last := int64(math.MinInt64)
		for range 100 {
			ch := rng.IntN(n)
			ts := rng.Int64N(1000)
			wms[ch] = max(wms[ch], ts)
			for _, e := range v.Watermark(ch, ts) {
				if e.Timestamp <= last {
					t.Fatalf("watermark went from %d to %d", last, e.Timestamp)
				}
				last = e.Timestamp
			}
			lo := wms[0]
			for _, w := range wms {
				lo = min(lo, w)
			}
			if v.Current() != max(lo, math.MinInt64) || (lo > math.MinInt64 && last != lo) {
				t.Fatalf("current %d, last emitted %d, min over channels %d", v.Current(), last, lo)
			}
		}
	}
}
