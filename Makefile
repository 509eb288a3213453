# The two commands that matter: `make run` (set up and start the whole local stack)
# and `make test` (set up and run every test). Both work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck unit clean

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

clean:
	rm -rf $(VENV) .data
