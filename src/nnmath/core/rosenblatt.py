"""Rosenblatt's perceptron rule: one sample at a time, move the boundary towards a mistake.

For a network of one weight layer with a step activation: ŷ = step(w·x + b), then
w ← w + α(y − ŷ)x and b ← b + α(y − ŷ). :class:`nnmath.Perceptron` trains with it, and
``explain`` shows its records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnmath.core import arrays
from nnmath.core.network import Network

__all__ = ["RosenblattRecord", "rosenblatt_pass"]


@dataclass(eq=False)
class RosenblattRecord:
    """One sample's step of Rosenblatt's rule (arrays are copies).

    Attributes
    ----------
    x : ndarray of shape (n_features,)
    y : ndarray of shape (n_outputs,)
        The target (0/1 per output).
    z : ndarray of shape (n_outputs,)
        z = w·x + b.
    y_hat : ndarray of shape (n_outputs,)
        ŷ = step(z).
    error : ndarray of shape (n_outputs,)
        y − ŷ ∈ {−1, 0, 1}.
    W, b : ndarrays of shapes (n_features, n_outputs) and (n_outputs,)
        The parameters before the step.
    new_W, new_b : ndarrays
        The parameters after it (unchanged when ŷ = y).
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    y_hat: np.ndarray
    error: np.ndarray
    W: np.ndarray
    b: np.ndarray
    new_W: np.ndarray
    new_b: np.ndarray


def rosenblatt_pass(
    network: Network, X, Y, learning_rate: float, record: bool = False, sample_weight=None
):
    """Make one pass of Rosenblatt's rule over (X, Y), one sample at a time, in place.

    ŷ = step(w·x + b), then w ← w + α(y − ŷ)x and b ← b + α(y − ŷ); a sample of weight
    s moves them s times as far, w ← w + α·s(y − ŷ)x and b ← b + α·s(y − ŷ).

    Parameters
    ----------
    network : Network
        One weight layer with a step activation; its W and b are updated.
    X : ndarray of shape (n_samples, n_features), the network's dtype
    Y : ndarray of shape (n_samples, n_outputs) of 0 and 1
    learning_rate : float
        α > 0.
    record : bool, default False
        Also return a :class:`RosenblattRecord` per sample.
    sample_weight : ndarray of shape (n_samples,), optional
        Each sample's weight s ≥ 0 (None: every sample 1). A sample of weight 0 that the
        rule gets wrong counts as a mistake but moves nothing.

    Returns
    -------
    int, or (int, list of RosenblattRecord)
        The number of misclassified samples in the pass (0: converged).

    Examples
    --------
    >>> import numpy as np
    >>> net = Network([2, 1], activation="step")
    >>> net.W[0][:], net.b[0][:] = 0.0, -1.0
    >>> rosenblatt_pass(net, np.array([[1.0, 1.0]]), np.array([[1.0]]), 0.5)
    1
    >>> net.W[0].ravel().tolist(), net.b[0].tolist()   # w + 0.5·1·x, b + 0.5·1
    ([0.5, 0.5], [-0.5])
    """
    W, b = network.W[0], network.b[0]
    xp = arrays.namespace_of(W)
    alpha = float(learning_rate)
    mistakes, records = 0, []
    for i in range(X.shape[0]):
        x, y = X[i, ...], Y[i, ...]
        # the network's own forward pass: z = w·x + b, ŷ = step(z)
        (layer,) = network.propagate(X[i : i + 1, ...], record=True).layers
        z, y_hat = layer.z[0, ...], layer.a[0, ...]
        error = y - y_hat  # (y − ŷ) ∈ {−1, 0, 1}
        if record:
            W_before, b_before = arrays.copy_of(W), arrays.copy_of(b)
        if bool(xp.any(error != 0)):  # a mistake: move the boundary towards the sample
            mistakes += 1
            # a weighted sample moves the boundary s times as far: s(y − ŷ)
            step = error if sample_weight is None else error * sample_weight[i, ...]
            W += alpha * (x[:, None] * step[None, :])  # w ← w + α(y − ŷ)x
            b += alpha * step  # b ← b + α(y − ŷ)
        if record:
            records.append(
                RosenblattRecord(
                    arrays.copy_of(x),
                    arrays.copy_of(y),
                    z,
                    y_hat,
                    error,
                    W_before,
                    b_before,
                    arrays.copy_of(W),
                    arrays.copy_of(b),
                )
            )
    return (mistakes, records) if record else mistakes
