"""The command's one flow from a table to a model: whatever the source (the table read
whole, the same file read in batches with --stream, the table of ``cv`` and ``tune``),
the same options give the same network.

The commands run through :func:`nnmath.cli.main` in-process; the model files are read
back as the files they are (safetensors: the tensors and the JSON document).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

import nnmath
from nnmath.cli import main
from nnmath.cli.learn import TableModel

pytest.importorskip("pyarrow")


def _table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    color = rng.choice(["red", "green", "blue"], n)
    score = x[:, 0] - x[:, 1] + (color == "red")
    table = pd.DataFrame({"x0": x[:, 0], "x1": x[:, 1], "color": color})
    table["label"] = np.where(score > 0.5, "yes", "no")
    table["value"] = 40 * score + 500
    table.loc[rng.choice(n, 6, replace=False), "x1"] = np.nan
    return table


def _file(path: Path) -> tuple[dict, dict]:
    """Return a model file's tensors and its JSON document, as written."""
    from safetensors import safe_open

    with safe_open(str(path), "np") as f:
        document = json.loads((f.metadata() or {})["nnmath"])
        return {k: f.get_tensor(k) for k in f.keys()}, document


def _train(tmp_path, monkeypatch, capsys, argv) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["train", *argv, "--quiet"]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("target", ["label", "value"])
def test_a_table_read_whole_and_in_batches_gives_the_same_model_file(
    target, tmp_path, monkeypatch, capsys
):
    other = "value" if target == "label" else "label"
    _table().to_csv(tmp_path / "t.csv", index=False)
    options = ["--target", target, "--drop", other, "--hidden", "6", "--epochs", "8"]
    options += ["--validation-fraction", "0"]  # the two sources hold out rows differently
    _train(tmp_path, monkeypatch, capsys, ["t.csv", *options, "--out", "whole.safetensors"])
    _train(tmp_path, monkeypatch, capsys, ["t.csv", "--stream", *options, "--out", "b.safetensors"])
    whole, whole_doc = _file(tmp_path / "whole.safetensors")
    batches, batches_doc = _file(tmp_path / "b.safetensors")
    assert whole.keys() == batches.keys()
    for name in whole:  # one batch of the file: fit_data's epoch is fit's, draw for draw
        np.testing.assert_array_equal(whole[name], batches[name], err_msg=name)
    for document in (whole_doc, batches_doc):  # the only figure that differs: the clock's
        document["training"].pop("fit_time_")
    assert whole_doc == batches_doc  # the progress callbacks are no part of either file


def test_cv_and_tune_fit_the_network_that_train_writes(tmp_path, monkeypatch, capsys):
    table = _table()
    table.to_csv(tmp_path / "t.csv", index=False)
    argv = ["t.csv", "--target", "value", "--drop", "label", "--hidden", "5", "--epochs", "12"]
    _train(tmp_path, monkeypatch, capsys, [*argv, "--out", "m.safetensors"])
    written = nnmath.load(tmp_path / "m.safetensors")
    model = TableModel(task="regression", target="value", drop=("label",), hidden=(5,), epochs=12)
    rows = table.drop(columns="value")
    model.fit(rows, table["value"].to_numpy())
    assert model.reached_epochs_  # as the command said: the loss had not settled in 12
    ours, theirs = model.pipeline_.named_steps["model"], written.named_steps["model"]
    pairs = zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True)
    for a, b in pairs:
        np.testing.assert_array_equal(a, b)  # the target's scaling folded in alike
    np.testing.assert_array_equal(model.predict(rows), written.predict(rows))


_AT_MOST = "use a fraction of at most 0.975, or 0 for no validation"  # 39 of 40 rows


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"task": "ranking"}, ValueError, "task must be 'classification' or 'regression'"),
        ({"hidden": 8}, ValueError, r"hidden must be a tuple of layer widths.*got 8"),
        ({"hidden": "8,4"}, ValueError, "hidden must be a tuple of layer widths.*got '8,4'"),
        ({"on_fit": "print"}, TypeError, "on_fit must be callable or None"),
        ({"seed": "x"}, ValueError, r"^seed must be an integer from 0 to 4294967295, or None"),
        ({"seed": -1}, ValueError, "^seed must be an integer"),
        ({"validation_fraction": 1.0}, ValueError, r"^validation_fraction must be in \[0, 1\)"),
        ({"validation_fraction": "0.1"}, ValueError, "^validation_fraction must be a number"),
        ({"loss": "squared_error"}, ValueError, "--loss squared_error is not for classification"),
        ({"task": "regression", "class_weight": "balanced"}, ValueError, "--class-weight weighs"),
        (
            {"task": "regression", "validation_fraction": 0.99},
            ValueError,
            "--validation-fraction 0.99: holding out 40 of 40 rows for validation leaves none "
            "to train on; a validation set must leave rows to train on: " + _AT_MOST,
        ),
        (
            {"validation_fraction": 0.99},
            ValueError,
            "--validation-fraction 0.99: 40 rows leave too few to split off 40 for validation; "
            "a validation set must leave rows to train on: " + _AT_MOST,
        ),
    ],
)
def test_a_table_model_refuses_options_no_flow_takes(options, error, message):
    table = _table(40)
    y = table["value"] if options.get("task") == "regression" else table["label"]
    with pytest.raises(error, match=message):
        TableModel(**options).fit(table.drop(columns=["label", "value"]), y)


@pytest.mark.parametrize("fraction", [0.975, 0.5])
def test_a_validation_fraction_that_leaves_a_row_trains(fraction):
    table = _table(40)
    model = TableModel(task="regression", hidden=(3,), epochs=3, validation_fraction=fraction)
    model.fit(table.drop(columns=["label", "value"]), table["value"])
    fitted = model.pipeline_.named_steps["model"]
    assert fitted.n_iter_ == 3
    assert len(fitted.validation_scores_) == 3


def test_a_table_model_not_fitted_says_so():
    with pytest.raises(NotFittedError, match="TableModel instance is not fitted yet"):
        TableModel().predict(_table(40))
