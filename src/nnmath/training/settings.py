"""How the loop trains, in one object: :class:`Settings`, and the validation set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nnmath.core.optimizers import Constant, Schedule
from nnmath.data.sources import Data

__all__ = ["Settings", "Validation"]


@dataclass(frozen=True)
class Settings:
    """Everything about a training run but the model, the data and the optimizer.

    Attributes
    ----------
    max_epochs : int
        Epochs (L-BFGS: iterations) to run at most.
    batch_size : int or None
        None: one batch of all samples (full-batch gradient descent).
    shuffle : bool
        Visit the samples in a new random order every epoch (mini-batches only).
    alpha : float
        L2 penalty α of the cost, (α / 2Σw) Σ‖W‖².
    l1 : float
        L1 penalty λ₁ of the cost, (λ₁ / Σw) Σ|W| (subgradient (λ₁/Σw)·sign(W), with
        sign(0) = 0).
    tol, n_iter_no_change
        Stop when the monitored figure failed to improve by ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs; ``tol=None`` never stops early.
        L-BFGS takes ``tol`` as scipy's gradient tolerance instead.
    schedule : Schedule
        The learning rate of each epoch, from ``learning_rate_init``.
    learning_rate_init : float or None
        α₀; None takes the optimizer's learning rate.
    first_learning_rate : float or None
        The rate of the run's first epoch; None takes the schedule's.
    early_stopping : bool
        Monitor the validation score instead of the training cost.
    restore_best_weights : bool
        With early stopping, end on the weights of the best validation score.
    dropout : bool
        Draw dropout masks while training (when the model has dropout rates).
    callbacks : tuple of callable
        Each called with the epoch's figures (a dict: epoch, loss, val_loss,
        val_score, learning_rate, seconds); a True return stops training.
    epochs_name : str
        The option that set ``max_epochs``, for the stop reason ("max_iter=200
        reached").
    max_fun : int
        L-BFGS only: the most cost evaluations.

    Examples
    --------
    >>> Settings(max_epochs=5).batch_size is None
    True
    """

    max_epochs: int = 200
    batch_size: int | None = None
    shuffle: bool = True
    alpha: float = 0.0
    l1: float = 0.0
    tol: float | None = 1e-4
    n_iter_no_change: int = 10
    schedule: Schedule = field(default_factory=Constant)
    learning_rate_init: float | None = None
    first_learning_rate: float | None = None
    early_stopping: bool = False
    restore_best_weights: bool = True
    dropout: bool = True
    callbacks: tuple[Callable[[dict], object], ...] = ()
    epochs_name: str = "epochs"
    max_fun: int = 15000


@dataclass(frozen=True)
class Validation:
    """A validation set, validated like the training data, and its score.

    Attributes
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_inputs)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
    score : callable or None
        Returns the validation score (higher is better) of the current weights.
    score_name : str
        What the score is, for progress lines and stop reasons.

    ``X`` may also be a :class:`~nnmath.data.sources.Data` (chunks, a Dask
    collection's chunks), with Y None: its cost is then the sum of the chunks' shares.

    Examples
    --------
    >>> import numpy as np
    >>> Validation(np.zeros((2, 1)), np.zeros((2, 1))).score is None
    True
    """

    X: object
    Y: np.ndarray | None
    sample_weight: np.ndarray | None = None
    score: Callable[[], float] | None = None
    score_name: str = "score"

    def cost(self, model, alpha: float = 0.0, l1: float = 0.0) -> float:
        """Return the validation cost of the model's current weights (with the penalties).

        Examples
        --------
        >>> import numpy as np
        >>> from nnmath import Network
        >>> net = Network([1, 1], activation="identity")
        >>> net.W[0][:], net.b[0][:] = 1.0, 0.0
        >>> Validation(np.array([[2.0]]), np.array([[1.0]])).cost(net)   # (2 − 1)²
        1.0
        """
        if isinstance(self.X, Data):
            return float(self.X.objective(model, alpha, l1))
        return float(model.objective(self.X, self.Y, self.sample_weight, alpha, l1=l1))
