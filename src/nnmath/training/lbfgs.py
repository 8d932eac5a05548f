"""L-BFGS: scipy's quasi-Newton minimizer on the cost that backpropagation computes."""

from __future__ import annotations

import math
import time
from contextlib import nullcontext

import numpy as np
import scipy.optimize

from nnmath.core import arrays
from nnmath.data.sources import Data, InMemory
from nnmath.training.history import DivergenceError, History
from nnmath.training.monitor import Monitor
from nnmath.training.progress import Progress
from nnmath.training.settings import Settings, Validation
from nnmath.training.threads import blas_threads

__all__ = ["train_lbfgs"]


def train_lbfgs(
    model,
    X,
    Y: np.ndarray | None,
    settings: Settings,
    *,
    sample_weight: np.ndarray | None = None,
    validation: Validation | None = None,
    progress: Progress | None = None,
    history: History | None = None,
) -> History:
    """Minimize C(θ) with scipy's L-BFGS-B, from the model's current θ.

    Backpropagation supplies the exact gradient. ``loss_curve`` gets the cost after
    every L-BFGS iteration; ``n_iter`` counts iterations (at most
    ``settings.max_epochs``; ``settings.max_fun`` cost evaluations; ``settings.tol`` is
    scipy's gradient tolerance); validation figures and callbacks follow every
    iteration as they follow every epoch of :func:`~nnmath.training.train`. On a
    KeyboardInterrupt the model keeps the best iterate seen. scipy works in float64,
    so a float32 model's parameters are converted on the way in and out.

    Parameters
    ----------
    model
        As for :func:`~nnmath.training.train`.
    X, Y : validated arrays, or a :class:`~nnmath.data.sources.Data` and None
        With a Data (chunks, a Dask collection's chunks), every evaluation adds up
        the chunks' shares of the cost and gradient.
    settings : Settings
    sample_weight, validation, progress, history
        As for :func:`~nnmath.training.train`.

    Returns
    -------
    History
        ``optimizer_result`` holds scipy's OptimizeResult.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network
    >>> net = Network([1, 1], activation="identity", random_state=0)
    >>> h = train_lbfgs(net, np.array([[0.0], [1.0]]), np.array([[1.0], [3.0]]),
    ...                 Settings(max_epochs=50, tol=1e-10))
    >>> h.converged, round(float(net.W[0][0, 0]), 4), round(float(net.b[0][0]), 4)
    (True, 2.0, 1.0)
    """
    history = history if history is not None else History()
    data = X if isinstance(X, Data) else InMemory(X, Y, sample_weight)
    theta = model.theta
    xp, device = arrays.namespace_of(theta), arrays.device_of(theta)
    monitor = Monitor(model, history, settings, validation, progress, math.nan, tol_rule=False)
    alpha, l1 = settings.alpha, settings.l1

    # scipy sees θ packed as scikit-learn packs it, every W and then every b, so that
    # its dot products add the same numbers in the same order (θ itself is W₁, b₁, …).
    order = _packing_order(model)
    unpack = None if order is None else np.argsort(order)

    def put(flat: np.ndarray) -> None:
        """Set θ from scipy's float64 vector, moved to the model's device.

        L-BFGS runs on the host, so θ and ∂C/∂θ cross once per evaluation.
        """
        if unpack is not None:
            flat = flat[unpack]
        theta[...] = flat if xp is np else arrays.as_device_array(flat, xp, device, theta.dtype)

    def packed(a) -> np.ndarray:
        a = arrays.to_numpy(a)
        return (a if order is None else a[order]).astype(np.float64)

    def cost_and_grad(flat: np.ndarray):
        put(flat)
        # scikit-learn's rounding order: L-BFGS is handed its very numbers
        cost = data.cost_and_gradient(model, alpha=alpha, l1=l1, divide_at_end=True)
        return cost, packed(model.grad)

    started = [time.perf_counter()]

    def on_iteration(intermediate_result):
        # The callbacks and the validation figures see this iterate's weights; the last
        # cost evaluation (in the line search) may have been at another point.
        put(intermediate_result.x)
        now = time.perf_counter()
        stop = monitor.end_epoch(float(intermediate_result.fun), 0, None, now - started[0])
        started[0] = time.perf_counter()
        if stop:  # a callback asked to stop: scipy ends the minimization
            raise StopIteration

    limit = blas_threads(model.layer_sizes, data.n_samples) if xp is np else nullcontext()
    try:
        with limit:
            result = scipy.optimize.minimize(
                cost_and_grad,
                packed(theta),
                method="L-BFGS-B",
                jac=True,
                callback=on_iteration,
                options={
                    "maxfun": settings.max_fun,
                    "maxiter": settings.max_epochs,
                    "gtol": settings.tol,
                },
            )
    except KeyboardInterrupt:
        monitor.interrupted(unit="iteration")
        return history
    put(result.x)
    history.optimizer_result = result
    if not np.isfinite(result.fun):
        raise DivergenceError(
            f"L-BFGS diverged: the cost became {result.fun}. Standardize the inputs.", history
        )
    history.t += data.n_samples * max(int(result.nit), 1)
    if history.stop_reason == "stopped by callback":
        history.converged = False
    elif result.status == 0:
        history.stop_reason, history.converged = f"L-BFGS converged: {result.message}", True
    elif result.status == 1:  # an iteration or evaluation limit
        if result.nit >= settings.max_epochs:
            reached = f"{settings.epochs_name}={settings.max_epochs}"
        else:
            reached = f"max_fun={settings.max_fun}"
        history.stop_reason, history.converged = f"{reached} reached", False
    else:
        history.stop_reason = f"L-BFGS stopped: {result.message}"
        history.converged = False
    return history


def _packing_order(model) -> np.ndarray | None:
    """Return the indices of θ that list every W, then every b (None: θ as it is).

    θ of a model with ``parameters()`` [W₁, b₁, W₂, b₂, …] is those arrays, flattened,
    one after the other.
    """
    parameters = getattr(model, "parameters", None)
    if parameters is None:
        return None
    sizes = [int(np.prod(p.shape)) for p in parameters()]
    starts = np.cumsum([0, *sizes])
    if starts[-1] != model.theta.shape[0]:
        return None
    ranges = [np.arange(starts[i], starts[i + 1]) for i in range(len(sizes))]
    return np.concatenate(ranges[0::2] + ranges[1::2])
