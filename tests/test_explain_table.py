"""explain in the user's terms: each input named by its table column beside its cell, and
the units judged over the table's rows, never over the one row explained."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nnmath
from conftest import fit_quietly
from nnmath import MLPRegressor, explain
from nnmath.preprocessing import TabularPreprocessor

TIMEOUT = 120


def _table(n: int, seed: int) -> pd.DataFrame:
    """A table with a number, a category and a date column, and a numeric target."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 90, n)
    colour = rng.choice(["red", "green", "blue"], n)
    days = rng.integers(0, 500, n)
    visit = (pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    y = 0.05 * age + (colour == "red") * 2.0 + rng.normal(0, 0.3, n)
    return pd.DataFrame({"age": age, "colour": colour, "visit": visit, "y": y})


# ---------------------------------------------------------------------------- the library
def test_describe_inputs_names_each_input_and_gives_its_cell():
    table = pd.DataFrame(
        {
            "age": [41.0, np.nan, 30.0, 52.0],
            "colour": ["red", "blue", None, "red"],
            "visit": ["2021-03-04", "2020-12-31", "2021-07-01", "2022-01-15"],
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    pre = TabularPreprocessor(target="y", scaling="standard").fit(table)
    names, columns, originals, formulas = pre.describe_inputs(table)
    assert names == [
        "age",
        "colour=blue",
        "colour=red",
        "visit",
        "visit:year_sin",
        "visit:year_cos",
    ]
    assert columns == ["age", "colour", "colour", "visit", "visit", "visit"]
    assert originals.shape == (4, 6)
    assert originals[0].tolist() == ["41", "red", "red", "2021-03-04", "2021-03-04", "2021-03-04"]
    # missing cells: filled with the median age (41) and the most frequent colour (red)
    assert originals[1, 0] == "missing → 41"
    assert originals[2, 1] == originals[2, 2] == "missing → red"
    assert originals[3, 3] == "2022-01-15"
    ages = np.array([41.0, 41.0, 30.0, 52.0])  # the missing age filled with the median
    assert formulas[0] == f"(age − {ages.mean():.6g}) / {ages.std():.6g}"
    assert formulas[1:3] == ["1 if colour = blue else 0", "1 if colour = red else 0"]
    assert formulas[3].endswith(" where t = days of visit since 1970-01-01")
    assert formulas[4:] == ["sin(2π·t / 365.2425)", "cos(2π·t / 365.2425)"]
    # one column per input of the network
    assert len(names) == pre.transform(table).shape[1]


def test_explain_shows_each_input_beside_its_cell_in_every_form():
    table = _table(60, seed=0)
    pre = TabularPreprocessor(target="y", scaling="standard").fit(table)
    X = pre.transform(table)
    model = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(6,), max_iter=5, random_state=0), X, table["y"].to_numpy()
    )
    row = 3
    trace = explain(model, X[row], table["y"][row], inputs=pre.describe_inputs(table.iloc[[row]]))
    age, colour, visit = table["age"][row], table["colour"][row], table["visit"][row]
    mean, std = table["age"].mean(), table["age"].std(ddof=0)
    scaled = (age - mean) / std  # x' = (x − μ) / s
    formula = f"(age − {mean:.6g}) / {std:.6g}"
    text = str(trace)
    assert f"age = {age} → x₁ = {formula} = {scaled:.6g}\n" in text
    for j, c in enumerate(["blue", "green", "red"], start=2):
        one = "1" if c == colour else "0"
        line = f"colour = {colour} → x{chr(0x2080 + j)} (colour={c}) = 1 if colour = {c} else 0"
        assert f"{line} = {one}\n" in text
    t = (pd.Timestamp(visit) - pd.Timestamp("1970-01-01")).days
    year_sin = np.sin(2 * np.pi * t / 365.2425)
    assert f"visit = {visit} → x₅ = (t − " in text
    assert "(where t = days of visit since 1970-01-01)" in text
    assert f"visit = {visit} → x₆ (visit:year_sin) = sin(2π·t / 365.2425) = {year_sin:.6g}" in text
    md = trace.to_markdown()
    assert (
        rf"- $\text{{age}} = \text{{{age}}}\ \rightarrow\ x_{{1}} = \text{{{formula}}} = "
        rf"{scaled:.6g}$"
    ) in md
    assert r"x_{4}\ (\text{colour=red})" in md
    document = json.loads(trace.render("json"))
    first = document["inputs"][0]
    assert (first["name"], first["column"], first["original"]) == ("age", "age", [str(age)])
    assert first["value"] == pytest.approx([scaled], rel=1e-12)
    assert [i["column"] for i in document["inputs"]] == ["age", *["colour"] * 3, *["visit"] * 3]
    assert first["formula"] == formula


def test_a_robustly_scaled_input_is_described_by_its_median_and_quartiles():
    table = pd.DataFrame({"age": [41.0, np.nan, 30.0, 52.0, 47.0], "y": [1.0, 2, 3, 4, 5]})
    pre = TabularPreprocessor(target="y", scaling="robust").fit(table)
    _, _, _, formulas = pre.describe_inputs(table)
    observed = np.array([41.0, 30.0, 52.0, 47.0])
    center = np.median(observed)
    iqr = np.percentile(observed, 75) - np.percentile(observed, 25)
    assert formulas == [f"z / √(1 + (z/3)²) where z = (age − {center:.6g}) / {iqr:.6g}"]
    z = (30.0 - center) / iqr
    assert pre.transform(table)[2, 0] == pytest.approx(z / np.sqrt(1 + (z / 3) ** 2), rel=1e-12)


def test_inputs_as_names_and_bad_inputs(rng):
    net = nnmath.Network([2, 1], random_state=0)
    trace = explain(net, [0.5, -1.0], 1.0, inputs=["height", "weight"])
    assert [i.text() for i in trace.inputs] == ["x₁ (height) = 0.5", "x₂ (weight) = -1"]
    with pytest.raises(ValueError, match="feature_names must name the 2 inputs of x; got 3"):
        explain(net, [0.5, -1.0], 1.0, inputs=["a", "b", "c"])
    with pytest.raises(TypeError, match="inputs must be a list of names"):
        explain(net, [0.5, -1.0], 1.0, inputs="ab")
    with pytest.raises(TypeError, match=r"sample must be a pair \(X, y\)"):
        explain(net, [0.5, -1.0], 1.0, sample=rng.normal(size=(40, 2)))
    with pytest.raises(ValueError, match="sample must hold one target per row"):
        explain(net, [0.5, -1.0], 1.0, sample=(rng.normal(size=(40, 2)), np.zeros(39)))


def test_estimator_fitted_on_a_dataframe_names_its_inputs():
    table = _table(40, seed=1)[["age", "y"]]
    model = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0),
        table[["age"]],
        table["y"],
    )
    trace = explain(model, table[["age"]].to_numpy()[0], table["y"][0])
    assert trace.inputs[0].text() == f"x₁ (age) = {table['age'][0]}"


# ---------------------------------------------------------------------------- the command
def _command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "nnmath", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A model trained by the command on 1,200 rows of data.csv (ReLU: some units die)."""
    path = tmp_path_factory.mktemp("explain_table")
    _table(1200, seed=1).to_csv(path / "data.csv", index=False)
    _table(20, seed=2).to_csv(path / "small.csv", index=False)
    _command(
        "train", "data.csv", "--target", "y", "--hidden", "64", "--activation", "relu",
        "--solver", "sgd", "--learning-rate", "0.3", "--epochs", "5", "--seed", "0",
        "--out", "m.safetensors", cwd=path,
    )  # fmt: skip
    return path


@pytest.mark.slow
def test_command_names_the_columns_of_the_row(trained):
    table = pd.read_csv(trained / "data.csv")
    out = _command("explain", "m.safetensors", "data.csv", "--row", "3", cwd=trained).stdout
    age, colour, visit = table["age"][3], table["colour"][3], table["visit"][3]
    assert f"age = {age} → x₁ = " in out
    assert f"colour = {colour} → x₄ (colour=red) = {'1' if colour == 'red' else '0'}" in out
    assert f"visit = {visit} → x₆ (visit:year_sin) = " in out
    assert "units judged over 1,000 rows sampled (seed 0) of the 1,200 rows of data.csv" in out
    md = _command(
        "explain", "m.safetensors", "data.csv", "--row", "3", "--format", "markdown", cwd=trained
    ).stdout
    assert rf"\text{{age}} = \text{{{age}}}" in md


@pytest.mark.slow
def test_command_counts_dead_units_over_the_sampled_rows_as_numpy_does(trained):
    result = _command(
        "explain", "m.safetensors", "data.csv", "--row", "3", "--format", "json", cwd=trained
    )
    document = json.loads(result.stdout)
    table = pd.read_csv(trained / "data.csv")
    pipeline = nnmath.load(trained / "m.safetensors")
    net = pipeline.named_steps["model"].network_
    rows = np.sort(np.random.default_rng(0).choice(1200, size=1000, replace=False))
    X = pipeline.named_steps["preprocess"].transform(table.iloc[rows])
    a = np.maximum(0.0, X @ net.W[0] + net.b[0])  # the hidden layer over the 1,000 rows
    dead = np.flatnonzero((a == 0).all(axis=0)).tolist()
    one_row = np.flatnonzero(a[np.searchsorted(rows, 3)] == 0) if 3 in rows else None
    hidden = document["summary"][0]
    assert hidden["dead_units"] == dead
    assert hidden["n_rows"] == 1000
    assert hidden["n_units"] == 64
    assert document["n_samples"] == 1
    if one_row is not None:  # what one row would have called dead: many more
        assert len(one_row) > len(dead)
    text = _command("explain", "m.safetensors", "data.csv", "--row", "3", cwd=trained).stdout
    if dead:
        assert f"dead ReLU units: {len(dead)} of 64 (0 for all 1,000 rows)" in text
    else:
        assert "dead ReLU" not in text


@pytest.mark.slow
def test_command_does_not_judge_units_over_too_few_rows(trained):
    out = _command("explain", "m.safetensors", "small.csv", "--row", "3", cwd=trained).stdout
    assert (
        "units not judged: small.csv has 20 rows, too few to say whether a unit is dead or "
        "saturated, or a gradient vanishing or exploding (at least 30 are needed)"
    ) in out
    assert "dead ReLU" not in out
    assert out.rstrip().endswith("not judged")
