//go:build unix

package checkpoint

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"
)

// processAlive probes pid with signal 0: it exists unless the kernel says
// there is no such process (a process of another user answers EPERM). A
// zombie, dead but not reaped (its parent died and no init reaps orphans, as
// in some containers), is not alive.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !zombie(pid)
}

// zombie reads the state field of /proc/<pid>/stat, where there is one:
// "pid (comm) S ...", comm possibly holding spaces and parentheses.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}
