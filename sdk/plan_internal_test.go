package sdk

import (
	"reflect"
	"testing"
	"time"

	"github.com/spate-io/spate/conf"
	"github.com/spate-io/spate/master/jobmaster"
	"github.com/spate-io/spate/sdk/graph"
)

type planCo struct{}

func (planCo) ProcessElement1(_ *CoContext, v int64, out *Collector[int64]) error {
	out.Collect(v)
	return nil
}
func (planCo) ProcessElement2(_ *CoContext, v string, out *Collector[int64]) error {
	out.Collect(int64(len(v)))
	return nil
}

// TestPlanRebuildsTheExecutionGraph: the graph a JobManager rebuilds from a
// job's plan (graph.FromPlan) lays out exactly the channels of the job's own
// graph, edge indices included, for a job with a union, a two-input
// operator, a side output, a window and several parallelisms: what a
// TaskManager that built the job itself expects of every descriptor.
func TestPlanRebuildsTheExecutionGraph(t *testing.T) {
	env := NewEnv(WithConfig(conf.New()))
	env.SetParallelism(3)
	a := FromSlice(env, []int64{1, 2, 3}).SetParallelism(1)
	b := Generate(env, 10, func(i int64) int64 { return i }).SetParallelism(2)
	words := FromSlice(env, []string{"x", "yy"})
	late := NewOutputTag[int64]("late")
	ts := a.Union(b).AssignTimestampsAndWatermarks(ForMonotonousTimestamps[int64]().WithTimestampAssigner(func(i int64) int64 { return i }))
	win := KeyBy(ts, func(i int64) int64 { return i % 2 }).Window(TumblingEventTimeWindows(time.Second)).SideOutputLateData(late).
		Reduce(func(x, y int64) int64 { return x + y })
	co := CoProcess(win.Rebalance(), words, func() CoProcessFunction[int64, string, int64] { return planCo{} })
	SinkFunc(co, func([]int64) error { return nil })
	SinkFunc(SideOutput(win, late), func([]int64) error { return nil }).SetParallelism(1)
	p, err := env.Plan("rebuild")
	if err != nil {
		t.Fatal(err)
	}
	r, err := graph.FromPlan(p)
	if err != nil {
		t.Fatal(err)
	}
	layout := func(g *graph.JobGraph) []any {
		var out []any
		for _, v := range jobmaster.NewExecutionGraph(g).Vertices() {
			out = append(out, v.Chain.Index, v.Subtask, v.Inputs, v.Outputs)
		}
		return out
	}
	if got, want := layout(r), layout(env.graph); !reflect.DeepEqual(got, want) {
		t.Fatalf("rebuilt layout\n%v\nwant\n%v", got, want)
	}
}
