"""Model files: round trips, the stored document, hostile files, atomic saving."""

from __future__ import annotations

import contextlib
import io as stdlib_io
import json
import os
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest
import safetensors.numpy
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import nnmath
from nnmath import activations
from nnmath import document as nndoc
from nnmath.io import container

RNG = np.random.default_rng(0)
X4 = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])


# ============================================================================ helpers
def _split(data: bytes) -> tuple[dict, bytes]:
    """(header dict, tensor buffer) of a safetensors file's bytes."""
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header, buffer: bytes = b"") -> bytes:
    """A safetensors container from a header (dict, or raw bytes) and a buffer."""
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + buffer


def _document(header: dict) -> dict:
    return json.loads(header["__metadata__"]["nnmath"])


def _with_document(header: dict, doc: dict) -> dict:
    header = dict(header)
    header["__metadata__"] = {"nnmath": json.dumps(doc)}
    return header


def _fitted_perceptron(activation="sigmoid", y=(0, 0, 0, 1), X=X4, **kw):
    kw.setdefault("tol", None)  # a fixed number of steps: no ConvergenceWarning
    kw.setdefault("max_iter", 30)
    y = y if isinstance(y, np.ndarray) else list(y)
    return nnmath.Perceptron(activation=activation, random_state=0, **kw).fit(X, y)


@pytest.fixture
def perceptron_bytes(tmp_path) -> bytes:
    path = tmp_path / "p.safetensors"
    nnmath.save(_fitted_perceptron(max_iter=3), path)  # a short loss curve: a small file
    return path.read_bytes()


@pytest.fixture
def network_bytes(tmp_path) -> bytes:
    path = tmp_path / "n.safetensors"
    nnmath.save(nnmath.Network([2, 3, 1], activation="tanh", random_state=0), path)
    return path.read_bytes()


# ============================================================================ round trips
NETWORKS = [
    dict(layer_sizes=[3, 4, 1], activation="sigmoid", loss="mse"),
    dict(layer_sizes=[3, 5, 2], activation="tanh", output_activation="identity",
         loss=nnmath.losses.Huber(delta=2.5)),
    dict(layer_sizes=[3, 6, 4, 3], activation="relu", output_activation="softmax",
         loss="cross_entropy", dropout=[0.1, 0.3]),
    dict(layer_sizes=[3, 4, 2], activation=activations.LeakyReLU(negative_slope=0.2),
         output_activation="sigmoid", loss="binary_cross_entropy"),
    dict(layer_sizes=[3, 4, 4, 1], activation=["relu", "tanh"], output_activation="exp",
         loss="poisson"),
    dict(layer_sizes=[3, 2], activation="identity", loss="mae"),
    dict(layer_sizes=[3, 2], activation="step", loss="squared_error"),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("config", NETWORKS, ids=lambda c: str(c["activation"]))
def test_network_round_trip_is_bit_identical(tmp_path, config, dtype):
    net = nnmath.Network(**config, dtype=dtype, random_state=1)
    net.b[0][...] = RNG.normal(size=net.b[0].shape)  # nonzero biases too
    path = tmp_path / "net.safetensors"
    nnmath.save(net, path)
    loaded = nnmath.load(path)
    assert type(loaded) is nnmath.Network
    X = RNG.normal(size=(20, 3))
    assert loaded.dtype == net.dtype and loaded.theta.dtype == dtype
    assert np.array_equal(loaded.theta, net.theta)
    out, expected = loaded.forward(X), net.forward(X)
    assert out.dtype == expected.dtype == dtype
    assert np.array_equal(out, expected)
    assert loaded.activations == net.activations
    assert loaded.loss == net.loss
    assert loaded.dropout == net.dropout
    assert repr(loaded) == repr(net)


@pytest.mark.parametrize(
    "y",
    [
        [0, 0, 0, 1],
        ["no", "no", "no", "yes"],
        [False, False, False, True],
        [-1.0, -1.0, -1.0, 2.0],
        [3, 1, 2, 1],
        ["cat", "dog", "emu", "dog"],
        np.array(["b", "a", "a", "c"], dtype=object),
        np.array([0, 7, 7, 0], dtype=np.uint8),
    ],
    ids=["int", "str", "bool", "float", "int-multiclass", "str-multiclass", "object", "uint8"],
)
@pytest.mark.parametrize("activation", ["sigmoid", "step"])
def test_perceptron_round_trip_is_bit_identical(tmp_path, activation, y):
    clf = _fitted_perceptron(activation, y)
    path = tmp_path / "clf.safetensors"
    nnmath.save(clf, path)
    loaded = nnmath.load(path)
    assert type(loaded) is nnmath.Perceptron
    X = RNG.normal(size=(30, 2))
    assert loaded.classes_.dtype == clf.classes_.dtype
    assert np.array_equal(loaded.classes_, clf.classes_)
    assert [type(c) for c in loaded.classes_.tolist()] == [type(c) for c in clf.classes_.tolist()]
    pred = loaded.predict(X)
    assert pred.dtype == clf.predict(X).dtype and np.array_equal(pred, clf.predict(X))
    assert np.array_equal(loaded.decision_function(X), clf.decision_function(X))
    if activation == "sigmoid":
        assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.get_params() == clf.get_params()
    assert loaded.n_features_in_ == clf.n_features_in_ == 2
    assert loaded.n_iter_ == clf.n_iter_
    assert loaded.loss_curve_ == clf.loss_curve_
    assert loaded.stop_reason_ == clf.stop_reason_
    assert np.array_equal(loaded.coef_, clf.coef_)


def test_float32_perceptron_stays_float32(tmp_path):
    X = X4.astype(np.float32)
    clf = _fitted_perceptron(X=X)
    nnmath.save(clf, tmp_path / "f32.safetensors")
    loaded = nnmath.load(tmp_path / "f32.safetensors")
    assert loaded.network_.dtype == np.float32
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.predict_proba(X).dtype == np.float32


def test_perceptron_feature_names_round_trip(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X4, columns=["left", "right"])
    clf = _fitted_perceptron(X=df)
    nnmath.save(clf, tmp_path / "df.safetensors")
    loaded = nnmath.load(tmp_path / "df.safetensors")
    assert list(loaded.feature_names_in_) == ["left", "right"]
    assert loaded.feature_names_in_.dtype == object
    assert np.array_equal(loaded.predict(df), clf.predict(df))  # no feature-name warning
    with pytest.raises(ValueError, match="feature names"):
        loaded.predict(df.rename(columns={"left": "up"}))


def test_loaded_perceptron_can_be_refitted(tmp_path):
    clf = _fitted_perceptron("step", max_iter=100, tol=1e-6)
    nnmath.save(clf, tmp_path / "p.safetensors")
    loaded = nnmath.load(tmp_path / "p.safetensors").fit(X4, [0, 1, 1, 1])
    assert loaded.predict(X4).tolist() == [0, 1, 1, 1]


def test_save_replaces_an_existing_file_keeping_its_permissions(tmp_path):
    path = tmp_path / "m.safetensors"
    nnmath.save(nnmath.Network([2, 1], random_state=0), path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would create it
    path.chmod(0o600)
    nnmath.save(nnmath.Network([5, 3], random_state=0), str(path))  # str paths too
    assert nnmath.load(path).layer_sizes == [5, 3]
    assert path.stat().st_mode & 0o777 == 0o600


# ============================================================================ the file's contents
def test_file_is_plain_safetensors_with_math_names(tmp_path):
    clf = _fitted_perceptron(y=[1, 2, 3, 1])
    path = tmp_path / "p.safetensors"
    nnmath.save(clf, path)
    tensors = safetensors.numpy.load_file(str(path))  # any safetensors reader can read it
    assert sorted(tensors) == ["W1", "b1"]
    assert np.array_equal(tensors["W1"], clf.network_.W[0])  # shape (n_in, n_out)
    assert np.array_equal(tensors["b1"], clf.network_.b[0])
    net = nnmath.Network([4, 3, 2], random_state=0)
    nnmath.save(net, path)
    assert {k: v.shape for k, v in safetensors.numpy.load_file(str(path)).items()} == {
        "W1": (4, 3),
        "b1": (3,),
        "W2": (3, 2),
        "b2": (2,),
    }


def test_perceptron_document(tmp_path):
    clf = _fitted_perceptron("sigmoid", ["no", "no", "no", "yes"], learning_rate=0.5)
    path = tmp_path / "p.safetensors"
    nnmath.save(clf, path)
    header, _ = _split(path.read_bytes())
    assert set(header) == {"__metadata__", "W1", "b1"}
    assert list(header["__metadata__"]) == ["nnmath"]
    doc = _document(header)
    assert doc == nnmath.io.read_metadata(path)
    assert doc == {
        "format_version": 1,
        "nnmath_version": nnmath.__version__,
        "class": "Perceptron",
        "hyperparameters": {
            "activation": "sigmoid",
            "learning_rate": 0.5,
            "max_iter": 30,
            "n_iter_no_change": 10,
            "random_state": 0,
            "tol": None,
        },
        "n_features_in_": 2,
        "classes_": {"dtype": "<U3", "values": ["no", "yes"]},
        "training": {
            "n_iter_": 30,
            "loss_curve_": clf.loss_curve_,
            "stop_reason_": clf.stop_reason_,
        },
        "layer_sizes": [2, 1],
        "activations": [{"name": "sigmoid"}],
        "loss": {"name": "mse"},
        "dtype": "float64",
        "dropout": [],
    }


def test_network_document_names_activation_parameters(tmp_path):
    net = nnmath.Network(
        [2, 3, 1],
        activation=activations.LeakyReLU(0.3),
        output_activation="identity",
        loss=nnmath.losses.Huber(0.5),
        dtype=np.float32,
        dropout=0.25,
        random_state=0,
    )
    nnmath.save(net, tmp_path / "n.safetensors")
    doc = nnmath.io.read_metadata(tmp_path / "n.safetensors")
    assert doc["class"] == "Network" and doc["hyperparameters"] == {}
    assert doc["activations"] == [
        {"name": "leaky_relu", "negative_slope": 0.3},
        {"name": "identity"},
    ]
    assert doc["loss"] == {"name": "huber", "delta": 0.5}
    assert doc["dtype"] == "float32" and doc["dropout"] == [0.25]
    header, _ = _split((tmp_path / "n.safetensors").read_bytes())
    assert {header[k]["dtype"] for k in ("W1", "b1", "W2", "b2")} == {"F32"}


def test_non_json_hyperparameters_are_saved_as_null_with_a_note(tmp_path):
    clf = _fitted_perceptron()
    clf.random_state = np.random.default_rng(7)  # a Generator is not JSON
    nnmath.save(clf, tmp_path / "p.safetensors")
    doc = nnmath.io.read_metadata(tmp_path / "p.safetensors")
    assert doc["hyperparameters"]["random_state"] is None
    assert "Generator is not JSON-serialisable" in doc["hyperparameters_not_saved"]["random_state"]
    assert nnmath.load(tmp_path / "p.safetensors").random_state is None

    saved = nndoc.hyperparameters_to_document({"f": print, "sizes": (3, 2), "a": np.float32(0.5)})
    assert saved["hyperparameters"] == {"f": None, "sizes": [3, 2], "a": 0.5}
    assert "builtin_function_or_method" in saved["hyperparameters_not_saved"]["f"]
    assert "pickle" in saved["hyperparameters_not_saved"]["f"]


# ============================================================================ saving errors
def test_save_rejects_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="nnmath.save supports .*Network, Perceptron"):
        nnmath.save(object(), tmp_path / "x")
    with pytest.raises(NotFittedError):
        nnmath.save(nnmath.Perceptron(), tmp_path / "x")

    class Custom(activations.Activation):
        name = "custom"

        def __call__(self, z, out=None):
            return z

    net = nnmath.Network([2, 1], activation=Custom(), random_state=0)
    with pytest.raises(ValueError, match="custom activation .* built-in activations, by name"):
        nnmath.save(net, tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_paths_that_are_directories_or_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        nnmath.load(tmp_path / "missing.safetensors")
    with pytest.raises(IsADirectoryError, match="is a directory, not a model file"):
        nnmath.load(tmp_path)
    net = nnmath.Network([2, 1], random_state=0)
    with pytest.raises(IsADirectoryError, match="is a directory; give a file path"):
        nnmath.save(net, tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        nnmath.save(net, tmp_path / "no" / "such" / "dir.safetensors")


# ============================================================================ atomic save
def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    nnmath.save(nnmath.Network([2, 1], random_state=0), path)
    before = path.read_bytes()

    def write_half_then_fail(f, data):
        f.write(data[: len(data) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(container, "_write_payload", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        nnmath.save(nnmath.Network([7, 7, 7], random_state=0), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]

    with pytest.raises(OSError, match="disk full"):  # no file before: none after
        nnmath.save(nnmath.Network([2, 1], random_state=0), tmp_path / "new.safetensors")
    assert os.listdir(tmp_path) == ["model.safetensors"]


def test_failed_rename_leaves_no_temporary(tmp_path, monkeypatch):
    def fail(src, dst):
        raise PermissionError("read-only")

    monkeypatch.setattr(container.os, "replace", fail)
    with pytest.raises(PermissionError):
        nnmath.save(nnmath.Network([2, 1], random_state=0), tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_flushes_to_disk_before_renaming(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(container.os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(
        container.os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))
    )
    nnmath.save(nnmath.Network([2, 1], random_state=0), tmp_path / "m.safetensors")
    assert calls[:2] == ["fsync", "replace"]


# ============================================================================ hostile files
def _zip_bytes() -> bytes:
    buffer = stdlib_io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("model.pkl", b"weights")
    return buffer.getvalue()


CONTAINERS = {
    "empty": (b"", "the file is empty"),
    "short": (b"abc", "3 bytes, too short"),
    "text": (b"this is a CSV file, not a model\n1,2,3\n", "claims .* bytes .* text file"),
    "pickle": (pickle.dumps({"W1": [1.0, 2.0]}), "Python pickle; nnmath never unpickles"),
    "zip": (_zip_bytes(), "zip archive"),
    "npy": (b"\x93NUMPY\x01\x00" + b"\x00" * 100, "NumPy .npy"),
    "huge header": (struct.pack("<Q", 2**40) + b"{}", "claims 1099511627776 bytes .* 100 MB"),
    "header past end": (
        struct.pack("<Q", 50) + b"{}",
        r"claims 50 bytes .* only 2 after it \(trunc",
    ),
    "garbled JSON": (_join(b'{"W1": {"dtype": '), "header is not valid JSON"),
    "not UTF-8": (_join(b'{"\xff\xfe": 1}'), "header is not UTF-8"),
    "array header": (_join([1, 2]), "header must be a JSON object; got list"),
    "deep nesting": (_join(b"[" * 100_000 + b"]" * 100_000), "nested too deeply"),
    "no metadata": (_join({}), "no __metadata__"),
    "foreign safetensors": (
        safetensors.numpy.save({"x": np.zeros(2)}, metadata={"format": "pt"}),
        r"no 'nnmath' entry, .*\['format'\]",
    ),
    "metadata not strings": (_join({"__metadata__": {"nnmath": 1}}), "object of strings"),
    "nnmath not JSON": (_join({"__metadata__": {"nnmath": "{oops"}}), "'nnmath' metadata is not"),
    "nnmath a list": (_join({"__metadata__": {"nnmath": "[]"}}), "must be a JSON object; got list"),
}


@pytest.mark.parametrize("name", list(CONTAINERS))
def test_not_a_model_file(tmp_path, name):
    data, message = CONTAINERS[name]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(data)
    with pytest.raises(nnmath.ModelFileError, match=message) as info:
        nnmath.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_pickle_is_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "model.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(nnmath.ModelFileError, match="pickle"):
        nnmath.load(path)
    assert not marker.exists()


def _set(doc, key, value):
    doc = dict(doc)
    if value is _DELETE:
        del doc[key]
    else:
        doc[key] = value
    return doc


_DELETE = object()

DOCUMENT_EDITS = {
    "newer version": (
        lambda d: _set(d, "format_version", 2),
        r"format version 2 .* reads versions up to 1\. Upgrade nnmath",
    ),
    "no version": (lambda d: _set(d, "format_version", _DELETE), "'format_version' must be"),
    "string version": (lambda d: _set(d, "format_version", "1"), "'format_version' must be"),
    "unknown class": (lambda d: _set(d, "class", "os.system"), "unknown model class 'os.system'"),
    "no class": (lambda d: _set(d, "class", _DELETE), "unknown model class None"),
    "class a list": (lambda d: _set(d, "class", ["Network"]), r"unknown model class \['Network'\]"),
    "layer_sizes text": (lambda d: _set(d, "layer_sizes", "2,1"), "'layer_sizes' must be a list"),
    "layer_sizes floats": (lambda d: _set(d, "layer_sizes", [2.0, 1]), "'layer_sizes' must be"),
    "no layer_sizes": (lambda d: _set(d, "layer_sizes", _DELETE), "no 'layer_sizes'"),
    "zero layer": (lambda d: _set(d, "layer_sizes", [2, 0]), "all ≥ 1"),
    "bad dtype": (lambda d: _set(d, "dtype", "float16"), "'dtype' must be 'float32' or"),
    "unknown activation": (
        lambda d: _set(d, "activations", [{"name": "gelu"}]),
        "unknown activation 'gelu'",
    ),
    "activation as text": (lambda d: _set(d, "activations", ["sigmoid"]), "with a 'name'"),
    "bad slope": (
        lambda d: _set(d, "activations", [{"name": "leaky_relu", "negative_slope": 5}]),
        "negative_slope must be in",
    ),
    "unknown activation parameter": (
        lambda d: _set(d, "activations", [{"name": "sigmoid", "steep": 2}]),
        "invalid activation",
    ),
    "too many activations": (
        lambda d: _set(d, "activations", [{"name": "sigmoid"}] * 2),
        "'activations' has 2 entries",
    ),
    "unknown loss": (lambda d: _set(d, "loss", {"name": "hinge"}), "unknown loss 'hinge'"),
    "bad dropout": (lambda d: _set(d, "dropout", [0.5]), "'dropout' has 1 entries"),
    "giant number": (
        lambda d: _set(d, "loss", {"name": "huber", "delta": 10**400}),
        "invalid loss .* too large",
    ),
    "unknown hyperparameter": (
        lambda d: _set(d, "hyperparameters", {"eval": "print(1)"}),
        r"hyperparameters \['eval'\] are not parameters of Perceptron",
    ),
    "hyperparameters a list": (lambda d: _set(d, "hyperparameters", []), "must be an object"),
    "activation disagrees": (
        lambda d: _set(d, "hyperparameters", {**d["hyperparameters"], "activation": "step"}),
        "activation='step' has a step neuron",
    ),
    "n_features mismatch": (lambda d: _set(d, "n_features_in_", 3), "'n_features_in_' is 3"),
    "no classes": (lambda d: _set(d, "classes_", _DELETE), "no 'classes_'"),
    "three classes one output": (
        lambda d: _set(d, "classes_", {"dtype": "<i8", "values": [0, 1, 2]}),
        r"3 classes need 3 output\(s\)",
    ),
    "one class": (
        lambda d: _set(d, "classes_", {"dtype": "<i8", "values": [0]}),
        "at least two classes",
    ),
    "class dtype void": (
        lambda d: _set(d, "classes_", {"dtype": "V8", "values": [0, 1]}),
        "unsupported dtype 'V8'",
    ),
    "class values of the wrong type": (
        lambda d: _set(d, "classes_", {"dtype": "<i8", "values": ["a", "b"]}),
        "do not fit dtype",
    ),
    "class strings too long": (
        lambda d: _set(d, "classes_", {"dtype": "<U1", "values": ["a", "bc"]}),
        "do not fit dtype",
    ),
    "class int overflow": (
        lambda d: _set(d, "classes_", {"dtype": "|i1", "values": [0, 300]}),
        "do not fit dtype",
    ),
    "classes a list": (lambda d: _set(d, "classes_", [0, 1]), "'classes_' must be"),
    "classes gigabytes wide": (
        lambda d: _set(d, "classes_", {"dtype": "<U999999", "values": [""] * 1000}),
        "would take 3999996000 bytes",
    ),
    "dtype a list": (lambda d: _set(d, "dtype", ["float64"]), "'dtype' must be"),
    "feature names count": (
        lambda d: _set(d, "feature_names_in_", ["a"]),
        "1 names for 2 features",
    ),
    "training wrong type": (
        lambda d: _set(d, "training", {"loss_curve_": "low"}),
        "training entry 'loss_curve_' has the wrong type",
    ),
    "training unknown attribute": (
        lambda d: _set(d, "training", {"__class__": 1}),
        "unknown entry '__class__'",
    ),
}


@pytest.mark.parametrize("name", list(DOCUMENT_EDITS))
def test_invalid_model_document(tmp_path, perceptron_bytes, name):
    edit, message = DOCUMENT_EDITS[name]
    header, buffer = _split(perceptron_bytes)
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_join(_with_document(header, edit(_document(header))), buffer))
    with pytest.raises(nnmath.ModelFileError, match=message) as info:
        nnmath.load(path)
    assert str(path) in str(info.value)


def _tensor(header, name, **changes):
    header = json.loads(json.dumps(header))
    header[name].update(changes)
    return header


TENSOR_EDITS = {
    # the network file: W1 (2, 3) F64 at [0, 48], b1 (3,) [48, 72], W2 (3, 1), b2 (1,)
    "integer tensor": (lambda h, b: (_tensor(h, "W1", dtype="I64"), b), "dtype 'I64'; model"),
    "float32 tensor in a float64 model": (
        lambda h, b: (
            _tensor(
                h,
                "b2",
                dtype="F32",
                data_offsets=[h["b2"]["data_offsets"][0], h["b2"]["data_offsets"][0] + 4],
            ),
            b[:-4],
        ),
        "'b2' is float32 but the model's dtype is float64",
    ),  # fmt: skip
    "offsets past the end": (
        lambda h, b: (_tensor(h, "W1", data_offsets=[0, 10**12]), b),
        r"data_offsets \[0, 1000000000000\] outside the 104 bytes",
    ),
    "negative offset": (
        lambda h, b: (_tensor(h, "W1", data_offsets=[-8, 40]), b),
        "outside",
    ),
    "offsets not integers": (
        lambda h, b: (_tensor(h, "W1", data_offsets=[0.0, 48.0]), b),
        r"expected \[begin, end\]",
    ),
    "overlapping tensors": (
        lambda h, b: (_tensor(h, "b1", data_offsets=[40, 64]), b),
        "'b1' starts at byte 40 and overlaps",
    ),
    "span disagrees with shape": (
        lambda h, b: (_tensor(h, "W1", shape=[2, 2]), b),
        r"shape \[2, 2\] .* needs 32 bytes but .* span 48",
    ),
    "trailing bytes": (lambda h, b: (h, b + b"\x00" * 8), "cover 104 bytes but the file holds 112"),
    "bad shape": (lambda h, b: (_tensor(h, "W1", shape=[-6]), b), "list of integers ≥ 0"),
    "extra key": (lambda h, b: (_tensor(h, "W1", strides=[1]), b), "exactly 'dtype', 'shape'"),
    "tensor not an object": (lambda h, b: ({**h, "W1": [1]}, b), "must be an object"),
    "shape disagrees with layer_sizes": (
        lambda h, b: (_tensor(h, "W1", shape=[3, 2]), b),
        r"'W1' has shape \(3, 2\) but layer_sizes \[2, 3, 1\] needs \(2, 3\)",
    ),
    "missing tensor": (
        lambda h, b: ({k: v for k, v in h.items() if k != "b2"}, b[:-8]),
        r"tensors \['b2'\] are missing",
    ),
    "extra tensor": (
        lambda h, b: (
            {**h, "W3": {"dtype": "F64", "shape": [1], "data_offsets": [104, 112]}},
            b + b"\x00" * 8,
        ),
        r"unexpected tensors \['W3'\]",
    ),  # fmt: skip
}


@pytest.mark.parametrize("name", list(TENSOR_EDITS))
def test_invalid_tensors(tmp_path, network_bytes, name):
    edit, message = TENSOR_EDITS[name]
    header, buffer = _split(network_bytes)
    assert len(buffer) == 104 and header["b2"]["data_offsets"] == [96, 104]
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_join(*edit(header, buffer)))
    with pytest.raises(nnmath.ModelFileError, match=message):
        nnmath.load(path)


def test_duplicate_keys_in_the_header(tmp_path, network_bytes):
    header, buffer = _split(network_bytes)
    raw = json.dumps(header).encode()
    raw = raw[:-1] + b', "W1": ' + json.dumps(header["W1"]).encode() + b"}"
    path = tmp_path / "dup.safetensors"
    path.write_bytes(_join(raw, buffer))
    with pytest.raises(nnmath.ModelFileError, match="duplicate key 'W1'"):
        nnmath.load(path)


def test_every_truncation_is_rejected(tmp_path, network_bytes, perceptron_bytes):
    path = tmp_path / "cut.safetensors"
    for data in (network_bytes, perceptron_bytes):
        path.write_bytes(data)
        for cut in range(len(data) - 1, -1, -1):  # every cut point, shortening in place
            os.truncate(path, cut)
            with pytest.raises(nnmath.ModelFileError):
                nnmath.load(path)


def test_single_byte_corruption_loads_or_raises_model_file_error(tmp_path, perceptron_bytes):
    path = tmp_path / "flip.safetensors"
    path.write_bytes(perceptron_bytes)
    with open(path, "r+b") as f:
        for position in range(len(perceptron_bytes)):
            for value in (0x22, 0x39, 0xFF):  # '"', '9', invalid UTF-8
                f.seek(position)
                f.write(bytes([value]))
                f.flush()
                try:
                    model = nnmath.load(path)
                except nnmath.ModelFileError:
                    pass
                else:  # a weight byte, or a harmless header byte
                    assert type(model) is nnmath.Perceptron
            f.seek(position)
            f.write(perceptron_bytes[position : position + 1])


def test_never_reads_past_the_file_size(tmp_path, monkeypatch, perceptron_bytes):
    requested = []
    real = container._read_exact

    def spy(f, n, what, path):
        requested.append(n)
        return real(f, n, what, path)

    monkeypatch.setattr(container, "_read_exact", spy)
    files = [data for data, _ in CONTAINERS.values()] + [
        perceptron_bytes[:cut] for cut in (5, 8, 9, 100, len(perceptron_bytes) - 1)
    ]
    path = tmp_path / "f.safetensors"
    for data in files:
        requested.clear()
        path.write_bytes(data)
        with pytest.raises(nnmath.ModelFileError):
            nnmath.load(path)
        assert sum(requested) <= len(data)


# ---------------------------------------------------------------- MLP estimators, Pipeline
def _mlp_cases():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    three = np.digitize(X[:, 0], [-0.5, 0.5])
    multilabel = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    return X, {
        "binary-strings": (nnmath.MLPClassifier, labels),
        "multiclass": (nnmath.MLPClassifier, three),
        "multilabel": (nnmath.MLPClassifier, multilabel),
        "regression": (nnmath.MLPRegressor, X @ [1.0, -2.0, 0.5, 0.0]),
        "multi-output": (nnmath.MLPRegressor, X[:, :2] * 3),
    }


@pytest.mark.parametrize("case", list(_mlp_cases()[1]))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mlp_round_trip_is_bit_identical(tmp_path, case, dtype):
    X, cases = _mlp_cases()
    cls, y = cases[case]
    X = X.astype(dtype)
    model = cls(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50, random_state=0)
    with _no_warning_check():
        model.fit(X, y)
    path = tmp_path / "mlp.safetensors"
    nnmath.save(model, path)
    loaded = nnmath.load(path)
    assert type(loaded) is cls
    assert loaded.network_.dtype == dtype
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    if cls is nnmath.MLPClassifier:
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.get_params() == {**model.get_params(), "hidden_layer_sizes": (5,)}
    assert loaded.out_activation_ == model.out_activation_
    assert loaded.n_iter_ == model.n_iter_ and loaded.stop_reason_ == model.stop_reason_


@contextlib.contextmanager
def _no_warning_check():
    """Short runs on these tiny problems may stop at max_iter: that is not under test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_poisson_regressor_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    model = nnmath.MLPRegressor(
        loss="poisson", hidden_layer_sizes=(4,), max_iter=30, random_state=0
    )
    with _no_warning_check():
        model.fit(X, y)
    nnmath.save(model, tmp_path / "p.safetensors")
    loaded = nnmath.load(tmp_path / "p.safetensors")
    assert loaded.out_activation_ == "exp"
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_loaded_mlp_can_continue_training(tmp_path):
    X, cases = _mlp_cases()
    _, y = cases["multiclass"]
    model = nnmath.MLPClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with _no_warning_check():
        model.fit(X, y)
    nnmath.save(model, tmp_path / "m.safetensors")
    loaded = nnmath.load(tmp_path / "m.safetensors")
    before = loaded.coefs_[0].copy()
    loaded.partial_fit(X, y)
    assert not np.array_equal(before, loaded.coefs_[0])  # it trained from the saved weights


def test_pipeline_with_preprocessing_round_trip(tmp_path):
    from sklearn.pipeline import Pipeline

    from nnmath.preprocessing import TabularPreprocessor

    rng = np.random.default_rng(2)
    table = {
        "size": rng.normal(size=50),
        "color": rng.choice(["red", "blue"], 50),
        "label": rng.choice(["a", "b", "c"], 50),
    }
    pre = TabularPreprocessor(target="label").fit(table)
    model = nnmath.MLPClassifier(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
    with _no_warning_check():
        model.fit(pre.transform(table), table["label"])
    pipeline = Pipeline([("preprocess", pre), ("model", model)])
    nnmath.save(pipeline, tmp_path / "pipe.safetensors")
    loaded = nnmath.load(tmp_path / "pipe.safetensors")
    assert [name for name, _ in loaded.steps] == ["preprocess", "model"]
    np.testing.assert_array_equal(loaded.predict(table), pipeline.predict(table))
    assert loaded.named_steps["preprocess"].to_document() == pre.to_document()
    meta = nnmath.io.read_metadata(tmp_path / "pipe.safetensors")
    assert meta["class"] == "Pipeline" and meta["model_class"] == "MLPClassifier"


def test_pipeline_of_other_steps_is_refused(tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = Pipeline([("scale", StandardScaler()), ("model", nnmath.Perceptron())])
    with pytest.raises(TypeError, match="form the nnmath command builds"):
        nnmath.save(pipeline, tmp_path / "x.safetensors")
