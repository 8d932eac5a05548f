"""Using a saved model: ``predict``, ``evaluate``, ``info``, ``export-onnx``, ``explain``.

The data's columns are matched to the model's by name: a column the model does not use
is ignored (a note says which), a missing cell is filled with the training value, a
category never seen in training is none of the known ones (one warning counts them),
and a cell that is not a number where the model reads numbers is an error naming its
line in the file. Predictions are CSV on standard output (or ``--out FILE``), with the
``--id`` columns copied in front; every text of it, the header's names included, that a
spreadsheet would run as a formula is written with a leading ``'``.

Example
-------
>>> neutralize_formulas(np.array(["=1+2", "yes", "-x", 3], dtype=object)).tolist()
["'=1+2", 'yes', "'-x", 3]
"""

from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np

from nnmath.cli.messages import (
    Console,
    UsageError,
    listed,
    one_line,
    plural,
    shown,
    suggestion,
)
from nnmath.cli.prepare import (
    check_output,
    check_stdout,
    require_target,
    target_rows,
    warn_missing_target,
)
from nnmath.cli.tables import Source, parse_sep, read_table, require_pandas
from nnmath.preprocessing import column, column_names
from nnmath.preprocessing.cells import texts

__all__ = [
    "cmd_evaluate",
    "cmd_explain",
    "cmd_export_onnx",
    "cmd_info",
    "cmd_predict",
    "features",
    "load_model",
    "neutralize_formulas",
    "write_file",
]

#: What a spreadsheet takes for the start of a formula (OWASP's list for CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def load_model(path: str):
    """(preprocessing or None, estimator) of a model file, or a UsageError."""
    import nnmath

    if not os.path.lexists(path):
        raise UsageError(f"no such model file: {path}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", nnmath.io.NoChecksumWarning)
            model = nnmath.load(path)
        for warning in caught:  # the command's own line, not Python's warning display
            if issubclass(warning.category, nnmath.io.NoChecksumWarning):
                print(f"warning: {one_line(str(warning.message))}", file=sys.stderr, flush=True)
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
    except nnmath.ModelFileError as exc:  # its message starts with the path
        raise UsageError(one_line(exc)) from None
    except (ValueError, OSError) as exc:
        raise UsageError(f"{path}: {one_line(exc)}") from None
    steps = getattr(model, "named_steps", None)
    if steps is not None:
        return steps["preprocess"], steps["model"]
    return None, model


def features(pre, model, table, source: Source, console: Console, target=None) -> np.ndarray:
    """Return the model's inputs from a table.

    Columns are matched by name, missing cells filled, unseen categories none of the known
    ones; what was done is said, what cannot be done is a UsageError.
    """
    if pre is None:
        return _plain_features(model, table, source, target)
    report = pre.report(table)
    names = column_names(table)
    if report.missing_columns:
        hints = "".join(suggestion(c, report.extra_columns) for c in report.missing_columns[:1])
        raise UsageError(
            f"{source.name}: the data lacks the model's input columns "
            f"{listed(report.missing_columns)}{hints}{source.delimiter_hint(names)}"
        )
    for name, rows in report.bad.items():
        what = "numbers" if pre.kind(name) == "numeric" else "dates"
        cells = ", ".join(
            f"{place} {shown(column(table, name)[r])}"
            for place, r in zip(source.where(rows[:5]), rows[:5], strict=True)
        )
        raise UsageError(
            f"{source.name}: column {name!r} holds {what}, but "
            f"{plural(len(rows), 'cell is', 'cells are')} not: {cells}"
            f"{', …' if len(rows) > 5 else ''}"
        )
    if report.extra_columns:
        console.note(f"columns the model does not use, ignored: {listed(report.extra_columns)}")
    refused = [name for name in report.missing if name not in pre.fill_]
    if refused:
        rows = report.missing[refused[0]]
        raise UsageError(
            f"{source.name}: column {refused[0]!r} has {plural(len(rows), 'missing value')} "
            f"({source.where_text(rows)}); the model was trained with --impute none and "
            "cannot fill them"
        )
    if report.missing:
        counts = ", ".join(f"{name} {len(rows):,}" for name, rows in report.missing.items())
        total = sum(len(rows) for rows in report.missing.values())
        console.note(
            f"{plural(total, 'missing cell')} filled with the training median or most frequent "
            f"value ({counts})"
        )
    if report.unseen:
        total = sum(len(r) for values in report.unseen.values() for r in values.values())
        parts = []
        for name, values in report.unseen.items():
            for value, rows in list(values.items())[:3]:
                parts.append(f"{name} {shown(value)} ({plural(len(rows), 'row')})")
        console.warn(
            f"{plural(total, 'value')} never seen in training read as none of the known "
            f"categories: {listed(parts, 6)}"
        )
    if report.out_of_range:
        total = sum(len(rows) for rows in report.out_of_range.values())
        parts = [
            f"{name} {plural(len(rows), 'row')} (training range {pre.numeric_[name]['min']:.6g} "
            f"to {pre.numeric_[name]['max']:.6g})"
            for name, rows in report.out_of_range.items()
        ]
        console.warn(
            f"{plural(total, 'value')} beyond the training range, where the model extrapolates "
            f"(scaled with a smooth clip): {listed(parts, 6)}"
        )
    try:
        return pre.transform(table)
    except ValueError as exc:
        raise UsageError(f"{source.name}: {one_line(exc)}") from None


def _plain_features(model, table, source: Source, target) -> np.ndarray:
    """Return the feature matrix of a table for a model saved by the library.

    Such a model has no preprocessing: its columns are taken by the names it was fitted
    with, numbers only.
    """
    names = getattr(model, "feature_names_in_", None)
    given = [c for c in column_names(table) if c != target]
    if names is not None:
        missing = [c for c in names if c not in given]
        if missing:
            raise UsageError(f"{source.name}: the data lacks the model's input columns {missing}")
        given = list(names)
    try:
        return np.column_stack([column(table, c) for c in given]).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{source.name}: {one_line(exc)}") from None


def neutralize_formulas(values: np.ndarray) -> np.ndarray:
    """Write labels as they go to a predictions CSV, safe from spreadsheet formulas.

    A text label that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    gets a leading ``'``, so that a spreadsheet shows it as text instead of running it as
    a formula (OWASP's advice against CSV injection). Numbers are written as numbers.

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


def cmd_predict(args) -> int:
    """`nnmath predict`: write a saved model's predictions as CSV; returns 0."""
    to_stdout = args.out in (None, "-")
    console = Console(args.quiet, data_on_stdout=to_stdout)
    if to_stdout:
        check_stdout("the predictions", "--out FILE.csv")
    else:
        check_output(args.out, "the predictions")
    pre, model = load_model(args.model)
    table, source = read_table(args.data, args.max_cells, parse_sep(args.sep))
    names = column_names(table)
    ids = []
    for name in args.id or []:
        if name not in names:
            raise UsageError(
                f"--id {name}: {source.name} has no column {name!r}{suggestion(name, names)}"
            )
        ids.append(name)
    if args.proba and not hasattr(model, "predict_proba"):
        raise UsageError("--proba needs a classifier; this model is a regressor")
    X = features(pre, model, table, source, console, getattr(pre, "target", None))
    pd = require_pandas()
    out = pd.DataFrame({name: neutralize_formulas(column(table, name)) for name in ids})
    out["prediction"] = neutralize_formulas(model.predict(X))
    if args.proba:
        proba = model.predict_proba(X)
        for j, c in enumerate(model.classes_):
            out[f"proba_{c}"] = proba[:, j]
    out.columns = neutralize_formulas(np.array([str(c) for c in out.columns], dtype=object))
    text = out.to_csv(index=False)
    if to_stdout:
        sys.stdout.write(text)
        return 0
    write_file(args.out, text.encode("utf-8"))
    console.info(f"Wrote {len(out)} predictions to {args.out}")
    return 0


def write_file(path: str, data: bytes) -> None:
    """Write an output file whole or not at all (the model files' atomic writer).

    A full disk or a killed process leaves the earlier file as it was, never a cut one.
    """
    from nnmath.io.container import atomic_write

    try:
        atomic_write(path, data)
    except OSError as exc:
        raise UsageError(f"could not write {path}: {exc.strerror or one_line(exc)}") from None


def cmd_evaluate(args) -> int:
    """`nnmath evaluate`: print accuracy/F1/confusion matrix or R²/MAE/RMSE; returns 0."""
    from sklearn import metrics

    console = Console(args.quiet or args.json)
    pre, model = load_model(args.model)
    table, source = read_table(args.data, args.max_cells, parse_sep(args.sep))
    target = args.target or getattr(pre, "target", None)
    if target is None:
        raise UsageError("--target COLUMN is required: the model file does not name its target")
    target = require_target(target, column_names(table), source)
    keep = target_rows(column(table, target))
    warn_missing_target(len(table), keep, target, source, console)
    if len(keep) == 0:
        raise UsageError(f"{source.name} has no row with a value of {target!r}")
    if len(keep) < len(column(table, target)):
        table = table.iloc[keep].reset_index(drop=True)
    y = column(table, target)
    X = features(pre, model, table, source, console, target)
    y_pred = model.predict(X)
    result: dict = {"data": source.name, "rows": len(y), "target": target}
    if hasattr(model, "classes_"):
        # Match the file's labels to the model's classes by their text: casting to the
        # classes' dtype would truncate longer strings ('<U3' makes "yess" "yes").
        by_text = {
            t: c for t, c in zip(texts(np.asarray(model.classes_)), model.classes_, strict=True)
        }
        given = texts(y)
        # A class never seen in training is scored, each of its rows an error; the labels
        # are compared by their text, the unseen classes' rows and columns after the model's.
        unseen, counts = np.unique([t for t in given if t not in by_text], return_counts=True)
        labels = [*by_text, *unseen.tolist()]
        y_text = np.asarray(given, dtype=object)
        predicted = np.asarray(texts(np.asarray(y_pred)), dtype=object)
        cm = metrics.confusion_matrix(y_text, predicted, labels=labels)
        result.update(
            accuracy=float(metrics.accuracy_score(y_text, predicted)),
            f1_macro=float(
                metrics.f1_score(y_text, predicted, labels=labels, average="macro", zero_division=0)
            ),
            confusion_matrix={"labels": labels, "counts": cm.tolist()},
            unseen_classes={str(c): int(k) for c, k in zip(unseen, counts, strict=True)},
        )
        if args.json:
            print(json.dumps(result))
            return 0
        print(f"{source.name}: {len(y)} rows")
        print(f"accuracy: {result['accuracy']:.4f}")
        print(f"F1 (macro): {result['f1_macro']:.4f}")
        if len(unseen):
            counted = ", ".join(
                f"{c} ({plural(int(k), 'row')})" for c, k in zip(unseen, counts, strict=True)
            )
            print(
                f"classes never seen in training, every row of them an error: {counted} "
                f"(the model's classes: {', '.join(by_text)})"
            )
        width = max(max(len(str(c)) for c in labels), len(str(cm.max())), 4)
        print("confusion matrix (rows: true, columns: predicted):")
        print(" " * (width + 1) + " ".join(f"{str(c):>{width}}" for c in labels))
        for c, row in zip(labels, cm, strict=True):
            print(f"{str(c):>{width}} " + " ".join(f"{v:>{width}}" for v in row))
        return 0
    if y.dtype.kind not in "iuf":
        from nnmath.preprocessing.cells import numbers

        y, bad = numbers(y)
        if bad.any():
            raise UsageError(f"target column {target!r} is not numeric; the model is a regressor")
    y = y.astype(np.float64)
    result.update(
        r2=float(metrics.r2_score(y, y_pred)),
        mae=float(metrics.mean_absolute_error(y, y_pred)),
        rmse=float(np.sqrt(metrics.mean_squared_error(y, y_pred))),
    )
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{source.name}: {len(y)} rows")
    print(f"R²: {result['r2']:.4f}")
    print(f"MAE: {result['mae']:.4f}")
    print(f"RMSE: {result['rmse']:.4f}")
    return 0


def _day(days: float) -> str:
    """Days since 1970-01-01 as an ISO date (and time, when not midnight)."""
    seconds = int(round(days * 86400))
    text = str(np.datetime64(seconds, "s")).replace("T", " ")
    return text[:10] if text.endswith("00:00:00") else text


def preprocessing_lines(pre) -> list[str]:
    """Say what the preprocessing does to each column, one line each."""
    names = list(pre.feature_names_in_) + list(pre.dropped_)
    width = max(len(n) for n in names)
    lines = []
    for name in pre.feature_names_in_:
        kind = pre.kind(name)
        fill = pre.fill_.get(name)
        if kind == "category":
            categories = pre.categories_[name]
            shown_fill = "missing refused" if fill is None else f"missing → {fill!r}"
            what = f"{len(categories)} categories: {listed(categories, 12)}"
            lines.append(f"  {name:<{width}}  category  {shown_fill}; {what}")
        elif kind == "numeric":
            stats = pre.numeric_[name]
            shown_fill = "missing refused" if fill is None else f"missing → {fill:.6g}"
            if pre.scaling_ == "robust":
                u = "ln(1 + x)" if stats.get("log") else "x"
                scale = (
                    f"z = ({u} − {stats['center']:.6g}) / {stats['scale']:.6g}, z / √(1 + (z/3)²); "
                    f"training range {stats['min']:.6g} to {stats['max']:.6g}"
                )
            else:
                scale = f"(x − {stats['mean']:.6g}) / {stats['scale']:.6g}"
            extra = "; text cells read as missing" if name in pre.text_as_missing_ else ""
            lines.append(f"  {name:<{width}}  number    {shown_fill}; {scale}{extra}")
        else:
            stats = pre.dates_[name]
            shown_fill = "missing refused" if fill is None else f"missing → {_day(fill)}"
            cycles = "yearly and daily cycles" if stats["daily"] else "yearly cycle"
            fmt = f", read as {stats['format']}" if stats["format"] else ""
            lines.append(
                f"  {name:<{width}}  date      {shown_fill}; days since 1970-01-01{fmt}: "
                f"(t − {stats['mean']:.6g}) / {stats['scale']:.6g}, {cycles}"
            )
    for name, why in pre.dropped_.items():
        lines.append(f"  {name:<{width}}  dropped   {why}")
    return lines


def cmd_info(args) -> int:
    """Run `nnmath info`: print a model file's architecture, preprocessing and training summary.

    Returns 0.
    """
    import nnmath

    pre, estimator = load_model(args.model)
    net = getattr(estimator, "network_", estimator)
    print(f"{args.model}: {type(estimator).__name__}")
    if nnmath.io.checksummed(args.model):
        print("checksums: matched (SHA-256 of the weights and of the description)")
    else:
        print(
            "checksums: none: a file from before nnmath stored checksums, or with them "
            "removed; damage to it could not be detected"
        )
    if hasattr(net, "layer_sizes"):
        sizes = " → ".join(str(s) for s in net.layer_sizes)
        acts = ", ".join(a.name for a in net.activations)
        print(f"architecture: {sizes} ({acts}); loss {net.loss.name}; dtype {net.dtype.name}")
        print(f"parameters: {net.n_parameters:,}")
    if hasattr(estimator, "classes_"):
        print(f"classes: {', '.join(str(c) for c in estimator.classes_)}")
    scaling = None
    if pre is not None:
        print(f"input columns: {', '.join(pre.feature_names_in_)} (target {pre.target!r})")
        print("preprocessing (column, kind, fill value, transformation):")
        for line in preprocessing_lines(pre):
            print(line)
        scaling = pre.target_scaling_
        if scaling is not None:
            print(
                f"target {pre.target!r}: standardized while training, (y − {scaling['mean']:.6g})"
                f" / {scaling['scale']:.6g}; the network predicts in its units"
            )
    for name in ("solver", "learning_rate_init", "alpha", "batch_size"):
        if hasattr(estimator, name):
            print(f"{name}: {getattr(estimator, name)}")
    if hasattr(estimator, "n_iter_"):
        from nnmath.cli.messages import in_command_terms

        reason = in_command_terms(getattr(estimator, "stop_reason_", "unknown"))
        print(f"training: {estimator.n_iter_} epochs; stopped: {reason}")
        if getattr(estimator, "loss_curve_", None):
            of = " (of the standardized target)" if scaling is not None else ""
            print(f"final training loss: {estimator.loss_curve_[-1]:.6g}{of}")
        best = getattr(estimator, "best_validation_score_", None)
        if best is not None:
            scoring = getattr(estimator, "scoring", None)
            if scoring == "neg_log_loss":
                print(f"best validation log loss: {-best:.6g}")
            else:
                name = scoring or ("accuracy" if hasattr(estimator, "classes_") else "R²")
                print(f"best validation {name}: {best:.6g}")
    return 0


_ONNX_TYPES = {
    "numeric": "double",
    "category": "string ('' when missing)",
    "date": "double: seconds since 1970-01-01 UTC",
}


def cmd_export_onnx(args) -> int:
    """`nnmath export-onnx`: write a saved model as an ONNX file; returns 0."""
    import nnmath

    pre, estimator = load_model(args.model)
    model = estimator
    if pre is not None:
        from sklearn.pipeline import Pipeline

        model = Pipeline([("preprocess", pre), ("model", estimator)])
    try:
        nnmath.export_onnx(model, args.out)
    except ImportError as exc:
        raise UsageError(one_line(exc)) from None
    except ValueError as exc:
        raise UsageError(f"cannot export {args.model}: {one_line(exc)}") from None
    except OSError as exc:
        raise UsageError(f"could not write {args.out}: {one_line(exc)}") from None
    print(f"Wrote {args.out}")
    outputs = "label and probabilities" if hasattr(estimator, "classes_") else "variable"
    if pre is not None:
        inputs = "; ".join(f"{n} ({_ONNX_TYPES[pre.kind(n)]})" for n in pre.feature_names_in_)
        print(f"Inputs, one per column, each of shape (N,), NaN for a missing number: {inputs}")
        print(f"Outputs: {outputs}")
    else:
        print(f"Input: X, float32 (N, {estimator.n_features_in_}); outputs: {outputs}")
    return 0


def cmd_explain(args) -> int:
    """`nnmath explain`: print the trace of one training step; returns 0.

    The row's inputs are named by their columns, beside the file's cells; the units
    are judged over the file's rows with a target (up to ``MAX_SAMPLE`` of them, drawn
    with seed 0), never over the one row.
    """
    # NOTE: not `from nnmath import explain`: that name is the function, which the
    # package re-exports over the module of the same name.
    from nnmath.tracing import explain, explain_demo

    if args.model is None:
        trace = explain_demo()
    else:
        if args.data is None:
            raise UsageError("nnmath explain MODEL DATA --row N: DATA is missing")
        pre, model = load_model(args.model)
        table, source = read_table(args.data, args.max_cells, parse_sep(args.sep))
        n = len(table)
        if not 0 <= args.row < n:
            raise UsageError(
                f"--row {args.row} is out of range: {source.name} has rows 0 to {n - 1}"
            )
        target = args.target or getattr(pre, "target", None)
        if target is None:
            raise UsageError("--target COLUMN is required: the model file does not name its target")
        target = require_target(target, column_names(table), source)
        y = column(table, target)
        if texts(y[args.row : args.row + 1])[0] is None:
            raise UsageError(
                f"--row {args.row} ({source.where([args.row])[0]}) has no value of {target!r}"
            )
        row = table.iloc[[args.row]]
        X = features(pre, model, row, source, Console(quiet=True), target)
        inputs = None if pre is None else pre.describe_inputs(row)
        y_row = y[args.row : args.row + 1]
        sample, units = _unit_sample(pre, model, table, source, target)
        try:
            trace = explain(model, X[0], y_row, inputs=inputs, sample=sample)
        except ValueError as exc:
            if sample is None:
                raise UsageError(one_line(exc)) from None
            units = f"units not judged: the rows of {source.name} could not be used: "
            units += one_line(exc)
            try:
                trace = explain(model, X[0], y_row, inputs=inputs)
            except ValueError as again:
                raise UsageError(one_line(again)) from None
        if trace.summary:
            trace.units = units
    print(trace.render(args.format))
    return 0


def _unit_sample(pre, model, table, source: Source, target: str):
    """Return the rows of the file to judge the units over, their targets, and the note.

    Every row with a target, or ``MAX_SAMPLE`` of them drawn with seed 0; (None, the
    reason) when they cannot be read or are too few.
    """
    from nnmath.tracing import MIN_SAMPLE, sample_rows

    keep = target_rows(column(table, target))
    rows = keep[sample_rows(len(keep))]
    m, of = len(rows), f" with a value of {target!r}" if len(keep) < len(table) else ""
    if m < MIN_SAMPLE:
        return None, (
            f"units not judged: {source.name} has {plural(m, 'row')}{of}, too few to say "
            "whether a unit is dead or saturated, or a gradient vanishing or exploding "
            f"(at least {MIN_SAMPLE} are needed)"
        )
    part = table.iloc[rows]
    try:
        X = features(pre, model, part, source, Console(quiet=True), target)
    except UsageError as exc:
        return None, f"units not judged: the rows of {source.name} could not be read: {exc}"
    if m < len(keep):
        units = (
            f"units judged over {m:,} rows sampled (seed 0) of the {len(keep):,} rows of "
            f"{source.name}{of}"
        )
    else:
        units = f"units judged over all {m:,} rows of {source.name}{of}"
    return (X, column(part, target)), units
