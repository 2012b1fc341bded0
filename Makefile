# Every target installs what it needs into ./.venv (created on first use).
# A stamp per extra re-installs only when pyproject.toml changes.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# TensorFlow's C++ log level is each entry point's: the command line's is 3
# (make demo shows no TensorFlow log lines), the tests' and docs' 2.
export PYTHONHASHSEED ?= 0
# make test runs the suite in two processes (pytest-xdist), each test file in
# one of them (module fixtures such as the Dask cluster are made once):
# about a third faster on 2 cores. PYTEST_ARGS= runs it in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: demo test lint docs results bench clean help

help:
	@echo "make demo   - install and run 'skleuk demo' (built-in synthetic data, 5-fold CV)"
	@echo "make test   - install and run the test suite"
	@echo "make lint   - ruff"
	@echo "make docs   - build the Sphinx docs (warnings are errors, runs the gallery)"
	@echo "make results DATA=\"aria=DIR bccd=DIR\" - run every benchmark, regenerate"
	@echo "               every table and figure of the docs (ARGS=\"--only trust\","
	@echo "               ARGS=--docs-only to re-render from benchmarks/results/)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.stamp-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

$(VENV)/.stamp-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

demo: $(VENV)/.stamp-run
	$(BIN)/skleuk demo --out skleuk-demo --force

test: $(VENV)/.stamp-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check .

docs: $(VENV)/.stamp-docs $(VENV)/.stamp-test
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# DATA="aria=/data/aria bccd=/data/bccd": where each real data source is
# (also read from $SKLEUK_<SOURCE>_DATA); a benchmark without its data is
# skipped. See python -m benchmarks.run --help.
results: $(VENV)/.stamp-bench
	$(BIN)/python -m benchmarks.run $(foreach d,$(DATA),--data $(d)) $(ARGS)

bench: results

clean:
	rm -rf docs/_build docs/auto_examples docs/generated skleuk-demo .pytest_cache
