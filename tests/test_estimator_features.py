"""nnmath's additions to scikit-learn's MLPs, each checked against an
independent computation: dropout, per-layer activations, losses, an explicit validation
set, scoring and early stopping, callbacks, verbose output, stop_reason_, Ctrl-C and
learning-rate schedules.

scikit-learn parity of the shared parameters lives in test_estimators.py and the
conformance suite in test_conformance.py.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import sklearn.neural_network
from scipy.special import expit, huber, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    accuracy_score,
    get_scorer,
    log_loss,
    mean_absolute_error,
    mean_poisson_deviance,
    mean_squared_error,
    r2_score,
)
from sklearn.preprocessing import LabelBinarizer

from conftest import fit_quietly, plateau_epoch
from nnmath import MLPClassifier, MLPRegressor, gradcheck
from nnmath.core.optimizers import Adaptive, Cosine

# ---------------------------------------------------------------------------- data
_rng = np.random.default_rng(0)
X_CLS = _rng.normal(size=(90, 4))
Y_BIN = (X_CLS[:, 0] + 0.5 * X_CLS[:, 1] > 0).astype(int)
Y_3 = np.digitize(X_CLS[:, 0] - X_CLS[:, 2], [-0.5, 0.5])  # three classes
X_CLS_VAL = _rng.normal(size=(40, 4))
Y_BIN_VAL = (X_CLS_VAL[:, 0] + 0.5 * X_CLS_VAL[:, 1] > 0).astype(int)

X_REG = _rng.normal(size=(80, 3))
Y_REG = np.sin(X_REG[:, 0]) + 0.5 * X_REG[:, 1] + 0.1 * _rng.normal(size=80)
Y_COUNTS = _rng.poisson(np.exp(0.4 * X_REG[:, 0] + 0.2 * X_REG[:, 1])).astype(float)
X_REG_VAL = _rng.normal(size=(30, 3))
Y_REG_VAL = np.sin(X_REG_VAL[:, 0]) + 0.5 * X_REG_VAL[:, 1]

# A noisy problem on which a wide network overfits within a few epochs, so that early
# stopping triggers well before max_iter (its validation score peaks early).
_Xn = np.random.default_rng(3).normal(size=(160, 8))
_yn = ((_Xn[:, 0] + _Xn[:, 1] > 0) ^ (np.random.default_rng(4).random(160) < 0.3)).astype(int)
X_NOISY, Y_NOISY, X_NOISY_VAL, Y_NOISY_VAL = _Xn[:80], _yn[:80], _Xn[80:], _yn[80:]

# The activations written out again, independently of nnmath.core.activations.
ACTIVATION = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "softmax": lambda z: softmax(z, axis=1),
    "exp": np.exp,
}


def manual_forward(est, X, hidden_activations):
    """ŷ from coefs_/intercepts_ by hand: a = σ(a W + b) layer by layer, no dropout."""
    a = X
    outputs = [*hidden_activations, est.out_activation_]
    for W, b, name in zip(est.coefs_, est.intercepts_, outputs, strict=True):
        a = ACTIVATION[name](a @ W + b)
    return a


def l2_term(est, n):
    """scikit-learn's penalty (α / 2n) Σ‖W‖², part of every cost nnmath reports."""
    return 0.5 * est.alpha * sum(float(np.sum(W * W)) for W in est.coefs_) / n


class Recorder:
    """A callback that keeps every epoch's figures and a copy of the weights."""

    def __init__(self, stop_at=None, interrupt_at=None):
        self.infos, self.thetas, self.estimators = [], [], []
        self.stop_at, self.interrupt_at = stop_at, interrupt_at

    def __call__(self, est, info):
        self.infos.append(dict(info))
        self.thetas.append(est.network_.theta.copy())
        self.estimators.append(est)
        if info["epoch"] == self.interrupt_at:
            raise KeyboardInterrupt
        return info["epoch"] == self.stop_at

    def column(self, key):
        return [info[key] for info in self.infos]


# ---------------------------------------------------------------------------- dropout
def test_dropout_is_off_at_predict():
    clf = MLPClassifier((16, 8), activation="tanh", dropout=0.5, max_iter=5, random_state=0)
    fit_quietly(clf, X_CLS, Y_3)
    assert clf.network_.dropout == [0.5, 0.5]
    first, second = clf.predict_proba(X_CLS), clf.predict_proba(X_CLS)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first, manual_forward(clf, X_CLS, ["tanh", "tanh"]), rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X_CLS), clf.classes_[first.argmax(axis=1)])


def test_dropout_changes_training_and_only_dropout_does():
    def weights(dropout):
        clf = MLPClassifier((16,), dropout=dropout, max_iter=5, random_state=0)
        return fit_quietly(clf, X_CLS, Y_BIN).network_.theta.copy()

    plain = weights(0.0)
    np.testing.assert_array_equal(weights(0.0), plain)  # same seed, same weights
    np.testing.assert_array_equal(weights([0.0]), plain)  # a zero rate drops nothing
    assert not np.allclose(weights(0.3), plain)


def test_dropout_per_layer_list():
    reg = MLPRegressor(hidden_layer_sizes=(8, 8), dropout=[0.0, 0.5], max_iter=5, random_state=0)
    fit_quietly(reg, X_REG, Y_REG)
    assert reg.network_.dropout == [0.0, 0.5]
    other = MLPRegressor(hidden_layer_sizes=(8, 8), dropout=[0.5, 0.0], max_iter=5, random_state=0)
    fit_quietly(other, X_REG, Y_REG)
    assert other.network_.dropout == [0.5, 0.0]
    assert not np.allclose(reg.network_.theta, other.network_.theta)
    np.testing.assert_array_equal(reg.predict(X_REG), reg.predict(X_REG))
    np.testing.assert_allclose(
        reg.predict(X_REG), manual_forward(reg, X_REG, ["relu", "relu"]).ravel(), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("dropout", "hidden"),
    [
        (1.0, (4,)),
        (-0.1, (4,)),
        ([0.5], (4, 4)),
        ([0.1, 0.2, 0.3], (4, 4)),
        ([0.5, 1.0], (4, 4)),
        ([0.5, -0.2], (4, 4)),
        (["0.5"], (4,)),
        ("0.5", (4,)),
    ],
)
def test_bad_dropout_raises(dropout, hidden):
    with pytest.raises(ValueError, match="dropout"):
        MLPClassifier(hidden, dropout=dropout, max_iter=2).fit(X_CLS, Y_BIN)


def test_dropout_with_lbfgs_raises():
    # L-BFGS minimizes a deterministic cost; silently ignoring dropout would mislead.
    with pytest.raises(ValueError, match="dropout.*stochastic solver"):
        MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", dropout=0.2).fit(X_REG, Y_REG)


# ---------------------------------------------------------------------------- activations
def test_per_layer_activations_classifier():
    acts = ["tanh", "relu", "logistic"]
    clf = MLPClassifier((6, 5, 4), activation=acts, max_iter=20, random_state=0)
    fit_quietly(clf, X_CLS, Y_3)
    names = [a.name for a in clf.network_.activations]
    assert names == ["tanh", "relu", "sigmoid", "softmax"]
    assert clf.out_activation_ == "softmax"
    np.testing.assert_allclose(clf.predict_proba(X_CLS), manual_forward(clf, X_CLS, acts))


def test_per_layer_activations_regressor_tuple():
    acts = ("identity", "leaky_relu")
    reg = MLPRegressor(hidden_layer_sizes=(5, 4), activation=acts, max_iter=20, random_state=0)
    fit_quietly(reg, X_REG, Y_REG)
    assert [a.name for a in reg.network_.activations] == ["identity", "leaky_relu", "identity"]
    np.testing.assert_allclose(
        reg.predict(X_REG), manual_forward(reg, X_REG, acts).ravel(), rtol=1e-12
    )


@pytest.mark.parametrize(
    "activation", [["tanh"], ["tanh", "relu", "relu"], ["tanh", "softmax"], ["tanh", "nope"], []]
)
def test_bad_activation_list_raises(activation):
    with pytest.raises(ValueError, match="activation"):
        MLPClassifier((4, 4), activation=activation, max_iter=2).fit(X_CLS, Y_BIN)


# ---------------------------------------------------------------------------- losses
LOSS_CASES = [
    # estimator, loss, targets, the Network loss it must use
    (MLPClassifier, "log_loss", Y_BIN, "binary_cross_entropy"),
    (MLPClassifier, "log_loss", Y_3, "cross_entropy"),
    (MLPClassifier, "mse", Y_BIN, "mse"),
    (MLPClassifier, "mse", Y_3, "mse"),
    (MLPRegressor, "squared_error", Y_REG, "sklearn_squared_error"),
    (MLPRegressor, "mae", Y_REG, "mae"),
    (MLPRegressor, "huber", 3 * Y_REG, "huber"),  # scaled so both branches occur
    (MLPRegressor, "poisson", Y_COUNTS, "poisson"),
]


def _loss_case_id(case):
    est, loss, y, _ = case
    return f"{est.__name__}-{loss}-{len(np.unique(y)) if est is MLPClassifier else 'reg'}"


def _network_targets(est, y):
    if isinstance(est, MLPClassifier):
        return LabelBinarizer().fit(y).transform(y).astype(float)
    return y.reshape(-1, 1)


def _fit_for_loss(Estimator, loss, y):
    X = X_CLS if Estimator is MLPClassifier else X_REG
    est = Estimator(
        hidden_layer_sizes=(3,),
        activation="tanh",
        solver="lbfgs",
        loss=loss,
        alpha=1e-2,
        max_iter=15,
        random_state=0,
    )
    return X, fit_quietly(est, X, y)


@pytest.mark.parametrize("case", LOSS_CASES, ids=_loss_case_id)
def test_each_loss_passes_the_gradient_check(case):
    Estimator, loss, y, network_loss = case
    X, est = _fit_for_loss(Estimator, loss, y)
    net = est.network_
    assert net.dtype == np.float64
    assert net.loss.name == network_loss
    error = gradcheck(net, X, _network_targets(est, y), alpha=est.alpha)
    assert error < 1e-6, f"{loss}: backpropagation disagrees with finite differences ({error})"


def _cost_by_hand(est, loss, X, y):
    """The per-sample mean of each loss, from predictions, by scikit-learn/scipy."""
    if isinstance(est, MLPClassifier):
        P = est.predict_proba(X)
        if loss == "log_loss":
            return log_loss(y, P)
        # "mse": Σₖ (yₖ − ŷₖ)² over the network's outputs, averaged over samples; two
        # classes have one sigmoid output, the probability of classes_[1].
        if P.shape[1] == 2:
            return mean_squared_error(y, P[:, 1])
        return mean_squared_error(LabelBinarizer().fit_transform(y), P) * P.shape[1]
    y_hat = est.predict(X)
    return {
        "squared_error": lambda: mean_squared_error(y, y_hat) / 2,
        "mae": lambda: mean_absolute_error(y, y_hat),
        "huber": lambda: float(np.mean(huber(1.0, y_hat - y))),
        "poisson": lambda: mean_poisson_deviance(y, y_hat) / 2,
    }[loss]()


@pytest.mark.parametrize("case", LOSS_CASES, ids=_loss_case_id)
def test_loss_is_the_cost_by_hand(case):
    Estimator, loss, y, _ = case
    X, est = _fit_for_loss(Estimator, loss, y)
    expected = _cost_by_hand(est, loss, X, y) + l2_term(est, X.shape[0])
    assert est.loss_ == pytest.approx(expected, rel=1e-9)
    assert est.loss_curve_[-1] == pytest.approx(est.loss_, rel=1e-12)
    if loss == "huber":  # the data do reach both pieces of the Huber loss
        r = np.abs(est.predict(X) - y)
        assert (r < 1).any()
        assert (r > 1).any()


def test_poisson_rejects_negative_targets():
    with pytest.raises(ValueError, match="poisson"):
        MLPRegressor(loss="poisson", max_iter=2).fit(X_REG, Y_REG)


# ---------------------------------------------------------------------------- validation
def test_validation_data_replaces_validation_fraction_classifier():
    clf = MLPClassifier(
        (8,),
        solver="sgd",
        learning_rate_init=0.05,
        alpha=1e-2,
        batch_size=30,
        max_iter=12,
        tol=0.0,
        n_iter_no_change=1000,
        validation_fraction=0.5,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_CLS, Y_BIN, validation_data=(X_CLS_VAL, Y_BIN_VAL))
    n = X_CLS.shape[0]
    assert clf.n_iter_ == 12
    assert clf.t_ == clf.n_iter_ * n  # the whole training set, not 1 - validation_fraction
    assert len(clf.loss_curve_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert len(clf.validation_scores_) == clf.n_iter_
    # The last epoch's validation cost is the cost (with the L2 term) of the final
    # weights on (X_val, y_val); the score is scikit-learn's default, the accuracy.
    proba = clf.predict_proba(X_CLS_VAL)
    expected = log_loss(Y_BIN_VAL, proba) + l2_term(clf, X_CLS_VAL.shape[0])
    assert clf.validation_loss_curve_[-1] == pytest.approx(expected, rel=1e-10)
    assert clf.validation_scores_[-1] == accuracy_score(Y_BIN_VAL, clf.predict(X_CLS_VAL))
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # The curve moves: each epoch's value is its own, not a copy of the last.
    assert len(set(clf.validation_loss_curve_)) == clf.n_iter_


def test_validation_data_regressor_and_early_stopping_do_not_split():
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        alpha=1e-3,
        learning_rate_init=0.03,
        max_iter=300,
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
    )
    reg.fit(X_REG, Y_REG, validation_data=(X_REG_VAL, Y_REG_VAL))
    assert reg.t_ == reg.n_iter_ * X_REG.shape[0]
    assert int(np.argmax(reg.validation_scores_)) + 1 < reg.n_iter_ < 300
    assert len(reg.validation_loss_curve_) == len(reg.validation_scores_) == reg.n_iter_
    # Early stopping restored the best epoch, so the final weights score the best R².
    assert r2_score(Y_REG_VAL, reg.predict(X_REG_VAL)) == pytest.approx(
        reg.best_validation_score_, rel=1e-12
    )
    assert reg.best_validation_score_ == max(reg.validation_scores_)


def test_no_validation_set_means_no_validation_curve():
    clf = fit_quietly(MLPClassifier((4,), max_iter=3, random_state=0), X_CLS, Y_BIN)
    assert clf.validation_loss_curve_ is None
    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None


def test_early_stopping_split_gives_a_validation_curve():
    clf = MLPClassifier((8,), max_iter=300, early_stopping=True, random_state=0)
    clf.fit(X_CLS, Y_BIN)
    n_val = math.ceil(0.1 * X_CLS.shape[0])
    assert clf.t_ == clf.n_iter_ * (X_CLS.shape[0] - n_val)
    assert len(clf.validation_loss_curve_) == clf.n_iter_


def test_validation_data_with_lbfgs():
    clf = MLPClassifier((4,), solver="lbfgs", alpha=1e-2, max_iter=8, random_state=0)
    fit_quietly(clf, X_CLS, Y_BIN, validation_data=(X_CLS_VAL, Y_BIN_VAL))
    assert len(clf.validation_loss_curve_) == len(clf.validation_scores_) == clf.n_iter_
    expected = log_loss(Y_BIN_VAL, clf.predict_proba(X_CLS_VAL)) + l2_term(clf, 40)
    assert clf.validation_loss_curve_[-1] == pytest.approx(expected, rel=1e-10)
    assert clf.validation_scores_[-1] == accuracy_score(Y_BIN_VAL, clf.predict(X_CLS_VAL))
    assert clf.best_validation_score_ == max(clf.validation_scores_)


@pytest.mark.parametrize("bad", [(X_CLS_VAL,), (X_CLS_VAL, Y_BIN_VAL[:-1]), "nope"])
def test_bad_validation_data_raises(bad):
    with pytest.raises(ValueError, match="validation_data"):
        MLPClassifier((4,), max_iter=2).fit(X_CLS, Y_BIN, validation_data=bad)


# ---------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("scoring", ["roc_auc", "neg_log_loss"])
def test_validation_scores_hold_the_chosen_scorer(scoring):
    clf = MLPClassifier((8,), max_iter=6, scoring=scoring, random_state=0)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_CLS, Y_BIN, validation_data=(X_CLS_VAL, Y_BIN_VAL))
    expected = get_scorer(scoring)(clf, X_CLS_VAL, Y_BIN_VAL)
    assert clf.validation_scores_[-1] == pytest.approx(expected, rel=1e-12)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_callable_scoring():
    def neg_mae(est, X, y):
        return -mean_absolute_error(y, est.predict(X))

    reg = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, scoring=neg_mae, random_state=0)
    fit_quietly(reg, X_REG, Y_REG, validation_data=(X_REG_VAL, Y_REG_VAL))
    assert reg.validation_scores_[-1] == pytest.approx(neg_mae(reg, X_REG_VAL, Y_REG_VAL))
    assert all(s <= 0 for s in reg.validation_scores_)


def _early_stopping_fit(scoring, restore_best_weights):
    recorder = Recorder()
    clf = MLPClassifier(
        (32,),
        learning_rate_init=0.02,
        max_iter=100,
        early_stopping=True,
        scoring=scoring,
        n_iter_no_change=5,
        restore_best_weights=restore_best_weights,
        callbacks=[recorder],
        random_state=0,
    )
    clf.fit(X_NOISY, Y_NOISY, validation_data=(X_NOISY_VAL, Y_NOISY_VAL))
    return clf, recorder


@pytest.mark.parametrize("scoring", ["neg_log_loss", "roc_auc"])
def test_early_stopping_restores_the_best_weights(scoring):
    clf, recorder = _early_stopping_fit(scoring, True)
    scores = np.asarray(clf.validation_scores_)
    best = int(np.argmax(scores)) + 1
    assert clf.n_iter_ == best + 5 + 1 < 100  # stopped by the rule, not by max_iter
    assert clf.stop_reason_ == (
        f"validation {scoring} did not improve by more than tol=0.0001 for 5 consecutive "
        f"epochs; restored the weights of epoch {best}"
    )
    np.testing.assert_array_equal(clf.network_.theta, recorder.thetas[best - 1])
    final = get_scorer(scoring)(clf, X_NOISY_VAL, Y_NOISY_VAL)
    assert final == pytest.approx(scores.max(), rel=1e-12)
    assert clf.best_validation_score_ == scores.max()


def test_early_stopping_without_restoring_keeps_the_last_weights():
    clf, recorder = _early_stopping_fit("neg_log_loss", False)
    scores = np.asarray(clf.validation_scores_)
    assert int(np.argmax(scores)) + 1 < clf.n_iter_
    assert "restored" not in clf.stop_reason_
    np.testing.assert_array_equal(clf.network_.theta, recorder.thetas[-1])
    final = get_scorer("neg_log_loss")(clf, X_NOISY_VAL, Y_NOISY_VAL)
    assert final == pytest.approx(scores[-1], rel=1e-12)
    assert final < scores.max()


# ---------------------------------------------------------------------------- callbacks
def test_callback_sees_every_epoch():
    recorder = Recorder()
    clf = MLPClassifier(
        (8,), max_iter=7, callbacks=[recorder], learning_rate_init=0.003, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_CLS, Y_BIN, validation_data=(X_CLS_VAL, Y_BIN_VAL))
    assert recorder.column("epoch") == list(range(1, clf.n_iter_ + 1))
    assert all(
        set(info) == {"epoch", "loss", "val_loss", "val_score", "learning_rate", "seconds"}
        for info in recorder.infos
    )
    assert all(est is clf for est in recorder.estimators)
    assert recorder.column("loss") == clf.loss_curve_
    assert recorder.column("val_loss") == clf.validation_loss_curve_
    assert recorder.column("val_score") == clf.validation_scores_
    assert recorder.column("learning_rate") == [0.003] * 7
    assert all(isinstance(s, float) and s >= 0 for s in recorder.column("seconds"))
    # The figures are the weights' at the end of the epoch: the last one is the final.
    np.testing.assert_array_equal(recorder.thetas[-1], clf.network_.theta)


def test_callback_without_validation_gets_none():
    recorder = Recorder()
    fit_quietly(
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=3, callbacks=[recorder]), X_REG, Y_REG
    )
    assert recorder.column("val_loss") == recorder.column("val_score") == [None] * 3


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_callback_returning_true_stops_training(solver):
    recorder, bystander = Recorder(stop_at=4), Recorder()
    clf = MLPClassifier((8,), solver=solver, max_iter=50, callbacks=[recorder, bystander])
    clf.fit(X_CLS, Y_BIN)  # no ConvergenceWarning: filterwarnings=error would fail here
    assert clf.stop_reason_ == "stopped by callback"
    assert clf.n_iter_ == 4
    assert len(clf.loss_curve_) == 4
    assert recorder.column("epoch") == [1, 2, 3, 4]
    assert bystander.column("epoch") == [1, 2, 3]  # callbacks after the stopping one skip
    np.testing.assert_array_equal(clf.network_.theta, recorder.thetas[-1])
    clf.predict(X_CLS)


def test_callback_returning_other_values_does_not_stop():
    clf = MLPClassifier((4,), max_iter=5, callbacks=[lambda est, info: None])
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_CLS, Y_BIN)
    assert clf.n_iter_ == 5


def test_bad_callbacks_raise():
    with pytest.raises(ValueError, match="callbacks"):
        MLPClassifier((4,), callbacks=[1]).fit(X_CLS, Y_BIN)


# ---------------------------------------------------------------------------- verbose
# Each child process fits the same small classifier once per ``verbose`` setting given
# on its command line (1: without a validation set, 2: with one) and prints, after
# each fit, a RESULT line with the recorded figures to compare its output against.
_CHILD = textwrap.dedent(
    """
    import json, sys, warnings
    warnings.simplefilter("ignore")
    import numpy as np
    from nnmath import MLPClassifier
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)); y = (X[:, 0] > 0).astype(int)
    Xv = rng.normal(size=(20, 3)); yv = (Xv[:, 0] > 0).astype(int)
    for verbose in map(int, sys.argv[1:]):
        clf = MLPClassifier((4,), max_iter=3, random_state=0, verbose=verbose)
        clf.fit(X, y, validation_data=(Xv, yv) if verbose == 2 else None)
        figures = [clf.loss_curve_, clf.validation_loss_curve_, clf.validation_scores_]
        print("RESULT " + json.dumps(figures), flush=True)
    """
)


def _split_by_result(text):
    """[(lines before a RESULT line, its figures), ...] for each fit of the child."""
    runs, lines = [], []
    for line in text.splitlines():
        if line.startswith("RESULT "):
            runs.append((lines, json.loads(line[len("RESULT ") :])))
            lines = []
        else:
            lines.append(line)
    assert lines == []
    return runs


def _assert_plain(*texts):
    for text in texts:
        assert "\r" not in text, repr(text)
        assert "\x1b" not in text, repr(text)


@pytest.fixture(scope="module")
def piped_output():
    """stdout and stderr of the child with verbose=1 then verbose=2, both pipes."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, "1", "2"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_verbose_1_writes_scikit_learn_lines_to_a_pipe(piped_output):
    out, err = piped_output
    _assert_plain(out, err)
    assert err == ""
    lines, (loss_curve, _, _) = _split_by_result(out)[0]
    assert lines == [f"Iteration {i}, loss = {loss:.8f}" for i, loss in enumerate(loss_curve, 1)]


def test_verbose_2_writes_one_line_per_epoch_to_a_pipe(piped_output):
    out, err = piped_output
    _assert_plain(out, err)
    lines, (loss_curve, val_loss, val_scores) = _split_by_result(out)[1]
    assert len(lines) == 3
    for i, line in enumerate(lines):
        prefix = (
            f"Iteration {i + 1}, loss = {loss_curve[i]:.8f}, val_loss = {val_loss[i]:.8f}, "
            f"val_accuracy = {val_scores[i]:.6f}, learning_rate = 0.001, "
        )
        assert line.startswith(prefix), line
        assert line.endswith("s")
        assert float(line[len(prefix) : -1]) >= 0


def _run_in_terminal(*args, stderr_too=True):
    """Run the child with stdout (and stderr) on a pseudo-terminal of 100 columns."""
    import fcntl
    import struct
    import termios

    primary, secondary = os.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, *args],
        stdout=secondary,
        stderr=secondary if stderr_too else subprocess.PIPE,
        close_fds=True,
    )
    os.close(secondary)
    chunks, deadline = [], time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
        err = ""
        if proc.stderr is not None:
            err = proc.stderr.read().decode()
            proc.stderr.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0, err
    return b"".join(chunks).decode("utf-8", "replace"), err


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_verbose_1_draws_a_progress_bar_on_a_terminal():
    out, _ = _run_in_terminal("1")
    assert "\r" in out  # the bar redraws itself in place
    assert "3/3" in out
    assert "epoch" in out
    assert "loss=" in out
    assert "Iteration 1, loss" not in out
    assert "RESULT " in out


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_verbose_1_with_stderr_redirected_writes_plain_lines():
    # The bar would go to stderr: with stderr a pipe, nothing is drawn anywhere.
    out, err = _run_in_terminal("1", stderr_too=False)
    _assert_plain(out.replace("\r\n", "\n"), err)  # the terminal turns \n into \r\n
    assert "Iteration 1, loss = " in out


# ---------------------------------------------------------------------------- stop_reason_
def test_stop_reason_tol_on_training_loss():
    clf = MLPClassifier(
        (8,), learning_rate_init=0.01, tol=1e-3, n_iter_no_change=3, max_iter=500, random_state=0
    )
    clf.fit(X_CLS, Y_BIN)
    assert clf.stop_reason_ == (
        "training loss improved by less than tol=0.001 for 3 consecutive epochs"
    )
    assert clf.n_iter_ == plateau_epoch(clf.loss_curve_, 1e-3, 3) < 500


def test_stop_reason_early_stopping_default_scorer():
    clf = MLPClassifier((32,), learning_rate_init=0.02, early_stopping=True, random_state=1)
    clf.fit(X_NOISY, Y_NOISY, validation_data=(X_NOISY_VAL, Y_NOISY_VAL))
    best = int(np.argmax(clf.validation_scores_)) + 1
    assert clf.stop_reason_ == (
        "validation accuracy did not improve by more than tol=0.0001 for 10 consecutive "
        f"epochs; restored the weights of epoch {best}"
    )
    assert clf.score(X_NOISY_VAL, Y_NOISY_VAL) == clf.best_validation_score_


@pytest.mark.parametrize("early_stopping", [False, True])
def test_stop_reason_max_iter(early_stopping):
    clf = MLPClassifier((4,), max_iter=4, early_stopping=early_stopping, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clf.fit(X_CLS, Y_BIN)
    if early_stopping:
        best = int(np.argmax(clf.validation_scores_)) + 1
        assert clf.stop_reason_ == f"max_iter=4 reached; restored the weights of epoch {best}"
    else:
        assert clf.stop_reason_ == "max_iter=4 reached"


def test_stop_reason_lbfgs():
    reg = MLPRegressor(
        hidden_layer_sizes=(4,), solver="lbfgs", tol=1e-3, max_iter=500, random_state=0
    )
    reg.fit(X_REG, Y_REG)
    assert reg.stop_reason_.startswith("L-BFGS converged")
    assert reg.n_iter_ < 500
    short = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        short.fit(X_REG, Y_REG)
    assert short.stop_reason_ == "max_iter=3 reached"


def test_stop_reason_adaptive_learning_rate_ends():
    recorder = Recorder()
    clf = MLPClassifier(
        (4,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.5,
        n_iter_no_change=1,
        tol=0.05,
        max_iter=500,
        callbacks=[recorder],
        random_state=0,
    )
    clf.fit(X_CLS, Y_BIN)
    assert clf.stop_reason_ == (
        "training loss improved by less than tol=0.05 for 1 consecutive epochs at the "
        "smallest learning rate"
    )
    assert recorder.column("learning_rate")[-1] <= 1e-6  # below scikit-learn's floor


# ---------------------------------------------------------------------------- Ctrl-C
def test_keyboard_interrupt_in_a_callback_leaves_a_fitted_model():
    recorder = Recorder(interrupt_at=6)
    clf = MLPClassifier((8,), learning_rate_init=0.05, max_iter=50, callbacks=[recorder])
    clf.fit(X_CLS, Y_BIN)  # returns normally, no ConvergenceWarning
    assert clf.n_iter_ == 6 == len(clf.loss_curve_)
    assert clf.stop_reason_.startswith("interrupted (KeyboardInterrupt)")
    best = int(np.argmin(clf.loss_curve_)) + 1
    np.testing.assert_array_equal(clf.network_.theta, recorder.thetas[best - 1])
    assert clf.predict(X_CLS).shape == Y_BIN.shape
    assert clf.loss_ == clf.loss_curve_[-1]


def test_keyboard_interrupt_restores_the_lowest_training_loss():
    # A large step makes the training loss rise in epoch 5, so epoch 4 is the best: the
    # curve is scikit-learn's, whose five epochs from the same random_state say so.
    params = {"solver": "sgd", "learning_rate_init": 0.5, "batch_size": 10, "random_state": 0}
    recorder = Recorder(interrupt_at=5)
    clf = MLPClassifier((32,), callbacks=[recorder], **params)
    clf.fit(X_NOISY, Y_NOISY)
    reference = sklearn.neural_network.MLPClassifier((32,), max_iter=5, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X_NOISY, Y_NOISY)
    np.testing.assert_allclose(clf.loss_curve_, reference.loss_curve_, rtol=1e-10)
    best = int(np.argmin(clf.loss_curve_)) + 1
    assert best == 4
    assert clf.stop_reason_ == "interrupted (KeyboardInterrupt); restored the weights of epoch 4"
    np.testing.assert_array_equal(clf.network_.theta, recorder.thetas[best - 1])
    assert clf.predict_proba(X_NOISY).shape == (80, 2)


def test_keyboard_interrupt_with_early_stopping_keeps_the_best_validation_weights():
    recorder = Recorder(interrupt_at=13)
    clf = MLPClassifier(
        (32,),
        learning_rate_init=0.02,
        early_stopping=True,
        restore_best_weights=False,  # applies to the end of training, not to Ctrl-C
        scoring="neg_log_loss",
        callbacks=[recorder],
        random_state=1,
    )
    clf.fit(X_NOISY, Y_NOISY, validation_data=(X_NOISY_VAL, Y_NOISY_VAL))
    assert clf.n_iter_ == 13
    best = int(np.argmax(clf.validation_scores_)) + 1
    assert best < 13
    assert clf.stop_reason_.startswith("interrupted (KeyboardInterrupt)")
    np.testing.assert_array_equal(clf.network_.theta, recorder.thetas[best - 1])


def test_keyboard_interrupt_during_lbfgs_keeps_the_best_iterate():
    recorder = Recorder(interrupt_at=5)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,), solver="lbfgs", max_iter=100, callbacks=[recorder], random_state=0
    )
    reg.fit(X_REG, Y_REG)
    assert reg.stop_reason_.startswith("interrupted (KeyboardInterrupt)")
    best = int(np.argmin(reg.loss_curve_)) + 1
    np.testing.assert_array_equal(reg.network_.theta, recorder.thetas[best - 1])
    y_hat = reg.predict(X_REG)
    cost = mean_squared_error(Y_REG, y_hat) / 2 + l2_term(reg, X_REG.shape[0])
    assert cost == pytest.approx(reg.loss_curve_[best - 1], rel=1e-10)


class _SigintGuard:
    """Installs a harmless SIGINT handler for the test, so that if fit failed to catch
    the signal the test fails instead of pytest being interrupted."""

    def __enter__(self):
        self.received = 0
        self.previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, signum, frame):
        self.received += 1

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


def _send_sigint_and_count_batches(at_epoch):
    """A callback that, at ``at_epoch``, counts the batches run from then on and sends
    this process SIGINT, as Ctrl-C would."""
    batches = []

    def callback(est, info):
        if info["epoch"] == at_epoch:
            net = est.network_
            inner = type(net).backprop.__get__(net)

            def counting(*args, **kwargs):
                batches.append(1)
                return inner(*args, **kwargs)

            net.backprop = counting
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)  # let the handler run

    return callback, batches


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is POSIX")
def test_sigint_stops_after_the_current_batch():
    callback, batches = _send_sigint_and_count_batches(at_epoch=3)
    clf = MLPClassifier((8,), batch_size=10, max_iter=50, callbacks=[callback], random_state=0)
    with _SigintGuard() as guard:
        handler_before = signal.getsignal(signal.SIGINT)
        clf.fit(X_CLS, Y_BIN)
        assert signal.getsignal(signal.SIGINT) is handler_before  # put back
    assert guard.received == 0  # fit took the signal itself
    assert clf.stop_reason_.startswith("interrupted (KeyboardInterrupt)")
    assert clf.n_iter_ == 3 == len(clf.loss_curve_)
    assert len(batches) == 1  # one batch of epoch 4 (of 9) ran, then it stopped
    assert clf.predict(X_CLS).shape == Y_BIN.shape


@pytest.mark.skipif(sys.platform == "win32", reason="os.kill(SIGINT) is POSIX")
def test_sigint_in_the_first_epoch_leaves_a_usable_model(monkeypatch):
    from nnmath.network import Network

    inner = Network.backprop
    calls = []

    def first_batch_interrupted(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
        return inner(self, *args, **kwargs)

    monkeypatch.setattr(Network, "backprop", first_batch_interrupted)
    clf = MLPClassifier((8,), batch_size=10, max_iter=50, random_state=0)
    with _SigintGuard() as guard:
        clf.fit(X_CLS, Y_BIN)
    assert guard.received == 0
    assert len(calls) == 1
    assert clf.stop_reason_ == "interrupted (KeyboardInterrupt)"
    assert clf.n_iter_ == 0
    assert clf.loss_curve_ == []
    assert math.isnan(clf.loss_)
    assert np.isfinite(clf.predict_proba(X_CLS)).all()


# ---------------------------------------------------------------------------- schedules
def _learning_rates(max_iter=8, **params):
    recorder = Recorder()
    clf = MLPClassifier(
        (4,),
        solver="sgd",
        learning_rate_init=0.1,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=10_000,
        callbacks=[recorder],
        random_state=0,
        **params,
    )
    fit_quietly(clf, X_CLS, Y_BIN)
    assert clf.n_iter_ == max_iter
    return np.array(recorder.column("learning_rate"))


def test_cosine_schedule():
    T = 8
    e = np.arange(T)  # epochs completed before each epoch
    expected = 0.0 + 0.5 * (0.1 - 0.0) * (1 + np.cos(np.pi * e / T))
    np.testing.assert_allclose(_learning_rates(T, learning_rate="cosine"), expected, rtol=1e-12)


def test_cosine_schedule_object_with_a_floor():
    lrs = _learning_rates(6, learning_rate=Cosine(total_epochs=4, min_learning_rate=0.01))
    e = np.minimum(np.arange(6), 4)
    expected = 0.01 + 0.5 * (0.1 - 0.01) * (1 + np.cos(np.pi * e / 4))
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert lrs[-1] == pytest.approx(0.01)


def test_step_schedule():
    e = np.arange(25)
    expected = 0.1 * 0.5 ** (e // 10)  # StepDecay's defaults: step_size=10, gamma=0.5
    np.testing.assert_allclose(_learning_rates(25, learning_rate="step"), expected, rtol=1e-12)


def test_invscaling_schedule():
    n = X_CLS.shape[0]
    t = n * np.arange(6)  # samples seen before each epoch
    expected = 0.1 / (t + 1) ** 0.25
    lrs = _learning_rates(6, learning_rate="invscaling", power_t=0.25)
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_constant_schedule():
    np.testing.assert_array_equal(_learning_rates(4), [0.1] * 4)


def _adaptive_fit(learning_rate="adaptive"):
    recorder = Recorder()
    clf = MLPClassifier(
        (4,),
        solver="sgd",
        learning_rate=learning_rate,
        learning_rate_init=0.5,
        tol=0.01,
        n_iter_no_change=2,
        max_iter=300,
        callbacks=[recorder],
        random_state=0,
    )
    clf.fit(X_CLS, Y_BIN)
    return clf, np.array(recorder.column("learning_rate"))


def _adaptive_rates_by_hand(loss_curve, lr, tol, n_iter_no_change):
    """scikit-learn's "adaptive" rule on the recorded losses: after more than
    n_iter_no_change epochs without an improvement of tol, divide α by 5 (or stop
    once α ≤ 1e-6)."""
    rates, best, count = [lr], math.inf, 0
    for loss in loss_curve:
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            if lr <= 1e-6:
                break
            lr, count = lr / 5, 0
        rates.append(lr)
    return rates[: len(loss_curve)]


def test_adaptive_schedule_divides_by_5_on_a_plateau():
    clf, lrs = _adaptive_fit()
    np.testing.assert_allclose(lrs, _adaptive_rates_by_hand(clf.loss_curve_, 0.5, 0.01, 2))
    ratios = lrs[1:] / lrs[:-1]
    assert set(np.round(ratios, 12)) == {1.0, 0.2}
    assert (ratios == 0.2).sum() >= 3


def test_schedule_object_is_not_changed_by_fit():
    schedule = Adaptive()
    first = _adaptive_fit(schedule)[1]
    second = _adaptive_fit(schedule)[1]
    np.testing.assert_array_equal(first, second)
    assert first[0] == 0.5
