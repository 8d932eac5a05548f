"""The compiled optimizer kernels against the NumPy code they replace, and the fallback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nnmath import MLPClassifier, kernels
from nnmath.optimizers import Adam

needs_numba = pytest.mark.skipif(
    not kernels.available(), reason="numba is not installed (pip install 'nnmath[fast]')"
)


@pytest.fixture
def numpy_only(monkeypatch):
    """Switch the kernels off for the duration of a test."""

    def switch(on: bool):
        monkeypatch.setattr(kernels, "enabled", on)

    return switch


def _adam_run(dtype, n, steps, numpy_only_switch, use_kernel, **params):
    numpy_only_switch(use_kernel)
    rng = np.random.default_rng(0)
    p = rng.standard_normal(n).astype(dtype)
    opt = Adam(**params)
    for _ in range(steps):
        opt.step([p], [rng.standard_normal(n).astype(dtype)])
    return p


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "params",
    [{}, {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}],
    ids=["defaults", "other-betas"],
)
def test_adam_kernel_gives_the_numpy_bits(dtype, params, numpy_only, monkeypatch):
    # The kernel does NumPy's operations in NumPy's order: the same bits, not just close.
    ran = []
    original = kernels.adam_update
    monkeypatch.setattr(kernels, "adam_update", lambda *a: ran.append(original(*a)) or ran[-1])
    n = kernels.MIN_SIZE + 3
    compiled = _adam_run(dtype, n, 25, numpy_only, True, **params)
    assert ran == [True] * 25  # every step went through the kernel
    plain = _adam_run(dtype, n, 25, numpy_only, False, **params)
    assert ran[25:] == [False] * 25
    np.testing.assert_array_equal(compiled, plain)


@needs_numba
def test_adam_kernel_follows_the_textbook_rule(numpy_only):
    # Independent reference: torch.optim.Adam's documented update, written out in float64.
    n, steps, lr, b1, b2, eps = kernels.MIN_SIZE, 10, 0.01, 0.9, 0.999, 1e-8
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(n)
    grads = [rng.standard_normal(n) for _ in range(steps)]
    expected, m, v = theta.copy(), np.zeros(n), np.zeros(n)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        expected -= lr * m_hat / (np.sqrt(v_hat) + eps)
    numpy_only(True)
    opt = Adam(learning_rate=lr)
    for g in grads:
        opt.step([theta], [g])
    np.testing.assert_allclose(theta, expected, rtol=1e-12, atol=1e-15)


def test_short_vectors_and_a_disabled_switch_leave_the_work_to_numpy(numpy_only):
    p = np.zeros(kernels.MIN_SIZE - 1)
    args = (np.ones_like(p), np.zeros_like(p), np.zeros_like(p), 0.9, 0.999, 1e-8, 0.1)
    assert kernels.adam_update(p, *args) is False
    assert not p.any()  # untouched
    numpy_only(False)
    big = np.zeros(kernels.MIN_SIZE)
    args = (np.ones_like(big), np.zeros_like(big), np.zeros_like(big), 0.9, 0.999, 1e-8, 0.1)
    assert kernels.adam_update(big, *args) is False
    assert not big.any()
    assert kernels.available() is False


@needs_numba
def test_training_with_and_without_kernels_is_identical(numpy_only):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    fits = []
    for use_kernel in (True, False):
        numpy_only(use_kernel)
        clf = MLPClassifier((128, 128), max_iter=3, random_state=0)
        with pytest.warns(ConvergenceWarning):  # 3 epochs on purpose
            clf.fit(X, y)
        fits.append(clf)
    assert sum(c.size for c in fits[0].coefs_) >= kernels.MIN_SIZE  # the kernel's size
    first, second = fits[0].coefs_ + fits[0].intercepts_, fits[1].coefs_ + fits[1].intercepts_
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert fits[0].loss_curve_ == fits[1].loss_curve_


def _python(code: str, **env) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


def test_without_numba_everything_trains_in_numpy():
    # numba made unimportable: a network large enough for the kernel still trains,
    # and gives the same weights as the NumPy path of a normal install.
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from nnmath import kernels\n"
        "from nnmath.optimizers import Adam\n"
        "p = np.linspace(-1, 1, kernels.MIN_SIZE)\n"
        "opt = Adam(learning_rate=0.1)\n"
        "for t in range(3): opt.step([p], [np.cos(p * (t + 1))])\n"
        "print(kernels.available(), repr(float(p.sum())))\n"
    )
    available, total = _python(code).split()
    assert available == "False"
    p = np.linspace(-1, 1, kernels.MIN_SIZE)
    opt = Adam(learning_rate=0.1)
    previous, kernels.enabled = kernels.enabled, False
    try:
        for t in range(3):
            opt.step([p], [np.cos(p * (t + 1))])
    finally:
        kernels.enabled = previous
    assert float(total) == float(p.sum())


def test_environment_variable_switches_the_kernels_off():
    out = _python(
        "from nnmath import kernels; print(kernels.enabled, kernels.available())", NNMATH_NUMBA="0"
    )
    assert out == "False False"


def test_a_small_fit_never_imports_numba():
    code = (
        "import sys\n"
        "from sklearn.datasets import load_iris\n"
        "from nnmath import MLPClassifier\n"
        "import warnings; warnings.simplefilter('ignore')\n"
        "MLPClassifier((8,), max_iter=5, random_state=0).fit(*load_iris(return_X_y=True))\n"
        "print('numba' in sys.modules)\n"
    )
    assert _python(code) == "False"


@needs_numba
def test_a_matrix_parameter_is_left_to_numpy(numpy_only):
    # The kernel loops over a vector; a 2-D parameter (Network.parameters() hands out
    # W matrices) goes through NumPy, and gets what NumPy gives its flattened copy.
    rng = np.random.default_rng(0)
    W = rng.standard_normal((128, 128))
    flat = W.ravel().copy()
    assert kernels.adam_update(W, W, W.copy(), W.copy(), 0.9, 0.999, 1e-8, 0.1) is False
    a, b = Adam(learning_rate=0.01), Adam(learning_rate=0.01)
    for _ in range(3):
        g = rng.standard_normal((128, 128))
        a.step([W], [g])
        b.step([flat], [g.ravel()])  # through the kernel
    np.testing.assert_array_equal(W.ravel(), flat)


@needs_numba
@pytest.mark.parametrize(
    ("p_dtype", "g_dtype"), [(np.float32, np.float64), (np.float16, np.float16)]
)
def test_other_dtypes_are_left_to_numpy(p_dtype, g_dtype, numpy_only):
    n = kernels.MIN_SIZE
    p, g = np.zeros(n, p_dtype), np.ones(n, g_dtype)
    assert (
        kernels.adam_update(p, g, np.zeros_like(p), np.zeros_like(p), 0.9, 0.999, 1e-8, 0.1)
        is False
    )
    runs = []
    for use_kernel in (True, False):
        numpy_only(use_kernel)
        q = np.zeros(n, p_dtype)
        Adam(learning_rate=0.1).step([q], [g])
        runs.append(q)
    np.testing.assert_array_equal(runs[0], runs[1])
    assert runs[0].dtype == p_dtype and np.allclose(runs[0], -0.1, rtol=1e-2)


@needs_numba
def test_a_refused_disk_cache_compiles_in_memory(monkeypatch):
    import numba

    real_njit = numba.njit

    def njit(*args, **kwargs):
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return real_njit(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", njit)
    monkeypatch.setattr(kernels, "_compiled", None)  # load again, under the refusal
    n = kernels.MIN_SIZE
    p = np.zeros(n)
    assert kernels.adam_update(p, np.ones(n), np.zeros(n), np.zeros(n), 0.9, 0.999, 1e-8, 0.1)
    np.testing.assert_allclose(p, -0.1)  # m' = 1, u = 1: θ moves by s


# ---------------------------------------------------------------- the descent kernel
_ARTICLE_X = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
_ARTICLE_Y = np.array([[0.0], [1.0], [1.0], [0.0]])


@pytest.fixture
def descent_calls(monkeypatch):
    """Count the chunks that training hands to the compiled descent loop."""
    calls = []
    original = kernels.sigmoid_mse_descent

    def counted(*args):
        calls.append(args[7].size)  # the chunk's number of epochs
        return original(*args)

    monkeypatch.setattr(kernels, "sigmoid_mse_descent", counted)
    return calls


def _article_network(dtype=np.float64, n_in=3, n_out=1):
    from nnmath import Network

    net = Network([n_in, n_out], activation="sigmoid", loss="mse", dtype=dtype)
    net.initialize(np.random.default_rng(3))
    return net


def _train(net, X, Y, use_kernel, numpy_only, optimizer=None, **kw):
    from nnmath import SGD
    from nnmath.training import train

    numpy_only(use_kernel)
    kw = {"max_epochs": kernels.DESCENT_MIN_EPOCHS, "tol": None, "batch_size": None, **kw}
    optimizer = optimizer if optimizer is not None else SGD(learning_rate=0.5)
    return train(net, X, Y, optimizer=optimizer, rng=np.random.default_rng(0), **kw)


def _same_history(a, b, rtol):
    for name in ("n_iter", "t", "best_epoch", "no_improvement_count", "stop_reason"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.converged is b.converged
    np.testing.assert_allclose(a.loss_curve, b.loss_curve, rtol=rtol)
    np.testing.assert_allclose(a.best_loss, b.best_loss, rtol=rtol)
    np.testing.assert_allclose(a.best_theta, b.best_theta, rtol=rtol)


@needs_numba
@pytest.mark.parametrize(
    ("dtype", "tol", "rtol"),
    [(np.float64, None, 1e-12), (np.float64, 1e-7, 1e-12), (np.float32, None, 1e-4)],
    ids=["float64-all-epochs", "float64-stops-early", "float32-all-epochs"],
)
def test_descent_kernel_follows_the_numpy_training_loop(
    dtype, tol, rtol, numpy_only, descent_calls
):
    # Against the NumPy path of the same training loop (Network + SGD): the same costs
    # and weights to rounding, the same stopping epoch, best weights, gradient, reason.
    X, Y = _ARTICLE_X.astype(dtype), _ARTICLE_Y.astype(dtype)
    fast_net, slow_net = _article_network(dtype), _article_network(dtype)
    fast = _train(fast_net, X, Y, True, numpy_only, tol=tol)
    assert descent_calls  # the compiled loop ran
    n_calls = len(descent_calls)
    slow = _train(slow_net, X, Y, False, numpy_only, tol=tol)
    assert len(descent_calls) == n_calls  # and the second fit did not use it
    _same_history(fast, slow, rtol)
    np.testing.assert_allclose(fast_net.theta, slow_net.theta, rtol=rtol)
    np.testing.assert_allclose(fast_net.grad, slow_net.grad, rtol=100 * rtol)  # last ∂C/∂θ
    if tol is None:
        assert fast.n_iter == kernels.DESCENT_MIN_EPOCHS and not fast.converged
    else:
        assert fast.converged and 100 < fast.n_iter < kernels.DESCENT_MIN_EPOCHS
        assert "improved by less than tol" in fast.stop_reason


@needs_numba
def test_descent_kernel_continues_a_history(numpy_only, descent_calls):
    # A second call with the same network and history (warm start) carries on.
    runs = []
    for use_kernel in (True, False):
        net = _article_network()
        h = _train(net, _ARTICLE_X, _ARTICLE_Y, use_kernel, numpy_only, tol=1e-9)
        h = _train(net, _ARTICLE_X, _ARTICLE_Y, use_kernel, numpy_only, tol=1e-9, history=h)
        runs.append((h, net.theta.copy()))
        if use_kernel:
            assert len(descent_calls) > 2  # both calls ran compiled
    (fast, fast_theta), (slow, slow_theta) = runs
    _same_history(fast, slow, rtol=1e-12)
    np.testing.assert_allclose(fast_theta, slow_theta, rtol=1e-12)
    assert fast.n_iter > kernels.DESCENT_MIN_EPOCHS


@needs_numba
def test_descent_kernel_matches_numpy_on_a_multiclass_perceptron(numpy_only, descent_calls):
    # One-vs-rest on iris: 150 × 4 inputs, three sigmoid outputs. The sums run in
    # another order than BLAS's: equal to rounding.
    from sklearn.datasets import load_iris

    from nnmath import Perceptron

    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    fits = []
    for use_kernel in (True, False):
        numpy_only(use_kernel)
        clf = Perceptron(learning_rate=0.5, max_iter=kernels.DESCENT_MIN_EPOCHS, tol=None)
        fits.append(clf.set_params(random_state=0).fit(X, y))
    assert descent_calls
    fast, slow = fits
    assert fast.n_iter_ == slow.n_iter_ == kernels.DESCENT_MIN_EPOCHS
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-10)
    np.testing.assert_allclose(fast.coef_, slow.coef_, rtol=1e-10)
    np.testing.assert_allclose(fast.intercept_, slow.intercept_, rtol=1e-10)
    assert fast.score(X, y) > 0.9


@needs_numba
@pytest.mark.parametrize(
    ("X", "Y", "lr", "what"),
    [
        # a step of α = 1e300 on a gradient of ~1e9 overflows W
        (np.array([[1e10], [-1e10]]), np.array([[1.0], [0.0]]), 1e300, "the gradient or"),
        # a NaN target (train() takes arrays the estimators have checked): a NaN cost
        (np.array([[1.0], [-1.0]]), np.array([[np.nan], [0.0]]), 0.1, "the cost became nan"),
    ],
    ids=["parameters-overflow", "cost-nan"],
)
def test_descent_kernel_diverges_as_the_numpy_loop_does(X, Y, lr, what, numpy_only, descent_calls):
    from nnmath import SGD
    from nnmath.training import DivergenceError

    outcomes = []
    for use_kernel in (True, False):
        net = _article_network(n_in=1)
        net.theta[:] = 0.0
        with pytest.raises(DivergenceError) as caught:
            _train(net, X, Y, use_kernel, numpy_only, optimizer=SGD(learning_rate=lr))
        outcomes.append((str(caught.value), caught.value.history, net.theta.copy()))
    assert descent_calls
    (msg_a, h_a, theta_a), (msg_b, h_b, theta_b) = outcomes
    assert msg_a == msg_b and what in msg_a
    assert h_a.loss_curve == h_b.loss_curve and h_a.stop_reason == h_b.stop_reason
    assert h_a.n_iter == h_b.n_iter
    assert np.isfinite(theta_a).all()  # the last finite parameters
    np.testing.assert_array_equal(theta_a, theta_b)


@needs_numba
def test_a_float32_cost_overflows_in_the_kernel_as_in_numpy(numpy_only, descent_calls):
    # The kernel sums the cost in X's dtype: (1e19)² overflows float32 in both paths.
    from nnmath import SGD
    from nnmath.training import DivergenceError

    X = np.array([[0.0], [1.0], [2.0], [3.0]], np.float32)
    Y = np.full((4, 1), 1e19, np.float32)
    messages = []
    for use_kernel in (True, False):
        net = _article_network(np.float32, n_in=1)
        with pytest.raises(DivergenceError, match="the cost became inf") as caught:
            _train(net, X, Y, use_kernel, numpy_only, optimizer=SGD(learning_rate=1e-30))
        messages.append(str(caught.value))
    assert descent_calls and messages[0] == messages[1]


@needs_numba
def test_ctrl_c_stops_the_descent_kernel_between_chunks(numpy_only, monkeypatch):
    import signal

    original = kernels.sigmoid_mse_descent

    def interrupted(*args):
        result = original(*args)
        signal.raise_signal(signal.SIGINT)  # the training loop's handler raises a flag
        return result

    monkeypatch.setattr(kernels, "sigmoid_mse_descent", interrupted)
    net = _article_network()
    h = _train(net, _ARTICLE_X, _ARTICLE_Y, True, numpy_only, max_epochs=20_000)
    assert h.stop_reason.startswith("interrupted") and h.n_iter == 4096  # one chunk
    # The weights kept are those of the lowest cost (the weights after that epoch).
    assert h.loss_curve[h.best_epoch - 1] == min(h.loss_curve)
    np.testing.assert_array_equal(net.theta, h.best_theta)


def _keeps_numpy_cases():
    import scipy.sparse

    from nnmath import SGD, Network
    from nnmath.optimizers import InverseScaling
    from nnmath.training import Progress

    class MySGD(SGD):
        pass

    class MyNetwork(Network):
        pass

    X, Y = _ARTICLE_X, _ARTICLE_Y
    return {
        "callbacks": ({}, {"callbacks": [lambda info: None]}),
        "alpha": ({}, {"alpha": 1e-3}),
        "sample_weight": ({}, {"sample_weight": np.ones(4)}),
        "momentum": ({}, {"optimizer": SGD(learning_rate=0.5, momentum=0.9)}),
        "sgd-subclass": ({}, {"optimizer": MySGD(learning_rate=0.5)}),
        "schedule": ({}, {"schedule": InverseScaling()}),
        "progress": ({}, {"progress": Progress(0, 20)}),
        "validation": ({}, {"validation": (X, Y, None)}),
        "score": ({}, {"score": lambda: 0.0, "early_stopping": True}),
        "mini-batches": ({}, {"batch_size": 2}),
        "hidden-layer": ({"sizes": [3, 2, 1]}, {}),
        "tanh": ({"activation": "tanh"}, {}),
        "other-loss": ({"loss": "binary_cross_entropy"}, {}),
        "network-subclass": ({"cls": MyNetwork}, {}),
        "sparse-X": ({}, {"X": scipy.sparse.csr_matrix(X)}),
    }


@needs_numba
@pytest.mark.parametrize("case", list(_keeps_numpy_cases()))
def test_anything_the_kernel_does_not_do_keeps_the_numpy_loop(
    case, numpy_only, descent_calls, monkeypatch
):
    from nnmath import Network

    monkeypatch.setattr(kernels, "DESCENT_MIN_EPOCHS", 10)  # a short fit would qualify
    net_kw, train_kw = _keeps_numpy_cases()[case]
    cls = net_kw.pop("cls", Network)
    sizes = net_kw.pop("sizes", [3, 1])
    kw = {"activation": "sigmoid", "loss": "mse", **net_kw}
    net = cls(sizes, random_state=0, **kw)
    X = train_kw.pop("X", _ARTICLE_X)
    _train(net, X, _ARTICLE_Y, True, numpy_only, max_epochs=20, **train_kw)
    assert not descent_calls
    _train(_article_network(), _ARTICLE_X, _ARTICLE_Y, True, numpy_only, max_epochs=20)
    assert descent_calls  # while the plain case runs compiled


@needs_numba
def test_descent_applies_to_what_the_kernel_takes_only(numpy_only):
    X, Y, W = _ARTICLE_X, _ARTICLE_Y, np.zeros((3, 1))
    enough = kernels.DESCENT_MIN_EPOCHS
    assert kernels.descent_applies(X, Y, W, enough)
    assert not kernels.descent_applies(X, Y, W, enough - 1)  # a short fit: NumPy
    assert not kernels.descent_applies(X.astype(np.float32), Y, W, enough)  # mixed dtypes
    assert not kernels.descent_applies(X, Y.ravel(), W, enough)  # 1-D Y
    assert not kernels.descent_applies(X, Y[:1], W, enough)  # too few targets
    assert not kernels.descent_applies(X, np.hstack([Y, Y]), W, enough)  # too many
    big = np.zeros((kernels.DESCENT_MAX_WORK, 3))
    assert not kernels.descent_applies(big, np.zeros((len(big), 1)), W, enough)  # BLAS wins
    numpy_only(False)
    assert not kernels.descent_applies(X, Y, W, enough)


@needs_numba
def test_a_fortran_ordered_X_runs_compiled_too(numpy_only, descent_calls):
    a, b = _article_network(), _article_network()
    _train(a, np.asfortranarray(_ARTICLE_X), _ARTICLE_Y, True, numpy_only)
    _train(b, _ARTICLE_X, _ARTICLE_Y, True, numpy_only)
    assert len(descent_calls) > 1
    np.testing.assert_array_equal(a.theta, b.theta)


def test_a_short_perceptron_fit_never_imports_numba():
    code = (
        "import sys\n"
        "from nnmath import Perceptron\n"
        "Perceptron(max_iter=1000, tol=None).fit([[0.0], [1.0]], [0, 1])\n"
        "print('numba' in sys.modules)\n"
    )
    assert _python(code) == "False"


@needs_numba
def test_float32_perceptrons_stop_within_a_few_epochs_of_numpy(numpy_only, descent_calls):
    # float32 costs agree to rounding (about 1e-7); the stopping rule at tol=1e-6
    # compares per-epoch improvements near that level, so the stop may move a little.
    from sklearn.datasets import load_iris

    from nnmath import Perceptron

    X, y = load_iris(return_X_y=True)
    X = ((X - X.mean(axis=0)) / X.std(axis=0)).astype(np.float32)
    fits = []
    for use_kernel in (True, False):
        numpy_only(use_kernel)
        clf = Perceptron(learning_rate=0.5, max_iter=20_000, random_state=0)
        fits.append(clf.fit(X, y))
    assert descent_calls
    fast, slow = fits
    assert fast.stop_reason_ == slow.stop_reason_ and "tol" in fast.stop_reason_
    assert abs(fast.n_iter_ - slow.n_iter_) <= 0.01 * slow.n_iter_
    m = min(fast.n_iter_, slow.n_iter_)
    np.testing.assert_allclose(fast.loss_curve_[:m], slow.loss_curve_[:m], rtol=1e-6)
    assert fast.score(X, y) == slow.score(X, y)
