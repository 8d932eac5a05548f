"""partial_fit validates the parameters once, and again whenever one of them changes."""

from __future__ import annotations

import numpy as np
import pytest

from nnmath import MLPClassifier, MLPRegressor

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 3))
y = X[:, 0] - X[:, 1]


def _counting(est, monkeypatch):
    calls = []
    validate = est._validate_params
    monkeypatch.setattr(est, "_validate_params", lambda: calls.append(1) or validate())
    return calls


def test_unchanged_parameters_are_validated_once(monkeypatch):
    est = MLPRegressor(hidden_layer_sizes=[4], random_state=0)
    calls = _counting(est, monkeypatch)
    for _ in range(3):
        est.partial_fit(X, y)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("alpha", -1.0, "'alpha' parameter"),
        ("learning_rate_init", 0.0, "'learning_rate_init' parameter"),
        ("momentum", 2.0, "'momentum' parameter"),
    ],
)
def test_a_parameter_changed_between_calls_is_validated_again(name, bad, message):
    est = MLPRegressor(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y)
    est.set_params(**{name: bad})
    with pytest.raises(ValueError, match=message):
        est.partial_fit(X, y)


def test_a_list_parameter_changed_in_place_is_validated_again():
    sizes = [4]
    est = MLPClassifier(hidden_layer_sizes=sizes, random_state=0)
    est.partial_fit(X, y > 0, classes=[False, True])
    sizes[0] = -2  # the same list object, now holding an invalid size
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        est.partial_fit(X, y > 0)
