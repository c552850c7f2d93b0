//go:build !linux

package main

import "os/exec"

// startTied starts cmd. Only Linux can make the kernel kill the job when
// spate dies (PR_SET_PDEATHSIG); elsewhere a kill -9 of spate leaves the job
// running, and the job's lease keeps a second run off its checkpoints.
func startTied(cmd *exec.Cmd) (wait func() error, err error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd.Wait, nil
}
