package checkpoint

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/state"
)

// MetadataFile is the file that makes a directory a checkpoint: written last,
// under a temporary name, and published by rename.
const MetadataFile = "_metadata"

// metadataMagic starts every _metadata file; the header line carries the
// version and the CRC-32C of the JSON body that follows it.
const metadataMagic = "SPATE-CHECKPOINT-METADATA"

const metadataVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Metadata describes a completed checkpoint or savepoint: which operator
// subtask wrote which state file. Handle paths are relative to the
// checkpoint's directory, so a savepoint directory can be moved as a whole.
type Metadata struct {
	Version int    `json:"version"`
	JobID   string `json:"jobId"`
	JobName string `json:"jobName"`
	// Lineage names the chain of runs this checkpoint belongs to: the job id
	// of the first run, which every run restored from one of its checkpoints
	// or savepoints continues. Empty in files written before lineages: the
	// job id then.
	Lineage   string          `json:"lineage,omitempty"`
	ID        int64           `json:"checkpointId"`
	Kind      string          `json:"kind"`
	Timestamp int64           `json:"timestamp"` // trigger time, ms since the epoch
	Completed int64           `json:"completed"` // ms since the epoch
	Operators []OperatorState `json:"operators"`
}

// OperatorState is one operator's part of a checkpoint, matched by operator ID
// (derived from the UID when one is set) on restore.
type OperatorState struct {
	ID             string         `json:"id"`
	Name           string         `json:"name"`
	Parallelism    int            `json:"parallelism"`
	MaxParallelism int            `json:"maxParallelism"`
	Handles        []state.Handle `json:"handles"`
}

// LineageID is the checkpoint's lineage.
func (m *Metadata) LineageID() string {
	if m.Lineage == "" {
		return m.JobID
	}
	return m.Lineage
}

// Operator returns the state of the operator with the given ID.
func (m *Metadata) Operator(id string) (OperatorState, bool) {
	for _, o := range m.Operators {
		if o.ID == id {
			return o, true
		}
	}
	return OperatorState{}, false
}

// Storage lays out one job's checkpoints on a filesystem:
// <dir>/<job-id>/chk-<n>/, one file per piece of state plus _metadata.
// Savepoints go to directories registered with SetDirectory, on filesystems
// of their own. WriteState is called from many tasks at once; Storage is safe
// for concurrent use.
type Storage struct {
	fs     hdfs.FileSystem
	jobDir string
	mu     sync.Mutex
	dirs   map[int64]location // checkpoint id → where, when not the default
	made   map[string]bool    // directories created
}

// location is a directory on a filesystem.
type location struct {
	fs  hdfs.FileSystem
	dir string
}

// NewStorage returns the storage of job jobID under checkpointsDir.
func NewStorage(fsys hdfs.FileSystem, checkpointsDir, jobID string) *Storage {
	return &Storage{fs: fsys, jobDir: path.Join(checkpointsDir, jobID), dirs: map[int64]location{}, made: map[string]bool{}}
}

// FS is the filesystem the storage writes to.
func (s *Storage) FS() hdfs.FileSystem { return s.fs }

// JobDir is <state.checkpoints.dir>/<job-id>.
func (s *Storage) JobDir() string { return s.jobDir }

// SetDirectory makes checkpoint id (a savepoint) write to dir on fsys.
func (s *Storage) SetDirectory(id int64, fsys hdfs.FileSystem, dir string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dirs[id] = location{fsys, dir}
}

// Directory is where checkpoint id is written.
func (s *Storage) Directory(id int64) string {
	_, dir := s.Location(id)
	return dir
}

// Location is the filesystem and directory checkpoint id is written to.
func (s *Storage) Location(id int64) (hdfs.FileSystem, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.dirs[id]; ok {
		return l.fs, l.dir
	}
	return s.fs, path.Join(s.jobDir, "chk-"+strconv.FormatInt(id, 10))
}

func (s *Storage) mkdir(fsys hdfs.FileSystem, dir string) error {
	s.mu.Lock()
	done := s.made[dir]
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := fsys.MkdirAll(dir); err != nil {
		return err
	}
	s.mu.Lock()
	s.made[dir] = true
	s.mu.Unlock()
	return nil
}

// WriteState implements task.CheckpointStorage.
func (s *Storage) WriteState(id int64, file string, write func(io.Writer) error) (string, int64, uint32, error) {
	fsys, dir := s.Location(id)
	if err := s.mkdir(fsys, dir); err != nil {
		return "", 0, 0, err
	}
	n, sum, err := writeFile(fsys, path.Join(dir, file), write)
	return file, n, sum, err
}

// writeFile creates p, fills it, syncs and closes it, and returns its size and
// CRC-32C.
func writeFile(fsys hdfs.FileSystem, p string, write func(io.Writer) error) (int64, uint32, error) {
	f, err := fsys.Create(p)
	if err != nil {
		return 0, 0, err
	}
	cw := &checksumWriter{h: crc32.New(castagnoli)}
	bw := bufio.NewWriterSize(io.MultiWriter(f, cw), 256<<10)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		if sy, ok := f.(interface{ Sync() error }); ok {
			err = sy.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", p, err)
	}
	return cw.n, cw.h.Sum32(), nil
}

type checksumWriter struct {
	h hash.Hash32
	n int64
}

func (c *checksumWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// WriteMetadata publishes m in dir: written to a temporary file, synced, then
// renamed to _metadata without replacing one (hdfs.RenameNoReplace). Until
// the rename the directory is not a checkpoint; an existing _metadata is an
// error wrapping fs.ErrExist.
func WriteMetadata(fsys hdfs.FileSystem, dir string, m *Metadata) error {
	m.Version = metadataVersion
	body, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	tmp := path.Join(dir, "."+MetadataFile+".inprogress")
	if err := fsys.MkdirAll(dir); err != nil {
		return err
	}
	_, _, err = writeFile(fsys, tmp, func(w io.Writer) error {
		if _, err := fmt.Fprintf(w, "%s %d crc32c=%08x\n", metadataMagic, metadataVersion, crc32.Checksum(body, castagnoli)); err != nil {
			return err
		}
		_, err := w.Write(body)
		return err
	})
	if err != nil {
		return err
	}
	// As HDFS's rename: a published _metadata is never replaced, so a late
	// publisher of the same checkpoint cannot change what a restore reads.
	final := path.Join(dir, MetadataFile)
	if err := hdfs.RenameNoReplace(fsys, tmp, final); err != nil {
		_ = fsys.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("publish %s: %w: it was published already and is never replaced", final, err)
		}
		return fmt.Errorf("publish %s: %w", final, err)
	}
	return nil
}

// ErrNotCheckpoint is wrapped by ReadMetadata's error when a directory has no
// _metadata: an incomplete checkpoint, or not a checkpoint at all.
var ErrNotCheckpoint = errors.New("not a completed checkpoint or savepoint")

// ReadMetadata reads and checks dir/_metadata. Every error names the file; a
// file whose bytes are wrong wraps state.ErrCorruptState.
func ReadMetadata(fsys hdfs.FileSystem, dir string) (*Metadata, error) {
	p := path.Join(dir, MetadataFile)
	data, err := readFile(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w (no %s file)", dir, ErrNotCheckpoint, MetadataFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint metadata %s: %w", p, err)
	}
	return parseMetadata(p, data)
}

// parseMetadata checks and decodes the bytes of the _metadata file p.
func parseMetadata(p string, data []byte) (*Metadata, error) {
	corrupt := func(why string) error {
		return fmt.Errorf("%w: %s: %s", state.ErrCorruptState, p, why)
	}
	header, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, corrupt("no header line")
	}
	fields := strings.Fields(string(header))
	if len(fields) != 3 || fields[0] != metadataMagic || !strings.HasPrefix(fields[2], "crc32c=") {
		return nil, corrupt(fmt.Sprintf("not a Spate checkpoint metadata file (header %.60q)", header))
	}
	if fields[1] != strconv.Itoa(metadataVersion) {
		return nil, corrupt(fmt.Sprintf("metadata version %s is not supported (this Spate reads version %d)", fields[1], metadataVersion))
	}
	want, err := strconv.ParseUint(strings.TrimPrefix(fields[2], "crc32c="), 16, 32)
	if err != nil {
		return nil, corrupt("bad checksum field " + fields[2])
	}
	if got := crc32.Checksum(body, castagnoli); got != uint32(want) {
		return nil, corrupt(fmt.Sprintf("checksum mismatch (stored %08x, computed %08x)", want, got))
	}
	var m Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, corrupt(err.Error())
	}
	if why := m.invalid(); why != "" {
		return nil, corrupt(why)
	}
	return &m, nil
}

// invalid says what in m cannot come from a Spate that wrote it; "" when
// nothing. A checksum guards against bit rot, this against a hand-edited or
// crafted file: above all, no state file outside the checkpoint's directory.
func (m *Metadata) invalid() string {
	if m.ID < 1 {
		return fmt.Sprintf("checkpoint id %d is not positive", m.ID)
	}
	for _, o := range m.Operators {
		if o.ID == "" || o.Parallelism < 1 || o.MaxParallelism < 1 {
			return fmt.Sprintf("operator %q has id %q, parallelism %d and max parallelism %d", o.Name, o.ID, o.Parallelism, o.MaxParallelism)
		}
		for _, h := range o.Handles {
			switch {
			case h.Path == "" || h.Path == "." || h.Path == ".." || strings.ContainsAny(h.Path, "/\\\x00"):
				return fmt.Sprintf("state file name %q of operator %q is not a file name in the checkpoint's directory", h.Path, o.Name)
			case h.Operator != o.ID:
				return fmt.Sprintf("state file %q is listed under operator %q but belongs to %q", h.Path, o.ID, h.Operator)
			case h.Subtask < 0 || h.Subtask >= o.Parallelism:
				return fmt.Sprintf("state file %q belongs to subtask %d of an operator of parallelism %d", h.Path, h.Subtask, o.Parallelism)
			case h.Size < 0:
				return fmt.Sprintf("state file %q has a negative size", h.Path)
			case h.Kind > state.UnionKind:
				return fmt.Sprintf("state file %q has unknown kind %d", h.Path, h.Kind)
			}
		}
	}
	return ""
}

func readFile(fsys hdfs.FileSystem, p string) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// StateReader returns the function that reads the state files of the
// checkpoint in dir, checking each file's size and checksum.
func StateReader(fsys hdfs.FileSystem, dir string) func(state.Handle) ([]byte, error) {
	return func(h state.Handle) ([]byte, error) {
		p := path.Join(dir, h.Path)
		data, err := readFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("%w: read state file %s: %w", state.ErrCorruptState, p, err)
		}
		if int64(len(data)) != h.Size {
			return nil, fmt.Errorf("%w: state file %s has %d bytes, the checkpoint recorded %d", state.ErrCorruptState, p, len(data), h.Size)
		}
		if got := crc32.Checksum(data, castagnoli); got != h.Checksum {
			return nil, fmt.Errorf("%w: state file %s: checksum mismatch (recorded %08x, computed %08x)", state.ErrCorruptState, p, h.Checksum, got)
		}
		return data, nil
	}
}

// CleanupIncomplete removes the chk-* directories of the job that have no
// _metadata: checkpoints that never completed.
func (s *Storage) CleanupIncomplete() error {
	entries, err := s.entries()
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir || !strings.HasPrefix(e.Name, "chk-") {
			continue
		}
		if _, err := s.fs.Stat(path.Join(e.Path, MetadataFile)); errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, s.fs.RemoveAll(e.Path))
		}
	}
	return errors.Join(errs...)
}

// entries lists the job directory; a missing one has none.
func (s *Storage) entries() ([]hdfs.FileInfo, error) {
	entries, err := s.fs.ReadDir(s.jobDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return entries, err
}

// Discard deletes checkpoint id's directory.
func (s *Storage) Discard(id int64) error {
	fsys, dir := s.Location(id)
	return fsys.RemoveAll(dir)
}

// NewSavepointDir names a fresh savepoint directory under dir, as Flink does:
// savepoint-<first 6 characters of the job id>-<12 random hex digits>.
func NewSavepointDir(dir, jobID string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return path.Join(dir, fmt.Sprintf("savepoint-%s-%s", jobID[:min(6, len(jobID))], hex.EncodeToString(b[:])))
}
