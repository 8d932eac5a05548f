"""A compiled Adam update (optional: numba).

The NumPy code of :class:`nnmath.core.optimizers.Adam` stays the definition and the
fallback; with numba installed (``pip install "nnmath[fast]"``) its update runs as one
compiled loop instead (:func:`adam_update`). NumPy applies it as ten whole-array
operations, and on a large parameter vector each is a pass over memory: those passes,
not the arithmetic, are its cost. The kernel does the same floating-point operations in
the same order in one pass, and a test holds the two to identical bits. It takes 1-D
float32 or float64 vectors (the training loop hands the optimizer the network's flat θ)
of at least ``MIN_SIZE`` entries; below that NumPy's per-call overhead is what costs,
and a small fit never imports numba.

Set the environment variable ``NNMATH_NUMBA=0``, or ``nnmath.core.kernels.enabled = False``,
to keep to NumPy.

Example
-------
>>> import numpy as np
>>> from nnmath.core import kernels
>>> p = np.zeros(4)
>>> kernels.adam_update(p, np.ones(4), np.zeros(4), np.zeros(4), 0.9, 0.999, 1e-8, 0.1)
False
>>> p   # 4 entries < MIN_SIZE: nothing done; the caller takes the NumPy path
array([0., 0., 0., 0.])
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["MIN_SIZE", "adam_update", "available", "enabled"]

#: Parameter vectors shorter than this are left to NumPy.
MIN_SIZE = 16_384
#: False keeps every update in NumPy (also set by the environment: NNMATH_NUMBA=0).
enabled = os.environ.get("NNMATH_NUMBA", "1") != "0"

_compiled: dict | bool | None = None  # the jitted kernels; False when numba is missing


def _adam_loop(p, g, m_, u, b1, b2, eps_k, step):  # pragma: no cover - runs compiled
    # Adam's update on the rescaled moments m' and u of nnmath.core.optimizers.Adam, in
    # the order of its NumPy operations: m' ← m'β₁ + g; u ← uβ₂ + g·g;
    # θ ← θ − (m' / (√u + ε/k))·s.
    for i in range(p.size):
        gi = g[i]
        mi = m_[i] * b1 + gi
        ui = u[i] * b2 + gi * gi
        m_[i] = mi
        u[i] = ui
        p[i] -= mi / (np.sqrt(ui) + eps_k) * step


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
            _compiled = {"adam": jit(_adam_loop)}
        except Exception:  # any refusal of the cache: compile without it
            jit = numba.njit(error_model="numpy", nogil=True)
            _compiled = {"adam": jit(_adam_loop)}
    return _compiled


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _applies(p, *others) -> bool:
    """Tell whether a kernel applies: 1-D float32/float64 vectors of one dtype, MIN_SIZE entries."""
    return (
        enabled
        and p.ndim == 1
        and p.size >= MIN_SIZE
        and p.dtype in _FLOATS
        and all(a.ndim == 1 and a.dtype == p.dtype and a.shape == p.shape for a in others)
    )


def available() -> bool:
    """Return True when the compiled kernels can be used (numba installed and ``enabled``).

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    return bool(enabled and _load())


def adam_update(p, g, m_, u, b1, b2, eps_k, step) -> bool:
    """Adam's update of :class:`nnmath.core.optimizers.Adam`, in one pass, in place.

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
