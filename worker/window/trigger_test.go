package window

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
)

// fakeContext is a TriggerContext for one key and window that records every
// timer call.
type fakeContext struct {
	watermark, processingTime int64
	counts                    map[string]int64   // this window's counters
	merging                   []map[string]int64 // counters of the windows being merged, in OnMerge
	calls                     []string
}

func (c *fakeContext) CurrentWatermark() int64      { return c.watermark }
func (c *fakeContext) CurrentProcessingTime() int64 { return c.processingTime }
func (c *fakeContext) RegisterEventTimeTimer(ts int64) {
	c.calls = append(c.calls, fmt.Sprintf("RegisterEventTimeTimer(%d)", ts))
}
func (c *fakeContext) DeleteEventTimeTimer(ts int64) {
	c.calls = append(c.calls, fmt.Sprintf("DeleteEventTimeTimer(%d)", ts))
}
func (c *fakeContext) RegisterProcessingTimeTimer(ts int64) {
	c.calls = append(c.calls, fmt.Sprintf("RegisterProcessingTimeTimer(%d)", ts))
}
func (c *fakeContext) DeleteProcessingTimeTimer(ts int64) {
	c.calls = append(c.calls, fmt.Sprintf("DeleteProcessingTimeTimer(%d)", ts))
}
func (c *fakeContext) GetCount(name string) int64 { return c.counts[name] }
func (c *fakeContext) SetCount(name string, v int64) {
	if v == 0 {
		delete(c.counts, name)
		return
	}
	c.counts[name] = v
}
func (c *fakeContext) MergeCount(name string) {
	if c.merging == nil {
		panic("MergeCount outside OnMerge")
	}
	for _, m := range c.merging {
		c.SetCount(name, c.counts[name]+m[name])
	}
}

var _ TriggerContext = (*fakeContext)(nil)

// step is one call on a trigger: "element", "event", "processing", "merge" or
// "clear", with the context's times set first.
type step struct {
	call    string
	ts      int64              // element timestamp or timer time
	wm, pt  int64              // watermark and processing time during the call
	merging []map[string]int64 // for "merge"
	want    Result             // for element, event and processing
	calls   []string           // timer calls made
	counts  map[string]int64   // counters after the call (nil: none)
}

type triggerCase struct {
	name     string
	trigger  Trigger
	w        Window
	canMerge bool
	str      string
	steps    []step
}

func runTriggerCases(t *testing.T, tests []triggerCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.trigger.CanMerge(); got != tt.canMerge {
				t.Errorf("CanMerge() = %t, want %t", got, tt.canMerge)
			}
			if got := tt.trigger.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			c := &fakeContext{counts: map[string]int64{}}
			for i, s := range tt.steps {
				c.watermark, c.processingTime, c.calls = s.wm, s.pt, nil
				var got Result
				switch s.call {
				case "element":
					got = tt.trigger.OnElement(s.ts, tt.w, c)
				case "event":
					got = tt.trigger.OnEventTime(s.ts, tt.w, c)
				case "processing":
					got = tt.trigger.OnProcessingTime(s.ts, tt.w, c)
				case "merge":
					c.merging = s.merging
					tt.trigger.OnMerge(tt.w, c)
					c.merging = nil
				case "clear":
					tt.trigger.Clear(tt.w, c)
				default:
					t.Fatalf("unknown call %q", s.call)
				}
				what := fmt.Sprintf("step %d: %s(%d) at watermark %d, processing time %d", i, s.call, s.ts, s.wm, s.pt)
				if got != s.want {
					t.Errorf("%s = %v, want %v", what, got, s.want)
				}
				if !slices.Equal(c.calls, s.calls) {
					t.Errorf("%s: timer calls %q, want %q", what, c.calls, s.calls)
				}
				if !maps.Equal(c.counts, s.counts) && !(len(c.counts) == 0 && len(s.counts) == 0) {
					t.Errorf("%s: counts %v, want %v", what, c.counts, s.counts)
				}
			}
		})
	}
}

func TestEventTimeTrigger(t *testing.T) {
	w := Window{0, 1000}
	runTriggerCases(t, []triggerCase{{
		name: "fires at the end of the window", trigger: EventTimeTrigger(), w: w, canMerge: true, str: "EventTimeTrigger()",
		steps: []step{
			{call: "element", ts: 10, wm: 0, want: Continue, calls: []string{"RegisterEventTimeTimer(999)"}},
			{call: "element", ts: 998, wm: 998, want: Continue, calls: []string{"RegisterEventTimeTimer(999)"}},
			{call: "processing", ts: 999, wm: 998, want: Continue},
			{call: "event", ts: 500, wm: 500, want: Continue},
			{call: "event", ts: 999, wm: 999, want: Fire},
			// Late elements within the allowed lateness fire at once.
			{call: "element", ts: 20, wm: 999, want: Fire},
			{call: "element", ts: 30, wm: 1500, want: Fire},
			{call: "clear", wm: 1500, calls: []string{"DeleteEventTimeTimer(999)"}},
		},
	}, {
		name: "merge registers the merged window's timer only while it is pending", trigger: EventTimeTrigger(), w: w, canMerge: true, str: "EventTimeTrigger()",
		steps: []step{
			{call: "merge", wm: 998, calls: []string{"RegisterEventTimeTimer(999)"}},
			{call: "merge", wm: 999},
		},
	}, {
		name: "global window fires on the final watermark", trigger: EventTimeTrigger(), w: Global, canMerge: true, str: "EventTimeTrigger()",
		steps: []step{
			{call: "element", ts: 10, wm: 1 << 62, want: Continue, calls: []string{"RegisterEventTimeTimer(9223372036854775807)"}},
			{call: "event", ts: 1<<63 - 1, want: Fire},
		},
	}})
}

func TestProcessingTimeTrigger(t *testing.T) {
	w := Window{0, 1000}
	runTriggerCases(t, []triggerCase{{
		name: "fires when its timer goes off", trigger: ProcessingTimeTrigger(), w: w, canMerge: true, str: "ProcessingTimeTrigger()",
		steps: []step{
			{call: "element", ts: -5, pt: 100, want: Continue, calls: []string{"RegisterProcessingTimeTimer(999)"}},
			{call: "event", ts: 999, wm: 2000, want: Continue},
			{call: "processing", ts: 999, pt: 999, want: Fire},
			{call: "clear", calls: []string{"DeleteProcessingTimeTimer(999)"}},
		},
	}, {
		name: "merge registers the merged window's timer only while it is pending", trigger: ProcessingTimeTrigger(), w: w, canMerge: true, str: "ProcessingTimeTrigger()",
		steps: []step{
			{call: "merge", pt: 998, calls: []string{"RegisterProcessingTimeTimer(999)"}},
			{call: "merge", pt: 999},
		},
	}})
}

func TestCountTrigger(t *testing.T) {
	w := Window{0, 1000}
	runTriggerCases(t, []triggerCase{{
		name: "fires every n elements", trigger: CountTrigger(3), w: w, canMerge: true, str: "CountTrigger(3)",
		steps: []step{
			{call: "element", want: Continue, counts: map[string]int64{"count": 1}},
			{call: "element", want: Continue, counts: map[string]int64{"count": 2}},
			{call: "element", want: Fire},
			{call: "element", want: Continue, counts: map[string]int64{"count": 1}},
			{call: "event", ts: 999, wm: 999, want: Continue, counts: map[string]int64{"count": 1}},
			{call: "processing", ts: 999, pt: 999, want: Continue, counts: map[string]int64{"count": 1}},
			// Merging sums counts but does not fire; the next element does.
			{call: "merge", merging: []map[string]int64{{"count": 1}, {"count": 2}}, counts: map[string]int64{"count": 4}},
			{call: "element", want: Fire},
			{call: "element", want: Continue, counts: map[string]int64{"count": 1}},
			{call: "clear"},
		},
	}, {
		name: "n = 1 fires on every element", trigger: CountTrigger(1), w: w, canMerge: true, str: "CountTrigger(1)",
		steps: []step{{call: "element", want: Fire}, {call: "element", want: Fire}},
	}, {
		name: "n = 0 fires on every element, as in Flink", trigger: CountTrigger(0), w: w, canMerge: true, str: "CountTrigger(0)",
		steps: []step{{call: "element", want: Fire}, {call: "element", want: Fire}},
	}})
}

// purgeOnEventTime returns Purge on event-time timers, to check that
// PurgingTrigger passes a purge through unchanged.
type purgeOnEventTime struct{ neverTrigger }

func (purgeOnEventTime) OnEventTime(int64, Window, TriggerContext) Result { return Purge }
func (purgeOnEventTime) String() string                                   { return "purgeOnEventTime" }

func TestPurgingTrigger(t *testing.T) {
	w := Window{0, 1000}
	runTriggerCases(t, []triggerCase{{
		name: "count", trigger: PurgingTrigger(CountTrigger(2)), w: w, canMerge: true, str: "PurgingTrigger(CountTrigger(2))",
		steps: []step{
			{call: "element", want: Continue, counts: map[string]int64{"count": 1}},
			{call: "element", want: FireAndPurge},
			{call: "merge", merging: []map[string]int64{{"count": 1}}, counts: map[string]int64{"count": 1}},
			{call: "clear"},
		},
	}, {
		name: "event time", trigger: PurgingTrigger(EventTimeTrigger()), w: w, canMerge: true, str: "PurgingTrigger(EventTimeTrigger())",
		steps: []step{
			{call: "element", wm: 0, want: Continue, calls: []string{"RegisterEventTimeTimer(999)"}},
			{call: "event", ts: 500, want: Continue},
			{call: "event", ts: 999, want: FireAndPurge},
			{call: "element", wm: 999, want: FireAndPurge},
			{call: "merge", wm: 0, calls: []string{"RegisterEventTimeTimer(999)"}},
			{call: "clear", calls: []string{"DeleteEventTimeTimer(999)"}},
		},
	}, {
		name: "processing time", trigger: PurgingTrigger(ProcessingTimeTrigger()), w: w, canMerge: true, str: "PurgingTrigger(ProcessingTimeTrigger())",
		steps: []step{
			{call: "processing", ts: 999, want: FireAndPurge},
		},
	}, {
		name: "purge passes through", trigger: PurgingTrigger(purgeOnEventTime{}), w: w, canMerge: false, str: "PurgingTrigger(purgeOnEventTime)",
		steps: []step{
			{call: "event", ts: 999, want: Purge},
			{call: "element", want: Continue},
		},
	}})
}

func TestNeverTrigger(t *testing.T) {
	runTriggerCases(t, []triggerCase{{
		name: "never fires", trigger: NeverTrigger(), w: Global, canMerge: false, str: "NeverTrigger()",
		steps: []step{
			{call: "element", ts: 5, wm: 1<<63 - 1, want: Continue},
			{call: "event", ts: 1<<63 - 1, want: Continue},
			{call: "processing", ts: 1<<63 - 1, want: Continue},
			{call: "clear"},
		},
	}})
}

func TestContinuousEventTimeTrigger(t *testing.T) {
	mustTrigger := func(tr Trigger, err error) Trigger {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	ft := func(v int64) map[string]int64 {
		if v == 0 {
			return map[string]int64{"fire-time-set": 1}
		}
		return map[string]int64{"fire-time": v, "fire-time-set": 1}
	}
	runTriggerCases(t, []triggerCase{{
		name: "fires every interval and at the end", trigger: mustTrigger(ContinuousEventTimeTrigger(100)), w: Window{0, 1000},
		canMerge: false, str: "ContinuousEventTimeTrigger(100)",
		steps: []step{
			{call: "element", ts: 250, want: Continue, calls: []string{"RegisterEventTimeTimer(999)", "RegisterEventTimeTimer(300)"}, counts: ft(300)},
			{call: "element", ts: 420, want: Continue, calls: []string{"RegisterEventTimeTimer(999)"}, counts: ft(300)},
			{call: "event", ts: 250, wm: 250, want: Continue, counts: ft(300)},
			{call: "event", ts: 300, wm: 300, want: Fire, calls: []string{"RegisterEventTimeTimer(400)"}, counts: ft(400)},
			{call: "processing", ts: 400, want: Continue, counts: ft(400)},
			{call: "event", ts: 400, wm: 400, want: Fire, calls: []string{"RegisterEventTimeTimer(500)"}, counts: ft(500)},
			{call: "event", ts: 500, wm: 900, want: Fire, calls: []string{"RegisterEventTimeTimer(600)"}, counts: ft(600)},
			{call: "event", ts: 600, wm: 900, want: Fire, calls: []string{"RegisterEventTimeTimer(700)"}, counts: ft(700)},
			{call: "event", ts: 700, wm: 900, want: Fire, calls: []string{"RegisterEventTimeTimer(800)"}, counts: ft(800)},
			{call: "event", ts: 800, wm: 900, want: Fire, calls: []string{"RegisterEventTimeTimer(900)"}, counts: ft(900)},
			// The next fire time is capped at the end of the window.
			{call: "event", ts: 900, wm: 900, want: Fire, calls: []string{"RegisterEventTimeTimer(999)"}, counts: ft(999)},
			{call: "event", ts: 999, wm: 999, want: Fire, counts: ft(999)},
			{call: "element", ts: 10, wm: 999, want: Fire, counts: ft(999)}, // late: fire at once
			{call: "clear", calls: []string{"DeleteEventTimeTimer(999)"}},
			{call: "clear"},
		},
	}, {
		name: "negative time and a fire time of 0", trigger: mustTrigger(ContinuousEventTimeTrigger(100)), w: Window{-1000, 1000},
		canMerge: false, str: "ContinuousEventTimeTrigger(100)",
		steps: []step{
			{call: "element", ts: -50, wm: -2000, want: Continue, calls: []string{"RegisterEventTimeTimer(999)", "RegisterEventTimeTimer(0)"}, counts: ft(0)},
			{call: "element", ts: -250, wm: -2000, want: Continue, calls: []string{"RegisterEventTimeTimer(999)"}, counts: ft(0)},
			{call: "event", ts: 0, wm: 0, want: Fire, calls: []string{"RegisterEventTimeTimer(100)"}, counts: ft(100)},
			{call: "clear", calls: []string{"DeleteEventTimeTimer(100)"}},
		},
	}})
	if _, err := ContinuousEventTimeTrigger(0); !errors.Is(err, ErrInvalidArgument) ||
		err.Error() != "invalid window argument: ContinuousEventTimeTrigger interval must be > 0, got 0" {
		t.Errorf("ContinuousEventTimeTrigger(0) error = %v", err)
	}
}

func TestResult(t *testing.T) {
	tests := []struct {
		r              Result
		fire, purge    bool
		str            string
		purgedWhenFire Result
	}{
		{Continue, false, false, "CONTINUE", Continue},
		{Fire, true, false, "FIRE", FireAndPurge},
		{Purge, false, true, "PURGE", Purge},
		{FireAndPurge, true, true, "FIRE_AND_PURGE", FireAndPurge},
		{Result(7), true, true, "Result(7)", FireAndPurge},
	}
	for _, tt := range tests {
		if tt.r.IsFire() != tt.fire || tt.r.IsPurge() != tt.purge || tt.r.String() != tt.str {
			t.Errorf("%d: IsFire %t IsPurge %t String %q, want %t %t %q", tt.r, tt.r.IsFire(), tt.r.IsPurge(), tt.r.String(), tt.fire, tt.purge, tt.str)
		}
		if got := purgeOnFire(tt.r); got != tt.purgedWhenFire {
			t.Errorf("purgeOnFire(%v) = %v, want %v", tt.r, got, tt.purgedWhenFire)
		}
	}
}

func TestPurgingTriggerOfNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("PurgingTrigger(nil) did not panic")
		}
	}()
	PurgingTrigger(nil)
}
