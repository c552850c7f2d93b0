// Package window is the pure core of Flink-style windows: which windows an
// element belongs to, when a window fires, which elements an evictor drops,
// how session windows merge and when a window is too late. It has no
// goroutines, no I/O and no state of its own beyond what it is handed: the
// window operator in the task runtime keeps the state, the timers and the
// watermark, and calls in here to decide.
//
// # Assigners: element → windows
//
// A Window is a half-open interval of time [Start, End). An Assigner maps each
// element to its windows, by event timestamp or by processing time:
//
//	tumbling, size 10:         [0,10) [10,20) [20,30)      ts 12 → [10,20)
//	sliding, size 10, slide 5: [5,15) [10,20) ...          ts 12 → [10,20), [5,15)
//	session, gap 10:           one window [ts, ts+10) per element; overlapping ones merge
//	global:                    one window, Global, for everything
//
// Window starts follow Flink's TimeWindow.getWindowStartWithOffset: windows
// start at offset + k*size (k any integer, negative timestamps included), so
// an offset of -8h makes daily windows start at midnight UTC+8.
//
// Each (key, window) pair is an independent bucket of state: the operator adds
// the element to the bucket of each window (as a list, or incrementally with
// reduce or aggregate) and asks the window's Trigger what to do.
//
// # Triggers: when to fire
//
// A Trigger is consulted on each element and when a timer it registered goes
// off, and answers with a Result: Continue, Fire (run the window function on
// the bucket), Purge (empty the bucket) or FireAndPurge. Triggers keep their
// per-window state (a counter) and their timers in the TriggerContext the
// operator implements. Each assigner has a DefaultTrigger:
//
//	EventTimeTrigger       fire when the watermark passes w.MaxTimestamp() (event-time assigners)
//	ProcessingTimeTrigger  fire when processing time passes w.MaxTimestamp() (processing-time assigners)
//	NeverTrigger           never fire (GlobalWindows: the user must set a trigger)
//
// Others: CountTrigger(n) fires every n elements; PurgingTrigger(t) purges
// whenever t fires; ContinuousEventTimeTrigger(i) fires every i of event time.
//
// # Evictors: which elements the window function sees
//
// An Evictor may drop elements of a bucket kept as a list, just before the
// window function runs (EvictBefore) or just after (EvictAfter): CountEvictor
// keeps the last n, TimeEvictor the last span of event time, DeltaEvictor
// those close enough to the last element.
//
// # Session windows: merging
//
// Session assigners are Merging: each element gets its own window
// [ts, ts+gap), and the operator keeps a MergingWindowSet per key. AddWindow
// merges the new window with every in-flight window it overlaps or touches and
// returns the window the element belongs to:
//
//	in flight: [1,11)  [15,25)      add [9,19) → [1,25); merge([1,25), merged [1,11) [15,25), ...)
//
// The merged contents stay in the state of one surviving "state window" (the
// MergingWindowSet maps each in-flight window to it), so the operator merges
// only the other buckets into it, calls Trigger.OnMerge for the new window and
// Trigger.Clear for those merged away. Windows that are [a,b) and [b,c) merge.
//
// # Lateness and cleanup
//
// On event time, a window is complete when the watermark passes its
// MaxTimestamp. With allowed lateness L the operator keeps its state until the
// watermark passes MaxTimestamp+L (CleanupTime); an element that arrives in
// between is added and fires the window again at once (EventTimeTrigger sees
// the watermark already past the window). After that the window IsLate: the
// element is not added, and if it was added to no window at all and
// IsElementLate, it goes to the late-data side output. At CleanupTime the
// operator calls Trigger.Clear and drops the bucket (and Retires the window
// from its MergingWindowSet). Processing-time windows are never late and are
// cleaned up at their MaxTimestamp.
//
// # Time at the edges
//
// Timestamps are int64 (milliseconds by convention). Arithmetic saturates at
// the ends of the int64 range instead of wrapping: a window that would end
// past math.MaxInt64 ends at math.MaxInt64, which means "holds math.MaxInt64
// too", so it fires only on the final watermark.
package window
