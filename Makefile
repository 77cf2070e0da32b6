# Two commands a new user needs: `make demo` and `make test`. Both set everything up first.
# The demo installs only what stylecast itself needs; the tests add the dev extras.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint format clean benchmarks

# TORCH=auto: PyTorch's CPU build where there is no NVIDIA GPU (about 2 GB of .venv instead
# of 6.6 GB), else PyPI's CUDA build; TORCH=cpu or TORCH=gpu to choose (scripts/install_torch.py).
TORCH ?= auto

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/install_torch.py --route $(TORCH)
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/stylecast demo

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check stylecast tests benchmarks scripts
	$(BIN)/ruff format --check stylecast tests benchmarks scripts

format: $(DEV_STAMP)
	$(BIN)/ruff format stylecast tests benchmarks scripts
	$(BIN)/ruff check --fix stylecast tests benchmarks scripts

clean:
	rm -rf $(VENV) demo_runs .pytest_cache
