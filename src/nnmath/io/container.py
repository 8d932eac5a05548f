"""The model-file container: safetensors bytes, read with every check, written atomically.

A model file is a safetensors file::

    8 bytes       N, the header length, a little-endian unsigned 64-bit integer
    N bytes       the header, a JSON object: each tensor's dtype, shape and byte range,
                  and "__metadata__": {"nnmath": "<the model document, JSON text>"}
    the rest      the tensors' bytes, little-endian, in the order of their offsets

:func:`read` checks the container — the length field, the JSON, every tensor's entry,
that the tensors tile the data exactly — and the document's format version and class,
and never reads past the file's size. :func:`atomic_write` writes any file (model files
and ONNX graphs alike) through a temporary file that is renamed over the target, so an
interrupted save leaves the old file untouched.

Example
-------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
>>> atomic_write(str(path), b"abc")
>>> path.read_bytes()
b'abc'
"""

from __future__ import annotations

import json
import math
import os
import struct
import tempfile
from collections.abc import Collection
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from nnmath.document import Document, ModelFileError, Tensors, is_int

__all__ = ["FORMAT_VERSION", "MAX_HEADER_BYTES", "atomic_write", "nnmath_version", "read", "shown"]

#: The newest format version this nnmath writes and reads.
FORMAT_VERSION = 1

#: The largest header this reader accepts (safetensors' own limit).
MAX_HEADER_BYTES = 100_000_000

_TENSOR_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


def nnmath_version() -> str:
    """The installed nnmath's version ("0.0.0" in a source tree without installation)."""
    try:
        return version("nnmath")
    except PackageNotFoundError:
        return "0.0.0"


def _write_payload(f, data: bytes) -> None:
    """Write the file's bytes (a seam for the atomic-save test)."""
    f.write(data)


def atomic_write(path: str, data: bytes) -> None:
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


def shown(path) -> str:
    """The path as shown in messages."""
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
            f"{shown(path)}: file ended while reading the {what} "
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
        raise ModelFileError(f"{shown(path)}: the {what} is not UTF-8 text") from None
    except RecursionError:
        raise ModelFileError(f"{shown(path)}: the {what} is nested too deeply") from None
    except ValueError as exc:  # json.JSONDecodeError, duplicate keys, giant integers
        raise ModelFileError(f"{shown(path)}: the {what} is not valid JSON: {exc}") from None


def read(path, classes: Collection[str]) -> tuple[Document, Tensors]:
    """Open, check and parse a model file: (document, tensors by name).

    ``classes`` are the model class names the reader can build; another name in the
    document is a :class:`ModelFileError`.
    """
    where = shown(path)
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
        document = _document(header.pop("__metadata__", None), path, classes)
        buffer_size = size - 8 - n
        layout = _tensor_layout(header, buffer_size, path)
        buffer = _read_exact(f, buffer_size, "tensor data", path)
    tensors = {
        name: np.frombuffer(buffer, dtype=dt, count=count, offset=begin).reshape(shape)
        for name, (dt, shape, begin, count) in layout.items()
    }
    return document, tensors


def _document(metadata, path, classes) -> Document:
    """Check the ``__metadata__`` and parse the model document it holds."""
    where = shown(path)
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
        raise ModelFileError(
            f"{where}: written in model-file format version {version} by nnmath "
            f"{doc.get('nnmath_version', '?')}; this nnmath ({nnmath_version()}) reads "
            f"versions up to {FORMAT_VERSION}. Upgrade nnmath to load it."
        )
    cls = doc.get("class")
    if not isinstance(cls, str) or cls not in classes:
        raise ModelFileError(
            f"{where}: unknown model class {cls!r}; this nnmath can load "
            f"{', '.join(sorted(classes))}"
        )
    return doc


def _tensor_layout(header: dict, buffer_size: int, path) -> dict:
    """Check every tensor entry; name → (dtype, shape, begin offset, element count).

    The tensors must tile the byte buffer exactly: in bounds, no overlap, no gap.
    """
    where = shown(path)
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
        if not (isinstance(shape, list) and all(is_int(d) and d >= 0 for d in shape)):
            raise ModelFileError(
                f"{where}: tensor {name!r} has shape {shape!r}; expected a list of integers ≥ 0"
            )
        if not (
            isinstance(offsets, list) and len(offsets) == 2 and all(is_int(o) for o in offsets)
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
