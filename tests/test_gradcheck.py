"""Whole-network backpropagation against central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from nnmath import Network, activations, gradcheck
from nnmath.network import numerical_gradient

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "silu"]
# (output activation, loss, kind of target)
OUTPUTS = [
    ("sigmoid", "binary_cross_entropy", "binary"),
    ("softmax", "cross_entropy", "onehot"),
    ("identity", "mse", "real"),
    ("identity", "squared_error", "real"),
    ("identity", "huber", "real"),
    ("identity", "mae", "far"),
    ("exp", "poisson", "counts"),
    ("sigmoid", "mse", "binary"),
]


@pytest.mark.parametrize(
    ("output", "loss", "kind"), OUTPUTS, ids=[f"{o}+{l}" for o, l, _ in OUTPUTS]
)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_network_gradients(hidden, output, loss, kind, make_targets):
    # A fixed seed whose data and weights are clear of the relu / leaky_relu kinks:
    # no hidden z lies within ε = 1e-6 of 0 (asserted below), so central differences
    # never straddle a kink.
    rng = np.random.default_rng(2024)
    k = 3
    net = Network([3, 5, k], activation=hidden, output_activation=output, loss=loss, random_state=1)
    X = rng.normal(size=(8, 3))
    y = make_targets(kind, rng, 8, k)
    z1 = X @ net.W[0] + net.b[0]
    assert np.abs(z1).min() > 1e-3
    sw = rng.uniform(0.5, 2.0, 8)
    assert gradcheck(net, X, y) < 1e-6
    assert gradcheck(net, X, y, alpha=0.1, sample_weight=sw) < 1e-6


def test_deep_network_with_mixed_activations():
    rng = np.random.default_rng(7)
    net = Network(
        [4, 6, 5, 4, 3],
        activation=["tanh", "leaky_relu", "sigmoid"],
        output_activation="softmax",
        loss="cross_entropy",
        random_state=3,
    )
    X = rng.normal(size=(10, 4))
    y = np.eye(3)[rng.integers(0, 3, 10)]
    assert gradcheck(net, X, y, alpha=0.01, sample_weight=rng.uniform(0.5, 2, 10)) < 1e-6


def test_soft_targets_for_cross_entropy():
    # probability targets (rows summing to 1), not only one-hot
    rng = np.random.default_rng(1)
    net = Network(
        [3, 4, 3],
        activation="tanh",
        output_activation="softmax",
        loss="cross_entropy",
        random_state=0,
    )
    X = rng.normal(size=(6, 3))
    y = rng.dirichlet(np.ones(3), size=6)
    assert gradcheck(net, X, y) < 1e-6


def test_numerical_gradient_of_linear_least_squares_in_closed_form():
    # One identity layer with the article's MSE: C = (1/n) Σ (xᵢ·w + b − yᵢ)², so
    # ∂C/∂w = (2/n) Xᵀ(Xw + b − y) and ∂C/∂b = (2/n) Σ (Xw + b − y).
    rng = np.random.default_rng(0)
    net = Network([3, 1], activation="identity", loss="mse", random_state=0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    w, b = net.W[0][:, 0], net.b[0][0]
    r = X @ w + b - y
    expected = np.concatenate([2 / 6 * X.T @ r, [2 / 6 * r.sum()]])
    np.testing.assert_allclose(numerical_gradient(net, X, y), expected, rtol=1e-7)
    _, grads = net.cost_and_gradients(X, y)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]), expected, rtol=1e-12)


def test_logistic_regression_gradient_in_closed_form():
    # Sigmoid + binary cross-entropy: ∂C/∂z = (ŷ − y)/n, so ∂C/∂w = Xᵀ(ŷ − y)/n.
    rng = np.random.default_rng(0)
    net = Network([3, 1], activation="sigmoid", loss="binary_cross_entropy", random_state=0)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, 6).astype(float)
    y_hat = 1 / (1 + np.exp(-(X @ net.W[0][:, 0] + net.b[0][0])))
    expected = np.concatenate([X.T @ (y_hat - y) / 6, [(y_hat - y).sum() / 6]])
    _, grads = net.cost_and_gradients(X, y)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]), expected, rtol=1e-12)


class _WrongSigmoid(activations.Sigmoid):
    """A sigmoid whose derivative is off by a factor of 2: gradcheck must notice."""

    def backward(self, dC_da, a, inplace=False):
        return 2 * dC_da * a * (1 - a)


def test_gradcheck_detects_a_wrong_derivative():
    rng = np.random.default_rng(0)
    net = Network(
        [3, 4, 1], activation=_WrongSigmoid(), output_activation="identity", random_state=0
    )
    assert gradcheck(net, rng.normal(size=(5, 3)), rng.normal(size=5)) > 0.1


def test_gradcheck_leaves_parameters_unchanged():
    rng = np.random.default_rng(0)
    net = Network([3, 4, 2], activation="tanh", random_state=0)
    before = net.theta.copy()
    gradcheck(net, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    np.testing.assert_array_equal(net.theta, before)


def test_gradcheck_detects_one_wrong_bias_gradient(monkeypatch):
    # Backpropagation right everywhere but one bias component, off by 10 %.
    rng = np.random.default_rng(0)
    net = Network([3, 4, 2], activation="tanh", output_activation="identity", random_state=0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    right = net.cost_and_gradients

    def wrong(*args, **kwargs):
        cost, grads = right(*args, **kwargs)
        grads[-1][0] *= 1.1
        return cost, grads

    assert gradcheck(net, X, y) < 1e-6
    monkeypatch.setattr(net, "cost_and_gradients", wrong)
    assert gradcheck(net, X, y) > 1e-5  # far above the 1e-6 threshold and the 1e-9 noise


def test_gradcheck_on_every_array_library(array_library):
    xp, device = array_library
    net = Network(
        [3, 4, 2],
        activation="tanh",
        output_activation="softmax",
        loss="cross_entropy",
        random_state=0,
        xp=xp,
        device=device,
    )
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 3))
    y = np.eye(2)[rng.integers(0, 2, 5)]
    assert gradcheck(net, X, y, alpha=0.1) < 1e-6
