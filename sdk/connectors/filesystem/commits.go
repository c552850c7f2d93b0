package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/spate-io/spate/hdfs"
)

// ErrOutputWouldDuplicate is wrapped by CheckRestore's error: the output
// directory holds files committed after the checkpoint being restored, so a
// restore would write their records a second time.
var ErrOutputWouldDuplicate = errors.New("output would be duplicated")

// ErrPendingOutput is wrapped by RemoveStale's error: the output directory
// holds pending files of an earlier run that was stopped before it could
// commit them.
var ErrPendingOutput = errors.New("pending files of an earlier run")

// Commit markers. With a lineage set (TxWriter.RecordCommits), each
// subtask keeps one empty hidden file beside its part files that names its
// newest commit:
//
//	.part-<s>.committed-<checkpoint>-<lineage>    (checkpoint "end" for EndOfInput)
//
// where checkpoint is the newest checkpoint whose files the subtask has
// committed (the checkpoint a file belongs to is the one whose barrier sealed
// it), and lineage the job's chain of runs resumed from one another. Each
// commit renames the marker to its new name, so a directory holds one marker
// per subtask however long the job runs. CheckRestore reads them to name the
// checkpoint that committed what a restore would duplicate, and to tell the
// output of another run. The marker follows the rename of the part files: a
// crash in between leaves it one commit behind, and CheckRestore judges
// files by their index first.

// commitMarker is a subtask's commit marker, parsed.
type commitMarker struct {
	subtask    int
	checkpoint int64 // EndOfInput for "end"
	lineage    string
}

func (m commitMarker) name() string {
	cp := strconv.FormatInt(m.checkpoint, 10)
	if m.checkpoint == EndOfInput {
		cp = "end"
	}
	return ".part-" + strconv.Itoa(m.subtask) + ".committed-" + cp + "-" + m.lineage
}

// parseMarker parses ".part-<s>.committed-<checkpoint>-<lineage>".
func parseMarker(name string) (commitMarker, bool) {
	rest, ok := strings.CutPrefix(name, ".part-")
	if !ok {
		return commitMarker{}, false
	}
	sub, rec, ok := strings.Cut(rest, ".committed-")
	if !ok {
		return commitMarker{}, false
	}
	sn, ok := parseIndex(sub)
	if !ok || sn > math.MaxInt32 {
		return commitMarker{}, false
	}
	cp, lineage, ok := strings.Cut(rec, "-")
	if !ok || lineage == "" {
		return commitMarker{}, false
	}
	m := commitMarker{subtask: int(sn), lineage: lineage, checkpoint: EndOfInput}
	if cp != "end" {
		n, ok := parseIndex(cp)
		if !ok {
			return commitMarker{}, false
		}
		m.checkpoint = n
	}
	return m, true
}

// CheckRestore refuses to restore checkpoint checkpointID of lineage onto dir
// when dir holds part files committed after it: restoring would replay their
// records and write them again. A part file of subtask s was committed after
// the checkpoint when its index is at or above the NextIndex s had in the
// checkpoint (states are the restored TxStates of every subtask); for a
// subtask the checkpoint does not know, when its commit marker names a later
// checkpoint. Output of another lineage (a marker naming another run) is
// refused too.
//
// The error wraps ErrOutputWouldDuplicate and names a file, the checkpoint
// that committed it (from the marker), and what to do instead.
func CheckRestore(fsys hdfs.FileSystem, dir string, states []TxState, checkpointID int64, lineage string) error {
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read output directory %q: %w", dir, cause(err))
	}
	next := map[int]int64{}
	for _, st := range states {
		next[st.Subtask] = st.NextIndex
	}
	markers := map[int]commitMarker{}
	for _, e := range entries {
		if m, ok := parseMarker(e.Name); ok && !e.IsDir {
			if m.lineage != lineage {
				return fmt.Errorf("%w: output directory %q holds the output of another run (%s: lineage %s, checkpoint %s), while the restore continues lineage %s; use a new output directory",
					ErrOutputWouldDuplicate, dir, e.Name, m.lineage, checkpointName(m.checkpoint), lineage)
			}
			markers[m.subtask] = m
		}
	}
	var later []string
	for _, e := range entries {
		s, i, kind, ok := parsePartName(e.Name)
		if !ok || e.IsDir || kind != partFinal {
			continue
		}
		n, known := next[s]
		m, marked := markers[s]
		if known && i >= n || !known && marked && m.checkpoint > checkpointID {
			later = append(later, e.Name)
		}
	}
	if len(later) == 0 {
		return nil
	}
	sort.Strings(later)
	newest := int64(-1)
	for _, m := range markers {
		newest = max(newest, m.checkpoint)
	}
	by, instead := "a checkpoint after it", "restore the newest checkpoint of the run that wrote them"
	switch {
	case newest == EndOfInput:
		by, instead = "the run that finished the job", "leave it: that run's output is complete"
	case newest > checkpointID:
		by, instead = "checkpoint "+checkpointName(newest), "restore checkpoint "+checkpointName(newest)
	}
	more := ""
	if len(later) > 1 {
		more = fmt.Sprintf(" and %d more", len(later)-1)
	}
	return fmt.Errorf("%w: output directory %q holds %s%s, committed by %s, and the restore is from checkpoint %s; use a new output directory, or %s",
		ErrOutputWouldDuplicate, dir, later[0], more, by, checkpointName(checkpointID), instead)
}

func checkpointName(id int64) string {
	if id == EndOfInput {
		return "end"
	}
	return strconv.FormatInt(id, 10)
}

// RemoveStale prepares dir for a fresh start (no restore) of an exactly-once
// sink: it removes the in-progress files an earlier run left when it was
// killed — never part of a checkpoint, their records are in no output — and
// refuses, wrapping ErrPendingOutput, when pending files are there: they may
// belong to a completed checkpoint of that run, which only a resume commits.
// A missing dir is fine.
func RemoveStale(fsys hdfs.FileSystem, dir string) error {
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read output directory %q: %w", dir, cause(err))
	}
	var pending []string
	for _, e := range entries {
		_, _, kind, ok := parsePartName(e.Name)
		if !ok || e.IsDir {
			continue
		}
		switch kind {
		case partInProgress:
			if err := fsys.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove stale in-progress file %q: %w", e.Path, cause(err))
			}
		case partPending:
			pending = append(pending, e.Name)
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("output directory %q holds %w (%s): resume that run (spate run --resume latest) to commit what its last checkpoint covered, or, if none of its checkpoints completed, delete them to start over, or choose another directory",
			dir, ErrPendingOutput, strings.Join(pending, ", "))
	}
	return nil
}
