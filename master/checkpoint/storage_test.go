package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/state"
)

func sampleMetadata() *Metadata {
	return &Metadata{Version: metadataVersion, JobID: "j1", JobName: "counts", Lineage: "l1", ID: 7, Kind: "CHECKPOINT",
		Timestamp: 1000, Completed: 1200, Operators: []OperatorState{{ID: "op", Name: "Sum", Parallelism: 2, MaxParallelism: 128,
			Handles: []state.Handle{{Operator: "op", Subtask: 1, Name: "s", Kind: state.KeyedKind, KeyGroups: state.KeyGroupRange{Start: 64, End: 128}, Path: "op-1-0", Size: 10, Checksum: 3}}}}}
}

// encodeMetadata is the _metadata file of m as WriteMetadata writes it.
func encodeMetadata(t testing.TB, m *Metadata) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := WriteMetadata(hdfs.Local{}, dir, m); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withBody is a _metadata file with a correct header around body.
func withBody(body string) []byte {
	return fmt.Appendf(nil, "%s %d crc32c=%08x\n%s", metadataMagic, metadataVersion, crc32.Checksum([]byte(body), castagnoli), body)
}

func TestParseMetadata(t *testing.T) {
	m := sampleMetadata()
	got, err := parseMetadata("x/_metadata", encodeMetadata(t, m))
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	valid, _ := json.Marshal(m)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "no header line"},
		{"other file", []byte("hello\nworld"), `not a Spate checkpoint metadata file (header "hello")`},
		{"newer version", []byte(metadataMagic + " 2 crc32c=00000000\n{}"), "metadata version 2 is not supported (this Spate reads version 1)"},
		{"bad checksum field", []byte(metadataMagic + " 1 crc32c=zz\n{}"), "bad checksum field crc32c=zz"},
		{"flipped byte", bytes.Replace(withBody(string(valid)), []byte(`"counts"`), []byte(`"countz"`), 1), "checksum mismatch"},
		{"not JSON", withBody("{"), "unexpected end of JSON input"},
		{"id 0", withBody(`{"checkpointId":0}`), "checkpoint id 0 is not positive"},
		{"escaping path", withBody(strings.Replace(string(valid), `"op-1-0"`, `"../../etc/passwd"`, 1)),
			`state file name "../../etc/passwd" of operator "Sum" is not a file name in the checkpoint's directory`},
		{"wrong subtask", withBody(strings.Replace(string(valid), `"Subtask":1`, `"Subtask":2`, 1)),
			`state file "op-1-0" belongs to subtask 2 of an operator of parallelism 2`},
		{"negative size", withBody(strings.Replace(string(valid), `"Size":10`, `"Size":-1`, 1)), `state file "op-1-0" has a negative size`},
		{"no parallelism", withBody(strings.Replace(string(valid), `"parallelism":2`, `"parallelism":0`, 1)),
			`operator "Sum" has id "op", parallelism 0 and max parallelism 128`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseMetadata("x/_metadata", tc.data)
			if !errors.Is(err, state.ErrCorruptState) || !strings.HasPrefix(err.Error(), "corrupt checkpoint state: x/_metadata: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want corrupt state naming the file, with %q", err, tc.want)
			}
		})
	}
}

// FuzzReadMetadata: whatever the bytes, parseMetadata returns metadata or an
// error wrapping state.ErrCorruptState, never panics, and what it accepts
// writes back to bytes that parse to the same metadata.
func FuzzReadMetadata(f *testing.F) {
	f.Add(encodeMetadata(f, sampleMetadata()))
	f.Add(withBody(`{"checkpointId":1,"operators":[{"id":"a","parallelism":1,"maxParallelism":1,"handles":[{"Operator":"a","Path":"f"}]}]}`))
	f.Add([]byte(metadataMagic + " 1 crc32c=00000000\n"))
	f.Add([]byte("\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMetadata("x/_metadata", data)
		if err != nil {
			if !errors.Is(err, state.ErrCorruptState) {
				t.Fatalf("error does not wrap ErrCorruptState: %v", err)
			}
			return
		}
		for _, o := range m.Operators {
			for _, h := range o.Handles {
				if filepath.Base(h.Path) != h.Path || h.Path == ".." || h.Path == "." {
					t.Fatalf("accepted state file %q outside the checkpoint", h.Path)
				}
			}
		}
		again, err := parseMetadata("x/_metadata", encodeMetadata(t, m))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("round trip of accepted metadata: %+v, %v; want %+v", again, err, m)
		}
	})
}

// writeCheckpoint publishes a completed checkpoint under root/jobID/chk-id.
func writeCheckpoint(t *testing.T, root, jobID, name, lineage string, id, completed int64) string {
	t.Helper()
	dir := filepath.Join(root, jobID, fmt.Sprintf("chk-%d", id))
	m := &Metadata{JobID: jobID, JobName: name, Lineage: lineage, ID: id, Kind: "CHECKPOINT", Completed: completed}
	if err := WriteMetadata(hdfs.Local{}, dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFindLatest(t *testing.T) {
	root, sps := t.TempDir(), t.TempDir()
	find := func() (*Found, error) {
		return FindLatest(FindOptions{FS: hdfs.Local{}, CheckpointsDir: root, SavepointsDir: sps, JobName: "counts"})
	}
	// Run a (lineage a) was killed after checkpoint 3; run b resumed it
	// (lineage a) and was killed after checkpoint 5, with chk-6 incomplete.
	writeCheckpoint(t, root, "a", "counts", "a", 3, 100)
	b5 := writeCheckpoint(t, root, "b", "counts", "a", 5, 200)
	if err := os.MkdirAll(filepath.Join(root, "b", "chk-6"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeCheckpoint(t, root, "x", "other", "x", 9, 900) // another job: never chosen
	if err := os.MkdirAll(filepath.Join(root, "x", "chk-10"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := find()
	if err != nil || got.Dir != b5 || got.Meta.ID != 5 {
		t.Fatalf("FindLatest = %+v, %v; want %s", got, err, b5)
	}
	if want := []Skipped{{filepath.Join(root, "b", "chk-6"), "no _metadata: the checkpoint never completed"}}; !reflect.DeepEqual(got.Skipped, want) {
		t.Fatalf("skipped %v, want %v", got.Skipped, want)
	}

	// Run c resumed b and finished lineage a: nothing of it is resumed again.
	c := NewStorage(hdfs.Local{}, root, "c")
	if err := c.MarkFinished(FinishedMarker{Lineage: "a", JobID: "c", JobName: "counts", Finished: 300, LastCheckpoint: 8}); err != nil {
		t.Fatal(err)
	}
	_, err = find()
	var nothing *NothingToResumeError
	if !errors.As(err, &nothing) {
		t.Fatalf("after the finish: %v", err)
	}
	want := `nothing to resume: the last run of job "counts" (job id c) finished at 1970-01-01T00:00:00Z, and a finished job is never resumed: its output is final; ` +
		`run the job without --resume, into a new output directory, to process its input again (passed over: ` +
		b5 + `: checkpoint 5 of a finished lineage: run c finished it at 1970-01-01T00:00:00Z; ` +
		filepath.Join(root, "a", "chk-3") + `: checkpoint 3 of a finished lineage: run c finished it at 1970-01-01T00:00:00Z; ` +
		filepath.Join(root, "b", "chk-6") + `: no _metadata: the checkpoint never completed)`
	if err.Error() != want {
		t.Fatalf("error\n%s\nwant\n%s", err, want)
	}

	// A savepoint of a new lineage, taken after the finish, is resumable.
	sp := filepath.Join(sps, "savepoint-d-1")
	if err := WriteMetadata(hdfs.Local{}, sp, &Metadata{JobID: "d", JobName: "counts", Lineage: "d", ID: 2, Kind: "SAVEPOINT", Completed: 400}); err != nil {
		t.Fatal(err)
	}
	if got, err := find(); err != nil || got.Dir != sp {
		t.Fatalf("with a newer savepoint: %+v, %v", got, err)
	}

	// Corrupt metadata is an error, not skipped.
	if err := os.WriteFile(filepath.Join(root, "a", "chk-3", MetadataFile), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := find(); !errors.Is(err, state.ErrCorruptState) {
		t.Fatalf("corrupt metadata: %v", err)
	}
}

func TestFindLatestNothing(t *testing.T) {
	root := t.TempDir()
	for _, tc := range []struct{ retention, hint string }{
		{"no_externalized_checkpoints", "; a job that fails or is cancelled deletes its checkpoints unless execution.checkpointing.externalized-checkpoint-retention is retain_on_cancellation (or delete_on_cancellation, to keep them after a failure only); a run interrupted by Ctrl-C, SIGTERM or kill keeps its latest checkpoint"},
		{"delete_on_cancellation", "; a cancelled job deletes its checkpoints under execution.checkpointing.externalized-checkpoint-retention=delete_on_cancellation (retain_on_cancellation keeps them)"},
		{"retain_on_cancellation", ""},
	} {
		_, err := FindLatest(FindOptions{FS: hdfs.Local{}, CheckpointsDir: root, JobName: "counts", Retention: tc.retention})
		want := `no completed checkpoint or savepoint of job "counts" under ` + root + ": nothing to resume" + tc.hint
		if err == nil || err.Error() != want {
			t.Errorf("retention %s: %v\nwant %s", tc.retention, err, want)
		}
	}
}

func TestDiscardLineage(t *testing.T) {
	root := t.TempDir()
	writeCheckpoint(t, root, "a", "counts", "a", 3, 100)
	if err := os.MkdirAll(filepath.Join(root, "a", "chk-4"), 0o755); err != nil { // incomplete, a's too
		t.Fatal(err)
	}
	writeCheckpoint(t, root, "b", "counts", "b", 1, 100)         // another lineage
	writeCheckpoint(t, root, "o", "other", "a", 2, 100)          // another job
	keep := writeCheckpoint(t, root, "c", "counts", "a", 9, 100) // the finishing run's own
	if err := DiscardLineage(hdfs.Local{}, root, "counts", "a", filepath.Dir(keep)); err != nil {
		t.Fatal(err)
	}
	var left []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if d.Name() == MetadataFile {
			left = append(left, strings.TrimPrefix(filepath.Dir(p), root+"/"))
		}
		return nil
	})
	if want := []string{"b/chk-1", "c/chk-9", "o/chk-2"}; !reflect.DeepEqual(left, want) {
		t.Fatalf("left %v, want %v", left, want)
	}
	if _, err := os.Stat(filepath.Join(root, "a")); !os.IsNotExist(err) {
		t.Fatalf("run a's directory is still there: %v", err)
	}
}

func TestResolveRestorePath(t *testing.T) {
	dir := writeCheckpoint(t, t.TempDir(), "a", "counts", "a", 4, 1)
	for in, want := range map[string]string{
		dir:                                     dir,
		filepath.Join(dir, MetadataFile):        dir, // as Flink accepts
		filepath.Join(dir, "nope", "_metadata"): filepath.Join(dir, "nope", "_metadata"),
	} {
		if got := ResolveRestorePath(hdfs.Local{}, in); got != want {
			t.Errorf("ResolveRestorePath(%s) = %s, want %s", in, got, want)
		}
	}
}

// leaseClock is a settable clock for lease tests.
type leaseClock struct{ now time.Time }

func (c *leaseClock) Now() time.Time { return c.now }

func TestLease(t *testing.T) {
	root := t.TempDir()
	clock := &leaseClock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	alive := map[int]bool{100: true, 200: true}
	opts := func(owner string, pid int, host string) LeaseOptions {
		return LeaseOptions{FS: hdfs.Local{}, Root: root, JobName: "my job/1", Owner: owner, TTL: 30 * time.Second,
			Host: host, PID: pid, Now: clock.Now, Alive: func(p int) bool { return alive[p] }}
	}
	a, err := AcquireLease(opts("run-a", 100, "h1"))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, LeaseDir, "my_job_1-105ada04.lease"); a.Path() != want {
		t.Fatalf("lease path %s, want %s", a.Path(), want)
	}
	// A second run while the first lives: refused, naming the holder.
	clock.now = clock.now.Add(10 * time.Second)
	_, err = AcquireLease(opts("run-b", 200, "h1"))
	want := `job "my job/1" is already running on this checkpoint directory: run run-a (pid 100 on host h1) holds ` + a.Path() +
		`, renewed 10s ago, expires in 20s; stop that run first (or, if it died on another host, wait until its lease expires)`
	if !errors.Is(err, ErrLeaseHeld) || err.Error() != want {
		t.Fatalf("second run: %v\nwant %s", err, want)
	}
	// Renewal keeps it live past the first expiry, for a holder on another host too.
	if err := a.Renew(); err != nil {
		t.Fatal(err)
	}
	clock.now = clock.now.Add(25 * time.Second)
	if _, err := AcquireLease(opts("run-b", 200, "h2")); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("after renewal: %v", err)
	}
	// The holder's process is gone from this host: taken over at once.
	alive[100] = false
	b, err := AcquireLease(opts("run-b", 200, "h1"))
	if err != nil {
		t.Fatalf("take over a dead holder's lease: %v", err)
	}
	// The old holder finds out on its next renewal, and must stop.
	if err := a.Renew(); !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "run run-b (pid 200 on host h1) took over") {
		t.Fatalf("renewal of a lost lease: %v", err)
	}
	if err := a.Release(); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("release of a lost lease: %v", err)
	}
	// On another host only expiry counts.
	clock.now = clock.now.Add(29 * time.Second)
	if _, err := AcquireLease(opts("run-c", 300, "h2")); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("before expiry from another host: %v", err)
	}
	clock.now = clock.now.Add(2 * time.Second)
	c, err := AcquireLease(opts("run-c", 300, "h2"))
	if err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	if err := b.Renew(); !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "was removed by someone else") {
		t.Fatalf("renewal after the file is gone: %v", err)
	}
	// Released: free for the next run; nothing is left but the directory.
	d, err := AcquireLease(opts("run-d", 200, "h1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Release(); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(filepath.Join(root, LeaseDir)); len(left) != 0 {
		t.Fatalf("left in the lease directory: %v", left)
	}
}

// TestLeaseHalfWritten: a lease file that does not parse (its creator died
// while writing it, or is writing it now) is live for one TTL from its
// modification time, then stale.
func TestLeaseHalfWritten(t *testing.T) {
	root := t.TempDir()
	p := LeasePath(root, "j")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(`{"own`), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	now := fi.ModTime().Add(time.Second)
	o := LeaseOptions{FS: hdfs.Local{}, Root: root, JobName: "j", Owner: "me", TTL: 5 * time.Second, Host: "h", PID: 1, Now: func() time.Time { return now }}
	_, err := AcquireLease(o)
	if !errors.Is(err, ErrLeaseHeld) || !strings.Contains(err.Error(), "is being written by another run; try again in a moment") {
		t.Fatalf("fresh half-written lease: %v", err)
	}
	now = now.Add(5 * time.Second)
	l, err := AcquireLease(o)
	if err != nil {
		t.Fatalf("stale half-written lease: %v", err)
	}
	var h LeaseHolder
	b, _ := os.ReadFile(p)
	if err := json.Unmarshal(b, &h); err != nil || h != l.Holder() {
		t.Fatalf("lease file %s; want %+v", b, l.Holder())
	}
}

// TestLeaseNeedsExclusiveCreate: a filesystem without exclusive create is a
// clear error, never a lease that two runs could both take.
func TestLeaseNeedsExclusiveCreate(t *testing.T) {
	_, err := AcquireLease(LeaseOptions{FS: plainFS{hdfs.Local{}}, Root: t.TempDir(), JobName: "j", Owner: "me", TTL: time.Second})
	if !errors.Is(err, hdfs.ErrNoExclusiveCreate) {
		t.Fatalf("got %v, want ErrNoExclusiveCreate", err)
	}
}

// plainFS hides Local's CreateExclusive.
type plainFS struct{ inner hdfs.FileSystem }

func (p plainFS) Open(path string) (hdfs.File, error)          { return p.inner.Open(path) }
func (p plainFS) Create(path string) (io.WriteCloser, error)   { return p.inner.Create(path) }
func (p plainFS) Stat(path string) (hdfs.FileInfo, error)      { return p.inner.Stat(path) }
func (p plainFS) ReadDir(path string) ([]hdfs.FileInfo, error) { return p.inner.ReadDir(path) }
func (p plainFS) MkdirAll(path string) error                   { return p.inner.MkdirAll(path) }
func (p plainFS) Rename(oldPath, newPath string) error         { return p.inner.Rename(oldPath, newPath) }
func (p plainFS) Remove(path string) error                     { return p.inner.Remove(path) }
func (p plainFS) RemoveAll(path string) error                  { return p.inner.RemoveAll(path) }

// TestFindLatestReadsSavepointsThroughTheirFileSystem: the savepoint
// directory is listed and read through its own filesystem.
func TestFindLatestReadsSavepointsThroughTheirFileSystem(t *testing.T) {
	sps := t.TempDir()
	if err := WriteMetadata(hdfs.Local{}, filepath.Join(sps, "savepoint-a-1"), &Metadata{JobID: "a", JobName: "counts", ID: 1, Kind: "SAVEPOINT", Completed: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := FindLatest(FindOptions{FS: plainFS{hdfs.Local{}}, SavepointsFS: hdfs.Local{}, CheckpointsDir: t.TempDir(), SavepointsDir: sps, JobName: "counts"})
	if err != nil || got.Dir != filepath.Join(sps, "savepoint-a-1") {
		t.Fatalf("FindLatest = %+v, %v", got, err)
	}
	if _, ok := got.FS.(hdfs.Local); !ok {
		t.Fatalf("found on %T, want the savepoints' filesystem", got.FS)
	}
}
