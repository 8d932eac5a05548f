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
from nnmath.tracing.inputs import Input, make_inputs
from nnmath.tracing.resolve import check_x, resolve
from nnmath.tracing.steps import (
    gradient_descent_steps,
    layer_summary,
    rosenblatt_steps,
    sample_rows,
    update_steps,
)
from nnmath.tracing.trace import (
    EXPLODING,
    MAX_SAMPLE,
    MIN_SAMPLE,
    SATURATION,
    VANISHING,
    LayerSummary,
    Step,
    Trace,
)

__all__ = [
    "EXPLODING",
    "MAX_SAMPLE",
    "MIN_SAMPLE",
    "SATURATION",
    "VANISHING",
    "Input",
    "LayerSummary",
    "Step",
    "Trace",
    "explain",
    "explain_demo",
    "sample_rows",
]


def explain(
    model,
    x,
    y,
    learning_rate: float | None = None,
    *,
    l2_penalty=None,
    l1_penalty=None,
    inputs=None,
    sample=None,
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
    inputs : sequence of str, or (names, columns, originals[, formulas]), optional
        The inputs in the user's terms: a name for each of x's n_features columns, or
        what :meth:`TabularPreprocessor.describe_inputs
        <nnmath.preprocessing.TabularPreprocessor.describe_inputs>` returns for x's rows
        (names, the table's column of each, each row's original cells, and how each
        input is computed from its cell), shown as
        ``age = 41 → x₁ = (age − 36) / 10 = 0.5``. Defaults to an estimator's
        ``feature_names_in_``.
    sample : (X, y), optional
        Rows, of shape (m, n_features), and their targets to judge the units over:
        dead ReLU units, saturated sigmoid/tanh units, and vanishing or exploding
        gradients. More than ``MAX_SAMPLE`` (1,000) rows are sampled down to it
        (seed 0); fewer than ``MIN_SAMPLE`` (30) are too few, and nothing is judged.
        Defaults to x and y themselves.

    Returns
    -------
    Trace
        Forward (z = Σᵢ wᵢxᵢ + b, ŷ = σ(z)), cost (L, C), backward (∂C/∂ŷ, ∂ŷ/∂z or
        the fused δ = ŷ − y of a canonical output/loss pair, ∂z/∂w, ∂z/∂b = 1, the
        chain-rule products ∂C/∂w and ∂C/∂b, each layer's δ from the next one's),
        then the update w ← w − α·∂C/∂w of every W and b; a step perceptron shows
        Rosenblatt's rule w ← w + α(y − ŷ)x instead. ``trace.summary`` gives each
        layer's gradient norms and, from the sample, its flags; ``trace.units`` says
        which rows they were judged over, or why they were not.

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
    >>> trace = explain(net, [41.0, 1.0, 0.0], 1.0, inputs=["age", "red", "blue"])
    >>> trace.inputs[0].text()
    'x₁ (age) = 41'
    """
    r = resolve(model, learning_rate, l2_penalty, l1_penalty)
    X, one = check_x(r.network, x)
    Y = r.targets(y, X.shape[0], one)
    shown = _inputs(model, X, inputs)
    judged = _sample(r, X, Y, sample)
    title = f"One training step of {_describe(model, r.network)}"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if r.rosenblatt:
            trace = _rosenblatt(r.network, X, Y, r.learning_rate, title)
        else:
            trace = _gradient_descent(
                r.network, X, Y, r.learning_rate, r.l2_penalty, r.l1_penalty, title, judged[:2]
            )
            trace.units = judged[2]
    trace.notes = r.notes + trace.notes
    trace.inputs = shown
    return trace


def _inputs(model, X: np.ndarray, inputs) -> list[Input]:
    """Name the inputs: from ``inputs``, else from an estimator's ``feature_names_in_``."""
    if inputs is None:
        names = getattr(model, "feature_names_in_", None)
        return [] if names is None else make_inputs(X, list(names))
    if isinstance(inputs, tuple) and len(inputs) in (3, 4) and not isinstance(inputs[0], str):
        names, columns, originals, *formulas = inputs
        return make_inputs(X, list(names), list(columns), originals, *formulas)
    if isinstance(inputs, str) or not all(isinstance(v, str) for v in inputs):
        raise TypeError(
            "inputs must be a list of names, one per input of x, or the (names, columns, "
            "originals, formulas) of TabularPreprocessor.describe_inputs; got "
            f"{type(inputs).__name__}"
        )
    return make_inputs(X, list(inputs))


def _sample(r, X: np.ndarray, Y: np.ndarray, sample):
    """Return the rows to judge the units over, their targets, and the note that says which.

    None, None and the reason when they are too few.
    """
    if sample is None:
        Xs, Ys = X, Y
        where = f"the step's {X.shape[0]:,} rows"
    else:
        if not (isinstance(sample, tuple) and len(sample) == 2):
            raise TypeError(
                "sample must be a pair (X, y) of rows and their targets; got "
                f"{type(sample).__name__}"
            )
        Xs, one = check_x(r.network, sample[0])
        ys = np.asarray(sample[1], dtype=object if _labels(sample[1]) else None)
        if one or ys.shape[:1] != (Xs.shape[0],):
            raise ValueError(
                f"sample must hold one target per row: X has {Xs.shape[0]} rows, y has "
                f"shape {ys.shape}"
            )
        rows = sample_rows(Xs.shape[0])
        where = f"the sample's {len(rows):,} rows"
        if len(rows) < Xs.shape[0]:
            where = f"{len(rows):,} rows sampled (seed 0) of the sample's {Xs.shape[0]:,}"
        Xs, Ys = Xs[rows], r.targets(ys[rows], len(rows), False)
    m = Xs.shape[0]
    if m < MIN_SAMPLE:
        hint = "; give more as sample=(X, y)" if sample is None else ""
        return (
            None,
            None,
            f"units not judged: {m:,} row{'s are' if m != 1 else ' is'} too few to say "
            "whether a unit is dead or saturated, or a gradient vanishing or exploding "
            f"(at least {MIN_SAMPLE} are needed{hint})",
        )
    return Xs, Ys, f"units judged over {where}"


def _labels(y) -> bool:
    arr = np.asarray(y)
    return arr.dtype.kind in "OUS"


def _describe(model, net: Network) -> str:
    if isinstance(model, Network):
        return repr(model)
    return f"{type(model).__name__} (network_ = {net!r})"


def _gradient_descent(
    net: Network, X, Y, alpha: float, l2: float, l1: float, title: str, sample=(None, None)
) -> Trace:
    """Record one pass and one gradient-descent update of a copy of ``net``.

    Gradient descent is the optimizer training uses; the model itself is left unchanged.
    ``sample`` is the rows and targets the units are judged over (None: not judged).
    """
    net = copy.deepcopy(net)
    Xs, Ys = sample
    judged = None
    if Xs is not None:
        judged = copy.deepcopy(net).backprop(Xs, Ys, alpha=l2, l1=l1, record=True)
    record = net.backprop(X, Y, alpha=l2, l1=l1, record=True)
    steps = gradient_descent_steps(net, record, l2)
    summary = [layer_summary(net, record, l, judged) for l in range(1, net.n_layers + 1)]
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
