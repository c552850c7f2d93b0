package task

import (
	"fmt"
	"time"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
)

// SliceSource emits its subtask's share of a slice: elements [s*n/p, (s+1)*n/p).
type SliceSource[T any] struct {
	ctx  *OperatorContext
	data []T
	pos  int
	out  Output[T]
}

// NewSliceSource returns the source of one subtask over data.
func NewSliceSource[T any](ctx *OperatorContext, data []T, out Output[T]) (*SliceSource[T], error) {
	n := len(data)
	lo, hi := ctx.Subtask*n/ctx.Parallelism, (ctx.Subtask+1)*n/ctx.Parallelism
	s := &SliceSource[T]{ctx: ctx, data: data[lo:hi:hi], out: out}
	if r := ctx.Restored; r != nil {
		if err := sameParallelism(ctx, r); err != nil {
			return nil, err
		}
		ps, err := state.RestoreList[int64](r, generatorState, state.ListKind)
		if err != nil {
			return nil, err
		}
		if len(ps) != 1 || ps[0] < 0 || ps[0] > int64(len(s.data)) {
			return nil, fmt.Errorf("%w: %s subtask %d: bad restored position %v", state.ErrCorruptState, ctx.OperatorName, ctx.Subtask, ps)
		}
		s.pos = int(ps[0])
	}
	return s, nil
}

// sameParallelism refuses to restore a source whose positions are per
// subtask at another parallelism.
func sameParallelism(ctx *OperatorContext, r *state.Restored) error {
	if r.OldParallelism != r.Parallelism {
		return fmt.Errorf("%s was checkpointed at parallelism %d and cannot be restored at %d: keep the source's parallelism (SetParallelism) when rescaling", ctx.OperatorName, r.OldParallelism, r.Parallelism)
	}
	return nil
}

// SnapshotState records how many elements the subtask emitted.
func (s *SliceSource[T]) SnapshotState(int64) ([]state.Part, error) {
	p, err := state.SnapshotList(generatorState, state.ListKind, []int64{int64(s.pos)})
	if err != nil {
		return nil, err
	}
	return []state.Part{p}, nil
}

func (s *SliceSource[T]) PollNext() (st InputStatus, err error) {
	if s.pos >= len(s.data) {
		return EndOfInput, nil
	}
	defer s.ctx.Recover(&err)
	end := min(s.pos+s.ctx.BatchSize, len(s.data))
	batch := s.data[s.pos:end:end]
	s.pos = end
	s.ctx.Metrics.RecordsOut.Add(int64(len(batch)))
	if err := s.out.Push(batch, nil); err != nil {
		return EndOfInput, s.ctx.Fail(err)
	}
	return MoreAvailable, nil
}

// Finish emits the final watermark: a bounded input fires every event-time timer.
func (s *SliceSource[T]) Finish() error {
	return s.out.Emit(network.WatermarkEvent(network.MaxWatermark))
}
func (s *SliceSource[T]) Close() error { return nil }

// GeneratorSource emits fn(i) for its subtask's indices i = s, s+p, s+2p, … below
// count (count < 0: forever), at most ratePerSecond records per second over all
// subtasks when ratePerSecond > 0. Its position is the number of records it
// emitted, so it can resume exactly there.
type GeneratorSource[T any] struct {
	ctx     *OperatorContext
	fn      func(int64) T
	count   int64
	next    int64 // next index to emit
	stride  int64
	rate    float64 // records per second for this subtask
	started time.Time
	emitted int64
	// emittedBefore is emitted as restored: what earlier executions sent.
	emittedBefore int64
	out           Output[T]
	buf           []T
	maxSleep      time.Duration
}

// NewGeneratorSource returns the source of one subtask.
func NewGeneratorSource[T any](ctx *OperatorContext, count int64, ratePerSecond float64, fn func(int64) T, out Output[T]) (*GeneratorSource[T], error) {
	g := &GeneratorSource[T]{ctx: ctx, fn: fn, count: count, next: int64(ctx.Subtask), stride: int64(ctx.Parallelism),
		out: out, buf: make([]T, 0, ctx.BatchSize), maxSleep: 50 * time.Millisecond}
	if ratePerSecond > 0 {
		g.rate = ratePerSecond / float64(ctx.Parallelism)
	}
	if ctx.Restored != nil {
		if err := g.restore(ctx.Restored); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *GeneratorSource[T]) PollNext() (st InputStatus, err error) {
	if g.count >= 0 && g.next >= g.count {
		return EndOfInput, nil
	}
	n := int64(g.ctx.BatchSize)
	if g.rate > 0 {
		now := time.Now()
		if g.started.IsZero() {
			g.started = now
		}
		sent := g.emitted - g.emittedBefore // the rate counts from this execution's start
		allowed := int64(now.Sub(g.started).Seconds()*g.rate) + 1 - sent
		if allowed <= 0 {
			due := g.started.Add(time.Duration(float64(sent) / g.rate * float64(time.Second)))
			time.Sleep(min(max(due.Sub(now), time.Millisecond), g.maxSleep))
			return NothingAvailable, nil
		}
		n = min(n, allowed)
	}
	defer g.ctx.Recover(&err)
	buf := g.buf[:0]
	for i := int64(0); i < n && (g.count < 0 || g.next < g.count); i++ {
		buf = append(buf, g.fn(g.next))
		g.next += g.stride
	}
	g.buf = buf
	g.emitted += int64(len(buf))
	g.ctx.Metrics.RecordsOut.Add(int64(len(buf)))
	if err := g.out.Push(buf, nil); err != nil {
		return EndOfInput, g.ctx.Fail(err)
	}
	if g.rate > 0 {
		return NothingAvailable, nil // let the task flush: a rated source is latency-bound
	}
	return MoreAvailable, nil
}

// Emitted is the number of records this subtask has emitted: its position.
func (g *GeneratorSource[T]) Emitted() int64 { return g.emitted }

// GeneratorPosition is a generator subtask's checkpointed position.
type GeneratorPosition struct {
	Subtask, Parallelism int
	Next                 int64 // next index to emit
	Emitted              int64
}

// generatorState names a generator's position in snapshots.
const generatorState = "_position"

// SnapshotState records the position, so a restore resumes at the next index.
func (g *GeneratorSource[T]) SnapshotState(int64) ([]state.Part, error) {
	p, err := state.SnapshotList(generatorState, state.ListKind, []GeneratorPosition{g.Position()})
	if err != nil {
		return nil, err
	}
	return []state.Part{p}, nil
}

// Position is where the generator subtask stands.
func (g *GeneratorSource[T]) Position() GeneratorPosition {
	return GeneratorPosition{Subtask: g.ctx.Subtask, Parallelism: g.ctx.Parallelism, Next: g.next, Emitted: g.emitted}
}

// restore resumes at the restored position. Subtask i emits indices i, i+p,
// i+2p, …, so the positions cannot be dealt to another parallelism.
func (g *GeneratorSource[T]) restore(r *state.Restored) error {
	if err := sameParallelism(g.ctx, r); err != nil {
		return err
	}
	ps, err := state.RestoreList[GeneratorPosition](r, generatorState, state.ListKind)
	if err != nil {
		return err
	}
	if len(ps) != 1 || ps[0].Subtask != g.ctx.Subtask {
		return fmt.Errorf("%w: %s subtask %d: expected its own position, found %v", state.ErrCorruptState, g.ctx.OperatorName, g.ctx.Subtask, ps)
	}
	g.next, g.emitted, g.emittedBefore = ps[0].Next, ps[0].Emitted, ps[0].Emitted
	return nil
}

// Finish emits the final watermark: the end of a bounded generator's input,
// or a stop-with-savepoint that drains.
func (g *GeneratorSource[T]) Finish() error {
	return g.out.Emit(network.WatermarkEvent(network.MaxWatermark))
}
func (g *GeneratorSource[T]) Close() error { return nil }
