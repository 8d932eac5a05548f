"""The names of the activations, and what the rest of nnmath needs to know of each.

Standard library only, so that the command can offer the names (``nnmath train
--help``) before NumPy loads. :mod:`nnmath.core.activations` builds its objects from
this table; the estimators, the command and the playground offer every activation whose
``hidden`` is True for hidden layers; the initial weights follow ``initializer``. A new
activation is its class in :mod:`nnmath.core.activations`, one line here, and its form
in :mod:`nnmath.onnx_export`.

>>> ACTIVATIONS["relu"].initializer
'he'
>>> "softmax" in hidden_activations()
False
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ACTIVATIONS", "ActivationEntry", "hidden_activations"]


class ActivationEntry(NamedTuple):
    """One activation: its class, whether a hidden layer may use it, its initial weights.

    Attributes
    ----------
    cls : str
        The class's name in :mod:`nnmath.core.activations`.
    hidden : bool
        Whether a hidden layer may use it (softmax mixes units, step's derivative is 0,
        exp grows without bound: output layers only).
    initializer : {"glorot", "he"}
        Glorot's bound, or He's for the ReLU family.
    """

    cls: str
    hidden: bool = True
    initializer: str = "glorot"


#: name → entry ("logistic" is scikit-learn's name of the sigmoid).
ACTIVATIONS: dict[str, ActivationEntry] = {
    "sigmoid": ActivationEntry("Sigmoid"),
    "logistic": ActivationEntry("Sigmoid"),
    "tanh": ActivationEntry("Tanh"),
    "relu": ActivationEntry("ReLU", initializer="he"),
    "leaky_relu": ActivationEntry("LeakyReLU", initializer="he"),
    "silu": ActivationEntry("SiLU"),
    "identity": ActivationEntry("Identity"),
    "step": ActivationEntry("Step", hidden=False),
    "softmax": ActivationEntry("Softmax", hidden=False),
    "exp": ActivationEntry("Exp", hidden=False),
}


def hidden_activations() -> list[str]:
    """Return the names a hidden layer may use, aliases included, sorted.

    Examples
    --------
    >>> hidden_activations()[:3]
    ['identity', 'leaky_relu', 'logistic']
    """
    return sorted(name for name, entry in ACTIVATIONS.items() if entry.hidden)
