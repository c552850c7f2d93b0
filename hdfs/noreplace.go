package hdfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// NoReplaceRenamer is implemented by a FileSystem that can rename a file
// without replacing an existing target, as Hadoop's FileSystem.rename does:
// what is published once (a checkpoint's _metadata, a committed part file) is
// never overwritten by a late or duplicate publisher.
type NoReplaceRenamer interface {
	// RenameNoReplace moves the file oldPath to newPath; an existing newPath
	// is an error wrapping fs.ErrExist, and oldPath is then left in place.
	RenameNoReplace(oldPath, newPath string) error
}

// RenameNoReplace renames oldPath to newPath on fsys unless newPath exists
// (see NoReplaceRenamer). A FileSystem without the method is refused, never
// served by a rename that might replace.
func RenameNoReplace(fsys FileSystem, oldPath, newPath string) error {
	r, ok := fsys.(NoReplaceRenamer)
	if !ok {
		return fmt.Errorf("rename %s to %s: %T cannot rename without replacing the target", oldPath, newPath, fsys)
	}
	return r.RenameNoReplace(oldPath, newPath)
}

var (
	_ NoReplaceRenamer = Local{}
	_ NoReplaceRenamer = (*HDFS)(nil)
)

// RenameNoReplace links newPath to oldPath, which fails atomically if newPath
// exists, then removes oldPath. Files only: a directory cannot be linked. A
// newPath that is already oldPath's file is an earlier call cut short between
// the two steps: it is finished, not refused.
func (Local) RenameNoReplace(oldPath, newPath string) error {
	if err := os.Link(oldPath, newPath); err != nil {
		if !errors.Is(err, fs.ErrExist) || !sameFile(oldPath, newPath) {
			return err
		}
	}
	return os.Remove(oldPath)
}

func sameFile(a, b string) bool {
	fa, err := os.Lstat(a)
	if err != nil {
		return false
	}
	fb, err := os.Lstat(b)
	return err == nil && os.SameFile(fa, fb)
}

// RenameNoReplace fails with fs.ErrExist when newPath exists, else renames.
// colinmarc/hdfs v2.4.0 only sends rename2 with OVERWRITE, so the check and
// the rename are two calls: two publishers racing for one name could both
// succeed. Spate's publishers of one name exclude each other by the job's
// lease; this guards against a late one, not a concurrent one.
func (f *HDFS) RenameNoReplace(oldPath, newPath string) error {
	_, err := f.client.Stat(newPath)
	switch {
	case err == nil:
		return f.wrap(&fs.PathError{Op: "rename", Path: newPath, Err: fs.ErrExist})
	case !errors.Is(err, fs.ErrNotExist):
		return f.wrap(err)
	}
	return f.wrap(f.client.Rename(oldPath, newPath))
}
