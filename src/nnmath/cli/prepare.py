"""A table made ready for training, with every decision said out loud.

``train``, ``cv`` and ``tune`` (and ``train`` on a folder, batch by batch) check the
target and the column options against the table's columns (suggesting the nearest
name for a mistyped one), leave out the rows without a target and say how many,
infer the task, and run the one-pass statistics (:class:`~nnmath.preprocessing.
TableStatistics`), turning their findings into the command's messages: a column of
numbers with a few cells that are not (listed by their line in the file), missing
cells refused with ``--impute none``, identifiers, free text and dates named in a
warning that says what was done.

Example
-------
>>> column_options({"drop": ["id,date"], "categorical": [], "numeric": []}, ["id", "date", "x"])
{'drop': ['id', 'date'], 'categorical': [], 'numeric': []}
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

from nnmath.cli.messages import UsageError, listed, nearest, plural, shown, suggestion
from nnmath.cli.parser import MAX_MEMORY_GIB
from nnmath.cli.tables import Source
from nnmath.core.registry import ESTIMATOR_DEFAULTS
from nnmath.preprocessing import (
    BadCellsError,
    MissingCellsError,
    TableStatistics,
    TabularPreprocessor,
    TargetStatistics,
    column,
    column_names,
    missing_mask,
)

__all__ = [
    "BYTES_PER_ACTIVATION",
    "BYTES_PER_PARAMETER",
    "batch_rows",
    "check_encoded_size",
    "check_network_size",
    "check_training_options",
    "check_output",
    "check_stdout",
    "column_options",
    "finish_target",
    "require_target",
    "row_subset",
    "say_decisions",
    "statistics_error",
    "target_rows",
    "network_memory",
    "output_count",
    "prepare_table",
    "warn_missing_target",
    "PreparedTable",
]


def check_output(path: str, what: str) -> None:
    """Fail before training, not after, when an output cannot be written.

    The output cannot be written for a directory or a special file at the path, a missing
    or read-only directory, a name too long.
    """
    from nnmath.io.container import check_writable

    try:
        check_writable(path)
    except IsADirectoryError:
        raise UsageError(f"cannot write {what} {path}: it is a directory") from None
    except FileNotFoundError:
        parent = str(Path(path).parent)  # "." for a bare file name
        raise UsageError(
            f"cannot write {what} {path}: directory {parent!r} does not exist"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def check_stdout(what: str, instead: str) -> None:
    """Fail before any work when standard output, where ``what`` goes, is closed.

    ``instead`` is the option that writes a file instead.
    """
    import sys

    if getattr(sys.stdout, "stream", sys.stdout) is None:
        raise UsageError(
            f"standard output is closed: nowhere to write {what}; {instead} writes a file"
        )


def require_target(target: str | None, names: list[str], source: Source) -> str:
    """Return the target column's name, checked: given and one of the table's columns."""
    if target is None:
        raise UsageError(
            f"--target COLUMN is required: name the column to predict (the columns of "
            f"{source.name}: {listed(names)})"
        )
    if target not in names:
        close = nearest(target, names)
        maybe = f"; did you mean {close!r}? Its columns are" if close else "; its columns are"
        raise UsageError(
            f"{source.name} has no column {target!r}{maybe} {listed(names, 20)}"
            f"{source.delimiter_hint(names)}"
        )
    return target


def column_options(args, names: list[str], target: str | None = None) -> dict:
    """Return --drop, --categorical and --numeric as lists of the table's columns.

    A value may name several, separated by commas; a name that is not a column is an error
    with the nearest one suggested.
    """
    options = {}
    get = args.get if isinstance(args, dict) else lambda key: getattr(args, key)
    for option in ("drop", "categorical", "numeric"):
        chosen = []
        for given in get(option) or []:
            parts = [given] if given in names else [p.strip() for p in given.split(",")]
            for part in filter(None, parts):
                if part not in names:
                    raise UsageError(
                        f"--{option} {part}: the data has no column {part!r}"
                        f"{suggestion(part, names)}"
                    )
                if part == target:
                    raise UsageError(f"--{option} {part}: that is the target column")
                chosen.append(part)
        options[option] = chosen
    seen: dict[str, str] = {}
    for option, chosen in options.items():
        for name in chosen:
            if name in seen and seen[name] != option:
                raise UsageError(f"column {name!r} is given to both --{seen[name]} and --{option}")
            seen[name] = option
    return options


def row_subset(table, rows: np.ndarray):
    """Return the rows of a table (a DataFrame or a dict of columns), renumbered from 0."""
    if hasattr(table, "iloc"):
        return table.iloc[rows].reset_index(drop=True)
    return {k: np.asarray(v)[rows] for k, v in table.items()}


def target_rows(values: np.ndarray) -> np.ndarray:
    """Return the rows (numbered from 0) that have a target value."""
    return np.flatnonzero(~missing_mask(values))


def warn_missing_target(n_rows: int, keep, target: str, source: Source, console) -> None:
    """Warn about the rows left out for want of a target value (their lines in the file)."""
    missing = np.setdiff1d(np.arange(n_rows), keep)
    if len(missing):
        console.warn(
            f"{plural(len(missing), 'row')} without a value of the target {target!r} "
            f"({source.where_text(missing, count=len(missing))}) left out"
        )


def check_training_options(args) -> None:
    """Check the options that need no data, before any is read.

    These are --hidden, --dropout (and lbfgs with dropout).
    """
    from nnmath.cli.learn import dropout_rates, hidden_sizes

    given = getattr(args, "hidden", None)
    hidden = hidden_sizes(given) if given is not None else ESTIMATOR_DEFAULTS["hidden_layer_sizes"]
    rates = dropout_rates(args.dropout, len(hidden))
    if args.solver == "lbfgs" and any(rates if isinstance(rates, list) else [rates]):
        raise UsageError("--dropout needs a stochastic solver (adam, sgd or gd), not lbfgs")
    if getattr(args, "hidden", None) is not None:
        # the hidden layers alone, one input, one output, batches of one row: a lower bound
        check_network_size(args, inputs=1, outputs=1, rows=1, before_data=True)


#: The bytes a parameter of the network costs while training, counted on the command's
#: runs: the float64 weights, their gradient, Adam's two moments, the best weights kept
#: for early stopping, and the copies of saving them (measured: 77 bytes a parameter for
#: --hidden 3000,3000, 9,015,001 parameters).
BYTES_PER_PARAMETER = 80

#: The bytes a value of a layer costs for each row of a batch: z, a and δ of the layer
#: and the dropout mask, in float64.
BYTES_PER_ACTIVATION = 4 * 8


def network_memory(hidden, inputs: int, outputs: int, rows: int) -> tuple[int, int]:
    """Estimate a network's parameter count and the bytes training it takes.

    The parameters of layers of widths n₀ (the inputs), n₁ … n_L (the outputs) are
    P = Σ (n_{l−1} + 1) n_l; training takes P × :data:`BYTES_PER_PARAMETER` bytes and,
    for a batch of ``rows`` rows, rows × Σ n_l × :data:`BYTES_PER_ACTIVATION` more.

    Examples
    --------
    >>> network_memory((3,), inputs=2, outputs=1, rows=10)  # 13·80 + 10·(2 + 3 + 1)·32
    (13, 2960)
    """
    widths = [inputs, *hidden, outputs]
    parameters = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=False))
    return parameters, parameters * BYTES_PER_PARAMETER + rows * sum(widths) * BYTES_PER_ACTIVATION


def batch_rows(args, n_train: int) -> int:
    """Return the rows of a gradient step: all for lbfgs and gd, else --batch-size or 200."""
    if args.solver in ("lbfgs", "gd"):
        return n_train
    return min(getattr(args, "batch_size", None) or 200, max(n_train, 1))


def output_count(stats: TargetStatistics) -> int:
    """Return the outputs of the network for a target: 1 for regression or 2 classes, else k."""
    if stats.task == "classification" and stats.classes is not None and len(stats.classes) > 2:
        return len(stats.classes)
    return 1


def check_network_size(
    args, inputs: int, outputs: int, rows: int, before_data: bool = False
) -> None:
    """Refuse, before training, a network that a model file cannot hold or memory cannot train.

    A model file holds at most 2,048 tensors, two per layer; the memory is estimated by
    :func:`network_memory` and refused above ``--max-memory`` (GiB; 0: no limit).
    """
    from nnmath.cli.learn import hidden_sizes
    from nnmath.io.container import MAX_TENSORS

    hidden = hidden_sizes(args.hidden)
    if 2 * (len(hidden) + 1) > MAX_TENSORS:
        raise UsageError(
            f"--hidden has {len(hidden):,} layers: a model file holds at most {MAX_TENSORS:,} "
            f"tensors, two per layer, so at most {MAX_TENSORS // 2 - 1:,} hidden layers"
        )
    limit = getattr(args, "max_memory", MAX_MEMORY_GIB)
    parameters, need = network_memory(hidden, inputs, outputs, rows)
    if limit and need > limit * 2**30:
        shown = args.hidden if len(args.hidden) <= 40 else args.hidden[:40] + "…"
        if before_data:
            what = f"--hidden {shown} alone is a network of more than {parameters:,} parameters"
            cost = f"more than {need / 2**30:.3g} GiB"
        else:
            what = (
                f"--hidden {shown} with {plural(inputs, 'input')} and "
                f"{plural(outputs, 'output')} is a network of {parameters:,} parameters"
            )
            cost = f"about {need / 2**30:.3g} GiB (batches of {plural(rows, 'row')})"
        raise UsageError(
            f"{what}: training it takes {cost}, more than the limit of {limit:g} GiB "
            "(--max-memory GIB sets another; 0: none)"
        )


def finish_target(stats: TargetStatistics, target: str, n: int, max_classes: int) -> str:
    """Decide the task from the target's statistics, or raise the error that says why not."""
    try:
        task = stats.finish()
    except ValueError as exc:
        if "regression needs numbers" in str(exc):
            raise UsageError(
                f"target column {target!r} is not numeric; regression needs numbers. Use "
                "--task classification for labels."
            ) from None
        raise UsageError(f"target column {target!r}: {exc}") from None
    if task == "classification" and stats.classes is not None:
        if stats.too_many or (max_classes and len(stats.classes) > max_classes):
            raise UsageError(
                f"target column {target!r} has more than {max_classes:,} distinct values in "
                f"{n:,} rows, too many classes to learn; an identifier? For a number to "
                "predict use --task regression; --max-classes N sets another limit"
            )
        if len(stats.classes) < 2:
            raise UsageError(
                f"target column {target!r} has one class only: {shown(stats.classes[0])}"
            )
        if stats.numeric and not stats.whole:
            raise UsageError(
                f"target column {target!r} holds numbers that are not whole: classes are "
                "labels or whole numbers. Use --task regression to predict the numbers."
            )
    return task


def statistics_error(exc: Exception, source: Source) -> UsageError:
    """Return the one-line message of a statistics pass's error, with lines for rows."""
    if isinstance(exc, BadCellsError):
        cells = ", ".join(
            f"{place} {cell!r}"
            for place, cell in zip(source.where(exc.rows), exc.cells, strict=True)
        )
        more = f" and {exc.count - len(exc.cells):,} more" if exc.count > len(exc.cells) else ""
        if exc.thousands:
            way = f"remove the thousands separators from {plural(exc.count, 'cell')}"
        else:
            way = "fix or empty those cells"
        what = "numbers" if exc.kind == "numbers" else "dates"
        return UsageError(
            f"{source.name}: column {exc.column!r} holds {what}, but "
            f"{plural(exc.count, 'cell is', 'cells are')} not: {cells}{more}. To go on, {way}; "
            f"--numeric {exc.column} reads them as missing; --categorical {exc.column} makes "
            f"the column categories; --drop {exc.column} leaves it out"
        )
    if isinstance(exc, MissingCellsError):
        return UsageError(
            f"{source.name}: column {exc.column!r} has {plural(exc.count, 'missing value')} "
            f"({source.where_text(exc.rows, count=exc.count)}); --impute none refuses them "
            "(the default, --impute median, fills them)"
        )
    return UsageError(f"{source.name}: {' '.join(str(exc).split())}")


def say_decisions(stats: TableStatistics, console) -> None:
    """Warn about each column not used as it reads, and note the filled cells.

    Such columns are identifiers, free text, dates, columns without values, and cells read
    as missing.
    """
    for d in stats.decisions:
        if d.note and d.note != "dropped (--drop)":
            console.warn(f"column {d.column!r}: {d.note}")
    filled = {
        name: count
        for name, count in stats.missing.items()
        if count and any(d.column == name and d.kind != "drop" for d in stats.decisions)
    }
    if filled:
        counts = ", ".join(f"{name} {count:,}" for name, count in filled.items())
        console.note(
            f"{plural(sum(filled.values()), 'missing cell')} filled with the training median or "
            f"most frequent value ({counts})"
        )


def check_encoded_size(pre, rows: int, source: Source, max_cells: int) -> None:
    """Refuse, before encoding, a table whose inputs would be too many values."""
    inputs = len(pre.get_feature_names_out())
    if not max_cells or rows * inputs <= max_cells:
        return
    widest = max(pre.categories_, key=lambda c: len(pre.categories_[c]), default=None)
    hint = (
        f"; column {widest!r} alone has {len(pre.categories_[widest]):,} categories "
        f"(--drop {widest} leaves it out)"
        if widest is not None
        else ""
    )
    raise UsageError(
        f"{source.name}: encoding gives {rows:,} rows × {inputs:,} inputs = {rows * inputs:,} "
        f"values, more than the limit of {max_cells:,} (--max-cells N sets another){hint}"
    )


class PreparedTable(NamedTuple):
    """A table read whole, made ready for training by :func:`prepare_table`."""

    table: object  #: the rows with a target, numbered from 0
    y: np.ndarray  #: the target, encoded as the model takes it
    target: str
    task: str
    target_stats: TargetStatistics
    stats: TableStatistics  #: finished: its ``decisions`` say each column's kind
    pre: TabularPreprocessor  #: fitted on every row with a target


def prepare_table(
    args, console, table, target: str | None, source: Source, min_rows: int = 0
) -> PreparedTable:
    """Check a table read whole against the options and fit its preprocessing.

    The target and the column options are checked against the table's columns, the rows
    without a target left out (and said), the task decided, the statistics run: what
    ``train``, ``cv`` and ``tune`` share. Fewer than ``min_rows`` rows with a target are
    refused before the task is decided.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from nnmath.cli.messages import Console
    >>> args = SimpleNamespace(drop=[], categorical=[], numeric=[], task=None, max_classes=1000,
    ...                        loss=None, impute="median", seed=0)
    >>> table = {"x": np.array([1.0, 2.0, 3.0]), "y": np.array(["a", "b", ""], dtype=object)}
    >>> ready = prepare_table(args, Console(quiet=True), table, "y", Source("t.csv", "csv"))
    >>> ready.task, ready.y.tolist()
    ('classification', ['a', 'b'])
    """
    from nnmath.cli.learn import check_loss

    names = column_names(table)
    target = require_target(target, names, source)
    options = column_options(args, names, target)
    n_rows = len(column(table, target))
    keep = target_rows(column(table, target))
    if len(keep) < n_rows:
        table = row_subset(table, keep)
    y_raw = column(table, target)
    if len(y_raw) < min_rows:
        raise UsageError(
            f"{source.name} has {plural(len(y_raw), 'row')} with a target; training needs "
            f"{min_rows}"
        )
    target_stats = TargetStatistics(args.task, args.max_classes)
    target_stats.update(y_raw)
    task = finish_target(target_stats, target, len(y_raw), args.max_classes)
    check_loss(args.loss, task)
    warn_missing_target(n_rows, keep, target, source, console)
    stats = TableStatistics(target, **options, impute=args.impute != "none", seed=args.seed)
    try:
        stats.update(table, rows=keep)
        pre = TabularPreprocessor.from_statistics(stats)
    except ValueError as exc:
        raise statistics_error(exc, source) from None
    y = target_stats.encode(y_raw)
    return PreparedTable(table, y, target, task, target_stats, stats, pre)
