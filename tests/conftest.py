"""Shared fixtures and helpers of the tests: a seeded generator, central differences,
targets of each kind a loss expects, a fit that ignores the ConvergenceWarning of a
deliberately short run, and scikit-learn's stopping rule written out by hand.

The helpers are plain functions (``from conftest import fit_quietly, plateau_epoch``);
the fixtures hand out the others.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a test that takes seconds (make test runs it; -m 'not slow' skips it)"
    )


#: The array libraries the core tests run on: NumPy, array_api_strict (which refuses
#: anything outside the array API standard, and whose "device1" catches arrays on the
#: wrong device) and PyTorch on the CPU (a test extra).
ARRAY_LIBRARIES = ["numpy", "array_api_strict", "torch"]


def array_library_for(name: str):
    """(xp, device) of a library named in :data:`ARRAY_LIBRARIES` (skips the test when
    it is not installed); xp is what a user passes: None for NumPy, else the module."""
    if name == "numpy":
        return None, None
    module = pytest.importorskip(name)
    return module, None


@pytest.fixture(params=ARRAY_LIBRARIES)
def array_library(request):
    """(xp, device) for each array library the core runs on (None, None is NumPy)."""
    return array_library_for(request.param)


@pytest.fixture(params=ARRAY_LIBRARIES[1:])
def other_array_library(request):
    """(xp, device) for each array library besides NumPy, for comparisons with it."""
    return array_library_for(request.param)


def to_numpy(x) -> np.ndarray:
    """An array of any library as NumPy (the tests compare on the host)."""
    from nnmath.arrays import to_numpy as convert

    return convert(x)


def fit_quietly(estimator, *args, **kwargs):
    """``estimator.fit(...)``, ignoring only the ConvergenceWarning of a deliberately
    short run (every other warning is still an error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def plateau_epoch(curve, tol, n_iter_no_change):
    """scikit-learn's rule, written out: the epoch at which the training loss has
    failed to improve on its best by tol for more than n_iter_no_change epochs (None
    when it never has)."""
    best, count = math.inf, 0
    for epoch, loss in enumerate(curve, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for every test (never the global state)."""
    return np.random.default_rng(12345)


def _central_difference(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x of a scalar function f by central differences, (f(x+ε) − f(x−ε)) / 2ε,
    one coordinate at a time (an error of O(ε²)); x is float64 and is restored."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        saved = flat[j]
        flat[j] = saved + eps
        f_plus = float(f(x))
        flat[j] = saved - eps
        f_minus = float(f(x))
        flat[j] = saved
        g[j] = (f_plus - f_minus) / (2 * eps)
    return grad


@pytest.fixture
def central_difference():
    """The finite-difference reference every gradient test compares against."""
    return _central_difference


def _make_targets(kind: str, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Targets of shape (n, k) for a loss: "binary" 0/1, "onehot" rows, "counts"
    (Poisson), "far" (±10: |ŷ − y| ≫ ε keeps mae clear of its kink at ŷ = y), or real."""
    if kind == "binary":
        return rng.integers(0, 2, (n, k)).astype(float)
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    if kind == "counts":
        return rng.poisson(2.0, (n, k)).astype(float)
    if kind == "far":
        return rng.choice([-10.0, 10.0], (n, k))
    return 2 * rng.normal(size=(n, k))


@pytest.fixture
def make_targets():
    """``make_targets(kind, rng, n, k)``: see :func:`_make_targets`."""
    return _make_targets
