#!/usr/bin/env bash
# A project-local PostgreSQL cluster (Debian's package) on 127.0.0.1:$PG_PORT.
# Usage: deploy/local/postgres.sh start|stop|status|url
# Own data directory under $TESSERA_LOCAL/pg, own port, password auth over TCP, socket inside the
# data directory: nothing system-wide changes. As root (CI) the server runs as the unprivileged
# user `nobody`, because PostgreSQL refuses to run as root.
source "$(dirname "$0")/common.sh"
RUN_AS="${PG_RUN_AS:-$(is_root && echo nobody || id -un)}"

as_owner() {
  # from / : the caller's working directory may be one the run-as user cannot enter
  if [ "$RUN_AS" = "$(id -un)" ]; then "$@"; else (cd / && runuser -u "$RUN_AS" -- "$@"); fi
}

# Where the cluster lives. Normally $TESSERA_LOCAL/pg. As root the server runs as `nobody`, which
# cannot reach it when a parent directory is closed to other users (a clone in /root, or in a
# `mktemp -d` folder): initdb then fails. In that case the cluster lives in
# /var/tmp/tessera-pg-<hash of the $TESSERA_LOCAL path>/ instead, created 0700 and owned by the
# run-as user. Why there: it is still one directory per checkout (the hash) and stable between
# runs, so start/stop/status/url always find the same cluster; /var/tmp survives a reboot (unlike
# /run and often /tmp); and nothing of the user's own directories changes. Granting `nobody`
# traversal with setfacl/chmod on the parents would also work, but it silently widens access to
# the user's home or private folders, which is the more surprising side effect.
# An existing cluster is always used where it is, so a choice once made does not move.
pg_home() {
  local dir here real hash away
  dir="$(cd "$TESSERA_LOCAL" && pwd)"; here="$dir/pg"
  real="$(cd "$TESSERA_LOCAL" && pwd -P)"
  hash="$(printf '%s' "$real" | sha256sum | cut -c1-12)"
  away="/var/tmp/tessera-pg-$hash"
  if [ -f "$here/data/PG_VERSION" ] && as_owner test -r "$here/data/PG_VERSION"; then echo "$here"
  elif [ -f "$away/data/PG_VERSION" ]; then echo "$away"
  elif [ "$RUN_AS" = "$(id -un)" ] || as_owner test -x "$dir"; then echo "$here"
  else echo "$away"; fi
}
PGDIR="$(pg_home)"
DATA="$PGDIR/data"
LOGFILE="$PGDIR/postgres.log"

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

url() { echo "postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"; }

BINDIR="$(find_bindir || true)"
ensure_binaries() {
  [ -n "$BINDIR" ] && return 0
  need_apt postgresql
  BINDIR="$(find_bindir)" || die "PostgreSQL binaries not found after installing the postgresql package"
}

running() { [ -n "$BINDIR" ] && [ -f "$DATA/PG_VERSION" ] && as_owner "$BINDIR/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  log "creating project-local cluster in $DATA (first run only)"
  if [ "$PGDIR" != "$TESSERA_LOCAL/pg" ]; then
    log "$RUN_AS cannot reach $TESSERA_LOCAL (a parent directory is closed to other users): the cluster lives in $PGDIR"
    # A name in /var/tmp can be taken by anyone first: use it only if it is ours.
    mkdir -m 0700 "$PGDIR" 2>/dev/null || true
    [ -d "$PGDIR" ] && [ ! -L "$PGDIR" ] || die "$PGDIR exists and is not a directory; remove it"
    local owner; owner="$(stat -c %U "$PGDIR")"
    [ "$owner" = "$RUN_AS" ] || [ "$owner" = root ] || die "$PGDIR belongs to $owner, not $RUN_AS; remove it"
    chmod 0700 "$PGDIR"
  fi
  mkdir -p "$PGDIR"
  is_root && chown "$RUN_AS" "$PGDIR"
  local pwfile="$PGDIR/.pw"
  printf '%s\n' "$PG_PASSWORD" >"$pwfile"; is_root && chown "$RUN_AS" "$pwfile"; chmod 600 "$pwfile"
  as_owner "$BINDIR/initdb" -D "$DATA" -U "$PG_USER" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
      --auth-host=scram-sha-256 --auth-local=trust >"$PGDIR/initdb.log" 2>&1 \
    || { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  cat >>"$DATA/postgresql.conf" <<CONF
# tessera local cluster
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$DATA'
max_connections = 300
shared_buffers = 256MB
CONF
}

start() {
  if [ -n "${DATABASE_URL:-}" ]; then log "DATABASE_URL is set: using it, not starting a local cluster"; return 0; fi
  ensure_binaries
  if running; then log "PostgreSQL already running on 127.0.0.1:$PG_PORT"; return 0; fi
  port_open "$PG_PORT" && die "port $PG_PORT is taken by another process; set PG_PORT or DATABASE_URL"
  init_cluster  # the server reaches $DATA: see pg_home
  log "starting PostgreSQL ($(basename "$(dirname "$BINDIR")")) on 127.0.0.1:$PG_PORT"
  as_owner "$BINDIR/pg_ctl" -D "$DATA" -l "$LOGFILE" -o "-p $PG_PORT" -w -t 60 start >/dev/null \
    || { tail -20 "$LOGFILE" >&2; die "PostgreSQL did not start (log: $LOGFILE)"; }
  if ! as_owner "$BINDIR/psql" -h "$DATA" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
       "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1; then
    as_owner "$BINDIR/createdb" -h "$DATA" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  fi
  log "PostgreSQL ready: $(url)"
}

stop() {
  [ -n "$BINDIR" ] && running && as_owner "$BINDIR/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null && log "PostgreSQL stopped"
  return 0
}

status() {
  if running; then echo "postgres: running on 127.0.0.1:$PG_PORT ($(url)), data in $DATA"; else echo "postgres: stopped"; return 1; fi
}

case "${1:-}" in
  start) start ;; stop) stop ;; status) status ;; url) url ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
