package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/spate-io/spate/hdfs"
)

// maxDirDepth bounds Enumerate's recursion, which follows symbolic links and
// would otherwise loop forever on a link to an ancestor.
const maxDirDepth = 128

// Enumerate lists the input files under path: the file itself, or every regular file in the
// directory tree (recursively, sorted by path), skipping names that start with "." or "_"
// (Hadoop/Flink convention: hidden and in-progress files) and the pipes, FIFOs, sockets and
// devices found in a directory, which could block or never end. A file named by path itself
// is never skipped: a special one (/dev/stdin, a FIFO) is listed with Special set, and
// AssignSplits reads it as one stream. Errors name the path: a missing path → `input path "X" does not exist`
// (wraps fs.ErrNotExist); an unreadable directory → `cannot read input directory "X":
// permission denied` (wraps fs.ErrPermission). An empty directory is not an error: it has
// zero files.
func Enumerate(fsys hdfs.FileSystem, path string) ([]hdfs.FileInfo, error) {
	root, err := fsys.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &messageError{msg: fmt.Sprintf("input path %q does not exist", path), err: err}
		}
		return nil, fmt.Errorf("cannot access input path %q: %w", path, cause(err))
	}
	if !root.IsDir {
		return []hdfs.FileInfo{root}, nil
	}
	files := []hdfs.FileInfo{}
	if err := walk(fsys, path, 0, &files); err != nil {
		return nil, err
	}
	slices.SortFunc(files, func(a, b hdfs.FileInfo) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

func walk(fsys hdfs.FileSystem, dir string, depth int, files *[]hdfs.FileInfo) error {
	if depth > maxDirDepth {
		return fmt.Errorf("input directory %q is nested more than %d levels deep: is there a symbolic link to an ancestor?", dir, maxDirDepth)
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("cannot read input directory %q: %w", dir, cause(err))
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name, ".") || strings.HasPrefix(e.Name, "_") {
			continue
		}
		if e.IsDir {
			if err := walk(fsys, e.Path, depth+1, files); err != nil {
				return err
			}
			continue
		}
		if e.Special {
			continue
		}
		*files = append(*files, e)
	}
	return nil
}

// cause strips an *fs.PathError, whose path and operation the caller's message
// already names, keeping the error it wraps (so errors.Is still works).
func cause(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// messageError is an error whose message says it all but which still wraps its
// cause, for errors.Is and errors.As.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.err }
