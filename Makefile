# The two commands that matter: `make run` (set up and start the whole local stack)
# and `make test` (set up and run every test). Both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck unit bench-venv clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml shared/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e shared -e .
	touch $@

$(BIN)/promtool: | $(STAMP)
	tools/install-promtool.sh $(BIN)

setup: $(STAMP) $(BIN)/promtool

run: setup
	$(BIN)/python -m localedge serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check shared localedge workers tests bench

typecheck: setup
	$(BIN)/mypy

unit: setup
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest

test: lint typecheck unit

# Benchmarks run on Debian's CPython when the machine has it (about 2× pyenv's on pure Python);
# every benchmark prints the interpreter it ran on.
BENCH_PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) $(PYTHON))
BENCH_VENV   ?= .venv-bench

bench-venv: $(BENCH_VENV)/.installed

$(BENCH_VENV)/.installed: requirements.txt requirements-dev.txt $(wildcard bench/*/requirements.txt)
	$(BENCH_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt $(foreach r,$(wildcard bench/*/requirements.txt),-r $(r))
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e shared -e .
	touch $@

clean:
	rm -rf $(VENV) $(BENCH_VENV) .data
