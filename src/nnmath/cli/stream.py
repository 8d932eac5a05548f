"""``nnmath train`` on data bigger than memory: a folder or a glob of files, in batches.

Two passes over the files, neither of which holds more than a batch of rows:

1. The statistics (:class:`~nnmath.preprocessing.TableStatistics`): each column's kind,
   mean, variance, median sample and categories; the target's classes or mean and
   scale; and the validation rows, a uniform sample of at most
   :data:`MAX_VALIDATION_ROWS` rows of the ``--validation-fraction`` (each row's draw a
   hash of its number and the seed, so the training pass leaves out the same rows). CSV
   files are copied to a temporary Parquet file as they are read, one row group per
   batch, so that the training pass can visit the batches in any order.
2. Training: the estimator's :meth:`~nnmath.MLPClassifier.fit_data` on
   :class:`nnmath.data.sources.Chunks`, one per Parquet row group, each read, encoded and
   dropped when the loop needs it; "sgd" and "adam" visit the chunks in a random order
   and shuffle the rows within each (not a global shuffle: see
   :class:`nnmath.data.sources.Chunks`).

With ``--scheduler`` the training runs on a Dask cluster instead (the address of a
running scheduler, or ``local`` for a ``LocalCluster`` sized to this machine): the
files are read by the workers as a ``dask.dataframe``, encoded there, and handed to the
estimators' Dask support (:mod:`nnmath.data.cluster`). Without it nothing distributed
starts. Progress shows the rows seen and the rows per second. Either way the rows are
:class:`~nnmath.cli.learn.Rows` that :class:`~nnmath.cli.learn.TableModel` fits, as it
fits a table read whole.

Example
-------
>>> held = Holdout(0.5, seed=0, cap=10)
>>> draws = held.draws(np.arange(6))
>>> bool(((draws >= 0) & (draws < 1)).all())
True
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time

import numpy as np

from nnmath.cli.learn import Rows, TableModel, check_loss, scale_target
from nnmath.cli.messages import Console, UsageError, one_line, plural
from nnmath.cli.prepare import (
    batch_rows,
    check_network_size,
    column_options,
    finish_target,
    output_count,
    require_target,
    row_subset,
    say_decisions,
    statistics_error,
)
from nnmath.cli.report import describe_task, fit_model, report_training
from nnmath.cli.tables import Dataset, describe_rows, parse_sep
from nnmath.preprocessing import (
    TableStatistics,
    TabularPreprocessor,
    TargetStatistics,
    column,
    missing_mask,
)

__all__ = [
    "CONNECT_TIMEOUT",
    "MAX_VALIDATION_ROWS",
    "Holdout",
    "RowProgress",
    "connect",
    "train_in_batches",
]

#: The most rows the validation set of a data set read in batches holds (in memory).
MAX_VALIDATION_ROWS = 20_000

#: The most rows for which ``--scheduler`` notes that training in this process is faster
#: (a table that fits in memory, where the cluster's start and the round of Dask tasks
#: of every epoch cost more than the training: 324 rows and 200 epochs took 53 s on a
#: LocalCluster of 2 workers, 4 s in this process).
SMALL_TABLE = 100_000

#: How long ``--scheduler ADDRESS`` tries to reach the scheduler.
CONNECT_TIMEOUT = "20s"


class Holdout:
    """The validation rows of a data set read in batches, kept in memory as the batches pass.

    They are a uniform sample of the rows whose draw (a hash of the row's number and the
    seed, uniform in [0, 1)) is below ``fraction``, at most ``cap`` of them.

    Examples
    --------
    >>> import pandas as pd
    >>> held = Holdout(0.5, seed=0, cap=2)
    >>> held.add(pd.DataFrame({"x": range(10)}), np.arange(10))
    >>> len(held.rows()), held.is_held(held.rows()).all()
    (2, np.True_)
    """

    def __init__(self, fraction: float, seed: int, cap: int = MAX_VALIDATION_ROWS):
        self.fraction, self.seed, self.cap = fraction, seed, cap
        self.frames: list = []
        self.draws_kept = np.empty(0)
        self.rows_kept = np.empty(0, dtype=np.int64)
        self.threshold = fraction

    def draws(self, rows: np.ndarray) -> np.ndarray:
        """Each row's draw in [0, 1) (splitmix64 of its number and the seed)."""
        with np.errstate(over="ignore"):
            x = rows.astype(np.uint64) + np.uint64(self.seed) * np.uint64(0x9E3779B97F4A7C15)
            x ^= x >> np.uint64(30)
            x *= np.uint64(0xBF58476D1CE4E5B9)
            x ^= x >> np.uint64(27)
            x *= np.uint64(0x94D049BB133111EB)
            x ^= x >> np.uint64(31)
        return (x >> np.uint64(11)).astype(np.float64) / 2.0**53

    def add(self, frame, rows: np.ndarray) -> None:
        """Keep the batch's rows (numbered ``rows``) whose draw is below the threshold."""
        d = self.draws(rows)
        chosen = np.flatnonzero(d < self.threshold)
        if not len(chosen):
            return
        self.frames.append(row_subset(frame, chosen))
        self.draws_kept = np.concatenate([self.draws_kept, d[chosen]])
        self.rows_kept = np.concatenate([self.rows_kept, rows[chosen]])
        if len(self.draws_kept) > self.cap + self.cap // 4:
            self._prune()

    def _prune(self) -> None:
        import pandas as pd

        if len(self.draws_kept) <= self.cap:
            return
        keep = np.sort(np.argpartition(self.draws_kept, self.cap - 1)[: self.cap])
        frame = (
            pd.concat(self.frames, ignore_index=True) if len(self.frames) > 1 else self.frames[0]
        )
        self.frames = [frame.iloc[keep].reset_index(drop=True)]
        self.draws_kept, self.rows_kept = self.draws_kept[keep], self.rows_kept[keep]
        self.threshold = float(np.nextafter(self.draws_kept.max(), 1.0))

    def frame(self):
        """Return the validation rows as one DataFrame (None when there are none)."""
        import pandas as pd

        self._prune()
        if not self.frames:
            return None
        return pd.concat(self.frames, ignore_index=True) if len(self.frames) > 1 else self.frames[0]

    def rows(self) -> np.ndarray:
        """Return the validation rows' numbers."""
        self._prune()
        return self.rows_kept

    def is_held(self, rows: np.ndarray) -> np.ndarray:
        """Which of these rows are validation rows (left out of training)."""
        return self.draws(rows) < self.threshold


class RowProgress:
    """Show rows seen and rows per second.

    On a terminal a bar (tqdm, on stderr), else a line every ``every`` seconds; nothing
    when the console is quiet.

    Examples
    --------
    >>> progress = RowProgress(Console(quiet=True), "read")
    >>> progress.add(100); progress.rows
    100
    """

    def __init__(self, console: Console, what: str, total: int | None = None, every: float = 5.0):
        self.console, self.what, self.every = console, what, every
        self.rows = 0
        self.started = self.last = time.perf_counter()
        self.bar = None
        if not console.quiet and sys.stderr.isatty() and sys.stdout.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit=" rows", unit_scale=True, desc=what, file=sys.stderr)

    def add(self, rows: int) -> None:
        """Count rows seen."""
        self.rows += rows
        if self.bar is not None:
            self.bar.update(rows)
            return
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            self.console.info(f"{self.what}: {describe_rows(self.rows, now - self.started)}")

    def line(self, text: str) -> None:
        """Write a line that does not break the bar."""
        if self.console.quiet:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            self.console.info(text)

    def close(self) -> float:
        """Finish; returns the seconds since the start."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        return time.perf_counter() - self.started


def connect(address: str, console: Console):
    """Connect to a Dask scheduler; return (client, cluster or None).

    The client is a ``distributed.Client`` of the scheduler at ``address``, or of a new
    ``LocalCluster`` sized to this machine for "local".
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError('--scheduler needs Dask: pip install "nnmath[dask]"') from None
    from nnmath.data.cluster import WORKER_WAIT

    if address == "local":
        cluster = LocalCluster(dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
        try:  # all of them, so that the chunks are always spread the same way
            client.wait_for_workers(len(cluster.workers), timeout=WORKER_WAIT)
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes on Python 3.10
            client.close()
            cluster.close()
            raise UsageError(
                f"--scheduler local: the LocalCluster's workers did not start in {WORKER_WAIT} s"
            ) from None
    else:
        cluster = None
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, asyncio.TimeoutError, ValueError) as exc:
            raise UsageError(
                f"--scheduler {address}: could not reach the Dask scheduler: {one_line(exc)}"
            ) from None
    workers = client.scheduler_info(n_workers=-1)["workers"]
    threads = sum(w.get("nthreads", 1) for w in workers.values())
    where = "a LocalCluster" if cluster is not None else f"the cluster at {address}"
    console.info(
        f"Dask: {where}, {plural(len(workers), 'worker')}, {plural(threads, 'thread')} "
        f"(dashboard {client.dashboard_link})"
    )
    return client, cluster


def train_in_batches(args, console: Console) -> int:
    """Run ``nnmath train`` on a folder, a glob, ``--stream`` or ``--scheduler``.

    Returns the exit status.
    """
    if args.data is None or args.data == "-":
        raise UsageError(
            "a folder, a glob, --stream or --scheduler needs DATA files (standard input and "
            "the built-in data sets are read whole)"
        )
    dataset = Dataset(args.data, parse_sep(args.sep))
    source = dataset.source
    target = require_target(args.target, dataset.columns, source)
    options = column_options(args, dataset.columns, target)
    client = cluster = None
    connecting = time.perf_counter()
    if args.scheduler:
        client, cluster = connect(args.scheduler, console)
    started = time.perf_counter() - connecting
    try:
        with tempfile.TemporaryDirectory(prefix="nnmath-") as scratch:
            return _train(args, console, dataset, target, options, (client, started), scratch)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _train(args, console, dataset: Dataset, target, options, cluster, scratch) -> int:
    """Train; return the exit status.

    ``cluster`` is (a Dask client, or None to train on the batches in this process; the
    seconds the client took to start).
    """
    client, connect_seconds = cluster
    source = dataset.source
    holdout = None
    if args.validation_fraction and client is None:
        holdout = Holdout(args.validation_fraction, args.seed)
    copy = os.path.join(scratch, "batches.parquet") if dataset.format == "csv" else None
    pre, target_stats, groups = _statistics(args, console, dataset, target, options, holdout, copy)
    task = target_stats.task
    n_target = target_stats.n
    classification = task == "classification"
    n_inputs = len(pre.get_feature_names_out())
    console.info(
        f"Data: {source.name}: {len(dataset.files)} file{'s' * (len(dataset.files) > 1)}, "
        f"{dataset.n_rows:,} rows × {len(pre.feature_names_in_)} feature columns → "
        f"{n_inputs} inputs after encoding"
    )
    console.info(describe_task(task, target, target_stats))
    rows = dataset.n_rows or 0
    cells = rows * len(dataset.columns)
    if client is not None and rows <= SMALL_TABLE and cells <= (args.max_cells or cells):
        console.note(
            f"{source.name} has {rows:,} rows, which fit in memory: nnmath train "
            f"without --scheduler is faster for its size (the cluster took "
            f"{connect_seconds:.1f} s to start, and each epoch is a round "
            "of Dask tasks)"
        )
    validation = None
    if holdout is not None:
        frame = holdout.frame()
        if frame is not None and len(frame) >= 2:
            X_val = pre.transform(frame)
            y_val = target_stats.encode(column(frame, target))
            validation = (X_val, y_val)
    n_val = 0 if validation is None else len(validation[1])
    n_train = n_target - n_val
    check_network_size(args, n_inputs, output_count(target_stats), batch_rows(args, n_train))
    progress = RowProgress(console, "training", total=n_train)
    epochs = []

    def each_epoch(estimator, info):
        epochs.append(info)
        seen = progress.rows
        seconds = time.perf_counter() - progress.started
        parts = [f"epoch {info['epoch']}: loss {info['loss']:.5g}"]
        if info.get("val_score") is not None:
            metric = "log loss" if classification else "R²"
            value = -info["val_score"] if classification else info["val_score"]
            parts.append(f"validation {metric} {value:.5g}")
        progress.line(", ".join(parts) + f"; {describe_rows(seen, seconds)} seen")

    if client is None:
        data = _row_groups(
            groups, pre, target_stats, target, holdout, n_train, validation, progress
        )
    else:
        data = _on_cluster(dataset, pre, target_stats, target, args.validation_fraction, progress)
    model = TableModel.from_args(args, task).prepare(
        pre,
        data,
        mean=target_stats.mean,
        scale=target_stats.scale,
        classes=target_stats.classes,
    )
    fit_model(args, console, model, [each_epoch], progress.close)
    if epochs:
        console.info(
            f"Read {describe_rows(progress.rows, model.seconds_)} while training "
            f"({plural(len(epochs), 'epoch')} of {n_train:,} rows)"
        )
    return report_training(args, console, model, None, validation)


def _statistics(args, console, dataset, target, options, holdout, copy):
    """Make pass 1 over the data: the statistics, the validation sample, the copy to Parquet.

    The copy is made for CSV files. Returns (the fitted preprocessing, the target's
    statistics, the chunks).
    """
    source = dataset.source
    stats = TableStatistics(target, **options, impute=args.impute != "none", seed=args.seed)
    target_stats = TargetStatistics(args.task, args.max_classes)
    progress = RowProgress(console, "reading")
    missing_target, missing_rows = 0, []
    writer = None
    groups = []
    try:
        for frame, first, batch in dataset.batches(with_arrow=True):
            _check_cells(batch, first, source)
            y_raw = column(frame, target)
            missing = missing_mask(y_raw)
            rows = first + np.arange(len(y_raw))
            if missing.any():
                missing_target += int(missing.sum())
                missing_rows += rows[missing][: 5 - len(missing_rows)].tolist()
            keep = np.flatnonzero(~missing)
            kept = row_subset(frame, keep) if missing.any() else frame
            try:
                target_stats.update(y_raw[keep])
                stats.update(kept, rows=rows[keep])
            except ValueError as exc:
                raise statistics_error(exc, source) from None
            if holdout is not None:
                holdout.add(kept, rows[keep])
            if copy is not None:
                import pyarrow.parquet as pq

                if writer is None:
                    writer = pq.ParquetWriter(copy, batch.schema)
                writer.write_batch(batch)
                groups.append((copy, len(groups), first, len(y_raw)))
            progress.add(len(y_raw))
    finally:
        if writer is not None:
            writer.close()
    seconds = progress.close()
    console.info(f"Read {source.name}: {describe_rows(progress.rows, seconds)}")
    task = finish_target(target_stats, target, target_stats.n, args.max_classes)
    check_loss(args.loss, task)
    if missing_target:
        console.warn(
            f"{plural(missing_target, 'row')} without a value of the target {target!r} "
            f"({source.where_text(missing_rows, count=missing_target)}) left out"
        )
    try:
        pre = TabularPreprocessor.from_statistics(stats)
    except ValueError as exc:
        raise statistics_error(exc, source) from None
    say_decisions(stats, console)
    if copy is None:
        groups = dataset.row_groups()
    return pre, target_stats, groups


def _check_cells(batch, first: int, source) -> None:
    """Refuse a batch with a text cell longer than MAX_CELL_BYTES, naming its row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from nnmath.cli.parser import MAX_CELL_BYTES

    for name, values in zip(batch.schema.names, batch.columns, strict=True):
        if not (pa.types.is_string(values.type) or pa.types.is_binary(values.type)):
            continue
        lengths = pc.binary_length(values)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_CELL_BYTES:
            row = int(pc.index(lengths, longest).as_py())
            raise UsageError(
                f"{source.name}: column {name!r} has a cell longer than "
                f"{MAX_CELL_BYTES // 2**20} MiB ({source.where([first + row])[0]}); nnmath reads "
                "cells of at most that (numbers, categories, dates, short texts)"
            )


def _row_groups(groups, pre, target_stats, target, holdout, n_rows, validation, progress) -> Rows:
    """Return the training rows as fit_data's chunks, one per Parquet row group.

    Each chunk is read, its rows without a target and its validation rows left out,
    encoded and scaled when the loop needs it; ``progress`` counts its rows.
    """
    import pyarrow.parquet as pq

    from nnmath.data.sources import Chunks

    columns = list(pre.feature_names_in_) + [target]
    width = len(pre.get_feature_names_out())

    def fit(estimator, scaling):
        peeked = []

        def load(path, group, first):
            frame = pq.ParquetFile(path).read_row_group(group, columns=columns).to_pandas()
            y_raw = column(frame, target)
            rows = first + np.arange(len(y_raw))
            keep = ~missing_mask(y_raw)
            if holdout is not None:
                keep &= ~holdout.is_held(rows)
            keep = np.flatnonzero(keep)
            frame = row_subset(frame, keep)
            X = pre.transform(frame) if len(keep) else np.empty((0, width))
            y = scale_target(target_stats.encode(y_raw[keep]), scaling)
            if peeked:  # (fit_data reads the first chunk once more, for its width: not counted)
                progress.add(len(keep))
            peeked.append(True)
            return X, y, None

        loaders = [lambda g=g: load(g[0], g[1], g[2]) for g in groups]
        held = None if validation is None else (validation[0], scale_target(validation[1], scaling))
        data = Chunks(loaders, n_rows)
        estimator.fit_data(data, classes=target_stats.classes, validation_data=held)

    return Rows(fit, validation is not None)


def encode_inputs(frame, pre, target):
    """Encode a partition's inputs (the rows with a target) as a DataFrame, on a Dask worker."""
    import pandas as pd

    keep = np.flatnonzero(~missing_mask(column(frame, target)))
    # columns numbered, not named: the network takes inputs, the preprocessing has names
    width = len(pre.get_feature_names_out())
    if not len(keep):
        return pd.DataFrame(np.empty((0, width)))
    return pd.DataFrame(pre.transform(row_subset(frame, keep)))


def encode_target(frame, target_stats, target, scaling):
    """Encode a partition's targets (the rows with one), scaled, as a Series, on a Dask worker."""
    import pandas as pd

    y_raw = column(frame, target)
    y = target_stats.encode(y_raw[~missing_mask(y_raw)])
    return pd.Series(scale_target(y, scaling), name=target)


def _on_cluster(dataset, pre, target_stats, target, fraction, progress) -> Rows:
    """Return the rows on the Dask cluster: the workers read and encode the files.

    The estimator's Dask support trains on them, its validation rows the ``fraction`` it
    splits off (0.1 for none: its early stopping is then off); ``progress`` counts each
    epoch's rows.
    """

    def fit(estimator, scaling):
        import dask.dataframe as dd
        import pandas as pd

        if dataset.format == "parquet":
            frame = dd.read_parquet(dataset.files)
        else:
            frame = dd.read_csv(dataset.files, sep=dataset.sep, dtype=str, blocksize="64MB")
        width = len(pre.get_feature_names_out())
        X = frame.map_partitions(
            encode_inputs,
            pre,
            target,
            meta=pd.DataFrame({k: pd.Series(dtype="f8") for k in range(width)}),
        )
        if target_stats.task == "classification":
            meta = pd.Series(target_stats.classes[:0], name=target)
        else:
            meta = pd.Series(dtype="f8", name=target)
        y = frame.map_partitions(encode_target, target_stats, target, scaling, meta=meta)

        def count(estimator, info):
            progress.add(target_stats.n)

        estimator.set_params(
            validation_fraction=fraction or 0.1, callbacks=[count, *estimator.callbacks]
        )
        estimator.fit(X, y)

    return Rows(fit, bool(fraction))
