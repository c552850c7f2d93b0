package task

import (
	"errors"
	"fmt"
	"math"

	"github.com/spate-io/spate/worker/network"
)

// ErrReservedTimestamp is wrapped by the error that fails an operator when a
// user function stamps a record with network.NoTimestamp (math.MinInt64),
// which marks records without a timestamp: a TimestampAssigner returning it
// (TimestampsAndWatermarks), or Collector.CollectWithTimestamp given it. Such
// a record would silently lose its event time; the task fails instead.
var ErrReservedTimestamp = errors.New(`timestamp -9223372036854775808 (math.MinInt64) is reserved for "no timestamp"; event timestamps must be greater`)

// WatermarkSpec configures TimestampsAndWatermarks: Flink's WatermarkStrategy.
type WatermarkSpec[T any] struct {
	// Timestamp extracts a record's event time in milliseconds; prev is the
	// timestamp it already has (network.NoTimestamp when none). It must not
	// return network.NoTimestamp: the operator fails with ErrReservedTimestamp.
	// Nil keeps the timestamps records carry, and with Ingestion.
	Timestamp func(v T, prev int64) int64
	// OutOfOrderness is how late (ms) a record may be: the watermark is the highest
	// timestamp seen minus OutOfOrderness minus 1. 0 means monotonous timestamps.
	OutOfOrderness int64
	// Ingestion stamps records with the processing time at which they pass.
	Ingestion bool
	// Idleness (ms, 0 = never) marks the stream idle after that long without
	// records, so it does not hold back downstream watermarks.
	Idleness int64
}

// TimestampsAndWatermarks stamps records with event time and emits watermarks
// periodically (every OperatorContext.WatermarkInterval) on processing time.
// Watermarks from upstream are dropped, except the final one of an ended input.
type TimestampsAndWatermarks[T any] struct {
	base
	spec         WatermarkSpec[T]
	out          Output[T]
	ts           []int64
	maxTimestamp int64
	emitted      int64
	lastActive   int64
	idle         bool
}

// NewTimestampsAndWatermarks returns the operator and schedules its first
// periodic emission.
func NewTimestampsAndWatermarks[T any](ctx *OperatorContext, spec WatermarkSpec[T], out Output[T]) *TimestampsAndWatermarks[T] {
	o := &TimestampsAndWatermarks[T]{base: base{ctx}, spec: spec, out: out,
		maxTimestamp: math.MinInt64, emitted: math.MinInt64, lastActive: ctx.Timers.Now()}
	o.schedule(ctx.Timers.Now())
	return o
}

func (o *TimestampsAndWatermarks[T]) interval() int64 {
	return max(1, o.ctx.WatermarkInterval.Milliseconds())
}

func (o *TimestampsAndWatermarks[T]) schedule(now int64) {
	o.ctx.Timers.RegisterTimer(now+o.interval(), o.onPeriodic)
}

func (o *TimestampsAndWatermarks[T]) Push(batch []T, ts []int64) (err error) {
	defer o.ctx.Recover(&err)
	o.ctx.Metrics.RecordsIn.Add(int64(len(batch)))
	out := o.ts[:0]
	if o.spec.Ingestion {
		now := o.ctx.Timers.Now()
		for range batch {
			out = append(out, now)
		}
	} else if o.spec.Timestamp == nil {
		for i := range batch {
			prev := int64(network.NoTimestamp)
			if ts != nil {
				prev = ts[i]
			}
			out = append(out, prev)
		}
	} else {
		for i, v := range batch {
			prev := int64(network.NoTimestamp)
			if ts != nil {
				prev = ts[i]
			}
			t := o.spec.Timestamp(v, prev)
			if t == network.NoTimestamp {
				return o.ctx.Fail(fmt.Errorf("timestamp assigner: %w", ErrReservedTimestamp))
			}
			out = append(out, t)
		}
	}
	for _, t := range out {
		o.maxTimestamp = max(o.maxTimestamp, t)
	}
	o.ts = out
	if len(batch) > 0 {
		o.lastActive = o.ctx.Timers.Now()
		if o.idle {
			o.idle = false
			if err := o.out.Emit(Event{Kind: network.WatermarkStatus, Idle: false}); err != nil {
				return err
			}
		}
	}
	o.ctx.Metrics.RecordsOut.Add(int64(len(batch)))
	return o.ctx.Fail(o.out.Push(batch, out))
}

// onPeriodic emits the current watermark if it advanced, and idleness.
func (o *TimestampsAndWatermarks[T]) onPeriodic(now int64) error {
	if o.emitted == network.MaxWatermark {
		return nil // the input ended
	}
	defer o.schedule(now)
	if o.spec.Idleness > 0 && !o.idle && now-o.lastActive >= o.spec.Idleness {
		o.idle = true
		return o.out.Emit(Event{Kind: network.WatermarkStatus, Idle: true})
	}
	var wm int64
	switch {
	case o.spec.Ingestion:
		wm = now - 1
	case o.maxTimestamp == math.MinInt64:
		return nil
	case o.maxTimestamp <= math.MinInt64+o.spec.OutOfOrderness:
		// The subtraction would wrap around to a watermark far in the future;
		// saturated, it is math.MinInt64, which is no progress.
		return nil
	default:
		wm = o.maxTimestamp - o.spec.OutOfOrderness - 1
	}
	if wm <= o.emitted {
		return nil
	}
	o.emitted = wm
	return o.out.Emit(network.WatermarkEvent(wm))
}

// Emit forwards only the final watermark of an ended input.
func (o *TimestampsAndWatermarks[T]) Emit(e Event) error {
	if e.Kind == network.Watermark && e.Timestamp == network.MaxWatermark {
		o.emitted = network.MaxWatermark
		return o.out.Emit(e)
	}
	return nil
}

// CurrentWatermark is the last watermark emitted.
func (o *TimestampsAndWatermarks[T]) CurrentWatermark() int64 { return o.emitted }
