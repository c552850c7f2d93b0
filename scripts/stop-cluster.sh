#!/usr/bin/env bash
# stop-cluster.sh: stops the TaskManagers and the JobManager that
# start-cluster.sh and taskmanager.sh started (their pid files in log/ or
# $SPATE_LOG_DIR). The jobs still running are cancelled with them.
set -euo pipefail
# shellcheck source=cluster-common.sh
. "$(dirname "$0")/cluster-common.sh"

for f in "$LOG_DIR"/taskmanager-*.pid; do
	[ -e "$f" ] || continue
	n=${f##*/taskmanager-}
	stop_pid "$f" "TaskManager ${n%.pid}"
done
stop_pid "$LOG_DIR/jobmanager.pid" JobManager
rm -f "$LOG_DIR/rest" "$LOG_DIR/rpc"
