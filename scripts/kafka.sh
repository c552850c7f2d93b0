#!/usr/bin/env bash
# Runs a single-node Kafka broker (KRaft: broker and controller in one JVM, no
# ZooKeeper) in the background, for Spate's Kafka tests and for trying the
# Kafka connectors locally.
#
#   scripts/kafka.sh start [DIR]   format a fresh log directory, start, wait until ready
#   scripts/kafka.sh stop  [DIR]   SIGTERM, then wait for exit (SIGKILL after 30 s)
#   scripts/kafka.sh restart [DIR] stop, then start again on the same log directory
#                                  and ports (to test clients across a broker restart)
#   scripts/kafka.sh env   [DIR]   print KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:PORT:
#   eval "export $(scripts/kafka.sh env)"
#
# DIR defaults to ${TMPDIR:-/tmp}/spate-kafka and holds server.properties,
# broker.log, broker.pid, bootstrap (host:port) and logs/, the log directory,
# which every start removes and formats anew: a broker started on a live log
# directory breaks the one already using it. The broker listens on two free
# loopback ports chosen at start. The jars are org.apache.kafka:kafka_2.13
# (SPATE_KAFKA_VERSION, default 4.1.1) and log4j's SLF4J binding from Maven
# Central, resolved once into ~/.m2 (about 44 MB); needs java (17+) and mvn.
#
# Environment: SPATE_KAFKA_START_TIMEOUT (seconds to wait for the broker,
# default 60), SPATE_KAFKA_JAVA_OPTS (replaces the lean JVM flags),
# SPATE_KAFKA_PROPERTIES (extra server.properties lines), SPATE_KAFKA_LIFELINE_PID
# (stop the broker when that process exits: a test binary killed by its
# timeout leaves no broker behind), SPATE_KAFKA_SASL_USER
# (USER:PASSWORD: also listen with SASL_PLAINTEXT on a third port, for
# mechanisms PLAIN and SCRAM-SHA-256/512 with that user; start and env then
# also print KAFKA_SASL_BOOTSTRAP_SERVERS=127.0.0.1:PORT), SPATE_KAFKA_TLS=1
# (also listen with SSL, client certificates required, and, with
# SPATE_KAFKA_SASL_USER, SASL_SSL; the certificates are made at start by
# openssl under DIR/tls: ca.pem, the CA to trust, and client.pem, a client's
# certificate and key; start and env then also print
# KAFKA_SSL_BOOTSTRAP_SERVERS=, KAFKA_SASL_SSL_BOOTSTRAP_SERVERS= and
# KAFKA_TLS_DIR=).
set -euo pipefail

version=${SPATE_KAFKA_VERSION:-4.1.1}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/spate-kafka/$version

usage() {
	echo "usage: $0 start [DIR] | stop [DIR] | restart [DIR] | env [DIR]" >&2
	exit 2
}

die() {
	echo "kafka: $*" >&2
	exit 1
}

# classpath resolves the broker's jars once and prints the class path.
classpath() {
	command -v java >/dev/null || die "java is not on PATH: install a JDK 17 (e.g. apt-get install openjdk-17-jdk-headless)"
	command -v mvn >/dev/null || die "mvn is not on PATH: install Maven (e.g. apt-get install maven)"
	if [[ ! -s $cache/cp.txt ]]; then
		mkdir -p "$cache"
		cat >"$cache/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.spate</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
EOF
		echo "kafka: resolving org.apache.kafka:kafka_2.13:$version (the first time downloads about 44 MB into ~/.m2)" >&2
		mvn -q -B -f "$cache/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cache/cp.tmp" >&2 ||
			die "Maven could not resolve the Kafka jars (see above)"
		mv "$cache/cp.tmp" "$cache/cp.txt"
	fi
	cat "$cache/cp.txt"
}

# certificates makes a CA, the broker's certificate (for 127.0.0.1 and
# localhost) and a client's, each PEM file holding a certificate and its
# unencrypted PKCS#8 key, valid for two days.
certificates() {
	local tls=$1
	command -v openssl >/dev/null || die "SPATE_KAFKA_TLS needs openssl on PATH (e.g. apt-get install openssl)"
	rm -rf "$tls"
	mkdir -p "$tls"
	(
		cd "$tls"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=spate-kafka-test-ca
		local who
		for who in broker client; do
			openssl req -newkey rsa:2048 -nodes -keyout "$who.key" -out "$who.csr" -subj "/CN=spate-kafka-$who"
			printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$who.ext"
			openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile "$who.ext" -out "$who.crt"
			cat "$who.crt" "$who.key" >"$who.pem"
			rm -f "$who.csr" "$who.ext" "$who.crt" "$who.key"
		done
		rm -f ca.key ca.srl
		chmod 600 ./*.pem
	) >"$tls/openssl.log" 2>&1 || { cat "$tls/openssl.log" >&2; die "openssl could not make the test certificates"; }
}

running() { [[ -s $1/broker.pid ]] && kill -0 "$(cat "$1/broker.pid")" 2>/dev/null; }

# freeports prints five distinct free loopback ports.
freeports() {
	python3 - <<'EOF'
import socket
ss = [socket.socket() for _ in range(5)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))
EOF
}

# launch runs the broker of DIR in the background and waits for it.
launch() {
	local dir=$1 opts=$2 cp=$3 log="$1/broker.log" from
	# The ready lines of earlier runs (restart) do not count.
	from=$(grep -c 'Kafka Server started' "$log" 2>/dev/null || true)
	# shellcheck disable=SC2086
	nohup java $opts -cp "$cp" kafka.Kafka "$dir/server.properties" </dev/null >>"$log" 2>&1 &
	local pid=$!
	echo "$pid" >"$dir/broker.pid"
	if [[ -n ${SPATE_KAFKA_LIFELINE_PID:-} ]]; then
		local life=$SPATE_KAFKA_LIFELINE_PID
		nohup bash -c "while kill -0 $life 2>/dev/null && kill -0 $pid 2>/dev/null; do sleep 1; done; kill -TERM $pid 2>/dev/null" \
			</dev/null >/dev/null 2>&1 &
	fi
	local timeout=${SPATE_KAFKA_START_TIMEOUT:-60} waited=0
	while (($(grep -c 'Kafka Server started' "$log" 2>/dev/null || true) <= from)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/broker.pid"
			echo "kafka: the broker exited before it was ready; the end of $log:" >&2
			tail -n 30 "$log" >&2
			exit 1
		fi
		if ((waited >= timeout * 10)); then
			kill -TERM "$pid" 2>/dev/null || true
			rm -f "$dir/broker.pid"
			echo "kafka: not ready after ${timeout}s (SPATE_KAFKA_START_TIMEOUT); stopped it; the end of $log:" >&2
			tail -n 30 "$log" >&2
			exit 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

start() {
	(($# <= 1)) || usage
	local dir=${1:-${TMPDIR:-/tmp}/spate-kafka}
	[[ $dir != -* ]] || usage
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	if running "$dir"; then
		die "already running (pid $(cat "$dir/broker.pid")) in $dir: stop it first"
	fi
	local cp bport cport sport tport tsport
	cp=$(classpath)
	read -r bport cport sport tport tsport < <(freeports)
	rm -rf "$dir/logs" "$dir/bootstrap" "$dir/sasl-bootstrap" "$dir/ssl-bootstrap" "$dir/sasl-ssl-bootstrap"
	mkdir -p "$dir/logs"
	local listeners="PLAINTEXT://127.0.0.1:$bport" sasl="" scram=() tls=""
	if [[ -n ${SPATE_KAFKA_SASL_USER:-} ]]; then
		[[ $SPATE_KAFKA_SASL_USER == ?*:?* && $SPATE_KAFKA_SASL_USER != *[\"\ =,\]]* ]] ||
			die "SPATE_KAFKA_SASL_USER must be USER:PASSWORD without quotes, spaces, '=', ',' or ']'"
		local user=${SPATE_KAFKA_SASL_USER%%:*} pass=${SPATE_KAFKA_SASL_USER#*:}
		listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$sport"
		sasl="sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$user=\"$pass\";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
		scram=(--add-scram "SCRAM-SHA-256=[name=$user,password=$pass]" --add-scram "SCRAM-SHA-512=[name=$user,password=$pass]")
	fi
	if [[ ${SPATE_KAFKA_TLS:-} == 1 ]]; then
		certificates "$dir/tls"
		listeners="$listeners,SSL://127.0.0.1:$tport"
		tls="ssl.keystore.type=PEM
ssl.keystore.location=$dir/tls/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$dir/tls/ca.pem
listener.name.ssl.ssl.client.auth=required"
		if [[ -n $sasl ]]; then
			listeners="$listeners,SASL_SSL://127.0.0.1:$tsport"
			tls="$tls
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$user=\"$pass\";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
		fi
	fi
	cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=$listeners,CONTROLLER://127.0.0.1:$cport
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
$sasl
$tls
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/logs
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
add.partitions.to.txn.retry.backoff.ms=2
# Under load (2 shared cores) a 2 s session fences the broker during start-up.
broker.session.timeout.ms=9000
broker.heartbeat.interval.ms=500
${SPATE_KAFKA_PROPERTIES:-}
EOF
	# Without a log4j2 configuration only errors are logged, and the ready
	# line "Kafka Server started" is an INFO line.
	cat >"$dir/log4j2.properties" <<EOF
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=out
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=%d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
logger.quiet.name=org.apache.kafka.common.config
logger.quiet.level=WARN
EOF
	local opts=${SPATE_KAFKA_JAVA_OPTS:--Xmx256m -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:MaxDirectMemorySize=128m}
	opts="$opts -Dlog4j2.configurationFile=$dir/log4j2.properties"
	local uuid log="$dir/broker.log"
	# shellcheck disable=SC2086
	uuid=$(java $opts -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
	[[ -n $uuid ]] || die "kafka.tools.StorageTool random-uuid printed nothing"
	# shellcheck disable=SC2086
	java $opts -cp "$cp" kafka.tools.StorageTool format -t "$uuid" -c "$dir/server.properties" --standalone "${scram[@]}" >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; die "formatting $dir/logs failed"; }
	launch "$dir" "$opts" "$cp"
	echo "127.0.0.1:$bport" >"$dir/bootstrap"
	echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$bport"
	if [[ -n $sasl ]]; then
		echo "127.0.0.1:$sport" >"$dir/sasl-bootstrap"
	fi
	if [[ -n $tls ]]; then
		echo "127.0.0.1:$tport" >"$dir/ssl-bootstrap"
		[[ -z $sasl ]] || echo "127.0.0.1:$tsport" >"$dir/sasl-ssl-bootstrap"
	fi
	env_ "$dir" | grep -v '^KAFKA_BOOTSTRAP_SERVERS='
	echo "kafka: running (pid $(cat "$dir/broker.pid")) in $dir; $0 stop${1:+ $dir} stops it" >&2
}

stop() {
	(($# <= 1)) || usage
	local dir=${1:-${TMPDIR:-/tmp}/spate-kafka}
	if ! running "$dir"; then
		rm -f "$dir/broker.pid"
		echo "kafka: not running in $dir" >&2
		return
	fi
	local pid
	pid=$(cat "$dir/broker.pid")
	kill -TERM "$pid"
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		echo "kafka: pid $pid did not stop within 30 s: killed it" >&2
	fi
	rm -f "$dir/broker.pid" "$dir/bootstrap" "$dir/sasl-bootstrap" "$dir/ssl-bootstrap" "$dir/sasl-ssl-bootstrap"
}

# restart stops the broker and starts it again on its log directory, ports
# and configuration.
restart() {
	(($# <= 1)) || usage
	local dir=${1:-${TMPDIR:-/tmp}/spate-kafka}
	[[ -s $dir/server.properties && -s $dir/bootstrap ]] || die "no broker started in $dir: run $0 start${1:+ $1} first"
	local keep f saved=()
	keep=$(cat "$dir/bootstrap")
	for f in sasl-bootstrap ssl-bootstrap sasl-ssl-bootstrap; do
		[[ ! -s $dir/$f ]] || saved+=("$f=$(cat "$dir/$f")")
	done
	stop "$dir"
	echo "$keep" >"$dir/bootstrap"
	for f in "${saved[@]}"; do
		echo "${f#*=}" >"$dir/${f%%=*}"
	done
	local opts=${SPATE_KAFKA_JAVA_OPTS:--Xmx256m -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:MaxDirectMemorySize=128m}
	opts="$opts -Dlog4j2.configurationFile=$dir/log4j2.properties"
	launch "$dir" "$opts" "$(classpath)"
	echo "KAFKA_BOOTSTRAP_SERVERS=$keep"
}

env_() {
	(($# <= 1)) || usage
	local dir=${1:-${TMPDIR:-/tmp}/spate-kafka}
	[[ -s $dir/bootstrap ]] && running "$dir" || die "not running in $dir: run $0 start${1:+ $1} first"
	echo "KAFKA_BOOTSTRAP_SERVERS=$(cat "$dir/bootstrap")"
	[[ ! -s $dir/sasl-bootstrap ]] || echo "KAFKA_SASL_BOOTSTRAP_SERVERS=$(cat "$dir/sasl-bootstrap")"
	[[ ! -s $dir/ssl-bootstrap ]] || echo "KAFKA_SSL_BOOTSTRAP_SERVERS=$(cat "$dir/ssl-bootstrap")"
	[[ ! -s $dir/sasl-ssl-bootstrap ]] || echo "KAFKA_SASL_SSL_BOOTSTRAP_SERVERS=$(cat "$dir/sasl-ssl-bootstrap")"
	[[ ! -s $dir/ssl-bootstrap ]] || echo "KAFKA_TLS_DIR=$dir/tls"
	return 0
}

cmd=${1:-}
[[ -n $cmd ]] || usage
shift
case $cmd in
start) start "$@" ;;
stop) stop "$@" ;;
restart) restart "$@" ;;
env) env_ "$@" ;;
*) usage ;;
esac
