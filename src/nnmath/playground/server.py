"""The playground's web server: the page, a JSON API per session, frames over a WebSocket.

Routes (``{id}`` is a session's id):

- ``GET /``: the page (``static/index.html``); ``GET /static/…``: its scripts, styles
  and KaTeX; ``GET /api/datasets``: a small picture of every built-in data set.
- ``POST /api/sessions``: a new session, its settings as the JSON body;
  ``GET /api/sessions/{id}``: its configuration (settings, data, layers);
  ``DELETE /api/sessions/{id}``: free it.
- ``POST /api/sessions/{id}/…``: ``settings`` (a JSON object of changes), ``play``,
  ``pause``, ``step`` (one epoch, and the math of one sample's step), ``reset`` (the
  seed's weights again), ``regenerate`` (the next seed), ``explain`` (``{"sample": i}``),
  ``upload`` (a CSV file as the body, ``?name=file.csv``).
- ``GET /api/sessions/{id}/…``: ``frame``, ``model.safetensors``, ``model.onnx``.
- ``WS /api/sessions/{id}/stream``: configurations and frames, as JSON messages.

A bad setting is answered with status 400 and ``{"error": message, "setting": name}``.

The server answers only to its own address (:class:`OwnHost`: a request whose ``Host``
header names another host or port is refused, so that a page of another site cannot
reach it by pointing a name of its own at this machine) and only to its own page's
requests (:class:`SameOrigin`). A JSON body holds at most :data:`MAX_JSON_BYTES` bytes,
an upload :data:`~nnmath.playground.datasets.MAX_UPLOAD_BYTES`; both are read in
chunks and refused (413) as soon as they are over.
A session lives while its page's WebSocket is open: when the tab closes, the socket
closes and the session is freed. A session without a socket (one created but never
connected) is freed after ``idle_timeout`` seconds without a request.

While a session plays, its socket's task trains for about :data:`TRAIN_SLICE` seconds
in a worker thread, then sends a frame, over and over: over 15 frames a second, and as
many epochs as fit in between.

Example
-------
>>> app = create_app()
>>> sorted(r.path for r in app.routes)[:3]
['/', '/api/datasets', '/api/sessions']
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import secrets
import socket
import sys
import threading
import time
import webbrowser
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from nnmath.playground.datasets import MAX_UPLOAD_BYTES, previews_of_data_sets
from nnmath.playground.session import Session, SettingError

__all__ = [
    "MAX_JSON_BYTES",
    "OwnHost",
    "Refused",
    "Registry",
    "SameOrigin",
    "TRAIN_SLICE",
    "create_app",
    "serve",
]

STATIC = Path(__file__).parent / "static"
#: Seconds of training between two frames while a session plays.
TRAIN_SLICE = 0.05
#: How often an idle socket looks for changes to send, in seconds.
POLL = 0.03
#: Besides text/*, the content types browsers give CSV files.
CSV_TYPES = ("application/octet-stream", "application/vnd.ms-excel", "application/csv")
#: The most bytes of a JSON request body (settings, a sample to explain), and of a
#: message over the socket.
MAX_JSON_BYTES = 1_000_000
#: The most digits of an integer in a JSON body: every setting is smaller, and so
#: every integer read converts to a float (Python reads at most 4,300 digits).
MAX_INT_DIGITS = 300
#: The most levels of lists and objects in a JSON body (settings need two).
MAX_JSON_DEPTH = 16
#: The names of this machine that every playground answers to.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


class Registry:
    """The sessions of one server, by id, with their open sockets.

    Parameters
    ----------
    idle_timeout : float
        Seconds after which a session without an open socket and without requests is
        freed.
    max_sessions : int
        The most sessions at once; a new one beyond is refused.

    Examples
    --------
    >>> r = Registry()
    >>> sid = r.create({"hidden": [2]})
    >>> r.get(sid).net.layer_sizes
    [2, 2, 1]
    >>> r.close(sid); len(r)
    0
    """

    def __init__(self, idle_timeout: float = 60.0, max_sessions: int = 64):
        self.idle_timeout = idle_timeout
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._sockets: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return the number of open sessions."""
        return len(self._sessions)

    def __contains__(self, sid: str) -> bool:
        """Return True when a session ``sid`` is open."""
        return sid in self._sessions

    def create(self, settings=None) -> str:
        """Create a session with these settings; return its id.

        Raises
        ------
        SettingError
            A bad setting.
        RuntimeError
            Too many sessions are open.
        """
        if len(self) >= self.max_sessions:
            self.reap()
        if len(self) >= self.max_sessions:
            raise RuntimeError(
                f"the playground has {self.max_sessions} sessions open, its most; close a tab"
            )
        session = Session(settings)
        sid = secrets.token_urlsafe(12)
        with self._lock:
            self._sessions[sid] = session
        return sid

    def get(self, sid: str) -> Session:
        """Return the session ``sid`` (and note that it was used); KeyError when there is none."""
        session = self._sessions[sid]
        session.last_seen = time.monotonic()
        return session

    def connect(self, sid: str) -> Session:
        """Count a socket opened for ``sid``."""
        with self._lock:
            session = self.get(sid)
            self._sockets[sid] = self._sockets.get(sid, 0) + 1
        return session

    def disconnect(self, sid: str) -> None:
        """Count a socket of ``sid`` closed: the last one frees the session."""
        with self._lock:
            left = self._sockets.get(sid, 1) - 1
            if left > 0:
                self._sockets[sid] = left
                return
            self._sockets.pop(sid, None)
        self.close(sid)

    def close(self, sid: str) -> None:
        """Free the session ``sid`` (nothing happens when it is gone already)."""
        with self._lock:
            session = self._sessions.pop(sid, None)
            self._sockets.pop(sid, None)
        if session is not None:
            session.playing = False
            session.closed = True

    def reap(self, now: float | None = None) -> list[str]:
        """Free the sessions without a socket idle for longer than ``idle_timeout``.

        Returns their ids.
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            stale = [
                sid
                for sid, s in self._sessions.items()
                if not self._sockets.get(sid) and now - s.last_seen > self.idle_timeout
            ]
        for sid in stale:
            self.close(sid)
        return stale


# ---------------------------------------------------------------------------- responses
def _error(message: str, status: int = 400, setting: str | None = None) -> JSONResponse:
    body = {"error": message}
    if setting is not None:
        body["setting"] = setting
    return JSONResponse(body, status_code=status)


def _no_session(sid: str) -> JSONResponse:
    return _error(f"no session {sid!r}: it was closed or timed out; reload the page", 404)


class Refused(Exception):
    """A request refused before its handler runs: answered ``{"error": message}``.

    Parameters
    ----------
    status : int
        The HTTP status (4xx, or 503 while the server stops).
    message : str
        One line that says what was wrong and what would do.
    setting : str, optional
        The setting the request was about ("upload", "settings").

    Examples
    --------
    >>> Refused(413, "the request body is too big").status
    413
    """

    def __init__(self, status: int, message: str, setting: str | None = None):
        super().__init__(message)
        self.status = status
        self.setting = setting


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _error(str(exc), exc.status, exc.setting)


async def _next_message(request: Request) -> MutableMapping[str, Any] | None:
    """Return the request's next ASGI message, or None once the server is stopping."""
    stopping: asyncio.Event | None = getattr(request.app.state, "stopping", None)
    if stopping is None:
        return await request.receive()
    if stopping.is_set():
        return None
    receiving = asyncio.ensure_future(request.receive())
    waiting = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({receiving, waiting}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
        if not receiving.done():
            receiving.cancel()
    return receiving.result() if receiving.done() and not receiving.cancelled() else None


async def _read_body(request: Request, limit: int, too_big: str, setting: str | None = None):
    """Read a request's body, at most ``limit`` bytes.

    Reading stops at the first byte over: a declared ``Content-Length`` over the limit
    is refused before anything is read, a body without one (chunked) once the chunks
    read are over.

    Returns
    -------
    bytes

    Raises
    ------
    Refused
        413 (``too_big``) for a body over the limit; 400 when the client goes before
        sending it all; 503 when the server stops while it is read.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, too_big, setting)
    chunks, size = [], 0
    while True:
        message = await _next_message(request)
        if message is None:
            raise Refused(503, "the playground is stopping; the request was not read", setting)
        if message["type"] == "http.disconnect":
            raise Refused(400, "the client closed the connection before sending the body", setting)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refused(413, too_big, setting)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise SettingError(
            "settings",
            f"the request body holds an integer of {len(digits.lstrip('-')):,} digits; "
            f"settings are numbers of at most {MAX_INT_DIGITS} digits",
        )
    return int(digits)


def _depth(value) -> int:
    """How many levels of lists and objects ``value`` has (0 for a number or text)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            todo.extend((x, level + 1) for x in item if isinstance(x, (list, dict)))
    return deepest


def _json_body(raw: bytes):
    """Read a JSON body; SettingError ("settings") for anything that is not settings."""
    if not raw.strip():
        return {}
    too_deep = (
        f"the request body is nested more than {MAX_JSON_DEPTH} levels deep; settings "
        "are an object of names and values"
    )
    try:
        value = json.loads(raw, parse_int=_bounded_int)
    except RecursionError:
        raise SettingError("settings", too_deep) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SettingError("settings", f"the request body is not JSON: {exc}") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise SettingError("settings", too_deep)
    return value


async def _json_request(request: Request):
    """Return the request's JSON body, read with _read_body's bound."""
    too_big = (
        f"the request body is too big: the playground takes JSON bodies of at most "
        f"{MAX_JSON_BYTES:,} bytes"
    )
    return _json_body(await _read_body(request, MAX_JSON_BYTES, too_big, "settings"))


def _session_route(handler, body: bool = False):
    """Make an endpoint on one session: 404 when it is gone, 400 for a bad setting.

    The handler, ``handler(session, body)``, runs in a worker thread, so that training and
    drawing never block the server's loop; ``body`` is the request's JSON (or None).
    """

    async def endpoint(request: Request) -> Response:
        registry: Registry = request.app.state.registry
        sid = request.path_params["id"]
        try:
            session = registry.get(sid)
        except KeyError:
            return _no_session(sid)
        try:
            payload = await _json_request(request) if body else None
            return await asyncio.to_thread(handler, session, payload)
        except SettingError as exc:
            return _error(str(exc), 400, exc.setting)

    return endpoint


# ---------------------------------------------------------------------------- endpoints
def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def create_session(request: Request) -> Response:
    registry: Registry = request.app.state.registry
    try:
        settings = await _json_request(request)
        sid = await asyncio.to_thread(registry.create, settings)
    except SettingError as exc:
        return _error(str(exc), 400, exc.setting)
    except RuntimeError as exc:
        return _error(str(exc), 503)
    config = await asyncio.to_thread(registry.get(sid).config)
    return JSONResponse({"id": sid, **config}, status_code=201)


async def previews(request: Request) -> Response:
    return JSONResponse(await asyncio.to_thread(previews_of_data_sets))


def delete_session(request: Request) -> Response:
    registry: Registry = request.app.state.registry
    sid = request.path_params["id"]
    if sid not in registry:
        return _no_session(sid)
    registry.close(sid)
    return Response(status_code=204)


def get_session(session: Session, body) -> Response:
    return JSONResponse(session.config())


def change_settings(session: Session, body) -> Response:
    session.update(body)
    return JSONResponse(session.config())


def play(session: Session, body) -> Response:
    if session.error is not None:
        return _error(f"training stopped: {session.error} Press reset to start again.", 409)
    session.playing = True
    session.version += 1
    return JSONResponse({"playing": True})


def pause(session: Session, body) -> Response:
    session.playing = False
    session.version += 1
    return JSONResponse({"playing": False})


def step(session: Session, body) -> Response:
    return JSONResponse(session.step())


def reset(session: Session, body) -> Response:
    session.playing = False
    session.reset()
    return JSONResponse(session.config())


def regenerate(session: Session, body) -> Response:
    session.playing = False
    seed = session.settings["seed"]
    session.update({"seed": seed + 1 if seed < 2**31 - 1 else 0})
    return JSONResponse(session.config())


def explain(session: Session, body) -> Response:
    if not isinstance(body, dict) or "sample" not in body:
        raise SettingError("sample", 'the body must be {"sample": index of a training sample}')
    return JSONResponse(session.explain(body["sample"]))


def frame(session: Session, body) -> Response:
    return JSONResponse(session.frame())


def _download(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def model_file(session: Session, body) -> Response:
    return _download(session.model_file(), f"playground-{session.settings['dataset']}.safetensors")


def onnx_file(session: Session, body) -> Response:
    try:
        data = session.onnx_file()
    except ImportError as exc:
        return _error(f'ONNX export needs onnx: pip install "nnmath[onnx]" ({exc})', 501)
    return _download(data, f"playground-{session.settings['dataset']}.onnx")


async def upload(request: Request) -> Response:
    registry: Registry = request.app.state.registry
    sid = request.path_params["id"]
    try:
        session = registry.get(sid)
    except KeyError:
        return _no_session(sid)
    name = request.query_params.get("name") or "upload.csv"
    name = Path(name).name[:200] or "upload.csv"
    too_big = (
        f"{name} is too big: the playground takes CSV files of at most {MAX_UPLOAD_BYTES:,} bytes"
    )
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and not (kind.startswith("text/") or kind in CSV_TYPES):
        return _error(
            f"{name} is not a CSV file (its type is {kind}); upload comma-separated values",
            415,
            "upload",
        )
    data = await _read_body(request, MAX_UPLOAD_BYTES, too_big, "upload")
    try:
        await asyncio.to_thread(session.upload, data, name)
    except SettingError as exc:
        return _error(str(exc), 400, exc.setting)
    except ValueError as exc:
        return _error(str(exc), 400, "upload")
    return JSONResponse(session.config())


async def stream(websocket: WebSocket) -> None:
    """Send the session's configuration and frames over a socket.

    The configuration goes whenever it changes, and a frame whenever the network changes
    (while it plays: after every slice of training). The page sends text messages
    (heartbeats); a binary message is answered ``{"type": "error", "error": …}`` and the
    socket closed (1003, data of a kind it does not take).
    """
    registry: Registry = websocket.app.state.registry
    sid = websocket.path_params["id"]
    await websocket.accept()
    try:
        session = registry.connect(sid)
    except KeyError:
        await websocket.send_text(json.dumps({"type": "gone", "error": f"no session {sid!r}"}))
        await websocket.close(code=4404)
        return

    async def send_loop():
        sent_config, sent_version = -1, -1
        while not getattr(session, "closed", False):
            if session.playing:
                await asyncio.to_thread(session.train_for, TRAIN_SLICE)
            if session.config_version != sent_config:
                sent_config = session.config_version
                config = await asyncio.to_thread(session.config)
                await websocket.send_text(json.dumps(config))
            if session.version != sent_version or session.playing:
                sent_version = session.version
                payload = await asyncio.to_thread(lambda: json.dumps(session.frame()))
                await websocket.send_text(payload)
            if not session.playing:
                await asyncio.sleep(POLL)

    sender = asyncio.create_task(send_loop())
    try:
        while True:
            receiving = asyncio.ensure_future(websocket.receive())
            done, _ = await asyncio.wait({receiving, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                receiving.cancel()
                sender.result()  # raise what stopped it
                break
            message = receiving.result()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await sender
                error = "the playground's socket takes text messages; a binary one was sent"
                await websocket.send_text(json.dumps({"type": "error", "error": error}))
                await websocket.close(code=1003, reason="text messages only")
                break
            session.last_seen = time.monotonic()  # a heartbeat: the page is alive
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        registry.disconnect(sid)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()


def _host_and_port(value: str) -> tuple[str, int] | None:
    """Split a Host header into (name, port); None when it is not one.

    Examples
    --------
    >>> _host_and_port("[::1]:8000"), _host_and_port("Example.com")
    (('::1', 8000), ('example.com', 80))
    """
    if value.startswith("["):
        name, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
    else:
        name, colon, port_text = value.partition(":")
        port = port_text if colon else None
    if not name or (port is not None and not (port.isdigit() and len(port) <= 5)):
        return None
    return name.lower(), int(port) if port is not None else 80


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class OwnHost:
    """Refuse requests whose ``Host`` is not the playground's own address.

    A page of another site can point a name of its own at 127.0.0.1 (DNS rebinding):
    the browser then sends that name as the Host, and its Origin matches. The server
    answers only to the names of this machine (localhost, 127.0.0.1, [::1]), the
    address it listens on, and, when it listens on every address (0.0.0.0, ::), to any
    IP address and this machine's own name; on its own port alone. Anything else is
    refused with 421 (400 without a Host header), HTTP requests and WebSocket upgrades
    alike.

    Parameters
    ----------
    app : ASGI application
    host : str, default "127.0.0.1"
        The address the server listens on (``--host``).
    port : int, optional
        The port it listens on; None takes any port (an app not served on a socket).

    Examples
    --------
    >>> guard = OwnHost(None, "127.0.0.1", 8000)
    >>> guard.allowed("127.0.0.1:8000"), guard.allowed("localhost:8000")
    (True, True)
    >>> guard.allowed("evil.example:8000"), guard.allowed("localhost:8001")
    (False, False)
    """

    def __init__(self, app, host: str = "127.0.0.1", port: int | None = None):
        self.app = app
        self.port = port
        name = host.strip("[]").lower()
        self.names = {*LOOPBACK_NAMES, name}
        self.any_address = name in ("", "0.0.0.0", "::")
        if self.any_address:
            machine = socket.gethostname().lower()
            self.names |= {machine, f"{machine}.local"}
        shown = f"[{name}]" if ":" in name else name
        if self.any_address or name == "localhost":
            shown = "127.0.0.1"
        self.url = f"http://{shown}:{port}/" if port is not None else f"http://{shown}/"

    def allowed(self, host: str | None) -> bool:
        """Whether a request with this Host header is for this server."""
        parsed = _host_and_port(host or "")
        if parsed is None:
            return False
        name, port = parsed
        if self.port is not None and port != self.port:
            return False
        return name in self.names or (self.any_address and _is_address(name))

    async def __call__(self, scope, receive, send):
        """Pass a request on, or answer 421 (an HTTP response to a WebSocket upgrade too)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = None
        for key, value in scope["headers"]:
            if key == b"host":
                host = value.decode("latin-1")
                break
        if self.allowed(host):
            await self.app(scope, receive, send)
            return
        if host is None:
            status, message = 400, f"a request without a Host header is refused; open {self.url}"
        else:
            shown = host if len(host) <= 80 else host[:80] + "…"
            status = 421
            message = (
                f"this playground answers only to its own address ({self.url}), not to "
                f"{shown!r}: pages of other sites cannot drive it"
            )
        if scope["type"] == "websocket" and "websocket.http.response" not in scope.get(
            "extensions", {}
        ):
            await send({"type": "websocket.close", "code": 4000 + status})
            return
        await _error(message, status)(scope, receive, send)


class SameOrigin:
    """Refuse requests that a page of another site sends (they carry its Origin).

    A site open in the same browser then cannot drive or read the playground's sessions.

    Examples
    --------
    >>> SameOrigin.allowed({"origin": "http://127.0.0.1:8000", "host": "127.0.0.1:8000"})
    True
    >>> SameOrigin.allowed({"origin": "https://example.com", "host": "127.0.0.1:8000"})
    False
    """

    def __init__(self, app):
        self.app = app

    @staticmethod
    def allowed(headers: dict) -> bool:
        """No Origin (not a browser's cross-site request), or the same host and port."""
        origin = headers.get("origin")
        if origin is None:
            return True
        return origin.split("://", 1)[-1].rstrip("/") == headers.get("host", "")

    async def __call__(self, scope, receive, send):
        """Pass a request on, or refuse it (403, or a closed socket) from another site."""
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if not self.allowed(headers):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4403})
                    return
                response = _error("requests from other sites are refused", 403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


# ---------------------------------------------------------------------------- the app
def create_app(
    idle_timeout: float = 60.0,
    max_sessions: int = 64,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> Starlette:
    """Build the playground's Starlette application, with its own session registry.

    Parameters
    ----------
    idle_timeout : float, default 60
        Seconds after which a session without an open socket and without requests is
        freed.
    max_sessions : int, default 64
    host : str, default "127.0.0.1"
        The address the server listens on: requests for other hosts are refused
        (:class:`OwnHost`).
    port : int, optional
        The port it listens on: requests for other ports are refused. None takes any.

    Returns
    -------
    starlette.applications.Starlette
        ``app.state.registry`` is its :class:`Registry`.

    Examples
    --------
    >>> create_app(idle_timeout=5).state.registry.idle_timeout
    5
    """

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.state.stopping = asyncio.Event()  # set when the server stops: see _read_body

        async def reaper():
            while True:
                await asyncio.sleep(min(5.0, app.state.registry.idle_timeout))
                app.state.registry.reap()

        task = asyncio.create_task(reaper())
        try:
            yield
        finally:
            task.cancel()

    def sid_route(path, endpoint, methods=("POST",)):
        return Route(f"/api/sessions/{{id}}{path}", endpoint, methods=list(methods))

    routes = [
        Route("/", index),
        Route("/api/sessions", create_session, methods=["POST"]),
        Route("/api/datasets", previews),
        sid_route("", _session_route(get_session), ["GET"]),
        sid_route("", delete_session, ["DELETE"]),
        sid_route("/settings", _session_route(change_settings, body=True)),
        sid_route("/play", _session_route(play)),
        sid_route("/pause", _session_route(pause)),
        sid_route("/step", _session_route(step)),
        sid_route("/reset", _session_route(reset)),
        sid_route("/regenerate", _session_route(regenerate)),
        sid_route("/explain", _session_route(explain, body=True)),
        sid_route("/upload", upload),
        sid_route("/frame", _session_route(frame), ["GET"]),
        sid_route("/model.safetensors", _session_route(model_file), ["GET"]),
        sid_route("/model.onnx", _session_route(onnx_file), ["GET"]),
        WebSocketRoute("/api/sessions/{id}/stream", stream),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(OwnHost, host=host, port=port), Middleware(SameOrigin)],
        exception_handlers={Refused: _refused},
    )
    app.state.registry = Registry(idle_timeout, max_sessions)
    return app


def _listen(host: str, port: int) -> socket.socket:
    """Open a listening socket on (host, port); port 0 picks a free port."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ValueError(
            f"--host {host}: not an address of this machine ({exc.strerror})"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise ValueError(
            f"cannot listen on {host}:{port}: {reason.lower()}; choose another --port "
            "(--port 0 picks a free one)"
        ) from None
    sock.setblocking(False)
    return sock


def _network_warning(host: str, address: str, port: int) -> str | None:
    """Return the warning for a server on ``address`` (given as ``host``); None on loopback.

    Examples
    --------
    >>> _network_warning("127.0.0.1", "127.0.0.1", 8000) is None
    True
    >>> print(_network_warning("0.0.0.0", "0.0.0.0", 8000))  # doctest: +ELLIPSIS
    warning: --host 0.0.0.0 makes the playground reachable from the network: ...
    """
    if ipaddress.ip_address(address.split("%")[0]).is_loopback:
        return None
    return (
        f"warning: --host {host} makes the playground reachable from the network: anyone "
        f"who can reach this machine on port {port} can open the page, train networks, "
        "upload CSV files and use this machine's CPU and memory, with no password; "
        "--host 127.0.0.1 keeps it on this machine"
    )


def serve(
    host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True, out=None, err=None
) -> None:
    """Run the playground until Ctrl-C.

    Ctrl-C raises KeyboardInterrupt once the server has shut down; a request whose body
    is still being read then is answered 503.

    Prints ``nnmath playground: http://HOST:PORT/`` as its first line (the port that
    ``port=0`` picked), then opens the default browser there unless ``open_browser``
    is False. An address other than this machine's own (0.0.0.0, ::, a network
    address) first prints a warning on ``err``: anyone who reaches the page can use it.

    Parameters
    ----------
    host : str, default "127.0.0.1"
        The address to listen on; only this machine can reach 127.0.0.1. The server
        answers only to requests for this address (see :class:`OwnHost`).
    port : int, default 8000
        0 picks a free port.
    open_browser : bool, default True
    out : file, default sys.stdout
    err : file, default sys.stderr
        Where the warning goes.

    Raises
    ------
    ValueError
        The address cannot be listened on (unknown host, port in use).

    Examples
    --------
    >>> serve("127.0.0.1", 0, open_browser=False)  # doctest: +SKIP
    nnmath playground: http://127.0.0.1:43817/
    """
    import uvicorn
    from uvicorn.config import WS_PROTOCOLS

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    sock = _listen(host, port)
    address, actual = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{actual}/"
    warning = _network_warning(host, address, actual)
    if warning is not None:
        print(warning, file=err, flush=True)
    print(f"nnmath playground: {url}", file=out, flush=True)
    print("Press Ctrl-C to stop.", file=out, flush=True)
    app = create_app(host=host, port=actual)
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        ws="websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "auto",
        ws_max_size=MAX_JSON_BYTES,
        timeout_graceful_shutdown=3,
    )

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None):
            stopping = getattr(app.state, "stopping", None)
            if stopping is not None:
                stopping.set()  # requests still reading their bodies are answered 503
            await super().shutdown(sockets)

    server = Server(config)
    if open_browser:
        local = url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")
        threading.Timer(0.3, webbrowser.open, (local,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
