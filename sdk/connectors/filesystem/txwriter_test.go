package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/hdfs/faultfs"
)

// pendingFile is the PendingFile of subtask s's file with index i in dir.
func pendingFile(dir string, checkpointID int64, s int, i int64) PendingFile {
	return PendingFile{
		CheckpointID: checkpointID,
		Pending:      path.Join(dir, fmt.Sprintf(".part-%d-%d.pending", s, i)),
		Final:        path.Join(dir, fmt.Sprintf("part-%d-%d", s, i)),
	}
}

func writeLines(t *testing.T, w *TxWriter, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if err := w.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
}

func preCommit(t *testing.T, w *TxWriter, checkpointID int64) TxState {
	t.Helper()
	st, err := w.PreCommit(checkpointID)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func wantState(t *testing.T, got, want TxState) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("state = %+v\nwant    %+v", got, want)
	}
}

// wantDir checks that dir holds exactly the files in want, by name, with their contents.
func wantDir(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := names(t, dir)
	wantNames := make([]string, 0, len(want))
	for n := range want {
		wantNames = append(wantNames, n)
	}
	slices.Sort(wantNames)
	if !slices.Equal(got, wantNames) {
		t.Errorf("directory holds %q, want %q", got, wantNames)
		return
	}
	for n, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != content {
			t.Errorf("%s holds %q, want %q", n, b, content)
		}
	}
}

func TestTxWriterCommitsCompletedCheckpoints(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out") // created by the writer
	fsys := faultfs.New(hdfs.Local{})
	w, err := NewTxWriter(fsys, dir, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{})

	writeLines(t, w, "a", "", "b")
	wantDir(t, dir, map[string]string{".part-2-0.inprogress": ""}) // still buffered
	st1 := preCommit(t, w, 1)
	wantState(t, st1, TxState{Subtask: 2, NextIndex: 1, Pending: []PendingFile{pendingFile(dir, 1, 2, 0)}})
	wantDir(t, dir, map[string]string{".part-2-0.pending": "a\n\nb\n"})

	writeLines(t, w, "c")
	st2 := preCommit(t, w, 2)
	wantState(t, st2, TxState{Subtask: 2, NextIndex: 2, Pending: []PendingFile{pendingFile(dir, 1, 2, 0), pendingFile(dir, 2, 2, 1)}})

	if err := w.Commit(1); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-2-0": "a\n\nb\n", ".part-2-1.pending": "c\n"})
	if files, err := Enumerate(fsys, dir); err != nil || len(files) != 1 || files[0].Name != "part-2-0" {
		t.Errorf("Enumerate = %+v, %v; want only part-2-0", files, err)
	}
	// The states handed out are the caller's: committing does not change them.
	wantState(t, st1, TxState{Subtask: 2, NextIndex: 1, Pending: []PendingFile{pendingFile(dir, 1, 2, 0)}})
	wantState(t, st2, TxState{Subtask: 2, NextIndex: 2, Pending: []PendingFile{pendingFile(dir, 1, 2, 0), pendingFile(dir, 2, 2, 1)}})

	if err := w.Commit(2); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-2-0": "a\n\nb\n", "part-2-1": "c\n"})

	// Committing again touches nothing: even a filesystem refusing every rename is fine.
	fsys.FailOn(faultfs.OpRename, "", syscall.EIO)
	fsys.FailOn(faultfs.OpStat, "", syscall.EIO)
	for _, id := range []int64{2, 1, 3} {
		if err := w.Commit(id); err != nil {
			t.Errorf("Commit(%d) with nothing pending = %v", id, err)
		}
	}
	wantDir(t, dir, map[string]string{"part-2-0": "a\n\nb\n", "part-2-1": "c\n"})
	wantState(t, preCommit(t, w, 3), TxState{Subtask: 2, NextIndex: 2})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-2-0": "a\n\nb\n", "part-2-1": "c\n"})
}

func TestTxWriterCheckpointWithoutData(t *testing.T) {
	dir := t.TempDir()
	w, err := NewTxWriter(hdfs.Local{}, dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantState(t, preCommit(t, w, 1), TxState{Subtask: 0, NextIndex: 0})
	wantDir(t, dir, map[string]string{})

	writeLines(t, w, "x")
	want := TxState{Subtask: 0, NextIndex: 1, Pending: []PendingFile{pendingFile(dir, 2, 0, 0)}}
	wantState(t, preCommit(t, w, 2), want)
	// Checkpoint 2's notification never came: checkpoints 3 and 4 still carry its file, and
	// create none.
	wantState(t, preCommit(t, w, 3), want)
	wantState(t, preCommit(t, w, 4), want)
	wantDir(t, dir, map[string]string{".part-0-0.pending": "x\n"})

	if err := w.Commit(4); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-0-0": "x\n"})
	wantState(t, preCommit(t, w, 5), TxState{Subtask: 0, NextIndex: 1})
}

func TestTxWriterEndOfInput(t *testing.T) {
	dir := t.TempDir()
	w, err := NewTxWriter(hdfs.Local{}, dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, "a")
	preCommit(t, w, 1)
	writeLines(t, w, "b")
	wantState(t, preCommit(t, w, EndOfInput), TxState{Subtask: 1, NextIndex: 2, Pending: []PendingFile{pendingFile(dir, 1, 1, 0), pendingFile(dir, EndOfInput, 1, 1)}})
	// A barrier after the end of the input: nothing new, and the end-of-input file waits
	// for the job to finish.
	wantState(t, preCommit(t, w, 2), TxState{Subtask: 1, NextIndex: 2, Pending: []PendingFile{pendingFile(dir, 1, 1, 0), pendingFile(dir, EndOfInput, 1, 1)}})
	if err := w.Commit(2); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-1-0": "a\n", ".part-1-1.pending": "b\n"})
	if err := w.Commit(EndOfInput); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-1-0": "a\n", "part-1-1": "b\n"})

	// Lines after the end of the input would be attributed to a checkpoint whose barrier
	// they followed.
	writeLines(t, w, "late")
	_, err = w.PreCommit(3)
	want := fmt.Sprintf("filesystem: pre-commit of part file %q for checkpoint 3 after checkpoint %d: checkpoint IDs must increase", path.Join(dir, ".part-1-2.inprogress"), EndOfInput)
	if err == nil || err.Error() != want {
		t.Errorf("PreCommit(3) after EndOfInput = %v, want %s", err, want)
	}
}

func TestTxWriterCheckpointIDsMustIncrease(t *testing.T) {
	dir := t.TempDir()
	w, err := NewTxWriter(hdfs.Local{}, dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, "a")
	preCommit(t, w, 5)
	writeLines(t, w, "b")
	for _, id := range []int64{5, 4} {
		_, err := w.PreCommit(id)
		want := fmt.Sprintf("filesystem: pre-commit of part file %q for checkpoint %d after checkpoint 5: checkpoint IDs must increase", path.Join(dir, ".part-0-1.inprogress"), id)
		if err == nil || err.Error() != want {
			t.Errorf("PreCommit(%d) = %v, want %s", id, err, want)
		}
	}
	// Not sticky: a good ID still works.
	wantState(t, preCommit(t, w, 6), TxState{Subtask: 0, NextIndex: 2, Pending: []PendingFile{pendingFile(dir, 5, 0, 0), pendingFile(dir, 6, 0, 1)}})
}

// recoverSubtask is what the runtime does for one subtask on recovery.
func recoverSubtask(t *testing.T, fsys hdfs.FileSystem, dir string, restored TxState, allPending []PendingFile) *TxWriter {
	t.Helper()
	if err := CommitPending(fsys, allPending); err != nil {
		t.Fatal(err)
	}
	if err := Cleanup(fsys, dir, allPending, func(s int) bool { return s == restored.Subtask }); err != nil {
		t.Fatal(err)
	}
	w, err := NewTxWriter(fsys, dir, restored.Subtask, restored.NextIndex)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestTxWriterRecovery(t *testing.T) {
	for _, notified := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkpoint 1 notified=%v", notified), func(t *testing.T) {
			dir := t.TempDir()
			writeTestFile(t, filepath.Join(dir, "README"), "unrelated\n")
			w, err := NewTxWriter(hdfs.Local{}, dir, 1, 0)
			if err != nil {
				t.Fatal(err)
			}
			writeLines(t, w, "a", "b")
			st1 := preCommit(t, w, 1) // checkpoint 1 completes with this state
			if notified {
				if err := w.Commit(1); err != nil {
					t.Fatal(err)
				}
			}
			writeLines(t, w, "c")
			preCommit(t, w, 2) // checkpoint 2 never completes
			writeLines(t, w, "d", strings.Repeat("e", writeBufferSize))
			if err := w.Close(); err != nil { // the crash
				t.Fatal(err)
			}
			leftovers := map[string]string{
				"README":               "unrelated\n",
				".part-1-1.pending":    "c\n",
				".part-1-2.inprogress": "d\n" + strings.Repeat("e", writeBufferSize-2),
			}
			if notified {
				leftovers["part-1-0"] = "a\nb\n"
			} else {
				leftovers[".part-1-0.pending"] = "a\nb\n"
			}
			wantDir(t, dir, leftovers)

			w = recoverSubtask(t, hdfs.Local{}, dir, st1, st1.Pending)
			wantDir(t, dir, map[string]string{"README": "unrelated\n", "part-1-0": "a\nb\n"})

			// The source replays from checkpoint 1; the files get the failed attempt's indices.
			writeLines(t, w, "c", "d")
			wantState(t, preCommit(t, w, 3), TxState{Subtask: 1, NextIndex: 2, Pending: []PendingFile{pendingFile(dir, 3, 1, 1)}})
			writeLines(t, w, "e")
			preCommit(t, w, 4)
			if err := w.Commit(4); err != nil {
				t.Fatal(err)
			}
			wantDir(t, dir, map[string]string{"README": "unrelated\n", "part-1-0": "a\nb\n", "part-1-1": "c\nd\n", "part-1-2": "e\n"})
		})
	}
}

func TestNewTxWriterNeverReusesAnIndex(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"part-0-0", "part-0-4", ".part-0-6.pending", "part-1-9", "part-0-x", ".part-0-8.crc", ".part-0-007.pending"} {
		writeTestFile(t, filepath.Join(dir, n), n+"\n")
	}
	// NextIndex 2 is taken by nothing, but files of subtask 0 with higher indices exist:
	// output of an earlier job, or of a restore from an older savepoint.
	w, err := NewTxWriter(hdfs.Local{}, dir, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, "new")
	wantState(t, preCommit(t, w, 1), TxState{Subtask: 0, NextIndex: 8, Pending: []PendingFile{pendingFile(dir, 1, 0, 7)}})

	// Without such files the writer starts at NextIndex.
	w, err = NewTxWriter(hdfs.Local{}, dir, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, "new")
	wantState(t, preCommit(t, w, 1), TxState{Subtask: 1, NextIndex: 11, Pending: []PendingFile{pendingFile(dir, 1, 1, 10)}})

	if _, err := NewTxWriter(hdfs.Local{}, dir, -1, 0); err == nil {
		t.Error("NewTxWriter with subtask -1 succeeded")
	}
	if _, err := NewTxWriter(hdfs.Local{}, dir, 0, -1); err == nil {
		t.Error("NewTxWriter with index -1 succeeded")
	}
}

// makePending writes n pending files of subtask 0 in dir through a TxWriter and returns
// them; file i holds "line i\n".
func makePending(t *testing.T, dir string, n int) []PendingFile {
	t.Helper()
	w, err := NewTxWriter(hdfs.Local{}, dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var st TxState
	for i := range n {
		writeLines(t, w, fmt.Sprintf("line %d", i))
		st = preCommit(t, w, int64(i+1))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(st.Pending) != n {
		t.Fatalf("made %d pending files, want %d", len(st.Pending), n)
	}
	return st.Pending
}

// committed is what dir holds once the first n files of makePending are committed.
func committed(n int) map[string]string {
	want := map[string]string{}
	for i := range n {
		want[fmt.Sprintf("part-0-%d", i)] = fmt.Sprintf("line %d\n", i)
	}
	return want
}

func TestCommitPendingIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	files := makePending(t, dir, 3)
	if err := CommitPending(hdfs.Local{}, files); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, committed(3))
	if err := CommitPending(hdfs.Local{}, files); err != nil {
		t.Errorf("second CommitPending = %v", err)
	}
	wantDir(t, dir, committed(3))

	// After a partial commit: the first file is final, the others pending.
	dir = t.TempDir()
	files = makePending(t, dir, 3)
	if err := CommitPending(hdfs.Local{}, files[:1]); err != nil {
		t.Fatal(err)
	}
	if err := CommitPending(hdfs.Local{}, files); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, committed(3))
	if err := CommitPending(hdfs.Local{}, nil); err != nil {
		t.Errorf("CommitPending(nil) = %v", err)
	}
}

func TestCommitPendingConcurrently(t *testing.T) {
	for round := range 20 {
		dir := t.TempDir()
		files := makePending(t, dir, 20)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for g := range errs {
			wg.Go(func() { errs[g] = CommitPending(hdfs.Local{}, files) })
		}
		wg.Wait()
		for g, err := range errs {
			if err != nil {
				t.Fatalf("round %d: CommitPending %d = %v", round, g, err)
			}
		}
		wantDir(t, dir, committed(20))
	}
}

func TestCommitPendingErrors(t *testing.T) {
	dir := t.TempDir()
	files := makePending(t, dir, 3)

	// Both names missing: the output of a completed checkpoint is lost.
	if err := os.Remove(filepath.Join(dir, ".part-0-1.pending")); err != nil {
		t.Fatal(err)
	}
	err := CommitPending(hdfs.Local{}, files)
	want := fmt.Sprintf("pending file %q of the restored checkpoint is gone and %q does not exist", files[1].Pending, files[1].Final)
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CommitPending = %v, want %s wrapping fs.ErrNotExist", err, want)
	}
	// It stopped there: the first file is committed, the third still pending.
	wantDir(t, dir, map[string]string{"part-0-0": "line 0\n", ".part-0-2.pending": "line 2\n"})

	// A failing rename of a file that is still pending is a plain error.
	fsys := faultfs.New(hdfs.Local{})
	fsys.FailOn(faultfs.OpRename, "part-0-2", syscall.EIO)
	err = CommitPending(fsys, []PendingFile{files[0], files[2]})
	want = fmt.Sprintf("commit part file %q as %q: input/output error", files[2].Pending, files[2].Final)
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EIO) {
		t.Errorf("CommitPending = %v, want %s", err, want)
	}
	// As is a failing rename of a committed file whose state cannot be checked.
	fsys.FailOn(faultfs.OpRename, "part-0-0", syscall.EIO)
	fsys.FailOn(faultfs.OpStat, "part-0-0", syscall.EIO)
	err = CommitPending(fsys, files[:1])
	want = fmt.Sprintf("commit part file %q as %q: input/output error", files[0].Pending, files[0].Final)
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EIO) {
		t.Errorf("CommitPending = %v, want %s", err, want)
	}
	wantDir(t, dir, map[string]string{"part-0-0": "line 0\n", ".part-0-2.pending": "line 2\n"})
}

func TestTxWriterFaults(t *testing.T) {
	dir := t.TempDir()
	inProgress := path.Join(dir, ".part-0-0.inprogress")
	tests := []struct {
		op   string
		on   string // "new", "write" or "precommit": the call that fails
		want string
	}{
		{faultfs.OpMkdirAll, "new", fmt.Sprintf("create output directory %q: input/output error", dir)},
		{faultfs.OpReadDir, "new", fmt.Sprintf("read output directory %q: input/output error", dir)},
		{faultfs.OpCreate, "write", fmt.Sprintf("create part file %q: input/output error", inProgress)},
		{faultfs.OpWrite, "precommit", fmt.Sprintf("write part file %q: input/output error", inProgress)},
		{faultfs.OpSync, "precommit", fmt.Sprintf("sync part file %q: input/output error", inProgress)},
		{faultfs.OpClose, "precommit", fmt.Sprintf("close part file %q: input/output error", inProgress)},
		{faultfs.OpRename, "precommit", fmt.Sprintf("pre-commit part file %q as %q: input/output error", inProgress, path.Join(dir, ".part-0-0.pending"))},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			fsys := faultfs.New(hdfs.Local{})
			fsys.FailOn(tt.op, dir, syscall.EIO)
			check := func(call string, err error) bool {
				t.Helper()
				if call != tt.on {
					if err != nil {
						t.Fatalf("%s: %v", call, err)
					}
					return false
				}
				if err == nil || err.Error() != tt.want || !errors.Is(err, syscall.EIO) {
					t.Errorf("%s = %v, want %s", call, err, tt.want)
				}
				return true
			}
			w, err := NewTxWriter(fsys, dir, 0, 0)
			if check("new", err) {
				return
			}
			if check("write", w.WriteString("x")) {
				if err := w.WriteString("y"); err == nil || err.Error() != tt.want {
					t.Errorf("WriteString after a failure = %v, want the same error", err)
				}
				return
			}
			_, err = w.PreCommit(1)
			if !check("precommit", err) {
				return
			}
			// Sticky.
			if err := w.WriteString("y"); err == nil || err.Error() != tt.want {
				t.Errorf("WriteString after a failure = %v, want the same error", err)
			}
			if _, err := w.PreCommit(2); err == nil || err.Error() != tt.want {
				t.Errorf("PreCommit after a failure = %v, want the same error", err)
			}
			if err := w.Close(); err != nil && tt.op != faultfs.OpClose {
				t.Fatal(err)
			}
			// Nothing lost but what faultfs refused to write: the line is in the
			// in-progress file, and nothing is pending or final.
			want := "x\n"
			if tt.op == faultfs.OpWrite {
				want = ""
			}
			wantDir(t, dir, map[string]string{".part-0-0.inprogress": want})
			if err := os.Remove(filepath.Join(dir, ".part-0-0.inprogress")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTxWriterWriteFails(t *testing.T) {
	dir := t.TempDir()
	inProgress := path.Join(dir, ".part-1-0.inprogress")
	fsys := faultfs.New(hdfs.Local{})
	fsys.FailWriteAfter(".part-1-0.", 100, syscall.ENOSPC)
	want := fmt.Sprintf("write part file %q: no space left on device", inProgress)

	// A big line: the failure shows on the write that overflows the buffer.
	w, err := NewTxWriter(fsys, dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", writeBufferSize/2)
	var writeErr error
	for range 4 {
		if writeErr = w.WriteString(line); writeErr != nil {
			break
		}
	}
	if writeErr == nil || writeErr.Error() != want || !errors.Is(writeErr, syscall.ENOSPC) {
		t.Errorf("WriteString = %v, want %s", writeErr, want)
	}
	if _, err := w.PreCommit(1); err == nil || err.Error() != want {
		t.Errorf("PreCommit after a failure = %v, want the same error", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if err := w.WriteString("x"); !errors.Is(err, errTxWriterClosed) {
		t.Errorf("WriteString after Close = %v", err)
	}
	if _, err := w.PreCommit(2); !errors.Is(err, errTxWriterClosed) {
		t.Errorf("PreCommit after Close = %v", err)
	}
	if err := w.Commit(2); !errors.Is(err, errTxWriterClosed) {
		t.Errorf("Commit after Close = %v", err)
	}
	wantDir(t, dir, map[string]string{".part-1-0.inprogress": strings.Repeat("x", 100)})
}

// A failed rename on PreCommit loses nothing: the lines are in the in-progress file, the
// earlier checkpoint's pending file can still be committed, and recovery replays the rest.
func TestTxWriterPreCommitRenameFails(t *testing.T) {
	dir := t.TempDir()
	fsys := faultfs.New(hdfs.Local{})
	w, err := NewTxWriter(fsys, dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, "a")
	st1 := preCommit(t, w, 1)
	fsys.FailOn(faultfs.OpRename, ".part-0-1.", syscall.EIO)
	writeLines(t, w, "b")
	_, err = w.PreCommit(2)
	want := fmt.Sprintf("pre-commit part file %q as %q: input/output error", path.Join(dir, ".part-0-1.inprogress"), path.Join(dir, ".part-0-1.pending"))
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EIO) {
		t.Fatalf("PreCommit = %v, want %s", err, want)
	}
	wantDir(t, dir, map[string]string{".part-0-0.pending": "a\n", ".part-0-1.inprogress": "b\n"})

	// Checkpoint 1's notification still publishes its file.
	if err := w.Commit(1); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-0-0": "a\n", ".part-0-1.inprogress": "b\n"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	fsys.Reset()
	w = recoverSubtask(t, fsys, dir, st1, st1.Pending)
	writeLines(t, w, "b")
	preCommit(t, w, 3)
	if err := w.Commit(3); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-0-0": "a\n", "part-0-1": "b\n"})
}

// A failed rename on Commit leaves the file pending; the next checkpoints carry it and the
// next Commit publishes it.
func TestTxWriterCommitRenameFails(t *testing.T) {
	dir := t.TempDir()
	fsys := faultfs.New(hdfs.Local{})
	w, err := NewTxWriter(fsys, dir, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	writeLines(t, w, "a")
	preCommit(t, w, 1)
	writeLines(t, w, "b")
	preCommit(t, w, 2)
	fsys.FailOn(faultfs.OpRename, "part-0-0", syscall.EIO)
	err = w.Commit(2)
	want := fmt.Sprintf("commit part file %q as %q: input/output error", path.Join(dir, ".part-0-0.pending"), path.Join(dir, "part-0-0"))
	if err == nil || err.Error() != want || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Commit = %v, want %s", err, want)
	}
	// It stopped at the failure: checkpoint 2's file is still pending too.
	wantDir(t, dir, map[string]string{".part-0-0.pending": "a\n", ".part-0-1.pending": "b\n"})
	writeLines(t, w, "c")
	wantState(t, preCommit(t, w, 3), TxState{Subtask: 0, NextIndex: 3, Pending: []PendingFile{pendingFile(dir, 1, 0, 0), pendingFile(dir, 2, 0, 1), pendingFile(dir, 3, 0, 2)}})

	fsys.Reset()
	if err := w.Commit(2); err != nil {
		t.Fatal(err)
	}
	wantDir(t, dir, map[string]string{"part-0-0": "a\n", "part-0-1": "b\n", ".part-0-2.pending": "c\n"})

	// A pending file deleted behind the writer's back.
	if err := os.Remove(filepath.Join(dir, ".part-0-2.pending")); err != nil {
		t.Fatal(err)
	}
	err = w.Commit(3)
	want = fmt.Sprintf("pending file %q of checkpoint 3 is gone and %q does not exist", path.Join(dir, ".part-0-2.pending"), path.Join(dir, "part-0-2"))
	if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Commit = %v, want %s", err, want)
	}
}

func TestCleanup(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"README":               "r",
		"_SUCCESS":             "",
		"part-0-0":             "final",
		"part-2-5":             "final",
		".part-0-1.pending":    "kept",
		".part-0-2.pending":    "removed",
		".part-0-3.inprogress": "removed",
		".part-1-1.pending":    "other subtask",
		".part-1-2.inprogress": "other subtask",
		".part-2-6.pending":    "removed",
		".part-0-x.pending":    "not a part file name",
		".part-00-4.pending":   "not a part file name",
		".part-0-4.crc":        "not a part file name",
		".part-0-4":            "not a part file name",
		"part-0-4.pending":     "not a part file name",
		"other-0-4.pending":    "not a part file name",
		".part-0-9.pending/f":  "in a directory",
	}
	for n, content := range files {
		writeTestFile(t, filepath.Join(dir, n), content)
	}
	keep := []PendingFile{pendingFile(dir, 1, 0, 1), pendingFile("/elsewhere", 1, 2, 7)}
	fsys := faultfs.New(hdfs.Local{})
	fsys.FailOn(faultfs.OpRemove, ".part-1-", syscall.EIO) // must not be tried
	var asked []int
	err := Cleanup(fsys, dir, keep, func(s int) bool {
		asked = append(asked, s)
		return s == 0 || s == 2
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{".part-0-2.pending", ".part-0-3.inprogress", ".part-2-6.pending"} {
		delete(files, n)
	}
	delete(files, ".part-0-9.pending/f")
	files[".part-0-9.pending"] = "" // the directory is left alone
	got := names(t, dir)
	var want []string
	for n := range files {
		want = append(want, n)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("after Cleanup, directory holds %q\nwant %q", got, want)
	}
	slices.Sort(asked)
	if want := []int{0, 0, 1, 1, 2}; !slices.Equal(asked, want) {
		t.Errorf("predicate asked about subtasks %v, want %v", asked, want)
	}

	// Errors.
	fsys.FailOn(faultfs.OpRemove, ".part-1-1", syscall.EIO)
	err = Cleanup(fsys, dir, nil, func(int) bool { return true })
	wantErr := fmt.Sprintf("remove leftover part file %q: input/output error", filepath.Join(dir, ".part-1-1.pending"))
	if err == nil || err.Error() != wantErr || !errors.Is(err, syscall.EIO) {
		t.Errorf("Cleanup = %v, want %s", err, wantErr)
	}
	fsys.FailOn(faultfs.OpReadDir, dir, syscall.EIO)
	err = Cleanup(fsys, dir, nil, func(int) bool { return true })
	wantErr = fmt.Sprintf("read output directory %q: input/output error", dir)
	if err == nil || err.Error() != wantErr || !errors.Is(err, syscall.EIO) {
		t.Errorf("Cleanup = %v, want %s", err, wantErr)
	}
	if err := Cleanup(hdfs.Local{}, dir, nil, nil); err == nil {
		t.Error("Cleanup with a nil predicate succeeded")
	}
	if err := Cleanup(hdfs.Local{}, filepath.Join(dir, "missing"), nil, func(int) bool { return true }); err != nil {
		t.Errorf("Cleanup of a missing directory = %v", err)
	}
}

func TestParsePartName(t *testing.T) {
	tests := []struct {
		name    string
		subtask int
		index   int64
		kind    partKind
		ok      bool
	}{
		{"part-0-0", 0, 0, partFinal, true},
		{"part-12-345", 12, 345, partFinal, true},
		{".part-3-9223372036854775807.pending", 3, 9223372036854775807, partPending, true},
		{".part-3-4.inprogress", 3, 4, partInProgress, true},
		{".part-3-9223372036854775808.pending", 0, 0, 0, false},
		{"part-0", 0, 0, 0, false},
		{"part-0-", 0, 0, 0, false},
		{"part--0", 0, 0, 0, false},
		{"part-0-0-0", 0, 0, 0, false},
		{"part-+1-0", 0, 0, 0, false},
		{"part-01-0", 0, 0, 0, false},
		{"part-1-00", 0, 0, 0, false},
		{"part-1-0.pending", 0, 0, 0, false},
		{".part-1-0", 0, 0, 0, false},
		{".part-1-0.crc", 0, 0, 0, false},
		{"..part-1-0.pending", 0, 0, 0, false},
		{"Part-1-0", 0, 0, 0, false},
	}
	for _, tt := range tests {
		s, i, k, ok := parsePartName(tt.name)
		if s != tt.subtask || i != tt.index || k != tt.kind || ok != tt.ok {
			t.Errorf("parsePartName(%q) = %d, %d, %d, %v; want %d, %d, %d, %v", tt.name, s, i, k, ok, tt.subtask, tt.index, tt.kind, tt.ok)
		}
	}
	for _, n := range []string{finalName(7, 8), pendingName(7, 8), inProgressName(7, 8)} {
		if s, i, _, ok := parsePartName(n); !ok || s != 7 || i != 8 {
			t.Errorf("parsePartName(%q) = %d, %d, %v", n, s, i, ok)
		}
	}
}

// TestTxWriterExactlyOnce runs a job of txSubtasks sink subtasks through random checkpoints,
// declined checkpoints, late and lost notifications and crashes, recovering as the runtime
// does, and checks that the final part files hold every record exactly once, in order.
func TestTxWriterExactlyOnce(t *testing.T) {
	seed := testSeed(t)
	for run := range 200 {
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(run)))
		if err := simulateTxJob(t.TempDir(), rng); err != nil {
			t.Fatalf("run %d (seed %d): %v", run, seed, err)
		}
	}
}

const txSubtasks = 3

// txCheckpoint is what a completed checkpoint holds for each subtask.
type txCheckpoint struct {
	id       int64
	position [txSubtasks]int // records of each subtask's input before the barrier
	state    [txSubtasks]TxState
}

func simulateTxJob(dir string, rng *rand.Rand) error {
	var input [txSubtasks][]string
	for s := range input {
		for i := range rng.IntN(60) {
			input[s] = append(input[s], fmt.Sprintf("s%d-r%d", s, i))
		}
	}
	fsys := hdfs.Local{}
	latest := txCheckpoint{}
	for s := range latest.state {
		latest.state[s].Subtask = s
	}
	nextID := int64(1)

	for attempt := 0; ; attempt++ {
		if attempt > 100 {
			return errors.New("the job never finished")
		}
		// Recovery from the latest completed checkpoint (nothing on the first attempt).
		var allPending []PendingFile
		for _, st := range latest.state {
			allPending = append(allPending, st.Pending...)
		}
		var (
			writers  [txSubtasks]*TxWriter
			position = latest.position
			ended    [txSubtasks]bool
			notes    []int64 // notifications of completed checkpoints, not delivered yet
		)
		for s := range writers {
			if err := CommitPending(fsys, allPending); err != nil {
				return err
			}
			if err := Cleanup(fsys, dir, allPending, func(o int) bool { return o == s }); err != nil {
				return err
			}
			w, err := NewTxWriter(fsys, dir, s, latest.state[s].NextIndex)
			if err != nil {
				return err
			}
			writers[s] = w
		}
		crashed := false
		for !crashed {
			switch r := rng.IntN(100); {
			case r < 50: // a subtask writes some records
				s := rng.IntN(txSubtasks)
				n := min(1+rng.IntN(5), len(input[s])-position[s])
				for _, rec := range input[s][position[s] : position[s]+n] {
					if err := writers[s].WriteString(rec); err != nil {
						return err
					}
				}
				position[s] += n
			case r < 70: // a checkpoint: completed, or declined by some other operator
				cp := txCheckpoint{id: nextID, position: position}
				nextID++
				for s, w := range writers {
					st, err := w.PreCommit(cp.id)
					if err != nil {
						return err
					}
					cp.state[s] = st
				}
				if rng.IntN(4) > 0 {
					latest = cp
					notes = append(notes, cp.id)
				}
			case r < 85: // notifications arrive, in any order, or are lost
				rng.Shuffle(len(notes), func(i, j int) { notes[i], notes[j] = notes[j], notes[i] })
				for _, id := range notes[:rng.IntN(len(notes)+1)] {
					for _, w := range writers {
						if rng.IntN(3) > 0 {
							if err := w.Commit(id); err != nil {
								return err
							}
						}
					}
				}
				if rng.IntN(2) == 0 {
					notes = notes[:0]
				}
			case r < 90: // the crash
				crashed = true
			default: // the inputs that are exhausted end
				for s, w := range writers {
					if position[s] == len(input[s]) && !ended[s] {
						if _, err := w.PreCommit(EndOfInput); err != nil {
							return err
						}
						ended[s] = true
					}
				}
			}
			if !crashed && ended == [txSubtasks]bool{true, true, true} && rng.IntN(2) == 0 {
				// The job has finished.
				for _, w := range writers {
					if err := w.Commit(EndOfInput); err != nil {
						return err
					}
				}
				return checkTxOutput(dir, input)
			}
		}
		for _, w := range writers {
			if err := w.Close(); err != nil {
				return err
			}
		}
	}
}

// checkTxOutput checks that dir holds only final part files and that each subtask's,
// read in index order, hold exactly its input.
func checkTxOutput(dir string, input [txSubtasks][]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	type part struct {
		index int64
		lines []string
	}
	var parts [txSubtasks][]part
	for _, e := range entries {
		s, i, kind, ok := parsePartName(e.Name())
		if !ok || kind != partFinal {
			return fmt.Errorf("directory holds %s", e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return fmt.Errorf("%s is empty", e.Name())
		}
		parts[s] = append(parts[s], part{i, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")})
	}
	for s, ps := range parts {
		slices.SortFunc(ps, func(a, b part) int { return int(a.index - b.index) })
		var got []string
		for _, p := range ps {
			got = append(got, p.lines...)
		}
		if !slices.Equal(got, input[s]) {
			return fmt.Errorf("subtask %d wrote %q, want %q", s, got, input[s])
		}
	}
	return nil
}
