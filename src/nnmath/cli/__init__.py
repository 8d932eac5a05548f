"""The ``nnmath`` command: train, predict, evaluate, cross-validate, tune, inspect, export, explain.

A thin layer over the library, one module per job: the arguments (:mod:`.parser`), what
the command says (:mod:`.messages`), reading tables and folders of them
(:mod:`.tables`), the model a table trains (:mod:`.learn`), the subcommands that train
(:mod:`.train`, :mod:`.stream` for data read in batches), use a model (:mod:`.use`),
search (:mod:`.search`) and serve the playground (:mod:`.serve`).

Exit status 0 on success; every failure prints one line to stderr (``nnmath: error: …``)
and exits with status 2, a traceback never; Ctrl-C exits with status 130 at any moment,
from the first import on (see :mod:`nnmath.startup`). An interrupted ``train`` writes
the best weights it has only when it trained at least one epoch, and says so.

Only the standard library is imported until a subcommand runs: ``nnmath --help`` and
``--version`` answer without loading NumPy or scikit-learn.

Example
-------
>>> main(["info", "missing.safetensors"])  # doctest: +SKIP
2
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
import threading

from nnmath.cli.messages import UsageError, one_line
from nnmath.cli.parser import MAX_CELLS, MAX_CLASSES, MAX_COLUMNS, build_parser
from nnmath.startup import EXIT_INTERRUPTED

__all__ = [
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
    except BrokenPipeError:
        # The reader of our output went away (e.g. `nnmath predict … | head`).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:  # a failure nothing above foresaw: still one line, status 2
        return _fail(f"{type(exc).__name__}: {one_line(exc)}")
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


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
