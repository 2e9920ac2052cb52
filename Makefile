# Two commands matter: `make run` (set up and run the main job) and `make test` (set up and test).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
DATA ?= $(abspath ../shared/data)

.PHONY: setup run test bench

$(PYTHON):
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -e ".[dev]"

setup: $(PYTHON)

run: setup
	. $(VENV)/bin/activate && mlflow run . --env-manager local

test: setup
	FORECAST_DATA_DIR=$${FORECAST_DATA_DIR:-$(DATA)} $(PYTHON) -m pytest -n 2 -q

bench: setup
	for script in benchmarks/bench_*.py; do echo "== $$script"; FORECAST_DATA_DIR=$${FORECAST_DATA_DIR:-$(DATA)} $(PYTHON) $$script; done
