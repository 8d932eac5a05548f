# Two commands do all the set-up on a fresh machine that has only python3:
#   make demo   creates .venv, installs nnmath with what the README's command-line
#               examples need (CSV/Parquet files, ONNX, plots) and runs its main job
#   make test   creates .venv, installs nnmath with its test extras, runs ruff, mypy,
#               pytest and the docs build
# and by hand:
#   make docs   builds the documentation site into docs/_build/html
#   make bench  installs the benchmarks' tables (the bench extra) and runs the benchmarks
#   make fuzz   installs atheris, fuzzes nnmath.load for FUZZ_SECONDS (default 600)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FUZZ_SECONDS ?= 600

.PHONY: demo test lint typecheck docs bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[data,onnx,plot]"
	touch $@ $(VENV)/.installed

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed-demo $(VENV)/.installed

$(VENV)/.installed-fuzz: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[fuzz]"
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-demo $(VENV)/.installed

demo: $(VENV)/.installed-demo
	$(BIN)/nnmath train
	@echo "The nnmath command is $(BIN)/nnmath; 'source $(BIN)/activate' puts it on your PATH."

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks fuzz examples docs
	$(BIN)/ruff format --check src tests benchmarks fuzz examples docs
	$(BIN)/lint-imports pyproject.toml

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

# Every warning is an error; the pages' examples and the gallery's scripts run here. Then
# the test of the built site's "previous" and "next" links reads what was just built.
docs: $(VENV)/.installed-test
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html
	NNMATH_DOCS_HTML=docs/_build/html $(BIN)/python -m pytest -q tests/test_docs.py \
		-k previous_and_next_links

# The second pass runs the tests of scikit-learn's array-API dispatch, which needs
# SciPy's array-API support switched on before SciPy is imported.
test: lint typecheck
	$(BIN)/python -m pytest
	SCIPY_ARRAY_API=1 $(BIN)/python -m pytest -q tests/test_array_api_estimators.py \
		tests/test_conformance.py -k "array_api"
	$(MAKE) docs

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-demo $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/parity.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/tables.py --repeats 5

fuzz: $(VENV)/.installed-fuzz
	$(BIN)/python fuzz/load.py -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis \
		.fuzz-corpus docs/_build docs/_generated docs/api/generated docs/auto_examples \
		docs/sg_execution_times.rst
