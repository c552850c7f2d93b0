package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/hdfs/faultfs"
)

func TestEnumerate(t *testing.T) {
	dir := t.TempDir()
	for rel, content := range map[string]string{
		"b.txt":                   "bb",
		"a.txt":                   "a",
		"a/x":                     "xxx",
		"a/y/z":                   "",
		"a/.part-0-0.inprogress":  "in progress",
		"a/_SUCCESS":              "",
		"_temporary/0/part-0":     "skipped with its directory",
		".hidden/file":            "skipped with its directory",
		".crc":                    "hidden",
		"sub/deeper/deepest/file": "1234",
	} {
		writeTestFile(t, filepath.Join(dir, rel), content)
	}
	if err := os.MkdirAll(filepath.Join(dir, "empty", "dirs"), 0o755); err != nil {
		t.Fatal(err)
	}

	got, err := Enumerate(hdfs.Local{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		rel  string
		size int64
	}{
		{"a.txt", 1},
		{"a/x", 3},
		{"a/y/z", 0},
		{"b.txt", 2},
		{"sub/deeper/deepest/file", 4},
	}
	if len(got) != len(want) {
		t.Fatalf("Enumerate = %+v, want %d files", got, len(want))
	}
	for i, w := range want {
		p := filepath.Join(dir, w.rel)
		if got[i].Path != p || got[i].Name != filepath.Base(p) || got[i].Size != w.size || got[i].IsDir {
			t.Errorf("file %d = %+v, want %s of size %d", i, got[i], p, w.size)
		}
	}

	// A file named explicitly is read even if hidden.
	hidden := filepath.Join(dir, "a", "_SUCCESS")
	got, err = Enumerate(hdfs.Local{}, hidden)
	if err != nil || len(got) != 1 || got[0].Path != hidden {
		t.Errorf("Enumerate(file) = %+v, %v; want just %s", got, err, hidden)
	}

	// An empty directory tree holds no files, and that is not an error.
	got, err = Enumerate(hdfs.Local{}, filepath.Join(dir, "empty"))
	if err != nil || len(got) != 0 {
		t.Errorf("Enumerate(empty dir) = %+v, %v; want no files, no error", got, err)
	}
}

func TestEnumerateMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := Enumerate(hdfs.Local{}, missing)
	want := fmt.Sprintf("input path %q does not exist", missing)
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want %s wrapping fs.ErrNotExist", err, want)
	}
}

func TestEnumerateUnreadableDirectory(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "ok", "f"), "x")
	writeTestFile(t, filepath.Join(dir, "secret", "f"), "x")
	fsys := faultfs.New(hdfs.Local{})
	fsys.FailOn(faultfs.OpReadDir, "secret", fs.ErrPermission)

	_, err := Enumerate(fsys, dir)
	want := fmt.Sprintf("cannot read input directory %q: permission denied", filepath.Join(dir, "secret"))
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("err = %v, want %s wrapping fs.ErrPermission", err, want)
	}

	// The root itself.
	_, err = Enumerate(fsys, filepath.Join(dir, "secret"))
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("err = %v, want %s wrapping fs.ErrPermission", err, want)
	}

	// Stat failing for another reason than a missing path.
	fsys.FailOn(faultfs.OpStat, "ok", fs.ErrPermission)
	_, err = Enumerate(fsys, filepath.Join(dir, "ok"))
	want = fmt.Sprintf("cannot access input path %q: permission denied", filepath.Join(dir, "ok"))
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("err = %v, want %s wrapping fs.ErrPermission", err, want)
	}
}

func TestEnumerateSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "f"), "x")
	if err := os.Symlink(dir, filepath.Join(dir, "loop")); err != nil {
		t.Fatal(err)
	}
	_, err := Enumerate(hdfs.Local{}, dir)
	if err == nil {
		t.Fatal("Enumerate of a tree with a symbolic link loop succeeded")
	}
	t.Log(err)
}

// TestEnumerateSpecialFiles: a FIFO named as the input is listed, Special, so
// that it is read as a stream; one found in a directory is skipped, since
// opening it would block until some writer came.
func TestEnumerateSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dir, "a.txt"), "a")

	got, err := Enumerate(hdfs.Local{}, fifo)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path != fifo || !got[0].Special {
		t.Errorf("Enumerate(fifo) = %+v, want the FIFO itself, Special", got)
	}
	got, err = Enumerate(hdfs.Local{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Path != filepath.Join(dir, "a.txt") || got[0].Special {
		t.Errorf("Enumerate(dir) = %+v, want only a.txt", got)
	}
}
