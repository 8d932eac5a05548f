"""Parity benchmark: nnmath's MLPs against scikit-learn's, same hyperparameters.

For each of scikit-learn's bundled data sets — iris, wine, breast cancer and digits
(classification, test accuracy) and diabetes (regression, test R²) — and each solver
(adam, sgd, lbfgs), both libraries fit the same estimator with the same
hyperparameters on the same train/test splits, over several seeds:

* split: ``train_test_split(test_size=0.25, random_state=seed)``, stratified for
  classification;
* inputs standardized by a StandardScaler fit on the training part (for diabetes the
  target too, the way ``TransformedTargetRegressor`` would; R² is measured on the
  original scale);
* estimator: ``hidden_layer_sizes=(64,), max_iter=500, random_state=seed``, every
  other parameter at its default (ConvergenceWarnings are ignored) — except diabetes'
  ``alpha=10``: with the default 1e-4 a 64-unit network overfits its 331 training
  samples (L-BFGS interpolates them) and both libraries score R² < 0, which compares
  nothing.

The target: nnmath's mean test accuracy ≥ scikit-learn's − 1 point
(R² ≥ scikit-learn's − 0.02). The table also gives the mean seconds per fit of each
library and their ratio (nnmath / scikit-learn; below 1 means nnmath is faster).

``--same-model`` runs the other half: same ``random_state``, same model. For each case
of :data:`SAME_CASES` (adam; sgd constant, invscaling, adaptive, with plain or Nesterov's
momentum; lbfgs; classifier binary, multiclass and multilabel; regressor single- and
multi-output; early stopping, sample weights, partial_fit) in float64 and float32, both
libraries fit the same estimator on the same standardized data set in this process, and
the table says whether ``n_iter_`` is equal, how many rows' predictions differ (a
regressor's: by more than the target), the
largest |Δ predict_proba| (classifiers) or |Δ predict| (regressors), and nnmath's time
over scikit-learn's. The targets: in float64, n_iter_ equal, every prediction equal,
probabilities within 1e-6; in float32 within 1e-3.

Usage::

    python benchmarks/parity.py            # the full grid: 5 data sets × 3 solvers × 10 seeds
    python benchmarks/parity.py --quick    # iris, breast cancer, diabetes; 2 seeds
    python benchmarks/parity.py --datasets iris wine --solvers adam --seeds 0 1 2
    python benchmarks/parity.py --blas-threads 0   # leave BLAS's thread count alone
    python benchmarks/parity.py --same-model       # same random_state, same model?

BLAS runs on one thread by default (``--blas-threads 1``, through threadpoolctl): on
matrices this small, extra BLAS threads only add wake-up latency to both libraries,
and on a busy machine they make every fit many times slower (scipy's L-BFGS-B too).
The output is a markdown table, ready to paste.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import sklearn
import sklearn.neural_network
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import nnmath

LOADERS = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
    "diabetes": datasets.load_diabetes,
}
REGRESSION = {"diabetes"}
SOLVERS = ("adam", "sgd", "lbfgs")
SEEDS = tuple(range(10))
QUICK = {"datasets": ("iris", "breast_cancer", "diabetes"), "seeds": (0, 1)}
PARAMS = {"hidden_layer_sizes": (64,), "max_iter": 500}
OVERRIDES = {"diabetes": {"alpha": 10.0}}  # see the module docstring
# The target: nnmath ≥ scikit-learn − margin (accuracy in [0, 1]; R²).
MARGIN = {"accuracy": 0.01, "r2": 0.02}


@dataclass
class Row:
    """One (data set, solver) cell: mean test metric and seconds per fit of each."""

    dataset: str
    solver: str
    metric: str
    sklearn: float
    nnmath: float
    sklearn_seconds: float
    nnmath_seconds: float
    n_seeds: int

    @property
    def difference(self) -> float:
        return self.nnmath - self.sklearn

    @property
    def passed(self) -> bool:
        return self.difference >= -MARGIN[self.metric]


def split(dataset: str, seed: int):
    """Make the fixed, standardized split of one data set for one seed."""
    X, y = LOADERS[dataset](return_X_y=True)
    regression = dataset in REGRESSION
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=None if regression else y
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


def fit_and_score(module: str, dataset: str, solver: str, seed: int) -> tuple[float, float]:
    """(test metric, seconds to fit) of one library's estimator on one split."""
    X_tr, X_te, y_tr, y_te = split(dataset, seed)
    regression = dataset in REGRESSION
    if module == "sklearn":
        cls = SkMLPRegressor if regression else SkMLPClassifier
    else:
        cls = nnmath.MLPRegressor if regression else nnmath.MLPClassifier
    est = cls(solver=solver, random_state=seed, **{**PARAMS, **OVERRIDES.get(dataset, {})})
    if regression:  # standardize the target as well; score on the original scale
        mu, sd = y_tr.mean(), y_tr.std()
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_tr, (y_tr - mu) / sd)
        seconds = time.perf_counter() - started
        return r2_score(y_te, est.predict(X_te) * sd + mu), seconds
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X_tr, y_tr)
    seconds = time.perf_counter() - started
    return accuracy_score(y_te, est.predict(X_te)), seconds


def compare(dataset: str, solver: str, seeds=SEEDS) -> Row:
    """Both libraries on every seed of one (data set, solver) cell."""
    scores = {"sklearn": [], "nnmath": []}
    seconds = {"sklearn": [], "nnmath": []}
    for seed in seeds:
        for module in ("sklearn", "nnmath"):
            s, t = fit_and_score(module, dataset, solver, seed)
            scores[module].append(s)
            seconds[module].append(t)
    return Row(
        dataset=dataset,
        solver=solver,
        metric="r2" if dataset in REGRESSION else "accuracy",
        sklearn=float(np.mean(scores["sklearn"])),
        nnmath=float(np.mean(scores["nnmath"])),
        sklearn_seconds=float(np.mean(seconds["sklearn"])),
        nnmath_seconds=float(np.mean(seconds["nnmath"])),
        n_seeds=len(seeds),
    )


def _figure(row: Row, value: float, signed: bool = False) -> str:
    value = round(value, 10) + 0.0  # no "-0.00" from rounding noise
    if row.metric == "accuracy":  # in percent
        return f"{100 * value:+.2f}" if signed else f"{100 * value:.2f}"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def markdown(rows: list[Row]) -> str:
    """Write the side-by-side table in markdown."""
    lines = [
        "| data set | metric | solver | scikit-learn | nnmath | difference | target "
        "| s/fit sklearn | s/fit nnmath | time ratio |",
        "|---|---|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        metric = "accuracy %" if r.metric == "accuracy" else "R²"
        target = "≥ −1 point" if r.metric == "accuracy" else "≥ −0.02"
        lines.append(
            f"| {r.dataset} | {metric} | {r.solver} | {_figure(r, r.sklearn)} | "
            f"{_figure(r, r.nnmath)} | {_figure(r, r.difference, signed=True)} | "
            f"{'PASS' if r.passed else 'FAIL'} ({target}) | {r.sklearn_seconds:.3f} | "
            f"{r.nnmath_seconds:.3f} | {r.nnmath_seconds / r.sklearn_seconds:.2f} |"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------- same model
def _same_data(name: str):
    """(X, y) of a bundled data set, standardized (targets of regressions too)."""
    if name == "linnerud":
        X, y = datasets.load_linnerud(return_X_y=True)
    elif name == "digits_multilabel":
        X, digit = datasets.load_digits(return_X_y=True)
        y = np.column_stack([digit % 2 == 0, digit >= 5, digit % 3 == 0]).astype(int)
    else:
        X, y = LOADERS[name](return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if name in ("diabetes", "linnerud"):
        y = (y - y.mean(axis=0)) / y.std(axis=0)
    return X, y


#: (name, data set, estimator parameters, how it is fit: "fit", "weights" or "partial")
SAME_CASES = [
    ("adam binary", "breast_cancer", {"solver": "adam"}, "fit"),
    ("adam multiclass", "digits", {"solver": "adam"}, "fit"),
    ("adam multilabel", "digits_multilabel", {"solver": "adam"}, "fit"),
    ("adam regression", "diabetes", {"solver": "adam", "max_iter": 500}, "fit"),
    ("adam 3 outputs", "linnerud", {"solver": "adam", "max_iter": 500}, "fit"),
    ("sgd nesterov", "digits", {"solver": "sgd"}, "fit"),
    ("sgd momentum", "wine", {"solver": "sgd", "nesterovs_momentum": False}, "fit"),
    ("sgd no momentum", "iris", {"solver": "sgd", "momentum": 0.0}, "fit"),
    ("sgd invscaling", "breast_cancer", {"solver": "sgd", "learning_rate": "invscaling"}, "fit"),
    ("sgd adaptive", "iris", {"solver": "sgd", "learning_rate": "adaptive"}, "fit"),
    ("sgd regression", "diabetes", {"solver": "sgd", "learning_rate_init": 0.01}, "fit"),
    ("lbfgs binary", "breast_cancer", {"solver": "lbfgs"}, "fit"),
    ("lbfgs multiclass", "iris", {"solver": "lbfgs"}, "fit"),
    ("lbfgs regression", "diabetes", {"solver": "lbfgs", "alpha": 10.0}, "fit"),
    ("lbfgs overfitting", "diabetes", {"solver": "lbfgs"}, "fit"),
    ("adam early stopping", "digits", {"solver": "adam", "early_stopping": True}, "fit"),
    ("sgd early stopping", "diabetes", {"solver": "sgd", "early_stopping": True}, "fit"),
    ("adam sample weights", "digits", {"solver": "adam"}, "weights"),
    ("lbfgs sample weights", "wine", {"solver": "lbfgs"}, "weights"),
    ("adam partial_fit", "digits", {"solver": "adam"}, "partial"),
    ("sgd partial_fit", "diabetes", {"solver": "sgd", "learning_rate_init": 0.01}, "partial"),
]
SAME_PARAMS = {"hidden_layer_sizes": (64,), "random_state": 0}


@dataclass
class SameRow:
    """One case of --same-model: how far nnmath's fit is from scikit-learn's."""

    case: str
    dataset: str
    dtype: str
    n_iter: tuple[int, int]  # (scikit-learn, nnmath)
    rows_differing: int
    n_rows: int
    max_difference: float
    sklearn_seconds: float
    nnmath_seconds: float

    @property
    def passed(self) -> bool:
        limit = 1e-6 if self.dtype == "float64" else 1e-3
        same = self.n_iter[0] == self.n_iter[1] and self.rows_differing == 0
        return same and self.max_difference <= limit


def _fit_same(cls, params: dict, how: str, X, y, weights) -> tuple[object, float]:
    est = cls(**params)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if how == "partial":  # 20 passes over the data in 4 parts
            extra = {"classes": np.unique(y)} if hasattr(cls, "predict_proba") else {}
            for _ in range(20):
                for part in np.array_split(np.arange(X.shape[0]), 4):
                    est.partial_fit(X[part], y[part], **extra)
        elif how == "weights":
            est.fit(X, y, sample_weight=weights)
        else:
            est.fit(X, y)
    return est, time.perf_counter() - started


def same_model(case: tuple, dtype=np.float64) -> SameRow:
    """Fit scikit-learn's and nnmath's estimator alike on one case; compare."""
    name, dataset, params, how = case
    X, y = _same_data(dataset)
    X = X.astype(dtype)
    regression = dataset in REGRESSION or dataset == "linnerud"
    weights = np.random.RandomState(0).uniform(0.5, 2.0, X.shape[0])
    kind = "MLPRegressor" if regression else "MLPClassifier"
    params = {**SAME_PARAMS, **params}
    ref, sk_seconds = _fit_same(getattr(sklearn.neural_network, kind), params, how, X, y, weights)
    got, nn_seconds = _fit_same(getattr(nnmath, kind), params, how, X, y, weights)
    if regression:
        a, b = ref.predict(X), got.predict(X)
        limit = 1e-6 if np.dtype(dtype) == np.float64 else 1e-3  # real numbers: the target
        far = np.reshape(np.abs(a - b) > limit, (X.shape[0], -1))
        rows = int(np.sum(np.any(far, axis=1)))
    else:
        a, b = ref.predict_proba(X), got.predict_proba(X)
        different = np.reshape(ref.predict(X) != got.predict(X), (X.shape[0], -1))
        rows = int(np.sum(np.any(different, axis=1)))
    return SameRow(
        case=name,
        dataset=dataset,
        dtype=np.dtype(dtype).name,
        n_iter=(int(ref.n_iter_), int(got.n_iter_)),
        rows_differing=rows,
        n_rows=X.shape[0],
        max_difference=float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float)))),
        sklearn_seconds=sk_seconds,
        nnmath_seconds=nn_seconds,
    )


def same_markdown(rows: list[SameRow]) -> str:
    """Write the --same-model table in markdown."""
    lines = [
        "| case | data set | dtype | n_iter_ sklearn / nnmath | rows predicted "
        "differently | max abs difference | target | s sklearn | s nnmath | time ratio |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        equal = "equal" if r.n_iter[0] == r.n_iter[1] else "DIFFERENT"
        lines.append(
            f"| {r.case} | {r.dataset} | {r.dtype} | {r.n_iter[0]} / {r.n_iter[1]} ({equal}) | "
            f"{r.rows_differing} of {r.n_rows} | {r.max_difference:.1e} | "
            f"{'PASS' if r.passed else 'FAIL'} | {r.sklearn_seconds:.3f} | "
            f"{r.nnmath_seconds:.3f} | {r.nnmath_seconds / r.sklearn_seconds:.2f} |"
        )
    return "\n".join(lines)


def main_same(cases, dtypes) -> int:
    """Print the --same-model table; 1 when a case misses its target."""
    print(
        f"nnmath {nnmath.__version__} vs scikit-learn {sklearn.__version__}; numpy "
        f"{np.__version__}; Python {platform.python_version()} on {platform.machine()}; "
        f"{SAME_PARAMS}, other parameters as each case says, else the defaults.\n",
        flush=True,
    )
    rows = []
    for dtype in dtypes:
        for case in cases:
            rows.append(same_model(case, dtype))
            print(f"  done: {case[0]} ({np.dtype(dtype).name})", file=sys.stderr, flush=True)
    print(same_markdown(rows))
    slow = [r for r in rows if r.sklearn_seconds > 0.1]
    faster = sum(r.nnmath_seconds < r.sklearn_seconds for r in slow)
    failed = [r for r in rows if not r.passed]
    print(
        f"\n{len(rows) - len(failed)}/{len(rows)} cases meet the target; nnmath is faster "
        f"in {faster} of the {len(slow)} cases whose scikit-learn fit takes over 0.1 s."
    )
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast subset of the grid")
    parser.add_argument("--datasets", nargs="+", choices=sorted(LOADERS), default=None)
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=None)
    parser.add_argument(
        "--blas-threads", type=int, default=1, help="BLAS threads (0: the library default)"
    )
    parser.add_argument(
        "--same-model",
        action="store_true",
        help="same random_state, same model? (every case of SAME_CASES, float64 and float32)",
    )
    parser.add_argument("--cases", nargs="+", default=None, help="--same-model: these cases")
    args = parser.parse_args(argv)
    if args.blas_threads > 0:
        threadpool_limits(args.blas_threads)
    if args.same_model:
        cases = [c for c in SAME_CASES if args.cases is None or c[0] in args.cases]
        return main_same(cases, (np.float64, np.float32))
    names = args.datasets or (QUICK["datasets"] if args.quick else tuple(LOADERS))
    seeds = args.seeds or (QUICK["seeds"] if args.quick else SEEDS)
    solvers = args.solvers or SOLVERS
    print(
        f"nnmath {nnmath.__version__} vs scikit-learn {sklearn.__version__}; numpy "
        f"{np.__version__}; Python {platform.python_version()} on {platform.machine()}; "
        f"BLAS threads: {args.blas_threads or 'default'}; seeds {list(seeds)}; {PARAMS}, "
        f"other parameters at their defaults; overrides {OVERRIDES}.\n",
        flush=True,
    )
    rows = []
    for dataset in names:
        for solver in solvers:
            rows.append(compare(dataset, solver, seeds))
            print(f"  done: {dataset} / {solver}", file=sys.stderr, flush=True)
    print(markdown(rows))
    failed = [r for r in rows if not r.passed]
    total_sk = sum(r.sklearn_seconds for r in rows)
    total_nn = sum(r.nnmath_seconds for r in rows)
    print(
        f"\n{len(rows) - len(failed)}/{len(rows)} cells meet the target; summed seconds "
        f"per fit: scikit-learn {total_sk:.2f}, nnmath {total_nn:.2f} "
        f"(ratio {total_nn / total_sk:.2f})."
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
