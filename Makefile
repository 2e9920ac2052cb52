# Two commands matter: `make run` (set up and run the main job) and `make test` (set up and test).
VENV ?= .venv
PYTHON := $(VENV)/bin/python
# Real data: $FORECAST_DATA_DIR, else ../shared/data beside the checkout when it exists, else
# forecast's user cache dir (exported empty). `make data` fetches what is missing there.
export FORECAST_DATA_DIR ?= $(wildcard $(abspath ../shared/data))

.PHONY: setup data run test test-fast lint docs bench

# Reinstalled when pyproject.toml changes (new dependencies or extras).
$(VENV)/.installed: pyproject.toml
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -e ".[dev,docs]"
	touch $@

setup: $(VENV)/.installed

# The pinned EWP files, sha256-verified; downloads only the missing ones ($FORECAST_DATA_MIRROR
# replaces the upstream location).
data: setup
	$(VENV)/bin/forecast data fetch ewp-2025
	$(VENV)/bin/forecast data fetch ewp-editions

# Filed in the MLflow experiment named after the spec, so the launched run is the backtest's
# parent run (without the flag it lands in Default and links to the parent it logged).
run: setup
	. $(VENV)/bin/activate && mlflow run . --env-manager local --experiment-name synthetic-default

# Without the pinned files (offline, no mirror) the realdata tests are skipped with one summary
# line; FORECAST_TEST_STRICT=1 (set by CI) makes a missing file or browser a failure instead.
test: setup
	@$(MAKE) --no-print-directory data || echo "make test: the pinned EWP files are not available; the realdata tests will be skipped (see the summary line)"
	$(PYTHON) -m pytest -n 2 -q

# Style and types: ruff (rules in pyproject.toml), ruff format, mypy (basic mode) on forecast/.
lint: setup
	$(VENV)/bin/ruff check forecast tests benchmarks scripts
	$(VENV)/bin/ruff format --check forecast tests benchmarks scripts
	$(VENV)/bin/mypy

# The documentation site (site/): strict, so a warning, a broken internal link or anchor fails.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Local loop: everything but the tests marked slow.
test-fast: setup
	@$(MAKE) --no-print-directory data || echo "make test-fast: the pinned EWP files are not available; the realdata tests will be skipped"
	$(PYTHON) -m pytest -n 2 -q -m "not slow"

bench: data
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(PYTHON) $$script; done
