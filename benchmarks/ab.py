"""Compare two source trees of nnmath: one epoch each, in alternating processes.

``python benchmarks/ab.py OTHER_SRC`` times one Adam epoch of workload 1's network
(60,000 × 784 float32 → 256 → 128 → 10) at each batch size with this tree's nnmath and
with the nnmath under ``OTHER_SRC`` (a ``src`` folder, for example of a worktree of an
earlier commit), in fresh processes that take turns, so both see the same machine. It
prints each one's median seconds and their ratio. ``NNMATH_NUMBA=0`` is set unless
``--numba``: the default install's figures.

Example: ``git worktree add /tmp/base v0.1.0 && python benchmarks/ab.py /tmp/base/src``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1] / "src"

CHILD = """
import sys, time, warnings
import numpy as np
import nnmath
warnings.simplefilter("ignore")
n, batches = int(sys.argv[1]), [int(b) for b in sys.argv[2:]]
rng = np.random.default_rng(0)
X = rng.standard_normal((n, 784), dtype=np.float32)
y = rng.integers(0, 10, n)
def fit(bs, rows=n):
    nnmath.MLPClassifier((256, 128), batch_size=bs, max_iter=1, random_state=0).fit(
        X[:rows], y[:rows])
print(nnmath.__file__, flush=True)
fit(128, 2048)  # imports, thread pools, caches
for bs in batches:
    started = time.perf_counter()
    fit(bs)
    print(bs, time.perf_counter() - started, flush=True)
"""


def run(src: Path, n: int, batches: list[int], numba: bool) -> dict[int, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    if not numba:
        env["NNMATH_NUMBA"] = "0"
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(n), *map(str, batches)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    where, *lines = out.splitlines()
    if not Path(where).is_relative_to(src):
        raise SystemExit(f"{src}: nnmath was imported from {where} instead")
    return {int(b): float(t) for b, t in (line.split() for line in lines)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other tree's src folder")
    parser.add_argument("--batches", type=int, nargs="+", default=[32, 128, 512])
    parser.add_argument("--rounds", type=int, default=5, help="processes per tree")
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--numba", action="store_true", help="let both use numba")
    args = parser.parse_args(argv)
    trees = {"this": HERE, "other": args.other.resolve()}
    times: dict[str, dict[int, list[float]]] = {k: {b: [] for b in args.batches} for k in trees}
    for _ in range(args.rounds):
        for name, src in trees.items():
            for b, t in run(src, args.rows, args.batches, args.numba).items():
                times[name][b].append(t)
    print(f"this: {trees['this']}\nother: {trees['other']}")
    print(f"one epoch, {args.rows} × 784 → 256 → 128 → 10, Adam; median of {args.rounds}")
    print("| batch | this s | other s | this / other |")
    print("|---:|---:|---:|---:|")
    for b in args.batches:
        this, other = (statistics.median(times[k][b]) for k in ("this", "other"))
        print(f"| {b} | {this:.3f} | {other:.3f} | {this / other:.2f} |")


if __name__ == "__main__":
    main()
