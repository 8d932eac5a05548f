"""A seeded fuzzer of the loader: mutated model files of every kind either load as a
consistent model or raise ModelFileError, with a short message, in bounded work.

Each file saved by :func:`conftest.save_every_model_kind` is mutated by byte flips,
cuts, insertions, splices, changed length fields and structured edits of the header
and of the model document (any value replaced by a hostile one, keys dropped or added),
with and without the checksums (without them every check behind the checksums is
reached). The seed fixes every file, so a failure reproduces. The work of each load is
measured by counting, never by the clock: the peak of the memory Python allocates
(tracemalloc) and the number of Python and C function calls (a profile hook).

``make fuzz`` runs a longer, coverage-guided campaign of the same property (atheris,
fuzz/load.py); this test is the part that runs in CI.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import tracemalloc

import numpy as np
import pytest

import nnmath
from conftest import check_consistent, save_every_model_kind
from nnmath.document import MAX_CLASSES_BYTES, MAX_MESSAGE_CHARS
from nnmath.io.container import CHECKSUM_KEYS

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
    {"mean": 0.0, "scale": 0.0},
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


def _structured(data: bytes, rng: np.random.Generator, keep_checksums: bool) -> bytes:
    header, buffer = _split(data)
    metadata = header["__metadata__"]
    if not keep_checksums:
        for key in CHECKSUM_KEYS:
            metadata.pop(key)
    if rng.random() < 0.75:  # the model document
        document = _edit(json.loads(metadata["nnmath"]), rng)
        metadata["nnmath"] = json.dumps(document, allow_nan=True)
    else:  # the tensor table or the metadata around the document
        header = _edit(header, rng)
    return _join(header, buffer)


def mutants(seeds: dict[str, bytes], rng: np.random.Generator):
    """(kind, bytes) of every mutant of every seed file."""
    names = sorted(seeds)
    for name in names:
        data = seeds[name]
        for _ in range(MUTANTS_PER_FILE):
            kind = int(rng.integers(8))
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
            else:  # structured edits, with the checksums or without them
                yield "structured", _structured(data, rng, keep_checksums=kind == 5)


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


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory) -> dict[str, bytes]:
    paths = save_every_model_kind(tmp_path_factory.mktemp("seeds"))
    return {kind: path.read_bytes() for kind, path in paths.items()}


def test_mutated_model_files_load_consistently_or_raise_model_file_error(tmp_path, seed_files):
    rng = np.random.default_rng(SEED)
    path = tmp_path / "mutant.safetensors"
    counts = {"loaded": 0, "refused": 0}
    worst = {"memory": 0, "calls": 0, "message": 0}
    tracemalloc.start()
    try:
        for kind, data in mutants(seed_files, rng):
            path.write_bytes(data)
            tracemalloc.reset_peak()
            try:
                with _CallCounter() as counter:
                    model = nnmath.load(path)
            except nnmath.ModelFileError as exc:
                counts["refused"] += 1
                worst["message"] = max(worst["message"], len(str(exc)) - len(str(path)))
            except Exception as exc:  # anything else is a bug: show the file that did it
                raise AssertionError(f"{kind} mutant {data[:300]!r}… raised {exc!r}") from exc
            else:
                counts["loaded"] += 1
                check_consistent(model)
            worst["memory"] = max(worst["memory"], tracemalloc.get_traced_memory()[1])
            worst["calls"] = max(worst["calls"], counter.calls)
    finally:
        tracemalloc.stop()
    total = counts["loaded"] + counts["refused"]
    assert total == len(seed_files) * MUTANTS_PER_FILE
    # both outcomes exercised
    assert counts["refused"] > total / 2
    assert counts["loaded"] > 0
    assert worst["message"] <= MAX_MESSAGE_CHARS + 20, worst
    assert worst["memory"] <= MEMORY_BOUND, worst
    assert worst["calls"] <= CALLS_BOUND, worst
