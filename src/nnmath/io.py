"""Model files: one safetensors file holding the weights and a JSON description.

Layout of a model file (``format_version`` 1)::

    8 bytes       N, the header length, a little-endian unsigned 64-bit integer
    N bytes       the header, a JSON object:
                    {"W1": {"dtype": "F64", "shape": [n0, n1], "data_offsets": [0, e1]},
                     "b1": {...}, ..., "WL": {...}, "bL": {...},
                     "__metadata__": {"nnmath": "<the model document, JSON text>"}}
    the rest      the tensors' bytes, little-endian, in the order of their offsets

Tensors are named after the math: layer l's weights ``Wl`` of shape (n_{l−1}, n_l) and
biases ``bl`` of shape (n_l,), l = 1 … L. The model document is a JSON object::

    format_version    int, 1
    nnmath_version    str, the version that wrote the file
    class             str: "Network", "Perceptron", "MLPClassifier", "MLPRegressor",
                      or "Pipeline" (the nnmath command's preprocessing + model, with
                      "model_class" and "preprocessing" added to the model's fields)
    hyperparameters   object, the estimator's get_params() ({} for a Network); values
                      that are not JSON (callables, Generators…) are null, and
    hyperparameters_not_saved   object name → why (only when there are some)
    layer_sizes       [n_inputs, hidden…, n_outputs]
    activations       one object per weight layer, output last: {"name": "relu"},
                      {"name": "leaky_relu", "negative_slope": 0.01}
    loss              {"name": "mse"}, {"name": "huber", "delta": 1.0}
    dtype             "float32" or "float64" (the tensors' dtype)
    dropout           one rate per hidden layer
    n_features_in_    int (estimators)
    classes_          {"dtype": numpy dtype str, e.g. "<i8", "<U5", "|b1", "<f8",
                      "values": [...]} (classifiers)
    feature_names_in_ [str, ...] (when the estimator was fitted on named columns)
    training          {"n_iter_": …, "loss_curve_": […], "stop_reason_": …} (when fitted)
    label_type        "binary", "multiclass" or "multilabel-indicator" (MLPClassifier)

Non-finite floats (a best loss of inf) are written as Python's ``json`` writes them
(``Infinity``, ``NaN``). Unknown keys of the document are ignored.

Loading never unpickles and never runs anything taken from the file: the header is
JSON, the tensors are raw floats, and the model is rebuilt from nnmath's own classes
by name. Every way a file can fail to be a model raises :class:`ModelFileError`, before
any model is returned, and nothing past the file's size is ever read.

Adding a model class: write ``_encode_<class>(model) -> (document, tensors)`` and
``_decode_<class>(document, tensors) -> model`` and call :func:`_register` at the bottom
of this module. A network inside a model goes through :func:`_network_to_document` /
:func:`_network_from_document`; an estimator's hyperparameters, n_features_in_,
feature_names_in_, classes_ and training summary through
:func:`_estimator_to_document` / :func:`_estimator_from_document` (classes_ itself
through :func:`_classes_from_document`).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import safetensors.numpy
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from nnmath import activations as _activations
from nnmath import losses as _losses
from nnmath.estimators import MLPClassifier, MLPRegressor
from nnmath.network import Network
from nnmath.perceptron import Perceptron
from nnmath.preprocessing import TabularPreprocessor

__all__ = ["FORMAT_VERSION", "ModelFileError", "load", "read_metadata", "save"]

#: The newest format version this nnmath writes and reads.
FORMAT_VERSION = 1

#: The largest header this reader accepts (safetensors' own limit).
MAX_HEADER_BYTES = 100_000_000

_TENSOR_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_DTYPE_TAGS = {"float32": "F32", "float64": "F64"}

Document = dict[str, Any]
Tensors = dict[str, np.ndarray]


class ModelFileError(ValueError):
    """The file is not a valid nnmath model file; the message says what is wrong.

    Examples
    --------
    >>> import nnmath, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = path.write_text("not a model")
    >>> try:
    ...     nnmath.load(path)
    ... except nnmath.ModelFileError:
    ...     print("not a model file")
    not a model file
    """


# ============================================================================ registry
@dataclass(frozen=True)
class _Codec:
    cls: type
    to_document: Callable[[Any], tuple[Document, Tensors]]
    from_document: Callable[[Document, Tensors], Any]


_CODECS: dict[str, _Codec] = {}


def _register(
    cls: type,
    to_document: Callable[[Any], tuple[Document, Tensors]],
    from_document: Callable[[Document, Tensors], Any],
) -> None:
    """Make ``cls`` saveable and loadable under the name ``cls.__name__``.

    ``to_document(model)`` returns the class's part of the document (JSON-able values
    only; ``format_version``, ``nnmath_version`` and ``class`` are added by :func:`save`)
    and the tensors by name. ``from_document(document, tensors)`` rebuilds the model
    without calling ``__init__`` validation, popping every tensor it uses from
    ``tensors`` (left-over tensors make the file invalid); it raises
    :class:`ModelFileError` (or ValueError/TypeError/KeyError, which :func:`load` turns
    into one) on anything inconsistent.
    """
    _CODECS[cls.__name__] = _Codec(cls, to_document, from_document)


# ============================================================================ public API
def save(model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` as a safetensors model file, atomically.

    The weights are stored as tensors ``W1, b1, …`` and everything else needed to
    rebuild the model (class, hyperparameters, architecture, classes, training summary)
    as a JSON document in the file's metadata. The file is written to a temporary file
    in the same directory, flushed to disk and renamed over ``path``: an interrupted
    save leaves any existing file at ``path`` untouched.

    Parameters
    ----------
    model : Network or Perceptron (fitted)
    path : str or os.PathLike
        Destination file, conventionally ending in ``.safetensors``; an existing file
        is replaced.

    Raises
    ------
    TypeError
        ``model`` is of a class that cannot be saved.
    sklearn.exceptions.NotFittedError
        An estimator that was never fitted.
    ValueError
        The model uses a custom (non built-in) activation or loss.
    IsADirectoryError, FileNotFoundError
        ``path`` is a directory, or its directory does not exist.

    Examples
    --------
    >>> import numpy as np, nnmath, pathlib, tempfile
    >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = [0, 0, 0, 1]
    >>> clf = nnmath.Perceptron(activation="step", random_state=0).fit(X, y)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "and.safetensors"
    >>> nnmath.save(clf, path)
    >>> nnmath.load(path).predict(X).tolist()
    [0, 0, 0, 1]
    """
    codec = _CODECS.get(type(model).__name__)
    if codec is None or type(model) is not codec.cls:
        raise TypeError(
            f"cannot save a {type(model).__module__}.{type(model).__qualname__}; "
            f"nnmath.save supports {', '.join(sorted(_CODECS))}"
        )
    body, tensors = codec.to_document(model)
    from nnmath import __version__

    document = {
        "format_version": FORMAT_VERSION,
        "nnmath_version": __version__,
        "class": type(model).__name__,
        **body,
    }
    text = json.dumps(document, allow_nan=True)
    arrays = {name: np.ascontiguousarray(t) for name, t in tensors.items()}  # must be dense
    data = safetensors.numpy.save(arrays, metadata={"nnmath": text})
    _atomic_write(os.fspath(path), data)


def load(path: str | os.PathLike):
    """Read a model written by :func:`save`.

    Never unpickles and never runs code from the file. The loaded model predicts
    exactly (bit for bit) what the saved one did, in the same dtype.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    model : Network or Perceptron
        The class named in the file.

    Raises
    ------
    ModelFileError
        The file is not a valid nnmath model file (empty, truncated, another format,
        garbled or missing metadata, a newer format version, weights that disagree
        with the architecture…); the message says what is wrong.
    FileNotFoundError, IsADirectoryError
        Nothing at ``path``, or a directory.

    Examples
    --------
    >>> import numpy as np, nnmath, pathlib, tempfile
    >>> net = nnmath.Network([2, 3, 1], activation="tanh", random_state=0)
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.safetensors"
    >>> nnmath.save(net, path)
    >>> loaded = nnmath.load(path)
    >>> bool((loaded.forward(np.ones((1, 2))) == net.forward(np.ones((1, 2)))).all())
    True
    """
    document, tensors = _read(path)
    codec = _CODECS[document["class"]]
    try:
        model = codec.from_document(document, tensors)
    except ModelFileError as exc:
        raise ModelFileError(f"{_where(path)}: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"{_where(path)}: invalid model description: {exc}") from exc
    if tensors:
        raise ModelFileError(
            f"{_where(path)}: unexpected tensors {sorted(tensors)} that a "
            f"{document['class']} does not have"
        )
    return model


def read_metadata(path: str | os.PathLike) -> dict:
    """The model document of a model file, without building the model.

    The container, the tensors' offsets, the format version and the class are checked
    as by :func:`load`; the rest of the document is returned as stored.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    dict
        The JSON document (see the module's docstring for its keys).

    Examples
    --------
    >>> import nnmath, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.safetensors"
    >>> nnmath.save(nnmath.Network([4, 2], random_state=0), path)
    >>> nnmath.io.read_metadata(path)["layer_sizes"]
    [4, 2]
    """
    return _read(path)[0]


# ============================================================================ writing
def _write_payload(f, data: bytes) -> None:
    """Write the file's bytes (a seam for the atomic-save test)."""
    f.write(data)


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, rename it over."""
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{path!r} is a directory; give a file path such as "
            f"{os.path.join(path, 'model.safetensors')!r}"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path!r}: directory {directory!r} does not exist")
    try:
        mode = os.stat(path).st_mode & 0o777  # keep an existing file's permissions
    except FileNotFoundError:
        umask = os.umask(0o022)  # read the umask (there is no other portable way)
        os.umask(umask)
        mode = 0o666 & ~umask  # what open() would have given a new file
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_payload(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable (POSIX); not possible everywhere
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# ============================================================================ reading
def _where(path) -> str:
    return f"{os.fspath(path)!s}"


def _sniff(head: bytes) -> str:
    """A hint at what a file that is not a model file might be."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return " (it looks like a zip archive)"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return " (it looks like a Python pickle; nnmath never unpickles)"
    if head.startswith(b"\x93NUMPY"):
        return " (it looks like a NumPy .npy file)"
    if head.startswith(b"\x89HDF"):
        return " (it looks like an HDF5 file)"
    if head and all(32 <= c < 127 or c in b"\t\r\n" for c in head):
        return " (it looks like a text file)"
    return ""


def _read_exact(f, n: int, what: str, path) -> bytes:
    """Read exactly ``n`` bytes (the caller has checked that they exist)."""
    data = f.read(n)
    if len(data) != n:
        raise ModelFileError(
            f"{_where(path)}: file ended while reading the {what} "
            f"({len(data)} of {n} bytes); it changed while being read or is truncated"
        )
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _parse_json(text: str | bytes, what: str, path) -> Any:
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise ModelFileError(f"{_where(path)}: the {what} is not UTF-8 text") from None
    except RecursionError:
        raise ModelFileError(f"{_where(path)}: the {what} is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError, duplicate keys, giant integers
        raise ModelFileError(f"{_where(path)}: the {what} is not valid JSON: {exc}") from None


def _read(path) -> tuple[Document, Tensors]:
    """Open, check and parse a model file: (document, tensors by name)."""
    where = _where(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where!r} is a directory, not a model file")
    with open(path, "rb") as f:  # FileNotFoundError for a missing path
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise ModelFileError(f"{where}: the file is empty, not an nnmath model file")
        if size < 8:
            head = _read_exact(f, size, "file", path)
            raise ModelFileError(
                f"{where}: the file is {size} bytes, too short for a safetensors model file "
                f"(it starts with an 8-byte header length){_sniff(head)}"
            )
        head = _read_exact(f, 8, "header length", path)
        (n,) = struct.unpack("<Q", head)
        if n > MAX_HEADER_BYTES or n > size - 8:
            limit = "over the 100 MB limit" if n > MAX_HEADER_BYTES else "truncated?"
            raise ModelFileError(
                f"{where}: not a safetensors model file: the header length field claims "
                f"{n} bytes but the file has only {size - 8} after it ({limit})"
                f"{_sniff(head)}"
            )
        header = _parse_json(_read_exact(f, n, "header", path), "safetensors header", path)
        if not isinstance(header, dict):
            raise ModelFileError(
                f"{where}: the safetensors header must be a JSON object; got "
                f"{type(header).__name__}"
            )
        document = _document(header.pop("__metadata__", None), path)
        buffer_size = size - 8 - n
        layout = _tensor_layout(header, buffer_size, path)
        buffer = _read_exact(f, buffer_size, "tensor data", path)
    tensors = {
        name: np.frombuffer(buffer, dtype=dt, count=count, offset=begin).reshape(shape)
        for name, (dt, shape, begin, count) in layout.items()
    }
    return document, tensors


def _document(metadata, path) -> Document:
    """Check the ``__metadata__`` and parse the model document it holds."""
    where = _where(path)
    if metadata is None:
        raise ModelFileError(
            f"{where}: the safetensors header has no __metadata__, so this is not an "
            "nnmath model file (a safetensors file from another program?)"
        )
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{where}: __metadata__ must be a JSON object of strings")
    if "nnmath" not in metadata:
        raise ModelFileError(
            f"{where}: __metadata__ has no 'nnmath' entry, so this is not an nnmath model "
            f"file (keys found: {sorted(metadata)})"
        )
    doc = _parse_json(metadata["nnmath"], "'nnmath' metadata", path)
    if not isinstance(doc, dict):
        raise ModelFileError(
            f"{where}: the 'nnmath' metadata must be a JSON object; got {type(doc).__name__}"
        )
    version = doc.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(
            f"{where}: 'format_version' must be a positive integer; got {version!r}"
        )
    if version > FORMAT_VERSION:
        from nnmath import __version__

        raise ModelFileError(
            f"{where}: written in model-file format version {version} by nnmath "
            f"{doc.get('nnmath_version', '?')}; this nnmath ({__version__}) reads versions "
            f"up to {FORMAT_VERSION}. Upgrade nnmath to load it."
        )
    cls = doc.get("class")
    if not isinstance(cls, str) or cls not in _CODECS:
        raise ModelFileError(
            f"{where}: unknown model class {cls!r}; this nnmath can load "
            f"{', '.join(sorted(_CODECS))}"
        )
    return doc


def _tensor_layout(header: dict, buffer_size: int, path) -> dict:
    """Check every tensor entry; name → (dtype, shape, begin offset, element count).

    The tensors must tile the byte buffer exactly: in bounds, no overlap, no gap.
    """
    where = _where(path)
    layout = {}
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ModelFileError(
                f"{where}: tensor {name!r} must be an object with exactly 'dtype', 'shape' "
                f"and 'data_offsets'; got {entry!r:.200}"
            )
        tag, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if tag not in _TENSOR_DTYPES:
            raise ModelFileError(
                f"{where}: tensor {name!r} has dtype {tag!r}; model weights are F32 or F64"
            )
        if not (isinstance(shape, list) and all(_is_int(d) and d >= 0 for d in shape)):
            raise ModelFileError(
                f"{where}: tensor {name!r} has shape {shape!r}; expected a list of integers ≥ 0"
            )
        if not (
            isinstance(offsets, list) and len(offsets) == 2 and all(_is_int(o) for o in offsets)
        ):
            raise ModelFileError(
                f"{where}: tensor {name!r} has data_offsets {offsets!r}; expected [begin, end]"
            )
        begin, end = offsets
        if not 0 <= begin <= end <= buffer_size:
            raise ModelFileError(
                f"{where}: tensor {name!r} has data_offsets [{begin}, {end}] outside the "
                f"{buffer_size} bytes of tensor data in the file (truncated?)"
            )
        dt = _TENSOR_DTYPES[tag]
        count = math.prod(shape)
        if end - begin != count * dt.itemsize:
            raise ModelFileError(
                f"{where}: tensor {name!r} of shape {shape} and dtype {tag} needs "
                f"{count * dt.itemsize} bytes but its data_offsets [{begin}, {end}] span "
                f"{end - begin}"
            )
        layout[name] = (dt, tuple(shape), begin, count)
    position = 0
    for name, (dt, _shape, begin, count) in sorted(layout.items(), key=lambda kv: kv[1][2]):
        if begin != position:
            problem = "overlaps the previous tensor" if begin < position else "leaves a gap"
            raise ModelFileError(
                f"{where}: tensor {name!r} starts at byte {begin} and {problem} "
                f"(expected {position}); the data_offsets are inconsistent"
            )
        position = begin + count * dt.itemsize
    if position != buffer_size:
        raise ModelFileError(
            f"{where}: the tensors cover {position} bytes but the file holds {buffer_size} "
            "bytes of tensor data; the data_offsets are inconsistent"
        )
    return layout


# ============================================================================ helpers
def _is_int(x) -> bool:
    return type(x) is int  # not bool, not float


def _is_number(x) -> bool:
    return type(x) in (int, float)


def _get(doc: Document, key: str, check: Callable[[Any], bool], expected: str):
    """``doc[key]`` when present and of the expected kind, else ModelFileError."""
    if key not in doc:
        raise ModelFileError(f"the model document has no {key!r}")
    value = doc[key]
    if not check(value):
        raise ModelFileError(f"{key!r} must be {expected}; got {value!r:.200}")
    return value


def _list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _is_number_or_none(x) -> bool:
    return x is None or _is_number(x)


def _list_of_numbers_or_none(x) -> bool:
    return x is None or _list_of(_is_number)(x)


def _to_json(value) -> tuple[bool, Any]:
    """(True, a JSON-able copy of ``value``) or (False, None)."""
    if value is None or isinstance(value, (bool, str)):
        return True, value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return True, int(value)
    if isinstance(value, np.bool_):
        return True, bool(value)
    if isinstance(value, (float, np.floating)):
        return True, float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.ndim <= 1:
        return True, value.tolist()
    if isinstance(value, (list, tuple)):
        items = [_to_json(v) for v in value]
        if all(ok for ok, _ in items):
            return True, [v for _, v in items]
        return False, None
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _to_json(v) for k, v in value.items()}
        if all(ok for ok, _ in items.values()):
            return True, {k: v for k, (_, v) in items.items()}
    return False, None


# ---------------------------------------------------------------- hyperparameters
def _hyperparameters_to_document(params: dict) -> Document:
    """{"hyperparameters": …} plus "hyperparameters_not_saved" for non-JSON values.

    A value that is not JSON (a callable, a numpy Generator, an arbitrary object) is
    stored as null with a note, never pickled. Tuples become lists.
    """
    saved, notes = {}, {}
    for name, value in params.items():
        ok, converted = _to_json(value)
        saved[name] = converted
        if not ok:
            notes[name] = (
                f"{type(value).__module__}.{type(value).__qualname__} is not "
                "JSON-serialisable and model files never pickle; saved as null. Set it "
                "again after loading if you refit."
            )
    doc: Document = {"hyperparameters": saved}
    if notes:
        doc["hyperparameters_not_saved"] = notes
    return doc


def _set_hyperparameters(model, doc: Document) -> None:
    """Set the constructor parameters of ``model`` from the document, as attributes.

    ``__init__`` is not called. A parameter missing from the file takes the
    constructor's default (a file from an older nnmath); an unknown one is an error.
    """
    params = _get(doc, "hyperparameters", lambda v: isinstance(v, dict), "an object")
    signature = inspect.signature(type(model).__init__)
    names = [p for p in signature.parameters if p != "self"]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise ModelFileError(
            f"hyperparameters {unknown} are not parameters of {type(model).__name__} "
            f"(which takes {names})"
        )
    for name in names:
        if name in params:
            setattr(model, name, params[name])
        else:
            setattr(model, name, signature.parameters[name].default)


# ---------------------------------------------------------------- activations, losses
def _component_to_document(obj, get, kind: str) -> dict:
    """{"name": …, **parameters} of a built-in activation or loss."""
    name = obj.name
    try:
        builtin = type(get(name))
    except ValueError:
        builtin = None
    if builtin is not type(obj):
        raise ValueError(
            f"cannot save the custom {kind} {obj!r}: model files store only nnmath's "
            f"built-in {kind}s, by name"
        )
    doc = {"name": name}
    for key, value in vars(obj).items():
        ok, converted = _to_json(value)
        if not ok:
            raise ValueError(f"cannot save {kind} {obj!r}: parameter {key}={value!r} is not JSON")
        doc[key] = converted
    return doc


def _component_from_document(doc, get, kind: str):
    """Rebuild a built-in activation or loss from {"name": …, **parameters}."""
    if not (isinstance(doc, dict) and isinstance(doc.get("name"), str)):
        raise ModelFileError(f"each {kind} must be an object with a 'name'; got {doc!r:.200}")
    params = {k: v for k, v in doc.items() if k != "name"}
    if not all(_is_number(v) for v in params.values()):
        raise ModelFileError(f"{kind} parameters must be numbers; got {params!r:.200}")
    try:
        cls = type(get(doc["name"]))
        return cls(**params) if params else cls()
    except (ValueError, TypeError, OverflowError) as exc:
        raise ModelFileError(f"invalid {kind} {doc!r:.200}: {exc}") from None


# ---------------------------------------------------------------- the network
def _network_to_document(net: Network) -> tuple[Document, Tensors]:
    """The architecture fields of the document, and the tensors W1, b1, …, WL, bL."""
    doc = {
        "layer_sizes": [int(n) for n in net.layer_sizes],
        "activations": [
            _component_to_document(a, _activations.get, "activation") for a in net.activations
        ],
        "loss": _component_to_document(net.loss, _losses.get, "loss"),
        "dtype": net.dtype.name,
        "dropout": [float(p) for p in net.dropout],
    }
    tensors = {}
    for l, (W, b) in enumerate(zip(net.W, net.b, strict=True), start=1):
        tensors[f"W{l}"], tensors[f"b{l}"] = W, b
    return doc, tensors


def _network_from_document(doc: Document, tensors: Tensors) -> Network:
    """Build the Network the document describes and copy its weights in exactly.

    Pops W1, b1, … from ``tensors``. Every shape is checked against ``layer_sizes``
    before anything is allocated, so the network is never larger than the file.
    """
    sizes = _get(doc, "layer_sizes", _list_of(_is_int), "a list of integers")
    if len(sizes) < 2 or min(sizes) < 1:
        raise ModelFileError(f"'layer_sizes' must have ≥ 2 entries, all ≥ 1; got {sizes}")
    n_layers = len(sizes) - 1
    acts = _get(doc, "activations", lambda v: isinstance(v, list), "a list")
    if len(acts) != n_layers:
        raise ModelFileError(
            f"'activations' has {len(acts)} entries but layer_sizes {sizes} has "
            f"{n_layers} weight layers"
        )
    dropout = _get(doc, "dropout", _list_of(_is_number), "a list of numbers")
    if len(dropout) != n_layers - 1:
        raise ModelFileError(
            f"'dropout' has {len(dropout)} entries but there are {n_layers - 1} hidden layers"
        )
    activations = [_component_from_document(a, _activations.get, "activation") for a in acts]
    loss = _component_from_document(doc.get("loss"), _losses.get, "loss")
    dtype = np.dtype(
        _get(
            doc,
            "dtype",
            lambda v: isinstance(v, str) and v in _DTYPE_TAGS,
            "'float32' or 'float64'",
        )
    )

    names = [f"{p}{l}" for l in range(1, n_layers + 1) for p in ("W", "b")]
    missing = [name for name in names if name not in tensors]
    if missing:
        raise ModelFileError(f"tensors {missing} are missing for layer_sizes {sizes}")
    weights = []
    for l in range(n_layers):
        for name, shape in (
            (f"W{l + 1}", (sizes[l], sizes[l + 1])),
            (f"b{l + 1}", (sizes[l + 1],)),
        ):
            if tensors[name].dtype.itemsize != dtype.itemsize:
                raise ModelFileError(
                    f"tensor {name!r} is {tensors[name].dtype.name} but the model's dtype "
                    f"is {dtype.name}"
                )
            if tensors[name].shape != shape:
                raise ModelFileError(
                    f"tensor {name!r} has shape {tensors[name].shape} but layer_sizes "
                    f"{sizes} needs {shape}"
                )
            weights.append(tensors[name])
    try:
        net = Network(
            sizes,
            activation=activations[:-1],
            output_activation=activations[-1],
            loss=loss,
            dtype=dtype,
            random_state=0,  # drawn, then overwritten by the file's weights
            dropout=[float(p) for p in dropout],
        )
    except ValueError as exc:
        raise ModelFileError(f"invalid network description: {exc}") from None
    for param, value in zip(net.parameters(), weights, strict=True):
        param[...] = value  # same dtype: an exact copy
    for name in names:
        del tensors[name]
    return net


# ---------------------------------------------------------------- fitted attributes
_CLASS_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|U\d{1,6}|O)$")
_MAX_CLASSES_BYTES = 64 * 2**20  # a wide string dtype must not allocate gigabytes


def _classes_to_document(classes: np.ndarray) -> dict:
    """{"dtype": numpy dtype string, "values": [...]}: labels keep their type."""
    classes = np.asarray(classes)
    if not _CLASS_DTYPE.match(classes.dtype.str) or classes.ndim != 1:
        raise ValueError(f"cannot save classes_ of dtype {classes.dtype} and shape {classes.shape}")
    values = classes.tolist()
    if classes.dtype.kind == "O":
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
        if not all(type(v) in (str, int, float, bool) for v in values):
            raise ValueError(
                "cannot save classes_ holding objects other than str, int, float, bool"
            )
    return {"dtype": classes.dtype.str, "values": values}


def _classes_from_document(doc) -> np.ndarray:
    if not (isinstance(doc, dict) and set(doc) == {"dtype", "values"}):
        raise ModelFileError(f"'classes_' must be {{'dtype': …, 'values': […]}}; got {doc!r:.200}")
    dtype, values = doc["dtype"], doc["values"]
    if not (isinstance(dtype, str) and _CLASS_DTYPE.match(dtype)):
        raise ModelFileError(f"'classes_' has unsupported dtype {dtype!r}")
    dt = np.dtype(dtype)
    if isinstance(values, list) and len(values) * dt.itemsize > _MAX_CLASSES_BYTES:
        raise ModelFileError(
            f"'classes_' of {len(values)} values of dtype {dtype!r} would take "
            f"{len(values) * dt.itemsize} bytes; the limit is {_MAX_CLASSES_BYTES}"
        )
    check = {
        "b": lambda v: type(v) is bool,
        "i": _is_int,
        "u": _is_int,
        "f": _is_number,
        "U": lambda v: isinstance(v, str) and len(v) <= dt.itemsize // 4,
        "O": lambda v: type(v) in (str, int, float, bool),
    }[dt.kind]
    if not (isinstance(values, list) and all(check(v) for v in values)):
        raise ModelFileError(f"'classes_' values {values!r:.200} do not fit dtype {dtype!r}")
    if len(values) < 2:
        raise ModelFileError(f"'classes_' must hold at least two classes; got {values!r}")
    try:
        if dt.kind == "O":
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
        return np.array(values, dtype=dt)
    except (OverflowError, ValueError) as exc:
        raise ModelFileError(f"'classes_' values do not fit dtype {dtype!r}: {exc}") from None


#: Training-summary attributes and the check of each value.
_TRAINING_ATTRIBUTES: dict[str, Callable[[Any], bool]] = {
    "n_iter_": _is_int,
    "t_": _is_int,
    "loss_": _is_number_or_none,
    "loss_curve_": _list_of(_is_number),
    "validation_loss_curve_": _list_of_numbers_or_none,
    "validation_scores_": _list_of_numbers_or_none,
    "best_loss_": _is_number_or_none,
    "best_validation_score_": _is_number_or_none,
    "best_epoch_": lambda v: v is None or _is_int(v),
    "stop_reason_": lambda v: isinstance(v, str),
    "converged_": lambda v: type(v) is bool,
    "fit_time_": _is_number,
}


def _estimator_to_document(model) -> Document:
    """Hyperparameters, n_features_in_, feature_names_in_, classes_ and training."""
    doc = _hyperparameters_to_document(model.get_params(deep=False))
    doc["n_features_in_"] = int(model.n_features_in_)
    if hasattr(model, "feature_names_in_"):
        doc["feature_names_in_"] = [str(n) for n in model.feature_names_in_]
    if hasattr(model, "classes_"):
        doc["classes_"] = _classes_to_document(model.classes_)
    training = {}
    for name in _TRAINING_ATTRIBUTES:
        if hasattr(model, name):
            ok, value = _to_json(getattr(model, name))
            if ok:
                training[name] = value
    if training:
        doc["training"] = training
    return doc


def _estimator_from_document(model, doc: Document, n_inputs: int) -> None:
    """Set the attributes :func:`_estimator_to_document` saved (not the network)."""
    _set_hyperparameters(model, doc)
    n_features = _get(doc, "n_features_in_", _is_int, "an integer")
    if n_features != n_inputs:
        raise ModelFileError(
            f"'n_features_in_' is {n_features} but the network takes {n_inputs} inputs"
        )
    model.n_features_in_ = n_features
    if "feature_names_in_" in doc:
        names = _get(doc, "feature_names_in_", _list_of(lambda v: isinstance(v, str)), "strings")
        if len(names) != n_features:
            raise ModelFileError(
                f"'feature_names_in_' has {len(names)} names for {n_features} features"
            )
        model.feature_names_in_ = np.asarray(names, dtype=object)
    training = doc.get("training", {})
    if not isinstance(training, dict):
        raise ModelFileError(f"'training' must be an object; got {training!r:.200}")
    for name, value in training.items():
        check = _TRAINING_ATTRIBUTES.get(name)
        if check is None:
            raise ModelFileError(f"'training' has an unknown entry {name!r}")
        if not check(value):
            raise ModelFileError(f"training entry {name!r} has the wrong type: {value!r:.200}")
        if isinstance(value, list):
            value = [float(v) for v in value]
        setattr(model, name, value)


# ============================================================================ per class
def _encode_network(net: Network) -> tuple[Document, Tensors]:
    doc, tensors = _network_to_document(net)
    return {"hyperparameters": {}, **doc}, tensors


def _decode_network(doc: Document, tensors: Tensors) -> Network:
    return _network_from_document(doc, tensors)


def _encode_perceptron(model: Perceptron) -> tuple[Document, Tensors]:
    check_is_fitted(model, "network_")
    net_doc, tensors = _network_to_document(model.network_)
    return {**_estimator_to_document(model), **net_doc}, tensors


def _decode_perceptron(doc: Document, tensors: Tensors) -> Perceptron:
    model = Perceptron.__new__(Perceptron)  # no __init__: set attributes only
    net = _network_from_document(doc, tensors)
    _estimator_from_document(model, doc, net.layer_sizes[0])
    if net.n_layers != 1:
        raise ModelFileError(
            f"a Perceptron has one weight layer; got layer_sizes {net.layer_sizes}"
        )
    expected = "step" if model.activation == "step" else "sigmoid"
    if net.activations[0].name != expected:
        raise ModelFileError(
            f"a Perceptron with activation={model.activation!r} has a {expected} neuron; "
            f"the file's network has {net.activations[0].name}"
        )
    if "classes_" not in doc:
        raise ModelFileError("the model document has no 'classes_'")
    model.classes_ = _classes_from_document(doc["classes_"])
    n_out = 1 if len(model.classes_) == 2 else len(model.classes_)
    if net.layer_sizes[-1] != n_out:
        raise ModelFileError(
            f"{len(model.classes_)} classes need {n_out} output(s); the network has "
            f"{net.layer_sizes[-1]}"
        )
    model.network_ = net
    return model


_register(Network, _encode_network, _decode_network)
_register(Perceptron, _encode_perceptron, _decode_perceptron)


def _encode_mlp(model) -> tuple[Document, Tensors]:
    check_is_fitted(model, "network_")
    net_doc, tensors = _network_to_document(model.network_)
    doc = {**_estimator_to_document(model), **net_doc}
    if isinstance(model, MLPClassifier):
        doc["label_type"] = model.label_type_
    return doc, tensors


def _mlp_decoder(cls):
    def decode(doc: Document, tensors: Tensors):
        model = cls.__new__(cls)  # no __init__: set attributes only
        net = _network_from_document(doc, tensors)
        _estimator_from_document(model, doc, net.layer_sizes[0])
        if isinstance(model.hidden_layer_sizes, list):
            model.hidden_layer_sizes = tuple(model.hidden_layer_sizes)
        model.network_ = net
        model.n_outputs_ = net.layer_sizes[-1]
        model.n_layers_ = len(net.layer_sizes)
        out = net.activations[-1].name
        model.out_activation_ = "logistic" if out == "sigmoid" else out
        if cls is MLPClassifier:
            if "classes_" not in doc:
                raise ModelFileError("the model document has no 'classes_'")
            model.classes_ = _classes_from_document(doc["classes_"])
            label_type = _get(
                doc,
                "label_type",
                lambda v: v in ("binary", "multiclass", "multilabel-indicator"),
                "'binary', 'multiclass' or 'multilabel-indicator'",
            )
            expected = 1 if label_type == "binary" else len(model.classes_)
            if model.n_outputs_ != expected:
                raise ModelFileError(
                    f"{len(model.classes_)} {label_type} classes need {expected} output(s); "
                    f"the network has {model.n_outputs_}"
                )
            binarizer = LabelBinarizer()
            if label_type == "multilabel-indicator":
                binarizer.fit(np.eye(len(model.classes_), dtype=int))
                binarizer.classes_ = model.classes_
            else:
                binarizer.fit(model.classes_)
            model._label_binarizer = binarizer
        return model

    return decode


def _encode_pipeline(pipeline: Pipeline) -> tuple[Document, Tensors]:
    steps = dict(pipeline.steps)
    pre, model = steps.get("preprocess"), steps.get("model")
    if len(steps) != 2 or not isinstance(pre, TabularPreprocessor) or model is None:
        raise TypeError(
            "a Pipeline is saved only in the form the nnmath command builds: "
            "[('preprocess', TabularPreprocessor), ('model', an nnmath model)]"
        )
    codec = _CODECS.get(type(model).__name__)
    if codec is None or codec.cls is Pipeline:
        raise TypeError(f"cannot save a Pipeline whose model is a {type(model).__name__}")
    doc, tensors = codec.to_document(model)
    return {**doc, "model_class": type(model).__name__, "preprocessing": pre.to_document()}, tensors


def _decode_pipeline(doc: Document, tensors: Tensors) -> Pipeline:
    name = _get(doc, "model_class", lambda v: isinstance(v, str), "a class name")
    codec = _CODECS.get(name)
    if codec is None or codec.cls is Pipeline:
        raise ModelFileError(f"'model_class' {name!r} is not a model nnmath can load")
    model = codec.from_document(doc, tensors)
    try:
        pre = TabularPreprocessor.from_document(doc.get("preprocessing"))
    except ValueError as exc:
        raise ModelFileError(str(exc)) from None
    n_inputs = len(pre.get_feature_names_out())
    if n_inputs != model.n_features_in_:
        raise ModelFileError(
            f"the preprocessing makes {n_inputs} inputs but the model takes {model.n_features_in_}"
        )
    return Pipeline([("preprocess", pre), ("model", model)])


_register(MLPClassifier, _encode_mlp, _mlp_decoder(MLPClassifier))
_register(MLPRegressor, _encode_mlp, _mlp_decoder(MLPRegressor))
_register(Pipeline, _encode_pipeline, _decode_pipeline)
