package window

import (
	"cmp"
	"fmt"
	"slices"
)

// MergeFunc is called by MergingWindowSet.AddWindow for each merge: result is
// the new window, merged are the in-flight windows merged into it (never the
// window being added, which has no state yet), stateResult is the state window
// that keeps the merged contents and mergedState (possibly empty) are the state
// windows whose contents must move into stateResult. merged and mergedState
// are sorted by start and valid only during the call: the set reuses them.
//
// The operator uses it as Flink's WindowOperator does: it rejects a result
// that is already late, calls Trigger.OnMerge for result (merging the trigger
// state of merged), then Trigger.Clear and deletes the cleanup timer for each
// window in merged, and merges the window state of mergedState into
// stateResult.
type MergeFunc func(result Window, merged []Window, stateResult Window, mergedState []Window) error

// MergingWindowSet tracks the in-flight windows of one key of a merging
// assigner (session windows), as Flink's MergingWindowSet. Each window maps to
// its state window: the window under whose namespace its contents are stored.
// When windows merge, the contents stay where they are, under the state window
// of one of them, so merging needs no copy of the surviving state; only the
// mapping changes.
//
// Invariant: the in-flight windows of a set never intersect one another, so
// sorted by start they are sorted by end too, and the windows a new window
// intersects are one run of neighbours, found by binary search: adding a
// window costs O(log n) in the windows in flight, however far the watermark
// lags behind.
//
// A MergingWindowSet is not safe for concurrent use; the operator keeps one per
// key, live, and copies it only for a snapshot.
type MergingWindowSet struct {
	windows []mergingEntry // in flight, by start
	// merged and mergedState are handed to MergeFunc, reused across calls.
	merged, mergedState []Window
}

type mergingEntry struct {
	w, state Window
}

// NewMergingWindowSet returns a set holding existing (in-flight window to state
// window), as restored from a snapshot; nil starts empty. The map is copied.
func NewMergingWindowSet(existing map[Window]Window) *MergingWindowSet {
	s := &MergingWindowSet{windows: make([]mergingEntry, 0, len(existing))}
	for w, sw := range existing {
		s.windows = append(s.windows, mergingEntry{w, sw})
	}
	slices.SortFunc(s.windows, func(a, b mergingEntry) int { return compareWindows(a.w, b.w) })
	return s
}

func compareWindows(a, b Window) int {
	return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
}

// find returns the index of the in-flight window w, or where it would go.
func (s *MergingWindowSet) find(w Window) (int, bool) {
	return slices.BinarySearchFunc(s.windows, w, func(e mergingEntry, w Window) int { return compareWindows(e.w, w) })
}

// StateWindow returns the state window of the in-flight window w, and false if
// w is not in flight.
func (s *MergingWindowSet) StateWindow(w Window) (Window, bool) {
	if i, ok := s.find(w); ok {
		return s.windows[i].state, true
	}
	return Window{}, false
}

// Retire removes w from the set, once it has fired and been purged, or was late
// on arrival. Retiring a window that is not in flight does nothing.
func (s *MergingWindowSet) Retire(w Window) {
	if i, ok := s.find(w); ok {
		s.windows = slices.Delete(s.windows, i, i+1)
	}
}

// Windows returns a copy of the mapping from in-flight window to state window.
func (s *MergingWindowSet) Windows() map[Window]Window {
	m := make(map[Window]Window, len(s.windows))
	for _, e := range s.windows {
		m[e.w] = e.state
	}
	return m
}

// All yields each in-flight window and its state window, by start, for
// persistence. The set must not change during the iteration.
func (s *MergingWindowSet) All(yield func(w, stateWindow Window) bool) {
	for _, e := range s.windows {
		if !yield(e.w, e.state) {
			return
		}
	}
}

// Len returns the number of in-flight windows.
func (s *MergingWindowSet) Len() int { return len(s.windows) }

// AddWindow adds newWindow, the window of a new element, and merges it with
// every in-flight window it overlaps or touches (Window.Intersects), as Flink's
// TimeWindow.mergeWindows. It returns the window the element belongs to:
// newWindow itself, or the merged window that holds it.
//
// Flink sweeps all windows sorted by start, growing a cover while the next
// window intersects it. In-flight windows never intersect one another, so the
// only cover with more than one window is newWindow's, and a window
// intersects that cover only if it intersects newWindow itself (two touching
// windows leave no gap for a third to fall into): the windows merged are the
// run of in-flight windows that intersect newWindow.
//
// merge is called once if the merge changes something; it is not called when
// newWindow is added on its own or lies within an in-flight window. The state
// window of the merged window is the state window of the earliest in-flight
// window merged (Flink picks an arbitrary one; Spate is deterministic).
//
// An error from merge is returned wrapped and the merge it refused is not
// applied; the element must then not be added to any window. The operator
// normally fails the task, since it may have merged part of the state already.
func (s *MergingWindowSet) AddWindow(newWindow Window, merge MergeFunc) (Window, error) {
	at, ok := s.find(newWindow)
	if ok {
		// Already in flight: it intersects no other in-flight window, so there
		// is nothing to merge. (Flink would remap it to itself here, losing
		// the link to its state window if it was the result of a merge.)
		return newWindow, nil
	}
	// Ends grow with starts: the first window that ends at or after
	// newWindow's start begins the run, which goes on while windows start at
	// or before newWindow's end.
	lo, _ := slices.BinarySearchFunc(s.windows, newWindow.Start, func(e mergingEntry, start int64) int {
		return cmp.Compare(e.w.End, start)
	})
	hi := lo
	for hi < len(s.windows) && s.windows[hi].w.Start <= newWindow.End {
		hi++
	}
	if lo == hi {
		s.windows = slices.Insert(s.windows, at, mergingEntry{newWindow, newWindow})
		return newWindow, nil
	}
	run := s.windows[lo:hi]
	cover := newWindow
	merged := s.merged[:0]
	for _, e := range run {
		cover = cover.Cover(e.w)
		merged = append(merged, e.w)
	}
	s.merged = merged
	// newWindow within one in-flight window: the element joins it, nothing
	// changes.
	if len(run) == 1 && run[0].w == cover {
		return cover, nil
	}
	stateResult := run[0].state
	mergedState := s.mergedState[:0]
	for _, e := range run[1:] {
		if e.state != stateResult {
			mergedState = append(mergedState, e.state)
		}
	}
	slices.SortFunc(mergedState, compareWindows)
	s.mergedState = mergedState
	if err := merge(cover, merged, stateResult, mergedState); err != nil {
		return Window{}, fmt.Errorf("merge %v into %v: %w", merged, cover, err)
	}
	s.windows[lo] = mergingEntry{cover, stateResult}
	s.windows = slices.Delete(s.windows, lo+1, hi)
	return cover, nil
}
