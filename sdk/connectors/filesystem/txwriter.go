package filesystem

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/spate-io/spate/hdfs"
)

// EndOfInput is the checkpoint ID of the pre-commit a subtask makes when its input has
// ended: PreCommit(EndOfInput) seals the last part file, and since no real checkpoint has
// that ID, only Commit(EndOfInput), called once the whole job has finished, publishes it.
const EndOfInput int64 = math.MaxInt64

// TxState is one sink subtask's part of a checkpoint: what it must find again after a failure.
type TxState struct {
	Subtask int
	// NextIndex is the index of the next part file this subtask opens.
	NextIndex int64
	// Pending are the files pre-committed but not known to be committed yet, oldest first.
	Pending []PendingFile
}

// PendingFile is a part file that is complete and durable under a hidden name, waiting for
// a checkpoint to complete before it is renamed to its final name.
type PendingFile struct {
	// CheckpointID is the checkpoint whose barrier pre-committed the file (EndOfInput for
	// the pre-commit at the end of the input). Commit(id) publishes it if CheckpointID <= id.
	CheckpointID int64
	// Pending is the path of the pending file: dir/.part-<subtask>-<index>.pending.
	Pending string
	// Final is the path it is committed to: dir/part-<subtask>-<index>.
	Final string
}

var errTxWriterClosed = errors.New("filesystem: TxWriter used after Close")

// TxWriter writes one sink subtask's part files with a two-phase commit, so that what
// appears under final names is exactly what the completed checkpoints cover (see "Writing
// exactly once" in the package documentation for the protocol and for why names never
// collide across restarts).
//
// Lines go to a hidden in-progress file ".part-<subtask>-<index>.inprogress", opened on the
// first line after a checkpoint. On a checkpoint barrier, PreCommit seals it: flush, sync,
// close and rename to ".part-<subtask>-<index>.pending". When the checkpoint completes,
// Commit renames the pending files it covers to "part-<subtask>-<index>". A final part file
// thus only ever appears by rename of a closed, synced file.
//
// After a failed write or PreCommit the writer is broken: WriteString and PreCommit return
// the same error, the task must fail and recover from the last completed checkpoint. Commit
// still works, since it only publishes files sealed before the failure. A TxWriter is not
// safe for concurrent use: it belongs to its task's goroutine.
type TxWriter struct {
	fsys           hdfs.FileSystem
	dir            string
	subtask        int
	next           int64         // index of the next file to open, or of the open one
	lastCheckpoint int64         // highest checkpoint ID pre-committed
	pending        []PendingFile // pre-committed, not committed by this writer; oldest first

	lineage string // named by the commit marker; "" keeps no marker (see CheckRestore)
	marker  string // the subtask's commit marker in dir, "" while there is none

	inProgress string         // path of the open in-progress file
	w          io.WriteCloser // the open in-progress file; nil when none is open
	bw         *bufio.Writer  // buffers w; reused across files
	err        error          // sticky: the first failure of the in-progress file
	closed     bool
}

// NewTxWriter returns the writer of subtask's part files in dir, creating dir if missing.
// It opens no file until the first line. The first file gets index nextIndex (the NextIndex
// of the restored TxState, or 0 on a fresh start) unless dir already holds a file of this
// subtask with that index or a higher one: then the writer starts after the highest such
// index, so it never overwrites a file it does not own. After Cleanup (see the package
// documentation) that only happens on a fresh start into a directory holding earlier
// output, or on a restore from a checkpoint older than the latest completed one.
func NewTxWriter(fsys hdfs.FileSystem, dir string, subtask int, nextIndex int64) (*TxWriter, error) {
	if subtask < 0 || nextIndex < 0 {
		return nil, fmt.Errorf("filesystem: part file subtask and index must not be negative, got %d and %d", subtask, nextIndex)
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("create output directory %q: %w", dir, cause(err))
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read output directory %q: %w", dir, cause(err))
	}
	marker := ""
	for _, e := range entries {
		// (An index of MaxInt64 has no successor; no writer gets that far.)
		if s, i, _, ok := parsePartName(e.Name); ok && !e.IsDir && s == subtask && i >= nextIndex && i < math.MaxInt64 {
			nextIndex = i + 1
		}
		if m, ok := parseMarker(e.Name); ok && !e.IsDir && m.subtask == subtask {
			marker = e.Path
		}
	}
	return &TxWriter{
		marker:         marker,
		fsys:           fsys,
		dir:            dir,
		subtask:        subtask,
		next:           nextIndex,
		lastCheckpoint: math.MinInt64,
	}, nil
}

// RecordCommits makes every later commit keep the subtask's commit marker
// (see CheckRestore), naming lineage and the newest checkpoint committed.
func (w *TxWriter) RecordCommits(lineage string) { w.lineage = lineage }

// WriteString appends line and '\n' to the in-progress file, creating it if none is open.
// The line must not contain '\n' itself. Write errors may show only on a later call or on
// PreCommit, when the buffer is flushed; errors name the file.
func (w *TxWriter) WriteString(line string) error {
	if err := w.usable(); err != nil {
		return err
	}
	if w.w == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	w.bw.WriteString(line) // a bufio.Writer's error is sticky: WriteByte reports it
	return w.wrote(w.bw.WriteByte('\n'))
}

func (w *TxWriter) open() error {
	p := path.Join(w.dir, inProgressName(w.subtask, w.next))
	f, err := w.fsys.Create(p)
	if err != nil {
		w.err = fmt.Errorf("create part file %q: %w", p, cause(err))
		return w.err
	}
	w.inProgress, w.w = p, f
	if w.bw == nil {
		w.bw = bufio.NewWriterSize(f, writeBufferSize)
	} else {
		w.bw.Reset(f)
	}
	return nil
}

func (w *TxWriter) usable() error {
	if w.closed {
		return errTxWriterClosed
	}
	return w.err
}

func (w *TxWriter) wrote(err error) error {
	if err != nil {
		w.err = fmt.Errorf("write part file %q: %w", w.inProgress, cause(err))
	}
	return w.err
}

// PreCommit is the sink's part of the checkpoint checkpointID, called when its barrier
// arrives. If a file is open, PreCommit flushes it, syncs it (where the FileSystem's writer
// has Sync), closes it and renames it to its pending name; the next line opens a file with
// the next index. It returns the subtask's state: NextIndex, and every pending file not yet
// committed, this checkpoint's and older ones whose commit never came. The state is the
// caller's: the writer does not change it later. A checkpoint with no line since the last
// one creates no file.
//
// Checkpoint IDs must increase: PreCommit with an open file and an ID not above an earlier
// one is an error, because the file's lines came after that earlier barrier. Without an
// open file any ID is accepted (a finished subtask may still see barriers).
//
// If PreCommit fails, nothing is lost: the lines are in the in-progress file (or, if only
// the rename failed, in a closed and synced one) and the earlier pending files are
// untouched; but the writer is broken (see TxWriter) and the checkpoint must be declined.
func (w *TxWriter) PreCommit(checkpointID int64) (TxState, error) {
	if err := w.usable(); err != nil {
		return TxState{}, err
	}
	if w.w != nil {
		if checkpointID <= w.lastCheckpoint {
			return TxState{}, fmt.Errorf("filesystem: pre-commit of part file %q for checkpoint %d after checkpoint %d: checkpoint IDs must increase", w.inProgress, checkpointID, w.lastCheckpoint)
		}
		if err := w.seal(checkpointID); err != nil {
			return TxState{}, err
		}
	}
	w.lastCheckpoint = max(w.lastCheckpoint, checkpointID)
	return TxState{
		Subtask:   w.subtask,
		NextIndex: w.next,
		Pending:   append([]PendingFile(nil), w.pending...),
	}, nil
}

// seal makes the open in-progress file a pending file of checkpointID.
func (w *TxWriter) seal(checkpointID int64) error {
	if err := w.bw.Flush(); err != nil {
		return w.wrote(err)
	}
	if s, ok := w.w.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			w.err = fmt.Errorf("sync part file %q: %w", w.inProgress, cause(err))
			return w.err
		}
	}
	f := w.w
	w.w = nil
	if err := f.Close(); err != nil {
		w.err = fmt.Errorf("close part file %q: %w", w.inProgress, cause(err))
		return w.err
	}
	p := PendingFile{
		CheckpointID: checkpointID,
		Pending:      path.Join(w.dir, pendingName(w.subtask, w.next)),
		Final:        path.Join(w.dir, finalName(w.subtask, w.next)),
	}
	if err := w.fsys.Rename(w.inProgress, p.Pending); err != nil {
		w.err = fmt.Errorf("pre-commit part file %q as %q: %w", w.inProgress, p.Pending, cause(err))
		return w.err
	}
	w.pending = append(w.pending, p)
	w.next++
	return nil
}

// Commit is called when checkpoint checkpointID has completed: it renames every pending file
// with CheckpointID <= checkpointID to its final name, oldest first, and forgets it. A
// pending file found already committed (its final file exists, the pending one does not) is
// fine, as for CommitPending. On the first failure Commit stops and returns an error naming
// the file; that file and the later ones stay pending, are returned by the next PreCommit
// and are retried by the next Commit. Committing the same checkpoint again does nothing.
func (w *TxWriter) Commit(checkpointID int64) error {
	if w.closed {
		return errTxWriterClosed
	}
	var err error
	kept := 0
	newest := int64(-1)
	for _, f := range w.pending {
		if err == nil && f.CheckpointID <= checkpointID {
			if err = commitFile(w.fsys, f); err == nil {
				newest = max(newest, f.CheckpointID)
				continue
			}
			if errors.Is(err, errPendingGone) {
				err = &messageError{
					msg: fmt.Sprintf("pending file %q of checkpoint %d is gone and %q does not exist", f.Pending, f.CheckpointID, f.Final),
					err: fs.ErrNotExist,
				}
			}
		}
		w.pending[kept] = f
		kept++
	}
	clear(w.pending[kept:])
	w.pending = w.pending[:kept]
	if newest >= 0 && w.lineage != "" {
		err = errors.Join(err, w.mark(newest))
	}
	return err
}

// mark renames (or creates) the subtask's commit marker to say that the
// files of checkpoint id are committed.
func (w *TxWriter) mark(id int64) error {
	p := path.Join(w.dir, commitMarker{subtask: w.subtask, checkpoint: id, lineage: w.lineage}.name())
	if p == w.marker {
		return nil
	}
	var err error
	if w.marker != "" {
		err = w.fsys.Rename(w.marker, p)
	} else {
		var f io.WriteCloser
		if f, err = w.fsys.Create(p); err == nil {
			err = f.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("update commit marker %q: %w", p, cause(err))
	}
	w.marker = p
	return nil
}

// Close abandons the open in-progress file, if any: it closes it and leaves it for Cleanup
// to remove on recovery. It never commits anything; pending files stay pending. Closing
// twice is a no-op; every other method fails after Close.
func (w *TxWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if w.w == nil {
		return nil
	}
	f := w.w
	w.w = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("close abandoned part file %q: %w", w.inProgress, cause(err))
	}
	return nil
}

// CommitPending commits the pending files of a restored checkpoint: the runtime calls it on
// recovery, before Cleanup, with the union of the restored TxStates' Pending lists. It is
// idempotent: a pending file that still exists is renamed to its final name; one that is
// gone while its final file exists was committed already (before the failure, or just now
// by another subtask committing the same list), which is fine. If both are gone the output
// is lost and CommitPending returns an error naming both paths, wrapping fs.ErrNotExist.
// It stops at the first error.
func CommitPending(fsys hdfs.FileSystem, files []PendingFile) error {
	for _, f := range files {
		err := commitFile(fsys, f)
		if errors.Is(err, errPendingGone) {
			return &messageError{
				msg: fmt.Sprintf("pending file %q of the restored checkpoint is gone and %q does not exist", f.Pending, f.Final),
				err: fs.ErrNotExist,
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// errPendingGone is commitFile's error when neither the pending nor the final file exists;
// its callers replace it with a message saying where the pending file came from.
var errPendingGone = errors.New("pending file and final file are both missing")

// commitFile renames f.Pending to f.Final unless that has been done already.
func commitFile(fsys hdfs.FileSystem, f PendingFile) error {
	// Never over a final file: committed output is not replaced, whoever asks.
	rerr := hdfs.RenameNoReplace(fsys, f.Pending, f.Final)
	if rerr == nil {
		return nil
	}
	// Look at the pending file first: once it is gone, nothing brings it back, and the
	// rename that took it away (ours earlier, or a concurrent one) made the final file. The
	// other order could see the final file missing, then lose the race, and then see the
	// pending file gone too.
	if _, err := fsys.Stat(f.Pending); errors.Is(err, fs.ErrNotExist) {
		_, err := fsys.Stat(f.Final)
		if err == nil {
			return nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return errPendingGone
		}
	}
	return fmt.Errorf("commit part file %q as %q: %w", f.Pending, f.Final, cause(rerr))
}

// Cleanup removes what failed attempts left in dir: every in-progress file
// ".part-<s>-<i>.inprogress" and every pending file ".part-<s>-<i>.pending" of a subtask s
// for which subtasks(s) is true, except the pending files listed in keep (matched by file
// name). Final part files, subdirectories and files not named like part files are never
// touched. A missing dir is not an error. Errors name the file; Cleanup stops at the first.
//
// Cleanup must finish before a TxWriter of any subtask it matches writes, or it may remove
// that writer's files: a subtask cleans its own files (and those of subtasks that no
// longer exist) before creating its writer.
func Cleanup(fsys hdfs.FileSystem, dir string, keep []PendingFile, subtasks func(subtask int) bool) error {
	if subtasks == nil {
		return errors.New("filesystem: Cleanup needs a predicate choosing the subtasks whose files it removes")
	}
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read output directory %q: %w", dir, cause(err))
	}
	kept := make(map[string]bool, len(keep))
	for _, f := range keep {
		kept[path.Base(f.Pending)] = true
	}
	for _, e := range entries {
		s, _, kind, ok := parsePartName(e.Name)
		if !ok || e.IsDir || kind == partFinal || kept[e.Name] || !subtasks(s) {
			continue
		}
		if err := fsys.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove leftover part file %q: %w", e.Path, cause(err))
		}
	}
	return nil
}

type partKind int

const (
	partFinal      partKind = iota // part-<s>-<i>
	partPending                    // .part-<s>-<i>.pending
	partInProgress                 // .part-<s>-<i>.inprogress
)

func finalName(subtask int, index int64) string {
	return fmt.Sprintf("part-%d-%d", subtask, index)
}

func pendingName(subtask int, index int64) string {
	return fmt.Sprintf(".part-%d-%d.pending", subtask, index)
}

func inProgressName(subtask int, index int64) string {
	return fmt.Sprintf(".part-%d-%d.inprogress", subtask, index)
}

// parsePartName recognizes exactly the names finalName, pendingName and inProgressName
// produce (so not "part-01-0" or ".part-0-0.crc").
func parsePartName(name string) (subtask int, index int64, kind partKind, ok bool) {
	rest, hidden := strings.CutPrefix(name, ".")
	if rest, ok = strings.CutPrefix(rest, "part-"); !ok {
		return 0, 0, 0, false
	}
	if hidden {
		var pending, inProgress bool
		if rest, pending = strings.CutSuffix(rest, ".pending"); pending {
			kind = partPending
		} else if rest, inProgress = strings.CutSuffix(rest, ".inprogress"); inProgress {
			kind = partInProgress
		} else {
			return 0, 0, 0, false
		}
	}
	s, i, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, 0, false
	}
	sn, okS := parseIndex(s)
	in, okI := parseIndex(i)
	if !okS || !okI || sn > math.MaxInt {
		return 0, 0, 0, false
	}
	return int(sn), in, kind, true
}

// parseIndex parses a non-negative decimal number as %d prints it: digits only, no leading
// zero.
func parseIndex(s string) (int64, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
