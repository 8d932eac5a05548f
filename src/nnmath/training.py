"""The training loop: batches, gradient descent, convergence, validation, callbacks.

One epoch of mini-batch gradient descent visits every sample once:

    for each batch B:   C_B, ∂C_B/∂θ = backprop(B);   θ ← optimizer(θ, ∂C_B/∂θ)

and records the epoch's cost, the batch costs averaged over the samples (as
scikit-learn does). After each epoch the loop checks convergence — scikit-learn's rule:
the monitored figure (training cost, or the validation score with early stopping) did
not improve by more than ``tol`` for more than ``n_iter_no_change`` consecutive epochs —
reports progress, calls the callbacks, and stops with a reason in words.

The full-batch case (``batch_size=None``) is the article's gradient descent. With numba
installed, the article's perceptron itself (one sigmoid layer, MSE, plain SGD, nothing
to do between epochs, 10,000 epochs or more) runs its epochs in a compiled loop of
:mod:`nnmath.kernels`, in chunks between which this module applies the same rules.
L-BFGS (:func:`train_lbfgs`) hands the same cost and gradient to scipy.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from nnmath import kernels
from nnmath.activations import Sigmoid
from nnmath.losses import MSE
from nnmath.network import Network, _rng
from nnmath.optimizers import SGD, Constant, Optimizer, Schedule

__all__ = ["DivergenceError", "History", "Progress", "fit_network", "train", "train_lbfgs"]


class DivergenceError(FloatingPointError):
    """Training produced an infinite or NaN cost. The network keeps its last finite
    parameters; ``history`` holds what was recorded up to that point."""

    def __init__(self, message: str, history: History | None = None):
        super().__init__(message)
        self.history = history


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
    optimizer_result: object = field(default=None, repr=False)
    best_theta: np.ndarray | None = field(default=None, repr=False)


class Progress:
    """Reports epochs as they end.

    verbose=0: nothing. verbose=1: a live progress bar (tqdm) on a terminal, and
    scikit-learn's plain lines ("Iteration N, loss = …") when output is not a terminal.
    verbose=2: one line per epoch with every figure.
    """

    def __init__(self, verbose: int, total_epochs: int, score_name: str = "score"):
        self.verbose = int(verbose)
        self.score_name = score_name
        self._bar = None
        # The bar goes to stderr, the plain lines to stdout: draw it only when both are
        # terminals, so that no carriage return or escape code lands in a file or pipe.
        if self.verbose == 1 and _is_terminal(sys.stdout) and _is_terminal(sys.stderr):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total_epochs, unit="epoch", file=sys.stderr, leave=True)

    def epoch_end(self, info: dict) -> None:
        """Report one epoch's figures (the dict the callbacks receive)."""
        if self.verbose <= 0:
            return
        if self._bar is not None:
            figures = {"loss": f"{info['loss']:.5g}"}
            if info.get("val_loss") is not None:
                figures["val_loss"] = f"{info['val_loss']:.5g}"
            if info.get("val_score") is not None and self.score_name != "neg_log_loss":
                # (a negated log-loss score would repeat val_loss in a narrow bar)
                figures[f"val_{self.score_name}"] = f"{info['val_score']:.5g}"
            self._bar.set_postfix(figures, refresh=False)
            self._bar.update(1)
            return
        line = "Iteration %d, loss = %.8f" % (info["epoch"], info["loss"])
        if self.verbose >= 2:
            if info.get("val_loss") is not None:
                line += f", val_loss = {info['val_loss']:.8f}"
            if info.get("val_score") is not None:
                line += f", val_{self.score_name} = {info['val_score']:.6f}"
            line += f", learning_rate = {info['learning_rate']:.6g}, {info['seconds']:.3f}s"
            print(line, flush=True)
        else:
            print(line, flush=True)
            if info.get("val_score") is not None:
                print(f"Validation score: {info['val_score']:f}", flush=True)

    def message(self, text: str) -> None:
        """Print a line without breaking the progress bar."""
        if self.verbose <= 0:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, flush=True)

    def close(self) -> None:
        """Finish the progress bar, if one is drawn."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _InterruptFlag:
    """Turns the first Ctrl-C into a flag checked after each batch (the second one
    raises as usual). Only the main thread can install signal handlers; elsewhere a
    KeyboardInterrupt is caught where it is raised."""

    def __init__(self):
        self.set = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):
                self._previous = None
        return self

    def _handler(self, signum, frame):
        if self.set:
            raise KeyboardInterrupt
        self.set = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _take(A, idx, buffer):
    """Rows ``idx`` of A, into a preallocated buffer when A is dense."""
    if sp.issparse(A):
        return A[idx]
    out = buffer[: len(idx)]
    # mode="clip" lets numpy write straight into `out` (the indices come from a
    # permutation, so none is out of range); the default mode copies through a buffer.
    np.take(A, idx, axis=0, out=out, mode="clip")
    return out


def train(
    network: Network,
    X,
    y: np.ndarray,
    *,
    optimizer: Optimizer,
    max_epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    rng: np.random.Generator,
    sample_weight: np.ndarray | None = None,
    alpha: float = 0.0,
    tol: float | None = 1e-4,
    n_iter_no_change: int = 10,
    schedule: Schedule | None = None,
    learning_rate_init: float | None = None,
    validation: tuple | None = None,
    score: Callable[[], float] | None = None,
    score_name: str = "score",
    early_stopping: bool = False,
    restore_best_weights: bool = True,
    callbacks: Sequence[Callable[[dict], object]] = (),
    progress: Progress | None = None,
    history: History | None = None,
    max_epochs_label: str = "epochs",
    dropout: bool = True,
) -> History:
    """Run up to ``max_epochs`` epochs of mini-batch training on validated arrays.

    Parameters
    ----------
    network : Network
    X : ndarray or sparse matrix of shape (n_samples, n_inputs), network's dtype
    y : ndarray of shape (n_samples, n_outputs), network's dtype
    optimizer : Optimizer
        Updates ``network.theta`` from ``network.grad`` after every batch.
    max_epochs : int
    batch_size : int or None
        None: one batch of all samples (full-batch gradient descent).
    rng : numpy.random.Generator
        Shuffling and dropout masks.
    tol, n_iter_no_change
        Stop when the monitored figure failed to improve by ``tol`` for more than
        ``n_iter_no_change`` consecutive epochs; ``tol=None`` never stops early.
    schedule : Schedule, optional
        Learning rate for each epoch from ``learning_rate_init``.
    validation : (X_val, y_val, sample_weight_val), optional
        Records the validation cost after every epoch.
    score : callable, optional
        Returns the validation score (higher is better) of the current weights.
    early_stopping : bool
        Monitor ``score`` instead of the training cost.
    restore_best_weights : bool
        With early stopping, end on the weights of the best validation score.
    callbacks : sequence of callable
        Each called with the epoch's figures (a dict: epoch, loss, val_loss,
        val_score, learning_rate, seconds); a True return stops training.
    history : History, optional
        Continue from an earlier call (partial_fit, warm start).

    Returns
    -------
    History
    """
    history = history if history is not None else History()
    schedule = schedule if schedule is not None else Constant()
    lr0 = learning_rate_init if learning_rate_init is not None else optimizer.learning_rate
    n = X.shape[0]
    bs = n if batch_size is None else max(1, min(int(batch_size), n))
    # One batch of all samples is the same gradient in any order: no shuffling then.
    shuffle = shuffle and bs < n
    dense = not sp.issparse(X)
    x_buf = np.empty((bs, X.shape[1]), X.dtype) if shuffle and dense else None
    y_buf = np.empty((bs, y.shape[1]), y.dtype) if shuffle else None
    w_buf = np.empty(bs, sample_weight.dtype) if shuffle and sample_weight is not None else None
    dropout_rng = rng if dropout and any(network.dropout) else None
    theta, grad = network.theta, network.grad
    params, grads = [theta], [grad]
    optimizer._prepare(params)
    # The step without its per-call layout check, unless a subclass has its own step().
    step = optimizer._step if type(optimizer).step is Optimizer.step else optimizer.step
    last_good = np.empty_like(theta)
    first_epoch = history.n_iter + 1
    stopped = False
    epochs_done = 0
    rules = _EpochRules(
        lr0=lr0,
        alpha=alpha,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        schedule=schedule,
        validation=validation,
        score=score,
        score_name=score_name,
        early_stopping=early_stopping,
        restore_best_weights=restore_best_weights,
        callbacks=tuple(callbacks),
        progress=progress,
        callers_errors=np.geterr(),
    )
    # NOTE: a diverging run overflows inside the cost and backpropagation; numpy's
    # overflow/invalid warnings are silenced while training, because the finiteness
    # checks turn them into one DivergenceError. The cost is checked every batch (a
    # scalar: free); a step that made θ infinite shows in the next batch's cost, or in
    # the check of θ after the epoch's last batch. Callbacks and the score function
    # run under the caller's own error settings.
    try:
        with (
            _InterruptFlag() as interrupt,
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            if _descent_kernel_applies(
                network, X, y, optimizer, bs == n, sample_weight, alpha, max_epochs, rules
            ):
                epochs_done, stopped = _descend_compiled(
                    network, X, y, history, max_epochs, lr0, optimizer, interrupt, rules
                )
            while epochs_done < max_epochs and not stopped:
                started = time.perf_counter()
                lr = schedule.rate(lr0, history.n_iter, history.t)
                optimizer.learning_rate = history.learning_rate = lr
                order = rng.permutation(n) if shuffle else None
                np.copyto(last_good, theta)
                total = 0.0
                for start in range(0, n, bs):
                    stop = min(start + bs, n)
                    if order is not None:
                        idx = order[start:stop]
                        Xb, yb = _take(X, idx, x_buf), _take(y, idx, y_buf)
                        wb = None if sample_weight is None else _take(sample_weight, idx, w_buf)
                    elif bs == n:
                        Xb, yb, wb = X, y, sample_weight
                    else:
                        Xb, yb = X[start:stop], y[start:stop]
                        wb = None if sample_weight is None else sample_weight[start:stop]
                    cost = network._cost_and_gradients(Xb, yb, wb, alpha, dropout_rng)
                    if math.isfinite(cost):
                        step(params, grads)  # θ was finite before the step
                    if not math.isfinite(cost) or (stop == n and not _all_finite(theta)):
                        _diverged(theta, last_good, cost, lr, history)
                    total += cost * (stop - start)
                    if interrupt.set:
                        raise KeyboardInterrupt
                epochs_done += 1
                stopped = _end_epoch(
                    network, history, total / n, n, lr, time.perf_counter() - started, rules
                )
    except KeyboardInterrupt:
        history.stop_reason = "interrupted (KeyboardInterrupt)"
        history.converged = False
        # Keep the best weights seen: with early stopping the best validation score;
        # otherwise the lowest training cost of this call (an earlier partial_fit chunk
        # saw other data, so its weights are no candidate).
        recent = history.best_epoch is not None and history.best_epoch >= first_epoch
        if history.best_theta is not None and (early_stopping or recent):
            theta[...] = history.best_theta
            if history.best_epoch != history.n_iter:
                history.stop_reason += f"; restored the weights of epoch {history.best_epoch}"
        return history
    if not stopped:
        history.converged = False
        history.stop_reason = f"{max_epochs_label}={max_epochs} reached"
        if early_stopping and restore_best_weights and history.best_theta is not None:
            theta[...] = history.best_theta
            if history.best_epoch != history.n_iter:
                history.stop_reason += f"; restored the weights of epoch {history.best_epoch}"
    return history


def _descent_kernel_applies(
    network, X, y, optimizer, full_batch, sample_weight, alpha, epochs, r
) -> bool:
    """True for the article's perceptron: one sigmoid layer on the MSE cost, full-batch
    plain SGD at a constant rate, and nothing to run between epochs (no validation,
    score, callbacks or progress). Its epochs then run in :mod:`nnmath.kernels`."""
    return (
        full_batch
        and type(network) is Network
        and len(network.W) == 1
        and type(network.activations[0]) is Sigmoid
        and type(network.loss) is MSE
        and type(optimizer) is SGD
        and not optimizer.momentum
        and type(r.schedule) is Constant
        and sample_weight is None
        and not alpha
        and r.validation is None
        and r.score is None
        and not r.early_stopping
        and not r.callbacks
        and r.progress is None
        and kernels.descent_applies(X, y, network.W[0], epochs)
    )


#: Epochs per call of the compiled descent loop: between calls the loop records the
#: costs, applies the stopping rule and answers Ctrl-C.
_DESCENT_CHUNK = 4096


def _descend_compiled(network, X, y, history, max_epochs, lr, optimizer, interrupt, r):
    """:func:`train`'s epochs for the case of :func:`_descent_kernel_applies`, run in
    chunks by :func:`nnmath.kernels.sigmoid_mse_descent`: the same stopping rule, best
    weights, divergence errors and stop reasons, on costs that agree with the NumPy
    loop's to rounding. Returns (epochs done, stopped)."""
    n, theta = X.shape[0], network.theta
    X, Y = np.ascontiguousarray(X), np.ascontiguousarray(y)  # tiny: a copy costs nothing
    optimizer.learning_rate = history.learning_rate = lr
    keep = history.best_theta is not None and history.best_theta.shape == theta.shape
    best = history.best_theta if keep else np.empty_like(theta)
    best_W, best_b = network._views(best)
    costs = np.empty(_DESCENT_CHUNK)
    epochs_done = 0
    while epochs_done < max_epochs:
        k = min(_DESCENT_CHUNK, max_epochs - epochs_done)
        if r.tol is not None:
            # The rule can stop training no sooner than n_iter_no_change + 1 − count
            # epochs from now: ending the chunk there, training never runs past a stop.
            k = max(1, min(k, r.n_iter_no_change + 1 - history.no_improvement_count))
        done, status, _, best_at = kernels.sigmoid_mse_descent(
            X, Y, network.W[0], network.b[0], network.dW[0], network.db[0],
            lr, costs[:k], history.best_loss, best_W, best_b,
        )  # fmt: skip
        recorded = costs[:done].tolist()
        for loss in recorded:
            _count_no_improvement(history, loss, r.tol)
            history.best_loss = min(history.best_loss, loss)
        if best_at >= 0:
            history.best_theta, history.best_epoch = best, history.n_iter + best_at + 1
        history.loss_curve += recorded
        history.n_iter += done
        history.t += done * n
        epochs_done += done
        if status:  # θ holds its last finite value (the kernel put it back)
            _diverged(theta, theta, float(costs[done]), lr, history)
        if interrupt.set:
            raise KeyboardInterrupt
        if r.tol is not None and history.no_improvement_count > r.n_iter_no_change:
            if _plateau(network, history, lr, r):
                return epochs_done, True
    return epochs_done, False


def _all_finite(a: np.ndarray) -> bool:
    """True when no entry of ``a`` is infinite or NaN. The sum is one cheap pass: any
    inf or NaN makes it non-finite; only then (or when the sum itself overflowed)
    are the entries checked one by one."""
    return math.isfinite(np.add.reduce(a, axis=None)) or bool(np.isfinite(a).all())


def _diverged(theta, last_good, cost, lr, history) -> None:
    """Put back the last finite parameters and raise DivergenceError."""
    if not _all_finite(theta):
        theta[...] = last_good
    what = (
        f"the cost became {cost}"
        if not math.isfinite(cost)
        else "the gradient or the parameters became infinite or NaN"
    )
    history.stop_reason = f"diverged: {what}"
    raise DivergenceError(
        f"training diverged in epoch {history.n_iter + 1}: {what}. The network keeps its "
        f"last finite parameters. Lower the learning rate (it was {lr:g}) or standardize "
        "the inputs.",
        history,
    )


@dataclass(frozen=True, slots=True)
class _EpochRules:
    """What :func:`train` does after each epoch: its arguments, gathered once."""

    lr0: float
    alpha: float
    tol: float | None
    n_iter_no_change: int
    schedule: Schedule
    validation: tuple | None
    score: Callable[[], float] | None
    score_name: str
    early_stopping: bool
    restore_best_weights: bool
    callbacks: tuple
    progress: Progress | None
    callers_errors: dict


def _end_epoch(
    network, history: History, loss: float, n: int, lr: float, seconds: float, r: _EpochRules
) -> bool:
    """Record an epoch, check convergence, report and call back. True means stop."""
    history.n_iter += 1
    history.t += n
    history.loss_curve.append(loss)
    info = {
        "epoch": history.n_iter,
        "loss": loss,
        "val_loss": None,
        "val_score": None,
        "learning_rate": lr,
        "seconds": seconds,
    }
    if r.validation is not None or r.score is not None:
        with np.errstate(**r.callers_errors):
            _record_validation(network, history, info, r.validation, r.score, r.alpha)

    # scikit-learn's convergence rule on the monitored figure.
    if r.early_stopping:
        current = info["val_score"]
        if r.tol is not None and current < history.best_validation_score + r.tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
        if current > history.best_validation_score:
            history.best_validation_score = current
            _keep_best(network, history)
    else:
        _count_no_improvement(history, loss, r.tol)
    if loss < history.best_loss:
        history.best_loss = loss
        if not r.early_stopping:
            _keep_best(network, history)

    if r.progress is not None:
        r.progress.epoch_end(info)
    if r.callbacks:
        with np.errstate(**r.callers_errors):
            stop = any(callback(info) is True for callback in r.callbacks)
        if stop:
            history.stop_reason = "stopped by callback"
            history.converged = False
            return True

    if r.tol is not None and history.no_improvement_count > r.n_iter_no_change:
        return _plateau(network, history, lr, r)
    return False


def _count_no_improvement(history: History, loss: float, tol: float | None) -> None:
    """scikit-learn's rule on the training cost: an epoch whose cost is not below the
    best so far by more than ``tol`` adds one to the count; a better one resets it."""
    if tol is not None and loss > history.best_loss - tol:
        history.no_improvement_count += 1
    else:
        history.no_improvement_count = 0


def _plateau(network, history: History, lr: float, r: _EpochRules) -> bool:
    """The monitored figure stopped improving: adapt α and go on (False), or stop (True)."""
    # What verbose output prints here is scikit-learn's text, word for word.
    said = "%s did not improve more than tol=%f for %d consecutive epochs." % (
        "Validation score" if r.early_stopping else "Training loss",
        r.tol,
        r.n_iter_no_change,
    )
    if r.schedule.on_plateau(lr):
        history.no_improvement_count = 0
        if r.progress is not None:
            new_lr = r.schedule.rate(r.lr0, history.n_iter, history.t)
            r.progress.message(f"{said} Setting learning rate to {new_lr:f}")
        return False
    history.converged = True
    if r.early_stopping:
        history.stop_reason = (
            f"validation {r.score_name} did not improve by more than tol={r.tol:g} for "
            f"{r.n_iter_no_change} consecutive epochs"
        )
        if r.restore_best_weights and history.best_theta is not None:
            network.theta[...] = history.best_theta
            if history.best_epoch != history.n_iter:  # as at max_iter: no no-op restore
                history.stop_reason += f"; restored the weights of epoch {history.best_epoch}"
    else:
        history.stop_reason = (
            f"training loss improved by less than tol={r.tol:g} for "
            f"{r.n_iter_no_change} consecutive epochs"
        )
    if r.schedule.name == "adaptive":
        history.stop_reason += " at the smallest learning rate"
    if r.progress is not None:
        too_small = " Learning rate too small." if r.schedule.name == "adaptive" else ""
        r.progress.message(f"{said}{too_small} Stopping.")
    return True


def _record_validation(network, history, info, validation, score, alpha) -> None:
    """Append the validation cost (loss + the L2 term, as in the training cost) and
    score of the current weights to ``history`` and ``info``."""
    if validation is not None:
        X_val, y_val, w_val = validation
        val_loss = network.loss(network._forward(X_val), y_val, w_val)
        if alpha:
            val_loss += network.l2_penalty(
                alpha, X_val.shape[0] if w_val is None else float(np.sum(w_val))
            )
        history.validation_loss_curve.append(float(val_loss))
        info["val_loss"] = float(val_loss)
    if score is not None:
        s = float(score())
        history.validation_scores.append(s)
        info["val_score"] = s


def _keep_best(network: Network, history: History) -> None:
    if history.best_theta is None or history.best_theta.shape != network.theta.shape:
        history.best_theta = network.theta.copy()
    else:
        history.best_theta[...] = network.theta
    history.best_epoch = history.n_iter


def train_lbfgs(
    network: Network,
    X,
    y: np.ndarray,
    *,
    sample_weight: np.ndarray | None = None,
    alpha: float = 0.0,
    max_iter: int = 200,
    max_fun: int = 15000,
    tol: float = 1e-4,
    validation: tuple | None = None,
    score: Callable[[], float] | None = None,
    callbacks: Sequence[Callable[[dict], object]] = (),
    progress: Progress | None = None,
    history: History | None = None,
) -> History:
    """Minimize C(θ) with scipy's L-BFGS-B, from the network's current θ.

    Backpropagation supplies the exact gradient. ``loss_curve`` gets the cost after
    every L-BFGS iteration; ``n_iter`` counts iterations; ``validation`` and ``score``
    are recorded after every iteration as :func:`train` does after every epoch. On a
    KeyboardInterrupt the network keeps the best iterate seen. scipy works in float64,
    so a float32 network's parameters are converted on the way in and out.
    """
    history = history if history is not None else History()
    theta = network.theta

    def cost_and_grad(flat: np.ndarray):
        theta[...] = flat
        cost = network._cost_and_gradients(X, y, sample_weight, alpha, None)
        return cost, network.grad.astype(np.float64)

    state = {"stop": None, "started": time.perf_counter()}

    def on_iteration(intermediate_result):
        history.n_iter += 1
        loss = float(intermediate_result.fun)
        history.loss_curve.append(loss)
        # The callbacks and the validation figures see this iterate's weights; the last
        # cost evaluation (in the line search) may have been at another point.
        theta[...] = intermediate_result.x
        if loss < history.best_loss:
            history.best_loss = loss
            _keep_best(network, history)
        info = {
            "epoch": history.n_iter,
            "loss": loss,
            "val_loss": None,
            "val_score": None,
            "learning_rate": None,
            "seconds": time.perf_counter() - state["started"],
        }
        _record_validation(network, history, info, validation, score, alpha)
        state["started"] = time.perf_counter()
        if progress is not None:
            progress.epoch_end({**info, "learning_rate": float("nan")})
        for callback in callbacks:
            if callback(info) is True:
                state["stop"] = "stopped by callback"
                raise StopIteration

    try:
        result = scipy.optimize.minimize(
            cost_and_grad,
            theta.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=on_iteration,
            options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
        )
    except KeyboardInterrupt:
        history.stop_reason = "interrupted (KeyboardInterrupt)"
        history.converged = False
        if history.best_theta is not None:  # keep the best iterate seen
            theta[...] = history.best_theta
            history.stop_reason += f"; restored the weights of iteration {history.best_epoch}"
        return history
    theta[...] = result.x
    if not np.isfinite(result.fun):
        raise DivergenceError(
            f"L-BFGS diverged: the cost became {result.fun}. Standardize the inputs.", history
        )
    history.t += X.shape[0] * max(int(result.nit), 1)
    if state["stop"] is not None:
        history.stop_reason, history.converged = state["stop"], False
    elif result.status == 0:
        history.stop_reason, history.converged = f"L-BFGS converged: {result.message}", True
    elif result.status == 1:  # an iteration or evaluation limit
        limit = f"max_iter={max_iter}" if result.nit >= max_iter else f"max_fun={max_fun}"
        history.stop_reason, history.converged = f"{limit} reached", False
    else:
        history.stop_reason = f"L-BFGS stopped: {result.message}"
        history.converged = False
    history.optimizer_result = result
    return history


def fit_network(
    network: Network,
    X,
    y,
    *,
    optimizer: Optimizer | None = None,
    epochs: int = 1000,
    batch_size: int | None = None,
    shuffle: bool = True,
    tol: float | None = 1e-6,
    n_iter_no_change: int = 10,
    random_state=None,
    sample_weight=None,
    alpha: float = 0.0,
    callbacks: Sequence[Callable[[dict], object]] = (),
) -> History:
    """Validate (X, y) and train ``network`` in place; see :meth:`Network.fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network
    >>> net = Network([1, 1], activation="identity", random_state=0)
    >>> h = fit_network(net, [[0.0], [1.0]], [1.0, 3.0], epochs=2000, tol=None)
    >>> round(float(net.W[0][0, 0]), 3), round(float(net.b[0][0]), 3)   # y = 2x + 1
    (2.0, 1.0)
    """
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1; got {epochs!r}")
    if batch_size is not None and (
        not isinstance(batch_size, (int, np.integer))
        or isinstance(batch_size, bool)
        or batch_size < 1
    ):
        raise ValueError(
            f"batch_size must be None (full batch) or an integer >= 1; got {batch_size!r}"
        )
    if not isinstance(alpha, (int, float, np.integer, np.floating)) or not alpha >= 0:
        raise ValueError(f"alpha (the L2 penalty) must be a number >= 0; got {alpha!r}")
    if tol is not None and not (
        isinstance(tol, (int, float, np.integer, np.floating)) and tol >= 0
    ):
        raise ValueError(f"tol must be a number >= 0 or None; got {tol!r}")
    if not isinstance(n_iter_no_change, (int, np.integer)) or n_iter_no_change < 1:
        raise ValueError(f"n_iter_no_change must be an integer >= 1; got {n_iter_no_change!r}")
    X = network._check_X(X)
    y = network._check_y(y, X.shape[0])
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=network.dtype)
        if sample_weight.shape != (X.shape[0],):
            raise ValueError(
                f"sample_weight must have shape ({X.shape[0]},); got {sample_weight.shape}"
            )
    optimizer = optimizer if optimizer is not None else SGD(learning_rate=0.1)
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be an nnmath.optimizers.Optimizer; got {optimizer!r}")
    optimizer.reset()  # every fit starts the optimizer afresh (no moments from a past fit)
    return train(
        network,
        X,
        y,
        optimizer=optimizer,
        max_epochs=int(epochs),
        batch_size=batch_size,
        shuffle=shuffle,
        rng=_rng(random_state),
        sample_weight=sample_weight,
        alpha=alpha,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        callbacks=callbacks,
    )
