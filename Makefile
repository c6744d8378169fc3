# bike_traffic: the two commands of the README, and the tools around them.
#   make run        set up .venv, generate the raw export if none is there, run `kedro run`
#   make test       set up .venv, Airflow's venv and a browser, run the whole test suite
#   make test-fast  the inner loop: no browser, Airflow, kedro viz, notebooks or slow runs
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true
export MLFLOW_DISABLE_TELEMETRY := true
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: install run test test-fast browser lint bench airflow-venv airflow-dag

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

test: install airflow-venv browser
	$(BIN)/pytest

# About 3.5 minutes on 2 cores, against about 10 for `make test` (docs/benchmarks.md):
# unit, slice and session tests.
FAST := not browser and not airflow and not viz and not notebooks and not slow
test-fast: install
	$(BIN)/pytest -m "$(FAST)"

# The browser test's Chromium: the system's, else Playwright's own (downloaded), else
# stop at once saying how to get one.
browser: install
	@$(BIN)/python -m tests.apps.browser \
	  || ($(BIN)/python -m playwright install chromium && $(BIN)/python -m tests.apps.browser)

# Every benchmark at full default size; prints the figures and rewrites docs/benchmarks.md.
# The app is measured on the models of `make run`: on a fresh checkout (no summary.json
# yet) they are trained first. bench_models.py trains in a temporary folder of its own.
SUMMARY := data/06_models/summary.json
bench: install
	$(BIN)/kedro run --pipelines synthetic_raw --only-missing-outputs
	$(BIN)/kedro run --pipelines data_cleaning
	$(BIN)/python scripts/bench_data_cleaning.py --write-docs
	$(BIN)/python scripts/bench_models.py --write-docs
	@test -s $(SUMMARY) || $(BIN)/kedro run
	$(BIN)/python scripts/bench_app.py --write-docs

lint: install
	$(BIN)/ruff check src tests apps scripts
	$(BIN)/ruff format --check src tests apps scripts
	$(BIN)/lint-imports

# Apache Airflow in a virtual environment of its own (its pins clash with the project's).
# It only schedules: every task of the DAG runs `kedro` from $(VENV) (docs/monitoring.md).
# tests/test_airflow_dag.py runs its `airflow` from BIKE_TRAFFIC_AIRFLOW_VENV.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_VERSION := 3.3.2
export BIKE_TRAFFIC_AIRFLOW_VENV := $(abspath $(AIRFLOW_VENV))

airflow-venv: $(AIRFLOW_VENV)/.installed

$(AIRFLOW_VENV)/.installed:
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install --quiet "apache-airflow==$(AIRFLOW_VERSION)"
	touch $@

# Regenerate the weekly DAG airflow/dags/bike_traffic_retrain_dag.py (commit it);
# `make airflow-dag AIRFLOW_ENV=prod` writes the prod one beside it.
AIRFLOW_ENV ?= local
airflow-dag: install
	$(BIN)/kedro airflow create --pipelines retrain --group-by namespace --env $(AIRFLOW_ENV) \
		--jinja-file airflow/dag_template.j2 --target-dir airflow/dags
