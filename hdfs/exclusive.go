package hdfs

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ExclusiveCreator is implemented by a FileSystem that can create a file only
// if it does not exist yet, atomically: of two callers racing for one path,
// exactly one succeeds. Leases are built on it (HDFS create without overwrite
// has the same guarantee).
type ExclusiveCreator interface {
	// CreateExclusive creates path for writing; an existing path is an error
	// wrapping fs.ErrExist. The parent directory must exist.
	CreateExclusive(path string) (io.WriteCloser, error)
}

// ErrNoExclusiveCreate is returned by CreateExclusive for a FileSystem that
// cannot create a file exclusively.
var ErrNoExclusiveCreate = errors.New("the filesystem cannot create a file exclusively")

// CreateExclusive creates path on fsys unless it exists (see ExclusiveCreator).
func CreateExclusive(fsys FileSystem, path string) (io.WriteCloser, error) {
	ec, ok := fsys.(ExclusiveCreator)
	if !ok {
		return nil, fmt.Errorf("create %s: %w (%T)", path, ErrNoExclusiveCreate, fsys)
	}
	return ec.CreateExclusive(path)
}

var _ ExclusiveCreator = Local{}

// CreateExclusive creates a file that must not exist (O_EXCL, mode 0666
// before umask); the writer is an *os.File, so it has Sync.
func (Local) CreateExclusive(path string) (io.WriteCloser, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, err
	}
	return f, nil
}
