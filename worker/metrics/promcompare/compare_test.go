package promcompare

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/spate-io/spate/worker/metrics"
)

// One op is one batch: the hot path counts per batch, so the per-record cost
// is ns/op divided by the batch size (reported as ns/record).
func BenchmarkCounterPerBatch(b *testing.B) {
	for _, batch := range []int{1, 64, 1024} {
		b.Run(fmt.Sprintf("spate-atomic/batch=%d", batch), func(b *testing.B) {
			var c atomic.Int64
			for b.Loop() {
				c.Add(int64(batch))
			}
			report(b, batch)
		})
		b.Run(fmt.Sprintf("client_golang-bound/batch=%d", batch), func(b *testing.B) {
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spate_numRecordsIn"}, []string{"job_name", "task_name", "subtask_index", "tm_id"})
			c := vec.WithLabelValues("job", "Source: words", "0", "tm-0")
			for b.Loop() {
				c.Add(float64(batch))
			}
			report(b, batch)
		})
		b.Run(fmt.Sprintf("client_golang-lookup/batch=%d", batch), func(b *testing.B) {
			vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "spate_numRecordsIn"}, []string{"job_name", "task_name", "subtask_index", "tm_id"})
			for b.Loop() {
				vec.WithLabelValues("job", "Source: words", "0", "tm-0").Add(float64(batch))
			}
			report(b, batch)
		})
	}
}

// BenchmarkCounterContended is every core adding to one counter, as the
// subtasks of a TaskManager do to a shared one (ours are per subtask, so
// this is the worst case for both).
func BenchmarkCounterContended(b *testing.B) {
	b.Run("spate-atomic", func(b *testing.B) {
		var c atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(1024)
			}
		})
	})
	b.Run("client_golang-bound", func(b *testing.B) {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "spate_numRecordsIn"})
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Add(1024)
			}
		})
	})
}

func report(b *testing.B, batch int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(batch), "ns/record")
}

// TestWriteParsesWithExpfmt: Prometheus' own parser reads what
// metrics.Write writes, with the same names, labels and values.
func TestWriteParsesWithExpfmt(t *testing.T) {
	var s metrics.Set
	f := s.Family("spate_taskmanager_job_task_numRecordsIn", "Records read.", metrics.Counter)
	f.Add(42, "job_name", "exactly once", "task_name", `Source: "ids" -> Map`, "subtask_index", "0", "tm_id", "tm-0")
	f.Add(1e18, "job_name", "j", "task_name", "a\\b\nc", "subtask_index", "1", "tm_id", "tm-1")
	s.Family("spate_jobmanager_job_uptime", "Milliseconds since the job started.", metrics.Gauge).Add(1234.5, "job_id", "0123", "job_name", "j")
	var b strings.Builder
	if err := metrics.Write(&b, s.Families()); err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatalf("expfmt: %v\n%s", err, b.String())
	}
	in := fams["spate_taskmanager_job_task_numRecordsIn"]
	if in == nil || len(in.Metric) != 2 {
		t.Fatalf("numRecordsIn: %v", in)
	}
	if v := in.Metric[0].GetCounter().GetValue(); v != 42 {
		t.Fatalf("numRecordsIn[0] = %v, want 42", v)
	}
	if v := in.Metric[1].GetCounter().GetValue(); v != 1e18 {
		t.Fatalf("numRecordsIn[1] = %v, want 1e18", v)
	}
	got := map[string]string{}
	for _, l := range in.Metric[1].Label {
		got[l.GetName()] = l.GetValue()
	}
	if got["task_name"] != "a\\b\nc" || got["tm_id"] != "tm-1" {
		t.Fatalf("labels = %v", got)
	}
	if v := fams["spate_jobmanager_job_uptime"].Metric[0].GetGauge().GetValue(); v != 1234.5 {
		t.Fatalf("uptime = %v", v)
	}
}
