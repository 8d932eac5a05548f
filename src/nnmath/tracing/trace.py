"""The records of a trace and their renderings as text, markdown and JSON.

:class:`Step` is one equation with its numbers, :class:`LayerSummary` a layer's gradient
health and :class:`Trace` all of one training step.

Example
-------
>>> step = Step("weighted sum", "z = Σᵢ wᵢxᵢ + b", {"b": 0.5}, 1.5, "z")
>>> step
Step('weighted sum': z = Σᵢ wᵢxᵢ + b → z = 1.5)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnmath.tracing import render
from nnmath.tracing.inputs import Input

__all__ = [
    "EXPLODING",
    "MAX_SAMPLE",
    "MIN_SAMPLE",
    "PHASES",
    "SATURATION",
    "VANISHING",
    "LayerSummary",
    "Step",
    "Trace",
]

#: A layer whose gradient norm ‖(∂C/∂W, ∂C/∂b)‖ over the sample is below this is flagged as
#: vanishing.
VANISHING = 1e-7
#: A layer whose gradient norm over the sample is above this is flagged as exploding.
EXPLODING = 1e3
#: A sigmoid or tanh unit within this fraction of its range's ends for every row of the
#: sample is flagged as saturated (σ'(z) is near 0 there, whatever the row).
SATURATION = 0.01
#: The fewest rows the units are judged from: below it, whether a unit is dead or
#: saturated, or a gradient vanishing or exploding, is not said.
MIN_SAMPLE = 30
#: The most rows the units are judged from; more are sampled down to it (seed 0).
MAX_SAMPLE = 1000

#: The heading of each phase of a step, in the math's order.
PHASES = {
    "forward": "Forward propagation",
    "cost": "Loss and cost",
    "backward": "Backpropagation (the chain rule, from the output back)",
    "update": "Gradient descent",
    "rosenblatt": "Rosenblatt's rule",
}


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
            "substituted": {k: render.jsonable(v) for k, v in self.substituted.items()},
            "value": render.jsonable(self.value),
            "symbol": self.symbol,
            "layer": self.layer,
            "phase": self.phase,
            "expanded": self.expanded,
            "latex": render.latex(self.equation),
        }

    def __repr__(self) -> str:
        """Show the step's name, equation and value."""
        return f"Step({self.name!r}: {self.equation} → {self.symbol} = {render.text(self.value)})"


@dataclass(eq=False)
class LayerSummary:
    """One layer after the step: its gradient norms, and its units' health.

    The norms are the step's. The judgements (vanishing, exploding, dead, saturated)
    come from a sample of rows (``n_rows`` of them) and are made only when it holds at
    least :data:`MIN_SAMPLE` rows: one row cannot show that a unit is 0 for every input.

    Attributes
    ----------
    layer : int
        1-based layer index (the output layer is the last).
    activation : str
    grad_W_norm, grad_b_norm : float
        Frobenius norms ‖∂C/∂W‖ and ‖∂C/∂b‖ of the step.
    grad_norm : float
        ‖(∂C/∂W, ∂C/∂b)‖ of the step.
    vanishing : bool
        The sample's gradient norm is below ``VANISHING`` (1e-7).
    exploding : bool
        The sample's gradient norm is above ``EXPLODING`` (1e3), or not finite.
    dead_units : list of int or None
        For a ReLU layer, the units (from 0) whose activation is 0 for every row of the
        sample (no gradient flows through them); None for other activations, or when
        not judged.
    n_units : int
        The layer's units.
    saturated_units : list of int or None
        For a hidden sigmoid or tanh layer, the units within ``SATURATION`` of the
        activation's bounds for every row of the sample; None otherwise.
    n_rows : int
        The rows the judgements come from (0: not judged).
    sample_grad_norm : float or None
        ‖(∂C/∂W, ∂C/∂b)‖ of the sample's cost, which the gradient flags test.
    """

    layer: int
    activation: str
    grad_W_norm: float
    grad_b_norm: float
    grad_norm: float
    vanishing: bool
    exploding: bool
    dead_units: list[int] | None
    n_units: int = 0
    saturated_units: list[int] | None = None
    n_rows: int = 0
    sample_grad_norm: float | None = None

    @property
    def judged(self) -> bool:
        """Whether the units were judged (from at least ``MIN_SAMPLE`` rows)."""
        return self.n_rows >= MIN_SAMPLE

    @property
    def flags(self) -> list[str]:
        """The problems found, in words (empty when the layer looks healthy or is not judged)."""
        out = []
        rows = f"{self.n_rows:,} rows"
        if self.vanishing:
            out.append(f"vanishing gradient (‖∂C/∂θ‖ < {VANISHING:g} over the {rows})")
        if self.exploding:
            out.append(f"exploding gradient (‖∂C/∂θ‖ > {EXPLODING:g} over the {rows})")
        if self.dead_units:
            out.append(
                f"dead ReLU units: {len(self.dead_units)} of {self.n_units} "
                f"(0 for all {rows}): {_units(self.dead_units)}"
            )
        if self.saturated_units:
            out.append(
                f"saturated {self.activation} units: {len(self.saturated_units)} of "
                f"{self.n_units} (within {SATURATION:.0%} of its bounds for all {rows}): "
                f"{_units(self.saturated_units)}"
            )
        return out

    def to_dict(self) -> dict:
        """Return the summary as JSON-compatible data."""
        return {
            "layer": self.layer,
            "activation": self.activation,
            "grad_W_norm": self.grad_W_norm,
            "grad_b_norm": self.grad_b_norm,
            "grad_norm": self.grad_norm,
            "n_units": self.n_units,
            "n_rows": self.n_rows,
            "judged": self.judged,
            "sample_grad_norm": self.sample_grad_norm,
            "vanishing": self.vanishing,
            "exploding": self.exploding,
            "dead_units": self.dead_units,
            "saturated_units": self.saturated_units,
            "flags": self.flags,
        }


def _units(units: list[int]) -> str:
    """Name units by index, the first dozen of them."""
    shown = ", ".join(map(str, units[:12]))
    return f"unit{'s' * (len(units) > 1)} {shown}{', …' if len(units) > 12 else ''}"


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
    l1_penalty : float
        λ₁ of the L1 term (λ₁/n) Σ|W| in the cost (0: none).
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
    inputs : list of Input
        The network's inputs named in the user's terms, each with the value it was made
        from (``age = 41 → x₁ = 0.52``); empty when no names were given.
    units : str
        Which rows the summary's judgements of the units come from, or why they were
        not judged.
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
        l1_penalty: float = 0.0,
        inputs: list[Input] | None = None,
        units: str = "",
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
        self.l1_penalty = l1_penalty
        self.inputs = inputs if inputs is not None else []
        self.units = units

    # ------------------------------------------------------------------ sequence
    def __getitem__(self, index):
        """Return the step (or steps, for a slice) at ``index``."""
        return self.steps[index]

    def __len__(self) -> int:
        """Return the number of steps."""
        return len(self.steps)

    def __iter__(self) -> Iterator[Step]:
        """Iterate over the steps in order."""
        return iter(self.steps)

    def find(self, symbol: str) -> Step:
        """Return the first step whose result is ``symbol`` (e.g. "ŷ", "∂C/∂W₂", "δ₁").

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
        """Show the title and the number of steps."""
        return f"Trace({self.title!r}, {len(self)} steps)"

    # ------------------------------------------------------------------ renderings
    def _header(self) -> list[str]:
        lines = [self.title]
        what = f"{self.n_samples} sample{'s' if self.n_samples != 1 else ''}"
        extra = f", λ = {render.number(self.l2_penalty)} (L2)" if self.l2_penalty else ""
        if self.l1_penalty:
            extra += f", λ₁ = {render.number(self.l1_penalty)} (L1)"
        lines.append(f"{self.rule}, α = {render.number(self.learning_rate)}{extra}, on {what}")
        lines += [f"note: {n}" for n in self.notes]
        return lines

    def __str__(self) -> str:
        """Return the trace as aligned plain text (:meth:`to_text`)."""
        return self.to_text()

    def to_text(self) -> str:
        """Aligned plain text with the math's symbols (σ, ∂C/∂ŷ, α, ←).

        Numbers show 6 significant digits; arrays of more than a dozen numbers show
        their shape, norm, min, max and first entries (``to_dict`` has them all).
        """
        lines = self._header()
        if self.inputs:
            lines += ["", "Inputs", "──────"]
            lines += [f"  {i.text()}" for i in self.inputs]
        width = min(max((len(s.name) for s in self.steps), default=0), 28)
        indent = " " * (4 + width + 2)
        phase = None
        for i, step in enumerate(self.steps, 1):
            if step.phase != phase:
                phase = step.phase
                heading = PHASES.get(phase, phase)
                lines += ["", heading, "─" * len(heading)]
            if len(step.name) > width:  # a long name gets a line of its own
                lines += [f"{i:>2}. {step.name}", f"{indent}{step.equation}"]
            else:
                lines.append(f"{i:>2}. {step.name:<{width}}  {step.equation}")
            sym_width = max((len(k) for k in step.substituted), default=0)
            for sym, v in step.substituted.items():
                lines.append(f"{indent}  {sym:>{sym_width}} = {render.text(v)}")
            result = render.text(step.value)
            if step.expanded is not None:
                result = f"{step.expanded} = {result}"
            lines.append(f"{indent}→ {step.symbol} = {result}")
        if self.summary:
            lines += ["", "Gradient summary", "─" * 16]
            if self.units:
                lines.append(self.units)
            head = ("layer", "activation", "‖∂C/∂W‖", "‖∂C/∂b‖", "flags")
            rows = [
                (
                    str(s.layer),
                    s.activation,
                    f"{s.grad_W_norm:.3e}",
                    f"{s.grad_b_norm:.3e}",
                    "; ".join(s.flags) or ("ok" if s.judged else "not judged"),
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
        if self.inputs:
            lines += ["", "#### Inputs", ""]
            lines += [f"- ${i.latex()}$" for i in self.inputs]
        phase = None
        for i, step in enumerate(self.steps, 1):
            if step.phase != phase:
                phase = step.phase
                lines += ["", f"#### {PHASES.get(phase, phase)}", ""]
            lines.append(f"**{i}. {step.name}** ${render.latex(step.equation)}$")
            lines.append("")
            parts = [
                f"{render.latex(k)} = {render.latex_value(v)}" for k, v in step.substituted.items()
            ]
            result = render.latex_value(step.value)
            if step.expanded is not None:
                result = f"{render.latex(step.expanded)} = {result}"
            given = ",\\quad\n".join(parts)  # one operand a line: math ignores the breaks
            arrow = "\\quad\\Longrightarrow\\quad\n" if given else ""
            lines += ["$$", f"{given}{arrow}{render.latex(step.symbol)} = {result}", "$$", ""]
        if self.summary:
            lines += ["#### Gradient summary", ""]
            if self.units:
                lines += [self.units, ""]
            lines.append("| layer | activation | ‖∂C/∂W‖ | ‖∂C/∂b‖ | flags |")
            lines.append("|---|---|---|---|---|")
            for s in self.summary:
                flags = "; ".join(s.flags) or ("ok" if s.judged else "not judged")
                lines.append(
                    f"| {s.layer} | {s.activation} | {s.grad_W_norm:.3e} | "
                    f"{s.grad_b_norm:.3e} | {flags} |"
                )
            lines.append("")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        """Return :meth:`to_markdown` for Jupyter, which typesets its LaTeX.

        Jupyter renders the ``$…$`` and ``$$…$$`` of the markdown with the notebook's
        MathJax or KaTeX, so a trace left at the end of a cell shows its equations.
        """
        return self.to_markdown()

    def to_dict(self) -> dict:
        """Return the trace as a JSON-serializable dict.

        It is ``{"steps": [{"name", "equation", "substituted", "value", …}, …], "cost",
        "gradients", "summary", …}``, every value a number or nested lists at full precision
        (never summarized).
        """
        return {
            "title": self.title,
            "rule": self.rule,
            "learning_rate": self.learning_rate,
            "l2_penalty": self.l2_penalty,
            "l1_penalty": self.l1_penalty,
            "n_samples": self.n_samples,
            "cost": self.cost,
            "notes": list(self.notes),
            "steps": [s.to_dict() for s in self.steps],
            "gradients": None
            if self.gradients is None
            else [render.jsonable(g) for g in self.gradients],
            "parameters": [render.jsonable(p) for p in self.parameters],
            "new_parameters": [render.jsonable(p) for p in self.new_parameters],
            "summary": [s.to_dict() for s in self.summary],
            "units": self.units,
            "inputs": [i.to_dict() for i in self.inputs],
        }

    def render(self, format: str = "text") -> str:
        """Render the trace as ``"text"`` (``str(trace)``), ``"markdown"`` or ``"json"``."""
        if format == "text":
            return self.to_text()
        if format == "markdown":
            return self.to_markdown()
        if format == "json":
            return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        raise ValueError(f"format must be 'text', 'markdown' or 'json'; got {format!r}")
