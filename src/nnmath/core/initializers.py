"""Initial weights scaled by a layer's fan-in and fan-out.

* Glorot (Xavier) uniform: W ~ U(−r, r), r = √(6 / (n_in + n_out)) — keeps the
  variance of z and of ∂C/∂z roughly constant through sigmoid, tanh and identity layers.
* He uniform: W ~ U(−r, r), r = √(6 / n_in) — doubles the variance for ReLU layers,
  which zero half of their inputs.

Biases start at 0 — except in :func:`sklearn_uniform`, scikit-learn's MLP scheme
(Glorot's bound for all layers, √(2 / (n_in + n_out)) for logistic ones, biases drawn
too), which nnmath's scikit-learn estimators use with scikit-learn's ``RandomState`` so
that they start from scikit-learn's very weights. Randomness comes only from the
generator passed in.

Example
-------
>>> import numpy as np
>>> W = glorot_uniform(np.random.default_rng(0), 3, 2, np.float64)
>>> W.shape
(3, 2)
"""

from __future__ import annotations

import numpy as np

from nnmath.core import registry

__all__ = ["glorot_uniform", "he_uniform", "for_activation", "sklearn_uniform"]


def glorot_uniform(rng: np.random.Generator, n_in: int, n_out: int, dtype) -> np.ndarray:
    """W of shape (n_in, n_out) from U(−r, r), r = √(6 / (n_in + n_out))."""
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, size=(n_in, n_out)).astype(dtype, copy=False)


def he_uniform(rng: np.random.Generator, n_in: int, n_out: int, dtype) -> np.ndarray:
    """W of shape (n_in, n_out) from U(−r, r), r = √(6 / n_in)."""
    r = np.sqrt(6.0 / n_in)
    return rng.uniform(-r, r, size=(n_in, n_out)).astype(dtype, copy=False)


def for_activation(name: str):
    """Return the initializer an activation asks for: He for the ReLU family, else Glorot.

    Examples
    --------
    >>> for_activation("relu").__name__, for_activation("tanh").__name__
    ('he_uniform', 'glorot_uniform')
    """
    entry = registry.ACTIVATIONS.get(name)  # an activation of the user's own: Glorot
    return he_uniform if entry is not None and entry.initializer == "he" else glorot_uniform


def sklearn_uniform(
    rng: np.random.Generator | np.random.RandomState,
    n_in: int,
    n_out: int,
    dtype,
    factor: float = 6.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw W and b as scikit-learn's MLPs initialize them.

    W of shape (n_in, n_out), then b of shape (n_out,), both from U(−r, r),
    r = √(factor / (n_in + n_out)), drawn in float64 and then cast to ``dtype``;
    scikit-learn takes factor 6 (Glorot's), or 2 when the hidden activation is the
    logistic sigmoid. Given the ``RandomState`` scikit-learn's ``check_random_state``
    makes, these are scikit-learn's numbers.

    Examples
    --------
    >>> W, b = sklearn_uniform(np.random.RandomState(0), 2, 3, np.float64)
    >>> r = np.sqrt(6 / 5)
    >>> bool(np.all(np.abs(W) <= r)), b.shape
    (True, (3,))
    """
    r = np.sqrt(factor / (n_in + n_out))
    W = rng.uniform(-r, r, size=(n_in, n_out)).astype(dtype, copy=False)
    b = rng.uniform(-r, r, size=n_out).astype(dtype, copy=False)
    return W, b
