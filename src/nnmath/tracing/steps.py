"""A network's record of one step, as the equations of the math with their numbers.

:func:`gradient_descent_steps` reads a :class:`~nnmath.network.PassRecord` — the
network's own forward and backward pass, recorded — and writes each equation it
carried out: z = a·W + b, ŷ = σ(z), the loss and the cost, the chain rule layer by
layer from the output back, and the update w ← w − α·∂C/∂w. :func:`rosenblatt_steps`
does the same for the records of Rosenblatt's rule. Nothing here computes a matrix
product: every number shown is one the network or the rule computed.

Example
-------
>>> import numpy as np
>>> from nnmath import Network
>>> net = Network([2, 1], activation="sigmoid", loss="mse", random_state=0)
>>> record = net.backprop(np.ones((1, 2)), np.ones((1, 1)), record=True)
>>> Names(net).W(1), Names(net).z(1)
('w', 'z')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nnmath.core.network import Network, PassRecord
from nnmath.core.rosenblatt import RosenblattRecord
from nnmath.tracing import render
from nnmath.tracing.trace import (
    EXPLODING,
    MAX_SAMPLE,
    SATURATION,
    VANISHING,
    LayerSummary,
    Step,
)

__all__ = [
    "Names",
    "gradient_descent_steps",
    "layer_summary",
    "rosenblatt_steps",
    "sample_rows",
    "update_steps",
]

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _full(value: np.ndarray | None) -> np.ndarray:
    """Return a value of the record that a backward pass fills in.

    A forward-only record, from ``Network.forward(X, record=True)``, leaves it None and
    has nothing to explain.
    """
    if value is None:
        raise ValueError("the record has no backward pass: use Network.backprop(..., record=True)")
    return value


class Names:
    """Symbols of one network.

    The article's w, x, z, ŷ for a single neuron, else numbered layers W₁, a₁, z₁, δ₁
    (a₀ = x, a_L = ŷ).
    """

    def __init__(self, net: Network):
        self.L = net.n_layers
        self.single = self.L == 1 and net.layer_sizes[-1] == 1

    def _n(self, stem: str, l: int) -> str:
        return stem if self.single else f"{stem}{str(l).translate(_SUBSCRIPT)}"

    def W(self, l):
        """Weights of layer l: w for the single neuron, else W_l."""
        return "w" if self.single else self._n("W", l)

    def b(self, l):
        """Bias of layer l."""
        return self._n("b", l)

    def z(self, l):
        """Weighted sum of layer l."""
        return self._n("z", l)

    def a(self, l):
        """Activation of layer l: x for l = 0, ŷ at the output."""
        return "x" if l == 0 else "ŷ" if l == self.L else self._n("a", l)

    def delta(self, l):
        """Error δ of layer l."""
        return self._n("δ", l)

    def layer(self, name: str, l: int) -> str:
        """Name a step, with its layer unless the network is a single neuron."""
        return name if self.single else f"{name}, layer {l}"


def gradient_descent_steps(net: Network, record: PassRecord, l2: float) -> list[Step]:
    """Return the forward, cost and backward steps of ``record``.

    ``record`` is a pass of ``net`` with the L2 penalty ``l2`` (the update steps come from
    :func:`update_steps`).
    """
    writer = _Writer(net, record, l2)
    writer.forward()
    writer.cost()
    writer.output_error()
    writer.layers_backward()
    return writer.steps


class _Writer:
    """Writes the steps of one recorded pass, phase by phase."""

    def __init__(self, net: Network, record: PassRecord, l2: float):
        self.net, self.record, self.l2 = net, record, l2
        self.N = Names(net)
        self.n = record.X.shape[0]
        self.steps: list[Step] = []

    def add(self, name, equation, substituted, value, symbol, layer, phase, expanded=None):
        self.steps.append(Step(name, equation, substituted, value, symbol, layer, phase, expanded))

    def a_of(self, l):
        """a_l, with a_0 = x."""
        return self.record.X if l == 0 else self.record.layers[l - 1].a

    def forward(self) -> None:
        """Add the forward steps: z = a W + b, a = σ(z), layer by layer."""
        net, N, n = self.net, self.N, self.n
        for l in range(1, net.n_layers + 1):
            W, b, act, a_prev = net.W[l - 1], net.b[l - 1], net.activations[l - 1], self.a_of(l - 1)
            z, a = self.record.layers[l - 1].z, self.record.layers[l - 1].a
            if N.single:
                eq = "z = Σᵢ wᵢxᵢ + b"
                expanded = render.expand_dot(W[:, 0], a_prev[0], b[0]) if n == 1 else None
            else:
                eq, expanded = f"{N.z(l)} = {N.a(l - 1)}·{N.W(l)} + {N.b(l)}", None
            subs = {N.W(l): W.copy(), N.a(l - 1): a_prev, N.b(l): b.copy()}
            self.add(N.layer("weighted sum", l), eq, subs, z, N.z(l), l, "forward", expanded)
            self.add(
                N.layer(f"activation ({act.name})", l),
                f"{N.a(l)} = σ({N.z(l)});  {act.formula}",
                {N.z(l): z},
                a,
                N.a(l),
                l,
                "forward",
                f"σ({render.number(z.item())})" if z.size == 1 else None,
            )

    def cost(self) -> None:
        """Add the loss of each sample and C = (1/n) Σᵢ Lᵢ (+ the penalty terms training adds).

        The L1 term, when the pass had one, is its own step: R₁ = (λ₁/n) Σₗ Σ|Wₗ|, the
        value the pass recorded.
        """
        net, N, n, record, loss = self.net, self.N, self.n, self.record, self.net.loss
        Y, y_hat, per_sample = _full(record.Y), record.y_hat, _full(record.losses)
        expanded = None
        if loss.name == "mse" and y_hat.size == 1:
            expanded = f"({render.number(Y.item())} − {render.number(y_hat.item())})²"
        self.add(
            "loss", loss.formula, {"ŷ": y_hat, "y": Y}, per_sample, "L", None, "cost", expanded
        )
        subs: dict[str, Any] = {"L": per_sample, "n": n}
        eq = "C = (1/n) Σᵢ Lᵢ"
        expanded = None
        if n <= render.MAX_SHOWN:
            expanded = f"({' + '.join(render.number(v) for v in per_sample)})/{n}"
        if self.l2:
            eq += " + (λ/2n) Σₗ ‖Wₗ‖²"
            subs["λ"] = self.l2
            subs.update({N.W(l): net.W[l - 1].copy() for l in range(1, net.n_layers + 1)})
            expanded = None
        if record.lambda1:
            weights = {N.W(l): net.W[l - 1].copy() for l in range(1, net.n_layers + 1)}
            self.add(
                "L1 term",
                "R₁ = (λ₁/n) Σₗ Σ|Wₗ|",
                {"λ₁": record.lambda1, "n": n, **weights},
                record.l1,
                "R₁",
                None,
                "cost",
            )
            eq += " + R₁"
            subs["R₁"] = record.l1
            expanded = None
        self.add("cost", eq, subs, record.cost, "C", None, "cost", expanded)

    def output_error(self) -> None:
        """δ_L = ∂C/∂z_L = ∂C/∂ŷ · ∂ŷ/∂z_L, fused for a canonical output/loss pair."""
        net, N, n, record, loss = self.net, self.N, self.n, self.record, self.net.loss
        L, Y, y_hat = net.n_layers, _full(record.Y), record.y_hat
        output, zL, dL = net.activations[-1], N.z(L), N.delta(L)
        delta = _full(record.layers[-1].delta)
        if record.fused:
            c = loss.canonical_factor(Y.shape[1])
            self.add(
                "output error δ (fused)",
                f"{dL} = ∂C/∂{zL} = ∂C/∂ŷ · ∂ŷ/∂{zL} = {'' if c == 1 else f'{c:g}·'}(ŷ − y)/n  "
                f"({output.name} output with {loss.name} loss)",
                {"ŷ": y_hat, "y": Y, "n": n},
                delta,
                dL,
                L,
                "backward",
            )
            return
        dC_dyhat, dyhat_dz = _full(record.dC_dyhat), _full(record.layers[-1].da_dz)
        expanded = None
        if loss.name == "mse" and y_hat.size == 1:
            expanded = f"2·({render.number(y_hat.item())} − {render.number(Y.item())})/1"
        self.add(
            "∂C/∂ŷ",
            f"∂C/∂ŷ = (1/n)·∂L/∂ŷ;  {loss.gradient_formula}",
            {"ŷ": y_hat, "y": Y, "n": n},
            dC_dyhat,
            "∂C/∂ŷ",
            L,
            "backward",
            expanded,
        )
        self.add(
            "∂ŷ/∂z",
            f"∂ŷ/∂{zL} = σ'({zL});  {output.derivative_formula}",
            {"ŷ": y_hat},
            dyhat_dz,
            f"∂ŷ/∂{zL}",
            L,
            "backward",
            render.expand_sigmoid_derivative(output, y_hat),
        )
        jacobian = output.name == "softmax"
        self.add(
            "chain rule: output error δ",
            f"{dL} = ∂C/∂{zL} = ∂C/∂ŷ {'·' if jacobian else '⊙'} ∂ŷ/∂{zL}"
            + (" (softmax Jacobian)" if jacobian else ""),
            {"∂C/∂ŷ": dC_dyhat, f"∂ŷ/∂{zL}": dyhat_dz},
            delta,
            dL,
            L,
            "backward",
            f"{render.paren(dC_dyhat.item())}·{render.paren(dyhat_dz.item())}"
            if delta.size == 1
            else None,
        )

    def layers_backward(self) -> None:
        """From the output back: ∂C/∂W = a_{l−1}ᵀ δ, ∂C/∂b = Σᵢ δ, δ_{l−1} from δ_l."""
        for l in range(self.net.n_layers, 0, -1):
            self.gradients_of(l)
            if l > 1:
                self.delta_below(l)

    def gradients_of(self, l: int) -> None:
        """∂z/∂W, ∂z/∂b, ∂C/∂W and ∂C/∂b of layer l."""
        net, N, n, rec = self.net, self.N, self.n, self.record.layers[l - 1]
        W, a_prev, delta = net.W[l - 1], self.a_of(l - 1), _full(rec.delta)
        Wn, bn, zn, dn, an = N.W(l), N.b(l), N.z(l), N.delta(l), N.a(l - 1)
        w = "w" if N.single else "W"
        self.add(
            N.layer(f"∂z/∂{w}", l),
            f"∂{zn}/∂{Wn} = {an}",
            {an: a_prev},
            a_prev,
            f"∂{zn}/∂{Wn}",
            l,
            "backward",
        )
        self.add(N.layer("∂z/∂b", l), f"∂{zn}/∂{bn} = 1", {}, 1.0, f"∂{zn}/∂{bn}", l, "backward")
        subs = {an: a_prev, dn: delta}
        if N.single:
            eq = "∂C/∂w = ∂C/∂ŷ · ∂ŷ/∂z · ∂z/∂w = Σᵢ δᵢxᵢ"
        else:
            eq = f"∂C/∂{Wn} = ∂{zn}/∂{Wn}ᵀ · {dn} = {an}ᵀ·{dn}"
        expanded = (
            f"{render.paren(delta.item())}·{render.text(a_prev)}" if delta.size == 1 else None
        )
        if self.l2:
            eq += f" + (λ/n)·{Wn}"  # the L2 term's gradient, as training adds it
            subs.update({"λ": self.l2, "n": n, Wn: W.copy()})
            expanded = None
        if rec.l1_gradient is not None:
            # the L1 term's subgradient, as the pass added it (sign(0) = 0)
            eq += f" + (λ₁/n)·sign({Wn})"
            subs.update({"λ₁": self.record.lambda1, "n": n, f"(λ₁/n)·sign({Wn})": rec.l1_gradient})
            expanded = None
        self.add(N.layer(f"∂C/∂{w}", l), eq, subs, rec.dC_dW, f"∂C/∂{Wn}", l, "backward", expanded)
        eq = (
            "∂C/∂b = ∂C/∂ŷ · ∂ŷ/∂z · ∂z/∂b = Σᵢ δᵢ·1"
            if N.single
            else f"∂C/∂{bn} = Σᵢ {dn} · ∂{zn}/∂{bn} = Σᵢ {dn}"
        )
        self.add(N.layer("∂C/∂b", l), eq, {dn: delta}, rec.dC_db, f"∂C/∂{bn}", l, "backward")

    def delta_below(self, l: int) -> None:
        """∂C/∂a_{l−1} = δ_l W_lᵀ, ∂a/∂z, and δ_{l−1} by the chain rule."""
        net, N = self.net, self.N
        W, delta = net.W[l - 1], self.record.layers[l - 1].delta
        act, below = net.activations[l - 2], self.record.layers[l - 2]
        Wn, zn, dn = N.W(l), N.z(l), N.delta(l)
        ap, zp, dp = N.a(l - 1), N.z(l - 1), N.delta(l - 1)
        self.add(
            N.layer("∂C/∂a", l - 1),
            f"∂C/∂{ap} = {dn} · ∂{zn}/∂{ap} = {dn}·{Wn}ᵀ",
            {dn: delta, Wn: W.copy()},
            below.dC_da,
            f"∂C/∂{ap}",
            l - 1,
            "backward",
        )
        self.add(
            N.layer(f"∂a/∂z ({act.name})", l - 1),
            f"∂{ap}/∂{zp} = σ'({zp});  {act.derivative_formula}",
            {ap: below.a},
            below.da_dz,
            f"∂{ap}/∂{zp}",
            l - 1,
            "backward",
        )
        op = "·" if act.name == "softmax" else "⊙"
        self.add(
            N.layer("chain rule: δ", l - 1),
            f"{dp} = ∂C/∂{zp} = ∂C/∂{ap} {op} ∂{ap}/∂{zp}",
            {f"∂C/∂{ap}": below.dC_da, f"∂{ap}/∂{zp}": below.da_dz},
            below.delta,
            dp,
            l - 1,
            "backward",
        )


def update_steps(net: Network, old, gradients, new, alpha: float) -> list[Step]:
    """Return the steps θ ← θ − α·∂C/∂θ of every parameter.

    They come from the parameters before (``old``), the gradients and the parameters after
    (``new``), each [W₁, b₁, …].
    """
    N = Names(net)
    steps = []
    for k, (before, g, after) in enumerate(zip(old, gradients, new, strict=True)):
        l = k // 2 + 1
        sym = N.W(l) if k % 2 == 0 else N.b(l)
        expanded = None
        if before.size <= 4:
            parts = [
                f"{render.number(o)} − {render.number(alpha)}·{render.paren(d)}"
                for o, d in zip(before.flat, g.flat, strict=True)
            ]
            expanded = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
        steps.append(
            Step(
                N.layer(f"update {sym}", l),
                f"{sym} ← {sym} − α·∂C/∂{sym}",
                {sym: before, "α": alpha, f"∂C/∂{sym}": g},
                after,
                sym,
                l,
                "update",
                expanded,
            )
        )
    return steps


def layer_summary(
    net: Network, record: PassRecord, l: int, sample: PassRecord | None = None
) -> LayerSummary:
    """Summarize layer l (1-based): the step's gradient norms, and the units' health.

    The step's norms come from ``record``. Whether the layer's units are dead or
    saturated and its gradient vanishing or exploding is judged from ``sample``, a
    recorded pass over rows enough to say so (see :data:`~nnmath.tracing.trace.MIN_SAMPLE`);
    with ``sample=None`` nothing is judged.

    * dead (ReLU): a = 0 for every row of the sample, so no gradient ever flows through;
    * saturated (sigmoid, tanh, hidden layers): a within ``SATURATION`` of the range's
      ends (a < 0.01 or a > 0.99 for the sigmoid, |a| > 0.98 for tanh) for every row;
    * vanishing / exploding: ‖(∂C/∂W, ∂C/∂b)‖ of the sample's cost below
      :data:`VANISHING` or above :data:`EXPLODING` (or not finite).
    """
    rec = record.layers[l - 1]
    nW = float(np.linalg.norm(_full(rec.dC_dW).astype(np.float64).ravel()))
    nb = float(np.linalg.norm(_full(rec.dC_db).astype(np.float64).ravel()))
    act = net.activations[l - 1]
    summary = LayerSummary(
        layer=l,
        activation=act.name,
        grad_W_norm=nW,
        grad_b_norm=nb,
        grad_norm=math.hypot(nW, nb),
        vanishing=False,
        exploding=False,
        dead_units=None,
        n_units=net.layer_sizes[l],
    )
    if sample is None:
        return summary
    srec = sample.layers[l - 1]
    norm = math.hypot(
        float(np.linalg.norm(_full(srec.dC_dW).astype(np.float64).ravel())),
        float(np.linalg.norm(_full(srec.dC_db).astype(np.float64).ravel())),
    )
    summary.n_rows = sample.X.shape[0]
    summary.sample_grad_norm = norm
    summary.vanishing = norm < VANISHING
    summary.exploding = not norm <= EXPLODING
    a = srec.a
    if act.name == "relu":
        summary.dead_units = np.flatnonzero((a == 0).all(axis=0)).tolist()
    elif act.name in ("sigmoid", "tanh") and l < net.n_layers:
        low, high = (0.0, 1.0) if act.name == "sigmoid" else (-1.0, 1.0)
        margin = SATURATION * (high - low)  # 1% of σ's range, at either end
        stuck = ((a < low + margin) | (a > high - margin)).all(axis=0)
        summary.saturated_units = np.flatnonzero(stuck).tolist()
    return summary


def sample_rows(n: int, size: int = MAX_SAMPLE, seed: int = 0) -> np.ndarray:
    """Return the rows of ``n`` that the units are judged over: all, or ``size`` drawn.

    The draw is without replacement from ``numpy.random.default_rng(seed)``, in
    ascending order, so the same data gives the same sample.

    Examples
    --------
    >>> sample_rows(5).tolist()
    [0, 1, 2, 3, 4]
    >>> len(sample_rows(5000))
    1000
    """
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def rosenblatt_steps(net: Network, records: list[RosenblattRecord], alpha: float) -> list[Step]:
    """Return the steps of Rosenblatt's rule, one sample after another, from its records."""
    vec = net.layer_sizes[-1] == 1  # one neuron: show w as the article's vector

    def w_of(W):
        return W[:, 0].copy() if vec else W.copy()

    w = "w" if vec else "W"
    steps: list[Step] = []
    n = len(records)
    for i, r in enumerate(records, 1):
        tag = f" (sample {i})" if n > 1 else ""

        def add(name, equation, substituted, value, symbol, expanded=None, tag=tag):
            steps.append(
                Step(name + tag, equation, substituted, value, symbol, 1, "rosenblatt", expanded)
            )

        x, error = r.x, r.error
        add(
            "weighted sum",
            "z = Σᵢ wᵢxᵢ + b",
            {w: w_of(r.W), "x": x, "b": r.b},
            r.z,
            "z",
            render.expand_dot(r.W[:, 0], x, r.b[0]) if vec else None,
        )
        add(
            "activation (step)",
            f"ŷ = σ(z);  {net.activations[0].formula}",
            {"z": r.z},
            r.y_hat,
            "ŷ",
            f"step({render.number(r.z.item())})" if r.z.size == 1 else None,
        )
        add(
            "error",
            "e = y − ŷ",
            {"y": r.y, "ŷ": r.y_hat},
            error,
            "e",
            f"{render.number(r.y.item())} − {render.number(r.y_hat.item())}"
            if r.y.size == 1
            else None,
        )
        e = render.paren(error.item()) if error.size == 1 else "e"
        old_w = w_of(r.W)
        add(
            f"update {w}",
            f"{w} ← {w} + α(y − ŷ)x",
            {w: old_w, "α": alpha, "y − ŷ": error, "x": x},
            w_of(r.new_W),
            w,
            f"{render.text(old_w)} + {render.number(alpha)}·{e}·{render.text(x)}"
            if vec and x.size <= 4
            else None,
        )
        add(
            "update b",
            "b ← b + α(y − ŷ)",
            {"b": r.b, "α": alpha, "y − ŷ": error},
            r.new_b,
            "b",
            f"{render.text(r.b)} + {render.number(alpha)}·{e}" if error.size == 1 else None,
        )
    return steps
