// Package integration holds Spate's end-to-end tests: they build the real
// binaries (bin/spate and the examples) and run them as a user would, checking
// exact outputs, exit codes and error lines.
//
// Tests against a real Hadoop (KDC, HDFS, YARN from Maven Central; see
// ../shared/HADOOP.md) will live here too. Benchmarks that compare with Flink go in
// integration/bench.
package integration
