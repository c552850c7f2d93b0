// Package bench compares Spate with Apache Flink 2.3.0 on the same machine,
// the same inputs and the same parallelism, and checks that both computed the
// same thing before it reports a number.
//
// # What runs
//
//	W1  stateless chain   generator → map → filter → map → count-and-sum sink   spatejobs chain
//	W2  wordcount         ~100 MB of text in p files, one count per word        examples/wordcount
//	W3  windows           one CSV; tumbling, sliding and session windows        spatejobs windowcount
//	W4  nexmark q5        hot items over generated bids (same function of i)   examples/nexmark
//	W5  keyed count       1 M keys in keyed state, 1 s exactly-once checkpoints spatejobs keyedcount
//	    start-up          W1 with no events: each system's fixed cost
//
// Spate's side is the examples where they fit and the spatejobs binary
// (integration/bench/spatejobs) for the rest (its windowcount is
// examples/windowcount with the file read by one subtask, as Flink reads it), built static as build.sh builds
// them, run embedded (one process). Flink's side is the Maven module in
// integration/bench/flink: one class per workload, written to print the same
// lines, run in a plain JVM on the local MiniCluster that
// StreamExecutionEnvironment.getExecutionEnvironment() starts, with Flink's
// defaults (hashmap state, no JVM flags: untuned).
//
// # How it measures
//
// Run builds both sides (Maven once, skipped while target/cp.txt is newer
// than the module's sources; the jars are cached in ~/.m2), writes the inputs
// once under the work directory, and runs each workload Reps times in each
// system, alternating which goes first, one process at a time. Each run is a
// child process: wall time around it, CPU time (user + system, all threads)
// and peak RSS from its rusage (wait4). A job's result lines (its stdout and
// the files under its output directory) are sorted and must be equal in both
// systems, and equal to run 1's; otherwise the workload reports why instead of
// numbers. WriteTable prints medians, events per CPU-second and the ratio
// Spate/Flink of events per CPU-second per pair of runs.
//
//	./build.sh bench-flink [flags]        or   scripts/bench-vs-flink.sh [flags]
//	  --scale full|smoke  --reps 3  --parallelism 2  --only W3,W5  --work DIR
//
// # Where the systems differ on purpose
//
//   - Flink's text source does not split a file (TextLineInputFormat), so W2's
//     input is p files, and W3's single CSV is read, parsed and watermarked
//     by one subtask in both systems (a second, idle Flink reader would hold
//     the watermark back until the end); the windows run at p. Spate's
//     examples/windowcount splits a file by bytes over p readers instead,
//     which leaves the second half's windows open until the first half is
//     read: a backfill, where Spate's session windows are slow (issue 14).
//   - The inputs are ASCII: Go's and Java's tables of letters and of lower
//     case differ elsewhere, and WordCount would then count differently.
//   - Flink logs nowhere (no SLF4J binding on the class path); Spate logs at
//     its default level to stderr, into the run's scratch directory.
//
// TestSmoke runs every workload on tiny inputs in both systems (Flink's jobs
// one after the other in one JVM) as part of the test suite, so the
// comparison cannot rot, and checks W1, W2, tumbling W3 and W5 against slow
// obvious references too.
package bench
