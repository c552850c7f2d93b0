package sdk

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/hdfs"
	"github.com/spate-io/spate/sdk/connectors/filesystem"
	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
	"github.com/spate-io/spate/worker/task"
)

// FromSlice emits the elements of data. It runs with parallelism 1, so records
// keep their order; SetParallelism(n) splits the slice into n contiguous parts.
// The slice must not change while the job runs.
func FromSlice[T any](env *Env, data []T) Stream[T] {
	f := task.NewSourceFactory(task.SourceSpec[T]{Bounded: true,
		Create: func(ctx *task.OperatorContext, out task.Output[T]) (task.Source, error) {
			return task.NewSliceSource(ctx, data, out)
		}})
	s := addSource[T](env, "Source: slice", true, f)
	return s.SetParallelism(1)
}

// Generate emits fn(i) for i = 0 … count-1, split over the parallel subtasks
// (subtask s emits s, s+p, s+2p, …). count < 0 never ends.
func Generate[T any](env *Env, count int64, fn func(i int64) T) Stream[T] {
	if fn == nil {
		env.checkFunc(true, "Generate", "the function")
		fn = func(int64) T { var zero T; return zero } // never runs: the job is invalid
	}
	return GenerateWithRate(env, count, 0, fn)
}

// GenerateWithRate is Generate limited to ratePerSecond records per second over
// all subtasks; 0 means unlimited.
func GenerateWithRate[T any](env *Env, count int64, ratePerSecond float64, fn func(i int64) T) Stream[T] {
	env.checkFunc(fn == nil, "GenerateWithRate", "the function")
	if ratePerSecond < 0 {
		env.fail("GenerateWithRate: rate %v must not be negative", ratePerSecond)
	}
	f := task.NewSourceFactory(task.SourceSpec[T]{Bounded: count >= 0,
		Create: func(ctx *task.OperatorContext, out task.Output[T]) (task.Source, error) {
			return task.NewGeneratorSource(ctx, count, ratePerSecond, fn, out)
		}})
	return addSource[T](env, "Source: generator", count >= 0, f)
}

// FromSequence emits the numbers from through to, inclusive.
func FromSequence(env *Env, from, to int64) Stream[int64] {
	if to < from {
		env.fail("FromSequence(%d, %d): to must not be below from", from, to)
	}
	return Generate(env, to-from+1, func(i int64) int64 { return from + i }).Name("Source: sequence")
}

// ReadTextFile emits the lines of a file, or of every file under a directory
// (names starting with "." or "_" are skipped), without their line endings. The
// bytes are split evenly over the parallel subtasks; each line is read by exactly
// one of them. path is a local path or a file:// URI. A line longer than
// source.text.max-line-bytes fails the job.
//
// path may name a pipe, a FIFO or a device, such as /dev/stdin under
// "cat words.txt | job --input /dev/stdin": it is read as one stream, in order,
// by subtask 0. A stream cannot be read twice, so a job that fails after it
// began to read one cannot recover: with checkpointing and restarts it fails
// for good (jobmaster.ErrSuppressRestarts) instead of silently losing lines.
func ReadTextFile(env *Env, path string) Stream[string] {
	in := &textInput{path: path}
	f := task.NewSourceFactory(task.SourceSpec[string]{Bounded: true,
		Prepare: func(parallelism int) error {
			return in.prepare(parallelism, conf.SourceTextMaxLineBytes.Get(env.cfg))
		},
		Create: in.create,
	})
	return addSource[string](env, "Source: text", true, f)
}

// textInput is what the subtasks of one text source share: the input's splits
// as planned once per job, and which streams an attempt of the job has begun
// to read. Attempts run in this process one after the other, so a stream that
// one opened is known to the next, whichever subtask reads it.
type textInput struct {
	path    string
	fsys    hdfs.FileSystem
	splits  [][]filesystem.Split // per subtask; nil until prepared
	maxLine int

	mu     sync.Mutex
	opened map[string]bool // paths of the stream splits some attempt opened
}

// prepare lists the input and cuts it into splits for parallelism subtasks.
func (in *textInput) prepare(parallelism, maxLine int) error {
	fsys, p, err := hdfs.Resolve(in.path)
	if err != nil {
		return err
	}
	files, err := filesystem.Enumerate(fsys, p)
	if err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.fsys, in.maxLine, in.opened = fsys, maxLine, map[string]bool{}
	in.splits = filesystem.AssignSplits(files, parallelism)
	return nil
}

// create builds the source of one subtask: its planned splits on a fresh
// start, the restored ones (dealt round-robin on rescale, each to one
// subtask) after a failure or from a savepoint.
func (in *textInput) create(ctx *task.OperatorContext, out task.Output[string]) (task.Source, error) {
	if in.splits == nil {
		return nil, fmt.Errorf("text source %q was not prepared", in.path)
	}
	src := &textSource{ctx: ctx, in: in, splits: in.splits[ctx.Subtask], out: out}
	if ctx.Restored != nil {
		rest, err := state.RestoreList[filesystem.Split](ctx.Restored, textSourceState, state.ListKind)
		if err != nil {
			return nil, err
		}
		src.splits = rest
	}
	for _, s := range src.splits {
		if err := in.checkRereadable(s); err != nil {
			return nil, SuppressRestarts(err)
		}
	}
	return src, nil
}

// checkRereadable refuses to read a stream split again: from the middle, as
// a restore of a checkpoint taken while it was read would, or from its start
// after an earlier attempt began to consume it (a restart, or the restore of a
// checkpoint taken before the stream was opened). Regular files can always be
// re-read.
func (in *textInput) checkRereadable(s filesystem.Split) error {
	if !s.Stream() {
		return nil
	}
	if s.Start > 0 {
		return fmt.Errorf("input %q is a pipe or device, not a regular file: it cannot be re-read from byte %d after a failure (%w); "+
			"read a regular file to recover, or run without checkpointing", s.Path, s.Start, filesystem.ErrStreamResume)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.opened[s.Path] {
		return fmt.Errorf("input %q is a pipe or device, not a regular file: it cannot be re-read after a failure, since the failed attempt consumed some of it (%w); "+
			"read a regular file to let the job recover from failures", s.Path, filesystem.ErrStreamResume)
	}
	return nil
}

// markOpened records that a stream split is being read.
func (in *textInput) markOpened(s filesystem.Split) {
	if !s.Stream() {
		return
	}
	in.mu.Lock()
	in.opened[s.Path] = true
	in.mu.Unlock()
}

// textSource reads the lines of its splits, one split after the other.
type textSource struct {
	ctx    *task.OperatorContext
	in     *textInput
	splits []filesystem.Split
	r      *filesystem.LineReader
	cur    filesystem.Split // the split r reads
	// stream is r while it reads a stream, for Interrupt on another goroutine.
	stream atomic.Pointer[filesystem.LineReader]
	buf    []string
	out    task.Output[string]
}

func (s *textSource) PollNext() (task.InputStatus, error) {
	for {
		if s.r == nil {
			if len(s.splits) == 0 {
				return task.EndOfInput, nil
			}
			s.in.markOpened(s.splits[0])
			r, err := filesystem.NewLineReader(s.in.fsys, s.splits[0], s.in.maxLine)
			if err != nil {
				return task.EndOfInput, err
			}
			s.r, s.cur, s.splits = r, s.splits[0], s.splits[1:]
			if s.cur.Stream() {
				s.stream.Store(r)
			}
		}
		lines, err := s.r.ReadBatch(s.buf[:0], s.ctx.BatchSize)
		s.buf = lines
		if errors.Is(err, filesystem.ErrLineTooLong) {
			return task.EndOfInput, SuppressRestarts(err) // the same line would fail every restart
		}
		if errors.Is(err, io.EOF) {
			if cerr := s.r.Close(); cerr != nil {
				return task.EndOfInput, cerr
			}
			s.r = nil
			s.stream.Store(nil)
			if len(lines) == 0 {
				continue
			}
		} else if err != nil {
			return task.EndOfInput, err
		}
		s.ctx.Metrics.RecordsOut.Add(int64(len(lines)))
		return task.MoreAvailable, s.out.Push(lines, nil)
	}
}

// textSourceState names the splits still to read in snapshots.
const textSourceState = "_splits"

// SnapshotState records the splits left, the current one from the next line's
// byte offset: a restore reads on from there. On rescale the splits are dealt
// to the new subtasks, each whole to one of them. A stream's split is recorded
// like a file's, but a restore refuses it unless nothing of it was read (see
// textInput.checkRereadable).
func (s *textSource) SnapshotState(int64) ([]state.Part, error) {
	var left []filesystem.Split
	if s.r != nil {
		left = append(left, filesystem.Split{Path: s.cur.Path, Start: s.r.Offset(), End: s.cur.End})
	}
	left = append(left, s.splits...)
	p, err := state.SnapshotList(textSourceState, state.ListKind, left)
	if err != nil {
		return nil, err
	}
	return []state.Part{p}, nil
}

var _ task.Interruptible = (*textSource)(nil)

// Interrupt unblocks a read of a pipe or device that sends nothing, when the
// job is cancelled (Ctrl-C with an idle stdin): a regular file's reads do not
// block for long.
func (s *textSource) Interrupt() {
	if r := s.stream.Load(); r != nil {
		r.Interrupt()
	}
}

// Finish emits the final watermark: the file has ended.
func (s *textSource) Finish() error { return s.out.Emit(network.WatermarkEvent(network.MaxWatermark)) }

func (s *textSource) Close() error {
	if s.r != nil {
		return s.r.Close()
	}
	return nil
}
