# slotail — `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/slotail.yaml

.DEFAULT_GOAL := help
.PHONY: help install run backfill-sample test test-fast lint format typecheck bench bench-sidecar docker clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install slotail with its dev tools

run: $(STAMP) ## Run the sidecar on live demo traffic: status page and /metrics on 127.0.0.1:9464
	@$(BIN)/slotail --log-format text demo --out var/demo --history-only
	@echo "slotail: status page http://127.0.0.1:9464/  metrics http://127.0.0.1:9464/metrics  (Ctrl-C stops)"
	@trap 'kill -INT $$demo $$sidecar 2>/dev/null; wait' INT TERM; \
	$(BIN)/slotail --log-format text demo --out var/demo & demo=$$!; \
	$(BIN)/slotail --log-format text run --config $(CONFIG) --state-dir var/state \
		--backfill 'var/demo/archive/*.log.gz' & sidecar=$$!; \
	wait $$sidecar; kill -INT $$demo 2>/dev/null; wait

backfill-sample: $(STAMP) ## Backfill a generated 6-hour sample log and print the SLO table
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

typecheck: $(STAMP) ## mypy --strict over src/ and benchmarks/
	$(BIN)/mypy

# The benchmarks byte-compile src/ first, as installing a wheel does: these machines set
# PYTHONDONTWRITEBYTECODE, so an editable install would otherwise compile every module on every run.
# mtail comes from Debian (apt-get needs root); without it the benchmark skips mtail's runs.
# BENCH_ARGS passes options on, e.g. make bench BENCH_ARGS="--case iso-ids --repeat 3".
bench: $(STAMP) ## Backfill throughput, 4 cases on two generated 1M-line corpora: slotail, orjson loop, mtail
	@command -v mtail >/dev/null || apt-get install -y -q mtail >/dev/null || \
		echo "make bench: no mtail (apt-get install mtail needs root); its runs are skipped"
	$(BIN)/python -m compileall -q src
	$(BIN)/python benchmarks/backfill_throughput.py $(BENCH_ARGS)

bench-sidecar: $(STAMP) ## Sidecar cost: CPU at 1k/20k lines/s, detection latency, scrape time, RSS
	$(BIN)/python -m compileall -q src
	$(BIN)/python benchmarks/sidecar_cost.py

docker: ## Build the container image (needs a Docker engine)
	docker build -f docker/Dockerfile -t slotail:dev .

clean: ## Remove the virtualenv and generated files
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
