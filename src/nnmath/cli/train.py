"""``nnmath train``: fit a network to a table and save it with its preprocessing.

A file (or standard input, or a built-in data set) is read whole; a folder, a glob,
``--stream`` or ``--scheduler`` hands the work to :mod:`nnmath.cli.stream`, which reads
the data in batches. Either way: the columns' kinds are decided and said, missing cells
are filled, the rows without a target are left out, a regression target is
standardized while training, the run is checked for failure (a divergence, a loss that
ended far above where it started, predictions worse than a constant) before anything
is written, and Ctrl-C keeps the best weights of a run that trained at least one epoch.

Example
-------
>>> learning_rate_hint(0.1)
'--learning-rate 0.1 is likely too large for this data; try --learning-rate 0.01'
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

from nnmath.cli.learn import (
    check_loss,
    fold_target_scaling,
    hidden_sizes,
    loss_rose,
    make_estimator,
    scale_target,
    target_scaling,
    training_failure,
    validation_split,
)
from nnmath.cli.messages import (
    Console,
    UsageError,
    in_command_terms,
    number,
    one_line,
    plural,
)
from nnmath.cli.prepare import (
    check_encoded_size,
    check_output,
    check_training_options,
    column_options,
    finish_target,
    require_target,
    row_subset,
    say_decisions,
    statistics_error,
    target_rows,
    warn_missing_target,
)
from nnmath.cli.tables import Source, builtin_table, is_dataset, parse_sep, read_table
from nnmath.preprocessing import (
    TableStatistics,
    TabularPreprocessor,
    TargetStatistics,
    column,
    column_names,
)
from nnmath.startup import EXIT_INTERRUPTED

__all__ = [
    "check_plot_format",
    "cmd_train",
    "describe_loss",
    "divergence_message",
    "learning_rate_hint",
    "plot_loss",
    "report_training",
    "save_model",
    "say_warnings",
    "summary_lines",
]

DEFAULT_LEARNING_RATE = 0.001  # the estimators' learning_rate_init


def cmd_train(args) -> int:
    """`nnmath train`: fit an MLP on a table or a built-in data set, save it; returns 0."""
    console = Console(args.quiet)
    check_training_options(args)
    check_output(args.out, "the model file")
    if args.plot:
        check_output(args.plot, "the plot")
        check_plot_format(args.plot)
    if args.scheduler or args.stream or is_dataset(args.data):
        from nnmath.cli.stream import train_in_batches

        return train_in_batches(args, console)
    if args.data is not None:
        table, source = read_table(args.data, args.max_cells, parse_sep(args.sep))
        target = args.target
    else:
        table, target = builtin_table(args.dataset)
        source = Source(f"{args.dataset} (built-in data set)", "built-in")
        if args.target not in (None, target):
            raise UsageError(f"the built-in data sets have their target in column {target!r}")
        console.info(f"No DATA given: training on the built-in {args.dataset} data set.")
    names = column_names(table)
    target = require_target(target, names, source)
    options = column_options(args, names, target)
    n_rows = len(column(table, target))
    keep = target_rows(column(table, target))
    if len(keep) < n_rows:
        table = row_subset(table, keep)
    y_raw = column(table, target)
    n = len(y_raw)
    if n < 2:
        raise UsageError(f"{source.name} has {plural(n, 'row')} with a target; training needs 2")
    target_stats = TargetStatistics(args.task, args.max_classes)
    target_stats.update(y_raw)
    task = finish_target(target_stats, target, n, args.max_classes)
    check_loss(args.loss, task)
    warn_missing_target(n_rows, keep, target, source, console)
    stats = TableStatistics(target, **options, impute=args.impute != "none", seed=args.seed)
    try:
        stats.update(table, rows=keep)
        pre = TabularPreprocessor.from_statistics(stats)
    except ValueError as exc:
        raise statistics_error(exc, source) from None
    check_encoded_size(pre, n, source, args.max_cells)
    say_decisions(stats, console)
    X = pre.transform(table)
    y = target_stats.encode(y_raw)
    classification = task == "classification"
    scaling = target_scaling(task, args.loss, target_stats.mean, target_stats.scale)
    if args.loss == "poisson" and (y < 0).any():
        raise UsageError(f"--loss poisson needs a target of counts ≥ 0; {target!r} has negatives")
    train_idx, val_idx = validation_split(n, args.validation_fraction, y, classification, args.seed)
    hidden = hidden_sizes(args.hidden)
    model = make_estimator(
        task,
        hidden=hidden,
        activation=args.activation,
        solver=args.solver,
        alpha=args.alpha,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        epochs=args.epochs,
        dropout=args.dropout,
        loss=args.loss,
        patience=args.patience,
        seed=args.seed,
        early_stopping=val_idx is not None and args.solver != "lbfgs",
        verbose=1 if sys.stdout.isatty() and not args.quiet else 0,
    )
    sep = f" (separated by {source.sep_shown!r})" if source.sep not in (None, ",") else ""
    inputs = len(pre.get_feature_names_out())
    console.info(
        f"Data: {source.name}{sep}: {n} rows × {len(pre.feature_names_in_)} feature columns → "
        f"{inputs} inputs after encoding"
    )
    console.info(describe_task(task, target, target_stats))
    y_fit = scale_target(y, scaling)
    kwargs = {}
    if val_idx is not None:
        kwargs["validation_data"] = (X[val_idx], y_fit[val_idx])
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X[train_idx], y_fit[train_idx], **kwargs)
        except ValueError as exc:
            raise UsageError(divergence_message(exc, args)) from None
    seconds = time.perf_counter() - started
    say_warnings(caught, console, args.epochs)
    fold_target_scaling(model, scaling)
    pre.target_scaling_ = scaling
    return report_training(
        args, console, pre, model, seconds, (X[train_idx], y[train_idx]),
        None if val_idx is None else (X[val_idx], y[val_idx]),
    )  # fmt: skip


def describe_task(task: str, target: str, stats: TargetStatistics) -> str:
    """Write the "Task: …" line."""
    if task == "classification" and stats.classes is not None:
        labels = [str(c) for c in stats.classes]
        shown = ", ".join(labels[:12]) + (" …" if len(labels) > 12 else "")
        return f"Task: classification of {target!r}, {len(labels)} classes: {shown}"
    return (
        f"Task: regression of {target!r} (mean {stats.mean:.4g}, standard deviation "
        f"{stats.scale:.4g}; trained standardized, predicted in its units)"
    )


def learning_rate_hint(rate: float | None, solver: str = "adam") -> str:
    """Say what to try after a failed run, in the command's options."""
    if solver == "lbfgs":
        return "L-BFGS has no learning rate: try --solver adam, or rescale huge values"
    rate = DEFAULT_LEARNING_RATE if rate is None else rate
    return (
        f"--learning-rate {rate:g} is likely too large for this data; "
        f"try --learning-rate {rate / 10:g}"
    )


def divergence_message(exc: Exception, args) -> str:
    """Return a failed fit's one line: a divergence (naming --learning-rate) or another error."""
    history = getattr(exc, "history", None)
    if type(exc).__name__ == "DivergenceError":
        epoch = (history.n_iter + 1) if history is not None else None
        when = f" in epoch {epoch}" if epoch else ""
        return (
            f"training diverged: the loss became infinite or NaN{when}; "
            f"{learning_rate_hint(args.learning_rate, args.solver)}. Nothing was written."
        )
    text = one_line(exc)
    if "validation set is too small" in text:
        return (
            f"--validation-fraction {args.validation_fraction} leaves fewer than 2 rows for "
            "validation; raise it, or 0 for no validation set"
        )
    return in_command_terms(text)


def say_warnings(caught, console, epochs: int) -> None:
    """Say the warnings of a fit, in the command's terms."""
    from sklearn.exceptions import ConvergenceWarning

    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            console.warn(
                f"training reached --epochs {epochs} before the loss settled; a larger "
                "--epochs trains longer"
            )
        elif issubclass(w.category, UserWarning):
            console.warn(in_command_terms(one_line(w.message)))


def describe_loss(model, scaling) -> str:
    """Describe the final training loss, saying what it is the loss of."""
    curve = getattr(model, "loss_curve_", None) or []
    if not curve:
        return ""
    loss = model.loss_curve_[-1]
    name = {
        "log_loss": "log loss",
        "mse": "squared error of the probabilities",
        "squared_error": "half squared error",
        "mae": "absolute error",
        "huber": "Huber loss",
        "poisson": "half Poisson deviance",
    }[model.loss]
    if scaling is not None:
        name += " of the standardized target" if scaling["mean"] else " of the target / its scale"
    return f"Final training loss: {loss:.4g} ({name}, with the L2 term)"


def summary_lines(model, seconds: float, solver: str) -> list[str]:
    """Describe the network and how training went."""
    net = model.network_
    sizes = " → ".join(str(s) for s in net.layer_sizes)
    acts = ", ".join(a.name for a in net.activations)
    unit = "iterations" if solver == "lbfgs" else "epochs"
    return [
        f"Network: {sizes} ({acts}), {net.n_parameters:,} parameters, solver {solver}",
        f"Trained {model.n_iter_} {unit} in {seconds:.2f} s; stopped: "
        f"{in_command_terms(model.stop_reason_)}",
    ]


def report_training(args, console, pre, model, seconds, train, validation) -> int:
    """Report a fit: the summary, the failure check, the model file and the plot.

    Returns the exit status.
    """
    for line in summary_lines(model, seconds, args.solver):
        console.info(line)
    interrupted = model.stop_reason_.startswith("interrupted")
    unit = "iteration" if args.solver == "lbfgs" else "epoch"
    if model.n_iter_ == 0:  # an untrained model never replaces anything
        what = "interrupted" if interrupted else f"stopped ({model.stop_reason_})"
        message = f"{what} before the first {unit} ended; nothing written to {args.out}"
        if interrupted:
            print(f"nnmath: {message}", file=sys.stderr)
            return EXIT_INTERRUPTED
        raise UsageError(message)
    classification = hasattr(model, "classes_")
    metric = "accuracy" if classification else "R²"
    line = ""
    if train is not None:
        line = f"Training {metric}: {number(model.score(*train))}"
    if validation is not None:
        score = f"validation {metric}: {number(model.score(*validation))}"
        line = f"{line}; {score}" if line else score[0].upper() + score[1:]
    if line:
        console.info(line)
    loss = describe_loss(model, pre.target_scaling_)
    if loss:
        console.info(loss)
    failure = None
    if not interrupted:
        failure = training_failure(model, *train) if train is not None else loss_rose(model)
    if failure:
        hint = learning_rate_hint(args.learning_rate, args.solver)
        if not args.force:
            raise UsageError(
                f"training failed: {failure}; {hint}. Nothing was written (--force writes the "
                "model anyway)"
            )
        console.warn(f"training failed: {failure}; {hint}. Writing the model (--force)")
    save_model(pre, model, args.out)
    console.info(f"Wrote {args.out}")
    if args.plot:
        plot_loss(model, args.plot)
        console.info(f"Wrote {args.plot}")
    if interrupted:
        print(
            f"nnmath: interrupted after {plural(model.n_iter_, unit)}; "
            f"wrote the best weights it had to {args.out}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return 0


def save_model(pre, model, path: str) -> None:
    """Write the preprocessing and the network as one model file."""
    from sklearn.pipeline import Pipeline

    import nnmath

    try:
        nnmath.save(Pipeline([("preprocess", pre), ("model", model)]), path)
    except OSError as exc:
        raise UsageError(f"could not write the model file {path}: {one_line(exc)}") from None


def check_plot_format(path: str) -> None:
    """Refuse a --plot file type matplotlib cannot write, before training."""
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


def plot_loss(model, path: str) -> None:
    """Write the loss curve as an image."""
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
        raise UsageError(f"could not write the plot {path}: {one_line(exc)}") from None
    finally:
        plt.close(fig)
