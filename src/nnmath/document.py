"""Models described as JSON: the checked reading and writing of model documents.

A model file (:mod:`nnmath.io`) holds the weights as tensors and everything else as a
JSON document. Each model class describes itself — ``to_document()`` returns its part
of the document and its tensors, ``from_document(document, tensors)`` rebuilds it — and
this module holds what those methods share: typed getters that refuse a wrong kind of
value with a message naming the key (:func:`get`), JSON conversion of hyperparameters
(never pickled), the activations and losses by name, ``classes_`` with their dtype, and
the fitted attributes of an estimator, and the training state that lets training go on
(an optimizer's memory, the schedule, the history, the dropout stream).

The same description is what a model pickles as: ``__reduce__`` of every model class
returns :func:`from_pickle` with the model's document (its training state included),
its tensors, and the objects no name describes (a custom activation or loss, a callable
hyperparameter), which a pickle carries itself in ``objects`` — pickles are trusted, and
a model file, which is not, holds names only.

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

from nnmath.core import optimizers
from nnmath.core.arrays import name as library_name
from nnmath.core.arrays import namespace_by_name, to_numpy

__all__ = [
    "MAX_CLASSES_BYTES",
    "MAX_MESSAGE_CHARS",
    "MAX_STRING_CHARS",
    "TRAINING_STATE_TENSORS",
    "Document",
    "ModelFileError",
    "Objects",
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
    "attributes_from_pickle",
    "attributes_to_pickle",
    "from_pickle",
    "get",
    "history_from_document",
    "history_to_document",
    "hyperparameters_to_document",
    "is_int",
    "is_number",
    "is_number_or_none",
    "list_of",
    "list_of_numbers_or_none",
    "optimizer_from_document",
    "optimizer_to_document",
    "pickle_reduce",
    "rng_from_document",
    "rng_to_document",
    "schedule_from_document",
    "schedule_to_document",
    "set_hyperparameters",
    "shorten",
    "state_tensor",
    "to_json",
    "unfitted_from_pickle",
]

Document = dict[str, Any]
Tensors = dict[str, np.ndarray]
#: What a pickle carries beside the document: the objects no name describes, by where
#: they belong ("hyperparameters" → {name: value}, "activation 1", "loss", "schedule").
#: None when describing for a model file, which holds names only.
Objects = dict[str, Any]

#: The tensors of a training state beside the weights: the optimizer's memory (SGD's
#: velocity; Adam's moments m' = m/(1 − β₁) and u = v/(1 − β₂)) and the best weights
#: early stopping may still restore, each of shape (n_parameters,) like θ.
TRAINING_STATE_TENSORS = ("optimizer.velocity", "optimizer.m", "optimizer.u", "best_theta")

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
def _is_plain(value) -> bool:
    """Return True for a value JSON gives back as it is: None/bool/int/float/str, or a list."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    return type(value) is list and all(
        v is None or type(v) in (bool, int, float, str) for v in value
    )


def hyperparameters_to_document(params: dict, objects: Objects | None = None) -> Document:
    """{"hyperparameters": …} plus "hyperparameters_not_saved" for non-JSON values.

    For a model file (``objects`` None), a value that is not JSON (a callable, a numpy
    Generator, an arbitrary object) is stored as null with a note, never pickled, and
    tuples become lists. For a pickle, every value that JSON would not give back as it
    is (a tuple, a dict, an object) goes to ``objects["hyperparameters"]`` instead, and
    the document holds null.

    Examples
    --------
    >>> hyperparameters_to_document({"alpha": 0.1, "sizes": (3,)})
    {'hyperparameters': {'alpha': 0.1, 'sizes': [3]}}
    >>> objects = {}
    >>> hyperparameters_to_document({"alpha": 0.1, "sizes": (3,)}, objects)
    {'hyperparameters': {'alpha': 0.1, 'sizes': None}}
    >>> objects
    {'hyperparameters': {'sizes': (3,)}}
    """
    saved, notes = {}, {}
    for name, value in params.items():
        if objects is not None:
            if _is_plain(value):
                saved[name] = value
            else:
                saved[name] = None
                objects.setdefault("hyperparameters", {})[name] = value
            continue
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
def component_to_document(obj, lookup, kind: str, objects: Objects | None = None, key=None) -> dict:
    """{"name": …, **parameters} of a built-in activation or loss.

    A custom one (not the registry's class for its name) cannot go into a model file:
    ValueError. For a pickle (``objects`` given) it goes to ``objects[key]``, and the
    document holds {"name": …, "pickled": key}.
    """
    name = obj.name
    try:
        builtin = type(lookup(name))
    except ValueError:
        builtin = None
    if builtin is not type(obj):
        if objects is not None:
            objects[key] = obj
            return {"name": str(name), "pickled": key}
        raise ValueError(
            f"cannot save the custom {kind} {obj!r}: model files store only nnmath's "
            f"built-in {kind}s, by name (a pickle carries custom ones)"
        )
    doc = {"name": name}
    for key_, value in vars(obj).items():
        ok, converted = to_json(value)
        if not ok:
            raise ValueError(f"cannot save {kind} {obj!r}: parameter {key_}={value!r} is not JSON")
        doc[key_] = converted
    return doc


def component_from_document(doc, lookup, kind: str, objects: Objects | None = None):
    """Rebuild a built-in activation or loss from {"name": …, **parameters}.

    {"name": …, "pickled": key} is the object ``objects[key]`` that a pickle carried;
    a model file cannot refer to one.
    """
    if not (isinstance(doc, dict) and isinstance(doc.get("name"), str)):
        raise ModelFileError(f"each {kind} must be an object with a 'name'; got {doc!r:.200}")
    if "pickled" in doc:
        key = doc["pickled"]
        if objects is None or not isinstance(key, str) or key not in objects:
            raise ModelFileError(
                f"the {kind} {doc['name']!r:.100} is a custom one, which only a pickle "
                "carries; a model file names nnmath's built-in ones"
            )
        return lookup(objects[key])
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


def estimator_to_document(model, objects: Objects | None = None) -> Document:
    """Hyperparameters, n_features_in_, feature_names_in_, classes_ and training.

    With ``objects`` (a pickle) the estimator may be unfitted: its hyperparameters only.
    """
    params = model.get_params(deep=False)
    if "class_weight" in params and objects is None:
        params["class_weight"] = class_weight_to_document(params["class_weight"])
    doc = hyperparameters_to_document(params, objects)
    if objects is not None and not hasattr(model, "n_features_in_"):
        return doc
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


def estimator_from_document(
    model, doc: Document, n_inputs: int | None, objects: Objects | None = None
) -> None:
    """Set the attributes :func:`estimator_to_document` saved (not the network).

    ``n_inputs`` None: an unfitted estimator's pickle, its hyperparameters only.
    """
    set_hyperparameters(model, doc)
    if objects is not None:  # a pickle: the values it carried as they were
        for name, value in objects.get("hyperparameters", {}).items():
            setattr(model, name, value)
    elif hasattr(model, "class_weight"):
        classes = classes_from_document(doc["classes_"]) if "classes_" in doc else None
        model.class_weight = class_weight_from_document(model.class_weight, classes)
    if n_inputs is None:
        return
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


# ---------------------------------------------------------------- training state
# What training needs to go on exactly where it stopped (partial_fit, warm start): the
# optimizer's memory, the learning-rate schedule, the history's counters and curves, the
# dropout stream and the best weights. A pickle always holds it; a model file when saved
# with ``training_state=True``.

#: The optimizers a training state names.
OPTIMIZERS: dict[str, type] = {"sgd": optimizers.SGD, "adam": optimizers.Adam}

#: The schedules a training state names, with their constructor's parameters.
SCHEDULES: dict[str, tuple[type, tuple[str, ...]]] = {
    "constant": (optimizers.Constant, ()),
    "invscaling": (optimizers.InverseScaling, ("power_t",)),
    "step": (optimizers.StepDecay, ("step_size", "gamma")),
    "cosine": (optimizers.Cosine, ("total_epochs", "min_learning_rate")),
    "adaptive": (optimizers.Adaptive, ("factor", "min_learning_rate")),
}


#: The largest count a training state may hold (epochs, samples seen, steps): 2⁵³, up
#: to which a count is exact as a float, as the schedules' formulas take it.
MAX_COUNT = 2**53


def _is_count(x) -> bool:
    return is_int(x) and 0 <= x <= MAX_COUNT


def _is_finite(x) -> bool:
    return is_number(x) and math.isfinite(x)


#: The history's entries in a training state, and the check of each.
HISTORY_FIELDS: dict[str, Callable[[Any], bool]] = {
    "loss_curve": list_of(is_number),
    "validation_loss_curve": list_of(is_number),
    "validation_scores": list_of(is_number),
    "best_loss": is_number,
    "best_validation_score": is_number,
    "best_epoch": lambda v: v is None or _is_count(v),
    "stop_reason": lambda v: isinstance(v, str),
    "converged": lambda v: type(v) is bool,
    "n_iter": _is_count,
    "t": _is_count,
    "no_improvement_count": _is_count,
    "learning_rate": lambda v: v is None or (_is_finite(v) and v > 0),
}


def history_to_document(history) -> Document:
    """Return the training history's counters and curves as JSON (not its arrays).

    ``history`` is an :class:`nnmath.training.History`, or anything with its fields.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> h = SimpleNamespace(loss_curve=[0.5], validation_loss_curve=[], validation_scores=[],
    ...     best_loss=0.5, best_validation_score=-math.inf, best_epoch=1, stop_reason="",
    ...     converged=False, n_iter=1, t=4, no_improvement_count=0, learning_rate=0.1)
    >>> history_to_document(h)["t"]
    4
    """
    out = {}
    for name in HISTORY_FIELDS:
        ok, value = to_json(getattr(history, name))
        if not ok:
            raise ValueError(f"cannot describe the history's {name}={value!r:.100}")
        out[name] = value
    return out


def history_from_document(doc) -> dict[str, Any]:
    """Return the history's fields that :func:`history_to_document` described, checked.

    Examples
    --------
    >>> history_from_document({"n_iter": 2, "loss_curve": [1, 0.5]})["loss_curve"]
    [1.0, 0.5]
    """
    if not isinstance(doc, dict):
        raise ModelFileError(f"'history' must be an object; got {doc!r:.200}")
    fields: dict[str, Any] = {}
    for name, value in doc.items():
        check = HISTORY_FIELDS.get(name)
        if check is None:
            raise ModelFileError(f"'history' has an unknown entry {name!r:.100}")
        if not check(value):
            raise ModelFileError(f"history entry {name!r} has the wrong type: {value!r:.200}")
        fields[name] = [float(v) for v in value] if isinstance(value, list) else value
    for name in ("best_loss", "best_validation_score", "learning_rate"):
        if fields.get(name) is not None:
            fields[name] = float(fields[name])
    _check_history_counts(fields)
    return fields


def _check_history_counts(fields: dict[str, Any]) -> None:
    """Refuse a history whose curves and counters disagree.

    Every epoch adds one cost to ``loss_curve`` and one to ``n_iter``; the validation
    curves get at most one entry an epoch, and one more (NaN) for the epoch in which a
    run with early stopping diverged; ``best_epoch`` is an epoch that was run.
    """
    n_iter = fields.get("n_iter", 0)
    losses = fields.get("loss_curve", [])
    if len(losses) != n_iter:
        raise ModelFileError(
            f"history entry 'loss_curve' has {len(losses)} costs for 'n_iter' {n_iter} "
            "epochs; it holds one cost an epoch"
        )
    best = fields.get("best_epoch")
    if best is not None and best > n_iter:
        raise ModelFileError(
            f"history entry 'best_epoch' is {best}, past 'n_iter' {n_iter}: the best "
            "epoch is one of the epochs run"
        )
    diverged = str(fields.get("stop_reason", "")).startswith("diverged")
    for name in ("validation_scores", "validation_loss_curve"):
        values = fields.get(name, [])
        extra = len(values) - len(losses)
        if extra > 1 or (extra == 1 and not (diverged and math.isnan(values[-1]))):
            raise ModelFileError(
                f"history entry {name!r} has {len(values)} entries for {len(losses)} "
                "epochs in 'loss_curve'; it holds at most one an epoch (and a NaN for the "
                "epoch of a divergence)"
            )


def optimizer_to_document(optimizer) -> tuple[Document, Tensors]:
    """{"name", "hyperparameters", "counters"} and the memory as ``optimizer.<name>`` tensors.

    The optimizer is one of :data:`OPTIMIZERS`, stepping one flat parameter buffer (how
    training steps a network's θ).

    Examples
    --------
    >>> opt = optimizers.Adam(learning_rate=0.1)
    >>> opt.step([np.zeros(3)], [np.ones(3)])
    >>> document, tensors = optimizer_to_document(opt)
    >>> document["name"], document["counters"], sorted(tensors)
    ('adam', {'t': 1}, ['optimizer.m', 'optimizer.u'])
    """
    names = {cls: name for name, cls in OPTIMIZERS.items()}
    if type(optimizer) not in names:
        raise ValueError(
            f"cannot describe the optimizer {optimizer!r}: not one of {list(OPTIMIZERS)}"
        )
    tensors = {}
    for name, arrays_ in optimizer.memory().items():
        if len(arrays_) != 1:
            raise ValueError("an optimizer's memory is described for one flat parameter buffer")
        tensors[f"optimizer.{name}"] = to_numpy(arrays_[0])
    document = {
        "name": names[type(optimizer)],
        "hyperparameters": to_json(optimizer.hyperparameters())[1],
        "counters": to_json(optimizer.counters())[1],
    }
    return document, tensors


def state_tensor(tensors: Tensors, name: str, network, trusted: bool = False) -> np.ndarray:
    """Pop the training state's tensor ``name``, checked to be laid out as θ and finite.

    ``network`` is the model's network: the tensor has θ's shape (n_parameters,) and
    dtype. ``trusted`` (a pickle) skips the check of finite values.

    Examples
    --------
    >>> from nnmath import Network
    >>> net = Network([2, 1], random_state=0)  # θ: 2 weights and 1 bias
    >>> state_tensor({"optimizer.m": np.zeros(3)}, "optimizer.m", net).shape
    (3,)
    >>> state_tensor({"optimizer.m": np.zeros(2)}, "optimizer.m", net)
    Traceback (most recent call last):
    ...
    nnmath.document.ModelFileError: tensor 'optimizer.m' has shape (2,) and dtype float64; ...
    """
    t = tensors.pop(name)
    n = int(network.theta.shape[0])
    if t.shape != (n,) or t.dtype.kind != "f" or t.dtype.itemsize != network.dtype.itemsize:
        raise ModelFileError(
            f"tensor {name!r} has shape {t.shape} and dtype {t.dtype.name}; the training "
            f"state is laid out as the weights: shape ({n},), {network.dtype.name}"
        )
    if not trusted and not np.isfinite(t).all():
        raise ModelFileError(f"tensor {name!r} holds NaN or infinity")
    return t


def optimizer_from_document(doc, tensors: Tensors, network, trusted: bool = False):
    """Rebuild the optimizer :func:`optimizer_to_document` described, its memory for ``theta``.

    The memory's tensors are popped from ``tensors`` and checked: laid out as the
    network's flat parameters θ, finite, Adam's second moment ≥ 0. The next training
    step on θ continues from it.

    Examples
    --------
    >>> from nnmath import Network
    >>> net = Network([2, 1], random_state=0)
    >>> adam = optimizers.Adam(learning_rate=0.1)
    >>> adam.step([net.theta.copy()], [np.ones(3)])
    >>> document, tensors = optimizer_to_document(adam)
    >>> again = optimizer_from_document(document, tensors, net)
    >>> again.counters(), tensors  # the memory's tensors are taken
    ({'t': 1}, {})
    """
    if not (isinstance(doc, dict) and set(doc) == {"name", "hyperparameters", "counters"}):
        raise ModelFileError(
            "'optimizer' must be {'name': …, 'hyperparameters': {…}, 'counters': {…}}; got "
            f"{doc!r:.200}"
        )
    cls = OPTIMIZERS.get(doc["name"]) if isinstance(doc["name"], str) else None
    if cls is None:
        raise ModelFileError(f"'optimizer' {doc['name']!r:.100} is not one of {list(OPTIMIZERS)}")
    params, counters = doc["hyperparameters"], doc["counters"]
    if not (
        isinstance(params, dict)
        and all(type(v) in (bool, int, float, str) for v in params.values())
    ):
        raise ModelFileError(
            f"the optimizer's hyperparameters must be an object of numbers; got {params!r:.200}"
        )
    expected = {"sgd": {"first": lambda v: type(v) is bool}, "adam": {"t": _is_count}}[doc["name"]]
    if not (
        isinstance(counters, dict)
        and set(counters) == set(expected)
        and all(expected[k](v) for k, v in counters.items())
    ):
        raise ModelFileError(
            f"the {doc['name']} optimizer's counters must be {sorted(expected)} (counts "
            f"from 0 to 2**53); "
            f"got {counters!r:.200}"
        )
    try:
        optimizer = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid optimizer {doc!r:.200}: {exc}") from None
    memory = {}
    for name in optimizer.memory_names:
        key = f"optimizer.{name}"
        if key in tensors:
            memory[name] = [state_tensor(tensors, key, network, trusted)]
    if memory:
        wanted = [
            n for n in optimizer.memory_names if not (n == "velocity" and not optimizer.momentum)
        ]
        if sorted(memory) != sorted(wanted):
            raise ModelFileError(
                f"the {doc['name']} optimizer's memory is the tensors "
                f"{[f'optimizer.{n}' for n in wanted]}; the file holds "
                f"{[f'optimizer.{n}' for n in memory]}"
            )
        if "u" in memory and not trusted and (memory["u"][0] < 0).any():
            raise ModelFileError("tensor 'optimizer.u', a sum of squares, holds negative values")
    theta = network.theta
    optimizer.restore(counters, memory, [(theta.shape, theta.dtype)])
    return optimizer


def schedule_to_document(schedule, objects: Objects | None = None) -> Document:
    """{"name": …, its parameters, "divisions" (adaptive)} of a built-in schedule.

    A custom schedule goes to ``objects["schedule"]`` for a pickle ({"pickled":
    "schedule"}); a model file cannot hold one (ValueError).

    Examples
    --------
    >>> schedule_to_document(optimizers.StepDecay(5, 0.5))
    {'name': 'step', 'step_size': 5, 'gamma': 0.5}
    """
    entry_name = str(schedule.name)
    entry = SCHEDULES.get(entry_name)
    if entry is None or type(schedule) is not entry[0]:
        if objects is not None:
            objects["schedule"] = schedule
            return {"pickled": "schedule"}
        raise ValueError(
            f"cannot save the training state of the custom schedule {schedule!r}: a model "
            "file names nnmath's built-in schedules only (a pickle carries custom ones)"
        )
    cls, names = entry
    doc = {"name": entry_name, **{n: to_json(getattr(schedule, n))[1] for n in names}}
    if isinstance(schedule, optimizers.Adaptive):
        doc["divisions"] = schedule.divisions
    return doc


def schedule_from_document(doc, objects: Objects | None = None):
    """Rebuild the schedule :func:`schedule_to_document` described.

    ``{"pickled": "schedule"}`` is the custom schedule ``objects["schedule"]`` that a
    pickle carried; a model file cannot refer to one.

    Examples
    --------
    >>> schedule_from_document({"name": "step", "step_size": 5, "gamma": 0.5}).gamma
    0.5
    """
    if isinstance(doc, dict) and doc.get("pickled") == "schedule":
        if objects is None or "schedule" not in objects:
            raise ModelFileError(
                "the schedule is a custom one, which only a pickle carries; a model file "
                "names nnmath's built-in schedules"
            )
        return objects["schedule"]
    name = doc.get("name") if isinstance(doc, dict) else None
    entry = SCHEDULES.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ModelFileError(f"'schedule' must name one of {list(SCHEDULES)}; got {doc!r:.200}")
    cls, names = entry
    extra = {"divisions"} if cls is optimizers.Adaptive else set()
    if (
        set(doc) != {"name", *names, *extra}
        or not all(_is_finite(doc[n]) and doc[n] >= 0 for n in (*names, *extra))
        or doc.get("factor", 1) <= 0
    ):
        raise ModelFileError(
            f"the {doc['name']} schedule takes the numbers {sorted({*names, *extra})}, finite, "
            f"≥ 0 (a factor > 0); got "
            f"{doc!r:.200}"
        )
    try:
        schedule = cls(**{n: doc[n] for n in names})
        if extra:
            if not _is_count(doc["divisions"]):
                raise ValueError("divisions must be an integer ≥ 0")
            schedule.divisions = doc["divisions"]
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"invalid schedule {doc!r:.200}: {exc}") from None
    return schedule


#: The bit generators a training state's random stream may name.
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def rng_to_document(generator: np.random.Generator) -> Document:
    """{"bit_generator": its name, "state": its state}: a Generator's place in its stream.

    Examples
    --------
    >>> rng_to_document(np.random.default_rng(0))["bit_generator"]
    'PCG64'
    """
    state = generator.bit_generator.state
    name = state.get("bit_generator")
    ok, value = to_json(state)
    if name not in BIT_GENERATORS or not ok:
        raise ValueError(
            f"cannot describe a random stream of {type(generator.bit_generator).__name__}"
        )
    return {"bit_generator": name, "state": value}


def rng_from_document(doc) -> np.random.Generator:
    """Return a Generator at the place in its stream :func:`rng_to_document` described.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> again = rng_from_document(rng_to_document(rng))
    >>> float(again.random()) == float(rng.random())
    True
    """
    if not (
        isinstance(doc, dict)
        and set(doc) == {"bit_generator", "state"}
        and doc["bit_generator"] in BIT_GENERATORS
        and isinstance(doc["state"], dict)
    ):
        raise ModelFileError(
            f"a random stream must be {{'bit_generator': one of {list(BIT_GENERATORS)}, "
            f"'state': {{…}}}}; got {doc!r:.200}"
        )
    bit_generator = getattr(np.random, doc["bit_generator"])()
    try:
        state = dict(doc["state"])
        if doc["bit_generator"] == "MT19937" and isinstance(state.get("state"), dict):
            inner = dict(state["state"])
            inner["key"] = np.asarray(inner.get("key"), dtype=np.uint32)
            state["state"] = inner
        bit_generator.state = state
    except (TypeError, ValueError, LookupError, OverflowError) as exc:
        raise ModelFileError(f"invalid random stream state: {exc!r:.200}") from None
    return np.random.Generator(bit_generator)


# ---------------------------------------------------------------- pickles
def pickle_reduce(model, network=None) -> tuple:
    """Return what a model's ``__reduce__`` returns: :func:`from_pickle` and its arguments.

    The model's document with its training state, its tensors, the objects no name
    describes, and the array library (by name) and device of ``network``, the model's
    network (None before a fit: NumPy on the CPU).

    Parameters
    ----------
    model : Network, MLPClassifier, MLPRegressor or Perceptron
        Anything with ``to_document(training_state=..., objects=...)``.
    network : nnmath.Network, optional
        The network the model predicts with, whose library and device it goes back to.

    Returns
    -------
    tuple
        ``(from_pickle, (type(model), document, tensors, objects, library, device))``.

    Examples
    --------
    >>> import pickle
    >>> from nnmath import Network
    >>> net = Network([2, 1], random_state=0)
    >>> pickle_reduce(net, net)[1][4:]
    ('numpy', 'cpu')
    >>> bool((pickle.loads(pickle.dumps(net)).theta == net.theta).all())
    True
    """
    objects: Objects = {}
    document, tensors = model.to_document(training_state=True, objects=objects)
    library = "numpy" if network is None else library_name(network.xp)
    device = "cpu" if network is None else network.device
    return from_pickle, (type(model), document, tensors, objects, library, device)


def attributes_to_pickle(model, names: tuple[str, ...], objects: Objects) -> None:
    """Put the attributes ``names`` of ``model`` into ``objects["attributes"]``, as they are.

    What an estimator's pickle carries beside its document (scikit-learn's per-instance
    configuration, labels of another array library). NumPy ``classes_`` are described
    by the document, and so are left out with the label binarizer built from them.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace(classes_=np.array([0, 1]), _label_binarizer=None, tag="x")
    >>> objects = {}
    >>> attributes_to_pickle(model, ("classes_", "_label_binarizer", "tag"), objects)
    >>> objects
    {'attributes': {'tag': 'x'}}
    """
    attributes = {k: v for k, v in vars(model).items() if k in names}
    if type(attributes.get("classes_")) is np.ndarray:  # as described
        del attributes["classes_"]
        attributes.pop("_label_binarizer", None)
    if attributes:
        objects["attributes"] = attributes


def attributes_from_pickle(model, objects: Objects | None) -> None:
    """Set the attributes :func:`attributes_to_pickle` carried; nothing for a model file.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> model = SimpleNamespace()
    >>> attributes_from_pickle(model, {"attributes": {"tag": "x"}})
    >>> model.tag
    'x'
    """
    if objects is not None:
        model.__dict__.update(objects.get("attributes", {}))


def unfitted_from_pickle(cls, document: Document, objects: Objects | None):
    """Return the estimator not fitted yet that a pickle describes; None for any other.

    A pickle of an estimator before its first fit holds its hyperparameters and no
    network (no ``layer_sizes``); a model file always holds a fitted one.

    Examples
    --------
    >>> import pickle
    >>> from nnmath import MLPRegressor
    >>> objects = {}
    >>> document, _ = MLPRegressor(alpha=0.5).to_document(objects=objects)
    >>> unfitted_from_pickle(MLPRegressor, document, objects).alpha
    0.5
    >>> unfitted_from_pickle(MLPRegressor, document, None) is None
    True
    """
    if objects is None or "layer_sizes" in document:
        return None
    model = cls.__new__(cls)  # no __init__: set attributes only
    estimator_from_document(model, document, None, objects)
    attributes_from_pickle(model, objects)
    return model


def from_pickle(cls, document: Document, tensors: Tensors, objects: Objects, library: str, device):
    """Rebuild a pickled model: ``cls.from_document`` with the objects the pickle carried.

    What every model class's ``__reduce__`` names (:func:`pickle_reduce`). The model
    goes back to the array library (by name) and device it was on; a process that cannot
    use them raises ValueError, saying so.

    Examples
    --------
    >>> from nnmath import Network
    >>> net = Network([2, 1], random_state=0)
    >>> reducer, arguments = pickle_reduce(net, net)
    >>> bool((reducer(*arguments).theta == net.theta).all())
    True
    """
    try:
        xp = namespace_by_name(library)
        if xp is not np:
            xp.zeros(1, device=device)  # the library's own refusal of the device, now
    except Exception as exc:  # noqa: BLE001 - any library's refusal, said once
        raise ValueError(
            f"cannot unpickle this {cls.__name__}: it lives on {library} (device "
            f"{device!s:.60}), which this process cannot use ({type(exc).__name__}: "
            f"{exc!s:.200}). Unpickle it where {library} and the device are available, or "
            "save it there with nnmath.save and load it here with nnmath.load"
        ) from None
    return cls.from_document(document, dict(tensors), xp=xp, device=device, objects=objects)
