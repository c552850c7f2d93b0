#!/usr/bin/env bash
# bench-vs-flink.sh [--scale full|smoke] [--reps N] [--parallelism P] [--only W1,W3,...] [--work DIR]
#
# Runs Spate's workloads beside the same jobs on Flink 2.3.0's MiniCluster,
# interleaved, checks that both wrote the same results, and prints the table
# (see integration/bench/doc.go). Needs Go, a JDK 17 and Maven; the first run
# fetches Flink's jars into ~/.m2. The full scale takes tens of minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./integration/bench/cmd/bench-vs-flink "$@"
