//go:build !(linux || darwin)

package main

// terminalSentInterrupt reports false: without a way to ask the terminal,
// every SIGINT is forwarded to the job.
func terminalSentInterrupt() bool { return false }
