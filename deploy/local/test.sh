#!/usr/bin/env bash
# Runs the test suite against the local Kafka and Postgres (started by `make setup`).
# pytest's exit code 5 (no tests collected) is a failure here: a run that tests nothing must not pass.
source "$(dirname "$0")/common.sh"
export PYTHONPATH="$REPO_ROOT"
export KAFKA_BOOTSTRAP_SERVERS="${KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:$KAFKA_PORT}"
export DATABASE_URL="${DATABASE_URL:-$("$REPO_ROOT/deploy/local/postgres.sh" url)}"
echo "Testing against Kafka $("$REPO_ROOT/deploy/local/kafka.sh" version) at $KAFKA_BOOTSTRAP_SERVERS and $DATABASE_URL"
cd "$REPO_ROOT"
"$REPO_ROOT/deploy/local/browser.sh"  # the dashboard's tests drive Debian's Chromium (tests/browser)
set +e
"$REPO_ROOT/.venv/bin/python" -m pytest -p no:cacheprovider "${@:-tests}" -ra
rc=$?
set -e
if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi
exit $rc
