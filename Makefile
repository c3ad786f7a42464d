# Quick start: `make demo` and `make test` each set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DEMO_STAMP := $(VENV)/.installed-demo
BENCH_STAMP := $(VENV)/.installed-bench
# `make bench QUICK=1`: a quick smoke run into bench/quick/; THREADS: per library
QUICK ?=
THREADS ?= 1

.PHONY: demo test bench clean census

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[demo]' || $(BIN)/python -m pip install --quiet -e .
	touch $@ $(STAMP)

# MNIST is downloaded into ~/.cache/chainrule/mnist on first use (offline: the bundled subset)
demo: $(DEMO_STAMP)
	$(BIN)/python -m chainrule demo --plot build/demo

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

# rerun after adding rules: recomputes every status and rewrites docs/coverage.md
census: $(TEST_STAMP)
	$(BIN)/python scripts/census.py --write

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(TEST_STAMP) $(STAMP)

# runs every bench/bench_*.py and rewrites bench/RESULTS.md from their summaries
bench: $(BENCH_STAMP)
	$(BIN)/python bench/run_all.py --threads $(THREADS) $(if $(QUICK),--quick)

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache bench/quick
