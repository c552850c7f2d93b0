package sdk_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/spate-io/spate/sdk"
	"github.com/spate-io/spate/worker/task"
)

// TestTimestampAssignerReturningNoTimestamp: a timestamp assigner that returns
// math.MinInt64, the "no timestamp" marker, fails the job with
// ErrReservedTimestamp, naming the operator, instead of the record losing its
// event time (and an event-time window dropping it or failing further on).
func TestTimestampAssignerReturningNoTimestamp(t *testing.T) {
	env, _ := apiEnv(t, 1)
	src := sdk.FromSequence(env, 1, 10).AssignTimestampsAndWatermarks(
		sdk.ForMonotonousTimestamps[int64]().WithTimestampAssigner(func(v int64) int64 {
			if v == 3 {
				return math.MinInt64
			}
			return v
		})).Name("stamp")
	sdk.Collect(sdk.ProcessWindow(sdk.KeyBy(src, identity).Window(sdk.TumblingEventTimeWindows(time.Second)), emitAll))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := env.Execute(ctx, "stamps")
	if !errors.Is(err, sdk.ErrReservedTimestamp) {
		t.Fatalf("Execute = %v, want it to wrap ErrReservedTimestamp", err)
	}
	var oe *task.OperatorError
	if !errors.As(err, &oe) {
		t.Fatalf("Execute = %v, want an OperatorError", err)
	}
	const want = `timestamp assigner: timestamp -9223372036854775808 (math.MinInt64) is reserved for "no timestamp"; event timestamps must be greater`
	if oe.Operator != "stamp" || oe.Err.Error() != want {
		t.Fatalf("operator %q failed with %q\nwant operator %q failing with %q", oe.Operator, oe.Err, "stamp", want)
	}
}
