#!/usr/bin/env bash
# The project's virtualenv (.venv) with the pinned dependencies; reinstalls only when pyproject changes.
source "$(dirname "$0")/common.sh"
VENV="$REPO_ROOT/.venv"
PY_BIN="${PYTHON_BIN:-}"
if [ -z "$PY_BIN" ]; then
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY_BIN="$c"; break; fi
  done
fi
if [ -z "$PY_BIN" ]; then need_apt python3.11 python3.11-venv; PY_BIN=python3.11; fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PY_BIN" -m venv "$VENV" 2>/dev/null || { need_apt python3-venv; "$PY_BIN" -m venv "$VENV"; }
fi
stamp="$VENV/.tessera-$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "installing pinned Python dependencies into .venv"
  "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip >/dev/null
  # The code runs from the checkout (PYTHONPATH=repo root); only the pinned dependencies are installed.
  "$VENV/bin/python" - "$REPO_ROOT/pyproject.toml" >"$VENV/requirements.txt" <<'PY'
import sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(p["dependencies"] + p["optional-dependencies"]["test"]))
PY
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$VENV/requirements.txt"
  rm -f "$VENV"/.tessera-* && touch "$stamp"
fi
