"""A seeded fuzzer of the loader: mutated model files of every kind either load as a
consistent model or raise ModelFileError, with a short message, in bounded work.

Each file saved by :func:`conftest.save_every_model_kind`, and a command's model with
a date column, is mutated by byte flips, cuts, insertions, splices, changed length
fields and structured edits of the header and of the model document (any value replaced
by a hostile one, keys dropped or added): with the checksums kept, removed (a file
from before checksums, or stripped) or recomputed after the edit (forged, as anyone who
edits a file can: the integrity check passes, and every check of what prediction does
with each value is reached). The seed fixes every file, so a failure reproduces. The
work of each load is measured by counting, never by the clock: the peak of the memory
Python allocates (tracemalloc) and the number of Python and C function calls (a profile
hook).

A model loaded from a forged or checksum-less mutant must also predict: on a fixed
input, finite values of the right shape, with no exception and no warning.

``make fuzz`` runs a longer, coverage-guided campaign of the same property (atheris,
fuzz/load.py); this test is the part that runs in CI.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

import nnmath
from conftest import check_consistent, save_every_model_kind
from nnmath.document import MAX_CLASSES_BYTES, MAX_MESSAGE_CHARS
from nnmath.io.container import CHECKSUM_KEYS, document_digest

SEED = 13
MUTANTS_PER_FILE = 400
#: The most memory one load may allocate: the largest ``classes_`` a file may hold,
#: plus room for the parse of a few kilobytes.
MEMORY_BOUND = MAX_CLASSES_BYTES + 8 * 2**20
#: The most function calls one load may make (an unmutated load makes a few thousand).
CALLS_BOUND = 100_000

HOSTILE_VALUES = [
    None, True, False, 0, -1, 1, 3, 2**31, 2**63, 2**64 + 1, 10**300, -(10**20), 0.5, -0.0,
    1e308, math.nan, math.inf, -math.inf, "", "x", "\ud800", "a\udfffb", "F64", "F16", "W1",
    "<U999999", "<U65536", "|O", "V8", "sigmoid", "identity", "softmax", "MLPClassifier",
    "Network", "Pipeline", "x" * 70_000, [], [0], [0] * 1000, [[1]], ["F64"], [2, 3],
    [0, 2**63], [1] * 65, [-1.0, math.nan], {}, {"name": "relu"}, {"dtype": "<i8"},
    {"dtype": "<U3", "values": ["b", "a"]}, {"dtype": "<i8", "values": [1, 1]},
    {"mean": 0.0, "scale": 0.0}, 1e-320, 5e-324, [1_000_000_000], "step", "tanh", "%Q",
    "%Y" * 30_000, "%d", ["x", "x"], ["size", "size"],
]  # fmt: skip


def _split(data: bytes):
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join(header: dict, buffer: bytes) -> bytes:
    raw = json.dumps(header, allow_nan=True).encode("utf-8", "surrogatepass")
    return struct.pack("<Q", len(raw)) + raw + buffer


def _nodes(value, path=()):
    """Every (path, container) in a JSON value, the containers' paths first."""
    if isinstance(value, (dict, list)):
        yield path, value
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in list(items)[:50]:
            yield from _nodes(child, (*path, key))


def _edit(value, rng: np.random.Generator):
    """The JSON value with one random container changed: a child replaced by a
    hostile value, a key dropped or an unknown one added, a list shortened or grown."""
    nodes = list(_nodes(value))
    _, node = nodes[rng.integers(len(nodes))]
    hostile = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
    action = rng.integers(4)
    if isinstance(node, dict) and node:
        key = list(node)[rng.integers(len(node))]
        if action == 0:
            del node[key]
        elif action == 1:
            node[f"extra{rng.integers(3)}"] = hostile
        else:
            node[key] = hostile
    elif isinstance(node, list) and node:
        index = int(rng.integers(len(node)))
        if action == 0:
            del node[index]
        elif action == 1:
            node.append(node[index] if rng.random() < 0.5 else hostile)
        elif action == 2:
            node.reverse()
        else:
            node[index] = hostile
    return value


def _edit_value(document: dict, rng: np.random.Generator) -> dict:
    """The model document with one value (not a list or an object) replaced by a hostile
    one, each value of the document but the training summary equally likely."""
    leaves = [
        (node, key)
        for path, node in _nodes(document)
        if path[:1] != ("training",)
        for key in (list(node) if isinstance(node, dict) else range(len(node)))[:50]
        if not isinstance(node[key], (dict, list))
    ]
    node, key = leaves[rng.integers(len(leaves))]
    node[key] = HOSTILE_VALUES[rng.integers(len(HOSTILE_VALUES))]
    return document


def _structured(data: bytes, rng: np.random.Generator, checksums: str) -> bytes:
    """A structured edit; ``checksums`` "kept" (as they were), "none" (removed) or
    "forged" (the document's recomputed after its edit; the weights are not edited)."""
    header, buffer = _split(data)
    metadata = header["__metadata__"]
    if checksums == "none":
        for key in CHECKSUM_KEYS:
            metadata.pop(key)
    if checksums != "kept" and rng.random() < 0.5:  # one value of the model document
        metadata["nnmath"] = json.dumps(
            _edit_value(json.loads(metadata["nnmath"]), rng), allow_nan=True
        )
        if checksums == "forged":
            metadata[CHECKSUM_KEYS[0]] = document_digest(metadata["nnmath"])
    elif checksums == "forged" or rng.random() < 0.75:  # the model document
        document = _edit(json.loads(metadata["nnmath"]), rng)
        metadata["nnmath"] = json.dumps(document, allow_nan=True)
        if checksums == "forged":
            metadata[CHECKSUM_KEYS[0]] = document_digest(metadata["nnmath"])
    else:  # the tensor table or the metadata around the document
        header = _edit(header, rng)
    return _join(header, buffer)


def mutants(seeds: dict[str, bytes], rng: np.random.Generator):
    """(kind, bytes) of every mutant of every seed file."""
    names = sorted(seeds)
    for name in names:
        data = seeds[name]
        for _ in range(MUTANTS_PER_FILE):
            kind = int(rng.integers(9))
            if kind == 0:  # bytes changed anywhere
                out = bytearray(data)
                for _ in range(int(rng.integers(1, 4))):
                    out[rng.integers(len(out))] = rng.integers(256)
                yield "bytes", bytes(out)
            elif kind == 1:  # a cut
                yield "cut", data[: rng.integers(len(data))]
            elif kind == 2:  # bytes inserted or removed
                at = int(rng.integers(len(data)))
                if rng.random() < 0.5:
                    yield "insert", data[:at] + rng.bytes(int(rng.integers(1, 9))) + data[at:]
                else:
                    yield "delete", data[:at] + data[at + int(rng.integers(1, 9)) :]
            elif kind == 3:  # another length field
                n = int(struct.unpack("<Q", data[:8])[0])
                field = [0, 1, n - 1, n + 1, len(data), 2**63, 2**64 - 1][rng.integers(7)]
                yield "length", struct.pack("<Q", max(field, 0)) + data[8:]
            elif kind == 4:  # one file's header with another's tensors
                other = seeds[names[rng.integers(len(names))]]
                (n,) = struct.unpack("<Q", data[:8])
                (m,) = struct.unpack("<Q", other[:8])
                yield "splice", data[: 8 + n] + other[8 + m :]
            else:  # structured edits, with the checksums, without them, forged
                checksums = {5: "kept", 6: "none", 7: "forged", 8: "forged"}[kind]
                yield f"structured-{checksums}", _structured(data, rng, checksums)


class _CallCounter:
    """Counts the Python and C function calls made while installed (sys.setprofile)."""

    def __init__(self):
        self.calls = 0

    def __call__(self, frame, event, arg):
        if event in ("call", "c_call"):
            self.calls += 1

    def __enter__(self):
        sys.setprofile(self)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)
        return False


#: The dates of the fixed input of a model with a date column.
FIXED_DATES = np.array(["2021-03-04T05:06:07", "1999-12-31T23:59:59"] * 2, dtype="datetime64[s]")


def _dated_pipeline(directory):
    """The command's kind of model, with a date column written as text."""
    from sklearn.pipeline import Pipeline

    from conftest import fit_quietly
    from nnmath.preprocessing import TabularPreprocessor

    rng = np.random.default_rng(1)
    size = rng.normal(size=30)
    when = np.datetime64("2020-01-01T00:00") + rng.integers(0, 10**6, 30).astype("m8[m]")
    table = {"size": size, "when": when.astype(str).astype(object), "y": size > 0}
    pre = TabularPreprocessor(target="y").fit(table)
    model = nnmath.MLPClassifier(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    fit_quietly(model, pre.transform(table), table["y"])
    path = directory / "pipeline-dates.safetensors"
    nnmath.save(Pipeline([("preprocess", pre), ("model", model)]), path)
    return path


def _fixed_input(model):
    """Four rows of the input ``model`` takes: zeros, the first category, fixed dates
    (written in the column's format)."""
    if not hasattr(model, "steps"):
        return np.zeros((4, model.n_features_in_))
    pre = model.steps[0][1]
    table = {}
    for name in pre.feature_names_in_:
        kind = pre.kind(name)
        if kind == "numeric":
            table[name] = np.zeros(4)
        elif kind == "category":
            table[name] = np.array(pre.categories_[name][:1] * 4, dtype=object)
        elif pre.dates_[name]["format"] is None:
            table[name] = FIXED_DATES
        else:
            text = [d.item().strftime(pre.dates_[name]["format"]) for d in FIXED_DATES]
            table[name] = np.array(text, dtype=object)
    return table


def check_predicts(model) -> None:
    """Assert that ``model`` predicts finite values of the right shape on a fixed input,
    with no exception and no warning."""
    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if isinstance(estimator, nnmath.Network):
            out = estimator.forward(np.zeros((4, estimator.layer_sizes[0])))
            assert out.shape == (4, estimator.layer_sizes[-1])
            assert np.isfinite(out).all()
            return
        X = _fixed_input(model)
        pred = np.asarray(model.predict(X))
        n_out = estimator.network_.layer_sizes[-1]
        assert pred.shape in ((4,), (4, n_out)), pred.shape
        if hasattr(model, "predict_proba"):  # not a step perceptron's
            proba = model.predict_proba(X)
            assert np.isfinite(proba).all()
            assert proba.shape[0] == 4
        if not hasattr(estimator, "classes_"):
            assert np.isfinite(pred).all()


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory) -> dict[str, bytes]:
    directory = tmp_path_factory.mktemp("seeds")
    paths = save_every_model_kind(directory)
    paths["pipeline-dates"] = _dated_pipeline(directory)
    return {kind: path.read_bytes() for kind, path in paths.items()}


def test_mutated_model_files_load_consistently_or_raise_model_file_error(tmp_path, seed_files):
    rng = np.random.default_rng(SEED)
    path = tmp_path / "mutant.safetensors"
    counts = {"loaded": 0, "refused": 0}
    forged = {"loaded": 0, "refused": 0}  # the forged and checksum-less structured mutants
    worst = {"memory": 0, "calls": 0, "message": 0}
    tracemalloc.start()
    try:
        for kind, data in mutants(seed_files, rng):
            path.write_bytes(data)
            tracemalloc.reset_peak()
            try:
                with _CallCounter() as counter, warnings.catch_warnings():
                    warnings.simplefilter("ignore", nnmath.io.NoChecksumWarning)
                    model = nnmath.load(path)
            except nnmath.ModelFileError as exc:
                counts["refused"] += 1
                forged["refused"] += kind in ("structured-none", "structured-forged")
                worst["message"] = max(worst["message"], len(str(exc)) - len(str(path)))
            except Exception as exc:  # anything else is a bug: show the file that did it
                raise AssertionError(f"{kind} mutant {data[:300]!r}… raised {exc!r}") from exc
            else:
                counts["loaded"] += 1
                check_consistent(model)
                if kind in ("structured-none", "structured-forged"):
                    forged["loaded"] += 1
                    try:
                        check_predicts(model)
                    except Exception as exc:
                        raise AssertionError(
                            f"{kind} mutant {_split(data)[0]['__metadata__']['nnmath']:.2000} "
                            f"loaded, and its model failed to predict: {exc!r}"
                        ) from exc
            worst["memory"] = max(worst["memory"], tracemalloc.get_traced_memory()[1])
            worst["calls"] = max(worst["calls"], counter.calls)
    finally:
        tracemalloc.stop()
    total = counts["loaded"] + counts["refused"]
    assert total == len(seed_files) * MUTANTS_PER_FILE
    # both outcomes exercised
    assert counts["refused"] > total / 2
    assert counts["loaded"] > 0
    assert forged["loaded"] > 0, forged  # both outcomes of the forged mutants too
    assert forged["refused"] > 0, forged
    assert worst["message"] <= MAX_MESSAGE_CHARS + 20, worst
    assert worst["memory"] <= MEMORY_BOUND, worst
    assert worst["calls"] <= CALLS_BOUND, worst
