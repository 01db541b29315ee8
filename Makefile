# GED: development tasks (GNU make).

PYTHON ?= python3
VENV = .venv
GED_INSTANCE ?= instance
HOST ?= 127.0.0.1
PORT ?= 5000

BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
# Flask wants an absolute instance path.
GED_ENV = GED_INSTANCE="$(abspath $(GED_INSTANCE))"

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help

.PHONY: help setup venv translations run lint format test test-unit test-integration test-e2e \
	test-browser bench clean distclean

help:
	@echo "make setup             virtualenv (.venv), OCR system packages, front-end assets, catalogues"
	@echo "make translations      compile the interface catalogues (web/translations/*/messages.mo)"
	@echo "make run               init the instance, load demo data, serve on http://$(HOST):$(PORT)"
	@echo "make lint              ruff check, ruff format --check, mypy, lint-imports"
	@echo "make format            ruff format and ruff check --fix"
	@echo "make test              setup, lint, then the whole test suite"
	@echo "make test-unit | test-integration | test-e2e | test-browser"
	@echo "make bench             every bench/*/run.py;  make bench-NAME: bench/NAME/run.py"
	@echo "make clean             remove caches;  make distclean: also .venv and node_modules"

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

venv: $(STAMP)

# The .mo files are built, never committed: every clone compiles them from the .po sources.
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d web/translations

setup: $(STAMP) translations
	scripts/system-deps.sh
	scripts/assets.sh

run: setup
	$(GED_ENV) $(BIN)/ged init
	$(GED_ENV) $(BIN)/ged demo
	$(GED_ENV) $(BIN)/ged serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --config setup.cfg

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: setup lint
	$(BIN)/pytest

test-unit: setup
	$(BIN)/pytest tests/unit

test-integration: setup
	$(BIN)/pytest tests/integration

test-e2e: setup
	$(BIN)/pytest tests/e2e

test-browser: setup
	$(BIN)/pytest tests/browser

bench: setup
	@for b in bench/*/run.py; do \
		[ -f "$$b" ] || continue; \
		echo "== $$b"; \
		$(BIN)/python "$$b"; \
	done

bench-%: setup
	@if [ ! -f "bench/$*/run.py" ]; then echo "no benchmark bench/$*/run.py" >&2; exit 1; fi
	$(BIN)/python bench/$*/run.py

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache .import_linter_cache build dist
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		\( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) node_modules web/static/vendor
