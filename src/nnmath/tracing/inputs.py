"""The network's inputs in the user's terms: each named, beside the value it came from.

A model trained on a table reads standardized numbers, one-hot categories and the parts
of dates; :class:`Input` names one of them (``age``, ``colour=red``, ``visit:year_sin``)
and keeps the table's cell it was made from beside the number the network reads, so a
trace can say ``age = 41 → x₁ = 0.52``.

Example
-------
>>> import numpy as np
>>> [i.text() for i in make_inputs(np.array([[0.52, 1.0]]), ["age", "colour=red"],
...                                ["age", "colour"], np.array([["41", "red"]], dtype=object))]
['age = 41 → x₁ = 0.52', 'colour = red → x₂ (colour=red) = 1']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nnmath.tracing import render

__all__ = ["Input", "make_inputs"]

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_LATEX_SPECIAL = {c: "\\" + c for c in "&%$#_{}"} | {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


@dataclass(eq=False)
class Input:
    """One input of the network: its name, where it came from and its value.

    Attributes
    ----------
    symbol : str
        x₁, x₂, … (1-based, in the order of the network's inputs).
    name : str
        The input's name, e.g. "age", "colour=red", "visit:year_sin".
    column : str or None
        The table's column it is made from (None when only names were given).
    original : list of (str or None) or None
        The column's cell of each sample, as the table holds it; None when not given.
    value : ndarray of shape (n_samples,)
        What the network reads: the scaled number.
    formula : str or None
        How the value is computed from the cell, e.g. "(age − 48.5) / 13.1" (None when
        not given).
    """

    symbol: str
    name: str
    column: str | None
    original: list | None
    value: np.ndarray
    formula: str | None = None

    def _formula(self) -> tuple[str, str]:
        """Split the formula into its equation and its "where …" clause, with separators."""
        if self.formula is None:
            return "", ""
        main, _, where = self.formula.partition(" where ")
        return f" = {main}", f"  (where {where})" if where else ""

    def _original(self) -> str:
        cells = ["missing" if c is None else str(c) for c in self.original or []]
        return cells[0] if len(cells) == 1 else "[" + ", ".join(cells) + "]"

    def text(self) -> str:
        """Return the input as one line of text: ``age = 41 → x₁ = 0.52``."""
        value = render.text(self.value[0] if self.value.size == 1 else self.value)
        if self.original is None:
            return f"{self.symbol} ({self.name}) = {value}"
        named = "" if self.name == self.column else f" ({self.name})"
        formula, where = self._formula()
        return (
            f"{self.column} = {self._original()} → {self.symbol}{named}{formula} = {value}{where}"
        )

    def latex(self) -> str:
        r"""Return the input as LaTeX: ``\text{age} = \text{41} \rightarrow x_{1} = 0.52``."""
        value = render.latex_value(self.value[0] if self.value.size == 1 else self.value)
        symbol = render.latex(self.symbol)
        name = rf"\ (\text{{{latex_text(self.name)}}})"
        if self.original is None:
            return rf"{symbol}{name} = {value}"
        named = "" if self.name == self.column else name
        column = latex_text(str(self.column))
        formula, where = self._formula()
        if formula:
            formula = rf" = \text{{{latex_text(formula[3:])}}}"
        if where:
            where = rf"\quad\text{{{latex_text(where.strip())}}}"
        return (
            rf"\text{{{column}}} = \text{{{latex_text(self._original())}}}"
            rf"\ \rightarrow\ {symbol}{named}{formula} = {value}{where}"
        )

    def to_dict(self) -> dict:
        """Return the input as JSON-compatible data (the values at full precision)."""
        return {
            "symbol": self.symbol,
            "name": self.name,
            "column": self.column,
            "original": None if self.original is None else list(self.original),
            "value": render.jsonable(self.value),
            "formula": self.formula,
        }


def latex_text(s: str) -> str:
    r"""Escape text for LaTeX's ``\text{…}``.

    Examples
    --------
    >>> print(latex_text("50% & up_1"))
    50\% \& up\_1
    """
    return "".join(_LATEX_SPECIAL.get(c, c) for c in s)


def make_inputs(
    X: np.ndarray,
    names: Sequence[str],
    columns: Sequence[str] | None = None,
    originals=None,
    formulas: Sequence[str] | None = None,
) -> list[Input]:
    """Return the :class:`Input` of each column of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_inputs)
        What the network reads.
    names : sequence of str, length n_inputs
    columns : sequence of str, length n_inputs, optional
        The table's column each input comes from (default: its name).
    originals : array of shape (n_samples, n_inputs), optional
        The cell each input was made from, as text (None: missing).
    formulas : sequence of str, length n_inputs, optional
        How each input is computed from its cell.

    Returns
    -------
    list of Input

    Examples
    --------
    >>> make_inputs(np.array([[0.5]]), ["age"])[0].text()
    'x₁ (age) = 0.5'
    """
    n, k = X.shape
    names = [str(v) for v in names]
    if len(names) != k:
        raise ValueError(f"feature_names must name the {k} inputs of x; got {len(names)} names")
    columns = names if columns is None else [str(c) for c in columns]
    if len(columns) != k:
        raise ValueError(f"columns must name the {k} inputs' columns; got {len(columns)}")
    if formulas is not None and len(formulas) != k:
        raise ValueError(f"formulas must give the {k} inputs' formulas; got {len(formulas)}")
    cells = None
    if originals is not None:
        cells = np.asarray(originals, dtype=object).reshape(-1, k) if k else None
        if cells is None or cells.shape[0] != n:
            raise ValueError(
                f"original_values must have shape ({n}, {k}), one cell per input of x; got "
                f"shape {np.shape(originals)}"
            )
    return [
        Input(
            symbol=f"x{str(j + 1).translate(_SUBSCRIPT)}",
            name=names[j],
            column=columns[j],
            original=None if cells is None else [_cell(c) for c in cells[:, j]],
            value=X[:, j].copy(),
            formula=None if formulas is None else str(formulas[j]),
        )
        for j in range(k)
    ]


def _cell(v) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    return str(v)
