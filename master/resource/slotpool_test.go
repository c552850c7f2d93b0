package resource

import (
	"errors"
	"testing"
)

func TestSlotPoolAllocateRelease(t *testing.T) {
	p := NewSlotPool(2, 2)
	ids, err := p.Allocate(3)
	if err != nil {
		t.Fatal(err)
	}
	want := []SlotID{{0, 0}, {0, 1}, {1, 0}}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("slot %d = %v, want %v", i, ids[i], want[i])
		}
	}
	if _, err := p.Allocate(2); !errors.Is(err, ErrNotEnoughSlots) {
		t.Fatalf("over-allocation: err = %v, want ErrNotEnoughSlots", err)
	}
	if p.Free() != 1 {
		t.Fatalf("a failed allocation must take nothing: free = %d, want 1", p.Free())
	}
	p.Release(ids[:2])
	if got, err := p.Allocate(3); err != nil || got[0] != (SlotID{0, 0}) || got[2] != (SlotID{1, 1}) {
		t.Fatalf("after release: %v, %v", got, err)
	}
}
