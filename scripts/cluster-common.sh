# Shared by start-cluster.sh, stop-cluster.sh and taskmanager.sh (sourced).
#
# The cluster's files live in SPATE_LOG_DIR (default log/ in the checkout):
#   jobmanager.pid, jobmanager.log, jobmanager.out   the JobManager
#   taskmanager-N.pid, .log, .out                    TaskManager N
#   cluster.secret                                    the shared secret, made when
#                                                     security.cluster.secret-file is not set
#   rest, rpc                                         the JobManager's addresses
# The configuration comes from the usual places: $SPATE_CONF_DIR/spate.yaml,
# SPATE_PROPERTIES.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SPATE=${SPATE_BIN:-$ROOT/bin/spate}
LOG_DIR=${SPATE_LOG_DIR:-$ROOT/log}

die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

[ -x "$SPATE" ] || die "$SPATE not found: run ./build.sh first (or set SPATE_BIN)"
mkdir -p "$LOG_DIR" || die "cannot create the log directory $LOG_DIR (SPATE_LOG_DIR)"

# setting KEY prints KEY's effective value.
setting() {
	"$SPATE" config --get "$1"
}

# cluster_properties exports SPATE_PROPERTIES with the secret file the
# cluster uses: the configured one, or LOG_DIR/cluster.secret, made once.
cluster_properties() {
	local secret
	secret=$(setting security.cluster.secret-file) || exit 1
	if [ -z "$secret" ]; then
		secret=$LOG_DIR/cluster.secret
		if [ ! -e "$secret" ]; then
			(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$secret.tmp" && mv "$secret.tmp" "$secret") ||
				die "cannot write the cluster secret $secret"
		fi
		export SPATE_PROPERTIES="${SPATE_PROPERTIES:+$SPATE_PROPERTIES
}security.cluster.secret-file=$secret"
	elif [ ! -e "$secret" ]; then
		die "security.cluster.secret-file is $secret, which does not exist: create it (32 random bytes in hex, mode 0600) or unset the key"
	fi
}

# alive PIDFILE reports whether the process of PIDFILE runs.
alive() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

# stop_pid PIDFILE NAME stops the process (SIGTERM, then SIGKILL after 15 s).
stop_pid() {
	local pid i
	if ! alive "$1"; then
		rm -f "$1"
		return 0
	fi
	pid=$(cat "$1")
	kill "$pid"
	for i in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "$2 (pid $pid) did not stop within 15 s; killing it" >&2
		kill -9 "$pid"
	fi
	rm -f "$1"
	echo "stopped $2 (pid $pid)"
}

# start_taskmanager N starts TaskManager N.
start_taskmanager() {
	local n=$1 rpc
	alive "$LOG_DIR/taskmanager-$n.pid" && die "TaskManager $n already runs (pid $(cat "$LOG_DIR/taskmanager-$n.pid"))"
	[ -f "$LOG_DIR/rpc" ] && alive "$LOG_DIR/jobmanager.pid" || die "no JobManager runs: scripts/start-cluster.sh starts one"
	rpc=$(cat "$LOG_DIR/rpc")
	SPATE_TASKMANAGER_NAME="$(hostname)-tm-$n" nohup "$SPATE" taskmanager --jobmanager "$rpc" \
		>"$LOG_DIR/taskmanager-$n.out" 2>"$LOG_DIR/taskmanager-$n.log" </dev/null &
	echo $! >"$LOG_DIR/taskmanager-$n.pid"
	echo "started TaskManager $n (pid $!), log $LOG_DIR/taskmanager-$n.log"
}
