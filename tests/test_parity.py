"""Parity with scikit-learn's accuracy on its bundled data sets.

A fast subset of benchmarks/parity.py, through the script's own functions (same
splits, scaling and hyperparameters): iris, breast cancer and diabetes, solvers adam
and lbfgs, seeds 0 and 1. The target is the script's: nnmath's mean test accuracy ≥
scikit-learn's − 1 point (R² ≥ scikit-learn's − 0.02). Run the full grid with
``python benchmarks/parity.py``. Two cases of its ``--same-model`` half (the same
model for the same random_state) are checked too.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "parity.py"


def _load_parity():
    spec = importlib.util.spec_from_file_location("nnmath_benchmarks_parity", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


parity = _load_parity()

CELLS = [
    ("iris", "adam"),
    ("iris", "lbfgs"),
    ("breast_cancer", "adam"),
    ("breast_cancer", "lbfgs"),
    ("diabetes", "adam"),
    ("diabetes", "lbfgs"),
]
SEEDS = (0, 1)


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """The matrices here are tiny: extra BLAS threads only add wake-up latency, and on a
    busy machine they make each fit (and scipy's L-BFGS-B) many times slower."""
    with threadpool_limits(1):
        yield


@pytest.mark.parametrize(("dataset", "solver"), CELLS, ids=[f"{d}-{s}" for d, s in CELLS])
def test_nnmath_matches_sklearn(dataset, solver):
    row = parity.compare(dataset, solver, seeds=SEEDS)
    margin = parity.MARGIN[row.metric]
    assert row.nnmath >= row.sklearn - margin, parity.markdown([row])
    # a sanity floor, so that two equally broken estimators cannot pass together
    floor = 0.85 if row.metric == "accuracy" else 0.0
    assert row.sklearn > floor, parity.markdown([row])
    assert row.nnmath > floor, parity.markdown([row])


def test_table_is_markdown():
    row = parity.Row("iris", "adam", "accuracy", 0.95, 0.97, 0.2, 0.1, 2)
    header, rule, line = parity.markdown([row]).splitlines()
    assert header.startswith("| data set |")
    assert rule.startswith("|---|")
    assert line.count("|") == header.count("|")
    assert "| 95.00 | 97.00 | +2.00 | PASS" in line
    assert parity.Row("diabetes", "sgd", "r2", 0.5, 0.47, 1, 1, 2).passed is False


def test_quick_option_selects_the_subset(monkeypatch, capsys):
    calls = []

    def fake_compare(dataset, solver, seeds):
        calls.append((dataset, solver, tuple(seeds)))
        metric = "r2" if dataset in parity.REGRESSION else "accuracy"
        return parity.Row(dataset, solver, metric, 0.9, 0.9, 0.1, 0.1, len(seeds))

    monkeypatch.setattr(parity, "compare", fake_compare)
    assert parity.main(["--quick"]) == 0
    assert {c[0] for c in calls} == set(parity.QUICK["datasets"])
    assert {c[1] for c in calls} == set(parity.SOLVERS)
    assert all(c[2] == tuple(parity.QUICK["seeds"]) for c in calls)
    assert "| iris | accuracy % | adam |" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["lbfgs sample weights", "sgd momentum"])
def test_same_model_case_meets_its_target(name):
    case = next(c for c in parity.SAME_CASES if c[0] == name)
    row = parity.same_model(case)
    assert row.n_iter[0] == row.n_iter[1] > 1, parity.same_markdown([row])
    assert row.rows_differing == 0, parity.same_markdown([row])
    assert row.max_difference < 1e-6, parity.same_markdown([row])
    assert row.passed


def test_same_model_table_is_markdown():
    row = parity.SameRow("adam binary", "iris", "float32", (5, 6), 0, 150, 2e-4, 0.2, 0.1)
    header, rule, line = parity.same_markdown([row]).splitlines()
    assert line.count("|") == header.count("|") == rule.count("|")
    assert "| 5 / 6 (DIFFERENT) | 0 of 150 | 2.0e-04 | FAIL |" in line
    assert parity.SameRow("a", "iris", "float32", (5, 5), 0, 150, 2e-4, 0.2, 0.1).passed
