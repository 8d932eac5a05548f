"""``nnmath playground``: serve the playground page until Ctrl-C.

Example
-------
>>> PLAYGROUND_PACKAGES
('starlette', 'uvicorn', 'websockets', 'pandas')
"""

from __future__ import annotations

from nnmath.cli.messages import UsageError, one_line

__all__ = ["PLAYGROUND_PACKAGES", "cmd_playground"]

#: What the playground's extra installs.
PLAYGROUND_PACKAGES = ("starlette", "uvicorn", "websockets", "pandas")


def cmd_playground(args) -> int:
    """`nnmath playground`: serve the playground page until Ctrl-C; returns 0."""
    try:
        from nnmath.playground.server import serve
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing in PLAYGROUND_PACKAGES:
            raise UsageError(
                f"the playground needs its web server ({missing} is not installed): "
                'pip install "nnmath[playground]"'
            ) from None
        raise
    try:
        serve(args.host, args.port, open_browser=not args.no_browser)
    except ValueError as exc:
        raise UsageError(one_line(exc)) from None
    except KeyboardInterrupt:
        print("nnmath playground: stopped", flush=True)
    return 0
