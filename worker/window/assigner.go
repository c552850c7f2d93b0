package window

import (
	"errors"
	"fmt"
	"slices"
)

// ErrInvalidArgument is returned, wrapped, by the assigner and trigger
// constructors when a parameter is out of range. The message names the
// parameter, the accepted range and the value given.
var ErrInvalidArgument = errors.New("invalid window argument")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidArgument, fmt.Sprintf(format, args...))
}

// Assigner assigns each element to zero or more windows (Flink's
// WindowAssigner). Assigners are immutable and safe for concurrent use.
type Assigner interface {
	// Assign returns the windows of an element with the given event timestamp,
	// seen at the given processing time. Event-time assigners use only the
	// timestamp, processing-time assigners only the processing time. The
	// timestamp must not be NoTimestamp for an event-time assigner.
	Assign(timestamp int64, processingTime int64) []Window
	// AssignTo appends the windows Assign would return to dst and returns the
	// extended slice; pass dst[:0] to reuse a buffer across elements.
	AssignTo(dst []Window, timestamp, processingTime int64) []Window
	// EventTime reports whether windows are on event time (else processing time).
	EventTime() bool
	// Merging reports whether windows of one key merge (session windows); the
	// operator then keeps a MergingWindowSet per key.
	Merging() bool
	// DefaultTrigger is the trigger used when the user sets none.
	DefaultTrigger() Trigger
	// String describes the assigner, e.g.
	// "TumblingEventTimeWindows(size=1000, offset=0)".
	String() string
}

var (
	_ Assigner = (*tumbling)(nil)
	_ Assigner = (*sliding)(nil)
	_ Assigner = (*session)(nil)
	_ Assigner = globalWindows{}
)

// windowFor returns the window [ts-d, ts-d+size), saturated to the int64 range.
// d is ts's distance from the window start, 0 <= d < size.
func windowFor(ts, d, size int64) Window {
	return Window{Start: subSat(ts, d), End: addSat(ts, size-d)}
}

func timeDomain(eventTime bool) string {
	if eventTime {
		return "EventTime"
	}
	return "ProcessingTime"
}

func defaultTrigger(eventTime bool) Trigger {
	if eventTime {
		return EventTimeTrigger()
	}
	return ProcessingTimeTrigger()
}

// tumbling assigns each element to the one window of size size that contains
// it; windows start at offset + k*size.
type tumbling struct {
	size, offset int64
	eventTime    bool
}

// TumblingEventTime returns Flink's TumblingEventTimeWindows: fixed-size,
// non-overlapping windows on event time, starting at offset + k*size (offset 0:
// [0, size), [size, 2*size), ...). A negative offset shifts windows earlier,
// e.g. -8h for days in UTC+8. It requires size > 0 and -size < offset < size.
func TumblingEventTime(size, offset int64) (Assigner, error) {
	return newTumbling(size, offset, true)
}

// TumblingProcessingTime is TumblingEventTime on processing time.
func TumblingProcessingTime(size, offset int64) (Assigner, error) {
	return newTumbling(size, offset, false)
}

func newTumbling(size, offset int64, eventTime bool) (Assigner, error) {
	name := "Tumbling" + timeDomain(eventTime) + "Windows"
	if size <= 0 {
		return nil, invalidf("%s size must be > 0, got %d", name, size)
	}
	if offset <= -size || offset >= size {
		return nil, invalidf("%s offset must be within (-size, size) = (%d, %d), got %d; an offset that differs by a multiple of size gives the same windows",
			name, -size, size, offset)
	}
	return &tumbling{size: size, offset: offset, eventTime: eventTime}, nil
}

func (a *tumbling) Assign(timestamp, processingTime int64) []Window {
	return a.AssignTo(nil, timestamp, processingTime)
}

func (a *tumbling) AssignTo(dst []Window, timestamp, processingTime int64) []Window {
	ts := timestamp
	if !a.eventTime {
		ts = processingTime
	}
	return append(dst, windowFor(ts, floorMod(ts, a.offset, a.size), a.size))
}

func (a *tumbling) EventTime() bool         { return a.eventTime }
func (a *tumbling) Merging() bool           { return false }
func (a *tumbling) DefaultTrigger() Trigger { return defaultTrigger(a.eventTime) }
func (a *tumbling) String() string {
	return fmt.Sprintf("Tumbling%sWindows(size=%d, offset=%d)", timeDomain(a.eventTime), a.size, a.offset)
}

// sliding assigns each element to every window of size size that contains it,
// where windows start every slide at offset + k*slide.
type sliding struct {
	size, slide, offset int64
	eventTime           bool
}

// MaxWindowsPerElement bounds the windows a sliding assigner puts one element
// in, ceil(size/slide). Without it a size far above the slide (a year sliding
// by 1 ms) would make each assignment allocate terabytes and kill the process
// at the first element; Flink has no such bound and runs out of memory.
const MaxWindowsPerElement = 1 << 20

// SlidingEventTime returns Flink's SlidingEventTimeWindows: windows of size
// size on event time that start every slide, at offset + k*slide. An element
// belongs to about size/slide windows (none when slide > size and it falls in a
// gap between windows). It requires size > 0, slide > 0,
// -slide < offset < slide (as Flink: an offset is only meaningful modulo
// slide) and ceil(size/slide) <= MaxWindowsPerElement.
func SlidingEventTime(size, slide, offset int64) (Assigner, error) {
	return newSliding(size, slide, offset, true)
}

// SlidingProcessingTime is SlidingEventTime on processing time.
func SlidingProcessingTime(size, slide, offset int64) (Assigner, error) {
	return newSliding(size, slide, offset, false)
}

func newSliding(size, slide, offset int64, eventTime bool) (Assigner, error) {
	name := "Sliding" + timeDomain(eventTime) + "Windows"
	if size <= 0 {
		return nil, invalidf("%s size must be > 0, got %d", name, size)
	}
	if slide <= 0 {
		return nil, invalidf("%s slide must be > 0, got %d", name, slide)
	}
	if offset <= -slide || offset >= slide {
		return nil, invalidf("%s offset must be within (-slide, slide) = (%d, %d), got %d; an offset that differs by a multiple of slide gives the same windows",
			name, -slide, slide, offset)
	}
	if n := (size-1)/slide + 1; n > MaxWindowsPerElement { // ceil(size/slide), without overflow
		return nil, invalidf("%s size %d and slide %d put every element in %d windows, more than the %d allowed; use a larger slide or a smaller size",
			name, size, slide, n, MaxWindowsPerElement)
	}
	return &sliding{size: size, slide: slide, offset: offset, eventTime: eventTime}, nil
}

func (a *sliding) Assign(timestamp, processingTime int64) []Window {
	return a.AssignTo(nil, timestamp, processingTime)
}

// AssignTo appends the windows newest first, as Flink does: the window that
// starts last (at or before ts) comes first, then each one slide earlier while
// it still contains ts.
func (a *sliding) AssignTo(dst []Window, timestamp, processingTime int64) []Window {
	ts := timestamp
	if !a.eventTime {
		ts = processingTime
	}
	// d is the distance from the start of the newest window to ts. Windows are
	// walked by d rather than by start, so nothing overflows near the ends of
	// the int64 range.
	d := floorMod(ts, a.offset, a.slide)
	if d >= a.size {
		return dst // ts falls in a gap between windows (slide > size)
	}
	dst = slices.Grow(dst, int((a.size-d-1)/a.slide+1))
	for {
		dst = append(dst, windowFor(ts, d, a.size))
		if a.slide >= a.size-d {
			return dst
		}
		d += a.slide
	}
}

func (a *sliding) EventTime() bool         { return a.eventTime }
func (a *sliding) Merging() bool           { return false }
func (a *sliding) DefaultTrigger() Trigger { return defaultTrigger(a.eventTime) }
func (a *sliding) String() string {
	return fmt.Sprintf("Sliding%sWindows(size=%d, slide=%d, offset=%d)", timeDomain(a.eventTime), a.size, a.slide, a.offset)
}

// session gives each element the window [ts, ts+gap); overlapping or touching
// windows of one key merge into sessions (see MergingWindowSet).
type session struct {
	gap       int64
	eventTime bool
}

// EventTimeSession returns Flink's EventTimeSessionWindows: a key's session
// ends when no element arrives for gap. It requires gap > 0.
func EventTimeSession(gap int64) (Assigner, error) {
	return newSession(gap, true)
}

// ProcessingTimeSession is EventTimeSession on processing time.
func ProcessingTimeSession(gap int64) (Assigner, error) {
	return newSession(gap, false)
}

func newSession(gap int64, eventTime bool) (Assigner, error) {
	if gap <= 0 {
		return nil, invalidf("%sSessionWindows gap must be > 0, got %d", timeDomain(eventTime), gap)
	}
	return &session{gap: gap, eventTime: eventTime}, nil
}

func (a *session) Assign(timestamp, processingTime int64) []Window {
	return a.AssignTo(nil, timestamp, processingTime)
}

func (a *session) AssignTo(dst []Window, timestamp, processingTime int64) []Window {
	ts := timestamp
	if !a.eventTime {
		ts = processingTime
	}
	return append(dst, Window{Start: ts, End: addSat(ts, a.gap)})
}

func (a *session) EventTime() bool         { return a.eventTime }
func (a *session) Merging() bool           { return true }
func (a *session) DefaultTrigger() Trigger { return defaultTrigger(a.eventTime) }
func (a *session) String() string {
	return fmt.Sprintf("%sSessionWindows(gap=%d)", timeDomain(a.eventTime), a.gap)
}

// globalWindows assigns every element to Global.
type globalWindows struct{}

// GlobalWindows returns Flink's GlobalWindows: every element of a key goes to
// the one window Global. Its default trigger, NeverTrigger, never fires: give
// it a trigger (CountTrigger, ContinuousEventTimeTrigger, ...) and usually an
// evictor. As in Flink it counts as a processing-time assigner, so allowed
// lateness does not apply.
func GlobalWindows() Assigner { return globalWindows{} }

func (globalWindows) Assign(timestamp, processingTime int64) []Window {
	return []Window{Global}
}

func (globalWindows) AssignTo(dst []Window, timestamp, processingTime int64) []Window {
	return append(dst, Global)
}

func (globalWindows) EventTime() bool         { return false }
func (globalWindows) Merging() bool           { return false }
func (globalWindows) DefaultTrigger() Trigger { return NeverTrigger() }
func (globalWindows) String() string          { return "GlobalWindows()" }

// FixedSize reports whether a is a tumbling or sliding assigner: its windows
// all have one size, so a window's end identifies it and windows fire in the
// order of their ends. The window operator keeps such windows in one bucket
// per window instead of one entry per key and window.
func FixedSize(a Assigner) bool {
	switch a.(type) {
	case *tumbling, *sliding:
		return true
	}
	return false
}
