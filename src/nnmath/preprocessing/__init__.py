"""Turning a table of mixed, messy columns into the numeric matrix a network needs.

* :mod:`~nnmath.preprocessing.cells`: what each cell holds (missing, a number, text,
  a date);
* :mod:`~nnmath.preprocessing.statistics`: one pass over a table's batches decides each
  column's kind (numbers, categories, dates, or dropped: identifiers, free text) and
  gathers the statistics — also for tables bigger than memory, read in batches;
* :mod:`~nnmath.preprocessing.transformer`: :class:`TabularPreprocessor`, which fills
  missing cells, scales numbers robustly (standardizes dates) and one-hot encodes
  categories, and is stored in a model file as JSON.

A table is a pandas DataFrame, or a dict mapping column names to 1-D arrays.

Example
-------
>>> import numpy as np
>>> table = {"id": np.arange(30), "x": np.linspace(0, 1, 30), "y": np.zeros(30)}
>>> pre = TabularPreprocessor(target="y").fit(table)
>>> pre.feature_names_in_, pre.dropped_
(['x'], {'id': 'counts the rows (1, 2, 3, …): an identifier; dropped'})
"""

from nnmath.preprocessing.cells import column, column_names, missing_mask
from nnmath.preprocessing.statistics import (
    BadCellsError,
    Decision,
    MissingCellsError,
    TableStatistics,
    TargetStatistics,
)
from nnmath.preprocessing.transformer import InputReport, TabularPreprocessor

__all__ = [
    "BadCellsError",
    "Decision",
    "InputReport",
    "MissingCellsError",
    "TableStatistics",
    "TabularPreprocessor",
    "TargetStatistics",
    "column",
    "column_names",
    "missing_mask",
]
