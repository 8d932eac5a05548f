"""Shared fixtures of the core tests: a seeded generator and central differences."""

from __future__ import annotations

import numpy as np
import pytest


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
