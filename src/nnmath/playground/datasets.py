"""The playground's data: built-in data sets on the plane, the features, uploaded CSV.

Every data set is a set of points (x₁, x₂) with a target:

- classification: ``circle`` (a disc inside a ring), ``xor`` (the four quadrants),
  ``gauss`` (two Gaussian blobs), ``spiral`` (two interleaved spirals) and ``three``
  (three Gaussian blobs, three classes); targets are class indices 0, 1, (2);
- regression: ``plane`` (y = (x₁ + x₂)/10) and ``multigauss`` (Gaussian bumps of either
  sign); targets are numbers in about [−1, 1].

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

import collections
import csv
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "FEATURES",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_COLUMNS",
    "MAX_UPLOAD_ROWS",
    "REGRESSION",
    "Data",
    "Table",
    "csv_data",
    "features",
    "generate",
    "read_csv",
]

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "three")
REGRESSION = ("plane", "multigauss")
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


def generate(name: str, n: int, noise: float, rng: np.random.Generator) -> Data:
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

    Returns
    -------
    Data

    Examples
    --------
    >>> d = generate("three", 9, noise=0, rng=np.random.default_rng(0))
    >>> d.kind, sorted(set(d.target.tolist()))
    ('multiclass', [0, 1, 2])
    """
    if name not in _GENERATORS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}")
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
        The columns with numbers only (no missing values).

    Examples
    --------
    >>> t = read_csv(b"a,b,c\n1,2,x\n3,4,y\n", "t.csv")
    >>> t.numeric, t.columns
    (['a', 'b'], ['a', 'b', 'c'])
    """

    name: str
    frame: Any
    numeric: list[str]

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
    numeric = [
        c
        for c in frame.columns
        if frame[c].dtype.kind in "iuf" and np.isfinite(frame[c].to_numpy(dtype=float)).all()
    ]
    if len(numeric) < 2:
        raise ValueError(
            f"{name} has {len(numeric)} numeric column{'s' * (len(numeric) != 1)} without "
            f"missing values ({', '.join(numeric) or 'none'}); the plane needs two"
        )
    return Table(name, frame, numeric)


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


def csv_data(table: Table, x1: str, x2: str, target: str) -> Data:
    r"""Return the plane and target of a checked table.

    x₁ and x₂ are standardized, (x − μ)/s, and a numeric (regression) target too.

    Parameters
    ----------
    table : Table
    x1, x2 : str
        Two different numeric columns.
    target : str
        Any other column. Text, booleans and integers with at most 20 distinct
        values are classes; other numbers are a regression target.

    Returns
    -------
    Data

    Raises
    ------
    ValueError
        A column is missing, not numeric, used twice, or the target has missing
        values, one class only, or more than 20 classes.

    Examples
    --------
    >>> t = read_csv(b"a,b,label\n0,0,no\n1,2,yes\n2,4,yes\n", "t.csv")
    >>> d = csv_data(t, "a", "b", "label")
    >>> d.kind, d.classes, d.target.tolist()
    ('binary', ['no', 'yes'], [0, 1, 1])
    """
    from nnmath.preprocessing import missing_mask

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
                f"{setting}: column {col!r} is not numeric (or has missing values); the "
                f"plane's columns must be numbers: choose one of {', '.join(table.numeric)}"
            )
    if x1 == x2:
        raise ValueError(f"x2_column: {x1!r} is already x₁; choose two different columns")
    if target in (x1, x2):
        raise ValueError(
            f"target_column: {target!r} is drawn on the plane; the target must be another column"
        )
    values = frame[target].to_numpy()
    missing = missing_mask(values)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"target_column: column {target!r} has {len(rows)} missing "
            f"value{'s' * (len(rows) > 1)} (first in data row {rows[0] + 1}); fill or drop them"
        )
    points = frame[[x1, x2]].to_numpy(dtype=float)
    scale = points.std(axis=0)
    points = (points - points.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    axes = (f"{x1} (standardized)", f"{x2} (standardized)")
    if _task(values) == "regression":
        y = values.astype(float)
        spread = y.std()
        y = (y - y.mean()) / (spread if spread > 0 else 1.0)
        return Data(points, y, "regression", [], axes, f"{target} (standardized)")
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
    return Data(points, index.astype(int), kind, [str(c) for c in classes], axes, target)
