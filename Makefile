# The two commands: `make run` and `make test`. Everything they need is installed and started here.
SHELL := /bin/bash
LOCAL := deploy/local
PY := .venv/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: run test lint lint-api setup infra python web stop status unit integration e2e bench

## make run: install what is missing, build the dashboard, start Kafka, Postgres, the five services and
## the edge (nginx, one origin), give the demo account credit, print the dashboard's signed-in URL first.
run: setup web
	@$(LOCAL)/services.sh start
	@$(LOCAL)/edge.sh start
	@echo
	@$(PY) $(LOCAL)/demo.py "$$($(LOCAL)/edge.sh url)"
	@echo
	@echo "Tessera is running:"
	@echo "  edge      $$($(LOCAL)/edge.sh url)   (dashboard, API docs /docs, /openapi.json, every /v1 route)"
	@$(LOCAL)/services.sh urls
	@echo "Stop everything: make stop"

## make test: lint first (fails fast, before any set-up), then the same set-up and the whole suite
## (unit, integration, e2e) against the real broker and DB; Spectral on the merged OpenAPI before the suite.
test: lint
	@$(MAKE) --no-print-directory setup web
	@$(LOCAL)/spectral.sh
	@$(LOCAL)/services.sh stop
	@$(LOCAL)/test.sh

## make lint: ruff and mypy, configured in pyproject.toml; both must be clean.
lint: python
	@echo "ruff check ." && $(PY) -m ruff check .
	@echo "mypy" && $(PY) -m mypy

## make lint-api: Spectral's OpenAPI ruleset on the merged document (no errors allowed; part of make test).
lint-api: python
	@$(LOCAL)/spectral.sh

setup: python infra

python:
	@$(LOCAL)/python.sh

## the dashboard (web/dist), served by the edge; rebuilt only when its sources or the API changed
web: python
	@if [ -f web/package.json ]; then $(LOCAL)/web.sh build; \
	 else echo "web/package.json is missing: no dashboard to build (the edge serves the API alone)"; fi

infra: python
	@if [ -z "$$KAFKA_BOOTSTRAP_SERVERS" ]; then $(LOCAL)/kafka.sh start; fi
	@$(LOCAL)/postgres.sh start

stop:
	@$(LOCAL)/edge.sh stop
	@$(LOCAL)/services.sh stop
	@$(LOCAL)/kafka.sh stop
	@$(LOCAL)/postgres.sh stop

status:
	@$(LOCAL)/kafka.sh status || true
	@$(LOCAL)/postgres.sh status || true
	@$(LOCAL)/services.sh status
	@$(LOCAL)/edge.sh status || true

unit: python
	@$(PY) -m pytest -q tests/unit

integration e2e: setup
	@$(LOCAL)/test.sh tests/$@

bench: setup
	@$(LOCAL)/services.sh stop  # bench services join the same consumer groups as `make run`'s
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
