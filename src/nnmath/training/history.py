"""What training recorded (:class:`History`), and the error of a run that diverged."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DivergenceError", "History"]


@dataclass
class History:
    """What training recorded, and the counters that let it resume.

    Attributes
    ----------
    loss_curve : list of float
        The training cost after every epoch.
    validation_loss_curve : list of float
        The validation cost after every epoch (when there is a validation set).
    validation_scores : list of float
        The validation score after every epoch (when a score function is given).
    best_loss, best_validation_score : float
    best_epoch : int or None
        The epoch (1-based) whose weights were the best by the monitored figure.
    stop_reason : str
        Why training stopped, in words.
    converged : bool
        False when training stopped at the epoch limit.
    n_iter : int
        Epochs run so far (over all calls that shared this history).
    t : int
        Samples seen so far (the optimizer's time step in scikit-learn's sense).

    Examples
    --------
    >>> History().n_iter
    0
    """

    loss_curve: list[float] = field(default_factory=list)
    validation_loss_curve: list[float] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_loss: float = math.inf
    best_validation_score: float = -math.inf
    best_epoch: int | None = None
    stop_reason: str = ""
    converged: bool = False
    n_iter: int = 0
    t: int = 0
    no_improvement_count: int = 0
    learning_rate: float | None = None
    optimizer_result: Any = field(default=None, repr=False)  # scipy's OptimizeResult
    best_theta: np.ndarray | None = field(default=None, repr=False)


class DivergenceError(FloatingPointError, ValueError):
    """Training produced an infinite or NaN cost, or parameters that are not finite.

    The network keeps its last finite parameters; ``history`` holds what was recorded
    up to that point. A ``ValueError`` as well as a ``FloatingPointError``: scripts that
    catch scikit-learn's ``ValueError`` for non-finite weights catch it too.

    Examples
    --------
    >>> issubclass(DivergenceError, ValueError)
    True
    """

    def __init__(self, message: str, history: History | None = None):
        super().__init__(message)
        self.history = history
