#!/usr/bin/env bash
# The five Tessera services as background processes (logs and pids in $TESSERA_LOCAL/run).
# Usage: deploy/local/services.sh start|stop|status
# start first stops whatever an earlier `make run` left, so the code running is always this checkout's.
source "$(dirname "$0")/common.sh"
RUN="$TESSERA_LOCAL/run"
PY="$REPO_ROOT/.venv/bin/python"
SERVICES=(aoi:8101 tiling:8102 pricing:8103 cart:8104 checkout:8105)
mkdir -p "$RUN"
export PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
export DATABASE_URL="${DATABASE_URL:-$("$REPO_ROOT/deploy/local/postgres.sh" url)}"

stop() {
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} pidfile="$RUN/${entry%%:*}.pid"
    if pid_alive "$pidfile"; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  for entry in "${SERVICES[@]}"; do
    local pidfile="$RUN/${entry%%:*}.pid"
    for _ in $(seq 1 40); do pid_alive "$pidfile" || break; sleep 0.25; done
    pid_alive "$pidfile" && kill -9 "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
}

start() {
  stop
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    local upper; upper=$(echo "$name" | tr a-z A-Z)
    port_open "$port" && die "port $port for $name is taken by another process"
    env "${upper}_PORT=$port" nohup "$PY" -m "services.$name" >"$RUN/$name.log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
  done
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:} ok=
    for _ in $(seq 1 120); do
      if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ok=1; break; fi
      pid_alive "$RUN/$name.pid" || break
      sleep 0.5
    done
    [ -n "$ok" ] || { tail -30 "$RUN/$name.log" >&2; die "$name did not become ready (log: $RUN/$name.log)"; }
  done
  echo
  echo "Tessera is running:"
  for entry in "${SERVICES[@]}"; do
    printf '  %-9s http://127.0.0.1:%s   (OpenAPI /docs, AsyncAPI /asyncapi, log %s)\n' "${entry%%:*}" "${entry##*:}" "$RUN/${entry%%:*}.log"
  done
  echo "  kafka     $KAFKA_BOOTSTRAP_SERVERS"
  echo "  postgres  $DATABASE_URL"
  echo "A token for local use: .venv/bin/python -m shared.auth mint --account demo"
  echo "Stop everything: make stop"
}

status() {
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then echo "$name: ready on $port"; else echo "$name: not ready"; fi
  done
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
