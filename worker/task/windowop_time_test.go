package task_test

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/window"
)

// windowPair runs one operator that NewWindowOperator picks and one
// WindowOperator on the same input, each with its own clock and output.
type windowPair struct {
	ops    [2]task.OneInput[wev]
	clocks [2]*fakeTimers
	lines  [2][]string
}

type windowConfig struct {
	assigner window.Assigner
	lateness int64
	side     bool
}

func (c windowConfig) String() string {
	return fmt.Sprintf("%v lateness=%d side=%v", c.assigner, c.lateness, c.side)
}

func newWindowOp(t *testing.T, c windowConfig, general bool, clock *fakeTimers, lines *[]string, restored *state.Restored) task.OneInput[wev] {
	t.Helper()
	hash, _ := state.HasherFor[string]()
	ctx := &task.OperatorContext{OperatorName: "window", Parallelism: 1, MaxParallelism: 128,
		KeyGroups: state.KeyGroupRange{Start: 0, End: 127}, BatchSize: 3, Metrics: &task.OperatorMetrics{}, Timers: clock,
		Restored: restored}
	lateTag := ""
	if c.side {
		lateTag = "late"
		ctx.SideOutputs = map[string]any{"late": task.Output[wev](lineOutput[wev]{lines, func(e wev, ts int64) string {
			return fmt.Sprintf("late %s %s %d", e.key, fmtTS(ts), e.v)
		}})}
	}
	type acc struct{ count, sum int64 }
	spec := task.WindowSpec[string, wev, acc, string]{Key: func(e wev) string { return e.key }, Hash: hash, Assigner: c.assigner,
		AllowedLateness: c.lateness, LateTag: lateTag,
		Add:   func(a acc, seen bool, v wev, _ int64) acc { return acc{a.count + 1, a.sum + v.v} },
		Merge: func(x, y acc) acc { return acc{x.count + y.count, x.sum + y.sum} },
		Emit: func(k string, w window.Window, a acc, out *task.Collector[string]) error {
			out.Collect(fmt.Sprintf("%s [%d,%d) count=%d sum=%d", k, w.Start, w.End, a.count, a.sum))
			return nil
		}}
	out := task.Output[string](lineOutput[string]{lines, func(s string, ts int64) string { return s + " @" + fmtTS(ts) }})
	var op task.OneInput[wev]
	var err error
	if general {
		op, err = task.NewGeneralWindowOperator(ctx, spec, out)
	} else {
		op, err = task.NewWindowOperator(ctx, spec, out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// snapshotOf writes op's state as a checkpoint of one subtask.
func snapshotOf(t *testing.T, op task.OneInput[wev]) *state.Restored {
	t.Helper()
	parts, err := op.(interface {
		SnapshotState(int64) ([]state.Part, error)
	}).SnapshotState(1)
	if err != nil {
		t.Fatal(err)
	}
	data := map[string][]byte{}
	r := &state.Restored{CheckpointID: 1, Parallelism: 1, OldParallelism: 1,
		Read: func(h state.Handle) ([]byte, error) { return data[h.Path], nil }}
	for i, p := range parts {
		var buf bytes.Buffer
		if err := p.Write(&buf); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprint("part-", i)
		data[path] = buf.Bytes()
		r.Handles = append(r.Handles, state.Handle{Operator: "window", Name: p.Name, Kind: p.Kind, KeyGroups: p.KeyGroups,
			Path: path, Size: int64(buf.Len()), Checksum: crc32.Checksum(buf.Bytes(), crc32.MakeTable(crc32.Castagnoli))})
	}
	return r
}

// TestTimeWindowsMatchWindowOperator feeds random elements, watermarks, clock
// advances and snapshots to the operator NewWindowOperator picks for tumbling
// and sliding windows and to a WindowOperator, and requires the same output
// after every step. At a snapshot each restores from the other's state.
func TestTimeWindowsMatchWindowOperator(t *testing.T) {
	mk := func(a window.Assigner, err error) window.Assigner {
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	assigners := []window.Assigner{
		mk(window.TumblingEventTime(10, 0)), mk(window.SlidingEventTime(10, 5, 0)), mk(window.SlidingEventTime(12, 4, 3)),
		mk(window.TumblingProcessingTime(10, 0)), mk(window.SlidingProcessingTime(10, 5, 0)),
	}
	for seed := uint64(1); seed <= 60; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 14))
		c := windowConfig{assigner: assigners[rnd.IntN(len(assigners))], side: rnd.IntN(2) == 0}
		if c.assigner.EventTime() && rnd.IntN(2) == 0 {
			c.lateness = int64(rnd.IntN(15))
		}
		var p windowPair
		start := func(restored [2]*state.Restored) {
			for i := range 2 {
				p.clocks[i] = &fakeTimers{now: p.clocks[0].now}
				p.ops[i] = newWindowOp(t, c, i == 1, p.clocks[i], &p.lines[i], restored[i])
			}
		}
		p.clocks[0] = &fakeTimers{}
		start([2]*state.Restored{})
		if got := fmt.Sprintf("%T", p.ops[0]); !strings.Contains(got, "timeWindowOperator") {
			t.Fatalf("NewWindowOperator built a %s for %v", got, c)
		}
		wm, now := int64(0), int64(0)
		var log []string
		for step := range 200 {
			var cmd string
			var errs [2]error
			switch r := rnd.IntN(20); {
			case r < 14:
				e := wev{key: fmt.Sprint("k", rnd.IntN(6)), v: int64(rnd.IntN(100))}
				ts := wm + int64(rnd.IntN(30)) - 12
				cmd = fmt.Sprintf("element %s %d %d", e.key, ts, e.v)
				for i := range 2 {
					errs[i] = p.ops[i].Push([]wev{e}, []int64{ts})
				}
			case r < 17:
				wm += int64(rnd.IntN(12))
				cmd = fmt.Sprint("watermark ", wm)
				for i := range 2 {
					errs[i] = p.ops[i].Emit(network.WatermarkEvent(wm))
				}
			case r < 19:
				now += int64(rnd.IntN(12))
				cmd = fmt.Sprint("processing-time ", now)
				for i := range 2 {
					errs[i] = p.clocks[i].advance(now)
				}
			default:
				cmd = "snapshot, restore crosswise"
				fast, general := snapshotOf(t, p.ops[0]), snapshotOf(t, p.ops[1])
				start([2]*state.Restored{general, fast})
			}
			log = append(log, cmd)
			for i := range 2 {
				if errs[i] != nil {
					t.Fatalf("seed %d (%v) step %d %q: operator %d: %v", seed, c, step, cmd, i, errs[i])
				}
			}
			if !slices.Equal(p.lines[0], p.lines[1]) {
				t.Fatalf("seed %d (%v): after\n%s\ntime windows emitted\n%s\nWindowOperator emitted\n%s", seed, c,
					strings.Join(log, "\n"), strings.Join(p.lines[0], "\n"), strings.Join(p.lines[1], "\n"))
			}
		}
		for i := range 2 {
			if err := p.ops[i].Emit(network.WatermarkEvent(network.MaxWatermark)); err != nil {
				t.Fatal(err)
			}
			if err := p.ops[i].Finish(); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := strings.Join(p.lines[0], "\n"), strings.Join(p.lines[1], "\n"); got != want {
			t.Fatalf("seed %d (%v): at the end, time windows emitted\n%s\nWindowOperator emitted\n%s", seed, c, got, want)
		}
	}
}
