package task_test

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
	"github.com/spate-io/spate/worker/window"
)

var updateScripts = flag.Bool("update", false, "rewrite testdata scripts with the actual outputs")

// The window tests are scripts in testdata/windows: each command line is
// followed by the lines it must produce, each starting with "> ". Commands:
//
//	config assigner=tumbling:SIZE|sliding:SIZE:SLIDE|session:GAP|global|proc-tumbling:SIZE
//	       [trigger=count:N|purging-count:N] [lateness=MS] [evictor=count:N] [late=side]
//	element KEY TS VALUE
//	watermark TS
//	processing-time TS
//	end
//
// Outputs: "KEY [START,END) count=N sum=S values=V1;V2 @TS" for a fired window
// (values only when the window keeps its elements), "late KEY TS VALUE" for the
// late side output, "watermark TS" for a forwarded watermark.

type wev struct {
	key string
	v   int64
}

// fakeTimers is a ProcessingTimeService the script drives.
type fakeTimers struct {
	now    int64
	timers []struct {
		at int64
		fn func(int64) error
	}
}

func (f *fakeTimers) Now() int64 { return f.now }
func (f *fakeTimers) RegisterTimer(at int64, fn func(int64) error) {
	f.timers = append(f.timers, struct {
		at int64
		fn func(int64) error
	}{at, fn})
}

func (f *fakeTimers) advance(now int64) error {
	f.now = now
	for {
		sort.SliceStable(f.timers, func(i, j int) bool { return f.timers[i].at < f.timers[j].at })
		if len(f.timers) == 0 || f.timers[0].at > now {
			return nil
		}
		t := f.timers[0]
		f.timers = f.timers[1:]
		if err := t.fn(now); err != nil {
			return err
		}
	}
}

// lineOutput records what an operator emits, as script output lines.
type lineOutput[T any] struct {
	lines  *[]string
	format func(T, int64) string
}

func (o lineOutput[T]) Push(batch []T, ts []int64) error {
	for i, v := range batch {
		t := int64(network.NoTimestamp)
		if ts != nil {
			t = ts[i]
		}
		*o.lines = append(*o.lines, o.format(v, t))
	}
	return nil
}

func (o lineOutput[T]) Emit(e task.Event) error {
	if e.Kind == network.Watermark {
		*o.lines = append(*o.lines, "watermark "+fmtTS(e.Timestamp))
	}
	return nil
}

func fmtTS(ts int64) string {
	switch ts {
	case network.MaxWatermark:
		return "max"
	case network.NoTimestamp:
		return "none"
	}
	return strconv.FormatInt(ts, 10)
}

type windowHarness struct {
	op    task.OneInput[wev]
	fin   func() error
	clock *fakeTimers
	lines []string
}

func newWindowHarness(t *testing.T, args []string) *windowHarness {
	h := &windowHarness{clock: &fakeTimers{}}
	opts := map[string]string{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		opts[k] = v
	}
	nums := func(s string) []int64 {
		var out []int64
		for _, p := range strings.Split(s, ":")[1:] {
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				t.Fatalf("bad number in %q", s)
			}
			out = append(out, n)
		}
		return out
	}
	var a window.Assigner
	var err error
	switch spec := opts["assigner"]; {
	case strings.HasPrefix(spec, "tumbling:"):
		a, err = window.TumblingEventTime(nums(spec)[0], 0)
	case strings.HasPrefix(spec, "sliding:"):
		n := nums(spec)
		a, err = window.SlidingEventTime(n[0], n[1], 0)
	case strings.HasPrefix(spec, "session:"):
		a, err = window.EventTimeSession(nums(spec)[0])
	case strings.HasPrefix(spec, "proc-tumbling:"):
		a, err = window.TumblingProcessingTime(nums(spec)[0], 0)
	case spec == "global":
		a = window.GlobalWindows()
	default:
		t.Fatalf("unknown assigner %q", spec)
	}
	if err != nil {
		t.Fatal(err)
	}
	var trig window.Trigger
	switch tr := opts["trigger"]; {
	case tr == "":
	case strings.HasPrefix(tr, "count:"):
		trig = window.CountTrigger(nums(tr)[0])
	case strings.HasPrefix(tr, "purging-count:"):
		trig = window.PurgingTrigger(window.CountTrigger(nums(tr)[0]))
	default:
		t.Fatalf("unknown trigger %q", tr)
	}
	lateness, _ := strconv.ParseInt(opts["lateness"], 10, 64)
	hash, _ := state.HasherFor[string]()
	ctx := &task.OperatorContext{OperatorName: "window", Parallelism: 1, MaxParallelism: 128,
		KeyGroups: state.KeyGroupRange{Start: 0, End: 127}, BatchSize: 4, Metrics: &task.OperatorMetrics{}, Timers: h.clock}
	if opts["late"] == "side" {
		ctx.SideOutputs = map[string]any{"late": task.Output[wev](lineOutput[wev]{&h.lines, func(e wev, ts int64) string {
			return fmt.Sprintf("late %s %s %d", e.key, fmtTS(ts), e.v)
		}})}
	}
	out := lineOutput[string]{&h.lines, func(s string, ts int64) string { return s + " @" + fmtTS(ts) }}
	name := func(w window.Window) string {
		if w == window.Global {
			return "[global]"
		}
		return fmt.Sprintf("[%d,%d)", w.Start, w.End)
	}
	key := func(e wev) string { return e.key }
	lateTag := ""
	if opts["late"] == "side" {
		lateTag = "late"
	}
	if ev := opts["evictor"]; ev != "" || opts["keep"] == "elements" {
		type elems = []window.TimestampedValue[wev]
		spec := task.WindowSpec[string, wev, elems, string]{Key: key, Hash: hash, Assigner: a, Trigger: trig,
			AllowedLateness: lateness, LateTag: lateTag,
			Add: func(acc elems, _ bool, v wev, ts int64) elems {
				return append(acc, window.TimestampedValue[wev]{Value: v, Timestamp: ts})
			},
			Merge: func(x, y elems) elems { return append(x, y...) },
			Emit: func(k string, w window.Window, acc elems, out *task.Collector[string]) error {
				var sum int64
				var vals []string
				for _, e := range acc {
					sum += e.Value.v
					vals = append(vals, strconv.FormatInt(e.Value.v, 10))
				}
				out.Collect(fmt.Sprintf("%s %s count=%d sum=%d values=%s", k, name(w), len(acc), sum, strings.Join(vals, ";")))
				return nil
			}}
		if ev != "" {
			ce := window.CountEvictor[wev](int(nums(ev)[0]), false)
			spec.Evict = func(acc elems, w window.Window, before bool) elems {
				if before {
					return ce.EvictBefore(acc, w)
				}
				return ce.EvictAfter(acc, w)
			}
		}
		op, err := task.NewWindowOperator(ctx, spec, task.Output[string](out))
		if err != nil {
			t.Fatal(err)
		}
		h.op, h.fin = op, op.Finish
		return h
	}
	type acc struct{ count, sum int64 }
	spec := task.WindowSpec[string, wev, acc, string]{Key: key, Hash: hash, Assigner: a, Trigger: trig,
		AllowedLateness: lateness, LateTag: lateTag,
		Add:   func(a acc, _ bool, v wev, _ int64) acc { return acc{a.count + 1, a.sum + v.v} },
		Merge: func(x, y acc) acc { return acc{x.count + y.count, x.sum + y.sum} },
		Emit: func(k string, w window.Window, a acc, out *task.Collector[string]) error {
			out.Collect(fmt.Sprintf("%s %s count=%d sum=%d", k, name(w), a.count, a.sum))
			return nil
		}}
	op, err := task.NewWindowOperator(ctx, spec, task.Output[string](out))
	if err != nil {
		t.Fatal(err)
	}
	h.op, h.fin = op, op.Finish
	return h
}

func (h *windowHarness) run(t *testing.T, cmd string, args []string) []string {
	h.lines = nil
	num := func(s string) int64 {
		if s == "max" {
			return network.MaxWatermark
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("bad number %q in %q", s, cmd)
		}
		return n
	}
	var err error
	switch cmd {
	case "element":
		err = h.op.Push([]wev{{args[0], num(args[2])}}, []int64{num(args[1])})
	case "watermark":
		err = h.op.Emit(network.WatermarkEvent(num(args[0])))
	case "processing-time":
		err = h.clock.advance(num(args[0]))
	case "end":
		err = h.fin()
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	if err != nil {
		h.lines = append(h.lines, "error: "+err.Error())
	}
	return h.lines
}

func TestWindowScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/windows/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no window scripts: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			var in []string
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				in = append(in, sc.Text())
			}
			f.Close()
			var h *windowHarness
			var rewritten []string
			for i := 0; i < len(in); {
				line := in[i]
				i++
				fields := strings.Fields(line)
				if len(fields) == 0 || strings.HasPrefix(line, "#") {
					rewritten = append(rewritten, line)
					continue
				}
				var want []string
				for i < len(in) && strings.HasPrefix(in[i], "> ") {
					want = append(want, strings.TrimPrefix(in[i], "> "))
					i++
				}
				var got []string
				if fields[0] == "config" {
					h = newWindowHarness(t, fields[1:])
				} else {
					if h == nil {
						t.Fatalf("%s: %q before config", file, line)
					}
					got = h.run(t, fields[0], fields[1:])
				}
				rewritten = append(rewritten, line)
				for _, g := range got {
					rewritten = append(rewritten, "> "+g)
				}
				if !*updateScripts && strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("%s: after %q\n got: %q\nwant: %q", file, line, got, want)
				}
			}
			if *updateScripts {
				if err := os.WriteFile(file, []byte(strings.Join(rewritten, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
