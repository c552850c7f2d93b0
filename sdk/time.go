package sdk

import (
	"time"

	"github.com/spate-io/spate/sdk/graph"
	"github.com/spate-io/spate/worker/task"
)

// WatermarkStrategy says how a stream gets event time: where each record's
// timestamp comes from and how watermarks follow them (Flink's WatermarkStrategy).
// Timestamps are milliseconds.
type WatermarkStrategy[T any] struct {
	spec task.WatermarkSpec[T]
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
func (w WatermarkStrategy[T]) WithTimestampAssigner(fn func(v T) int64) WatermarkStrategy[T] {
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
	spec := w.spec
	if spec.Timestamp == nil && !spec.Ingestion {
		spec.Timestamp = func(_ T, prev int64) int64 { return prev }
	}
	if spec.OutOfOrderness < 0 {
		s.env.fail("ForBoundedOutOfOrderness: the bound must not be negative, got %d ms", spec.OutOfOrderness)
	}
	return addOperator[T, T](s, "Timestamps/Watermarks", graph.KindOperator, task.NewOneInputFactory(
		func(ctx *task.OperatorContext, out task.Output[T]) (task.OneInput[T], error) {
			return task.NewTimestampsAndWatermarks(ctx, spec, out), nil
		}))
}
