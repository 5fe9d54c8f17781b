#!/usr/bin/env bash
# The edge: Debian's nginx on 127.0.0.1:$EDGE_PORT serving the built dashboard (web/dist), the merged
# OpenAPI document, /config.json, and routing each /v1 prefix to its service, one origin as in production.
# Usage: deploy/local/edge.sh start|stop|status|url
# Settings: EDGE_PORT (8080), EDGE_HOST (127.0.0.1), EDGE_DIR ($TESSERA_LOCAL/edge: config, pid, logs),
# EDGE_WEB_ROOT (web/dist), AOI_PORT..CHECKOUT_PORT (8101..8105), EDGE_OIDC_ISSUER + EDGE_OIDC_CLIENT_ID
# (production sign-in, see deploy/README.md). Several edges run side by side with their own EDGE_DIR and port.
source "$(dirname "$0")/common.sh"
EDGE_PORT="${EDGE_PORT:-8080}"
EDGE_HOST="${EDGE_HOST:-127.0.0.1}"
EDGE_DIR="${EDGE_DIR:-$TESSERA_LOCAL/edge}"
EDGE_WEB_ROOT="${EDGE_WEB_ROOT:-$REPO_ROOT/web/dist}"
PY="$REPO_ROOT/.venv/bin/python"
mkdir -p "$EDGE_DIR"
EDGE_DIR="$(cd "$EDGE_DIR" && pwd)"
PIDFILE="$EDGE_DIR/nginx.pid"
URL="http://$EDGE_HOST:$EDGE_PORT"

nginx_bin() { command -v nginx 2>/dev/null || echo /usr/sbin/nginx; }

# -p keeps relative paths in the edge folder; -e replaces the compiled-in /var/log/nginx/error.log,
# which a normal user cannot open, from the first moment (before the config is read)
nginx_run() { "$(nginx_bin)" -p "$EDGE_DIR" -c "$EDGE_DIR/nginx.conf" -e "$EDGE_DIR/error.log" "$@"; }

stop() {
  if pid_alive "$PIDFILE"; then
    local pid; pid=$(cat "$PIDFILE")
    kill -QUIT "$pid" 2>/dev/null || true   # graceful: finish requests in flight
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

start() {
  [ -x "$(nginx_bin)" ] || need_apt nginx-light
  stop
  port_open "$EDGE_PORT" && die "port $EDGE_PORT for the edge is taken by another process (set EDGE_PORT)"
  mkdir -p "$EDGE_DIR/generated"
  # the API's one document, from this checkout's code (no database or broker needed)
  PYTHONPATH="$REPO_ROOT" "$PY" -m shared.openapi "$EDGE_DIR/generated/openapi.json.tmp" \
    || die "could not build the merged OpenAPI document (python -m shared.openapi)"
  mv "$EDGE_DIR/generated/openapi.json.tmp" "$EDGE_DIR/generated/openapi.json"
  echo "$EDGE_WEB_ROOT" >"$EDGE_DIR/web_root"
  [ -f "$EDGE_WEB_ROOT/index.html" ] \
    || log "warning: no dashboard in $EDGE_WEB_ROOT (build it: deploy/local/web.sh build); the API is served anyway"
  # As root, workers would otherwise run as nobody, who may not enter the checkout (a clone under
  # /root) nor read the dashboard: they run as root, listening on loopback only by default.
  local user=; is_root && user=root
  EDGE_DIR="$EDGE_DIR" EDGE_LISTEN="$EDGE_HOST:$EDGE_PORT" EDGE_WEB_ROOT="$EDGE_WEB_ROOT" EDGE_USER="$user" \
    AOI_UPSTREAM="127.0.0.1:${AOI_PORT:-8101}" TILING_UPSTREAM="127.0.0.1:${TILING_PORT:-8102}" \
    PRICING_UPSTREAM="127.0.0.1:${PRICING_PORT:-8103}" CART_UPSTREAM="127.0.0.1:${CART_PORT:-8104}" \
    CHECKOUT_UPSTREAM="127.0.0.1:${CHECKOUT_PORT:-8105}" \
    sh "$REPO_ROOT/deploy/edge/render.sh"
  nginx_run -t -q || die "nginx refused $EDGE_DIR/nginx.conf (see above)"
  nginx_run || die "nginx did not start (log: $EDGE_DIR/error.log)"
  for _ in $(seq 1 40); do
    curl -fs "$URL/config.json" >/dev/null 2>&1 && { log "edge on $URL (logs in $EDGE_DIR)"; return 0; }
    sleep 0.25
  done
  tail -20 "$EDGE_DIR/error.log" >&2 || true
  die "the edge did not answer on $URL (log: $EDGE_DIR/error.log)"
}

status() {
  if pid_alive "$PIDFILE" && curl -fs "$URL/config.json" >/dev/null 2>&1; then
    local root; root=$(cat "$EDGE_DIR/web_root" 2>/dev/null || echo "$EDGE_WEB_ROOT")
    local web="dashboard from $root"; [ -f "$root/index.html" ] || web="no dashboard built in $root"
    echo "edge: serving $URL ($web; logs in $EDGE_DIR)"
  else
    echo "edge: not running"; return 1
  fi
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;; url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
