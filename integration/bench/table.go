package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteTable prints the results as a Markdown table: medians over the runs of
// wall and CPU seconds and of peak RSS, events per CPU-second from the median
// CPU time, and the ratio Spate/Flink of events per CPU-second as the median
// (min–max) of the runs paired in order. A workload whose job failed or
// whose outputs differed shows why instead of numbers.
func WriteTable(w io.Writer, results []Result) {
	fmt.Fprintln(w, "| workload | events | wall s Spate | wall s Flink | CPU s Spate | CPU s Flink | events/CPU-s Spate | events/CPU-s Flink | Spate/Flink events/CPU-s | peak RSS MB Spate | peak RSS MB Flink |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	var problems []string
	for _, r := range results {
		w0 := r.Workload
		if r.Problem != nil {
			fmt.Fprintf(w, "| %s | %d | no numbers: %s (see below) |||||||||\n", w0.Name, w0.Events, problem(r.Problem))
			problems = append(problems, r.Problem.Error())
			continue
		}
		if len(r.Spate) == 0 || len(r.Flink) == 0 {
			continue
		}
		perCPU := func(ms []Measurement) string {
			if w0.Events == 0 {
				return "–"
			}
			return rate(float64(w0.Events) / median(ms, cpu).Seconds())
		}
		ratio := "–"
		if w0.Events > 0 {
			var rs []float64
			for i := range min(len(r.Spate), len(r.Flink)) {
				rs = append(rs, r.Flink[i].CPU.Seconds()/r.Spate[i].CPU.Seconds())
			}
			slices.Sort(rs)
			ratio = fmt.Sprintf("%.2f×", medianOf(rs))
			if len(rs) > 1 {
				ratio += fmt.Sprintf(" (%.2f–%.2f)", rs[0], rs[len(rs)-1])
			}
		}
		fmt.Fprintf(w, "| %s | %d | %.2f | %.2f | %.2f | %.2f | %s | %s | %s | %d | %d |\n",
			w0.Name, w0.Events,
			median(r.Spate, wall).Seconds(), median(r.Flink, wall).Seconds(),
			median(r.Spate, cpu).Seconds(), median(r.Flink, cpu).Seconds(),
			perCPU(r.Spate), perCPU(r.Flink), ratio,
			medianRSS(r.Spate)>>20, medianRSS(r.Flink)>>20)
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(problems, "\n"))
	}
}

func problem(err error) string {
	if errors.Is(err, ErrOutputsDiffer) {
		return "outputs differ"
	}
	return "a job failed"
}

func wall(m Measurement) time.Duration { return m.Wall }
func cpu(m Measurement) time.Duration  { return m.CPU }

func median(ms []Measurement, f func(Measurement) time.Duration) time.Duration {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = float64(f(m))
	}
	slices.Sort(v)
	return time.Duration(medianOf(v))
}

func medianRSS(ms []Measurement) int64 {
	v := make([]float64, len(ms))
	for i, m := range ms {
		v[i] = float64(m.PeakRSS)
	}
	slices.Sort(v)
	return int64(medianOf(v))
}

// medianOf a sorted, non-empty slice.
func medianOf(v []float64) float64 {
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func rate(perSecond float64) string {
	switch {
	case perSecond >= 1e6:
		return fmt.Sprintf("%.2f M", perSecond/1e6)
	case perSecond >= 1e3:
		return fmt.Sprintf("%.1f k", perSecond/1e3)
	}
	return fmt.Sprintf("%.0f", perSecond)
}
