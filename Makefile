# Roadmap Tracker. `make run` sets everything up and serves on http://127.0.0.1:5000;
# `make test` sets up the same way, lints, then runs the tests on SQLite and on PostgreSQL.
# Every set-up step is skipped when it has nothing to do, so running either again is fast.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
# The steps depend on one another (packages before the venv, the venv before flask); keep order.
.NOTPARALLEL:
MAKEFLAGS += --no-builtin-rules

# Debian's own Python when it is 3.11 or newer: built with profile-guided optimisation, it lays
# out a board report about 7% faster than a Python built without it (pyenv's default build).
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && echo /usr/bin/python3 || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
INSTANCE := $(or $(TRACKER_INSTANCE_PATH),instance)
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2

PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
BENCH_ARGS ?=
FAILOVER_ARGS ?=
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

# Pango and HarfBuzz's subsetter for WeasyPrint (PDF reports), fonts it can embed (Liberation has
# Arial's metrics), Chromium for the browser tests, Poppler's pdftotext for the PDF tests,
# redis-server, which the Redis tests start when no Redis answers (under CI no test may skip),
# and HAProxy, in front of the two nodes of the failover check (`make failover`).
DEBIAN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
	fonts-dejavu-core fonts-liberation chromium poppler-utils redis-server haproxy

# What `npm run build` reads and writes (see scripts/build-assets.mjs).
ASSET_SOURCES := package.json scripts/build-assets.mjs $(shell find assets -type f 2>/dev/null)
ASSET_OUTPUTS := static/css/tracker.css static/govuk/govuk-frontend.min.js \
	static/vendor/accessible-autocomplete/accessible-autocomplete.min.js
# Rebuild when an output has gone, even if the stamp is newer than every source.
ASSETS_MISSING := $(filter-out $(wildcard $(ASSET_OUTPUTS)),$(ASSET_OUTPUTS))
# plotly.js, copied from the plotly Python package for the dashboards (see its rule below).
PLOTLY_JS := static/vendor/plotly.min.js

.PHONY: help run test lint fmt bench bench-smoke bench-periods failover setup system-packages python-deps assets instance-config \
	database test-sqlite test-postgres FORCE

help: ## Show this list of targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

# gunicorn rather than `flask run`: no debugger, no development-server warning, no version in
# the Server header. --no-control-socket: gunicorn 27 otherwise opens one in ~/.gunicorn/.
# No access log: invitation and reset links carry their single-use token in the path.
# The demo accounts are made here only (never by `make test` or `make database`); the seed
# refuses a database that holds any account that is not a demo account.
# --timeout 120: a worker's first board report PDF (fonts, the chart browser, forty pages of
# layout) can take longer than gunicorn's default 30 s on two busy cores.
run: setup database ## Set up (packages, venv, assets, config, database), seed the demo and serve on http://127.0.0.1:5000
	$(FLASK) demo seed
	@echo "Serving Roadmap Tracker on http://$(HOST):$(PORT) (Ctrl-C to stop)"
	exec $(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS) --timeout 120 \
		--no-control-socket app:app

test: setup database lint test-sqlite test-postgres ## Set up, lint (ruff, formatting, import contract), then run the tests on SQLite and PostgreSQL

lint: python-deps ## Check the code: ruff (lint and formatting) and the import contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: python-deps ## Format the code and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Not part of `make test` (minutes, and the figures depend on the machine); tests/test_bench_smoke.py
# runs `bench-smoke`'s seconds-long version. See docs/performance.md.
bench: setup ## Benchmark at national scale on SQLite and PostgreSQL (gunicorn, 2 workers); prints p50/p95/p99
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-smoke: setup ## A seconds-long run of the benchmark script (checks that it works)
	$(BIN)/python -m bench.run --smoke

bench-periods: setup ## Time opening a period for 153 councils on SQLite and PostgreSQL (target < 2 s)
	$(BIN)/python -m bench.periods $(BENCH_ARGS)

# Not part of `make test` either (a minute and a half); tests/test_failover_smoke.py runs a
# 12-second version on the PostgreSQL pass. Exits 1 when a check fails. See bench/failover.py.
failover: setup ## Run the two-node failover check: PostgreSQL, Redis, RQ worker, two gunicorn nodes, HAProxy; 60 s, 50 users
	$(BIN)/python -m bench.failover $(FAILOVER_ARGS)

setup: system-packages python-deps assets instance-config ## Install what is missing; no database changes

database: setup ## Apply migrations and load the roadmap, the CQC framework and councils (idempotent)
	$(FLASK) db upgrade
	$(FLASK) roadmap load
	$(FLASK) frameworks load
	$(FLASK) councils load

# The failover smoke test starts a PostgreSQL cluster of its own (or uses the server at
# 127.0.0.1:5432): it runs once, on the PostgreSQL pass.
test-sqlite: setup ## Run every test (browser checks included, the failover smoke not) on SQLite
	@echo "== pytest on SQLite"
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not failover" $(PYTEST_ARGS)

# PostgreSQL is optional on a developer's machine and required under CI. The browser checks ran
# in the SQLite pass; they exercise pages, not the database, so they are not repeated here.
test-postgres: setup ## Run the tests (not the browser checks) on PostgreSQL at 127.0.0.1:5432
	@if $(BIN)/python scripts/postgres-check.py "$(TEST_POSTGRES_URL)"; then \
		echo "== pytest on PostgreSQL"; \
		TEST_DATABASE_URL="$(TEST_POSTGRES_URL)" \
			$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser" $(PYTEST_ARGS); \
	elif [ -n "$${CI:-}" ] && [ "$${CI}" != false ] && [ "$${CI}" != 0 ]; then \
		echo "PostgreSQL is required under CI, and $(TEST_POSTGRES_URL) is not reachable." >&2; \
		exit 1; \
	else \
		echo "== PostgreSQL pass skipped: $(TEST_POSTGRES_URL) is not reachable."; \
	fi

system-packages:
	@command -v npm >/dev/null || scripts/system-packages.sh nodejs npm
	@scripts/system-packages.sh $(DEBIAN_PACKAGES)

python-deps: $(VENV)/.installed

assets: node_modules/.built $(PLOTLY_JS)

instance-config: $(INSTANCE)/config.py

$(BIN)/python:
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/system-packages.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip

# Editable, with the test tools, so that one install serves `make run` and `make test`.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# `npm ci` empties node_modules first, so the build stamp below goes with it.
node_modules/.installed: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

# plotly.js for the dashboards' charts, served by us from the plotly Python package (never a CDN);
# scripts/vendor-plotly.py explains the copy.
$(PLOTLY_JS): $(VENV)/.installed scripts/vendor-plotly.py
	$(BIN)/python scripts/vendor-plotly.py $@

node_modules/.built: node_modules/.installed $(ASSET_SOURCES) $(if $(ASSETS_MISSING),FORCE)
	npm run build
	@touch $@

# Written once with a random SECRET_KEY and never overwritten (the target has no prerequisites).
$(INSTANCE)/config.py:
	$(PYTHON) scripts/dev-config.py $@

FORCE:
