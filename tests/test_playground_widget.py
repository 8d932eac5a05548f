"""The playground as a notebook widget: its messages answered as the server answers requests.

The widget's Python side is checked against the playground's real server (Starlette's
in-process client): the same requests give the same answers. The widget itself is built
with anywidget and its JavaScript module checked to hold the page, unchanged.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from nnmath.io import from_bytes
from nnmath.playground import SettingError
from nnmath.playground.widget import Streamer, esm, handle_request, widget

STATIC = Path(__file__).resolve().parents[1] / "src" / "nnmath" / "playground" / "static"
BASE_URL = "http://127.0.0.1"


@pytest.fixture
def client():
    testclient = pytest.importorskip("starlette.testclient")
    from nnmath.playground.server import create_app

    with testclient.TestClient(create_app(), base_url=BASE_URL) as c:
        yield c


def without_id(config: dict) -> dict:
    return {k: v for k, v in config.items() if k != "id"}


def test_requests_are_answered_as_the_server_answers_them(client):
    sessions: dict = {}
    settings = {"dataset": "xor", "hidden": [3], "points": 100, "seed": 4}
    served = client.post("/api/sessions", json=settings)
    answered = handle_request(sessions, "POST", "/api/sessions", settings)
    assert answered["status"] == served.status_code == 201
    assert without_id(answered["body"]) == without_id(served.json())
    sid, wid = served.json()["id"], answered["body"]["id"]
    for method, path, body in [
        ("POST", "/step", None),
        ("POST", "/settings", {"learning_rate": 0.3}),
        ("POST", "/explain", {"sample": 2}),
        ("GET", "/frame", None),
        ("GET", "", None),
        ("POST", "/settings", {"hidden": [9]}),  # refused, naming the setting
        ("POST", "/explain", {"row": 1}),
        ("POST", "/regenerate", None),
        ("POST", "/reset", None),
    ]:
        served = client.request(method, f"/api/sessions/{sid}{path}", json=body)
        answered = handle_request(sessions, method, f"/api/sessions/{wid}{path}", body)
        assert answered["status"] == served.status_code, path
        assert json.loads(json.dumps(answered["body"])) == served.json(), path
    served = client.get(f"/api/sessions/{sid}/model.safetensors")
    answered = handle_request(sessions, "GET", f"/api/sessions/{wid}/model.safetensors")

    mine, theirs = from_bytes(answered.data), from_bytes(served.content)
    assert mine.layer_sizes == theirs.layer_sizes == [2, 3, 1]
    for p, q in zip(mine.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_array_equal(p, q)
    served = client.get("/api/datasets")
    assert handle_request(sessions, "GET", "/api/datasets")["body"] == served.json()


def test_an_upload_and_bad_requests(client):
    sessions: dict = {}
    sid = handle_request(sessions, "POST", "/api/sessions", {})["body"]["id"]
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [
        f"{x:.3f},{y:.3f},{'yes' if x > y else 'no'}" for x, y in rng.normal(size=(60, 2))
    ]
    answer = handle_request(
        sessions, "POST", f"/api/sessions/{sid}/upload?name=t.csv", None, "\n".join(rows).encode()
    )
    assert answer["status"] == 200, answer
    assert answer["body"]["settings"]["dataset"] == "csv"
    assert answer["body"]["upload"]["columns"] == ["a", "b", "label"]
    assert handle_request(sessions, "POST", "/api/sessions/nope/step")["status"] == 404
    assert handle_request(sessions, "POST", f"/api/sessions/{sid}/fly")["status"] == 404
    bad = handle_request(sessions, "POST", "/api/sessions", {"points": 5})
    assert bad["status"] == 400
    assert bad["body"]["setting"] == "points"
    served = client.post("/api/sessions", json={"points": 5})
    assert bad["body"] == served.json()
    assert handle_request(sessions, "DELETE", f"/api/sessions/{sid}")["status"] == 204
    assert sid not in sessions


def test_the_streamer_sends_config_then_frames_while_playing():
    sessions: dict = {}
    sid = handle_request(sessions, "POST", "/api/sessions", {"dataset": "gauss", "hidden": [2]})[
        "body"
    ]["id"]
    session = sessions[sid]
    sent: list = []
    streamer = Streamer(session, sid, sent.append)
    state = [-1, -1]
    streamer.tick(state)  # first look: the configuration and a frame
    kinds = [json.loads(m["data"])["type"] for m in sent]
    assert kinds == ["config", "frame"]
    assert {m["id"] for m in sent} == {sid}
    streamer.tick(state)  # nothing changed: nothing sent
    assert len(sent) == 2
    assert handle_request(sessions, "POST", f"/api/sessions/{sid}/play")["status"] == 200
    streamer.tick(state)  # playing: trained a slice, a frame of a later epoch
    frame = json.loads(sent[-1]["data"])
    assert frame["type"] == "frame"
    assert session.epoch > 0
    assert frame["epoch"] == session.epoch


def test_the_widget_answers_its_messages_and_streams():
    pytest.importorskip("anywidget")
    w = widget(dataset="xor", hidden=[3])
    replies: list = []
    w.send = lambda content, buffers=None: replies.append((content, buffers))
    w._on_msg(w, {"kind": "request", "id": 7, "method": "POST", "path": "/api/sessions"}, [])
    assert replies[0][0]["kind"] == "answer"
    assert replies[0][0]["id"] == 7
    assert replies[0][0]["status"] == 201
    config = replies[0][0]["body"]
    assert config["settings"]["dataset"] == "xor"  # the widget's own settings
    assert config["settings"]["hidden"] == [3]
    sid = config["id"]
    path = f"/api/sessions/{sid}/model.safetensors"
    reply, buffers = w.handle({"kind": "request", "id": 8, "method": "GET", "path": path})

    assert from_bytes(buffers[0]).layer_sizes == [2, 3, 1]
    got = threading.Event()
    w.send = lambda content, buffers=None: got.set()
    assert w.handle({"kind": "connect", "id": sid}) is None
    assert got.wait(30)  # the stream thread sent the configuration
    w.close()
    assert w.session is None
    assert w.handle({"kind": "fly"})[0]["kind"] == "error"


def test_the_widget_module_holds_the_page_unchanged():
    pytest.importorskip("anywidget")
    w = widget()
    module = w._esm
    assert module is esm()
    assert (STATIC / "app.js").read_text(encoding="utf-8") in module
    assert "export default { render }" in module
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert '<button id="play"' in html
    assert '<button id="play"' in json.loads(module.split("const BODY = ", 1)[1].split(";\n", 1)[0])
    assert "<script" not in json.loads(module.split("const BODY = ", 1)[1].split(";\n", 1)[0])
    w.close()


def test_a_bad_setting_is_refused_before_the_widget_is_built():
    with pytest.raises(SettingError, match="hidden: each layer has 1 to 8 neurons"):
        widget(hidden=[9])


@pytest.mark.slow
def test_the_stream_reaches_the_front_end_from_a_real_kernel():
    """In a real ipykernel, the stream thread's messages go out on the kernel's iopub."""
    pytest.importorskip("anywidget")
    manager = pytest.importorskip("jupyter_client.manager")
    import queue

    km, kc = manager.start_new_kernel(kernel_name="python3")
    try:
        kc.execute(
            "from nnmath.playground.widget import widget\n"
            "import time\n"
            "w = widget(dataset='xor')\n"
            "r, _ = w.handle({'kind': 'request', 'id': 1, 'method': 'POST', "
            "'path': '/api/sessions'})\n"
            "sid = r['body']['id']\n"
            "w.handle({'kind': 'connect', 'id': sid})\n"
            "w.handle({'kind': 'request', 'id': 2, 'method': 'POST', "
            "'path': f'/api/sessions/{sid}/play'})\n"
            "time.sleep(2)\n"
            "w.close()\n"
        )
        kinds: list = []
        errors: list = []
        started = False
        while True:
            try:
                msg = kc.get_iopub_msg(timeout=60)
            except queue.Empty:
                break
            kind = msg["msg_type"]
            if kind == "comm_msg" and msg["content"]["data"].get("method") == "custom":
                kinds.append(json.loads(msg["content"]["data"]["content"]["data"])["type"])
            elif kind == "error":
                errors.append(msg["content"]["traceback"][-1])
            elif kind == "status":
                if msg["content"]["execution_state"] == "busy":
                    started = True
                elif started:
                    break
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert errors == []
    assert kinds[0] == "config"
    assert kinds.count("frame") >= 2  # frames of training, sent while the cell slept
