package window

import (
	"fmt"
	"strconv"
)

// Result is what a trigger tells the operator to do with a window (Flink's
// TriggerResult): fire emits the window's contents through the window
// function, purge drops the contents (the window's trigger state and timers
// remain until Trigger.Clear at cleanup time).
type Result uint8

const (
	// Continue does nothing.
	Continue Result = iota
	// Fire evaluates the window and keeps its contents.
	Fire
	// Purge drops the window's contents without evaluating it.
	Purge
	// FireAndPurge evaluates the window, then drops its contents.
	FireAndPurge
)

// IsFire reports whether r is Fire or FireAndPurge.
func (r Result) IsFire() bool { return r&Fire != 0 }

// IsPurge reports whether r is Purge or FireAndPurge.
func (r Result) IsPurge() bool { return r&Purge != 0 }

// String returns Flink's name of r: CONTINUE, FIRE, PURGE or FIRE_AND_PURGE.
func (r Result) String() string {
	switch r {
	case Continue:
		return "CONTINUE"
	case Fire:
		return "FIRE"
	case Purge:
		return "PURGE"
	case FireAndPurge:
		return "FIRE_AND_PURGE"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// TriggerContext is the operator's side of a trigger call: time, timers and
// trigger state, all scoped to the key and window of the call. Timers
// registered here call back OnEventTime or OnProcessingTime for the same key
// and window; registering an existing timer again is a no-op.
type TriggerContext interface {
	CurrentWatermark() int64
	CurrentProcessingTime() int64
	RegisterEventTimeTimer(ts int64)
	DeleteEventTimeTimer(ts int64)
	RegisterProcessingTimeTimer(ts int64)
	DeleteProcessingTimeTimer(ts int64)
	// GetCount returns the named counter of this key and window; a missing
	// counter is 0. SetCount(name, 0) clears it.
	GetCount(name string) int64
	SetCount(name string, v int64)
	// MergeCount, valid only in Trigger.OnMerge, adds the named counters of the
	// windows being merged into the counter of the merged window.
	MergeCount(name string)
}

// Trigger decides when a window fires and when it is purged (Flink's
// Trigger). Triggers are immutable and shared by all keys and windows; their
// state lives in the TriggerContext.
type Trigger interface {
	// OnElement is called for each element added to w, with the element's
	// timestamp.
	OnElement(ts int64, w Window, c TriggerContext) Result
	// OnEventTime is called when an event-time timer at ts registered for w
	// fires.
	OnEventTime(ts int64, w Window, c TriggerContext) Result
	// OnProcessingTime is called when a processing-time timer at ts registered
	// for w fires.
	OnProcessingTime(ts int64, w Window, c TriggerContext) Result
	// CanMerge reports whether the trigger supports merging windows; a merging
	// assigner requires it.
	CanMerge() bool
	// OnMerge is called when windows merge into w: it merges their trigger
	// state into w's (MergeCount) and registers w's timers. The operator then
	// calls Clear for each window merged away.
	OnMerge(w Window, c TriggerContext)
	// Clear deletes the trigger's timers and state for w, when w is purged for
	// good at its cleanup time or merged away.
	Clear(w Window, c TriggerContext)
	String() string
}

var (
	_ Trigger = eventTimeTrigger{}
	_ Trigger = processingTimeTrigger{}
	_ Trigger = countTrigger{}
	_ Trigger = purgingTrigger{}
	_ Trigger = neverTrigger{}
	_ Trigger = continuousEventTimeTrigger{}
)

// eventTimeTrigger fires when the watermark passes the end of the window.
type eventTimeTrigger struct{}

// EventTimeTrigger returns Flink's EventTimeTrigger, the default trigger of
// event-time assigners: it fires once the watermark reaches the window's
// MaxTimestamp. An element that arrives when the watermark is already past it
// (a late element within the allowed lateness) fires the window again at once.
func EventTimeTrigger() Trigger { return eventTimeTrigger{} }

func (eventTimeTrigger) OnElement(ts int64, w Window, c TriggerContext) Result {
	if w.MaxTimestamp() <= c.CurrentWatermark() {
		return Fire
	}
	c.RegisterEventTimeTimer(w.MaxTimestamp())
	return Continue
}

func (eventTimeTrigger) OnEventTime(ts int64, w Window, c TriggerContext) Result {
	if ts == w.MaxTimestamp() {
		return Fire
	}
	return Continue
}

func (eventTimeTrigger) OnProcessingTime(ts int64, w Window, c TriggerContext) Result {
	return Continue
}

func (eventTimeTrigger) CanMerge() bool { return true }

func (eventTimeTrigger) OnMerge(w Window, c TriggerContext) {
	// Only register a timer if the watermark is not yet past the end of the
	// merged window; otherwise the operator already fired or rejected it.
	if w.MaxTimestamp() > c.CurrentWatermark() {
		c.RegisterEventTimeTimer(w.MaxTimestamp())
	}
}

func (eventTimeTrigger) Clear(w Window, c TriggerContext) {
	c.DeleteEventTimeTimer(w.MaxTimestamp())
}

func (eventTimeTrigger) String() string { return "EventTimeTrigger()" }

// processingTimeTrigger fires when processing time passes the end of the window.
type processingTimeTrigger struct{}

// ProcessingTimeTrigger returns Flink's ProcessingTimeTrigger, the default
// trigger of processing-time assigners: it fires when the processing-time
// timer at the window's MaxTimestamp goes off.
func ProcessingTimeTrigger() Trigger { return processingTimeTrigger{} }

func (processingTimeTrigger) OnElement(ts int64, w Window, c TriggerContext) Result {
	c.RegisterProcessingTimeTimer(w.MaxTimestamp())
	return Continue
}

func (processingTimeTrigger) OnEventTime(ts int64, w Window, c TriggerContext) Result {
	return Continue
}

func (processingTimeTrigger) OnProcessingTime(ts int64, w Window, c TriggerContext) Result {
	return Fire
}

func (processingTimeTrigger) CanMerge() bool { return true }

func (processingTimeTrigger) OnMerge(w Window, c TriggerContext) {
	if w.MaxTimestamp() > c.CurrentProcessingTime() {
		c.RegisterProcessingTimeTimer(w.MaxTimestamp())
	}
}

func (processingTimeTrigger) Clear(w Window, c TriggerContext) {
	c.DeleteProcessingTimeTimer(w.MaxTimestamp())
}

func (processingTimeTrigger) String() string { return "ProcessingTimeTrigger()" }

// countCounter is the TriggerContext counter of CountTrigger (Flink's state
// name).
const countCounter = "count"

// countTrigger fires every max elements.
type countTrigger struct{ max int64 }

// CountTrigger returns Flink's CountTrigger: it fires when the window has
// received n elements since it last fired, and resets its count. It keeps
// the contents; wrap it in PurgingTrigger for tumbling count windows. n <= 0
// fires on every element, as in Flink.
func CountTrigger(n int64) Trigger { return countTrigger{max: n} }

func (t countTrigger) OnElement(ts int64, w Window, c TriggerContext) Result {
	n := c.GetCount(countCounter) + 1
	if n >= t.max {
		c.SetCount(countCounter, 0)
		return Fire
	}
	c.SetCount(countCounter, n)
	return Continue
}

func (countTrigger) OnEventTime(ts int64, w Window, c TriggerContext) Result { return Continue }

func (countTrigger) OnProcessingTime(ts int64, w Window, c TriggerContext) Result {
	return Continue
}

func (countTrigger) CanMerge() bool { return true }

// OnMerge sums the counts. Like Flink, it does not fire when the sum reaches
// the limit; the next element does.
func (countTrigger) OnMerge(w Window, c TriggerContext) { c.MergeCount(countCounter) }

func (countTrigger) Clear(w Window, c TriggerContext) { c.SetCount(countCounter, 0) }

func (t countTrigger) String() string { return "CountTrigger(" + strconv.FormatInt(t.max, 10) + ")" }

// purgingTrigger turns every Fire of its nested trigger into FireAndPurge.
type purgingTrigger struct{ nested Trigger }

// PurgingTrigger returns Flink's PurgingTrigger: t, except that whenever t
// fires the window is also purged. t must not be nil.
func PurgingTrigger(t Trigger) Trigger {
	if t == nil {
		panic("window: PurgingTrigger of a nil trigger")
	}
	return purgingTrigger{nested: t}
}

func purgeOnFire(r Result) Result {
	if r.IsFire() {
		return FireAndPurge
	}
	return r
}

func (t purgingTrigger) OnElement(ts int64, w Window, c TriggerContext) Result {
	return purgeOnFire(t.nested.OnElement(ts, w, c))
}

func (t purgingTrigger) OnEventTime(ts int64, w Window, c TriggerContext) Result {
	return purgeOnFire(t.nested.OnEventTime(ts, w, c))
}

func (t purgingTrigger) OnProcessingTime(ts int64, w Window, c TriggerContext) Result {
	return purgeOnFire(t.nested.OnProcessingTime(ts, w, c))
}

func (t purgingTrigger) CanMerge() bool                     { return t.nested.CanMerge() }
func (t purgingTrigger) OnMerge(w Window, c TriggerContext) { t.nested.OnMerge(w, c) }
func (t purgingTrigger) Clear(w Window, c TriggerContext)   { t.nested.Clear(w, c) }
func (t purgingTrigger) String() string                     { return "PurgingTrigger(" + t.nested.String() + ")" }

// neverTrigger never fires.
type neverTrigger struct{}

// NeverTrigger returns the trigger that never fires, the default of
// GlobalWindows (Flink's GlobalWindows.NeverTrigger). Like Flink's, it does
// not support merging.
func NeverTrigger() Trigger { return neverTrigger{} }

func (neverTrigger) OnElement(ts int64, w Window, c TriggerContext) Result        { return Continue }
func (neverTrigger) OnEventTime(ts int64, w Window, c TriggerContext) Result      { return Continue }
func (neverTrigger) OnProcessingTime(ts int64, w Window, c TriggerContext) Result { return Continue }
func (neverTrigger) CanMerge() bool                                               { return false }
func (neverTrigger) OnMerge(w Window, c TriggerContext)                           {}
func (neverTrigger) Clear(w Window, c TriggerContext)                             {}
func (neverTrigger) String() string                                               { return "NeverTrigger()" }

// Counters of ContinuousEventTimeTrigger: the pending fire time, and whether
// there is one (a fire time of 0 is valid, so 0 cannot mean "none").
const (
	fireTimeCounter    = "fire-time"
	fireTimeSetCounter = "fire-time-set"
)

// continuousEventTimeTrigger fires every interval of event time, and at the end
// of the window.
type continuousEventTimeTrigger struct{ interval int64 }

// ContinuousEventTimeTrigger returns Flink's ContinuousEventTimeTrigger: it
// fires at every multiple of interval of event time (as the watermark passes
// it) while the window has elements, and at the window's MaxTimestamp. It
// requires interval > 0.
//
// Unlike Flink's, it does not support merging windows (CanMerge is false):
// merging its pending fire times takes their minimum, and TriggerContext only
// sums counters. Use it with tumbling, sliding or global windows.
func ContinuousEventTimeTrigger(interval int64) (Trigger, error) {
	if interval <= 0 {
		return nil, invalidf("ContinuousEventTimeTrigger interval must be > 0, got %d", interval)
	}
	return continuousEventTimeTrigger{interval: interval}, nil
}

func (t continuousEventTimeTrigger) OnElement(ts int64, w Window, c TriggerContext) Result {
	if w.MaxTimestamp() <= c.CurrentWatermark() {
		return Fire // the watermark is already past the window
	}
	c.RegisterEventTimeTimer(w.MaxTimestamp())
	if c.GetCount(fireTimeSetCounter) == 0 {
		// Flink: ts - ts%interval, which is only right for ts >= 0.
		t.registerNextFire(ts-floorMod(ts, 0, t.interval), w, c)
	}
	return Continue
}

func (t continuousEventTimeTrigger) OnEventTime(ts int64, w Window, c TriggerContext) Result {
	if ts == w.MaxTimestamp() {
		return Fire
	}
	if c.GetCount(fireTimeSetCounter) != 0 && c.GetCount(fireTimeCounter) == ts {
		t.registerNextFire(ts, w, c)
		return Fire
	}
	return Continue
}

// registerNextFire sets the pending fire time to time+interval, or to the end
// of the window if that comes first, and registers its timer.
func (t continuousEventTimeTrigger) registerNextFire(time int64, w Window, c TriggerContext) {
	next := min(addSat(time, t.interval), w.MaxTimestamp())
	c.SetCount(fireTimeCounter, next)
	c.SetCount(fireTimeSetCounter, 1)
	c.RegisterEventTimeTimer(next)
}

func (continuousEventTimeTrigger) OnProcessingTime(ts int64, w Window, c TriggerContext) Result {
	return Continue
}

func (continuousEventTimeTrigger) CanMerge() bool { return false }

// OnMerge is never called, since CanMerge is false.
func (continuousEventTimeTrigger) OnMerge(w Window, c TriggerContext) {}

func (continuousEventTimeTrigger) Clear(w Window, c TriggerContext) {
	if c.GetCount(fireTimeSetCounter) != 0 {
		c.DeleteEventTimeTimer(c.GetCount(fireTimeCounter))
		c.SetCount(fireTimeCounter, 0)
		c.SetCount(fireTimeSetCounter, 0)
	}
}

func (t continuousEventTimeTrigger) String() string {
	return fmt.Sprintf("ContinuousEventTimeTrigger(%d)", t.interval)
}
