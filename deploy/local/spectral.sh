#!/usr/bin/env bash
# Spectral (its OpenAPI ruleset, .spectral.yaml) on the merged OpenAPI document the edge serves: an
# error fails, warnings are printed. Spectral is pinned in web/package.json; web.sh build installs it.
source "$(dirname "$0")/common.sh"
SPECTRAL="$REPO_ROOT/web/node_modules/.bin/spectral"
[ -x "$SPECTRAL" ] || "$REPO_ROOT/deploy/local/web.sh" build
[ -x "$SPECTRAL" ] || die "spectral is not installed in web/node_modules (npm ci in web/)"
doc="$(mktemp --suffix=.json)"
trap 'rm -f "$doc"' EXIT
(cd "$REPO_ROOT" && "$REPO_ROOT/.venv/bin/python" -m shared.openapi "$doc") || die "could not generate the merged OpenAPI document"
log "spectral lint (OpenAPI ruleset) on the merged document"
"$SPECTRAL" lint --ruleset "$REPO_ROOT/.spectral.yaml" --fail-severity error --display-only-failures=false "$doc"
