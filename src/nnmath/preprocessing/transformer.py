"""The fitted table preprocessing: from a table's columns to the network's inputs.

:class:`TabularPreprocessor` turns each column into inputs, one rule per kind:

* numbers: a missing cell takes the fill value (the median), then
  x' = f((x − m) / s) with m the median, s the interquartile range and f the smooth clip
  f(z) = z / √(1 + (z/3)²), as RealMLP scales its inputs (Holzmüller et al., 2024): an
  outlier or a value far beyond the training range stays within (−3, 3), where the
  network was trained, and values near the median are almost unchanged (f(z) ≈ z).
  A column of numbers ≥ 0 with a long right tail (skewness above 2: incomes, counts,
  populations) is scaled the same way on u = ln(1 + x) instead, m and s being u's
  median and interquartile range: its small values, squeezed together by the large
  ones, spread apart (a number below 0 at prediction counts as 0 there).
  With ``scaling="standard"`` (and in model files written before robust scaling),
  x' = (x − μ) / σ;
* categories: one input per category known from training, 1 for the row's category
  and 0 for the others; a missing cell takes the fill value (the most frequent
  category); a category never seen in training is none of the known ones (all 0);
* dates and times: t, the days since 1970-01-01 (a missing cell takes the median),
  gives (t − μ) / s and the yearly cycle sin(2πt/P), cos(2πt/P) with P = 365.2425
  days, plus the daily cycle sin(2πt), cos(2πt) when the training dates had times.

Its fitted state is plain numbers and strings, so a model file holds it as JSON, never
a pickle; :class:`~nnmath.preprocessing.TableStatistics` computes it in one pass.

Example
-------
>>> import numpy as np
>>> table = {"size": np.array([1.0, 2.0, np.nan]), "color": np.array(["red", "blue", "red"])}
>>> pre = TabularPreprocessor().fit(table)
>>> pre.get_feature_names_out()
['size', 'color=blue', 'color=red']
>>> pre.transform({"size": np.array([np.nan]), "color": np.array(["green"])}).round(3)
array([[0., 0., 0.]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from nnmath.document import (
    ModelFileError,
    get,
    hyperparameters_to_document,
    is_number,
    list_of,
    set_hyperparameters,
)
from nnmath.preprocessing.cells import column, column_names, days, missing_mask, numbers, texts
from nnmath.preprocessing.statistics import TableStatistics

__all__ = ["CLIP", "YEAR_DAYS", "InputReport", "TabularPreprocessor", "smooth_clip"]

#: The period of the yearly cycle of a date feature, in days (the mean Gregorian year).
YEAR_DAYS = 365.2425

#: The largest magnitude of a mean, scale or fill value a model file may hold, and the
#: smallest scale: for any input x within ±1e100, x' = (x − μ) / s then stays within
#: ±2e200, finite in float64 (1 / 1e-320, a scale that is finite and positive, is not).
STATISTIC_LIMIT = 1e100
SCALE_MINIMUM = 1e-100

#: The longest date format a model file may hold (pandas' guesses are under 30), and the
#: most distinct ones (each is parsed at load, in a few milliseconds).
MAX_DATE_FORMAT_CHARS = 64
MAX_DATE_FORMATS = 32

#: Two instants every date format of a model file must write and read back (the second
#: in another year, month, day and time, so that a format missing a field is caught).
_DATE_PROBES = ("2001-02-03 04:05:06.789012+00:00", "1987-11-29 23:58:57.123456+00:00")

#: The bound c of the smooth clip f(z) = z / √(1 + (z/c)²), which maps ℝ onto (−c, c).
CLIP = 3.0


def smooth_clip(z: np.ndarray) -> np.ndarray:
    """Return f(z) = z / √(1 + (z/c)²) elementwise, c = :data:`CLIP`; same shape as z.

    f is odd, increasing, f(z) ≈ z near 0 and |f(z)| < c; f'(z) = (1 + (z/c)²)^(−3/2).

    Examples
    --------
    >>> smooth_clip(np.array([0.0, 1.0, 4.0, 1e9])).round(4)
    array([0.    , 0.9487, 2.4   , 3.    ])
    """
    return z / np.sqrt(1.0 + (z / CLIP) ** 2)


@dataclass
class InputReport:
    """What a table holds that the preprocessing fills, ignores or cannot read.

    Attributes
    ----------
    missing_columns : list of str
        Input columns the table lacks.
    extra_columns : list of str
        Columns the model does not use (ignored).
    missing : dict
        Column → rows (from 0) of its missing cells, which are filled.
    unseen : dict
        Column → {category never seen in training: rows}.
    bad : dict
        Column → rows of the cells that are not numbers (or dates) where the model
        reads numbers (or dates).
    out_of_range : dict
        Column → rows of its numbers below the smallest or above the largest value seen
        in training (robust scaling keeps the range).

    Examples
    --------
    >>> InputReport().unseen
    {}
    """

    missing_columns: list = field(default_factory=list)
    extra_columns: list = field(default_factory=list)
    missing: dict = field(default_factory=dict)
    unseen: dict = field(default_factory=dict)
    bad: dict = field(default_factory=dict)
    out_of_range: dict = field(default_factory=dict)


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Fill, standardize and one-hot encode a table's columns.

    See the module's docstring for the rules.

    Parameters
    ----------
    target : str or None
        Name of the target column; it is left out of the features (and ignored when
        present at transform time).
    impute : bool, default True
        Fill missing cells; False refuses them.
    drop, categorical, numeric : tuple of str
        Columns to drop, to one-hot encode or to read as numbers, whatever they hold
        (see :class:`~nnmath.preprocessing.TableStatistics`).
    scaling : {"robust", "standard"}, default "robust"
        How numbers are scaled: the median, the interquartile range and the smooth clip;
        or the mean and the standard deviation.

    Attributes
    ----------
    feature_names_in_ : list of str
        The input columns, in order.
    numeric_ : dict
        For each numeric column, robust scaling: its "center" (the median), "scale" (the
        interquartile range; half the range when that is 0; 1 for a constant column),
        "min" and "max", and "log": True where the center and scale are of ln(1 + x);
        standard scaling: its "mean" μ and "scale" (the standard deviation, 1 when that
        is 0).
    scaling_ : str
        "robust" or "standard".
    categories_ : dict
        For each category column, its sorted categories (as text).
    dates_ : dict
        For each date column: "mean" and "scale" of its days, the "format" its text was
        written in (None for date values), "daily" (whether the daily cycle is used).
    fill_ : dict
        Each column's fill value for a missing cell (empty when ``impute=False``).
    dropped_ : dict
        The columns left out, with why.
    text_as_missing_ : list of str
        Numeric columns whose cells that are not numbers count as missing.
    target_scaling_ : dict or None
        For a regression target standardized while training ("mean", "scale"); the
        network's output is already in the target's units.

    Examples
    --------
    >>> import numpy as np
    >>> table = {"size": np.array([1.0, 2.0, 3.0]), "color": np.array(["red", "blue", "red"])}
    >>> TabularPreprocessor().fit(table).transform(table).round(3)
    array([[-0.949,  0.   ,  1.   ],
           [ 0.   ,  1.   ,  0.   ],
           [ 0.949,  0.   ,  1.   ]])
    """

    def __init__(
        self,
        target: str | None = None,
        impute: bool = True,
        drop: tuple = (),
        categorical: tuple = (),
        numeric: tuple = (),
        scaling: str = "robust",
    ):
        self.target = target
        self.impute = impute
        self.drop = drop
        self.categorical = categorical
        self.numeric = numeric
        self.scaling = scaling

    def fit(self, table, y=None):
        """Learn each column's kind and statistics.

        This is one pass: see :class:`~nnmath.preprocessing.TableStatistics`.
        """
        stats = TableStatistics(
            self.target,
            drop=self.drop,
            categorical=self.categorical,
            numeric=self.numeric,
            impute=self.impute,
            scaling=self.scaling,
        )
        stats.update(table)
        fitted = type(self).from_statistics(stats)
        for name in (
            "feature_names_in_",
            "numeric_",
            "categories_",
            "dates_",
            "fill_",
            "dropped_",
            "text_as_missing_",
            "target_scaling_",
            "scaling_",
        ):
            setattr(self, name, getattr(fitted, name))
        return self

    @classmethod
    def from_statistics(cls, stats: TableStatistics) -> TabularPreprocessor:
        """Return the preprocessor fitted from a finished pass of statistics.

        The statistics may come from a table read in batches, say.

        Examples
        --------
        >>> stats = TableStatistics()
        >>> stats.update({"x": np.array([1.0, 3.0])})
        >>> TabularPreprocessor.from_statistics(stats).numeric_
        {'x': {'center': 2.0, 'scale': 1.0, 'min': 1.0, 'max': 3.0}}
        """
        pre = cls.from_document(stats.finish())
        pre.impute, pre.scaling = stats.impute, stats.scaling
        pre.drop, pre.categorical = tuple(sorted(stats.drop)), tuple(sorted(stats.categorical))
        pre.numeric = tuple(sorted(stats.numeric))
        return pre

    # ---------------------------------------------------------------- the inputs
    def kind(self, name: str) -> str:
        """Return the kind of an input column: "numeric", "category" or "date".

        Examples
        --------
        >>> TabularPreprocessor().fit({"x": np.array([1.0, 2.0])}).kind("x")
        'numeric'
        """
        check_is_fitted(self, "feature_names_in_")
        if name in self.numeric_:
            return "numeric"
        if name in self.categories_:
            return "category"
        if name in self.dates_:
            return "date"
        raise KeyError(name)

    def get_feature_names_out(self, input_features=None) -> list[str]:
        """Return the names of the inputs.

        They are a number's column name, "column=category" for each category, and for a
        date its name, "name:year_sin", "name:year_cos" (and ":day_sin", ":day_cos").
        """
        check_is_fitted(self, "feature_names_in_")
        out = []
        for name in self.feature_names_in_:
            kind = self.kind(name)
            if kind == "numeric":
                out.append(name)
            elif kind == "category":
                out += [f"{name}={c}" for c in self.categories_[name]]
            else:
                out += [name, f"{name}:year_sin", f"{name}:year_cos"]
                if self.dates_[name]["daily"]:
                    out += [f"{name}:day_sin", f"{name}:day_cos"]
        return out

    def category_inputs(self) -> np.ndarray:
        """Return the positions of the one-hot inputs among the inputs.

        Returns
        -------
        ndarray of int, shape (n_category_inputs,)
            The positions, in :meth:`get_feature_names_out`'s order, of the inputs that
            are 1 for a row holding a category and 0 otherwise.

        Examples
        --------
        >>> table = {"size": np.array([1.0, 2.0]), "color": np.array(["red", "blue"])}
        >>> TabularPreprocessor().fit(table).category_inputs()
        array([1, 2])
        """
        check_is_fitted(self, "feature_names_in_")
        positions: list[int] = []
        start = 0
        for name in self.feature_names_in_:
            kind = self.kind(name)
            if kind == "numeric":
                width = 1
            elif kind == "category":
                width = len(self.categories_[name])
                positions.extend(range(start, start + width))
            else:
                width = 5 if self.dates_[name]["daily"] else 3
            start += width
        return np.array(positions, dtype=np.intp)

    def describe_inputs(self, table) -> tuple[list[str], list[str], np.ndarray, list[str]]:
        """Name each input of the network and give each row's original cell beside it.

        Parameters
        ----------
        table : DataFrame or dict of 1-D arrays
            Rows with the model's input columns (others are ignored).

        Returns
        -------
        names : list of str, length n_inputs
            The inputs' names, as :meth:`get_feature_names_out` gives them: a number's
            column, "column=category" for each category, a date's "name" (its days,
            standardized), "name:year_sin", "name:year_cos" (and ":day_sin", ":day_cos").
        columns : list of str, length n_inputs
            The table's column each input is made from.
        originals : ndarray of object, shape (n_rows, n_inputs)
            Each row's cell of that column as text, as the table holds it; a missing
            cell as "missing → " and the value it is filled with (None when it cannot
            be filled). The one-hot inputs of a category and the parts of a date share
            their column's cell.
        formulas : list of str, length n_inputs
            How each input is computed from its cell, with the fitted numbers:
            "z / √(1 + (z/3)²) where z = (age − 48.5) / 13.1" (a long-tailed column:
            "… where z = (ln(1 + income) − 10.2) / 0.8"), "1 if colour = red else 0",
            "(t − 18570) / 203 where t = days of visit since 1970-01-01",
            "sin(2π·t / 365.2425)".

        Examples
        --------
        >>> table = {"age": np.array([41.0, 30.0]), "colour": np.array(["red", "blue"])}
        >>> pre = TabularPreprocessor().fit(table)
        >>> names, columns, originals, formulas = pre.describe_inputs(table)
        >>> names, columns
        (['age', 'colour=blue', 'colour=red'], ['age', 'colour', 'colour'])
        >>> originals[0].tolist()
        ['41', 'red', 'red']
        >>> formulas[:2]   # the median 35.5, the interquartile range 5.5, the smooth clip
        ['z / √(1 + (z/3)²) where z = (age − 35.5) / 5.5', '1 if colour = blue else 0']
        """
        self.check_columns(table)
        names = self.get_feature_names_out()
        columns: list[str] = []
        formulas: list[str] = []
        cells = []
        for name in self.feature_names_in_:
            kind = self.kind(name)
            width = (
                1
                if kind == "numeric"
                else len(self.categories_[name])
                if kind == "category"
                else 5 if self.dates_[name]["daily"] else 3
            )  # fmt: skip
            text = texts(column(table, name))
            fill = self.fill_.get(name)
            if fill is not None:
                shown = fill if isinstance(fill, str) else self._fill_text(name, fill)
                text = np.where(text == None, f"missing → {shown}", text)  # noqa: E711
            columns += [name] * width
            cells += [text] * width
            formulas += self._formulas(name, kind)
        originals = np.empty((len(cells[0]) if cells else 0, len(names)), dtype=object)
        for j, text in enumerate(cells):
            originals[:, j] = text
        return names, columns, originals, formulas

    def _formulas(self, name: str, kind: str) -> list[str]:
        """Write how each input of a column is computed, with the fitted numbers."""
        if kind == "numeric":
            stats = self.numeric_[name]
            if self.scaling_ == "standard":
                return [f"({name} − {stats['mean']:.6g}) / {stats['scale']:.6g}"]
            u = f"ln(1 + {name})" if stats.get("log") else name
            z = f"({u} − {stats['center']:.6g}) / {stats['scale']:.6g}"
            return [f"z / √(1 + (z/{CLIP:g})²) where z = {z}"]
        if kind == "category":
            return [f"1 if {name} = {c} else 0" for c in self.categories_[name]]
        stats = self.dates_[name]
        out = [
            f"(t − {stats['mean']:.6g}) / {stats['scale']:.6g} where t = days of {name} "
            "since 1970-01-01",
            f"sin(2π·t / {YEAR_DAYS})",
            f"cos(2π·t / {YEAR_DAYS})",
        ]
        if stats["daily"]:
            out += ["sin(2π·t)", "cos(2π·t)"]
        return out

    def _fill_text(self, name: str, fill: float) -> str:
        """Write a numeric or date column's fill value as text (a date as its ISO day)."""
        if name in self.numeric_:
            return f"{fill:.6g}"
        seconds = int(round(fill * 86400))
        return str(np.datetime64(seconds, "s")).replace("T", " ").removesuffix(" 00:00:00")

    def check_columns(self, table) -> None:
        """Raise ValueError naming the input columns the table lacks, if any.

        Columns the model does not use are ignored.
        """
        report = self.report(table, cells=False)
        if report.missing_columns:
            raise ValueError(f"the data lacks the model's input columns {report.missing_columns}")

    def report(self, table, cells: bool = True) -> InputReport:
        """Report what the table holds that :meth:`transform` fills, ignores or refuses.

        With ``cells=False``, the columns only.

        Examples
        --------
        >>> pre = TabularPreprocessor().fit({"c": np.array(["a", "b"])})
        >>> pre.report({"c": np.array(["a", "z"]), "id": np.arange(2)}).unseen
        {'c': {'z': [1]}}
        """
        check_is_fitted(self, "feature_names_in_")
        given = column_names(table)
        known = set(self.feature_names_in_) | set(self.dropped_) | {self.target}
        report = InputReport(
            missing_columns=[c for c in self.feature_names_in_ if c not in given],
            extra_columns=[c for c in given if c not in known],
        )
        if not cells or report.missing_columns:
            return report
        for name in self.feature_names_in_:
            values = column(table, name)
            kind = self.kind(name)
            missing = missing_mask(values)
            if kind == "category":
                text = texts(values)
                known_values = set(self.categories_[name])
                unseen: dict = {}
                for i in np.flatnonzero(~missing):
                    if text[i] not in known_values:
                        unseen.setdefault(text[i], []).append(int(i))
                if unseen:
                    report.unseen[name] = unseen
            else:
                x, bad = self._read(name, values)
                if bad.any() and name not in self.text_as_missing_:
                    report.bad[name] = np.flatnonzero(bad).tolist()
                missing |= bad
                stats = self.numeric_.get(name, {})
                if "min" in stats:
                    with np.errstate(invalid="ignore"):
                        beyond = (x < stats["min"]) | (x > stats["max"])
                    if beyond.any():
                        report.out_of_range[name] = np.flatnonzero(beyond).tolist()
            if missing.any():
                report.missing[name] = np.flatnonzero(missing).tolist()
        return report

    def _read(self, name: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Read a numeric or date column's values as numbers (days for dates).

        Also returns the cells that are not.
        """
        if name in self.numeric_:
            return numbers(values)
        return days(values, self.dates_[name]["format"])

    def transform(self, table) -> np.ndarray:
        """Return the inputs, shape (n_samples, len(get_feature_names_out())), float64.

        Missing cells are filled (or refused with ``impute=False``), categories never
        seen in training are none of the known ones, and columns the model does not use
        are ignored. A cell that is not a number (or a date) in a numeric (date) column
        is a ValueError, as are a missing input column and an infinite number.
        """
        self.check_columns(table)
        blocks = []
        for name in self.feature_names_in_:
            values = column(table, name)
            missing = missing_mask(values)
            fill = self.fill_.get(name)
            if missing.any() and fill is None:
                rows = np.flatnonzero(missing)
                raise ValueError(
                    f"column {name!r} has {len(rows)} missing value{'s' * (len(rows) > 1)} "
                    f"(first at row {rows[0]}); fill or drop them before predicting"
                )
            kind = self.kind(name)
            if kind == "category":
                blocks.append(self._one_hot(name, texts(values), fill))
                continue
            x, bad = self._read(name, values)
            if bad.any() and name not in self.text_as_missing_:
                row = int(np.flatnonzero(bad)[0])
                what = "numbers" if kind == "numeric" else "dates"
                raise ValueError(f"column {name!r} holds {what}, but row {row} has {values[row]!r}")
            if fill is not None:
                x = np.where(np.isnan(x), fill, x)
            if not np.isfinite(x).all():
                row = int(np.flatnonzero(~np.isfinite(x))[0])
                raise ValueError(f"column {name!r} has an infinite value at row {row}")
            if kind == "numeric":
                blocks.append(self._scale(name, x)[:, None])
            else:
                blocks.append(self._date_features(name, x))
        return np.hstack(blocks)

    def _scale(self, name: str, x: np.ndarray) -> np.ndarray:
        stats = self.numeric_[name]
        if self.scaling_ == "standard":
            return (x - stats["mean"]) / stats["scale"]
        if stats.get("log"):
            x = np.log1p(np.maximum(x, 0.0))
        return smooth_clip((x - stats["center"]) / stats["scale"])

    def _one_hot(self, name: str, text: np.ndarray, fill) -> np.ndarray:
        categories = np.array(self.categories_[name])
        if fill is not None:
            text = np.where(text == None, fill, text)  # noqa: E711  (None: a missing cell)
        text = np.where(text == None, "", text).astype(str)  # noqa: E711
        position = np.searchsorted(categories, text).clip(0, len(categories) - 1)
        known = categories[position] == text
        out = np.zeros((len(text), len(categories)))
        out[np.flatnonzero(known), position[known]] = 1.0
        return out

    def _date_features(self, name: str, t: np.ndarray) -> np.ndarray:
        stats = self.dates_[name]
        # the phase of t in the year, reduced first so that float32 keeps its precision
        year = 2 * math.pi * np.fmod(t, YEAR_DAYS) / YEAR_DAYS
        columns = [(t - stats["mean"]) / stats["scale"], np.sin(year), np.cos(year)]
        if stats["daily"]:
            day = 2 * math.pi * np.fmod(t, 1.0)
            columns += [np.sin(day), np.cos(day)]
        return np.column_stack(columns)

    # ---------------------------------------------------------------- model files
    def to_document(self) -> dict:
        """Return the fitted state as JSON-compatible data."""
        check_is_fitted(self, "feature_names_in_")
        document = {
            "target": self.target,
            "feature_names_in": list(self.feature_names_in_),
            "numeric": self.numeric_,
            "categories": self.categories_,
            "dates": self.dates_,
            "fill": self.fill_,
            "dropped": self.dropped_,
            "text_as_missing": list(self.text_as_missing_),
            "scaling": self.scaling_,
        }
        if self.target_scaling_ is not None:
            document["target_scaling"] = dict(self.target_scaling_)
        return document

    @classmethod
    def from_document(cls, document) -> TabularPreprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_document`'s output.

        Every field is checked as :meth:`fit` would have made it: the target a string
        or null, distinct column names, for each numeric (date) column a finite mean
        and a finite scale > 0 (x' = (x − μ) / s must be a number), for each category
        column its distinct categories in sorted order (the order of the one-hot
        inputs), fill values of the column's kind. Files written before missing
        values were filled have no "fill" (missing cells are then refused), nor
        dates; files written before robust scaling have no "scaling" (their numbers
        are standardized, as they were trained). Raises :class:`nnmath.document.ModelFileError`.

        Examples
        --------
        >>> pre = TabularPreprocessor().fit({"size": np.array([1.0, 3.0])})
        >>> TabularPreprocessor.from_document(pre.to_document()).numeric_
        {'size': {'center': 2.0, 'scale': 1.0, 'min': 1.0, 'max': 3.0}}
        """
        if not isinstance(document, dict):
            raise ModelFileError(f"'preprocessing' must be an object; got {document!r:.200}")

        def is_name(v):
            return isinstance(v, str)

        def is_object(v):
            return isinstance(v, dict)

        target = get(document, "target", lambda v: v is None or is_name(v), "a string or null")
        names = get(document, "feature_names_in", list_of(is_name), "a list of column names")
        numeric = get(document, "numeric", is_object, "an object")
        categories = get(document, "categories", is_object, "an object")
        dates = document.get("dates", {})
        fill = document.get("fill", {})
        dropped = document.get("dropped", {})
        as_missing = document.get("text_as_missing", [])
        scaling = document.get("target_scaling")
        numeric_scaling = document.get("scaling", "standard")
        if numeric_scaling not in ("robust", "standard"):
            raise ModelFileError(
                f"invalid preprocessing document: 'scaling' is {numeric_scaling!r:.100}; "
                "expected 'robust' or 'standard'"
            )
        for key, value, check in (
            ("dates", dates, is_object),
            ("fill", fill, is_object),
            ("dropped", dropped, lambda v: is_object(v) and all(map(is_name, v.values()))),
            ("text_as_missing", as_missing, list_of(is_name)),
            ("target_scaling", scaling, lambda v: v is None or is_object(v)),
        ):
            if not check(value):
                raise ModelFileError(f"invalid preprocessing document: {key!r} is {value!r:.200}")
        if len(set(names)) != len(names) or target in names:
            raise ModelFileError(
                f"'feature_names_in' must be distinct columns other than the target; got "
                f"{names!r:.200}"
            )
        kinds = [set(numeric), set(categories), set(dates)]
        if set(names) != set().union(*kinds) or sum(map(len, kinds)) != len(names):
            raise ModelFileError(
                "invalid preprocessing document: each column must have one kind: numeric "
                "statistics, categories or date statistics"
            )

        def finite(v):
            return is_number(v) and math.isfinite(v)

        def standardization(name, stats, keys):
            if not (
                isinstance(stats, dict)
                and set(stats) == keys
                and finite(stats["mean"])
                and finite(stats["scale"])
                and stats["scale"] > 0
            ):
                raise ModelFileError(
                    f"column {name!r:.100} needs a finite 'mean' and a finite 'scale' > 0"
                    f"{' and a format' if 'format' in keys else ''}; got {stats!r:.200}"
                )
            mean, scale = stats["mean"], stats["scale"]
            if not (abs(mean) <= STATISTIC_LIMIT and SCALE_MINIMUM <= scale <= STATISTIC_LIMIT):
                raise ModelFileError(
                    f"column {name!r:.100} has 'mean' {mean!r:.40} and 'scale' {scale!r:.40}; "
                    f"a mean is at most {STATISTIC_LIMIT:g} in magnitude and a scale between "
                    f"{SCALE_MINIMUM:g} and {STATISTIC_LIMIT:g}, so that (x − mean) / scale "
                    "is a finite number"
                )

        for name, stats in numeric.items():
            if numeric_scaling == "standard":
                standardization(name, stats, {"mean", "scale"})
                continue
            keys = {"center", "scale", "min", "max"}
            log = isinstance(stats, dict) and "log" in stats
            if not (
                isinstance(stats, dict)
                and set(stats) == keys | ({"log"} if log else set())
                and all(finite(stats[k]) for k in keys)
                and stats["scale"] > 0
                and stats["min"] <= stats["max"]
            ):
                raise ModelFileError(
                    f"column {name!r:.100} needs a finite 'center', 'scale' > 0, 'min' and "
                    f"'max' with min ≤ max (and, optionally, 'log': true); got {stats!r:.200}"
                )
            low, high = stats["min"], stats["max"]
            if log and not (stats["log"] is True and low >= 0):
                raise ModelFileError(
                    f"column {name!r:.100} has 'log' {stats['log']!r:.20} and 'min' {low!r:.40}: "
                    "'log' is true, for a column whose numbers are all ≥ 0"
                )
            if log:
                low, high = math.log1p(low), math.log1p(high)
            if not low <= stats["center"] <= high:
                where = "ln(1 + min) ≤ center ≤ ln(1 + max)" if log else "min ≤ center ≤ max"
                raise ModelFileError(
                    f"column {name!r:.100} needs a finite 'center', 'scale' > 0, 'min' and "
                    f"'max' with {where}; got {stats!r:.200}"
                )
            bounds = (stats["center"], stats["min"], stats["max"])
            if not (
                all(abs(v) <= STATISTIC_LIMIT for v in bounds)
                and SCALE_MINIMUM <= stats["scale"] <= STATISTIC_LIMIT
            ):
                raise ModelFileError(
                    f"column {name!r:.100} has 'center', 'min', 'max' {bounds!r:.120} and "
                    f"'scale' {stats['scale']!r:.40}; each is at most {STATISTIC_LIMIT:g} in "
                    f"magnitude and a scale at least {SCALE_MINIMUM:g}, so that "
                    "(x − center) / scale is a finite number"
                )
        formats: set[str] = set()
        for name, stats in dates.items():
            standardization(name, stats, {"mean", "scale", "format", "daily"})
            if not (stats["format"] is None or is_name(stats["format"])) or not isinstance(
                stats["daily"], bool
            ):
                raise ModelFileError(f"date column {name!r:.100} has an invalid format or daily")
            if stats["format"] is not None and stats["format"] not in formats:
                if len(formats) == MAX_DATE_FORMATS:
                    raise ModelFileError(
                        f"the date columns are written in more than {MAX_DATE_FORMATS} "
                        "different formats; a model file holds at most that many"
                    )
                _check_date_format(name, stats["format"])
                formats.add(stats["format"])
        if scaling is not None:
            standardization("the target", scaling, {"mean", "scale"})
        for name, values in categories.items():
            if not (
                list_of(is_name)(values)
                and values
                and all(a < b for a, b in zip(values[:-1], values[1:], strict=True))
            ):
                raise ModelFileError(
                    f"column {name!r:.100} needs its categories as distinct strings in sorted "
                    f"order; got {values!r:.200}"
                )
        for name, value in fill.items():
            ok = (
                name in categories and is_name(value)
                if name in categories
                else name in names and finite(value) and abs(value) <= STATISTIC_LIMIT
            )
            if not ok:
                raise ModelFileError(f"invalid fill value for column {name!r:.100}: {value!r:.100}")
        if not set(as_missing) <= set(numeric) | set(dates):
            raise ModelFileError("'text_as_missing' names a column that is not numeric")
        pre = cls(target=target, impute=bool(fill) or not names, scaling=numeric_scaling)
        pre.feature_names_in_ = list(names)
        pre.scaling_ = numeric_scaling
        pre.numeric_ = {
            k: {f: v[f] if f == "log" else float(v[f]) for f in v} for k, v in numeric.items()
        }
        pre.categories_ = {k: list(v) for k, v in categories.items()}
        pre.dates_ = {
            k: {
                "mean": float(v["mean"]),
                "scale": float(v["scale"]),
                "format": v["format"],
                "daily": v["daily"],
            }
            for k, v in dates.items()
        }
        pre.fill_ = {k: v if isinstance(v, str) else float(v) for k, v in fill.items()}
        pre.dropped_ = dict(dropped)
        pre.text_as_missing_ = list(as_missing)
        pre.target_scaling_ = (
            None
            if scaling is None
            else {"mean": float(scaling["mean"]), "scale": float(scaling["scale"])}
        )
        return pre

    # ---------------------------------------------------------------- pickles
    def __reduce__(self):
        """Pickle as the document a model file holds, with the hyperparameters beside it.

        A preprocessor not fitted yet pickles its hyperparameters only.
        """
        objects: dict = {}
        params = hyperparameters_to_document(self.get_params(deep=False), objects)
        fitted = self.to_document() if "feature_names_in_" in vars(self) else None
        return _from_pickle, (type(self), params, objects, fitted)


def _from_pickle(cls, params: dict, objects: dict, fitted: dict | None):
    """Rebuild a pickled preprocessor: its document, then its hyperparameters as they were."""
    pre = cls.from_document(fitted) if fitted is not None else cls.__new__(cls)
    set_hyperparameters(pre, params)
    for name, value in objects.get("hyperparameters", {}).items():
        setattr(pre, name, value)
    return pre


def _check_date_format(name: str, format: str) -> None:
    """Raise ModelFileError unless ``format`` writes a date that it reads back.

    The format is parsed here, once, as prediction will parse it: the probe instants
    written with ``strftime`` must be read back by :func:`~nnmath.preprocessing.cells.days`
    to text that is written the same, in the year they were in. A directive pandas does
    not know ("%Q"), a repeated field ("%Y%Y"), a format without the year and an
    over-long one are refused.
    """
    if len(format) > MAX_DATE_FORMAT_CHARS:
        raise ModelFileError(
            f"date column {name!r:.100} has a format of {len(format)} characters "
            f"({format[:20]!r}…); a date format has at most {MAX_DATE_FORMAT_CHARS}"
        )
    try:
        import pandas as pd
    except ImportError:  # dates are read from text with pandas: no prediction without it
        return
    instants = [pd.Timestamp(probe) for probe in _DATE_PROBES]
    try:
        texts = [instant.strftime(format) for instant in instants]
        _, bad = days(np.array(texts, dtype=object), format)  # as prediction reads them
        series = pd.Series(texts, dtype=object)
        back = pd.to_datetime(series, format=format, errors="coerce", utc=True)
    except Exception as exc:  # pandas' ValueError, re.error of a repeated field…
        raise ModelFileError(
            f"date column {name!r:.100} has the format {format!r:.80}, which dates cannot "
            f"be read in: {type(exc).__name__}: {exc}"
        ) from None
    for instant, text, read, failed in zip(instants, texts, back, bad, strict=True):
        if failed or pd.isna(read) or read.strftime(format) != text or read.year != instant.year:
            raise ModelFileError(
                f"date column {name!r:.100} has the format {format!r:.80}, which does not "
                f"read back the dates it writes ({instant} is written {text!r:.60}); a date "
                "format holds at least the year"
            )
