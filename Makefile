# One task runner. `make dev` runs the whole product locally; `make test` runs every test.
# Both create .venv and install what they need on first use (re-installed when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check

.DEFAULT_GOAL := help
.PHONY: help dev test test-unit test-integration test-infra test-console test-e2e console chromium lint format typecheck check clean-state lock faults

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.local-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[local]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml infra/package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e '.[dev]'
	cd infra && npm ci --no-audit --no-fund --loglevel=error  # the pinned CDK CLI (npm's latest is broken)
	touch $(VENV)/.local-installed $@

# The operator console (console/, issue 14): npm installs its locked packages, `npm run build`
# writes console/dist (generating the API client from docs/openapi.json first), rebuilt only
# when a source changed. Nothing prebuilt is committed.
CONSOLE_SOURCES := $(shell find console/src console/public console/scripts -type f 2>/dev/null) \
	$(wildcard console/index.html console/package.json console/vite.config.* console/tsconfig*.json \
	console/postcss.config.*) docs/openapi.json
NPM_QUIET := --no-audit --no-fund --loglevel=error

ifneq ($(wildcard console/package.json),)
console/node_modules/.installed: console/package-lock.json
	cd console && npm ci $(NPM_QUIET)
	touch $@

console/dist/index.html: console/node_modules/.installed $(CONSOLE_SOURCES)
	cd console && npm run --silent build
	touch $@

else
console/node_modules/.installed console/dist/index.html:
	@echo "no console/ in this checkout: nothing to build"
endif

console: console/dist/index.html  ## build the operator console into console/dist (csms dev serves it at /console/)

# The browser tests drive Debian's Chromium (Playwright's own browser download is not
# reachable everywhere): installed with apt-get when missing; CSMS_CHROMIUM names another.
chromium:
	@command -v chromium >/dev/null 2>&1 || [ -n "$$CSMS_CHROMIUM" ] || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Debian's chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else \
			echo "the browser tests need Chromium: apt-get install chromium (as root), or CSMS_CHROMIUM=/path/to/chrome"; exit 1; \
		fi; }

dev: $(VENV)/.local-installed console  ## run the local stack and the console (http://127.0.0.1:8180/console/) until Ctrl-C
	$(BIN)/csms dev $(ARGS)

test: $(VENV)/.dev-installed console chromium  ## run every test: the console's component tests, then pytest (browser tests included; starts its own PostgreSQL)
	[ ! -f console/package.json ] || { cd console && npm test --silent; }
	$(BIN)/pytest $(ARGS)

test-console: console/node_modules/.installed  ## the console's component tests (Vitest)
	cd console && npm test --silent

test-e2e: $(VENV)/.dev-installed console chromium  ## browser tests: headless Chromium against csms dev with simulated chargers
	$(BIN)/pytest tests/e2e $(ARGS)

test-unit: $(VENV)/.dev-installed  ## unit tests only (no network, no database)
	$(BIN)/pytest tests/unit $(ARGS)

test-integration: $(VENV)/.dev-installed  ## real PostgreSQL + real WebSocket tests
	$(BIN)/pytest tests/integration tests/local $(ARGS)

test-infra: $(VENV)/.dev-installed  ## CDK synth, assertions and cdk-nag
	$(BIN)/pytest tests/infra $(ARGS)

lint: $(VENV)/.dev-installed  ## ruff lint + format check
	$(BIN)/ruff check src functions tests infra benchmarks
	$(BIN)/ruff format --check src functions tests infra benchmarks

format: $(VENV)/.dev-installed  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src functions tests infra benchmarks
	$(BIN)/ruff format src functions tests infra benchmarks

typecheck: $(VENV)/.dev-installed  ## mypy --strict on src/ and functions/
	$(BIN)/mypy src functions

check: lint typecheck test  ## the local gate: format, lint, types, tests

lock: $(VENV)/.dev-installed  ## rewrite infra/lambda-requirements.lock (the Lambda layer: exact versions, wheel hashes) from pyproject.toml; ARGS=--upgrade for newer versions
	$(PIP) install uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.13 --python-platform aarch64-manylinux_2_28 \
		--generate-hashes --custom-compile-command "make lock" -o infra/lambda-requirements.lock $(ARGS)

clean-state:  ## delete the local stack's state (.csms/: the embedded PostgreSQL data)
	rm -rf .csms

# Benchmarks (docs/benchmarks.md): each prints its figures and never fails on timing. Loopback
# only; each starts and stops its own PostgreSQL (or uses DATABASE_URL). ARGS passes options,
# e.g. make bench-load ARGS="--chargers 2000 --duration 60".
.PHONY: bench bench-message bench-coldstart bench-load bench-storm bench-ingest bench-allocation bench-live bench-fleet

bench-message: $(VENV)/.dev-installed  ## per-action handler cost vs the ocpp library's route_message
	$(BIN)/python benchmarks/bench_message.py $(ARGS)

bench-coldstart: $(VENV)/.dev-installed  ## import + init time of each function vs python -c pass
	$(BIN)/python benchmarks/bench_coldstart.py $(ARGS)

bench-load: $(VENV)/.dev-installed  ## N chargers through the local gateway vs a stateful ocpp server
	$(BIN)/python benchmarks/bench_load.py $(ARGS)

bench-storm: $(VENV)/.dev-installed  ## every charger drops and reconnects at once
	$(BIN)/python benchmarks/bench_storm.py $(ARGS)

bench-ingest: $(VENV)/.dev-installed  ## meter samples/s through the write path vs COPY
	$(BIN)/python benchmarks/bench_ingest.py $(ARGS)

bench-live: $(VENV)/.dev-installed  ## a charger's frame to the event on an operator's live console (ADR 0025)
	$(BIN)/python benchmarks/bench_live.py $(ARGS)

bench-allocation: $(VENV)/.dev-installed  ## load allocator: one site of 500 EVSEs, a tenant of 10,000, vs a proportional split
	$(BIN)/python benchmarks/bench_allocation.py $(ARGS)

faults: $(VENV)/.dev-installed  ## fault injection: chargers through the local stack while PostgreSQL, DynamoDB, EventBridge, SQS, a function and every connection fail; exits 1 below the bar
	$(BIN)/python benchmarks/bench_faults.py $(ARGS)

bench-fleet: $(VENV)/.dev-installed  ## the fleet page's REST calls at 10,000 stations vs GET /stations/{id}, and the per-row approach it replaced
	$(BIN)/python benchmarks/bench_fleet.py $(ARGS)

bench: bench-message bench-coldstart bench-load bench-storm bench-ingest bench-allocation bench-live bench-fleet  ## every benchmark, one after the other
