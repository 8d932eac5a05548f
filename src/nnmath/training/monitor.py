"""The stopping monitor: what happens after each epoch, and why training stopped.

After each epoch (an L-BFGS iteration) the monitor records the cost and the validation
figures, applies scikit-learn's convergence rule — the monitored figure (the training
cost, or the validation score with early stopping) did not improve by more than
``tol`` for more than ``n_iter_no_change`` consecutive epochs — keeps the best weights,
reports progress, calls the callbacks, and writes the stop reason in words. The
mini-batch loop, full-batch gradient descent and L-BFGS all stop through it, so the
best weights are kept and restored in one place.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from nnmath.core import arrays
from nnmath.training.history import DivergenceError, History
from nnmath.training.progress import Progress
from nnmath.training.settings import Settings, Validation

__all__ = ["Monitor", "all_finite"]


def all_finite(a: np.ndarray) -> bool:
    """Return True when no entry of ``a`` is infinite or NaN.

    The sum of squares is one cheap pass (a BLAS dot product): any inf or NaN makes it
    non-finite; only then (or when the sum itself overflowed) are the entries checked
    one by one.

    Examples
    --------
    >>> all_finite(np.array([1.0, np.inf]))
    False
    """
    if type(a) is np.ndarray:  # (checked every epoch: the quickest calls for NumPy)
        return math.isfinite(np.vdot(a, a)) or bool(np.isfinite(a).all())
    if math.isfinite(arrays.sum_of_squares(a)):
        return True
    xp = arrays.namespace_of(a)
    return bool(xp.all(xp.isfinite(a)))


class Monitor:
    """Records epochs into a :class:`History`, keeps the best weights, decides to stop.

    Parameters
    ----------
    model
        What is trained: its ``theta`` (the flat parameters) is kept and restored, and
        ``objective(X, Y, sample_weight, alpha, l1=)`` gives the validation cost.
    history : History
    settings : Settings
    validation : Validation or None
    progress : Progress or None
    learning_rate_init : float
        α₀ of the schedule (for the message of an adaptive schedule).
    tol_rule : bool, default True
        Apply the ``tol`` rule; L-BFGS (whose ``tol`` is scipy's) turns it off.

    Examples
    --------
    >>> import numpy as np
    >>> class Model:
    ...     theta = np.zeros(2)
    >>> m = Monitor(Model(), History(), Settings(tol=None), None, None, 0.1)
    >>> m.end_epoch(0.5, n=4, learning_rate=0.1, seconds=0.0)
    False
    >>> m.history.loss_curve, m.history.best_epoch
    ([0.5], 1)
    """

    def __init__(
        self,
        model,
        history: History,
        settings: Settings,
        validation: Validation | None,
        progress: Progress | None,
        learning_rate_init: float,
        tol_rule: bool = True,
    ):
        self.model = model
        self.history = history
        self.settings = settings
        self.validation = validation
        self.progress = progress
        self.learning_rate_init = learning_rate_init
        self.tol = settings.tol if tol_rule else None
        self.score_name = validation.score_name if validation is not None else "score"
        self.first_epoch = history.n_iter + 1
        self.callers_errors = np.geterr()
        # Nothing to report after an epoch: skip building the figures' dict.
        self._quiet = progress is None and not settings.callbacks and validation is None
        #: Whether anything reads an epoch's duration (progress lines, callbacks).
        self.timed = not self._quiet

    # ------------------------------------------------------------------ every epoch
    def end_epoch(self, loss: float, n: int, learning_rate: float | None, seconds: float) -> bool:
        """Record an epoch whose training cost was ``loss`` over ``n`` samples.

        Checks convergence, reports and calls back. Returns True when training should
        stop.
        """
        h = self.history
        h.n_iter += 1
        h.t += n
        h.loss_curve.append(loss)
        if self._quiet:  # the tol rule on the training cost alone
            tol = self.tol
            if tol is not None and loss > h.best_loss - tol:
                h.no_improvement_count += 1
            else:
                h.no_improvement_count = 0
            if loss < h.best_loss:
                h.best_loss = loss
                if h.best_theta is not None and h.best_theta.shape == self.model.theta.shape:
                    h.best_theta[...] = self.model.theta  # keep_best(), inlined: every epoch
                    h.best_epoch = h.n_iter
                else:
                    self.keep_best()
            if tol is not None and h.no_improvement_count > self.settings.n_iter_no_change:
                return self._plateau(learning_rate)
            return False
        return self._end_epoch_reporting(loss, learning_rate, seconds)

    def _end_epoch_reporting(self, loss, learning_rate, seconds) -> bool:
        h, s = self.history, self.settings
        info = {
            "epoch": h.n_iter,
            "loss": loss,
            "val_loss": None,
            "val_score": None,
            "learning_rate": learning_rate,
            "seconds": seconds,
        }
        if self.validation is not None:
            with np.errstate(**self.callers_errors):
                self._record_validation(info)

        # scikit-learn's convergence rule on the monitored figure.
        if s.early_stopping:
            current = info["val_score"]
            if current is not None and math.isnan(current):
                return self._validation_diverged()
            if self.tol is not None and current < h.best_validation_score + self.tol:
                h.no_improvement_count += 1
            else:
                h.no_improvement_count = 0
            if current > h.best_validation_score:
                h.best_validation_score = current
                self.keep_best()
        elif self.tol is not None and loss > h.best_loss - self.tol:
            h.no_improvement_count += 1
        else:
            h.no_improvement_count = 0
        if loss < h.best_loss:
            h.best_loss = loss
            if not s.early_stopping:
                self.keep_best()

        if self.progress is not None:
            shown = info if learning_rate is not None else {**info, "learning_rate": math.nan}
            self.progress.epoch_end(shown)
        if s.callbacks:
            with np.errstate(**self.callers_errors):
                stop = any(callback(info) is True for callback in s.callbacks)
            if stop:
                h.stop_reason = "stopped by callback"
                h.converged = False
                return True
        if self.tol is not None and h.no_improvement_count > s.n_iter_no_change:
            return self._plateau(learning_rate)
        return False

    def _record_validation(self, info: dict) -> None:
        """Append the validation cost and score of the current weights to the history and ``info``.

        The cost is the loss plus the L2 term, as in the training cost.
        """
        v, h = self.validation, self.history
        if v is None:
            return
        val_loss = v.cost(self.model, self.settings.alpha, self.settings.l1)
        h.validation_loss_curve.append(val_loss)
        info["val_loss"] = val_loss
        if v.score is not None:
            score = float(v.score())
            h.validation_scores.append(score)
            info["val_score"] = score

    def _validation_diverged(self) -> bool:
        """Tell whether the validation score became NaN (predictions that overflowed).

        Early stopping cannot go on watching it then, so training ends on the best
        weights: a diverging run with early stopping stops, it does not raise
        (scikit-learn's issue #29504).
        """
        h = self.history
        h.stop_reason = f"diverged: the validation {self.score_name} became NaN"
        h.converged = False
        self.restore_best()
        return True

    def _plateau(self, learning_rate) -> bool:
        """Handle a plateau of the monitored figure: adapt α and go on (False), or stop."""
        h, s = self.history, self.settings
        # What verbose output prints here is scikit-learn's text, word for word.
        said = "%s did not improve more than tol=%f for %d consecutive epochs." % (
            "Validation score" if s.early_stopping else "Training loss",
            cast(float, self.tol),  # a plateau is counted under the tol rule only
            s.n_iter_no_change,
        )
        if s.schedule.on_plateau(learning_rate):
            h.no_improvement_count = 0
            if self.progress is not None:
                new_lr = s.schedule.rate(self.learning_rate_init, h.n_iter, h.t)
                self.progress.message(f"{said} Setting learning rate to {new_lr:f}")
            return False
        h.converged = True
        if s.early_stopping:
            h.stop_reason = (
                f"validation {self.score_name} did not improve by more than tol={self.tol:g} "
                f"for {s.n_iter_no_change} consecutive epochs"
            )
            if s.restore_best_weights:
                self.restore_best()
        else:
            h.stop_reason = (
                f"training loss improved by less than tol={self.tol:g} for "
                f"{s.n_iter_no_change} consecutive epochs"
            )
        if s.schedule.name == "adaptive":
            h.stop_reason += " at the smallest learning rate"
        if self.progress is not None:
            too_small = " Learning rate too small." if s.schedule.name == "adaptive" else ""
            self.progress.message(f"{said}{too_small} Stopping.")
        return True

    # ------------------------------------------------------------------ best weights
    def keep_best(self) -> None:
        """Remember the current θ as the best so far (this epoch)."""
        h, theta = self.history, self.model.theta
        if h.best_theta is None or h.best_theta.shape != theta.shape:
            h.best_theta = arrays.namespace_of(theta).asarray(theta, copy=True)
        else:
            h.best_theta[...] = theta
        h.best_epoch = h.n_iter

    def restore_best(self, unit: str = "epoch") -> None:
        """Put the best θ back (when one was kept).

        The stop reason says so unless it is the current epoch's.
        """
        h = self.history
        if h.best_theta is None:
            return
        self.model.theta[...] = h.best_theta
        if h.best_epoch != h.n_iter:
            h.stop_reason += f"; restored the weights of {unit} {h.best_epoch}"

    # ------------------------------------------------------------------ endings
    def reached_limit(self) -> None:
        """Training ran ``max_epochs`` without stopping."""
        h, s = self.history, self.settings
        h.converged = False
        h.stop_reason = f"{s.epochs_name}={s.max_epochs} reached"
        if s.early_stopping and s.restore_best_weights:
            self.restore_best()

    def interrupted(self, unit: str = "epoch") -> None:
        """Handle Ctrl-C: keep the best weights seen.

        With early stopping, the best validation score's; otherwise the lowest training
        cost of this call (an earlier partial_fit chunk saw other data, so its weights are
        no candidate).
        """
        h = self.history
        h.stop_reason = "interrupted (KeyboardInterrupt)"
        h.converged = False
        recent = h.best_epoch is not None and h.best_epoch >= self.first_epoch
        if self.settings.early_stopping or recent:
            self.restore_best(unit)

    def diverged(self, last_good: np.ndarray, cost: float, learning_rate: float) -> None:
        """Handle a cost or θ that stopped being finite.

        Put back the last finite θ and raise :class:`DivergenceError`; with early
        stopping, end on the best weights instead (the run's validation scores end with
        NaN) and return.
        """
        h, theta = self.history, self.model.theta
        if not all_finite(theta):
            theta[...] = last_good
        what = (
            f"the cost became {cost}"
            if not math.isfinite(cost)
            else "the gradient or the parameters became infinite or NaN"
        )
        h.stop_reason = f"diverged: {what}"
        h.converged = False
        if self.settings.early_stopping:
            h.validation_scores.append(math.nan)
            if self.validation is not None:
                h.validation_loss_curve.append(math.nan)
            self.restore_best()
            return
        raise DivergenceError(
            f"training diverged in epoch {h.n_iter + 1}: {what}. The network keeps its "
            f"last finite parameters. Lower the learning rate (it was {learning_rate:g}) "
            "or standardize the inputs.",
            h,
        )
