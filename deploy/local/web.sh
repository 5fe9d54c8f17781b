#!/usr/bin/env bash
# The dashboard (web/): `build` writes web/dist from the merged OpenAPI document and the pinned npm
# packages; it rebuilds only when an input changed (stamp = hash of the sources and the contract).
source "$(dirname "$0")/common.sh"
WEB="$REPO_ROOT/web"
STAMP="$WEB/.build-stamp"

need_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    # Vite needs Node 20.19+ (or 22.12+).
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)||(a===20&&b>=19)||a===21?0:1)' \
      || die "Node $(node -v) is too old for Vite: install Node 20.19+ or 22.12+ (e.g. sudo apt-get install nodejs npm on Debian 13)"
    return 0
  fi
  need_apt nodejs npm
}

inputs_hash() {
  (
    cd "$WEB"
    sha256sum package.json package-lock.json tsconfig.json vite.config.ts index.html api.html openapi.json
    find src $([ -d public ] && echo public) -type f ! -name schema.d.ts | LC_ALL=C sort | xargs -r sha256sum
  ) | sha256sum | cut -c1-16
}

build() {
  need_node
  # Two builds at once (make run beside make test, a test session's fixture) would have two npm ci
  # delete each other's node_modules: one at a time, the second then finds the stamp up to date.
  exec 9>"$WEB/.build-lock"
  flock 9
  "$REPO_ROOT/deploy/local/python.sh"
  # The contract first: the client types are generated from it and a mismatch fails tsc.
  (cd "$REPO_ROOT" && "$REPO_ROOT/.venv/bin/python" -m shared.openapi "$WEB/openapi.json.tmp") \
    || die "could not generate the merged OpenAPI document"
  if [ -f "$WEB/openapi.json" ] && cmp -s "$WEB/openapi.json.tmp" "$WEB/openapi.json"; then
    rm -f "$WEB/openapi.json.tmp"   # unchanged: keep its mtime, the stamp decides
  else
    mv "$WEB/openapi.json.tmp" "$WEB/openapi.json"
  fi
  local hash; hash="$(inputs_hash)"
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ] && [ -f "$WEB/dist/index.html" ]; then
    log "web/dist is up to date"
    return 0
  fi
  local lock_hash; lock_hash="$(sha256sum "$WEB/package-lock.json" | cut -c1-16)"
  if [ ! -f "$WEB/node_modules/.tessera-$lock_hash" ]; then
    log "installing the pinned npm packages (npm ci)"
    (cd "$WEB" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
    touch "$WEB/node_modules/.tessera-$lock_hash"
  fi
  log "building web/dist"
  (cd "$WEB" && npm run --silent build) || die "the dashboard build failed"
  echo "$hash" >"$STAMP"
}

case "${1:-build}" in
  build) build ;;
  clean) rm -rf "$WEB/dist" "$STAMP" ;;
  *) echo "usage: $0 build|clean" >&2; exit 2 ;;
esac
