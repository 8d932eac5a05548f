"""The ``nnmath`` command: train, predict, evaluate, inspect, export and explain.

A thin layer over the library: it reads tables, calls the estimators, the model files
and the explanation, and prints. Exit status 0 on success; every failure prints one line
to stderr (``nnmath: error: …``) and exits with status 2, a traceback never; Ctrl-C
exits with status 130 at any moment, from the first import on (see
:mod:`nnmath.startup`). An interrupted ``train`` writes the best weights it has only
when it trained at least one epoch, and says so.

Resources are checked before they are spent: the outputs are checked writable before
training, and a table whose size (rows × columns, read from the file's header or its
Parquet metadata before the table is built; rows × inputs once encoded) or whose number
of classes is beyond a limit is refused with a message that names the way out.

Example
-------
>>> neutralize_formulas(np.array(["=1+2", "yes", "-x", 3], dtype=object)).tolist()
["'=1+2", 'yes', "'-x", 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from nnmath.preprocessing import column, column_names
from nnmath.startup import EXIT_INTERRUPTED

__all__ = ["MAX_CELLS", "MAX_CLASSES", "MAX_COLUMNS", "main", "neutralize_formulas"]

DATASETS = ("digits", "iris", "wine", "breast-cancer", "diabetes")
EXIT_USAGE = 2

#: The most values (rows × columns, and rows × inputs after encoding) a table may have
#: before it is read; ``--max-cells`` sets another limit.
MAX_CELLS = 50_000_000

#: The most columns a data file may have (counted in its header line first).
MAX_COLUMNS = 100_000

#: The most classes ``train`` learns (``--max-classes`` sets another limit): a target with
#: more is an identifier or a number, rarely a label.
MAX_CLASSES = 1_000

#: The longest header line of a CSV file that is read to count its columns.
_MAX_HEADER_LINE = 64 * 2**20


class UsageError(Exception):
    """A failure the user can fix; printed as one line, exit status 2."""


# ---------------------------------------------------------------------- data
def _require_pandas():
    try:
        import pandas as pd
    except ImportError:
        raise UsageError(
            'reading data files needs pandas and pyarrow: pip install "nnmath[data]"'
        ) from None
    return pd


def read_table(path: str, max_cells: int = MAX_CELLS):
    """Read a CSV (or .tsv) or Parquet file into a pandas DataFrame, after checking its
    size (see :func:`table_shape`) against ``max_cells`` and :data:`MAX_COLUMNS`."""
    p = Path(path)
    if not p.exists():
        raise UsageError(f"no such file: {path}")
    if p.is_dir():
        raise UsageError(f"{path} is a directory, not a data file")
    pd = _require_pandas()
    suffix = p.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".tsv", ".txt"):
        raise UsageError(
            f"{path}: unsupported file type {suffix or '(none)'}; use .csv, .tsv or .parquet"
        )
    sep = "\t" if suffix == ".tsv" else ","
    shape = table_shape(p, sep)
    if shape is not None:
        _check_size(path, *shape, max_cells)
    try:
        if suffix in (".parquet", ".pq"):
            table = pd.read_parquet(p)
        else:
            table = pd.read_csv(p, sep=sep)
    except UsageError:
        raise
    except pd.errors.EmptyDataError:
        raise UsageError(f"{path} is empty") from None
    except ImportError as exc:
        raise UsageError(f'{path}: {exc}. Install it with pip install "nnmath[data]"') from None
    except (ValueError, OSError) as exc:
        raise UsageError(f"{path}: could not read the data: {_one_line(exc)}") from None
    if len(table) == 0:
        raise UsageError(f"{path} has no rows")
    table.columns = [str(c) for c in table.columns]
    return table


def table_shape(path: Path, sep: str = ",") -> tuple[int, int] | None:
    """(rows, columns) of a data file, found without building the table: a Parquet
    file's metadata, or a CSV file's header line and its count of line ends (an upper
    bound: quoted line breaks count too). None when the file cannot tell (pandas then
    says what is wrong with it).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_text("a,b,c\\n1,2,3\\n4,5,6")
    >>> table_shape(path)
    (2, 3)
    """
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq

            metadata = pq.ParquetFile(path).metadata
        except Exception:  # not Parquet, or no pyarrow: read_parquet reports it
            return None
        return metadata.num_rows, metadata.num_columns
    try:
        with open(path, "rb") as f:
            first = f.readline(_MAX_HEADER_LINE + 1)
            if len(first) > _MAX_HEADER_LINE:
                raise UsageError(
                    f"{path}: the first line is longer than {_MAX_HEADER_LINE // 2**20} MiB; "
                    "is it a data file?"
                )
            rows, last = 0, b"\n"
            while chunk := f.read(2**20):
                rows += chunk.count(b"\n")
                last = chunk[-1:]
    except OSError:
        return None
    if not first.strip():
        return None  # empty: read_csv says so
    rows += last != b"\n"  # a last line without its line end
    header = next(csv.reader([first.decode("utf-8", "replace").rstrip("\r\n")], delimiter=sep))
    return rows, len(header)


def _check_size(source: str, rows: int, columns: int, max_cells: int) -> None:
    if rows == 0:
        raise UsageError(f"{source} has no rows")
    if columns > MAX_COLUMNS:
        raise UsageError(f"{source} has {columns:,} columns; nnmath reads at most {MAX_COLUMNS:,}")
    if max_cells and rows * columns > max_cells:
        raise UsageError(
            f"{source} has {rows:,} rows × {columns:,} columns = {rows * columns:,} values, "
            f"more than the limit of {max_cells:,} (--max-cells N sets another; 0: none)"
        )


def builtin_table(name: str) -> tuple[dict, str]:
    """A scikit-learn bundled data set as a dict of columns plus the target column."""
    from sklearn import datasets

    loaders = {
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast-cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
    }
    bunch = loaders[name]()
    table = {str(f): bunch.data[:, j] for j, f in enumerate(bunch.feature_names)}
    target = bunch.target
    names = getattr(bunch, "target_names", None)
    if names is not None and name != "digits":
        target = np.asarray(names)[target]
    table["target"] = target
    return table, "target"


def _n_rows(table) -> int:
    return len(table) if hasattr(table, "iloc") else len(next(iter(table.values())))


def _target(table, target: str | None, source: str) -> np.ndarray:
    if target is None:
        raise UsageError("--target COLUMN is required: name the column to predict")
    if target not in column_names(table):
        raise UsageError(
            f"{source} has no column {target!r}; its columns are {', '.join(column_names(table))}"
        )
    from nnmath.preprocessing import missing_mask

    y = column(table, target)
    missing = missing_mask(y)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise UsageError(
            f"target column {target!r} has {len(rows)} missing value{'s' * (len(rows) > 1)} "
            f"(first at row {rows[0]}); drop those rows"
        )
    return y


def infer_task(y: np.ndarray) -> str:
    """classification for labels (strings, booleans, few integers), else regression."""
    from sklearn.utils.multiclass import type_of_target

    if y.dtype.kind in "biuO" or y.dtype.kind in "US":
        kind = type_of_target(y)
        if y.dtype.kind in "iu" and len(np.unique(y)) > 20:
            return "regression"
        return "classification" if kind in ("binary", "multiclass") else "regression"
    return "regression" if type_of_target(y) == "continuous" else "classification"


# ---------------------------------------------------------------------- commands
def cmd_train(args) -> int:
    """`nnmath train`: fit an MLP on a table or a built-in data set, save it; returns 0."""
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline

    import nnmath
    from nnmath.preprocessing import TabularPreprocessor

    _check_output(args.out, "the model file")
    if args.plot:
        _check_output(args.plot, "the plot")
        _check_plot_format(args.plot)
    if args.data is not None:
        table, source = read_table(args.data, args.max_cells), args.data
        target_name = args.target
    else:
        table, target_name = builtin_table(args.dataset)
        source = f"{args.dataset} (built-in data set)"
        if args.target not in (None, target_name):
            raise UsageError(f"the built-in data sets have their target in column {target_name!r}")
        print(f"No DATA given: training on the built-in {args.dataset} data set.")
    y = _target(table, target_name, source)
    task = args.task or infer_task(y)
    if task == "regression":
        if y.dtype.kind not in "iuf":
            raise UsageError(
                f"target column {target_name!r} is not numeric ({y.dtype}); regression needs "
                "numbers. Use --task classification for labels."
            )
        y = y.astype(np.float64)
    n = _n_rows(table)
    if n < 2:
        raise UsageError(f"{source} has {n} row; training needs at least 2")
    hidden = _parse_hidden(args.hidden)
    classification = task == "classification"
    if classification:
        labels, counts = np.unique(y.astype(str) if y.dtype.kind == "O" else y, return_counts=True)
        if len(labels) < 2:
            raise UsageError(f"target column {target_name!r} has one class only: {labels[0]!r}")
        if args.max_classes and len(labels) > args.max_classes:
            raise UsageError(
                f"target column {target_name!r} has {len(labels):,} distinct values in {n:,} "
                f"rows, too many classes to learn (the limit is {args.max_classes:,}); an "
                "identifier? For a number to predict use --task regression; --max-classes N "
                "sets another limit"
            )

    idx = np.arange(n)
    val_idx = None
    if args.validation_fraction > 0:
        stratify = y if classification and counts.min() >= 2 else None
        try:
            idx, val_idx = train_test_split(
                idx, test_size=args.validation_fraction, random_state=args.seed, stratify=stratify
            )
        except ValueError as exc:
            raise UsageError(f"--validation-fraction: {_one_line(exc)}") from None
    # The preprocessing is fitted on every row, as a scaler in a scikit-learn pipeline
    # is before MLP's own early-stopping split: a category that happens to fall only in
    # the validation rows is known, and messages give the file's row numbers.
    try:
        pre = TabularPreprocessor(target=target_name).fit(table)
        _check_encoded_size(pre, n, source, args.max_cells)
        X_all = pre.transform(table)
    except ValueError as exc:
        raise UsageError(f"{source}: {_one_line(exc)}") from None
    X_train, y_train = X_all[idx], y[idx]
    params = {
        "hidden_layer_sizes": hidden,
        "activation": args.activation,
        "solver": args.solver,
        "max_iter": args.epochs,
        "random_state": args.seed,
        "verbose": 1 if sys.stdout.isatty() else 0,
    }
    if args.batch_size is not None:
        params["batch_size"] = args.batch_size
    if args.learning_rate is not None:
        params["learning_rate_init"] = args.learning_rate
    fit_kwargs = {}
    if val_idx is not None:
        X_val = X_all[val_idx]
        fit_kwargs["validation_data"] = (X_val, y[val_idx])
        params["early_stopping"] = args.solver != "lbfgs"
        # Early stopping watches the validation log loss (R² for regression): on a
        # small validation set, accuracy moves in steps and stalls too soon.
        params["scoring"] = "neg_log_loss" if classification else None
    estimator_class = nnmath.MLPClassifier if classification else nnmath.MLPRegressor
    try:
        model = estimator_class(**params)
    except (TypeError, ValueError) as exc:
        raise UsageError(_one_line(exc)) from None

    shape = f"{n} rows × {len(pre.feature_names_in_)} feature columns"
    print(f"Data: {source}: {shape} → {len(pre.get_feature_names_out())} inputs after encoding")
    if classification:
        shown = ", ".join(str(c) for c in labels[:12]) + (" …" if len(labels) > 12 else "")
        print(f"Task: classification of {target_name!r}, {len(labels)} classes: {shown}")
    else:
        print(f"Task: regression of {target_name!r}")
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X_train, y_train, **fit_kwargs)
        except nnmath.DivergenceError as exc:
            raise UsageError(f"{_one_line(exc)} Nothing was written.") from None
        except ValueError as exc:
            raise UsageError(_one_line(exc)) from None
    seconds = time.perf_counter() - started
    for w in caught:
        if issubclass(w.category, UserWarning):
            print(f"warning: {_one_line(w.message)}", file=sys.stderr)
    pipeline = Pipeline([("preprocess", pre), ("model", model)])

    net = model.network_
    sizes = " → ".join(str(s) for s in net.layer_sizes)
    acts = ", ".join(a.name for a in net.activations)
    print(f"Network: {sizes} ({acts}), {net.n_parameters:,} parameters, solver {args.solver}")
    print(f"Trained {model.n_iter_} epochs in {seconds:.2f} s; stopped: {model.stop_reason_}")
    interrupted = model.stop_reason_.startswith("interrupted")
    unit = "iteration" if args.solver == "lbfgs" else "epoch"
    if model.n_iter_ == 0:  # an untrained model never replaces anything
        what = "interrupted" if interrupted else f"stopped ({model.stop_reason_})"
        message = f"{what} before the first {unit} ended; nothing written to {args.out}"
        if interrupted:
            print(f"nnmath: {message}", file=sys.stderr)
            return EXIT_INTERRUPTED
        raise UsageError(message)
    metric = "accuracy" if classification else "R²"
    line = f"Training {metric}: {model.score(X_train, y_train):.4f}"
    if val_idx is not None:
        val_score = model.score(fit_kwargs["validation_data"][0], y[val_idx])
        line += f"; validation {metric}: {val_score:.4f}"
    print(line)
    _save(pipeline, args.out)
    print(f"Wrote {args.out}")
    if args.plot:
        _plot_loss(model, args.plot)
        print(f"Wrote {args.plot}")
    if interrupted:
        print(
            f"nnmath: interrupted after {model.n_iter_} {unit}{'s' * (model.n_iter_ > 1)}; "
            f"wrote the best weights it had to {args.out}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return 0


def _check_encoded_size(pre, rows: int, source: str, max_cells: int) -> None:
    """Refuse, before encoding, a table whose one-hot encoding is too large; name the
    column with the most categories (an identifier or free text, usually)."""
    inputs = len(pre.get_feature_names_out())
    if not max_cells or rows * inputs <= max_cells:
        return
    widest = max(pre.categories_, key=lambda c: len(pre.categories_[c]), default=None)
    hint = (
        f"; column {widest!r} alone has {len(pre.categories_[widest]):,} distinct values "
        "(an identifier or free text? drop it)"
        if widest is not None
        else ""
    )
    raise UsageError(
        f"{source}: encoding gives {rows:,} rows × {inputs:,} inputs = {rows * inputs:,} "
        f"values, more than the limit of {max_cells:,} (--max-cells N sets another){hint}"
    )


def _check_output(path: str, what: str) -> None:
    """Fail before training, not after, when an output cannot be written: a directory or
    a special file at the path, a missing or read-only directory, a name too long."""
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


def _check_plot_format(path: str) -> None:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError('--plot needs matplotlib: pip install "nnmath[plot]"') from None
    formats = Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise UsageError(
            f"--plot {path}: unsupported image type {suffix or '(none)'!r}; use .png, .svg or .pdf"
        )


def _plot_loss(model, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from nnmath.plotting import plot_loss_curve
    except ImportError:
        raise UsageError('--plot needs matplotlib: pip install "nnmath[plot]"') from None
    fig, ax = plt.subplots(figsize=(6, 4))
    plot_loss_curve(model, ax=ax)
    try:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise UsageError(f"could not write the plot {path}: {_one_line(exc)}") from None
    finally:
        plt.close(fig)


def _parse_hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise UsageError(
            f"--hidden must be comma-separated integers like 64,32; got {text!r}"
        ) from None
    if not sizes or any(s < 1 for s in sizes):
        raise UsageError(f"--hidden must be comma-separated integers >= 1; got {text!r}")
    return sizes


def _save(model, path: str) -> None:
    import nnmath

    try:
        nnmath.save(model, path)
    except OSError as exc:
        raise UsageError(f"could not write the model file {path}: {_one_line(exc)}") from None


def _load(path: str):
    import nnmath

    if not os.path.lexists(path):
        raise UsageError(f"no such model file: {path}")
    try:
        return nnmath.load(path)
    except nnmath.ModelFileError as exc:  # its message starts with the path
        raise UsageError(_one_line(exc)) from None
    except (ValueError, OSError) as exc:
        raise UsageError(f"{path}: {_one_line(exc)}") from None


def _split_model(model):
    """(preprocessing or None, estimator) of a loaded model."""
    steps = getattr(model, "named_steps", None)
    if steps is not None:
        return steps["preprocess"], steps["model"]
    return None, model


def _features(pre, model, table, source: str, target: str | None = None):
    """The feature matrix of a table for a model, with the columns checked."""
    try:
        if pre is not None:
            return pre.transform(table)
        names = getattr(model, "feature_names_in_", None)
        given = [c for c in column_names(table) if c != target]
        if names is not None:
            missing = [c for c in names if c not in given]
            unexpected = [c for c in given if c not in set(names)]
            if missing or unexpected:
                raise ValueError(
                    f"the data's columns differ from the model's: missing columns {missing}; "
                    f"unexpected columns {unexpected}"
                )
            given = list(names)
        X = np.column_stack([column(table, c) for c in given])
        return X.astype(np.float64)
    except ValueError as exc:
        raise UsageError(f"{source}: {_one_line(exc)}") from None


def cmd_predict(args) -> int:
    """`nnmath predict`: write a saved model's predictions as CSV; returns 0."""
    model = _load(args.model)
    pre, estimator = _split_model(model)
    table = read_table(args.data, args.max_cells)
    X = _features(pre, estimator, table, args.data, getattr(pre, "target", None))
    pd = _require_pandas()
    out = pd.DataFrame({"prediction": neutralize_formulas(estimator.predict(X))})
    if args.proba:
        if not hasattr(estimator, "predict_proba"):
            raise UsageError("--proba needs a classifier; this model is a regressor")
        proba = estimator.predict_proba(X)
        for j, c in enumerate(estimator.classes_):
            out[f"proba_{c}"] = proba[:, j]
    if args.out:
        try:
            out.to_csv(args.out, index=False)
        except OSError as exc:
            raise UsageError(f"could not write {args.out}: {_one_line(exc)}") from None
        print(f"Wrote {len(out)} predictions to {args.out}")
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


#: What a spreadsheet takes for the start of a formula (OWASP's list for CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(values: np.ndarray) -> np.ndarray:
    """Labels as they are written to a predictions CSV: a text label that begins with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so that a
    spreadsheet shows it as text instead of running it as a formula (OWASP's advice
    against CSV injection). Numbers are written as numbers.

    Examples
    --------
    >>> neutralize_formulas(np.array(["=HYPERLINK(1)", "ok"])).tolist()
    ["'=HYPERLINK(1)", 'ok']
    >>> neutralize_formulas(np.array([-1, 2])).tolist()
    [-1, 2]
    """
    if values.dtype.kind not in "OUS":
        return values
    out = values.astype(object)
    for i, v in enumerate(out):
        if isinstance(v, str) and v.startswith(_FORMULA_STARTS):
            out[i] = "'" + v
    return out


def cmd_evaluate(args) -> int:
    """`nnmath evaluate`: print accuracy/F1/confusion matrix or R²/MAE/RMSE; returns 0."""
    from sklearn import metrics

    model = _load(args.model)
    pre, estimator = _split_model(model)
    table = read_table(args.data, args.max_cells)
    y = _target(table, args.target, args.data)
    X = _features(pre, estimator, table, args.data, args.target)
    y_pred = estimator.predict(X)
    print(f"{args.data}: {len(y)} rows")
    if hasattr(estimator, "classes_"):
        # Match the file's labels to the model's classes by their text: casting to the
        # classes' dtype would truncate longer strings ('<U3' makes "yess" "yes").
        by_text = {str(c): c for c in estimator.classes_}
        unknown = sorted({str(v) for v in y} - set(by_text))
        if unknown:
            raise UsageError(
                f"target column {args.target!r} has labels the model never saw: "
                f"{', '.join(unknown[:10])}{' …' if len(unknown) > 10 else ''} "
                f"(its classes: {', '.join(by_text)})"
            )
        y = np.array([by_text[str(v)] for v in y], dtype=estimator.classes_.dtype)
        print(f"accuracy: {metrics.accuracy_score(y, y_pred):.4f}")
        print(f"F1 (macro): {metrics.f1_score(y, y_pred, average='macro'):.4f}")
        labels = list(estimator.classes_)
        cm = metrics.confusion_matrix(y, y_pred, labels=labels)
        width = max(max(len(str(c)) for c in labels), len(str(cm.max())), 4)
        print("confusion matrix (rows: true, columns: predicted):")
        print(" " * (width + 1) + " ".join(f"{str(c):>{width}}" for c in labels))
        for c, row in zip(labels, cm, strict=True):
            print(f"{str(c):>{width}} " + " ".join(f"{v:>{width}}" for v in row))
    else:
        if y.dtype.kind not in "iuf":
            raise UsageError(
                f"target column {args.target!r} is not numeric; the model is a regressor"
            )
        y = y.astype(np.float64)
        print(f"R²: {metrics.r2_score(y, y_pred):.4f}")
        print(f"MAE: {metrics.mean_absolute_error(y, y_pred):.4f}")
        print(f"RMSE: {np.sqrt(metrics.mean_squared_error(y, y_pred)):.4f}")
    return 0


def cmd_info(args) -> int:
    """`nnmath info`: print a model file's architecture and training summary; returns 0."""
    import nnmath

    model = _load(args.model)
    pre, estimator = _split_model(model)
    net = getattr(estimator, "network_", estimator)
    print(f"{args.model}: {type(estimator).__name__}")
    if nnmath.io.checksummed(args.model):
        print("checksum: SHA-256 of the weights and of the description, verified")
    else:
        print("checksum: none (a file from before nnmath stored checksums; not verified)")
    if hasattr(net, "layer_sizes"):
        sizes = " → ".join(str(s) for s in net.layer_sizes)
        acts = ", ".join(a.name for a in net.activations)
        print(f"architecture: {sizes} ({acts}); loss {net.loss.name}; dtype {net.dtype.name}")
        print(f"parameters: {net.n_parameters:,}")
    if hasattr(estimator, "classes_"):
        print(f"classes: {', '.join(str(c) for c in estimator.classes_)}")
    if pre is not None:
        print(f"input columns: {', '.join(pre.feature_names_in_)} (target {pre.target!r})")
    for name in ("solver", "learning_rate_init", "alpha", "batch_size"):
        if hasattr(estimator, name):
            print(f"{name}: {getattr(estimator, name)}")
    if hasattr(estimator, "n_iter_"):
        print(
            f"training: {estimator.n_iter_} epochs; "
            f"stopped: {getattr(estimator, 'stop_reason_', 'unknown')}"
        )
        if getattr(estimator, "loss_curve_", None):
            print(f"final training loss: {estimator.loss_curve_[-1]:.6g}")
        if getattr(estimator, "best_validation_score_", None) is not None:
            print(f"best validation score: {estimator.best_validation_score_:.6g}")
    return 0


def cmd_export_onnx(args) -> int:
    """`nnmath export-onnx`: write a saved model as an ONNX file; returns 0."""
    import nnmath

    model = _load(args.model)
    pre, estimator = _split_model(model)
    try:
        nnmath.export_onnx(estimator, args.out)
    except ImportError as exc:
        raise UsageError(_one_line(exc)) from None
    except OSError as exc:
        raise UsageError(f"could not write {args.out}: {_one_line(exc)}") from None
    print(f"Wrote {args.out}")
    if pre is not None:
        names = pre.get_feature_names_out()
        print(
            f"The ONNX graph takes the {len(names)} encoded inputs (numeric columns "
            "standardized, categories one-hot), in this order: " + ", ".join(names)
        )
    return 0


def cmd_explain(args) -> int:
    """`nnmath explain`: print the trace of one training step; returns 0."""
    # NOTE: not `from nnmath import explain`: that name is the function, which the
    # package re-exports over the module of the same name.
    from nnmath.explain import explain, explain_demo

    if args.model is None:
        trace = explain_demo()
    else:
        if args.data is None:
            raise UsageError("nnmath explain MODEL DATA --row N: DATA is missing")
        model = _load(args.model)
        pre, estimator = _split_model(model)
        table = read_table(args.data, args.max_cells)
        n = _n_rows(table)
        if not 0 <= args.row < n:
            raise UsageError(f"--row {args.row} is out of range: {args.data} has rows 0 to {n - 1}")
        target = args.target or getattr(pre, "target", None)
        if target is None:
            raise UsageError("--target COLUMN is required: the model file does not name its target")
        y = _target(table, target, args.data)
        X = _features(pre, estimator, table, args.data, target)
        try:
            trace = explain(estimator, X[args.row], y[args.row : args.row + 1])
        except ValueError as exc:
            raise UsageError(_one_line(exc)) from None
    print(trace.render(args.format))
    return 0


def cmd_playground(args) -> int:
    """`nnmath playground`: serve the playground page until Ctrl-C; returns 0."""
    needed = ("starlette", "uvicorn", "websockets", "pandas")
    try:
        from nnmath.playground.server import serve
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in needed:
            raise UsageError(
                f"the playground needs its web server ({missing} is not installed): "
                'pip install "nnmath[playground]"'
            ) from None
        raise
    try:
        serve(args.host, args.port, open_browser=not args.no_browser)
    except ValueError as exc:
        raise UsageError(_one_line(exc)) from None
    except KeyboardInterrupt:
        print("nnmath playground: stopped", flush=True)
    return 0


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser, with one subparser per subcommand."""
    import nnmath

    parser = argparse.ArgumentParser(
        prog="nnmath",
        description="Train, use and explain neural networks from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"nnmath {nnmath.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "train",
        help="train a network on a CSV/Parquet file or a built-in data set",
        description="Train an MLP on DATA (CSV or Parquet) or, without DATA, on a built-in "
        "data set. Numeric columns are standardized and the others one-hot encoded; the "
        "fitted preprocessing is saved in the model file.",
    )
    p.add_argument("data", nargs="?", metavar="DATA", help="CSV, TSV or Parquet file")
    p.add_argument("--target", metavar="COLUMN", help="the column to predict")
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="built-in data set when no DATA (default digits)",
    )
    p.add_argument(
        "--task", choices=("classification", "regression"), help="default: inferred from the target"
    )
    p.add_argument(
        "--hidden",
        default="100",
        metavar="SIZES",
        help="hidden layer sizes, e.g. 64,32 (default 100)",
    )
    p.add_argument(
        "--activation",
        default="relu",
        choices=("relu", "tanh", "logistic", "sigmoid", "identity", "leaky_relu"),
    )
    p.add_argument("--solver", default="adam", choices=("adam", "sgd", "lbfgs", "gd"))
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=200,
        metavar="N",
        help="maximum epochs (default 200)",
    )
    p.add_argument(
        "--batch-size", type=_positive_int, metavar="B", help="default min(200, n_samples)"
    )
    p.add_argument(
        "--learning-rate",
        type=_positive_float,
        metavar="R",
        help="initial learning rate (default 0.001)",
    )
    p.add_argument(
        "--validation-fraction",
        type=_fraction,
        default=0.1,
        metavar="F",
        help="held out for validation and early stopping (default 0.1; 0 for none)",
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument(
        "--out",
        default="model.safetensors",
        metavar="FILE",
        help="model file to write (default model.safetensors)",
    )
    p.add_argument("--plot", metavar="FILE.png", help="also write the loss curve as an image")
    p.add_argument(
        "--max-classes",
        type=_count,
        default=MAX_CLASSES,
        metavar="N",
        help=f"refuse a classification target with more classes (default {MAX_CLASSES:,}; "
        "0: no limit)",
    )
    _add_max_cells(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predict the rows of DATA with MODEL.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--out", metavar="FILE.csv", help="write the predictions here instead of stdout")
    p.add_argument("--proba", action="store_true", help="add class probabilities")
    _add_max_cells(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "evaluate",
        help="score a saved model on labelled data",
        description="Accuracy, F1 and a confusion matrix (classifiers) "
        "or R², MAE and RMSE (regressors).",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("data", metavar="DATA")
    p.add_argument("--target", required=True, metavar="COLUMN")
    _add_max_cells(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "info",
        help="describe a saved model",
        description="Architecture, parameter count and training summary of MODEL.",
    )
    p.add_argument("model", metavar="MODEL")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser(
        "export-onnx",
        help="convert a saved model to ONNX",
        description="Write MODEL as an ONNX file (needs nnmath[onnx]).",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("out", metavar="OUT")
    p.set_defaults(func=cmd_export_onnx)

    p = sub.add_parser(
        "explain",
        help="show every equation of one training step with its numbers",
        description="Without arguments: one gradient-descent step of the article's perceptron. "
        "With MODEL DATA --row N: the step for one row of a data file.",
    )
    p.add_argument("model", nargs="?", metavar="MODEL")
    p.add_argument("data", nargs="?", metavar="DATA")
    p.add_argument("--row", type=int, default=0, metavar="N", help="row number, from 0 (default 0)")
    p.add_argument("--target", metavar="COLUMN", help="default: the model's target column")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    _add_max_cells(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser(
        "playground",
        help="watch a network learn in the browser, and see the math of each step",
        description="Start the playground's local web server and open it in the browser "
        "(needs nnmath[playground]). Ctrl-C stops it.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port to listen on; 0 picks a free one (default 8000)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.set_defaults(func=cmd_playground)
    return parser


def _add_max_cells(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-cells",
        type=_count,
        default=MAX_CELLS,
        metavar="N",
        help=f"refuse a table of more values, rows × columns (default {MAX_CELLS:,}; 0: no limit)",
    )


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _one_line(exc) -> str:
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> int:
    """Run the ``nnmath`` command; returns the exit status: 0, 2 for any failure (one
    line on stderr), 130 when interrupted.

    Examples
    --------
    >>> main(["info", "missing.safetensors"])  # doctest: +SKIP
    2
    """
    previous = _raise_on_interrupt()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        return args.func(args)
    except UsageError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("nnmath: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        return _fail("out of memory; try a smaller data set or a smaller network (--hidden)")
    except BrokenPipeError:
        # The reader of our output went away (e.g. `nnmath predict … | head`).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:  # a failure nothing above foresaw: still one line, status 2
        return _fail(f"{type(exc).__name__}: {_one_line(exc)}")
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _fail(message: str) -> int:
    print(f"nnmath: error: {_one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def _raise_on_interrupt():
    """Make Ctrl-C a KeyboardInterrupt (which main turns into status 130) for the time of
    the command; returns the handler to put back (None off the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
