"""Model files: one safetensors file holding the weights and a JSON description.

Layout of a model file (``format_version`` 1)::

    8 bytes       N, the header length, a little-endian unsigned 64-bit integer
    N bytes       the header, a JSON object:
                    {"W1": {"dtype": "F64", "shape": [n0, n1], "data_offsets": [0, e1]},
                     "b1": {...}, ..., "WL": {...}, "bL": {...},
                     "__metadata__": {"nnmath": "<the model document, JSON text>",
                                      "nnmath_sha256_document": "<64 hex digits>",
                                      "nnmath_sha256_weights": "<64 hex digits>"}}
    the rest      the tensors' bytes, little-endian, in the order of their offsets

The two checksums (see :mod:`nnmath.io.container`) make a damaged file fail to load
instead of predicting something else; a file written before they existed loads without
them, with a :class:`NoChecksumWarning` (:func:`checksummed` says which kind a file is).
The checksums detect accidents, not a forger: whoever edits a file can recompute them.
What protects prediction from an edited file is that every value of the document is
checked for what prediction will do with it, as it is read.

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
    training_state    only in a resumable file (``save(..., training_state=True)``) of an
                      MLPClassifier/MLPRegressor: {"optimizer": {"name": "adam",
                      "hyperparameters": {…}, "counters": {"t": …}}, "schedule":
                      {"name": "constant"}, "history": {"n_iter": …, "t": …,
                      "loss_curve": […], …}, "dropout_rng": {"bit_generator": "PCG64",
                      "state": {…}}, "best_theta": "current" or "tensor"}, with the
                      tensors ``optimizer.velocity`` (SGD with momentum) or
                      ``optimizer.m`` and ``optimizer.u`` (Adam's moments, rescaled as
                      m/(1 − β₁) and v/(1 − β₂)) and ``best_theta``, each laid out as θ

A pickle of a model is this same document (its training state always included) and
its tensors; what no name describes (a custom activation, a callable hyperparameter)
travels in the pickle beside it, while a model file holds names only.

Non-finite floats (a best loss of inf) are written as Python's ``json`` writes them
(``Infinity``, ``NaN``). Unknown keys of the document are ignored.

Loading never unpickles and never runs anything taken from the file: the header is
JSON, the tensors are raw floats, and the model is rebuilt from nnmath's own classes
by name. Every way a file can fail to be a model raises :class:`ModelFileError` (with
a message of at most a few hundred characters), before any model is returned; nothing
past the file's size is ever read, and the work a file can cause is bounded by the
limits of :mod:`nnmath.io.container` and :mod:`nnmath.document`.

Each model class describes itself: ``model.to_document()`` returns its fields and its
tensors, ``cls.from_document(document, tensors)`` rebuilds it (the checks they share
are in :mod:`nnmath.document`). This package adds the fields every file has
(``format_version``, ``nnmath_version``, ``class``), keeps the classes it can load by
name (:data:`MODEL_CLASSES`), and hands the bytes to :mod:`nnmath.io.container`. A
Pipeline (scikit-learn's class) is described here: the command's preprocessing and its
model.
"""

from __future__ import annotations

import json
import os
import struct
import warnings
from typing import Any

import numpy as np
import safetensors.numpy
from sklearn.pipeline import Pipeline

from nnmath.document import Document, ModelFileError, Tensors, check_strings, get, shorten
from nnmath.estimators import MLPClassifier, MLPRegressor
from nnmath.io import container
from nnmath.io.container import FORMAT_VERSION
from nnmath.network import Network
from nnmath.perceptron import Perceptron
from nnmath.preprocessing import TabularPreprocessor

__all__ = [
    "FORMAT_VERSION",
    "MODEL_CLASSES",
    "ModelFileError",
    "NoChecksumWarning",
    "checksummed",
    "from_bytes",
    "load",
    "read_metadata",
    "save",
    "to_bytes",
]


# ============================================================================ public API
class NoChecksumWarning(UserWarning):
    """A model file loaded without checksums: damage to it could not be detected.

    Files written before nnmath stored checksums have none, and so has a file whose two
    checksum entries were removed. Such a file still loads (every value of its document
    is checked as in any file); saving the loaded model again adds the checksums. Filter
    it as any warning class.

    Examples
    --------
    >>> import warnings, nnmath
    >>> warnings.filterwarnings("ignore", category=nnmath.io.NoChecksumWarning)
    >>> issubclass(nnmath.io.NoChecksumWarning, UserWarning)
    True
    """


def save(model, path: str | os.PathLike, training_state: bool = False) -> None:
    """Write ``model`` to ``path`` as a safetensors model file, atomically.

    The weights are stored as tensors ``W1, b1, …`` and everything else needed to
    rebuild the model (class, hyperparameters, architecture, classes, training summary)
    as a JSON document in the file's metadata, with a SHA-256 checksum of each. The
    file is written to a temporary file in the same directory, flushed to disk and
    renamed over ``path``: an interrupted save leaves any existing file at ``path``
    untouched, and no temporary file outlives the next save.

    Parameters
    ----------
    model : Network, Perceptron, MLPClassifier, MLPRegressor (fitted), or the command's
        Pipeline
    path : str or os.PathLike
        Destination file, conventionally ending in ``.safetensors``. An existing regular
        file is replaced; a symbolic link is followed and its target replaced (the link
        stays, as when an editor saves through it).
    training_state : bool, default False
        Also save what training needs to go on exactly where it stopped: a resumable
        file. An MLPClassifier or MLPRegressor loaded from it continues ``partial_fit``
        (or a ``warm_start`` fit) as the saved one would have, bit for bit: the
        optimizer's memory (SGD's velocity, Adam's moments and step count), the
        learning-rate schedule, the history (curves, best loss, the count of epochs
        without improvement, samples seen), the dropout stream and the best weights
        early stopping may still restore. Without it, the loaded model predicts the same
        and its next ``partial_fit`` starts a new optimizer. A Network and a Perceptron
        keep no training state (every fit starts afresh). The file is read with every
        check of any other.

    Raises
    ------
    TypeError
        ``model`` is of a class that cannot be saved.
    sklearn.exceptions.NotFittedError
        An estimator that was never fitted.
    ValueError
        The model uses a custom (non built-in) activation, loss or (with
        ``training_state``) learning-rate schedule, has weights that are
        not finite, or exceeds a limit of the format (a string of more than
        :data:`nnmath.document.MAX_STRING_CHARS` characters…): a file :func:`load`
        would refuse is never written.
    OSError
        ``IsADirectoryError`` (``path`` is a directory), ``FileExistsError`` (a FIFO,
        device or socket is there: never replaced), ``FileNotFoundError`` (no such
        directory), a name too long, no permission…; the message names ``path``.

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
    container.atomic_write(os.fspath(path), to_bytes(model, training_state=training_state))


def to_bytes(model, training_state: bool = False) -> bytes:
    """Return ``model`` as the bytes of a model file: what :func:`save` writes.

    For a model that travels without a file (a download, a database, a message);
    :func:`from_bytes` reads it back.

    Parameters
    ----------
    model : Network, Perceptron, MLPClassifier, MLPRegressor (fitted), or the command's
        Pipeline
    training_state : bool, default False
        As :func:`save`.

    Returns
    -------
    bytes
        A safetensors file with the model's description and checksums.

    Raises
    ------
    TypeError, sklearn.exceptions.NotFittedError, ValueError
        As :func:`save`.

    Examples
    --------
    >>> import numpy as np, nnmath
    >>> net = nnmath.Network([2, 1], random_state=0)
    >>> data = nnmath.io.to_bytes(net)
    >>> bool((nnmath.io.from_bytes(data).theta == net.theta).all())
    True
    """
    body, tensors = _describe(model, training_state)
    document = {
        "format_version": container.FORMAT_VERSION,
        "nnmath_version": container.nnmath_version(),
        "class": type(model).__name__,
        **body,
    }
    try:
        check_strings(document, "the model's description")
    except ModelFileError as exc:
        raise ValueError(f"cannot save this model: {exc}") from None
    text = json.dumps(document, allow_nan=True)
    arrays = {name: np.ascontiguousarray(t) for name, t in tensors.items()}  # must be dense
    metadata = {
        "nnmath": text,
        "nnmath_sha256_document": container.document_digest(text),
        "nnmath_sha256_weights": container.weights_digest(arrays),
    }
    data = safetensors.numpy.save(arrays, metadata=metadata)
    (n,) = struct.unpack("<Q", data[:8])
    try:
        container.check_header(data[8 : 8 + n], "the model's description")
    except ModelFileError as exc:
        raise ValueError(f"cannot save this model: {exc}") from None
    return data


def load(path: str | os.PathLike, xp=None, device=None):
    """Read a model written by :func:`save`.

    Never unpickles and never runs code from the file. The loaded model predicts
    exactly (bit for bit) what the saved one did, in the same dtype.

    Parameters
    ----------
    path : str or os.PathLike
    xp : array library, optional
        Place the model's network on this array library (``torch``, ``cupy``, …; see
        :class:`nnmath.Network`); None is NumPy.
    device : optional
        A device of ``xp`` (e.g. ``"cuda"``); None is its default.

    Returns
    -------
    model : Network or Perceptron
        The class named in the file.

    Raises
    ------
    ModelFileError
        The file is not a valid nnmath model file (empty, truncated, another format,
        garbled or missing metadata, a newer format version, weights that disagree
        with the architecture or their checksum, a value prediction could not use —
        a date format that does not read dates back, a scale whose inverse is not
        finite, input names given twice, hyperparameters that disagree with the
        weights —, a FIFO or a device…); the message says what is wrong, in at most a
        few hundred characters.
    FileNotFoundError, IsADirectoryError
        Nothing at ``path``, or a directory.

    Warns
    -----
    NoChecksumWarning
        The file has no checksums (written before nnmath stored them, or they were
        removed): it loads, but damage to it could not have been detected.

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
    document, tensors, checksummed = _read(path)
    return _model(document, tensors, checksummed, container.shown(path), xp, device)


def from_bytes(data: bytes, xp=None, device=None):
    """Read a model from the bytes of a model file (:func:`to_bytes`, or a file's contents).

    The same checks and the same model as :func:`load`; never unpickles.

    Parameters
    ----------
    data : bytes
    xp, device : optional
        As :func:`load`.

    Returns
    -------
    model

    Raises
    ------
    ModelFileError
        As :func:`load`, the messages naming "the model's bytes".
    TypeError
        ``data`` is not bytes.

    Warns
    -----
    NoChecksumWarning
        As :func:`load`.

    Examples
    --------
    >>> import nnmath
    >>> clf = nnmath.Perceptron(activation="step", random_state=0).fit([[0.0], [1.0]], [0, 1])
    >>> nnmath.io.from_bytes(nnmath.io.to_bytes(clf)).predict([[1.0]]).tolist()
    [1]
    """
    name = "the model's bytes"
    try:
        document, tensors, checksummed = container.read_bytes(data, MODEL_CLASSES, name)
    except ModelFileError as exc:
        raise ModelFileError(shorten(str(exc))) from None
    return _model(document, tensors, checksummed, name, xp, device)


def _model(document, tensors, checksummed: bool, where: str, xp, device):
    """Build the model a checked document describes (:func:`load`, :func:`from_bytes`)."""
    try:
        model = _rebuild(document, tensors, xp, device)
    except ModelFileError as exc:
        raise ModelFileError(shorten(f"{where}: {exc}")) from None
    except (ValueError, TypeError, LookupError, ArithmeticError, AttributeError) as exc:
        # Every field is checked as it is read; this is the net under those checks.
        raise ModelFileError(
            shorten(f"{where}: invalid model description: {type(exc).__name__}: {exc}")
        ) from exc
    if tensors:
        names = sorted(tensors)
        raise ModelFileError(
            f"{where}: unexpected tensors {names[:10]}{' …' * (len(names) > 10)} that a "
            f"{document['class']} does not have"
        )
    if not checksummed:
        warnings.warn(
            f"{where}: the model file has no checksums (written before nnmath stored them, "
            "or they were removed), so damage to it could not be detected; save the model "
            "again to add them",
            NoChecksumWarning,
            stacklevel=3,  # the line that called load or from_bytes
        )
    return model


def _read(path):
    """container.read, its messages cut to length."""
    try:
        return container.read(path, MODEL_CLASSES)
    except ModelFileError as exc:
        raise ModelFileError(shorten(str(exc))) from None


def read_metadata(path: str | os.PathLike) -> dict:
    """Read the model document of a model file, without building the model.

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


def checksummed(path: str | os.PathLike) -> bool:
    """Whether a model file carries checksums (and they match: a damaged file raises).

    Files written by nnmath since checksums exist carry them; older files do not, and
    still load with a :class:`NoChecksumWarning` (``nnmath info`` notes it).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    bool

    Raises
    ------
    ModelFileError
        As :func:`load`, for the container, the checksums and the document's version and
        class.

    Examples
    --------
    >>> import nnmath, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.safetensors"
    >>> nnmath.save(nnmath.Network([4, 2], random_state=0), path)
    >>> nnmath.io.checksummed(path)
    True
    """
    return _read(path)[2]


# ============================================================================ by class
#: The classes a model file can hold, by the name stored in its "class" field.
MODEL_CLASSES: dict[str, Any] = {
    cls.__name__: cls for cls in (Network, Perceptron, MLPClassifier, MLPRegressor, Pipeline)
}


def _describe(model, training_state: bool = False) -> tuple[Document, Tensors]:
    """Return (the class's fields, its tensors) of a model of one of :data:`MODEL_CLASSES`."""
    cls = MODEL_CLASSES.get(type(model).__name__)
    if cls is None or type(model) is not cls:
        raise TypeError(
            f"cannot save a {type(model).__module__}.{type(model).__qualname__}; "
            f"nnmath.save supports {', '.join(sorted(MODEL_CLASSES))}"
        )
    if cls is Pipeline:
        return _describe_pipeline(model, training_state)
    document, tensors = model.to_document(training_state=training_state)
    if cls is Network:
        document = {"hyperparameters": {}, **document}
    return document, tensors


def _rebuild(document: Document, tensors: Tensors, xp=None, device=None):
    cls = MODEL_CLASSES[document["class"]]
    if cls is Pipeline:
        return _rebuild_pipeline(document, tensors, xp, device)
    return cls.from_document(document, tensors, xp=xp, device=device)


def _describe_pipeline(pipeline: Pipeline, training_state: bool) -> tuple[Document, Tensors]:
    steps: dict[str, Any] = dict(pipeline.steps)
    pre, model = steps.get("preprocess"), steps.get("model")
    if len(steps) != 2 or not isinstance(pre, TabularPreprocessor) or model is None:
        raise TypeError(
            "a Pipeline is saved only in the form the nnmath command builds: "
            "[('preprocess', TabularPreprocessor), ('model', an nnmath model)]"
        )
    if type(model) not in (Perceptron, MLPClassifier, MLPRegressor):
        raise TypeError(f"cannot save a Pipeline whose model is a {type(model).__name__}")
    document, tensors = model.to_document(training_state=training_state)
    preprocessing = pre.to_document()
    try:  # what load checks: a saved file is one that loads
        TabularPreprocessor.from_document(json.loads(json.dumps(preprocessing)))
    except ModelFileError as exc:
        raise ValueError(f"cannot save this model's preprocessing: {exc}") from None
    document = {**document, "model_class": type(model).__name__, "preprocessing": preprocessing}
    return document, tensors


def _rebuild_pipeline(document: Document, tensors: Tensors, xp=None, device=None) -> Pipeline:
    name = get(document, "model_class", lambda v: isinstance(v, str), "a class name")
    cls = MODEL_CLASSES.get(name)
    if cls is None or cls in (Pipeline, Network):
        raise ModelFileError(f"'model_class' {name!r} is not a model nnmath can load")
    model = cls.from_document(document, tensors, xp=xp, device=device)
    pre = TabularPreprocessor.from_document(document.get("preprocessing"))
    n_inputs = len(pre.get_feature_names_out())
    if n_inputs != model.n_features_in_:
        raise ModelFileError(
            f"the preprocessing makes {n_inputs} inputs but the model takes {model.n_features_in_}"
        )
    return Pipeline([("preprocess", pre), ("model", model)])
