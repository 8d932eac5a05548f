"""A column of numbers ≥ 0 with a long right tail is scaled on ln(1 + x).

Expected values are computed here with NumPy (the median, the quartiles, the smooth
clip written out), by hand, or with SciPy's skewness; the ONNX graph is run by
onnxruntime; the command's lines are read from its output.
"""

from __future__ import annotations

import json
import math
import re
import struct

import numpy as np
import pandas as pd
import pytest
import scipy.stats

import nnmath
from conftest import fit_quietly
from nnmath import MLPRegressor
from nnmath.cli import main
from nnmath.document import ModelFileError
from nnmath.preprocessing import TableStatistics, TabularPreprocessor
from nnmath.preprocessing.statistics import LOG_SKEWNESS, skewness


def _spend(n=400, seed=0):
    """Expenditures: a fifth of them 0, the others log-normal (skewness about 9)."""
    rng = np.random.default_rng(seed)
    x = rng.lognormal(3, 1.5, n)
    x[: n // 5] = 0.0
    return x


def _expected(x, train):
    """z / √(1 + (z/3)²), z = (ln(1 + max(x, 0)) − median) / IQR of ln(1 + train)."""
    u = np.log1p(train)
    q1, median, q3 = np.quantile(u, [0.25, 0.5, 0.75])
    z = (np.log1p(np.maximum(x, 0.0)) - median) / (q3 - q1)
    return z / np.sqrt(1 + (z / 3) ** 2)


def _pipeline(pre, model):
    from sklearn.pipeline import Pipeline

    return Pipeline([("preprocess", pre), ("model", model)])


# ============================================================================ skewness
def test_skewness_by_hand():
    # [0, 0, 0, 1]: mean 1/4, deviations −1/4 (three times) and 3/4; m₂ = 3/16,
    # m₃ = (3·(−1/64) + 27/64) / 4 = 3/32, g₁ = (3/32) / (3/16)^(3/2) = 2/√3
    assert skewness(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(2 / math.sqrt(3), rel=1e-14)
    # symmetric values: m₃ = 0
    assert skewness(np.array([1.0, 2.0, 3.0])) == 0.0
    # [0] * 9 + [4]: mean 0.4, m₂ = (9·0.16 + 3.6²) / 10 = 1.44, m₃ = (9·(−0.064) + 3.6³) / 10
    # = 4.608, g₁ = 4.608 / 1.44^(3/2) = 8/3
    assert skewness(np.array([0.0] * 9 + [4.0])) == pytest.approx(8 / 3, rel=1e-13)
    assert math.isnan(skewness(np.array([5.0, 5.0])))  # no spread: undefined


@pytest.mark.parametrize(
    "x",
    [
        np.random.default_rng(1).lognormal(0, 1, 200),
        np.random.default_rng(2).normal(size=200),
        -np.random.default_rng(3).exponential(size=200),
        np.random.default_rng(1).lognormal(0, 1, 200) * 1e300,  # cubes would overflow
    ],
)
def test_skewness_is_scipys(x):
    np.testing.assert_allclose(skewness(x), scipy.stats.skew(x / np.abs(x).max()), rtol=1e-12)


# ============================================================================ fitting
def test_a_long_tailed_column_is_scaled_on_its_logarithm():
    x = _spend()
    assert scipy.stats.skew(x) > LOG_SKEWNESS
    rng = np.random.default_rng(3)
    table = {"spend": x, "height": rng.normal(170, 10, len(x))}
    pre = TabularPreprocessor().fit(table)
    assert pre.numeric_["spend"]["log"] is True
    assert "log" not in pre.numeric_["height"]  # no long tail: scaled as it is
    assert (pre.numeric_["spend"]["min"], pre.numeric_["spend"]["max"]) == (0.0, x.max())
    new = np.array([0.0, 3.0, 14.0, 100.0, 1e6, -5.0])  # below 0 counts as 0
    got = pre.transform({"spend": new, "height": np.full(6, 170.0)})
    np.testing.assert_allclose(got[:, 0], _expected(new, x), rtol=1e-12)
    # the symmetric column: median and interquartile range of x itself
    h = table["height"]
    q1, median, q3 = np.quantile(h, [0.25, 0.5, 0.75])
    z = (170.0 - median) / (q3 - q1)
    np.testing.assert_allclose(got[:, 1], z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-12)
    # 0 and 14 lie farther apart on the logarithm than on x itself (14 / IQR)
    q1, q3 = np.quantile(x, [0.25, 0.75])
    assert got[2, 0] - got[0, 0] > 2 * (14 / (q3 - q1))


def test_a_long_tailed_column_matches_robust_scaler_on_its_logarithm_then_the_clip():
    from sklearn.preprocessing import RobustScaler

    x = _spend(seed=9)
    pre = TabularPreprocessor().fit({"x": x})
    scaler = RobustScaler(quantile_range=(25.0, 75.0)).fit(np.log1p(x)[:, None])
    z = scaler.transform(np.log1p(x)[:, None])[:, 0]
    got = pre.transform({"x": x})[:, 0]
    np.testing.assert_allclose(got, z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("with a negative", np.r_[-1.0, _spend()[1:]]),  # not all ≥ 0
        ("normal", np.random.default_rng(4).normal(50, 5, 400)),  # no long tail
        ("uniform", np.random.default_rng(5).uniform(0, 1e6, 400)),
        ("left tail", 1e3 - np.random.default_rng(6).lognormal(3, 1.5, 400)),  # skewness < 0
    ],
)
def test_other_columns_are_scaled_on_their_values(name, values):
    pre = TabularPreprocessor().fit({"x": values})
    assert "log" not in pre.numeric_["x"], name
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    assert (pre.numeric_["x"]["center"], pre.numeric_["x"]["scale"]) == pytest.approx(
        (median, q3 - q1), rel=1e-12
    )


def test_a_skewed_column_mostly_of_zeros_is_scaled_by_half_its_logarithms_range():
    # skewness 8/3 (above); u = ln(1 + x) is 0 nine times and ln 5: q₁ = q₃ = 0, so the
    # scale is half u's range, ln(5)/2, and x = 4 is z = ln 5 / (ln(5)/2) = 2
    pre = TabularPreprocessor().fit({"x": np.array([0.0] * 9 + [4.0])})
    assert pre.numeric_["x"] == {
        "center": 0.0,
        "scale": pytest.approx(math.log(5) / 2, rel=1e-15),
        "min": 0.0,
        "max": 4.0,
        "log": True,
    }
    X = pre.transform({"x": np.array([4.0])})
    assert X[0, 0] == pytest.approx(2 / math.sqrt(1 + 4 / 9), rel=1e-15)


def test_standard_scaling_takes_no_logarithm():
    pre = TabularPreprocessor(scaling="standard").fit({"x": _spend()})
    assert set(pre.numeric_["x"]) == {"mean", "scale"}


def test_a_column_read_in_batches_gets_the_same_scaling():
    x = _spend(1000)
    stats = TableStatistics()
    for start in range(0, 1000, 300):
        stats.update({"x": x[start : start + 300]})
    whole = TabularPreprocessor().fit({"x": x})
    assert whole.numeric_["x"]["log"] is True
    assert TabularPreprocessor.from_statistics(stats).numeric_ == whole.numeric_


# ============================================================================ model files
def test_the_logarithm_survives_a_model_document():
    x = _spend()
    pre = TabularPreprocessor().fit({"x": x})
    again = TabularPreprocessor.from_document(pre.to_document())
    assert again.numeric_["x"]["log"] is True
    np.testing.assert_array_equal(again.transform({"x": x}), pre.transform({"x": x}))


def test_a_document_without_log_scales_the_values_themselves():
    # a model file written before the logarithm existed: the same statistics, no "log"
    document = TabularPreprocessor().fit({"x": _spend()}).to_document()
    del document["numeric"]["x"]["log"]
    document["numeric"]["x"].update(center=20.0, scale=50.0)
    pre = TabularPreprocessor.from_document(document)
    z = (np.array([0.0, 20.0, 170.0]) - 20.0) / 50.0
    got = pre.transform({"x": np.array([0.0, 20.0, 170.0])})[:, 0]
    np.testing.assert_allclose(got, z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-15)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"log": 1}, "'log' 1 and 'min' 0.0: 'log' is true, for a column whose numbers are all"),
        ({"log": "yes"}, "'log' is true, for a column whose numbers are all ≥ 0"),
        ({"log": False}, "'log' is true, for a column whose numbers are all ≥ 0"),
        ({"log": None}, "'log' is true, for a column whose numbers are all ≥ 0"),
        ({"min": -1.0}, "'min' -1.0: 'log' is true, for a column whose numbers are all ≥ 0"),
        ({"center": 50.0}, r"ln\(1 \+ min\) ≤ center ≤ ln\(1 \+ max\)"),
        ({"center": math.inf}, r"needs a finite 'center', 'scale' > 0, 'min' and 'max'"),
    ],
)
def test_a_damaged_logarithm_is_refused(damage, message):
    document = TabularPreprocessor().fit({"x": _spend()}).to_document()
    document["numeric"]["x"] = {**document["numeric"]["x"], **damage}
    with pytest.raises(ModelFileError, match=message):
        TabularPreprocessor.from_document(document)


def test_a_model_file_with_a_bad_log_is_refused_by_load(tmp_path):
    # the file's document edited and its checksums written again (a file that passes
    # the integrity check): the preprocessing's own check refuses it
    from nnmath.io import container

    x = _spend()
    pre = TabularPreprocessor(target="y").fit(pd.DataFrame({"x": x, "y": x}))
    model = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0),
        pre.transform(pd.DataFrame({"x": x})),
        np.log1p(x),
    )
    path = tmp_path / "m.safetensors"
    nnmath.save(_pipeline(pre, model), path)
    assert nnmath.load(path).named_steps["preprocess"].numeric_["x"]["log"] is True
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header, buffer = json.loads(data[8 : 8 + n]), data[8 + n :]
    metadata = header["__metadata__"]
    document = json.loads(metadata["nnmath"])
    document["preprocessing"]["numeric"]["x"]["log"] = 1
    text = json.dumps(document)
    metadata.update(nnmath=text, nnmath_sha256_document=container.document_digest(text))
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + buffer)
    with pytest.raises(ModelFileError, match="'x' has 'log' 1 and 'min' 0.0: 'log' is true"):
        nnmath.load(path)


# ============================================================================ ONNX
def test_the_onnx_graph_takes_the_logarithm(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from nnmath import export_onnx

    rng = np.random.default_rng(7)
    table = pd.DataFrame({"spend": _spend(), "height": rng.normal(170, 10, 400)})
    pre = TabularPreprocessor().fit(table)
    assert "log" in pre.numeric_["spend"]
    assert "log" not in pre.numeric_["height"]
    X = pre.transform(table)
    model = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
        X,
        10 * X[:, 0] - X[:, 1],
    )
    pipeline = _pipeline(pre, model)
    path = export_onnx(pipeline, tmp_path / "log.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    new = {
        "spend": np.array([0.0, 0.5, 3.0, 14.0, 250.0, 1e6, -5.0]),
        "height": np.array([150.0, 160, 170, 180, 190, 1e4, -1e4]),
    }
    (got,) = session.run(None, new)
    expected = pipeline.predict(pd.DataFrame(new))
    np.testing.assert_allclose(got[:, 0], expected, rtol=1e-5, atol=1e-6)
    # and the preprocessing alone, independently: the network on the expected inputs
    h = table["height"].to_numpy()
    q1, median, q3 = np.quantile(h, [0.25, 0.5, 0.75])
    z = (new["height"] - median) / (q3 - q1)
    inputs = np.column_stack(
        [_expected(new["spend"], table["spend"].to_numpy()), z / np.sqrt(1 + (z / 3) ** 2)]
    )
    np.testing.assert_allclose(got[:, 0], model.predict(inputs), rtol=1e-5, atol=1e-6)


# ============================================================================ shown
def test_the_formula_names_the_logarithm():
    x = _spend()
    pre = TabularPreprocessor().fit({"spend": x})
    q1, median, q3 = np.quantile(np.log1p(x), [0.25, 0.5, 0.75])
    _, _, _, formulas = pre.describe_inputs({"spend": x[:1]})
    assert formulas == [
        f"z / √(1 + (z/3)²) where z = (ln(1 + spend) − {median:.6g}) / {q3 - q1:.6g}"
    ]


@pytest.fixture
def saved(tmp_path):
    """A command-style model (preprocessing + regressor) on a table with a long tail."""
    rng = np.random.default_rng(8)
    table = pd.DataFrame({"spend": _spend(), "height": rng.normal(170, 10, 400)})
    table["y"] = np.log1p(table["spend"]) + 0.01 * table["height"]
    pre = TabularPreprocessor(target="y").fit(table)
    model = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0),
        pre.transform(table),
        table["y"].to_numpy(),
    )
    path = tmp_path / "spend.safetensors"
    nnmath.save(_pipeline(pre, model), path)
    csv = tmp_path / "spend.csv"
    table.to_csv(csv, index=False)
    return path, csv, table


def test_info_and_explain_show_ln_1_plus_x(saved, capsys, monkeypatch):
    path, csv, table = saved
    monkeypatch.chdir(path.parent)
    x = table["spend"].to_numpy()
    q1, median, q3 = np.quantile(np.log1p(x), [0.25, 0.5, 0.75])
    z = f"(ln(1 + x) − {median:.6g}) / {q3 - q1:.6g}"
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert re.search(
        rf"spend +number +missing → {np.median(x):.6g}; z = {re.escape(z)}, "
        rf"z / √\(1 \+ \(z/3\)²\); "
        rf"training range 0 to {x.max():.6g}",
        out,
    ), out
    assert re.search(r"height +number +missing → [\d.]+; z = \(x − ", out), out
    row = 100  # a row past the zeros
    assert main(["explain", str(path), str(csv), "--row", str(row)]) == 0
    out = capsys.readouterr().out
    value = _expected(x[row : row + 1], x)[0]
    cell = table["spend"].astype(str)[row]
    zs = f"(ln(1 + spend) − {median:.6g}) / {q3 - q1:.6g}"
    line = f"spend = {cell} → x₁ = z / √(1 + (z/3)²) = {value:.6g}  (where z = {zs})"
    assert line in out, out
