# Two commands do all the set-up on a fresh machine that has only python3:
#   make demo   creates .venv, installs nnmath and runs its main job
#   make test   creates .venv, installs nnmath with its test extras, runs ruff and pytest
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/nnmath train

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The second pass runs the tests of scikit-learn's array-API dispatch, which needs
# SciPy's array-API support switched on before SciPy is imported.
test: lint
	$(BIN)/python -m pytest
	SCIPY_ARRAY_API=1 $(BIN)/python -m pytest -q tests/test_array_api_estimators.py \
		tests/test_conformance.py -k "array_api"

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/parity.py
	$(BIN)/python benchmarks/scale.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache .hypothesis
