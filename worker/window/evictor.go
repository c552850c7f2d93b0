package window

import (
	"fmt"
	"math"
)

// TimestampedValue is a window element with its timestamp, as evictors see
// them. Timestamp is NoTimestamp for an element that has none.
type TimestampedValue[T any] struct {
	Value     T
	Timestamp int64
}

// Evictor removes elements from a window's contents before or after the window
// function runs (Flink's Evictor). Only windows kept as element lists (not
// incrementally aggregated) can have an evictor.
//
// Both methods receive the window's elements in arrival order and return the
// kept ones, in the same order. They may overwrite elems in place: the result
// shares elems' backing array, and the caller must use the result, not elems,
// afterwards. Evictors are immutable and safe for concurrent use.
type Evictor[T any] interface {
	// EvictBefore is called after a trigger fires, before the window function.
	EvictBefore(elems []TimestampedValue[T], w Window) []TimestampedValue[T]
	// EvictAfter is called after the window function.
	EvictAfter(elems []TimestampedValue[T], w Window) []TimestampedValue[T]
}

var (
	_ Evictor[int] = countEvictor[int]{}
	_ Evictor[int] = timeEvictor[int]{}
	_ Evictor[int] = deltaEvictor[int]{}
)

// keepIf moves the elements for which keep is true to the front of elems, in
// order, zeroes the rest (so the garbage collector can reclaim what they point
// to) and returns the kept prefix.
func keepIf[T any](elems []TimestampedValue[T], keep func(TimestampedValue[T]) bool) []TimestampedValue[T] {
	n := 0
	for _, e := range elems {
		if keep(e) {
			elems[n] = e
			n++
		}
	}
	clear(elems[n:])
	return elems[:n]
}

type countEvictor[T any] struct {
	max   int
	after bool
}

// CountEvictor returns Flink's CountEvictor: it keeps the last maxCount
// elements of the window (none if maxCount <= 0), before the window function,
// or after it if doEvictAfter.
func CountEvictor[T any](maxCount int, doEvictAfter bool) Evictor[T] {
	return countEvictor[T]{max: max(maxCount, 0), after: doEvictAfter}
}

func (e countEvictor[T]) EvictBefore(elems []TimestampedValue[T], w Window) []TimestampedValue[T] {
	if e.after {
		return elems
	}
	return e.evict(elems)
}

func (e countEvictor[T]) EvictAfter(elems []TimestampedValue[T], w Window) []TimestampedValue[T] {
	if !e.after {
		return elems
	}
	return e.evict(elems)
}

func (e countEvictor[T]) evict(elems []TimestampedValue[T]) []TimestampedValue[T] {
	if len(elems) <= e.max {
		return elems
	}
	n := copy(elems, elems[len(elems)-e.max:])
	clear(elems[n:])
	return elems[:n]
}

func (e countEvictor[T]) String() string {
	return fmt.Sprintf("CountEvictor(%d, evictAfter=%t)", e.max, e.after)
}

type timeEvictor[T any] struct {
	keep  int64
	after bool
}

// TimeEvictor returns Flink's TimeEvictor: it keeps the elements whose
// timestamp is greater than the largest timestamp in the window minus keep,
// that is the last keep units of event time, before the window function, or
// after it if doEvictAfter. As in Flink it evicts nothing when the first
// element has no timestamp (NoTimestamp), and keep <= 0 evicts everything.
func TimeEvictor[T any](keep int64, doEvictAfter bool) Evictor[T] {
	return timeEvictor[T]{keep: keep, after: doEvictAfter}
}

func (e timeEvictor[T]) EvictBefore(elems []TimestampedValue[T], w Window) []TimestampedValue[T] {
	if e.after {
		return elems
	}
	return e.evict(elems)
}

func (e timeEvictor[T]) EvictAfter(elems []TimestampedValue[T], w Window) []TimestampedValue[T] {
	if !e.after {
		return elems
	}
	return e.evict(elems)
}

func (e timeEvictor[T]) evict(elems []TimestampedValue[T]) []TimestampedValue[T] {
	if len(elems) == 0 || elems[0].Timestamp == NoTimestamp {
		return elems
	}
	if e.keep <= 0 {
		clear(elems)
		return elems[:0]
	}
	maxTS := int64(math.MinInt64)
	for _, v := range elems {
		maxTS = max(maxTS, v.Timestamp)
	}
	// Evict ts <= maxTS-keep, written as maxTS-ts >= keep in uint64, which
	// holds every difference of two int64s without overflow.
	return keepIf(elems, func(v TimestampedValue[T]) bool {
		return uint64(maxTS)-uint64(v.Timestamp) < uint64(e.keep)
	})
}

func (e timeEvictor[T]) String() string {
	return fmt.Sprintf("TimeEvictor(%d, evictAfter=%t)", e.keep, e.after)
}

type deltaEvictor[T any] struct {
	threshold float64
	delta     func(a, b T) float64
	after     bool
}

// DeltaEvictor returns Flink's DeltaEvictor: it evicts every element whose
// delta to the last element of the window, delta(element, last), is
// greater than or equal to threshold, before the window function, or after it
// if doEvictAfter. delta must not be nil.
func DeltaEvictor[T any](threshold float64, delta func(a, b T) float64, doEvictAfter bool) Evictor[T] {
	if delta == nil {
		panic("window: DeltaEvictor with a nil delta function")
	}
	return deltaEvictor[T]{threshold: threshold, delta: delta, after: doEvictAfter}
}

func (e deltaEvictor[T]) EvictBefore(elems []TimestampedValue[T], w Window) []TimestampedValue[T] {
	if e.after {
		return elems
	}
	return e.evict(elems)
}

func (e deltaEvictor[T]) EvictAfter(elems []TimestampedValue[T], w Window) []TimestampedValue[T] {
	if !e.after {
		return elems
	}
	return e.evict(elems)
}

func (e deltaEvictor[T]) evict(elems []TimestampedValue[T]) []TimestampedValue[T] {
	if len(elems) == 0 {
		return elems
	}
	last := elems[len(elems)-1].Value // copied: keepIf overwrites elems
	return keepIf(elems, func(v TimestampedValue[T]) bool {
		return !(e.delta(v.Value, last) >= e.threshold)
	})
}

func (e deltaEvictor[T]) String() string {
	return fmt.Sprintf("DeltaEvictor(%g, evictAfter=%t)", e.threshold, e.after)
}
