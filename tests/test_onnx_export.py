"""ONNX export: the file, run by onnxruntime, predicts what nnmath predicts.

Every comparison is in float32 with a maximum absolute difference of 1e-5 on the
probabilities / outputs, and exact equality of the labels.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import nnmath
from conftest import fit_quietly
from nnmath import MLPClassifier, MLPRegressor, Network, Perceptron, activations, export_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ATOL = 1e-5
HIDDEN_ACTIVATIONS = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    "leaky_relu",
    "silu",
    ["relu", "tanh"],
]


def _ids(value) -> str:
    return "-".join(value) if isinstance(value, list) else str(value)


def _run(model, X, tmp_path) -> dict[str, np.ndarray]:
    """Export ``model``, run the file with onnxruntime on X, return the named outputs."""
    path = export_onnx(model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, {"X": np.asarray(X, dtype=np.float32)})
    return dict(zip(names, values, strict=True))


@pytest.fixture
def X(rng) -> np.ndarray:
    return rng.normal(size=(120, 4)).astype(np.float32)


def _targets(X, kind: str, rng):
    """Labels of a given kind, learnable from X."""
    w = rng.normal(size=(X.shape[1], 3))
    scores = X @ w
    if kind == "binary":
        return (scores[:, 0] > 0).astype(int)
    if kind == "multiclass":
        return np.argmax(scores, axis=1) * 2 + 1  # classes 1, 3, 5: not the indices
    if kind == "multilabel":
        return (scores > 0).astype(int)
    if kind == "strings":
        return np.array(["cat", "dog", "emu"])[np.argmax(scores, axis=1)]
    if kind == "binary_strings":
        return np.where(scores[:, 0] > 0, "spam", "ham")
    raise AssertionError(kind)


# ============================================================================ estimators
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS, ids=_ids)
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_classifier_matches_predictions(activation, kind, X, rng, tmp_path):
    y = _targets(X, kind, rng)
    clf = fit_quietly(
        MLPClassifier((6, 5), activation=activation, max_iter=30, random_state=0), X, y
    )
    out = _run(clf, X, tmp_path)
    assert set(out) == {"label", "probabilities"}
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(out["label"], clf.predict(X))
    assert out["label"].dtype == np.int64
    assert out["label"].shape == clf.predict(X).shape


@pytest.mark.parametrize("kind", ["strings", "binary_strings"])
def test_classifier_string_labels(kind, X, rng, tmp_path):
    y = _targets(X, kind, rng)
    clf = fit_quietly(MLPClassifier((8,), activation="tanh", max_iter=50, random_state=1), X, y)
    out = _run(clf, X, tmp_path)
    assert out["label"].dtype == object  # onnxruntime's string tensors
    assert out["label"].tolist() == clf.predict(X).tolist()
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), rtol=0, atol=ATOL)


def test_classifier_float64_model_agrees_in_float32(X, rng, tmp_path):
    X64 = X.astype(np.float64)
    y = _targets(X, "multiclass", rng)
    clf = fit_quietly(MLPClassifier((8,), max_iter=50, random_state=2), X64, y)
    assert clf.network_.dtype == np.float64
    out = _run(clf, X64, tmp_path)
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X64), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(out["label"], clf.predict(X64))


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS, ids=_ids)
@pytest.mark.parametrize("target", ["single", "multi", "poisson"])
def test_regressor_matches_predictions(activation, target, X, rng, tmp_path):
    w = rng.normal(size=(X.shape[1], 2))
    if target == "single":
        y, loss = X @ w[:, 0], "squared_error"
    elif target == "multi":
        y, loss = X @ w, "squared_error"
    else:  # counts, exp output
        y, loss = rng.poisson(np.exp(0.3 * (X @ w[:, 0]))).astype(float), "poisson"
    reg = MLPRegressor(
        hidden_layer_sizes=(6, 5), activation=activation, loss=loss, max_iter=30, random_state=0
    )
    reg = fit_quietly(reg, X, y)
    out = _run(reg, X, tmp_path)
    assert set(out) == {"variable"}
    expected = reg.predict(X).reshape(len(X), -1)
    assert out["variable"].shape == expected.shape  # always (N, n_outputs)
    # the graph computes in float32: 7 significant digits of counts in the hundreds
    np.testing.assert_allclose(out["variable"], expected, rtol=1e-6, atol=ATOL)


def test_regressor_output_layer_is_exp_for_poisson(X, rng, tmp_path):
    y = rng.poisson(1.0, size=len(X)).astype(float)
    reg = MLPRegressor(hidden_layer_sizes=(4,), loss="poisson", max_iter=5, random_state=0)
    reg = fit_quietly(reg, X, y)
    ops = [node.op_type for node in onnx.load(export_onnx(reg, tmp_path / "m.onnx")).graph.node]
    assert "Exp" in ops


# ============================================================================ perceptron
@pytest.mark.parametrize("activation", ["sigmoid", "step"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "strings"])
def test_perceptron_matches_predictions(activation, kind, X, rng, tmp_path):
    y = _targets(X, kind, rng)
    clf = fit_quietly(Perceptron(activation=activation, max_iter=20, random_state=0), X, y)
    out = _run(clf, X, tmp_path)
    assert out["label"].tolist() == clf.predict(X).tolist()
    if activation == "sigmoid":
        assert set(out) == {"label", "probabilities"}
        np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), rtol=0, atol=ATOL)
    else:  # a step outputs no probability, as Perceptron has no predict_proba
        assert set(out) == {"label"}


def test_perceptron_integer_labels_keep_their_values(X, tmp_path):
    y = np.where(X[:, 0] > 0, 7, -3)
    clf = fit_quietly(Perceptron(activation="step", max_iter=10, random_state=0), X, y)
    out = _run(clf, X, tmp_path)
    assert out["label"].dtype == np.int64
    assert set(out["label"].tolist()) <= {7, -3}
    np.testing.assert_array_equal(out["label"], clf.predict(X))


# ============================================================================ network
@pytest.mark.parametrize(
    ("hidden", "output"),
    [
        ("sigmoid", "sigmoid"),
        ("tanh", "identity"),
        ("relu", "softmax"),
        (["leaky_relu", "exp"], "identity"),
        ([activations.LeakyReLU(0.3), "identity"], "tanh"),
        (["step", "relu"], "step"),
        ("identity", "exp"),
    ],
    ids=lambda v: (
        _ids([a if isinstance(a, str) else repr(a) for a in v]) if isinstance(v, list) else str(v)
    ),
)
def test_network_matches_forward(hidden, output, X, tmp_path):
    net = Network([4, 5, 3, 2], activation=hidden, output_activation=output, random_state=0)
    net.W[1] *= 0.5  # keep exp's values moderate
    out = _run(net, X, tmp_path)
    assert set(out) == {"y_hat"}
    expected = net.forward(X)
    np.testing.assert_allclose(out["y_hat"], expected, rtol=0, atol=ATOL)


def test_leaky_relu_slope_is_exported(tmp_path):
    net = Network([2, 3], activation=activations.LeakyReLU(0.25), random_state=0)
    model = onnx.load(export_onnx(net, tmp_path / "m.onnx"))
    (node,) = [n for n in model.graph.node if n.op_type == "LeakyRelu"]
    assert onnx.helper.get_attribute_value(node.attribute[0]) == pytest.approx(0.25)


def test_step_at_zero_is_one_as_in_nnmath(tmp_path):
    net = Network([1, 1], activation="step", random_state=0)
    net.W[0][...] = 1.0
    net.b[0][...] = 0.0
    X = np.array([[-1.0], [0.0], [2.0]], dtype=np.float32)
    out = _run(net, X, tmp_path)
    np.testing.assert_array_equal(out["y_hat"].ravel(), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(out["y_hat"], net.forward(X))


def test_float64_network_is_exported_as_float32(X, tmp_path):
    net = Network([4, 3, 2], activation="tanh", dtype=np.float64, random_state=0)
    model = onnx.load(export_onnx(net, tmp_path / "m.onnx"))
    assert {t.data_type for t in model.graph.initializer} == {onnx.TensorProto.FLOAT}
    out = _run(net, X, tmp_path)
    np.testing.assert_allclose(out["y_hat"], net.forward(X.astype(np.float64)), atol=ATOL)


# ============================================================================ the graph
def test_graph_layout(X, rng, tmp_path):
    y = _targets(X, "multiclass", rng)
    clf = fit_quietly(MLPClassifier((5, 4), activation="relu", max_iter=5, random_state=0), X, y)
    path = export_onnx(clf, tmp_path / "clf.onnx")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert max(o.version for o in model.opset_import if o.domain == "") >= 13
    (inp,) = model.graph.input
    assert inp.name == "X"
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    dims = inp.type.tensor_type.shape.dim
    # free batch, 4 features
    assert dims[0].dim_param
    assert dims[1].dim_value == 4
    outputs = {o.name: o.type.tensor_type.elem_type for o in model.graph.output}
    assert outputs == {"label": onnx.TensorProto.INT64, "probabilities": onnx.TensorProto.FLOAT}
    ops = [n.op_type for n in model.graph.node]
    # one per layer
    assert ops.count("MatMul") == 3
    assert ops.count("Add") == 3
    assert ops.count("Relu") == 2
    assert ops.count("Softmax") == 1
    assert "ArgMax" in ops
    assert "Gather" in ops
    assert model.producer_name == "nnmath"


def test_batch_size_is_free(X, rng, tmp_path):
    y = _targets(X, "binary", rng)
    clf = fit_quietly(MLPClassifier((4,), max_iter=5, random_state=0), X, y)
    for n in (1, 7, 120):
        out = _run(clf, X[:n], tmp_path)
        assert out["label"].shape == (n,)
        assert out["probabilities"].shape == (n, 2)


# ============================================================================ errors
@pytest.mark.parametrize(
    "model", [MLPClassifier(), MLPRegressor(), Perceptron()], ids=lambda m: type(m).__name__
)
def test_unfitted_model_raises_not_fitted(model, tmp_path):
    with pytest.raises(NotFittedError):
        export_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("model", ["a string", object(), [1, 2]], ids=["str", "object", "list"])
def test_unknown_model_type_raises_type_error(model, tmp_path):
    with pytest.raises(TypeError, match="supports nnmath.Network, Perceptron, MLPClassifier"):
        export_onnx(model, tmp_path / "m.onnx")


def test_unknown_activation_raises(tmp_path):
    class Cube(activations.Activation):
        name = "cube"

        def __call__(self, z, out=None):
            return z**3

    net = Network([2, 2], activation=Cube(), random_state=0)
    with pytest.raises(ValueError, match="'cube'.*no ONNX translation"):
        export_onnx(net, tmp_path / "m.onnx")


def test_bad_path_type_raises(tmp_path):
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        export_onnx(Network([2, 1], random_state=0), 42)


def test_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        export_onnx(Network([2, 1], random_state=0), tmp_path / "nope" / "m.onnx")


def test_without_onnx_the_error_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "nnmath\[onnx\]"'):
        export_onnx(Network([2, 1], random_state=0), tmp_path / "m.onnx")


def test_write_is_atomic(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"previous file")
    with pytest.raises(NotFittedError):
        export_onnx(MLPClassifier(), path)
    assert path.read_bytes() == b"previous file"  # a failed export leaves it untouched
    returned = export_onnx(Network([2, 1], random_state=0), str(path))
    assert returned == path
    onnx.checker.check_model(onnx.load(path))  # replaced by a valid model
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no temporary left


@pytest.mark.slow
def test_importing_nnmath_imports_neither_onnx_nor_matplotlib():
    code = (
        "import sys, nnmath; "
        "bad = [m for m in ('onnx', 'onnxruntime', 'matplotlib') if m in sys.modules]; "
        "assert not bad, bad; assert callable(nnmath.export_onnx)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_export_onnx_is_public():
    assert "export_onnx" in nnmath.__all__
    assert nnmath.export_onnx is export_onnx


# ============================================================================ with preprocessing
def _table_model(task: str, rng, scaling: str = "robust"):
    """A command model (preprocessing + network) on a table with numbers, categories, a
    date with times of day, and missing cells."""
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from nnmath.preprocessing import TabularPreprocessor

    n = 200
    table = pd.DataFrame(
        {
            "bill length (mm)": rng.normal(44, 5, n),
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n),
            "when": (
                pd.Timestamp("2008-01-01") + pd.to_timedelta(rng.uniform(0, 900, n), unit="D")
            ).strftime("%Y-%m-%d %H:%M"),
        }
    )
    table.loc[[3, 9], "bill length (mm)"] = np.nan
    table.loc[[4, 11], "island"] = np.nan
    table.loc[[5], "when"] = np.nan
    pre = TabularPreprocessor(scaling=scaling).fit(table)
    X = pre.transform(table)
    score = X[:, 0] + X[:, 1] - X[:, 3] + 0.5 * X[:, 4]
    if task == "classification":
        model = fit_quietly(MLPClassifier((8,), max_iter=200, random_state=0), X, score > 0)
    else:
        model = fit_quietly(
            MLPRegressor(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
            X,
            1000 + 50 * score,
        )
    new = table.head(30).copy()
    new.loc[0, "island"], new.loc[1, "bill length (mm)"] = "Atlantis", np.nan
    new.loc[2, "when"] = np.nan
    new.loc[6, "bill length (mm)"], new.loc[7, "bill length (mm)"] = 1e6, -3e4  # far out
    return Pipeline([("preprocess", pre), ("model", model)]), new


def _columns(table) -> dict[str, np.ndarray]:
    """The table as the graph's inputs: numbers as float64 (NaN missing), text ("" when
    missing), dates as seconds since 1970-01-01."""
    import pandas as pd

    seconds = (pd.to_datetime(table["when"]) - pd.Timestamp("1970-01-01")) / pd.Timedelta("1s")
    return {
        "bill length (mm)": table["bill length (mm)"].to_numpy(np.float64),
        "island": table["island"].fillna("").to_numpy(object),
        "when": seconds.to_numpy(np.float64),
    }


@pytest.mark.parametrize("scaling", ["robust", "standard"])
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_command_model_takes_the_raw_columns(task, scaling, rng, tmp_path):
    pipeline, table = _table_model(task, rng, scaling)
    path = export_onnx(pipeline, tmp_path / "table.onnx")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = {i.name: i.type for i in session.get_inputs()}
    assert inputs == {
        "bill length (mm)": "tensor(double)",
        "island": "tensor(string)",
        "when": "tensor(double)",
    }
    outputs = dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, _columns(table)),
            strict=True,
        )
    )
    if task == "classification":
        np.testing.assert_allclose(
            outputs["probabilities"], pipeline.predict_proba(table), atol=ATOL
        )
        np.testing.assert_array_equal(outputs["label"], pipeline.predict(table))
    else:
        expected = pipeline.predict(table)
        np.testing.assert_allclose(outputs["variable"][:, 0], expected, rtol=1e-5)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["inputs"] == (
        '{"bill length (mm)": "numeric", "island": "category", "when": "date"}'
    )


def test_a_column_named_like_an_output_is_refused(rng, tmp_path):
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from nnmath.preprocessing import TabularPreprocessor

    table = pd.DataFrame({"label": rng.normal(size=20), "x": rng.normal(size=20)})
    pre = TabularPreprocessor().fit(table)
    model = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(2,), max_iter=5), pre.transform(table), table["x"]
    )
    with pytest.raises(ValueError, match="column 'label' has the name of an output"):
        export_onnx(Pipeline([("preprocess", pre), ("model", model)]), tmp_path / "m.onnx")
