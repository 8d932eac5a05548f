"""Macro F1 of the command's model with and without ``--class-weight balanced``.

Imbalanced tables made from data sets bundled with scikit-learn (fixed seeds):

* ``cancer 1:10``: load_breast_cancer with the malignant rows cut to a tenth of the
  benign ones (35 against 357);
* ``digits 9 vs rest``: load_digits, the label "is it a 9" (180 against 1,617);
* ``digits geometric``: load_digits with class k kept at 0.7^k of its rows (from 178
  zeros down to 7 nines).

Each table is split 70/30 (stratified) with several seeds; the command's model
(:class:`nnmath.cli.learn.TableModel`, every option at the command's default) is trained
on the 70 and scored on the 30. The table gives the mean macro F1 and accuracy over the
seeds, with and without class weights.

    python benchmarks/class_weight.py            # 5 seeds
    python benchmarks/class_weight.py --quick    # 1 seed, 20 epochs
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from nnmath.cli.learn import TableModel


def _tables() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    tables = {}
    X, y = load_breast_cancer(return_X_y=True)  # 0 malignant (212), 1 benign (357)
    malignant = rng.choice(np.flatnonzero(y == 0), size=(y == 1).sum() // 10, replace=False)
    keep = np.sort(np.concatenate([malignant, np.flatnonzero(y == 1)]))
    tables["cancer 1:10"] = (X[keep], np.where(y[keep] == 0, "malignant", "benign"))
    X, y = load_digits(return_X_y=True)
    tables["digits 9 vs rest"] = (X, np.where(y == 9, "nine", "other"))
    keep = np.sort(
        np.concatenate(
            [
                rng.choice(np.flatnonzero(y == k), size=max(2, round(0.7**k * (y == k).sum())))
                for k in range(10)
            ]
        )
    )
    tables["digits geometric"] = (X[keep], y[keep])
    return tables


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, 20 epochs")
    parser.add_argument("--seeds", type=int, default=5, help="splits per table (default 5)")
    args = parser.parse_args()
    seeds = 1 if args.quick else args.seeds
    epochs = 20 if args.quick else 200
    print("| table | rows | rarest class | class_weight | macro F1 | accuracy | seconds |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for name, (X, y) in _tables().items():
        table = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
        _, counts = np.unique(y, return_counts=True)
        for class_weight in (None, "balanced"):
            f1, accuracy, seconds = [], [], 0.0
            for seed in range(seeds):
                train, test = train_test_split(
                    np.arange(len(y)), test_size=0.3, stratify=y, random_state=seed
                )
                model = TableModel(epochs=epochs, seed=seed, class_weight=class_weight)
                started = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model.fit(table.iloc[train], y[train])
                seconds += time.perf_counter() - started
                predicted = model.predict(table.iloc[test])
                f1.append(f1_score(y[test], predicted, average="macro"))
                accuracy.append(accuracy_score(y[test], predicted))
            print(
                f"| {name} | {len(y)} | {counts.min()} | {class_weight} | "
                f"{np.mean(f1):.4f} ± {np.std(f1):.4f} | {np.mean(accuracy):.4f} | "
                f"{seconds / seeds:.2f} |"
            )


if __name__ == "__main__":
    main()
