package jobmaster

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/spate-io/spate/master/checkpoint"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// TestRestartable: failures a restart cannot mend end the job at once,
// however deep they are wrapped; the others restart.
func TestRestartable(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("sink (1): write part file: %w", &fs.PathError{Op: "open", Path: "/x", Err: err})
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{errors.New("boom"), true},
		{wrap(syscall.EIO), true},
		{wrap(syscall.EACCES), false},
		{wrap(syscall.EPERM), false},
		{wrap(syscall.ENOSPC), false},
		{wrap(syscall.EROFS), false},
		{wrap(syscall.EDQUOT), false},
		{fmt.Errorf("restore: %w", state.ErrCorruptState), false},
		{fmt.Errorf("restore: %w", state.ErrIncompatibleState), false},
		{fmt.Errorf("renew: %w", checkpoint.ErrLeaseLost), false},
		{fmt.Errorf("assigner: %w", task.ErrReservedTimestamp), false},
		{suppress(errors.New("user says so")), false},
		{ErrJobCancelled, false},
		{&interruptedError{errors.New("signal")}, false},
	} {
		if got := restartable(tc.err); got != tc.want {
			t.Errorf("restartable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	ie := &interruptedError{errors.New("interrupt signal received")}
	if !errors.Is(ie, ErrJobCancelled) || !errors.Is(ie, ErrJobInterrupted) || ie.Error() != "job interrupted: interrupt signal received" {
		t.Errorf("interruptedError: %v", ie)
	}
}
