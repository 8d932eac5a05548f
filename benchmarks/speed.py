"""Speed benchmark: nnmath against scikit-learn and PyTorch, and against the machine's floor.

Every figure in the table comes from this one run on this one machine, on the same data,
so the ratios are what to read (the machine may be shared and noisy: absolute seconds
move from run to run, ratios much less).

Workloads
---------
1. MLP: 60,000 × 784 float32 random inputs, 10 classes, hidden layers (256, 128), Adam,
   one epoch at batch sizes 32, 128 and 512: seconds per epoch for nnmath,
   scikit-learn and PyTorch; the floor = the epoch's flops / numpy's float32 matmul rate.
   With numba installed, the column np-only times nnmath with its compiled kernels
   switched off (NumPy alone), which shows what the kernels are worth. The column
   products times the epoch's matrix products alone (the same shapes, nothing else):
   what this BLAS needs at these shapes, beside the floor measured on a square product.
2. The article's perceptron: 4 samples × 3 features, 10,000 full-batch gradient-descent
   steps (sigmoid + MSE, α = 0.1): nnmath against the same loop written in PyTorch; the
   note gives, for reference, a bare NumPy loop of the same steps (no checks, no
   bookkeeping). nnmath runs these steps in its one training loop, in NumPy.
3. Scaling of workload 1 at batch 128: with the number of samples, and with the width
   of the hidden layers (w, w/2).
4. Peak memory growth during nnmath's fit (tracemalloc, which sees numpy's
   allocations), next to the size of X.
5. On a device (``--device cuda``, with ``--xp torch`` — the default — or ``--xp cupy``):
   workload 1's network at batch 128 and 1024 with nnmath training on the device
   (scikit-learn's array-API dispatch, the data as that library's arrays there) against
   PyTorch's own training loop on the same device, and nnmath on this machine's CPU at
   batch 1024 (NumPy) for the speed-up the device gives.

Usage::

    python benchmarks/speed.py                 # everything (a few minutes)
    python benchmarks/speed.py --quick         # tiny sizes: a smoke test of the script
    python benchmarks/speed.py --workload 1 --workload 4 --skip-torch
    python benchmarks/speed.py --device cuda   # workload 5 on a CUDA GPU (torch)
    python benchmarks/speed.py --device cuda --xp cupy

The floor counts multiply-adds only: per sample, forward 2 flops per weight, backward 4
per weight (∂C/∂W and ∂C/∂a), less the input gradient of the first layer, which nobody
needs: 6·Σweights − 2·n_inputs·n_hidden₁.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import nnmath
from nnmath.core import kernels

try:  # optional: PyTorch is not a dependency of nnmath
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

N_CLASSES = 10
SETTLE = 0.5  # seconds between timed runs (see median_times)
N_FEATURES = 784

# The targets: (label, key in the results, comparison, bound). W1's are for the default
# install (``pip install nnmath``, no numba): the NumPy-only time when numba is installed.
# W2's are the perceptron's loop; W4 the memory of a fit; W5 the GPU's (on a GPU only).
TARGETS = [
    ("W1 batch 32: default / torch", ("w1", 32, "default/torch"), "<=", 0.5),
    ("W1 batch 32: default / sklearn", ("w1", 32, "default/skl"), "<=", 0.4),
    ("W1 batch 128: default / sklearn", ("w1", 128, "default/skl"), "<=", 0.5),
    ("W1 batch 128: default / torch", ("w1", 128, "default/torch"), "<=", 0.6),
    ("W1 batch 128: default / floor", ("w1", 128, "default/floor"), "<=", 2.0),
    ("W1 batch 512: default / sklearn", ("w1", 512, "default/skl"), "<=", 0.7),
    ("W1 batch 512: default / torch", ("w1", 512, "default/torch"), "<=", 0.8),
    ("W2 perceptron: torch / nnmath (speed-up)", ("w2", 0, "speedup"), ">=", 10.0),
    ("W2 perceptron: nnmath seconds", ("w2", 0, "nnmath"), "<", 0.2),
    ("W4 peak memory growth / X size", ("w4", 0, "ratio"), "<=", 0.25),
    ("W5 device batch 128: nnmath / torch", ("w5", 128, "nn/torch"), "<=", 1.5),
    ("W5 device batch 1024: nnmath / torch", ("w5", 1024, "nn/torch"), "<=", 1.1),
    ("W5 device batch 1024: CPU / device", ("w5", 1024, "speedup"), ">=", 20.0),
]


@dataclass
class Sizes:
    n: int
    hidden: tuple[int, int]
    batches: tuple[int, ...]
    scaling_n: tuple[int, ...]
    widths: tuple[int, ...]
    matmul: int
    perceptron_iters: int
    repeats: int


FULL = Sizes(
    n=60_000,
    hidden=(256, 128),
    batches=(32, 128, 512),
    scaling_n=(15_000, 30_000, 60_000, 120_000),
    widths=(64, 128, 256, 512, 1024),
    matmul=2048,
    perceptron_iters=10_000,
    repeats=3,
)
QUICK = Sizes(
    n=600,
    hidden=(32, 16),
    batches=(32, 128, 512),
    scaling_n=(150, 300, 600),
    widths=(16, 32),
    matmul=256,
    perceptron_iters=200,
    repeats=1,
)


# ---------------------------------------------------------------------- machine
def n_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl to show it)"
    parts = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        owner = next(
            (lib for lib in ("numpy", "scipy", "torch") if lib in info.get("filepath", "")), "?"
        )
        arch = info.get("architecture") or "?"
        parts.append(
            f"{info.get('internal_api')} {info.get('version')} ({arch} kernel, "
            f"{info.get('num_threads')} threads) [{owner}]"
        )
    return "; ".join(parts) or "none found by threadpoolctl"


def print_machine(quick: bool, nnmath_path: str) -> None:
    import sklearn

    print(
        "nnmath speed benchmark" + (" (--quick: tiny sizes, timings meaningless)" if quick else "")
    )
    print(f"machine : {cpu_model()}, {n_cores()} cores, Python {platform.python_version()}")
    print(f"numpy   : {np.__version__}; BLAS: {blas_description()}")
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    if env:
        print(f"env     : {env}")
    torch_text = (
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
        if torch is not None
        else "torch not importable"
    )
    print(
        f"versions: nnmath {nnmath.__version__}, scikit-learn {sklearn.__version__}, {torch_text}"
    )
    print(f"nnmath  : {nnmath_path}")
    print(
        "kernels : "
        + (
            "numba installed: compiled Adam update (column np-only: NumPy alone)"
            if kernels.available()
            else "NumPy only (numba not installed, or NNMATH_NUMBA=0)"
        )
    )


def matmul_rate(size: int, repeats: int = 7) -> float:
    """Best float32 matmul rate of numpy, in flop/s, on a size × size product."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    out = np.empty((size, size), np.float32)
    np.matmul(a, b, out=out)  # warm-up: threads started, pages touched
    best = min(_time_once(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2.0 * size**3 / best


def flops_per_sample(sizes: list[int]) -> int:
    """6·Σweights − 2·n_in·n_1: forward 2, backward 4 per weight, no input gradient."""
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return 6 * weights - 2 * sizes[0] * sizes[1]


def epoch_products(X: np.ndarray, sizes: list[int], batch_size: int) -> None:
    """Run the matrix products of one training epoch, as a bound for any NumPy implementation.

    Per batch, z = aW for each layer, ∂C/∂W = aᵀδ for each layer and δWᵀ for all but the
    first, in float32 on contiguous whole batches (a partial last batch is left out), with
    random W and δ drawn once. Its time is what this BLAS takes for the epoch's products
    at these shapes: a bound for any NumPy implementation, beside the floor.
    """
    rng = np.random.default_rng(2)
    pairs = zip(sizes[:-1], sizes[1:], strict=True)
    Ws = [rng.standard_normal(shape, dtype=np.float32) for shape in pairs]
    outs = [np.empty((batch_size, b), np.float32) for b in sizes[1:]]
    deltas = [rng.standard_normal((batch_size, b), dtype=np.float32) for b in sizes[1:]]
    grads = [np.empty_like(W) for W in Ws]
    back = [np.empty((batch_size, a), np.float32) for a in sizes[1:-1]]
    n = X.shape[0] - X.shape[0] % batch_size  # whole batches: the shapes stay fixed
    for start in range(0, n, batch_size):
        a = X[start : start + batch_size]
        ins = [a]
        for W, z in zip(Ws, outs, strict=True):
            np.dot(ins[-1], W, out=z)
            ins.append(z)
        for l in range(len(Ws) - 1, -1, -1):
            np.dot(ins[l].T, deltas[l], out=grads[l])
            if l > 0:
                np.dot(deltas[l], Ws[l].T, out=back[l - 1])


# ---------------------------------------------------------------------- timing
def _time_once(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        times.append(_time_once(fn))
    return statistics.median(times)


def median_times(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Time each function and return its median time, the repeats interleaved.

    The repeats are interleaved (a, b, c, a, b, c, …) so that a change of load on a shared
    machine hits every contender alike.

    Each run starts after a pause of SETTLE seconds: thread pools keep spinning for a
    while after their last task (Intel OpenMP, under PyTorch, for 200 ms by default),
    and a contender timed in that window would share the cores with them.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            gc.collect()
            time.sleep(SETTLE)
            times[name].append(_time_once(fn))
    return {name: statistics.median(t) for name, t in times.items()}


# ---------------------------------------------------------------------- the contenders
def mlp_fit(cls, X: np.ndarray, y: np.ndarray, hidden, batch_size: int) -> None:
    """One epoch of an MLPClassifier: nnmath's and scikit-learn's get the same settings."""
    cls(
        hidden_layer_sizes=hidden,
        solver="adam",
        batch_size=batch_size,
        max_iter=1,
        shuffle=True,
        random_state=0,
    ).fit(X, y)


def nnmath_fit(X: np.ndarray, y: np.ndarray, hidden, batch_size: int) -> None:
    mlp_fit(nnmath.MLPClassifier, X, y, hidden, batch_size)


def sklearn_fit(X: np.ndarray, y: np.ndarray, hidden, batch_size: int) -> None:
    mlp_fit(SkMLPClassifier, X, y, hidden, batch_size)


def torch_fit(X_t, y_t, hidden, batch_size: int) -> float:
    """One epoch of the PyTorch counterpart, on X_t's device; returns the mean loss."""
    torch.manual_seed(0)
    sizes = [X_t.shape[1], *hidden, N_CLASSES]
    layers: list = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).to(X_t.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    n = X_t.shape[0]
    order = torch.randperm(n, device=X_t.device)  # shuffled each epoch
    total = 0.0
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        xb, yb = X_t[idx], y_t[idx]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / n


# ---------------------------------------------------------------------- table
COLUMNS = [
    ("workload", 34, "s"),
    ("nnmath", 9, ".3f"),
    ("sklearn", 9, ".3f"),
    ("torch", 9, ".3f"),
    ("nn/skl", 7, ".2f"),
    ("nn/torch", 8, ".2f"),
    ("floor", 7, ".3f"),
    ("nn/floor", 8, ".2f"),
    ("np-only", 8, ".3f"),
    ("products", 8, ".3f"),
]


def print_header() -> None:
    cells = [f"{name:<{w}}" if i == 0 else f"{name:>{w}}" for i, (name, w, _) in enumerate(COLUMNS)]
    line = " ".join(cells) + "  note"
    print(line)
    print("-" * len(line))


def print_row(label: str, values: dict, note: str = "") -> None:
    cells = [f"{label:<{COLUMNS[0][1]}}"]
    for name, width, fmt in COLUMNS[1:]:
        v = values.get(name)
        cells.append(f"{'-':>{width}}" if v is None else f"{v:>{width}{fmt}}")
    print(" ".join(cells) + ("  " + note if note else ""), flush=True)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


# ---------------------------------------------------------------------- workloads
def make_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, N_FEATURES), dtype=np.float32)
    y = rng.integers(0, N_CLASSES, n)
    return X, y


def numpy_only(fn, *args) -> None:
    """Run ``fn`` with nnmath's compiled kernels switched off (NumPy only)."""
    previous, kernels.enabled = kernels.enabled, False
    try:
        fn(*args)
    finally:
        kernels.enabled = previous


def warm_up(X, y, hidden, use_torch: bool) -> None:
    """One small fit of each library: imports, thread pools and caches are ready."""
    Xs, ys = X[:1024], y[:1024]
    nnmath_fit(Xs, ys, hidden, 128)
    sklearn_fit(Xs, ys, hidden, 128)
    if use_torch:
        torch_fit(torch.from_numpy(Xs), torch.from_numpy(ys), hidden, 128)


def workload_1(X, y, sz: Sizes, rate: float, use_torch: bool, results: dict) -> None:
    n = sz.n
    X, y = X[:n], y[:n]
    layer_sizes = [N_FEATURES, *sz.hidden, N_CLASSES]
    floor = n * flops_per_sample(layer_sizes) / rate
    X_t = torch.from_numpy(X) if use_torch else None
    y_t = torch.from_numpy(y) if use_torch else None
    for bs in sz.batches:
        fns = {
            "nnmath": lambda bs=bs: nnmath_fit(X, y, sz.hidden, bs),
            "sklearn": lambda bs=bs: sklearn_fit(X, y, sz.hidden, bs),
        }
        if use_torch:
            fns["torch"] = lambda bs=bs: torch_fit(X_t, y_t, sz.hidden, bs)
        if kernels.available():  # what the compiled kernel is worth: nnmath without it
            fns["np-only"] = lambda bs=bs: numpy_only(nnmath_fit, X, y, sz.hidden, bs)
        fns["products"] = lambda bs=bs: epoch_products(X, layer_sizes, bs)
        r = {"floor": floor, **median_times(fns, sz.repeats)}
        r["nn/skl"] = ratio(r["nnmath"], r["sklearn"])
        r["nn/torch"] = ratio(r["nnmath"], r.get("torch"))
        r["nn/floor"] = ratio(r["nnmath"], floor)
        default = r.get("np-only", r["nnmath"])  # what `pip install nnmath` runs
        r["default/skl"] = ratio(default, r["sklearn"])
        r["default/torch"] = ratio(default, r.get("torch"))
        r["default/floor"] = ratio(default, floor)
        results[("w1", bs)] = r
        note = f"the products alone: {r['products'] / floor:.2f} x floor"
        print_row(f"1 MLP {n}x{N_FEATURES} b={bs} s/epoch", r, note)


def workload_2(sz: Sizes, use_torch: bool, results: dict) -> None:
    # The article's perceptron: 4 samples × 3 features; the label is the first feature.
    X = np.array([[0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    iters, lr = sz.perceptron_iters, 0.1
    box = {}

    def fit_nnmath():
        clf = nnmath.Perceptron(activation="sigmoid", learning_rate=lr, max_iter=iters, tol=None)
        box["nn"] = clf.set_params(random_state=0).fit(X, y).loss_curve_[-1]

    def fit_torch():
        # The loop as a PyTorch user writes it: autograd, then a manual update.
        X_t = torch.tensor(X)
        y_t = torch.tensor(y, dtype=X_t.dtype).reshape(-1, 1)
        torch.manual_seed(0)
        w = torch.randn(3, 1, dtype=X_t.dtype, requires_grad=True)
        b = torch.zeros(1, dtype=X_t.dtype, requires_grad=True)
        for _ in range(iters):
            y_hat = torch.sigmoid(X_t @ w + b)  # ŷ = σ(w·x + b)
            cost = ((y_t - y_hat) ** 2).mean()  # C = (1/n) Σ (y − ŷ)²
            cost.backward()
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
                w.grad.zero_()
                b.grad.zero_()
        box["torch"] = cost.item()

    def bare_numpy_loop():
        # A reference, not a contender: the fewest NumPy calls that do one step (no
        # checks, no bookkeeping). Any NumPy implementation pays at least this much.
        w, b = np.zeros((3, 1)), np.zeros(1)
        Y = y.reshape(-1, 1).astype(float)
        XT, z, d, t = X.T, np.empty((4, 1)), np.empty((4, 1)), np.empty((4, 1))
        dw, db = np.empty((3, 1)), np.empty(1)
        for _ in range(iters):
            np.dot(X, w, out=z)
            z += b
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)  # ŷ = σ(z)
            np.subtract(z, Y, out=d)
            cost = np.vdot(d, d) / 4  # C
            d *= 0.5  # 2/n · (ŷ − y)
            np.subtract(1.0, z, out=t)
            t *= z
            d *= t  # δ = ∂C/∂ŷ · σ'(z)
            np.dot(XT, d, out=dw)
            np.add.reduce(d, axis=0, out=db)
            dw *= lr
            w -= dw
            db *= lr
            b -= db
        box["bare"] = float(cost)

    fns = {"nnmath": fit_nnmath, "bare": bare_numpy_loop}
    if use_torch:
        fns["torch"] = fit_torch
    for fn in fns.values():
        fn()  # warm-up
    r = median_times(fns, sz.repeats)
    note = f"{iters} steps; final cost nnmath {box['nn']:.4f}"
    if use_torch:
        r["nn/torch"] = ratio(r["nnmath"], r["torch"])
        r["speedup"] = ratio(r["torch"], r["nnmath"])
        note += f", torch {box['torch']:.4f}; torch/nnmath = {r['speedup']:.1f}x"
    note += f"; a bare NumPy loop of these steps: {r.pop('bare'):.3f} s; sklearn n/a"
    results[("w2", 0)] = r
    print_row("2 perceptron 4x3 fit s", r, note)


def workload_3(X, y, sz: Sizes, rate: float, results: dict) -> None:
    bs = 128
    fps = flops_per_sample([N_FEATURES, *sz.hidden, N_CLASSES])
    for n in sz.scaling_n:
        Xn, yn = X[:n], y[:n]
        floor = n * fps / rate
        t = median_time(lambda Xn=Xn, yn=yn: nnmath_fit(Xn, yn, sz.hidden, bs), sz.repeats)
        r = {"nnmath": t, "floor": floor, "nn/floor": t / floor}
        results[("w3n", n)] = r
        print_row(f"3 n={n} {sz.hidden} b={bs}", r, f"{1000 * t / n:.4f} s per 1k samples")
    n = sz.n
    Xn, yn = X[:n], y[:n]
    for w in sz.widths:
        hidden = (w, max(1, w // 2))
        floor = n * flops_per_sample([N_FEATURES, *hidden, N_CLASSES]) / rate
        t = median_time(lambda hidden=hidden: nnmath_fit(Xn, yn, hidden, bs), sz.repeats)
        r = {"nnmath": t, "floor": floor, "nn/floor": t / floor}
        results[("w3w", w)] = r
        print_row(f"3 width ({w},{w // 2}) n={n} b={bs}", r)


def peak_growth(fn: Callable[[], object]) -> int:
    """Peak traced memory above the starting point while ``fn`` runs, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def workload_4(X, y, sz: Sizes, results: dict) -> None:
    n, bs = sz.n, 128
    X, y = X[:n], y[:n]
    x_mb = X.nbytes / 2**20
    nn_mb = peak_growth(lambda: nnmath_fit(X, y, sz.hidden, bs)) / 2**20
    sk_mb = peak_growth(lambda: sklearn_fit(X, y, sz.hidden, bs)) / 2**20
    results[("w4", 0)] = {"ratio": nn_mb / x_mb}
    print(
        f"4 peak memory growth during fit, b={bs}: nnmath {nn_mb:.1f} MB "
        f"({100 * nn_mb / x_mb:.1f}% of X), scikit-learn {sk_mb:.1f} MB "
        f"({100 * sk_mb / x_mb:.1f}%); X is {n}x{N_FEATURES} float32 = {x_mb:.1f} MB "
        "(tracemalloc)",
        flush=True,
    )


def print_targets(results: dict, quick: bool) -> None:
    print()
    print(f"{'target':<44} {'bound':>8} {'measured':>9}  status")
    print("-" * 72)
    for label, (w, case, key), op, bound in TARGETS:
        value = results.get((w, case), {}).get(key)
        if value is None:
            status, shown = "not run", "-"
        else:
            ok = value <= bound if op == "<=" else value >= bound if op == ">=" else value < bound
            status = "n/a (--quick)" if quick else ("PASS" if ok else "MISS")
            shown = f"{value:.3f}"
        print(f"{label:<44} {op + ' ' + str(bound):>8} {shown:>9}  {status}")


def workload_5(X, y, sz: Sizes, library: str, device: str, results: dict) -> None:
    """Workload 1's network trained on a device by nnmath and by PyTorch."""
    import sklearn

    if library == "torch":
        if torch is None:
            raise SystemExit("--xp torch needs PyTorch installed")
        X_d, y_d = torch.tensor(X, device=device), torch.tensor(y, device=device)

        def sync():
            if str(device).startswith("cuda"):
                torch.cuda.synchronize()

    else:
        import cupy

        X_d, y_d = cupy.asarray(X), cupy.asarray(y)

        def sync():
            cupy.cuda.Device().synchronize()

    def on_device(bs):
        with sklearn.config_context(array_api_dispatch=True):
            nnmath_fit(X_d, y_d, sz.hidden, bs)
        sync()

    def torch_on_device(bs):
        torch_fit(X_t, y_t, sz.hidden, bs)
        sync()

    X_t = y_t = None
    if torch is not None and (library == "torch" or torch.cuda.is_available()):
        X_t = torch.tensor(X, device=device)
        y_t = torch.tensor(y, dtype=torch.long, device=device)
    for bs in (128, 1024):
        fns = {"nnmath": lambda bs=bs: on_device(bs)}
        if X_t is not None:
            fns["torch"] = lambda bs=bs: torch_on_device(bs)
        if bs == 1024:
            fns["cpu"] = lambda: nnmath_fit(X, y, sz.hidden, 1024)
        for fn in fns.values():
            fn()  # warm-up: kernels compiled, memory pools filled
        r = median_times(fns, sz.repeats)
        r["nn/torch"] = ratio(r["nnmath"], r.get("torch"))
        note = f"nnmath on {library} {device}"
        if "cpu" in r:
            r["speedup"] = ratio(r["cpu"], r["nnmath"])
            note += f"; nnmath on the CPU (NumPy) {r['cpu']:.3f} s: {r['speedup']:.1f} x"
        results[("w5", bs)] = r
        print_row(f"5 MLP on {device} b={bs} s/epoch", r, note)


# ---------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--skip-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument(
        "--workload",
        type=int,
        action="append",
        choices=[1, 2, 3, 4, 5],
        help="run only this workload (repeatable; default: all)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS/OpenMP threads for numpy, scikit-learn and PyTorch (default: the cores)",
    )
    parser.add_argument("--repeats", type=int, default=None, help="timings per figure (median)")
    parser.add_argument(
        "--device",
        default=None,
        help="run workload 5 on this device of the array library (e.g. cuda, cuda:1, cpu)",
    )
    parser.add_argument(
        "--xp",
        choices=("torch", "cupy"),
        default="torch",
        help="the array library of --device (default torch)",
    )
    args = parser.parse_args(argv)
    if args.device is not None:
        if os.environ.get("SCIPY_ARRAY_API") != "1":
            # scikit-learn's array-API dispatch needs SciPy's, which must be switched on
            # before SciPy is imported: run this script again with it set.
            os.environ["SCIPY_ARRAY_API"] = "1"
            os.execv(sys.executable, [sys.executable, *sys.argv])
        args.workload = [5]
    sz = QUICK if args.quick else FULL
    if args.repeats is not None:
        sz.repeats = max(1, args.repeats)
    workloads = sorted(set(args.workload or [1, 2, 3, 4]))
    if 5 in workloads and args.device is None:
        parser.error("workload 5 needs --device")

    use_torch = torch is not None and not args.skip_torch
    threads = args.threads or n_cores()
    if args.threads is not None:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            parser.error("--threads needs threadpoolctl (pip install threadpoolctl)")
        threadpool_limits(limits=threads)  # numpy's and scipy's BLAS, OpenMP
    if torch is not None:
        torch.set_num_threads(threads)
    estimator = "nnmath.MLPClassifier(hidden_layer_sizes, solver='adam', batch_size, max_iter=1)"
    print_machine(args.quick, estimator)
    if torch is None:
        print("note    : PyTorch is not importable; its column is skipped")
    elif args.skip_torch:
        print("note    : --skip-torch: PyTorch's column is skipped")

    warnings.filterwarnings("ignore", category=ConvergenceWarning)  # max_iter=1 on purpose
    rate = matmul_rate(sz.matmul)
    print(
        f"floor   : numpy float32 matmul {sz.matmul}x{sz.matmul}, best of 7: "
        f"{rate / 1e9:.1f} GFLOP/s; flops/sample of {[N_FEATURES, *sz.hidden, N_CLASSES]}: "
        f"{flops_per_sample([N_FEATURES, *sz.hidden, N_CLASSES]):,}"
    )
    print(
        f"timings : median of {sz.repeats} fit(s) of one epoch each (fresh model every time; "
        "the libraries' repeats interleaved)"
    )
    print()

    gc.collect()
    gc.freeze()  # the imports' objects (torch has many) stay out of every later gc pass
    n_data = max([sz.n, *sz.scaling_n]) if 3 in workloads else sz.n
    X, y = make_data(n_data)
    results: dict = {}
    print_header()
    if {1, 3, 4} & set(workloads):
        warm_up(X, y, sz.hidden, use_torch)
    if 1 in workloads:
        workload_1(X, y, sz, rate, use_torch, results)
    if 2 in workloads:
        workload_2(sz, use_torch, results)
    if 3 in workloads:
        workload_3(X, y, sz, rate, results)
    if 4 in workloads:
        workload_4(X, y, sz, results)
    if 5 in workloads:
        workload_5(X, y, sz, args.xp, args.device, results)
    print_targets(results, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
