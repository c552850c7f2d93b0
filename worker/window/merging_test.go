package window

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
)

type mergeCall struct {
	result      Window
	merged      []Window
	stateResult Window
	mergedState []Window
}

func (c mergeCall) String() string {
	return fmt.Sprintf("merge(%v, merged %v, state %v, mergedState %v)", c.result, c.merged, c.stateResult, c.mergedState)
}

func equalCalls(a, b []mergeCall) bool {
	return slices.EqualFunc(a, b, func(x, y mergeCall) bool {
		return x.result == y.result && slices.Equal(x.merged, y.merged) &&
			x.stateResult == y.stateResult && slices.Equal(x.mergedState, y.mergedState)
	})
}

func TestMergingWindowSetAdd(t *testing.T) {
	type add struct {
		w     Window
		want  Window      // window the element belongs to
		calls []mergeCall // merge callbacks, in order
	}
	tests := []struct {
		name string
		adds []add
		want map[Window]Window // in-flight window -> state window, at the end
	}{{
		name: "disjoint windows stay apart",
		adds: []add{
			{w: Window{0, 10}, want: Window{0, 10}},
			{w: Window{20, 30}, want: Window{20, 30}},
			{w: Window{11, 19}, want: Window{11, 19}},
		},
		want: map[Window]Window{{0, 10}: {0, 10}, {11, 19}: {11, 19}, {20, 30}: {20, 30}},
	}, {
		name: "overlap merges into the earlier window's state",
		adds: []add{
			{w: Window{0, 10}, want: Window{0, 10}},
			{w: Window{5, 15}, want: Window{0, 15}, calls: []mergeCall{{Window{0, 15}, []Window{{0, 10}}, Window{0, 10}, nil}}},
		},
		want: map[Window]Window{{0, 15}: {0, 10}},
	}, {
		name: "touching windows merge: [a,b) then [b,c)",
		adds: []add{
			{w: Window{0, 10}, want: Window{0, 10}},
			{w: Window{10, 20}, want: Window{0, 20}, calls: []mergeCall{{Window{0, 20}, []Window{{0, 10}}, Window{0, 10}, nil}}},
		},
		want: map[Window]Window{{0, 20}: {0, 10}},
	}, {
		name: "touching windows merge: [b,c) then [a,b)",
		adds: []add{
			{w: Window{10, 20}, want: Window{10, 20}},
			{w: Window{0, 10}, want: Window{0, 20}, calls: []mergeCall{{Window{0, 20}, []Window{{10, 20}}, Window{10, 20}, nil}}},
		},
		want: map[Window]Window{{0, 20}: {10, 20}},
	}, {
		name: "out of order: a bridging element merges three windows",
		adds: []add{
			{w: Window{20, 30}, want: Window{20, 30}},
			{w: Window{5, 15}, want: Window{5, 15}},
			{w: Window{12, 22}, want: Window{5, 30}, calls: []mergeCall{
				{Window{5, 30}, []Window{{5, 15}, {20, 30}}, Window{5, 15}, []Window{{20, 30}}},
			}},
		},
		want: map[Window]Window{{5, 30}: {5, 15}},
	}, {
		name: "state windows survive successive merges",
		adds: []add{
			{w: Window{0, 10}, want: Window{0, 10}},
			{w: Window{5, 15}, want: Window{0, 15}, calls: []mergeCall{{Window{0, 15}, []Window{{0, 10}}, Window{0, 10}, nil}}},
			{w: Window{30, 40}, want: Window{30, 40}},
			{w: Window{25, 35}, want: Window{25, 40}, calls: []mergeCall{{Window{25, 40}, []Window{{30, 40}}, Window{30, 40}, nil}}},
			{w: Window{15, 25}, want: Window{0, 40}, calls: []mergeCall{
				{Window{0, 40}, []Window{{0, 15}, {25, 40}}, Window{0, 10}, []Window{{30, 40}}},
			}},
		},
		want: map[Window]Window{{0, 40}: {0, 10}},
	}, {
		name: "new window inside an in-flight window joins it without a merge",
		adds: []add{
			{w: Window{0, 10}, want: Window{0, 10}},
			{w: Window{5, 15}, want: Window{0, 15}, calls: []mergeCall{{Window{0, 15}, []Window{{0, 10}}, Window{0, 10}, nil}}},
			{w: Window{3, 13}, want: Window{0, 15}},
			{w: Window{0, 15}, want: Window{0, 15}},
		},
		want: map[Window]Window{{0, 15}: {0, 10}},
	}, {
		name: "same window twice",
		adds: []add{
			{w: Window{0, 10}, want: Window{0, 10}},
			{w: Window{0, 10}, want: Window{0, 10}},
		},
		want: map[Window]Window{{0, 10}: {0, 10}},
	}, {
		name: "new window covering an in-flight window takes its state",
		adds: []add{
			{w: Window{3, 5}, want: Window{3, 5}},
			{w: Window{0, 10}, want: Window{0, 10}, calls: []mergeCall{{Window{0, 10}, []Window{{3, 5}}, Window{3, 5}, nil}}},
		},
		want: map[Window]Window{{0, 10}: {3, 5}},
	}, {
		name: "windows of different sizes: one element merges three in-flight windows",
		adds: []add{
			{w: Window{9, 12}, want: Window{9, 12}},
			{w: Window{0, 5}, want: Window{0, 5}},
			{w: Window{6, 8}, want: Window{6, 8}},
			{w: Window{4, 10}, want: Window{0, 12}, calls: []mergeCall{
				{Window{0, 12}, []Window{{0, 5}, {6, 8}, {9, 12}}, Window{0, 5}, []Window{{6, 8}, {9, 12}}},
			}},
		},
		want: map[Window]Window{{0, 12}: {0, 5}},
	}, {
		name: "negative time",
		adds: []add{
			{w: Window{-10, 0}, want: Window{-10, 0}},
			{w: Window{0, 10}, want: Window{-10, 10}, calls: []mergeCall{{Window{-10, 10}, []Window{{-10, 0}}, Window{-10, 0}, nil}}},
		},
		want: map[Window]Window{{-10, 10}: {-10, 0}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewMergingWindowSet(nil)
			for i, a := range tt.adds {
				var calls []mergeCall
				got, err := s.AddWindow(a.w, func(result Window, merged []Window, stateResult Window, mergedState []Window) error {
					calls = append(calls, mergeCall{result, merged, stateResult, mergedState})
					return nil
				})
				if err != nil {
					t.Fatalf("add %d %v: %v", i, a.w, err)
				}
				if got != a.want {
					t.Errorf("add %d %v = %v, want %v", i, a.w, got, a.want)
				}
				if !equalCalls(calls, a.calls) {
					t.Errorf("add %d %v: merge calls\n%v\nwant\n%v", i, a.w, calls, a.calls)
				}
			}
			if got := s.Windows(); !maps.Equal(got, tt.want) {
				t.Errorf("Windows() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMergingWindowSetMergeError(t *testing.T) {
	s := NewMergingWindowSet(map[Window]Window{{0, 10}: {0, 10}, {20, 30}: {20, 30}})
	errBoom := errors.New("boom")
	_, err := s.AddWindow(Window{8, 22}, func(Window, []Window, Window, []Window) error { return errBoom })
	if !errors.Is(err, errBoom) {
		t.Fatalf("AddWindow error = %v, want it to wrap %v", err, errBoom)
	}
	want := "merge [TimeWindow{start=0, end=10} TimeWindow{start=20, end=30}] into TimeWindow{start=0, end=30}: boom"
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	// The refused merge is not applied and the new window is not added.
	if got, want := s.Windows(), map[Window]Window{{0, 10}: {0, 10}, {20, 30}: {20, 30}}; !maps.Equal(got, want) {
		t.Errorf("after a failed merge Windows() = %v, want %v", got, want)
	}
}

func TestMergingWindowSetAccessors(t *testing.T) {
	existing := map[Window]Window{{0, 15}: {0, 10}, {20, 30}: {20, 30}}
	s := NewMergingWindowSet(existing)
	existing[Window{100, 200}] = Window{100, 200} // the set holds a copy
	if s.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", s.Len())
	}
	if sw, ok := s.StateWindow(Window{0, 15}); !ok || sw != (Window{0, 10}) {
		t.Errorf("StateWindow([0,15)) = %v, %t, want [0,10), true", sw, ok)
	}
	if sw, ok := s.StateWindow(Window{0, 10}); ok {
		t.Errorf("StateWindow([0,10)) = %v, true; [0,10) is a state window, not in flight", sw)
	}
	w := s.Windows()
	w[Window{1, 2}] = Window{1, 2} // Windows returns a copy
	s.Retire(Window{0, 15})
	s.Retire(Window{50, 60}) // not in flight: no-op
	if got, want := s.Windows(), map[Window]Window{{20, 30}: {20, 30}}; !maps.Equal(got, want) {
		t.Errorf("after Retire Windows() = %v, want %v", got, want)
	}
	// A retired window is gone: a new element there starts afresh.
	got, err := s.AddWindow(Window{5, 15}, func(Window, []Window, Window, []Window) error {
		t.Fatal("unexpected merge")
		return nil
	})
	if err != nil || got != (Window{5, 15}) {
		t.Errorf("AddWindow([5,15)) = %v, %v, want [5,15)", got, err)
	}
}

// TestMergingWindowSetModel drives a set as the window operator does, with
// random session windows and retirements, keeping element timestamps as the
// "state" of each state window, and checks after every step that each in-flight
// window's state holds exactly its elements.
func TestMergingWindowSetModel(t *testing.T) {
	r, seed := testRand(t)
	for round := range 300 {
		gap := 1 + r.Int64N(20)
		s := NewMergingWindowSet(nil)
		state := map[Window][]int64{} // state window -> element timestamps
		for step := range 60 {
			if r.IntN(10) == 0 && s.Len() > 0 {
				// Retire a random in-flight window, as after a purge.
				ws := slices.SortedFunc(maps.Keys(s.Windows()), func(a, b Window) int { return cmp.Compare(a.Start, b.Start) })
				w := ws[r.IntN(len(ws))]
				sw, _ := s.StateWindow(w)
				delete(state, sw)
				s.Retire(w)
				continue
			}
			ts := r.Int64N(300) - 100
			nw := Window{ts, ts + gap}
			got, err := s.AddWindow(nw, func(result Window, merged []Window, stateResult Window, mergedState []Window) error {
				if len(merged) == 0 {
					return fmt.Errorf("merge into %v with nothing merged", result)
				}
				for _, m := range mergedState {
					state[stateResult] = append(state[stateResult], state[m]...)
					delete(state, m)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("seed %d round %d step %d: %v", seed, round, step, err)
			}
			if !(got.Start <= ts && ts < got.End) {
				t.Fatalf("seed %d round %d step %d: AddWindow(%v) = %v, which does not hold %d", seed, round, step, nw, got, ts)
			}
			sw, ok := s.StateWindow(got)
			if !ok {
				t.Fatalf("seed %d round %d step %d: AddWindow(%v) = %v, which is not in flight", seed, round, step, nw, got)
			}
			state[sw] = append(state[sw], ts)
			checkModel(t, s, state, gap, fmt.Sprintf("seed %d round %d step %d", seed, round, step))
		}
	}
}

func checkModel(t *testing.T, s *MergingWindowSet, state map[Window][]int64, gap int64, where string) {
	t.Helper()
	inFlight := s.Windows()
	if len(inFlight) != len(state) {
		t.Fatalf("%s: %d in-flight windows %v but %d state windows %v", where, len(inFlight), inFlight, len(state), state)
	}
	for w, sw := range inFlight {
		elems, ok := state[sw]
		if !ok || len(elems) == 0 {
			t.Fatalf("%s: window %v has state window %v with no state", where, w, sw)
		}
		// The window is exactly the cover of its elements' session windows.
		lo, hi := slices.Min(elems), slices.Max(elems)
		if w != (Window{lo, hi + gap}) {
			t.Fatalf("%s: window %v holds elements %v, want window [%d, %d)", where, w, elems, lo, hi+gap)
		}
		for o := range inFlight {
			if o != w && o.Intersects(w) {
				t.Fatalf("%s: in-flight windows %v and %v intersect", where, w, o)
			}
		}
	}
}
