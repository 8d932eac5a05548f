"""A network drawn as its layers: units as circles, weights as lines coloured by sign.

One function, :func:`layout`, places everything: the units of each layer in a column, a
line for every weight between two shown units, its colour the weight's sign (blue for
positive, orange for negative: a pair colour-blind readers tell apart) and its thickness
proportional to the weight's magnitude. :func:`to_svg` writes that layout as SVG text
(what ``Network`` and a fitted estimator show in Jupyter), and
:func:`nnmath.plotting.plot_network` draws the same layout with matplotlib.

A layer wider than ``max_units`` shows its first ``max_units`` units and a note
"… n more"; the weights of the units not shown are not drawn.

This module needs only NumPy and takes plain arrays, so that every layer above it (the
user's Network, the estimators, the plotting module) draws the same picture.

Example
-------
>>> import numpy as np
>>> shape = layout([np.array([[1.0, -2.0]])], ["sigmoid"])
>>> [len(column) for column in shape.units], len(shape.edges)
([1, 2], 2)
>>> to_svg(shape).startswith("<svg")
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

import numpy as np

__all__ = ["MAX_WIDTH", "MIN_WIDTH", "NEGATIVE", "POSITIVE", "Edge", "Layout", "layout", "to_svg"]

#: The colour of a positive weight (blue) and of a negative one (orange), as RGB.
POSITIVE = (8, 119, 189)
NEGATIVE = (245, 147, 34)
#: The thinnest and thickest line, in SVG pixels (matplotlib points): a weight of 0 is
#: drawn MIN_WIDTH wide, the largest ``|w|`` of the drawing MAX_WIDTH wide.
MIN_WIDTH = 0.5
MAX_WIDTH = 6.0

_COLUMN = 150.0  # distance between layers
_ROW = 34.0  # distance between units
_RADIUS = 11.0
_MARGIN = 40.0


@dataclass(frozen=True)
class Edge:
    """One weight w drawn from unit ``i`` of layer ``layer`` to unit ``j`` of the next.

    Attributes
    ----------
    layer : int
        1-based index of the weight matrix W_layer.
    i, j : int
        Row and column of the weight in W_layer, shape (n_in, n_out).
    weight : float
    width : float
        ``MIN_WIDTH + (MAX_WIDTH − MIN_WIDTH)·|w|/max|w|`` over the drawn weights.
    color : str
        ``"#rrggbb"``: POSITIVE for w ≥ 0, NEGATIVE for w < 0.
    start, end : tuple of float
        The centres (x, y) of the two units.
    """

    layer: int
    i: int
    j: int
    weight: float
    width: float
    color: str
    start: tuple[float, float]
    end: tuple[float, float]


@dataclass
class Layout:
    """Where every unit, weight and label of a network's drawing goes.

    Attributes
    ----------
    units : list of list of (float, float)
        The centres of the shown units, one list per layer (input first).
    sizes : list of int
        The number of units of each layer (shown or not).
    edges : list of Edge
    labels : list of str
        Each layer's caption ("input", "sigmoid", …, with its size).
    more : list of (float, float, str)
        Where a "… n more" note goes and its text, for each capped layer.
    width, height : float
        The drawing's size in pixels (y grows downwards, as in SVG).
    radius : float
        The radius of a unit's circle.
    """

    units: list[list[tuple[float, float]]]
    sizes: list[int]
    edges: list[Edge]
    labels: list[str]
    more: list[tuple[float, float, str]] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    radius: float = _RADIUS


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def layout(weights, activations, max_units: int = 16) -> Layout:
    """Place the units and weights of a network for drawing.

    Parameters
    ----------
    weights : list of array-like
        The weight matrices W_l, each of shape (n_l, n_{l+1}) (NumPy arrays).
    activations : list of str
        The activation of each layer after the input, ``len(weights)`` names.
    max_units : int, default=16
        The most units shown in one layer; a wider layer shows its first ``max_units``
        and a note "… n more".

    Returns
    -------
    Layout

    Raises
    ------
    ValueError
        For no weights, matrices that do not chain, a wrong number of activations or a
        ``max_units`` below 1.

    Examples
    --------
    >>> import numpy as np
    >>> shape = layout([np.zeros((3, 20)), np.ones((20, 1))], ["relu", "sigmoid"], max_units=4)
    >>> shape.sizes, [len(c) for c in shape.units], shape.more[0][2]
    ([3, 20, 1], [3, 4, 1], '… 16 more')
    """
    if isinstance(max_units, bool) or not isinstance(max_units, (int, np.integer)) or max_units < 1:
        raise ValueError(f"max_units must be an integer of at least 1; got {max_units!r}")
    mats = [np.asarray(W, dtype=np.float64) for W in weights]
    if not mats:
        raise ValueError("weights is empty: a network has at least one weight matrix")
    for k, W in enumerate(mats):
        if W.ndim != 2:
            raise ValueError(f"weights[{k}] must be a matrix (n_in, n_out); got shape {W.shape}")
        if k and W.shape[0] != mats[k - 1].shape[1]:
            raise ValueError(
                f"weights[{k}] has {W.shape[0]} rows but weights[{k - 1}] has "
                f"{mats[k - 1].shape[1]} columns: the matrices must chain"
            )
    names = list(activations)
    if len(names) != len(mats):
        raise ValueError(
            f"activations must name one activation per weight matrix ({len(mats)}); "
            f"got {len(names)}"
        )
    sizes = [mats[0].shape[0]] + [W.shape[1] for W in mats]
    shown = [min(n, int(max_units)) for n in sizes]
    tallest = max(s + (1 if s < n else 0) for s, n in zip(shown, sizes, strict=True))
    height = 2 * _MARGIN + max(tallest - 1, 0) * _ROW + 20
    width = 2 * _MARGIN + (len(sizes) - 1) * _COLUMN
    units, more = [], []
    for l, (s, n) in enumerate(zip(shown, sizes, strict=True)):
        rows = s + (1 if s < n else 0)
        top = _MARGIN + (tallest - rows) * _ROW / 2
        x = _MARGIN + l * _COLUMN
        units.append([(x, top + r * _ROW) for r in range(s)])
        if s < n:
            more.append((x, top + s * _ROW, f"… {n - s} more"))
    drawn = [W[: shown[l], : shown[l + 1]] for l, W in enumerate(mats)]
    biggest = max((float(np.max(np.abs(W))) for W in drawn if W.size), default=0.0)
    edges = []
    for l, W in enumerate(drawn):
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                w = float(W[i, j])
                scale = abs(w) / biggest if biggest > 0 and np.isfinite(biggest) else 0.0
                edges.append(
                    Edge(
                        layer=l + 1,
                        i=i,
                        j=j,
                        weight=w,
                        width=MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * scale,
                        color=_hex(NEGATIVE if w < 0 else POSITIVE),
                        start=units[l][i],
                        end=units[l + 1][j],
                    )
                )
    labels = [f"input ({sizes[0]})"] + [
        f"{name} ({n})" for name, n in zip(names, sizes[1:], strict=True)
    ]
    return Layout(units, sizes, edges, labels, more, width, height)


def to_svg(shape: Layout, title: str = "network") -> str:
    """Write a :class:`Layout` as an SVG document (text, no library needed).

    Every weight is one ``<line>`` with its ``stroke`` colour and ``stroke-width``, and a
    ``<title>`` giving its value (shown when pointed at); every unit one ``<circle>``.

    Parameters
    ----------
    shape : Layout
        What :func:`layout` returned.
    title : str, default="network"
        The drawing's accessible name.

    Returns
    -------
    str
        ``<svg …>…</svg>``.

    Examples
    --------
    >>> import numpy as np
    >>> text = to_svg(layout([np.array([[0.5], [-1.0]])], ["identity"]))
    >>> text.count("<line ")
    2
    """
    f = "{:.2f}".format
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{f(shape.width)}" '
        f'height="{f(shape.height)}" viewBox="0 0 {f(shape.width)} {f(shape.height)}" '
        f'role="img" aria-label="{escape(title)}: layers {escape(", ".join(shape.labels))}" '
        'font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for e in shape.edges:
        (x0, y0), (x1, y1) = e.start, e.end
        out.append(
            f'<line x1="{f(x0)}" y1="{f(y0)}" x2="{f(x1)}" y2="{f(y1)}" stroke="{e.color}" '
            f'stroke-width="{e.width:.3f}" stroke-opacity="0.8">'
            f"<title>W{e.layer}[{e.i},{e.j}] = {e.weight:.4g}</title></line>"
        )
    for column in shape.units:
        for x, y in column:
            out.append(
                f'<circle cx="{f(x)}" cy="{f(y)}" r="{f(shape.radius)}" fill="#f4f5f6" '
                'stroke="#333" stroke-width="1"/>'
            )
    for x, y, text in shape.more:
        out.append(f'<text x="{f(x)}" y="{f(y + 4)}" text-anchor="middle">{escape(text)}</text>')
    for column, label in zip(shape.units, shape.labels, strict=True):
        x = column[0][0] if column else 0.0
        out.append(
            f'<text x="{f(x)}" y="{f(shape.height - 8)}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)
