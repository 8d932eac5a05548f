"""Estimators fitted on a data source read chunk by chunk (``fit_data``): the same fit
as on arrays, chunks loaded only when needed, and clear errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nnmath import MLPClassifier, MLPRegressor
from nnmath.data.sources import Chunks, InMemory


def _chunks(X, y, size, calls=None):
    parts = [(X[s : s + size], y[s : s + size], None) for s in range(0, len(X), size)]

    def loader(k):
        if calls is not None:
            calls.append(k)
        return parts[k]

    return Chunks([lambda k=k: loader(k) for k in range(len(parts))], len(X))


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * rng.normal(size=n)


def test_lbfgs_on_chunks_is_the_fit_on_arrays():
    X, y = _data()
    params = {"hidden_layer_sizes": (6,), "solver": "lbfgs", "max_iter": 30, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPRegressor(**params).fit(X, y)
        chunked = MLPRegressor(**params).fit_data(_chunks(X, y, 70))
    np.testing.assert_allclose(chunked.network_.theta, whole.network_.theta, rtol=1e-8, atol=1e-10)


def test_one_chunk_of_sgd_is_the_in_memory_fit_draw_for_draw():
    X, y = _data()
    labels = np.where(y > 0, "up", "down")
    params = {"hidden_layer_sizes": (5,), "solver": "sgd", "max_iter": 8, "random_state": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        whole = MLPClassifier(**params).fit(X, labels)
        chunked = MLPClassifier(**params).fit_data(
            _chunks(X, labels, len(X)), classes=["up", "down"]
        )
    np.testing.assert_array_equal(chunked.network_.theta, whole.network_.theta)
    assert chunked.loss_curve_ == whole.loss_curve_


def test_adam_on_chunks_learns_with_early_stopping_on_a_validation_set():
    X, y = _data(600)
    calls: list[int] = []
    reg = MLPRegressor(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.01,
        max_iter=300,
        early_stopping=True,
        random_state=0,
    ).fit_data(_chunks(X[:500], y[:500], 64, calls), validation_data=(X[500:], y[500:]))
    assert reg.score(X[500:], y[500:]) > 0.95
    assert reg.stop_reason_.startswith("validation r2 did not improve")
    assert len(reg.validation_scores_) == reg.n_iter_
    # every chunk read once per epoch (and the first once more, for the width)
    assert len(calls) == 1 + reg.n_iter_ * 8
    assert sorted(calls[1:9]) == list(range(8))
    assert calls[1:9] != list(range(8))


def test_an_empty_chunk_adds_nothing():
    X, y = _data(60)
    parts = [(X[:30], y[:30], None), (X[:0], y[:0], None), (X[30:], y[30:], None)]
    data = Chunks([lambda p=p: p for p in parts], 60)
    params = {"hidden_layer_sizes": (3,), "solver": "lbfgs", "max_iter": 20, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        chunked = MLPRegressor(**params).fit_data(data)
        whole = MLPRegressor(**params).fit(X, y)
    np.testing.assert_allclose(chunked.network_.theta, whole.network_.theta, rtol=1e-8, atol=1e-10)


def test_in_memory_data_works_too():
    X, y = _data(50)
    reg = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert reg.fit_data(InMemory(X, y)).n_features_in_ == 4


@pytest.mark.parametrize(
    ("make", "call", "message"),
    [
        (MLPClassifier, {}, "fit_data needs classes="),
        (MLPClassifier, {"classes": ["a", "b"]}, "`y` has classes not in `self.classes_`"),
        (
            MLPRegressor,
            {"data": np.ones((3, 2))},
            "must be a nnmath.data.sources.Chunks or InMemory",
        ),
        (MLPRegressor, {"early": True}, "early_stopping=True on a data source needs validation"),
    ],
    ids=["no-classes", "unknown-label", "not-data", "early-stopping"],
)
def test_fit_data_refuses_what_it_cannot_train(make, call, message):
    X, y = _data(40)
    labels = np.where(y > 0, "a", "c")
    data = call.pop("data", _chunks(X, labels if make is MLPClassifier else y, 20))
    model = make(hidden_layer_sizes=(2,), max_iter=2, early_stopping=call.pop("early", False))
    with pytest.raises((TypeError, ValueError), match=message):
        model.fit_data(data, **call)
