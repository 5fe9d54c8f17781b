#!/usr/bin/env bash
# The five Tessera services as background processes (logs and pids in $TESSERA_LOCAL/run).
# Usage: deploy/local/services.sh start|stop|status|urls
# start first stops whatever an earlier `make run` left, so the code running is always this checkout's.
# Ports: <SERVICE>_PORT (AOI_PORT 8101 ... CHECKOUT_PORT 8105); each service is told its peers' ports.
source "$(dirname "$0")/common.sh"
RUN="$TESSERA_LOCAL/run"
PY="$REPO_ROOT/.venv/bin/python"
AOI_PORT="${AOI_PORT:-8101}" TILING_PORT="${TILING_PORT:-8102}" PRICING_PORT="${PRICING_PORT:-8103}"
CART_PORT="${CART_PORT:-8104}" CHECKOUT_PORT="${CHECKOUT_PORT:-8105}"
SERVICES=(aoi:$AOI_PORT tiling:$TILING_PORT pricing:$PRICING_PORT cart:$CART_PORT checkout:$CHECKOUT_PORT)
# where a service reaches its peers over HTTP (an explicit <SERVICE>_<PEER>_URL wins)
export TILING_AOI_URL="${TILING_AOI_URL:-http://127.0.0.1:$AOI_PORT}"
export PRICING_AOI_URL="${PRICING_AOI_URL:-http://127.0.0.1:$AOI_PORT}"
export PRICING_TILING_URL="${PRICING_TILING_URL:-http://127.0.0.1:$TILING_PORT}"
export CART_AOI_URL="${CART_AOI_URL:-http://127.0.0.1:$AOI_PORT}"
export CART_TILING_URL="${CART_TILING_URL:-http://127.0.0.1:$TILING_PORT}"
export CART_PRICING_URL="${CART_PRICING_URL:-http://127.0.0.1:$PRICING_PORT}"
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
}

urls() {
  for entry in "${SERVICES[@]}"; do
    printf '  %-9s http://127.0.0.1:%s   (OpenAPI /docs, AsyncAPI /asyncapi, log %s)\n' "${entry%%:*}" "${entry##*:}" "$RUN/${entry%%:*}.log"
  done
  echo "  kafka     $KAFKA_BOOTSTRAP_SERVERS"
  echo "  postgres  $DATABASE_URL"
  echo "A token for local use: .venv/bin/python -m shared.auth mint --account demo"
}

status() {
  for entry in "${SERVICES[@]}"; do
    local name=${entry%%:*} port=${entry##*:}
    if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then echo "$name: ready on $port"; else echo "$name: not ready"; fi
  done
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;; urls) urls ;;
  *) echo "usage: $0 start|stop|status|urls" >&2; exit 2 ;;
esac
