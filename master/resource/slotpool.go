package resource

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrNotEnoughSlots is returned by Allocate when the cluster has too few free slots.
var ErrNotEnoughSlots = errors.New("not enough task slots")

// SlotID names one slot of one TaskManager, by the TaskManager's number.
type SlotID struct {
	TaskManager int
	Slot        int
}

func (s SlotID) String() string { return fmt.Sprintf("tm-%d/slot-%d", s.TaskManager, s.Slot) }

// SlotPool is the embedded driver's synchronous shell around a Manager: a
// fixed set of TaskManagers, registered at once, and allocations that
// succeed now or fail now. Safe for concurrent use.
type SlotPool struct {
	mu sync.Mutex
	m  *Manager
}

// NewSlotPool returns a pool of taskManagers × slotsPerTM free slots; the
// TaskManagers are numbered 0 to taskManagers-1.
func NewSlotPool(taskManagers, slotsPerTM int) *SlotPool {
	m := NewManager(ManagerConfig{})
	for i := range taskManagers {
		m.RegisterTaskManager(time.Time{}, fmt.Sprintf("embedded-%d", i), slotsPerTM)
	}
	return &SlotPool{m: m}
}

// Total is the number of slots in the pool.
func (p *SlotPool) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	total, _ := p.m.Slots()
	return total
}

// Free is the number of slots not allocated.
func (p *SlotPool) Free() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, free := p.m.Slots()
	return free
}

// Allocate takes n free slots for job, filling TaskManagers in order, or
// none at all.
func (p *SlotPool) Allocate(job string, n int) ([]SlotID, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, cmds := p.m.RequestSlots(time.Time{}, job, n, false)
	switch c := cmds[0].(type) {
	case SlotsAllocated:
		return c.Slots, nil
	case SlotRequestFailed:
		return nil, fmt.Errorf("%w: %s", ErrNotEnoughSlots, c.Reason)
	}
	return nil, fmt.Errorf("slot request of %s: unexpected %T", job, cmds[0])
}

// Release returns the slots of job to the pool.
func (p *SlotPool) Release(job string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.m.ReleaseSlots(job)
}
