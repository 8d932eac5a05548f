"""Turning a table of mixed columns into the numeric matrix a network needs.

:class:`TabularPreprocessor` standardizes numeric columns, x' = (x − μ) / s, and
one-hot encodes the others (strings, booleans, categories). Its fitted state is plain
numbers and strings, so a model file can hold it without pickling.

A table is a pandas DataFrame, or a dict mapping column names to 1-D arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from nnmath.document import ModelFileError, get, is_number, list_of

__all__ = ["TabularPreprocessor"]


def column_names(table) -> list[str]:
    """The column names of a table (a DataFrame or a dict of 1-D arrays), as strings."""
    if hasattr(table, "columns"):
        return [str(c) for c in table.columns]
    if isinstance(table, Mapping):
        return [str(c) for c in table.keys()]
    raise TypeError(f"expected a pandas DataFrame or a dict of columns; got {type(table).__name__}")


def column(table, name: str) -> np.ndarray:
    """The column ``name`` of a table as a 1-D numpy array, shape (n_rows,)."""
    try:
        values = table[name]
    except KeyError:  # a column whose label is not a string, e.g. 0
        key = next(
            k for k in (table.columns if hasattr(table, "columns") else table) if str(k) == name
        )
        values = table[key]
    return values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)


def _is_numeric(values: np.ndarray) -> bool:
    return values.dtype.kind in "iuf"


def _is_missing_value(v) -> bool:
    """None, NaN, NaT or pandas' NA (whose comparisons give NA, not a bool)."""
    if v is None or type(v).__name__ == "NAType":
        return True
    try:
        return bool(v != v)  # NaN and NaT are the values not equal to themselves
    except (TypeError, ValueError):
        return False


def missing_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing entries of a 1-D column (None, NaN, NaT, pandas.NA)."""
    if values.dtype.kind in "fc":
        return np.isnan(values)
    if values.dtype.kind in "mM":
        return np.isnat(values)
    if values.dtype.kind == "O":
        return np.array([_is_missing_value(v) for v in values], dtype=bool)
    return np.zeros(values.shape, dtype=bool)


def _check_complete(name: str, values: np.ndarray, when: str) -> None:
    """Raise ValueError if a column has missing or infinite values."""
    missing = missing_mask(values)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"column {name!r} has {len(rows)} missing value{'s' * (len(rows) > 1)} "
            f"(first at row {rows[0]}); fill or drop them {when}"
        )
    if values.dtype.kind in "fc" and not np.isfinite(values).all():
        row = np.flatnonzero(~np.isfinite(values))[0]
        raise ValueError(f"column {name!r} has an infinite value at row {row}")


class TabularPreprocessor(TransformerMixin, BaseEstimator):
    """Standardize numeric columns and one-hot encode the others.

    Parameters
    ----------
    target : str or None
        Name of the target column; it is left out of the features (and ignored when
        present at transform time).

    Attributes
    ----------
    feature_names_in_ : list of str
        The input columns, in order.
    numeric_ : dict
        For each numeric column, its mean μ and scale s (the standard deviation, 1 when
        that is 0).
    categories_ : dict
        For each other column, its sorted categories (as strings).

    Examples
    --------
    >>> import numpy as np
    >>> table = {"size": np.array([1.0, 2.0, 3.0]), "color": np.array(["red", "blue", "red"])}
    >>> pre = TabularPreprocessor().fit(table)
    >>> pre.get_feature_names_out()
    ['size', 'color=blue', 'color=red']
    >>> pre.transform(table).round(3)
    array([[-1.225,  0.   ,  1.   ],
           [ 0.   ,  1.   ,  0.   ],
           [ 1.225,  0.   ,  1.   ]])
    """

    def __init__(self, target: str | None = None):
        self.target = target

    def fit(self, table, y=None):
        """Learn each numeric column's μ and s and each other column's categories."""
        names = [c for c in column_names(table) if c != self.target]
        if not names:
            raise ValueError("the data has no feature columns besides the target")
        if len(column(table, names[0])) == 0:
            raise ValueError("the data has no rows")
        self.feature_names_in_ = names
        self.numeric_: dict[str, dict[str, float]] = {}
        self.categories_: dict[str, list[str]] = {}
        for name in names:
            values = column(table, name)
            _check_complete(name, values, "before training")
            if _is_numeric(values):
                values = values.astype(np.float64)
                with np.errstate(over="ignore", invalid="ignore"):
                    mean, scale = float(values.mean()), float(values.std())
                if not (math.isfinite(mean) and math.isfinite(scale)):
                    raise ValueError(
                        f"column {name!r} has values too large to standardize (its mean or "
                        "standard deviation overflows); rescale it"
                    )
                self.numeric_[name] = {"mean": mean, "scale": scale or 1.0}
            else:
                self.categories_[name] = sorted({str(v) for v in values})
        return self

    def get_feature_names_out(self, input_features=None) -> list[str]:
        """Names of the output columns: numeric names, then "column=category"."""
        check_is_fitted(self, "feature_names_in_")
        out = []
        for name in self.feature_names_in_:
            if name in self.numeric_:
                out.append(name)
            else:
                out += [f"{name}={c}" for c in self.categories_[name]]
        return out

    def check_columns(self, table) -> None:
        """Raise ValueError naming the missing and unexpected columns, if any."""
        check_is_fitted(self, "feature_names_in_")
        given = [c for c in column_names(table) if c != self.target]
        missing = [c for c in self.feature_names_in_ if c not in given]
        unexpected = [c for c in given if c not in self.feature_names_in_]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing columns {missing}")
            if unexpected:
                parts.append(f"unexpected columns {unexpected}")
            raise ValueError("the data's columns differ from the model's: " + "; ".join(parts))

    def transform(self, table) -> np.ndarray:
        """The feature matrix, shape (n_samples, len(get_feature_names_out())), float64."""
        self.check_columns(table)
        blocks = []
        for name in self.feature_names_in_:
            values = column(table, name)
            _check_complete(name, values, "before predicting")
            if name in self.numeric_:
                if not _is_numeric(values):
                    raise ValueError(
                        f"column {name!r} was numeric in training but holds non-numeric "
                        f"values here (dtype {values.dtype})"
                    )
                stats = self.numeric_[name]
                blocks.append(
                    ((values.astype(np.float64) - stats["mean"]) / stats["scale"])[:, None]
                )
            else:
                categories = self.categories_[name]
                text = np.array([str(v) for v in values])
                unseen = sorted({str(v) for v in text} - set(categories))
                if unseen:
                    raise ValueError(
                        f"column {name!r} has values not seen in training: {unseen[:10]}"
                    )
                blocks.append((text[:, None] == np.array(categories)[None, :]).astype(np.float64))
        return np.hstack(blocks)

    def to_document(self) -> dict:
        """The fitted state as JSON-compatible data."""
        check_is_fitted(self, "feature_names_in_")
        return {
            "target": self.target,
            "feature_names_in": list(self.feature_names_in_),
            "numeric": self.numeric_,
            "categories": self.categories_,
        }

    @classmethod
    def from_document(cls, document) -> TabularPreprocessor:
        """Rebuild a fitted preprocessor from :meth:`to_document`'s output.

        Every field is checked as :meth:`fit` would have made it: the target a string
        or null, distinct column names, for each numeric column a finite mean and a
        finite scale > 0 (x' = (x − μ) / s must be a number), for each other column its
        distinct categories in sorted order (the order of the one-hot columns). Raises
        :class:`nnmath.document.ModelFileError`.

        Examples
        --------
        >>> pre = TabularPreprocessor().fit({"size": np.array([1.0, 3.0])})
        >>> TabularPreprocessor.from_document(pre.to_document()).numeric_
        {'size': {'mean': 2.0, 'scale': 1.0}}
        """
        if not isinstance(document, dict):
            raise ModelFileError(f"'preprocessing' must be an object; got {document!r:.200}")

        def is_name(v):
            return isinstance(v, str)

        target = get(document, "target", lambda v: v is None or is_name(v), "a string or null")
        names = get(document, "feature_names_in", list_of(is_name), "a list of column names")
        numeric = get(document, "numeric", lambda v: isinstance(v, dict), "an object")
        categories = get(document, "categories", lambda v: isinstance(v, dict), "an object")
        if len(set(names)) != len(names) or target in names:
            raise ModelFileError(
                f"'feature_names_in' must be distinct columns other than the target; got "
                f"{names!r:.200}"
            )
        if set(names) != set(numeric) | set(categories) or set(numeric) & set(categories):
            raise ModelFileError(
                "invalid preprocessing document: each column must have either numeric "
                "statistics or categories"
            )
        for name, stats in numeric.items():
            if not (
                isinstance(stats, dict)
                and set(stats) == {"mean", "scale"}
                and all(is_number(v) and math.isfinite(v) for v in stats.values())
                and stats["scale"] > 0
            ):
                raise ModelFileError(
                    f"numeric column {name!r:.100} needs a finite 'mean' and a finite "
                    f"'scale' > 0; got {stats!r:.200}"
                )
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
        pre = cls(target=target)
        pre.feature_names_in_ = list(names)
        pre.numeric_ = {
            k: {"mean": float(v["mean"]), "scale": float(v["scale"])} for k, v in numeric.items()
        }
        pre.categories_ = {k: list(v) for k, v in categories.items()}
        return pre
