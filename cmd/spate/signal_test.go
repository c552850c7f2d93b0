//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestRunForwardsSIGTERM(t *testing.T) {
	cleanEnv(t)
	ready := filepath.Join(t.TempDir(), "ready")
	t.Setenv("READY", ready)
	job := script(t, `trap 'echo "got TERM"; exit 7' TERM
: > "$READY"
while :; do sleep 0.05; done
`)
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var out, errOut bytes.Buffer
		code := run([]string{"run", job}, &out, &errOut)
		done <- result{code, out.String(), errOut.String()}
	}()
	// The job is ready, and spate is catching signals, once the file exists.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("job did not start")
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if r.code != 7 || r.out != "got TERM\n" || r.err != "" {
			t.Errorf("exit %d, stdout %q, stderr %q; want 7, %q", r.code, r.out, r.err, "got TERM\n")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("job did not stop on SIGTERM")
	}
}

func TestRunJobKilledBySignal(t *testing.T) {
	cleanEnv(t)
	job := script(t, "kill -9 $$\n")
	code, _, errOut := spate(t, "run", job)
	want := `spate run: job binary "` + job + `" was killed by signal: killed` + "\n"
	if code != 128+9 || errOut != want {
		t.Errorf("exit %d, stderr %q; want %d, %q", code, errOut, 128+9, want)
	}
}
