package hdfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func writeFile(t *testing.T, fsys FileSystem, path, content string) {
	t.Helper()
	w, err := fsys.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, fsys FileSystem, path string) string {
	t.Helper()
	f, err := fsys.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantNotExist checks that err wraps fs.ErrNotExist and names path.
func wantNotExist(t *testing.T, op string, err error, path string) {
	t.Helper()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: err = %v, want fs.ErrNotExist", op, err)
	}
	if err != nil && !strings.Contains(err.Error(), path) {
		t.Errorf("%s: error %q does not name %q", op, err, path)
	}
}

func TestLocalCreateOpenStat(t *testing.T) {
	var fsys FileSystem = Local{}
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	writeFile(t, fsys, p, "hello world")
	writeFile(t, fsys, p, "bye") // truncates
	if got := readFile(t, fsys, p); got != "bye" {
		t.Errorf("content = %q, want %q", got, "bye")
	}

	f, err := fsys.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if n, err := f.ReadAt(buf, 1); n != 2 || err != nil || string(buf) != "ye" {
		t.Errorf("ReadAt(1) = %d, %v, %q; want 2, nil, \"ye\"", n, err, buf)
	}
	if off, err := f.Seek(2, io.SeekStart); off != 2 || err != nil {
		t.Errorf("Seek(2) = %d, %v", off, err)
	}
	if rest, err := io.ReadAll(f); string(rest) != "e" || err != nil {
		t.Errorf("read after seek = %q, %v; want \"e\"", rest, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	fi, err := fsys.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Path != p || fi.Name != "f.txt" || fi.Size != 3 || fi.IsDir || fi.ModTime.IsZero() {
		t.Errorf("Stat = %+v", fi)
	}
	di, err := fsys.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !di.IsDir || di.Path != dir {
		t.Errorf("Stat(dir) = %+v", di)
	}
}

func TestLocalMissing(t *testing.T) {
	var fsys FileSystem = Local{}
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")

	_, err := fsys.Open(missing)
	wantNotExist(t, "Open", err, missing)
	_, err = fsys.Stat(missing)
	wantNotExist(t, "Stat", err, missing)
	_, err = fsys.ReadDir(missing)
	wantNotExist(t, "ReadDir", err, missing)
	_, err = fsys.Create(filepath.Join(missing, "f")) // parent must exist
	wantNotExist(t, "Create", err, missing)
	err = fsys.Remove(missing)
	wantNotExist(t, "Remove", err, missing)
	err = fsys.Rename(missing, filepath.Join(dir, "other"))
	wantNotExist(t, "Rename", err, missing)
	if err := fsys.RemoveAll(missing); err != nil {
		t.Errorf("RemoveAll(missing) = %v, want nil", err)
	}
}

func TestLocalReadDir(t *testing.T) {
	var fsys FileSystem = Local{}
	dir := t.TempDir()
	if err := fsys.MkdirAll(filepath.Join(dir, "b", "deep")); err != nil {
		t.Fatal(err)
	}
	if err := fsys.MkdirAll(filepath.Join(dir, "b")); err != nil {
		t.Errorf("MkdirAll of an existing directory: %v", err)
	}
	writeFile(t, fsys, filepath.Join(dir, "c"), "ccc")
	writeFile(t, fsys, filepath.Join(dir, "a"), "a")
	writeFile(t, fsys, filepath.Join(dir, ".hidden"), "")
	if err := os.Symlink(filepath.Join(dir, "c"), filepath.Join(dir, "link-to-c")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "b"), filepath.Join(dir, "link-to-b")); err != nil {
		t.Fatal(err)
	}

	got, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []FileInfo{
		{Path: filepath.Join(dir, ".hidden"), Name: ".hidden", Size: 0},
		{Path: filepath.Join(dir, "a"), Name: "a", Size: 1},
		{Path: filepath.Join(dir, "b"), Name: "b", IsDir: true},
		{Path: filepath.Join(dir, "c"), Name: "c", Size: 3},
		{Path: filepath.Join(dir, "link-to-b"), Name: "link-to-b", IsDir: true},
		{Path: filepath.Join(dir, "link-to-c"), Name: "link-to-c", Size: 3}, // the target's size
	}
	if len(got) != len(want) {
		t.Fatalf("ReadDir = %+v, want %d entries", got, len(want))
	}
	for i := range want {
		g := got[i]
		if g.Path != want[i].Path || g.Name != want[i].Name || g.IsDir != want[i].IsDir || (!g.IsDir && g.Size != want[i].Size) {
			t.Errorf("entry %d = %+v, want %+v", i, g, want[i])
		}
	}

	// A file is not a directory.
	if _, err := fsys.ReadDir(filepath.Join(dir, "a")); err == nil {
		t.Error("ReadDir of a file succeeded")
	}
}

func TestLocalRenameRemove(t *testing.T) {
	var fsys FileSystem = Local{}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, ".tmp"), filepath.Join(dir, "final")
	writeFile(t, fsys, src, "new")
	writeFile(t, fsys, dst, "old")
	if err := fsys.Rename(src, dst); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, fsys, dst); got != "new" {
		t.Errorf("after Rename, content = %q, want %q", got, "new")
	}
	_, err := fsys.Stat(src)
	wantNotExist(t, "Stat(renamed source)", err, src)

	sub := filepath.Join(dir, "sub")
	if err := fsys.MkdirAll(sub); err != nil {
		t.Fatal(err)
	}
	writeFile(t, fsys, filepath.Join(sub, "x"), "x")
	if err := fsys.Remove(sub); err == nil {
		t.Error("Remove of a non-empty directory succeeded")
	}
	if err := fsys.Remove(dst); err != nil {
		t.Errorf("Remove(file) = %v", err)
	}
	if err := fsys.RemoveAll(sub); err != nil {
		t.Errorf("RemoveAll = %v", err)
	}
	got, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("directory not empty after removals: %+v", got)
	}
	if err := fsys.Remove(dir); err != nil {
		t.Errorf("Remove(empty dir) = %v", err)
	}
}

func TestLocalPermission(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores permissions; hdfs/faultfs tests cover fs.ErrPermission")
	}
	dir := t.TempDir()
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o700) })
	_, err := Local{}.ReadDir(locked)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), locked) {
		t.Errorf("ReadDir(unreadable) = %v, want fs.ErrPermission naming %q", err, locked)
	}
}

// TestLocalStatSpecial: what is not a regular file or a directory is Special,
// so that no reader trusts its size (0 for a pipe) or seeks it; /dev/stdin is
// described by what it points at.
func TestLocalStatSpecial(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, Local{}, filepath.Join(dir, "regular"), "abc")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	for _, tc := range []struct {
		path                 string
		wantDir, wantSpecial bool
	}{
		{fifo, false, true},
		{"/dev/null", false, true},                              // a character device
		{fmt.Sprintf("/proc/self/fd/%d", pr.Fd()), false, true}, // an anonymous pipe, as /dev/stdin is under "cat f |"
		{filepath.Join(dir, "regular"), false, false},
		{dir, true, false},
	} {
		fi, err := Local{}.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.IsDir != tc.wantDir || fi.Special != tc.wantSpecial {
			t.Errorf("Stat(%s): IsDir=%v Special=%v, want IsDir=%v Special=%v", tc.path, fi.IsDir, fi.Special, tc.wantDir, tc.wantSpecial)
		}
	}
	entries, err := Local{}.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s special=%v", e.Name, e.Special))
	}
	if want := []string{"fifo special=true", "regular special=false"}; !slices.Equal(got, want) {
		t.Errorf("ReadDir = %q, want %q", got, want)
	}
}

// TestLocalRenameNoReplace: the target is never replaced; a rename cut short
// after its link (both names on one file) is finished by the next call.
func TestLocalRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(a, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, []byte("published"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := RenameNoReplace(Local{}, a, b); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("rename onto an existing file: %v, want fs.ErrExist", err)
	}
	if got, _ := os.ReadFile(b); string(got) != "published" {
		t.Fatalf("target replaced: %q", got)
	}
	if _, err := os.Stat(a); err != nil {
		t.Fatalf("source gone after a refused rename: %v", err)
	}
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(a, b); err != nil { // as if cut short after the link
		t.Fatal(err)
	}
	if err := RenameNoReplace(Local{}, a, b); err != nil {
		t.Fatalf("finishing a cut-short rename: %v", err)
	}
	if _, err := os.Stat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("source left: %v", err)
	}
	if got, _ := os.ReadFile(b); string(got) != "new" {
		t.Fatalf("target %q, want new", got)
	}
	if err := RenameNoReplace(plainLocal{}, b, a); err == nil || !strings.Contains(err.Error(), "cannot rename without replacing") {
		t.Fatalf("a FileSystem without RenameNoReplace: %v", err)
	}
}

// plainLocal hides Local's RenameNoReplace.
type plainLocal struct{ FileSystem }
