"""The first second of the ``nnmath`` command: Ctrl-C while the libraries load.

Starting the command imports numpy, scipy and scikit-learn, which takes a second or
more; a Ctrl-C then used to print a KeyboardInterrupt traceback from deep inside an
import and end the process by the signal. :func:`guard` is the first thing
``import nnmath`` runs: when this process is the command (the ``nnmath`` script or
``python -m nnmath``), it installs a SIGINT handler that prints one line and exits with
status 130, the shell's code for an interrupted command. :func:`nnmath.cli.main` takes
over as soon as it runs (and puts this handler back when it returns). In any other
process (a script, a notebook, the tests) importing nnmath changes nothing.

Only the standard library is imported here, so the handler is in place before anything
slow starts.

Example
-------
>>> is_command(["python", "-m", "nnmath", "train"], "-m", None)
True
>>> is_command(["python", "script.py"], "script.py", "script.py")
False
"""

from __future__ import annotations

import os
import signal
import sys

__all__ = ["EXIT_INTERRUPTED", "exit_interrupted", "guard", "is_command"]

#: The exit status of an interrupted command (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130

_COMMAND_MODULES = ("nnmath", "nnmath.__main__")
_SCRIPT_NAMES = ("nnmath", "nnmath-script")
_OPTIONS_WITH_VALUE = ("-W", "-X", "--check-hash-based-pycs")


def is_command(orig_argv: list[str], argv0: str, main_file: str | None) -> bool:
    """Tell whether a process is the nnmath command.

    The process started as ``orig_argv`` (``sys.orig_argv``), its ``sys.argv[0]`` is
    ``argv0`` and its ``__main__`` file is ``main_file``.

    ``python -m nnmath``: while Python imports the package to find its ``__main__``,
    ``sys.argv[0]`` is ``"-m"`` and the module named after ``-m`` is nnmath. The console
    script: the ``__main__`` file is the script called ``nnmath``.

    Examples
    --------
    >>> is_command(["python", "-X", "importtime", "-m", "nnmath"], "-m", None)
    True
    >>> is_command(["/venv/bin/nnmath", "info", "m.safetensors"], "nnmath", "/venv/bin/nnmath")
    True
    >>> is_command(["python", "-m", "pytest"], "-m", None)
    False
    """
    if main_file is not None:
        return os.path.splitext(os.path.basename(main_file))[0] in _SCRIPT_NAMES
    if argv0 != "-m":
        return False
    args = iter(orig_argv[1:])
    for arg in args:
        if arg == "-m":
            return next(args, None) in _COMMAND_MODULES
        if arg.startswith("-m"):
            return arg[2:] in _COMMAND_MODULES
        if arg in _OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return False
    return False


def exit_interrupted(signum=None, frame=None) -> None:
    """SIGINT handler: one line on stderr, then exit with status 130 (SystemExit).

    Examples
    --------
    >>> try:
    ...     exit_interrupted()
    ... except SystemExit as exc:
    ...     print(exc.code)
    130
    """
    try:
        sys.stderr.write("nnmath: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError, RuntimeError):
        pass
    raise SystemExit(EXIT_INTERRUPTED)


def guard() -> bool:
    """Install :func:`exit_interrupted` for SIGINT in the command's process (main thread).

    Returns whether it did.

    Examples
    --------
    >>> guard()  # this process is not the command: nothing changes
    False
    """
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if not is_command(getattr(sys, "orig_argv", []), sys.argv[0] if sys.argv else "", main_file):
        return False
    try:
        signal.signal(signal.SIGINT, exit_interrupted)
    except (ValueError, OSError):  # not the main thread, or no signals here
        return False
    return True


guard()  # on import: `import nnmath` imports this module before anything else
