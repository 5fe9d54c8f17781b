#!/bin/sh
# Renders the edge's nginx.conf from nginx.conf.template and writes /config.json, from the
# environment. Plain sh and sed: the same script runs in the compose image, which has no Python.
#   EDGE_DIR (required)        state: nginx.conf, pid, temp files, logs unless set below
#   EDGE_LISTEN                address:port or port nginx listens on (127.0.0.1:8080)
#   EDGE_WEB_ROOT              the built dashboard (web/dist)
#   EDGE_GENERATED             folder of config.json and openapi.json ($EDGE_DIR/generated)
#   AOI_UPSTREAM ... CHECKOUT_UPSTREAM   host:port of each service
#   EDGE_ACCESS_LOG, EDGE_ERROR_LOG      ($EDGE_DIR/access.log, $EDGE_DIR/error.log)
#   EDGE_USER                  worker user, when nginx starts as root
#   EDGE_OIDC_ISSUER, EDGE_OIDC_CLIENT_ID   both set: the dashboard signs in with OpenID Connect
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${EDGE_DIR:?EDGE_DIR must name the edge state folder}"
EDGE_LISTEN=${EDGE_LISTEN:-127.0.0.1:8080}
EDGE_WEB_ROOT=${EDGE_WEB_ROOT:-$here/../../web/dist}
EDGE_GENERATED=${EDGE_GENERATED:-$EDGE_DIR/generated}
EDGE_ACCESS_LOG=${EDGE_ACCESS_LOG:-$EDGE_DIR/access.log}
EDGE_ERROR_LOG=${EDGE_ERROR_LOG:-$EDGE_DIR/error.log}
EDGE_MIME_TYPES=${EDGE_MIME_TYPES:-/etc/nginx/mime.types}
issuer=${EDGE_OIDC_ISSUER:-}
client_id=${EDGE_OIDC_CLIENT_ID:-}

fail() { echo "[edge] ERROR: $*" >&2; exit 1; }
# a value as a JSON string's content
json() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
# a value as sed's replacement text (delimiter |)
sedval() { printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'; }

mkdir -p "$EDGE_DIR/tmp" "$EDGE_GENERATED"

csp_idp=
if [ -n "$issuer" ] || [ -n "$client_id" ]; then
  [ -n "$issuer" ] && [ -n "$client_id" ] || fail "set both EDGE_OIDC_ISSUER and EDGE_OIDC_CLIENT_ID (or neither, for demo sign-in)"
  case "$issuer" in https://*|http://localhost*|http://127.0.0.1*) ;;
    *) fail "EDGE_OIDC_ISSUER must be an https:// URL (got $issuer)" ;; esac
  # the page fetches discovery, keys and tokens from the provider: the CSP must allow its origin
  csp_idp=" $(printf '%s' "$issuer" | sed -E 's#^(https?://[^/]+).*#\1#')"
  printf '{"auth": {"mode": "oidc", "issuer": "%s", "client_id": "%s"}}\n' \
    "$(json "$issuer")" "$(json "$client_id")" >"$EDGE_GENERATED/config.json.tmp"
else
  printf '{"auth": {"mode": "demo"}}\n' >"$EDGE_GENERATED/config.json.tmp"
fi
mv "$EDGE_GENERATED/config.json.tmp" "$EDGE_GENERATED/config.json"

user_directive=
[ -n "${EDGE_USER:-}" ] && user_directive="user $EDGE_USER;"

sed -e "s|@USER_DIRECTIVE@|$(sedval "$user_directive")|" \
    -e "s|@EDGE_DIR@|$(sedval "$EDGE_DIR")|g" \
    -e "s|@EDGE_LISTEN@|$(sedval "$EDGE_LISTEN")|" \
    -e "s|@WEB_ROOT@|$(sedval "$EDGE_WEB_ROOT")|" \
    -e "s|@GENERATED@|$(sedval "$EDGE_GENERATED")|g" \
    -e "s|@ACCESS_LOG@|$(sedval "$EDGE_ACCESS_LOG")|" \
    -e "s|@ERROR_LOG@|$(sedval "$EDGE_ERROR_LOG")|" \
    -e "s|@MIME_TYPES@|$(sedval "$EDGE_MIME_TYPES")|" \
    -e "s|@CSP_IDP@|$(sedval "$csp_idp")|g" \
    -e "s|@AOI_UPSTREAM@|$(sedval "${AOI_UPSTREAM:?}")|" \
    -e "s|@TILING_UPSTREAM@|$(sedval "${TILING_UPSTREAM:?}")|" \
    -e "s|@PRICING_UPSTREAM@|$(sedval "${PRICING_UPSTREAM:?}")|" \
    -e "s|@CART_UPSTREAM@|$(sedval "${CART_UPSTREAM:?}")|" \
    -e "s|@CHECKOUT_UPSTREAM@|$(sedval "${CHECKOUT_UPSTREAM:?}")|" \
    "$here/nginx.conf.template" >"$EDGE_DIR/nginx.conf.tmp"
if grep -q '@[A-Z_]*@' "$EDGE_DIR/nginx.conf.tmp"; then
  fail "unrendered placeholder in nginx.conf: $(grep -o '@[A-Z_]*@' "$EDGE_DIR/nginx.conf.tmp" | head -1)"
fi
mv "$EDGE_DIR/nginx.conf.tmp" "$EDGE_DIR/nginx.conf"
