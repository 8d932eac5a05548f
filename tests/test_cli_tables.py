"""The command on real, messy tables: missing cells, identifiers, dates, bad cells,
semicolons, unseen categories, extra columns, unscaled targets, pipes, ONNX, cv, tune.

The tables are generated here, penguins-like and cars-like. The commands run through
:func:`nnmath.cli.main` in-process (the code the command runs); the pipes and the
start-up run as real processes.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nnmath
from nnmath.cli import main

TIMEOUT = 300


def _penguins(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Chinstrap", "Gentoo"], n, p=[0.44, 0.2, 0.36])
    base = {
        "Adelie": (38.8, 18.3, 190, 3700),
        "Chinstrap": (48.8, 18.4, 196, 3733),
        "Gentoo": (47.5, 15.0, 217, 5076),
    }
    b = np.array([base[s] for s in species])
    days = rng.integers(0, 1000, n)
    return pd.DataFrame(
        {
            "id": [f"P{1000 + seed * 1000 + i}" for i in range(n)],
            "species": species,
            "island": np.where(
                species == "Gentoo", "Biscoe", rng.choice(["Dream", "Torgersen", "Biscoe"], n)
            ),
            "bill_length_mm": (b[:, 0] + rng.normal(0, 2.5, n)).round(1),
            "bill_depth_mm": (b[:, 1] + rng.normal(0, 1.0, n)).round(1),
            "flipper_length_mm": (b[:, 2] + rng.normal(0, 6, n)).round(0),
            "body_mass_g": (b[:, 3] + rng.normal(0, 350, n)).round(-1),
            "sex": rng.choice(["male", "female"], n),
            "date_egg": (pd.Timestamp("2007-11-01") + pd.to_timedelta(days, unit="D")).strftime(
                "%Y-%m-%d"
            ),
            "comments": "",
        }
    )


@pytest.fixture(scope="module")
def penguins(tmp_path_factory) -> Path:
    """penguins.csv (semicolons, missing cells, an ID and a date column, a comment over
    two lines, rows without a species) and new.csv (an island never seen, an extra
    column, missing cells)."""
    path = tmp_path_factory.mktemp("penguins")
    train = _penguins(300, 0)
    rng = np.random.default_rng(1)
    for column, count in (("bill_length_mm", 6), ("sex", 9), ("island", 4), ("date_egg", 3)):
        train.loc[rng.choice(np.arange(10, 300), count, replace=False), column] = np.nan
    train.loc[2, "comments"] = "nest flooded;\nresampled"  # a quoted line break
    train.loc[[5, 40], "species"] = np.nan
    train.to_csv(path / "penguins.csv", sep=";", index=False)
    new = _penguins(40, 1)
    new.loc[[0, 7], "island"] = "Atlantis"
    new.loc[3, "bill_length_mm"] = np.nan
    new.loc[4, "sex"] = np.nan
    new["note"] = "field"
    new.drop(columns="comments").to_csv(path / "new.csv", index=False)
    return path


@pytest.fixture(scope="module")
def trained(penguins):
    """The model trained on penguins.csv, and what the command said."""
    import os

    previous = os.getcwd()
    os.chdir(penguins)
    capture_out, capture_err = io.StringIO(), io.StringIO()
    try:
        from contextlib import redirect_stderr, redirect_stdout

        with redirect_stdout(capture_out), redirect_stderr(capture_err):
            status = main(
                ["train", "penguins.csv", "--target", "species", "--hidden", "16",
                 "--learning-rate", "0.01", "--epochs", "150", "--alpha", "0.001",
                 "--patience", "20", "--drop", "comments", "--out", "penguins.safetensors"]
            )  # fmt: skip
    finally:
        os.chdir(previous)
    return status, capture_out.getvalue(), capture_err.getvalue(), penguins / "penguins.safetensors"


def _run(argv, capsys, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _one_error(status, err, pattern):
    assert status == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("nnmath: error: "), err
    assert re.search(pattern, lines[0]), lines[0]


# ============================================================================ train
def test_a_messy_table_trains_with_every_decision_said(trained):
    status, out, err, model_path = trained
    assert status == 0, err
    assert "Data: penguins.csv (separated by ';'): 298 rows × 7 feature columns" in out
    assert "Task: classification of 'species', 3 classes: Adelie, Chinstrap, Gentoo" in out
    warnings = err.splitlines()
    # rows 5 and 40 lack a species: lines 8 and 43, counting the header and the comment's
    # second line
    assert "warning: 2 rows without a value of the target 'species' (lines 8, 43) left out" in (
        warnings
    )
    assert "warning: column 'id': a distinct value in every row: an identifier; dropped" in (
        warnings
    )
    assert (
        "warning: column 'date_egg': dates: read as a number (days) and the yearly cycle "
        "(sine, cosine)" in warnings
    )
    assert any(
        w.startswith("note: 22 missing cells filled with the training median or most frequent")
        for w in warnings
    )
    model = nnmath.load(model_path).named_steps["model"]
    params = model.get_params()
    assert (params["alpha"], params["n_iter_no_change"], params["learning_rate_init"]) == (
        0.001,
        20,
        0.01,
    )
    assert re.search(
        r"Training accuracy: (0\.9\d+|1\.0+); validation accuracy: (0\.9\d+|1\.0+)", out
    )


def test_info_shows_the_preprocessing(trained, capsys, monkeypatch):
    status, out, err = _run(["info", str(trained[3])], capsys, trained[3].parent, monkeypatch)
    assert status == 0, err
    pre = nnmath.load(trained[3]).named_steps["preprocess"]
    stats = pre.numeric_["bill_length_mm"]
    assert re.search(
        rf"bill_length_mm +number +missing → {pre.fill_['bill_length_mm']:.6g}; "
        rf"z = \(x − {stats['center']:.6g}\) / {stats['scale']:.6g}, z / √\(1 \+ \(z/3\)²\); "
        rf"training range {stats['min']:.6g} to {stats['max']:.6g}",
        out,
    ), out
    assert re.search(r"island +category +missing → 'Biscoe'; 3 categories: Biscoe, Dream", out)
    assert re.search(r"date_egg +date +missing → 2\d{3}-\d\d-\d\d; days since 1970-01-01", out)
    assert re.search(r"id +dropped +a distinct value in every row", out)
    assert re.search(r"comments +dropped +dropped \(--drop\)", out)


# ============================================================================ predict
def test_predict_fills_ignores_warns_and_copies_the_id(trained, capsys, monkeypatch):
    status, out, err = _run(
        ["predict", "penguins.safetensors", "new.csv", "--id", "id", "--proba"],
        capsys, trained[3].parent, monkeypatch,
    )  # fmt: skip
    assert status == 0, err
    # the one number of new.csv beyond the range of penguins.csv's rows with a species
    seen = pd.read_csv(trained[3].parent / "penguins.csv", sep=";").dropna(subset=["species"])
    new = pd.read_csv(trained[3].parent / "new.csv")
    low, high = seen["flipper_length_mm"].min(), seen["flipper_length_mm"].max()
    assert ((new["flipper_length_mm"] < low) | (new["flipper_length_mm"] > high)).sum() == 1
    beyond = (
        "warning: 1 value beyond the training range, where the model extrapolates (scaled with "
        f"a smooth clip): flipper_length_mm 1 row (training range {low:g} to {high:g})"
    )
    assert err.splitlines() == [
        "note: columns the model does not use, ignored: note",
        "note: 2 missing cells filled with the training median or most frequent value "
        "(bill_length_mm 1, sex 1)",
        "warning: 2 values never seen in training read as none of the known categories: "
        "island 'Atlantis' (2 rows)",
        beyond,
    ]
    printed = pd.read_csv(io.StringIO(out))
    assert list(printed.columns[:2]) == ["id", "prediction"]
    table = pd.read_csv(trained[3].parent / "new.csv")
    pipeline = nnmath.load(trained[3])
    np.testing.assert_array_equal(printed["id"], table["id"])
    np.testing.assert_array_equal(printed["prediction"], pipeline.predict(table))
    assert (printed["prediction"] == table["species"]).mean() > 0.85


def test_onnx_takes_the_raw_columns_and_matches_predict(trained, capsys, monkeypatch):
    ort = pytest.importorskip("onnxruntime")
    cwd = trained[3].parent
    status, out, err = _run(
        ["export-onnx", "penguins.safetensors", "penguins.onnx"], capsys, cwd, monkeypatch
    )
    assert status == 0, err
    assert "date_egg (double: seconds since 1970-01-01 UTC)" in out
    status, out, err = _run(
        ["predict", "penguins.safetensors", "new.csv", "--proba"], capsys, cwd, monkeypatch
    )
    predicted = pd.read_csv(io.StringIO(out))
    table = pd.read_csv(cwd / "new.csv")
    seconds = (pd.to_datetime(table["date_egg"]) - pd.Timestamp("1970-01-01")) / pd.Timedelta("1s")
    feeds = {
        "island": table["island"].fillna("").to_numpy(object),
        "sex": table["sex"].fillna("").to_numpy(object),
        "date_egg": seconds.to_numpy(np.float64),
    }
    for name in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"):
        feeds[name] = table[name].to_numpy(np.float64)
    session = ort.InferenceSession(str(cwd / "penguins.onnx"), providers=["CPUExecutionProvider"])
    label, proba = session.run(["label", "probabilities"], feeds)
    columns = ["proba_Adelie", "proba_Chinstrap", "proba_Gentoo"]
    np.testing.assert_allclose(proba, predicted[columns].to_numpy(), atol=1e-5)
    np.testing.assert_array_equal(label, predicted["prediction"])
    # the rows with an unseen island and with missing cells are among them
    assert table["island"].eq("Atlantis").sum() == 2
    assert table.isna().any(axis=1).sum() == 2


@pytest.mark.slow
def test_predictions_from_standard_input_to_standard_output(trained):
    cwd = trained[3].parent
    result = subprocess.run(
        [sys.executable, "-m", "nnmath", "predict", "penguins.safetensors", "-", "--quiet"],
        input=(cwd / "new.csv").read_bytes(),
        capture_output=True,
        cwd=cwd,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    printed = pd.read_csv(io.BytesIO(result.stdout))
    table = pd.read_csv(cwd / "new.csv")
    np.testing.assert_array_equal(printed["prediction"], nnmath.load(trained[3]).predict(table))
    warnings = result.stderr.decode().splitlines()
    assert warnings[0] == (
        "warning: 2 values never seen in training read as none of the known categories: "
        "island 'Atlantis' (2 rows)"
    )
    assert warnings[1].startswith("warning: 1 value beyond the training range")  # --quiet
    assert len(warnings) == 2


def test_evaluate_defaults_to_the_stored_target_and_prints_json(trained, capsys, monkeypatch):
    cwd = trained[3].parent
    status, out, err = _run(
        ["evaluate", "penguins.safetensors", "new.csv", "--json"], capsys, cwd, monkeypatch
    )
    assert status == 0, err
    result = json.loads(out)
    table = pd.read_csv(cwd / "new.csv")
    expected = (nnmath.load(trained[3]).predict(table) == table["species"]).mean()
    assert result["target"] == "species"
    assert result["rows"] == 40
    assert result["accuracy"] == pytest.approx(expected)
    assert result["confusion_matrix"]["labels"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert np.sum(result["confusion_matrix"]["counts"]) == 40


# ============================================================================ mistakes
@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (
            ["train", "penguins.csv", "--target", "specie"],
            r"penguins\.csv has no column 'specie'; did you mean 'species'\? Its columns are id, ",
        ),
        (
            ["train", "penguins.csv", "--target", "species", "--drop", "comment"],
            r"--drop comment: the data has no column 'comment'; did you mean 'comments'\?$",
        ),
        (
            ["predict", "penguins.safetensors", "new.csv", "--id", "ID"],
            r"--id ID: new\.csv has no column 'ID'; did you mean 'id'\?$",
        ),
        (
            ["train", "penguins.csv", "--target", "species", "--sep", ","],
            r"has no column 'species'; its columns are id;species;island;.*\(the file was read "
            r"as separated by ','; the header .* looks separated by ';': --sep ';' reads it so\)$",
        ),
        (
            ["train", "penguins.csv", "--target", "species", "--numeric", "sex", "--drop", "sex"],
            r"column 'sex' is given to both --drop and --numeric$",
        ),
        (
            ["train", "penguins.csv", "--target", "species", "--loss", "huber"],
            r"--loss huber is not for classification; use one of log_loss, mse$",
        ),
        (
            ["train", "penguins.csv", "--target", "species", "--dropout", "0.2,0.1"],
            r"--dropout has 2 rates but --hidden has 1 layers",
        ),
    ],
    ids=["target", "drop", "id", "wrong-sep", "two-kinds", "loss", "dropout"],
)
def test_mistakes_are_one_line_with_the_nearest_name(
    penguins, trained, capsys, monkeypatch, argv, pattern
):
    status, out, err = _run(argv, capsys, penguins, monkeypatch)
    _one_error(status, err, pattern)


def _cars(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    hp = rng.uniform(50, 230, n)
    weight = rng.uniform(1600, 5100, n)
    return pd.DataFrame(
        {
            "Name": [f"car {i}" for i in range(n)],
            "Horsepower": hp.round(),
            "Weight_in_lbs": weight.round().astype(int).astype(str),
            "Origin": rng.choice(["USA", "Europe", "Japan"], n),
            "Miles_per_Gallon": (55 - 0.08 * hp - 0.004 * weight + rng.normal(0, 2, n)).round(1),
        }
    )


def test_bad_cells_in_a_column_of_numbers_are_reported_by_line(tmp_path, capsys, monkeypatch):
    cars = _cars()
    cars.loc[5, "Weight_in_lbs"], cars.loc[146, "Weight_in_lbs"] = "forty", "3,825"
    cars.to_csv(tmp_path / "cars.csv", index=False)
    argv = ["train", "cars.csv", "--target", "Miles_per_Gallon", "--epochs", "20"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    _one_error(
        status,
        err,
        r"cars\.csv: column 'Weight_in_lbs' holds numbers, but 2 cells are not: line 7 'forty', "
        r"line 148 '3,825'\. To go on, fix or empty those cells; --numeric Weight_in_lbs reads "
        r"them as missing; --categorical Weight_in_lbs makes the column categories; --drop "
        r"Weight_in_lbs leaves it out$",
    )
    status, out, err = _run([*argv, "--numeric", "Weight_in_lbs"], capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert "warning: column 'Weight_in_lbs': 2 cells that are not numbers read as missing" in err
    cars.loc[5, "Weight_in_lbs"] = "4,010"
    cars.to_csv(tmp_path / "cars.csv", index=False)
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    _one_error(status, err, r"To go on, remove the thousands separators from 2 cells;")


def test_an_unscaled_target_trains_with_sgd_at_learning_rate_0_1(tmp_path, capsys, monkeypatch):
    # the cost started near 280 and diverged when the target was not standardized
    _cars().to_csv(tmp_path / "cars.csv", index=False)
    argv = ["train", "cars.csv", "--target", "Miles_per_Gallon", "--solver", "sgd"]
    argv += ["--learning-rate", "0.1", "--out", "cars.safetensors"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert "Task: regression of 'Miles_per_Gallon' (mean " in out
    assert "(half squared error of the standardized target, with the L2 term)" in out
    pipeline = nnmath.load(tmp_path / "cars.safetensors")
    table = pd.read_csv(tmp_path / "cars.csv")
    assert pipeline.score(table, table["Miles_per_Gallon"]) > 0.8  # in miles per gallon
    scaling = pipeline.named_steps["preprocess"].target_scaling_
    assert scaling["mean"] == pytest.approx(table["Miles_per_Gallon"].mean())
    status, out, err = _run(["info", "cars.safetensors"], capsys, tmp_path, monkeypatch)
    assert "target 'Miles_per_Gallon': standardized while training, (y − " in out
    assert "final training loss: " in out
    assert "(of the standardized target)" in out


def test_a_learning_rate_far_too_large_fails_unless_forced(tmp_path, capsys, monkeypatch):
    _cars().to_csv(tmp_path / "cars.csv", index=False)
    argv = ["train", "cars.csv", "--target", "Miles_per_Gallon", "--learning-rate", "1e6"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    _one_error(
        status,
        err.replace("warning: column 'Name': a distinct value in every row: an identifier; "
                    "dropped\n", ""),
        r"^nnmath: error: training failed: the training R² is -?[\d.e+]+, far worse than "
        r"predicting the mean; --learning-rate 1e\+06 is likely too large for this data; try "
        r"--learning-rate 100000\. Nothing was written \(--force writes the model anyway\)$",
    )  # fmt: skip
    assert not (tmp_path / "model.safetensors").exists()
    status, out, err = _run([*argv, "--force"], capsys, tmp_path, monkeypatch)
    assert status == 0
    assert (tmp_path / "model.safetensors").exists()
    assert "Writing the model (--force)" in err


def test_quiet_prints_only_warnings(tmp_path, capsys, monkeypatch):
    _cars().to_csv(tmp_path / "cars.csv", index=False)
    argv = ["train", "cars.csv", "--target", "Miles_per_Gallon", "--epochs", "5", "--quiet"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 0
    assert out == ""
    assert all(line.startswith("warning: ") for line in err.splitlines()), err


# ============================================================================ cv, tune
def test_cv_prints_each_metric_mean_and_std_over_the_folds(penguins, capsys, monkeypatch):
    argv = ["cv", "penguins.csv", "--target", "species", "--folds", "3", "--hidden", "8"]
    argv += ["--epochs", "60", "--learning-rate", "0.01", "--drop", "comments"]
    status, out, err = _run(argv, capsys, penguins, monkeypatch)
    assert status == 0, err
    assert out.splitlines()[:3] == [
        "Cross-validation: 3 folds of penguins.csv (298 rows), classification of 'species'",
        *out.splitlines()[1:3],
    ]
    assert re.findall(r"^fold \d/3: accuracy 0\.\d{4}, F1 \(macro\) 0\.\d{4}, log loss", out, re.M)
    summary = re.findall(
        r"^(accuracy|F1 \(macro\)|log loss): (\d\.\d{4}) ± (\d\.\d{4})$", out, re.M
    )
    assert [s[0] for s in summary] == ["accuracy", "F1 (macro)", "log loss"]
    assert float(summary[0][1]) > 0.8
    status, out, err = _run([*argv, "--json"], capsys, penguins, monkeypatch)
    result = json.loads(out)
    folds = result["metrics"]["accuracy"]["folds"]
    assert len(folds) == 3
    assert result["metrics"]["accuracy"]["mean"] == pytest.approx(np.mean(folds))
    assert result["metrics"]["accuracy"]["std"] == pytest.approx(np.std(folds))


def test_tune_with_a_tiny_budget_prints_a_leaderboard_and_writes_the_best(
    penguins, capsys, monkeypatch
):
    argv = ["tune", "penguins.csv", "--target", "species", "--budget", "0.05", "--epochs", "30"]
    argv += ["--drop", "comments", "--out", "tuned.safetensors", "--folds", "2"]
    status, out, err = _run(argv, capsys, penguins, monkeypatch)
    assert status == 0, err
    assert re.search(
        r"^Tuning on penguins\.csv \(298 rows\) within 3 s: .* candidates on", out, re.M
    )
    assert re.search(r"^tune: \d+/\d+ fits, \d+ s, \d+ s of the budget left$", out, re.M)
    assert re.search(
        r"^Search: \d+ fits in [\d.]+ s .*; final fit on every row: [\d.]+ s; in all [\d.]+ s "
        r"of a 3 s budget$",
        out,
        re.M,
    )
    board = out[out.index("rank") :].splitlines()
    assert board[0].split()[:3] == ["rank", "accuracy", "(±"]
    assert re.match(r"^ +1 +0\.\d{4} ± 0\.\d{4} +\d+ ", board[1])
    model = nnmath.load(penguins / "tuned.safetensors").named_steps["model"]
    assert re.search(r"^Wrote tuned\.safetensors: the best candidate \(hidden \d", out, re.M)
    assert model.get_params()["max_iter"] == 30


# ============================================================================ start-up
@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["train", "--help"]])
def test_help_and_version_import_neither_numpy_nor_scikit_learn(argv, tmp_path):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "nnmath", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "nnmath.cli" in imported
    assert "nnmath.startup" in imported
    heavy = sorted(
        m for m in imported if m.split(".")[0] in ("numpy", "sklearn", "scipy", "pandas")
    )
    assert heavy == []


def test_the_commands_training_defaults_are_the_estimators_and_scikit_learns():
    # written once (nnmath.core.registry); scikit-learn's own MLP is the independent check
    from sklearn.neural_network import MLPClassifier as SklearnMLP

    from nnmath.cli.parser import build_parser

    args = build_parser().parse_args(["train", "data.csv", "--target", "y"])
    sklearn_params = SklearnMLP().get_params()
    assert args.hidden == ",".join(str(n) for n in sklearn_params["hidden_layer_sizes"])
    assert args.activation == sklearn_params["activation"]
    assert args.solver == sklearn_params["solver"]
    assert args.alpha == sklearn_params["alpha"]
    assert args.epochs == sklearn_params["max_iter"]
    assert args.patience == sklearn_params["n_iter_no_change"]
    assert args.validation_fraction == sklearn_params["validation_fraction"]
    for estimator in (nnmath.MLPClassifier(), nnmath.MLPRegressor()):
        ours = estimator.get_params()
        for name in ("hidden_layer_sizes", "activation", "solver", "alpha", "max_iter"):
            assert ours[name] == sklearn_params[name], name
        assert ours["learning_rate_init"] == sklearn_params["learning_rate_init"]
