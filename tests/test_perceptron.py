"""The article's perceptron: one gradient step worked by hand, Rosenblatt's rule,
the classifier's contract and its bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nnmath import SGD, Network, Perceptron

# The article's tiny data set: two samples, two features
X_TINY = np.array([[1.0, 2.0], [2.0, -1.0]])
Y_TINY = np.array([1.0, 0.0])
AND = (np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0, 0, 0, 1]))
OR = (AND[0], np.array([0, 1, 1, 1]))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _glorot_draw(seed, n_in):
    """The perceptron's documented initial weights: Glorot uniform from
    default_rng(seed), r = √(6/(n_in + 1)), and b = 0."""
    r = math.sqrt(6 / (n_in + 1))
    return np.random.default_rng(seed).uniform(-r, r, size=n_in), 0.0


def _gd_step_by_hand(w, b, X, y, alpha):
    """One full-batch step on C = (1/n) Σ (y − ŷ)², written as the chain rule."""
    n = len(y)
    z = X @ w + b  # z = w·x + b
    y_hat = _sigmoid(z)  # ŷ = σ(z)
    dC_dyhat = 2 * (y_hat - y) / n  # ∂C/∂ŷ = (2/n)(ŷ − y)
    dyhat_dz = y_hat * (1 - y_hat)  # ∂ŷ/∂z = σ(z)(1 − σ(z))
    delta = dC_dyhat * dyhat_dz  # ∂C/∂z
    dC_dw = X.T @ delta  # ∂z/∂w = x
    dC_db = delta.sum()  # ∂z/∂b = 1
    return w - alpha * dC_dw, b - alpha * dC_db, float(np.mean((y - y_hat) ** 2))


def test_one_step_of_the_article_worked_by_hand():
    # w = [0.5, −0.5], b = 0, α = 0.1; x₁ = [1, 2], y₁ = 1; x₂ = [2, −1], y₂ = 0
    # z  = w·x + b:            z₁ = 0.5 − 1 = −0.5;        z₂ = 1 + 0.5 = 1.5
    # ŷ  = σ(z):               ŷ₁ = 0.377540669;           ŷ₂ = 0.817574476
    # L  = (y − ŷ)²:           L₁ = 0.387455619;           L₂ = 0.668428024
    # C  = (L₁ + L₂)/2 = 0.527941822
    # ∂C/∂ŷ = (2/n)(ŷ − y):    −0.622459331;              0.817574476
    # ∂ŷ/∂z = ŷ(1 − ŷ):        0.235003712;               0.149146452
    # ∂C/∂z = product:         −0.146280254;              0.121938332
    # ∂z/∂w = x, ∂z/∂b = 1:
    # ∂C/∂w = −0.146280254·[1, 2] + 0.121938332·[2, −1] = [0.097596411, −0.414498839]
    # ∂C/∂b = −0.146280254 + 0.121938332 = −0.024341921
    # w ← w − α ∂C/∂w = [0.5 − 0.0097596411, −0.5 + 0.0414498839] = [0.490240359, −0.458550116]
    # b ← b − α ∂C/∂b = 0.0024341921
    net = Network([2, 1], activation="sigmoid", loss="mse")
    net.W[0][:, 0] = [0.5, -0.5]
    net.b[0][0] = 0.0
    np.testing.assert_allclose(net.forward(X_TINY)[:, 0], [0.377540669, 0.817574476], rtol=1e-9)
    C, (dC_dW, dC_db) = net.cost_and_gradients(X_TINY, Y_TINY)
    assert C == pytest.approx(0.527941822, rel=1e-9)
    np.testing.assert_allclose(dC_dW[:, 0], [0.097596411, -0.414498839], rtol=1e-8)
    assert dC_db[0] == pytest.approx(-0.024341921, rel=1e-8)
    history = net.fit(X_TINY, Y_TINY, optimizer=SGD(learning_rate=0.1), epochs=1, tol=None)
    np.testing.assert_allclose(net.W[0][:, 0], [0.490240359, -0.458550116], rtol=1e-9)
    assert net.b[0][0] == pytest.approx(0.0024341921, rel=1e-8)
    assert history.loss_curve == pytest.approx([0.527941822], rel=1e-9)


def test_perceptron_takes_the_same_step():
    # Perceptron(max_iter=1) from its documented initial weights takes exactly the
    # step of the chain rule above.
    w0, b0 = _glorot_draw(3, 2)
    w1, b1, C0 = _gd_step_by_hand(w0, b0, X_TINY, Y_TINY, 0.1)
    clf = Perceptron(learning_rate=0.1, max_iter=1, tol=None, random_state=3).fit(X_TINY, Y_TINY)
    np.testing.assert_allclose(clf.coef_, w1, rtol=1e-12)
    assert clf.intercept_ == pytest.approx(b1, rel=1e-12, abs=1e-15)
    assert clf.loss_curve_ == pytest.approx([C0], rel=1e-12)


def test_second_iteration_is_one_more_step():
    # Independent of the initial weights: iteration 2 starts where iteration 1 ended.
    X, y = AND[0], AND[1].astype(float)
    one = Perceptron(learning_rate=0.5, max_iter=1, tol=None, random_state=0).fit(X, y)
    two = Perceptron(learning_rate=0.5, max_iter=2, tol=None, random_state=0).fit(X, y)
    w2, b2, C1 = _gd_step_by_hand(one.coef_, one.intercept_, X, y, 0.5)
    np.testing.assert_allclose(two.coef_, w2, rtol=1e-12)
    assert two.intercept_ == pytest.approx(b2, rel=1e-12)
    assert two.loss_curve_[1] == pytest.approx(C1, rel=1e-12)


def test_one_rosenblatt_pass_by_hand():
    # w ← w + α(y − ŷ)x and b ← b + α(y − ŷ), one sample at a time, ŷ = step(w·x + b)
    X, y = AND
    w, b = _glorot_draw(5, 2)
    for x_i, y_i in zip(X, y, strict=True):
        y_hat = 1.0 if x_i @ w + b >= 0 else 0.0
        w = w + 0.1 * (y_i - y_hat) * x_i
        b = b + 0.1 * (y_i - y_hat)
    clf = Perceptron(activation="step", learning_rate=0.1, max_iter=1, tol=None, random_state=5)
    clf.fit(X, y)
    np.testing.assert_allclose(clf.coef_, w, rtol=1e-12)
    assert clf.intercept_ == pytest.approx(b, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("data", [AND, OR], ids=["AND", "OR"])
def test_rosenblatt_learns_and_or(data):
    X, y = data
    clf = Perceptron(activation="step", random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), y)
    assert clf.stop_reason_ == "no misclassified samples in a full pass (converged)"
    assert len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_curve_[-1] == 0.0  # every sample right: C = 0
    assert not hasattr(clf, "predict_proba")  # a step gives no probability


def test_sigmoid_gradient_descent_learns_separable_data(rng):
    X = np.vstack([rng.normal([-2, -2], 0.5, (20, 2)), rng.normal([2, 2], 0.5, (20, 2))])
    y = np.repeat([0, 1], 20)
    clf = Perceptron(learning_rate=0.5, max_iter=300, tol=None, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), y)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_tol_none_runs_exactly_max_iter():
    clf = Perceptron(max_iter=37, tol=None, random_state=0).fit(*AND)
    assert clf.n_iter_ == 37
    assert len(clf.loss_curve_) == 37


def test_converges_on_tol():
    clf = Perceptron(learning_rate=1.0, max_iter=100000, tol=1e-4, random_state=0).fit(*OR)
    assert clf.n_iter_ < 100000
    assert len(clf.loss_curve_) == clf.n_iter_
    assert "improved by less than tol=0.0001" in clf.stop_reason_


def test_warns_when_max_iter_ends_training():
    with pytest.warns(ConvergenceWarning, match="max_iter=2 reached before convergence"):
        Perceptron(max_iter=2, random_state=0).fit(*AND)


def test_string_classes():
    X, y = AND[0], np.array(["no", "no", "no", "yes"])
    clf = Perceptron(activation="step", random_state=0).fit(X, y)
    assert clf.classes_.tolist() == ["no", "yes"]
    assert clf.predict(X).tolist() == ["no", "no", "no", "yes"]


def test_more_than_two_classes_one_vs_rest(rng):
    centers = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 5.0]])
    X = np.vstack([rng.normal(c, 0.5, (15, 2)) for c in centers])
    y = np.repeat(["a", "b", "c"], 15)
    clf = Perceptron(learning_rate=0.5, max_iter=500, tol=None, random_state=0).fit(X, y)
    assert clf.coef_.shape == (3, 2)
    assert clf.intercept_.shape == (3,)
    np.testing.assert_array_equal(clf.predict(X), y)
    P = clf.predict_proba(X)
    assert P.shape == (45, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    # one neuron per class: z = X Wᵀ + b, one column per class
    np.testing.assert_allclose(clf.decision_function(X), X @ clf.coef_.T + clf.intercept_)


def test_predict_proba_and_decision_function(rng):
    X, y = rng.normal(size=(10, 3)), np.array([0, 1] * 5)
    clf = Perceptron(max_iter=20, tol=None, random_state=0).fit(X, y)
    z = clf.decision_function(X)
    np.testing.assert_allclose(z, X @ clf.coef_ + clf.intercept_, rtol=1e-12)  # z = w·x + b
    P = clf.predict_proba(X)
    assert P.shape == (10, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(P[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)  # ŷ = σ(z)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[(z >= 0).astype(int)])
    assert isinstance(clf.intercept_, float)
    assert clf.coef_.shape == (3,)


def test_float32_in_float32_out():
    X = AND[0].astype(np.float32)
    clf = Perceptron(max_iter=5, tol=None, random_state=0).fit(X, AND[1])
    assert clf.coef_.dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32
    assert clf.decision_function(X).dtype == np.float32


def test_same_seed_same_weights():
    a = Perceptron(max_iter=10, tol=None, random_state=42).fit(*AND)
    b = Perceptron(max_iter=10, tol=None, random_state=42).fit(*AND)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    c = Perceptron(max_iter=10, tol=None, random_state=43).fit(*AND)
    assert not np.array_equal(a.coef_, c.coef_)


# ---------------------------------------------------------------- bad input
def test_nan_in_X():
    X = AND[0].copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Perceptron().fit(X, AND[1])


def test_inf_in_X():
    X = AND[0].copy()
    X[1, 1] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        Perceptron().fit(X, AND[1])


def test_wrong_number_of_dimensions():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        Perceptron().fit(np.ones(4), AND[1])


def test_wrong_number_of_features_at_predict():
    clf = Perceptron(activation="step", random_state=0).fit(*AND)
    with pytest.raises(ValueError, match="X has 3 features, but Perceptron is expecting 2"):
        clf.predict(np.ones((2, 3)))


def test_X_and_y_of_different_lengths():
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[4, 3\]"):
        Perceptron().fit(AND[0], AND[1][:3])


def test_no_samples():
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        Perceptron().fit(np.empty((0, 2)), np.empty(0))


def test_one_class():
    with pytest.raises(ValueError, match="y has only one class .*needs at least two"):
        Perceptron().fit(AND[0], np.ones(4))


@pytest.mark.parametrize("rate", [0.0, -0.5])
def test_learning_rate_must_be_positive(rate):
    with pytest.raises(ValueError, match="'learning_rate' parameter of Perceptron must be"):
        Perceptron(learning_rate=rate).fit(*AND)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="'activation' parameter of Perceptron must be .*'step'"):
        Perceptron(activation="relu").fit(*AND)
