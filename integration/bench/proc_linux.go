package bench

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive lock on path, waiting for it; the lock goes
// with the process if it dies.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

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
