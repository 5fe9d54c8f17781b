#!/usr/bin/env bash
# Apache Kafka 4.x (KRaft, one node) on 127.0.0.1 from the broker jars on Maven Central.
# Usage: deploy/local/kafka.sh start|stop|status
# The classpath is resolved once into $TESSERA_LOCAL/kafka/libs (keyed by the pom's hash), storage is
# formatted once, and a second start reuses a running broker: seconds, not minutes.
source "$(dirname "$0")/common.sh"
KDIR="$TESSERA_LOCAL/kafka"
POM="$REPO_ROOT/deploy/local/kafka/pom.xml"
PIDFILE="$KDIR/kafka.pid"
mkdir -p "$KDIR"

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM"; }

ensure_java() {
  if ! java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then need_apt openjdk-17-jre-headless; fi
  command -v mvn >/dev/null || need_apt maven
}

ensure_libs() {
  local stamp="$KDIR/libs/.pom-$(sha256sum "$POM" | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  ensure_java
  log "resolving Kafka $(kafka_version) broker jars from Maven Central (first run only)"
  rm -rf "$KDIR/libs.tmp"
  mvn -B -q -f "$POM" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$KDIR/libs.tmp" >"$KDIR/mvn.log" 2>&1 \
    || { tail -20 "$KDIR/mvn.log" >&2; die "maven could not resolve the Kafka classpath (log: $KDIR/mvn.log)"; }
  rm -rf "$KDIR/libs" && mv "$KDIR/libs.tmp" "$KDIR/libs" && touch "$stamp"
}

write_config() {
  cat >"$KDIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KDIR/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.dedupe.buffer.size=16777216
auto.create.topics.enable=false
PROPS
  cat >"$KDIR/log4j2.properties" <<'PROPS'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
PROPS
}

wait_ready() {
  local py="${PYTHON:-$REPO_ROOT/.venv/bin/python}"
  [ -x "$py" ] || py=python3
  "$py" "$REPO_ROOT/deploy/local/wait_kafka.py" "127.0.0.1:$KAFKA_PORT" 90 \
    || { tail -30 "$KDIR/kafka.log" >&2; die "Kafka did not become ready (log: $KDIR/kafka.log)"; }
}

start() {
  if pid_alive "$PIDFILE" && port_open "$KAFKA_PORT"; then
    log "Kafka $(kafka_version) already running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PIDFILE"))"; wait_ready; return 0
  fi
  port_open "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process; set KAFKA_PORT or KAFKA_BOOTSTRAP_SERVERS"
  ensure_libs; ensure_java; write_config
  local cp="$KDIR/libs/*"
  if [ ! -f "$KDIR/data/meta.properties" ]; then
    log "formatting KRaft storage (first run only)"
    local cid; cid=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java -Dlog4j2.configurationFile="$KDIR/log4j2.properties" -cp "$cp" kafka.tools.StorageTool format --standalone \
      -t "$cid" -c "$KDIR/server.properties" >"$KDIR/format.log" 2>&1 || { cat "$KDIR/format.log" >&2; die "storage format failed"; }
  fi
  log "starting Kafka $(kafka_version) on 127.0.0.1:$KAFKA_PORT"
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Dlog4j2.configurationFile="$KDIR/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$KDIR/server.properties" >"$KDIR/kafka.log" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_ready
  log "Kafka $(kafka_version) ready on 127.0.0.1:$KAFKA_PORT"
}

stop() {
  if pid_alive "$PIDFILE"; then
    local pid; pid=$(cat "$PIDFILE"); kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    log "Kafka stopped"
  fi
  rm -f "$PIDFILE"
}

status() {
  if pid_alive "$PIDFILE" && port_open "$KAFKA_PORT"; then echo "kafka $(kafka_version): running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PIDFILE"))"
  else echo "kafka: stopped"; return 1; fi
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;; version) kafka_version ;;
  *) echo "usage: $0 start|stop|status|version" >&2; exit 2 ;;
esac
