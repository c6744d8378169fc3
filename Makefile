# bike_traffic: the two commands of the README, and the tools around them.
#   make run    set up .venv, generate the raw export if none is there, run `kedro run`
#   make test   set up .venv, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export MLFLOW_DISABLE_TELEMETRY := true
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: install run test lint bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "bike_traffic needs Python 3.11, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# The raw export is generated only when the catalog's `raw_counts` is missing
# (a real export put in data/01_raw/ is never overwritten), then the default pipeline runs.
run: install
	$(BIN)/kedro run --pipelines synthetic_raw --only-missing-outputs
	$(BIN)/kedro run

test: install
	$(BIN)/pytest

# Every benchmark at full default size; prints the figures and rewrites docs/benchmarks.md.
bench: install
	$(BIN)/kedro run --pipelines synthetic_raw --only-missing-outputs
	$(BIN)/kedro run --pipelines data_cleaning
	$(BIN)/python scripts/bench_data_cleaning.py --write-docs
	$(BIN)/python scripts/bench_models.py --write-docs
	@if [ -f scripts/bench_app.py ]; then $(BIN)/python scripts/bench_app.py --write-docs; fi

lint: install
	$(BIN)/ruff check src tests apps scripts
	$(BIN)/ruff format --check src tests apps scripts
