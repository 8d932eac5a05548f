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
import functools
import json
import secrets
import socket
import sys
import threading
import time
import webbrowser
from pathlib import Path

import numpy as np
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from nnmath.playground.datasets import DATASETS, MAX_UPLOAD_BYTES, generate
from nnmath.playground.session import Session, SettingError

__all__ = ["Registry", "SameOrigin", "TRAIN_SLICE", "create_app", "serve"]

STATIC = Path(__file__).parent / "static"
#: Seconds of training between two frames while a session plays.
TRAIN_SLICE = 0.05
#: How often an idle socket looks for changes to send, in seconds.
POLL = 0.03
#: Besides text/*, the content types browsers give CSV files.
CSV_TYPES = ("application/octet-stream", "application/vnd.ms-excel", "application/csv")


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


def _json_body(raw: bytes):
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SettingError("settings", f"the request body is not JSON: {exc}") from None


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
            payload = _json_body(await request.body()) if body else None
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
        settings = _json_body(await request.body())
        sid = await asyncio.to_thread(registry.create, settings)
    except SettingError as exc:
        return _error(str(exc), 400, exc.setting)
    except RuntimeError as exc:
        return _error(str(exc), 503)
    config = await asyncio.to_thread(registry.get(sid).config)
    return JSONResponse({"id": sid, **config}, status_code=201)


@functools.lru_cache(maxsize=1)
def _previews() -> dict:
    """Draw a small picture of every built-in data set (200 points, no noise)."""
    out = {}
    for name in DATASETS:
        data = generate(name, 200, 0, np.random.default_rng(0))
        target = data.target
        if data.kind == "regression":
            target = target / max(float(np.abs(target).max()), 1e-9)
        out[name] = {
            "kind": data.kind,
            "points": np.round(data.points, 2).tolist(),
            "target": np.round(target, 3).tolist(),
        }
    return out


async def previews(request: Request) -> Response:
    return JSONResponse(await asyncio.to_thread(_previews))


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
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES:
        return _error(too_big, 413, "upload")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            return _error(too_big, 413, "upload")
        chunks.append(chunk)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and not (kind.startswith("text/") or kind in CSV_TYPES):
        return _error(
            f"{name} is not a CSV file (its type is {kind}); upload comma-separated values",
            415,
            "upload",
        )
    try:
        await asyncio.to_thread(session.upload, b"".join(chunks), name)
    except SettingError as exc:
        return _error(str(exc), 400, exc.setting)
    except ValueError as exc:
        return _error(str(exc), 400, "upload")
    return JSONResponse(session.config())


async def stream(websocket: WebSocket) -> None:
    """Send the session's configuration and frames over a socket.

    The configuration goes whenever it changes, and a frame whenever the network changes
    (while it plays: after every slice of training).
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
            receiving = asyncio.ensure_future(websocket.receive_text())
            done, _ = await asyncio.wait({receiving, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                receiving.cancel()
                sender.result()  # raise what stopped it
                break
            receiving.result()  # a heartbeat: the page is alive
            session.last_seen = time.monotonic()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        registry.disconnect(sid)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()


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
def create_app(idle_timeout: float = 60.0, max_sessions: int = 64) -> Starlette:
    """Build the playground's Starlette application, with its own session registry.

    Parameters
    ----------
    idle_timeout : float, default 60
        Seconds after which a session without an open socket and without requests is
        freed.
    max_sessions : int, default 64

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
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SameOrigin)])
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


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True, out=None) -> None:
    """Run the playground until Ctrl-C.

    Ctrl-C raises KeyboardInterrupt once the server has shut down.

    Prints ``nnmath playground: http://HOST:PORT/`` as its first line (the port that
    ``port=0`` picked), then opens the default browser there unless ``open_browser``
    is False.

    Parameters
    ----------
    host : str, default "127.0.0.1"
        The address to listen on; only this machine can reach 127.0.0.1.
    port : int, default 8000
        0 picks a free port.
    open_browser : bool, default True
    out : file, default sys.stdout

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
    sock = _listen(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{actual}/"
    print(f"nnmath playground: {url}", file=out, flush=True)
    print("Press Ctrl-C to stop.", file=out, flush=True)
    config = uvicorn.Config(
        create_app(),
        log_level="warning",
        access_log=False,
        ws="websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "auto",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    if open_browser:
        local = url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]")
        threading.Timer(0.3, webbrowser.open, (local,)).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
