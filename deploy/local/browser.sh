#!/usr/bin/env bash
# The browser the dashboard's tests and bench/web.py drive: Debian's Chromium, headless, through the
# Python playwright package. Playwright's own browser download is not reachable from our machines, so
# the tests launch /usr/bin/chromium (executable_path) and `playwright install` is never run.
source "$(dirname "$0")/common.sh"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  need_apt chromium
fi
[ -x "$CHROMIUM" ] || die "$CHROMIUM missing after installing Debian's chromium"
