"""Scale benchmark: an L-BFGS iteration in memory and on a Dask cluster; the command on folders.

The command runs on a folder of files bigger than a batch, at 1 × and 8 × the rows.

The same fit — ``MLPClassifier(hidden_layer_sizes=(256, 128), solver="lbfgs")`` on
60,000 × 784 float32 random inputs and 10 classes (the data of benchmarks/speed.py) —
in memory (NumPy, with all of this machine's BLAS threads, and with one), and on a
``distributed.LocalCluster`` of 1 and of 2 worker processes with one thread each
(Dask's workers run their BLAS on one thread). X is split into 8 row chunks and kept
on the cluster before the clock starts. The figure is the median time of an L-BFGS
iteration (one cost-and-gradient evaluation, or a few in a line search), read from
the fit's callbacks, the first iteration left out.

On a cluster, every iteration sends θ to each worker and gets one gradient back from
each (each worker adds up its chunks' shares first): the table's last column gives
those bytes. Ratios from one run are what to read; the machine may be shared.

The streaming part runs ``nnmath train FOLDER`` as a real process on a folder of Parquet
files (8 numeric columns, a category, a label; row groups of 16,384 rows), at 1 × and
8 × the rows, and reports the rows per second of its two passes (the statistics, and
training with adam, batches of 256, 2 epochs) and the process's peak resident memory
(``wait4``'s ru_maxrss).

Usage::

    python benchmarks/scale.py                    # both parts (about four minutes)
    python benchmarks/scale.py --only streaming   # one part: lbfgs or streaming
    python benchmarks/scale.py --quick            # tiny sizes: a smoke test of the script
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import nnmath

N_FEATURES = 784
N_CLASSES = 10
N_CHUNKS = 8


def make_data(n: int, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, n_features), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, n)
    return X, y


def iteration_seconds(X, y, hidden, iterations: int) -> tuple[float, int]:
    """Median seconds of an L-BFGS iteration (the first left out), and θ's size."""
    seconds: list[float] = []
    clf = nnmath.MLPClassifier(
        hidden_layer_sizes=hidden,
        solver="lbfgs",
        max_iter=iterations + 1,
        random_state=0,
        callbacks=[lambda est, info: seconds.append(info["seconds"])],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few iterations, on purpose
        clf.fit(X, y)
    return statistics.median(seconds[1:]), clf.network_.theta.nbytes


def on_cluster(X, y, hidden, iterations: int, workers: int) -> tuple[float, int]:
    import dask.array as da
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        # The chunks go to the workers once, before the clock starts.
        rows = -(-X.shape[0] // N_CHUNKS)
        starts = range(0, X.shape[0], rows)
        X_parts = [X[s : s + rows] for s in starts]
        y_parts = [y[s : s + rows] for s in starts]
        Xd = da.concatenate(
            [
                da.from_delayed(f, shape=p.shape, dtype=p.dtype)
                for f, p in zip(client.scatter(X_parts), X_parts, strict=True)
            ]
        )
        yd = da.concatenate(
            [
                da.from_delayed(f, shape=p.shape, dtype=p.dtype)
                for f, p in zip(client.scatter(y_parts), y_parts, strict=True)
            ]
        )
        return iteration_seconds(Xd, yd, hidden, iterations)


def blas() -> str:
    pools = [pool for pool in threadpool_info() if pool.get("user_api") == "blas"]
    # numpy's own BLAS first (scipy may load another copy)
    pools.sort(key=lambda pool: "numpy" not in str(pool.get("filepath", "")))
    for pool in pools:
        if pool.get("user_api") == "blas":
            name, version = pool.get("internal_api"), pool.get("version")
            return f"{name} {version}, {pool.get('num_threads')} threads"
    return "unknown"


def write_parts(folder: Path, rows: int, files: int = 4) -> int:
    """Write a folder of Parquet files: 8 numbers, a category and a label; return its bytes."""
    import pandas as pd

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for k in range(files):
        n = rows // files
        X = rng.standard_normal((n, 8))
        kind = rng.choice(["a", "b", "c", "d"], n)
        label = np.where(X[:, 0] - X[:, 1] + (kind == "a") > 0, "yes", "no")
        frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]).assign(kind=kind, y=label)
        frame.to_parquet(folder / f"part-{k}.parquet", row_group_size=16_384, index=False)
    return sum(f.stat().st_size for f in folder.iterdir())


# NOTE: a child's peak memory (ru_maxrss) starts from its parent's at the fork: Linux
# keeps the high-water mark of the memory the child had before exec. This small process
# starts the command, so that the figure is the command's own.
_MEASURE = (
    "import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); "
    "_, status, usage = os.wait4(child.pid, 0); "
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, file=sys.stderr)"
)


def streaming_run(folder: Path, epochs: int) -> dict:
    """``nnmath train FOLDER`` in a real process: its rates and peak memory."""
    command = [sys.executable, "-m", "nnmath", "train", str(folder), "--target", "y"]
    command += ["--hidden", "32", "--epochs", str(epochs), "--batch-size", "256"]
    command += ["--out", str(folder.parent / "model.safetensors")]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True
    )
    status, kilobytes = map(int, result.stderr.splitlines()[-1].split())
    if status != 0:
        raise RuntimeError(f"nnmath train failed:\n{result.stderr}")
    text = result.stdout
    read = re.search(r"^Read \S+: ([\d,]+) rows \(([\d,]+) rows/s\)$", text, re.M)
    trained = re.search(r"^Read ([\d,]+) rows \(([\d,]+) rows/s\) while training", text, re.M)
    return {
        "rows": int(read[1].replace(",", "")),
        "read_rate": int(read[2].replace(",", "")),
        "train_rate": int(trained[2].replace(",", "")),
        "seconds": time.perf_counter() - started,
        "peak_mb": kilobytes / 1024,  # kilobytes on Linux
    }


def streaming(rows: int, epochs: int) -> None:
    print(
        f"\nnnmath train FOLDER (4 Parquet files, row groups of 16,384 rows; adam, batch 256, "
        f"{epochs} epoch{'s' * (epochs > 1)}, 32 hidden units): 1 × = {rows:,} rows"
    )
    print("| rows | files | s | read (pass 1) | training | peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|")
    peaks = []
    with tempfile.TemporaryDirectory() as scratch:
        for scale in (1, 8):
            folder = Path(scratch) / f"x{scale}" / "data"
            size = write_parts(folder, rows * scale)
            run = streaming_run(folder, epochs)
            peaks.append(run["peak_mb"])
            print(
                f"| {run['rows']:,} ({scale} ×) | {size / 1e6:.0f} MB | {run['seconds']:.1f} "
                f"| {run['read_rate']:,} rows/s | {run['train_rate']:,} rows/s "
                f"| {run['peak_mb']:.0f} MB |"
            )
    print(f"\npeak RSS at 8 × / at 1 ×: {peaks[1] / peaks[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    parser.add_argument("--only", choices=("lbfgs", "streaming"), help="run one part")
    args = parser.parse_args(argv)
    n, n_features, hidden, iterations = (
        (1_200, 64, (16,), 3) if args.quick else (60_000, N_FEATURES, (256, 128), 10)
    )
    print(f"nnmath {nnmath.__version__}, Python {platform.python_version()}, {sys.platform}")
    print(f"cores: {os.cpu_count()}; BLAS: {blas()}")
    if args.only != "lbfgs":
        streaming(20_000 if args.quick else 250_000, 1 if args.quick else 2)
    if args.only == "streaming":
        return 0
    print()
    print(
        f"L-BFGS, MLPClassifier(hidden_layer_sizes={hidden}), {n:,} × {n_features} float32, "
        f"{N_CLASSES} classes, {N_CHUNKS} chunks on a cluster; median of {iterations} iterations"
    )
    X, y = make_data(n, n_features)
    rows = []
    memory, theta_bytes = iteration_seconds(X, y, hidden, iterations)
    rows.append(("in memory, all BLAS threads", memory, None))
    with threadpool_limits(1):
        one_thread, _ = iteration_seconds(X, y, hidden, iterations)
    rows.append(("in memory, 1 BLAS thread", one_thread, None))
    for workers in (1, 2):
        seconds, _ = on_cluster(X, y, hidden, iterations, workers)
        rows.append((f"LocalCluster, {workers} worker(s) × 1 thread", seconds, workers))
    print()
    print("| setting | s / iteration | / in memory | / in memory, 1 thread | sent per iteration |")
    print("|---|---:|---:|---:|---:|")
    for label, seconds, workers in rows:
        traffic = "–" if workers is None else f"{2 * workers * theta_bytes / 1e6:.1f} MB"
        print(
            f"| {label} | {seconds:.3f} | {seconds / memory:.2f} | {seconds / one_thread:.2f} "
            f"| {traffic} |"
        )
    print(
        f"\nθ: {theta_bytes / 1e6:.1f} MB; every evaluation of the cost sends θ to each worker "
        "and one gradient back from each (sent per iteration: one evaluation)."
    )
    return 0


if __name__ == "__main__":
    time_started = time.perf_counter()
    status = main()
    print(f"({time.perf_counter() - time_started:.0f} s)")
    sys.exit(status)
