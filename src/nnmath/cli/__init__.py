"""The ``nnmath`` command: train, predict, evaluate, cross-validate, tune, inspect, export, explain.

A thin layer over the library, one module per job: the arguments (:mod:`.parser`), what
the command says (:mod:`.messages`), reading tables and folders of them
(:mod:`.tables`), the model a table trains (:mod:`.learn`), the subcommands that train
(:mod:`.train`, :mod:`.stream` for data read in batches), use a model (:mod:`.use`),
search (:mod:`.search`) and serve the playground (:mod:`.serve`).

Exit status 0 on success; every failure prints one line to stderr (``nnmath: error: …``;
a bad option ``nnmath CMD: error: …`` and the line ``try 'nnmath CMD --help'``) and
exits with status 2, a traceback never; Ctrl-C exits with status 130 at any moment,
from the first import on (see :mod:`nnmath.startup`). An interrupted ``train`` writes
the best weights it has only when it trained at least one epoch, and says so; it never
replaces an existing model file (see :mod:`nnmath.cli.report`).

Standard output is written through a :class:`~nnmath.cli.messages.GuardedOutput`: a
closed one, a full device or a pipe whose reader went away never stops the command
before its files are written; at the end, a broken pipe is the quiet status 141 (as a
shell reports SIGPIPE), anything else status 2 with one line. A warning of a library
(NumPy, pandas) is one ``warning: …`` line, never its source line.

Only the standard library is imported until a subcommand runs: ``nnmath --help`` and
``--version`` answer without loading NumPy or scikit-learn.

Example
-------
>>> main(["info", "missing.safetensors"])  # doctest: +SKIP
2
"""

from __future__ import annotations

import errno
import importlib
import os
import signal
import sys
import threading
import warnings

from nnmath.cli.messages import GuardedOutput, UsageError, one_line
from nnmath.cli.parser import MAX_CELLS, MAX_CLASSES, MAX_COLUMNS, build_parser
from nnmath.startup import EXIT_INTERRUPTED

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_USAGE",
    "MAX_CELLS",
    "MAX_CLASSES",
    "MAX_COLUMNS",
    "UsageError",
    "build_parser",
    "main",
]

#: The exit status of every failure.
EXIT_USAGE = 2

#: The exit status when the reader of standard output went away (128 + SIGPIPE).
EXIT_BROKEN_PIPE = 141


def main(argv: list[str] | None = None) -> int:
    """Run the ``nnmath`` command and return its exit status.

    The status is 0 on success, 2 for any failure (one line on stderr), 130 when
    interrupted.

    Examples
    --------
    >>> main(["info", "missing.safetensors"])  # doctest: +SKIP
    2
    """
    previous = _raise_on_interrupt()
    real_stdout = sys.stdout
    out = sys.stdout = GuardedOutput(real_stdout)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _one_line_warnings()
            status = _run(argv, out)
        out.flush()
        return _output_status(status, out, real_stdout)
    except SystemExit as exc:  # --help, --version and argparse's errors
        out.flush()
        if exc.code == 0 and out.lost is not None:  # the help went nowhere
            return _output_status(0, out, real_stdout)
        raise
    finally:
        sys.stdout = real_stdout
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _run(argv, out: GuardedOutput) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return EXIT_USAGE
        module, function = args.func.split(":")
        return getattr(importlib.import_module(module), function)(args)
    except UsageError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("nnmath: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        return _fail("out of memory; try a smaller data set or a smaller network (--hidden)")
    except BrokenPipeError:  # written past the guard (a library's own stream): as below
        out.lost = out.lost or BrokenPipeError(errno.EPIPE, "Broken pipe")
        return 0
    except Exception as exc:  # a failure nothing above foresaw: still one line, status 2
        return _fail(f"{type(exc).__name__}: {one_line(exc)}")


def _output_status(status: int, out: GuardedOutput, real_stdout) -> int:
    """Return the exit status once standard output is known written, or lost."""
    if out.lost is None:
        return status
    try:  # what stays in the stream's buffer goes nowhere, not into an error at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, real_stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass
    if status != 0:
        return status  # that failure, already said
    if out.broken_pipe():  # `nnmath … | head`: the reader has what it wanted
        return EXIT_BROKEN_PIPE
    return _fail(f"could not write to standard output: {out.reason()}")


def _one_line_warnings():
    """Return a ``warnings.showwarning`` that writes each warning once, as one line."""
    said: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = one_line(message)
        if text not in said:
            said.add(text)
            try:
                print(f"warning: {text}", file=sys.stderr, flush=True)
            except (OSError, ValueError):
                pass

    return show


def _fail(message: str) -> int:
    print(f"nnmath: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def _raise_on_interrupt():
    """Make Ctrl-C a KeyboardInterrupt for the time of the command.

    main turns the KeyboardInterrupt into status 130. Returns the handler to put back
    (None off the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
