package hdfs

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"syscall"
	"time"

	gohdfs "github.com/colinmarc/hdfs/v2"
	krbclient "github.com/jcmturner/gokrb5/v8/client"
)

// HDFS is the FileSystem of one HDFS cluster (one hdfs:// authority), through
// github.com/colinmarc/hdfs/v2. Its paths are absolute HDFS paths ("/a/b"),
// without scheme or authority. Errors name the cluster and the path and wrap
// fs.ErrNotExist, fs.ErrPermission, fs.ErrExist or syscall.ENOTEMPTY where the
// NameNode's exception means one.
//
// How HDFS differs from the local filesystem:
//
//   - Create of an existing file deletes it, then creates it (the library
//     cannot ask for CREATE|OVERWRITE): between the two a reader sees no
//     file, and a concurrent creator may win, which Create reports as
//     fs.ErrExist. Durable files are written under a temporary name and
//     renamed, so they never depend on this.
//   - Rename replaces a file atomically (the NameNode's rename2 with
//     OVERWRITE); a non-empty target directory is an error.
//   - The writer's Sync flushes the written data to every DataNode of the
//     pipeline and waits for their acknowledgement (hflush): it survives the
//     loss of this process, and of any DataNode but the last. HDFS does not
//     fsync DataNode disks on it.
//   - Close retries for a bounded time while the NameNode says the last
//     block is not yet replicated ("replication in progress").
//   - The library cannot recover a write pipeline: a DataNode lost during a
//     write fails that write, and the caller must start the file again.
type HDFS struct {
	uri    string // "hdfs://authority", for errors
	client *gohdfs.Client
	krb    *krbclient.Client // nil without Kerberos
	secure bool

	replication int
	blockSize   int64
	fileMode    os.FileMode
	dirMode     os.FileMode
}

var (
	_ FileSystem       = (*HDFS)(nil)
	_ ExclusiveCreator = (*HDFS)(nil)
)

// URI returns "hdfs://authority".
func (f *HDFS) URI() string { return f.uri }

// Secure says whether the client logged in with Kerberos.
func (f *HDFS) Secure() bool { return f.secure }

// User returns the user the NameNode knows this client as.
func (f *HDFS) User() string { return f.client.User() }

// Open opens a file for reading; the file has ReadAt and Seek.
func (f *HDFS) Open(p string) (File, error) {
	r, err := f.client.Open(p)
	if err != nil {
		return nil, f.wrap(err)
	}
	return &hdfsReader{r: r, fsys: f}, nil
}

// Create creates or truncates a file; see the type's documentation for what
// truncating costs. The writer has Sync.
func (f *HDFS) Create(p string) (io.WriteCloser, error) {
	w, err := f.client.CreateFile(p, f.replication, f.blockSize, f.fileMode)
	if errors.Is(err, fs.ErrExist) {
		fi, serr := f.client.Stat(p)
		if serr == nil && fi.IsDir() {
			return nil, f.wrap(&fs.PathError{Op: "create", Path: p, Err: syscall.EISDIR})
		}
		if err := f.client.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, f.wrap(err)
		}
		w, err = f.client.CreateFile(p, f.replication, f.blockSize, f.fileMode)
	}
	if err != nil {
		return nil, f.wrap(err)
	}
	return &hdfsWriter{w: w, fsys: f, path: p}, nil
}

// CreateExclusive creates a file that must not exist: the NameNode's create
// without OVERWRITE, atomic among all clients. An existing file (or one being
// written by another client) is an error wrapping fs.ErrExist.
func (f *HDFS) CreateExclusive(p string) (io.WriteCloser, error) {
	w, err := f.client.CreateFile(p, f.replication, f.blockSize, f.fileMode)
	if err != nil {
		return nil, f.wrap(err)
	}
	return &hdfsWriter{w: w, fsys: f, path: p}, nil
}

// Stat describes a file or directory; FileInfo.Path is the clean path.
func (f *HDFS) Stat(p string) (FileInfo, error) {
	fi, err := f.client.Stat(p)
	if err != nil {
		return FileInfo{}, f.wrap(err)
	}
	return hdfsFileInfo(path.Clean(p), fi), nil
}

// ReadDir lists a directory, sorted by name.
func (f *HDFS) ReadDir(p string) ([]FileInfo, error) {
	fis, err := f.client.ReadDir(p)
	if err != nil {
		return nil, f.wrap(err)
	}
	p = path.Clean(p)
	out := make([]FileInfo, 0, len(fis))
	for _, fi := range fis {
		out = append(out, hdfsFileInfo(path.Join(p, fi.Name()), fi))
	}
	// The NameNode lists in byte order already; the contract does not rest on it.
	slices.SortFunc(out, func(a, b FileInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// MkdirAll creates a directory and its parents (mode 0777 less the umask).
func (f *HDFS) MkdirAll(p string) error {
	return f.wrap(f.client.MkdirAll(p, f.dirMode))
}

// Rename moves oldPath to newPath, atomically replacing a file at newPath.
func (f *HDFS) Rename(oldPath, newPath string) error {
	return f.wrap(f.client.Rename(oldPath, newPath))
}

// Remove removes a file or an empty directory.
func (f *HDFS) Remove(p string) error {
	return f.wrap(f.client.Remove(p))
}

// RemoveAll removes p and everything under it; a missing path is not an error.
func (f *HDFS) RemoveAll(p string) error {
	return f.wrap(f.client.RemoveAll(p))
}

func hdfsFileInfo(p string, fi fs.FileInfo) FileInfo {
	return FileInfo{Path: p, Name: path.Base(p), Size: fi.Size(), IsDir: fi.IsDir(), ModTime: fi.ModTime()}
}

// NameNode exception classes and what they mean; the library interprets
// them for most calls, not all.
var remoteExceptions = map[string]error{
	"java.io.FileNotFoundException":                                fs.ErrNotExist,
	"org.apache.hadoop.security.AccessControlException":            fs.ErrPermission,
	"org.apache.hadoop.fs.FileAlreadyExistsException":              fs.ErrExist,
	"org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException": fs.ErrExist,
	"org.apache.hadoop.fs.PathIsNotEmptyDirectoryException":        syscall.ENOTEMPTY,
}

// wrap names the cluster in err, and makes a NameNode exception that the
// library left uninterpreted match its fs error with errors.Is.
func (f *HDFS) wrap(err error) error {
	if err == nil {
		return nil
	}
	var remote gohdfs.Error
	if errors.As(err, &remote) {
		if kind, ok := remoteExceptions[remote.Exception()]; ok && !errors.Is(err, kind) {
			return &hdfsError{uri: f.uri, err: err, kind: kind}
		}
	}
	return &hdfsError{uri: f.uri, err: err}
}

// hdfsError is an error of one cluster.
type hdfsError struct {
	uri  string
	err  error
	kind error // an fs error the cause means, or nil
}

func (e *hdfsError) Error() string { return e.uri + ": " + e.err.Error() }

func (e *hdfsError) Unwrap() []error {
	if e.kind == nil {
		return []error{e.err}
	}
	return []error{e.err, e.kind}
}

// hdfsReader is an open HDFS file.
type hdfsReader struct {
	r    *gohdfs.FileReader
	fsys *HDFS
}

func (r *hdfsReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		err = r.fsys.wrap(&fs.PathError{Op: "read", Path: r.r.Name(), Err: err})
	}
	return n, err
}

func (r *hdfsReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := r.r.ReadAt(b, off)
	if err != nil && err != io.EOF {
		err = r.fsys.wrap(&fs.PathError{Op: "read", Path: r.r.Name(), Err: err})
	}
	return n, err
}

func (r *hdfsReader) Seek(offset int64, whence int) (int64, error) {
	n, err := r.r.Seek(offset, whence)
	return n, r.fsys.wrap(err)
}

func (r *hdfsReader) Close() error { return r.fsys.wrap(r.r.Close()) }

// Close's retries while the NameNode has not yet seen the last block
// replicated: the Java client waits 400 ms, doubling, five times (~12 s).
const (
	closeRetryFirst = 50 * time.Millisecond
	closeRetryMax   = 2 * time.Second
	closeRetryTotal = 15 * time.Second
)

// ErrWritePipeline is wrapped by the error of a write, sync or close on HDFS
// that failed in the pipeline of DataNodes (one went away, or refused the
// block): colinmarc/hdfs v2.4.0 cannot rebuild a pipeline as Hadoop's client
// does, so the file is lost and must be written again from the start.
var ErrWritePipeline = errors.New("the HDFS write pipeline failed (Spate's HDFS client cannot recover a pipeline: the file must be written again)")

// hdfsWriter is a file being written.
type hdfsWriter struct {
	w      *gohdfs.FileWriter
	fsys   *HDFS
	path   string
	closed bool
	failed error // the first write or sync error: the file is lost
}

// pipelineError wraps a write or sync error of the library: a NameNode
// exception (permission, quota, lease) means what it says; anything else
// came from the DataNode pipeline. Either way the file is lost.
func (w *hdfsWriter) pipelineError(op string, err error) error {
	var remote gohdfs.Error
	if !errors.As(err, &remote) {
		err = fmt.Errorf("%w: %w", ErrWritePipeline, err)
	}
	err = w.fsys.wrap(&fs.PathError{Op: op, Path: w.path, Err: err})
	if w.failed == nil {
		w.failed = err
	}
	return err
}

func (w *hdfsWriter) Write(b []byte) (int, error) {
	if w.closed {
		return 0, &fs.PathError{Op: "write", Path: w.path, Err: fs.ErrClosed}
	}
	if w.failed != nil {
		return 0, w.failed
	}
	if len(b) == 0 {
		// The library would allocate a block for nothing, which no DataNode
		// ever reports: Close would then wait for its replication forever.
		return 0, nil
	}
	n, err := w.w.Write(b)
	if err != nil {
		err = w.pipelineError("write", err)
	}
	return n, err
}

// Sync sends what was written to every DataNode of the pipeline and waits for
// their acknowledgement (HDFS's hflush).
func (w *hdfsWriter) Sync() error {
	if w.closed {
		return &fs.PathError{Op: "sync", Path: w.path, Err: fs.ErrClosed}
	}
	if w.failed != nil {
		return w.failed
	}
	if err := w.w.Flush(); err != nil {
		return w.pipelineError("sync", err)
	}
	return nil
}

// Close writes what is buffered and completes the file on the NameNode,
// retrying while the NameNode says replication is in progress. After a
// failed write or sync it closes once, without waiting: the last block will
// never be replicated, and the file is lost anyway; it returns that error.
func (w *hdfsWriter) Close() error {
	if w.closed {
		return &fs.PathError{Op: "close", Path: w.path, Err: fs.ErrClosed}
	}
	if w.failed != nil {
		w.closed = true
		_ = w.w.Close()
		return w.failed
	}
	start, wait := time.Now(), closeRetryFirst
	for {
		err := w.w.Close()
		if err == nil || !gohdfs.IsErrReplicating(err) {
			w.closed = true
			if err != nil {
				return w.pipelineError("close", err)
			}
			return nil
		}
		if time.Since(start)+wait > closeRetryTotal {
			w.closed = true
			return w.fsys.wrap(fmt.Errorf("close %s: the NameNode still reports replication in progress after %v: %w",
				w.path, time.Since(start).Round(time.Millisecond), err))
		}
		time.Sleep(wait)
		wait = min(2*wait, closeRetryMax)
	}
}
