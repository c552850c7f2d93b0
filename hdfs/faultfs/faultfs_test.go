package faultfs_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/hdfs/faultfs"
)

func create(t *testing.T, fsys hdfs.FileSystem, path, content string) {
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

// wantFault checks that err is the injected *fs.PathError for op on path.
func wantFault(t *testing.T, err error, op, path string, cause error) {
	t.Helper()
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != op || pe.Path != path || !errors.Is(err, cause) {
		t.Errorf("err = %v, want *fs.PathError{%s %s %v}", err, op, path, cause)
	}
}

func TestNoRulesPassesThrough(t *testing.T) {
	dir := t.TempDir()
	fsys := faultfs.New(hdfs.Local{})
	p := filepath.Join(dir, "sub", "f")
	if err := fsys.MkdirAll(filepath.Dir(p)); err != nil {
		t.Fatal(err)
	}
	create(t, fsys, p, "abc")
	fi, err := fsys.Stat(p)
	if err != nil || fi.Size != 3 {
		t.Fatalf("Stat = %+v, %v", fi, err)
	}
	f, err := fsys.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil || string(b) != "abc" {
		t.Errorf("ReadAll = %q, %v", b, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Rename(p, p+"2"); err != nil {
		t.Fatal(err)
	}
	entries, err := fsys.ReadDir(filepath.Dir(p))
	if err != nil || len(entries) != 1 || entries[0].Name != "f2" {
		t.Errorf("ReadDir = %+v, %v", entries, err)
	}
	if err := fsys.Remove(p + "2"); err != nil {
		t.Fatal(err)
	}
	if err := fsys.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
}

func TestFailOnReadDir(t *testing.T) {
	dir := t.TempDir()
	fsys := faultfs.New(hdfs.Local{})
	secret := filepath.Join(dir, "secret")
	if err := fsys.MkdirAll(filepath.Join(secret, "inner")); err != nil {
		t.Fatal(err)
	}
	fsys.FailOn(faultfs.OpReadDir, "secret", fs.ErrPermission)

	_, err := fsys.ReadDir(secret)
	wantFault(t, err, "readdir", secret, fs.ErrPermission)
	if want := "readdir " + secret + ": permission denied"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	_, err = fsys.ReadDir(filepath.Join(secret, "inner"))
	wantFault(t, err, "readdir", filepath.Join(secret, "inner"), fs.ErrPermission)
	if _, err := fsys.ReadDir(dir); err != nil {
		t.Errorf("ReadDir of a path not matching the rule: %v", err)
	}
	if _, err := fsys.Stat(secret); err != nil {
		t.Errorf("Stat is not subject to a readdir rule: %v", err)
	}

	fsys.Reset()
	if _, err := fsys.ReadDir(secret); err != nil {
		t.Errorf("after Reset: %v", err)
	}
}

func TestFailOnEachOp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "target")
	boom := errors.New("boom")
	create(t, hdfs.Local{}, p, "data")

	tests := []struct {
		op  string
		run func(fsys hdfs.FileSystem) error
	}{
		{faultfs.OpOpen, func(fsys hdfs.FileSystem) error { _, err := fsys.Open(p); return err }},
		{faultfs.OpCreate, func(fsys hdfs.FileSystem) error { _, err := fsys.Create(p); return err }},
		{faultfs.OpStat, func(fsys hdfs.FileSystem) error { _, err := fsys.Stat(p); return err }},
		{faultfs.OpMkdirAll, func(fsys hdfs.FileSystem) error { return fsys.MkdirAll(p) }},
		{faultfs.OpRemove, func(fsys hdfs.FileSystem) error { return fsys.Remove(p) }},
		{faultfs.OpRemoveAll, func(fsys hdfs.FileSystem) error { return fsys.RemoveAll(p) }},
		{faultfs.OpRename, func(fsys hdfs.FileSystem) error { return fsys.Rename(p, p+".new") }},
		{faultfs.OpRead, func(fsys hdfs.FileSystem) error {
			f, err := fsys.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			if _, err := f.ReadAt(make([]byte, 1), 0); !errors.Is(err, boom) {
				t.Errorf("ReadAt = %v, want boom", err)
			}
			_, err = f.Read(make([]byte, 1))
			return err
		}},
		{faultfs.OpSeek, func(fsys hdfs.FileSystem) error {
			f, err := fsys.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Seek(1, io.SeekStart)
			return err
		}},
		{faultfs.OpClose, func(fsys hdfs.FileSystem) error {
			f, err := fsys.Open(p)
			if err != nil {
				return err
			}
			return f.Close()
		}},
		{faultfs.OpSync, func(fsys hdfs.FileSystem) error {
			w, err := fsys.Create(p)
			if err != nil {
				return err
			}
			defer w.Close()
			return w.(interface{ Sync() error }).Sync()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			fsys := faultfs.New(hdfs.Local{})
			fsys.FailOn(tt.op, "target", boom)
			wantFault(t, tt.run(fsys), tt.op, p, boom)
			// The file is untouched and the other ops still work.
			if fi, err := fsys.Stat(p); tt.op != faultfs.OpStat && (err != nil || fi.IsDir) {
				t.Errorf("after failed %s: Stat = %+v, %v", tt.op, fi, err)
			}
		})
	}
}

func TestFailOnRenameMatchesEitherPath(t *testing.T) {
	dir := t.TempDir()
	fsys := faultfs.New(hdfs.Local{})
	src, dst := filepath.Join(dir, "a.inprogress"), filepath.Join(dir, "part-0")
	create(t, fsys, src, "x")
	fsys.FailOn(faultfs.OpRename, "part-0", syscall.EXDEV)
	err := fsys.Rename(src, dst)
	wantFault(t, err, "rename", dst, syscall.EXDEV)
	if _, err := fsys.Stat(src); err != nil {
		t.Errorf("source gone after failed rename: %v", err)
	}
}

func TestFailWriteAfter(t *testing.T) {
	dir := t.TempDir()
	fsys := faultfs.New(hdfs.Local{})
	p := filepath.Join(dir, "out.inprogress")
	fsys.FailWriteAfter(".inprogress", 10, syscall.ENOSPC)

	w, err := fsys.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("0123456")); n != 7 || err != nil {
		t.Fatalf("first write = %d, %v; want 7, nil", n, err)
	}
	n, err := w.Write([]byte("789abc"))
	if n != 3 {
		t.Errorf("crossing write wrote %d bytes, want 3", n)
	}
	wantFault(t, err, "write", p, syscall.ENOSPC)
	n, err = w.Write([]byte("z"))
	if n != 0 {
		t.Errorf("write after the limit wrote %d bytes, want 0", n)
	}
	wantFault(t, err, "write", p, syscall.ENOSPC)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "0123456789" {
		t.Errorf("file holds %q, want the first 10 bytes", b)
	}

	// Other files are not limited; FailOn(write) fails the first byte.
	other := filepath.Join(dir, "other")
	create(t, fsys, other, strings.Repeat("x", 100))
	fsys.FailOn(faultfs.OpWrite, "other", syscall.EIO)
	w, err = fsys.Create(other)
	if err != nil {
		t.Fatal(err)
	}
	n, err = w.Write([]byte("y"))
	if n != 0 {
		t.Errorf("wrote %d bytes, want 0", n)
	}
	wantFault(t, err, "write", other, syscall.EIO)
	w.Close()
}

func TestFailOnUnknownOpPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `unknown op "reddir"`) {
			t.Errorf("recover() = %v, want a panic naming the op", r)
		}
	}()
	faultfs.New(hdfs.Local{}).FailOn("reddir", "", fs.ErrPermission)
}
