"""MLPClassifier, MLPRegressor and Perceptron as drop-ins for scikit-learn's.

What scikit-learn's conformance suite (tests/test_conformance.py) does not cover: the
constructor and fitted attributes side by side with scikit-learn's, every solver and
learning-rate schedule, partial_fit, multilabel / multi-output / sparse / float32
data, scikit-learn's stopping rule, warning and verbose lines, early stopping,
pickling, model selection, invalid hyperparameters, warm starts and sample weights.
Dropout, callbacks, scoring, stop_reason_ and schedules beyond scikit-learn's are
tested in tests/test_estimator_features.py.
"""

from __future__ import annotations

import inspect
import io
import math
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import neural_network as sk_nn
from sklearn.base import clone
from sklearn.datasets import (
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from conftest import fit_quietly, plateau_epoch
from nnmath import MLPClassifier, MLPRegressor, Perceptron

PAIRS = [(MLPClassifier, sk_nn.MLPClassifier), (MLPRegressor, sk_nn.MLPRegressor)]
NNMATH_EXTRAS = {
    MLPClassifier: {
        "loss",
        "l1",
        "dropout",
        "scoring",
        "restore_best_weights",
        "callbacks",
        "class_weight",
    },
    MLPRegressor: {"l1", "dropout", "scoring", "restore_best_weights", "callbacks"},
}
STOCHASTIC = ("sgd", "adam", "gd")


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """The matrices here are tiny: extra BLAS threads only add wake-up latency, and on a
    busy machine they make each fit (and scipy's L-BFGS-B) many times slower."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=120, n_features=5, noise=5.0, random_state=0)
    return X, y / y.std()


# ---------------------------------------------------------------------- constructor


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=["classifier", "regressor"])
def test_constructor_names_defaults_and_order_match_sklearn(ours, theirs):
    sk_params = inspect.signature(theirs).parameters
    nn_params = inspect.signature(ours).parameters
    assert set(nn_params) - set(sk_params) == NNMATH_EXTRAS[ours]
    assert set(sk_params) <= set(nn_params)
    # scikit-learn's parameters come first, in scikit-learn's order and kind, so that
    # positional calls such as MLPRegressor("squared_error", (10,)) mean the same.
    assert list(nn_params)[: len(sk_params)] == list(sk_params)
    for name, p in sk_params.items():
        assert nn_params[name].default == p.default, name
        assert nn_params[name].kind == p.kind, name
    sk_defaults, nn_defaults = theirs().get_params(), ours().get_params()
    assert {k: nn_defaults[k] for k in sk_defaults} == sk_defaults


def test_nnmath_extras_default_to_sklearn_behaviour():
    params = MLPClassifier().get_params()
    assert params["loss"] == "log_loss"
    assert params["dropout"] == 0.0
    assert params["scoring"] is None
    assert params["callbacks"] is None
    assert params["class_weight"] is None  # every row weighs its sample weight
    assert MLPRegressor().get_params()["loss"] == "squared_error"


# ---------------------------------------------------------------------- fitted attributes

FITTED = [
    "classes_",
    "coefs_",
    "intercepts_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "best_validation_score_",
    "n_iter_",
    "t_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
    "n_features_in_",
    "feature_names_in_",
]


def _public_fitted(est) -> set[str]:
    return {
        k
        for k in dir(est)
        if k.endswith("_") and not k.startswith("_") and hasattr(est, k) and k != "coef_"
    }


def _kind(value):
    """A comparable description of an attribute: type family and shape."""
    if value is None:
        return None
    if isinstance(value, list):
        if value and isinstance(value[0], np.ndarray):
            return ("arrays", [v.shape for v in value])
        return "list"
    if isinstance(value, np.ndarray):
        return ("array", value.shape)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    return type(value).__name__


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=["classifier", "regressor"])
def test_fitted_attributes_match_sklearn(ours, theirs, solver, early_stopping, iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    if ours is MLPRegressor:
        y = X[:, 0] + 0.5 * y
    X = pd.DataFrame(X, columns=["sepal_l", "sepal_w", "petal_l", "petal_w"])
    params = dict(
        hidden_layer_sizes=(7, 5),
        solver=solver,
        early_stopping=early_stopping,
        max_iter=15,
        random_state=0,
    )
    sk = fit_quietly(theirs(**params), X, y)
    nn = fit_quietly(ours(**params), X, y)

    assert _public_fitted(sk) <= set(FITTED)  # the list above is scikit-learn's
    missing = _public_fitted(sk) - _public_fitted(nn)
    assert not missing, f"nnmath lacks scikit-learn's fitted attributes {missing}"
    # nnmath sets the whole list for every solver (scikit-learn's lbfgs skips
    # the curves)
    expected = set(FITTED) - ({"classes_"} if ours is MLPRegressor else set())
    assert expected <= _public_fitted(nn)
    for name in _public_fitted(sk):
        assert _kind(getattr(nn, name)) == _kind(getattr(sk, name)), name
    np.testing.assert_array_equal(nn.feature_names_in_, sk.feature_names_in_)
    assert nn.n_features_in_ == 4
    assert nn.n_layers_ == 4
    assert [W.shape for W in nn.coefs_] == [(4, 7), (7, 5), (5, nn.n_outputs_)]
    assert [b.shape for b in nn.intercepts_] == [(7,), (5,), (nn.n_outputs_,)]
    if solver != "lbfgs":
        assert len(nn.loss_curve_) == nn.n_iter_
        n_train = 150 - 15 if early_stopping else 150  # validation_fraction=0.1
        assert nn.t_ == nn.n_iter_ * n_train
        assert sk.t_ == sk.n_iter_ * n_train
        if early_stopping:
            assert len(nn.validation_scores_) == nn.n_iter_
            assert nn.best_validation_score_ == max(nn.validation_scores_)
            assert nn.best_loss_ is None
        else:
            assert nn.best_loss_ == min(nn.loss_curve_)
    if ours is MLPClassifier:
        np.testing.assert_array_equal(nn.classes_, sk.classes_)
    # a fitted DataFrame's column names are checked at predict time, as in scikit-learn
    with pytest.warns(UserWarning, match="feature names"):
        nn.predict(X.to_numpy())


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (np.array([0, 1] * 20), ("logistic", 1)),
        (np.array([0, 1, 2, 3] * 10), ("softmax", 4)),
        (make_multilabel_classification(40, n_classes=3, random_state=0)[1], ("logistic", 3)),
    ],
    ids=["binary", "multiclass", "multilabel"],
)
def test_output_layer_matches_sklearn(y, expected):
    X = np.random.default_rng(0).normal(size=(40, 3))
    nn = fit_quietly(MLPClassifier((4,), max_iter=3, random_state=0), X, y)
    sk = fit_quietly(sk_nn.MLPClassifier((4,), max_iter=3, random_state=0), X, y)
    assert (nn.out_activation_, nn.n_outputs_) == expected
    assert (sk.out_activation_, sk.n_outputs_) == expected


def test_regressor_output_layer():
    X, y = make_regression(30, 3, random_state=0)
    assert fit_quietly(MLPRegressor(max_iter=2), X, y).out_activation_ == "identity"
    reg = fit_quietly(MLPRegressor(loss="poisson", max_iter=2), X, np.abs(y))
    assert reg.out_activation_ == "exp"


# ---------------------------------------------------------------------- initialization


@pytest.mark.parametrize(
    ("activation", "factor"), [("relu", 6.0), ("tanh", 6.0), ("logistic", 2.0)]
)
def test_initial_weights_are_drawn_like_sklearns(activation, factor, iris):
    # scikit-learn: W and b from U(−r, r), r = √(factor / (n_in + n_out)). A step of
    # α = 1e-12 leaves the initial draw in place to within 1e-10.
    X, y = iris
    clf = fit_quietly(
        MLPClassifier(
            (40, 30),
            activation=activation,
            solver="sgd",
            momentum=0.0,
            learning_rate_init=1e-12,
            max_iter=1,
            random_state=0,
        ),
        X,
        y,
    )
    for W, b in zip(clf.coefs_, clf.intercepts_, strict=True):
        r = np.sqrt(factor / sum(W.shape))
        for p in (W, b):
            assert np.abs(p).max() <= r + 1e-10
            if p.size >= 30:  # fills the interval, biases too (sklearn: not zero)
                assert np.abs(p).max() > 0.8 * r
                assert abs(p.mean()) < 0.35 * r
            assert np.all(p != 0)


# ---------------------------------------------------------------------- solvers, schedules


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam", "gd"])
def test_every_solver_learns_iris(solver, iris):
    X, y = iris
    lr = 0.1 if solver == "gd" else 0.01
    clf = fit_quietly(
        MLPClassifier((16,), solver=solver, learning_rate_init=lr, max_iter=300, random_state=0),
        X,
        y,
    )
    assert clf.score(X, y) > 0.93
    assert clf.loss_ < 0.3


def test_gd_is_full_batch(iris):
    X, y = iris
    clf = fit_quietly(MLPClassifier((5,), solver="gd", max_iter=4, random_state=0), X, y)
    assert clf.t_ == 4 * len(X)
    # full batch, no shuffling randomness: the same seed reproduces the run bit for bit
    again = fit_quietly(MLPClassifier((5,), solver="gd", max_iter=4, random_state=0), X, y)
    assert again.loss_curve_ == clf.loss_curve_


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
def test_learning_rate_schedules_follow_sklearn(learning_rate, iris):
    X, y = iris
    seen = []
    clf = fit_quietly(
        MLPClassifier(
            (5,),
            solver="sgd",
            learning_rate=learning_rate,
            learning_rate_init=0.05,
            power_t=0.25,
            max_iter=6,
            batch_size=50,
            random_state=0,
            callbacks=[lambda est, info: seen.append(info["learning_rate"])],
        ),
        X,
        y,
    )
    assert len(seen) == clf.n_iter_ == 6
    if learning_rate == "invscaling":
        # scikit-learn: α = α₀ / (t + 1)^power_t, t = samples seen before the epoch
        expected = [0.05 / (e * len(X) + 1) ** 0.25 for e in range(6)]
    else:  # adaptive keeps α while the loss improves
        expected = [0.05] * 6
    np.testing.assert_allclose(seen, expected, rtol=1e-12)


def test_adaptive_divides_by_five_and_stops_like_sklearn(iris):
    # tol so large that no epoch counts as an improvement: every n_iter_no_change + 1
    # epochs α is divided by 5, until α ≤ 1e-6 ends training. The rule alone fixes n_iter_.
    X, y = iris
    params = dict(
        hidden_layer_sizes=(5,),
        solver="sgd",
        learning_rate="adaptive",
        tol=100.0,
        n_iter_no_change=2,
        max_iter=200,
        random_state=0,
    )
    seen = []
    nn = MLPClassifier(**params, callbacks=[lambda est, info: seen.append(info["learning_rate"])])
    nn.fit(X, y)
    sk = sk_nn.MLPClassifier(**params).fit(X, y)
    assert nn.n_iter_ == sk.n_iter_ < 200
    rates = sorted(set(seen), reverse=True)
    np.testing.assert_allclose(rates, [1e-3 / 5**k for k in range(len(rates))], rtol=1e-12)
    assert rates[-1] <= 1e-6 < rates[-2]


def test_sgd_momentum_step_matches_sklearn_by_hand():
    # One epoch = one full batch, so both libraries take exactly the same two steps
    # from the same weights; scikit-learn's v ← μv − αg, θ ← θ + μv − αg (Nesterov)
    # and nnmath's b ← μb + g, θ ← θ − α(g + μb) are the same update.
    X, y = make_classification(30, 4, random_state=0)
    params = dict(
        hidden_layer_sizes=(3,),
        solver="sgd",
        batch_size=30,
        shuffle=False,
        learning_rate_init=0.1,
        max_iter=1,
        alpha=0.01,
    )
    for nesterov in (True, False):
        sk = fit_quietly(
            sk_nn.MLPClassifier(**params, nesterovs_momentum=nesterov, random_state=0), X, y
        )
        nn = fit_quietly(MLPClassifier(**params, nesterovs_momentum=nesterov, random_state=0), X, y)
        nn.coefs_, nn.intercepts_ = sk.coefs_, sk.intercepts_  # nnmath's views take copies
        sk.set_params(warm_start=True, max_iter=3)
        nn.set_params(warm_start=True, max_iter=3)
        fit_quietly(sk, X, y)
        fit_quietly(nn, X, y)
        for a, b in zip(nn.coefs_ + nn.intercepts_, sk.coefs_ + sk.intercepts_, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
            # the first entry is each library's own first fit, from its own initial weights
        np.testing.assert_allclose(nn.loss_curve_[1:], sk.loss_curve_[1:], rtol=1e-10)


# ---------------------------------------------------------------------- partial_fit


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_partial_fit_classifier(solver, iris):
    X, y = iris
    clf = MLPClassifier((8,), solver=solver, learning_rate_init=0.01, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:20], y[:20], classes=[0, 1, 2])  # only classes 0 in this part
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    for _ in range(30):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 1  # per call, as in scikit-learn
    assert len(clf.loss_curve_) == 31
    assert clf.t_ == 20 + 30 * len(X)
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]
    assert clf.predict_proba(X).shape == (150, 3)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 3, 0]))


@pytest.mark.parametrize("solver", STOCHASTIC)
def test_partial_fit_regressor(solver, regression):
    X, y = regression
    reg = MLPRegressor(
        hidden_layer_sizes=(8,), solver=solver, learning_rate_init=0.01, random_state=0
    )
    for _ in range(5):
        reg.partial_fit(X, y)
    assert len(reg.loss_curve_) == 5
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, sk_nn.MLPClassifier])
def test_partial_fit_is_absent_for_lbfgs(cls):
    est = cls(solver="lbfgs")
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        est.partial_fit  # noqa: B018


def test_partial_fit_rejects_early_stopping(iris):
    X, y = iris
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(solver="sgd", early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


# ---------------------------------------------------------------------- targets and inputs


def test_multilabel_targets():
    X, Y = make_multilabel_classification(80, n_features=6, n_classes=4, random_state=0)
    clf = fit_quietly(MLPClassifier((16,), max_iter=50, random_state=0), X, Y)
    assert clf.predict(X).shape == Y.shape
    assert set(np.unique(clf.predict(X))) <= {0, 1}
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert ((0 <= proba) & (proba <= 1)).all()
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 4
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 3])
    # partial_fit takes a multilabel indicator too
    pf = MLPClassifier((4,), solver="sgd", random_state=0).partial_fit(X, Y, classes=[0, 1, 2, 3])
    assert pf.predict(X).shape == Y.shape


def test_multi_output_regression():
    X, Y = make_regression(60, 4, n_targets=3, random_state=0)
    Y = Y / Y.std(axis=0)
    reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=400, random_state=0).fit(
        X, Y
    )
    assert reg.predict(X).shape == (60, 3)
    assert reg.n_outputs_ == 3
    assert reg.coefs_[-1].shape == (16, 3)
    assert reg.score(X, Y) > 0.9


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_sparse_X_gives_the_dense_result(fmt, cls, iris):
    X, y = iris
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # some structural zeros
    if cls is MLPRegressor:
        y = X[:, 0] - X[:, 2]
    params = dict(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=30, random_state=0)
    dense = fit_quietly(cls(**params), X, y)
    sparse = fit_quietly(cls(**params), sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(
        sparse.predict(sp.csr_matrix(X).asformat(fmt)).astype(float),
        dense.predict(X).astype(float),
        rtol=1e-6,
        atol=1e-8,
    )
    # and a stochastic solver takes sparse batches
    fit_quietly(cls(**{**params, "solver": "adam", "max_iter": 3}), sp.csr_matrix(X), y)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_trains_in_float32(solver, iris):
    X, y = iris
    X32 = X.astype(np.float32)
    clf = fit_quietly(MLPClassifier((8,), solver=solver, max_iter=20, random_state=0), X32, y)
    assert clf.network_.dtype == np.float32
    assert all(W.dtype == np.float32 for W in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X32).dtype == np.float32
    assert clf.predict_log_proba(X32).dtype == np.float32
    reg = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(8,), solver=solver, max_iter=20, random_state=0),
        X32,
        X[:, 0],
    )
    assert reg.predict(X32).dtype == np.float32
    # float64 in: float64 throughout
    assert fit_quietly(MLPClassifier((8,), max_iter=2), X, y).predict_proba(X).dtype == np.float64


# ---------------------------------------------------------------------- stopping


@pytest.mark.parametrize("solver", STOCHASTIC)
@pytest.mark.parametrize(("tol", "n_iter_no_change"), [(1e-2, 3), (1e-3, 5)])
def test_stopping_rule_is_sklearns(solver, tol, n_iter_no_change, iris):
    X, y = iris
    clf = MLPClassifier(
        (8,),
        solver=solver,
        learning_rate_init=0.01,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        max_iter=500,
        random_state=0,
    ).fit(X, y)  # no ConvergenceWarning: it stops before max_iter
    assert clf.n_iter_ < 500
    assert clf.n_iter_ == len(clf.loss_curve_)
    assert plateau_epoch(clf.loss_curve_, tol, n_iter_no_change) == clf.n_iter_
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_convergence_warning_text_is_sklearns(iris):
    X, y = iris
    for solver in ("adam", "lbfgs"):
        messages = []
        for cls in (sk_nn.MLPClassifier, MLPClassifier):
            with pytest.warns(ConvergenceWarning) as record:
                cls(hidden_layer_sizes=(5,), solver=solver, max_iter=3, random_state=0).fit(X, y)
            messages.append([str(w.message) for w in record])
        assert messages[0] == messages[1], solver
    assert messages[1][0].startswith("lbfgs failed to converge after 3 iteration(s)")
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPRegressor(max_iter=3).fit(X, y)


def test_no_convergence_warning_from_partial_fit(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MLPClassifier(max_iter=1).partial_fit(X, y, classes=[0, 1, 2])


def _verbose_shape(text: str) -> list[str]:
    """The output's lines with every number replaced by N."""
    return [re.sub(r"\d+(\.\d+)?", "N", line) for line in text.strip().splitlines()]


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam", max_iter=4),
        dict(solver="adam", tol=0.5, n_iter_no_change=2),
        dict(solver="sgd", early_stopping=True, tol=0.5, n_iter_no_change=2),
        dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1),
    ],
    ids=["max_iter", "converged", "early_stopping", "adaptive"],
)
def test_verbose_lines_are_sklearns(params, capsys, iris):
    X, y = iris
    outputs = []
    for cls in (sk_nn.MLPClassifier, MLPClassifier):
        fit_quietly(cls(hidden_layer_sizes=(5,), verbose=True, random_state=0, **params), X, y)
        outputs.append(capsys.readouterr().out)
    sk_out, nn_out = outputs
    assert re.match(r"Iteration 1, loss = \d+\.\d{8}\n", nn_out)
    assert _verbose_shape(nn_out)[:3] == _verbose_shape(sk_out)[:3]
    # the closing message (convergence, early stop, learning-rate changes) too
    sk_lines = {line for line in _verbose_shape(sk_out) if not line.startswith("Iteration")}
    nn_lines = {line for line in _verbose_shape(nn_out) if not line.startswith("Iteration")}
    assert nn_lines == sk_lines


def test_verbose_false_prints_nothing(capsys, iris):
    X, y = iris
    fit_quietly(MLPClassifier((5,), max_iter=3), X, y)
    assert capsys.readouterr().out == ""


# ---------------------------------------------------------------------- early stopping


class _RecordingScorer:
    """A validation scorer (higher is better) that keeps what it was given."""

    def __init__(self):
        self.calls = []

    def __call__(self, est, X, y):
        self.calls.append((X, y))
        return -log_loss(y, est.predict_proba(X), labels=est.classes_)


def test_early_stopping_split_is_stratified():
    # 60 of 400 samples in class 1; a 20 % validation split stratified on y holds
    # exactly 12 of them, whatever the seed (an unstratified one: 12 ± 2.9).
    X, y = make_classification(
        400, 5, n_informative=3, weights=[0.85, 0.15], random_state=0, flip_y=0
    )
    assert np.bincount(y)[1] == 60
    for seed in range(3):
        scorer = _RecordingScorer()
        fit_quietly(
            MLPClassifier(
                (5,),
                early_stopping=True,
                validation_fraction=0.2,
                max_iter=2,
                random_state=seed,
                scoring=scorer,
            ),
            X,
            y,
        )
        X_val, y_val = scorer.calls[0]
        assert X_val.shape == (80, 5)
        assert np.bincount(y_val).tolist() == [68, 12]
        assert all(np.array_equal(v, y_val) for _, v in scorer.calls)  # one split per fit


@pytest.mark.parametrize("max_iter", [300, 12], ids=["converged", "max_iter"])
def test_early_stopping_restores_the_best_epochs_weights(max_iter):
    X, y = make_classification(300, 8, n_informative=4, flip_y=0.2, random_state=1)
    X = StandardScaler().fit_transform(X)
    scorer = _RecordingScorer()
    clf = fit_quietly(
        MLPClassifier(
            (32,),
            learning_rate_init=0.05,
            early_stopping=True,
            n_iter_no_change=4,
            max_iter=max_iter,
            random_state=0,
            scoring=scorer,
        ),
        X,
        y,
    )
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ == len(scorer.calls)
    best = int(np.argmax(scores))
    assert clf.best_validation_score_ == scores[best]
    if max_iter == 300:
        assert clf.n_iter_ < 300
        assert best < len(scores) - 1  # it went past its best
    # the final weights are the best epoch's: recomputing their validation score
    # gives exactly the best score, not the last epoch's
    X_val, y_val = scorer.calls[0]
    assert scorer(clf, X_val, y_val) == clf.best_validation_score_
    if best < len(scores) - 1:
        assert scorer(clf, X_val, y_val) != scores[-1]


def test_early_stopping_default_scores_are_accuracy_and_r2(iris, regression):
    X, y = iris
    clf = fit_quietly(MLPClassifier((5,), early_stopping=True, max_iter=5, random_state=0), X, y)
    n_val = 15
    assert all(round(s * n_val) == pytest.approx(s * n_val) for s in clf.validation_scores_)
    Xr, yr = regression
    reg = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(5,), early_stopping=True, max_iter=5, random_state=0),
        Xr,
        yr,
    )
    assert len(reg.validation_scores_) == 5


# ---------------------------------------------------------------------- persistence


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_pickle_round_trip_keeps_predictions_and_views(cls, how, iris, tmp_path):
    X, y = iris
    est = fit_quietly(cls(hidden_layer_sizes=(6,), max_iter=10, random_state=0), X, y)
    if how == "pickle":
        copy = pickle.loads(pickle.dumps(est))
    else:
        path = tmp_path / "model.joblib"
        joblib.dump(est, path)
        copy = joblib.load(path)
    np.testing.assert_array_equal(copy.predict(X), est.predict(X))
    if cls is MLPClassifier:
        np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    net = copy.network_
    assert all(np.shares_memory(W, net.theta) for W in net.W + net.b)
    # writing through coefs_ changes the network that predicts
    before = copy.predict(X) if cls is MLPRegressor else copy.predict_proba(X)
    copy.coefs_[-1][...] = 0.0
    copy.intercepts_[-1][...] = 0.0
    after = copy.predict(X) if cls is MLPRegressor else copy.predict_proba(X)
    assert not np.allclose(before, after)
    if cls is MLPRegressor:
        np.testing.assert_array_equal(after, 0.0)
    else:
        np.testing.assert_allclose(after, 1 / 3)
    # and the copy trains on (its optimizer state came along)
    copy.set_params(warm_start=True, max_iter=2)
    fit_quietly(copy, X, y)


# ---------------------------------------------------------------------- model selection


def test_clone_gridsearch_and_pipeline(iris):
    X, y = iris
    clf = MLPClassifier((5,), max_iter=20, random_state=0)
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert cloned is not clf
    pipe = make_pipeline(
        StandardScaler(), MLPClassifier((4,), solver="lbfgs", max_iter=60, random_state=0)
    )
    search = GridSearchCV(
        pipe, {"mlpclassifier__alpha": [1e-4, 1.0], "mlpclassifier__activation": ["relu", "tanh"]}
    )
    fit_quietly(search, X, y)
    assert search.best_score_ > 0.9
    assert search.best_estimator_.score(X, y) > 0.9
    assert len(search.cv_results_["params"]) == 4


def test_gridsearch_regressor(regression):
    X, y = regression
    search = GridSearchCV(
        MLPRegressor(solver="lbfgs", max_iter=60, random_state=0),
        {"hidden_layer_sizes": [(4,), (8,)]},
        cv=2,
    )
    fit_quietly(search, X, y)
    assert search.best_score_ > 0.8
    assert search.best_params_["hidden_layer_sizes"] in [(4,), (8,)]


# ---------------------------------------------------------------------- invalid parameters

BAD_PARAMS = [
    ("hidden_layer_sizes", (0,)),
    ("hidden_layer_sizes", (5, -1)),
    ("hidden_layer_sizes", "5"),
    ("activation", "softplus"),
    ("solver", "newton"),
    ("alpha", -1.0),
    ("batch_size", 0),
    ("batch_size", "big"),
    ("learning_rate", "fast"),
    ("learning_rate_init", 0.0),
    ("learning_rate_init", -0.1),
    ("power_t", -0.5),
    ("max_iter", 0),
    ("max_iter", 1.5),
    ("shuffle", "yes"),
    ("random_state", "seed"),
    ("tol", -1e-4),
    ("verbose", "loud"),
    ("warm_start", 1),
    ("momentum", 1.5),
    ("momentum", -0.1),
    ("nesterovs_momentum", "no"),
    ("early_stopping", "yes"),
    ("validation_fraction", 1.0),
    ("validation_fraction", -0.1),
    ("beta_1", 1.0),
    ("beta_2", -0.1),
    ("epsilon", 0.0),
    ("n_iter_no_change", 0),
    ("max_fun", 0),
]
NNMATH_BAD_PARAMS = [
    ("activation", ["relu", "softplus"]),
    ("dropout", 1.0),
    ("dropout", -0.1),
    ("dropout", [0.5, 0.5]),  # two rates for one hidden layer
    ("restore_best_weights", "yes"),
    ("callbacks", ["not callable"]),
    ("scoring", 3),
]


@pytest.mark.parametrize(("cls", "sk_cls"), PAIRS, ids=["classifier", "regressor"])
@pytest.mark.parametrize(("name", "value"), BAD_PARAMS, ids=[f"{n}={v!r}" for n, v in BAD_PARAMS])
def test_invalid_hyperparameter_raises_at_fit_naming_it(cls, sk_cls, name, value):
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.array([0, 1] * 10)
    est = cls(hidden_layer_sizes=(3,), max_iter=2).set_params(**{name: value})  # stored as given
    assert est.get_params()[name] is value
    with pytest.raises(ValueError, match=name):
        est.fit(X, y)
    with pytest.raises(ValueError, match=name):  # scikit-learn refuses it too
        sk_cls(hidden_layer_sizes=(3,), max_iter=2).set_params(**{name: value}).fit(X, y)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    ("name", "value"), NNMATH_BAD_PARAMS, ids=[f"{n}={v!r}" for n, v in NNMATH_BAD_PARAMS]
)
def test_invalid_nnmath_parameter_raises_naming_it(cls, name, value):
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.array([0, 1] * 10)
    with pytest.raises(ValueError, match=name):
        cls(hidden_layer_sizes=(3,), max_iter=2).set_params(**{name: value}).fit(X, y)


@pytest.mark.parametrize("loss", ["hinge", "absolute_error"])
def test_invalid_loss_raises_naming_it(loss):
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.array([0, 1] * 10)
    with pytest.raises(ValueError, match="loss"):
        MLPClassifier(loss=loss, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor(loss=loss, max_iter=2).fit(X, y)


# ---------------------------------------------------------------------- warm start


def test_warm_start_continues_from_previous_weights(iris):
    # full-batch gd has no optimizer state and no shuffling: 3 epochs + 2 warm epochs
    # are exactly 5 epochs
    X, y = iris
    params = dict(hidden_layer_sizes=(6,), solver="gd", learning_rate_init=0.1, random_state=0)
    five = fit_quietly(MLPClassifier(**params, max_iter=5), X, y)
    warm = fit_quietly(MLPClassifier(**params, max_iter=3, warm_start=True), X, y)
    fit_quietly(warm.set_params(max_iter=2), X, y)
    for a, b in zip(warm.coefs_ + warm.intercepts_, five.coefs_ + five.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert warm.loss_curve_ == five.loss_curve_
    # like scikit-learn's
    assert warm.n_iter_ == 2
    assert warm.t_ == five.t_


def test_warm_start_false_starts_over(iris):
    X, y = iris
    clf = fit_quietly(MLPClassifier((6,), max_iter=20, random_state=0), X, y)
    first = clf.loss_curve_[0]
    fit_quietly(clf, X, y)
    assert clf.loss_curve_[0] == first
    assert len(clf.loss_curve_) == 20


def test_warm_start_rejects_new_classes(iris):
    X, y = iris
    clf = fit_quietly(MLPClassifier((4,), max_iter=2, warm_start=True), X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="warm_start"):
        clf.fit(X, y)


# ---------------------------------------------------------------------- sample weights


def _fit_lbfgs(cls, X, y, sample_weight=None):
    """30 L-BFGS iterations from the same initial weights. The two fits compared
    minimize the same cost C = Σ wᵢLᵢ / Σ wᵢ + α‖W‖² / 2Σ wᵢ, so they take the same
    path; run to convergence, rounding differences of 1e-16 can grow into different
    stopping points on the flat floor of a network's cost, which compares nothing."""
    est = cls(
        hidden_layer_sizes=(4,), solver="lbfgs", alpha=1.0, tol=1e-12, max_iter=30, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_zero_weights_equal_dropping_the_samples(cls, iris):
    X, y = iris[0][::3], iris[1][::3]
    if cls is MLPRegressor:
        y = X[:, 0] * X[:, 1] + X[:, 2]
    w = np.ones(len(X))
    w[::4] = 0
    weighted = _fit_lbfgs(cls, X, y, w)
    dropped = _fit_lbfgs(cls, X[w > 0], y[w > 0])
    out = "predict_proba" if cls is MLPClassifier else "predict"
    np.testing.assert_allclose(
        getattr(weighted, out)(X), getattr(dropped, out)(X), rtol=1e-6, atol=1e-7
    )


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_integer_weights_equal_repeated_samples(cls, iris):
    X, y = iris[0][::3], iris[1][::3]
    if cls is MLPRegressor:
        y = X[:, 0] * X[:, 1] + X[:, 2]
    w = np.random.default_rng(0).integers(1, 4, size=len(X))
    weighted = _fit_lbfgs(cls, X, y, w)
    repeated = _fit_lbfgs(cls, np.repeat(X, w, axis=0), np.repeat(y, w))
    out = "predict_proba" if cls is MLPClassifier else "predict"
    np.testing.assert_allclose(
        getattr(weighted, out)(X), getattr(repeated, out)(X), rtol=1e-6, atol=1e-7
    )


def test_sample_weight_with_a_stochastic_solver(iris):
    X, y = iris
    w = np.where(y == 0, 0.0, 1.0)
    clf = fit_quietly(MLPClassifier((8,), solver="adam", max_iter=5, random_state=0), X, y, w)
    assert np.isfinite(clf.loss_)
    with pytest.raises(ValueError, match="sample_weight"):
        clf.fit(X, y, sample_weight=np.ones(3))


# ---------------------------------------------------------------------- Perceptron


def test_perceptron_one_vs_rest_with_string_labels(iris):
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = fit_quietly(Perceptron(learning_rate=0.5, random_state=0), X, labels)
    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    assert clf.coef_.shape == (3, 4)
    assert clf.intercept_.shape == (3,)
    assert clf.decision_function(X).shape == (150, 3)
    assert clf.predict(X).dtype == labels.dtype
    assert clf.score(X, labels) > 0.8
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # one vs rest: the neurons are independent; each is what a binary perceptron learns
    binary = fit_quietly(Perceptron(learning_rate=0.5, random_state=0), X, labels == "setosa")
    assert binary.coef_.shape == (4,)
    assert isinstance(binary.intercept_, float)


def test_perceptron_step_learns_and_has_no_proba(iris):
    X, y = iris
    clf = Perceptron(activation="step", random_state=0).fit(X[y < 2], y[y < 2])
    assert clf.score(X[y < 2], y[y < 2]) == 1.0  # setosa is linearly separable
    assert not hasattr(clf, "predict_proba")


def test_perceptron_clone_pickle_and_gridsearch(iris):
    X, y = iris
    clf = fit_quietly(Perceptron(learning_rate=0.5, max_iter=200, random_state=0), X, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict(X), clf.predict(X))
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(
        joblib.load(buffer).decision_function(X), clf.decision_function(X)
    )
    assert clone(clf).get_params() == clf.get_params()
    assert not hasattr(clone(clf), "coef_") or not hasattr(clone(clf), "network_")
    search = GridSearchCV(
        Perceptron(max_iter=200, random_state=0), {"learning_rate": [0.1, 1.0]}, cv=3
    )
    fit_quietly(search, X, y)
    assert search.best_score_ > 0.7


@pytest.mark.parametrize(
    ("name", "value"),
    [("activation", "relu"), ("learning_rate", 0), ("max_iter", 0), ("tol", -1.0)],
)
def test_perceptron_invalid_parameters(name, value, iris):
    X, y = iris
    with pytest.raises(ValueError, match=name):
        Perceptron().set_params(**{name: value}).fit(X, y)


# ======================================================================== failing like scikit-learn
# Where scripts rely on how scikit-learn's MLPs fail or behave.
SKLEARN_NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)


def _exploding_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5)) * 1e3
    return X, X @ rng.normal(size=5) * 1e3


@pytest.mark.parametrize("solver", ["sgd", "gd"])
def test_divergence_is_scikit_learns_value_error(solver):
    X, y = _exploding_data()
    reg = MLPRegressor(
        hidden_layer_sizes=(8,), solver=solver, learning_rate_init=10.0, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow, as in scikit-learn
        with pytest.raises(ValueError, match=re.escape(SKLEARN_NON_FINITE)) as info:
            reg.fit(X, y)
    assert str(info.value).startswith(SKLEARN_NON_FINITE + " training diverged in epoch")
    assert type(info.value).__name__ == "DivergenceError"  # its own name…
    assert isinstance(info.value, FloatingPointError)  # …and its old base
    assert info.value.history.stop_reason.startswith("diverged")
    assert np.isfinite(reg.network_.theta).all()  # the last finite weights are kept
    assert reg.loss_curve_ == info.value.history.loss_curve


def test_diverging_with_early_stopping_stops_and_keeps_the_best_weights():
    # scikit-learn's issue #29504: with early_stopping=True a diverging loss must not
    # raise; training ends on the best weights, validation_scores_ ending with NaN
    X, y = _exploding_data()
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=10.0,
        early_stopping=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reg.fit(X, y)
    assert reg.stop_reason_.startswith("diverged: the cost became")
    assert "restored the weights of epoch" in reg.stop_reason_
    last = reg.validation_scores_[-1]
    assert type(last) is float
    assert math.isnan(last)
    assert all(math.isfinite(s) for s in reg.validation_scores_[:1])
    assert np.isfinite(reg.predict(X)).all()
    assert math.isfinite(reg.best_validation_score_)


def test_a_validation_score_that_becomes_nan_ends_training_on_the_best_weights():
    # predictions on the validation set overflow (float32) while the training cost stays
    # finite: scikit-learn scores them NaN, and early stopping cannot go on watching it
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)).astype(np.float32)
    X_val = np.full((10, 3), 3e38, dtype=np.float32)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,), activation="identity", early_stopping=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reg.fit(X, X @ [1.0, 2.0, 3.0], validation_data=(X_val, np.arange(10.0)))
    assert reg.stop_reason_.startswith("diverged: the validation r2 became NaN; restored")
    assert math.isnan(reg.validation_scores_[-1])
    assert len(reg.validation_scores_) == reg.n_iter_
    assert np.isfinite(reg.predict(X)).all()


def test_a_nan_score_stops_early_stopping():
    scores = iter([0.1, 0.2, math.nan, 0.9])
    X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40.0)
    reg = MLPRegressor(
        hidden_layer_sizes=(3,), early_stopping=True, scoring=lambda *_: next(scores)
    )
    reg.fit(X, y, validation_data=(X, y))
    assert (
        reg.stop_reason_
        == "diverged: the validation <lambda> became NaN; restored the weights of epoch 2"
    )
    assert reg.n_iter_ == 3
    assert reg.validation_scores_[:2] == [0.1, 0.2]


def test_poisson_validation_targets_are_checked_like_the_training_targets():
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.arange(20.0)
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=3)
    with pytest.raises(ValueError, match="^validation_data's y_val has negative values; the poi"):
        reg.fit(X, y, validation_data=(X, -y))
    with pytest.raises(ValueError, match="validation_data's y_val contains NaN or infinity"):
        reg.fit(X, y, validation_data=(X, np.full(20, np.nan)))
    with pytest.raises(ValueError, match=r"validation_data's y_val must have shape \(n_samples, 1"):
        reg.fit(X, y, validation_data=(X, np.zeros((20, 2))))


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("label", [7, "only"])
def test_a_single_class_is_fitted_and_predicted_as_scikit_learn_does(solver, label):
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = [label] * 30
    params = dict(hidden_layer_sizes=(4,), solver=solver, max_iter=20, random_state=0)
    ours = fit_quietly(MLPClassifier(**params), X, y)
    theirs = fit_quietly(sk_nn.MLPClassifier(**params), X, y)
    assert ours.classes_.tolist() == theirs.classes_.tolist() == [label]
    assert (ours.n_outputs_, ours.out_activation_) == (theirs.n_outputs_, theirs.out_activation_)
    assert ours.predict(X).tolist() == theirs.predict(X).tolist() == y
    proba = ours.predict_proba(X)
    assert proba.shape == theirs.predict_proba(X).shape == (30, 2)  # scikit-learn's two columns
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ours.score(X, y) == theirs.score(X, y) == 1.0


def test_a_single_class_with_partial_fit_and_in_a_model_file(tmp_path):
    import nnmath

    X = np.random.default_rng(0).normal(size=(30, 3))
    clf = MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    clf.partial_fit(X, ["only"] * 30, classes=["only"])
    assert clf.predict(X[:2]).tolist() == ["only", "only"]
    nnmath.save(clf, tmp_path / "one.safetensors")
    loaded = nnmath.load(tmp_path / "one.safetensors")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_lbfgs_stopping_on_max_fun_warns_as_scikit_learn_does(estimator):
    # scikit-learn's own test_lbfgs_*_maxfun settings
    X, y = load_iris(return_X_y=True)
    ours_cls, theirs_cls = (
        (MLPClassifier, sk_nn.MLPClassifier)
        if estimator == "classifier"
        else (MLPRegressor, sk_nn.MLPRegressor)
    )
    y = y if estimator == "classifier" else y.astype(float)
    params = dict(solver="lbfgs", hidden_layer_sizes=50, max_iter=150, max_fun=10, random_state=1)
    messages = []
    for cls in (ours_cls, theirs_cls):
        with pytest.warns(ConvergenceWarning) as record:
            model = cls(**params).fit(X, y)
        assert model.n_iter_ <= 10
        (warning,) = [w for w in record if w.category is ConvergenceWarning]
        messages.append(re.sub(r"after \d+ iteration", "after N iteration", str(warning.message)))
    assert messages[0] == messages[1]
    assert "TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT" in messages[0]


def _hand_worked_step(cls):
    """scikit-learn's test_fit (sklearn/neural_network/tests/test_mlp.py), line for line:
    the weights are set on an estimator never fitted, then one partial_fit step."""
    X = np.array([[0.6, 0.8, 0.7]])
    y = np.array([0])
    mlp = cls(
        solver="sgd",
        learning_rate_init=0.1,
        alpha=0.1,
        activation="logistic",
        random_state=1,
        max_iter=1,
        hidden_layer_sizes=2,
        momentum=0,
    )
    mlp.coefs_ = [0] * 2
    mlp.intercepts_ = [0] * 2
    mlp.n_outputs_ = 1
    mlp.coefs_[0] = np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0]])
    mlp.coefs_[1] = np.array([[0.1], [0.2]])
    mlp.intercepts_[0] = np.array([0.1, 0.1])
    mlp.intercepts_[1] = np.array([1.0])
    mlp.n_features_in_ = 3
    mlp.n_iter_ = 0
    mlp.n_layers_ = 3
    mlp.out_activation_ = "logistic"
    mlp.t_ = 0
    mlp.best_loss_ = np.inf
    mlp.loss_curve_ = []
    mlp.partial_fit(X, y, classes=[0, 1])
    return mlp, X


def test_the_hand_worked_sgd_step_starts_from_weights_set_before_any_fit():
    # h1 = σ(0.6·0.1 + 0.8·0.3 + 0.7·0.5 + 0.1) = 0.679179, h2 = σ(0.6·0.2 + 0.8·0.1 + 0.1)
    # = 0.574443; ŷ = σ(0.679·0.1 + 0.574·0.2 + 1) = 0.765433; δ_out = ŷ − y = 0.765433
    # δ_h = h(1 − h)·δ_out·W2 = [0.016670, 0.037421]
    # W1 ← W1 − 0.1·(xᵀδ_h + 0.1·W1); W2 ← W2 − 0.1·(hᵀδ_out + 0.1·W2); b ← b − 0.1·δ
    ours, X = _hand_worked_step(MLPClassifier)
    theirs, _ = _hand_worked_step(sk_nn.MLPClassifier)
    np.testing.assert_allclose(
        ours.coefs_[0],
        [[0.098, 0.195756], [0.2956664, 0.096008], [0.4939998, -0.002244]],
        atol=5e-4,
    )
    np.testing.assert_allclose(ours.coefs_[1], [[0.04706], [0.154089]], atol=5e-4)
    np.testing.assert_allclose(ours.intercepts_[0], [0.098333, 0.09626], atol=5e-4)
    np.testing.assert_allclose(ours.intercepts_[1], [0.9235], atol=5e-4)
    assert ours.predict_proba(X)[0, 1] == pytest.approx(0.739, abs=5e-4)
    for a, b in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-12)  # scikit-learn's numbers, to rounding


def test_weights_set_before_fit_are_dropped_by_a_fit_that_starts_afresh():
    X, y = np.eye(3), [0, 1, 1]
    clf = MLPClassifier(hidden_layer_sizes=(2,), max_iter=1, random_state=0)
    clf.coefs_ = [np.full((3, 2), 5.0), np.full((2, 1), 5.0)]
    clf.intercepts_ = [np.zeros(2), np.zeros(1)]
    fresh = MLPClassifier(hidden_layer_sizes=(2,), max_iter=1, random_state=0)
    fit_quietly(clf, X, y)  # warm_start=False: scikit-learn initializes anew
    fit_quietly(fresh, X, y)
    np.testing.assert_array_equal(clf.coefs_[0], fresh.coefs_[0])
    half = MLPClassifier(hidden_layer_sizes=(2,), warm_start=True)
    half.coefs_ = [np.zeros((3, 2)), np.zeros((2, 1))]
    with pytest.raises(ValueError, match="set both coefs_ and intercepts_"):
        half.fit(X, y)


def test_setting_one_layer_of_a_fitted_estimator_writes_into_the_network():
    X, y = np.eye(3), [0, 1, 1]
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(2,), max_iter=3, random_state=0), X, y)
    clf.coefs_[0] = np.zeros((3, 2))  # a plain list once swapped out the network's view
    clf.intercepts_[0] = np.ones(2)
    assert (clf.network_.W[0] == 0).all()
    assert (clf.network_.b[0] == 1).all()
    assert np.shares_memory(clf.network_.W[0], clf.network_.theta)
    np.testing.assert_allclose(
        clf.predict_proba(X)[0], clf.predict_proba(X)[1]
    )  # x no longer matters
    with pytest.raises(ValueError, match=r"coefs_\[1\] must have shape \(2, 1\); got \(1, 2\)"):
        clf.coefs_[1] = np.zeros((1, 2))
    with pytest.raises(ValueError, match=r"intercepts_ needs 2 arrays, one per layer; got 1"):
        clf.intercepts_ = [np.zeros(2)]
