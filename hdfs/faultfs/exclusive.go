package faultfs

import (
	"io"

	"github.com/spate-io/spate/hdfs"
)

var _ hdfs.ExclusiveCreator = (*FS)(nil)

// CreateExclusive creates through the inner FileSystem's CreateExclusive;
// OpCreate rules apply to it as to Create, and so do the file's rules.
func (f *FS) CreateExclusive(path string) (io.WriteCloser, error) {
	if err := f.check(OpCreate, path); err != nil {
		return nil, err
	}
	w, err := hdfs.CreateExclusive(f.inner, path)
	if err != nil {
		return nil, err
	}
	return &writer{fs: f, path: path, inner: w}, nil
}

var _ hdfs.NoReplaceRenamer = (*FS)(nil)

// RenameNoReplace renames through the inner FileSystem's RenameNoReplace;
// OpRename rules apply to it as to Rename.
func (f *FS) RenameNoReplace(oldPath, newPath string) error {
	if err := f.check(OpRename, oldPath, newPath); err != nil {
		return err
	}
	return hdfs.RenameNoReplace(f.inner, oldPath, newPath)
}
