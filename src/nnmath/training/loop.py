"""The training loop: epochs of (mini-)batch gradient descent.

One epoch visits every sample once:

    for each batch B:   C_B, ∂C_B/∂θ = backprop(B);   θ ← optimizer(θ, ∂C_B/∂θ)

and records the epoch's cost, the batch costs averaged over the samples (as
scikit-learn does). The full-batch case (``batch_size=None``) is the article's gradient
descent: one step per epoch on the whole data.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp

from nnmath import arrays
from nnmath.optimizers import Optimizer
from nnmath.training.history import History
from nnmath.training.interrupt import InterruptFlag
from nnmath.training.monitor import Monitor, all_finite
from nnmath.training.progress import Progress
from nnmath.training.settings import Settings, Validation
from nnmath.training.threads import blas_threads

__all__ = ["train"]


def _take(A, idx, buffer):
    """Rows ``idx`` of A, into a preallocated buffer when A is a dense NumPy array."""
    if sp.issparse(A):
        return A[idx]
    if buffer is None:  # another array library: its own take
        return arrays.namespace_of(A).take(A, idx, axis=0)
    out = buffer[: len(idx)]
    # mode="clip" lets numpy write straight into `out` (the indices come from a
    # permutation, so none is out of range); the default mode copies through a buffer.
    np.take(A, idx, axis=0, out=out, mode="clip")
    return out


class _Batches:
    """The batches of one epoch: slices in order, or rows gathered in a random order
    into preallocated buffers. The order is drawn with NumPy; on another array library
    it crosses to the device once per epoch, and the batches are gathered there."""

    def __init__(self, X, Y, sample_weight, batch_size: int, shuffle: bool):
        self.X, self.Y, self.w = X, Y, sample_weight
        self.n = n = X.shape[0]
        self.size = batch_size
        self.shuffle = shuffle
        self.xp = arrays.namespace_of(Y)
        buffers = shuffle and self.xp is np
        dense = not sp.issparse(X)
        self.x_buf = np.empty((batch_size, X.shape[1]), X.dtype) if buffers and dense else None
        self.y_buf = np.empty((batch_size, Y.shape[1]), Y.dtype) if buffers else None
        self.w_buf = (
            np.empty(batch_size, sample_weight.dtype)
            if buffers and sample_weight is not None
            else None
        )
        self.starts = range(0, n, batch_size)

    def epoch(self, rng: np.random.Generator):
        """Yield (X_B, Y_B, w_B, rows) for each batch of one epoch."""
        n, size, X, Y, w = self.n, self.size, self.X, self.Y, self.w
        order = rng.permutation(n) if self.shuffle else None
        if order is not None and self.xp is not np:
            order = arrays.as_device_array(order, self.xp, arrays.device_of(Y))
        for start in self.starts:
            stop = min(start + size, n)
            if order is not None:
                idx = order[start:stop]
                wb = None if w is None else _take(w, idx, self.w_buf)
                yield _take(X, idx, self.x_buf), _take(Y, idx, self.y_buf), wb, stop - start
            else:
                wb = None if w is None else w[start:stop]
                yield X[start:stop], Y[start:stop], wb, stop - start


def train(
    model,
    X,
    Y: np.ndarray,
    optimizer: Optimizer,
    settings: Settings,
    *,
    rng: np.random.Generator,
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
        parameters ``theta`` and gradient ``grad``, ``backprop(X, Y, w, alpha=,
        dropout_rng=)`` filling ``grad`` and returning the cost, ``objective(X, Y,
        w, alpha)`` for a validation set, and ``layer_sizes`` (the BLAS threads of the
        fit follow from them and the batch size: :mod:`nnmath.training.threads`).
    X : ndarray or sparse matrix of shape (n_samples, n_inputs), validated
    Y : ndarray of shape (n_samples, n_outputs), validated
    optimizer : Optimizer
        Updates ``model.theta`` from ``model.grad`` after every batch.
    settings : Settings
    rng : numpy.random.Generator
        Shuffling and dropout masks.
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
    n = X.shape[0]
    bs = n if s.batch_size is None else max(1, min(int(s.batch_size), n))
    # One batch of all samples is the same gradient in any order: no shuffling then.
    full_batch = bs == n
    batches = None if full_batch else _Batches(X, Y, sample_weight, bs, s.shuffle)
    dropout_rng = rng if s.dropout else None
    theta = model.theta
    params, grads = [theta], [model.grad]
    optimizer.prepare(params)
    # The update without the layout check, unless a subclass has a step() of its own.
    step = optimizer.update if type(optimizer).step is Optimizer.step else optimizer.step
    monitor = Monitor(model, history, s, validation, progress, lr0)
    alpha, schedule = s.alpha, s.schedule
    last_good = arrays.namespace_of(theta).empty_like(theta)
    stopped = False
    # NOTE: a diverging run overflows inside the cost and backpropagation; numpy's
    # overflow/invalid warnings are silenced while training, because the finiteness
    # checks turn them into one DivergenceError. The cost is checked every batch (a
    # scalar: free); a step that made θ infinite shows in the next batch's cost, or in
    # the check of θ after the epoch's last batch. Callbacks and the score function
    # run under the caller's own error settings (the monitor restores them).
    limit = blas_threads(model.layer_sizes, bs) if type(theta) is np.ndarray else nullcontext()
    try:
        with (
            limit,
            InterruptFlag() as interrupt,
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            for _ in range(s.max_epochs):
                started = time.perf_counter()
                lr = schedule.rate(lr0, history.n_iter, history.t)
                optimizer.learning_rate = history.learning_rate = lr
                last_good[...] = theta
                if full_batch:  # the article's gradient descent: one step on all data
                    cost = model.backprop(X, Y, sample_weight, alpha=alpha, dropout_rng=dropout_rng)
                    finite = math.isfinite(cost)
                    if finite:
                        step(params, grads)  # θ was finite before the step
                    if not (finite and all_finite(theta)):
                        monitor.diverged(last_good, cost, lr)
                        stopped = True
                        break
                    epoch_cost = cost
                else:
                    epoch_cost = 0.0
                    for Xb, Yb, wb, rows in batches.epoch(rng):
                        cost = model.backprop(Xb, Yb, wb, alpha=alpha, dropout_rng=dropout_rng)
                        if math.isfinite(cost):
                            step(params, grads)
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
                if monitor.end_epoch(epoch_cost, n, lr, time.perf_counter() - started):
                    stopped = True
                    break
    except KeyboardInterrupt:
        monitor.interrupted()
        return history
    if not stopped:
        monitor.reached_limit()
    return history
