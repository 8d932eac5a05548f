"""How many BLAS threads a training step wants: one epoch with 1 thread and with all.

The matrix products of a step are small when the batch is small, and a BLAS that splits
a small product across threads pays more in synchronization than it gains. This script
times one epoch of nnmath's MLPClassifier (Adam) with the BLAS limited to one thread and
with every core, over batch sizes and layer widths, in one run with the two settings
interleaved, and prints the ratio for each shape together with the size of the step's
largest matrix product (batch × n_in × n_out multiply-adds), the quantity nnmath's thread
rule (:mod:`nnmath.training.threads`) looks at.

Usage::

    python benchmarks/threads.py            # the grid (a few minutes)
    python benchmarks/threads.py --quick    # tiny sizes: a smoke test of the script

nnmath's own rule is overridden for each timing (``NNMATH_BLAS_THREADS`` set to 1, then
to the number of cores), so that both settings are measured whatever the rule says.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

import nnmath
from nnmath.training import threads


def epoch(X, y, hidden, batch_size: int) -> None:
    nnmath.MLPClassifier(
        hidden_layer_sizes=hidden, batch_size=batch_size, max_iter=1, random_state=0
    ).fit(X, y)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--statistic",
        choices=("median", "min"),
        default="median",
        help="of the repeats (min: the run least disturbed on a shared machine)",
    )
    parser.add_argument("--n", type=int, default=20_000, help="samples per epoch")
    args = parser.parse_args(argv)
    summary = statistics.median if args.statistic == "median" else min
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    cores = threads.default_blas_threads()
    if args.quick:
        n, shapes, batches, repeats = 2_000, [(784, (64, 32))], (32, 256), 1
    else:
        n = args.n
        shapes = [(784, (256, 128)), (784, (64, 32)), (100, (512, 512)), (20, (32, 16))]
        batches, repeats = (8, 32, 64, 128, 256, 512, 1024), args.repeats
    blas = [
        f"{i['internal_api']} {i.get('version')} ({i.get('architecture')})"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(f"machine: {os.cpu_count()} cores; BLAS: {'; '.join(blas)}; all = {cores} threads")
    print(f"one epoch of {n} samples, 10 classes, Adam; {args.statistic} of {repeats}, interleaved")
    print()
    print(
        f"{'inputs':>6} {'hidden':>11} {'batch':>6} {'largest product':>16} "
        f"{'1 thread s':>11} {f'{cores} threads s':>12} {'1 / all':>8}  rule"
    )
    rng = np.random.default_rng(0)
    for n_in, hidden in shapes:
        X = rng.standard_normal((n, n_in), dtype=np.float32)
        y = rng.integers(0, 10, n)
        sizes = [n_in, *hidden, 10]
        for bs in batches:
            run = functools.partial(epoch, X, y, hidden, bs)
            one, every = [], []
            for _ in range(repeats):
                os.environ["NNMATH_BLAS_THREADS"] = "1"
                one.append(timed(run))
                os.environ["NNMATH_BLAS_THREADS"] = str(cores)
                every.append(timed(run))
            del os.environ["NNMATH_BLAS_THREADS"]
            a, b = summary(one), summary(every)
            work = threads.largest_product(sizes, bs)
            rule = threads.threads_for(sizes, bs, cores)
            print(
                f"{n_in:>6} {str(hidden):>11} {bs:>6} {work:>16,} {a:>11.3f} {b:>12.3f} "
                f"{a / b:>8.2f}  {rule}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
