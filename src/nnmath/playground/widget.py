"""The playground in a notebook cell: the same page, trained by the same session code.

:func:`widget` returns a :class:`Playground`, an `anywidget <https://anywidget.dev>`_
widget that shows the playground's page (``static/index.html``, ``app.js`` and
``style.css``, unchanged) in the cell's output, with no server: the page's two ways of
reaching its server — ``fetch`` for its requests and a WebSocket for the stream of frames
— are handed, in the widget, objects with the same interface that carry the same
messages over the widget's comm (``model.send`` and ``msg:custom``). On the Python side
:meth:`Playground.handle` answers each request as the server's endpoint of the same path
does, from a :class:`~nnmath.playground.session.Session`, and a thread streams the
session's configuration and frames while it plays, as the server's socket does.

What is different inside a notebook, and why:

* the page's link (the settings in the address's ``#…``) is kept inside the widget: the
  address is the notebook's, so "Copy link" copies nothing that reopens the settings;
* Space plays and pauses only while the focus is inside the widget (elsewhere Space
  belongs to the notebook), and the page is drawn in a shadow root, so that its style
  sheet and the notebook's leave each other alone;
* the model downloads (.safetensors, .onnx) come over the comm as bytes and are saved by
  the browser from memory; an uploaded CSV file goes the other way, as bytes.

Needs ``anywidget`` (``pip install "nnmath[notebook]"``) and a Jupyter front end with
widgets (JupyterLab, Notebook 7, VS Code).

Example
-------
>>> from nnmath.playground import widget
>>> w = widget(dataset="xor", hidden=[4])                                 # doctest: +SKIP
>>> w                                              # in a notebook cell  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

from nnmath.playground.datasets import MAX_UPLOAD_BYTES, previews_of_data_sets
from nnmath.playground.session import DEFAULTS, Session, SettingError, check_settings

__all__ = ["Answer", "Streamer", "esm", "handle_request", "widget"]

STATIC = Path(__file__).parent / "static"
#: Seconds of training between two frames while the session plays (the server's slice).
TRAIN_SLICE = 0.05
#: Seconds between two looks at a paused session for a change to send.
POLL = 0.03

_INSTALL_HINT = 'the playground widget needs anywidget: pip install "nnmath[notebook]"'


class Answer(dict):
    """A request's answer: ``{"status": int, "body": JSON}``, and ``data`` for a download."""

    def __init__(self, status: int, body: Any, data: bytes | None = None):
        super().__init__(status=status, body=body)
        self.data = data


def _error(message: str, status: int = 400, setting: str | None = None) -> Answer:
    return Answer(status, {"error": message, "setting": setting})


def _on_session(session: Session, action: str, body: Any) -> Answer:
    """Run one of the page's commands on a session, as the server's endpoint does."""
    if action == "" or action == "/settings":
        if action == "/settings":
            session.update(body)
        return Answer(200, session.config())
    if action == "/play":
        if session.error is not None:
            return _error(f"training stopped: {session.error} Press reset to start again.", 409)
        session.playing = True
        session.version += 1
        return Answer(200, {"playing": True})
    if action == "/pause":
        session.playing = False
        session.version += 1
        return Answer(200, {"playing": False})
    if action == "/step":
        return Answer(200, session.step())
    if action == "/reset":
        session.playing = False
        session.reset()
        return Answer(200, session.config())
    if action == "/regenerate":
        session.playing = False
        seed = session.settings["seed"]
        session.update({"seed": seed + 1 if seed < 2**31 - 1 else 0})
        return Answer(200, session.config())
    if action == "/explain":
        if not isinstance(body, dict) or "sample" not in body:
            raise SettingError("sample", 'the body must be {"sample": index of a training sample}')
        return Answer(200, session.explain(body["sample"]))
    if action == "/frame":
        return Answer(200, session.frame())
    if action == "/model.safetensors":
        return Answer(200, None, session.model_file())
    if action == "/model.onnx":
        try:
            return Answer(200, None, session.onnx_file())
        except ImportError as exc:
            return _error(f'ONNX export needs onnx: pip install "nnmath[onnx]" ({exc})', 501)
    return _error(f"no such request: {action}", 404)


_SESSION_PATH = re.compile(r"^/api/sessions/([^/?]+)(/[a-z.]*)?(?:\?name=(.*))?$")


def handle_request(
    sessions: dict[str, Session],
    method: str,
    path: str,
    body: Any = None,
    data: bytes | None = None,
) -> Answer:
    """Answer one of the page's requests as the playground's server would.

    Parameters
    ----------
    sessions : dict of str to Session
        The open sessions by id; a created session is added to it.
    method : {"GET", "POST", "DELETE"}
    path : str
        The request's path, e.g. ``"/api/sessions"`` or ``"/api/sessions/ID/step"``.
    body : JSON value, optional
        The request's JSON body.
    data : bytes, optional
        An upload's file.

    Returns
    -------
    Answer
        ``{"status": …, "body": …}`` with the server's status codes (201 for a new
        session, 400 for a bad setting with its ``setting``, 404 for no such session);
        ``data`` holds a download's bytes.

    Examples
    --------
    >>> sessions = {}
    >>> answer = handle_request(sessions, "POST", "/api/sessions", {"dataset": "xor"})
    >>> answer["status"], answer["body"]["settings"]["dataset"], len(sessions)
    (201, 'xor', 1)
    """
    try:
        if path == "/api/datasets":
            return Answer(200, previews_of_data_sets())
        if path == "/api/sessions":
            if body is not None and not isinstance(body, dict):
                return _error("the body must be a JSON object of settings")
            session = Session(body or {})
            sid = f"w{len(sessions) + 1}-{id(session):x}"
            sessions[sid] = session
            return Answer(201, {"id": sid, **session.config()})
        match = _SESSION_PATH.match(path)
        if match is None:
            return _error(f"no such request: {path}", 404)
        sid, action, name = match.group(1), match.group(2) or "", match.group(3)
        if sid not in sessions:
            return _error(f"no session {sid!r}", 404)
        session = sessions[sid]
        if method == "DELETE":
            session.closed = True
            del sessions[sid]
            return Answer(204, None)
        if action == "/upload":
            if data is None:
                return _error("an upload needs the file's bytes", 400, "upload")
            if len(data) > MAX_UPLOAD_BYTES:
                return _error(
                    f"the file is too big: the playground takes CSV files of at most "
                    f"{MAX_UPLOAD_BYTES:,} bytes",
                    413,
                    "upload",
                )
            session.upload(data, Path(name or "upload.csv").name[:200] or "upload.csv")
            return Answer(200, session.config())
        return _on_session(session, action, body)
    except SettingError as exc:
        return _error(str(exc), 400, exc.setting)
    except ValueError as exc:
        return _error(str(exc), 400, "upload" if path.endswith("upload") else None)


# ---------------------------------------------------------------------------- the page
def _body_html() -> str:
    """Return the page's ``<body>``, without its script tags (the widget runs them)."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    body = html.split("<body>", 1)[1].rsplit("</body>", 1)[0]
    return re.sub(r"<script\b[^>]*></script>\s*", "", body)


def _scoped_css() -> str:
    """Return the page's style sheet for a shadow root: the page's root is the widget's host."""
    css = (STATIC / "style.css").read_text(encoding="utf-8")
    css = css.replace(":root", ":host").replace("html, body", ":host")
    return re.sub(r"(^|\})\s*body\s*\{", r"\1 :host {", css)


def _katex_css() -> str:
    """Return KaTeX's style sheet with its fonts inlined (woff2 only): no file to fetch."""
    css = (STATIC / "vendor" / "katex" / "katex.min.css").read_text(encoding="utf-8")
    fonts = STATIC / "vendor" / "katex" / "fonts"

    def inline(match: re.Match) -> str:
        data = base64.b64encode((fonts / f"{match.group(1)}.woff2").read_bytes()).decode()
        return f'url(data:font/woff2;base64,{data}) format("woff2")'

    css = re.sub(r'url\(fonts/([A-Za-z0-9_-]+)\.woff2\) format\("woff2"\)', inline, css)
    return re.sub(r',url\(fonts/[^)]+\) format\("(woff|truetype)"\)', "", css)


@functools.lru_cache(maxsize=1)
def esm() -> str:
    """Return the widget's JavaScript module: the page, KaTeX and ``app.js`` with its transport.

    ``app.js`` is included unchanged, inside a function whose parameters stand in for
    ``fetch``, ``WebSocket``, ``window``, ``document``, ``location``, ``history``,
    ``localStorage`` and ``navigator``.

    Returns
    -------
    str

    Examples
    --------
    >>> "export default" in esm()
    True
    """
    module = (STATIC / "widget.js").read_text(encoding="utf-8")
    app = (STATIC / "app.js").read_text(encoding="utf-8")
    katex_js = (STATIC / "vendor" / "katex" / "katex.min.js").read_text(encoding="utf-8")
    parts = {
        "__BODY__": json.dumps(_body_html()),
        "__CSS__": json.dumps(_scoped_css()),
        "__KATEX_CSS__": json.dumps(_katex_css()),
        "__KATEX_JS__": json.dumps(katex_js),
        "__APP__": app,
    }
    return re.sub("|".join(parts), lambda m: parts[m.group(0)], module)


def _anywidget():
    try:
        import anywidget
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    return anywidget


class Streamer:
    """The server socket's loop, for a widget: send what changed, train while playing.

    ``send(message)`` is called with ``{"kind": "stream", "id": sid, "data": json}`` for
    the session's configuration whenever it changes and for a frame whenever the network
    changes (after every slice of training while it plays).
    """

    def __init__(self, session: Session, sid: str, send):
        self.session, self.sid, self.send = session, sid, send
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"playground-{sid}", daemon=True)

    def start(self) -> None:
        """Start streaming in a thread of its own."""
        self.thread.start()

    def stop(self) -> None:
        """Stop streaming (the thread ends after its current slice)."""
        self.stopped.set()

    def tick(self, sent: list[int]) -> None:
        """One turn of the loop: train a slice if playing, send what changed."""
        s = self.session
        if s.playing:
            s.train_for(TRAIN_SLICE)
        if s.config_version != sent[0]:
            sent[0] = s.config_version
            self.send({"kind": "stream", "id": self.sid, "data": json.dumps(s.config())})
        if s.version != sent[1] or s.playing:
            sent[1] = s.version
            self.send({"kind": "stream", "id": self.sid, "data": json.dumps(s.frame())})

    def run(self) -> None:
        """Loop :meth:`tick` until stopped or the session is closed."""
        sent = [-1, -1]
        while not self.stopped.is_set() and not self.session.closed:
            self.tick(sent)
            if not self.session.playing:
                time.sleep(POLL)


@functools.lru_cache(maxsize=1)
def _widget_class():
    anywidget = _anywidget()

    class Playground(anywidget.AnyWidget):
        """The playground's page as a notebook widget (see :mod:`nnmath.playground.widget`).

        Attributes
        ----------
        sessions : dict of str to Session
            The page's sessions by id (the last one is what the page shows).
        """

        _esm = esm()

        def __init__(self, settings: dict | None = None, **kwargs):
            super().__init__(**kwargs)
            self.settings = dict(settings or {})
            self.sessions: dict[str, Session] = {}
            self._streamers: dict[str, Streamer] = {}
            self.on_msg(self._on_msg)

        @property
        def session(self) -> Session | None:
            """The session the page shows now (None before the page has opened one)."""
            return next(reversed(self.sessions.values()), None)

        def handle(self, message: dict, buffers=()) -> tuple[dict, list[bytes]] | None:
            """Answer one message from the page: ``(reply, buffers)``, or None for no reply.

            ``{"kind": "request", "id", "method", "path", "body"}`` is answered
            ``{"kind": "answer", "id", "status", "body"}`` (a download's bytes in the
            buffers); ``{"kind": "connect"|"disconnect", "id": session}`` starts or stops
            streaming that session.
            """
            kind = message.get("kind") if isinstance(message, dict) else None
            if kind == "request":
                body = message.get("body")
                path = str(message.get("path", ""))
                if path == "/api/sessions" and (body is None or isinstance(body, dict)):
                    body = {**self.settings, **(body or {})}  # the link's over the widget's
                data = bytes(buffers[0]) if buffers else None
                answer = handle_request(
                    self.sessions, str(message.get("method", "GET")), path, body, data
                )
                reply = {"kind": "answer", "id": message.get("id"), **answer}
                return reply, [answer.data] if answer.data is not None else []
            if kind == "connect":
                sid = str(message.get("id"))
                if sid in self.sessions and sid not in self._streamers:
                    for old in [k for k in self.sessions if k != sid]:  # the page moved on
                        self._close(old)
                    streamer = Streamer(self.sessions[sid], sid, self.send)
                    self._streamers[sid] = streamer
                    streamer.start()
                return None
            if kind == "disconnect":
                self._close(str(message.get("id")))
                return None
            return {"kind": "error", "error": f"unknown message {message!r}"}, []

        def _close(self, sid: str) -> None:
            streamer = self._streamers.pop(sid, None)
            if streamer is not None:
                streamer.stop()
            session = self.sessions.pop(sid, None)
            if session is not None:
                session.closed = True

        def _on_msg(self, _widget, content, buffers) -> None:
            out = self.handle(content, buffers)
            if out is not None:
                reply, data = out
                self.send(reply, data or None)

        def close(self) -> None:
            """Stop every session's stream, then close the widget."""
            for sid in list(self.sessions):
                self._close(sid)
            super().close()

    return Playground


def __getattr__(name: str):
    if name == "Playground":
        return _widget_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def widget(**settings):
    """Show the playground in a notebook cell, trained by this kernel (no server).

    Parameters
    ----------
    **settings
        The page's starting settings, as the playground's link takes them (``dataset``,
        ``hidden``, ``activation``, ``learning_rate``, …; see
        :data:`nnmath.playground.DEFAULTS`).

    Returns
    -------
    Playground
        An anywidget widget: leave it at the end of a cell to show it.

    Raises
    ------
    ImportError
        Without anywidget (``pip install "nnmath[notebook]"``).
    nnmath.playground.SettingError
        For a bad setting, before anything is shown.

    Examples
    --------
    >>> import nnmath.playground
    >>> nnmath.playground.widget(dataset="spiral", hidden=[8, 8])          # doctest: +SKIP
    """
    check_settings(settings, DEFAULTS)  # a bad setting is refused here, by name
    return _widget_class()(settings)
