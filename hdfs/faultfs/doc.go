// Package faultfs wraps an hdfs.FileSystem and makes chosen operations fail,
// so tests can check how code copes with unreadable directories, full disks
// and failed renames without chmod tricks (which do nothing as root).
//
//	fsys := faultfs.New(hdfs.Local{})
//	fsys.FailOn(faultfs.OpReadDir, "/in/secret", fs.ErrPermission)
//	fsys.FailWriteAfter(".inprogress", 100, syscall.ENOSPC)
//
// A rule matches when the operation's path contains the rule's substring (""
// matches every path; Rename matches on either path). Rules stay in force until
// Reset. A failure is returned as an *fs.PathError{Op, Path, Err}, so it names
// the path and errors.Is(err, rule's error) holds. Write rules are checked on
// every Write, so they also hit files created before the rule was added.
//
// This package is for tests only; it must never be used by production code.
package faultfs
