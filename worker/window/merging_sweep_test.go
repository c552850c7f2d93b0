package window

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

// sweepSet is Flink's merge, literally: sort every in-flight window with the
// new one and sweep, growing a cover while the next window intersects it. It is
// the slow obvious reference for MergingWindowSet's binary search.
type sweepSet map[Window]Window

func (s sweepSet) add(nw Window) (result Window, call string) {
	if _, ok := s[nw]; ok {
		return nw, ""
	}
	sorted := slices.SortedFunc(maps.Keys(s), compareWindows)
	sorted = append(sorted, nw)
	slices.SortFunc(sorted, compareWindows)
	result, mergedNew := nw, false
	for i := 0; i < len(sorted); {
		cover, j := sorted[i], i+1
		for j < len(sorted) && cover.Intersects(sorted[j]) {
			cover = cover.Cover(sorted[j])
			j++
		}
		if j-i > 1 {
			var merged, mergedState []Window
			hasNew := false
			for _, w := range sorted[i:j] {
				if w == nw {
					hasNew = true
				} else {
					merged = append(merged, w)
				}
			}
			stateResult := s[merged[0]]
			for _, w := range merged {
				if s[w] != stateResult {
					mergedState = append(mergedState, s[w])
				}
			}
			slices.SortFunc(mergedState, compareWindows)
			if hasNew {
				result, mergedNew = cover, true
			}
			if !(len(merged) == 1 && merged[0] == cover) {
				call = fmt.Sprint(cover, merged, stateResult, mergedState)
				for _, w := range merged {
					delete(s, w)
				}
				s[cover] = stateResult
			}
		}
		i = j
	}
	if !mergedNew {
		s[nw] = nw
	}
	return result, call
}

// TestMergingWindowSetMatchesSweep: the same windows, results and merge calls
// as the sweep over all windows, with retirements in between.
func TestMergingWindowSetMatchesSweep(t *testing.T) {
	r, seed := testRand(t)
	for round := range 300 {
		gap := 1 + r.Int64N(20)
		s, ref := NewMergingWindowSet(nil), sweepSet{}
		for step := range 80 {
			if r.IntN(8) == 0 && s.Len() > 0 {
				ws := slices.SortedFunc(maps.Keys(ref), compareWindows)
				w := ws[r.IntN(len(ws))]
				s.Retire(w)
				delete(ref, w)
				continue
			}
			ts := r.Int64N(400) - 100
			nw := Window{ts, ts + gap}
			var call string
			got, err := s.AddWindow(nw, func(result Window, merged []Window, stateResult Window, mergedState []Window) error {
				call = fmt.Sprint(result, merged, stateResult, mergedState)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want, wantCall := ref.add(nw)
			if got != want || call != wantCall {
				t.Fatalf("seed %d round %d step %d: AddWindow(%v) = %v, merge %q; the sweep gives %v, merge %q", seed, round, step, nw, got, call, want, wantCall)
			}
			if !maps.Equal(s.Windows(), map[Window]Window(ref)) {
				t.Fatalf("seed %d round %d step %d: windows %v, the sweep has %v", seed, round, step, s.Windows(), ref)
			}
		}
	}
}
