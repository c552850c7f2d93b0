package resource

import (
	"fmt"
	"time"
)

// Manager is the ResourceManager's core as a step function: TaskManagers
// register, heartbeat and are lost; jobs request slots and release them.
// Every input says what time it is and returns the commands the shell must
// carry out; the Manager reads no clock, starts no goroutine and does no I/O,
// so drivers (embedded, standalone, YARN) and tests drive it alike. It is not
// safe for concurrent use: its shell owns it.
type Manager struct {
	cfg     ManagerConfig
	tms     []*tmState // by TaskManager number, in registration order; nil once lost
	byName  map[string]int
	pending []*slotRequest
	nextReq int64
}

// ManagerConfig are the ResourceManager's timeouts.
type ManagerConfig struct {
	// HeartbeatTimeout: a TaskManager silent this long is lost (heartbeat.timeout).
	HeartbeatTimeout time.Duration
	// SlotRequestTimeout: a request waiting this long fails
	// (slot.request.timeout).
	SlotRequestTimeout time.Duration
}

type tmState struct {
	name     string
	slots    []string // job holding each slot; "" when free
	lastSeen time.Time
}

type slotRequest struct {
	id    int64
	job   string
	n     int
	since time.Time
}

// Commands the shell carries out.
type (
	// SlotsAllocated: request Request of Job got Slots (slot i for subtask i).
	SlotsAllocated struct {
		Request int64
		Job     string
		Slots   []SlotID
	}
	// SlotRequestFailed: the request will never be fulfilled.
	SlotRequestFailed struct {
		Request int64
		Job     string
		Reason  string
	}
	// TaskManagerLost: the TaskManager is gone; Jobs held slots on it and
	// must fail over. Its slots are forgotten.
	TaskManagerLost struct {
		TaskManager int
		Name        string
		Jobs        []string
		Reason      string
	}
	// StartTaskManagers: an active driver (YARN) should start this many
	// more TaskManagers for the pending requests.
	StartTaskManagers struct{ Slots int }
)

// Command is one of the commands above.
type Command any

// NewManager returns a ResourceManager core without TaskManagers.
func NewManager(cfg ManagerConfig) *Manager {
	return &Manager{cfg: cfg, byName: map[string]int{}, nextReq: 1}
}

// RegisterTaskManager adds a TaskManager with slots slots and returns its
// number, stable for its lifetime and never reused; registering a name again
// (a restarted TaskManager) first loses the old one.
func (m *Manager) RegisterTaskManager(now time.Time, name string, slots int) (int, []Command) {
	var out []Command
	if old, ok := m.byName[name]; ok {
		out = append(out, m.lose(old, "it registered again (restarted)"))
	}
	id := len(m.tms)
	m.tms = append(m.tms, &tmState{name: name, slots: make([]string, slots), lastSeen: now})
	m.byName[name] = id
	return id, append(out, m.serve()...)
}

// Heartbeat records that TaskManager tm is alive.
func (m *Manager) Heartbeat(now time.Time, tm int) {
	if s := m.tm(tm); s != nil {
		s.lastSeen = now
	}
}

// UnregisterTaskManager removes a TaskManager that is gone (its process
// exited, its container was lost).
func (m *Manager) UnregisterTaskManager(now time.Time, tm int, reason string) []Command {
	if m.tm(tm) == nil {
		return nil
	}
	return []Command{m.lose(tm, reason)}
}

// RequestSlots asks for n slots for job. With wait false a request that
// cannot be served now fails at once (the embedded cluster has all the
// TaskManagers it will ever have); else it waits for TaskManagers or
// released slots, up to SlotRequestTimeout.
func (m *Manager) RequestSlots(now time.Time, job string, n int, wait bool) (int64, []Command) {
	r := &slotRequest{id: m.nextReq, job: job, n: n, since: now}
	m.nextReq++
	if slots, ok := m.take(job, n); ok {
		return r.id, []Command{SlotsAllocated{Request: r.id, Job: job, Slots: slots}}
	}
	if !wait {
		return r.id, []Command{SlotRequestFailed{Request: r.id, Job: job, Reason: m.shortage(n)}}
	}
	m.pending = append(m.pending, r)
	return r.id, []Command{StartTaskManagers{Slots: n - m.freeSlots()}}
}

// ReleaseSlots frees every slot of job, and cancels its pending requests.
func (m *Manager) ReleaseSlots(job string) []Command {
	for _, s := range m.tms {
		if s == nil {
			continue
		}
		for i, j := range s.slots {
			if j == job {
				s.slots[i] = ""
			}
		}
	}
	kept := m.pending[:0]
	for _, r := range m.pending {
		if r.job != job {
			kept = append(kept, r)
		}
	}
	m.pending = kept
	return m.serve()
}

// Tick loses TaskManagers whose heartbeats stopped and fails requests that
// waited too long.
func (m *Manager) Tick(now time.Time) []Command {
	var out []Command
	if m.cfg.HeartbeatTimeout > 0 {
		for id, s := range m.tms {
			if s != nil && now.Sub(s.lastSeen) > m.cfg.HeartbeatTimeout {
				out = append(out, m.lose(id, fmt.Sprintf("no heartbeat for %s (heartbeat.timeout)", now.Sub(s.lastSeen).Round(time.Millisecond))))
			}
		}
	}
	if m.cfg.SlotRequestTimeout > 0 {
		kept := m.pending[:0]
		for _, r := range m.pending {
			if now.Sub(r.since) > m.cfg.SlotRequestTimeout {
				out = append(out, SlotRequestFailed{Request: r.id, Job: r.job,
					Reason: fmt.Sprintf("no slots within %s (slot.request.timeout): %s", m.cfg.SlotRequestTimeout, m.shortage(r.n))})
				continue
			}
			kept = append(kept, r)
		}
		m.pending = kept
	}
	return append(out, m.serve()...)
}

// Slots reports the slots of the live TaskManagers: all, and free.
func (m *Manager) Slots() (total, free int) {
	for _, s := range m.tms {
		if s != nil {
			total += len(s.slots)
		}
	}
	return total, m.freeSlots()
}

// TaskManagerInfo describes one live TaskManager.
type TaskManagerInfo struct {
	ID          int
	Name        string
	Slots, Free int
	LastSeen    time.Time
}

// TaskManagers lists the live TaskManagers in registration order.
func (m *Manager) TaskManagers() []TaskManagerInfo {
	var out []TaskManagerInfo
	for id, s := range m.tms {
		if s == nil {
			continue
		}
		free := 0
		for _, j := range s.slots {
			if j == "" {
				free++
			}
		}
		out = append(out, TaskManagerInfo{ID: id, Name: s.name, Slots: len(s.slots), Free: free, LastSeen: s.lastSeen})
	}
	return out
}

func (m *Manager) tm(id int) *tmState {
	if id < 0 || id >= len(m.tms) {
		return nil
	}
	return m.tms[id]
}

// lose forgets TaskManager id and names the jobs that held slots on it.
func (m *Manager) lose(id int, reason string) Command {
	s := m.tms[id]
	m.tms[id] = nil
	delete(m.byName, s.name)
	var jobs []string
	seen := map[string]bool{}
	for _, j := range s.slots {
		if j != "" && !seen[j] {
			seen[j] = true
			jobs = append(jobs, j)
		}
	}
	return TaskManagerLost{TaskManager: id, Name: s.name, Jobs: jobs, Reason: reason}
}

// take allocates n free slots to job, filling TaskManagers in registration
// order (as Flink without cluster.evenly-spread-out-slots), or none at all.
func (m *Manager) take(job string, n int) ([]SlotID, bool) {
	if m.freeSlots() < n {
		return nil, false
	}
	var ids []SlotID
	for id, s := range m.tms {
		if s == nil {
			continue
		}
		for i, j := range s.slots {
			if len(ids) == n {
				break
			}
			if j == "" {
				s.slots[i] = job
				ids = append(ids, SlotID{TaskManager: id, Slot: i})
			}
		}
	}
	return ids, true
}

// serve fulfills pending requests, oldest first, while slots last.
func (m *Manager) serve() []Command {
	var out []Command
	kept := m.pending[:0]
	for _, r := range m.pending {
		if slots, ok := m.take(r.job, r.n); ok {
			out = append(out, SlotsAllocated{Request: r.id, Job: r.job, Slots: slots})
			continue
		}
		kept = append(kept, r)
	}
	m.pending = kept
	return out
}

func (m *Manager) freeSlots() int {
	n := 0
	for _, s := range m.tms {
		if s == nil {
			continue
		}
		for _, j := range s.slots {
			if j == "" {
				n++
			}
		}
	}
	return n
}

func (m *Manager) shortage(n int) string {
	total, free := m.Slots()
	return fmt.Sprintf("the job needs %d slots (its highest parallelism) but %d of %d are free; raise taskmanager.numberOfTaskSlots or the number of TaskManagers, or lower the parallelism", n, free, total)
}
