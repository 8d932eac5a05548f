"""Models described as JSON: the checked reading and writing of model documents.

A model file (:mod:`nnmath.io`) holds the weights as tensors and everything else as a
JSON document. Each model class describes itself — ``to_document()`` returns its part
of the document and its tensors, ``from_document(document, tensors)`` rebuilds it — and
this module holds what those methods share: typed getters that refuse a wrong kind of
value with a message naming the key (:func:`get`), JSON conversion of hyperparameters
(never pickled), the activations and losses by name, ``classes_`` with their dtype, and
the fitted attributes of an estimator.

Every problem found in a document raises :class:`ModelFileError`, with a message of at
most :data:`MAX_MESSAGE_CHARS` characters (:func:`shorten`). A real model never reaches
the limits :data:`MAX_STRING_CHARS` and :data:`MAX_CLASSES_BYTES`; a file beyond them is
refused before anything of that size is allocated.

Example
-------
>>> to_json((3, 2))
(True, [3, 2])
>>> get({"dtype": "float16"}, "dtype", lambda v: v in ("float32", "float64"), "'float32'")
Traceback (most recent call last):
...
nnmath.document.ModelFileError: 'dtype' must be 'float32'; got 'float16'
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from nnmath.core.arrays import to_numpy

__all__ = [
    "MAX_CLASSES_BYTES",
    "MAX_MESSAGE_CHARS",
    "MAX_STRING_CHARS",
    "Document",
    "ModelFileError",
    "Tensors",
    "TRAINING_ATTRIBUTES",
    "check_strings",
    "class_weight_from_document",
    "class_weight_to_document",
    "classes_from_document",
    "classes_to_document",
    "component_from_document",
    "component_to_document",
    "estimator_from_document",
    "estimator_to_document",
    "get",
    "hyperparameters_to_document",
    "is_int",
    "is_number",
    "is_number_or_none",
    "list_of",
    "list_of_numbers_or_none",
    "set_hyperparameters",
    "shorten",
    "to_json",
]

Document = dict[str, Any]
Tensors = dict[str, np.ndarray]

#: The longest string a model document may hold (a class label, a column name, a
#: category): far beyond any real one, and it bounds the width of a string dtype.
MAX_STRING_CHARS = 65_536

#: The most memory ``classes_`` may take once built (values × the dtype's item size).
MAX_CLASSES_BYTES = 16 * 2**20

#: Error messages about a file are cut to this many characters.
MAX_MESSAGE_CHARS = 500


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


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Cut ``text`` in the middle to at most ``limit`` characters.

    A message about a hostile file then stays short whatever the file holds.

    Examples
    --------
    >>> shorten("a" * 30 + "b" * 30, limit=21)
    'aaaaaaaaa … bbbbbbbbb'
    """
    if len(text) <= limit:
        return text
    keep = (limit - 3) // 2
    return f"{text[:keep]} … {text[len(text) - keep :]}"


def check_strings(value, what: str, max_chars: int | None = MAX_STRING_CHARS) -> None:
    r"""Raise ModelFileError unless every string in a parsed JSON value is valid and short enough.

    Every string, keys included, must be valid Unicode (no lone surrogate, which Python's
    ``json`` accepts as ``"\ud800"`` but which no UTF-8 writer can write back) and at most
    ``max_chars`` long.

    Walks the value without recursion, so any nesting ``json`` produced is checked.

    Examples
    --------
    >>> check_strings({"classes": ["a", "b"]}, "the document")
    >>> check_strings(["ok", chr(0xD800)], "the document")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nnmath.document.ModelFileError: the document holds a string that is not valid Unicode...
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings: Any = (item,)
        elif isinstance(item, dict):
            strings = item.keys()
            stack.extend(item.values())
            if not strings:
                continue
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for s in strings:
            if max_chars is not None and len(s) > max_chars:
                raise ModelFileError(
                    f"{what} holds a string of {len(s)} characters ({s[:40]!r}…); the limit "
                    f"is {max_chars}"
                )
            if not s.isascii():
                try:
                    s.encode("utf-8")
                except UnicodeEncodeError:
                    raise ModelFileError(
                        f"{what} holds a string that is not valid Unicode (a lone "
                        f"surrogate): {s!r:.80}"
                    ) from None


def is_int(x) -> bool:
    """Return True for a JSON integer (a Python int, not a bool or a float).

    Examples
    --------
    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return type(x) is int  # not bool, not float


def is_number(x) -> bool:
    """Return True for a JSON number (int or float, not bool)."""
    return type(x) in (int, float)


def get(doc: Document, key: str, check: Callable[[Any], bool], expected: str):
    """``doc[key]`` when present and of the expected kind, else ModelFileError.

    Examples
    --------
    >>> get({"layer_sizes": [2, 1]}, "layer_sizes", list_of(is_int), "a list of integers")
    [2, 1]
    """
    if key not in doc:
        raise ModelFileError(f"the model document has no {key!r}")
    value = doc[key]
    if not check(value):
        raise ModelFileError(f"{key!r:.100} must be {expected}; got {value!r:.200}")
    return value


def list_of(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Return a check for a JSON list whose items all pass ``check``."""
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def is_number_or_none(x) -> bool:
    """Return True for a JSON number or null."""
    return x is None or is_number(x)


def list_of_numbers_or_none(x) -> bool:
    """Return True for a list of JSON numbers, or null."""
    return x is None or list_of(is_number)(x)


def to_json(value) -> tuple[bool, Any]:
    """Return (True, a JSON-able copy of ``value``) or (False, None)."""
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
        items = [to_json(v) for v in value]
        if all(ok for ok, _ in items):
            return True, [v for _, v in items]
        return False, None
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        entries = {k: to_json(v) for k, v in value.items()}
        if all(ok for ok, _ in entries.values()):
            return True, {k: v for k, (_, v) in entries.items()}
    return False, None


# ---------------------------------------------------------------- hyperparameters
def hyperparameters_to_document(params: dict) -> Document:
    """{"hyperparameters": …} plus "hyperparameters_not_saved" for non-JSON values.

    A value that is not JSON (a callable, a numpy Generator, an arbitrary object) is
    stored as null with a note, never pickled. Tuples become lists.
    """
    saved, notes = {}, {}
    for name, value in params.items():
        ok, converted = to_json(value)
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


def set_hyperparameters(model, doc: Document) -> None:
    """Set the constructor parameters of ``model`` from the document, as attributes.

    ``__init__`` is not called. A parameter missing from the file takes the
    constructor's default (a file from an older nnmath); an unknown one is an error.
    """
    params = get(doc, "hyperparameters", lambda v: isinstance(v, dict), "an object")
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
def component_to_document(obj, lookup, kind: str) -> dict:
    """{"name": …, **parameters} of a built-in activation or loss."""
    name = obj.name
    try:
        builtin = type(lookup(name))
    except ValueError:
        builtin = None
    if builtin is not type(obj):
        raise ValueError(
            f"cannot save the custom {kind} {obj!r}: model files store only nnmath's "
            f"built-in {kind}s, by name"
        )
    doc = {"name": name}
    for key, value in vars(obj).items():
        ok, converted = to_json(value)
        if not ok:
            raise ValueError(f"cannot save {kind} {obj!r}: parameter {key}={value!r} is not JSON")
        doc[key] = converted
    return doc


def component_from_document(doc, lookup, kind: str):
    """Rebuild a built-in activation or loss from {"name": …, **parameters}."""
    if not (isinstance(doc, dict) and isinstance(doc.get("name"), str)):
        raise ModelFileError(f"each {kind} must be an object with a 'name'; got {doc!r:.200}")
    params = {k: v for k, v in doc.items() if k != "name"}
    if not all(is_number(v) for v in params.values()):
        raise ModelFileError(f"{kind} parameters must be numbers; got {params!r:.200}")
    try:
        cls = type(lookup(doc["name"]))
        return cls(**params) if params else cls()
    except (ValueError, TypeError, OverflowError) as exc:
        raise ModelFileError(f"invalid {kind} {doc!r:.200}: {exc}") from None


# ---------------------------------------------------------------- fitted attributes
_CLASS_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|U\d{1,6}|O)$")


def classes_to_document(classes) -> dict:
    """{"dtype": numpy dtype string, "values": [...]}: labels keep their type.

    Examples
    --------
    >>> classes_to_document(np.array(["no", "yes"]))
    {'dtype': '<U3', 'values': ['no', 'yes']}
    """
    classes = to_numpy(classes)  # classes of any array library, on the host
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


def classes_from_document(doc) -> np.ndarray:
    """Return the ``classes_`` array a :func:`classes_to_document` description holds.

    Checks the dtype, the values' kinds and the size before anything is allocated, then
    that the classes are distinct and in the order the model encodes them: sorted, as
    scikit-learn's ``LabelBinarizer`` stores them (output j of the network is class j).

    Examples
    --------
    >>> classes_from_document({"dtype": "<U3", "values": ["no", "yes"]})
    array(['no', 'yes'], dtype='<U3')
    """
    if not (isinstance(doc, dict) and set(doc) == {"dtype", "values"}):
        raise ModelFileError(f"'classes_' must be {{'dtype': …, 'values': […]}}; got {doc!r:.200}")
    dtype, values = doc["dtype"], doc["values"]
    if not (isinstance(dtype, str) and _CLASS_DTYPE.match(dtype)):
        raise ModelFileError(f"'classes_' has unsupported dtype {dtype!r:.100}")
    dt = np.dtype(dtype)
    if dt.kind == "U" and dt.itemsize // 4 > MAX_STRING_CHARS:
        raise ModelFileError(
            f"'classes_' has dtype {dtype!r}, strings of {dt.itemsize // 4} characters; the "
            f"limit is {MAX_STRING_CHARS}"
        )
    if isinstance(values, list) and len(values) * dt.itemsize > MAX_CLASSES_BYTES:
        raise ModelFileError(
            f"'classes_' of {len(values)} values of dtype {dtype!r} would take "
            f"{len(values) * dt.itemsize} bytes; the limit is {MAX_CLASSES_BYTES}"
        )
    check = {
        "b": lambda v: type(v) is bool,
        "i": is_int,
        "u": is_int,
        "f": lambda v: is_number(v) and math.isfinite(v),
        "U": lambda v: isinstance(v, str) and len(v) <= dt.itemsize // 4,
        "O": lambda v: type(v) in (str, int, bool) or (type(v) is float and math.isfinite(v)),
    }[dt.kind]
    if not (isinstance(values, list) and all(check(v) for v in values)):
        raise ModelFileError(f"'classes_' values {values!r:.200} do not fit dtype {dtype!r}")
    if not values:
        raise ModelFileError("'classes_' holds no class")
    try:
        if dt.kind == "O":
            out = np.empty(len(values), dtype=object)
            out[:] = values
        else:
            out = np.array(values, dtype=dt)
    except (OverflowError, ValueError) as exc:
        raise ModelFileError(f"'classes_' values do not fit dtype {dtype!r}: {exc}") from None
    try:  # strictly increasing: distinct and sorted
        ordered = all(a < b for a, b in zip(out[:-1], out[1:], strict=True))
    except TypeError:  # labels of kinds that do not compare (a str and an int)
        ordered = False
    if not ordered:
        raise ModelFileError(
            f"'classes_' must be distinct and sorted, the order in which the model's outputs "
            f"encode them; got {values!r:.200}"
        )
    return out


#: Training-summary attributes and the check of each value.
TRAINING_ATTRIBUTES: dict[str, Callable[[Any], bool]] = {
    "n_iter_": is_int,
    "t_": is_int,
    "loss_": is_number_or_none,
    "loss_curve_": list_of(is_number),
    "validation_loss_curve_": list_of_numbers_or_none,
    "validation_scores_": list_of_numbers_or_none,
    "best_loss_": is_number_or_none,
    "best_validation_score_": is_number_or_none,
    "best_epoch_": lambda v: v is None or is_int(v),
    "stop_reason_": lambda v: isinstance(v, str),
    "converged_": lambda v: type(v) is bool,
    "fit_time_": is_number,
}


def class_weight_to_document(class_weight):
    """Return a classifier's ``class_weight`` as JSON.

    None and "balanced" stay as they are; a dict becomes a list of ``[class, weight]``
    pairs, so that its keys keep their type (JSON's object keys are strings only). A
    value that is none of these is returned as it is (and saved as null).

    Examples
    --------
    >>> class_weight_to_document({0: 2, np.int64(1): 0.5})
    [[0, 2], [1, 0.5]]
    """
    if not isinstance(class_weight, dict):
        return class_weight
    pairs = [[to_json(key)[1], to_json(value)[1]] for key, value in class_weight.items()]
    labels = (str, int, float, bool)
    if all(isinstance(k, labels) and is_number(v) for k, v in pairs):
        return pairs
    return class_weight


def class_weight_from_document(value, classes=None):
    """Return the ``class_weight`` that :func:`class_weight_to_document` described.

    ``classes``, when given, are the model's: every class a dict names must be one.

    Examples
    --------
    >>> class_weight_from_document([[0, 2], [1, 0.5]])
    {0: 2, 1: 0.5}
    """
    if value is None or value == "balanced":
        return value
    expected = "null, 'balanced' or a list of [class, weight] pairs"

    def pair(p) -> bool:
        return (
            isinstance(p, list)
            and len(p) == 2
            and type(p[0]) in (str, int, float, bool)
            and is_number(p[1])
            and math.isfinite(p[1])
            and p[1] >= 0
        )

    if not list_of(pair)(value):
        raise ModelFileError(
            f"hyperparameter 'class_weight' must be {expected}; got {value!r:.200}"
        )
    weights = {key: weight for key, weight in value}
    if len(weights) != len(value):
        raise ModelFileError(f"hyperparameter 'class_weight' names a class twice: {value!r:.200}")
    if classes is not None:
        known = set(np.asarray(classes).tolist())
        unknown = [key for key in weights if key not in known]
        if unknown:
            raise ModelFileError(
                f"hyperparameter 'class_weight' names {unknown!r:.200}, which the model's "
                f"classes {sorted(known, key=str)!r:.200} do not hold"
            )
    return weights


def estimator_to_document(model) -> Document:
    """Hyperparameters, n_features_in_, feature_names_in_, classes_ and training."""
    params = model.get_params(deep=False)
    if "class_weight" in params:
        params["class_weight"] = class_weight_to_document(params["class_weight"])
    doc = hyperparameters_to_document(params)
    doc["n_features_in_"] = int(model.n_features_in_)
    if hasattr(model, "feature_names_in_"):
        doc["feature_names_in_"] = [str(n) for n in model.feature_names_in_]
    if hasattr(model, "classes_"):
        doc["classes_"] = classes_to_document(model.classes_)
    training = {}
    for name in TRAINING_ATTRIBUTES:
        if hasattr(model, name):
            ok, value = to_json(getattr(model, name))
            if ok:
                training[name] = value
    if training:
        doc["training"] = training
    return doc


def estimator_from_document(model, doc: Document, n_inputs: int) -> None:
    """Set the attributes :func:`estimator_to_document` saved (not the network)."""
    set_hyperparameters(model, doc)
    if hasattr(model, "class_weight"):
        classes = classes_from_document(doc["classes_"]) if "classes_" in doc else None
        model.class_weight = class_weight_from_document(model.class_weight, classes)
    n_features = get(doc, "n_features_in_", is_int, "an integer")
    if n_features != n_inputs:
        raise ModelFileError(
            f"'n_features_in_' is {n_features} but the network takes {n_inputs} inputs"
        )
    model.n_features_in_ = n_features
    if "feature_names_in_" in doc:
        names = get(doc, "feature_names_in_", list_of(lambda v: isinstance(v, str)), "strings")
        if len(names) != n_features:
            raise ModelFileError(
                f"'feature_names_in_' has {len(names)} names for {n_features} features"
            )
        counts: dict[str, int] = {}
        for n in names:
            counts[n] = counts.get(n, 0) + 1
        twice = sorted(n for n, count in counts.items() if count > 1)
        if twice:
            raise ModelFileError(
                f"'feature_names_in_' names {twice[:5]!r:.200} more than once; the columns "
                "of a table are matched to the inputs by name, so each name is distinct"
            )
        model.feature_names_in_ = np.asarray(names, dtype=object)
    training = doc.get("training", {})
    if not isinstance(training, dict):
        raise ModelFileError(f"'training' must be an object; got {training!r:.200}")
    for name, value in training.items():
        check = TRAINING_ATTRIBUTES.get(name)
        if check is None:
            raise ModelFileError(f"'training' has an unknown entry {name!r}")
        if not check(value):
            raise ModelFileError(f"training entry {name!r} has the wrong type: {value!r:.200}")
        if isinstance(value, list):
            value = [float(v) for v in value]
        setattr(model, name, value)
