package sdk

import (
	"time"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// ErrReservedTimestamp is wrapped by the error of a task whose timestamp
// assigner (WithTimestampAssigner) or Collector.CollectWithTimestamp stamped a
// record with math.MinInt64, the value reserved for "no timestamp".
var ErrReservedTimestamp = task.ErrReservedTimestamp

// WatermarkStrategy says how a stream gets event time: where each record's
// timestamp comes from and how watermarks follow them (Flink's WatermarkStrategy).
// Timestamps are milliseconds. math.MinInt64 is not a valid event time: it
// marks records that have no timestamp (see WithTimestampAssigner).
type WatermarkStrategy[T any] struct {
	spec task.WatermarkSpec[T]
	// nilAssigner records WithTimestampAssigner(nil), reported by
	// AssignTimestampsAndWatermarks, which has the Env.
	nilAssigner bool
}

// ForBoundedOutOfOrderness expects records at most maxOutOfOrderness late: the
// watermark is the highest timestamp seen minus maxOutOfOrderness minus 1 ms.
func ForBoundedOutOfOrderness[T any](maxOutOfOrderness time.Duration) WatermarkStrategy[T] {
	return WatermarkStrategy[T]{spec: task.WatermarkSpec[T]{OutOfOrderness: maxOutOfOrderness.Milliseconds()}}
}

// ForMonotonousTimestamps expects timestamps that never decrease.
func ForMonotonousTimestamps[T any]() WatermarkStrategy[T] {
	return WatermarkStrategy[T]{}
}

// IngestionTime stamps each record with the processing time at which it enters
// the stream; the watermark follows the clock.
func IngestionTime[T any]() WatermarkStrategy[T] {
	return WatermarkStrategy[T]{spec: task.WatermarkSpec[T]{Ingestion: true}}
}

// WithTimestampAssigner extracts each record's event time (milliseconds).
// Without one, records keep the timestamp they already carry.
//
// fn must return a timestamp greater than math.MinInt64, the value that means
// "no timestamp": a record stamped math.MinInt64 fails the task with an error
// wrapping ErrReservedTimestamp, rather than silently losing its event
// time. The same holds for Collector.CollectWithTimestamp.
func (w WatermarkStrategy[T]) WithTimestampAssigner(fn func(v T) int64) WatermarkStrategy[T] {
	w.nilAssigner = fn == nil
	w.spec.Timestamp = func(v T, _ int64) int64 { return fn(v) }
	return w
}

// WithIdleness marks the stream idle after d without records, so an idle
// partition does not hold back the watermark of the operators downstream.
func (w WatermarkStrategy[T]) WithIdleness(d time.Duration) WatermarkStrategy[T] {
	w.spec.Idleness = d.Milliseconds()
	return w
}

// AssignTimestampsAndWatermarks stamps records with event time and emits
// watermarks every pipeline.auto-watermark-interval. Put it right after the
// source: it is chained to it.
func (s Stream[T]) AssignTimestampsAndWatermarks(w WatermarkStrategy[T]) Stream[T] {
	s.env.checkFunc(w.nilAssigner, "WatermarkStrategy.WithTimestampAssigner", "the function")
	spec := w.spec // a nil Timestamp keeps the timestamps records carry
	if spec.OutOfOrderness < 0 {
		s.env.fail("ForBoundedOutOfOrderness: the bound must not be negative, got %d ms", spec.OutOfOrderness)
	}
	return addOperator[T, T](s, "Timestamps/Watermarks", graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[T]) (task.OneInput[T], error) {
			return task.NewTimestampsAndWatermarks(ctx, spec, out), nil
		}))
}
