"""The names of the activations and losses, and what the rest of nnmath needs to know of each.

Standard library only, so that the command can offer the names (``nnmath train
--help``) before NumPy loads.

- :mod:`nnmath.core.activations` builds its objects from :data:`ACTIVATIONS`; the
  estimators, the command and the playground offer every activation whose ``hidden`` is
  True for hidden layers; the initial weights follow ``initializer``. A new activation
  is its class in :mod:`nnmath.core.activations`, one line here, and its form in
  :mod:`nnmath.onnx_export`.
- :data:`ESTIMATOR_LOSSES` names the losses the estimators and the command take, and
  :func:`recipe` is the one rule that turns a task's loss into the network's output
  activation and loss (the estimators, the command and the playground use it). A new
  loss is its class in :mod:`nnmath.core.losses` and, for the estimators, one line here.

>>> ACTIVATIONS["relu"].initializer
'he'
>>> "softmax" in hidden_activations()
False
>>> recipe("log_loss", multiclass=True)
('softmax', 'cross_entropy')
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "ACTIVATIONS",
    "ESTIMATOR_DEFAULTS",
    "ESTIMATOR_LOSSES",
    "ActivationEntry",
    "LossEntry",
    "Named",
    "hidden_activations",
    "losses_for",
    "recipe",
]


class Named:
    """What the registry's activations and losses share: equal when of one class and parameters.

    Examples
    --------
    >>> class Half(Named):
    ...     def __init__(self, c=0.5):
    ...         self.c = c
    >>> Half() == Half(), Half() == Half(0.25), len({Half(), Half()})
    (True, False, 1)
    """

    def __repr__(self) -> str:
        """Return the class's name with its parameters."""
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        """Compare by class and parameters."""
        return type(self) is type(other) and vars(self) == vars(other)

    def __hash__(self) -> int:
        """Hash the class's name and parameters, consistently with ``__eq__``."""
        return hash((type(self).__name__, tuple(sorted(vars(self).items()))))


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


#: name → entry ("logistic" is scikit-learn's name of the sigmoid); the playground offers
#: the hidden ones in this order.
ACTIVATIONS: dict[str, ActivationEntry] = {
    "tanh": ActivationEntry("Tanh"),
    "relu": ActivationEntry("ReLU", initializer="he"),
    "sigmoid": ActivationEntry("Sigmoid"),
    "logistic": ActivationEntry("Sigmoid"),
    "leaky_relu": ActivationEntry("LeakyReLU", initializer="he"),
    "identity": ActivationEntry("Identity"),
    "silu": ActivationEntry("SiLU"),
    "step": ActivationEntry("Step", hidden=False),
    "softmax": ActivationEntry("Softmax", hidden=False),
    "exp": ActivationEntry("Exp", hidden=False),
}


def hidden_activations() -> list[str]:
    """Return the names a hidden layer may use, aliases included, in the table's order.

    Examples
    --------
    >>> hidden_activations()[:3]
    ['tanh', 'relu', 'sigmoid']
    """
    return [name for name, entry in ACTIVATIONS.items() if entry.hidden]


class LossEntry(NamedTuple):
    """One loss an estimator takes, by the name it takes it.

    Attributes
    ----------
    task : {"classification", "regression"}
    description : str
        What the loss is, in words (the command's report says it).
    network_loss : str or None
        The loss of :mod:`nnmath.core.losses` the network minimizes; None for
        classification, where the targets decide (binary or multiclass).
    output : str or None
        A regressor's output activation (None for classification: sigmoid or softmax).
    nonnegative : bool
        Whether the targets must be ≥ 0.
    """

    task: str
    description: str
    network_loss: str | None = None
    output: str | None = None
    nonnegative: bool = False


#: The estimators' loss names (scikit-learn's where it has one), the defaults first.
ESTIMATOR_LOSSES: dict[str, LossEntry] = {
    "log_loss": LossEntry("classification", "log loss"),
    "mse": LossEntry("classification", "squared error of the probabilities", "mse"),
    # scikit-learn's pair: the cost ½·mean over the outputs, the gradient of ½·their sum
    "squared_error": LossEntry(
        "regression", "half squared error", "sklearn_squared_error", "identity"
    ),
    "mae": LossEntry("regression", "absolute error", "mae", "identity"),
    "huber": LossEntry("regression", "Huber loss", "huber", "identity"),
    "poisson": LossEntry("regression", "half Poisson deviance", "poisson", "exp", True),
}


def losses_for(task: str) -> list[str]:
    """Return the estimator loss names of a task, the default first.

    Examples
    --------
    >>> losses_for("regression")
    ['squared_error', 'mae', 'huber', 'poisson']
    """
    return [name for name, entry in ESTIMATOR_LOSSES.items() if entry.task == task]


def recipe(loss: str, multiclass: bool = False) -> tuple[str, str]:
    """Return the output activation and the network's loss for an estimator's ``loss``.

    Classification takes a sigmoid output per label (binary, multilabel) or a softmax
    over the classes (``multiclass``), with the cross-entropy that matches it for
    "log_loss"; regression takes the entry's output (identity, or exp for Poisson).

    Parameters
    ----------
    loss : str
        A key of :data:`ESTIMATOR_LOSSES`.
    multiclass : bool, default False
        One label among more than two classes (classification only).

    Returns
    -------
    (str, str)
        The names of the output activation and of the network's loss.

    Examples
    --------
    >>> recipe("log_loss")
    ('sigmoid', 'binary_cross_entropy')
    >>> recipe("poisson")
    ('exp', 'poisson')
    >>> recipe("squared_error")   # scikit-learn's gradient for several outputs
    ('identity', 'sklearn_squared_error')
    """
    entry = ESTIMATOR_LOSSES[loss]
    if entry.task == "regression":
        return str(entry.output), str(entry.network_loss)
    output = "softmax" if multiclass else "sigmoid"
    if entry.network_loss is not None:
        return output, entry.network_loss
    return output, "cross_entropy" if multiclass else "binary_cross_entropy"


#: The estimators' defaults (scikit-learn's) that the command's options share: the
#: estimators' signatures, the command's options and its help read them here.
ESTIMATOR_DEFAULTS: dict = {
    "hidden_layer_sizes": (100,),
    "activation": "relu",
    "solver": "adam",
    "alpha": 0.0001,
    "learning_rate_init": 0.001,
    "max_iter": 200,
    "n_iter_no_change": 10,
    "validation_fraction": 0.1,
}
