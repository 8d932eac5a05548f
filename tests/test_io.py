"""Model files: round trips, the stored document, hostile files, atomic saving."""

from __future__ import annotations

import contextlib
import errno
import io as stdlib_io
import json
import math
import os
import pickle
import stat
import struct
import warnings
import zipfile

import numpy as np
import pytest
import safetensors.numpy
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import nnmath
from conftest import unwritable_directory
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
         loss=nnmath.core.losses.Huber(delta=2.5)),
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
    assert loaded.dtype == net.dtype
    assert loaded.theta.dtype == dtype
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
    assert pred.dtype == clf.predict(X).dtype
    assert np.array_equal(pred, clf.predict(X))
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
    assert set(header["__metadata__"]) == {
        "nnmath",
        "nnmath_sha256_document",
        "nnmath_sha256_weights",
    }
    doc = _document(header)
    assert doc == nnmath.io.read_metadata(path)
    assert doc == {
        "format_version": 1,
        "nnmath_version": nnmath.__version__,
        "class": "Perceptron",
        "hyperparameters": {
            "activation": "sigmoid",
            "class_weight": None,
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
        loss=nnmath.core.losses.Huber(0.5),
        dtype=np.float32,
        dropout=0.25,
        random_state=0,
    )
    nnmath.save(net, tmp_path / "n.safetensors")
    doc = nnmath.io.read_metadata(tmp_path / "n.safetensors")
    assert doc["class"] == "Network"
    assert doc["hyperparameters"] == {}
    assert doc["activations"] == [
        {"name": "leaky_relu", "negative_slope": 0.3},
        {"name": "identity"},
    ]
    assert doc["loss"] == {"name": "huber", "delta": 0.5}
    assert doc["dtype"] == "float32"
    assert doc["dropout"] == [0.25]
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
    "huge header": (struct.pack("<Q", 2**40) + b"{}", "claims 1099511627776 bytes .* 64 MiB"),
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
        "strings of 999999 characters; the limit is 65536",
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


def _without_checksums(header: dict) -> dict:
    """The header of a file written before model files had checksums."""
    header = dict(header)
    header["__metadata__"] = {"nnmath": header["__metadata__"]["nnmath"]}
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
    "bad shape": (lambda h, b: (_tensor(h, "W1", shape=[-6]), b), "one or two integers ≥ 1"),
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
    header = _without_checksums(header)  # the checks below the checksums, on their own
    assert len(buffer) == 104
    assert header["b2"]["data_offsets"] == [96, 104]
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


def test_every_single_byte_change_is_refused(tmp_path, perceptron_bytes):
    # A change inside the tensor data would load and predict something else; the
    # checksums leave no byte that can change unseen.
    path = tmp_path / "flip.safetensors"
    path.write_bytes(perceptron_bytes)
    (n,) = struct.unpack("<Q", perceptron_bytes[:8])
    damaged = 0
    with open(path, "r+b") as f:
        for position in range(len(perceptron_bytes)):
            original = perceptron_bytes[position]
            for value in {original ^ 0x01, 0x22, 0x39, 0xFF} - {original}:  # '"', '9', not UTF-8
                f.seek(position)
                f.write(bytes([value]))
                f.flush()
                with pytest.raises(nnmath.ModelFileError) as info:
                    nnmath.load(path)
                if position >= 8 + n:  # a weight's byte
                    assert "the file is damaged: its weights do not match" in str(info.value)
                    damaged += 1
            f.seek(position)
            f.write(bytes([original]))
    assert damaged >= 3 * (len(perceptron_bytes) - 8 - n)


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
    assert loaded.n_iter_ == model.n_iter_
    assert loaded.stop_reason_ == model.stop_reason_


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
    assert meta["class"] == "Pipeline"
    assert meta["model_class"] == "MLPClassifier"


def test_pipeline_of_other_steps_is_refused(tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = Pipeline([("scale", StandardScaler()), ("model", nnmath.Perceptron())])
    with pytest.raises(TypeError, match="form the nnmath command builds"):
        nnmath.save(pipeline, tmp_path / "x.safetensors")


# ============================================================================ saving never destroys
def _special_files(tmp_path) -> dict:
    """A FIFO, a socket and (where the test may make one) a character device, each at a
    path a save could be asked to write."""
    import socket

    files = {}
    files["FIFO"] = tmp_path / "fifo"
    os.mkfifo(files["FIFO"])
    files["socket"] = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(files["socket"]))
    server.close()
    try:  # a second /dev/null (needs CAP_MKNOD): the real one is never put at risk
        os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        files["character device"] = tmp_path / "null"
    except PermissionError:
        pass
    return files


def test_save_never_replaces_a_fifo_a_socket_or_a_device(tmp_path):
    # Even as root, save(net, "/dev/null") must not turn /dev/null into a file.
    net = nnmath.Network([2, 1], random_state=0)
    for kind, path in _special_files(tmp_path).items():
        before = path.lstat()
        with pytest.raises(FileExistsError, match=f"it is a {kind}.*never replaces") as info:
            nnmath.save(net, path)
        assert info.value.filename == str(path)
        after = path.lstat()
        assert (after.st_mode, after.st_ino, after.st_rdev) == (
            before.st_mode,
            before.st_ino,
            before.st_rdev,
        )
        link = tmp_path / f"link-to-{path.name}"
        link.symlink_to(path)
        with pytest.raises(FileExistsError):  # a link to it is no way round
            nnmath.save(net, link)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_save_writes_through_a_symlink_to_its_target(tmp_path):
    # As editors do: the link stays a link, the file it points to gets the new model.
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "model-1.safetensors"
    nnmath.save(nnmath.Network([2, 1], random_state=0), target)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(target)
    nnmath.save(nnmath.Network([3, 1], random_state=0), link)
    assert link.is_symlink()
    assert link.resolve() == target
    assert nnmath.load(target).layer_sizes == [3, 1]
    assert sorted(os.listdir(tmp_path / "runs")) == ["model-1.safetensors"]  # no litter

    dangling = tmp_path / "next.safetensors"  # a link to a file not yet written
    dangling.symlink_to(tmp_path / "runs" / "model-2.safetensors")
    nnmath.save(nnmath.Network([4, 1], random_state=0), dangling)
    assert dangling.is_symlink()
    assert nnmath.load(tmp_path / "runs" / "model-2.safetensors").layer_sizes == [4, 1]


def _temporaries(directory) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".tmp"))


def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next(tmp_path):
    # kill -9 during a save leaves a .model.safetensors.*.tmp file. Its writer's lock
    # dies with it; the next save removes it.
    path = tmp_path / "model.safetensors"
    left = [
        tmp_path / ".model.safetensors.0f1e2d3c.tmp",  # this version's names
        tmp_path / ".model.safetensors.k2_x9qaz.tmp",  # tempfile.mkstemp's (older versions)
    ]
    for stale in left:
        stale.write_bytes(b"half a model")
    alive = tmp_path / ".model.safetensors.a1b2c3d4.tmp"  # a save in progress elsewhere
    other = tmp_path / ".other.safetensors.a1b2c3d4.tmp"  # another target's
    unrelated = tmp_path / ".model.safetensors.notes.tmp"  # not a name saves make
    for keep in (alive, other, unrelated):
        keep.write_bytes(b"")
    import fcntl

    with open(alive, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # its writer is alive: it holds the lock
        nnmath.save(nnmath.Network([2, 1], random_state=0), path)
    assert _temporaries(tmp_path) == sorted(p.name for p in (alive, other, unrelated))
    assert nnmath.load(path).layer_sizes == [2, 1]


def test_the_temporary_file_has_no_name_while_it_is_written(tmp_path, monkeypatch):
    # With O_TMPFILE (Linux) the data goes to a file the OS reclaims if the process dies
    # before the rename; the name it gets just before is in place for microseconds.
    try:
        os.close(os.open(tmp_path, os.O_TMPFILE | os.O_WRONLY, 0o600))
    except (AttributeError, OSError):
        pytest.skip("no O_TMPFILE on this system or file system")
    seen = []
    real = container._write_payload
    monkeypatch.setattr(
        container,
        "_write_payload",
        lambda f, data: (seen.append(sorted(os.listdir(tmp_path))), real(f, data)),
    )
    nnmath.save(nnmath.Network([2, 1], random_state=0), tmp_path / "m.safetensors")
    assert seen == [[]]
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_without_o_tmpfile_the_temporary_is_named_and_locked(tmp_path, monkeypatch):
    import fcntl

    monkeypatch.setattr(container, "_O_TMPFILE", 0)
    locked = []

    def check(f, data):
        (name,) = _temporaries(tmp_path)
        assert name.startswith(".m.safetensors.")
        with open(tmp_path / name, "rb") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                locked.append(name)
        f.write(data)

    monkeypatch.setattr(container, "_write_payload", check)
    nnmath.save(nnmath.Network([2, 1], random_state=0), tmp_path / "m.safetensors")
    assert len(locked) == 1
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_a_long_file_name_saves_and_a_too_long_one_names_the_users_path(tmp_path):
    # A name of 242–255 bytes saves (its temporary's name is cut to fit), and a name
    # too long is reported with the user's path, not the temporary file's.
    net = nnmath.Network([2, 1], random_state=0)
    for length in (242, 250, 255):
        path = tmp_path / ("m" * (length - len(".safetensors")) + ".safetensors")
        nnmath.save(net, path)
        assert nnmath.load(path).layer_sizes == [2, 1]
        path.unlink()
    path = tmp_path / ("é" * 128 + ".safetensors")  # 268 bytes
    with pytest.raises(OSError, match=r"file name too long \(268 bytes") as info:
        nnmath.save(net, path)
    assert info.value.errno == errno.ENAMETOOLONG
    assert info.value.filename == str(path)
    assert os.listdir(tmp_path) == []


def test_errors_while_writing_name_the_users_path(tmp_path, monkeypatch):
    def full(f, data):
        raise OSError(errno.ENOSPC, "No space left on device", "/some/.x.abcdefgh.tmp")

    monkeypatch.setattr(container, "_write_payload", full)
    path = tmp_path / "m.safetensors"
    with pytest.raises(OSError, match="No space left") as info:
        nnmath.save(nnmath.Network([2, 1], random_state=0), path)
    assert info.value.filename == str(path)
    assert os.listdir(tmp_path) == []


def test_check_writable_finds_what_a_save_would_fail_on(tmp_path):
    assert container.check_writable(tmp_path / "m.safetensors") == str(tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []  # the probe leaves nothing
    with pytest.raises(PermissionError, match="cannot create a file in") as info:
        container.check_writable(os.path.join(unwritable_directory(tmp_path), "m.safetensors"))
    assert info.value.filename.endswith("m.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        container.check_writable(tmp_path / "missing" / "m.safetensors")
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(FileExistsError, match="FIFO"):
        container.check_writable(tmp_path / "fifo")
    with pytest.raises(IsADirectoryError):
        container.check_writable(tmp_path)


# ============================================================================ loading never lies
def test_a_fifo_or_a_device_as_the_model_path_is_refused_without_blocking(tmp_path):
    # load() of a FIFO must not wait forever for a writer.
    import threading

    os.mkfifo(tmp_path / "fifo")
    paths = {"FIFO": tmp_path / "fifo", "character device": "/dev/null"}
    outcome = {}

    def load_all():
        for kind, path in paths.items():
            for read in (nnmath.load, nnmath.io.read_metadata, nnmath.io.checksummed):
                try:
                    read(path)
                except nnmath.ModelFileError as exc:
                    outcome[kind, read.__name__] = str(exc)

    thread = threading.Thread(target=load_all, daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "loading a special file blocked"
    assert len(outcome) == 6
    for (kind, _), message in outcome.items():
        assert f"it is a {kind}" in message
        assert "not a model file" in message


def _edited(data: bytes, edit_header=None, edit_document=None, checksums=False) -> bytes:
    """A model file's bytes with its header or document edited, without checksums (a
    file of an earlier version: the checks behind them are what is tested) unless asked."""
    header, buffer = _split(data)
    metadata = header["__metadata__"]
    document = json.loads(metadata["nnmath"])
    if edit_document is not None:
        edit_document(document)
    text = json.dumps(document, allow_nan=True)
    header["__metadata__"] = {"nnmath": text}
    if checksums:
        header["__metadata__"].update(
            nnmath_sha256_document=container.document_digest(text),
            nnmath_sha256_weights=metadata["nnmath_sha256_weights"],
        )
    if edit_header is not None:
        edit_header(header)
    raw = json.dumps(header, allow_nan=True).encode("utf-8", "surrogatepass")
    return _join(raw, buffer)


def _load_bytes(tmp_path, data):
    path = tmp_path / "edited.safetensors"
    path.write_bytes(data)
    return nnmath.load(path)


LOAD_ESCAPES = {
    # Each is a ModelFileError, not the other exception (noted) it would otherwise raise
    "dtype as a list (TypeError)": (
        lambda h: h["W1"].update(dtype=["F64"]),
        None,
        r"tensor 'W1' has dtype \['F64'\]; model weights are F32 or F64",
    ),
    "zero-size tensor of 2**63 (ValueError from reshape)": (
        lambda h: h.update(W3={"dtype": "F64", "shape": [0, 2**63], "data_offsets": [0, 0]}),
        None,
        "expected one or two integers ≥ 1",
    ),
    "65 dimensions (ValueError from reshape)": (
        lambda h: h.update(W3={"dtype": "F64", "shape": [1] * 64 + [0], "data_offsets": [0, 0]}),
        None,
        "expected one or two integers ≥ 1",
    ),
    "lone surrogate in classes_ (UnicodeEncodeError later)": (
        None,
        lambda d: d["classes_"].update(dtype="<U1", values=["\ud800", "a"]),
        r"not valid Unicode \(a lone surrogate\)",
    ),
}


@pytest.mark.parametrize("name", list(LOAD_ESCAPES))
def test_what_once_escaped_as_another_exception_is_a_model_file_error(tmp_path, name):
    edit_header, edit_document, message = LOAD_ESCAPES[name]
    X, cases = _mlp_cases()
    model = nnmath.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    with _no_warning_check():
        model.fit(X, cases["binary-strings"][1])
    nnmath.save(model, tmp_path / "m.safetensors")
    data = (tmp_path / "m.safetensors").read_bytes()
    with pytest.raises(nnmath.ModelFileError, match=message):
        _load_bytes(tmp_path, _edited(data, edit_header, edit_document))


def test_a_networks_document_as_a_pipeline_is_refused(tmp_path):
    # A Network's description relabelled as the command's Pipeline of an MLPRegressor:
    # its sigmoid output is no regressor's, and it once loaded.
    from nnmath.preprocessing import TabularPreprocessor

    nnmath.save(nnmath.Network([1, 1], random_state=0), tmp_path / "n.safetensors")
    pre = TabularPreprocessor(target="y").fit({"x": np.arange(4.0), "y": np.arange(4.0)})

    def edit(document):
        document.update(
            {"class": "Pipeline", "model_class": "MLPRegressor", "n_features_in_": 1},
            preprocessing=pre.to_document(),
        )

    data = _edited((tmp_path / "n.safetensors").read_bytes(), edit_document=edit)
    with pytest.raises(nnmath.ModelFileError, match="MLPRegressor .* has a identity output"):
        _load_bytes(tmp_path, data)


def _classifier_bytes(tmp_path, y, **params) -> bytes:
    X, _ = _mlp_cases()
    model = nnmath.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0, **params)
    with _no_warning_check():
        model.fit(X, y)
    nnmath.save(model, tmp_path / "clf.safetensors")
    return (tmp_path / "clf.safetensors").read_bytes()


def _regressor_bytes(tmp_path, **params) -> bytes:
    X, cases = _mlp_cases()
    y = np.abs(cases["regression"][1]).round()
    model = nnmath.MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0, **params)
    with _no_warning_check():
        model.fit(X, y)
    nnmath.save(model, tmp_path / "reg.safetensors")
    return (tmp_path / "reg.safetensors").read_bytes()


def _three_classes():
    return np.array(["a", "b", "c"])[_mlp_cases()[1]["multiclass"][1]]


INCONSISTENT = {
    # Each would load, and then predict nonsense
    "classes reversed": (
        lambda tmp: _classifier_bytes(tmp, _three_classes()),
        lambda d: d["classes_"]["values"].reverse(),
        "'classes_' must be distinct and sorted",
    ),
    "a class twice": (
        lambda tmp: _classifier_bytes(tmp, _three_classes()),
        lambda d: d["classes_"].update(values=["a", "a", "c"]),
        "'classes_' must be distinct and sorted",
    ),
    "classes vs outputs": (
        lambda tmp: _classifier_bytes(tmp, _three_classes()),
        lambda d: d["classes_"].update(values=["a", "b", "c", "d"]),
        r"4 multiclass classes need 4 output\(s\); the network has 3",
    ),
    "two classes called multiclass": (
        lambda tmp: _classifier_bytes(tmp, _mlp_cases()[1]["binary-strings"][1]),
        lambda d: d.update(label_type="multiclass"),
        "cannot be multiclass labels",
    ),
    "multilabel labels that are not 0 … n − 1": (
        lambda tmp: _classifier_bytes(tmp, _mlp_cases()[1]["multilabel"][1]),
        lambda d: d["classes_"].update(values=[3, 7]),
        "cannot be multilabel-indicator labels",
    ),
    "identity output on a classifier": (
        lambda tmp: _classifier_bytes(tmp, _three_classes()),
        lambda d: d["activations"][-1].update(name="identity"),
        "has a softmax output and the cross_entropy loss; the file's network has a identity",
    ),
    "sigmoid output for multiclass": (
        lambda tmp: _classifier_bytes(tmp, _three_classes()),
        lambda d: d["activations"][-1].update(name="sigmoid"),
        "has a softmax output",
    ),
    "softmax output for binary": (
        lambda tmp: _classifier_bytes(tmp, _mlp_cases()[1]["binary-strings"][1]),
        lambda d: d["activations"][-1].update(name="softmax"),
        "has a sigmoid output and the binary_cross_entropy loss",
    ),
    "mse loss on a log-loss classifier": (
        lambda tmp: _classifier_bytes(tmp, _mlp_cases()[1]["binary-strings"][1]),
        lambda d: d.update(loss={"name": "mse"}),
        "the binary_cross_entropy loss; the file's network has a sigmoid output and the mse",
    ),
    "sigmoid output on a regressor": (
        lambda tmp: _regressor_bytes(tmp),
        lambda d: d["activations"][-1].update(name="sigmoid"),
        "MLPRegressor with loss='squared_error' has a identity output",
    ),
    "identity output for the Poisson loss": (
        lambda tmp: _regressor_bytes(tmp, loss="poisson"),
        lambda d: d["activations"][-1].update(name="identity"),
        "loss='poisson' has a exp output and the poisson loss",
    ),
    "NaN class": (
        lambda tmp: _classifier_bytes(tmp, _mlp_cases()[1]["binary-strings"][1]),
        lambda d: d.update(classes_={"dtype": "<f8", "values": [0.0, math.nan]}),
        "do not fit dtype",
    ),
}


@pytest.mark.parametrize("name", list(INCONSISTENT))
def test_an_inconsistent_model_is_refused(tmp_path, name):
    make, edit, message = INCONSISTENT[name]
    with pytest.raises(nnmath.ModelFileError, match=message):
        _load_bytes(tmp_path, _edited(make(tmp_path), edit_document=edit))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("tensor", ["W1", "b2"])
def test_weights_that_are_not_finite_are_refused(tmp_path, network_bytes, tensor, value):
    header, buffer = _split(network_bytes)
    begin, end = header[tensor]["data_offsets"]
    buffer = buffer[:begin] + struct.pack("<d", value) + buffer[begin + 8 :]
    data = _edited(_join(header, buffer))  # no checksums: the check behind them
    with pytest.raises(nnmath.ModelFileError, match=f"tensor '{tensor}' holds NaN or infinity"):
        _load_bytes(tmp_path, data)


def test_a_network_with_weights_that_are_not_finite_is_not_saved(tmp_path):
    net = nnmath.Network([2, 1], random_state=0)
    net.W[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="weights hold NaN or infinity"):
        nnmath.save(net, tmp_path / "nan.safetensors")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("scale", [0.0, -1.0, math.nan, math.inf])
def test_a_pipeline_whose_scale_is_not_finite_and_positive_is_refused(tmp_path, scale):
    # 0, NaN and inf loaded and then blamed the user's data ("column has NaN") at predict
    from sklearn.pipeline import Pipeline

    from nnmath.preprocessing import TabularPreprocessor

    table = {"size": np.arange(10.0), "label": np.array(["a", "b"] * 5)}
    pre = TabularPreprocessor(target="label").fit(table)
    model = nnmath.Perceptron(max_iter=3, tol=None, random_state=0)
    model.fit(pre.transform(table), table["label"])
    nnmath.save(Pipeline([("preprocess", pre), ("model", model)]), tmp_path / "p.safetensors")

    def edit(document):
        document["preprocessing"]["numeric"]["size"]["scale"] = scale

    data = _edited((tmp_path / "p.safetensors").read_bytes(), edit_document=edit)
    with pytest.raises(nnmath.ModelFileError, match="'size' needs a finite 'center', 'scale' > 0"):
        _load_bytes(tmp_path, data)


# ---------------------------------------------------------------- values prediction uses
def _forged(data: bytes, edit_document) -> bytes:
    """A model file's bytes with its document edited and its checksums recomputed with
    nnmath's own checksum function: the file passes the integrity check, and only the
    checks of what prediction does with each value stand between it and a model."""
    return _edited(data, edit_document=edit_document, checksums=True)


def _dated_pipeline_bytes(tmp_path) -> bytes:
    """The command's kind of model: a number, a category and dates written as text."""
    from sklearn.pipeline import Pipeline

    from nnmath.preprocessing import TabularPreprocessor

    rng = np.random.default_rng(0)
    size = rng.normal(size=40)
    when = (np.datetime64("2021-01-01") + rng.integers(0, 700, 40)).astype(str).astype(object)
    table = {
        "size": size,
        "color": np.where(rng.random(40) > 0.5, "red", "blue"),
        "when": when,
        "label": np.where(size > 0, "yes", "no"),
    }
    pre = TabularPreprocessor(target="label").fit(table)
    assert pre.kind("when") == "date"
    assert pre.dates_["when"]["format"] == "%Y-%m-%d"
    model = nnmath.Perceptron(max_iter=3, tol=None, random_state=0)
    model.fit(pre.transform(table), table["label"])
    nnmath.save(Pipeline([("preprocess", pre), ("model", model)]), tmp_path / "d.safetensors")
    return (tmp_path / "d.safetensors").read_bytes()


def _named_classifier_bytes(tmp_path) -> bytes:
    import pandas as pd

    X, cases = _mlp_cases()
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    return _fitted_bytes(tmp_path, nnmath.MLPClassifier, frame, cases["binary-strings"][1])


def _fitted_bytes(tmp_path, cls, X, y, **params) -> bytes:
    params = {"hidden_layer_sizes": (5,), "max_iter": 5, "random_state": 0, **params}
    model = cls(**params)
    with _no_warning_check():
        model.fit(X, y)
    nnmath.save(model, tmp_path / "m.safetensors")
    return (tmp_path / "m.safetensors").read_bytes()


def _three_to_five_to_one(tmp_path) -> bytes:
    X, _ = _mlp_cases()
    return _fitted_bytes(tmp_path, nnmath.MLPRegressor, X[:, :3], X[:, 0] - X[:, 2])


def _perceptron_file_bytes(tmp_path) -> bytes:
    nnmath.save(_fitted_perceptron(max_iter=3), tmp_path / "p.safetensors")
    return (tmp_path / "p.safetensors").read_bytes()


def _date_stats(document) -> dict:
    return document["preprocessing"]["dates"]["when"]


UNPREDICTABLE = {
    # Each loaded before, with its checksums recomputed, as a model whose predict raised
    # or returned infinity
    "date format %Q": (
        _dated_pipeline_bytes,
        lambda d: _date_stats(d).update(format="%Q"),
        r"'when' has the format '%Q', which dates cannot be read in: .*bad directive",
    ),
    "date format %Y × 30,000": (
        _dated_pipeline_bytes,
        lambda d: _date_stats(d).update(format="%Y" * 30_000),
        "'when' has a format of 60000 characters .*; a date format has at most 64",
    ),
    "date format %Y%Y": (
        _dated_pipeline_bytes,
        lambda d: _date_stats(d).update(format="%Y%Y"),
        "'when' has the format '%Y%Y', which dates cannot be read in",
    ),
    "date format without the year": (
        _dated_pipeline_bytes,
        lambda d: _date_stats(d).update(format="%m-%d"),
        "'when' has the format '%m-%d', which does not read back the dates it writes",
    ),
    "scale 1e-320": (
        _dated_pipeline_bytes,
        lambda d: d["preprocessing"]["numeric"]["size"].update(scale=1e-320),
        r"'size' has 'center', 'min', 'max' .* and 'scale' 1e-320; each is at most 1e\+100 "
        r"in magnitude and a scale at least 1e-100",
    ),
    "date scale 1e-320": (
        _dated_pipeline_bytes,
        lambda d: _date_stats(d).update(scale=1e-320),
        "'when' has 'mean' .* and 'scale' 1e-320",
    ),
    "center 1e300": (
        _dated_pipeline_bytes,
        lambda d: d["preprocessing"]["numeric"]["size"].update(center=1e300, max=1e300),
        r"'size' has 'center', 'min', 'max' \(1e\+300",
    ),
    "fill value 1e300": (
        _dated_pipeline_bytes,
        lambda d: d["preprocessing"]["fill"].update(size=1e300),
        "invalid fill value for column 'size': 1e[+]300",
    ),
    "duplicate feature_names_in_": (
        _named_classifier_bytes,
        lambda d: d.update(feature_names_in_=["a", "b", "a", "d"]),
        r"'feature_names_in_' names \['a'\] more than once",
    ),
    "hidden_layer_sizes [1000000000] on a 3 → 5 → 1 network": (
        _three_to_five_to_one,
        lambda d: d["hyperparameters"].update(hidden_layer_sizes=[1_000_000_000]),
        r"'hidden_layer_sizes' is \[1000000000\] but the network's weights have hidden "
        r"layers of \[5\] units",
    ),
    "softmax in a classifier's hidden layer": (
        lambda tmp: _classifier_bytes(tmp, _three_classes()),
        lambda d: d["activations"][0].update(name="softmax"),
        r"MLPClassifier with activation='relu' has hidden layers of \['relu'\]; the file's "
        r"network has \['softmax'\]",
    ),
    "step in a classifier's hidden layer, and in its activation": (
        lambda tmp: _classifier_bytes(tmp, _three_classes()),
        lambda d: (
            d["activations"][0].update(name="step"),
            d["hyperparameters"].update(activation="step"),
        ),
        r"'activation' of a MLPClassifier must be one of \['identity', 'leaky_relu', "
        r"'logistic', 'relu', 'sigmoid', 'silu', 'tanh'\] .*; got 'step'",
    ),
    "a perceptron's activation that is none of its neurons": (
        _perceptron_file_bytes,
        lambda d: d["hyperparameters"].update(activation="relu"),
        "'activation' of a Perceptron must be 'sigmoid', 'logistic' or 'step'; got 'relu'",
    ),
    "tanh hidden layer where relu is the hyperparameter": (
        _three_to_five_to_one,
        lambda d: d["activations"][0].update(name="tanh"),
        r"MLPRegressor with activation='relu' has hidden layers of \['relu'\]; the file's "
        r"network has \['tanh'\]",
    ),
}


@pytest.mark.parametrize("checksums", ["recomputed", "none"])
@pytest.mark.parametrize("name", list(UNPREDICTABLE))
def test_a_value_prediction_cannot_use_is_refused(tmp_path, name, checksums):
    make, edit, message = UNPREDICTABLE[name]
    data = make(tmp_path)
    path = tmp_path / "forged.safetensors"
    if checksums == "recomputed":
        path.write_bytes(_forged(data, edit))
        assert nnmath.io.checksummed(path)  # integrity holds: the checksums match
    else:
        path.write_bytes(_edited(data, edit_document=edit))
    with pytest.raises(nnmath.ModelFileError, match=message) as info:
        nnmath.load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert len(str(info.value)) <= nndoc.MAX_MESSAGE_CHARS


@pytest.mark.parametrize("name", ["dated pipeline", "named classifier", "3 → 5 → 1"])
def test_the_files_the_forgeries_start_from_load_and_predict(tmp_path, name):
    make = {
        "dated pipeline": _dated_pipeline_bytes,
        "named classifier": _named_classifier_bytes,
        "3 → 5 → 1": _three_to_five_to_one,
    }[name]
    path = tmp_path / "real.safetensors"
    path.write_bytes(_forged(make(tmp_path), lambda d: None))  # checksums recomputed: as saved
    model = nnmath.load(path)
    if name == "dated pipeline":
        table = {
            "size": np.array([0.5, -1.0]),
            "color": np.array(["red", "blue"], dtype=object),
            "when": np.array(["2021-06-01", "2022-02-28"], dtype=object),
        }
        assert set(model.predict(table).tolist()) <= {"yes", "no"}
    else:
        import pandas as pd

        X = np.zeros((2, model.n_features_in_))
        if name == "named classifier":
            X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
            assert np.isfinite(model.predict_proba(X)).all()
        else:
            assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda pre: pre.numeric_["size"].update(scale=1e-320), "'size' has 'center'"),
        (lambda pre: pre.dates_["when"].update(format="%Q"), "'when' has the format '%Q'"),
    ],
    ids=["scale 1e-320", "date format %Q"],
)
def test_a_preprocessing_that_load_would_refuse_is_not_saved(tmp_path, edit, message):
    from nnmath.preprocessing.transformer import TabularPreprocessor

    model = nnmath.load(_write(tmp_path / "d.safetensors", _dated_pipeline_bytes(tmp_path)))
    pre = model.named_steps["preprocess"]
    assert isinstance(pre, TabularPreprocessor)
    edit(pre)
    with pytest.raises(ValueError, match=f"cannot save this model's preprocessing: .*{message}"):
        nnmath.save(model, tmp_path / "again.safetensors")
    assert not (tmp_path / "again.safetensors").exists()


def test_a_file_of_more_date_formats_than_a_model_holds_is_refused(tmp_path):
    # each distinct format is parsed at load: their number bounds the work
    from nnmath.preprocessing.transformer import MAX_DATE_FORMATS, TabularPreprocessor

    data = _dated_pipeline_bytes(tmp_path)
    document = _document(_split(data)[0])["preprocessing"]
    when = document["dates"].pop("when")
    document["feature_names_in"].remove("when")
    document["fill"].pop("when", None)
    for i in range(MAX_DATE_FORMATS):  # as many as a file may hold: they load
        document["feature_names_in"].append(f"when{i}")
        document["dates"][f"when{i}"] = {**when, "format": f"%Y-%m-%d {i}"}
    assert len(TabularPreprocessor.from_document(document).dates_) == MAX_DATE_FORMATS
    document["feature_names_in"].append("one more")
    document["dates"]["one more"] = {**when, "format": "%d.%m.%Y"}
    with pytest.raises(nnmath.ModelFileError, match="more than 32 different formats"):
        TabularPreprocessor.from_document(document)
    document["dates"]["one more"]["format"] = "%Y-%m-%d 0"  # a format met before: no work
    assert len(TabularPreprocessor.from_document(document).dates_) == MAX_DATE_FORMATS + 1


def test_an_estimator_whose_architecture_changed_after_fitting_is_not_saved(tmp_path):
    # set_params after fit leaves the weights as they were: a file of both would not load
    X, _ = _mlp_cases()
    regressor = nnmath.MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with _no_warning_check():
        regressor.fit(X, X[:, 0])
    regressor.set_params(hidden_layer_sizes=(10,))
    with pytest.raises(
        ValueError,
        match=r"cannot describe this MLPRegressor: hyperparameter 'hidden_layer_sizes' is "
        r"\[10\] but the network's weights have hidden layers of \[5\] units; set the",
    ):
        nnmath.save(regressor, tmp_path / "r.safetensors")
    regressor.set_params(hidden_layer_sizes=(5,), activation="tanh")
    with pytest.raises(ValueError, match="activation='tanh' has hidden layers of"):
        nnmath.save(regressor, tmp_path / "r.safetensors")
    perceptron = _fitted_perceptron()
    perceptron.set_params(activation="step")
    with pytest.raises(ValueError, match="cannot describe this Perceptron: .* has a step neuron"):
        nnmath.save(perceptron, tmp_path / "p.safetensors")
    assert os.listdir(tmp_path) == []


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- files of earlier versions
DATA = os.path.join(os.path.dirname(__file__), "data")


def _expected_0_1_0() -> dict:
    with open(os.path.join(DATA, "0.1.0-expected.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("name", ["classifier", "regressor", "perceptron", "command"])
def test_model_files_written_by_nnmath_0_1_0_load_and_predict_the_same(name):
    # The predictions were computed from the files' tensors and documents by a forward
    # pass written out in NumPy (tests/data/README.md), not by nnmath
    path = os.path.join(DATA, f"0.1.0-{name}.safetensors")
    expected = _expected_0_1_0()[name]
    assert nnmath.io.checksummed(path)
    model = nnmath.load(path)  # and no warning: every warning is an error here
    if name == "command":
        table = expected["table"]
        X = {
            "size": np.array(table["size"]),
            "color": np.array(table["color"], dtype=object),
            "when": np.array(table["when"], dtype=object),
        }
    else:
        X = np.array(expected["X"])
    if name == "regressor":
        np.testing.assert_allclose(model.predict(X), expected["predict"], rtol=1e-12, atol=1e-14)
        return
    assert model.predict(X).tolist() == expected["predict"]
    np.testing.assert_allclose(
        model.predict_proba(X), expected["predict_proba"], rtol=1e-12, atol=1e-14
    )


def test_a_regressor_of_nnmath_0_1_0_goes_on_training_as_sklearns():
    # Its file names the network's loss squared_error; loaded, the regressor trains on
    # scikit-learn's pair: the gradient of ½ Σₖ meanᵢ (yᵢₖ − ŷᵢₖ)², (ŷ − y)/n at the output
    model = nnmath.load(os.path.join(DATA, "0.1.0-regressor.safetensors"))
    net = model.network_
    assert net.loss.name == "sklearn_squared_error"
    X = np.array(_expected_0_1_0()["regressor"]["X"])
    y_hat = model.predict(X)
    Y = y_hat + 1.0  # every residual ŷ − y is −1
    assert Y.shape[1] == 2
    # C = ½·mean of every r² = ½; the output's δ = (ŷ − y)/n = −1/n for each entry
    record = net.backprop(X, Y, record=True)
    assert record.mean_loss == pytest.approx(0.5, rel=1e-12)
    np.testing.assert_allclose(record.layers[-1].delta, -1.0 / X.shape[0], rtol=1e-12)


def test_the_command_predicts_with_a_model_file_of_nnmath_0_1_0(tmp_path, capsys):
    from nnmath.cli import main

    table = _expected_0_1_0()["command"]["table"]
    rows = zip(table["size"], table["color"], table["when"], strict=True)
    (tmp_path / "new.csv").write_text(
        "size,color,when\n" + "".join(f"{s},{c},{w}\n" for s, c, w in rows)
    )
    model = os.path.join(DATA, "0.1.0-command.safetensors")
    assert main(["predict", model, str(tmp_path / "new.csv")]) == 0
    captured = capsys.readouterr()
    assert captured.out.split()[1:] == _expected_0_1_0()["command"]["predict"]
    assert main(["info", model]) == 0
    assert "checksums: matched" in capsys.readouterr().out


# ---------------------------------------------------------------- checksums
def test_the_checksums_are_sha256_of_the_document_and_the_weights(tmp_path, network_bytes):
    import hashlib

    header, buffer = _split(network_bytes)
    metadata = header["__metadata__"]
    assert (
        metadata["nnmath_sha256_document"]
        == hashlib.sha256(metadata["nnmath"].encode()).hexdigest()
    )
    digest = hashlib.sha256()
    for name in sorted(k for k in header if k != "__metadata__"):  # name order
        entry = header[name]
        digest.update(json.dumps([name, entry["dtype"], entry["shape"]]).encode())
        digest.update(buffer[slice(*entry["data_offsets"])])
    assert metadata["nnmath_sha256_weights"] == digest.hexdigest()


def test_a_file_without_checksums_loads_with_a_warning(tmp_path, network_bytes):
    path = tmp_path / "old.safetensors"
    path.write_bytes(_edited(network_bytes))  # as written before checksums existed
    assert nnmath.io.checksummed(path) is False
    with pytest.warns(nnmath.io.NoChecksumWarning, match="old.safetensors: .* has no checksums"):
        assert nnmath.load(path).layer_sizes == [2, 3, 1]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nnmath.load(path)
    assert [w.filename for w in caught] == [__file__]  # shown where load was called
    with warnings.catch_warnings():  # users can filter it by its class
        warnings.filterwarnings("ignore", category=nnmath.io.NoChecksumWarning)
        nnmath.load(path)
    path.write_bytes(network_bytes)
    assert nnmath.io.checksummed(path) is True
    nnmath.load(path)  # no warning (every warning is an error here)


def test_a_file_whose_checksums_were_removed_warns_like_an_old_one(tmp_path, perceptron_bytes):
    header, buffer = _split(perceptron_bytes)
    for key in container.CHECKSUM_KEYS:
        del header["__metadata__"][key]
    path = tmp_path / "stripped.safetensors"
    path.write_bytes(_join(header, buffer))
    with pytest.warns(nnmath.io.NoChecksumWarning):
        assert (
            nnmath.load(path).predict(X4).tolist()
            == _fitted_perceptron(max_iter=3).predict(X4).tolist()
        )


def test_a_metadata_edit_is_detected(tmp_path, network_bytes):
    # 305 metadata edits once changed predictions silently: an activation, say
    def edit(document):
        document["activations"][0]["name"] = "relu"

    data = _edited(network_bytes, edit_document=edit)
    header, buffer = _split(data)
    header["__metadata__"].update(
        {key: _split(network_bytes)[0]["__metadata__"][key] for key in container.CHECKSUM_KEYS}
    )
    with pytest.raises(nnmath.ModelFileError, match="damaged: its model description does not"):
        _load_bytes(tmp_path, _join(header, buffer))


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.pop("nnmath_sha256_weights"),
        lambda m: m.update(nnmath_sha256_document="0" * 63),
        lambda m: m.update(nnmath_sha256_weights="Z" * 64),
    ],
    ids=["one missing", "too short", "not hex"],
)
def test_incomplete_or_garbled_checksums_are_damage(tmp_path, network_bytes, edit):
    header, buffer = _split(network_bytes)
    edit(header["__metadata__"])
    with pytest.raises(nnmath.ModelFileError, match="damaged: its checksums are incomplete"):
        _load_bytes(tmp_path, _join(header, buffer))


def test_tensors_swapped_in_the_file_are_detected(tmp_path, network_bytes):
    # W2 (3, 1) and b1 (3,) have the same size: swapping their offsets kept a valid
    # layout and gave another network
    header, buffer = _split(network_bytes)
    header["W2"]["data_offsets"], header["b1"]["data_offsets"] = (
        header["b1"]["data_offsets"],
        header["W2"]["data_offsets"],
    )
    with pytest.raises(nnmath.ModelFileError, match="damaged: its weights"):
        _load_bytes(tmp_path, _join(header, buffer))


# ---------------------------------------------------------------- bounded work
def _peak_while(function):
    """(what function raised, the peak of memory Python allocated meanwhile)."""
    import tracemalloc

    tracemalloc.start()
    try:
        function()
    except nnmath.ModelFileError as exc:
        return exc, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raise AssertionError("no ModelFileError")


def test_a_million_zero_size_tensors_cost_nothing(tmp_path):
    # A header of 10⁶ zero-size tensors is refused before it is parsed, and the message
    # stays short.
    entry = b'"x%07d":{"dtype":"F64","shape":[0],"data_offsets":[0,0]},'
    body = b"".join(entry % i for i in range(300_000))
    raw = b'{"__metadata__":{"nnmath":"{}"},' + body[:-1] + b"}"
    path = tmp_path / "many.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    exc, peak = _peak_while(lambda: nnmath.load(path))
    assert "a model file holds at most 2000000 values in 200000 objects" in str(exc)
    assert len(str(exc)) < len(str(path)) + 300
    assert peak < 1.5 * len(raw)  # the header's bytes, read once, and nothing built from them


def test_a_header_over_the_limit_is_never_read(tmp_path):
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", container.MAX_HEADER_BYTES + 1))
        f.truncate(container.MAX_HEADER_BYTES + 100)  # sparse: no disk used
    exc, peak = _peak_while(lambda: nnmath.load(path))
    assert "over the 64 MiB limit" in str(exc)
    assert peak < 2**20


def test_a_long_json_list_is_refused_before_it_is_parsed(tmp_path, network_bytes):
    # large JSON lists of small numbers inflated about 11 times when parsed
    def edit(document):
        document["dropout"] = [0] * 3_000_000

    data = _edited(network_bytes, edit_document=edit)
    exc, peak = _peak_while(lambda: _load_bytes(tmp_path, data))
    assert "JSON values" in str(exc)
    assert peak < 2 * len(data)


def test_wide_string_classes_are_refused_before_they_are_built(tmp_path, perceptron_bytes):
    # a 4 KB file whose classes_ had dtype <U999999 cost +115 MB
    def edit(document):
        document["classes_"] = {"dtype": "<U999999", "values": ["a", "b"]}

    data = _edited(perceptron_bytes, edit_document=edit)
    exc, peak = _peak_while(lambda: _load_bytes(tmp_path, data))
    assert "strings of 999999 characters; the limit is 65536" in str(exc)
    assert peak < 2**20


def test_a_string_over_the_limit_is_refused_on_load_and_never_saved(tmp_path, network_bytes):
    from nnmath.document import MAX_STRING_CHARS

    long = "x" * (MAX_STRING_CHARS + 1)

    def edit(document):
        document["hyperparameters"] = {"note": long}

    with pytest.raises(nnmath.ModelFileError, match="string of 65537 characters"):
        _load_bytes(tmp_path, _edited(network_bytes, edit_document=edit))
    clf = _fitted_perceptron(y=[long[:-2] + "a", "b", "b", "b"])
    clf.classes_ = np.array([long, "b"])
    with pytest.raises(ValueError, match="cannot save this model: .*string of 65537 characters"):
        nnmath.save(clf, tmp_path / "long.safetensors")
    assert not (tmp_path / "long.safetensors").exists()


def test_messages_about_hostile_files_are_short(tmp_path, network_bytes):
    def edit(header):
        for i in range(3, 2000):
            header[f"W{i}"] = {"dtype": "F64", "shape": [1], "data_offsets": [104, 104]}

    exc, _ = _peak_while(lambda: _load_bytes(tmp_path, _edited(network_bytes, edit_header=edit)))
    assert len(str(exc)) <= len(str(tmp_path)) + 600

    def edit_document(document):
        document["layer_sizes"] = [10**4000] * 100

    with pytest.raises(nnmath.ModelFileError) as info:
        _load_bytes(tmp_path, _edited(network_bytes, edit_document=edit_document))
    assert len(str(info.value)) <= 600 + len(str(tmp_path))


# ---------------------------------------------------------------- kill -9 during a save
KILLED_SAVER = """
import sys, time
import nnmath
from nnmath.io import container

path, mode = sys.argv[1], sys.argv[2]
if mode == "named":  # the fallback of systems without O_TMPFILE
    container._O_TMPFILE = 0
real = container._write_payload

def write_slowly(f, data):  # a large model on a slow disk: the kill lands mid-write
    print("writing", flush=True)
    for start in range(0, len(data), 2**19):  # about 300 ms
        f.write(data[start : start + 2**19])
        time.sleep(0.05)

container._write_payload = write_slowly
nets = [nnmath.Network([300, 600, 300], random_state=seed) for seed in (1, 2)]
i = 0
while True:
    nnmath.save(nets[i % 2], path)
    i += 1
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["unnamed", "named"])
def test_kill_9_during_saves_keeps_the_file_and_leaves_no_litter(tmp_path, mode):
    # kill -9 at any moment of a save: the model file stays whole, and no temporary file
    # is left behind.
    import signal
    import subprocess
    import sys
    import time

    if mode == "unnamed":
        try:
            os.close(os.open(tmp_path, os.O_TMPFILE | os.O_WRONLY, 0o600))
        except (AttributeError, OSError):
            pytest.skip("no O_TMPFILE on this system or file system")
    path = tmp_path / "model.safetensors"
    versions = [nnmath.Network([300, 600, 300], random_state=seed).theta for seed in (1, 2)]
    nnmath.save(nnmath.Network([300, 600, 300], random_state=1), path)
    rng = np.random.default_rng(3)
    left_behind = []
    for kill in range(4):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLED_SAVER, str(path), mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout.readline() == "writing\n"
            if kill % 2:  # at any moment of a save: writing, fsync, rename
                child.stdout.readline()
                time.sleep(rng.uniform(0, 0.4))
            else:  # certainly while the data is written
                time.sleep(rng.uniform(0, 0.05))
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=60)
            child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        loaded = nnmath.load(path)  # intact: the old model or the new, never a mixture
        assert any(np.array_equal(loaded.theta, v) for v in versions)
        left_behind.append(len(_temporaries(tmp_path)))
        if mode == "unnamed" and kill % 2 == 0:
            assert left_behind[-1] == 0  # the data was in a file without a name
        if mode == "named" and kill % 2 == 0:
            assert left_behind[-1] >= 1  # the named temporary of the killed save
    nnmath.save(nnmath.Network([2, 1], random_state=0), path)
    assert os.listdir(tmp_path) == ["model.safetensors"], left_behind


@pytest.mark.parametrize("model_class", ["Network", "Pipeline", "LinearRegression"])
def test_a_pipeline_file_naming_a_model_it_cannot_hold_is_a_model_file_error(tmp_path, model_class):
    # A Network document inside a command's pipeline once escaped as an AttributeError.
    from sklearn.pipeline import Pipeline

    from nnmath.preprocessing import TabularPreprocessor

    table = {"size": np.linspace(-1, 1, 20), "label": np.array(["a", "b"] * 10)}
    pre = TabularPreprocessor(target="label").fit(table)
    model = nnmath.MLPClassifier(hidden_layer_sizes=(2,), solver="lbfgs", max_iter=5)
    with _no_warning_check():
        model.fit(pre.transform(table), table["label"])
    good = tmp_path / "pipe.safetensors"
    nnmath.save(Pipeline([("preprocess", pre), ("model", model)]), good)
    header, buffer = _split(good.read_bytes())
    path = tmp_path / "bad.safetensors"
    path.write_bytes(
        _join(_with_document(header, _set(_document(header), "model_class", model_class)), buffer)
    )
    with pytest.raises(nnmath.ModelFileError, match="is not a model nnmath can load"):
        nnmath.load(path)


# ---------------------------------------------------------------- bytes
@pytest.mark.parametrize("case", list(_mlp_cases()[1]))
def test_to_bytes_is_the_file_save_writes_and_from_bytes_reads_it(tmp_path, case):
    X, cases = _mlp_cases()
    cls, y = cases[case]
    model = cls(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50, random_state=0)
    with _no_warning_check():
        model.fit(X, y)
    path = tmp_path / "mlp.safetensors"
    nnmath.save(model, path)
    data = nnmath.io.to_bytes(model)
    # the same document and tensors as the file (safetensors orders its metadata freely)
    from_file = container.read(path, nnmath.io.MODEL_CLASSES)
    from_bytes = container.read_bytes(data, nnmath.io.MODEL_CLASSES)
    assert from_bytes[0] == from_file[0]
    assert from_bytes[1].keys() == from_file[1].keys()
    for name, tensor in from_file[1].items():
        np.testing.assert_array_equal(from_bytes[1][name], tensor)
    loaded = nnmath.io.from_bytes(data)
    assert type(loaded) is cls
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_from_bytes_checks_as_load_does(tmp_path):
    data = nnmath.io.to_bytes(nnmath.Network([2, 1], random_state=0))
    with pytest.raises(nnmath.ModelFileError, match=r"^the model's bytes: .*truncated"):
        nnmath.io.from_bytes(data[:-3])
    with pytest.raises(nnmath.ModelFileError, match="the model's bytes: the file is empty"):
        nnmath.io.from_bytes(b"")
    with pytest.raises(TypeError, match="data must be bytes"):
        nnmath.io.from_bytes("W1")
    header, buffer = _split(data)
    unchecked = _join(_without_checksums(header), buffer)
    with pytest.warns(nnmath.io.NoChecksumWarning, match="the model's bytes: .* no checksums"):
        nnmath.io.from_bytes(unchecked)
