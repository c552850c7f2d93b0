#!/usr/bin/env bash
# Runs Spate's test Hadoop (integration/hadoop: a KDC, HDFS and YARN in one
# JVM) in the background, for trying Spate against a real secure Hadoop.
#
#   scripts/hadoop-minicluster.sh start [--insecure] [DIR]   start and wait until ready
#   scripts/hadoop-minicluster.sh stop  [DIR]                SIGTERM, then wait for exit
#   scripts/hadoop-minicluster.sh env   [DIR]                print shell exports:
#   eval "$(scripts/hadoop-minicluster.sh env)"
#
# env sets HADOOP_CONF_DIR and YARN_CONF_DIR; for a secure cluster KRB5_CONFIG,
# KRB5CCNAME (a ticket cache for spate@SPATE.TEST that the launcher wrote),
# SPATE_HADOOP_PRINCIPAL and SPATE_HADOOP_KEYTAB (for kinit -kt), and
# SPATE_KERBEROS_PROPERTIES (security.kerberos.login.principal and .keytab, in
# SPATE_PROPERTIES form); for an insecure one HADOOP_USER_NAME=spate.
#
# DIR defaults to ${TMPDIR:-/tmp}/spate-hadoop and holds conf/ (HADOOP_CONF_DIR,
# krb5.conf), keytabs/, the ticket cache krb5cc_spate, launcher.log and
# launcher.pid. Needs java (17+) and mvn on PATH; the first build downloads
# about 114 MB of Hadoop jars into ~/.m2.
#
# Environment: SPATE_HADOOP_START_TIMEOUT (seconds to wait for the ready line,
# default 180), SPATE_HADOOP_JAVA_OPTS (replaces the lean JVM flags),
# SPATE_HADOOP_ARGS (extra launcher flags, e.g. "--datanodes 3").
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
module="$root/integration/hadoop"
target="$module/target"

usage() {
	echo "usage: $0 start [--insecure] [DIR] | stop [DIR] | env [DIR]" >&2
	exit 2
}

die() {
	echo "hadoop-minicluster: $*" >&2
	exit 1
}

# build compiles the launcher and writes its class path unless both are newer
# than the sources.
build() {
	command -v java >/dev/null || die "java is not on PATH: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless)"
	command -v mvn >/dev/null || die "mvn is not on PATH: install Maven (e.g. apt-get install maven)"
	local stamp="$target/cp.txt"
	if [[ -s $stamp && -d $target/classes ]] &&
		[[ -z $(find "$module/pom.xml" "$module/src" -newer "$stamp" -print -quit) ]]; then
		return
	fi
	echo "hadoop-minicluster: building $module (the first build downloads Hadoop into ~/.m2)" >&2
	mvn -q -B -f "$module/pom.xml" package dependency:build-classpath -Dmdep.outputFile="$stamp" >&2 ||
		die "the Maven build failed (see above)"
	# build-classpath leaves an unchanged file alone: mark the build as done.
	touch "$stamp"
}

running() { [[ -s $1/launcher.pid ]] && kill -0 "$(cat "$1/launcher.pid")" 2>/dev/null; }

start() {
	local insecure="" dir=""
	for a in "$@"; do
		case $a in
		--insecure) insecure=--insecure ;;
		-*) usage ;;
		*) dir=$a ;;
		esac
	done
	dir=${dir:-${TMPDIR:-/tmp}/spate-hadoop}
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if running "$dir"; then
		die "already running (pid $(cat "$dir/launcher.pid")) in $dir: stop it first"
	fi
	build
	local log="$dir/launcher.log"
	# shellcheck disable=SC2086 # the option strings are word lists
	nohup java ${SPATE_HADOOP_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1} \
		-cp "$target/classes:$(cat "$target/cp.txt")" io.spate.hadoop.Launcher \
		--dir "$dir" $insecure ${SPATE_HADOOP_ARGS:-} </dev/null >"$log" 2>&1 &
	local pid=$!
	echo "$pid" >"$dir/launcher.pid"
	local timeout=${SPATE_HADOOP_START_TIMEOUT:-180} waited=0
	while ! grep -q '^SPATE-HADOOP-READY ' "$log" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/launcher.pid"
			echo "hadoop-minicluster: the launcher exited before it was ready; the end of $log:" >&2
			tail -n 30 "$log" >&2
			exit 1
		fi
		if ((waited >= timeout * 10)); then
			kill -TERM "$pid" 2>/dev/null || true
			rm -f "$dir/launcher.pid"
			echo "hadoop-minicluster: not ready after ${timeout}s (SPATE_HADOOP_START_TIMEOUT); stopped it; the end of $log:" >&2
			tail -n 30 "$log" >&2
			exit 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
	grep '^SPATE-HADOOP-READY ' "$log" | head -n 1
	echo "hadoop-minicluster: running (pid $pid); eval \"\$($0 env${dir:+ $dir})\" to use it, $0 stop${dir:+ $dir} to stop it" >&2
}

stop() {
	local dir=${1:-${TMPDIR:-/tmp}/spate-hadoop}
	if ! running "$dir"; then
		rm -f "$dir/launcher.pid"
		echo "hadoop-minicluster: not running in $dir" >&2
		return
	fi
	local pid
	pid=$(cat "$dir/launcher.pid")
	kill -TERM "$pid"
	# The launcher caps its own stop at about 15 s; give it 30.
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		echo "hadoop-minicluster: pid $pid did not stop within 30 s: killed it" >&2
	fi
	rm -f "$dir/launcher.pid"
}

# env prints the exports from the ready file that the launcher writes last.
env_() {
	local dir=${1:-${TMPDIR:-/tmp}/spate-hadoop}
	[[ -s $dir/ready ]] && running "$dir" || die "not running in $dir: run $0 start${1:+ $1} first"
	local line kv k v
	declare -A f=()
	line=$(head -n 1 "$dir/ready")
	for kv in $line; do
		[[ $kv == *=* ]] || continue
		k=${kv%%=*} v=${kv#*=}
		f[$k]=$v
	done
	printf 'export HADOOP_CONF_DIR=%q\n' "${f[conf]}"
	printf 'export YARN_CONF_DIR=%q\n' "${f[conf]}"
	if [[ ${f[secure]} == true ]]; then
		printf 'export KRB5_CONFIG=%q\n' "${f[krb5]}"
		[[ -n ${f[ccache]:-} ]] && printf 'export KRB5CCNAME=%q\n' "FILE:${f[ccache]}"
		printf 'export SPATE_HADOOP_PRINCIPAL=%q\n' "${f[principal]}"
		printf 'export SPATE_HADOOP_KEYTAB=%q\n' "${f[keytab]}"
		# Spate's settings, one per line as SPATE_PROPERTIES takes them. Not put
		# in SPATE_PROPERTIES itself, which would replace the user's own: the
		# ticket cache above serves; for a keytab login (a long job), run
		# SPATE_PROPERTIES="$SPATE_KERBEROS_PROPERTIES" spate ...
		printf 'export SPATE_KERBEROS_PROPERTIES=%q\n' "security.kerberos.login.principal=${f[principal]}
security.kerberos.login.keytab=${f[keytab]}"
	else
		printf 'export HADOOP_USER_NAME=%q\n' "${f[user]}"
		printf 'unset KRB5_CONFIG KRB5CCNAME\n'
	fi
	printf '# fs.defaultFS=%s rm=%s\n' "${f[fs.defaultFS]}" "${f[rm]}"
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
case $cmd in
start) start "$@" ;;
stop) (($# <= 1)) || usage; stop "$@" ;;
env) (($# <= 1)) || usage; env_ "$@" ;;
*) usage ;;
esac
