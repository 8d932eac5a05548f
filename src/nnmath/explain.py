"""Show the work: every equation of one training step, evaluated on real numbers.

:func:`explain` walks one step of training for one sample (or a small batch) and
records each equation of the math with the numbers that go into it and the number
that comes out:

    forward      z = Σᵢ wᵢxᵢ + b          ŷ = σ(z)
    cost         L = (y − ŷ)²             C = (1/n) Σᵢ Lᵢ
    backward     δ = ∂C/∂z = ∂C/∂ŷ · ∂ŷ/∂z
                 ∂C/∂w = ∂C/∂ŷ · ∂ŷ/∂z · ∂z/∂w,    ∂C/∂b = ∂C/∂ŷ · ∂ŷ/∂z · 1
    update       w ← w − α·∂C/∂w

layer by layer from the output back for a deeper network, or Rosenblatt's rule
w ← w + α(y − ŷ)x for a step perceptron. Every number comes from the library's own
activation and loss objects, with the same operations backpropagation and the
optimizer use in training (a test holds the trace against
:meth:`Network.cost_and_gradients`); the model is left unchanged.

Example
-------
>>> from nnmath.explain import explain_demo
>>> trace = explain_demo()
>>> [step.name for step in trace][:3]
['weighted sum', 'activation (sigmoid)', 'loss']
>>> round(trace.cost, 4)   # C = (1/4)·Σ (y − σ(w·x + b))² on the built-in example
0.2032
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from nnmath.activations import Softmax
from nnmath.network import Network
from nnmath.optimizers import SGD
from nnmath.perceptron import Perceptron

__all__ = ["EXPLODING", "VANISHING", "LayerSummary", "Step", "Trace", "explain", "explain_demo"]

#: A layer whose gradient norm ‖(∂C/∂W, ∂C/∂b)‖ is below this is flagged as vanishing.
VANISHING = 1e-7
#: A layer whose gradient norm is above this is flagged as exploding.
EXPLODING = 1e3
_MAX_SHOWN = 12  # arrays with more numbers are summarized in text and markdown
_FIRST = 6  # entries shown of a summarized array

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_PHASES = {
    "forward": "Forward propagation",
    "cost": "Loss and cost",
    "backward": "Backpropagation (the chain rule, from the output back)",
    "update": "Gradient descent",
    "rosenblatt": "Rosenblatt's rule",
}


# ---------------------------------------------------------------------------- records
@dataclass(eq=False)
class Step:
    """One equation of a training step, with its numbers.

    Attributes
    ----------
    name : str
        What the step computes, e.g. "weighted sum".
    equation : str
        The symbolic equation, e.g. "z = Σᵢ wᵢxᵢ + b".
    substituted : dict of str to float or ndarray
        The values put into the equation, by symbol (e.g. {"w": …, "x": …, "b": …}).
    value : float or ndarray
        The result, the left-hand side ``symbol``; arrays are batch-first
        (n_samples, n_units), weights (n_in, n_out).
    symbol : str
        The name of the result, e.g. "z", "∂C/∂W₂".
    layer : int or None
        1-based layer the step belongs to (None for the cost).
    phase : str
        "forward", "cost", "backward", "update" or "rosenblatt".
    expanded : str or None
        The arithmetic written out with its numbers, for a single sample with few
        numbers (e.g. "0.2·1 + (-0.4)·0 + 0.1·1 + 0").
    """

    name: str
    equation: str
    substituted: dict[str, Any]
    value: Any
    symbol: str
    layer: int | None = None
    phase: str = ""
    expanded: str | None = None

    def to_dict(self) -> dict:
        """JSON-serializable: numbers and nested lists at full precision."""
        return {
            "name": self.name,
            "equation": self.equation,
            "substituted": {k: _jsonable(v) for k, v in self.substituted.items()},
            "value": _jsonable(self.value),
            "symbol": self.symbol,
            "layer": self.layer,
            "phase": self.phase,
            "expanded": self.expanded,
            "latex": _latex(self.equation),
        }

    def __repr__(self) -> str:
        return f"Step({self.name!r}: {self.equation} → {self.symbol} = {_text(self.value)})"


@dataclass(eq=False)
class LayerSummary:
    """The gradient health of one layer after the step.

    Attributes
    ----------
    layer : int
        1-based layer index (the output layer is the last).
    activation : str
    grad_W_norm, grad_b_norm : float
        Frobenius norms ‖∂C/∂W‖ and ‖∂C/∂b‖.
    grad_norm : float
        ‖(∂C/∂W, ∂C/∂b)‖, the norm the flags test.
    vanishing : bool
        ``grad_norm < VANISHING`` (1e-7).
    exploding : bool
        ``grad_norm > EXPLODING`` (1e3), or not finite.
    dead_units : list of int or None
        For a ReLU layer, the units whose activation is 0 for every sample of x (no
        gradient flows through them); None for other activations.
    """

    layer: int
    activation: str
    grad_W_norm: float
    grad_b_norm: float
    grad_norm: float
    vanishing: bool
    exploding: bool
    dead_units: list[int] | None

    @property
    def flags(self) -> list[str]:
        """The problems found, in words (empty when the layer looks healthy)."""
        out = []
        if self.vanishing:
            out.append(f"vanishing gradient (‖∂C/∂θ‖ < {VANISHING:g})")
        if self.exploding:
            out.append(f"exploding gradient (‖∂C/∂θ‖ > {EXPLODING:g})")
        if self.dead_units:
            units = ", ".join(map(str, self.dead_units))
            out.append(f"dead ReLU units: {units} (0 for every sample)")
        return out

    def to_dict(self) -> dict:
        """The summary as JSON-compatible data."""
        return {
            "layer": self.layer,
            "activation": self.activation,
            "grad_W_norm": self.grad_W_norm,
            "grad_b_norm": self.grad_b_norm,
            "grad_norm": self.grad_norm,
            "vanishing": self.vanishing,
            "exploding": self.exploding,
            "dead_units": self.dead_units,
            "flags": self.flags,
        }


class Trace(Sequence[Step]):
    """The steps of one training step, in the math's order, with renderings.

    A sequence of :class:`Step` (index it, iterate it, ``len`` it), plus what the step
    produced. ``str(trace)`` is aligned plain text, :meth:`to_markdown` GitHub markdown
    with LaTeX math, :meth:`to_dict` a JSON-serializable dict at full precision.

    Attributes
    ----------
    steps : list of Step
    title : str
    rule : {"gradient descent", "rosenblatt"}
    learning_rate : float
        α.
    l2_penalty : float
        λ of the L2 term (λ/2n) Σ‖W‖² in the cost (0: none).
    n_samples : int
    cost : float or None
        C before the update (None for Rosenblatt's rule, which uses no cost).
    gradients : list of ndarray or None
        [∂C/∂W₁, ∂C/∂b₁, …], aligned with ``Network.parameters()``; None for
        Rosenblatt's rule.
    parameters, new_parameters : list of ndarray
        [W₁, b₁, …] before and after the update (copies; the model is unchanged).
    summary : list of LayerSummary
        One per layer (empty for Rosenblatt's rule).
    notes : list of str
        What the trace does not show of the model's training (e.g. momentum).
    """

    def __init__(
        self,
        steps: list[Step],
        *,
        title: str,
        rule: str,
        learning_rate: float,
        n_samples: int,
        parameters: list[np.ndarray],
        new_parameters: list[np.ndarray],
        cost: float | None = None,
        gradients: list[np.ndarray] | None = None,
        summary: list[LayerSummary] | None = None,
        notes: list[str] | None = None,
        l2_penalty: float = 0.0,
    ):
        self.steps = steps
        self.title = title
        self.rule = rule
        self.learning_rate = learning_rate
        self.n_samples = n_samples
        self.parameters = parameters
        self.new_parameters = new_parameters
        self.cost = cost
        self.gradients = gradients
        self.summary = summary if summary is not None else []
        self.notes = notes if notes is not None else []
        self.l2_penalty = l2_penalty

    # ------------------------------------------------------------------ sequence
    def __getitem__(self, index):
        return self.steps[index]

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def find(self, symbol: str) -> Step:
        """The first step whose result is ``symbol`` (e.g. "ŷ", "∂C/∂W₂", "δ₁").

        Raises
        ------
        KeyError
            No step computes ``symbol``; the message lists those that exist.
        """
        for step in self.steps:
            if step.symbol == symbol:
                return step
        raise KeyError(
            f"no step computes {symbol!r}; the steps compute "
            f"{', '.join(dict.fromkeys(s.symbol for s in self.steps))}"
        )

    def __repr__(self) -> str:
        return f"Trace({self.title!r}, {len(self)} steps)"

    # ------------------------------------------------------------------ renderings
    def _header(self) -> list[str]:
        lines = [self.title]
        what = f"{self.n_samples} sample{'s' if self.n_samples != 1 else ''}"
        extra = f", λ = {_num(self.l2_penalty)} (L2)" if self.l2_penalty else ""
        lines.append(f"{self.rule}, α = {_num(self.learning_rate)}{extra}, on {what}")
        lines += [f"note: {n}" for n in self.notes]
        return lines

    def __str__(self) -> str:
        return self.to_text()

    def to_text(self) -> str:
        """Aligned plain text with the math's symbols (σ, ∂C/∂ŷ, α, ←).

        Numbers show 6 significant digits; arrays of more than a dozen numbers show
        their shape, norm, min, max and first entries (``to_dict`` has them all).
        """
        lines = self._header()
        width = min(max((len(s.name) for s in self.steps), default=0), 28)
        indent = " " * (4 + width + 2)
        phase = None
        for i, step in enumerate(self.steps, 1):
            if step.phase != phase:
                phase = step.phase
                heading = _PHASES.get(phase, phase)
                lines += ["", heading, "─" * len(heading)]
            if len(step.name) > width:  # a long name gets a line of its own
                lines += [f"{i:>2}. {step.name}", f"{indent}{step.equation}"]
            else:
                lines.append(f"{i:>2}. {step.name:<{width}}  {step.equation}")
            sym_width = max((len(k) for k in step.substituted), default=0)
            for sym, v in step.substituted.items():
                lines.append(f"{indent}  {sym:>{sym_width}} = {_text(v)}")
            result = _text(step.value)
            if step.expanded is not None:
                result = f"{step.expanded} = {result}"
            lines.append(f"{indent}→ {step.symbol} = {result}")
        if self.summary:
            lines += ["", "Gradient summary", "─" * 16]
            head = ("layer", "activation", "‖∂C/∂W‖", "‖∂C/∂b‖", "flags")
            rows = [
                (
                    str(s.layer),
                    s.activation,
                    f"{s.grad_W_norm:.3e}",
                    f"{s.grad_b_norm:.3e}",
                    "; ".join(s.flags) or "ok",
                )
                for s in self.summary
            ]
            widths = [max(len(r[j]) for r in [head, *rows]) for j in range(4)]
            for r in [head, *rows]:
                cells = [r[j].ljust(widths[j]) for j in range(4)]
                lines.append("  ".join([*cells, r[4]]).rstrip())
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """GitHub markdown with the equations in LaTeX math ($…$ and $$…$$)."""
        header = self._header()
        lines = [f"### {header[0]}", "", f"*{header[1]}*", ""]
        lines += [f"> note: {n}" for n in self.notes]
        phase = None
        for i, step in enumerate(self.steps, 1):
            if step.phase != phase:
                phase = step.phase
                lines += ["", f"#### {_PHASES.get(phase, phase)}", ""]
            lines.append(f"**{i}. {step.name}** ${_latex(step.equation)}$")
            lines.append("")
            parts = [f"{_latex(k)} = {_latex_value(v)}" for k, v in step.substituted.items()]
            result = _latex_value(step.value)
            if step.expanded is not None:
                result = f"{_latex(step.expanded)} = {result}"
            given = ",\\quad\n".join(parts)  # one operand a line: math ignores the breaks
            arrow = "\\quad\\Longrightarrow\\quad\n" if given else ""
            lines += ["$$", f"{given}{arrow}{_latex(step.symbol)} = {result}", "$$", ""]
        if self.summary:
            lines += ["#### Gradient summary", ""]
            lines.append("| layer | activation | ‖∂C/∂W‖ | ‖∂C/∂b‖ | flags |")
            lines.append("|---|---|---|---|---|")
            for s in self.summary:
                flags = "; ".join(s.flags) or "ok"
                lines.append(
                    f"| {s.layer} | {s.activation} | {s.grad_W_norm:.3e} | "
                    f"{s.grad_b_norm:.3e} | {flags} |"
                )
            lines.append("")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """A JSON-serializable dict: ``{"steps": [{"name", "equation", "substituted",
        "value", …}, …], "cost", "gradients", "summary", …}``, every value a number or
        nested lists at full precision (never summarized)."""
        return {
            "title": self.title,
            "rule": self.rule,
            "learning_rate": self.learning_rate,
            "l2_penalty": self.l2_penalty,
            "n_samples": self.n_samples,
            "cost": self.cost,
            "notes": list(self.notes),
            "steps": [s.to_dict() for s in self.steps],
            "gradients": None if self.gradients is None else [_jsonable(g) for g in self.gradients],
            "parameters": [_jsonable(p) for p in self.parameters],
            "new_parameters": [_jsonable(p) for p in self.new_parameters],
            "summary": [s.to_dict() for s in self.summary],
        }

    def render(self, format: str = "text") -> str:
        """The trace as ``"text"`` (``str(trace)``), ``"markdown"`` or ``"json"``."""
        if format == "text":
            return self.to_text()
        if format == "markdown":
            return self.to_markdown()
        if format == "json":
            return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        raise ValueError(f"format must be 'text', 'markdown' or 'json'; got {format!r}")


# ---------------------------------------------------------------------------- explain
def explain(model, x, y, learning_rate: float | None = None, *, l2_penalty=None) -> Trace:
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
    net, targets, alpha, l2, notes, rosenblatt = _resolve(model, learning_rate, l2_penalty)
    X, one = _check_x(net, x)
    Y = targets(y, X.shape[0], one)
    title = f"One training step of {_describe(model, net)}"
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if rosenblatt:
            trace = _rosenblatt(net, X, Y, alpha, title)
        else:
            trace = _gradient_descent(net, X, Y, alpha, l2, title)
    trace.notes = notes + trace.notes
    return trace


def _describe(model, net: Network) -> str:
    if isinstance(model, Network):
        return repr(model)
    return f"{type(model).__name__} (network_ = {net!r})"


def _resolve(model, learning_rate, l2_penalty):
    """(network, targets(y, n, one) → Y, α, λ, notes, uses Rosenblatt's rule)."""
    notes: list[str] = []
    binarizer = None
    if isinstance(model, Network):
        net, default_rate, default_l2 = model, 0.1, 0.0
    elif hasattr(model, "fit") and hasattr(model, "get_params"):
        check_is_fitted(model, "network_")
        net = model.network_
        if not isinstance(net, Network):
            raise TypeError(f"model.network_ must be an nnmath.Network; got {type(net).__name__}")
        if isinstance(model, Perceptron):
            default_rate, default_l2 = model.learning_rate, 0.0
            binarizer = LabelBinarizer().fit(model.classes_)  # as Perceptron.fit encodes y
        else:
            default_rate = getattr(model, "learning_rate_init", 0.1)
            default_l2 = getattr(model, "alpha", 0.0)
            binarizer = getattr(model, "_label_binarizer", None)
            solver = getattr(model, "solver", "gd")
            if solver in ("adam", "lbfgs"):
                notes.append(
                    f"the model trains with solver={solver!r}; shown is the plain "
                    "gradient-descent update w ← w − α·∂C/∂w of the same gradient"
                )
            elif solver == "sgd" and getattr(model, "momentum", 0):
                notes.append(
                    f"the model's SGD uses momentum={model.momentum}; shown is the plain "
                    "update w ← w − α·∂C/∂w (the first step without velocity)"
                )
    else:
        raise TypeError(
            "model must be an nnmath Perceptron, Network, MLPClassifier or MLPRegressor; "
            f"got {type(model).__name__}"
        )
    alpha = default_rate if learning_rate is None else learning_rate
    SGD(learning_rate=alpha)  # validates α > 0, with the optimizer's own message
    alpha = float(alpha)
    l2 = default_l2 if l2_penalty is None else l2_penalty
    if isinstance(l2, bool) or not isinstance(l2, (int, float, np.integer, np.floating)):
        raise ValueError(f"l2_penalty must be a number >= 0; got {l2!r}")
    if not (l2 >= 0 and math.isfinite(l2)):
        raise ValueError(f"l2_penalty must be a finite number >= 0; got {l2!r}")
    if any(net.dropout):
        notes.append("dropout is not applied: the trace is the deterministic step")
    rosenblatt = isinstance(model, Perceptron) and net.activations[0].name == "step"

    def targets(y, n: int, one: bool) -> np.ndarray:
        if binarizer is None or binarizer.y_type_ == "multilabel-indicator":
            Y = np.asarray(y, dtype=net.dtype) if _numeric(y) else np.asarray(y)
            if one:
                Y = Y.reshape(1, -1)
            return net._check_y(Y, n, "y")
        labels = np.asarray(y)
        labels = labels.reshape(1) if one and labels.ndim == 0 else labels
        if labels.ndim != 1:
            raise ValueError(
                f"y must hold one class label per sample, shape ({n},); got shape {labels.shape}"
            )
        unknown = [v for v in labels.tolist() if v not in set(binarizer.classes_.tolist())]
        if unknown:
            raise ValueError(
                f"y has labels {unknown} the model was not fitted on; its classes_ are "
                f"{binarizer.classes_.tolist()}"
            )
        return net._check_y(binarizer.transform(labels).astype(net.dtype), n, "y")

    return net, targets, alpha, float(l2), notes, rosenblatt


def _numeric(y) -> bool:
    try:
        np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        return False
    return True


def _check_x(net: Network, x) -> tuple[np.ndarray, bool]:
    if sp.issparse(x):
        x = x.toarray()
    arr = np.asarray(x)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"x must be one sample of shape (n_features,) or a batch of shape "
            f"(n_samples, n_features); got {arr.ndim}-D shape {arr.shape}"
        )
    one = arr.ndim == 1
    X = net._check_X(arr.reshape(1, -1) if one else arr, "x")
    return X.copy(), one  # the trace keeps views of X: never of the caller's array


# ---------------------------------------------------------------------------- the math
class _Names:
    """Symbols of one network: the article's w, x, z, ŷ for a single neuron, else
    numbered layers W₁, a₁, z₁, δ₁ (a₀ = x, a_L = ŷ)."""

    def __init__(self, net: Network):
        self.L = net.n_layers
        self.single = self.L == 1 and net.layer_sizes[-1] == 1

    def _n(self, stem: str, l: int) -> str:
        return stem if self.single else f"{stem}{str(l).translate(_SUBSCRIPT)}"

    def W(self, l):
        return "w" if self.single else self._n("W", l)

    def b(self, l):
        return self._n("b", l)

    def z(self, l):
        return self._n("z", l)

    def a(self, l):
        return "x" if l == 0 else "ŷ" if l == self.L else self._n("a", l)

    def delta(self, l):
        return self._n("δ", l)

    def layer(self, name: str, l: int) -> str:
        return name if self.single else f"{name}, layer {l}"


def _gradient_descent(net: Network, X, Y, alpha: float, l2: float, title: str) -> Trace:
    n, L, loss = X.shape[0], net.n_layers, net.loss
    N = _Names(net)
    steps: list[Step] = []

    def add(name, equation, substituted, value, symbol, layer, phase, expanded=None):
        steps.append(Step(name, equation, substituted, value, symbol, layer, phase, expanded))

    # Forward propagation, as Network._cost_and_gradients runs it: z = a W + b, a = σ(z).
    zs, outputs = [None], [X]
    for l in range(1, L + 1):
        W, b, act, a_prev = net.W[l - 1], net.b[l - 1], net.activations[l - 1], outputs[-1]
        z = np.matmul(a_prev, W)  # z = a W
        z += b  # + b
        a = act(z)  # a = σ(z)
        zs.append(z)
        outputs.append(a)
        if N.single:
            eq = "z = Σᵢ wᵢxᵢ + b"
            expanded = _expand_dot(W[:, 0], a_prev[0], b[0]) if n == 1 else None
        else:
            eq, expanded = f"{N.z(l)} = {N.a(l - 1)}·{N.W(l)} + {N.b(l)}", None
        subs = {N.W(l): W.copy(), N.a(l - 1): a_prev.copy(), N.b(l): b.copy()}
        add(N.layer("weighted sum", l), eq, subs, z, N.z(l), l, "forward", expanded)
        add(
            N.layer(f"activation ({act.name})", l),
            f"{N.a(l)} = σ({N.z(l)});  {act.formula}",
            {N.z(l): z},
            a,
            N.a(l),
            l,
            "forward",
            f"σ({_num(z.item())})" if z.size == 1 else None,
        )
    y_hat = outputs[-1]

    # Loss of each sample and the cost C = (1/n) Σᵢ Lᵢ (+ the L2 term training adds).
    per_sample = loss.per_sample(y_hat, Y)
    expanded = None
    if loss.name == "mse" and y_hat.size == 1:
        expanded = f"({_num(Y.item())} − {_num(y_hat.item())})²"
    add("loss", loss.formula, {"ŷ": y_hat, "y": Y}, per_sample, "L", None, "cost", expanded)
    cost = loss(y_hat, Y)
    subs: dict[str, Any] = {"L": per_sample, "n": n}
    eq = "C = (1/n) Σᵢ Lᵢ"
    expanded = f"({' + '.join(_num(v) for v in per_sample)})/{n}" if n <= _MAX_SHOWN else None
    if l2:
        cost += net.l2_penalty(l2, float(n))
        eq += " + (λ/2n) Σₗ ‖Wₗ‖²"
        subs["λ"] = l2
        subs.update({N.W(l): net.W[l - 1].copy() for l in range(1, L + 1)})
        expanded = None
    add("cost", eq, subs, cost, "C", None, "cost", expanded)

    # The output error δ_L = ∂C/∂z_L = ∂C/∂ŷ · ∂ŷ/∂z_L.
    output, zL, dL = net.activations[-1], N.z(L), N.delta(L)
    if loss.canonical_activation == output.name:
        c = loss._canonical_factor(Y.shape[1])
        delta = loss.canonical_delta(y_hat, Y)  # c·(ŷ − y)/n, as backpropagation fuses it
        add(
            "output error δ (fused)",
            f"{dL} = ∂C/∂{zL} = ∂C/∂ŷ · ∂ŷ/∂{zL} = {'' if c == 1 else f'{c:g}·'}(ŷ − y)/n  "
            f"({output.name} output with {loss.name} loss)",
            {"ŷ": y_hat, "y": Y, "n": n},
            delta,
            dL,
            L,
            "backward",
        )
    else:
        dC_dyhat = loss.gradient(y_hat, Y)
        expanded = None
        if loss.name == "mse" and y_hat.size == 1:
            expanded = f"2·({_num(y_hat.item())} − {_num(Y.item())})/1"
        add(
            "∂C/∂ŷ",
            f"∂C/∂ŷ = (1/n)·∂L/∂ŷ;  {loss.gradient_formula}",
            {"ŷ": y_hat, "y": Y, "n": n},
            dC_dyhat,
            "∂C/∂ŷ",
            L,
            "backward",
            expanded,
        )
        dyhat_dz = _da_dz(output, y_hat, zs[L])
        add(
            "∂ŷ/∂z",
            f"∂ŷ/∂{zL} = σ'({zL});  {output.derivative_formula}",
            {"ŷ": y_hat},
            dyhat_dz,
            f"∂ŷ/∂{zL}",
            L,
            "backward",
            _expand_sigmoid_derivative(output, y_hat),
        )
        delta = output.backward(dC_dyhat, y_hat)  # ∂C/∂ŷ · ∂ŷ/∂z, as training computes it
        jacobian = isinstance(output, Softmax)
        add(
            "chain rule: output error δ",
            f"{dL} = ∂C/∂{zL} = ∂C/∂ŷ {'·' if jacobian else '⊙'} ∂ŷ/∂{zL}"
            + (" (softmax Jacobian)" if jacobian else ""),
            {"∂C/∂ŷ": dC_dyhat, f"∂ŷ/∂{zL}": dyhat_dz},
            delta,
            dL,
            L,
            "backward",
            f"{_p(dC_dyhat.item())}·{_p(dyhat_dz.item())}" if delta.size == 1 else None,
        )

    # Each layer from the output back: ∂C/∂W = a_{l−1}ᵀ δ, ∂C/∂b = Σᵢ δ, δ_{l−1} from δ_l.
    grads: list[np.ndarray] = [np.empty(0)] * (2 * L)
    for l in range(L, 0, -1):
        W, a_prev = net.W[l - 1], outputs[l - 1]
        Wn, bn, zn, dn, an = N.W(l), N.b(l), N.z(l), N.delta(l), N.a(l - 1)
        w = "w" if N.single else "W"
        add(
            N.layer(f"∂z/∂{w}", l),
            f"∂{zn}/∂{Wn} = {an}",
            {an: a_prev},
            a_prev,
            f"∂{zn}/∂{Wn}",
            l,
            "backward",
        )
        add(N.layer("∂z/∂b", l), f"∂{zn}/∂{bn} = 1", {}, 1.0, f"∂{zn}/∂{bn}", l, "backward")
        dW = np.matmul(a_prev.T, delta)  # ∂C/∂W = ∂z/∂Wᵀ · δ = a_{l−1}ᵀ δ
        subs = {an: a_prev, dn: delta}
        if N.single:
            eq = "∂C/∂w = ∂C/∂ŷ · ∂ŷ/∂z · ∂z/∂w = Σᵢ δᵢxᵢ"
        else:
            eq = f"∂C/∂{Wn} = ∂{zn}/∂{Wn}ᵀ · {dn} = {an}ᵀ·{dn}"
        expanded = f"{_p(delta.item())}·{_text(a_prev)}" if delta.size == 1 else None
        if l2:
            dW += net.dtype.type(l2 / float(n)) * W  # ∂/∂W of the L2 term, as training adds it
            eq += f" + (λ/n)·{Wn}"
            subs.update({"λ": l2, "n": n, Wn: W.copy()})
            expanded = None
        add(N.layer(f"∂C/∂{w}", l), eq, subs, dW, f"∂C/∂{Wn}", l, "backward", expanded)
        db = np.sum(delta, axis=0)  # ∂C/∂b = Σᵢ δ · ∂z/∂b, with ∂z/∂b = 1
        eq = (
            "∂C/∂b = ∂C/∂ŷ · ∂ŷ/∂z · ∂z/∂b = Σᵢ δᵢ·1"
            if N.single
            else f"∂C/∂{bn} = Σᵢ {dn} · ∂{zn}/∂{bn} = Σᵢ {dn}"
        )
        add(N.layer("∂C/∂b", l), eq, {dn: delta}, db, f"∂C/∂{bn}", l, "backward")
        grads[2 * l - 2], grads[2 * l - 1] = dW, db
        if l == 1:
            break
        act, a = net.activations[l - 2], outputs[l - 1]
        ap, zp, dp = N.a(l - 1), N.z(l - 1), N.delta(l - 1)
        dC_da = np.matmul(delta, W.T)  # ∂C/∂a_{l−1} = δ_l · ∂z_l/∂a_{l−1} = δ_l W_lᵀ
        add(
            N.layer("∂C/∂a", l - 1),
            f"∂C/∂{ap} = {dn} · ∂{zn}/∂{ap} = {dn}·{Wn}ᵀ",
            {dn: delta, Wn: W.copy()},
            dC_da,
            f"∂C/∂{ap}",
            l - 1,
            "backward",
        )
        da_dz = _da_dz(act, a, zs[l - 1])
        add(
            N.layer(f"∂a/∂z ({act.name})", l - 1),
            f"∂{ap}/∂{zp} = σ'({zp});  {act.derivative_formula}",
            {ap: a},
            da_dz,
            f"∂{ap}/∂{zp}",
            l - 1,
            "backward",
        )
        delta = act.backward(dC_da, a)  # δ_{l−1} = ∂C/∂a_{l−1} · ∂a_{l−1}/∂z_{l−1}
        op = "·" if isinstance(act, Softmax) else "⊙"
        add(
            N.layer("chain rule: δ", l - 1),
            f"{dp} = ∂C/∂{zp} = ∂C/∂{ap} {op} ∂{ap}/∂{zp}",
            {f"∂C/∂{ap}": dC_da, f"∂{ap}/∂{zp}": da_dz},
            delta,
            dp,
            l - 1,
            "backward",
        )

    # Gradient descent θ ← θ − α·∂C/∂θ by the optimizer training uses, on a copy of θ.
    grad_flat = np.empty_like(net.theta)
    for view, g in zip(net._views(grad_flat), grads, strict=True):
        view[...] = g
    theta = net.theta.copy()
    SGD(learning_rate=alpha).step([theta], [grad_flat])
    new_params = net._views(theta)
    old_params = [p.copy() for p in net.parameters()]
    for k, (old, g, new) in enumerate(zip(old_params, grads, new_params, strict=True)):
        l = k // 2 + 1
        sym = N.W(l) if k % 2 == 0 else N.b(l)
        expanded = None
        if old.size <= 4:
            parts = [
                f"{_num(o)} − {_num(alpha)}·{_p(d)}" for o, d in zip(old.flat, g.flat, strict=True)
            ]
            expanded = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        add(
            N.layer(f"update {sym}", l),
            f"{sym} ← {sym} − α·∂C/∂{sym}",
            {sym: old, "α": alpha, f"∂C/∂{sym}": g},
            new,
            sym,
            l,
            "update",
            expanded,
        )

    return Trace(
        steps,
        title=title,
        rule="gradient descent",
        learning_rate=alpha,
        n_samples=n,
        parameters=old_params,
        new_parameters=new_params,
        cost=float(cost),
        gradients=grads,
        summary=[_layer_summary(net, l, grads, outputs[l]) for l in range(1, L + 1)],
        l2_penalty=l2,
    )


def _da_dz(act, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """∂a/∂z: elementwise from the output a, as backpropagation computes it; for
    softmax, the Jacobian ∂σₖ/∂zⱼ of each sample, shape (n, k, k)."""
    if isinstance(act, Softmax):
        return act.derivative(z)
    return act._da_dz_from_output(a)


def _layer_summary(net: Network, l: int, grads, a: np.ndarray) -> LayerSummary:
    dW, db = grads[2 * (l - 1)], grads[2 * (l - 1) + 1]
    nW = float(np.linalg.norm(dW.astype(np.float64).ravel()))
    nb = float(np.linalg.norm(db.astype(np.float64).ravel()))
    norm = math.hypot(nW, nb)
    act = net.activations[l - 1]
    dead = None
    if act.name == "relu":
        dead = np.flatnonzero((a == 0).all(axis=0)).tolist()  # σ(z) = 0 for every sample
    return LayerSummary(
        layer=l,
        activation=act.name,
        grad_W_norm=nW,
        grad_b_norm=nb,
        grad_norm=norm,
        vanishing=norm < VANISHING,
        exploding=not norm <= EXPLODING,
        dead_units=dead,
    )


def _rosenblatt(net: Network, X, Y, alpha: float, title: str) -> Trace:
    """Rosenblatt's rule, one sample at a time, as Perceptron._fit_rosenblatt runs it."""
    W, b = net.W[0].copy(), net.b[0].copy()
    old = [W.copy(), b.copy()]
    step_fn = net.activations[0]
    a = X.dtype.type(alpha)
    vec = W.shape[1] == 1  # one neuron: show w as the article's vector

    def w_of(W):
        return W[:, 0].copy() if vec else W.copy()

    w = "w" if vec else "W"
    steps: list[Step] = []

    def add(tag, name, equation, substituted, value, symbol, expanded=None):
        steps.append(
            Step(name + tag, equation, substituted, value, symbol, 1, "rosenblatt", expanded)
        )

    n = X.shape[0]
    for i, (x, y) in enumerate(zip(X, Y, strict=True), 1):
        tag = f" (sample {i})" if n > 1 else ""

        z = x @ W + b
        y_hat = step_fn(z)  # ŷ = step(w·x + b)
        error = y - y_hat  # (y − ŷ) ∈ {−1, 0, 1}
        add(
            tag,
            "weighted sum",
            "z = Σᵢ wᵢxᵢ + b",
            {w: w_of(W), "x": x, "b": b.copy()},
            z,
            "z",
            _expand_dot(W[:, 0], x, b[0]) if vec else None,
        )
        add(
            tag,
            "activation (step)",
            f"ŷ = σ(z);  {step_fn.formula}",
            {"z": z},
            y_hat,
            "ŷ",
            f"step({_num(z.item())})" if z.size == 1 else None,
        )
        add(
            tag,
            "error",
            "e = y − ŷ",
            {"y": y, "ŷ": y_hat},
            error,
            "e",
            f"{_num(y.item())} − {_num(y_hat.item())}" if y.size == 1 else None,
        )
        old_w, old_b = w_of(W), b.copy()
        if error.any():  # a mistake: move the boundary towards the sample
            W += a * np.outer(x, error)  # w ← w + α(y − ŷ)x
            b += a * error  # b ← b + α(y − ŷ)
        e = _p(error.item()) if error.size == 1 else "e"
        add(
            tag,
            f"update {w}",
            f"{w} ← {w} + α(y − ŷ)x",
            {w: old_w, "α": alpha, "y − ŷ": error, "x": x},
            w_of(W),
            w,
            f"{_text(old_w)} + {_num(alpha)}·{e}·{_text(x)}" if vec and x.size <= 4 else None,
        )
        add(
            tag,
            "update b",
            "b ← b + α(y − ŷ)",
            {"b": old_b, "α": alpha, "y − ŷ": error},
            b.copy(),
            "b",
            f"{_text(old_b)} + {_num(alpha)}·{e}" if error.size == 1 else None,
        )
    return Trace(
        steps,
        title=title,
        rule="rosenblatt",
        learning_rate=alpha,
        n_samples=n,
        parameters=old,
        new_parameters=[W, b],
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
    """The article's perceptron, one step on a built-in example, shown in full.

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
    Xc, one = _check_x(net, X)
    Y = net._check_y(np.reshape(y, (1, 1)) if one else y, Xc.shape[0])
    SGD(learning_rate=learning_rate)  # validates α > 0
    return _rosenblatt(net, Xc, Y, float(learning_rate), title)


# ---------------------------------------------------------------------------- formatting
def _jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _num(v) -> str:
    v = float(v)
    if v == 0:
        return "0"  # never "-0"
    return f"{v:.6g}"


def _p(v) -> str:
    s = _num(v)
    return f"({s})" if s.startswith("-") else s


def _row(values) -> str:
    return "[" + ", ".join(_num(v) for v in values) + "]"


def _text(v) -> str:
    """A value for plain text: numbers to 6 digits, big arrays summarized."""
    if not isinstance(v, np.ndarray):
        return _num(v) if isinstance(v, (float, np.floating)) else str(v)
    if v.size > _MAX_SHOWN:
        return _summary(v)
    if v.size == 1:
        return _num(v.item())
    if v.ndim == 1:
        return _row(v)
    if v.ndim == 2 and v.shape[1] == 1:
        return _row(v[:, 0]) + "ᵀ"
    if v.ndim == 2 and v.shape[0] == 1:
        return _row(v[0])
    return "[" + ", ".join(_text(r) if r.ndim > 1 else _row(r) for r in v) + "]"


def _stats(v: np.ndarray) -> tuple[str, str, str, str, str]:
    flat = v.astype(np.float64).ravel()
    first = ", ".join(_num(x) for x in flat[:_FIRST])
    shape = "(" + ", ".join(map(str, v.shape)) + ")"
    norm = _num(np.linalg.norm(flat))
    return shape, norm, _num(flat.min()), _num(flat.max()), first


def _summary(v: np.ndarray) -> str:
    shape, norm, lo, hi, first = _stats(v)
    return f"{shape} array: ‖·‖ = {norm}, min {lo}, max {hi}, first [{first}, …]"


def _latex_num(v) -> str:
    s = _num(v)
    if s in ("nan", "inf", "-inf"):
        return {"nan": r"\text{NaN}", "inf": r"\infty", "-inf": r"-\infty"}[s]
    if "e" in s:
        mantissa, exp = s.split("e")
        return rf"{mantissa}\times 10^{{{int(exp)}}}"
    return s


def _bmatrix(rows) -> str:
    body = r" \\ ".join(" & ".join(_latex_num(x) for x in r) for r in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def _latex_value(v) -> str:
    if not isinstance(v, np.ndarray):
        return _latex_num(v) if isinstance(v, (int, float, np.number)) else rf"\text{{{v}}}"
    if v.size > _MAX_SHOWN:
        shape, norm, lo, hi, first = _stats(v)
        first = first.replace("e", r"\mathrm{e}")
        return (
            rf"\text{{{shape} array: }}\|\cdot\| = {_latex_num(float(norm))},\ "
            rf"\min = {_latex_num(float(lo))},\ \max = {_latex_num(float(hi))},\ "
            rf"\text{{first }}[{first}, \ldots]"
        )
    if v.size == 1:
        return _latex_num(v.item())
    if v.ndim == 1:
        return _bmatrix([v])
    if v.ndim == 2:
        return _bmatrix(v)
    return r"\left[" + ",\\ ".join(_latex_value(r) for r in v) + r"\right]"


_FRACTION = re.compile(r"∂([^\s/∂=·(),;\[\]⊙]+)/∂([^\s/∂=·(),;\[\]⊙ᵀ]+)")
_SUBSCRIPTS = re.compile(r"[₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₗₙ]+")
_SUB_PLAIN = str.maketrans("₀₁₂₃₄₅₆₇₈₉ᵢⱼₖₗₙ", "0123456789ijkln")
_WORDS = re.compile(r"\b(log|tanh|max|sign|clip|step|if|else|where)\b")
_TOKENS = [
    ("Σᵢ", r"\sum_i "),
    ("Σⱼ", r"\sum_j "),
    ("Σₖ", r"\sum_k "),
    ("Σₗ", r"\sum_l "),
    ("Σ", r"\sum "),
    ("ŷ", r"\hat{y}"),
    ("σ", r"\sigma "),
    ("α", r"\alpha "),
    ("λ", r"\lambda "),
    ("δ", r"\delta "),
    ("←", r"\leftarrow "),
    ("→", r"\rightarrow "),
    ("⊙", r"\odot "),
    ("·", r"\cdot "),
    ("−", "-"),
    ("≥", r"\geq "),
    ("≤", r"\leq "),
    ("²", "^2"),
    ("ᵀ", r"^\top "),
    ("‖", r"\|"),
    ("½", r"\tfrac{1}{2}"),
    (";", r";\quad "),
]


def _latex_symbols(s: str) -> str:
    s = re.sub(r"\^\(([^()]*)\)", r"^{\1}", s)  # e^(−z) → e^{−z}
    s = s.replace("²", "^2")  # before the words: "tanh²" is one word to the regex
    s = _WORDS.sub(
        lambda m: (
            rf"\text{{ {m.group(1)} }}"
            if m.group(1) in ("if", "else", "where")
            else rf"\operatorname{{{m.group(1)}}}"
            if m.group(1) in ("sign", "clip", "step")
            else rf"\{m.group(1)} "
        ),
        s,
    )
    for token, latex in _TOKENS:
        s = s.replace(token, latex)
    return _SUBSCRIPTS.sub(lambda m: "_{" + m.group(0).translate(_SUB_PLAIN) + "}", s)


def _latex(s: str) -> str:
    """The LaTeX of an equation written in the math's Unicode symbols."""
    out, last = [], 0
    for m in _FRACTION.finditer(s):
        out.append(_latex_symbols(s[last : m.start()]))
        num, den = _latex_symbols(m.group(1)), _latex_symbols(m.group(2))
        out.append(rf"\frac{{\partial {num}}}{{\partial {den}}}")
        last = m.end()
    out.append(_latex_symbols(s[last:]))
    return "".join(out).strip()


def _expand_dot(w: np.ndarray, x: np.ndarray, b) -> str | None:
    if w.size > _MAX_SHOWN:
        return None
    terms = [f"{_p(wi)}·{_p(xi)}" for wi, xi in zip(w, x, strict=True)]
    return " + ".join([*terms, _p(b)])


def _expand_sigmoid_derivative(act, a: np.ndarray) -> str | None:
    if act.name != "sigmoid" or a.size != 1:
        return None
    v = _num(a.item())
    return f"{v}·(1 − {v})"
