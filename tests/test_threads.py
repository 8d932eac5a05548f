"""The BLAS thread rule: chosen from the shapes, held for the fit only, and never over a
limit the user set."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from conftest import fit_quietly
from nnmath import MLPClassifier, Network
from nnmath.training import threads


def _blas_threads() -> int:
    return min(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def _threads_during_fit(layer_sizes, batch_size, **fit) -> list[int]:
    """The BLAS threads seen by a callback after each epoch of a Network fit."""
    seen: list[int] = []
    rng = np.random.default_rng(0)
    X = rng.normal(size=(batch_size * 2, layer_sizes[0]))
    y = rng.normal(size=(batch_size * 2, layer_sizes[-1]))
    net = Network(layer_sizes, activation="relu", output_activation="identity", random_state=0)
    net.fit(
        X,
        y,
        epochs=2,
        batch_size=batch_size,
        callbacks=[lambda info: seen.append(_blas_threads())],
        **fit,
    )
    return seen


@pytest.fixture(autouse=True)
def _no_user_limit(monkeypatch):
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NNMATH_BLAS_THREADS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_the_rule_reads_the_largest_product():
    sizes = [784, 256, 128, 10]
    assert threads.largest_product(sizes, 32) == 32 * 784 * 256
    below = threads.ONE_THREAD_BELOW // (784 * 256)  # the largest batch under the line
    assert threads.threads_for(sizes, below, cores=8) == 1
    assert threads.threads_for(sizes, below + 1, cores=8) == 8


def test_a_small_fit_runs_on_one_thread_and_the_limit_is_restored():
    before = _blas_threads()
    seen = _threads_during_fit([20, 16, 2], batch_size=16)
    assert seen == [1, 1]
    assert _blas_threads() == before


def test_a_large_fit_runs_on_every_core():
    cores = threads.default_blas_threads()
    if _blas_threads() < cores:
        pytest.skip("this process runs with a BLAS limit already")
    sizes = [512, 512, 2]
    batch = threads.ONE_THREAD_BELOW // (512 * 512) + 1
    assert _threads_during_fit(sizes, batch_size=batch) == [cores, cores]


def test_a_threadpoolctl_limit_of_the_user_wins():
    sizes = [512, 512, 2]
    batch = threads.ONE_THREAD_BELOW // (512 * 512) + 1
    with threadpool_limits(limits=1, user_api="blas"):
        assert _threads_during_fit(sizes, batch_size=batch) == [1, 1]


def test_the_environment_of_the_user_wins(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    before = _blas_threads()
    assert _threads_during_fit([20, 16, 2], batch_size=16) == [before, before]


def test_nnmath_blas_threads_fixes_the_count(monkeypatch):
    cores = threads.default_blas_threads()
    monkeypatch.setenv("NNMATH_BLAS_THREADS", str(cores))
    assert _threads_during_fit([20, 16, 2], batch_size=16) == [cores, cores]
    monkeypatch.setenv("NNMATH_BLAS_THREADS", "many")
    with pytest.raises(ValueError, match="NNMATH_BLAS_THREADS must be 'auto' or a number"):
        _threads_during_fit([20, 16, 2], batch_size=16)


def test_the_same_call_gives_the_same_bits():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(300, 30)), rng.integers(0, 3, 300)
    fits = [
        fit_quietly(MLPClassifier((64,), batch_size=32, max_iter=3, random_state=0), X, y)
        for _ in range(2)
    ]
    for a, b in zip(fits[0].coefs_, fits[1].coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
