"""The compiled Adam update against the NumPy code it replaces, and the fallback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from nnmath import MLPClassifier
from nnmath.core import kernels
from nnmath.core.optimizers import Adam

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


@pytest.mark.slow
def test_without_numba_everything_trains_in_numpy():
    # numba made unimportable: a network large enough for the kernel still trains,
    # and gives the same weights as the NumPy path of a normal install.
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from nnmath.core import kernels\n"
        "from nnmath.core.optimizers import Adam\n"
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


@pytest.mark.slow
def test_environment_variable_switches_the_kernels_off():
    out = _python(
        "from nnmath.core import kernels; print(kernels.enabled, kernels.available())",
        NNMATH_NUMBA="0",
    )
    assert out == "False False"


@pytest.mark.slow
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
    assert runs[0].dtype == p_dtype
    assert np.allclose(runs[0], -0.1, rtol=1e-2)


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
