"""What the command says, in its own terms.

Every failure is a :class:`UsageError`, printed as one line ``nnmath: error: …``; the
other lines go through a :class:`Console`: information on stdout (nothing with
``--quiet``), warnings and notes on stderr. Messages speak of the command's options
(``--epochs``, not scikit-learn's ``max_iter``), show labels as the user wrote them,
and suggest the nearest name for a mistyped one. Only the standard library is imported
here, so that ``--help`` answers at once.

Example
-------
>>> suggestion("speceis", ["species", "island"])
"; did you mean 'species'?"
>>> in_command_terms("max_iter=200 reached")
'--epochs 200 reached'
"""

from __future__ import annotations

import difflib
import errno
import re
import sys

__all__ = [
    "Console",
    "GuardedOutput",
    "UsageError",
    "in_command_terms",
    "listed",
    "nearest",
    "number",
    "one_line",
    "plural",
    "shown",
    "suggestion",
]


class UsageError(ValueError):
    """A failure the user can fix; printed as one line, exit status 2.

    A ValueError, as a bad argument is to Python: an option refused by a
    :class:`~nnmath.cli.learn.TableModel` used from Python is one too.
    """


def one_line(text) -> str:
    r"""Put ``text`` (an exception or a string) on one line, its whitespace collapsed.

    Examples
    --------
    >>> one_line(ValueError("a\n  b"))
    'a b'
    """
    return " ".join(str(text).split())


def plural(count: int, word: str, words: str | None = None) -> str:
    """Plural or singular: "1 row", "3 rows", with thousands separators.

    Examples
    --------
    >>> plural(1, "row"), plural(1200, "row")
    ('1 row', '1,200 rows')
    """
    return f"{count:,} {word if count == 1 else words or word + 's'}"


def shown(value) -> str:
    """Show a label or a cell as the user wrote it, quoted: 'Adelie', never np.str_('Adelie').

    Examples
    --------
    >>> import numpy as np
    >>> shown(np.str_("Adelie")), shown(np.int64(3))
    ("'Adelie'", '3')
    """
    if isinstance(value, str):  # numpy's str_ is a str
        return repr(str(value))
    if hasattr(value, "item"):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def number(x: float) -> str:
    """Format a score or loss for a summary line: 4 decimals, or 4 significant digits when huge.

    Examples
    --------
    >>> number(0.98765), number(-4.6e94)
    ('0.9877', '-4.6e+94')
    """
    return f"{x:.4f}" if abs(x) < 1e4 else f"{x:.4g}"


def listed(values, limit: int = 10) -> str:
    """Comma-separated, cut at ``limit`` with "…".

    Examples
    --------
    >>> listed(["a", "b", "c"], limit=2)
    'a, b, …'
    """
    values = [str(v) for v in values]
    return ", ".join(values[:limit]) + (", …" if len(values) > limit else "")


def nearest(name: str, choices, cutoff: float = 0.6) -> str | None:
    """Return the choice nearest to a mistyped name, or None.

    difflib finds it, after a match that ignores case.

    Examples
    --------
    >>> nearest("Miles_per_gallon", ["Origin", "Miles_per_Gallon"])
    'Miles_per_Gallon'
    """
    choices = [str(c) for c in choices]
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=cutoff)
    return close[0] if close else None


def suggestion(name: str, choices) -> str:
    """Return the text "; did you mean 'x'?" for the nearest of ``choices``, or "".

    Examples
    --------
    >>> suggestion("trian", ["train", "predict"])
    "; did you mean 'train'?"
    >>> suggestion("zzz", ["train"])
    ''
    """
    close = nearest(name, choices)
    return f"; did you mean {close!r}?" if close else ""


_TERMS = [
    (re.compile(r"\bmax_iter=(\d+)"), r"--epochs \1"),
    (re.compile(r"\bneg_log_loss\b"), "log loss"),
    (re.compile(r"\br2\b"), "R²"),
    (re.compile(r"\btol=([0-9.e-]+)"), r"\1"),
    (re.compile(r"\bn_iter_no_change\b"), "--patience"),
]


def in_command_terms(text: str) -> str:
    """Put a stop reason or message of the library in the command's terms.

    Examples
    --------
    >>> in_command_terms("validation neg_log_loss did not improve by more than tol=0.0001")
    'validation log loss did not improve by more than 0.0001'
    """
    for pattern, replacement in _TERMS:
        text = pattern.sub(replacement, text)
    return text


class Console:
    """Where the command's lines go.

    Information goes to stdout (none when ``quiet``, and to stderr when stdout carries
    data), warnings and notes to stderr.

    Examples
    --------
    >>> Console().info("Wrote model.safetensors")
    Wrote model.safetensors
    """

    def __init__(self, quiet: bool = False, data_on_stdout: bool = False):
        self.quiet = quiet
        self.data_on_stdout = data_on_stdout

    def info(self, text: str) -> None:
        """Write a line of information (progress, summaries)."""
        if not self.quiet:
            print(text, file=sys.stderr if self.data_on_stdout else sys.stdout, flush=True)

    def warn(self, text: str) -> None:
        """Something the user should look at: ``warning: …`` on stderr, always."""
        print(f"warning: {one_line(text)}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """Something done that the user may want to know: ``note: …`` on stderr."""
        if not self.quiet:
            print(f"note: {one_line(text)}", file=sys.stderr, flush=True)


class GuardedOutput:
    """Standard output as the command writes it: a failed write is remembered, not raised.

    A closed standard output (``sys.stdout`` is None when the process started with fd 1
    closed, ``>&-``), a pipe whose reader went away (``| head``) or a full device
    (``>/dev/full``) make the first failed write remembered in :attr:`lost` and every later
    one skipped, so that the command goes on to finish its files (a model file is never
    lost to a closed pipe) and :func:`nnmath.cli.main` turns the loss into its exit
    status at the end: 141 for a broken pipe, as a shell reports a process ended by
    SIGPIPE, else 2 with one line on stderr.

    Parameters
    ----------
    stream : text stream or None
        The real standard output.

    Examples
    --------
    >>> out = GuardedOutput(None)
    >>> out.write("lost")
    4
    >>> out.lost.errno == errno.EBADF
    True
    """

    def __init__(self, stream):
        self.stream = stream
        self.lost: OSError | None = None

    def write(self, text: str) -> int:
        """Write ``text``; remember the failure instead of raising it."""
        if self.lost is None:
            try:
                if self.stream is None:
                    raise OSError(errno.EBADF, "it is closed")
                buffer = getattr(self.stream, "buffer", None)
                if buffer is None or len(text) < 4096:
                    self.stream.write(text)
                else:
                    self._write_all(buffer, text)
            except (OSError, ValueError) as exc:  # ValueError: a closed file object
                self._lose(exc)
        return len(text)

    def _write_all(self, buffer, text: str) -> None:
        """Write a long text through the binary buffer, to its last byte.

        A text stream drops the rest of a long write that the pipe took only in part (its
        binary buffer returns the short count, which the text layer ignores): the next
        write would see the broken pipe, but there may be none.
        """
        self.stream.flush()
        data = memoryview(
            text.encode(self.stream.encoding or "utf-8", self.stream.errors or "strict")
        )
        while data:
            n = buffer.write(data)
            if not n:  # None: a non-blocking stream that takes nothing now
                raise OSError(errno.EAGAIN, "standard output takes no more")
            data = data[n:]
        buffer.flush()

    def flush(self) -> None:
        """Flush the real stream; remember the failure instead of raising it."""
        if self.lost is None and self.stream is not None:
            try:
                self.stream.flush()
            except (OSError, ValueError) as exc:
                self._lose(exc)

    def _lose(self, exc: Exception) -> None:
        if isinstance(exc, OSError) and exc.errno is not None:
            self.lost = exc
        else:
            self.lost = OSError(errno.EBADF, "it is closed")

    def isatty(self) -> bool:
        """Whether the real stream is a terminal (False when closed)."""
        try:
            return self.stream is not None and self.stream.isatty()
        except (OSError, ValueError):
            return False

    def writable(self) -> bool:
        """Say that writes are taken: they never fail here."""
        return True

    def __getattr__(self, name):
        """Anything else (encoding, fileno, …) is the real stream's."""
        return getattr(self.stream, name)

    def broken_pipe(self) -> bool:
        """Whether the output was lost to a pipe whose reader went away."""
        return self.lost is not None and self.lost.errno == errno.EPIPE

    def reason(self) -> str:
        """Say why the output was lost, in words: "it is closed", "No space left on device"."""
        if self.lost is None:
            return ""
        if self.lost.errno == errno.EBADF:
            return "it is closed"
        return self.lost.strerror or str(self.lost)
