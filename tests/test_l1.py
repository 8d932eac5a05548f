"""The L1 penalty λ₁ Σ|W| beside scikit-learn's L2: its term, subgradient and every place
that offers it (Network, the estimators, the command, model files, explain)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import nnmath
from conftest import fit_quietly
from nnmath import MLPClassifier, MLPRegressor, Network
from nnmath.cli import main
from nnmath.core.optimizers import SGD


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _away_from_zero(net: Network, gap: float = 0.05) -> None:
    """Move every weight at least ``gap`` from 0, where |w| has no derivative."""
    for W in net.W:
        W[...] = np.where(W >= 0, 1.0, -1.0) * np.maximum(np.abs(W), gap)


def _central_differences(net: Network, X, Y, sw, alpha: float, l1: float, eps=1e-6):
    """∂C/∂θ from the objective alone (no backpropagation), one parameter at a time."""
    theta = net.theta
    saved = theta.copy()
    out = np.empty_like(saved)
    for j in range(saved.size):
        theta[j] = saved[j] + eps
        plus = net.objective(X, Y, sw, alpha, l1=l1)
        theta[j] = saved[j] - eps
        minus = net.objective(X, Y, sw, alpha, l1=l1)
        theta[j] = saved[j]
        out[j] = (plus - minus) / (2 * eps)
    return out


@pytest.mark.parametrize(
    ("sizes", "activation", "loss", "weighted", "alpha"),
    [
        ([3, 5, 2], "tanh", "mse", False, 0.0),
        ([4, 6, 3, 3], ["relu", "sigmoid"], "cross_entropy", True, 0.0),
        ([3, 4, 1], "sigmoid", "binary_cross_entropy", True, 0.3),
        ([2, 3, 3, 2], "tanh", "mse", False, 0.5),
    ],
)
def test_l1_gradient_matches_central_differences_away_from_zero(
    sizes, activation, loss, weighted, alpha
):
    rng = np.random.default_rng(7)
    out = "softmax" if loss == "cross_entropy" else None
    net = Network(sizes, activation=activation, loss=loss, output_activation=out, random_state=3)
    _away_from_zero(net)
    n = 9
    X = rng.normal(size=(n, sizes[0]))
    if loss == "cross_entropy":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, (n, sizes[-1])).astype(float)
    else:
        Y = rng.normal(size=(n, sizes[-1]))
    sw = rng.uniform(0.5, 2.0, n) if weighted else None
    l1 = 0.7
    net.backprop(X, Y, sw, alpha=alpha, l1=l1)
    analytic = net.grad.copy()
    numeric = _central_differences(net, X, Y, sw, alpha, l1)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    # and the L1 part is really there: without it the gradients differ by (λ₁/Σw)·sign(W)
    net.backprop(X, Y, sw, alpha=alpha)
    w_sum = n if sw is None else sw.sum()
    expected = np.concatenate(
        [np.concatenate([(l1 / w_sum * np.sign(W)).ravel(), np.zeros(b.size)])
         for W, b in zip(net.W, net.b, strict=True)]
    )  # fmt: skip
    np.testing.assert_allclose(analytic - net.grad, expected, rtol=1e-10, atol=1e-12)
    assert nnmath.gradcheck(net, X, Y, sample_weight=sw, alpha=alpha, l1=l1) < 1e-6


def test_one_l1_step_worked_by_hand():
    # One neuron, identity output, squared error, one sample x = (1, 2, 3), y = 1:
    #   w = (0.5, −0.25, 0), b = 0  →  ŷ = 0.5·1 − 0.25·2 + 0·3 + 0 = 0,  ŷ − y = −1
    #   mean loss (ŷ − y)² = 1;  L1 term (λ₁/n) Σ|w| = 0.1 · (0.5 + 0.25 + 0) / 1 = 0.075
    #   C = 1.075
    #   ∂/∂w of the loss 2(ŷ − y)·x = (−2, −4, −6); ∂C/∂b = 2(ŷ − y) = −2
    #   L1 subgradient (λ₁/n)·sign(w) = (0.1, −0.1, 0)   (sign(0) = 0: no pull at 0)
    #   ∂C/∂w = (−1.9, −4.1, −6)
    #   one step of gradient descent, rate 0.1: w = (0.69, 0.16, 0.6), b = 0.2
    net = Network([3, 1], activation="identity", loss="mse")
    net.W[0][:, 0] = [0.5, -0.25, 0.0]
    net.b[0][:] = 0.0
    X, Y = np.array([[1.0, 2.0, 3.0]]), np.array([[1.0]])
    assert net.l1_penalty(0.1, 1.0) == pytest.approx(0.075, abs=1e-15)
    cost = net.backprop(X, Y, l1=0.1)
    assert cost == pytest.approx(1.075, abs=1e-15)
    np.testing.assert_allclose(net.dW[0][:, 0], [-1.9, -4.1, -6.0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(net.db[0], [-2.0], rtol=0, atol=1e-15)
    SGD(learning_rate=0.1).step([net.theta], [net.grad])
    np.testing.assert_allclose(net.W[0][:, 0], [0.69, 0.16, 0.6], rtol=0, atol=1e-15)
    np.testing.assert_allclose(net.b[0], [0.2], rtol=0, atol=1e-15)
    # Network.fit takes the same step
    again = Network([3, 1], activation="identity", loss="mse")
    again.W[0][:, 0] = [0.5, -0.25, 0.0]
    again.b[0][:] = 0.0
    again.fit(X, [1.0], optimizer=SGD(learning_rate=0.1), epochs=1, l1=0.1)
    np.testing.assert_allclose(again.W[0][:, 0], [0.69, 0.16, 0.6], rtol=0, atol=1e-15)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_network_fit_refuses_a_bad_l1(bad):
    net = Network([1, 1])
    with pytest.raises(ValueError, match=r"l1 \(the L1 penalty\) must be a finite number >= 0"):
        net.fit([[0.0], [1.0]], [0.0, 1.0], l1=bad)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs", "gd"])
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_l1_zero_is_bit_identical_to_l1_unset(Estimator, solver):
    if Estimator is MLPClassifier:
        X, y = make_classification(n_samples=80, n_features=5, random_state=0)
    else:
        X, y = make_regression(n_samples=80, n_features=5, random_state=0)
        y = y / y.std()
    common = dict(hidden_layer_sizes=(7,), solver=solver, max_iter=15, random_state=2)
    unset = fit_quietly(Estimator(**common), X, y)
    zero = fit_quietly(Estimator(**common, l1=0.0), X, y)
    for a, b in zip(unset.coefs_ + unset.intercepts_, zero.coefs_ + zero.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert unset.loss_curve_ == zero.loss_curve_


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("bad", [-1.0, "big", None])
def test_estimators_refuse_a_bad_l1(Estimator, bad):
    with pytest.raises(ValueError, match=r"The 'l1' parameter of \w+ must be"):
        Estimator(l1=bad).fit([[0.0], [1.0]], [0, 1])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_l1_leaves_more_weights_near_zero_than_the_same_amount_of_l2(solver):
    X, y = load_digits(return_X_y=True)
    X, y = X[:600] / 16, y[:600]
    near_zero = {}
    for name, penalty in [("l1", dict(alpha=0.0, l1=1.0)), ("l2", dict(alpha=1.0))]:
        clf = MLPClassifier((16,), solver=solver, max_iter=100, random_state=0, **penalty)
        fit_quietly(clf, X, y)
        W = np.concatenate([w.ravel() for w in clf.coefs_])
        near_zero[name] = np.mean(np.abs(W) < 0.01)
    assert near_zero["l1"] > near_zero["l2"] + 0.1, near_zero


def test_l1_changes_the_lbfgs_objective_it_reports():
    # L-BFGS minimizes the cost with the L1 term: the loss it reports is that cost.
    X, y = make_regression(n_samples=60, n_features=4, random_state=1)
    reg = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(5,), solver="lbfgs", alpha=0.0, l1=0.5, max_iter=30, random_state=0
        ),
        X,
        y / y.std(),
    )
    net = reg.network_
    Y = (y / y.std()).reshape(-1, 1)
    assert reg.loss_ == pytest.approx(net.objective(X, Y, l1=0.5), rel=1e-12)
    plain = net.objective(X, Y)
    assert reg.loss_ == pytest.approx(
        plain + 0.5 * sum(np.abs(W).sum() for W in reg.coefs_) / len(y), rel=1e-12
    )


def test_a_model_file_round_trips_l1_and_an_older_file_loads_as_zero(tmp_path):
    X, y = make_classification(n_samples=40, n_features=4, random_state=0)
    clf = fit_quietly(MLPClassifier((4,), max_iter=5, l1=0.25, random_state=0), X, y)
    nnmath.save(clf, tmp_path / "l1.safetensors")
    loaded = nnmath.load(tmp_path / "l1.safetensors")
    assert loaded.get_params()["l1"] == 0.25
    older = nnmath.load("tests/data/0.1.0-classifier.safetensors")
    assert older.get_params()["l1"] == 0.0


def _table_file(path):
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=120), rng.normal(size=120)
    pd.DataFrame({"x1": x1, "x2": x2, "label": np.where(x1 + x2 > 0, "yes", "no")}).to_csv(
        path, index=False
    )


def test_the_command_passes_l1_to_the_estimator(tmp_path, monkeypatch, capsys):
    _table_file(tmp_path / "t.csv")
    monkeypatch.chdir(tmp_path)
    args = ["train", "t.csv", "--target", "label", "--hidden", "4", "--epochs", "5", "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert main([*args, "--l1", "0.05", "--out", "l1.safetensors"]) == 0
        assert main([*args, "--out", "none.safetensors"]) == 0
    model = nnmath.load(tmp_path / "l1.safetensors").named_steps["model"]
    assert model.get_params()["l1"] == 0.05
    default = nnmath.load(tmp_path / "none.safetensors").named_steps["model"]
    assert default.get_params()["l1"] == MLPClassifier().get_params()["l1"] == 0.0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main([*args, "--l1", "-1"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("nnmath train: error: argument --l1: expected a number >= 0, got '-1'")


def test_explain_shows_the_l1_term_in_the_cost_and_in_the_weight_gradients():
    rng = np.random.default_rng(4)
    net = Network([3, 4, 2], activation="tanh", loss="mse", random_state=1)
    net.W[0][0, 0] = 0.0  # sign(0) = 0: no pull on a weight at 0
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    trace = nnmath.explain(net, X, Y, l1_penalty=0.3)
    term = 0.3 / 5 * sum(np.abs(W).sum() for W in net.W)  # (λ₁/Σw) Σ|W|, here by hand
    step = trace.find("R₁")
    assert step.value == pytest.approx(term, rel=1e-12)
    assert step.equation == "R₁ = (λ₁/n) Σₗ Σ|Wₗ|"
    cost = trace.find("C")
    assert cost.equation.endswith(" + R₁")
    plain = nnmath.explain(net, X, Y)
    assert cost.value == pytest.approx(plain.find("C").value + term, rel=1e-12)
    for l, W in enumerate(net.W, start=1):
        grad = trace.find(f"∂C/∂W{'₁₂'[l - 1]}")
        assert grad.equation.endswith(f" + (λ₁/n)·sign(W{'₁₂'[l - 1]})")
        shown = grad.substituted[f"(λ₁/n)·sign(W{'₁₂'[l - 1]})"]
        np.testing.assert_array_equal(shown, 0.3 / 5 * np.sign(W))
        np.testing.assert_allclose(
            grad.value, plain.find(grad.symbol).value + 0.3 / 5 * np.sign(W), rtol=1e-12
        )
    assert trace.find("∂C/∂W₁").substituted["(λ₁/n)·sign(W₁)"][0, 0] == 0.0
    assert "λ₁ = 0.3 (L1)" in str(trace)
    assert trace.to_dict()["l1_penalty"] == 0.3
    assert r"R_{1} = (\lambda _{1}/n)" in trace.to_markdown()
    # without an L1 term there is no such step
    with pytest.raises(KeyError):
        plain.find("R₁")


def test_explain_takes_an_estimators_own_l1():
    X, y = make_regression(n_samples=30, n_features=3, random_state=0)
    reg = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, l1=0.2, random_state=0), X, y
    )
    trace = nnmath.explain(reg, X[:2], y[:2])
    term = 0.2 / 2 * sum(np.abs(W).sum() for W in reg.coefs_)
    assert trace.find("R₁").value == pytest.approx(term, rel=1e-12)
    assert trace.l1_penalty == 0.2
    with pytest.raises(ValueError, match="l1_penalty must be a finite number >= 0"):
        nnmath.explain(reg, X[:2], y[:2], l1_penalty=-1.0)


def _near_zero_share(net: Network) -> float:
    W = np.concatenate([W.ravel() for W in net.W])
    return float(np.mean(np.abs(W) <= 0.01))


def test_the_playground_changes_l1_and_l2_while_training_without_a_reset():
    from nnmath.playground.session import Session

    settings = {"dataset": "xor", "hidden": [8, 8], "points": 200, "learning_rate": 0.1}
    with_l1, with_l2 = Session(settings), Session(settings)
    with_l1.train(20)
    with_l2.train(20)
    np.testing.assert_array_equal(with_l1.net.theta, with_l2.net.theta)
    before = with_l1.net.theta.copy()
    with_l1.update({"l1": 0.3})
    with_l2.update({"l2": 0.3})
    for s in (with_l1, with_l2):
        assert s.epoch == 20  # not reset: the count and the weights go on
        np.testing.assert_array_equal(s.net.theta, before)
    assert with_l1.settings["l1"] == 0.3
    assert with_l2.settings["l2"] == 0.3
    with_l1.train(60)
    with_l2.train(60)
    assert with_l1.epoch == with_l2.epoch == 80
    assert _near_zero_share(with_l1.net) > _near_zero_share(with_l2.net) + 0.1
    # the math of a step shows the L1 term
    page = with_l1.explain(0)
    assert page["l1_penalty"] == 0.3
    assert any(step["name"] == "L1 term" for step in page["steps"])


@pytest.mark.parametrize("bad", [-1, 11, "x"])
def test_the_playground_refuses_a_bad_l1(bad):
    from nnmath.playground.session import SettingError, check_settings

    with pytest.raises(SettingError, match=r"l1 must be a number from 0 to 10"):
        check_settings({"l1": bad})
