"""The command on tables whose shape used to break it: a rare class, an integer count
target, a numeric identifier, a value far beyond the training range.

The tables are generated here; the commands run through :func:`nnmath.cli.main`
in-process (the code the command runs).
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import nnmath
from nnmath.cli import main


def _run(argv, capsys, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _rare(path, n=40, seed=0):
    """40 rows of a, b, two of c and one of d: a validation split of 4 rows holds c
    rarely and d never."""
    rng = np.random.default_rng(seed)
    y = np.array(["a"] * 20 + ["b"] * (n - 23) + ["c"] * 2 + ["d"])
    x = rng.normal(size=n) + (y == "a") * 2 - (y == "c") * 2 + (y == "d") * 4
    pd.DataFrame({"x": x, "z": rng.normal(size=n), "label": y}).to_csv(path, index=False)


@pytest.mark.parametrize("seed", range(4))
def test_a_class_of_one_row_stays_in_training_and_is_said(seed, tmp_path, capsys, monkeypatch):
    _rare(tmp_path / "rare.csv", seed=seed)
    argv = ["train", "rare.csv", "--target", "label", "--seed", str(seed), "--out", "m.nnm"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert (
        "note: class 'd' with a single row: too rare to split, kept in training (the "
        "validation rows have none)"
    ) in err
    assert "4 classes: a, b, c, d" in out
    model = nnmath.load(tmp_path / "m.nnm").named_steps["model"]
    assert model.classes_.tolist() == ["a", "b", "c", "d"]


def test_cv_keeps_a_class_rarer_than_the_folds_in_training(tmp_path, capsys, monkeypatch):
    _rare(tmp_path / "rare.csv")
    argv = ["cv", "rare.csv", "--target", "label", "--folds", "3", "--json"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 0, err
    result = json.loads(out)
    assert len(result["metrics"]["log loss"]["folds"]) == 3
    assert all(np.isfinite(result["metrics"]["log loss"]["folds"]))


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["cv", "--folds", "1000"], "rare.csv has 40 rows: too few for 1000 folds"),
        (["tune", "--folds", "5", "--out", "t.nnm"], "rare.csv has 40 rows: too few to tune"),
    ],
)
def test_too_few_rows_for_the_folds_is_said_alone(argv, error, tmp_path, capsys, monkeypatch):
    _rare(tmp_path / "rare.csv")
    argv = [argv[0], "rare.csv", "--target", "label", *argv[1:]]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 2
    assert error in err
    assert "too rare" not in err
    assert err.count("error:") == 1


def _counts(path, n=120, seed=0):
    """An integer count target: 16 distinct values from 0 to 19, with gaps."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2.3, n)
    visits = rng.poisson(np.exp(x))
    pd.DataFrame({"x": x, "visits": visits}).to_csv(path, index=False)
    return visits


def test_an_integer_count_target_is_regression_and_the_rule_is_said(tmp_path, capsys, monkeypatch):
    visits = _counts(tmp_path / "counts.csv")
    distinct = np.unique(visits)
    assert len(distinct) > 2
    assert distinct[-1] - distinct[0] + 1 > len(distinct)  # gaps
    status, out, err = _run(
        ["train", "counts.csv", "--target", "visits", "--out", "m.nnm"], capsys, tmp_path,
        monkeypatch,
    )  # fmt: skip
    assert status == 0, err
    assert (
        f"— {len(distinct)} distinct whole numbers from {distinct[0]} to {distinct[-1]} with "
        "gaps: a count or a quantity (--task classification to override)"
    ) in out
    assert "Task: regression of 'visits'" in out
    status, out, err = _run(
        ["train", "counts.csv", "--target", "visits", "--task", "classification", "--out",
         "c.nnm"], capsys, tmp_path, monkeypatch,
    )  # fmt: skip
    assert status == 0, err
    assert "Task: classification of 'visits'" in out
    assert "— --task classification" in out


def _counties(path, n=300, seed=0):
    """A county table: PID (increasing, with gaps), population, and the poverty share."""
    rng = np.random.default_rng(seed)
    pid = np.cumsum(rng.integers(1, 12, n))
    population = rng.lognormal(10, 1.2, n).round()
    poverty = 10 + 3 * np.log10(population) + rng.normal(0, 1, n)
    table = pd.DataFrame({"PID": pid, "poptotal": population, "poverty": poverty})
    table.to_csv(path, index=False)
    return table


def test_a_numeric_identifier_is_dropped_and_numeric_keeps_it(tmp_path, capsys, monkeypatch):
    _counties(tmp_path / "counties.csv")
    argv = ["train", "counties.csv", "--target", "poverty"]
    status, out, err = _run([*argv, "--out", "m.nnm"], capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert (
        "warning: column 'PID': distinct whole numbers increasing with the row: an "
        "identifier; dropped (--numeric PID keeps it)"
    ) in err
    assert nnmath.load(tmp_path / "m.nnm").named_steps["preprocess"].feature_names_in_ == [
        "poptotal"
    ]
    status, out, err = _run(
        [*argv, "--numeric", "PID", "--out", "k.nnm"], capsys, tmp_path, monkeypatch
    )
    assert status == 0, err
    assert "PID" not in err
    kept = nnmath.load(tmp_path / "k.nnm").named_steps["preprocess"].feature_names_in_
    assert kept == ["PID", "poptotal"]


def test_a_value_far_beyond_the_training_range_is_warned_and_stays_sane(
    tmp_path, capsys, monkeypatch
):
    table = _counties(tmp_path / "counties.csv")
    status, _, err = _run(
        ["train", "counties.csv", "--target", "poverty", "--out", "m.nnm"], capsys, tmp_path,
        monkeypatch,
    )  # fmt: skip
    assert status == 0, err
    high = table["poptotal"].max()
    new = pd.DataFrame({"PID": [1, 2, 3], "poptotal": [1000.0, 2.5 * high, 40 * high]})
    new.to_csv(tmp_path / "new.csv", index=False)
    status, out, err = _run(["predict", "m.nnm", "new.csv"], capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert (
        "warning: 2 values beyond the training range, where the model extrapolates (scaled "
        f"with a smooth clip): poptotal 2 rows (training range {table['poptotal'].min():g} "
        f"to {high:g})"
    ) in err
    predicted = pd.read_csv(io.StringIO(out))["prediction"].to_numpy()
    # the poverty share of the training rows spans about 20 to 35: a row 40 times the
    # largest county is predicted within reach of them, not extrapolated without bound
    low_y, high_y = table["poverty"].min(), table["poverty"].max()
    span = high_y - low_y
    assert np.all(predicted > low_y - span)
    assert np.all(predicted < high_y + span)


def test_tune_with_a_class_rarer_than_the_folds_writes_a_model(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    y = np.array(["a"] * 100 + ["b"] * 97 + ["c"] * 2 + ["d"])
    x = rng.normal(size=200) + (y == "a")
    pd.DataFrame({"x": x, "z": rng.normal(size=200), "label": y}).to_csv(
        tmp_path / "rare.csv", index=False
    )
    argv = ["tune", "rare.csv", "--target", "label", "--budget", "0.1", "--out", "t.nnm"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert (
        "note: classes 'c', 'd' with fewer rows than 3 folds: too rare to split, kept in the "
        "training rows of every fold (scored in none)"
    ) in err
    assert nnmath.load(tmp_path / "t.nnm").named_steps["model"].classes_.tolist() == [
        "a", "b", "c", "d"
    ]  # fmt: skip
