"""``nnmath tune``: the budget kept by the real process, and the leaderboard's order."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import nnmath
from nnmath.cli.search import leaderboard

TIMEOUT = 300


def _timed(argv, cwd) -> tuple[float, subprocess.CompletedProcess]:
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, cwd=cwd, timeout=TIMEOUT
    )
    return time.perf_counter() - began, result


@pytest.mark.slow
def test_tune_keeps_its_budget_on_a_few_thousand_rows(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6))
    label = np.where(X[:, 0] + X[:, 1] * X[:, 2] > 0, "yes", "no")
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(label=label)
    table.to_csv(tmp_path / "t.csv", index=False)
    # The process's start-up, before the command's clock runs: the interpreter and the
    # modules the command imports before it reads its options.
    startup, result = _timed(["-c", "import nnmath.cli.search, sklearn, pandas"], tmp_path)
    assert result.returncode == 0, result.stderr
    version, result = _timed(["-m", "nnmath", "--version"], tmp_path)
    assert result.returncode == 0, result.stderr
    budget = 0.25 * 60
    argv = ["-m", "nnmath", "tune", "t.csv", "--target", "label", "--budget", "0.25"]
    wall, result = _timed([*argv, "--out", "m.nnm"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert wall <= 1.2 * budget + max(startup, version), result.stdout
    search = re.search(r"^Search: (\d+) fits in ([\d.]+) s .*final fit on every row: ([\d.]+) s;"
                       r" in all ([\d.]+) s of a 15 s budget$", result.stdout, re.M)  # fmt: skip
    assert search, result.stdout
    assert float(search[2]) + float(search[3]) <= float(search[4]) <= wall
    assert re.search(r"^tune: \d+/\d+ fits, \d+ s, \d+ s of the budget left$", result.stdout, re.M)
    assert nnmath.load(tmp_path / "m.nnm").named_steps["model"].classes_.tolist() == ["no", "yes"]


def test_the_leaderboard_ranks_rows_before_score_and_says_where_each_was_measured():
    # A higher score on fewer rows (an earlier round) ranks below a lower one on more.
    params = [
        {"hidden": (16,), "alpha": 1e-3, "learning_rate": 1e-2, "batch_size": 32},
        {"hidden": (64, 32), "alpha": 1e-4, "learning_rate": 1e-3, "batch_size": 16},
        {"hidden": (128,), "alpha": 1e-5, "learning_rate": 3e-3, "batch_size": 64},
    ]
    search = SimpleNamespace(
        n_splits_=3,
        cv_results_={
            "params": params,
            "iter": np.array([0, 1, 1]),
            "n_resources": np.array([300, 900, 900]),
            "mean_test_score": np.array([0.99, 0.80, 0.85]),
            "std_test_score": np.array([0.01, 0.02, 0.03]),
        },
    )
    lines = leaderboard(search, top=3, metric="accuracy")
    assert lines[0].split() == [
        "rank", "accuracy", "(±", "std)", "rows", "scored", "hidden", "alpha", "rate", "batch"
    ]  # fmt: skip
    assert lines[1].split()[:6] == ["1", "0.8500", "±", "0.0300", "900", "300"]
    assert lines[2].split()[:6] == ["2", "0.8000", "±", "0.0200", "900", "300"]
    assert lines[3].split()[:6] == ["3", "0.9900", "±", "0.0100", "300", "100"]
    assert lines[4].startswith("Ranked as successive halving ranks: by rows, then accuracy")
