package state

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
)

// files is an in-memory checkpoint: written parts, read back by handle.
type files struct {
	data    map[string][]byte
	handles []Handle
}

func (f *files) write(t *testing.T, subtask int, parts []Part) {
	t.Helper()
	for i, p := range parts {
		var buf bytes.Buffer
		if err := p.Write(&buf); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("op-%d-%d", subtask, i)
		if f.data == nil {
			f.data = map[string][]byte{}
		}
		f.data[path] = buf.Bytes()
		f.handles = append(f.handles, Handle{Operator: "op", Subtask: subtask, Name: p.Name, Kind: p.Kind, KeyGroups: p.KeyGroups,
			Path: path, Size: int64(buf.Len()), Checksum: crc32.Checksum(buf.Bytes(), crc32.MakeTable(crc32.Castagnoli))})
	}
}

func (f *files) restored(subtask, parallelism, oldParallelism int) *Restored {
	return &Restored{Subtask: subtask, Parallelism: parallelism, OldParallelism: oldParallelism, Handles: f.handles,
		Read: func(h Handle) ([]byte, error) {
			b, ok := f.data[h.Path]
			if !ok {
				return nil, fmt.Errorf("%w: %s is missing", ErrCorruptState, h.Path)
			}
			return b, nil
		}}
}

func intHash(k int64) uint64 { return Mix64(uint64(k)) }

// TestKeyedStateRescales writes value state and timers from 2 subtasks and
// restores them at 3 and at 1: every key's value and timers come back in the
// subtask owning its key group, and only there.
func TestKeyedStateRescales(t *testing.T) {
	const maxP, keys = 16, 200
	var f files
	for sub := range 2 {
		b := NewHeapKeyedBackend[int64](KeyGroupRangeForSubtask(sub, maxP, 2), maxP, intHash, func() int64 { return 0 })
		v, err := GetValueState(b, ValueStateDescriptor[string]{Name: "v"})
		if err != nil {
			t.Fatal(err)
		}
		ts := NewTimerService[int64, struct{}](b)
		for k := int64(0); k < keys; k++ {
			if err := b.SetCurrentKey(k); err != nil {
				continue // another subtask's key
			}
			v.Update(fmt.Sprint("value-", k))
			ts.RegisterEventTimeTimer(struct{}{}, 1000+k%3)
			ts.RegisterEventTimeTimer(struct{}{}, 5000)
		}
		parts, err := b.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		tparts, err := ts.Snapshot("_timers")
		if err != nil {
			t.Fatal(err)
		}
		f.write(t, sub, append(parts, tparts...))
	}
	for _, p := range []int{3, 1} {
		seen := map[int64]int{}
		var fired []string
		for sub := range p {
			b := NewHeapKeyedBackend[int64](KeyGroupRangeForSubtask(sub, maxP, p), maxP, intHash, func() int64 { return 0 })
			r := f.restored(sub, p, 2)
			b.Restore(r)
			ts := NewTimerService[int64, struct{}](b)
			if err := ts.Restore(r, "_timers"); err != nil {
				t.Fatal(err)
			}
			v, err := GetValueState(b, ValueStateDescriptor[string]{Name: "v"})
			if err != nil {
				t.Fatal(err)
			}
			for k := int64(0); k < keys; k++ {
				if err := b.SetCurrentKey(k); err != nil {
					continue
				}
				got, ok := v.Value()
				if want := fmt.Sprint("value-", k); !ok || got != want {
					t.Fatalf("p=%d subtask %d key %d: %q %v, want %q", p, sub, k, got, ok, want)
				}
				seen[k]++
			}
			if err := ts.AdvanceWatermark(1001, func(k int64, _ struct{}, at int64) error {
				fired = append(fired, fmt.Sprintf("%d@%d", k, at))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// Left: every key's timer at 5000, and those at 1002.
			if n, want := ts.NumEventTimeTimers(), countKeys(b, keys)+remaining(b, keys); n != want {
				t.Fatalf("p=%d subtask %d: %d timers left, want %d", p, sub, n, want)
			}
		}
		if len(seen) != keys {
			t.Fatalf("p=%d: %d keys restored, want %d", p, len(seen), keys)
		}
		var want []string
		for k := int64(0); k < keys; k++ {
			if 1000+k%3 <= 1001 {
				want = append(want, fmt.Sprintf("%d@%d", k, 1000+k%3))
			}
		}
		slices.Sort(fired)
		slices.Sort(want)
		if !slices.Equal(fired, want) {
			t.Fatalf("p=%d: fired %d timers, want %d", p, len(fired), len(want))
		}
	}
}

// countKeys is the number of keys 0..n-1 that b owns.
func countKeys(b *HeapKeyedBackend[int64], n int64) int {
	c := 0
	for k := int64(0); k < n; k++ {
		if b.rng.Contains(KeyGroupForHash(intHash(k), b.maxP)) {
			c++
		}
	}
	return c
}

// remaining is how many of b's keys still have their 1000+k%3 timer after the
// watermark 1001 (those with k%3 == 2).
func remaining(b *HeapKeyedBackend[int64], n int64) int {
	c := 0
	for k := int64(0); k < n; k++ {
		if k%3 == 2 && b.rng.Contains(KeyGroupForHash(intHash(k), b.maxP)) {
			c++
		}
	}
	return c
}

// TestTimerRestoreKeepsRegistrationOrder: ties between equal timestamps fire
// in registration order after a restore too.
func TestTimerRestoreKeepsRegistrationOrder(t *testing.T) {
	rng := KeyGroupRange{Start: 0, End: 7}
	b := NewHeapKeyedBackend[string](rng, 8, HashString, nil)
	ts := NewTimerService[string, struct{}](b)
	order := []string{"q", "a", "z", "m", "b"}
	for _, k := range order {
		_ = b.SetCurrentKey(k)
		ts.RegisterEventTimeTimer(struct{}{}, 7)
	}
	parts, err := ts.Snapshot("t")
	if err != nil {
		t.Fatal(err)
	}
	var f files
	f.write(t, 0, parts)
	b2 := NewHeapKeyedBackend[string](rng, 8, HashString, nil)
	ts2 := NewTimerService[string, struct{}](b2)
	if err := ts2.Restore(f.restored(0, 1, 1), "t"); err != nil {
		t.Fatal(err)
	}
	var got []string
	_ = ts2.AdvanceWatermark(7, func(k string, _ struct{}, _ int64) error { got = append(got, k); return nil })
	if !slices.Equal(got, order) {
		t.Fatalf("fired %v, want %v", got, order)
	}
}

// TestListStateRedistribution: list state goes back to its own subtask at the
// same parallelism and is dealt round-robin at another; union state goes to
// everyone.
func TestListStateRedistribution(t *testing.T) {
	var f files
	for sub := range 2 {
		p, err := SnapshotList("splits", ListKind, []string{fmt.Sprintf("s%d-a", sub), fmt.Sprintf("s%d-b", sub)})
		if err != nil {
			t.Fatal(err)
		}
		u, err := SnapshotList("all", UnionKind, []int64{int64(sub)})
		if err != nil {
			t.Fatal(err)
		}
		f.write(t, sub, []Part{p, u})
	}
	for _, tc := range []struct {
		p, sub int
		want   []string
	}{
		{2, 1, []string{"s1-a", "s1-b"}},
		{3, 0, []string{"s0-a", "s1-b"}},
		{3, 2, []string{"s1-a"}},
		{1, 0, []string{"s0-a", "s0-b", "s1-a", "s1-b"}},
	} {
		got, err := RestoreList[string](f.restored(tc.sub, tc.p, 2), "splits", ListKind)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Fatalf("p=%d subtask %d: %v %v, want %v", tc.p, tc.sub, got, err, tc.want)
		}
		all, err := RestoreList[int64](f.restored(tc.sub, tc.p, 2), "all", UnionKind)
		if err != nil || !slices.Equal(all, []int64{0, 1}) {
			t.Fatalf("union: %v %v", all, err)
		}
	}
	_, err := RestoreList[string](f.restored(0, 1, 2), "all", ListKind)
	wantIncompatible(t, "kind mismatch", err, `incompatible checkpoint state: state "all" of operator op was written as union state and is now declared as list state; `+
		`declare it as union state again, or under a new name to start it empty`)
	_, err = RestoreList[int64](f.restored(0, 2, 2), "splits", ListKind)
	wantIncompatible(t, "type mismatch", err, `incompatible checkpoint state: state "splits" of operator op changed type: op-0-0 was written with Avro schema string and the job now declares long; `+
		`declare the state with its old type again, or under a new name to start it empty`)
	f.data["op-1-0"] = f.data["op-1-0"][:len(f.data["op-1-0"])-3]
	_, err = RestoreList[string](f.restored(1, 2, 2), "splits", ListKind)
	if !errors.Is(err, ErrCorruptState) || errors.Is(err, ErrIncompatibleState) || !strings.Contains(err.Error(), "op-1-0") {
		t.Fatalf("truncated file: %v, want ErrCorruptState (only) naming op-1-0", err)
	}
}

// wantIncompatible fails the test unless err is exactly want, wraps
// ErrIncompatibleState and does not wrap ErrCorruptState.
func wantIncompatible(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %q", what, want)
	}
	if !errors.Is(err, ErrIncompatibleState) || errors.Is(err, ErrCorruptState) {
		t.Errorf("%s: %v wraps ErrIncompatibleState %v and ErrCorruptState %v; want only ErrIncompatibleState",
			what, err, errors.Is(err, ErrIncompatibleState), errors.Is(err, ErrCorruptState))
	}
	if err.Error() != want {
		t.Errorf("%s:\n got %s\nwant %s", what, err, want)
	}
}

// TestRestoreChangedStateTypeIsIncompatible writes keyed states and timers
// with one type and restores them into states of the same name declared with
// another: the restore fails with ErrIncompatibleState, not ErrCorruptState,
// naming the state, the operator and the file, with both schemas. The same
// declarations with the old types restore.
func TestRestoreChangedStateTypeIsIncompatible(t *testing.T) {
	rng := KeyGroupRange{Start: 0, End: 7}
	var f files
	b := NewHeapKeyedBackend[int64](rng, 8, intHash, func() int64 { return 0 })
	count, err := GetValueState(b, ValueStateDescriptor[int64]{Name: "count"})
	if err != nil {
		t.Fatal(err)
	}
	names, err := GetListState(b, ListStateDescriptor[string]{Name: "names"})
	if err != nil {
		t.Fatal(err)
	}
	totals, err := GetMapState(b, MapStateDescriptor[string, int64]{Name: "totals"})
	if err != nil {
		t.Fatal(err)
	}
	ts := NewTimerService[int64, struct{}](b)
	if err := b.SetCurrentKey(1); err != nil {
		t.Fatal(err)
	}
	count.Update(5)
	names.Add("a")
	totals.Put("x", 7)
	ts.RegisterEventTimeTimer(struct{}{}, 10)
	parts, err := b.Snapshot() // in name order: count, names, totals
	if err != nil {
		t.Fatal(err)
	}
	tparts, err := ts.Snapshot("_timers")
	if err != nil {
		t.Fatal(err)
	}
	f.write(t, 0, append(parts, tparts...))
	restored := func() *HeapKeyedBackend[int64] {
		nb := NewHeapKeyedBackend[int64](rng, 8, intHash, func() int64 { return 0 })
		nb.Restore(f.restored(0, 1, 1))
		return nb
	}
	const advice = "; declare the state with its old type again, or under a new name to start it empty"
	for _, tc := range []struct {
		name    string
		declare func(b *HeapKeyedBackend[int64]) error
		want    string
	}{
		{
			name: "ValueState[int64] as ValueState[string]",
			declare: func(b *HeapKeyedBackend[int64]) error {
				_, err := GetValueState(b, ValueStateDescriptor[string]{Name: "count"})
				return err
			},
			want: `incompatible checkpoint state: state "count" of operator op changed type: op-0-0 was written with Avro schema ` +
				`{keyGroup: int, key: long, value: {v: long, ts: long}} and the job now declares {keyGroup: int, key: long, value: {v: string, ts: long}}` + advice,
		},
		{
			name: "ValueState[int64] as ValueState[int32]",
			declare: func(b *HeapKeyedBackend[int64]) error {
				_, err := GetValueState(b, ValueStateDescriptor[int32]{Name: "count"})
				return err
			},
			want: `incompatible checkpoint state: state "count" of operator op changed type: op-0-0 was written with Avro schema ` +
				`{keyGroup: int, key: long, value: {v: long, ts: long}} and the job now declares {keyGroup: int, key: long, value: {v: int, ts: long}}` + advice,
		},
		{
			name: "ListState[string] as ListState[[]byte]",
			declare: func(b *HeapKeyedBackend[int64]) error {
				_, err := GetListState(b, ListStateDescriptor[[]byte]{Name: "names"})
				return err
			},
			want: `incompatible checkpoint state: state "names" of operator op changed type: op-0-1 was written with Avro schema ` +
				`{keyGroup: int, key: long, value: union(null, {vs: array(string), ts: array(long)})} and the job now declares ` +
				`{keyGroup: int, key: long, value: union(null, {vs: array(bytes), ts: array(long)})}` + advice,
		},
		{
			name: "MapState[string, int64] as MapState[string, float64]",
			declare: func(b *HeapKeyedBackend[int64]) error {
				_, err := GetMapState(b, MapStateDescriptor[string, float64]{Name: "totals"})
				return err
			},
			want: `incompatible checkpoint state: state "totals" of operator op changed type: op-0-2 was written with Avro schema ` +
				`{keyGroup: int, key: long, value: map({v: long, ts: long})} and the job now declares {keyGroup: int, key: long, value: map({v: double, ts: long})}` + advice,
		},
		{
			name: "ValueState[int64] as ListState[int64]",
			declare: func(b *HeapKeyedBackend[int64]) error {
				_, err := GetListState(b, ListStateDescriptor[int64]{Name: "count"})
				return err
			},
			want: `incompatible checkpoint state: state "count" of operator op changed type: op-0-0 was written with Avro schema ` +
				`{keyGroup: int, key: long, value: {v: long, ts: long}} and the job now declares {keyGroup: int, key: long, value: union(null, {vs: array(long), ts: array(long)})}` + advice,
		},
		{
			name: "timers with another key type",
			declare: func(*HeapKeyedBackend[int64]) error {
				sb := NewHeapKeyedBackend[string](rng, 8, HashString, func() int64 { return 0 })
				return NewTimerService[string, struct{}](sb).Restore(f.restored(0, 1, 1), "_timers")
			},
			want: `incompatible checkpoint state: state "_timers/event" of operator op changed type: op-0-3 was written with Avro schema ` +
				`{keyGroup: int, key: long, namespace: {}, timestamp: long, seq: long} and the job now declares ` +
				`{keyGroup: int, key: string, namespace: {}, timestamp: long, seq: long}; it is the operator's own state, typed by its key and functions: ` +
				`go back to the old types, or give the operator a new UID and set execution.savepoint.ignore-unclaimed-state to start it without state`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nb := restored()
			wantIncompatible(t, tc.name, tc.declare(nb), tc.want)
			// The failed declaration registered nothing: the old type restores.
			v, err := GetValueState(nb, ValueStateDescriptor[int64]{Name: "count"})
			if err != nil {
				t.Fatal(err)
			}
			if err := nb.SetCurrentKey(1); err != nil {
				t.Fatal(err)
			}
			if got, ok := v.Value(); !ok || got != 5 {
				t.Fatalf("count after the failed declaration = %d %v, want 5 true", got, ok)
			}
		})
	}
}

// TestShortSchemas pins the short forms of schemas in ErrIncompatibleState
// messages, and the fallback to the whole schemas when the short forms are
// equal or a schema is not JSON.
func TestShortSchemas(t *testing.T) {
	for _, tc := range []struct {
		a, b         string
		wantA, wantB string
	}{
		{`"long"`, `"string"`, "long", "string"},
		{`{"type":"record","name":"a_b","fields":[{"name":"x","type":["null",{"type":"array","items":"int"}]}]}`,
			`{"type":"record","name":"a_b","fields":[{"name":"x","type":{"type":"map","values":{"type":"fixed","name":"fixed_4","size":4}}}]}`,
			"{x: union(null, array(int))}", "{x: map(fixed(4))}"},
		{`{"type":"long","logicalType":"timestamp-nanos"}`, `"long"`, "long(timestamp-nanos)", "long"},
		// Only a record's name differs: the short forms would hide it.
		{`{"type":"record","name":"old","fields":[]}`, `{"type":"record","name":"new","fields":[]}`,
			`{"type":"record","name":"old","fields":[]}`, `{"type":"record","name":"new","fields":[]}`},
		{`not json`, `"long"`, `not json`, `"long"`},
	} {
		gotA, gotB := shortSchemas(tc.a, tc.b)
		if gotA != tc.wantA || gotB != tc.wantB {
			t.Errorf("shortSchemas(%s, %s) = %q, %q; want %q, %q", tc.a, tc.b, gotA, gotB, tc.wantA, tc.wantB)
		}
	}
}
