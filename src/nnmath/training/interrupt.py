"""Ctrl-C during training: the first one stops training cleanly, the second one as usual."""

from __future__ import annotations

import signal
import threading

__all__ = ["InterruptFlag"]


class InterruptFlag:
    """Turn the first Ctrl-C into a flag checked after each batch.

    The second one raises as usual. Only the main thread can install signal handlers;
    elsewhere a KeyboardInterrupt is caught where it is raised.

    Examples
    --------
    >>> with InterruptFlag() as interrupt:
    ...     interrupt.set
    False
    """

    def __init__(self):
        self.set = False
        self._previous = None

    def __enter__(self):
        """Install the handler (on the main thread)."""
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):
                self._previous = None
        return self

    def _handler(self, signum, frame):
        if self.set:
            raise KeyboardInterrupt
        self.set = True

    def __exit__(self, *exc):
        """Put the previous handler back."""
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
