"""The playground: watch a network learn in the browser, and see the math of each step.

``nnmath playground`` starts a local web server (:mod:`nnmath.playground.server`,
Starlette on uvicorn) that serves a plain HTML/CSS/JS page (``static/``). Each browser
tab gets a :class:`~nnmath.playground.session.Session`: its data
(:mod:`nnmath.playground.datasets`: built-in sets on the plane or an uploaded CSV
file), its features, its network and optimizer, trained by nnmath itself and streamed
to the page as frames over a WebSocket. Pressing Step or clicking a sample shows
:func:`nnmath.explain`'s trace of one training step, rendered as math (KaTeX).

:func:`widget` shows the same page in a notebook cell (anywidget), trained by the same
:class:`~nnmath.playground.session.Session` code over the widget's comm, with no server
(:mod:`nnmath.playground.widget`; ``pip install "nnmath[notebook]"``).

Needs the optional dependencies: ``pip install "nnmath[playground]"``. The modules
``datasets`` and ``session`` need only NumPy (and pandas for CSV files); ``server``
needs Starlette and uvicorn.

Example
-------
>>> from nnmath.playground import Session
>>> s = Session({"dataset": "gauss", "hidden": [2]})
>>> s.train(5)
>>> s.epoch
5
"""

from nnmath.playground.session import DEFAULTS, Session, SettingError, check_settings
from nnmath.playground.widget import widget

__all__ = ["DEFAULTS", "Session", "SettingError", "check_settings", "widget"]
