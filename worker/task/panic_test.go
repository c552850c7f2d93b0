package task_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/spate-io/spate/worker/task"
)

type discardInts struct{}

func (discardInts) Push([]int, []int64) error { return nil }
func (discardInts) Emit(task.Event) error     { return nil }

func TestRecoverNamesOperatorSubtaskAndUserFrame(t *testing.T) {
	ctx := &task.OperatorContext{OperatorID: "abc", OperatorName: "Map: parse", Subtask: 2, Parallelism: 4, BatchSize: 8, Metrics: &task.OperatorMetrics{}}
	m := task.NewMap(ctx, func(s string) int {
		if s == "bad" {
			panic("cannot parse " + s)
		}
		return len(s)
	}, discardInts{})
	err := m.Push([]string{"ok", "bad"}, nil)
	var oe *task.OperatorError
	var pe *task.PanicError
	if !errors.As(err, &oe) || !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want an task.OperatorError caused by a task.PanicError", err, err)
	}
	if oe.Operator != "Map: parse" || oe.OperatorID != "abc" || oe.Subtask != 2 || oe.Parallelism != 4 {
		t.Fatalf("task.OperatorError = %+v", oe)
	}
	if !strings.HasPrefix(pe.Location, "task/panic_test.go:") {
		t.Fatalf("panic location %q, want this test file (the user function's frame)", pe.Location)
	}
	want := `operator "Map: parse" (subtask 3 of 4) failed: panic: cannot parse bad (at ` + pe.Location + `)`
	if err.Error() != want {
		t.Fatalf("error %q\nwant  %q", err.Error(), want)
	}
	if ctx.Metrics.RecordsOut.Load() != 0 {
		t.Fatalf("a failed batch must not count as emitted")
	}
}
