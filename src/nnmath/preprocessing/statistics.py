"""A table's statistics in one pass over its batches, and each column's kind.

:class:`TableStatistics` reads a table in batches of rows — all of it at once, or a
data set bigger than memory one batch at a time — and gathers, in memory that does not
grow with the number of rows:

* each column's kind, decided in the open (:class:`Decision`): numbers, categories,
  dates and times, or dropped — an identifier (a distinct text in every row, a count
  of the rows 1, 2, 3, …, or distinct whole numbers increasing with the row or in a
  column named like an identifier: :func:`looks_like_identifier`), free text (more
  than :data:`MAX_CATEGORIES` distinct values, or mostly distinct ones), or a column
  with no values;
* for numbers and dates, the mean and variance (Chan's pairwise update), the smallest
  and largest value, the number of missing cells and the median and quartiles of at
  most :data:`MEDIAN_SAMPLE` cells (exact below that, else of a uniform random sample
  drawn from the seed);
* for categories, each value's count.

From these, :meth:`TableStatistics.finish` gives the fitted state of a
:class:`~nnmath.preprocessing.TabularPreprocessor`: missing cells are filled with the
median (numbers, dates) or the most frequent value (categories, the smallest on a tie),
as scikit-learn's ``SimpleImputer`` fills them. Each number is then scaled robustly
(the default): centred on its median and divided by its interquartile range, its
smallest and largest values kept to tell values beyond them at prediction time; or, with
``scaling="standard"``, standardized with the mean and standard deviation of the filled
column, as ``StandardScaler`` after the imputer would.

A text column whose cells are mostly numbers holds numbers: its other cells ("forty",
"3,825") are reported (:class:`BadCellsError`) rather than turning the column into
categories. :class:`TargetStatistics` does the same pass for the column to predict.

Example
-------
>>> import numpy as np
>>> stats = TableStatistics(target="y")
>>> stats.update({"x": np.array([1.0, np.nan, 3.0, 10.0]), "y": np.array([0, 1, 0, 1])})
>>> state = stats.finish()
>>> state["fill"]["x"], state["numeric"]["x"]
(3.0, {'center': 3.0, 'scale': 4.5, 'min': 1.0, 'max': 10.0})
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from nnmath.preprocessing.cells import (
    column,
    column_names,
    days,
    guess_date_format,
    has_thousands_separator,
    missing_mask,
    numbers,
    texts,
)

__all__ = [
    "COUNTED_VALUES",
    "MAX_CATEGORIES",
    "LOG_SKEWNESS",
    "MEDIAN_SAMPLE",
    "MIN_IDENTIFIER_ROWS",
    "NUMERIC_SHARE",
    "SCALINGS",
    "BadCellsError",
    "Decision",
    "MissingCellsError",
    "TableStatistics",
    "TargetStatistics",
    "looks_like_identifier",
    "skewness",
]

#: A column of numbers ≥ 0 whose skewness is above this (a long right tail: incomes,
#: counts, populations) is scaled on ln(1 + x), where its small values, squeezed together
#: by the large ones, spread apart.
LOG_SKEWNESS = 2.0

#: A text column with more distinct values than this is free text or an identifier, and
#: is dropped (``--categorical`` keeps it).
MAX_CATEGORIES = 100

#: A text column with a distinct value in every row is an identifier when it has at
#: least this many rows (in fewer, categories may all differ by chance).
MIN_IDENTIFIER_ROWS = 20

#: The median of a column is that of at most this many of its cells.
MEDIAN_SAMPLE = 100_000

#: Distinct values counted per text column before counting stops.
COUNTED_VALUES = 10_000

#: A text column holds numbers when at least this share of its present cells are
#: numbers (or numbers with a thousands separator).
NUMERIC_SHARE = 0.8
# (and a text column of dates, when this share of its first 1,000 present cells are dates)

#: How numbers are scaled: "robust", x' = f((x − median) / IQR) with the smooth clip
#: f(z) = z / √(1 + (z/3)²); "standard", x' = (x − μ) / σ (model files written before
#: robust scaling existed).
SCALINGS = ("robust", "standard")

#: How many bad or missing cells an error lists.
_SHOWN = 5


@dataclass(frozen=True)
class Decision:
    """What the preprocessing does with one column, and why when the user should know.

    Attributes
    ----------
    column : str
    kind : str
        "numeric", "category", "date" or "drop".
    note : str or None
        What was done and why ("a distinct value in every row: an identifier; dropped"),
        for a column whose treatment is not the obvious one; None otherwise.

    Examples
    --------
    >>> Decision("x", "numeric").note is None
    True
    """

    column: str
    kind: str
    note: str | None = None


class BadCellsError(ValueError):
    """A column of numbers (or dates) with cells that are not.

    Attributes
    ----------
    column : str
    rows : list of int
        The rows of the first few bad cells, as numbered in the table (from 0).
    cells : list of str
        Their text.
    count : int
        How many bad cells there are in all.
    thousands : bool
        Every bad cell shown is a number written with a thousands separator.
    kind : str
        "numbers" or "dates".

    Examples
    --------
    >>> str(BadCellsError("w", [4], ["forty"], 1))
    "column 'w' holds numbers, but 1 cell is not a number: row 4 'forty'"
    """

    def __init__(self, column, rows, cells, count, thousands=False, kind="numbers"):
        self.column, self.rows, self.cells = column, list(rows), list(cells)
        self.count, self.thousands, self.kind = int(count), bool(thousands), kind
        shown = ", ".join(f"row {r} {c!r}" for r, c in zip(self.rows, self.cells, strict=True))
        what = "a number" if kind == "numbers" else "a date"
        super().__init__(
            f"column {column!r} holds {kind}, but {count} cell{'s are' if count > 1 else ' is'} "
            f"not {what}: {shown}{' …' if count > len(self.rows) else ''}"
        )


class MissingCellsError(ValueError):
    """Missing cells where none may be (``impute=False``).

    Attributes
    ----------
    column : str
    rows : list of int
        The first few rows with a missing cell (from 0).
    count : int

    Examples
    --------
    >>> str(MissingCellsError("x", [3], 1))
    "column 'x' has 1 missing value (first at row 3)"
    """

    def __init__(self, column, rows, count):
        self.column, self.rows, self.count = column, list(rows), int(count)
        super().__init__(
            f"column {column!r} has {count} missing value{'s' * (count > 1)} "
            f"(first at row {self.rows[0]})"
        )


class _Moments:
    """Count, mean and sum of squared deviations, merged batch by batch (Chan et al.)."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, x: np.ndarray) -> None:
        n_b = x.size
        if n_b == 0:
            return
        with np.errstate(over="ignore", invalid="ignore"):  # (checked when finished)
            mean_b = float(x.mean())
            m2_b = float(((x - mean_b) ** 2).sum())
            self.merge(n_b, mean_b, m2_b)

    def merge(self, n_b: int, mean_b: float, m2_b: float) -> None:
        n = self.n + n_b
        delta = mean_b - self.mean
        self.mean += delta * n_b / n
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.n = n


class _Sample:
    """A uniform random sample of at most ``size`` values (the smallest random keys)."""

    def __init__(self, size: int, rng: np.random.Generator):
        self.size, self.rng = size, rng
        self.values = np.empty(0)
        self.keys = np.empty(0)

    def add(self, x: np.ndarray) -> None:
        if x.size == 0:
            return
        values = np.concatenate([self.values, x])
        keys = np.concatenate([self.keys, self.rng.random(x.size)])
        if values.size > self.size:
            keep = np.argpartition(keys, self.size)[: self.size]
            values, keys = values[keep], keys[keep]
        self.values, self.keys = values, keys

    def median(self) -> float:
        return float(np.median(self.values))

    def quantiles(self, q) -> np.ndarray:
        return np.quantile(self.values, q)


@dataclass
class _Column:
    """What one pass gathers about one column."""

    name: str
    sample: _Sample
    kind: str | None = None  # None until a batch with values decides it
    forced: bool = False
    rows: int = 0
    missing: int = 0
    moments: _Moments = field(default_factory=_Moments)
    counts: Counter = field(default_factory=Counter)
    overflow: bool = False  # more than COUNTED_VALUES distinct values
    counter_next: float | None = None  # the next value of a count of the rows 1, 2, 3, …
    counter: bool = True
    increasing: bool = True  # distinct whole numbers, each larger than the one before
    last: float | None = None
    distinct: set | None = field(default_factory=set)  # None: not distinct whole numbers
    bad_rows: list = field(default_factory=list)
    bad_cells: list = field(default_factory=list)
    bad: int = 0
    thousands: bool = True
    date_format: str | None = None
    daily: bool = False
    low: float = math.inf  # the smallest and largest value seen
    high: float = -math.inf


class TableStatistics:
    """One pass over a table's batches.

    It gathers column kinds, means, variances, medians and categories (see the module's
    docstring).

    Parameters
    ----------
    target : str or None
        The column to predict: left out of the features.
    drop, categorical, numeric : collection of str
        Columns to drop, to one-hot encode whatever they hold, or to read as numbers
        (a cell that is not one then counts as missing).
    impute : bool
        Fill missing cells (True), or refuse them with :class:`MissingCellsError`.
    seed : int
        Draws the median's sample of a column of more than :data:`MEDIAN_SAMPLE` cells.
    scaling : {"robust", "standard"}
        How numbers are scaled (:data:`SCALINGS`): their median, interquartile range and
        range, or their mean and standard deviation.

    Attributes
    ----------
    n_rows : int
        Rows seen so far.
    decisions : list of Decision
        Set by :meth:`finish`, one per column besides the target, in table order.
    missing : dict
        Set by :meth:`finish`: each column's number of missing cells (the filled ones).

    Examples
    --------
    >>> import numpy as np
    >>> stats = TableStatistics(target="y", drop=["id"])
    >>> stats.update({"id": np.arange(3), "c": np.array(["a", "b", "a"]), "y": np.zeros(3)})
    >>> stats.finish()["categories"]
    {'c': ['a', 'b']}
    >>> [(d.column, d.kind) for d in stats.decisions]
    [('id', 'drop'), ('c', 'category')]
    """

    def __init__(
        self,
        target: str | None = None,
        *,
        drop=(),
        categorical=(),
        numeric=(),
        impute: bool = True,
        seed: int = 0,
        scaling: str = "robust",
    ):
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}; got {scaling!r}")
        self.scaling = scaling
        self.target = target
        self.drop, self.categorical, self.numeric = set(drop), set(categorical), set(numeric)
        both = (self.drop & self.categorical) | (self.drop & self.numeric)
        both |= self.categorical & self.numeric
        if both:
            raise ValueError(f"column {sorted(both)[0]!r} is given two kinds")
        self.impute = impute
        self.seed = seed
        self.n_rows = 0
        self.columns: dict[str, _Column] | None = None
        self.decisions: list[Decision] = []
        self.missing: dict[str, int] = {}

    # ---------------------------------------------------------------- one batch
    def update(self, table, rows: np.ndarray | None = None) -> None:
        """Add a batch of rows (a DataFrame or a dict of 1-D arrays).

        ``rows`` are the batch's row numbers in the whole table (from 0), for messages;
        by default the batch continues the rows seen so far. Raises
        :class:`MissingCellsError` (with ``impute=False``) and ValueError when the
        batch's columns differ from the first batch's.
        """
        names = [c for c in column_names(table) if c != self.target]
        if self.columns is None:
            if not names:
                raise ValueError("the data has no feature columns besides the target")
            unknown = (self.drop | self.categorical | self.numeric) - set(names)
            if unknown:
                raise ValueError(f"the data has no column {sorted(unknown)[0]!r}")
            rng = np.random.SeedSequence(self.seed)
            self.columns = {}
            for name, seed in zip(names, rng.spawn(len(names)), strict=True):
                c = _Column(name, _Sample(MEDIAN_SAMPLE, np.random.default_rng(seed)))
                if name in self.drop:
                    c.kind, c.forced = "drop", True
                elif name in self.categorical:
                    c.kind, c.forced = "category", True
                elif name in self.numeric:
                    c.kind, c.forced = "numeric", True
                self.columns[name] = c
        elif names != list(self.columns):
            raise ValueError(
                f"the batch's columns {names} differ from the first batch's {list(self.columns)}"
            )
        n = len(column(table, names[0]))
        if rows is None:
            rows = np.arange(self.n_rows, self.n_rows + n)
        self.n_rows += n
        for name, c in self.columns.items():
            if c.kind == "drop":
                continue
            values = column(table, name)
            missing = missing_mask(values)
            n_missing = int(missing.sum())
            if n_missing and not self.impute:
                raise MissingCellsError(name, rows[missing][:_SHOWN], n_missing)
            if c.kind is None and n_missing < n:
                c.kind = _kind_of(values[~missing])
                if c.kind == "date" and values.dtype.kind != "M":
                    first = values[~missing][0]
                    c.date_format = guess_date_format(str(first))
            c.rows += n
            c.missing += n_missing
            if c.kind in ("numeric", "date"):
                self._add_numbers(c, values, missing, rows)
            elif c.kind == "category":
                self._add_categories(c, values, missing)

    def _add_numbers(self, c: _Column, values, missing, rows) -> None:
        if c.kind == "numeric":
            x, bad = numbers(values)
        else:
            x, bad = days(values, c.date_format)
        if bad.any():
            where = np.flatnonzero(bad)
            c.bad += len(where)
            for i in where[: _SHOWN - len(c.bad_rows)] if len(c.bad_rows) < _SHOWN else []:
                c.bad_rows.append(int(rows[i]))
                c.bad_cells.append(str(values[i]))
            c.thousands = c.thousands and all(
                has_thousands_separator(values[i]) for i in where[:_SHOWN]
            )
            c.missing += len(where)  # counted as missing when the column is forced
        present = x[~np.isnan(x)]
        c.moments.add(present)
        c.sample.add(present)
        if present.size:
            c.low = min(c.low, float(present.min()))
            c.high = max(c.high, float(present.max()))
        if c.kind == "date" and not c.daily and present.size:
            c.daily = bool((present != np.floor(present)).any())
        if c.kind == "numeric":
            self._add_identifier_evidence(c, x, present)
        if c.counter:  # a count of the rows 1, 2, 3, … in file order?
            whole = present.size == x.size and bool((x == np.floor(x)).all())
            start = x[0] if c.counter_next is None and x.size else c.counter_next
            with np.errstate(over="ignore", invalid="ignore"):
                steps = np.diff(x) == 1
            if whole and x.size and x[0] == start and bool(steps.all()):
                c.counter_next = float(x[-1] + 1)
            else:
                c.counter = False

    @staticmethod
    def _add_identifier_evidence(c: _Column, x: np.ndarray, present: np.ndarray) -> None:
        """Follow whether a numeric column holds distinct whole numbers, and in order."""
        whole = bool((present == np.floor(present)).all())
        if c.increasing:
            with np.errstate(over="ignore", invalid="ignore"):
                rising = bool((np.diff(x) > 0).all()) and (
                    c.last is None or not x.size or x[0] > c.last
                )
            c.increasing = whole and present.size == x.size and rising
            if x.size:
                c.last = float(x[-1])
        if c.distinct is not None and not looks_like_identifier(c.name):
            c.distinct = None  # only a column named like an identifier needs its values
        if c.distinct is not None:
            values = present.tolist()
            if not whole or len(set(values)) < len(values) or not c.distinct.isdisjoint(values):
                c.distinct = None
            elif len(c.distinct) + len(values) > MEDIAN_SAMPLE:
                c.distinct = None  # too many to follow: not judged an identifier by its name
            else:
                c.distinct.update(values)

    def _add_categories(self, c: _Column, values, missing) -> None:
        if c.overflow:
            return
        c.counts.update(texts(values[~missing]).tolist())
        if len(c.counts) > COUNTED_VALUES and not c.forced:
            c.overflow = True

    # ---------------------------------------------------------------- the result
    def finish(self) -> dict:
        """Return the fitted state, the preprocessor's as its ``to_document`` writes it.

        The state is as :meth:`TabularPreprocessor.to_document
        <nnmath.preprocessing.TabularPreprocessor.to_document>` writes it; build the
        preprocessor with :meth:`TabularPreprocessor.from_statistics
        <nnmath.preprocessing.TabularPreprocessor.from_statistics>`. Sets :attr:`decisions`.
        Raises :class:`BadCellsError` for a column of numbers with cells that are not numbers
        (unless given in ``numeric``), and ValueError when no column is left to learn from.
        """
        if self.columns is None or self.n_rows == 0:
            raise ValueError("the data has no rows")
        state: dict = {
            "target": self.target,
            "feature_names_in": [],
            "numeric": {},
            "categories": {},
            "dates": {},
            "fill": {},
            "dropped": {},
            "text_as_missing": [],
            "scaling": self.scaling,
        }
        self.decisions = []
        self.missing = {}
        for name, c in self.columns.items():
            decision = self._decide(c)
            self.decisions.append(decision)
            if decision.kind == "drop":
                state["dropped"][name] = decision.note or "dropped"
                continue
            self.missing[name] = c.missing
            state["feature_names_in"].append(name)
            if decision.kind == "category":
                state["categories"][name] = sorted(c.counts)
                if self.impute:  # the most frequent value; on a tie the smallest
                    top = max(c.counts.values())
                    state["fill"][name] = min(v for v, k in c.counts.items() if k == top)
                continue
            if c.bad and c.forced:
                state["text_as_missing"].append(name)
            fill = c.sample.median()
            if decision.kind == "numeric" and self.scaling == "robust":
                state["numeric"][name] = self._robust(c, fill)
            elif decision.kind == "numeric":
                state["numeric"][name] = self._standard(c, fill)
            else:
                state["dates"][name] = {
                    **self._standard(c, fill),
                    "format": c.date_format,
                    "daily": c.daily,
                }
            if self.impute:
                state["fill"][name] = fill
        if not state["feature_names_in"]:
            raise ValueError(
                "no column is left to learn from: "
                + "; ".join(f"{d.column!r}: {d.note}" for d in self.decisions)
            )
        return state

    def _standard(self, c: _Column, fill: float) -> dict:
        """Return a column's mean and standard deviation once its missing cells are filled."""
        m = c.moments
        # the mean and variance of the column once filled: the observed cells and, as a
        # group of equal values, the filled ones
        filled = _Moments()
        filled.merge(m.n, m.mean, m.m2)
        if self.impute and c.missing:
            filled.merge(c.missing, fill, 0.0)
        scale = math.sqrt(filled.m2 / filled.n)
        if not (math.isfinite(filled.mean) and math.isfinite(scale)):
            raise ValueError(
                f"column {c.name!r} has values too large to standardize (its mean or "
                "standard deviation overflows); rescale it"
            )
        return {"mean": filled.mean, "scale": scale if scale > 0 else 1.0}

    @staticmethod
    def _robust(c: _Column, median: float) -> dict:
        """Return a numeric column's robust scaling: its median, scale and range.

        The scale is the interquartile range q₃ − q₁ of the present cells; where that is
        0 (a column mostly of one value), half the range (max − min) / 2; for a constant
        column, 1. A column of numbers ≥ 0 with a long right tail (skewness above
        :data:`LOG_SKEWNESS`) is scaled on u = ln(1 + x) instead: its "center" and "scale"
        are the median and interquartile range of u, and "log" is True.
        """
        values, low, high = c.sample.values, c.low, c.high
        log = low >= 0 and skewness(values) > LOG_SKEWNESS
        if log:
            values, low, high = np.log1p(values), math.log1p(low), math.log1p(high)
            median = float(np.median(values))
        with np.errstate(over="ignore", invalid="ignore"):
            q1, q3 = np.quantile(values, [0.25, 0.75])
            scale = float(q3 - q1)
        if not (scale > 0 and math.isfinite(scale)):
            with np.errstate(over="ignore"):
                scale = 0.5 * (high - low)
        if not (scale > 0 and math.isfinite(scale)):
            scale = 1.0 if high == low else math.inf
        if not math.isfinite(scale):
            raise ValueError(
                f"column {c.name!r} has values too large to scale (its range overflows); rescale it"
            )
        robust = {"center": median, "scale": scale, "min": c.low, "max": c.high}
        return {**robust, "log": True} if log else robust

    def _decide(self, c: _Column) -> Decision:
        if c.kind == "drop":
            return Decision(c.name, "drop", "dropped (--drop)" if c.forced else None)
        if c.kind is None or c.missing >= c.rows:
            return Decision(c.name, "drop", "no values: dropped")
        if c.kind in ("numeric", "date") and c.bad and not c.forced:
            what = "numbers" if c.kind == "numeric" else "dates"
            raise BadCellsError(c.name, c.bad_rows, c.bad_cells, c.bad, c.thousands, what)
        if c.kind in ("numeric", "date") and c.moments.n == 0:
            return Decision(c.name, "drop", "no values: dropped")
        if c.kind == "numeric":
            present = c.rows - c.missing
            if not c.forced and c.counter and present >= MIN_IDENTIFIER_ROWS:
                return Decision(
                    c.name, "drop", "counts the rows (1, 2, 3, …): an identifier; dropped"
                )
            if not c.forced and present >= MIN_IDENTIFIER_ROWS:
                if c.increasing:
                    return Decision(
                        c.name,
                        "drop",
                        "distinct whole numbers increasing with the row: an identifier; "
                        f"dropped (--numeric {c.name} keeps it)",
                    )
                if c.distinct is not None and looks_like_identifier(c.name):
                    return Decision(
                        c.name,
                        "drop",
                        "distinct whole numbers in a column named like an identifier; "
                        f"dropped (--numeric {c.name} keeps it)",
                    )
            note = None
            if c.bad:
                note = f"{c.bad} cell{'s' * (c.bad > 1)} that are not numbers read as missing"
            return Decision(c.name, "numeric", note)
        if c.kind == "date":
            cycles = "the yearly and daily cycles" if c.daily else "the yearly cycle"
            return Decision(
                c.name, "date", f"dates: read as a number (days) and {cycles} (sine, cosine)"
            )
        distinct, present = len(c.counts), c.rows - c.missing
        if c.forced:
            return Decision(c.name, "category")
        if c.overflow:
            return Decision(
                c.name,
                "drop",
                f"more than {COUNTED_VALUES:,} distinct values: free text or an identifier; "
                "dropped",
            )
        if present >= MIN_IDENTIFIER_ROWS and distinct == present:
            return Decision(c.name, "drop", "a distinct value in every row: an identifier; dropped")
        if distinct > MAX_CATEGORIES or (distinct >= 20 and distinct > present / 2):
            return Decision(
                c.name,
                "drop",
                f"{distinct:,} distinct values in {present:,} rows: free text or an identifier; "
                "dropped",
            )
        return Decision(c.name, "category")


def skewness(x: np.ndarray) -> float:
    """Return the skewness g₁ = m₃ / m₂^(3/2) of values, m_k their k-th central moment.

    The deviations are divided by their largest magnitude first (g₁ does not change), so
    that values up to the largest float do not overflow the moments.

    Parameters
    ----------
    x : ndarray of shape (n,)
        The values, finite.

    Returns
    -------
    float
        g₁; NaN for fewer than two distinct values or a mean that overflows.

    Examples
    --------
    >>> round(skewness(np.array([0.0, 0.0, 0.0, 1.0])), 4)  # m₂ = 3/16, m₃ = 3/32
    1.1547
    """
    with np.errstate(all="ignore"):
        x = np.asarray(x, dtype=np.float64)
        d = x - np.mean(x) if x.size else x
        largest = float(np.max(np.abs(d))) if d.size else 0.0
        if not (largest > 0 and math.isfinite(largest)):
            return math.nan
        d = d / largest
        m2, m3 = float(np.mean(d * d)), float(np.mean(d * d * d))
        return m3 / m2**1.5 if m2 > 0 else math.nan


def looks_like_identifier(name: str) -> bool:
    """Say whether a column's name reads like an identifier's.

    Such names are ``id``, ``key``, ``PID``, ``uuid``, ``*_id``, ``id_*``, ``customerId``
    (a capital "Id", "ID" or "Key" after a lowercase letter or a digit), and the names of
    a table's row names or index written as a column: ``rownames`` (R's ``write.csv``
    and the Rdatasets files), ``row.names``, ``row_number``, ``index``, ``Unnamed: 0``
    (pandas' name for the unnamed first column of a file written with its index).

    Examples
    --------
    >>> [looks_like_identifier(n) for n in ("PID", "user_id", "orderId", "width", "paid")]
    [True, True, True, False, False]
    >>> [looks_like_identifier(n) for n in ("rownames", "Unnamed: 0", "index", "rows")]
    [True, True, True, False]
    """
    words = r"(?:id|key|pid|uuid)"
    lower = name.lower().strip()
    if re.fullmatch(rf"(?:.*[_\s.\-])?{words}|{words}[_\s.\-].*", lower):
        return True
    if re.fullmatch(r"row[_\s.\-]?(?:names?|num(?:ber)?|index)|index|unnamed: ?0", lower):
        return True
    return re.fullmatch(r".*[a-z0-9](?:Id|ID|Key)", name) is not None


def _kind_of(present: np.ndarray) -> str:
    """Decide the kind of a column from its present cells: numbers, dates or categories."""
    kind = present.dtype.kind
    if kind == "b" or (kind == "O" and all(isinstance(v, (bool, np.bool_)) for v in present)):
        return "category"
    if kind in "iuf":
        return "numeric"
    if kind == "M":
        return "date"
    x, bad = numbers(present)
    numbers_like = (~bad).sum() + sum(has_thousands_separator(v) for v in present[bad][:1000])
    if numbers_like >= NUMERIC_SHARE * present.size:
        return "numeric"
    first = str(present[0])
    fmt = guess_date_format(first) if any(ch.isdigit() for ch in first) else None
    if fmt is not None:
        _, bad = days(present[:1000], fmt)
        if (~bad).sum() >= NUMERIC_SHARE * min(present.size, 1000):
            return "date"
    return "category"


class TargetStatistics:
    """One pass over the column to predict: the task, the classes or the mean and scale.

    Labels are text and booleans; numbers are a quantity to regress unless they look
    like labels: two distinct whole numbers, or at most :data:`MAX_INTEGER_CLASSES`
    consecutive whole numbers (no gaps) with :data:`ROWS_PER_CLASS` rows or more each on
    average. Whole numbers with gaps (0, 1, 2, 3, 7, 12) or with few rows each are a count.
    :attr:`rule` says which rule decided.

    Parameters
    ----------
    task : {"classification", "regression"} or None
        None: inferred from the values.
    max_classes : int
        Distinct values are counted up to this many and one more (0: no limit): past
        it, :attr:`too_many` is set (an identifier, usually, or a quantity).

    Attributes
    ----------
    classes : ndarray or None
        The sorted labels (classification), as :meth:`encode` writes them.
    mean, scale : float or None
        The target's mean and standard deviation (regression).
    too_many : bool
        More distinct values than ``max_classes``.
    rule : str or None
        Set by :meth:`finish`: the rule that decided the task, in words
        ("numbers that are not whole: a quantity"; "--task regression" when given).

    Examples
    --------
    >>> import numpy as np
    >>> t = TargetStatistics()
    >>> t.update(np.array([1.5, 2.5, 3.5]))
    >>> t.finish(), t.mean, t.scale
    ('regression', 2.5, 0.816496580927726)
    """

    #: Whole numbers with more distinct values than this are a quantity, not labels.
    MAX_INTEGER_CLASSES = 20

    #: Whole numbers are labels only with at least this many rows per distinct value.
    ROWS_PER_CLASS = 10

    def __init__(self, task: str | None = None, max_classes: int = 1000):
        self.task = task
        self.max_classes = max_classes
        self.counts: Counter = Counter()
        self.numeric: bool | None = None
        self.whole = True
        self.too_many = False
        self.moments = _Moments()
        self.n = 0
        self.mean: float | None = None
        self.scale: float | None = None
        self.classes: np.ndarray | None = None
        self.rule: str | None = None

    def _values(self, values: np.ndarray) -> np.ndarray:
        """Numbers as float64 (when the first batch held numbers), else text."""
        if self.numeric is None:
            _, bad = numbers(values)
            booleans = values.dtype.kind == "b" or (
                values.dtype.kind == "O" and any(isinstance(v, (bool, np.bool_)) for v in values)
            )
            self.numeric = not booleans and values.dtype.kind != "M" and not bad.any()
        if self.numeric:
            x, bad = numbers(values)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValueError(f"the target holds numbers but also {values[i]!r}")
            return x
        return texts(values)

    def update(self, values: np.ndarray) -> None:
        """Add a batch of target values (none missing)."""
        y = self._values(values)
        self.n += len(y)
        if self.numeric:
            self.moments.add(y)
            self.whole = self.whole and bool((y == np.floor(y)).all())
        limit = self.max_classes
        if limit and self.numeric:  # whole numbers: counted far enough to tell a quantity
            limit = max(limit, self.MAX_INTEGER_CLASSES)
        if not self.too_many:
            self.counts.update(y.tolist())
            if limit and len(self.counts) > limit:
                self.too_many = True

    def finish(self) -> str:
        """Decide the task; set :attr:`classes` or :attr:`mean` and :attr:`scale`.

        Raises ValueError for regression on labels that are not numbers.
        """
        if self.n == 0:
            raise ValueError("the target has no values")
        task = self.task
        if task is None:
            task, self.rule = self._decide()
        else:
            self.rule = f"--task {task}"
        if task == "regression":
            if not self.numeric:
                raise ValueError("the target is not numeric; regression needs numbers")
            m = self.moments
            self.mean, self.scale = m.mean, math.sqrt(m.m2 / m.n) or 1.0
        self.task = task
        if task == "classification":
            self.classes = np.sort(self.encode(np.array(list(self.counts), dtype=object)))
        return task

    def _decide(self) -> tuple[str, str]:
        """Return the task the values suggest, and the rule that decided it, in words."""
        if not self.numeric:
            return "classification", "not numbers: labels"
        if not self.whole:
            return "regression", "numbers that are not whole: a quantity"
        k, n = len(self.counts), self.n
        if self.too_many or k > self.MAX_INTEGER_CLASSES:
            return "regression", (
                f"more than {self.MAX_INTEGER_CLASSES} distinct whole numbers: a quantity"
            )
        if k <= 2:
            return "classification", f"{k} distinct whole numbers: labels"
        low, high = min(self.counts), max(self.counts)
        if high - low + 1 > k:
            return "regression", (
                f"{k} distinct whole numbers from {low:g} to {high:g} with gaps: a count or "
                "a quantity"
            )
        if k * self.ROWS_PER_CLASS > n:
            return "regression", (
                f"{k} distinct whole numbers in {n:,} rows, too many for labels "
                f"(fewer than {self.ROWS_PER_CLASS} rows each): a count or a quantity"
            )
        return "classification", (
            f"{k} consecutive whole numbers in {n:,} rows ({self.ROWS_PER_CLASS} or more "
            "each on average): labels"
        )

    def encode(self, values: np.ndarray) -> np.ndarray:
        """Encode target values as the model takes them (after :meth:`finish`).

        Labels become int64 when they are whole numbers, else text; a regression target
        float64.

        Examples
        --------
        >>> t = TargetStatistics()
        >>> t.update(np.array(["1", "0", "1"], dtype=object))
        >>> t.finish(), t.encode(np.array(["0", "1"], dtype=object)).tolist()
        ('classification', [0, 1])
        """
        y = self._values(values)
        if self.task == "classification" and self.numeric:
            if self.whole:
                return y.astype(np.int64)
            return y
        if self.task == "classification":
            return y.astype(str)
        return y
