package window

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
)

// MergeFunc is called by MergingWindowSet.AddWindow for each merge: result is
// the new window, merged are the in-flight windows merged into it (never the
// window being added, which has no state yet), stateResult is the state window
// that keeps the merged contents and mergedState (possibly empty) are the state
// windows whose contents must move into stateResult. merged and mergedState
// are sorted by start and belong to the callee.
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
// Invariant: the in-flight windows of a set never intersect one another.
//
// A MergingWindowSet is not safe for concurrent use; the operator keeps one per
// key and persists Windows() with the key's state.
type MergingWindowSet struct {
	mapping map[Window]Window
	scratch []Window
}

// NewMergingWindowSet returns a set holding existing (in-flight window to state
// window), as restored from a snapshot; nil starts empty. The map is copied.
func NewMergingWindowSet(existing map[Window]Window) *MergingWindowSet {
	m := make(map[Window]Window, len(existing))
	maps.Copy(m, existing)
	return &MergingWindowSet{mapping: m}
}

// StateWindow returns the state window of the in-flight window w, and false if
// w is not in flight.
func (s *MergingWindowSet) StateWindow(w Window) (Window, bool) {
	sw, ok := s.mapping[w]
	return sw, ok
}

// Retire removes w from the set, once it has fired and been purged, or was late
// on arrival. Retiring a window that is not in flight does nothing.
func (s *MergingWindowSet) Retire(w Window) {
	delete(s.mapping, w)
}

// Windows returns a copy of the mapping from in-flight window to state window,
// for persistence.
func (s *MergingWindowSet) Windows() map[Window]Window {
	return maps.Clone(s.mapping)
}

// Len returns the number of in-flight windows.
func (s *MergingWindowSet) Len() int { return len(s.mapping) }

// AddWindow adds newWindow, the window of a new element, and merges it with
// every in-flight window it overlaps or touches (Window.Intersects), as Flink's
// TimeWindow.mergeWindows: windows sorted by start are swept left to right,
// growing a cover while the next window intersects it. It returns the window
// the element belongs to: newWindow itself, or the merged window that holds it.
//
// merge is called once per merge that changes something; it is not called when
// newWindow is added on its own or lies within an in-flight window. The state
// window of the merged window is the state window of the earliest in-flight
// window merged (Flink picks an arbitrary one; Spate is deterministic).
//
// An error from merge is returned wrapped and the merge it refused is not
// applied; the element must then not be added to any window. The operator
// normally fails the task, since it may have merged part of the state already.
func (s *MergingWindowSet) AddWindow(newWindow Window, merge MergeFunc) (Window, error) {
	if _, ok := s.mapping[newWindow]; ok {
		// Already in flight: it intersects no other in-flight window, so there
		// is nothing to merge. (Flink would remap it to itself here, losing
		// the link to its state window if it was the result of a merge.)
		return newWindow, nil
	}
	sorted := s.scratch[:0]
	for w := range s.mapping {
		sorted = append(sorted, w)
	}
	sorted = append(sorted, newWindow)
	slices.SortFunc(sorted, func(a, b Window) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	defer func() { s.scratch = sorted[:0] }()

	result, mergedNew := newWindow, false
	for i := 0; i < len(sorted); {
		cover, j := sorted[i], i+1
		for j < len(sorted) && cover.Intersects(sorted[j]) {
			cover = cover.Cover(sorted[j])
			j++
		}
		if j-i > 1 {
			containsNew, err := s.merge(cover, sorted[i:j], newWindow, merge)
			if err != nil {
				return Window{}, err
			}
			if containsNew {
				result, mergedNew = cover, true
			}
		}
		i = j
	}
	if !mergedNew {
		s.mapping[newWindow] = newWindow
	}
	return result, nil
}

// merge merges group, windows sorted by start whose cover is cover, one of
// which may be newWindow, and reports whether newWindow was among them.
func (s *MergingWindowSet) merge(cover Window, group []Window, newWindow Window, fn MergeFunc) (bool, error) {
	containsNew := false
	merged := make([]Window, 0, len(group))
	for _, w := range group {
		if w == newWindow {
			containsNew = true
			continue
		}
		merged = append(merged, w)
	}
	stateResult := s.mapping[merged[0]]
	var mergedState []Window
	for _, w := range merged {
		if sw := s.mapping[w]; sw != stateResult {
			mergedState = append(mergedState, sw)
		}
	}
	slices.SortFunc(mergedState, func(a, b Window) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End))
	})
	// newWindow within one in-flight window: the element joins it, nothing
	// changes.
	if len(merged) == 1 && merged[0] == cover {
		return containsNew, nil
	}
	if err := fn(cover, merged, stateResult, mergedState); err != nil {
		return false, fmt.Errorf("merge %v into %v: %w", merged, cover, err)
	}
	for _, w := range merged {
		delete(s.mapping, w)
	}
	s.mapping[cover] = stateResult
	return containsNew, nil
}
