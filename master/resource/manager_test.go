package resource

import (
	"reflect"
	"testing"
	"time"
)

// TestManagerLifecycle drives the ResourceManager core through registration,
// waiting requests, release, heartbeat loss, a restarted TaskManager and a
// request timeout, checking every command exactly.
func TestManagerLifecycle(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	m := NewManager(ManagerConfig{HeartbeatTimeout: 10 * time.Second, SlotRequestTimeout: 30 * time.Second})
	step := func(what string, got []Command, want ...Command) {
		t.Helper()
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %#v\nwant %#v", what, got, want)
		}
	}
	a, cmds := m.RegisterTaskManager(at(0), "tm-a", 2)
	step("register a", cmds)
	b, cmds := m.RegisterTaskManager(at(0), "tm-b", 2)
	step("register b", cmds)
	if a != 0 || b != 1 {
		t.Fatalf("numbers %d, %d", a, b)
	}
	r1, cmds := m.RequestSlots(at(1), "job1", 3, true)
	step("job1 gets 3 slots", cmds, SlotsAllocated{Request: r1, Job: "job1", Slots: []SlotID{{0, 0}, {0, 1}, {1, 0}}})
	r2, cmds := m.RequestSlots(at(2), "job2", 2, true)
	step("job2 waits, one TaskManager's worth short", cmds, StartTaskManagers{Slots: 1})
	c, cmds := m.RegisterTaskManager(at(3), "tm-c", 2)
	step("tm-c serves job2", cmds, SlotsAllocated{Request: r2, Job: "job2", Slots: []SlotID{{1, 1}, {c, 0}}})
	if total, free := m.Slots(); total != 6 || free != 1 {
		t.Fatalf("slots %d free of %d", free, total)
	}
	// tm-a stops heartbeating; b and c go on.
	m.Heartbeat(at(9), b)
	m.Heartbeat(at(9), c)
	step("tick before the timeout", m.Tick(at(10)))
	step("tm-a lost", m.Tick(at(11)), TaskManagerLost{TaskManager: a, Name: "tm-a", Jobs: []string{"job1"}, Reason: "no heartbeat for 11s (heartbeat.timeout)"})
	step("job1 releases", m.ReleaseSlots("job1"))
	// A restarted tm-b registers again: the old one is lost with its jobs.
	b2, cmds := m.RegisterTaskManager(at(12), "tm-b", 2)
	step("tm-b again", cmds, TaskManagerLost{TaskManager: b, Name: "tm-b", Jobs: []string{"job2"}, Reason: "it registered again (restarted)"})
	if b2 != 3 {
		t.Fatalf("a re-registered TaskManager gets a new number: %d", b2)
	}
	m.Heartbeat(at(12), c)
	r3, cmds := m.RequestSlots(at(12), "job3", 9, true)
	step("job3 waits for 9", cmds, StartTaskManagers{Slots: 6})
	m.Heartbeat(at(40), c)
	m.Heartbeat(at(40), b2)
	step("job3 times out", m.Tick(at(43)), SlotRequestFailed{Request: r3, Job: "job3",
		Reason: "no slots within 30s (slot.request.timeout): the job needs 9 slots (its highest parallelism) but 3 of 4 are free; raise taskmanager.numberOfTaskSlots or the number of TaskManagers, or lower the parallelism"})
	want := []TaskManagerInfo{{ID: c, Name: "tm-c", Slots: 2, Free: 1, LastSeen: at(40)}, {ID: b2, Name: "tm-b", Slots: 2, Free: 2, LastSeen: at(40)}}
	if got := m.TaskManagers(); !reflect.DeepEqual(got, want) {
		t.Fatalf("TaskManagers = %+v\nwant %+v", got, want)
	}
	step("unregister", m.UnregisterTaskManager(at(44), c, "its process exited"), TaskManagerLost{TaskManager: c, Name: "tm-c", Jobs: []string{"job2"}, Reason: "its process exited"})
	step("unregister again", m.UnregisterTaskManager(at(44), c, "again"))
}
