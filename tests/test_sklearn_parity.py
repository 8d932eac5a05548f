"""Same random_state, same model: nnmath's estimators against scikit-learn's, fit for fit.

Both libraries fit the same small problems with the same parameters; nnmath must draw
scikit-learn's random numbers in scikit-learn's order (initial weights, the early-stopping
split, each epoch's shuffle) and update as scikit-learn's optimizers do, so the epoch
counts, the loss curves, the validation scores, the warnings and the predictions agree
to rounding. A few epochs each, so that rounding has no time to grow.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize
from sklearn import datasets
from sklearn import neural_network as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import nnmath
from nnmath.core.rng import as_random_state, side_stream
from nnmath.data.sources import SampleOrder

X_iris, y_iris = datasets.load_iris(return_X_y=True)
X_iris = StandardScaler().fit_transform(X_iris)
y_binary = (y_iris == 2).astype(int)
y_multilabel = np.column_stack([y_iris == 0, y_iris != 1]).astype(int)
X_reg, y_reg = datasets.make_regression(n_samples=90, n_features=5, n_targets=2, random_state=0)
y_reg = y_reg / y_reg.std(axis=0)
weights = np.random.RandomState(7).uniform(0.5, 2.0, size=150)

SOLVERS = [
    {"solver": "adam"},
    {"solver": "sgd"},
    {"solver": "sgd", "nesterovs_momentum": False},
    {"solver": "sgd", "momentum": 0.0},
    {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.2},
    {"solver": "sgd", "learning_rate": "adaptive", "tol": 0.5, "n_iter_no_change": 1},
    {"solver": "lbfgs"},
]
TARGETS = {
    "multiclass": (X_iris, y_iris),
    "binary": (X_iris, y_binary),
    "multilabel": (X_iris, y_multilabel),
    "regression": (X_reg, y_reg[:, 0]),
    # Several outputs: scikit-learn reports (and gives L-BFGS) the loss ½·(1/k) Σₖ but
    # steps along the gradient of ½ Σₖ, k times that loss's; so must nnmath.
    "two outputs": (X_reg, y_reg),
}


def _both(task, fit_kwargs=None, **params):
    X, y = TARGETS[task]
    kind = "MLPRegressor" if task in ("regression", "two outputs") else "MLPClassifier"
    params = {"hidden_layer_sizes": (6, 5), "random_state": 0, "max_iter": 8, **params}
    out = []
    for module in (sk, nnmath):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = getattr(module, kind)(**params).fit(X, y, **(fit_kwargs or {}))
        said = sorted((w.category.__name__, str(w.message)) for w in caught)
        out.append((est, said))
    return X, out


def _outputs(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def _assert_same(X, fitted, rtol=1e-9, atol=1e-10):
    (ref, ref_said), (got, got_said) = fitted
    assert got.n_iter_ == ref.n_iter_
    assert got.t_ == ref.t_ or ref.solver == "lbfgs"
    assert got_said == ref_said
    if ref.solver != "lbfgs":
        assert got._no_improvement_count == ref._no_improvement_count
        np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, rtol=rtol, atol=atol)
        if ref.best_loss_ is None:
            assert got.best_loss_ is None
        else:
            assert got.best_loss_ == pytest.approx(ref.best_loss_, rel=rtol, abs=atol)
    if ref.solver == "lbfgs":  # scikit-learn keeps no curves for L-BFGS
        assert not hasattr(ref, "validation_scores_")
    elif ref.validation_scores_ is None:
        assert got.validation_scores_ is None
    else:
        np.testing.assert_allclose(got.validation_scores_, ref.validation_scores_, atol=1e-12)
        assert got.best_validation_score_ == pytest.approx(ref.best_validation_score_)
    np.testing.assert_allclose(got.loss_, ref.loss_, rtol=rtol, atol=atol)
    np.testing.assert_allclose(_outputs(got, X), _outputs(ref, X), rtol=rtol, atol=atol)
    if hasattr(ref, "classes_"):  # the same label for every row
        np.testing.assert_array_equal(got.predict(X), ref.predict(X))


@pytest.mark.parametrize("task", sorted(TARGETS))
@pytest.mark.parametrize("solver", SOLVERS, ids=lambda p: "-".join(map(str, p.values())))
def test_same_fit_as_sklearn(task, solver):
    X, fitted = _both(task, batch_size=40, **solver)
    _assert_same(X, fitted)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression", "two outputs"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_same_early_stopping_as_sklearn(task, solver):
    # The split (stratified for a single-output classifier) and the validation scores;
    # tol=0.2 stops after n_iter_no_change=2 epochs without such a gain.
    X, fitted = _both(
        task,
        solver=solver,
        early_stopping=True,
        validation_fraction=0.2,
        tol=0.2,
        n_iter_no_change=2,
        max_iter=20,
        batch_size=30,
    )
    assert fitted[0][0].n_iter_ < 20  # it did stop early
    _assert_same(X, fitted)


@pytest.mark.parametrize("task", ["binary", "multiclass", "two outputs"])
@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_same_fit_with_sample_weights(solver, early_stopping, task):
    # (binary with early stopping: a stratified split that carries the weights along)
    X, fitted = _both(
        task,
        fit_kwargs={"sample_weight": weights[: len(TARGETS[task][0])]},
        solver=solver,
        early_stopping=early_stopping,
        batch_size=50,
    )
    _assert_same(X, fitted)


@pytest.mark.parametrize("task", ["multiclass", "regression", "two outputs"])
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_same_partial_fits_as_sklearn(task, solver):
    X, y = TARGETS[task]
    kind = "MLPRegressor" if task in ("regression", "two outputs") else "MLPClassifier"
    params = {"hidden_layer_sizes": (7,), "random_state": 3, "solver": solver, "batch_size": 25}
    ref, got = getattr(sk, kind)(**params), getattr(nnmath, kind)(**params)
    extra = {"classes": np.unique(y)} if kind == "MLPClassifier" else {}
    size = X.shape[0] // 3
    for start in (0, size, 2 * size, 0):
        part = slice(start, start + size)
        ref.partial_fit(X[part], y[part], **extra)
        got.partial_fit(X[part], y[part], **extra)
    assert got.t_ == ref.t_ == 4 * size
    np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(_outputs(got, X), _outputs(ref, X), rtol=1e-9, atol=1e-10)


def test_float32_fit_as_sklearn():
    X32 = X_iris.astype(np.float32)
    ref = sk.MLPClassifier(hidden_layer_sizes=(6, 5), random_state=0, max_iter=8, batch_size=40)
    got = nnmath.MLPClassifier(hidden_layer_sizes=(6, 5), random_state=0, max_iter=8, batch_size=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X32, y_iris)
        got.fit(X32, y_iris)
    assert got.predict_proba(X32).dtype == np.float32
    np.testing.assert_allclose(got.predict_proba(X32), ref.predict_proba(X32), atol=1e-5)


def test_random_state_instance_is_consumed_as_sklearn_consumes_it():
    # A RandomState passed in continues from fit to fit: the second fit's weights and
    # shuffles are the next draws, in both libraries.
    params = {"hidden_layer_sizes": (4,), "max_iter": 3, "batch_size": 30}
    ref = sk.MLPClassifier(random_state=np.random.RandomState(5), **params)
    got = nnmath.MLPClassifier(random_state=np.random.RandomState(5), **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            ref.fit(X_iris, y_iris)
            got.fit(X_iris, y_iris)
    np.testing.assert_allclose(got.loss_curve_, ref.loss_curve_, rtol=1e-10)
    assert got.random_state.uniform() == ref.random_state.uniform()


def test_dropout_does_not_change_sklearns_draws():
    # Dropout masks come from a stream of their own: the initial weights (drawn before
    # any epoch) are scikit-learn's with dropout on too, and the RandomState's next
    # draw is where scikit-learn's is.
    params = {"hidden_layer_sizes": (5,), "max_iter": 1, "learning_rate_init": 1e-12}
    ref = sk.MLPRegressor(random_state=np.random.RandomState(2), **params)
    got = nnmath.MLPRegressor(random_state=np.random.RandomState(2), dropout=0.5, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X_reg, y_reg[:, 0])
        got.fit(X_reg, y_reg[:, 0])
    for a, b in zip(got.coefs_ + got.intercepts_, ref.coefs_ + ref.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-9)
    assert got.random_state.uniform() == ref.random_state.uniform()


def test_side_stream_reads_a_random_state_without_drawing():
    rs = np.random.RandomState(11)
    first = side_stream(rs).random(3)
    np.testing.assert_array_equal(side_stream(rs).random(3), first)  # nothing drawn
    assert rs.uniform() == np.random.RandomState(11).uniform()
    assert as_random_state(11).randint(1000) == np.random.RandomState(11).randint(1000)


def test_sample_order_is_sklearn_shuffle():
    from sklearn.utils import shuffle

    rs_ref, order = np.random.RandomState(4), SampleOrder(np.random.RandomState(4))
    idx = np.arange(9)
    for _ in range(3):
        idx = shuffle(idx, random_state=rs_ref)
        np.testing.assert_array_equal(order.permutation(9), idx)


def test_invscaling_counts_samples_across_warm_starts():
    # Two one-epoch fits on 4 samples: 8 samples seen, α = α₀ / (8 + 1)^power_t.
    X, y = [[3, 2], [1, 6], [5, 6], [-2, -4]], [1, 1, 1, 0]
    params = {"solver": "sgd", "hidden_layer_sizes": 4, "learning_rate": "invscaling"}
    params |= {"max_iter": 1, "power_t": 0.25, "warm_start": True, "random_state": 0}
    rates = []
    for module in (sk, nnmath):
        est = module.MLPClassifier(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
            est.fit(X, y)
        rates.append(est._optimizer.learning_rate)
        assert est.t_ == 8
    assert rates[1] == rates[0] == pytest.approx(0.001 / 9**0.25)


def test_lbfgs_regressor_warns_when_max_fun_stops_it():
    X, y = X_reg, y_reg[:, 0]
    for module in (sk, nnmath):
        est = module.MLPRegressor(solver="lbfgs", hidden_layer_sizes=20, tol=0.0, max_fun=10)
        with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
            est.fit(X, y)
        assert est.n_iter_ <= 10


@pytest.mark.parametrize("nesterov", [False, True])
def test_step_velocity_is_sklearns_sgd_when_the_rate_changes(nesterov):
    from sklearn.neural_network._stochastic_optimizers import SGDOptimizer

    rng = np.random.RandomState(0)
    ours = rng.normal(size=5)
    theirs = [ours.copy()]
    opt = nnmath.SGD(0.1, momentum=0.9, nesterov=nesterov, step_velocity=True)
    ref = SGDOptimizer(theirs, 0.1, momentum=0.9, nesterov=nesterov)
    opt.prepare([ours])
    for rate in (0.1, 0.1, 0.05, 0.02, 0.02, 0.3):
        g = rng.normal(size=5)
        opt.learning_rate = ref.learning_rate = rate
        opt.update([ours], [g])
        ref.update_params(theirs, [g])
    np.testing.assert_allclose(ours, theirs[0], rtol=1e-14)


def test_adam_with_epsilon_on_v_is_sklearns_adam():
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

    rng = np.random.RandomState(1)
    ours = rng.normal(size=6)
    plain, theirs = ours.copy(), [ours.copy()]
    # a large ε and small gradients, so that where ε goes shows
    opt = nnmath.Adam(0.01, epsilon=1e-3, epsilon_on="v")
    torch_like = nnmath.Adam(0.01, epsilon=1e-3)  # ε on √v̂
    ref = AdamOptimizer(theirs, 0.01, epsilon=1e-3)
    opt.prepare([ours])
    torch_like.prepare([plain])
    for _ in range(5):
        g = 1e-3 * rng.normal(size=6)
        opt.update([ours], [g])
        torch_like.update([plain], [g])
        ref.update_params(theirs, [g])
    np.testing.assert_allclose(ours, theirs[0], rtol=1e-12)
    assert np.abs(plain - theirs[0]).max() > 1e-4
    with pytest.raises(ValueError, match="epsilon_on must be 'v_hat' or 'v'"):
        nnmath.Adam(epsilon_on="m")


def test_a_sample_order_draws_no_dropout_masks():
    from nnmath.training import Settings, train

    net = nnmath.Network([2, 3, 1], dropout=0.5, random_state=0)
    X, Y = np.zeros((4, 2)), np.zeros((4, 1))
    order = SampleOrder(np.random.RandomState(0))
    with pytest.raises(ValueError, match="pass dropout_rng="):
        train(net, X, Y, nnmath.SGD(0.1), Settings(max_epochs=1, batch_size=2), rng=order)
    history = train(
        net,
        X,
        Y,
        nnmath.SGD(0.1),
        Settings(max_epochs=1, batch_size=2),
        rng=order,
        dropout_rng=np.random.default_rng(0),
    )
    assert history.n_iter == 1


@pytest.mark.parametrize(
    ("task", "fit_kwargs"),
    [
        ("regression", {}),
        ("two outputs", {}),
        ("two outputs", {"sample_weight": weights[:90]}),
        ("multiclass", {"sample_weight": weights}),
    ],
    ids=["regression", "two-outputs", "two-outputs-weighted", "multiclass-weighted"],
)
def test_lbfgs_is_handed_sklearns_very_numbers(task, fit_kwargs, monkeypatch):
    # Every (θ, C, ∂C/∂θ) scipy sees, bit for bit: the gradient divided by Σw as
    # scikit-learn divides it; the squared error's value summed as scikit-learn sums it.
    X, y = TARGETS[task]
    kind = "MLPClassifier" if task == "multiclass" else "MLPRegressor"
    minimize = scipy.optimize.minimize
    calls: list[list] = []

    def recording(fun, x0, *args, **kwargs):
        seen = calls[-1]

        def fun_seen(x, *more):
            value, gradient = fun(x, *more)
            seen.append((x.copy(), float(value), np.array(gradient, dtype=float)))
            return value, gradient

        return minimize(fun_seen, x0, *args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", recording)
    params = {"hidden_layer_sizes": (6, 5), "solver": "lbfgs", "max_iter": 15}
    with threadpool_limits(1), warnings.catch_warnings():  # the same BLAS sums for both
        warnings.simplefilter("ignore", ConvergenceWarning)
        for module in (sk, nnmath):
            calls.append([])
            getattr(module, kind)(random_state=0, **params).fit(X, y, **fit_kwargs)
    ref, got = calls
    if task == "multiclass":  # the log loss sums in another order: the first step only
        ref, got = ref[:1], got[:1]
        assert got[0][1] == pytest.approx(ref[0][1], rel=1e-14)
        got[0] = (got[0][0], ref[0][1], got[0][2])
    else:
        assert len(got) == len(ref) > 15
    for (x_ref, c_ref, g_ref), (x_got, c_got, g_got) in zip(ref, got, strict=True):
        np.testing.assert_array_equal(x_got, x_ref)
        np.testing.assert_array_equal(g_got, g_ref)
        assert c_got == c_ref
