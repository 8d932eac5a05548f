"""Compiled loops for two hot paths (optional: numba).

The NumPy code stays the definition and the fallback; with numba installed
(``pip install "nnmath[fast]"``) two paths run as compiled loops instead:

* **Adam's update** (:func:`adam_update`). NumPy applies it as ten whole-array
  operations, and on a large parameter vector each is a pass over memory: those passes,
  not the arithmetic, are its cost. The kernel does the same floating-point operations
  in the same order in one pass, and a test holds the two to identical bits. It takes
  1-D float32 or float64 vectors (the training loop hands the optimizer the network's
  flat θ) of at least ``MIN_SIZE`` entries; below that NumPy's per-call overhead is what
  costs, and a small MLP fit never imports numba.
* **The article's perceptron** (:func:`sigmoid_mse_descent`): full-batch gradient
  descent of one sigmoid layer on the MSE cost, where a step is a few hundred
  floating-point operations and NumPy's dozens of calls per step are the whole cost.
  The training loop hands it chunks of epochs (:func:`descent_applies` says when). Its
  sums run in another order than NumPy's and BLAS's, so its costs and weights agree with
  the NumPy loop's to rounding, not to the bit; a stopping rule whose ``tol`` is at the
  level of rounding can then stop a few epochs apart, as it can on another BLAS.

Set the environment variable ``NNMATH_NUMBA=0``, or ``nnmath.kernels.enabled = False``,
to keep to NumPy.

Example
-------
>>> import numpy as np
>>> from nnmath import kernels
>>> p = np.zeros(4)
>>> kernels.adam_update(p, np.ones(4), np.zeros(4), np.zeros(4), 0.9, 0.999, 1e-8, 0.1)
False
>>> p   # 4 entries < MIN_SIZE: nothing done; the caller takes the NumPy path
array([0., 0., 0., 0.])
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "DESCENT_MAX_WORK",
    "DESCENT_MIN_EPOCHS",
    "MIN_SIZE",
    "adam_update",
    "available",
    "descent_applies",
    "enabled",
    "sigmoid_mse_descent",
]

#: Parameter vectors shorter than this are left to NumPy.
MIN_SIZE = 16_384
#: False keeps every update in NumPy (also set by the environment: NNMATH_NUMBA=0).
enabled = os.environ.get("NNMATH_NUMBA", "1") != "0"

_compiled: dict | bool | None = None  # the jitted kernels; False when numba is missing


def _adam_loop(p, g, m_, u, b1, b2, eps_k, step):  # pragma: no cover - runs compiled
    # Adam's update on the rescaled moments m' and u of nnmath.optimizers.Adam, in
    # the order of its NumPy operations: m' ← m'β₁ + g; u ← uβ₂ + g·g;
    # θ ← θ − (m' / (√u + ε/k))·s.
    for i in range(p.size):
        gi = g[i]
        mi = m_[i] * b1 + gi
        ui = u[i] * b2 + gi * gi
        m_[i] = mi
        u[i] = ui
        p[i] -= mi / (np.sqrt(ui) + eps_k) * step


def _descent_loop(  # pragma: no cover - runs compiled
    X, Y, W, b, dW, db, lr, one, two, inv_n, costs, best_loss, best_W, best_b
):
    # Full-batch gradient descent of one sigmoid layer on the MSE cost, with the
    # operations of the NumPy training step (Network._cost_and_gradients, then SGD):
    # z = XW + b; ŷ = 1/(1 + e^(−z)); C = Σ(y − ŷ)²/n, the sum rounded to X's dtype;
    # g = 2(ŷ − y)·(1/n); δ = g·ŷ − (g·ŷ)·ŷ; dW = Xᵀδ, db = Σδ; θ ← θ − (∂C/∂θ)·α.
    # Returns (steps done, status, best cost, its step or −1); status 1: step s gave a
    # non-finite cost (θ untouched); 2: step s made θ non-finite (θ put back). After
    # each step whose cost beat best_loss, θ is copied to best_W, best_b.
    n, d = X.shape
    k = W.shape[1]
    D = np.empty((n, k), X.dtype)
    total = np.empty(1, X.dtype)
    W0 = np.empty_like(W)
    b0 = np.empty_like(b)
    best_at = -1
    for s in range(costs.size):
        c = 0.0
        for i in range(n):
            for o in range(k):
                z = X[i, 0] * W[0, o]
                for j in range(1, d):
                    z += X[i, j] * W[j, o]
                a = one / (one + np.exp(-(z + b[o])))
                r = Y[i, o] - a
                c += r * r
                gi = two * (a - Y[i, o]) * inv_n
                gi = gi * a
                D[i, o] = gi - gi * a
        # Summed in float64 and rounded once to X's dtype: NumPy's pairwise sum in that
        # dtype is close to the rounded exact sum, and overflows where it does (the
        # terms are ≥ 0, so no partial sum exceeds the total).
        total[0] = c
        cost = np.float64(total[0]) / n
        costs[s] = cost
        if not np.isfinite(cost):
            return s, 1, best_loss, best_at
        W0[:, :] = W
        b0[:] = b
        finite = True
        for o in range(k):
            for j in range(d):
                gj = X[0, j] * D[0, o]
                for i in range(1, n):
                    gj += X[i, j] * D[i, o]
                dW[j, o] = gj
                W[j, o] -= gj * lr
                finite = finite and np.isfinite(W[j, o])
            gb = D[0, o]
            for i in range(1, n):
                gb += D[i, o]
            db[o] = gb
            b[o] -= gb * lr
            finite = finite and np.isfinite(b[o])
        if not finite:
            W[:, :] = W0
            b[:] = b0
            return s, 2, best_loss, best_at
        if cost < best_loss:
            best_loss = cost
            best_W[:, :] = W
            best_b[:] = b
            best_at = s
    return costs.size, 0, best_loss, best_at


def _load():
    global _compiled
    if _compiled is None:
        try:
            import numba
        except ImportError:
            _compiled = False
            return _compiled
        # error_model="numpy": a division by zero gives inf as in NumPy (no check in
        # the loop, which lets it vectorize); cache=True keeps the machine code on
        # disk, so a new process loads it instead of compiling again. Where no cache
        # directory is writable, numba refuses cache=True: compile in memory instead.
        try:
            jit = numba.njit(cache=True, error_model="numpy", nogil=True)
            _compiled = {"adam": jit(_adam_loop), "descent": jit(_descent_loop)}
        except Exception:  # any refusal of the cache: compile without it
            jit = numba.njit(error_model="numpy", nogil=True)
            _compiled = {"adam": jit(_adam_loop), "descent": jit(_descent_loop)}
    return _compiled


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _applies(p, *others) -> bool:
    """A kernel takes 1-D float32/float64 vectors of one dtype and MIN_SIZE entries."""
    return (
        enabled
        and p.ndim == 1
        and p.size >= MIN_SIZE
        and p.dtype in _FLOATS
        and all(a.ndim == 1 and a.dtype == p.dtype and a.shape == p.shape for a in others)
    )


def available() -> bool:
    """True when the compiled kernels can be used (numba installed and ``enabled``).

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    return bool(enabled and _load())


def adam_update(p, g, m_, u, b1, b2, eps_k, step) -> bool:
    """Adam's update of :class:`nnmath.optimizers.Adam`, in one pass, in place.

    Parameters
    ----------
    p, g, m_, u : ndarray of shape (n,), one float dtype, contiguous
        θ, the gradient, and the rescaled moments m' = m/(1 − β₁) and u = v/(1 − β₂).
    b1, b2, eps_k, step : scalars of that dtype
        β₁, β₂, ε/k and the step factor s of the update θ ← θ − (m' / (√u + ε/k))·s.

    Returns
    -------
    bool
        True when the kernel ran; False, with nothing changed, when it does not apply
        (numba missing, kernels disabled, n < ``MIN_SIZE``, arrays that are not 1-D
        or not all float32 or all float64).

    Examples
    --------
    >>> import numpy as np
    >>> n = MIN_SIZE
    >>> p, g = np.zeros(n), np.ones(n)
    >>> ran = adam_update(p, g, np.zeros(n), np.zeros(n), 0.9, 0.999, 1e-8, 0.1)
    >>> bool(not ran or np.allclose(p, -0.1))   # m' = 1, u = 1: θ moves by s
    True
    """
    if not _applies(p, g, m_, u):
        return False
    compiled = _load()
    if not compiled:
        return False
    dt = p.dtype.type
    compiled["adam"](p, g, m_, u, dt(b1), dt(b2), dt(eps_k), dt(step))
    return True


#: The descent kernel's loops do each step's n·d·k multiply-adds one at a time; above
#: this many, the step is large enough for NumPy's BLAS calls to be the faster path.
DESCENT_MAX_WORK = 4096
#: Fits shorter than this stay with NumPy. Loading numba and the compiled loop takes
#: about half a second in a new process, which NumPy's steps of a tiny network (about
#: 50 µs each here) take about this many epochs to cost. The rule depends on the call
#: alone, so one call always takes one path.
DESCENT_MIN_EPOCHS = 10_000


def descent_applies(X, Y, W, epochs: int) -> bool:
    """True when the training loop hands ``epochs`` full-batch steps on these arrays to
    :func:`sigmoid_mse_descent`: the kernels are available, X (n, d), Y (n, k) and
    W (d, k) are float32 or float64 of one dtype, a step's n·d·k multiply-adds are at
    most ``DESCENT_MAX_WORK``, and ``epochs`` is at least ``DESCENT_MIN_EPOCHS``.

    Examples
    --------
    >>> import numpy as np
    >>> X, Y, W = np.zeros((4, 3)), np.zeros((4, 1)), np.zeros((3, 1))
    >>> descent_applies(X, Y, W, 10_000) == available()
    True
    >>> descent_applies(X, Y, W, 100)   # a short fit: NumPy
    False
    """
    return (
        isinstance(X, np.ndarray)
        and isinstance(Y, np.ndarray)
        and X.ndim == Y.ndim == W.ndim == 2
        and X.shape[1] == W.shape[0]
        and Y.shape == (X.shape[0], W.shape[1])
        and X.dtype in _FLOATS
        and X.dtype == Y.dtype == W.dtype
        and X.size * W.shape[1] <= DESCENT_MAX_WORK
        and epochs >= DESCENT_MIN_EPOCHS
        and available()
    )


def sigmoid_mse_descent(X, Y, W, b, dW, db, learning_rate, costs, best_loss, best_W, best_b):
    """Full-batch gradient descent of one sigmoid layer on the MSE cost, in place.

    The training step of a one-layer :class:`nnmath.Network` with ``sigmoid`` output and
    ``mse`` loss, followed by :class:`nnmath.SGD` without momentum, repeated
    ``costs.size`` times in one compiled loop: ŷ = σ(XW + b), C = (1/n) Σ (y − ŷ)²,
    δ = 2(ŷ − y)/n · ŷ(1 − ŷ), W ← W − α Xᵀδ, b ← b − α Σᵢ δᵢ. The NumPy step stays the
    definition; tests hold the two together to rounding over thousands of steps.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64
    Y : ndarray of shape (n, k), X's dtype
    W, b : ndarrays of shapes (d, k) and (k,), X's dtype
        The parameters, updated in place (views into the network's θ).
    dW, db : ndarrays shaped as W and b
        Receive the last step's gradient ∂C/∂W, ∂C/∂b (views into the network's grad).
    learning_rate : float
    costs : ndarray of shape (steps,), float64
        Receives the cost C of each step, computed before that step's update.
    best_loss : float
        The lowest cost seen before this call.
    best_W, best_b : ndarrays shaped as W and b
        Receive θ after each step whose cost beat the best so far.

    Returns
    -------
    (steps_done, status, best_loss, best_step)
        ``status`` 0: all steps done; 1: step ``steps_done`` gave a non-finite cost and
        θ was not updated; 2: step ``steps_done`` made θ non-finite and θ was put back.
        ``best_step`` is the step whose θ is in best_W, best_b, or −1 for none.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0]]); Y = np.array([[0.0], [1.0]])
    >>> W, b = np.zeros((1, 1)), np.zeros(1); costs = np.empty(100)
    >>> if available():
    ...     done = sigmoid_mse_descent(X, Y, W, b, W.copy(), b.copy(), 1.0, costs,
    ...                                np.inf, W.copy(), b.copy())
    ... else:   # without numba the training loop takes NumPy's path
    ...     done, costs[:] = (100, 0, 0.0, 99), 0.0
    >>> done[0], bool(costs[-1] < 0.25)   # C starts at 0.25 (ŷ = ½) and falls
    (100, True)
    """
    dt = X.dtype.type
    compiled = _load()
    done, status, best, best_at = compiled["descent"](
        X, Y, W, b, dW, db, dt(learning_rate), dt(1), dt(2), dt(1 / X.shape[0]),
        costs, float(best_loss), best_W, best_b,
    )  # fmt: skip
    return int(done), int(status), float(best), int(best_at)
