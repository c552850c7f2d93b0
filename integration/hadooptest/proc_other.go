//go:build !linux

package hadooptest

import "syscall"

// sysProcAttr: without Pdeathsig, EOF on standard input alone stops the launcher.
func sysProcAttr() *syscall.SysProcAttr { return nil }
