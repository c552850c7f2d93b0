package taskmanager

import (
	"os/exec"
	"runtime"
	"syscall"
)

// startTied starts cmd so that the kernel kills it when this process dies,
// however it dies (PR_SET_PDEATHSIG): a job's process never outlives its
// TaskManager. The signal follows the death of the thread that started the
// child, so the child is started from a goroutine locked to its thread,
// which stays until the child has exited; exited gets cmd.Wait's result.
func startTied(cmd *exec.Cmd, exited func(error)) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited(cmd.Wait())
	}()
	return <-started
}
