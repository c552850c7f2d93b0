package hdfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Local is the FileSystem of the local disk. Paths are OS paths, relative to
// the working directory unless absolute. Its errors are those of package os
// (*fs.PathError, *os.LinkError), which name the path and wrap the cause.
// Symbolic links are followed.
type Local struct{}

var _ FileSystem = Local{}

// Open opens a file for reading.
func (Local) Open(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Create creates or truncates a file (mode 0666 before umask). The returned
// writer is an *os.File, so it also has Sync.
func (Local) Create(path string) (io.WriteCloser, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Stat describes a file or directory; FileInfo.Path is path as given. It
// follows symbolic links, so /dev/stdin is described by what it points at: a
// pipe or FIFO (Special, Size 0) when the standard input is one, a regular file
// when the shell redirected one with <.
func (Local) Stat(path string) (FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return FileInfo{}, err
	}
	return toFileInfo(path, fi), nil
}

// ReadDir lists a directory sorted by name. Symbolic links are described by
// their targets (a dangling link by the link itself); an entry that vanishes
// while the directory is read (a file being renamed, say) is left out.
func (Local) ReadDir(path string) ([]FileInfo, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, 0, len(entries))
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		var fi fs.FileInfo
		if e.Type()&fs.ModeSymlink != 0 {
			fi, err = os.Stat(p)
			if errors.Is(err, fs.ErrNotExist) {
				fi, err = e.Info()
			}
		} else {
			fi, err = e.Info()
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, toFileInfo(p, fi))
	}
	return out, nil
}

// MkdirAll creates a directory and its missing parents (mode 0777 before umask).
func (Local) MkdirAll(path string) error { return os.MkdirAll(path, 0o777) }

// Rename atomically replaces newPath with oldPath.
func (Local) Rename(oldPath, newPath string) error { return os.Rename(oldPath, newPath) }

// Remove removes a file or an empty directory.
func (Local) Remove(path string) error { return os.Remove(path) }

// RemoveAll removes path and everything under it; a missing path is not an error.
func (Local) RemoveAll(path string) error { return os.RemoveAll(path) }

// specialModes are the file types that make a FileInfo Special. A symbolic
// link is not one of them: it is described by its target, and only a dangling
// link is described by itself, as a file that fails to open.
const specialModes = fs.ModeNamedPipe | fs.ModeSocket | fs.ModeDevice | fs.ModeCharDevice | fs.ModeIrregular

func toFileInfo(path string, fi fs.FileInfo) FileInfo {
	return FileInfo{
		Path:    path,
		Name:    fi.Name(),
		Size:    fi.Size(),
		IsDir:   fi.IsDir(),
		Special: fi.Mode()&specialModes != 0,
		ModTime: fi.ModTime(),
	}
}
