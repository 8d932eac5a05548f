"""The training loop: epochs of (mini-)batch gradient descent.

One epoch visits every sample once:

    for each batch B:   C_B, ∂C_B/∂θ = backprop(B);   θ ← optimizer(θ, ∂C_B/∂θ)

and records the epoch's cost, the batch costs averaged over the samples (as
scikit-learn does). The full-batch case (``batch_size=None``) is the article's gradient
descent: one step per epoch on the whole data.

The loop reads its samples through a :class:`~nnmath.data.sources.Data`: arrays in
memory (:class:`~nnmath.data.sources.InMemory`), or chunks loaded one at a time
(:class:`~nnmath.data.sources.Chunks`, which the Dask adapter extends to compute the
full-batch cost on the workers that hold the chunks). The steps are the same.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from typing import cast

import numpy as np

from nnmath.core import arrays
from nnmath.core.optimizers import Optimizer
from nnmath.data.sources import Data, InMemory, SampleOrder
from nnmath.training.history import History
from nnmath.training.interrupt import InterruptFlag
from nnmath.training.monitor import Monitor, all_finite
from nnmath.training.progress import Progress
from nnmath.training.settings import Settings, Validation
from nnmath.training.threads import blas_threads

__all__ = ["train"]


def train(
    model,
    X,
    Y: np.ndarray | None,
    optimizer: Optimizer,
    settings: Settings,
    *,
    rng: np.random.Generator | SampleOrder,
    dropout_rng: np.random.Generator | None = None,
    sample_weight: np.ndarray | None = None,
    validation: Validation | None = None,
    progress: Progress | None = None,
    history: History | None = None,
) -> History:
    """Run up to ``settings.max_epochs`` epochs of (mini-)batch training, in place.

    Parameters
    ----------
    model
        A :class:`nnmath.Network`, or any object with its training interface: the flat
        parameters ``theta`` and gradient ``grad``, ``backprop(X, Y, w, alpha=, l1=,
        total_weight=, dropout_rng=)`` filling ``grad`` and returning the cost,
        ``objective(X, Y, w, alpha, total_weight=, l1=)`` for a validation set
        (``total_weight``: the chunk's share of the whole's cost, see
        :mod:`nnmath.data.sources`), and ``layer_sizes`` (the BLAS threads of the fit
        follow from them and the batch size: :mod:`nnmath.training.threads`).
    X : ndarray or sparse matrix of shape (n_samples, n_inputs), validated; or a Data
        A :class:`~nnmath.data.sources.Data` source (chunks, a Dask collection's
        chunks) holds X, Y and the weights itself: Y and sample_weight are then None.
    Y : ndarray of shape (n_samples, n_outputs), validated, or None with a Data
    optimizer : Optimizer
        Updates ``model.theta`` from ``model.grad`` after every batch.
    settings : Settings
    rng : numpy.random.Generator or SampleOrder
        Each epoch's order of the samples (a :class:`~nnmath.data.sources.SampleOrder`
        shuffles as scikit-learn does), and the dropout masks unless ``dropout_rng``
        is given.
    dropout_rng : numpy.random.Generator, optional
        The dropout masks' own stream.
    sample_weight : ndarray of shape (n_samples,), optional
    validation : Validation, optional
        Records the validation cost (and score) after every epoch.
    progress : Progress, optional
    history : History, optional
        Continue from an earlier call (partial_fit, warm start).

    Returns
    -------
    History

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network, SGD
    >>> net = Network([1, 1], activation="identity", random_state=0)
    >>> X, Y = np.array([[0.0], [1.0]]), np.array([[1.0], [3.0]])
    >>> h = train(net, X, Y, SGD(0.1), Settings(max_epochs=3), rng=np.random.default_rng(0))
    >>> h.n_iter, h.stop_reason
    (3, 'epochs=3 reached')
    """
    history = history if history is not None else History()
    s = settings
    lr0 = s.learning_rate_init if s.learning_rate_init is not None else optimizer.learning_rate
    data = X if isinstance(X, Data) else InMemory(X, Y, sample_weight)
    n = data.n_samples
    bs = n if s.batch_size is None else max(1, min(int(s.batch_size), n))
    # One batch of all samples is the same gradient in any order: no shuffling then.
    full_batch = bs == n
    if not s.dropout:
        dropout_rng = None
    elif dropout_rng is None:
        if isinstance(rng, SampleOrder) and any(getattr(model, "dropout", ())):
            raise ValueError(
                "the model has dropout, and rng is a SampleOrder, which draws orders only; "
                "pass dropout_rng=numpy.random.default_rng(seed) for the masks"
            )
        dropout_rng = cast("np.random.Generator", rng)
    # scikit-learn shuffles a full batch too: its draws are taken, in step with it.
    draw_order = (
        rng.permutation if full_batch and s.shuffle and isinstance(rng, SampleOrder) else None
    )
    theta = model.theta
    params, grads = [theta], [model.grad]
    optimizer.prepare(params)
    # The update without the layout check, unless a subclass has a step() of its own.
    step = optimizer.update if type(optimizer).step is Optimizer.step else optimizer.step
    monitor = Monitor(model, history, s, validation, progress, lr0)
    timed = monitor.timed
    alpha, l1, schedule = s.alpha, s.l1, s.schedule
    last_good = arrays.namespace_of(theta).empty_like(theta)
    # (X, Y, w) of data held in memory: the full batch goes to backprop directly
    arrays_in_memory = (data.X, data.Y, data.sample_weight) if isinstance(data, InMemory) else None
    stopped = False
    # NOTE: a diverging run overflows inside the cost and backpropagation; numpy's
    # overflow/invalid warnings are silenced while training, because the finiteness
    # checks turn them into one DivergenceError. The cost is checked every batch (a
    # scalar: free); a step that made θ infinite shows in the next batch's cost, or in
    # the check of θ after the epoch's last batch. Callbacks and the score function
    # run under the caller's own error settings (the monitor restores them).
    limit = blas_threads(model.layer_sizes, bs) if type(theta) is np.ndarray else nullcontext()
    lr = optimizer.learning_rate
    try:
        with (
            limit,
            InterruptFlag() as interrupt,
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            # The first epoch's rate: the schedule's, or the one the settings give (a
            # new optimizer on a warm start begins at α₀, as scikit-learn's does).
            first = s.first_learning_rate
            lr = schedule.rate(lr0, history.n_iter, history.t) if first is None else first
            for _ in range(s.max_epochs):
                started = time.perf_counter() if timed else 0.0
                history.learning_rate = lr  # the rate of this epoch's steps
                last_good[...] = theta
                if full_batch:  # the article's gradient descent: one step on all data
                    if draw_order is not None:
                        draw_order(n)
                    if arrays_in_memory is not None:
                        cost = model.backprop(
                            *arrays_in_memory, alpha=alpha, l1=l1, dropout_rng=dropout_rng
                        )
                    else:
                        cost = data.cost_and_gradient(
                            model, alpha=alpha, l1=l1, dropout_rng=dropout_rng
                        )
                    finite = math.isfinite(cost)
                    if finite:
                        step(params, grads, lr)  # θ was finite before the step
                    if not (finite and all_finite(theta)):
                        monitor.diverged(last_good, cost, lr)
                        stopped = True
                        break
                    epoch_cost = cost
                else:
                    epoch_cost = 0.0
                    for Xb, Yb, wb, rows in data.epoch(rng, bs, s.shuffle):
                        cost = model.backprop(
                            Xb, Yb, wb, alpha=alpha, l1=l1, dropout_rng=dropout_rng
                        )
                        if math.isfinite(cost):
                            step(params, grads, lr)
                        else:
                            break
                        epoch_cost += cost * rows
                        if interrupt.set:
                            raise KeyboardInterrupt
                    if not (math.isfinite(cost) and all_finite(theta)):
                        monitor.diverged(last_good, cost, lr)
                        stopped = True
                        break
                    epoch_cost /= n
                if interrupt.set:
                    raise KeyboardInterrupt
                seconds = time.perf_counter() - started if timed else 0.0
                stop = monitor.end_epoch(epoch_cost, n, lr, seconds)
                # The next epoch's rate, when this one ends (after an adaptive
                # schedule's division).
                lr = schedule.rate(lr0, history.n_iter, history.t)
                if stop:
                    stopped = True
                    break
    except KeyboardInterrupt:
        monitor.interrupted()
        return history
    finally:
        # The schedule owns the rate and hands it to every step; the optimizer is left
        # with the rate the schedule reached, for a next fit to go on from (as
        # scikit-learn's optimizer keeps it).
        optimizer.learning_rate = lr
    if not stopped:
        monitor.reached_limit()
    return history
