# Herald: `make dev` runs the whole system locally; `make check` is the fast inner loop (unit
# tests, no sockets); `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.12 (see template.yaml); the project's venv uses the same version.
PYTHON ?= $(shell command -v python3.12 >/dev/null 2>&1 && python3.12 -c 'print(1)' >/dev/null 2>&1 && echo python3.12 || (ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | tail -1) || echo python3)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
REDIS_URL ?= redis://127.0.0.1:6379/0
export PATH := $(abspath $(VENV)/bin):$(dir $(PYTHON)):$(PATH)

.PHONY: help dev dashboard chromium check test test-fast lint audit fuzz load soak bench burst redis venv sam-venv clean

help:
	@echo "make dev    - the whole system on this machine (moto, Redis, API, tick, worker, sandbox)"
	@echo "make check - the unit tests: no sockets, no Redis, under a minute"
	@echo "make test   - install what the tests need, make sure Redis answers, run the suite"
	@echo "make lint   - ruff, mypy and pip-audit"
	@echo "make bench  - benchmarks, each printing JSON"
	@echo "make burst  - 200 and 1,000 posts due at one second, through the local stack (minutes)"
	@echo "make fuzz   - schemathesis over every API operation, longer than in make test"
	@echo "make load   - load test of the API over HTTP (wrk, fixed rate, 1,000-request burst)"
	@echo "make soak   - posts through the local stack under faults, then a ledger check"
	@echo "make audit  - pip-audit of the layer's pins against PyPI's advisory data"

$(VENV)/.installed: requirements-dev.txt layers/herald/requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# The package is the layer's folder, as on Lambda; a .pth puts it (and the repo) on the path.
	$(PY) -c 'import site,pathlib; pathlib.Path(site.getsitepackages()[0],"herald-dev.pth").write_text("$(CURDIR)/layers/herald\n$(CURDIR)\n")'
	@touch $@

venv: $(VENV)/.installed

# aws-sam-cli pins boto3, click and pydantic: it lives in its own virtual environment.
$(SAM_VENV)/.installed: requirements-sam.txt
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-sam.txt
	@touch $@

sam-venv: $(SAM_VENV)/.installed

redis:
	@$(PY) -m herald.local.redis_up

# The dashboard (dashboard/, served by the API at /app): node modules as locked, the built files,
# and Debian's Chromium for its browser tests. Without node these steps say so and pass; the
# dashboard's tests then skip and the API runs without /app.
DASHBOARD_BUILD := layers/herald/herald/api/static/index.html
DASHBOARD_SOURCES := $(wildcard dashboard/src/*.* dashboard/src/*/*.*) dashboard/index.html dashboard/vite.config.ts

dashboard/node_modules/.package-lock.json: dashboard/package-lock.json
	@if command -v npm >/dev/null; then cd dashboard && npm ci --no-audit --no-fund; else echo "npm not found: skipping the dashboard"; fi

$(DASHBOARD_BUILD): dashboard/node_modules/.package-lock.json $(DASHBOARD_SOURCES)
	@if command -v npm >/dev/null; then cd dashboard && npm run build; fi

dashboard: $(DASHBOARD_BUILD)

chromium:
	@if command -v npm >/dev/null && ! test -x /usr/bin/chromium; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi

# Tiers come from where a test lives (tests/tiers.py): unit, contract, integration, e2e, browser,
# sam. `make check` is the unit tier alone; it needs no Redis, and its guard fails a unit test that
# opens a socket. `make test` is every tier and is what CI runs.
check: venv
	$(PY) -m pytest -q -m unit tests/unit $(PYTEST_ARGS)

test: venv sam-venv redis dashboard chromium
	SAM_CLI_TELEMETRY=0 $(PY) -m pytest --cov --cov-report=term $(PYTEST_ARGS)

test-fast: venv redis
	$(PY) -m pytest -q -m "not sam and not e2e and not browser" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check layers functions tests bench
	$(VENV)/bin/mypy
	$(MAKE) --no-print-directory audit AUDIT_STRICT=

# The layer's pins against PyPI's advisory data. A known vulnerability always fails. `make audit`
# is --strict (a package that could not be looked up fails too); `make lint` is not, so a machine
# that cannot reach the advisory data still lints, with pip-audit's warning naming what it skipped.
AUDIT_STRICT ?= --strict
audit: venv
	$(VENV)/bin/pip-audit $(AUDIT_STRICT) --progress-spinner off --vulnerability-service pypi \
		-r layers/herald/requirements.txt

# Every operation of the OpenAPI description, longer than `make test` runs it (cases per operation).
FUZZ_EXAMPLES ?= 200
fuzz: venv redis
	HERALD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -o timeout=900 tests/fuzz $(PYTEST_ARGS)

# The API over HTTP (uvicorn, moto server, the sandbox, real Redis on LOAD_REDIS_URL): a ramp with
# wrk, a fixed rate and a 1,000-request burst; prints JSON. wrk comes from Debian's packages.
LOAD_REDIS_URL ?= redis://127.0.0.1:6379/13
load: venv redis
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	LOAD_REDIS_URL=$(LOAD_REDIS_URL) $(PY) -m bench.load.run $(LOAD_ARGS)

# Posts through the whole local stack under sandbox faults, the worker processes SIGKILLed in 1%
# of their batches and a Redis outage (its own redis-server), then a ledger check against the
# sandbox's record; bounded, prints JSON. Larger runs pace creation so the queue stays shallow
# (moto's SQS costs grow with its depth), e.g. SOAK_ARGS="--posts 5000 --create-rate 2
# --spread-seconds 600 --workers 4 --tick-seconds 60 --deadline-seconds 4500".
SOAK_ARGS ?= --posts 1000
soak: venv
	$(PY) bench/soak.py $(SOAK_ARGS)

# Options pass through, e.g. `make dev DEV_ARGS="--port 8080 --no-sandbox"`.
dev: venv dashboard
	$(PY) -m herald.local.stack $(DEV_ARGS)

# bench_burst.py runs the whole local stack for minutes: `make burst`, not part of this.
bench: venv redis
	@for script in $(filter-out bench/bench_burst.py,$(wildcard bench/bench_*.py)); do $(PY) $$script || exit 1; done

# Posts due at the same second through the local stack (moto, five worker processes, the sandbox
# answering each publish in 200 ms): lateness percentiles, none early, none twice. Prints JSON.
BURST_ARGS ?= --posts 200 1000
burst: venv redis
	$(PY) bench/bench_burst.py $(BURST_ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage
