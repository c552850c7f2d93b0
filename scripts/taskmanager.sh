#!/usr/bin/env bash
# taskmanager.sh start|stop: adds one TaskManager to the cluster that
# start-cluster.sh started, or stops the one added last.
set -euo pipefail
# shellcheck source=cluster-common.sh
. "$(dirname "$0")/cluster-common.sh"

case "${1:-}" in
start)
	cluster_properties
	n=0
	while [ -e "$LOG_DIR/taskmanager-$n.pid" ]; do n=$((n + 1)); done
	start_taskmanager "$n"
	;;
stop)
	last=""
	for f in "$LOG_DIR"/taskmanager-*.pid; do
		[ -e "$f" ] || continue
		m=${f##*/taskmanager-}
		m=${m%.pid}
		if [ -z "$last" ] || [ "$m" -gt "$last" ]; then last=$m; fi
	done
	[ -n "$last" ] || die "no TaskManager runs"
	stop_pid "$LOG_DIR/taskmanager-$last.pid" "TaskManager $last"
	;;
*)
	die "usage: taskmanager.sh start|stop"
	;;
esac
