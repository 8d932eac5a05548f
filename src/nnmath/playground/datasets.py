"""The playground's data: built-in data sets on the plane, the features, uploaded CSV.

Every data set is a set of points (x₁, x₂) with a target:

- classification: ``circle`` (a disc inside a ring), ``xor`` (the four quadrants),
  ``gauss`` (two Gaussian blobs), ``spiral`` (two interleaved spirals) and ``three``
  (three Gaussian blobs, three classes); targets are class indices 0, 1, (2);
- regression: ``plane`` (y = (x₁ + x₂)/10) and ``multigauss`` (Gaussian bumps of either
  sign); targets are numbers in about [−1, 1];
- from a formula the learner types (:func:`parse_formula`): ``curve``, the points above
  (class 1) and below (class 0) the curve x₂ = f(x₁), or on either side of the zero
  level of a surface f(x₁, x₂) — positive is class 1; ``surface`` (regression), the
  target is f(x₁, x₂), or the curve's value f(x₁).

Built-in points lie in the square [−6, 6]², as on TensorFlow Playground, and ``noise``
(0–50, in percent) blurs them. :func:`features` turns points into the network's inputs
(x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂). :func:`read_csv` checks an uploaded file and
:func:`csv_data` takes two of its numeric columns as the plane (standardized) and one
column as the target.

Example
-------
>>> import numpy as np
>>> data = generate("xor", 100, noise=0, rng=np.random.default_rng(0))
>>> data.points.shape, data.kind, data.classes
((100, 2), 'binary', ['0', '1'])
>>> features(np.array([[1.0, 2.0]]), ["x1", "x2", "x1x2"])
array([[1., 2., 2.]])
"""

from __future__ import annotations

import ast
import collections
import csv
import functools
import io
import math
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "DEFAULT_FORMULA",
    "FEATURES",
    "FORMULA_FUNCTIONS",
    "FORMULA_PRESETS",
    "FROM_FORMULA",
    "MAX_FORMULA_LENGTH",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_COLUMNS",
    "MAX_UPLOAD_ROWS",
    "REGRESSION",
    "Data",
    "Formula",
    "Table",
    "csv_data",
    "boundary_segments",
    "curve_points",
    "features",
    "generate",
    "parse_formula",
    "previews_of_data_sets",
    "read_csv",
]

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "three", "curve")
REGRESSION = ("plane", "multigauss", "surface")
#: The data sets drawn from a formula.
FROM_FORMULA = ("curve", "surface")
DATASETS = CLASSIFICATION + REGRESSION

#: The inputs a network can be fed, by name: (label on the page, function of x₁, x₂).
FEATURES = {
    "x1": ("x₁", lambda x1, x2: x1),
    "x2": ("x₂", lambda x1, x2: x2),
    "x1sq": ("x₁²", lambda x1, x2: x1 * x1),
    "x2sq": ("x₂²", lambda x1, x2: x2 * x2),
    "x1x2": ("x₁x₂", lambda x1, x2: x1 * x2),
    "sinx1": ("sin x₁", lambda x1, x2: np.sin(x1)),
    "sinx2": ("sin x₂", lambda x1, x2: np.sin(x2)),
}

MAX_UPLOAD_BYTES = 2_000_000
MAX_UPLOAD_ROWS = 5_000
#: The most columns (fields in any row) of an uploaded file: the plane takes two and the
#: target one, and the page lists every column in its menus.
MAX_UPLOAD_COLUMNS = 300
#: Integer or text targets with at most this many distinct values are classes.
MAX_CLASSES = 20


@dataclass
class Data:
    """Points on the plane with their targets.

    Attributes
    ----------
    points : ndarray of shape (n_samples, 2)
        (x₁, x₂) of each sample.
    target : ndarray of shape (n_samples,)
        Class index (int) for classification, a number for regression.
    kind : {"binary", "multiclass", "regression"}
    classes : list of str
        The class names, in index order (empty for regression).
    axes : tuple of str
        What x₁ and x₂ are, for the plane's labels.
    target_name : str
        What the target is.
    missing : dict or None
        For an uploaded file, what was done with the rows that have missing cells in
        the three chosen columns: ``policy`` ("drop" or "fill"), ``rows`` (how many
        had one), ``left_out``, ``filled``, ``by_column`` (missing cells per chosen
        column) and ``medians`` (the value filled in, per column filled).

    Examples
    --------
    >>> d = Data(np.zeros((2, 2)), np.array([0.5, 1.0]), "regression")
    >>> d.n_samples
    2
    """

    points: np.ndarray
    target: np.ndarray
    kind: str
    classes: list[str] = field(default_factory=list)
    axes: tuple[str, str] = ("x₁", "x₂")
    target_name: str = "y"
    missing: dict | None = None

    @property
    def n_samples(self) -> int:
        """The number of samples."""
        return self.points.shape[0]


def features(points: np.ndarray, names: list[str]) -> np.ndarray:
    """Return the network's input matrix: one column per feature name, in the given order.

    Parameters
    ----------
    points : ndarray of shape (n_samples, 2)
    names : list of str
        Keys of :data:`FEATURES`.

    Returns
    -------
    ndarray of shape (n_samples, len(names)), float64

    Examples
    --------
    >>> features(np.array([[0.0, 3.0]]), ["x2sq", "sinx1"])
    array([[9., 0.]])
    """
    x1, x2 = points[:, 0], points[:, 1]
    out = np.empty((points.shape[0], len(names)))
    for j, name in enumerate(names):
        out[:, j] = FEATURES[name][1](x1, x2)
    return out


# ---------------------------------------------------------------------------- formulas
#: The longest formula taken, in characters.
MAX_FORMULA_LENGTH = 200
#: The deepest nesting of operations and calls in a formula.
MAX_FORMULA_DEPTH = 20
#: The largest exponent (in size) after ``**``; exponents are numbers.
MAX_EXPONENT = 10
#: The largest number (in size) written in a formula.
MAX_FORMULA_NUMBER = 1e6
#: The functions a formula may call, each of one argument.
FORMULA_FUNCTIONS = {
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "tanh": np.tanh,
}
#: The names a formula may use besides its functions: the plane's coordinates
#: (``x`` is ``x1``) and two constants.
FORMULA_NAMES = ("x", "x1", "x2", "pi", "e")
_CONSTANTS = {"pi": np.pi, "e": np.e}
_OPERATORS = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_WHAT = {
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
    ast.Subscript: "indexing",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignment",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "text",
    ast.Starred: "unpacking",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
#: The preset formulas the page offers, by name.
FORMULA_PRESETS = {
    "sine": "3*sin(x)",
    "cubic": "x**3/20 - x",
    "abs": "abs(x) - 3",
    "circle": "(x1**2 + x2**2)/16 - 1",
}
DEFAULT_FORMULA = FORMULA_PRESETS["sine"]


@dataclass(frozen=True)
class Formula:
    """A checked formula of the plane's coordinates, evaluated with NumPy.

    Made by :func:`parse_formula`. A formula that names ``x2`` is a surface
    f(x₁, x₂); one that does not is a curve x₂ = f(x₁).

    Attributes
    ----------
    text : str
        The formula as typed.
    surface : bool
        Whether it names ``x2``.

    Examples
    --------
    >>> f = parse_formula("3*sin(x)")
    >>> f.surface, f(np.array([0.0, np.pi / 2]), np.zeros(2)).round(6).tolist()
    (False, [0.0, 3.0])
    """

    text: str
    surface: bool
    tree: ast.Expression = field(repr=False, compare=False)

    def __call__(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """Evaluate the formula at the points (x1, x2): arrays of one shape.

        Returns an array of that shape (float64); where the formula is undefined
        (``log`` of a negative number, a division by 0) the value is not finite.
        """
        x1 = np.asarray(x1, dtype=float)
        x2 = np.asarray(x2, dtype=float)
        env = {"x": x1, "x1": x1, "x2": x2, **_CONSTANTS}
        with np.errstate(all="ignore"):
            value = _evaluate(self.tree.body, env)
        return np.broadcast_to(np.asarray(value, dtype=float), np.broadcast(x1, x2).shape).copy()

    def boundary(self, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
        """Return g(x₁, x₂), positive above the curve (or where the surface is), else ≤ 0.

        For a curve, g = x₂ − f(x₁); for a surface, g = f(x₁, x₂): class 1 where g > 0.

        Examples
        --------
        >>> parse_formula("abs(x)").boundary(np.array([-2.0, 1.0]), np.array([3.0, 0.5]))
        array([ 1. , -0.5])
        """
        value = self(x1, x2)
        return value if self.surface else np.asarray(x2, dtype=float) - value


def _evaluate(node: ast.AST, env: dict):
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        op = _OPERATORS[type(node.op)]
        return op(_evaluate(node.left, env), _evaluate(node.right, env))
    call = node
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
        raise TypeError(f"an unchecked formula node: {ast.dump(node)}")
    return FORMULA_FUNCTIONS[call.func.id](_evaluate(call.args[0], env))


def _refuse(reason: str) -> ValueError:
    return ValueError(f"formula: {reason}")


def _number(node: ast.AST) -> float | None:
    """Return the value of a number, or of a minus sign before a number; else None."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return sign * float(node.value)
    return None


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check(node: ast.AST, depth: int) -> None:
    """Refuse every node outside the whitelist (ValueError naming what it is)."""
    if depth > MAX_FORMULA_DEPTH:
        raise _refuse(f"nested more than {MAX_FORMULA_DEPTH} deep; write a simpler formula")
    if isinstance(node, ast.Constant):
        if not _is_number(node.value):
            raise _refuse(f"{node.value!r:.40} is not a number")
        try:
            size = abs(float(node.value))
        except OverflowError:
            size = math.inf
        if not size <= MAX_FORMULA_NUMBER:
            raise _refuse(f"the number {node.value!r:.20} is too big; numbers up to 1e6 do")
        return
    if isinstance(node, ast.Name):
        if node.id in FORMULA_FUNCTIONS:
            raise _refuse(f"{node.id!r} is a function: write {node.id}(...)")
        if node.id not in FORMULA_NAMES:
            raise _refuse(f"unknown name {node.id!r}; a formula uses x (or x1), x2, pi and e")
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _refuse(f"the operator {_op_text(node.op)} is not allowed; use + - * / **")
        _check(node.operand, depth + 1)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _OPERATORS:
            raise _refuse(f"the operator {_op_text(node.op)} is not allowed; use + - * / **")
        if isinstance(node.op, ast.Pow):
            p = _number(node.right)
            if p is None:
                raise _refuse(
                    "an exponent after ** must be a number (write exp(x*log(2)) for 2 to the x)"
                )
            if abs(p) > MAX_EXPONENT:
                raise _refuse(f"the exponent {p:g} is too big; exponents go up to {MAX_EXPONENT}")
        _check(node.left, depth + 1)
        _check(node.right, depth + 1)
        return
    if isinstance(node, ast.Attribute):
        raise _refuse(f"attribute access (.{node.attr}) is not allowed")
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            _check(node.func, depth + 1)
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FORMULA_FUNCTIONS:
            what = repr(name) if name else "of an expression"
            raise _refuse(
                f"a call {what} is not allowed; the functions are {', '.join(FORMULA_FUNCTIONS)}"
            )
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise _refuse(f"{name}() takes one argument: {name}(x)")
        _check(node.args[0], depth + 1)
        return
    what = _WHAT.get(type(node), type(node).__name__)
    raise _refuse(
        f"{what} is not allowed; a formula is numbers, x1, x2, + - * / ** and "
        f"{', '.join(FORMULA_FUNCTIONS)}"
    )


def _op_text(op: ast.AST) -> str:
    texts = {
        ast.FloorDiv: "//",
        ast.Mod: "%",
        ast.MatMult: "@",
        ast.BitAnd: "&",
        ast.BitOr: "|",
        ast.BitXor: "^",
        ast.LShift: "<<",
        ast.RShift: ">>",
        ast.Invert: "~",
        ast.Not: "not",
    }
    return texts.get(type(op), type(op).__name__)


def parse_formula(text: str) -> Formula:
    """Check a typed formula and return it ready to evaluate; nothing of it is executed.

    The text is parsed by Python's :mod:`ast` and only a whitelist is taken: numbers,
    ``x`` (the same as ``x1``), ``x2``, ``pi``, ``e``, ``+ - * / **``, a minus sign,
    parentheses and the functions of :data:`FORMULA_FUNCTIONS`, each of one argument.
    The text is at most :data:`MAX_FORMULA_LENGTH` characters, nested at most
    :data:`MAX_FORMULA_DEPTH` deep, an exponent is a number of size at most
    :data:`MAX_EXPONENT`, a number at most 1e6.

    Parameters
    ----------
    text : str

    Returns
    -------
    Formula

    Raises
    ------
    ValueError
        ``formula: <reason>``, one line, for anything else.

    Examples
    --------
    >>> parse_formula("x**3/20 - x")(np.array([2.0]), np.array([0.0]))
    array([-1.6])
    >>> parse_formula("__import__('os')")
    Traceback (most recent call last):
    ...
    ValueError: formula: a call '__import__' is not allowed; the functions are sin, cos, ...
    """
    if not isinstance(text, str):
        raise _refuse(f"must be text, such as '3*sin(x)'; got {text!r:.40}")
    if len(text) > MAX_FORMULA_LENGTH:
        raise _refuse(
            f"{len(text):,} characters is too long; a formula has at most {MAX_FORMULA_LENGTH}"
        )
    if not text.strip():
        raise _refuse("nothing typed; type a formula of x such as 3*sin(x)")
    if "^" in text:
        raise _refuse("write powers with ** (x**2), not ^")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise _refuse(f"not a formula: {exc.msg} (at character {exc.offset})") from None
    except (ValueError, RecursionError, MemoryError):
        raise _refuse("not a formula") from None
    _check(tree.body, 0)
    surface = any(isinstance(n, ast.Name) and n.id == "x2" for n in ast.walk(tree))
    return Formula(text.strip(), surface, tree)


# ---------------------------------------------------------------------------- built-in
def _circle(n, noise, rng):
    radius = 5.0
    half = n // 2
    r = np.concatenate(
        [rng.uniform(0, radius * 0.5, half), rng.uniform(radius * 0.7, radius, n - half)]
    )
    angle = rng.uniform(0, 2 * np.pi, n)
    p = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    p += rng.uniform(-radius, radius, (n, 2)) * noise
    # the class of a point is where it ended up: inside half the radius or not
    return p, (np.hypot(p[:, 0], p[:, 1]) < radius * 0.5).astype(int)


def _xor(n, noise, rng):
    p = rng.uniform(-5, 5, (n, 2))
    p += np.where(p > 0, 0.3, -0.3)  # keep the points off the axes
    p += rng.uniform(-5, 5, (n, 2)) * noise
    return p, (p[:, 0] * p[:, 1] >= 0).astype(int)


def _blobs(centers, n, noise, rng):
    sd = np.sqrt(0.5 + 7 * noise)  # variance 0.5 without noise, 4 at 50 %
    label = np.arange(n) % len(centers)
    p = np.asarray(centers, dtype=float)[label] + rng.normal(0, sd, (n, 2))
    return p, label


def _spiral(n, noise, rng):
    half = n // 2
    parts, labels = [], []
    for label, delta in ((1, 0.0), (0, np.pi)):
        m = half if label == 1 else n - half
        i = np.arange(m) / m
        r, t = 5 * i, 1.75 * i * 2 * np.pi + delta
        p = np.column_stack([r * np.sin(t), r * np.cos(t)])
        parts.append(p + rng.uniform(-1, 1, (m, 2)) * noise)
        labels.append(np.full(m, label))
    return np.concatenate(parts), np.concatenate(labels)


def _three(n, noise, rng):
    angles = np.deg2rad([90, 210, 330])
    centers = 3.5 * np.column_stack([np.cos(angles), np.sin(angles)])
    return _blobs(centers, n, noise, rng)


def _plane(n, noise, rng):
    p = rng.uniform(-6, 6, (n, 2))
    target = (p[:, 0] + p[:, 1]) / 10
    return p + rng.uniform(-6, 6, (n, 2)) * noise, target


_BUMPS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def _multigauss(n, noise, rng):
    p = rng.uniform(-6, 6, (n, 2))
    target = np.zeros(n)
    for cx, cy, sign in _BUMPS:
        target += sign * np.exp(-((p[:, 0] - cx) ** 2 + (p[:, 1] - cy) ** 2) / 2)
    return p + rng.uniform(-6, 6, (n, 2)) * noise, target


_GENERATORS = {
    "circle": _circle,
    "xor": _xor,
    "gauss": lambda n, noise, rng: _blobs([(2, 2), (-2, -2)], n, noise, rng),
    "spiral": _spiral,
    "three": _three,
    "plane": _plane,
    "multigauss": _multigauss,
}


def _from_formula(name: str, n: int, noise: float, rng, formula: str) -> tuple:
    f = parse_formula(formula)
    p = rng.uniform(-6, 6, (n, 2))
    x1, x2 = p[:, 0], p[:, 1]
    value = f.boundary(x1, x2) if name == "curve" else f(x1, x2)
    bad = ~np.isfinite(value)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"formula: {f.text} is not a number at {bad.sum()} of the {n} points (such as "
            f"x1 = {x1[i]:.2f}, x2 = {x2[i]:.2f}); choose one defined on the whole square "
            "[-6, 6]² (abs() inside log or sqrt)"
        )
    if name == "surface":
        return p + rng.uniform(-6, 6, (n, 2)) * noise, value
    label = (value > 0).astype(int)
    if label.min() == label.max():
        where = "above" if label[0] else "below"
        raise ValueError(
            f"formula: every point of the square [-6, 6]² is {where} {f.text}; choose a "
            "curve that crosses it"
        )
    # the class of a point is where it lies; noise then moves it, as on the circle
    return p + rng.uniform(-6, 6, (n, 2)) * noise / 6, label


def curve_points(formula: str, lo: float, hi: float, n: int = 241) -> list:
    """Return points of the curve x₂ = f(x₁) for x₁ from ``lo`` to ``hi``, to draw it.

    Parameters
    ----------
    formula : str
        A formula of x (a curve); a surface has no such curve.
    lo, hi : float
    n : int

    Returns
    -------
    list of [x1, x2] or None
        ``n`` points, ``None`` where f is not a number (the line breaks there); an
        empty list for a surface.

    Examples
    --------
    >>> curve_points("abs(x)", -1, 1, 3)
    [[-1.0, 1.0], [0.0, 0.0], [1.0, 1.0]]
    """
    f = parse_formula(formula)
    if f.surface:
        return []
    x = np.linspace(lo, hi, n)
    y = f(x, np.zeros_like(x))
    return [
        [round(float(a), 4), round(float(b), 4)] if np.isfinite(b) else None
        for a, b in zip(x, y, strict=True)
    ]


def boundary_segments(formula: str, extent: list[float], n: int = 81) -> list[list[float]]:
    """Return the zero level of a surface f(x₁, x₂) as line segments, to draw it.

    The level is found cell by cell on an ``n`` × ``n`` grid over ``extent`` (marching
    squares): where f changes sign along a cell's edge, the crossing is placed by linear
    interpolation, and a cell's crossings are joined in pairs.

    Parameters
    ----------
    formula : str
        A formula that names ``x2`` (a curve's formula gives its curve's level too).
    extent : list of float
        [x₁ low, x₁ high, x₂ low, x₂ high].
    n : int

    Returns
    -------
    list of [x1, x2, x1, x2]
        The segments' ends, rounded to 4 decimals.

    Examples
    --------
    >>> boundary_segments("x2 - 0.5", [-1, 1, -1, 1], n=3)
    [[0.0, 0.5, -1.0, 0.5], [1.0, 0.5, 0.0, 0.5]]
    """
    f = parse_formula(formula)
    x0, x1, y0, y1 = (float(v) for v in extent)
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    g = f.boundary(X, Y)
    # the corners of each cell, in order round it: (row offset, column offset)
    corners = [(0, 0), (0, 1), (1, 1), (1, 0)]
    values = [g[r : n - 1 + r, c : n - 1 + c] for r, c in corners]
    xs = [X[r : n - 1 + r, c : n - 1 + c] for r, c in corners]
    ys = [Y[r : n - 1 + r, c : n - 1 + c] for r, c in corners]
    crossings = []  # per edge: whether it crosses, and where
    with np.errstate(all="ignore"):
        for k in range(4):
            p, q = values[k], values[(k + 1) % 4]
            cross = ((p > 0) != (q > 0)) & np.isfinite(p) & np.isfinite(q)
            t = np.where(cross, p / (p - q), 0.0)
            where_x = xs[k] + t * (xs[(k + 1) % 4] - xs[k])
            where_y = ys[k] + t * (ys[(k + 1) % 4] - ys[k])
            crossings.append((cross, where_x, where_y))
    segments = []
    for i, j in zip(*np.nonzero(np.any([c[0] for c in crossings], axis=0)), strict=True):
        ends = [(float(wx[i, j]), float(wy[i, j])) for cross, wx, wy in crossings if cross[i, j]]
        for a, b in zip(ends[0::2], ends[1::2], strict=False):
            segments.append([round(a[0], 4), round(a[1], 4), round(b[0], 4), round(b[1], 4)])
    return segments


def generate(
    name: str, n: int, noise: float, rng: np.random.Generator, formula: str = DEFAULT_FORMULA
) -> Data:
    """Generate a built-in data set of ``n`` points in random order.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS`.
    n : int
        Number of points (≥ 2).
    noise : float
        In percent, 0–50: how far the points are moved at random.
    rng : numpy.random.Generator
    formula : str
        For ``curve`` and ``surface``: the formula (see :func:`parse_formula`). A
        curve's points are uniform on [−6, 6]², class 1 where x₂ > f(x₁) (or where
        f(x₁, x₂) > 0), else class 0; a surface's target is f.

    Returns
    -------
    Data

    Raises
    ------
    ValueError
        An unknown name; for a formula, ``formula: <reason>``: it is refused by
        :func:`parse_formula`, is not a number at some points, or puts every point
        in one class.

    Examples
    --------
    >>> d = generate("three", 9, noise=0, rng=np.random.default_rng(0))
    >>> d.kind, sorted(set(d.target.tolist()))
    ('multiclass', [0, 1, 2])
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")
    if name in FROM_FORMULA:
        points, target = _from_formula(name, int(n), float(noise) / 100, rng, formula)
    else:
        points, target = _GENERATORS[name](int(n), float(noise) / 100, rng)
    order = rng.permutation(len(points))
    points, target = points[order], target[order]
    if name in REGRESSION:
        return Data(points, target.astype(float), "regression")
    k = 3 if name == "three" else 2
    return Data(
        points, target.astype(int), "multiclass" if k > 2 else "binary", [str(c) for c in range(k)]
    )


# ---------------------------------------------------------------------------- CSV
@dataclass
class Table:
    r"""An uploaded CSV file, checked: its columns and which of them are numeric.

    Attributes
    ----------
    name : str
        The file name, for messages.
    frame : pandas.DataFrame
    numeric : list of str
        The columns of numbers: every cell a finite number or empty, two numbers at
        least.
    missing : dict of str to int
        The number of missing (empty) cells of each column.

    Examples
    --------
    >>> t = read_csv(b"a,b,c\n1,,x\n3,4,y\n5,6,\n", "t.csv")
    >>> t.numeric, t.columns, t.missing
    (['a', 'b'], ['a', 'b', 'c'], {'a': 0, 'b': 1, 'c': 1})
    """

    name: str
    frame: Any
    numeric: list[str]
    missing: dict[str, int] = field(default_factory=dict)

    @property
    def columns(self) -> list[str]:
        """Every column name, in the file's order."""
        return [str(c) for c in self.frame.columns]


def read_csv(data: bytes, name: str = "upload.csv") -> Table:
    """Check and parse an uploaded CSV file.

    Parameters
    ----------
    data : bytes
        The file's contents (at most :data:`MAX_UPLOAD_BYTES`).
    name : str
        The file name, for messages.

    Returns
    -------
    Table

    Raises
    ------
    ValueError
        The file is too big, empty, not text, not comma-separated values, has more
        than :data:`MAX_UPLOAD_COLUMNS` fields in a row, fewer than two numeric
        columns, fewer than 2 or more than :data:`MAX_UPLOAD_ROWS` rows; the message
        says which, and what would do.

    Notes
    -----
    Every check takes time linear in the file's size: the rows' widths are counted
    before pandas reads the file (pandas takes the extra fields of a wide first row as
    an index of as many levels, in time that grows with their number).

    Examples
    --------
    >>> read_csv(b"", "empty.csv")
    Traceback (most recent call last):
    ...
    ValueError: empty.csv is empty
    """
    import pandas as pd

    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"{name} is too big: {len(data):,} bytes; the playground takes CSV files of at "
            f"most {MAX_UPLOAD_BYTES:,} bytes"
        )
    if not data.strip():
        raise ValueError(f"{name} is empty")
    if b"\x00" in data[:4096]:
        raise ValueError(f"{name} is not a CSV file: it holds binary data, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{name} is not a CSV file: it is not UTF-8 text") from None
    header = [c.strip() for c in _first_row_checking_widths(text, name)]
    try:
        frame = pd.read_csv(io.StringIO(text))
    except pd.errors.EmptyDataError:
        raise ValueError(f"{name} is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise ValueError(f"{name} is not a valid CSV file: {detail}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] < 2:
        raise ValueError(
            f"{name} is not a CSV file with columns: found {frame.shape[1]} column; the "
            "playground needs two numeric columns for the plane and a target column, "
            "separated by commas"
        )
    twice = sorted(c for c, n in collections.Counter(header).items() if n > 1)
    if twice or len(set(frame.columns)) != frame.shape[1]:
        which = f" ({', '.join(map(repr, twice))})" if twice else ""
        raise ValueError(f"{name} has two columns of the same name{which}; name each column once")
    if len(frame) < 2:
        raise ValueError(f"{name} has {len(frame)} data rows; training needs at least 2")
    if len(frame) > MAX_UPLOAD_ROWS:
        raise ValueError(
            f"{name} has {len(frame):,} rows; the playground takes at most "
            f"{MAX_UPLOAD_ROWS:,} (take a sample of the rows)"
        )
    from nnmath.preprocessing import missing_mask

    missing = {c: int(missing_mask(frame[c].to_numpy()).sum()) for c in frame.columns}
    numeric = []
    for c in frame.columns:
        if frame[c].dtype.kind not in "iuf":
            continue
        values = frame[c].to_numpy(dtype=float)
        numbers = values[~np.isnan(values)]
        if len(numbers) >= 2 and np.isfinite(numbers).all():
            numeric.append(c)
    if len(numeric) < 2:
        raise ValueError(
            f"{name} has {len(numeric)} numeric column{'s' * (len(numeric) != 1)} "
            f"({', '.join(numeric) or 'none'}); the plane needs two columns of numbers "
            "(empty cells may be among them)"
        )
    return Table(name, frame, numeric, missing)


def _first_row_checking_widths(text: str, name: str) -> list[str]:
    """Return the first row of a CSV text (its header), checking every row's width.

    Raises
    ------
    ValueError
        A row has more than MAX_UPLOAD_COLUMNS fields, or a field is longer than the
        csv module reads (131,072 characters); the message names the line.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    first: list[str] | None = None
    try:
        for row in reader:
            if first is None and row:  # pandas skips blank lines before the header too
                first = row
            if len(row) > MAX_UPLOAD_COLUMNS:
                raise ValueError(
                    f"{name} has {len(row):,} columns (line {reader.line_num}); the "
                    f"playground takes at most {MAX_UPLOAD_COLUMNS} columns: keep the two "
                    "to draw and the target"
                )
    except csv.Error as exc:
        raise ValueError(
            f"{name} is not a valid CSV file: {exc} (line {reader.line_num})"
        ) from None
    return first or []


def _task(values: np.ndarray) -> str:
    """Choose classification for text, booleans and few distinct integers; else regression."""
    if values.dtype.kind in "iub":
        return "classification" if len(np.unique(values)) <= MAX_CLASSES else "regression"
    if values.dtype.kind == "f":
        integral = np.all(values == np.round(values))
        few = len(np.unique(values)) <= MAX_CLASSES
        return "classification" if integral and few else "regression"
    return "classification"


def csv_data(table: Table, x1: str, x2: str, target: str, missing: str = "drop") -> Data:
    r"""Return the plane and target of a checked table.

    x₁ and x₂ are standardized, (x − μ)/s, and a numeric (regression) target too.
    Rows with a missing cell in one of the three columns are counted and, by
    ``missing``, left out or filled: an empty cell of x₁, x₂ or a numeric target takes
    its column's median; a row without a class label is left out either way (a label
    is not made up). ``Data.missing`` says what was done.

    Parameters
    ----------
    table : Table
    x1, x2 : str
        Two different numeric columns.
    target : str
        Any other column. Text, booleans and integers with at most 20 distinct
        values are classes; other numbers are a regression target.
    missing : {"drop", "fill"}
        Leave out the rows with missing cells, or fill the cells.

    Returns
    -------
    Data

    Raises
    ------
    ValueError
        A column is missing, not numeric, used twice; fewer than 2 rows are left; the
        target has one class only, or more than 20 classes.

    Examples
    --------
    >>> t = read_csv(b"a,b,label\n0,0,no\n1,2,yes\n2,4,yes\n", "t.csv")
    >>> d = csv_data(t, "a", "b", "label")
    >>> d.kind, d.classes, d.target.tolist()
    ('binary', ['no', 'yes'], [0, 1, 1])
    >>> t = read_csv(b"a,b,y\n0,,1.5\n1,2,2.5\n2,4,0.5\n", "t.csv")
    >>> csv_data(t, "a", "b", "y", missing="fill").missing["filled"]
    1
    """
    from nnmath.preprocessing import missing_mask

    if missing not in ("drop", "fill"):
        raise ValueError(f"missing: must be 'drop' or 'fill'; got {missing!r}")
    frame = table.frame
    for setting, col in (("x1_column", x1), ("x2_column", x2), ("target_column", target)):
        if col not in table.columns:
            raise ValueError(
                f"{setting}: {table.name} has no column {col!r}; its columns are "
                f"{', '.join(table.columns)}"
            )
    for setting, col in (("x1_column", x1), ("x2_column", x2)):
        if col not in table.numeric:
            raise ValueError(
                f"{setting}: column {col!r} is not numeric; the plane's columns must be "
                f"numbers: choose one of {', '.join(table.numeric)}"
            )
    if x1 == x2:
        raise ValueError(f"x2_column: {x1!r} is already x₁; choose two different columns")
    if target in (x1, x2):
        raise ValueError(
            f"target_column: {target!r} is drawn on the plane; the target must be another column"
        )
    values = frame[target].to_numpy()
    points = frame[[x1, x2]].to_numpy(dtype=float)
    gaps = {c: missing_mask(frame[c].to_numpy()) for c in (x1, x2, target)}
    any_gap = gaps[x1] | gaps[x2] | gaps[target]
    numeric_target = (
        target in table.numeric and _task(values[~gaps[target]].astype(float)) == "regression"
    )
    if missing == "drop":
        keep = ~any_gap
    else:  # a missing class label is not made up: that row is left out
        keep = ~gaps[target] if not numeric_target else np.ones(len(values), bool)
    medians: dict[str, float] = {}
    if missing == "fill":  # the median of the column's cells in the rows kept
        for j, col in enumerate((x1, x2)):
            if (gaps[col] & keep).any():
                medians[col] = float(np.median(points[~gaps[col] & keep, j]))
                points[gaps[col], j] = medians[col]
        if numeric_target and gaps[target].any():
            medians[target] = float(np.median(values[~gaps[target]].astype(float)))
            values = values.astype(float)
            values[gaps[target]] = medians[target]
    report = {
        "policy": missing,
        "rows": int(any_gap.sum()),
        "left_out": int((any_gap & ~keep).sum()),
        "filled": int((any_gap & keep).sum()),
        "by_column": {c: int(gaps[c].sum()) for c in (x1, x2, target) if gaps[c].any()},
        "medians": medians,
    }
    kept = int(keep.sum())
    if kept < 2:
        raise ValueError(
            f"missing: {kept} row{'s' * (kept != 1)} of {table.name} "
            f"{'are' if kept != 1 else 'is'} left without missing cells in {x1!r}, "
            f"{x2!r} and {target!r}; training needs 2 at least: fill the cells "
            "(missing = 'fill') or choose other columns"
        )
    points, values = points[keep], values[keep]
    scale = points.std(axis=0)
    points = (points - points.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    axes = (f"{x1} (standardized)", f"{x2} (standardized)")
    if _task(values) == "regression":
        y = values.astype(float)
        spread = y.std()
        y = (y - y.mean()) / (spread if spread > 0 else 1.0)
        return Data(points, y, "regression", [], axes, f"{target} (standardized)", report)
    if values.dtype.kind == "f":
        labels = values.astype(np.int64)  # 0.0 and 1.0 are the classes 0 and 1
    else:
        labels = values.astype(str) if values.dtype.kind in "OUSb" else values
    classes, index = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"target_column: column {target!r} has one class only ({str(classes[0])!r}); "
            "classification needs at least two"
        )
    if len(classes) > MAX_CLASSES:
        raise ValueError(
            f"target_column: column {target!r} has {len(classes)} distinct labels; the "
            f"playground draws at most {MAX_CLASSES} classes"
        )
    kind = "binary" if len(classes) == 2 else "multiclass"
    return Data(points, index.astype(int), kind, [str(c) for c in classes], axes, target, report)


@functools.lru_cache(maxsize=1)
def previews_of_data_sets() -> dict:
    """Draw a small picture of every built-in data set (200 points, no noise).

    Returns
    -------
    dict
        name → {"kind", "points" (200 × 2), "target" (200; a regression's scaled to
        [−1, 1])}, as the page's data-set buttons draw them.

    Examples
    --------
    >>> sorted(previews_of_data_sets()["circle"])
    ['kind', 'points', 'target']
    """
    out = {}
    for name in DATASETS:
        data = generate(name, 200, 0, np.random.default_rng(0))
        target = data.target
        if data.kind == "regression":
            target = target / max(float(np.abs(target).max()), 1e-9)
        out[name] = {
            "kind": data.kind,
            "points": np.round(data.points, 2).tolist(),
            "target": np.round(target, 3).tolist(),
        }
    return out
