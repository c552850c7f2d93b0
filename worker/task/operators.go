package task

import (
	"fmt"

	"github.com/spate-io/spate/state"
	"github.com/spate-io/spate/worker/network"
)

// Collector gathers the records a FlatMap, Process or window function emits.
// It is a concrete type so Collect is a direct, inlinable append.
//
// The Collector of an operator is bounded: once it holds a batch
// (execution.batch-size records) it hands them to the operator's output at
// once, in the middle of the user's call, so a call may emit any number of
// records in the memory of one batch. The records reach the output in the
// order they were collected, each with its timestamp. A flush that fails is
// reported by the operator when the user's call returns; the records collected
// after it are dropped, as the operator then fails. A Collector of the zero
// value, as a test makes to call a function directly, keeps every record (see
// Records).
//
// Timestamps are written lazily: the records Collect appends during one call
// all carry the same timestamp, stamp, so ts is filled up to len(buf) only
// when the stamp changes or the buffer is pushed, and Collect itself stays one
// comparison and an append, with or without timestamps.
type Collector[T any] struct {
	buf []T
	// ts, when stamped, holds the timestamps of buf[:len(ts)]; the records
	// after them carry stamp. When not stamped, no record has a timestamp and
	// ts is empty.
	ts      []int64
	stamped bool
	stamp   int64 // timestamp of the records collected since ts was filled
	cur     int64 // timestamp of the input record being processed
	hasTS   bool  // whether the input record (or firing timer) has a timestamp
	// limit is the number of records at which Collect flushes: the batch
	// size; 0 for an unbounded Collector.
	limit int
	// fastBelow is the buffer length below which Collect is a plain append:
	// limit-1; 0 (never) for an unbounded Collector. The one comparison comes
	// before the append, so that the new length is not read back after it is
	// stored.
	fastBelow int
	// flush pushes buf and timestamps() downstream and resets c (the operator's).
	flush func() error
	err   error // the first error of a flush during the current call
}

// bind makes c flush through flush whenever it holds limit records (at least 1).
func (c *Collector[T]) bind(limit int, flush func() error) {
	c.limit, c.flush = max(limit, 1), flush
	c.fastBelow = c.limit - 1
}

// setInput says whether the records about to be collected carry a timestamp,
// and which: the input record's, or a firing timer's.
func (c *Collector[T]) setInput(hasTS bool, cur int64) {
	c.fill()
	if hasTS && !c.stamped {
		c.startStamping()
	}
	c.hasTS = hasTS
	c.setCurrent(cur)
}

// setCurrent sets the timestamp of the next input record (after setInput).
func (c *Collector[T]) setCurrent(cur int64) {
	if c.stamped {
		c.fill()
	}
	c.cur, c.stamp = cur, network.NoTimestamp
	if c.hasTS {
		c.stamp = cur
	}
}

// startStamping gives the records collected so far, which carry no timestamp,
// NoTimestamp: from now on ts runs parallel to buf.
func (c *Collector[T]) startStamping() {
	for len(c.ts) < len(c.buf) {
		c.ts = append(c.ts, network.NoTimestamp)
	}
	c.stamped = true
}

// fill gives the records collected since the last fill their timestamp.
func (c *Collector[T]) fill() {
	if !c.stamped {
		return
	}
	ts, stamp, n := c.ts, c.stamp, len(c.buf)
	for len(ts) < n {
		ts = append(ts, stamp)
	}
	c.ts = ts
}

// Collect emits v with the timestamp of the input record, if it has one.
func (c *Collector[T]) Collect(v T) {
	if len(c.buf) < c.fastBelow {
		c.buf = append(c.buf, v)
		return
	}
	c.collectSlow(v)
}

// collectSlow is the Collect that fills the buffer, and so flushes it, or
// that of an unbounded Collector. It is kept out of line so that Collect,
// small, is inlined.
//
//go:noinline
func (c *Collector[T]) collectSlow(v T) {
	c.buf = append(c.buf, v)
	if len(c.buf) == c.limit {
		c.flushFull()
	}
}

// CollectWithTimestamp emits v with timestamp ts. ts must not be
// math.MinInt64, which means "no timestamp": the operator then fails with
// ErrReservedTimestamp when the call returns, and v is dropped.
func (c *Collector[T]) CollectWithTimestamp(v T, ts int64) {
	if ts == network.NoTimestamp {
		if c.err == nil {
			c.err = fmt.Errorf("CollectWithTimestamp: %w", ErrReservedTimestamp)
		}
		return
	}
	if c.stamped {
		c.fill()
	} else {
		c.startStamping()
	}
	c.buf = append(c.buf, v)
	c.ts = append(c.ts, ts)
	if len(c.buf) == c.limit {
		c.flushFull()
	}
}

// flushFull hands a full buffer downstream during a user call. After a failed
// flush it only empties the buffer: the operator fails with c.err once the
// call returns.
func (c *Collector[T]) flushFull() {
	if c.err == nil {
		c.err = c.flush()
	}
	c.reset()
}

// failed returns, and forgets, the error of a flush during the last user call.
// Operators check it after every call.
func (c *Collector[T]) failed() error {
	if c.err == nil {
		return nil
	}
	err := c.err
	c.err = nil
	return err
}

// Timestamp is the timestamp of the input record being processed, and whether it has one.
func (c *Collector[T]) Timestamp() (int64, bool) {
	return c.cur, c.hasTS && c.cur != network.NoTimestamp
}

// reset empties the buffer. A bound Collector never holds more than its limit,
// but should its buffer have grown far beyond (appends by some future path),
// the memory is released rather than kept for the operator's lifetime.
func (c *Collector[T]) reset() {
	if c.limit > 0 && cap(c.buf) > 2*c.limit {
		c.buf, c.ts = nil, nil
	}
	c.buf, c.ts = c.buf[:0], c.ts[:0]
	c.stamped = c.hasTS
}

// timestamps returns the records' timestamps, parallel to buf, or nil when
// none has one.
func (c *Collector[T]) timestamps() []int64 {
	if !c.stamped || len(c.buf) == 0 {
		return nil
	}
	c.fill()
	return c.ts
}

// Records returns what was collected and not yet handed downstream; it lets a
// test call a FlatMap or Process function directly, with a Collector of the
// zero value, which keeps every record.
func (c *Collector[T]) Records() []T { return c.buf }

// base holds what every one-input operator shares.
type base struct {
	ctx *OperatorContext
}

func (b *base) Finish() error { return nil }
func (b *base) Close() error  { return nil }

// Map applies fn to every record.
type Map[T, U any] struct {
	base
	fn  func(T) U
	out Output[U]
	buf []U
}

// NewMap returns a Map operator.
func NewMap[T, U any](ctx *OperatorContext, fn func(T) U, out Output[U]) *Map[T, U] {
	return &Map[T, U]{base: base{ctx}, fn: fn, out: out, buf: make([]U, 0, ctx.BatchSize)}
}

func (o *Map[T, U]) Push(batch []T, ts []int64) (err error) {
	defer o.ctx.Recover(&err)
	buf := o.buf[:0]
	for _, v := range batch {
		buf = append(buf, o.fn(v))
	}
	o.buf = buf
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	o.ctx.Metrics.RecordsOut.Add(int64(len(buf)))
	return o.ctx.Fail(o.out.Push(buf, ts)) // one record out per record in: same timestamps
}

func (o *Map[T, U]) Emit(e Event) error { return o.out.Emit(e) }

// Filter keeps the records for which fn is true.
type Filter[T any] struct {
	base
	fn  func(T) bool
	out Output[T]
	buf []T
	ts  []int64
}

// NewFilter returns a Filter operator.
func NewFilter[T any](ctx *OperatorContext, fn func(T) bool, out Output[T]) *Filter[T] {
	return &Filter[T]{base: base{ctx}, fn: fn, out: out, buf: make([]T, 0, ctx.BatchSize)}
}

func (o *Filter[T]) Push(batch []T, ts []int64) (err error) {
	defer o.ctx.Recover(&err)
	buf := o.buf[:0]
	var outTS []int64
	if ts == nil {
		for _, v := range batch {
			if o.fn(v) {
				buf = append(buf, v)
			}
		}
	} else {
		outTS = o.ts[:0]
		for i, v := range batch {
			if o.fn(v) {
				buf = append(buf, v)
				outTS = append(outTS, ts[i])
			}
		}
		o.ts = outTS
	}
	o.buf = buf
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	o.ctx.Metrics.RecordsOut.Add(int64(len(buf)))
	if len(buf) == 0 {
		return nil
	}
	return o.ctx.Fail(o.out.Push(buf, outTS))
}

func (o *Filter[T]) Emit(e Event) error { return o.out.Emit(e) }

// FlatMap calls fn for every record; fn emits zero or more records through the
// collector, which pushes them downstream a batch at a time, during the call
// when one call emits more than a batch.
type FlatMap[T, U any] struct {
	base
	fn  func(T, *Collector[U]) error
	out Output[U]
	col Collector[U]
}

// NewFlatMap returns a FlatMap operator. fn may also be a Process function
// adapted by the sdk: anything that emits through a Collector.
func NewFlatMap[T, U any](ctx *OperatorContext, fn func(T, *Collector[U]) error, out Output[U]) *FlatMap[T, U] {
	o := &FlatMap[T, U]{base: base{ctx}, fn: fn, out: out, col: Collector[U]{buf: make([]U, 0, ctx.BatchSize)}}
	o.col.bind(ctx.BatchSize, o.flush)
	return o
}

func (o *FlatMap[T, U]) Push(batch []T, ts []int64) (err error) {
	defer o.ctx.Recover(&err)
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	o.col.reset()
	o.col.setInput(ts != nil, network.NoTimestamp)
	for i, v := range batch {
		if ts != nil {
			o.col.setCurrent(ts[i])
		}
		if err := o.fn(v, &o.col); err != nil {
			return o.ctx.Fail(err)
		}
		if err := o.col.failed(); err != nil { // a full batch was flushed during the call
			return o.ctx.Fail(err)
		}
	}
	if err := o.flush(); err != nil {
		return err
	}
	return o.ctx.Fail(o.ctx.FlushSideOutputs())
}

func (o *FlatMap[T, U]) flush() error {
	if len(o.col.buf) == 0 {
		return nil
	}
	o.ctx.Metrics.RecordsOut.Add(int64(len(o.col.buf)))
	err := o.out.Push(o.col.buf, o.col.timestamps())
	o.col.reset()
	return o.ctx.Fail(err)
}

func (o *FlatMap[T, U]) Emit(e Event) error { return o.out.Emit(e) }

// KeyedRolling folds every record into its key's accumulator (keyed state) and
// emits result(key, acc): after every record in streaming mode (a rolling
// aggregate, as Flink's reduce on a KeyedStream), or once per key at the end of
// input in batch mode.
type KeyedRolling[K comparable, T, A, U any] struct {
	base
	key    func(T) K
	hash   func(K) uint64
	add    func(acc A, seen bool, v T) A
	result func(K, A) U
	out    Output[U]
	buf    []U
	accs   *state.KeyedMap[K, A]
}

// NewKeyedRolling returns a keyed rolling aggregation, restored if the
// context says so.
func NewKeyedRolling[K comparable, T, A, U any](ctx *OperatorContext, key func(T) K, hash func(K) uint64,
	add func(acc A, seen bool, v T) A, result func(K, A) U, out Output[U]) (*KeyedRolling[K, T, A, U], error) {
	o := &KeyedRolling[K, T, A, U]{base: base{ctx}, key: key, hash: hash, add: add, result: result, out: out,
		buf: make([]U, 0, ctx.BatchSize), accs: state.NewKeyedMap[K, A](ctx.KeyGroups)}
	if ctx.Restored != nil {
		if err := state.RestoreKeyedMap(ctx.Restored, rollingState, o.accs); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// rollingState names the accumulators of a rolling aggregation in snapshots.
const rollingState = "_accumulators"

// SnapshotState copies the accumulators.
func (o *KeyedRolling[K, T, A, U]) SnapshotState(int64) ([]state.Part, error) {
	p, err := state.SnapshotKeyedMap(rollingState, o.accs)
	if err != nil {
		return nil, err
	}
	return []state.Part{p}, nil
}

func (o *KeyedRolling[K, T, A, U]) Push(batch []T, ts []int64) (err error) {
	defer o.ctx.Recover(&err)
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	maxP := o.ctx.MaxParallelism
	buf := o.buf[:0]
	for _, v := range batch {
		k := o.key(v)
		kg := state.KeyGroupForHash(o.hash(k), maxP)
		if !o.accs.Range().Contains(kg) {
			return o.ctx.Fail(errKeyGroup(kg, o.accs.Range()))
		}
		acc, seen := o.accs.Get(kg, k)
		acc = o.add(acc, seen, v)
		o.accs.Put(kg, k, acc)
		if !o.ctx.BatchMode {
			buf = append(buf, o.result(k, acc))
		}
	}
	o.buf = buf
	if len(buf) == 0 {
		return nil
	}
	o.ctx.Metrics.RecordsOut.Add(int64(len(buf)))
	return o.ctx.Fail(o.out.Push(buf, ts)) // each update carries its record's timestamp
}

func (o *KeyedRolling[K, T, A, U]) Emit(e Event) error { return o.out.Emit(e) }

// Finish emits the final accumulators in batch mode.
func (o *KeyedRolling[K, T, A, U]) Finish() (err error) {
	if !o.ctx.BatchMode {
		return nil
	}
	defer o.ctx.Recover(&err)
	buf := o.buf[:0]
	o.accs.All(func(_ int, k K, acc A) bool {
		buf = append(buf, o.result(k, acc))
		if len(buf) >= o.ctx.BatchSize {
			o.ctx.Metrics.RecordsOut.Add(int64(len(buf)))
			err = o.ctx.Fail(o.out.Push(buf, nil))
			buf = buf[:0]
		}
		return err == nil
	})
	if err != nil || len(buf) == 0 {
		return err
	}
	o.ctx.Metrics.RecordsOut.Add(int64(len(buf)))
	return o.ctx.Fail(o.out.Push(buf, nil))
}

// SinkFunc is a sink that hands every batch to fn; finish and close are optional.
type SinkFunc[T any] struct {
	ctx    *OperatorContext
	fn     func([]T) error
	finish func() error
	close  func() error
	// Snapshot, if set, is the sink's part of a checkpoint (a pre-commit).
	Snapshot func(checkpointID int64) ([]state.Part, error)
	// Complete, if set, commits when a checkpoint completes.
	Complete func(checkpointID int64) error
	// CommitAtEnd, if set, commits when the whole job has finished.
	CommitAtEnd func() error
}

// SnapshotState implements Snapshotter.
func (s *SinkFunc[T]) SnapshotState(id int64) ([]state.Part, error) {
	if s.Snapshot == nil {
		return nil, nil
	}
	return s.Snapshot(id)
}

// NotifyCheckpointComplete implements CheckpointListener.
func (s *SinkFunc[T]) NotifyCheckpointComplete(id int64) error {
	if s.Complete == nil {
		return nil
	}
	return s.Complete(id)
}

// CommitAtJobEnd implements JobEndCommitter.
func (s *SinkFunc[T]) CommitAtJobEnd() error {
	if s.CommitAtEnd == nil {
		return nil
	}
	return s.CommitAtEnd()
}

// NewSinkFunc returns a sink operator around fn.
func NewSinkFunc[T any](ctx *OperatorContext, fn func([]T) error, finish, close func() error) *SinkFunc[T] {
	return &SinkFunc[T]{ctx: ctx, fn: fn, finish: finish, close: close}
}

// Emit ignores events: a plain sink has no use for watermarks.
func (s *SinkFunc[T]) Emit(Event) error { return nil }

func (s *SinkFunc[T]) Push(batch []T, _ []int64) (err error) {
	defer s.ctx.Recover(&err)
	s.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	return s.ctx.Fail(s.fn(batch))
}

func (s *SinkFunc[T]) Finish() (err error) {
	if s.finish == nil {
		return nil
	}
	defer s.ctx.Recover(&err)
	return s.ctx.Fail(s.finish())
}

func (s *SinkFunc[T]) Close() (err error) {
	if s.close == nil {
		return nil
	}
	defer s.ctx.Recover(&err)
	return s.ctx.Fail(s.close())
}
