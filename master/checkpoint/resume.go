package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spate-io/spate/hdfs"
)

// FinishedFile marks, in a run's job directory, that the lineage the run
// continued has finished: its input ended and everything was committed. A
// finished lineage is never resumed by "latest": its checkpoints and
// savepoints would replay input whose output is already final.
const FinishedFile = "_finished"

// FinishedMarker is the content of a FinishedFile.
type FinishedMarker struct {
	Lineage  string `json:"lineage"`
	JobID    string `json:"jobId"`
	JobName  string `json:"jobName"`
	Finished int64  `json:"finished"` // ms since the epoch
	// LastCheckpoint is the newest checkpoint the run completed (0: none).
	LastCheckpoint int64 `json:"lastCheckpoint"`
}

// MarkFinished writes the FinishedFile of the job's directory (which it
// creates if the job wrote no checkpoint there), atomically.
func (s *Storage) MarkFinished(m FinishedMarker) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.fs.MkdirAll(s.jobDir); err != nil {
		return err
	}
	tmp := path.Join(s.jobDir, "."+FinishedFile+".inprogress")
	if _, _, err := writeFile(s.fs, tmp, func(w io.Writer) error { _, err := w.Write(append(body, '\n')); return err }); err != nil {
		return err
	}
	return s.fs.Rename(tmp, path.Join(s.jobDir, FinishedFile))
}

// Clean removes the job directory's checkpoints (chk-*), keeping what else is
// there (a FinishedFile), and the directory itself when nothing is left.
func (s *Storage) Clean() error {
	entries, err := s.entries()
	if err != nil {
		return err
	}
	var errs []error
	left := 0
	for _, e := range entries {
		if e.IsDir && strings.HasPrefix(e.Name, "chk-") {
			errs = append(errs, s.fs.RemoveAll(e.Path))
		} else {
			left++
		}
	}
	if left == 0 && errors.Join(errs...) == nil {
		errs = append(errs, s.fs.RemoveAll(s.jobDir))
	}
	return errors.Join(errs...)
}

// ResolveRestorePath accepts, as Flink does, the path of a checkpoint's or
// savepoint's _metadata file for its directory.
func ResolveRestorePath(fsys hdfs.FileSystem, p string) string {
	if path.Base(p) != MetadataFile {
		return p
	}
	if fi, err := fsys.Stat(p); err == nil && !fi.IsDir {
		return path.Dir(p)
	}
	return p
}

// FindOptions say where "latest" looks and for which job.
type FindOptions struct {
	// FS serves CheckpointsDir, SavepointsFS (FS when nil) SavepointsDir.
	FS, SavepointsFS hdfs.FileSystem
	// CheckpointsDir is state.checkpoints.dir: job directories with chk-*
	// checkpoints and FinishedFiles. SavepointsDir is state.savepoints.dir;
	// either may be empty.
	CheckpointsDir, SavepointsDir string
	JobName                       string
	// Retention is execution.checkpointing.externalized-checkpoint-retention,
	// named in the error when there is nothing to resume.
	Retention string
}

// Found is the checkpoint or savepoint that "latest" resumes, in Dir on FS.
type Found struct {
	FS   hdfs.FileSystem
	Dir  string
	Meta *Metadata
	// Skipped lists the newer directories passed over, with the reason.
	Skipped []Skipped
}

// Skipped is a directory FindLatest passed over.
type Skipped struct {
	Dir    string
	Reason string
}

func (s Skipped) String() string { return s.Dir + ": " + s.Reason }

// NothingToResumeError is FindLatest's error when no checkpoint or savepoint
// of the job can be resumed.
type NothingToResumeError struct {
	JobName  string
	Dirs     []string
	Finished *FinishedMarker // the newest finished run of the job, if any
	// Skipped are the job's checkpoints passed over.
	Skipped   []Skipped
	Retention string
}

func (e *NothingToResumeError) Error() string {
	var b strings.Builder
	if f := e.Finished; f != nil {
		fmt.Fprintf(&b, "nothing to resume: the last run of job %q (job id %s) finished at %s, and a finished job is never resumed: its output is final; run the job without --resume, into a new output directory, to process its input again",
			e.JobName, f.JobID, time.UnixMilli(f.Finished).UTC().Format(time.RFC3339))
	} else {
		fmt.Fprintf(&b, "no completed checkpoint or savepoint of job %q under %s: nothing to resume", e.JobName, strings.Join(e.Dirs, " or "))
		switch strings.ToUpper(e.Retention) {
		case "", "NO_EXTERNALIZED_CHECKPOINTS":
			b.WriteString("; a job that fails or is cancelled deletes its checkpoints unless execution.checkpointing.externalized-checkpoint-retention is retain_on_cancellation (or delete_on_cancellation, to keep them after a failure only); a run interrupted by Ctrl-C, SIGTERM or kill keeps its latest checkpoint")
		case "DELETE_ON_CANCELLATION":
			b.WriteString("; a cancelled job deletes its checkpoints under execution.checkpointing.externalized-checkpoint-retention=delete_on_cancellation (retain_on_cancellation keeps them)")
		}
	}
	if len(e.Skipped) > 0 {
		b.WriteString(" (passed over: ")
		for i, s := range e.Skipped {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(s.String())
		}
		b.WriteString(")")
	}
	return b.String()
}

// candidate is a completed checkpoint or savepoint of the job.
type candidate struct {
	fs   hdfs.FileSystem
	dir  string
	meta *Metadata
}

// FindLatest returns the newest completed checkpoint or savepoint of the job
// whose lineage has not finished (see FinishedFile). Corrupt metadata is an
// error, never skipped: the newest might be the one. When there is nothing to
// resume the error is a *NothingToResumeError.
func FindLatest(o FindOptions) (*Found, error) {
	fsys := o.FS
	var cands []candidate
	var incomplete []Skipped
	finished := map[string]FinishedMarker{} // lineage → its latest finish
	var lastFinished *FinishedMarker
	spFS := o.SavepointsFS
	if spFS == nil {
		spFS = fsys
	}
	consider := func(fsys hdfs.FileSystem, dir string, jobDir bool) error {
		if _, err := fsys.Stat(path.Join(dir, MetadataFile)); err != nil {
			if jobDir && errors.Is(err, fs.ErrNotExist) {
				incomplete = append(incomplete, Skipped{dir, "no " + MetadataFile + ": the checkpoint never completed"})
			}
			return nil
		}
		m, err := ReadMetadata(fsys, dir)
		if err != nil {
			return err
		}
		if m.JobName == o.JobName {
			cands = append(cands, candidate{fsys, dir, m})
		}
		return nil
	}
	jobDirs, err := listDirs(fsys, o.CheckpointsDir)
	if err != nil {
		return nil, err
	}
	for _, jd := range jobDirs {
		entries, err := fsys.ReadDir(jd.Path)
		if err != nil {
			return nil, err
		}
		mine := false
		for _, e := range entries {
			switch {
			case e.Name == FinishedFile && !e.IsDir:
				f, err := readFinished(fsys, e.Path)
				if err != nil {
					return nil, err
				}
				if f.JobName != o.JobName {
					continue
				}
				if prev, ok := finished[f.Lineage]; !ok || f.Finished > prev.Finished {
					finished[f.Lineage] = f
				}
				if lastFinished == nil || f.Finished > lastFinished.Finished {
					lastFinished = &f
				}
			case e.IsDir && strings.HasPrefix(e.Name, "chk-"):
				n := len(cands)
				if err := consider(fsys, e.Path, true); err != nil {
					return nil, err
				}
				mine = mine || len(cands) > n
			}
		}
		if !mine {
			// Incomplete checkpoints of other jobs are none of our business.
			incomplete = dropUnder(incomplete, jd.Path)
		}
	}
	sps, err := listDirs(spFS, o.SavepointsDir)
	if err != nil {
		return nil, err
	}
	for _, sp := range sps {
		if err := consider(spFS, sp.Path, false); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(cands, func(a, b int) bool {
		if cands[a].meta.Completed != cands[b].meta.Completed {
			return cands[a].meta.Completed > cands[b].meta.Completed
		}
		return cands[a].meta.ID > cands[b].meta.ID
	})
	var skipped []Skipped
	for _, c := range cands {
		f, done := finished[c.meta.LineageID()]
		if done && c.meta.Completed <= f.Finished {
			skipped = append(skipped, Skipped{c.dir, fmt.Sprintf("%s %d of a finished lineage: run %s finished it at %s",
				strings.ToLower(c.meta.Kind), c.meta.ID, f.JobID, time.UnixMilli(f.Finished).UTC().Format(time.RFC3339))})
			continue
		}
		found := &Found{FS: c.fs, Dir: c.dir, Meta: c.meta, Skipped: skipped}
		// Incomplete checkpoints newer than the one chosen are worth naming:
		// the restore goes back further than the user may think.
		for _, s := range incomplete {
			if id, ok := chkID(s.Dir); ok && path.Dir(s.Dir) == path.Dir(c.dir) && id > c.meta.ID {
				found.Skipped = append(found.Skipped, s)
			}
		}
		return found, nil
	}
	e := &NothingToResumeError{JobName: o.JobName, Dirs: nonEmpty(o.CheckpointsDir, o.SavepointsDir), Skipped: append(skipped, incomplete...), Retention: o.Retention}
	if len(cands) > 0 || lastFinished != nil {
		e.Finished = lastFinished
	}
	return nil, e
}

// listDirs lists the subdirectories of dir whose names do not start with '_'
// or '.' (leases, markers, temporaries); a missing or empty dir has none.
func listDirs(fsys hdfs.FileSystem, dir string) ([]hdfs.FileInfo, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := entries[:0]
	for _, e := range entries {
		if e.IsDir && !strings.HasPrefix(e.Name, "_") && !strings.HasPrefix(e.Name, ".") {
			out = append(out, e)
		}
	}
	return out, nil
}

func dropUnder(s []Skipped, dir string) []Skipped {
	out := s[:0]
	for _, x := range s {
		if path.Dir(x.Dir) != dir {
			out = append(out, x)
		}
	}
	return out
}

func chkID(dir string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(path.Base(dir), "chk-"), 10, 64)
	return n, err == nil
}

func readFinished(fsys hdfs.FileSystem, p string) (FinishedMarker, error) {
	data, err := readFile(fsys, p)
	if err != nil {
		return FinishedMarker{}, fmt.Errorf("read %s: %w", p, err)
	}
	var f FinishedMarker
	if err := json.Unmarshal(data, &f); err != nil || f.Lineage == "" {
		return FinishedMarker{}, fmt.Errorf("%s is not a finished-job marker (%.60q); remove it if it was not written by Spate", p, data)
	}
	return f, nil
}

// DiscardLineage removes, under checkpointsDir, the checkpoints of job
// jobName in lineage that other runs left (a run killed, then resumed to the
// end), except those of the job directory keep, and each job directory left
// empty. A finished lineage's checkpoints can never be resumed.
func DiscardLineage(fsys hdfs.FileSystem, checkpointsDir, jobName, lineage, keep string) error {
	jobDirs, err := listDirs(fsys, checkpointsDir)
	if err != nil {
		return err
	}
	var errs []error
	for _, jd := range jobDirs {
		if jd.Path == keep {
			continue
		}
		entries, err := fsys.ReadDir(jd.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A job directory belongs to one run: once one of its checkpoints
		// is of this lineage, its incomplete ones are that dead run's leftovers.
		var ours, incomplete []string
		left := 0
		for _, e := range entries {
			if !e.IsDir || !strings.HasPrefix(e.Name, "chk-") {
				left++
				continue
			}
			m, err := ReadMetadata(fsys, e.Path)
			switch {
			case errors.Is(err, ErrNotCheckpoint):
				incomplete = append(incomplete, e.Path)
			case err != nil || m.JobName != jobName || m.LineageID() != lineage:
				left++ // corrupt or another job's: not ours to delete
			default:
				ours = append(ours, e.Path)
			}
		}
		if len(ours) == 0 {
			continue
		}
		for _, p := range append(ours, incomplete...) {
			errs = append(errs, fsys.RemoveAll(p))
		}
		if left == 0 {
			errs = append(errs, fsys.RemoveAll(jd.Path))
		}
	}
	return errors.Join(errs...)
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}
