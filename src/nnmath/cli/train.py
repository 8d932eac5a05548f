"""``nnmath train``: fit a network to a table and save it with its preprocessing.

A file (or standard input, or a built-in data set) is read whole; a folder, a glob,
``--stream`` or ``--scheduler`` hands the work to :mod:`nnmath.cli.stream`, which reads
the data in batches. Either way: the columns' kinds are decided and said, missing cells
are filled, the rows without a target are left out, a regression target is
standardized while training, the run is checked for failure (a divergence, a loss that
ended far above where it started, predictions worse than a constant) before anything
is written, and Ctrl-C keeps the best weights of a run that trained at least one epoch.
Either way the network is fitted by the one flow of :class:`~nnmath.cli.learn.TableModel`,
which ``cv`` and ``tune`` share; only its rows differ.

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

from nnmath.cli.learn import TableModel, rows_in_memory, validation_split
from nnmath.cli.messages import Console, UsageError
from nnmath.cli.prepare import (
    batch_rows,
    check_encoded_size,
    check_network_size,
    check_output,
    check_training_options,
    output_count,
    prepare_table,
    say_decisions,
)
from nnmath.cli.report import (
    EpochBar,
    check_plot_format,
    describe_task,
    fit_model,
    report_training,
)
from nnmath.cli.tables import Source, builtin_table, is_dataset, parse_sep, read_table

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
    ready = prepare_table(args, console, table, target, source, min_rows=2)
    pre, y, task, target_stats = ready.pre, ready.y, ready.task, ready.target_stats
    n = len(y)
    check_encoded_size(pre, n, source, args.max_cells)
    say_decisions(ready.stats, console)
    X = pre.transform(ready.table)
    if args.loss == "poisson" and (y < 0).any():
        raise UsageError(
            f"--loss poisson needs a target of counts ≥ 0; {ready.target!r} has negatives"
        )
    train, val = validation_split(
        n, args.validation_fraction, y, task == "classification", args.seed, console.note,
        inputs=X, category_inputs=pre.category_inputs(),
    )  # fmt: skip
    inputs = len(pre.get_feature_names_out())
    rows = batch_rows(args, len(train))
    check_network_size(args, inputs=inputs, outputs=output_count(target_stats), rows=rows)
    model = TableModel.from_args(args, task).prepare(
        pre,
        rows_in_memory(X, y, train, val),
        mean=target_stats.mean,
        scale=target_stats.scale,
        classes=target_stats.classes,
    )
    sep = f" (separated by {source.sep_shown!r})" if source.sep not in (None, ",") else ""
    console.info(
        f"Data: {source.name}{sep}: {n} rows × {len(pre.feature_names_in_)} feature columns → "
        f"{inputs} inputs after encoding"
    )
    console.info(describe_task(task, ready.target, target_stats))
    bar = None
    if sys.stdout.isatty() and sys.stderr.isatty() and not args.quiet:
        bar = EpochBar(args.epochs)
    fit_model(args, console, model, [bar] if bar else [], None if bar is None else bar.close)
    validation = None if val is None else (X[val], y[val])
    return report_training(args, console, model, (X[train], y[train]), validation)
