package task

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
)

// Event is a control event that travels in order with the records: a
// watermark, a watermark status, the end of a partition.
type Event = network.Event

// Output receives batches of records of type T and the events between them.
//
// Push must not keep or modify batch or ts after it returns: the caller reuses
// them. ts holds the records' timestamps (event time), or is nil when they have
// none.
type Output[T any] interface {
	Push(batch []T, ts []int64) error
	// Emit forwards an event (a watermark, a watermark status) downstream, after
	// every record pushed before it.
	Emit(e Event) error
}

// Operator is the lifecycle every operator shares. Operators are built by their
// Factory, already open.
type Operator interface {
	// Finish is called once, when all input has ended: the operator emits whatever
	// it still holds. It is not called when the job fails.
	Finish() error
	// Close releases resources. It is called once, after Finish or after a failure.
	Close() error
}

// OneInput is an operator that consumes one stream of T.
type OneInput[T any] interface {
	Operator
	Output[T]
}

// InputStatus is what a Source reports after PollNext.
type InputStatus int

const (
	// MoreAvailable: call PollNext again.
	MoreAvailable InputStatus = iota
	// NothingAvailable: nothing to emit right now; the task flushes its outputs and
	// calls again.
	NothingAvailable
	// EndOfInput: the source is exhausted; PollNext is not called again.
	EndOfInput
)

// Source is the head of a source task.
type Source interface {
	Operator
	// PollNext emits about one batch into the source's output.
	PollNext() (InputStatus, error)
}

// Interruptible is a Source whose PollNext may block in I/O for as long as
// its input wants (a pipe that sends nothing). When the task is cancelled,
// Interrupt is called from another goroutine; it must make a blocked
// PollNext return soon, with an error, which the cancellation then explains.
type Interruptible interface {
	Interrupt()
}

// OperatorMetrics counts one operator instance's records. Operators add
// once per batch (an atomic add: no lock, no allocation); worker/metrics
// reads them at scrape time.
type OperatorMetrics struct {
	RecordsIn  atomic.Int64
	RecordsOut atomic.Int64
}

// NoWatermark is TaskIO's input watermark before any arrived (Flink's
// Long.MIN_VALUE).
const NoWatermark = math.MinInt64

// TaskIO is what a task's loop measures of its inputs: the time it waited
// for input with nothing to do (Flink's idleTimeMsPerSecond, accumulated)
// and each input's current watermark, the minimum over its channels. Both
// change once per wait or per watermark, never per record.
type TaskIO struct {
	IdleNanos atomic.Int64
	// InputWatermarks holds one watermark per input gate (two at most, a
	// CoProcess's); NoWatermark until one arrives.
	InputWatermarks [2]atomic.Int64
	// Inputs is the number of input gates (0 for a source).
	Inputs int
}

// InputWatermark is the task's input watermark: the minimum over its
// inputs, NoWatermark for a source or before every input has one.
func (io *TaskIO) InputWatermark() int64 {
	if io.Inputs == 0 {
		return NoWatermark
	}
	wm := int64(math.MaxInt64)
	for i := 0; i < io.Inputs && i < len(io.InputWatermarks); i++ {
		wm = min(wm, io.InputWatermarks[i].Load())
	}
	return wm
}

// OperatorContext is what an operator instance knows about where it runs.
type OperatorContext struct {
	OperatorID     string
	OperatorName   string
	TaskName       string
	Subtask        int // 0-based
	Parallelism    int
	MaxParallelism int
	// KeyGroups is the range of key groups this subtask owns.
	KeyGroups state.KeyGroupRange
	// BatchSize is the number of records an operator collects before it pushes.
	BatchSize int
	// BatchMode is true under batch execution: keyed aggregations emit one final
	// result per key at the end of input instead of every update.
	BatchMode bool
	Log       zerolog.Logger
	Metrics   *OperatorMetrics
	// Timers schedules processing-time callbacks on the task's goroutine.
	Timers ProcessingTimeService
	// WatermarkInterval is how often watermark generators emit.
	WatermarkInterval time.Duration
	// SideOutputs holds, per side-output tag with a consumer, its Output[X].
	SideOutputs map[string]any
	// Checkpointing is true when the job takes checkpoints: sinks then write
	// transactionally.
	Checkpointing bool
	// Restored is the operator's state to start from after a failure or from a
	// savepoint; nil for a fresh start.
	Restored *state.Restored
	// Attempt counts the job's restarts: 0 for the first execution.
	Attempt int
	// Lineage names the chain of runs the job continues: its id on a fresh
	// start, the restored checkpoint's lineage after a restore.
	Lineage string
	sides   []sideFlusher
}

type sideFlusher interface{ flush() error }

// FlushSideOutputs pushes what side outputs buffered; operators call it at the
// end of a batch and before they forward an event.
func (c *OperatorContext) FlushSideOutputs() error {
	for _, s := range c.sides {
		if err := s.flush(); err != nil {
			return err
		}
	}
	return nil
}

// SideOutput buffers the records an operator emits to one side output.
type SideOutput[X any] struct {
	out Output[X] // nil: nobody consumes the tag; records are dropped
	buf []X
	ts  []int64
	n   int // batch size
}

// NewSideOutput returns the side output tag of the operator with context ctx.
func NewSideOutput[X any](ctx *OperatorContext, tag string) (*SideOutput[X], error) {
	s := &SideOutput[X]{n: ctx.BatchSize}
	if o, ok := ctx.SideOutputs[tag]; ok {
		out, ok := o.(Output[X])
		if !ok {
			return nil, fmt.Errorf("side output %q is consumed as %T, not as the declared type", tag, o)
		}
		s.out = out
		ctx.sides = append(ctx.sides, s)
	}
	return s, nil
}

// Collect emits v with timestamp ts (network.NoTimestamp for none).
func (s *SideOutput[X]) Collect(v X, ts int64) error {
	if s.out == nil {
		return nil
	}
	s.buf = append(s.buf, v)
	s.ts = append(s.ts, ts)
	if len(s.buf) >= s.n {
		return s.flush()
	}
	return nil
}

func (s *SideOutput[X]) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	err := s.out.Push(s.buf, s.ts)
	s.buf, s.ts = s.buf[:0], s.ts[:0]
	return err
}

// ProcessingTimeService runs callbacks at a processing time, on the task's own
// goroutine between batches, so they need no locking.
type ProcessingTimeService interface {
	// Now is the current processing time in milliseconds since the epoch.
	Now() int64
	// RegisterTimer calls fn once, at or soon after time at (milliseconds).
	RegisterTimer(at int64, fn func(now int64) error)
}

// OperatorError is how a failing operator reports: which operator, which
// subtask, and why.
type OperatorError struct {
	OperatorID  string
	Operator    string
	Subtask     int
	Parallelism int
	Err         error
}

func (e *OperatorError) Error() string {
	return fmt.Sprintf("operator %q (subtask %d of %d) failed: %v", e.Operator, e.Subtask+1, e.Parallelism, e.Err)
}

func (e *OperatorError) Unwrap() error { return e.Err }

// PanicError is the cause of an OperatorError raised by a panic in user code.
type PanicError struct {
	Value any
	Stack []byte
	// Location is the innermost frame outside the Go runtime and Spate's own
	// packages, "dir/file.go:line": most often the user function that panicked.
	Location string
}

func (e *PanicError) Error() string {
	if e.Location == "" {
		return fmt.Sprintf("panic: %v", e.Value)
	}
	return fmt.Sprintf("panic: %v (at %s)", e.Value, e.Location)
}

// newPanicError captures the stack of a recovered panic.
func newPanicError(v any) *PanicError {
	stack := debug.Stack()
	return &PanicError{Value: v, Stack: stack, Location: userFrame(stack)}
}

// spateRuntime are the packages whose frames stand between a panic and the user
// function that caused it.
var spateRuntime = []string{
	"github.com/spate-io/spate/worker/task.",
	"github.com/spate-io/spate/worker/network.",
	"github.com/spate-io/spate/master/jobmaster.",
	"github.com/spate-io/spate/sdk.",
}

func isSpateFrame(fn string) bool {
	for _, p := range spateRuntime {
		if strings.HasPrefix(fn, p) {
			return true
		}
	}
	return false
}

// userFrame finds the first frame of stack that belongs to neither the Go runtime
// nor Spate's runtime and sdk packages.
func userFrame(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i := 1; i+1 < len(lines); i++ {
		fn := lines[i]
		if strings.HasPrefix(fn, "\t") || strings.HasPrefix(fn, "goroutine ") {
			continue
		}
		if strings.HasPrefix(fn, "runtime") || strings.HasPrefix(fn, "panic(") || isSpateFrame(fn) {
			continue
		}
		loc := strings.TrimSpace(lines[i+1])
		if j := strings.LastIndex(loc, " +0x"); j >= 0 {
			loc = loc[:j]
		}
		if parts := strings.Split(loc, "/"); len(parts) > 2 {
			loc = strings.Join(parts[len(parts)-2:], "/")
		}
		return loc
	}
	return ""
}

// Fail attributes err to this operator, unless an operator further down the chain
// already claimed it.
func (c *OperatorContext) Fail(err error) error {
	if err == nil {
		return nil
	}
	var oe *OperatorError
	if errors.As(err, &oe) {
		return err
	}
	return &OperatorError{OperatorID: c.OperatorID, Operator: c.OperatorName, Subtask: c.Subtask, Parallelism: c.Parallelism, Err: err}
}

// Recover turns a panic in the calling operator into an OperatorError in *errp.
// Use as: defer ctx.Recover(&err).
func (c *OperatorContext) Recover(errp *error) {
	if r := recover(); r != nil {
		*errp = c.Fail(newPanicError(r))
	}
}

// Factory builds the instances of one graph node. It is what graph.Node.Factory
// holds.
type Factory interface {
	// OutputType describes the records the operator emits; nil for a sink.
	OutputType() StreamType
	// Create builds the instance for one subtask. out is an Output[OUT] of the
	// OutputType (nil for a sink). inputs holds, per input side, the Output[IN] that
	// upstream pushes into; a source returns none and implements Source.
	Create(ctx *OperatorContext, out any) (op Operator, inputs []any, err error)
}

// Preparer is implemented by factories that must check or plan something once
// per job before any task starts, such as a file source listing its input.
type Preparer interface {
	Prepare(parallelism int) error
}

// Bounded is implemented by source factories that know whether their input ends.
type Bounded interface {
	Bounded() bool
}

type oneInputFactory[IN, OUT any] struct {
	create func(ctx *OperatorContext, out Output[OUT]) (OneInput[IN], error)
}

// NewOneInputFactory returns the Factory of a one-input operator from IN to OUT.
func NewOneInputFactory[IN, OUT any](create func(ctx *OperatorContext, out Output[OUT]) (OneInput[IN], error)) Factory {
	return &oneInputFactory[IN, OUT]{create: create}
}

func (f *oneInputFactory[IN, OUT]) OutputType() StreamType { return TypeOf[OUT]() }

func (f *oneInputFactory[IN, OUT]) Create(ctx *OperatorContext, out any) (Operator, []any, error) {
	op, err := f.create(ctx, out.(Output[OUT]))
	if err != nil {
		return nil, nil, err
	}
	return op, []any{Output[IN](op)}, nil
}

type sinkFactory[IN any] struct {
	create func(ctx *OperatorContext) (OneInput[IN], error)
}

// NewSinkFactory returns the Factory of a sink consuming IN.
func NewSinkFactory[IN any](create func(ctx *OperatorContext) (OneInput[IN], error)) Factory {
	return &sinkFactory[IN]{create: create}
}

func (f *sinkFactory[IN]) OutputType() StreamType { return nil }

func (f *sinkFactory[IN]) Create(ctx *OperatorContext, _ any) (Operator, []any, error) {
	op, err := f.create(ctx)
	if err != nil {
		return nil, nil, err
	}
	return op, []any{Output[IN](op)}, nil
}

// SourceSpec describes a source to NewSourceFactory.
type SourceSpec[OUT any] struct {
	Create  func(ctx *OperatorContext, out Output[OUT]) (Source, error)
	Prepare func(parallelism int) error // optional
	Bounded bool
}

type sourceFactory[OUT any] struct{ spec SourceSpec[OUT] }

// NewSourceFactory returns the Factory of a source emitting OUT.
func NewSourceFactory[OUT any](spec SourceSpec[OUT]) Factory { return &sourceFactory[OUT]{spec: spec} }

func (f *sourceFactory[OUT]) OutputType() StreamType { return TypeOf[OUT]() }
func (f *sourceFactory[OUT]) Bounded() bool          { return f.spec.Bounded }

func (f *sourceFactory[OUT]) Prepare(parallelism int) error {
	if f.spec.Prepare == nil {
		return nil
	}
	return f.spec.Prepare(parallelism)
}

func (f *sourceFactory[OUT]) Create(ctx *OperatorContext, out any) (Operator, []any, error) {
	src, err := f.spec.Create(ctx, out.(Output[OUT]))
	if err != nil {
		return nil, nil, err
	}
	return src, nil, nil
}
