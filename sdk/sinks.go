package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strings"
	"sync"

	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/sdk/connectors/filesystem"
	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/task"
)

// preparedFactory adds a once-per-job check to a factory.
type preparedFactory struct {
	task.Factory
	prepare func(parallelism int) error
}

func (p preparedFactory) Prepare(parallelism int) error { return p.prepare(parallelism) }

func addSink[T any](s Stream[T], name string, f task.Factory) Sink {
	out := addOperator[T, struct{}](s, name, graph.KindSink, f)
	return newSink(s.env, out.refs[0].node)
}

// formatter returns how Print renders a T, chosen once: strings as they are,
// fmt.Stringers by String, everything else by fmt.Sprint.
func formatter[T any]() func(*bytes.Buffer, T) {
	var zero T
	switch any(zero).(type) {
	case string:
		return func(b *bytes.Buffer, v T) { b.WriteString(any(v).(string)) }
	case fmt.Stringer:
		return func(b *bytes.Buffer, v T) { b.WriteString(any(v).(fmt.Stringer).String()) }
	}
	return func(b *bytes.Buffer, v T) { fmt.Fprint(b, v) }
}

// stdoutLock keeps the lines of concurrent print sinks whole.
var stdoutLock sync.Mutex

// Print writes every record to stdout, one line each. Lines of different subtasks
// interleave, but each line is whole.
func Print[T any](s Stream[T]) Sink {
	w, format := s.env.stdout, formatter[T]()
	return addSink(s, "Sink: print", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[T], error) {
		var buf bytes.Buffer
		return task.NewSinkFunc(ctx, func(batch []T) error {
			buf.Reset()
			for _, v := range batch {
				format(&buf, v)
				buf.WriteByte('\n')
			}
			stdoutLock.Lock()
			defer stdoutLock.Unlock()
			_, err := w.Write(buf.Bytes())
			return err
		}, nil, nil), nil
	}))
}

// Collected holds what a Collect sink received; read it after Execute returns.
// Its Sink configures the collecting operator (name, parallelism, …).
//
// With checkpointing, Collect is exactly-once: records become visible when the
// checkpoint after them completes (or the job finishes), and those of a failed
// execution after its last completed checkpoint are dropped on recovery.
type Collected[T any] struct {
	Sink
	mu        sync.Mutex
	bySubtask [][]T
	pending   map[int][]collectBatch[T] // by subtask, with checkpointing
}

// collectBatch is what one subtask received before the barrier of checkpoint id.
type collectBatch[T any] struct {
	id    int64
	items []T
}

// collectState is a Collect subtask's checkpointed state: the checkpoint itself,
// whose batch is committed when a restore finds it.
type collectState struct {
	Subtask      int
	CheckpointID int64
}

// Items returns every record, subtask by subtask; within a subtask in arrival order.
func (c *Collected[T]) Items() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	var all []T
	for _, part := range c.bySubtask {
		all = append(all, part...)
	}
	return all
}

func (c *Collected[T]) grow(parallelism int) {
	if len(c.bySubtask) < parallelism {
		c.bySubtask = append(c.bySubtask, make([][]T, parallelism-len(c.bySubtask))...)
	}
}

// commit publishes subtask's pending batches up to checkpoint id.
func (c *Collected[T]) commit(subtask int, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keep := c.pending[subtask][:0]
	for _, b := range c.pending[subtask] {
		if b.id <= id {
			c.bySubtask[subtask] = append(c.bySubtask[subtask], b.items...)
		} else {
			keep = append(keep, b)
		}
	}
	c.pending[subtask] = keep
}

// Collect gathers every record in memory, for tests and small results.
func Collect[T any](s Stream[T]) *Collected[T] {
	c := &Collected[T]{pending: map[int][]collectBatch[T]{}}
	c.Sink = addSink(s, "Sink: collect", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[T], error) {
		c.mu.Lock()
		c.grow(ctx.Parallelism)
		c.mu.Unlock()
		var local []T
		push := func(batch []T) error {
			local = append(local, batch...)
			return nil
		}
		if !ctx.Checkpointing {
			return task.NewSinkFunc(ctx, push, func() error {
				c.mu.Lock()
				defer c.mu.Unlock()
				c.bySubtask[ctx.Subtask] = local
				return nil
			}, nil), nil
		}
		// Recovery: what the restored checkpoint covered is committed, the rest
		// of the failed execution's output is dropped.
		restored := int64(0)
		if r := ctx.Restored; r != nil {
			sts, err := state.RestoreList[collectState](r, collectStateName, state.UnionKind)
			if err != nil {
				return nil, err
			}
			for _, st := range sts {
				if st.Subtask == ctx.Subtask {
					restored = st.CheckpointID
				}
			}
		}
		c.commit(ctx.Subtask, restored)
		c.mu.Lock()
		c.pending[ctx.Subtask] = nil
		c.mu.Unlock()
		preCommit := func(id int64) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.pending[ctx.Subtask] = append(c.pending[ctx.Subtask], collectBatch[T]{id: id, items: local})
			local = nil
		}
		sink := task.NewSinkFunc(ctx, push, func() error { preCommit(math.MaxInt64); return nil }, nil)
		sink.Snapshot = func(id int64) ([]state.Part, error) {
			preCommit(id)
			p, err := state.SnapshotList(collectStateName, state.UnionKind, []collectState{{Subtask: ctx.Subtask, CheckpointID: id}})
			return []state.Part{p}, err
		}
		sink.Complete = func(id int64) error { c.commit(ctx.Subtask, id); return nil }
		sink.CommitAtEnd = func() error { c.commit(ctx.Subtask, math.MaxInt64); return nil }
		return sink, nil
	}))
	return c
}

const collectStateName = "_collected"

// WriteText writes every record as a line into part files under dir. dir is a
// local path or a file:// URI; it must not already hold part files, unless the
// job is restored from a savepoint or checkpoint. A record must not contain
// '\n', which would turn it into two lines: the job fails naming the record.
// (A '\r' at the end of a record is written, but ReadTextFile drops it.)
//
// Without checkpointing each subtask writes one file, "part-<subtask>-0",
// which appears by rename when the subtask has finished. With checkpointing
// the sink is exactly-once by two-phase commit: each checkpoint's barrier
// closes the subtask's current file as pending, the checkpoint's completion
// renames it to "part-<subtask>-<n>", and a recovery commits the restored
// checkpoint's pending files and deletes everything else of the failed
// execution. A reader never sees half a file or a file that may be rolled back.
//
// Around runs: a fresh start removes the in-progress files a killed run left
// and refuses pending ones (only a resume may commit them); a restore refuses
// an output directory holding files that a checkpoint after the restored one
// committed, since their records would be written twice (see
// filesystem.CheckRestore).
func WriteText(s Stream[string], dir string) Sink {
	var fsys hdfs.FileSystem
	var path string
	env := s.env
	f := task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[string], error) {
		if ctx.Checkpointing {
			return newTxTextSink(ctx, fsys, path)
		}
		w, err := filesystem.NewPartFileWriter(fsys, path, ctx.Subtask, 0)
		if err != nil {
			return nil, err
		}
		done := false
		return task.NewSinkFunc(ctx, writeLines(w), func() error {
			done = true
			return w.Commit()
		}, func() error {
			if done {
				return nil
			}
			return w.Abort()
		}), nil
	})
	prepare := func(int) error {
		var err error
		if fsys, path, err = hdfs.Resolve(dir); err != nil {
			return err
		}
		if env.restoring() || env.onTaskManager {
			// A restore's files are there rightly; and the JobManager
			// checks the directory, once.
			return nil
		}
		if err := checkOutputDir(fsys, path, dir); err != nil {
			return err
		}
		return filesystem.RemoveStale(fsys, path)
	}
	return addSink(s, "Sink: text", preparedFactory{Factory: f, prepare: prepare})
}

// txTextState names the text sink's pending files in snapshots.
const txTextState = "_pending-files"

// newTxTextSink is WriteText's exactly-once subtask.
func newTxTextSink(ctx *task.OperatorContext, fsys hdfs.FileSystem, dir string) (task.OneInput[string], error) {
	next := int64(0)
	// Each subtask cleans its own files; subtask 0 also those of subtasks that
	// a rescale removed.
	mine := func(s int) bool { return s == ctx.Subtask || (ctx.Subtask == 0 && s >= ctx.Parallelism) }
	if r := ctx.Restored; r != nil {
		sts, err := state.RestoreList[filesystem.TxState](r, txTextState, state.UnionKind)
		if err != nil {
			return nil, err
		}
		if err := filesystem.CheckRestore(fsys, dir, sts, r.CheckpointID, ctx.Lineage); err != nil {
			return nil, SuppressRestarts(err)
		}
		var pending []filesystem.PendingFile
		for _, st := range sts {
			pending = append(pending, st.Pending...)
			if st.Subtask == ctx.Subtask {
				next = st.NextIndex
			}
		}
		if err := filesystem.CommitPending(fsys, pending); err != nil {
			return nil, err
		}
		if err := filesystem.Cleanup(fsys, dir, pending, mine); err != nil {
			return nil, err
		}
	} else if ctx.Attempt > 0 {
		// Restarted before any checkpoint completed: nothing written so far counts.
		if err := filesystem.Cleanup(fsys, dir, nil, mine); err != nil {
			return nil, err
		}
	}
	w, err := filesystem.NewTxWriter(fsys, dir, ctx.Subtask, next)
	if err != nil {
		return nil, err
	}
	w.RecordCommits(ctx.Lineage)
	finished := false
	sink := task.NewSinkFunc(ctx, writeLines(w), func() error {
		finished = true
		_, err := w.PreCommit(filesystem.EndOfInput)
		return err
	}, func() error {
		if finished {
			return nil // CommitAtEnd still needs the writer
		}
		return w.Close()
	})
	sink.Snapshot = func(id int64) ([]state.Part, error) {
		st, err := w.PreCommit(id)
		if err != nil {
			return nil, err
		}
		p, err := state.SnapshotList(txTextState, state.UnionKind, []filesystem.TxState{st})
		return []state.Part{p}, err
	}
	sink.Complete = w.Commit
	sink.CommitAtEnd = func() error {
		if !finished {
			// Stopped with a savepoint before the end of its input: what the
			// savepoint covered was committed when it completed, and the rest
			// belongs to the run that resumes from it.
			return nil
		}
		return w.Commit(filesystem.EndOfInput)
	}
	return sink, nil
}

// writeLines is a text sink's batch function over a part-file writer.
func writeLines(w interface{ WriteString(string) error }) func([]string) error {
	return func(batch []string) error {
		for _, line := range batch {
			if strings.IndexByte(line, '\n') >= 0 {
				return SuppressRestarts(fmt.Errorf("record %.80q contains a newline, which would split it into two lines of the output; replace or escape newlines before WriteText", line))
			}
			if err := w.WriteString(line); err != nil {
				return err
			}
		}
		return nil
	}
}

func checkOutputDir(fsys hdfs.FileSystem, path, dir string) error {
	fi, err := fsys.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // the writers create it
	}
	if err != nil {
		return fmt.Errorf("cannot use output directory %q: %w", dir, err)
	}
	if !fi.IsDir {
		return fmt.Errorf("output %q is a file, not a directory; choose a directory", dir)
	}
	entries, err := fsys.ReadDir(path)
	if err != nil {
		return fmt.Errorf("cannot read output directory %q: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name, "part-") {
			return fmt.Errorf("output directory %q already holds part files (%s); remove them or choose another directory", dir, e.Name)
		}
	}
	return nil
}

// SinkFunc hands every batch to fn, from each subtask's goroutine. fn must not
// keep the batch after it returns.
func SinkFunc[T any](s Stream[T], fn func(batch []T) error) Sink {
	s.env.checkFunc(fn == nil, "SinkFunc", "the function")
	return addSink(s, "Sink: func", task.NewSinkFactory(func(ctx *task.OperatorContext) (task.OneInput[T], error) {
		return task.NewSinkFunc(ctx, fn, nil, nil), nil
	}))
}
