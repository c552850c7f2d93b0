package resource

import (
	"errors"
	"reflect"
	"testing"
)

func TestSlotPoolAllocateRelease(t *testing.T) {
	p := NewSlotPool(2, 2)
	ids, err := p.Allocate("a", 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []SlotID{{0, 0}, {0, 1}, {1, 0}}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("slots %v, want %v", ids, want)
	}
	_, err = p.Allocate("b", 2)
	want := "not enough task slots: the job needs 2 slots (its highest parallelism) but 1 of 4 are free; raise taskmanager.numberOfTaskSlots or the number of TaskManagers, or lower the parallelism"
	if !errors.Is(err, ErrNotEnoughSlots) || err.Error() != want {
		t.Fatalf("over-allocation: %v\nwant %s", err, want)
	}
	if p.Free() != 1 || p.Total() != 4 {
		t.Fatalf("a failed allocation must take nothing: free %d of %d, want 1 of 4", p.Free(), p.Total())
	}
	if got, err := p.Allocate("b", 1); err != nil || !reflect.DeepEqual(got, []SlotID{{1, 1}}) {
		t.Fatalf("the last slot: %v, %v", got, err)
	}
	p.Release("a")
	if got, err := p.Allocate("c", 3); err != nil || !reflect.DeepEqual(got, []SlotID{{0, 0}, {0, 1}, {1, 0}}) {
		t.Fatalf("after release: %v, %v", got, err)
	}
}
