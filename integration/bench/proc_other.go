//go:build !linux

package bench

import (
	"errors"
	"os"
	"syscall"
	"time"
)

var errNotLinux = errors.New("integration/bench measures CPU time and peak RSS with Linux's wait4; run it on Linux")

func sysProcAttr() *syscall.SysProcAttr { return nil }

func usage(*os.ProcessState) (time.Duration, int64, error) { return 0, 0, errNotLinux }
