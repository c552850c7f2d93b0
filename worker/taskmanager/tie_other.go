//go:build !linux

package taskmanager

import "os/exec"

// startTied starts cmd; without Linux's parent-death signal a job's process
// ends when its connections to the JobManager break.
func startTied(cmd *exec.Cmd, exited func(error)) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { exited(cmd.Wait()) }()
	return nil
}
