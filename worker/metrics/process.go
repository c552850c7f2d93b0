package metrics

import (
	"bytes"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
)

// Process is a snapshot of one Go process's resources, as a TaskManager
// reports them (Flink's Status.JVM.* metrics, in Go's terms).
type Process struct {
	// HeapBytes is the live heap plus unswept objects (Go's heap in use).
	HeapBytes int64 `json:"heapBytes"`
	// RSSBytes is the resident set size; 0 where /proc is missing.
	RSSBytes   int64 `json:"rssBytes"`
	Goroutines int64 `json:"goroutines"`
	// GCPauseTotalNanos is the total stop-the-world pause since the start.
	GCPauseTotalNanos int64 `json:"gcPauseTotalNanos"`
	GCCount           int64 `json:"gcCount"`
}

// ReadProcess snapshots this process. It reads runtime/metrics (no stop of
// the world, unlike runtime.ReadMemStats) and /proc/self/statm.
func ReadProcess() Process {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
		{Name: "/sched/pauses/total/gc:seconds"},
	}
	metrics.Read(samples)
	p := Process{Goroutines: int64(runtime.NumGoroutine()), RSSBytes: rss()}
	if s := samples[0]; s.Value.Kind() == metrics.KindUint64 {
		p.HeapBytes = int64(s.Value.Uint64())
	}
	if s := samples[1]; s.Value.Kind() == metrics.KindUint64 {
		p.GCCount = int64(s.Value.Uint64())
	}
	if s := samples[2]; s.Value.Kind() == metrics.KindFloat64Histogram {
		p.GCPauseTotalNanos = histogramSum(s.Value.Float64Histogram())
	}
	return p
}

// histogramSum estimates a histogram's total from its buckets' midpoints
// (runtime/metrics keeps no exact sum of pauses).
func histogramSum(h *metrics.Float64Histogram) int64 {
	var sum float64
	for i, n := range h.Counts {
		if n == 0 {
			continue
		}
		lo, hi := h.Buckets[i], h.Buckets[i+1]
		switch {
		case lo < -1e300:
			lo = hi
		case hi > 1e300:
			hi = lo
		}
		sum += float64(n) * (lo + hi) / 2
	}
	return int64(sum * 1e9)
}

// rss reads the resident set from /proc/self/statm (pages).
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}
