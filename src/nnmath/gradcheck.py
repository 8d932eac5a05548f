"""Check backpropagation against central finite differences.

For every parameter θⱼ: ∂C/∂θⱼ ≈ (C(θ + εeⱼ) − C(θ − εeⱼ)) / 2ε, an error of O(ε²).
"""

from __future__ import annotations

import numpy as np

from nnmath.arrays import to_numpy
from nnmath.network import Network

__all__ = ["gradcheck", "numerical_gradient"]


def numerical_gradient(network: Network, X, y, eps: float = 1e-6, sample_weight=None, alpha=0.0):
    """∂C/∂θ by central differences, flat, shape (n_parameters,), float64.

    Each parameter θⱼ is moved by ±ε in turn and the cost recomputed by the network's
    own pass; θ is restored afterwards.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network
    >>> net = Network([1, 1], activation="identity")
    >>> net.W[0][:], net.b[0][:] = 1.0, 0.0
    >>> numerical_gradient(net, [[2.0]], [1.0]).round(6)   # 2(ŷ − y)·x, 2(ŷ − y)
    array([4., 2.])
    """
    X = network.check_X(X)
    y = network.check_y(y, X.shape[0])
    sample_weight = network.check_sample_weight(sample_weight, X.shape[0])
    theta = network.theta
    saved = to_numpy(theta).copy()  # θ of any array library, its values on the host
    out = np.empty(saved.size, dtype=np.float64)
    try:
        for j in range(saved.size):
            theta[j] = float(saved[j]) + eps
            c_plus = network.backprop(X, y, sample_weight, alpha=alpha)
            theta[j] = float(saved[j]) - eps
            c_minus = network.backprop(X, y, sample_weight, alpha=alpha)
            theta[j] = float(saved[j])
            out[j] = (c_plus - c_minus) / (2 * eps)
    finally:
        theta[...] = network.asarray(saved)
    return out


def gradcheck(network: Network, X, y, eps: float = 1e-6, sample_weight=None, alpha=0.0) -> float:
    """Largest relative error between backpropagation and central finite differences.

    The error of each parameter is taken relative to the size of the whole gradient:
    ``maxⱼ |gⱼ − ĝⱼ| / (maxⱼ |gⱼ| + maxⱼ |ĝⱼ|)``, g from backpropagation, ĝ from
    differences. NOTE: a central difference carries a rounding error of about
    ε_machine·C/ε ≈ 1e-10·C whatever the parameter, so a parameter-by-parameter
    relative error blows up on gradients near 0 (a ReLU unit that is off, an MAE whose
    signs cancel) although backpropagation is right; measured against the largest
    component, that noise stays near 1e-9 and a real mistake still shows. Use a float64
    network: in float32 the differences drown in rounding.

    Parameters
    ----------
    network : Network
    X : array of shape (n_samples, n_inputs)
    y : array of shape (n_samples, n_outputs) or (n_samples,)
    eps : float, default 1e-6

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network
    >>> net = Network([3, 4, 1], activation="tanh", random_state=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 3)); y = np.ones(5)
    >>> gradcheck(net, X, y) < 1e-6
    True
    """
    _, grads = network.cost_and_gradients(X, y, sample_weight=sample_weight, alpha=alpha)
    analytic = np.concatenate([to_numpy(g).ravel() for g in grads]).astype(np.float64)
    numeric = numerical_gradient(network, X, y, eps, sample_weight, alpha)
    scale = max(float(np.max(np.abs(analytic))) + float(np.max(np.abs(numeric))), 1e-12)
    return float(np.max(np.abs(analytic - numeric)) / scale)
