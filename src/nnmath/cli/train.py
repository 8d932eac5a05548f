"""``nnmath train``: fit a network to a table and save it with its preprocessing.

A file (or standard input, or a built-in data set) is read whole; a folder, a glob,
``--stream`` or ``--scheduler`` hands the work to :mod:`nnmath.cli.stream`, which reads
the data in batches. Either way: the columns' kinds are decided and said, missing cells
are filled, the rows without a target are left out, a regression target is
standardized while training, the run is checked for failure (a divergence, a loss that
ended far above where it started, predictions worse than a constant) before anything
is written, and Ctrl-C keeps the best weights of a run that trained at least one epoch.

What the run then says and writes is :mod:`nnmath.cli.report`'s.

Example
-------
>>> from nnmath.cli.parser import build_parser
>>> args = build_parser().parse_args(["train", "--dataset", "iris", "--quiet"])
>>> cmd_train(args)  # doctest: +SKIP
0
"""

from __future__ import annotations

import sys
import time
import warnings

from nnmath.cli.learn import (
    check_loss,
    estimator_options,
    fold_target_scaling,
    hidden_sizes,
    make_estimator,
    scale_target,
    target_scaling,
    validation_split,
)
from nnmath.cli.messages import (
    Console,
    UsageError,
    plural,
)
from nnmath.cli.prepare import (
    batch_rows,
    check_encoded_size,
    check_network_size,
    check_output,
    check_training_options,
    column_options,
    finish_target,
    output_count,
    require_target,
    row_subset,
    say_decisions,
    statistics_error,
    target_rows,
    warn_missing_target,
)
from nnmath.cli.report import (
    EpochBar,
    check_plot_format,
    describe_task,
    divergence_message,
    report_training,
    say_warnings,
)
from nnmath.cli.tables import Source, builtin_table, is_dataset, parse_sep, read_table
from nnmath.preprocessing import (
    TableStatistics,
    TabularPreprocessor,
    TargetStatistics,
    column,
    column_names,
)

__all__ = ["cmd_train"]


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
    train_idx, val_idx = validation_split(
        n, args.validation_fraction, y, classification, args.seed, console.note,
        inputs=X, category_inputs=pre.category_inputs(),
    )  # fmt: skip
    check_network_size(
        args,
        inputs=len(pre.get_feature_names_out()),
        outputs=output_count(target_stats),
        rows=batch_rows(args, len(train_idx)),
    )
    hidden = hidden_sizes(args.hidden)
    model = make_estimator(
        task,
        hidden=hidden,
        early_stopping=val_idx is not None and args.solver != "lbfgs",
        classes=target_stats.classes,
        **estimator_options(args),
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
    bar = None
    if sys.stdout.isatty() and sys.stderr.isatty() and not args.quiet:
        bar = EpochBar(args.epochs)
        model.set_params(callbacks=[bar])
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.fit(X[train_idx], y_fit[train_idx], **kwargs)
        except ValueError as exc:
            raise UsageError(divergence_message(exc, args)) from None
        finally:
            if bar is not None:  # presentation only: not a part of the saved model
                bar.close()
                model.set_params(callbacks=None)
    seconds = time.perf_counter() - started
    say_warnings(caught, console, args.epochs)
    fold_target_scaling(model, scaling)
    pre.target_scaling_ = scaling
    return report_training(
        args, console, pre, model, seconds, (X[train_idx], y[train_idx]),
        None if val_idx is None else (X[val_idx], y[val_idx]),
    )  # fmt: skip
