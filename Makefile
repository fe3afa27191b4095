# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# `make demo PORT=8001` (or HOST=0.0.0.0, or DEMO_ARGS='--seed 11') passes options to
# `vigil demo`; VIGIL_WEB__PORT in the environment works too (a flag beats it).
VENV ?= .venv
# A name on the PATH may be a shim (pyenv) that fails when run: it is tried, quietly.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 \
	&& $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& echo $$p && break; done)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench bench-quick browser-deps services clean

$(STAMP): pyproject.toml Makefile
	@test -n "$(PYTHON)" || { echo "Vigil needs Python 3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@# The tests' Sparkplug edge node encodes with pysparkplug, an independent codec. It
	@# pins paho-mqtt<2 (matteosox/pysparkplug#28) but its payload code uses no paho, so
	@# it is installed without its dependencies; Vigil itself does not import it.
	$(PY) -m pip install --quiet --no-deps 'pysparkplug==0.6.1'
	@touch $@

DEMO_FLAGS = $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST)) $(DEMO_ARGS)

# `exec`: Ctrl+C reaches vigil, which stops cleanly and exits 0, so make reports no error.
demo: $(STAMP)
	@exec $(VENV)/bin/vigil demo $(DEMO_FLAGS)

test: $(STAMP) browser-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

# Headless Chromium for the browser tests, from Debian's packages, where missing.
browser-deps:
	@scripts/ensure-chromium.sh

# Start PostgreSQL, Mosquitto and NATS where they are installed but not running.
services:
	@scripts/ensure-services.sh

bench: $(STAMP)
	$(PY) benchmarks/ingest.py

bench-quick: $(STAMP)
	$(PY) benchmarks/ingest.py --quick

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .import_linter_cache .grimp_cache
