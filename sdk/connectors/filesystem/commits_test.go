package filesystem

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spate-io/spate/hdfs"
)

// TestCommitMarker: each commit renames the subtask's one marker to name the
// newest checkpoint committed; a writer created later finds it again.
func TestCommitMarker(t *testing.T) {
	dir := t.TempDir()
	w, err := NewTxWriter(hdfs.Local{}, dir, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.RecordCommits("lin")
	for id := int64(1); id <= 3; id++ {
		if err := w.WriteString("x"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.PreCommit(id); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(2); err != nil { // 3 stays pending
		t.Fatal(err)
	}
	want := []string{".part-1-2.pending", ".part-1.committed-2-lin", "part-1-0", "part-1-1"}
	if got := names(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("after Commit(2): %v, want %v", got, want)
	}
	if err := w.Commit(2); err != nil { // nothing new: the marker stays
		t.Fatal(err)
	}
	if _, err := w.PreCommit(EndOfInput); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(EndOfInput); err != nil {
		t.Fatal(err)
	}
	want = []string{".part-1.committed-3-lin", "part-1-0", "part-1-1", "part-1-2"}
	if got := names(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("after Commit(end): %v, want %v", got, want)
	}
	// A new writer of the subtask (after a restore) renames the same marker.
	w2, err := NewTxWriter(hdfs.Local{}, dir, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	w2.RecordCommits("lin")
	if err := w2.WriteString("y"); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.PreCommit(EndOfInput); err != nil {
		t.Fatal(err)
	}
	if err := w2.Commit(EndOfInput); err != nil {
		t.Fatal(err)
	}
	want = []string{".part-1.committed-end-lin", "part-1-0", "part-1-1", "part-1-2", "part-1-3"}
	if got := names(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("second writer: %v, want %v", got, want)
	}
}

func TestParseMarker(t *testing.T) {
	for name, want := range map[string]commitMarker{
		".part-0.committed-7-abc":   {0, 7, "abc"},
		".part-12.committed-end-ab": {12, EndOfInput, "ab"},
	} {
		if got, ok := parseMarker(name); !ok || got != want || got.name() != name {
			t.Errorf("parseMarker(%q) = %+v, %v; want %+v", name, got, ok, want)
		}
	}
	for _, name := range []string{".part-0.committed-7", ".part-0.committed-07-a", ".part-x.committed-1-a", "part-0.committed-1-a", ".part-0-1.pending", ".part-0.committed--a"} {
		if got, ok := parseMarker(name); ok {
			t.Errorf("parseMarker(%q) = %+v, want not a marker", name, got)
		}
	}
}

func touch(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCheckRestore(t *testing.T) {
	// Checkpoint 5 had subtask 0 at index 2 and subtask 1 at index 1.
	states := []TxState{{Subtask: 0, NextIndex: 2}, {Subtask: 1, NextIndex: 1, Pending: []PendingFile{{CheckpointID: 5}}}}
	for _, tc := range []struct {
		name  string
		files []string
		want  string // "" for no refusal
	}{
		{"what the checkpoint covered", []string{"part-0-0", "part-0-1", "part-1-0", ".part-0.committed-5-lin", ".part-1.committed-4-lin", ".part-0-2.inprogress"}, ""},
		{"a later checkpoint's files", []string{"part-0-0", "part-0-1", "part-0-2", "part-0-3", "part-1-0", "part-1-1", ".part-0.committed-7-lin", ".part-1.committed-7-lin"},
			`output would be duplicated: output directory "D" holds part-0-2 and 2 more, committed by checkpoint 7, and the restore is from checkpoint 5; use a new output directory, or restore checkpoint 7`},
		{"files without markers", []string{"part-1-1"},
			`output would be duplicated: output directory "D" holds part-1-1, committed by a checkpoint after it, and the restore is from checkpoint 5; use a new output directory, or restore the newest checkpoint of the run that wrote them`},
		{"a finished run's output", []string{"part-0-2", ".part-0.committed-end-lin"},
			`output would be duplicated: output directory "D" holds part-0-2, committed by the run that finished the job, and the restore is from checkpoint 5; use a new output directory, or leave it: that run's output is complete`},
		{"a subtask the checkpoint does not know, committed later", []string{"part-2-0", ".part-2.committed-6-lin"},
			`output would be duplicated: output directory "D" holds part-2-0, committed by checkpoint 6, and the restore is from checkpoint 5; use a new output directory, or restore checkpoint 6`},
		{"a subtask the checkpoint does not know, committed before", []string{"part-2-0", ".part-2.committed-3-lin"}, ""},
		{"another run's output", []string{"part-0-0", ".part-0.committed-9-other"},
			`output would be duplicated: output directory "D" holds the output of another run (.part-0.committed-9-other: lineage other, checkpoint 9), while the restore continues lineage lin; use a new output directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			touch(t, dir, tc.files...)
			err := CheckRestore(hdfs.Local{}, dir, states, 5, "lin")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			want := replaceD(tc.want, dir)
			if !errors.Is(err, ErrOutputWouldDuplicate) || err.Error() != want {
				t.Fatalf("CheckRestore = %v\nwant %s", err, want)
			}
		})
	}
	if err := CheckRestore(hdfs.Local{}, filepath.Join(t.TempDir(), "missing"), states, 5, "lin"); err != nil {
		t.Fatalf("missing directory: %v", err)
	}
}

func replaceD(s, dir string) string {
	for i := 0; i+3 <= len(s); i++ {
		if s[i:i+3] == `"D"` {
			return s[:i] + `"` + dir + `"` + s[i+3:]
		}
	}
	return s
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	touch(t, dir, ".part-0-3.inprogress", ".part-1-0.inprogress", "notes.txt", ".part-0.committed-1-x")
	if err := RemoveStale(hdfs.Local{}, dir); err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, dir), []string{".part-0.committed-1-x", "notes.txt"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("left %v, want %v", got, want)
	}
	touch(t, dir, ".part-0-4.pending", ".part-0-5.inprogress")
	err := RemoveStale(hdfs.Local{}, dir)
	want := `output directory "` + dir + `" holds pending files of an earlier run (.part-0-4.pending): resume that run (spate run --resume latest) to commit what its last checkpoint covered, or, if none of its checkpoints completed, delete them to start over, or choose another directory`
	if !errors.Is(err, ErrPendingOutput) || err.Error() != want {
		t.Fatalf("RemoveStale = %v\nwant %s", err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, ".part-0-4.pending")); err != nil {
		t.Fatalf("the pending file is gone: %v", err)
	}
	if err := RemoveStale(hdfs.Local{}, filepath.Join(dir, "missing")); err != nil {
		t.Fatalf("missing directory: %v", err)
	}
}
