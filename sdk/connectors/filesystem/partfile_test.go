package filesystem

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/hdfs/faultfs"
)

// names lists a directory's entries; a missing directory has none.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestPartFileWriterCommit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "nested") // created by the writer
	w, err := NewPartFileWriter(hdfs.Local{}, dir, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"first", "", "third"} {
		if err := w.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteLine([]byte("fourth")); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{".part-3-0.inprogress"}) {
		t.Errorf("before Commit, directory holds %q, want only the in-progress file", got)
	}
	if files, err := Enumerate(hdfs.Local{}, dir); err != nil || len(files) != 0 {
		t.Errorf("before Commit, Enumerate = %+v, %v; want nothing", files, err)
	}

	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"part-3-0"}) {
		t.Errorf("after Commit, directory holds %q, want [part-3-0]", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "part-3-0"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "first\n\nthird\nfourth\n"; string(b) != want {
		t.Errorf("part file holds %q, want %q", b, want)
	}

	if err := w.Commit(); err != nil {
		t.Errorf("second Commit = %v, want nil", err)
	}
	if err := w.WriteString("late"); err == nil {
		t.Error("WriteString after Commit succeeded")
	}
	if err := w.Abort(); err == nil {
		t.Error("Abort after Commit succeeded")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"part-3-0"}) {
		t.Errorf("after Abort of a committed file, directory holds %q", got)
	}
}

func TestPartFileWriterReplacesLeftovers(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, ".part-0-0.inprogress"), "left over by a failed attempt\n")
	writeTestFile(t, filepath.Join(dir, "part-0-0"), "from an earlier run\n")
	w, err := NewPartFileWriter(hdfs.Local{}, dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "part-0-0"))
	if err != nil || string(b) != "new\n" {
		t.Errorf("part file = %q, %v; want %q", b, err, "new\n")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"part-0-0"}) {
		t.Errorf("directory holds %q", got)
	}
}

func TestPartFileWriterAbort(t *testing.T) {
	dir := t.TempDir()
	w, err := NewPartFileWriter(hdfs.Local{}, dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// More than the buffer, so some of it reached the file.
	big := strings.Repeat("z", writeBufferSize)
	if err := w.WriteString(big); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("after Abort, directory holds %q, want nothing", got)
	}
	if err := w.Abort(); err != nil {
		t.Errorf("second Abort = %v", err)
	}
	if err := w.WriteString("x"); err == nil {
		t.Error("WriteString after Abort succeeded")
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("directory holds %q, want nothing", got)
	}
}

func TestPartFileWriterWriteFails(t *testing.T) {
	dir := t.TempDir()
	inProgress := filepath.Join(dir, ".part-1-0.inprogress")
	fsys := faultfs.New(hdfs.Local{})
	fsys.FailWriteAfter(".part-1-0", 100, syscall.ENOSPC)
	want := fmt.Sprintf("write part file %q: no space left on device", inProgress)

	// Small lines: the failure shows when the buffer is flushed, on Commit.
	w, err := NewPartFileWriter(fsys, dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if err := w.WriteString("0123456789"); err != nil {
			t.Fatal(err)
		}
	}
	err = w.Commit()
	if err == nil || err.Error() != want || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Commit = %v, want %s", err, want)
	}
	if err := w.Commit(); err == nil || err.Error() != want {
		t.Errorf("second Commit = %v, want the same error", err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{".part-1-0.inprogress"}) {
		t.Errorf("after the failed Commit, directory holds %q, want only the in-progress file", got)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if got := names(t, dir); len(got) != 0 {
		t.Errorf("after Abort, directory holds %q", got)
	}

	// Big lines: the failure shows on the write that overflows the buffer.
	w, err = NewPartFileWriter(fsys, dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", writeBufferSize/2))
	var writeErr error
	for range 4 {
		if writeErr = w.WriteLine(line); writeErr != nil {
			break
		}
	}
	if writeErr == nil || writeErr.Error() != want || !errors.Is(writeErr, syscall.ENOSPC) {
		t.Errorf("WriteLine = %v, want %s", writeErr, want)
	}
	if err := w.WriteLine(line); err == nil || err.Error() != want {
		t.Errorf("WriteLine after a failure = %v, want the same error", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
}

func TestPartFileWriterFaults(t *testing.T) {
	dir := t.TempDir()
	inProgress := filepath.Join(dir, ".part-0-0.inprogress")
	final := filepath.Join(dir, "part-0-0")
	tests := []struct {
		op     string
		commit bool // the fault hits Commit, not NewPartFileWriter
		want   string
	}{
		{faultfs.OpMkdirAll, false, fmt.Sprintf("create output directory %q: input/output error", dir)},
		{faultfs.OpCreate, false, fmt.Sprintf("create part file %q: input/output error", inProgress)},
		{faultfs.OpSync, true, fmt.Sprintf("sync part file %q: input/output error", inProgress)},
		{faultfs.OpClose, true, fmt.Sprintf("close part file %q: input/output error", inProgress)},
		{faultfs.OpRename, true, fmt.Sprintf("publish part file %q as %q: input/output error", inProgress, final)},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			fsys := faultfs.New(hdfs.Local{})
			fsys.FailOn(tt.op, dir, syscall.EIO)
			w, err := NewPartFileWriter(fsys, dir, 0, 0)
			if !tt.commit {
				if err == nil || err.Error() != tt.want || !errors.Is(err, syscall.EIO) {
					t.Errorf("NewPartFileWriter = %v, want %s", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteString("x"); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(); err == nil || err.Error() != tt.want || !errors.Is(err, syscall.EIO) {
				t.Errorf("Commit = %v, want %s", err, tt.want)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if got := names(t, dir); len(got) != 0 {
				t.Errorf("after Abort, directory holds %q", got)
			}
		})
	}
}
