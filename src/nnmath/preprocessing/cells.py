"""A table's cells as the preprocessing reads them: missing, numbers, text or dates.

A table is a pandas DataFrame, or a dict mapping column names to 1-D arrays. Each
function here takes one column as a 1-D NumPy array (:func:`column`) and says, cell by
cell, what it holds:

* missing: None, NaN, NaT, pandas' NA, or empty text (what a CSV file's empty cell is,
  and what an ONNX graph's string input holds for a missing category);
* :func:`numbers`: floats, with the text cells that are not numbers marked;
* :func:`texts`: the text of each cell, numbers written as they read (3, not 3.0);
* :func:`days`: dates and times as days since 1970-01-01 (UTC), a float.

Example
-------
>>> values = np.array(["1.5", None, "forty", 3], dtype=object)
>>> x, bad = numbers(values)
>>> x.tolist(), bad.tolist()
([1.5, nan, nan, 3.0], [False, False, True, False])
>>> texts(np.array([1.0, 2.5, np.nan])).tolist()
['1', '2.5', None]
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np

__all__ = [
    "NANOSECONDS_PER_DAY",
    "column",
    "column_names",
    "days",
    "guess_date_format",
    "has_thousands_separator",
    "is_missing",
    "missing_mask",
    "numbers",
    "texts",
]

#: Nanoseconds in a day: a datetime64[ns] value over this is days since 1970-01-01.
NANOSECONDS_PER_DAY = 86_400 * 10**9

# A number written with a thousands separator: 3,825 or 1.234.567,5 or 12 000.
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:([,.' \u00a0\u202f])\d{3})(?:\1\d{3})*(?:[.,]\d+)?")


def column_names(table) -> list[str]:
    """Return the column names of a table (a DataFrame or a dict of 1-D arrays), as strings.

    Examples
    --------
    >>> column_names({"a": [1], 2: [3]})
    ['a', '2']
    """
    if hasattr(table, "columns"):
        return [str(c) for c in table.columns]
    if isinstance(table, Mapping):
        return [str(c) for c in table.keys()]
    raise TypeError(f"expected a pandas DataFrame or a dict of columns; got {type(table).__name__}")


def column(table, name: str) -> np.ndarray:
    """Return the column ``name`` of a table as a 1-D NumPy array, shape (n_rows,).

    A pandas column of text becomes an object array; one of time-zone aware
    timestamps becomes datetime64 in UTC.

    Examples
    --------
    >>> column({"a": [1, 2]}, "a")
    array([1, 2])
    """
    try:
        values = table[name]
    except KeyError:  # a column whose label is not a string, e.g. 0
        key = next(
            k for k in (table.columns if hasattr(table, "columns") else table) if str(k) == name
        )
        values = table[key]
    if getattr(getattr(values, "dt", None), "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    if hasattr(values, "to_numpy"):
        dtype = values.dtype
        if getattr(dtype, "kind", "O") in "biufcmM" and not hasattr(dtype, "na_value"):
            return values.to_numpy()
        if getattr(dtype, "kind", "O") in "iufb":  # a nullable or Arrow number: NaN missing
            kind = "f" if dtype.kind in "iuf" else "O"
            return values.to_numpy(dtype=np.float64 if kind == "f" else object, na_value=np.nan)
        return values.to_numpy(dtype=object)
    return np.asarray(values)


def is_missing(v) -> bool:
    """Whether one cell is missing: None, NaN, NaT, pandas.NA or empty text.

    Examples
    --------
    >>> [is_missing(v) for v in (None, float("nan"), "", " x", 0)]
    [True, True, True, False, False]
    """
    if v is None or type(v).__name__ == "NAType":
        return True
    if isinstance(v, str):
        return v == ""
    try:
        return bool(v != v)  # NaN and NaT are the values not equal to themselves
    except (TypeError, ValueError):
        return False


def missing_mask(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the missing entries of a 1-D column (see :func:`is_missing`).

    Examples
    --------
    >>> missing_mask(np.array([1.0, np.nan])).tolist()
    [False, True]
    """
    kind = values.dtype.kind
    if kind in "fc":
        return np.isnan(values)
    if kind in "mM":
        return np.isnat(values)
    if kind == "U":
        return values == ""
    if kind == "O":
        return np.fromiter((is_missing(v) for v in values), dtype=bool, count=len(values))
    return np.zeros(values.shape, dtype=bool)


def numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Read the cells as float64 numbers.

    Returns the numbers (NaN where missing or not a number), and the mask of the cells
    that hold something other than a number.

    Numbers may be written as text ("1.5", " 2 ", "1e3"); booleans count as 1 and 0.

    Examples
    --------
    >>> x, bad = numbers(np.array(["3,825", "12", ""], dtype=object))
    >>> x.tolist(), bad.tolist()
    ([nan, 12.0, nan], [True, False, False])
    """
    kind = values.dtype.kind
    if kind in "biuf":
        return values.astype(np.float64), np.zeros(values.shape, dtype=bool)
    if kind in "mM":
        return np.full(values.shape, np.nan), ~np.isnat(values)
    missing = missing_mask(values)
    out = np.full(values.shape, np.nan)
    present = np.flatnonzero(~missing)
    try:  # every present cell a number: one vectorized conversion
        out[present] = values[present].astype(np.float64)
        return out, np.zeros(values.shape, dtype=bool)
    except (TypeError, ValueError):
        pass
    bad = np.zeros(values.shape, dtype=bool)
    for i in present:
        v = values[i]
        try:
            out[i] = float(v.strip() if isinstance(v, str) else v)
        except (TypeError, ValueError):
            bad[i] = True
    return out, bad


def _text(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return str(int(v))  # 3.0 and 3 are one category, whether the column has gaps or not
    return str(v)


def texts(values: np.ndarray) -> np.ndarray:
    """Return the text of each cell (an object array), None where missing.

    Whole numbers are written without a decimal point, so a category column reads the same
    whether a missing cell made it float or not.

    Examples
    --------
    >>> texts(np.array([True, False])).tolist()
    ['True', 'False']
    """
    if values.dtype.kind == "U":
        out = values.astype(object)
        out[values == ""] = None
        return out
    missing = missing_mask(values)
    out = np.empty(values.shape, dtype=object)
    for i in np.flatnonzero(~missing):
        out[i] = _text(values[i])
    return out


def guess_date_format(text: str) -> str | None:
    """Guess the strftime format a text of a date or time is written in (pandas' guess).

    None when it is not a date.

    Examples
    --------
    >>> guess_date_format("2021-03-04"), guess_date_format("Adelie")
    ('%Y-%m-%d', None)
    """
    try:
        from pandas.tseries.api import guess_datetime_format
    except ImportError:  # no pandas: no dates read from text
        return None
    try:
        return guess_datetime_format(text.strip())
    except (TypeError, ValueError):
        return None


def days(values: np.ndarray, format: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read dates and times as days since 1970-01-01 UTC (float64, NaN where missing).

    Also returns the mask of the cells that are not dates.

    ``values`` are datetime64 values, or text in ``format`` (strftime codes; text with
    a time-zone offset is converted to UTC). Reading text needs pandas.

    Examples
    --------
    >>> t, bad = days(np.array(["1970-01-02", "1970-01-01 12:00", "soon"], dtype=object),
    ...               "%Y-%m-%d %H:%M")
    >>> t.tolist(), bad.tolist()
    ([nan, 0.5, nan], [True, False, True])
    >>> days(np.array(["2000-01-01"], dtype="datetime64[D]"))[0].tolist()
    [10957.0]
    """
    if values.dtype.kind == "M":
        missing = np.isnat(values)
        ns = values.astype("datetime64[ns]").astype(np.int64).astype(np.float64)
        ns[missing] = np.nan
        return ns / NANOSECONDS_PER_DAY, np.zeros(values.shape, dtype=bool)
    import pandas as pd

    missing = missing_mask(values)
    text = values.astype(object)
    text[missing] = None
    with np.errstate(invalid="ignore"):
        parsed = pd.to_datetime(
            pd.Series(text, dtype=object), format=format, errors="coerce", utc=True
        )
    stamps = parsed.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    out, _ = days(stamps)
    return out, np.isnan(out) & ~missing


def has_thousands_separator(text) -> bool:
    """Whether a text is a number written with a thousands separator ("3,825").

    Examples
    --------
    >>> has_thousands_separator("3,825"), has_thousands_separator("38.25")
    (True, False)
    """
    return isinstance(text, str) and _THOUSANDS.fullmatch(text.strip()) is not None
