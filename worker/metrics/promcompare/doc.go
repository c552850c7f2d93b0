// Package promcompare measures Spate's counters (an atomic.Int64 per
// subtask, snapshotted at scrape time) against
// github.com/prometheus/client_golang's, and checks with
// github.com/prometheus/common/expfmt that worker/metrics writes text that
// Prometheus parses. It is a module of its own so that the main module does
// not take client_golang's dependencies (newer protobuf, x/sys, x/net) for a
// comparison. Run: cd worker/metrics/promcompare && go test -bench . -benchmem
package promcompare
