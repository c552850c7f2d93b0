package hadooptest

import "syscall"

// sysProcAttr makes the launcher get SIGTERM when this process dies, as well
// as EOF on its standard input.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
