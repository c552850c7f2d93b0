package bench

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// sysProcAttr kills a measured job if the harness dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// usage is what wait4 reported for the ended process: user plus system CPU
// time of all its threads, and its peak resident set.
func usage(ps *os.ProcessState) (cpu time.Duration, peakRSS int64, err error) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no rusage for process %d", ps.Pid())
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Maxrss * 1024, nil // ru_maxrss is in KiB on Linux
}
