r"""Reading the command's tables: a CSV or Parquet file, standard input, or a folder.

* :func:`read_table` reads one file (or ``-``, standard input) whole, after sizing it
  from its Parquet metadata or its CSV header and line count (:func:`table_shape`); a
  CSV file's delimiter is detected from its first lines (``csv.Sniffer``) unless given.
* :class:`Source` says where a row came from in the user's terms: a CSV row's line in
  the file as an editor numbers it (the header is line 1; quoted line breaks and blank
  lines counted), a Parquet row's number counted from 1.
* :class:`Dataset` is a folder or a glob of Parquet or CSV files, read with
  ``pyarrow.dataset`` one batch at a time, never whole.

Example
-------
>>> import tempfile
>>> path = Path(tempfile.mkdtemp()) / "t.csv"
>>> _ = path.write_text("a;b\n1;2\n3;4\n")
>>> table, source = read_table(str(path))
>>> list(table.columns), source.sep, source.where([1])
(['a', 'b'], ';', ['line 3'])
"""

from __future__ import annotations

import csv
import glob
import io
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnmath.cli.messages import UsageError, nearest, one_line, plural
from nnmath.cli.parser import MAX_CELL_BYTES, MAX_COLUMNS

__all__ = [
    "DELIMITERS",
    "Dataset",
    "Source",
    "builtin_table",
    "check_columns",
    "check_size",
    "compression_of",
    "describe_rows",
    "detect_sep",
    "is_dataset",
    "not_text",
    "open_bytes",
    "parquet_columns",
    "parse_sep",
    "read_table",
    "require_pandas",
    "scan_csv",
]

#: The delimiters a CSV file's first lines are tried for.
DELIMITERS = ",;\t|"

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".tsv", ".txt")
_MAX_HEADER_LINE = 64 * 2**20  # the longest header line read to count the columns
_SNIFF_BYTES = 64 * 2**10


def require_pandas():
    """pandas, or a UsageError saying how to install it."""
    try:
        import pandas as pd
    except ImportError:
        raise UsageError(
            'reading data files needs pandas and pyarrow: pip install "nnmath[data]"'
        ) from None
    return pd


def parse_sep(text: str | None) -> str | None:
    r"""Read a --sep value as a one-character delimiter ("\t" and "tab" are a tab).

    Examples
    --------
    >>> parse_sep("\\t"), parse_sep(";"), parse_sep(None)
    ('\t', ';', None)
    """
    if text is None:
        return None
    sep = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)
    if len(sep) != 1:
        raise UsageError(f"--sep takes one character; got {text!r}")
    if not sep.isascii() or sep in '\r\n"' or (not sep.isprintable() and sep != "\t"):
        raise UsageError(
            f"--sep {text!r}: a delimiter is one printable ASCII character (a byte such as "
            "',', ';', '|') or '\\t' for a tab"
        )
    return sep


def detect_sep(head: bytes) -> str:
    r"""Detect the delimiter of a CSV file from its first bytes.

    It is the one of :data:`DELIMITERS` that ``csv.Sniffer`` finds splitting every line
    alike, else ",".

    Examples
    --------
    >>> detect_sep(b"species;island;mass\nAdelie;Dream;3750\n")
    ';'
    >>> detect_sep(b"just one column\n1\n")
    ','
    """
    text = head.decode("utf-8", "replace")
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut short
    lines = lines[:50]
    if not lines:
        return ","
    try:
        sep = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","
    return sep if sep in lines[0] else ","


@dataclass
class Source:
    """Where a table came from, for messages.

    Attributes
    ----------
    name : str
        As the user gave it ("standard input" for ``-``).
    format : str
        "csv", "parquet" or "built-in".
    sep : str or None
        A CSV file's delimiter.
    path : Path or None
    data : bytes or None
        Standard input's bytes (its lines are counted from them).
    files : list of (str, int)
        A data set's files and the number of the first row of each (from 0).
    compression : str or None
        A compressed file's compression ("gzip", "bz2", "xz", "zstd").

    Examples
    --------
    >>> Source("t.parquet", "parquet").where([0, 146])
    ['row 1', 'row 147']
    """

    name: str
    format: str
    sep: str | None = None
    path: Path | None = None
    data: bytes | None = None
    files: list = field(default_factory=list)
    compression: str | None = None
    _lines: dict = field(default_factory=dict, repr=False)

    def where(self, rows) -> list[str]:
        """Name each row (numbered from 0 among the table's rows) as the user finds it.

        A row is "line N" of a CSV file (the header is line 1) or "row N" (from 1) of
        another table.
        """
        rows = [int(r) for r in rows]
        if self.files:
            starts = [start for _, start in self.files]
            out = []
            for r in rows:
                k = int(np.searchsorted(starts, r, side="right")) - 1
                name, start = self.files[k]
                part = Source(name, self.format, self.sep, Path(name))
                out.append(f"{Path(name).name} {part.where([r - start])[0]}")
            return out
        if self.format != "csv":
            return [f"row {r + 1}" for r in rows]
        lines = self._record_lines(max(rows, default=0) + 1)
        return [f"line {lines[r + 1]}" if r + 1 < len(lines) else f"row {r + 1}" for r in rows]

    def where_text(self, rows, count: int | None = None, limit: int = 5) -> str:
        """Name the rows as places: "lines 5, 9, 12" (with "…" when there are more than shown).

        Examples
        --------
        >>> Source("t.pq", "parquet").where_text([0, 1], count=3)
        'rows 1, 2, …'
        """
        places = self.where(list(rows)[:limit])
        if not places:
            return ""
        more = (count if count is not None else len(list(rows))) > len(places)
        prefixes = {p.rsplit(" ", 1)[0] for p in places}
        if len(places) == 1 and not more:
            return places[0]
        if len(prefixes) > 1:
            return ", ".join(places) + (", …" if more else "")
        numbers = ", ".join(p.rsplit(" ", 1)[1] for p in places)
        return f"{prefixes.pop()}s {numbers}{', …' if more else ''}"

    def _record_lines(self, n: int) -> list[int]:
        """Return the line each of the first n records (header first) starts on.

        The file is read with the csv module as pandas reads it: blank lines skipped,
        quoted line breaks kept.
        """
        if n in self._lines or any(k >= n for k in self._lines):
            return next(v for k, v in self._lines.items() if k >= n)
        if self.data is not None:
            stream: io.TextIOBase = io.StringIO(self.data.decode("utf-8", "replace"), newline="")
        elif self.path is not None:
            stream = io.TextIOWrapper(
                open_bytes(self.path, self.compression),
                newline="",
                encoding="utf-8",
                errors="replace",
            )
        else:
            return []
        starts: list[int] = []
        with stream:
            reader = csv.reader(stream, delimiter=self.sep or ",")
            consumed = 0
            try:
                for record in reader:
                    if record and any(record):
                        starts.append(consumed + 1)
                        if len(starts) > n:
                            break
                    consumed = reader.line_num
            except csv.Error:  # a field past the csv module's limit: rows from here on
                pass
        self._lines = {n: starts}
        return starts

    def delimiter_hint(self, names) -> str:
        """Return a hint when a column's name holds another delimiter, else "".

        The hint reads " (… looks separated by ';': --sep ';' reads it so)".
        """
        if self.format != "csv":
            return ""
        for name in names:
            for d in DELIMITERS:
                if d != self.sep and d in str(name) and str(name).count(d) >= 1:
                    shown = "\\t" if d == "\t" else d
                    return (
                        f" (the file was read as separated by {self.sep_shown!r}; the header "
                        f"{str(name)[:60]!r} looks separated by {shown!r}: --sep '{shown}' "
                        "reads it so)"
                    )
        return ""

    @property
    def sep_shown(self) -> str:
        """The delimiter as a user types it."""
        return "\\t" if self.sep == "\t" else (self.sep or ",")


# ---------------------------------------------------------------------- one table
#: What a file's first bytes say it is, when it is not text: compressions read as they
#: come (pandas' names), and archives refused.
_COMPRESSIONS = {
    b"\x1f\x8b": "gzip",
    b"BZh": "bz2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
}
_COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
_ARCHIVES = {
    b"PK\x03\x04": "a ZIP archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel (OLE) file",
}
_UNIX_TOOLS = {"gzip": "gunzip", "bz2": "bunzip2", "xz": "unxz", "zstd": "unzstd"}


def compression_of(head: bytes) -> str | None:
    """Return the compression whose magic bytes ``head`` starts with, or None.

    Examples
    --------
    >>> import gzip
    >>> compression_of(gzip.compress(b"a,b")), compression_of(b"a,b")
    ('gzip', None)
    """
    return next((name for magic, name in _COMPRESSIONS.items() if head.startswith(magic)), None)


def not_text(name: str, head: bytes) -> str | None:
    r"""Say what a file is when its first bytes show that it is not a table's text, or None.

    Examples
    --------
    >>> not_text("d.csv", b"PK\x03\x04...")
    'd.csv is a ZIP archive, not a CSV or Parquet file: extract the table first'
    >>> not_text("d.csv", b"a,b\x00\x00")
    'd.csv is a binary file, not CSV text (a NUL byte in its first bytes)'
    """
    for magic, what in _ARCHIVES.items():
        if head.startswith(magic):
            return f"{name} is {what}, not a CSV or Parquet file: extract the table first"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{name} is UTF-16 text; nnmath reads UTF-8: save it as UTF-8 CSV"
    if b"\x00" in head:
        return f"{name} is a binary file, not CSV text (a NUL byte in its first bytes)"
    return None


def open_bytes(path, compression: str | None = None):
    """Open a file for reading its bytes, decompressed (gzip, bz2, xz, zstd)."""
    if compression is None:
        return open(path, "rb")
    if compression == "gzip":
        import gzip

        return gzip.open(path, "rb")
    if compression == "bz2":
        import bz2

        return bz2.open(path, "rb")
    if compression == "xz":
        import lzma

        return lzma.open(path, "rb")
    try:
        import zstandard
    except ImportError:
        raise UsageError(
            f"{path} is zstd-compressed: pip install zstandard reads it, or decompress it "
            f"first (unzstd {path})"
        ) from None
    return zstandard.open(path, "rb")


def _csv_header(first: bytes, sep: str) -> list[str]:
    text = first.decode("utf-8", "replace").rstrip("\r\n")
    return next(csv.reader([text], delimiter=sep), [])


def scan_csv(f, sep: str, name: str) -> tuple[int, list[str]] | None:
    r"""Return (rows, column names) of a CSV file, read once in bounded memory.

    The rows are counted from the line ends (an upper bound: quoted line breaks count
    too). A file whose first line is longer than 64 MiB, or with a cell longer than
    :data:`~nnmath.cli.parser.MAX_CELL_BYTES` between two delimiters or line ends, is
    refused, the cell named by its line; None for an empty file (pandas says so).

    Examples
    --------
    >>> scan_csv(io.BytesIO(b"a,b,c\n1,2,3\n4,5,6"), ",", "t.csv")
    (2, ['a', 'b', 'c'])
    """
    first = f.readline(_MAX_HEADER_LINE + 1)
    if len(first) > _MAX_HEADER_LINE:
        raise UsageError(
            f"{name}: the first line is longer than {_MAX_HEADER_LINE // 2**20} MiB; "
            "is it a data file?"
        )
    if not first.strip():
        return None
    header = _csv_header(first, sep)
    long = next((c for c in header if len(c.encode()) > MAX_CELL_BYTES), None)
    if long is not None:
        _cell_too_long(name, 1)
    stops = np.frombuffer(b"\n" + sep.encode(), dtype=np.uint8)
    rows, lines, run, run_line, last = 0, 2, 0, 2, b"\n"
    while chunk := f.read(2**20):
        data = np.frombuffer(chunk, dtype=np.uint8)
        newline = data == 10
        at = np.flatnonzero(newline | (data == stops[1]))
        if not len(at):
            run += len(chunk)
        else:
            gaps = np.diff(at, prepend=-1) - 1  # the cells' lengths in bytes
            gaps[0] += run
            too_long = np.flatnonzero(gaps > MAX_CELL_BYTES)
            if len(too_long):
                k = int(too_long[0])
                line = (
                    run_line if k == 0 else lines + int(np.count_nonzero(newline[: at[k - 1] + 1]))
                )
                _cell_too_long(name, line)
            run = len(chunk) - 1 - int(at[-1])
            run_line = lines + int(np.count_nonzero(newline[: at[-1] + 1]))
        if run > MAX_CELL_BYTES:
            _cell_too_long(name, run_line)
        count = int(np.count_nonzero(newline))
        rows += count
        lines += count
        last = chunk[-1:]
    rows += last != b"\n"  # a last line without its line end
    return rows, header


def _cell_too_long(name: str, line: int):
    raise UsageError(
        f"{name}: line {line:,} has a cell longer than {MAX_CELL_BYTES // 2**20} MiB; nnmath "
        "reads cells of at most that (numbers, categories, dates, short texts)"
    )


def parquet_columns(source) -> tuple[int, list[str]] | None:
    """Return (rows, column names) of a Parquet file from its metadata, or None if not Parquet.

    ``source`` is a path or a file object.
    """
    try:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(source)
        return meta.metadata.num_rows, [str(n) for n in meta.schema_arrow.names]
    except Exception:  # not Parquet, or no pyarrow: read_parquet reports it
        return None


def check_columns(source: str, names) -> None:
    """Refuse more than :data:`~nnmath.cli.parser.MAX_COLUMNS` columns, or two of one name.

    Examples
    --------
    >>> check_columns("t.csv", ["a", "b", "label", "label"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    nnmath.cli.messages.UsageError: t.csv: the column name 'label' is given twice (columns 3 ...
    """
    names = list(names)
    if len(names) > MAX_COLUMNS:
        raise UsageError(
            f"{source} has {len(names):,} columns; nnmath reads at most {MAX_COLUMNS:,}"
        )
    where: dict[str, list[int]] = {}
    for k, name in enumerate(names, start=1):
        where.setdefault(str(name), []).append(k)
    twice = [(name, at) for name, at in where.items() if len(at) > 1]
    if twice:
        name, at = twice[0]
        more = f" (and {len(twice) - 1:,} more names)" if len(twice) > 1 else ""
        columns = ", ".join(str(k) for k in at[:-1]) + f" and {at[-1]}"
        times = "twice" if len(at) == 2 else f"{len(at)} times"
        raise UsageError(
            f"{source}: the column name {name!r} is given {times} (columns {columns}){more}; "
            "each column needs a name of its own"
        )


def check_size(source: str, rows: int, columns: int, max_cells: int) -> None:
    """Refuse a table too small or too big.

    That is a table of no rows, of more than :data:`MAX_COLUMNS` columns, or of more than
    ``max_cells`` values (0: no limit).

    Examples
    --------
    >>> check_size("t.csv", 10, 3, 100)
    """
    if rows == 0:
        raise UsageError(f"{source} has no rows")
    if columns > MAX_COLUMNS:
        raise UsageError(f"{source} has {columns:,} columns; nnmath reads at most {MAX_COLUMNS:,}")
    if max_cells and rows * columns > max_cells:
        raise UsageError(
            f"{source} has {rows:,} rows × {columns:,} columns = {rows * columns:,} values, "
            f"more than the limit of {max_cells:,} (--max-cells N sets another; 0: none; "
            "a folder or a glob of files, or --stream, is read in batches instead)"
        )


def read_table(path: str, max_cells: int = 50_000_000, sep: str | None = None):
    """Read a CSV (or .tsv) or Parquet file, or ``-``, into a pandas DataFrame.

    ``-`` is standard input: CSV, or Parquet by its first bytes. A file compressed with
    gzip, bzip2, xz or zstd is read as it comes (``data.csv.gz``); an archive or another
    binary file is named as such. The size, the columns (at most
    :data:`~nnmath.cli.parser.MAX_COLUMNS`, each of its own name) and the cells (at most
    :data:`~nnmath.cli.parser.MAX_CELL_BYTES` each) are checked before the table is built.
    Returns ``(table, Source)``.
    """
    data = None
    compression = None
    if path == "-":
        if sys.stdin is None:
            raise UsageError("standard input is closed: give DATA as a file instead of '-'")
        try:
            data = sys.stdin.buffer.read()
        except (OSError, ValueError) as exc:
            raise UsageError(f"could not read standard input: {one_line(exc)}") from None
        name, p, suffix = "standard input", None, ".parquet" if data[:4] == b"PAR1" else ".csv"
        if not data.strip():
            raise UsageError("standard input is empty")
        packed = compression_of(data[:8])
        if packed is not None:
            raise UsageError(
                f"standard input is {packed}-compressed: decompress it in the pipe "
                f"({_UNIX_TOOLS[packed]} -c FILE | nnmath …), or give the file itself"
            )
        head = data[:_SNIFF_BYTES]
    else:
        name, p = path, Path(path)
        if not p.exists():
            raise UsageError(f"no such file: {path}{_nearby(path)}")
        if p.is_dir():
            raise UsageError(f"{path} is a directory, not a data file")
        head = _head(p)
        compression = compression_of(head)
        suffixes = [x.lower() for x in p.suffixes]
        suffix = suffixes[-1] if suffixes else ""
        if suffix in _COMPRESSION_SUFFIXES:
            suffix = suffixes[-2] if len(suffixes) > 1 else ""
        if head[:4] == b"PAR1":
            suffix = ".parquet"  # whatever its name says
        elif compression is not None:
            try:
                with open_bytes(p, compression) as f:
                    head = f.read(_SNIFF_BYTES)
            except (OSError, EOFError, ValueError) as exc:
                raise UsageError(
                    f"{path} is not a valid {compression} file: {one_line(exc)}"
                ) from None
            if suffix not in _PARQUET + _CSV:
                suffix = ".csv"
        if suffix not in _PARQUET + _CSV:
            problem = not_text(path, head)
            if problem:
                raise UsageError(problem)
            raise UsageError(
                f"{path}: unsupported file type {suffix or '(none)'}; use .csv, .tsv or "
                ".parquet (compressed: .csv.gz, .csv.bz2, .csv.xz, .csv.zst)"
            )
    pd = require_pandas()
    if suffix in _PARQUET:
        if compression is not None:
            raise UsageError(f"{name} is {compression}-compressed Parquet; decompress it first")
        source = Source(name, "parquet", path=p, data=data)
        found = parquet_columns(io.BytesIO(data) if data is not None else p)
    else:
        problem = not_text(name, head)
        if problem:
            raise UsageError(problem)
        if sep is None:
            sep = "\t" if suffix == ".tsv" else detect_sep(head)
        source = Source(name, "csv", sep, path=p, data=data, compression=compression)
        try:
            with io.BytesIO(data) if data is not None else open_bytes(p, compression) as f:
                found = scan_csv(f, sep, name)
        except (OSError, EOFError) as exc:
            raise UsageError(f"{name}: could not read the data: {one_line(exc)}") from None
    if found is not None:
        rows, names = found
        check_size(name, rows, len(names), max_cells)
        check_columns(name, names)
    target = io.BytesIO(data) if data is not None else p
    try:
        if suffix in _PARQUET:
            table = pd.read_parquet(target)
        else:
            table = pd.read_csv(target, sep=sep, compression=compression)
    except UsageError:
        raise
    except pd.errors.EmptyDataError:
        raise UsageError(f"{name} is empty") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name} is not UTF-8 text: is it a CSV file?") from None
    except ImportError as exc:
        raise UsageError(f'{name}: {exc}. Install it with pip install "nnmath[data]"') from None
    except (ValueError, OSError, EOFError) as exc:
        raise UsageError(f"{name}: could not read the data: {one_line(exc)}") from None
    if len(table) == 0:
        raise UsageError(f"{name} has no rows")
    table.columns = [str(c) for c in table.columns]
    return table, source


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(_SNIFF_BYTES)
    except OSError:
        return b""


def _nearby(path: str) -> str:
    """Return a hint "; did you mean 'x'?" for a file of a similar name in the same folder."""
    folder = Path(path).parent
    try:
        names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    except OSError:
        return ""
    close = nearest(Path(path).name, names, cutoff=0.8)
    if close is None:
        return ""
    return f"; did you mean {str(folder / close) if str(folder) != '.' else close!r}?"


def builtin_table(name: str) -> tuple[dict, str]:
    """Return a scikit-learn bundled data set as a dict of columns, and the target column.

    Examples
    --------
    >>> table, target = builtin_table("iris")
    >>> target, len(table), table["target"][0]
    ('target', 5, np.str_('setosa'))
    """
    from sklearn import datasets

    loaders = {
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast-cancer": datasets.load_breast_cancer,
        "diabetes": datasets.load_diabetes,
    }
    bunch = loaders[name]()
    table = {str(f): bunch.data[:, j] for j, f in enumerate(bunch.feature_names)}
    target = bunch.target
    names = getattr(bunch, "target_names", None)
    if names is not None and name != "digits":
        target = np.asarray(names)[target]
    table["target"] = target
    return table, "target"


# ---------------------------------------------------------------------- data sets
def is_dataset(path: str | None) -> bool:
    """Whether DATA names several files to read in batches: a folder or a glob.

    Examples
    --------
    >>> is_dataset("data/*.parquet"), is_dataset("data.csv"), is_dataset(None)
    (True, False, False)
    """
    if path is None or path == "-":
        return False
    return glob.has_magic(path) or os.path.isdir(path)


class Dataset:
    r"""A folder or a glob of Parquet or CSV files (or one file), read one batch at a time.

    The files are read with ``pyarrow.dataset``.

    CSV cells are read as text (numbers are recognized by the preprocessing, as in a file
    read whole), with the delimiter detected from the first file.

    Parameters
    ----------
    path : str
    sep : str or None
        The CSV delimiter (default: detected).
    batch_rows : int
        Rows per batch.

    Attributes
    ----------
    files : list of str
    format : str
        "parquet" or "csv".
    columns : list of str
    source : Source
        For messages: each file's rows.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> for k in range(2):
    ...     _ = (folder / f"part-{k}.csv").write_text(f"x,y\n{k},1\n{k},2\n")
    >>> data = Dataset(str(folder))
    >>> [(len(frame), first) for frame, first in data.batches()]
    [(2, 0), (2, 2)]
    """

    def __init__(self, path: str, sep: str | None = None, batch_rows: int = 16_384):
        try:
            import pyarrow  # noqa: F401
            import pyarrow.dataset  # noqa: F401
        except ImportError:
            raise UsageError(
                'reading a folder of files needs pyarrow: pip install "nnmath[data]"'
            ) from None
        self.path = path
        self.batch_rows = batch_rows
        files = self._files(path)
        suffixes = {Path(f).suffix.lower() for f in files}
        if suffixes <= set(_PARQUET):
            self.format = "parquet"
        elif suffixes <= set(_CSV):
            self.format = "csv"
        else:
            raise UsageError(
                f"{path} mixes file types ({', '.join(sorted(suffixes))}); give Parquet or CSV "
                "files only"
            )
        self.files = files
        if self.format == "csv" and sep is None:
            sep = "\t" if suffixes == {".tsv"} else detect_sep(_head(Path(files[0])))
        self.sep = sep
        self._check_columns()
        self.dataset = self._open()
        self.columns = [str(c) for c in self.dataset.schema.names]
        check_columns(path, self.columns)
        self.source = Source(path, self.format, sep)
        self.n_rows: int | None = None

    def _files(self, path: str) -> list[str]:
        if glob.has_magic(path):
            found = sorted(glob.glob(path, recursive=True))
            what = f"no file matches {path}"
        elif os.path.isdir(path):
            found = sorted(
                str(p)
                for p in Path(path).rglob("*")
                if p.is_file() and not p.name.startswith((".", "_"))
            )
            what = f"{path} holds no data file"
        elif os.path.exists(path):
            found = [path]
            what = ""
        else:
            raise UsageError(f"no such file or folder: {path}{_nearby(path)}")
        found = [f for f in found if Path(f).suffix.lower() in _PARQUET + _CSV]
        if not found:
            raise UsageError(f"{what} (.parquet, .pq, .csv, .tsv or .txt)")
        return found

    def _check_columns(self) -> None:
        """Refuse too many columns, or two of one name, before pyarrow builds a schema.

        They are counted from the first file's header line or Parquet metadata.
        """
        first = self.files[0]
        if self.format == "parquet":
            found = parquet_columns(first)
            if found is not None:
                check_columns(first, found[1])
            return
        try:
            with open(first, "rb") as f:
                line = f.readline(_MAX_HEADER_LINE + 1)
        except OSError as exc:
            raise UsageError(f"{first}: could not read the data: {one_line(exc)}") from None
        if len(line) > _MAX_HEADER_LINE:
            raise UsageError(
                f"{first}: the first line is longer than {_MAX_HEADER_LINE // 2**20} MiB; "
                "is it a data file?"
            )
        problem = not_text(first, line[:_SNIFF_BYTES])
        if problem:
            raise UsageError(problem)
        check_columns(first, _csv_header(line, self.sep or ","))

    def _open(self):
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.dataset as ds

        try:
            if self.format == "parquet":
                # pre_buffer reads ahead whole stretches of a file: memory then grows
                # with the files' size
                options = ds.ParquetFragmentScanOptions(pre_buffer=False)
                parquet = ds.ParquetFileFormat(default_fragment_scan_options=options)
                return ds.dataset(self.files, format=parquet)
            with open(self.files[0], newline="", encoding="utf-8", errors="replace") as f:
                header = next(csv.reader(f, delimiter=self.sep), None)
            if not header:
                raise UsageError(f"{self.files[0]} is empty")
            csv_format = ds.CsvFileFormat(
                parse_options=pacsv.ParseOptions(delimiter=self.sep, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=True,
                ),
                read_options=pacsv.ReadOptions(block_size=2**20),
            )
            return ds.dataset(self.files, format=csv_format)
        except UsageError:
            raise
        except (ValueError, OSError) as exc:
            raise UsageError(f"{self.path}: could not read the data: {one_line(exc)}") from None

    def count_rows(self) -> int | None:
        """Return the number of rows, when the files' metadata tell it (Parquet), else None."""
        if self.format != "parquet":
            return None
        return int(sum(f.metadata.num_rows for f in self._fragments()))

    def _fragments(self):
        return list(self.dataset.get_fragments())

    def batches(self, columns=None, with_arrow: bool = False):
        """Yield ``(frame, first)``, batch after batch, file after file.

        ``frame`` is a pandas DataFrame of at most ``batch_rows`` rows and ``first`` the
        number of its first row in the data set (from 0); the Arrow batch comes too,
        third, ``with_arrow``. Sets :attr:`n_rows` at the end and the source's files as
        they are read (for messages).
        """
        first = 0
        self.source.files = []
        try:
            for fragment in self._fragments():
                self.source.files.append((fragment.path, first))
                for batch in fragment.to_batches(
                    columns=columns,
                    batch_size=self.batch_rows,
                    batch_readahead=1,
                    fragment_readahead=1,
                    use_threads=False,
                ):
                    if batch.num_rows:
                        frame = batch.to_pandas()
                        yield (frame, first, batch) if with_arrow else (frame, first)
                        first += batch.num_rows
        except (ValueError, OSError) as exc:  # pyarrow's errors are both
            raise UsageError(f"{self.path}: could not read the data: {one_line(exc)}") from None
        self.n_rows = first
        if first == 0:
            raise UsageError(f"{self.path} has no rows")

    def row_groups(self) -> list[tuple[str, int, int, int]]:
        """Return the Parquet files' row groups as (file, group, first row, rows), in order."""
        out, first = [], 0
        for fragment in self._fragments():
            for k, group in enumerate(fragment.metadata.to_dict()["row_groups"]):
                rows = int(group["num_rows"])
                out.append((fragment.path, k, first, rows))
                first += rows
        return out


def describe_rows(count: int, seconds: float) -> str:
    """Describe a count of rows and its rate: "1,200 rows (340,000 rows/s)".

    Examples
    --------
    >>> describe_rows(1200, 0.5)
    '1,200 rows (2,400 rows/s)'
    """
    rate = count / seconds if seconds > 0 else math.inf
    return f"{plural(count, 'row')} ({rate:,.0f} rows/s)"
