package resource

import (
	"errors"
	"fmt"
	"sync"
)

// ErrNotEnoughSlots is returned by Allocate when the cluster has too few free slots.
var ErrNotEnoughSlots = errors.New("not enough task slots")

// SlotID names one slot of one TaskManager.
type SlotID struct {
	TaskManager int
	Slot        int
}

func (s SlotID) String() string { return fmt.Sprintf("tm-%d/slot-%d", s.TaskManager, s.Slot) }

// SlotPool tracks the slots of a fixed set of TaskManagers. Safe for concurrent use.
type SlotPool struct {
	mu         sync.Mutex
	slotsPerTM int
	taken      []bool // by TaskManager*slotsPerTM + slot
}

// NewSlotPool returns a pool of taskManagers × slotsPerTM free slots.
func NewSlotPool(taskManagers, slotsPerTM int) *SlotPool {
	return &SlotPool{slotsPerTM: slotsPerTM, taken: make([]bool, taskManagers*slotsPerTM)}
}

// Total is the number of slots in the pool.
func (p *SlotPool) Total() int { return len(p.taken) }

// Free is the number of slots not allocated.
func (p *SlotPool) Free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, t := range p.taken {
		if !t {
			n++
		}
	}
	return n
}

// Allocate takes n free slots, filling TaskManagers in order, or none at all.
func (p *SlotPool) Allocate(n int) ([]SlotID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []SlotID
	for i, t := range p.taken {
		if len(ids) == n {
			break
		}
		if !t {
			ids = append(ids, SlotID{TaskManager: i / p.slotsPerTM, Slot: i % p.slotsPerTM})
		}
	}
	if len(ids) < n {
		return nil, fmt.Errorf("%w: the job needs %d slots (its highest parallelism) but %d of %d are free; raise taskmanager.numberOfTaskSlots or the number of TaskManagers, or lower the parallelism",
			ErrNotEnoughSlots, n, len(ids), len(p.taken))
	}
	for _, id := range ids {
		p.taken[id.TaskManager*p.slotsPerTM+id.Slot] = true
	}
	return ids, nil
}

// Release returns slots to the pool.
func (p *SlotPool) Release(ids []SlotID) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		p.taken[id.TaskManager*p.slotsPerTM+id.Slot] = false
	}
}
