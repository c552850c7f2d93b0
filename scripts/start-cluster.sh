#!/usr/bin/env bash
# start-cluster.sh [N]: starts a standalone session cluster on this host: one
# JobManager and N TaskManagers (default 2) from bin/spate, with pid files and
# logs in log/ (or $SPATE_LOG_DIR), and prints the REST address that spate
# submit, list, cancel, savepoint and stop talk to.
set -euo pipefail
# shellcheck source=cluster-common.sh
. "$(dirname "$0")/cluster-common.sh"

n=${1:-2}
[[ "$n" =~ ^[0-9]+$ ]] || die "usage: start-cluster.sh [NUMBER_OF_TASKMANAGERS]"
alive "$LOG_DIR/jobmanager.pid" && die "a JobManager already runs (pid $(cat "$LOG_DIR/jobmanager.pid")): scripts/stop-cluster.sh stops it"
cluster_properties

rm -f "$LOG_DIR/rest" "$LOG_DIR/rpc"
nohup "$SPATE" jobmanager >"$LOG_DIR/jobmanager.out" 2>"$LOG_DIR/jobmanager.log" </dev/null &
echo $! >"$LOG_DIR/jobmanager.pid"
for _ in $(seq 300); do
	grep -q '^rpc: ' "$LOG_DIR/jobmanager.out" 2>/dev/null && break
	alive "$LOG_DIR/jobmanager.pid" || die "the JobManager exited: $(tail -n 3 "$LOG_DIR/jobmanager.log")"
	sleep 0.1
done
grep -q '^rpc: ' "$LOG_DIR/jobmanager.out" || die "the JobManager did not start within 30 s: see $LOG_DIR/jobmanager.log"
sed -n 's|^rest: http://||p' "$LOG_DIR/jobmanager.out" >"$LOG_DIR/rest"
sed -n 's|^rpc: ||p' "$LOG_DIR/jobmanager.out" >"$LOG_DIR/rpc"
echo "started JobManager (pid $(cat "$LOG_DIR/jobmanager.pid")), log $LOG_DIR/jobmanager.log"
for i in $(seq 0 $((n - 1))); do
	start_taskmanager "$i"
done
echo "REST: http://$(cat "$LOG_DIR/rest")"
