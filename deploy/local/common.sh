# Sourced by the deploy/local scripts: one place for paths, ports and small helpers.
# Everything lives under $TESSERA_LOCAL (default <repo>/.local, ignored by git).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TESSERA_LOCAL="${TESSERA_LOCAL:-$REPO_ROOT/.local}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# below the kernel's ephemeral range (32768+): a client retrying while the server restarts could
# otherwise be given the server's own port as its source port and keep the server from binding it
PG_PORT="${PG_PORT:-25432}"
PG_USER="${PG_USER:-tessera}"
PG_PASSWORD="${PG_PASSWORD:-tessera}"
PG_DB="${PG_DB:-tessera}"
mkdir -p "$TESSERA_LOCAL"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# Install Debian packages only when missing; as a normal user, say exactly what to install.
need_apt() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if is_root; then
    log "installing ${missing[*]} (apt)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
      apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    fi
  else
    die "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
