package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk/connectors/filesystem"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// The helpers of these tests carry the prefix "pipe".

// pipeEnv returns an environment at parallelism p with the given key/value
// pairs and a discarded log.
func pipeEnv(t *testing.T, p int, kv ...string) *Env {
	t.Helper()
	cfg := conf.New()
	kv = append([]string{"parallelism.default", fmt.Sprint(p)}, kv...)
	for i := 0; i+1 < len(kv); i += 2 {
		if err := cfg.Set(kv[i], kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return NewEnv(WithConfig(cfg), WithLogger(zerolog.New(io.Discard)))
}

// pipeLines is the content the pipe tests send: more than a pipe's buffer
// holds, so the source reads while the writer writes, with a "\r\n" line and
// no final '\n'.
func pipeLines() (string, []string) {
	var b strings.Builder
	var lines []string
	for i := range 20000 {
		fmt.Fprintf(&b, "line %d\n", i)
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	b.WriteString("crlf\r\nlast")
	return b.String(), append(lines, "crlf", "last")
}

// pipeRun executes env's job with a deadline.
func pipeRun(t *testing.T, env *Env) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := env.Execute(ctx, t.Name())
	return err
}

// TestReadTextFileFromPipe reads an anonymous pipe, as /dev/stdin is under
// "cat f | job --input /dev/stdin" (/dev/stdin leads to /proc/self/fd/0):
// every line, in order, by subtask 0, at every parallelism.
func TestReadTextFileFromPipe(t *testing.T) {
	content, want := pipeLines()
	for _, p := range []int{1, 2} {
		t.Run(fmt.Sprintf("p=%d", p), func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			written := make(chan error, 1)
			go func() {
				_, err := io.WriteString(pw, content)
				if cerr := pw.Close(); err == nil {
					err = cerr
				}
				written <- err
			}()
			env := pipeEnv(t, p, "execution.batch-size", "64")
			got := Collect(ReadTextFile(env, fmt.Sprintf("/proc/self/fd/%d", pr.Fd())))
			if err := pipeRun(t, env); err != nil {
				t.Fatal(err)
			}
			if err := <-written; err != nil {
				t.Fatal(err)
			}
			if items := got.Items(); !slices.Equal(items, want) {
				t.Errorf("read %d lines, want %d in order", len(items), len(want))
			}
		})
	}
}

// TestReadTextFileFromFIFO reads a named pipe that another goroutine writes.
func TestReadTextFileFromFIFO(t *testing.T) {
	content, want := pipeLines()
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	written := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // until the source opens it
		if err == nil {
			_, err = io.WriteString(w, content)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		written <- err
	}()
	env := pipeEnv(t, 3)
	got := Collect(ReadTextFile(env, fifo))
	err := pipeRun(t, env)
	if err != nil {
		if r, oerr := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0); oerr == nil {
			r.Close() // release the writer
		}
		t.Fatal(err)
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if items := got.Items(); !slices.Equal(items, want) {
		t.Errorf("read %d lines, want %d in order", len(items), len(want))
	}
}

// pipeRestored is what subtask of p restores when the old subtasks had the
// splits old[i] left.
func pipeRestored(t *testing.T, old [][]filesystem.Split, subtask, p int) *state.Restored {
	t.Helper()
	files := map[string][]byte{}
	r := &state.Restored{Subtask: subtask, Parallelism: p, OldParallelism: len(old),
		Read: func(h state.Handle) ([]byte, error) { return files[h.Path], nil }}
	for i, splits := range old {
		src := &textSource{splits: splits}
		parts, err := src.SnapshotState(1)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := parts[0].Write(&buf); err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("op-%d", i)
		files[path] = buf.Bytes()
		r.Handles = append(r.Handles, state.Handle{Operator: "op", Subtask: i, Name: parts[0].Name, Kind: parts[0].Kind, Path: path})
	}
	return r
}

// TestTextSourceRefusesToRereadAStream: a restore, or a restart, that would
// read a stream again, from where a checkpoint stood or from its start after
// the failed attempt consumed some, fails with an error no restart retries; a
// stream nothing has read yet is restored, and a rescale deals it to exactly
// one subtask.
func TestTextSourceRefusesToRereadAStream(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	stream := func(start int64) filesystem.Split {
		return filesystem.Split{Path: fifo, Start: start, End: filesystem.StreamEnd}
	}
	file := filesystem.Split{Path: "/data/a", Start: 5, End: 10}
	newInput := func(p int) *textInput {
		in := &textInput{path: fifo}
		if err := in.prepare(p, 0); err != nil {
			t.Fatal(err)
		}
		if want := [][]filesystem.Split{{stream(0)}}; p == 1 && !slices.EqualFunc(in.splits, want, slices.Equal) {
			t.Fatalf("splits of the FIFO: %v, want %v", in.splits, want)
		}
		return in
	}
	ctx := func(subtask, p int, r *state.Restored, attempt int) *task.OperatorContext {
		return &task.OperatorContext{OperatorName: "Source: text", Subtask: subtask, Parallelism: p, Restored: r, Attempt: attempt}
	}

	// Restored from a checkpoint taken at byte 1234 of the stream.
	in := newInput(1)
	_, err := in.create(ctx(0, 1, pipeRestored(t, [][]filesystem.Split{{stream(1234), file}}, 0, 1), 1), nil)
	want := fmt.Sprintf(`unrecoverable failure: input %q is a pipe or device, not a regular file: it cannot be re-read from byte 1234 after a failure `+
		`(a stream cannot be read again from the middle); read a regular file to recover, or run without checkpointing`, fifo)
	if !errors.Is(err, jobmaster.ErrSuppressRestarts) || !errors.Is(err, filesystem.ErrStreamResume) || err.Error() != want {
		t.Errorf("restore at byte 1234: err = %v\nwant %s", err, want)
	}

	// Restarted, or restored from a checkpoint taken before the stream was
	// opened, after the failed attempt opened it.
	in = newInput(1)
	in.markOpened(stream(0))
	want = fmt.Sprintf(`unrecoverable failure: input %q is a pipe or device, not a regular file: it cannot be re-read after a failure, since the failed attempt consumed some of it `+
		`(a stream cannot be read again from the middle); read a regular file to let the job recover from failures`, fifo)
	for _, r := range []*state.Restored{nil, pipeRestored(t, [][]filesystem.Split{{stream(0)}}, 0, 1)} {
		_, err = in.create(ctx(0, 1, r, 1), nil)
		if !errors.Is(err, jobmaster.ErrSuppressRestarts) || err == nil || err.Error() != want {
			t.Errorf("restart after the stream was opened (restored %v): err = %v\nwant %s", r != nil, err, want)
		}
	}

	// Not read yet: restored, on a rescale by one subtask only.
	for _, p := range []int{1, 2, 3} {
		in = newInput(p)
		var all []filesystem.Split
		for sub := range p {
			src, err := in.create(ctx(sub, p, pipeRestored(t, [][]filesystem.Split{{stream(0)}, {file}}, sub, p), 0), nil)
			if err != nil {
				t.Fatalf("p=%d subtask %d: %v", p, sub, err)
			}
			all = append(all, src.(*textSource).splits...)
		}
		slices.SortFunc(all, func(a, b filesystem.Split) int { return strings.Compare(a.Path, b.Path) })
		if want := []filesystem.Split{file, stream(0)}; !slices.Equal(all, want) {
			t.Errorf("restored at parallelism %d: the subtasks hold %v, want each split once: %v", p, all, want)
		}
	}
}

// TestReadTextFileStreamFailureIsFinal: a job reading a pipe with checkpoints
// that fails after a checkpoint recorded a position inside the stream does not
// restart into lost lines: it fails for good, saying why.
func TestReadTextFileStreamFailureIsFinal(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	env := pipeEnv(t, 1,
		"execution.batch-size", "1", // a line goes downstream as soon as it is read
		"execution.checkpointing.interval", "10 ms",
		"state.checkpoints.dir", t.TempDir(),
		"restart-strategy.type", "fixed-delay",
		"restart-strategy.fixed-delay.attempts", "5",
		"restart-strategy.fixed-delay.delay", "1 ms")
	var marked atomic.Bool
	lines := ReadTextFile(env, fmt.Sprintf("/proc/self/fd/%d", pr.Fd()))
	Collect(Map(lines, func(s string) string {
		switch s {
		case "mark":
			marked.Store(true)
		case "boom":
			panic("boom")
		}
		return s
	}))
	client, err := env.ExecuteAsync(context.Background(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	// The source reads in the task's loop, where barriers are injected too: the
	// writer keeps it busy until checkpoints have completed after "mark".
	if _, err := io.WriteString(pw, "first\nmark\n"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	if err := pw.SetWriteDeadline(deadline); err != nil { // should the job stop reading
		t.Fatal(err)
	}
	var after int64 = -1
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no two checkpoints completed after the mark: %+v", client.CheckpointStats())
		}
		if after < 0 && marked.Load() {
			after = int64(client.CheckpointStats().Completed)
		}
		if after >= 0 && int64(client.CheckpointStats().Completed) >= after+2 {
			break
		}
		if _, err := io.WriteString(pw, "filler\n"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.WriteString(pw, "boom\n"); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	done := make(chan error, 1)
	go func() { _, err := client.Wait(); done <- err }()
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the job did not end after the failure")
	}
	if !errors.Is(err, jobmaster.ErrSuppressRestarts) || !errors.Is(err, filesystem.ErrStreamResume) ||
		!strings.Contains(err.Error(), "is a pipe or device, not a regular file: it cannot be re-read from byte ") {
		t.Fatalf("err = %v, want the stream's unrecoverable failure", err)
	}
	t.Logf("the job failed with: %v", err)
	if n := client.Restarts(); n != 1 {
		t.Errorf("%d restarts, want 1: the restored attempt fails for good", n)
	}
}

// TestCancelWhileAPipeIsIdle: a source blocked reading a pipe that sends
// nothing (Ctrl-C of "job --input /dev/stdin" at a terminal) does not keep
// the job from ending when it is cancelled: the read is interrupted.
func TestCancelWhileAPipeIsIdle(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	if _, err := io.WriteString(pw, "one\ntwo\n"); err != nil { // then nothing: the writer stays open
		t.Fatal(err)
	}
	env := pipeEnv(t, 1, "execution.batch-size", "64")
	SinkFunc(ReadTextFile(env, fmt.Sprintf("/proc/self/fd/%d", pr.Fd())), func([]string) error { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := env.Execute(ctx, t.Name()); done <- err }()
	// ReadBatch returns the lines it has only at a full batch or the end of
	// the stream, so no record arrives before the cancel: wait until the
	// source's read is blocked on the pipe, then cancel.
	pipeWaitBlocked(t, pr)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, jobmaster.ErrJobInterrupted) {
			t.Fatalf("Execute = %v, want an interrupted job", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the job did not end after its context was cancelled: the pipe read was not interrupted")
	}
}

// pipeWaitBlocked waits until the pipe's two lines have been read from it.
func pipeWaitBlocked(t *testing.T, pr *os.File) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var n int
		// FIONREAD: bytes still unread in the pipe.
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, pr.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno == 0 && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the source never read the pipe")
		}
	}
}
