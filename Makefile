# The two set-up commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
export PARLEY_ENV ?= development

.PHONY: run test lint format bench audit fuzz worker chromium wrk cluster cluster-stop

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Parley needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.runtime

## make run: install, migrate SQLite, seed the demo districts, serve on http://127.0.0.1:5000
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(FLASK) network seed --districts 200
	$(FLASK) run --host 127.0.0.1 --port 5000

## make test: install dev dependencies and Debian's tools (Chromium, Graphviz, xmlsec1, PgBouncer), run the whole suite on PostgreSQL and Redis
test: $(VENV)/.dev chromium
	PARLEY_ENV=testing $(BIN)/pytest -n auto -p no:cacheprovider $(PYTEST_ARGS)

# Debian's chromium (browser tests), graphviz (state diagrams), xmlsec1 (SAML signatures) and
# pgbouncer (the pooler's tests and make cluster), when missing.
chromium:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	command -v xmlsec1 >/dev/null || missing="$$missing xmlsec1"; \
	[ -x /usr/sbin/pgbouncer ] || missing="$$missing pgbouncer"; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,bench]'
	@touch $@ $(VENV)/.dev $(VENV)/.runtime

## make bench: generate a network of districts on the local PostgreSQL and measure every page, job and report
bench: $(VENV)/.bench wrk
	PARLEY_ENV=testing $(BIN)/python -m bench $(BENCH_ARGS)

## make cluster: a streaming replica, PgBouncer, two gunicorn instances, a worker per queue and the scheduler, on loopback
cluster: $(VENV)/.bench chromium
	$(BIN)/python -m bench.cluster start

## make cluster-stop: stop what make cluster started
cluster-stop: | $(BIN)/python
	$(BIN)/python -m bench.cluster stop

# Debian's wrk (the load generator for the page benchmarks), when missing.
wrk:
	@command -v wrk >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

## make audit: bandit (nothing of medium severity or above) and pip-audit (known vulnerabilities, exceptions in docs/security.md)
audit: $(VENV)/.dev
	$(BIN)/bandit -q -r app config wsgi.py --severity-level medium
	$(BIN)/pip-audit --strict --progress-spinner off --skip-editable $(PIP_AUDIT_IGNORES)

## make fuzz: fresh random inputs (the suite replays fixed ones): schemathesis against every API operation (1,000 cases each), every HTML form (200 each) and a long run of the panel's state machine
fuzz: $(VENV)/.dev
	PARLEY_ENV=testing PARLEY_FUZZ_EXPLORE=1 PARLEY_FUZZ_EXAMPLES=1000 PARLEY_FORM_FUZZ_EXAMPLES=200 \
		PARLEY_STATEFUL_EXAMPLES=300 PARLEY_STATEFUL_STEPS=40 \
		$(BIN)/pytest -p no:cacheprovider tests/test_api_fuzz.py tests/test_form_fuzz.py \
		tests/test_panel_state_machine.py $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(VENV)/.runtime
	$(FLASK) worker
