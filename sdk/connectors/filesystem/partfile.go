package filesystem

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/spate-io/spate/hdfs"
)

const writeBufferSize = 256 << 10

type partFileState int

const (
	partFileOpen partFileState = iota
	partFileCommitted
	partFileAborted
)

// PartFileWriter writes one subtask's part file: data goes to a hidden in-progress file
// ".part-<subtask>-<index>.inprogress" in dir and is renamed to "part-<subtask>-<index>" on
// Commit, so a reader never sees half a file. Commit replaces an existing part file of the
// same name. Index is 0 for now (rolling comes later). A PartFileWriter is not safe for
// concurrent use; after a failed write or Commit, call Abort.
type PartFileWriter struct {
	fsys       hdfs.FileSystem
	inProgress string // dir/.part-<subtask>-<index>.inprogress
	final      string // dir/part-<subtask>-<index>
	w          io.WriteCloser
	bw         *bufio.Writer
	closed     bool // w is closed
	state      partFileState
	err        error // sticky: the first write or commit failure
}

// NewPartFileWriter creates dir if missing and the in-progress file in it (truncating one
// left over by an earlier attempt).
func NewPartFileWriter(fsys hdfs.FileSystem, dir string, subtask, index int) (*PartFileWriter, error) {
	if subtask < 0 || index < 0 {
		return nil, fmt.Errorf("filesystem: part file subtask and index must not be negative, got %d and %d", subtask, index)
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("create output directory %q: %w", dir, cause(err))
	}
	pw := &PartFileWriter{
		fsys:       fsys,
		inProgress: path.Join(dir, fmt.Sprintf(".part-%d-%d.inprogress", subtask, index)),
		final:      path.Join(dir, fmt.Sprintf("part-%d-%d", subtask, index)),
	}
	w, err := fsys.Create(pw.inProgress)
	if err != nil {
		return nil, fmt.Errorf("create part file %q: %w", pw.inProgress, cause(err))
	}
	pw.w = w
	pw.bw = bufio.NewWriterSize(w, writeBufferSize)
	return pw, nil
}

// WriteLine appends line and '\n'. The line must not contain '\n' itself.
func (w *PartFileWriter) WriteLine(line []byte) error {
	if err := w.writable(); err != nil {
		return err
	}
	w.bw.Write(line) // a bufio.Writer's error is sticky: WriteByte reports it
	return w.wrote(w.bw.WriteByte('\n'))
}

// WriteString appends line and '\n'. The line must not contain '\n' itself.
func (w *PartFileWriter) WriteString(line string) error {
	if err := w.writable(); err != nil {
		return err
	}
	w.bw.WriteString(line)
	return w.wrote(w.bw.WriteByte('\n'))
}

func (w *PartFileWriter) writable() error {
	switch {
	case w.err != nil:
		return w.err
	case w.state == partFileCommitted:
		return fmt.Errorf("part file %q is already committed", w.final)
	case w.state == partFileAborted:
		return fmt.Errorf("part file %q was aborted", w.inProgress)
	}
	return nil
}

func (w *PartFileWriter) wrote(err error) error {
	if err != nil {
		w.err = fmt.Errorf("write part file %q: %w", w.inProgress, cause(err))
	}
	return w.err
}

// Commit flushes and closes the in-progress file, syncing it first where the FileSystem's
// writer can, and renames it to its final name. Errors name the file; after one the
// in-progress file may remain, and the caller should Abort. Committing again is a no-op.
func (w *PartFileWriter) Commit() error {
	if w.state == partFileCommitted {
		return nil
	}
	if err := w.writable(); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return w.wrote(err)
	}
	if s, ok := w.w.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			w.err = fmt.Errorf("sync part file %q: %w", w.inProgress, cause(err))
			return w.err
		}
	}
	w.closed = true
	if err := w.w.Close(); err != nil {
		w.err = fmt.Errorf("close part file %q: %w", w.inProgress, cause(err))
		return w.err
	}
	if err := w.fsys.Rename(w.inProgress, w.final); err != nil {
		w.err = fmt.Errorf("publish part file %q as %q: %w", w.inProgress, w.final, cause(err))
		return w.err
	}
	w.state = partFileCommitted
	return nil
}

// Abort closes and deletes the in-progress file, discarding what was written. Aborting
// twice is a no-op; aborting a committed part file is an error and leaves it in place.
func (w *PartFileWriter) Abort() error {
	switch w.state {
	case partFileAborted:
		return nil
	case partFileCommitted:
		return fmt.Errorf("part file %q is already committed and cannot be aborted", w.final)
	}
	w.state = partFileAborted
	if !w.closed {
		w.closed = true
		w.w.Close() // the data is being discarded; only the removal matters
	}
	if err := w.fsys.Remove(w.inProgress); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove aborted part file %q: %w", w.inProgress, cause(err))
	}
	return nil
}
