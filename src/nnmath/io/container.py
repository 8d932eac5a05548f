"""The model-file container: safetensors bytes, read with every check, written atomically.

A model file is a safetensors file::

    8 bytes       N, the header length, a little-endian unsigned 64-bit integer
    N bytes       the header, a JSON object: each tensor's dtype, shape and byte range,
                  and "__metadata__": {"nnmath": "<the model document, JSON text>",
                  "nnmath_sha256_document": "<hex>", "nnmath_sha256_weights": "<hex>"}
    the rest      the tensors' bytes, little-endian, in the order of their offsets

Reading (:func:`read`) refuses anything but a regular file before opening it (a FIFO or
a device would block or be consumed), then checks the container — the length field,
the JSON, every tensor's entry, that the tensors tile the data exactly — the checksums,
and the document's format version and class, and never reads past the file's size.
Every limit below is checked before the work it bounds: a real model never comes near
them, a hostile file is refused in milliseconds.

The checksums (:func:`document_digest`, :func:`weights_digest`) are SHA-256 digests of
the document's text and of the weights (each tensor's name, dtype, shape and bytes, in
name order). A file without them (written before they existed) still loads; a file whose
content disagrees with them is damaged, and refused.

Writing (:func:`atomic_write`, for model files and ONNX graphs alike) goes through a
temporary file in the target's directory that is flushed and renamed over the target, so
an interrupted save leaves the old file untouched. Where Linux offers ``O_TMPFILE`` the
temporary has no name until it is complete (a killed process leaves nothing behind);
elsewhere it is named ``.<name>.<8 characters>.tmp`` and locked while it is written, and
the next save of the same target removes any such file whose writer is gone. The target
is resolved through symbolic links (the link stays, its target is replaced, as editors
do), and only a regular file is ever replaced.

Example
-------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
>>> atomic_write(str(path), b"abc")
>>> path.read_bytes()
b'abc'
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import math
import os
import re
import secrets
import stat
import struct
from collections.abc import Collection, Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from nnmath.document import (
    TRAINING_STATE_TENSORS,
    Document,
    ModelFileError,
    Tensors,
    check_strings,
    is_int,
)

try:  # file locks mark a temporary file whose writer is alive (POSIX)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "CHECKSUM_KEYS",
    "FORMAT_VERSION",
    "MAX_HEADER_BYTES",
    "MAX_JSON_CONTAINERS",
    "MAX_JSON_VALUES",
    "MAX_TENSORS",
    "atomic_write",
    "check_header",
    "check_writable",
    "document_digest",
    "nnmath_version",
    "read",
    "read_bytes",
    "read_from",
    "shown",
    "weights_digest",
]

#: The newest format version this nnmath writes and reads. The checksums are an
#: addition within version 1: a reader that predates them ignores them.
FORMAT_VERSION = 1

#: The largest header this reader accepts (the model document lives in it).
MAX_HEADER_BYTES = 64 * 2**20

#: The most JSON values (list items and object members, counted from the commas and
#: brackets before parsing) a header may hold: a loss curve of 600,000 epochs fits.
MAX_JSON_VALUES = 2_000_000

#: The most JSON objects and lists a header may hold.
MAX_JSON_CONTAINERS = 200_000

#: The most tensors a file may hold (two per weight layer).
MAX_TENSORS = 2_048

#: The ``__metadata__`` keys of the checksums, beside "nnmath".
CHECKSUM_KEYS = ("nnmath_sha256_document", "nnmath_sha256_weights")

_TENSOR_DTYPES: dict[str, np.dtype] = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
# the weights, and a training state's tensors (nnmath.save(..., training_state=True))
_TENSOR_NAME = re.compile(
    r"[Wb][1-9][0-9]{0,4}|" + "|".join(re.escape(n) for n in TRAINING_STATE_TENSORS)
)
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
_TEMPORARY_SUFFIX = re.compile(r"[a-z0-9_]{8}\.tmp")  # also what older versions wrote
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def nnmath_version() -> str:
    """Return the installed nnmath's version ("0.0.0" in a source tree without installation)."""
    try:
        return version("nnmath")
    except PackageNotFoundError:
        return "0.0.0"


def shown(path) -> str:
    """Show the path as messages show it."""
    return f"{os.fspath(path)!s}"


def _kind(mode: int) -> str:
    """Say what a file that is not a regular file is, in words."""
    for test, name in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO (named pipe)"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"


# ============================================================================ checksums
def document_digest(text: str) -> str:
    """SHA-256 (hex) of the model document's text, as stored in the file.

    Examples
    --------
    >>> document_digest("{}")[:16]
    '44136fa355b3678a'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def weights_digest(tensors: Mapping[str, np.ndarray]) -> str:
    """Return the SHA-256 (hex) of the weights.

    For each tensor in name order, the JSON text ``[name, dtype, shape]`` then its bytes
    (little-endian, C order) are hashed.

    Independent of where the tensors lie in the file, and of the byte order of the
    machine.

    Examples
    --------
    >>> weights_digest({"b1": np.zeros(2)}) == weights_digest({"b1": np.zeros(2, ">f8")})
    True
    """
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name]
        little = t.dtype.newbyteorder("<")
        tag = next(k for k, v in _TENSOR_DTYPES.items() if v == little)
        h.update(json.dumps([name, tag, list(t.shape)]).encode())
        h.update(np.ascontiguousarray(t, dtype=little).data)
    return h.hexdigest()


# ============================================================================ writing
def _name_max(directory: str) -> int:
    try:
        return int(os.pathconf(directory, "PC_NAME_MAX"))
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), or no answer
        return 255


def _resolve(path) -> tuple[str, str, str, int]:
    """Check a save to ``path`` with every check a save makes first.

    Returns (target, its directory, the temporary files' prefix, the longest name the
    directory takes).
    """
    given = os.fsdecode(os.fspath(path))
    target = os.path.realpath(given)  # through symbolic links: the link stays
    directory, name = os.path.split(target)
    name_max = _name_max(directory) if os.path.isdir(directory) else 255
    if len(os.fsencode(name)) > name_max:
        raise OSError(
            errno.ENAMETOOLONG,
            f"file name too long ({len(os.fsencode(name))} bytes; the file system takes "
            f"{name_max})",
            given,
        )
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:  # a loop of symbolic links, a path too long…
        raise OSError(exc.errno, exc.strerror, given) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(
            f"{given!r} is a directory; give a file path such as "
            f"{os.path.join(given, 'model.safetensors')!r}"
        )
    if mode is not None and not stat.S_ISREG(mode):
        kind = _kind(mode)
        raise FileExistsError(
            errno.EEXIST,
            f"it is a {kind}, not a regular file; nnmath writes only regular files and never "
            f"replaces a {kind}",
            given,
        )
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {given!r}: directory {directory!r} does not exist")
    return target, directory, _temporary_prefix(name, name_max), name_max


def _temporary_prefix(name: str, name_max: int) -> str:
    """Return the temporary files' prefix '.<name>.', the name cut to fit ``name_max`` bytes.

    The name is cut at a character, so that the temporary's whole name, '.<name>.<8
    characters>.tmp', fits.
    """
    room = name_max - len(".") - len(".xxxxxxxx.tmp")
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}."


def _lock(fd: int) -> bool:
    """Take the lock that marks a temporary file's writer as alive (False: taken)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _remove_abandoned(directory: str, prefix: str) -> None:
    """Remove the temporary files of this target whose writer died.

    A writer died when its lock is gone: the OS releases it with the process, even after
    kill -9.
    """
    if fcntl is None:
        return
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        rest = entry.name[len(prefix) :]
        if not (entry.name.startswith(prefix) and _TEMPORARY_SUFFIX.fullmatch(rest)):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and _lock(fd):
                if os.stat(entry.path, follow_symlinks=False).st_ino == st.st_ino:
                    os.unlink(entry.path)
        except OSError:
            pass
        finally:
            os.close(fd)


def _create_temporary(directory: str, prefix: str, unnamed: bool) -> tuple[int, str | None]:
    """Create a new, locked temporary file in ``directory``; return (fd, name).

    The name is None for an unnamed one (``O_TMPFILE``), when ``unnamed`` and the system
    offers it.
    """
    if unnamed and _O_TMPFILE:
        try:
            fd = os.open(directory, _O_TMPFILE | os.O_WRONLY | _O_CLOEXEC, 0o600)
        except OSError:  # not supported by this file system
            pass
        else:
            _lock(fd)
            return fd, None
    for _ in range(100):
        name = os.path.join(directory, f"{prefix}{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
        except FileExistsError:
            continue
        # Between the creation and the lock, another save's clean-up may have taken the
        # file for abandoned: keep it only when the name still holds it.
        try:
            if _lock(fd) and os.stat(name).st_ino == os.fstat(fd).st_ino:
                return fd, name
        except FileNotFoundError:
            pass
        os.close(fd)
    raise FileExistsError(errno.EEXIST, "could not create a temporary file", directory)


def _give_name(fd: int, directory: str, prefix: str) -> str | None:
    """Give an unnamed (O_TMPFILE) file a name in ``directory``, or return None.

    The name is made by linkat through /proc/self/fd; None where that is not possible.
    """
    dir_fd = os.open(directory, os.O_RDONLY | _O_CLOEXEC)
    try:
        for _ in range(100):
            name = f"{prefix}{secrets.token_hex(4)}.tmp"
            try:
                # The directory descriptors make os.link call linkat(…, AT_SYMLINK_FOLLOW),
                # which links the file the /proc entry points to.
                os.link(f"/proc/self/fd/{fd}", name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            except FileExistsError:
                continue
            except OSError:
                return None
            return os.path.join(directory, name)
    finally:
        os.close(dir_fd)
    return None


def _write_payload(f, data: bytes) -> None:
    """Write the file's bytes (a seam for the atomic-save test)."""
    f.write(data)


def _new_file_mode() -> int:
    umask = os.umask(0o022)  # read the umask (there is no other portable way)
    os.umask(umask)
    return 0o666 & ~umask  # what open() would have given a new file


def check_writable(path) -> str:
    """Check, without writing anything there, that :func:`atomic_write` can write ``path``.

    Returns the file it would replace (``path`` through its symbolic links).

    Refuses a directory, a FIFO, a device or a socket at ``path``, a missing directory,
    a name the file system cannot hold, and a directory where no file can be created
    (read-only, no permission): what a command checks before hours of training.

    Raises
    ------
    OSError
        IsADirectoryError, FileExistsError (a special file), FileNotFoundError (no such
        directory), PermissionError and others; the message names ``path``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_writable(folder / "model.safetensors") == str(folder / "model.safetensors")
    True
    """
    target, directory, prefix, _ = _resolve(path)
    try:
        fd, name = _create_temporary(directory, prefix, unnamed=True)
    except OSError as exc:
        raise type(exc)(
            exc.errno, f"cannot create a file in {directory!r}: {exc.strerror}", shown(path)
        ) from None
    os.close(fd)
    if name is not None:
        os.unlink(name)
    return target


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file: write, fsync, rename over.

    ``path`` is followed through symbolic links; an existing target must be a regular
    file and keeps its permissions. Temporary files of this target left by a killed
    writer are removed first. See the module's docstring.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "link").symlink_to(folder / "target.bin")
    >>> atomic_write(str(folder / "link"), b"new")
    >>> (folder / "target.bin").read_bytes(), (folder / "link").is_symlink()
    (b'new', True)
    """
    target, directory, prefix, _ = _resolve(path)
    _remove_abandoned(directory, prefix)
    try:
        mode = os.stat(target).st_mode & 0o777  # keep an existing file's permissions
    except FileNotFoundError:
        mode = _new_file_mode()
    try:
        _write_through_temporary(target, directory, prefix, data, mode, unnamed=True)
    except OSError as exc:
        if exc.errno is None or exc.filename == path:
            raise
        raise type(exc)(exc.errno, exc.strerror, shown(path)) from exc
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


def _write_through_temporary(target, directory, prefix, data, mode, unnamed: bool) -> None:
    fd, tmp = _create_temporary(directory, prefix, unnamed)
    f = os.fdopen(fd, "wb")  # closing it releases the lock: only after the rename
    try:
        _write_payload(f, data)
        f.flush()
        os.fsync(f.fileno())
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        if tmp is None:
            tmp = _give_name(fd, directory, prefix)
            if tmp is None:  # no /proc: write a named temporary instead
                f.close()
                _write_through_temporary(target, directory, prefix, data, mode, unnamed=False)
                return
        if not hasattr(os, "fchmod"):  # pragma: no cover - Windows
            os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        f.close()


# ============================================================================ reading
def _sniff(head: bytes) -> str:
    """Guess what a file that is not a model file might be."""
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
            raise ValueError(f"duplicate key {key!r:.100}")
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


def _open_regular(path):
    """Open ``path`` for reading only if it is a regular file.

    A FIFO or a device is refused before it is opened (opening one could block, or consume
    its data).
    """
    where = shown(path)
    mode = os.stat(path).st_mode  # FileNotFoundError for a missing path
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{where!r} is a directory, not a model file")
    if not stat.S_ISREG(mode):
        raise ModelFileError(
            f"{where}: it is a {_kind(mode)}, not a model file; model files are read only "
            "from regular files"
        )
    # O_NONBLOCK: should the path have become a FIFO since, opening it does not block.
    fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ModelFileError(
                f"{where}: it is a {_kind(mode)}, not a model file; model files are read "
                "only from regular files"
            )
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def check_header(raw: bytes, path="the model file") -> dict:
    """Parse a safetensors header within this module's limits.

    The limits are on the size, the number of JSON values and containers (counted before
    parsing), every string (valid Unicode, at most
    :data:`nnmath.document.MAX_STRING_CHARS` long outside ``__metadata__``) and the number
    of tensors. Returns the header as a dict.

    What :func:`read` runs on every file, and :func:`nnmath.save` on every file it
    writes, so that a saved file is one that loads.

    Examples
    --------
    >>> check_header(b'{"__metadata__": {"nnmath": "{}"}}')
    {'__metadata__': {'nnmath': '{}'}}
    """
    where = shown(path)
    if len(raw) > MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{where}: the header is {len(raw)} bytes; the limit is {MAX_HEADER_BYTES}"
        )
    containers = raw.count(b"{") + raw.count(b"[")
    values = raw.count(b",") + containers
    if containers > MAX_JSON_CONTAINERS or values > MAX_JSON_VALUES:
        raise ModelFileError(
            f"{where}: the header holds up to {values} JSON values in {containers} objects "
            f"and lists; a model file holds at most {MAX_JSON_VALUES} values in "
            f"{MAX_JSON_CONTAINERS} objects and lists"
        )
    header = _parse_json(raw, "safetensors header", path)
    if not isinstance(header, dict):
        raise ModelFileError(
            f"{where}: the safetensors header must be a JSON object; got {type(header).__name__}"
        )
    if len(header) > MAX_TENSORS + 1:
        raise ModelFileError(
            f"{where}: the header lists {len(header) - 1} tensors; a model file holds at "
            f"most {MAX_TENSORS}"
        )
    metadata = header.get("__metadata__")
    check_strings({k: v for k, v in header.items() if k != "__metadata__"}, f"{where}: the header")
    if isinstance(metadata, dict):
        check_strings(list(metadata), f"{where}: __metadata__")
        check_strings(list(metadata.values()), f"{where}: __metadata__", max_chars=None)
    return header


def read(path, classes: Collection[str]) -> tuple[Document, Tensors, bool]:
    """Open, check and parse a model file: (document, tensors by name, checksummed).

    ``classes`` are the model class names the reader can build; another name in the
    document is a :class:`ModelFileError`. ``checksummed`` is True when the file holds
    checksums (and they matched: a mismatch raises), False for a file without them.

    Examples
    --------
    >>> import nnmath, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "net.safetensors"
    >>> nnmath.save(nnmath.Network([2, 1], random_state=0), path)
    >>> document, tensors, checksummed = read(path, ["Network"])
    >>> document["class"], sorted(tensors), checksummed
    ('Network', ['W1', 'b1'], True)
    """
    with _open_regular(path) as f:
        return read_from(f, os.fstat(f.fileno()).st_size, path, classes)


def read_bytes(
    data: bytes, classes: Collection[str], name: str = "the model's bytes"
) -> tuple[Document, Tensors, bool]:
    """Check and parse a model file held in memory, as :func:`read` a file on disk.

    ``name`` is what messages call the bytes.

    Examples
    --------
    >>> import nnmath
    >>> data = nnmath.io.to_bytes(nnmath.Network([2, 1], random_state=0))
    >>> document, tensors, checksummed = read_bytes(data, ["Network"])
    >>> document["class"], sorted(tensors), checksummed
    ('Network', ['W1', 'b1'], True)
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes (a model file's contents); got {type(data).__name__}")
    return read_from(io.BytesIO(data), len(data), name, classes)


def read_from(f, size: int, path, classes: Collection[str]) -> tuple[Document, Tensors, bool]:
    """Check and parse the ``size`` bytes of a model file open as ``f``.

    ``path`` names the file in messages. :func:`read` and :func:`read_bytes` call it.
    """
    where = shown(path)
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
        limit = (
            f"over the {MAX_HEADER_BYTES // 2**20} MiB limit"
            if n > MAX_HEADER_BYTES
            else "truncated?"
        )
        raise ModelFileError(
            f"{where}: not a safetensors model file: the header length field claims "
            f"{n} bytes but the file has only {size - 8} after it ({limit})"
            f"{_sniff(head)}"
        )
    header = check_header(_read_exact(f, n, "header", path), path)
    metadata = header.pop("__metadata__", None)
    document, checksums = _document(metadata, path, classes)
    buffer_size = size - 8 - n
    layout = _tensor_layout(header, buffer_size, path)
    buffer = _read_exact(f, buffer_size, "tensor data", path)
    tensors = {
        name: np.frombuffer(buffer, dtype=dt, count=count, offset=begin).reshape(shape)
        for name, (dt, shape, begin, count) in layout.items()
    }
    if checksums is not None and weights_digest(tensors) != checksums[1]:
        raise ModelFileError(
            f"{where}: the file is damaged: its weights do not match the SHA-256 checksum "
            "stored with them"
        )
    return document, tensors, checksums is not None


def _document(metadata, path, classes) -> tuple[Document, tuple[str, str] | None]:
    """Check the ``__metadata__``, its checksums and the model document it holds.

    Returns (document, (document digest, weights digest) or None).
    """
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
            f"file (keys found: {sorted(metadata)[:10]!r:.200})"
        )
    text = metadata["nnmath"]
    present = [key for key in CHECKSUM_KEYS if key in metadata]
    checksums = None
    if present:
        if len(present) != len(CHECKSUM_KEYS) or not all(
            _HEX_DIGEST.fullmatch(metadata[key]) for key in CHECKSUM_KEYS
        ):
            raise ModelFileError(
                f"{where}: the file is damaged: its checksums are incomplete or garbled"
            )
        checksums = (metadata[CHECKSUM_KEYS[0]], metadata[CHECKSUM_KEYS[1]])
        if document_digest(text) != checksums[0]:
            raise ModelFileError(
                f"{where}: the file is damaged: its model description does not match the "
                "SHA-256 checksum stored with it"
            )
    doc = _parse_json(text, "'nnmath' metadata", path)
    if not isinstance(doc, dict):
        raise ModelFileError(
            f"{where}: the 'nnmath' metadata must be a JSON object; got {type(doc).__name__}"
        )
    check_strings(doc, f"{where}: the model document")
    version = doc.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(
            f"{where}: 'format_version' must be a positive integer; got {version!r:.100}"
        )
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{where}: written in model-file format version {version} by nnmath "
            f"{doc.get('nnmath_version', '?')!s:.40}; this nnmath ({nnmath_version()}) reads "
            f"versions up to {FORMAT_VERSION}. Upgrade nnmath to load it."
        )
    cls = doc.get("class")
    if not isinstance(cls, str) or cls not in classes:
        raise ModelFileError(
            f"{where}: unknown model class {cls!r:.100}; this nnmath can load "
            f"{', '.join(sorted(classes))}"
        )
    return doc, checksums


def _tensor_layout(header: dict, buffer_size: int, path) -> dict:
    """Check every tensor entry; name → (dtype, shape, begin offset, element count).

    Names are the model's (W1, b1, …, and a training state's: optimizer.m, …), shapes
    have one or two dimensions of at least 1
    (a network has no empty layer), and the tensors tile the byte buffer exactly: in
    bounds, no overlap, no gap.
    """
    where = shown(path)
    layout = {}
    for name, entry in header.items():
        if not _TENSOR_NAME.fullmatch(name):
            raise ModelFileError(
                f"{where}: tensor {name!r:.100} is not a model tensor (W1, b1, W2, …, or "
                f"a training state's {', '.join(TRAINING_STATE_TENSORS)})"
            )
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ModelFileError(
                f"{where}: tensor {name!r} must be an object with exactly 'dtype', 'shape' "
                f"and 'data_offsets'; got {entry!r:.200}"
            )
        tag, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not (isinstance(tag, str) and tag in _TENSOR_DTYPES):
            raise ModelFileError(
                f"{where}: tensor {name!r} has dtype {tag!r:.100}; model weights are F32 or F64"
            )
        if not (
            isinstance(shape, list)
            and 1 <= len(shape) <= 2
            and all(is_int(d) and d >= 1 for d in shape)
        ):
            raise ModelFileError(
                f"{where}: tensor {name!r} has shape {shape!r:.100}; expected one or two "
                "integers ≥ 1"
            )
        if not (
            isinstance(offsets, list) and len(offsets) == 2 and all(is_int(o) for o in offsets)
        ):
            raise ModelFileError(
                f"{where}: tensor {name!r} has data_offsets {offsets!r:.100}; expected [begin, end]"
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
