package sdk

import (
	"errors"
	"fmt"
	"io"

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
	return GenerateWithRate(env, count, 0, fn)
}

// GenerateWithRate is Generate limited to ratePerSecond records per second over
// all subtasks; 0 means unlimited.
func GenerateWithRate[T any](env *Env, count int64, ratePerSecond float64, fn func(i int64) T) Stream[T] {
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
// one of them. path is a local path or a file:// URI.
func ReadTextFile(env *Env, path string) Stream[string] {
	var splits [][]filesystem.Split
	var fsys hdfs.FileSystem
	f := task.NewSourceFactory(task.SourceSpec[string]{Bounded: true,
		Prepare: func(parallelism int) error {
			var p string
			var err error
			if fsys, p, err = hdfs.Resolve(path); err != nil {
				return err
			}
			files, err := filesystem.Enumerate(fsys, p)
			if err != nil {
				return err
			}
			splits = filesystem.AssignSplits(files, parallelism)
			return nil
		},
		Create: func(ctx *task.OperatorContext, out task.Output[string]) (task.Source, error) {
			if splits == nil {
				return nil, fmt.Errorf("text source %q was not prepared", path)
			}
			src := &textSource{ctx: ctx, fsys: fsys, splits: splits[ctx.Subtask], out: out}
			if ctx.Restored != nil {
				rest, err := state.RestoreList[filesystem.Split](ctx.Restored, textSourceState, state.ListKind)
				if err != nil {
					return nil, err
				}
				src.splits = rest
			}
			return src, nil
		}})
	return addSource[string](env, "Source: text", true, f)
}

// textSource reads the lines of its splits, one split after the other.
type textSource struct {
	ctx    *task.OperatorContext
	fsys   hdfs.FileSystem
	splits []filesystem.Split
	r      *filesystem.LineReader
	cur    filesystem.Split // the split r reads
	buf    []string
	out    task.Output[string]
}

func (s *textSource) PollNext() (task.InputStatus, error) {
	for {
		if s.r == nil {
			if len(s.splits) == 0 {
				return task.EndOfInput, nil
			}
			r, err := filesystem.NewLineReader(s.fsys, s.splits[0], 0)
			if err != nil {
				return task.EndOfInput, err
			}
			s.r, s.cur, s.splits = r, s.splits[0], s.splits[1:]
		}
		lines, err := s.r.ReadBatch(s.buf[:0], s.ctx.BatchSize)
		s.buf = lines
		if errors.Is(err, io.EOF) {
			if cerr := s.r.Close(); cerr != nil {
				return task.EndOfInput, cerr
			}
			s.r = nil
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
// to the new subtasks.
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

// Finish emits the final watermark: the file has ended.
func (s *textSource) Finish() error { return s.out.Emit(network.WatermarkEvent(network.MaxWatermark)) }

func (s *textSource) Close() error {
	if s.r != nil {
		return s.r.Close()
	}
	return nil
}
