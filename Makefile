# Herald: `make dev` runs the whole system locally; `make test` runs every test.
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

.PHONY: help dev test test-fast lint bench redis venv sam-venv clean

help:
	@echo "make dev    - the whole system on this machine (moto, Redis, API, tick, worker, sandbox)"
	@echo "make test   - install what the tests need, make sure Redis answers, run the suite"
	@echo "make lint   - ruff and mypy"
	@echo "make bench  - benchmarks, each printing JSON"

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

test: venv sam-venv redis
	SAM_CLI_TELEMETRY=0 $(PY) -m pytest --cov --cov-report=term $(PYTEST_ARGS)

test-fast: venv redis
	$(PY) -m pytest -q -m "not sam and not e2e" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check layers functions tests bench
	$(VENV)/bin/mypy

# Options pass through, e.g. `make dev DEV_ARGS="--port 8080 --no-sandbox"`.
dev: venv
	$(PY) -m herald.local.stack $(DEV_ARGS)

bench: venv redis
	@for script in bench/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage
