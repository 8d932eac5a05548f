"""Which network a trace explains, with which targets, rate and L2 penalty.

:func:`resolve` reads a model — a :class:`~nnmath.Network`, a fitted
:class:`~nnmath.Perceptron`, ``MLPClassifier`` or ``MLPRegressor`` — into what a trace
needs: the network, a function turning the user's targets into the network's, the
learning rate α and L2 penalty λ (the model's own unless given), notes on what the
trace leaves out of the model's training, and whether the step is Rosenblatt's rule.

Example
-------
>>> from nnmath import Network
>>> resolve(Network([2, 1]), None, None).learning_rate   # Network.fit's default α
0.1
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from nnmath.core import arrays
from nnmath.core.optimizers import SGD
from nnmath.network import Network
from nnmath.perceptron import Perceptron

__all__ = ["Resolved", "check_x", "resolve"]


@dataclass
class Resolved:
    """What :func:`resolve` found.

    Attributes
    ----------
    network : Network
    targets : callable
        ``targets(y, n, one)``: the network's target array of shape (n, n_outputs) for
        the user's y (labels for a classifier); ``one`` says x was a single sample.
    learning_rate : float
        α.
    l2_penalty : float
        λ.
    l1_penalty : float
        λ₁.
    notes : list of str
    rosenblatt : bool
        The model is a step perceptron, trained by Rosenblatt's rule.
    """

    network: Network
    targets: Callable[[object, int, bool], np.ndarray]
    learning_rate: float
    l2_penalty: float
    l1_penalty: float
    notes: list[str] = field(default_factory=list)
    rosenblatt: bool = False


def resolve(model, learning_rate, l2_penalty, l1_penalty=None) -> Resolved:
    """Read ``model`` for a trace; ``learning_rate`` and the penalties override its own.

    Raises TypeError for a model that is not nnmath's, ValueError for a bad α, λ or λ₁.
    """
    notes: list[str] = []
    encode = None  # labels → the network's targets, for a classifier
    default_l1 = 0.0
    if isinstance(model, Network):
        net, default_rate, default_l2 = model, 0.1, 0.0
    elif hasattr(model, "fit") and hasattr(model, "get_params"):
        check_is_fitted(model, "network_")
        net = model.network_
        if not isinstance(net, Network):
            raise TypeError(f"model.network_ must be an nnmath.Network; got {type(net).__name__}")
        if isinstance(model, Perceptron):
            default_rate, default_l2 = model.learning_rate, 0.0
        else:
            default_rate = getattr(model, "learning_rate_init", 0.1)
            default_l2 = getattr(model, "alpha", 0.0)
            default_l1 = getattr(model, "l1", 0.0)
            solver = getattr(model, "solver", "gd")
            if solver in ("adam", "lbfgs"):
                notes.append(
                    f"the model trains with solver={solver!r}; shown is the plain "
                    "gradient-descent update w ← w − α·∂C/∂w of the same gradient"
                )
            elif solver == "sgd" and getattr(model, "momentum", 0):
                notes.append(
                    f"the model's SGD uses momentum={model.momentum}; shown is the plain "
                    "update w ← w − α·∂C/∂w (the first step without velocity)"
                )
        if hasattr(model, "classes_") and getattr(model, "label_type_", "") != (
            "multilabel-indicator"
        ):
            encode = model.encode_labels
    else:
        raise TypeError(
            "model must be an nnmath Perceptron, Network, MLPClassifier or MLPRegressor; "
            f"got {type(model).__name__}"
        )
    alpha = default_rate if learning_rate is None else learning_rate
    SGD(learning_rate=alpha)  # validates α > 0, with the optimizer's own message
    l2 = default_l2 if l2_penalty is None else l2_penalty
    if isinstance(l2, bool) or not isinstance(l2, (int, float, np.integer, np.floating)):
        raise ValueError(f"l2_penalty must be a number >= 0; got {l2!r}")
    if not (l2 >= 0 and math.isfinite(l2)):
        raise ValueError(f"l2_penalty must be a finite number >= 0; got {l2!r}")
    l1 = default_l1 if l1_penalty is None else l1_penalty
    if isinstance(l1, bool) or not isinstance(l1, (int, float, np.integer, np.floating)):
        raise ValueError(f"l1_penalty must be a number >= 0; got {l1!r}")
    if not (l1 >= 0 and math.isfinite(l1)):
        raise ValueError(f"l1_penalty must be a finite number >= 0; got {l1!r}")
    if any(net.dropout):
        notes.append("dropout is not applied: the trace is the deterministic step")
    if not arrays.is_numpy(net.xp):
        notes.append(
            f"the network lives on {net.describe_placement()}; the trace is computed on a "
            "NumPy copy of it (the same weights)"
        )
        net = cast(Network, net.to(None))  # a copy of the same class: type(self)(…)
    rosenblatt = isinstance(model, Perceptron) and net.activations[0].name == "step"

    def targets(y, n: int, one: bool) -> np.ndarray:
        if encode is None:
            y = arrays.to_numpy(y)
            Y = np.asarray(y, dtype=net.dtype) if _numeric(y) else np.asarray(y)
            if one:
                Y = Y.reshape(1, -1)
            return net.check_y(Y, n, "y")
        labels = arrays.to_numpy(y)
        labels = labels.reshape(1) if one and labels.ndim == 0 else labels
        if labels.ndim != 1:
            raise ValueError(
                f"y must hold one class label per sample, shape ({n},); got shape {labels.shape}"
            )
        classes = arrays.to_numpy(model.classes_).tolist()
        unknown = [v for v in labels.tolist() if v not in set(classes)]
        if unknown:
            raise ValueError(
                f"y has labels {unknown} the model was not fitted on; its classes_ are {classes}"
            )
        return net.check_y(arrays.to_numpy(encode(labels)).astype(net.dtype), n, "y")

    return Resolved(net, targets, float(alpha), float(l2), float(l1), notes, rosenblatt)


def _numeric(y) -> bool:
    try:
        np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


def check_x(net: Network, x) -> tuple[np.ndarray, bool]:
    """Return ``x`` as a validated copy of shape (n_samples, n_inputs).

    Also returns whether it was one sample of shape (n_inputs,).

    Examples
    --------
    >>> check_x(Network([3, 1]), [1.0, 0.0, 1.0])[0].shape
    (1, 3)
    """
    if sp.issparse(x):
        x = x.toarray()
    arr = arrays.to_numpy(x)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"x must be one sample of shape (n_features,) or a batch of shape "
            f"(n_samples, n_features); got {arr.ndim}-D shape {arr.shape}"
        )
    one = arr.ndim == 1
    X = net.check_X(arr.reshape(1, -1) if one else arr, "x")
    return X.copy(), one  # the trace keeps views of X: never of the caller's array
