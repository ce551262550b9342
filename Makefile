# slotail — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/slotail.yaml

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint format typecheck bench docker clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install slotail with its dev tools

run: $(STAMP) ## Backfill the bundled sample log and print the SLO table
	$(BIN)/python -m slotail.testing.traffic --out var/sample/api.log --hours 6 --seed 7 --if-missing
	$(BIN)/slotail backfill --config $(CONFIG) var/sample/api.log

test: $(STAMP) ## Run the whole test suite
	$(BIN)/pytest

test-fast: $(STAMP) ## Unit tests only
	$(BIN)/pytest tests/unit

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP) ## Reformat the code
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

typecheck: $(STAMP) ## mypy --strict over src/
	$(BIN)/mypy

bench: $(STAMP) ## Backfill throughput on a generated 1M-line file
	$(BIN)/python benchmarks/backfill_throughput.py

docker: ## Build the container image (needs a Docker engine)
	docker build -f docker/Dockerfile -t slotail:dev .

clean: ## Remove the virtualenv and generated files
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
