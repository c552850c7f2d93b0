// Package metrics is Spate's metric registry: families of samples written in
// Prometheus' text exposition format (version 0.0.4), and the process
// statistics a TaskManager reports (heap, RSS, goroutines, GC pause).
//
// # Model
//
// There is no live registry of counter objects. The hot path counts with
// plain atomics owned by what it counts (worker/task's OperatorMetrics,
// one atomic.Int64.Add per batch: no allocation, no lock); a scrape takes a
// snapshot of those atomics, builds Families from it and writes them. That
// keeps label handling (strings, maps, sorting) entirely off the data path,
// and lets the JobManager aggregate the snapshots its TaskManagers report
// into one page.
//
// Why not github.com/prometheus/client_golang: its counters are as cheap per
// batch only when pre-bound, and binding per subtask label set means a
// registry of live objects to create, unregister on every restart and keep in
// step with attempts; its label lookup (WithLabelValues) costs a hash and a
// lock per update. The benchmark in promcompare/ (a module of its own, so the
// main module does not take client_golang's dependencies) measures both and
// checks with expfmt that Write's output parses.
//
// # TaskManager reports
//
// A TaskManager sends a Report (its process, the tail of its log kept by a
// LogRing) as the payload of every heartbeat: a snapshot rather than a
// delta, so a lost heartbeat loses nothing; DecodeReport bounds what it
// reads (MaxReportBytes, MaxReportLines), as it comes from the network.
//
// # Names
//
// Names follow Flink's metric names under the spate_ prefix
// (spate_taskmanager_job_task_numRecordsIn), labels job_name, job_id,
// task_name, subtask_index and tm_id as Flink's Prometheus reporter has them.
//
// # What the caller must do
//
// Build each Family with a valid name (Check reports a bad one) and the same
// label names in every sample; Write sorts families by name and writes each
// once, so callers may append in any order.
package metrics
