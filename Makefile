# The two commands: `make run` and `make test`. Everything they need is installed and started here.
SHELL := /bin/bash
LOCAL := deploy/local
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint setup infra python stop status unit integration e2e bench

## make run: install what is missing, start Kafka, Postgres and the five services, print their URLs.
run: setup
	@$(LOCAL)/services.sh start

## make test: lint first (fails fast, before any set-up), then the same set-up and the whole suite
## (unit, integration, e2e) against the real broker and DB.
test: lint
	@$(MAKE) --no-print-directory setup
	@$(LOCAL)/services.sh stop
	@$(LOCAL)/test.sh

## make lint: ruff and mypy, configured in pyproject.toml; both must be clean.
lint: python
	@echo "ruff check ." && $(PY) -m ruff check .
	@echo "mypy" && $(PY) -m mypy

setup: python infra

python:
	@$(LOCAL)/python.sh

infra: python
	@if [ -z "$$KAFKA_BOOTSTRAP_SERVERS" ]; then $(LOCAL)/kafka.sh start; fi
	@$(LOCAL)/postgres.sh start

stop:
	@$(LOCAL)/services.sh stop
	@$(LOCAL)/kafka.sh stop
	@$(LOCAL)/postgres.sh stop

status:
	@$(LOCAL)/kafka.sh status || true
	@$(LOCAL)/postgres.sh status || true
	@$(LOCAL)/services.sh status

unit: python
	@$(PY) -m pytest -q tests/unit

integration e2e: setup
	@$(LOCAL)/test.sh tests/$@

bench: setup
	@$(LOCAL)/services.sh stop  # bench services join the same consumer groups as `make run`'s
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
