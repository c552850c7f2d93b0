package appmaster

import (
	"reflect"
	"strings"
	"testing"
)

func TestPool(t *testing.T) {
	p := NewPool(2, 1)
	step := func(what string, got, want []Command) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: got %#v, want %#v", what, got, want)
		}
	}
	// 3 slots at 2 per TaskManager: 2 containers.
	step("start 3", p.StartTaskManagers(3), []Command{Ask{Total: 2}})
	// The same shortage again (a second request) while they are pending: nothing more.
	step("start 3 again", p.StartTaskManagers(3), nil)
	step("allocate 3", p.Allocated("c1", "c2", "c3"), []Command{Launch{"c1"}, Launch{"c2"}, Release{"c3"}})
	p.Registered("c1")
	// c2 dies before it registers: replaced.
	step("c2 ends starting", p.Completed("c2", "exited with status 1"), []Command{Ask{Total: 1}})
	step("allocate c4", p.Allocated("c4"), []Command{Launch{"c4"}})
	p.Registered("c4")
	if got := p.Containers(); !reflect.DeepEqual(got, []string{"c1", "c4"}) {
		t.Fatalf("containers %v", got)
	}
	// A running one ends: the JobManager loses it; the restart's request asks again.
	step("c1 ends running", p.Completed("c1", "killed"), []Command{Lose{Name: "c1", Reason: "killed"}})
	step("restart needs 2", p.StartTaskManagers(2), []Command{Ask{Total: 1}})
	step("released c3 completes", p.Completed("c3", "aborted"), nil)
	// Two start failures in a row (max 1): give up.
	step("allocate c5", p.Allocated("c5"), []Command{Launch{"c5"}})
	step("c5 ends starting", p.Completed("c5", "exit 1"), []Command{Ask{Total: 1}})
	step("allocate c6", p.Allocated("c6"), []Command{Launch{"c6"}})
	got := p.Completed("c6", "exit 2")
	if len(got) != 2 || got[0] != (Ask{Total: 0}) {
		t.Fatalf("give up: %#v", got)
	}
	if g, ok := got[1].(GiveUp); !ok || !strings.Contains(g.Reason, "2 TaskManager containers in a row") || !strings.HasSuffix(g.Reason, "exit 2") {
		t.Fatalf("give up: %#v", got[1])
	}
	step("after giving up", p.StartTaskManagers(4), nil)
	// An idle running container is given back; its completion is no loss.
	step("remove c4", p.Remove("c4"), []Command{Release{"c4"}})
	step("remove c4 again", p.Remove("c4"), nil)
	step("released c4 completes", p.Completed("c4", "killed by the ApplicationMaster"), nil)
	step("late allocation", p.Allocated("c7"), []Command{Release{"c7"}})
}

func TestDescribeExit(t *testing.T) {
	for _, tt := range []struct {
		status int32
		diag   string
		want   string
	}{
		{0, "", "exited with status 0"},
		{1, "Exception from container-launch", "exited with status 1: Exception from container-launch"},
		{-104, "Container is running beyond physical memory limits", "killed by YARN for exceeding memory limits (raise taskmanager.memory.process.size): Container is running beyond physical memory limits"},
		{-105, "", "killed by the ApplicationMaster"},
	} {
		if got := DescribeExit(tt.status, tt.diag); got != tt.want {
			t.Errorf("DescribeExit(%d, %q) = %q, want %q", tt.status, tt.diag, got, tt.want)
		}
	}
}
