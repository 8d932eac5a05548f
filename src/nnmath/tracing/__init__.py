"""Show the work: every equation of one training step, evaluated on real numbers.

:func:`explain` walks one step of training for one sample (or a small batch) and
records each equation of the math with the numbers that go into it and the number
that comes out::

    forward      z = Σᵢ wᵢxᵢ + b          ŷ = σ(z)
    cost         L = (y − ŷ)²             C = (1/n) Σᵢ Lᵢ
    backward     δ = ∂C/∂z = ∂C/∂ŷ · ∂ŷ/∂z
                 ∂C/∂w = ∂C/∂ŷ · ∂ŷ/∂z · ∂z/∂w,    ∂C/∂b = ∂C/∂ŷ · ∂ŷ/∂z · 1
    update       w ← w − α·∂C/∂w

layer by layer from the output back for a deeper network, or Rosenblatt's rule
w ← w + α(y − ŷ)x for a step perceptron. Every number is one the library computed:
the trace renders the network's own recorded pass (:meth:`Network.backprop` with
``record=True``) and the optimizer's update, or the records of
:func:`nnmath.core.rosenblatt.rosenblatt_pass`; the model is left unchanged.

The package's modules: ``trace`` (the records Step, LayerSummary, Trace), ``steps``
(a pass's record as equations), ``render`` (numbers as text and LaTeX), ``resolve``
(which network, targets and rates a model gives).

Example
-------
>>> from nnmath.tracing import explain_demo
>>> trace = explain_demo()
>>> [step.name for step in trace][:3]
['weighted sum', 'activation (sigmoid)', 'loss']
>>> round(trace.cost, 4)   # C = (1/4)·Σ (y − σ(w·x + b))² on the built-in example
0.2032
"""

from __future__ import annotations

import copy

import numpy as np

from nnmath.core.optimizers import SGD
from nnmath.core.rosenblatt import rosenblatt_pass
from nnmath.network import Network
from nnmath.tracing.resolve import check_x, resolve
from nnmath.tracing.steps import (
    gradient_descent_steps,
    layer_summary,
    rosenblatt_steps,
    update_steps,
)
from nnmath.tracing.trace import EXPLODING, VANISHING, LayerSummary, Step, Trace

__all__ = ["EXPLODING", "VANISHING", "LayerSummary", "Step", "Trace", "explain", "explain_demo"]


def explain(
    model, x, y, learning_rate: float | None = None, *, l2_penalty=None, l1_penalty=None
) -> Trace:
    """Every equation of one training step on ``x``, with its numbers.

    Parameters
    ----------
    model : Perceptron, Network, or a fitted MLPClassifier / MLPRegressor
        A fitted estimator is read through its ``network_`` (labels through
        ``classes_`` / ``_label_binarizer``). Left unchanged.
    x : array of shape (n_features,) for one sample, or (n_samples, n_features)
        Keep the batch small: the trace holds every intermediate array.
    y : target(s) of ``x``
        For a classifier, labels as given to ``fit`` (a scalar for one sample); for a
        Network or a regressor, numbers of shape (n_outputs,) or (n_samples, n_outputs)
        (a scalar, or (n_samples,), with one output).
    learning_rate : float, optional
        α of the update. Defaults to the model's: ``Perceptron.learning_rate``,
        ``learning_rate_init`` of an MLP, else 0.1 (``Network.fit``'s default).
    l2_penalty : float, optional
        λ of the L2 term (λ/2n) Σ‖W‖² of the cost. Defaults to an MLP's ``alpha``
        (which its training adds), else 0.
    l1_penalty : float, optional
        λ₁ of the L1 term (λ₁/n) Σ|W| of the cost, whose subgradient (λ₁/n)·sign(W)
        (sign(0) = 0) the trace adds to ∂C/∂W. Defaults to an MLP's ``l1``, else 0.

    Returns
    -------
    Trace
        Forward (z = Σᵢ wᵢxᵢ + b, ŷ = σ(z)), cost (L, C), backward (∂C/∂ŷ, ∂ŷ/∂z or
        the fused δ = ŷ − y of a canonical output/loss pair, ∂z/∂w, ∂z/∂b = 1, the
        chain-rule products ∂C/∂w and ∂C/∂b, each layer's δ from the next one's),
        then the update w ← w − α·∂C/∂w of every W and b; a step perceptron shows
        Rosenblatt's rule w ← w + α(y − ŷ)x instead. ``trace.summary`` flags
        vanishing and exploding gradients and dead ReLU units.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network, explain
    >>> net = Network([3, 1], activation="sigmoid", loss="mse", random_state=0)
    >>> trace = explain(net, np.array([1.0, 0.0, 1.0]), 1.0, learning_rate=0.5)
    >>> trace.find("ŷ").equation
    'ŷ = σ(z);  σ(z) = 1 / (1 + e^(−z))'
    >>> [g.shape for g in trace.gradients]
    [(3, 1), (1,)]
    """
    r = resolve(model, learning_rate, l2_penalty, l1_penalty)
    X, one = check_x(r.network, x)
    Y = r.targets(y, X.shape[0], one)
    title = f"One training step of {_describe(model, r.network)}"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if r.rosenblatt:
            trace = _rosenblatt(r.network, X, Y, r.learning_rate, title)
        else:
            trace = _gradient_descent(
                r.network, X, Y, r.learning_rate, r.l2_penalty, r.l1_penalty, title
            )
    trace.notes = r.notes + trace.notes
    return trace


def _describe(model, net: Network) -> str:
    if isinstance(model, Network):
        return repr(model)
    return f"{type(model).__name__} (network_ = {net!r})"


def _gradient_descent(net: Network, X, Y, alpha: float, l2: float, l1: float, title: str) -> Trace:
    """Record one pass and one gradient-descent update of a copy of ``net``.

    Gradient descent is the optimizer training uses; the model itself is left unchanged.
    """
    net = copy.deepcopy(net)
    record = net.backprop(X, Y, alpha=l2, l1=l1, record=True)
    steps = gradient_descent_steps(net, record, l2)
    summary = [layer_summary(net, record, l) for l in range(1, net.n_layers + 1)]
    old_params = [p.copy() for p in net.parameters()]
    SGD(learning_rate=alpha).step([net.theta], [net.grad])
    new_params = [p.copy() for p in net.parameters()]
    steps += update_steps(net, old_params, record.gradients, new_params, alpha)
    return Trace(
        steps,
        title=title,
        rule="gradient descent",
        learning_rate=alpha,
        n_samples=X.shape[0],
        parameters=old_params,
        new_parameters=new_params,
        cost=record.cost,
        gradients=record.gradients,
        summary=summary,
        l2_penalty=l2,
        l1_penalty=l1,
    )


def _rosenblatt(net: Network, X, Y, alpha: float, title: str) -> Trace:
    """One recorded pass of Rosenblatt's rule on a copy of ``net``."""
    net = copy.deepcopy(net)
    old = [net.W[0].copy(), net.b[0].copy()]
    _, records = rosenblatt_pass(net, X, Y, alpha, record=True)
    return Trace(
        rosenblatt_steps(net, records, alpha),
        title=title,
        rule="rosenblatt",
        learning_rate=alpha,
        n_samples=X.shape[0],
        parameters=old,
        new_parameters=[net.W[0].copy(), net.b[0].copy()],
        notes=["the step's derivative is 0, so Rosenblatt's rule replaces the gradient"],
    )


# ---------------------------------------------------------------------------- demo
_DEMO_X = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
_DEMO_Y = np.array([0.0, 0.0, 1.0, 1.0])  # the target is the first feature
_DEMO_W = np.array([0.5, -0.4, 0.2])
_DEMO_B = 0.1


def explain_demo(
    activation: str = "sigmoid", learning_rate: float = 0.5, sample: int | None = None
) -> Trace:
    """Explain the article's perceptron: one step on a built-in example, shown in full.

    Four samples of three features, X = [[0,0,1], [0,1,1], [1,0,1], [1,1,1]], target
    y = [0, 0, 1, 1] (the first feature), starting from w = [0.5, −0.4, 0.2], b = 0.1.

    Parameters
    ----------
    activation : {"sigmoid", "step"}, default "sigmoid"
        "sigmoid": one full-batch gradient-descent step on the MSE cost
        C = (1/n) Σ (y − ŷ)²; "step": one pass of Rosenblatt's rule.
    learning_rate : float, default 0.5
        α.
    sample : int, optional
        Explain only this row (0–3) instead of all four.

    Returns
    -------
    Trace

    Examples
    --------
    >>> print(explain_demo(sample=2).find("z").expanded)
    0.5·1 + (-0.4)·0 + 0.2·1 + 0.1
    """
    if activation not in ("sigmoid", "step"):
        raise ValueError(f"activation must be 'sigmoid' or 'step'; got {activation!r}")
    X, y = _DEMO_X, _DEMO_Y
    if sample is not None:
        if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
            raise ValueError(f"sample must be a row index 0–{len(X) - 1}; got {sample!r}")
        if not 0 <= sample < len(X):
            raise ValueError(f"sample must be a row index 0–{len(X) - 1}; got {sample}")
        X, y = X[sample], y[sample]
    net = Network([3, 1], activation=activation, loss="mse")
    net.W[0][:, 0] = _DEMO_W
    net.b[0][:] = _DEMO_B
    which = "Rosenblatt's rule" if activation == "step" else "gradient descent"
    title = f"The article's perceptron ({activation}): one step of {which} on the built-in example"
    if activation == "sigmoid":
        trace = explain(net, X, y, learning_rate=learning_rate)
        trace.title = title
        return trace
    Xc, one = check_x(net, X)
    Y = net.check_y(np.reshape(y, (1, 1)) if one else y, Xc.shape[0])
    SGD(learning_rate=learning_rate)  # validates α > 0
    return _rosenblatt(net, Xc, Y, float(learning_rate), title)
