package faultfs

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/spate-io/spate/hdfs"
)

// Operations a rule can fail. The FileSystem methods have their own; the rest
// are operations on the files they return.
const (
	OpOpen      = "open"
	OpCreate    = "create"
	OpStat      = "stat"
	OpReadDir   = "readdir"
	OpMkdirAll  = "mkdirall"
	OpRename    = "rename" // matches on the old or the new path
	OpRemove    = "remove"
	OpRemoveAll = "removeall"
	OpRead      = "read"  // Read and ReadAt on a file from Open
	OpSeek      = "seek"  // Seek on a file from Open
	OpWrite     = "write" // Write on a file from Create; see FailWriteAfter
	OpSync      = "sync"  // Sync on a file from Create
	OpClose     = "close" // Close of a file from Open or Create (the file is still closed)
)

var knownOps = map[string]bool{
	OpOpen: true, OpCreate: true, OpStat: true, OpReadDir: true, OpMkdirAll: true,
	OpRename: true, OpRemove: true, OpRemoveAll: true, OpRead: true, OpSeek: true,
	OpWrite: true, OpSync: true, OpClose: true,
}

type rule struct {
	op    string
	sub   string
	err   error
	after int64 // write rules: bytes each file may take before failing
}

// FS is an hdfs.FileSystem that passes every call to an inner FileSystem
// unless a rule makes it fail. It is safe for concurrent use.
type FS struct {
	inner hdfs.FileSystem

	mu    sync.Mutex
	rules []rule
}

var _ hdfs.FileSystem = (*FS)(nil)

// New wraps inner with no rules: it behaves exactly like inner until FailOn or
// FailWriteAfter is called.
func New(inner hdfs.FileSystem) *FS { return &FS{inner: inner} }

// FailOn makes every op on a path containing pathSubstring fail with err. For
// OpWrite it is FailWriteAfter(pathSubstring, 0, err). It panics on an unknown
// op or a nil err, which are mistakes in the test.
func (f *FS) FailOn(op, pathSubstring string, err error) {
	if !knownOps[op] {
		panic(fmt.Sprintf("faultfs: unknown op %q", op))
	}
	f.add(rule{op: op, sub: pathSubstring, err: err})
}

// FailWriteAfter lets each file whose path contains pathSubstring take n bytes
// in total; the Write that would go past n writes the bytes up to n and then
// fails with err (a short write), as does every later Write to that file.
func (f *FS) FailWriteAfter(pathSubstring string, n int64, err error) {
	if n < 0 {
		panic(fmt.Sprintf("faultfs: negative byte count %d", n))
	}
	f.add(rule{op: OpWrite, sub: pathSubstring, err: err, after: n})
}

// Reset removes every rule.
func (f *FS) Reset() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

func (f *FS) add(r rule) {
	if r.err == nil {
		panic("faultfs: nil error")
	}
	f.mu.Lock()
	f.rules = append(f.rules, r)
	f.mu.Unlock()
}

// match returns the first rule for op matching one of the paths.
func (f *FS) match(op string, paths ...string) (rule, string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.op != op {
			continue
		}
		for _, p := range paths {
			if strings.Contains(p, r.sub) {
				return r, p, true
			}
		}
	}
	return rule{}, "", false
}

// check returns the injected error for op on the paths, or nil.
func (f *FS) check(op string, paths ...string) error {
	if r, p, ok := f.match(op, paths...); ok {
		return &fs.PathError{Op: op, Path: p, Err: r.err}
	}
	return nil
}

// writeRule is the matching write rule for path with the smallest byte allowance.
func (f *FS) writeRule(path string) (rule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var (
		least rule
		found bool
	)
	for _, r := range f.rules {
		if r.op == OpWrite && strings.Contains(path, r.sub) && (!found || r.after < least.after) {
			least, found = r, true
		}
	}
	return least, found
}

// Open opens through the inner FileSystem; reads, seeks and Close of the file
// are subject to the rules too.
func (f *FS) Open(path string) (hdfs.File, error) {
	if err := f.check(OpOpen, path); err != nil {
		return nil, err
	}
	in, err := f.inner.Open(path)
	if err != nil {
		return nil, err
	}
	return &file{fs: f, path: path, inner: in}, nil
}

// Create creates through the inner FileSystem; writes, Sync and Close of the
// file are subject to the rules too.
func (f *FS) Create(path string) (io.WriteCloser, error) {
	if err := f.check(OpCreate, path); err != nil {
		return nil, err
	}
	w, err := f.inner.Create(path)
	if err != nil {
		return nil, err
	}
	return &writer{fs: f, path: path, inner: w}, nil
}

// Stat is the inner Stat unless a rule fails it.
func (f *FS) Stat(path string) (hdfs.FileInfo, error) {
	if err := f.check(OpStat, path); err != nil {
		return hdfs.FileInfo{}, err
	}
	return f.inner.Stat(path)
}

// ReadDir is the inner ReadDir unless a rule fails it.
func (f *FS) ReadDir(path string) ([]hdfs.FileInfo, error) {
	if err := f.check(OpReadDir, path); err != nil {
		return nil, err
	}
	return f.inner.ReadDir(path)
}

// MkdirAll is the inner MkdirAll unless a rule fails it.
func (f *FS) MkdirAll(path string) error {
	if err := f.check(OpMkdirAll, path); err != nil {
		return err
	}
	return f.inner.MkdirAll(path)
}

// Rename is the inner Rename unless a rule matching either path fails it.
func (f *FS) Rename(oldPath, newPath string) error {
	if err := f.check(OpRename, oldPath, newPath); err != nil {
		return err
	}
	return f.inner.Rename(oldPath, newPath)
}

// Remove is the inner Remove unless a rule fails it.
func (f *FS) Remove(path string) error {
	if err := f.check(OpRemove, path); err != nil {
		return err
	}
	return f.inner.Remove(path)
}

// RemoveAll is the inner RemoveAll unless a rule fails it.
func (f *FS) RemoveAll(path string) error {
	if err := f.check(OpRemoveAll, path); err != nil {
		return err
	}
	return f.inner.RemoveAll(path)
}

type file struct {
	fs    *FS
	path  string
	inner hdfs.File
}

func (r *file) Read(p []byte) (int, error) {
	if err := r.fs.check(OpRead, r.path); err != nil {
		return 0, err
	}
	return r.inner.Read(p)
}

func (r *file) ReadAt(p []byte, off int64) (int, error) {
	if err := r.fs.check(OpRead, r.path); err != nil {
		return 0, err
	}
	return r.inner.ReadAt(p, off)
}

func (r *file) Seek(offset int64, whence int) (int64, error) {
	if err := r.fs.check(OpSeek, r.path); err != nil {
		return 0, err
	}
	return r.inner.Seek(offset, whence)
}

func (r *file) Close() error {
	cerr := r.inner.Close()
	if err := r.fs.check(OpClose, r.path); err != nil {
		return err
	}
	return cerr
}

type writer struct {
	fs      *FS
	path    string
	inner   io.WriteCloser
	written int64
}

func (w *writer) Write(p []byte) (int, error) {
	r, ok := w.fs.writeRule(w.path)
	if !ok || w.written+int64(len(p)) <= r.after {
		n, err := w.inner.Write(p)
		w.written += int64(n)
		return n, err
	}
	n := 0
	if allowed := r.after - w.written; allowed > 0 {
		var err error
		n, err = w.inner.Write(p[:allowed])
		w.written += int64(n)
		if err != nil {
			return n, err
		}
	}
	return n, &fs.PathError{Op: OpWrite, Path: w.path, Err: r.err}
}

// Sync syncs the inner writer if it can (an *os.File can), unless a rule fails it.
func (w *writer) Sync() error {
	if err := w.fs.check(OpSync, w.path); err != nil {
		return err
	}
	if s, ok := w.inner.(interface{ Sync() error }); ok {
		return s.Sync()
	}
	return nil
}

func (w *writer) Close() error {
	cerr := w.inner.Close()
	if err := w.fs.check(OpClose, w.path); err != nil {
		return err
	}
	return cerr
}
