# Two commands a new user needs: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format clean benchmarks

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/stylecast demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check stylecast tests benchmarks
	$(BIN)/ruff format --check stylecast tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format stylecast tests benchmarks
	$(BIN)/ruff check --fix stylecast tests benchmarks

clean:
	rm -rf $(VENV) demo_runs .pytest_cache
