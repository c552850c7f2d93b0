// Package hdfs is the one filesystem interface through which Spate reads and
// writes files: job inputs and outputs today, checkpoints and savepoints later.
//
// # Model
//
// A FileSystem serves paths of one kind. Resolve maps a user-supplied URI or
// path to the FileSystem that serves it and the path to hand that FileSystem:
//
//	fsys, p, err := hdfs.Resolve("file:///data/in")
//	// fsys == hdfs.Local{}, p == "/data/in"
//	f, err := fsys.Open(p)
//
// The schemes understood are:
//
//	/abs/path, rel/path     a path on the local filesystem (relative to the working directory)
//	file:///abs/path        the same, as a URI (file://localhost/abs/path is accepted too)
//	file:/abs/path          the same, in Hadoop's short form
//	hdfs://namenode/path    reserved: returns an error wrapping ErrUnsupportedScheme until the
//	                        Hadoop integration (colinmarc/hdfs) is built
//
// Any other scheme is an error wrapping ErrUnsupportedScheme. As with Hadoop's
// Path, a file URI is taken literally: no percent-decoding, and '?' and '#'
// are part of the file name.
//
// Paths handed back by a FileSystem (FileInfo.Path) can be passed to the same
// FileSystem again; they are not URIs.
//
// # Invariants
//
//   - Errors wrap the underlying cause, so errors.Is(err, fs.ErrNotExist) and
//     errors.Is(err, fs.ErrPermission) keep working, and they name the path.
//   - Rename is atomic on the local filesystem and replaces the target: write to
//     a hidden temporary name, then Rename, and a reader never sees half a file.
//   - ReadDir is sorted by name.
//
// # What this package must never do
//
// It knows nothing of jobs, records or checkpoints: it moves bytes. Code that
// reads or writes durable data must go through a FileSystem, never through
// package os, so that tests can inject faults with package hdfs/faultfs.
package hdfs
