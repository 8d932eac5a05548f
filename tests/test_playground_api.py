"""The playground's server, driven through its HTTP and WebSocket API in-process
(Starlette's TestClient), plus the ``nnmath playground`` command as a real process.

What a page does — create a session, change settings, play, step, upload a CSV file,
download the model — is done here request by request, and every way a request can be
wrong gets a clear answer that names the setting.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import numpy as np
import onnxruntime as ort
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import nnmath
from nnmath.cli import main
from nnmath.playground import DEFAULTS, Session, check_settings, datasets
from nnmath.playground.server import Registry, create_app

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "nnmath" / "playground" / "static"
TIMEOUT = 120
#: The address the in-process client sends requests to: the server answers only to
#: this machine's names.
BASE_URL = "http://127.0.0.1"
WS_URL = "ws://127.0.0.1"


@pytest.fixture
def client():
    with TestClient(create_app(), base_url=BASE_URL) as c:
        yield c


def new_session(client, **settings) -> str:
    r = client.post("/api/sessions", json=settings)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def frame(client, sid: str) -> dict:
    r = client.get(f"/api/sessions/{sid}/frame")
    assert r.status_code == 200, r.text
    return r.json()


def csv_bytes(rows: int, rng: np.random.Generator, classes=("cat", "dog", "owl")) -> bytes:
    """A table a learner might upload: two measurements, a note and a text label."""
    k = np.arange(rows) % len(classes)
    centers = np.array([[0, 3], [3, -2], [-3, -2]])[k % 3]
    xy = centers + rng.normal(0, 0.8, (rows, 2))
    lines = ["height,weight,note,kind"]
    for (h, w), c in zip(xy, k, strict=True):
        lines.append(f"{h:.3f},{w:.3f},n{c},{classes[c]}")
    return ("\n".join(lines) + "\n").encode()


# ---------------------------------------------------------------------------- settings
BAD_SETTINGS = [
    ("dataset", "moons", r"dataset must be one of circle, xor, gauss, spiral, three, curve, plane"),
    ("dataset", 3, r"dataset must be one of"),
    ("points", 5, r"points must be an integer from 10 to 5000; got 5"),
    ("points", 2.5, r"points must be an integer from 10 to 5000; got 2\.5"),
    ("points", "many", r"points must be an integer"),
    ("points", True, r"points must be an integer"),
    ("noise", -1, r"noise must be a number from 0 to 50; got -1"),
    ("noise", 51, r"noise must be a number from 0 to 50"),
    ("noise", "loud", r"noise must be a number"),
    ("split", 5, r"split must be a number from 10 to 90; got 5"),
    ("split", 95, r"split must be a number from 10 to 90"),
    ("seed", -1, r"seed must be an integer from 0 to 2147483647; got -1"),
    ("seed", 1.5, r"seed must be an integer"),
    ("features", [], r"features must be a non-empty list of x1, x2, x1sq"),
    ("features", "x1", r"features must be a non-empty list"),
    ("features", ["x1", "x3"], r"features: unknown feature 'x3'; the features are x1, x2"),
    ("features", ["x1", "x1"], r"features lists a feature twice"),
    ("features", [["x1"]], r"features: unknown feature \['x1'\]; the features are x1"),
    ("hidden", "4,2", r"hidden must be a list of 0 to 6 layer sizes"),
    ("hidden", [1] * 7, r"hidden must be a list of 0 to 6 layer sizes"),
    ("hidden", [9], r"hidden: each layer has 1 to 8 neurons; got 9 in \[9\]"),
    ("hidden", [4, 0], r"hidden: each layer has 1 to 8 neurons; got 0"),
    ("hidden", [2.5], r"hidden: each layer has 1 to 8 neurons; got 2\.5"),
    ("activation", "softmax", r"activation must be one of tanh, relu, sigmoid, leaky_relu"),
    ("loss", "hinge", r"loss must be one of cross_entropy, mse; got 'hinge'"),
    ("learning_rate", 0, r"learning_rate must be a number > 0 and <= 10; got 0"),
    ("learning_rate", -0.1, r"learning_rate must be a number > 0"),
    ("learning_rate", 11, r"learning_rate must be a number > 0 and <= 10; got 11"),
    ("learning_rate", "fast", r"learning_rate must be a number"),
    ("l2", -1, r"l2 must be a number from 0 to 10; got -1"),
    ("l2", 100, r"l2 must be a number from 0 to 10"),
    ("batch_size", 0, r"batch_size must be an integer from 1 to 1000; got 0"),
    ("batch_size", 1001, r"batch_size must be an integer from 1 to 1000"),
    ("batch_size", 2.5, r"batch_size must be an integer"),
    ("optimizer", "rmsprop", r"optimizer must be one of sgd, adam; got 'rmsprop'"),
    ("x1_column", 5, r"x1_column must be a column name \(text\); got 5"),
    ("target_column", ["a"], r"target_column must be a column name"),
    ("colour", "red", r"unknown setting 'colour'; the settings are dataset, points"),
]


@pytest.mark.parametrize(("setting", "value", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_with_its_name_when_creating(client, setting, value, message):
    r = client.post("/api/sessions", json={setting: value})
    assert r.status_code == 400
    body = r.json()
    assert body["setting"] == setting
    assert re.search(message, body["error"]), body["error"]


@pytest.mark.parametrize(("setting", "value", "message"), BAD_SETTINGS)
def test_a_bad_setting_is_refused_and_the_session_is_unchanged(client, setting, value, message):
    sid = new_session(client, dataset="xor", hidden=[3])
    before = client.get(f"/api/sessions/{sid}").json()
    r = client.post(f"/api/sessions/{sid}/settings", json={setting: value})
    assert r.status_code == 400
    assert r.json()["setting"] == setting
    assert re.search(message, r.json()["error"])
    after = client.get(f"/api/sessions/{sid}").json()
    assert after["settings"] == before["settings"]
    assert after["layer_sizes"] == [2, 3, 1]


def test_not_a_number_is_refused(client):
    # JSON from JavaScript cannot hold NaN, but Python's json module reads it.
    r = client.post(
        "/api/sessions", content=b'{"noise": NaN}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["setting"] == "noise"


@pytest.mark.parametrize(
    ("body", "message"),
    [(b"{not json", r"the request body is not JSON"), (b"[1, 2]", r"settings must be an object")],
)
def test_a_body_that_is_not_a_settings_object_is_refused(client, body, message):
    r = client.post("/api/sessions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["setting"] == "settings"
    assert re.search(message, r.json()["error"])


def test_the_loss_follows_the_problem_unless_given(client):
    sid = new_session(client, dataset="plane")
    assert client.get(f"/api/sessions/{sid}").json()["settings"]["loss"] == "mse"
    r = client.post(f"/api/sessions/{sid}/settings", json={"dataset": "xor"})
    assert r.json()["settings"]["loss"] == "cross_entropy"
    r = client.post(f"/api/sessions/{sid}/settings", json={"loss": "mse"})
    r = client.post(f"/api/sessions/{sid}/settings", json={"dataset": "spiral"})
    assert r.json()["settings"]["loss"] == "mse"  # a classification set keeps its choice
    rows = "\n".join(f"{i},{i % 7},{i * 0.37:.2f}" for i in range(60))
    r = upload(client, sid, f"a,b,price\n{rows}\n".encode())
    assert r.json()["kind"] == "regression"
    assert r.json()["settings"]["loss"] == "mse"
    sid = new_session(client)
    upload(client, sid, f"a,b,price\n{rows}\n".encode())
    r = client.post(f"/api/sessions/{sid}/settings", json={"loss": "cross_entropy"})
    assert r.status_code == 400
    assert r.json()["setting"] == "loss"
    assert "'price' is a regression target: use 'mse'" in r.json()["error"]


def test_cross_entropy_does_not_go_with_regression(client):
    r = client.post("/api/sessions", json={"dataset": "plane", "loss": "cross_entropy"})
    assert r.status_code == 400
    assert r.json()["setting"] == "loss"
    assert "'plane' is a regression data set: use 'mse'" in r.json()["error"]
    # Choosing a regression data set alone takes its loss along.
    sid = new_session(client)
    r = client.post(f"/api/sessions/{sid}/settings", json={"dataset": "multigauss"})
    assert r.json()["settings"]["loss"] == "mse"
    assert r.json()["loss"] == "mse"
    assert r.json()["activations"][-1] == "identity"


def test_csv_dataset_needs_an_upload(client):
    r = client.post("/api/sessions", json={"dataset": "csv"})
    assert r.status_code == 400
    assert r.json()["setting"] == "dataset"
    assert "upload one first" in r.json()["error"]


def test_unknown_session_is_a_clear_404(client):
    for method, path in [
        ("get", ""),
        ("post", "/play"),
        ("post", "/settings"),
        ("get", "/frame"),
        ("delete", ""),
    ]:
        r = client.request(method.upper(), f"/api/sessions/nope{path}")
        assert r.status_code == 404
        assert "no session 'nope'" in r.json()["error"]


def test_defaults_and_the_network_they_build(client):
    r = client.post("/api/sessions", json={})
    body = r.json()
    assert body["settings"] == DEFAULTS
    assert body["layer_sizes"] == [2, 4, 2, 1]
    assert body["activations"] == ["tanh", "tanh", "sigmoid"]
    assert body["loss"] == "binary_cross_entropy"
    assert body["kind"] == "binary"
    assert len(body["train"]["points"]) == 250
    assert len(body["test"]["points"]) == 250
    assert [f["name"] for f in body["features"]] == list(datasets.FEATURES)
    assert [f["enabled"] for f in body["features"]] == [True, True] + [False] * 5
    assert body["onnx"] is True  # the test extra has onnx: the page offers the download


@pytest.mark.parametrize(
    ("dataset", "kind", "outputs", "loss"),
    [
        ("circle", "binary", 1, "binary_cross_entropy"),
        ("xor", "binary", 1, "binary_cross_entropy"),
        ("gauss", "binary", 1, "binary_cross_entropy"),
        ("spiral", "binary", 1, "binary_cross_entropy"),
        ("three", "multiclass", 3, "cross_entropy"),
        ("plane", "regression", 1, "mse"),
        ("multigauss", "regression", 1, "mse"),
    ],
)
def test_every_data_set_trains_and_its_loss_goes_down(dataset, kind, outputs, loss):
    s = Session({"dataset": dataset, "hidden": [6], "learning_rate": 0.1, "points": 200})
    assert s.data.kind == kind
    assert s.net.layer_sizes[-1] == outputs
    assert s.net.loss.name == loss
    before = s.losses()
    s.train(40)
    after = s.losses()
    assert after[0] < before[0]
    if dataset != "spiral":  # a small network learns the spiral's training points only
        assert after[1] < before[1]


def test_mse_loss_for_classification_is_the_articles_cost():
    s = Session({"dataset": "three", "loss": "mse", "hidden": []})
    assert s.net.loss.name == "mse"
    assert s.net.activations[-1].name == "softmax"
    s.train(5)
    assert s.epoch == 5


def test_features_are_the_networks_inputs(client):
    sid = new_session(client, features=["sinx2", "x1", "x1x2"], hidden=[])
    body = client.get(f"/api/sessions/{sid}").json()
    # in the page's order, whatever order the link gave
    assert body["settings"]["features"] == ["x1", "x1x2", "sinx2"]
    assert body["layer_sizes"] == [3, 1]
    s = Session({"features": ["x1", "x1x2", "sinx2"]})
    x1, x2 = s.data.points[0]
    np.testing.assert_allclose(s.X_train[0], [x1, x1 * x2, np.sin(x2)])


# ---------------------------------------------------------------------------- training
def test_training_over_the_socket_moves_the_loss_down(client):
    sid = new_session(client, dataset="xor", hidden=[4], learning_rate=0.1)
    with client.websocket_connect(f"{WS_URL}/api/sessions/{sid}/stream") as ws:
        config = ws.receive_json()
        assert config["type"] == "config"
        assert config["layer_sizes"] == [2, 4, 1]
        first = ws.receive_json()
        assert first["type"] == "frame"
        assert first["epoch"] == 0
        assert client.post(f"/api/sessions/{sid}/play").json() == {"playing": True}
        frames = 0
        while True:
            msg = ws.receive_json()
            if msg["type"] != "frame":
                continue
            frames += 1
            if msg["epoch"] >= 50:
                break
        assert client.post(f"/api/sessions/{sid}/pause").json() == {"playing": False}
    assert msg["train_loss"] < first["train_loss"]
    assert msg["test_loss"] < first["test_loss"]
    # each frame: the output and every neuron over the 50 × 50 grid, the weights
    sizes = config["layer_sizes"]
    assert [len(layer) for layer in msg["neurons"]] == sizes[1:]
    assert all(len(base64.b64decode(b)) == 50 * 50 for layer in msg["neurons"] for b in layer)
    assert len(base64.b64decode(msg["output"])) == 100 * 100  # the finer decision heatmap
    assert [np.shape(W) for W in msg["weights"]] == [(2, 4), (4, 1)]


def test_step_trains_one_epoch_and_shows_the_math_of_one_sample(client):
    sid = new_session(client, hidden=[3], learning_rate=0.5)
    m = client.post(f"/api/sessions/{sid}/step").json()
    assert m["type"] == "math"
    assert m["epoch"] == 0
    assert m["trained"] == 1
    assert frame(client, sid)["epoch"] == 1
    assert 0 <= m["sample"] < m["n_train"]
    phases = [s["phase"] for s in m["steps"]]
    assert phases[0] == "forward"
    assert phases[-1] == "update"
    assert sorted(set(phases)) == ["backward", "cost", "forward", "update"]
    first = m["steps"][0]
    assert first["name"] == "weighted sum, layer 1"
    assert first["equation"] == r"z_{1} = x\cdot W_{1} + b_{1}"
    assert first["highlight"] == {"neurons": [0, 1], "weights": [1]}
    names = [s["name"] for s in m["steps"]]
    assert "update W₂, layer 2" in names
    assert "chain rule: δ, layer 1" in names
    update = next(s for s in m["steps"] if s["name"] == "update W₁, layer 1")
    assert (
        update["equation"]
        == r"W_{1} \leftarrow  W_{1} - \alpha \cdot \frac{\partial C}{\partial W_{1}}"
    )
    assert update["highlight"] == {"neurons": [], "weights": [1]}
    # A second step explains the same sample, from the weights after the first.
    m2 = client.post(f"/api/sessions/{sid}/step").json()
    assert m2["sample"] == m["sample"]
    assert m2["epoch"] == 1


def test_the_math_is_nnmaths_own_trace():
    s = Session({"hidden": [2], "learning_rate": 0.3, "l2": 0.01})
    s.train(3)
    page = s.explain(7)
    trace = nnmath.explain(s.net, s.X_train[7], s.Y_train[7], learning_rate=0.3, l2_penalty=0.01)
    steps = trace.to_dict()["steps"]
    assert len(page["steps"]) == len(steps)
    for shown, d in zip(page["steps"], steps, strict=True):
        if r"\text{(" in shown["equation"]:  # a closing remark in words, set as text
            assert d["latex"].startswith(shown["equation"].split(r"\quad\text{(")[0])
        else:
            assert shown["equation"] == d["latex"]
    fused = next(st for st in page["steps"] if st["name"] == "output error δ (fused)")
    assert fused["equation"].endswith(
        r"\quad\text{(sigmoid output with binary\_cross\_entropy loss)}"
    )
    assert page["cost"] == trace.cost
    assert page["sample"] == 7
    assert page["epoch"] == 3
    assert s.epoch == 3  # explaining does not train


def test_clicking_a_sample_explains_it(client):
    sid = new_session(client, dataset="three", hidden=[])
    m = client.post(f"/api/sessions/{sid}/explain", json={"sample": 4}).json()
    assert m["sample"] == 4
    assert m["target"] in ("0", "1", "2")
    f = frame(client, sid)
    assert f["sample"] == 4
    assert len(base64.b64decode(f["output"])) == 100 * 100 * 3  # each class's probability
    for body, message in [
        ({"sample": 10_000}, r"sample must be a training sample index from 0 to 249; got 10000"),
        ({"sample": -1}, r"from 0 to 249"),
        ({"sample": "first"}, r"sample must be a training sample index; got 'first'"),
        ({}, r'the body must be \{"sample"'),
    ]:
        r = client.post(f"/api/sessions/{sid}/explain", json=body)
        assert r.status_code == 400
        assert r.json()["setting"] == "sample"
        assert re.search(message, r.json()["error"]), r.json()["error"]


def test_training_settings_apply_without_a_reset(client):
    sid = new_session(client, hidden=[3])
    for _ in range(3):
        client.post(f"/api/sessions/{sid}/step")
    r = client.post(f"/api/sessions/{sid}/settings", json={"learning_rate": 0.3, "l2": 0.1})
    assert r.json()["settings"]["learning_rate"] == 0.3
    assert frame(client, sid)["epoch"] == 3
    client.post(f"/api/sessions/{sid}/settings", json={"optimizer": "adam", "batch_size": 20})
    client.post(f"/api/sessions/{sid}/step")
    assert frame(client, sid)["epoch"] == 4
    # a network setting starts again
    client.post(f"/api/sessions/{sid}/settings", json={"activation": "relu"})
    assert frame(client, sid)["epoch"] == 0


def test_reset_and_regenerate(client):
    sid = new_session(client, hidden=[3], seed=7)
    w0 = frame(client, sid)["weights"]
    points0 = client.get(f"/api/sessions/{sid}").json()["train"]["points"]
    client.post(f"/api/sessions/{sid}/step")
    assert frame(client, sid)["weights"] != w0
    client.post(f"/api/sessions/{sid}/reset")
    assert frame(client, sid)["weights"] == w0
    assert frame(client, sid)["epoch"] == 0
    r = client.post(f"/api/sessions/{sid}/regenerate").json()
    assert r["settings"]["seed"] == 8
    assert r["train"]["points"] != points0


def test_a_diverging_run_stops_with_a_message_until_reset(client):
    sid = new_session(
        client,
        dataset="plane",
        activation="identity",
        features=["x1sq", "x2sq", "x1x2"],
        learning_rate=10,
        batch_size=1,
    )
    client.post(f"/api/sessions/{sid}/step")
    f = frame(client, sid)
    assert f["error"].startswith("training diverged in epoch 1")
    assert "Lower the learning rate" in f["error"]
    r = client.post(f"/api/sessions/{sid}/play")
    assert r.status_code == 409
    assert "Press reset to start again" in r.json()["error"]
    client.post(f"/api/sessions/{sid}/reset")
    assert frame(client, sid)["error"] is None


def test_the_same_settings_give_the_same_training():
    a, b = (
        Session({"dataset": "spiral", "hidden": [5, 5]}),
        Session({"dataset": "spiral", "hidden": [5, 5]}),
    )
    a.train(7)
    b.train(3)
    b.train(4)
    assert np.array_equal(a.net.theta, b.net.theta)
    assert a.frame()["neurons"] == b.frame()["neurons"]


# ---------------------------------------------------------------------------- sessions
def test_two_sessions_are_independent(client):
    a = new_session(client, dataset="xor", hidden=[4])
    b = new_session(client, dataset="xor", hidden=[4])
    assert a != b
    wb = frame(client, b)["weights"]
    for _ in range(3):
        client.post(f"/api/sessions/{a}/step")
    client.post(f"/api/sessions/{a}/settings", json={"learning_rate": 1, "hidden": [2, 2]})
    fb = frame(client, b)
    assert fb["epoch"] == 0
    assert fb["weights"] == wb
    body = client.get(f"/api/sessions/{b}").json()
    assert body["settings"]["learning_rate"] == 0.03
    assert body["layer_sizes"] == [2, 4, 1]
    # an upload goes to its own session only
    r = client.post(
        f"/api/sessions/{a}/upload?name=pets.csv", content=csv_bytes(60, np.random.default_rng(0))
    )
    assert r.status_code == 200
    assert client.get(f"/api/sessions/{b}").json()["upload"] is None


def test_a_closed_socket_frees_its_session(client):
    sid = new_session(client)
    registry: Registry = client.app.state.registry
    with client.websocket_connect(f"{WS_URL}/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        assert sid in registry
        client.post(f"/api/sessions/{sid}/play")
        ws.receive_json()
    deadline = time.monotonic() + 10
    while sid in registry and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sid not in registry
    assert client.get(f"/api/sessions/{sid}").status_code == 404


def test_delete_frees_a_session(client):
    sid = new_session(client)
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.get(f"/api/sessions/{sid}").status_code == 404


def test_a_session_without_a_socket_is_freed_after_the_idle_timeout():
    registry = Registry(idle_timeout=30)
    idle, connected = registry.create({}), registry.create({})
    registry.connect(connected)
    now = time.monotonic()
    assert registry.reap(now + 10) == []
    assert registry.reap(now + 31) == [idle]
    assert idle not in registry
    assert connected in registry
    registry.disconnect(connected)
    assert connected not in registry


def test_a_stream_for_an_unknown_session_says_so(client):
    with client.websocket_connect(f"{WS_URL}/api/sessions/gone/stream") as ws:
        assert ws.receive_json()["type"] == "gone"


def test_requests_from_another_site_are_refused(client):
    sid = new_session(client)
    evil = {"origin": "https://example.com"}
    r = client.post(f"/api/sessions/{sid}/settings", json={"noise": 50}, headers=evil)
    assert r.status_code == 403
    assert r.json()["error"] == "requests from other sites are refused"
    assert client.post("/api/sessions", json={}, headers=evil).status_code == 403
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(f"{WS_URL}/api/sessions/{sid}/stream", headers=evil) as ws:
            ws.receive_json()
    # the page itself (same host and port) is welcome
    same = {"origin": BASE_URL}
    r = client.post(f"/api/sessions/{sid}/settings", json={"noise": 50}, headers=same)
    assert r.status_code == 200


def _receive_until_closed(ws) -> None:
    while True:
        ws.receive_json()


def test_deleting_a_session_closes_its_socket(client):
    sid = new_session(client)
    with client.websocket_connect(f"{WS_URL}/api/sessions/{sid}/stream") as ws:
        ws.receive_json()
        client.delete(f"/api/sessions/{sid}")
        with pytest.raises(WebSocketDisconnect):
            _receive_until_closed(ws)


def test_too_many_sessions_are_refused():
    with TestClient(create_app(max_sessions=2), base_url=BASE_URL) as c:
        new_session(c)
        new_session(c)
        r = c.post("/api/sessions", json={})
        assert r.status_code == 503
        assert "close a tab" in r.json()["error"]


# ---------------------------------------------------------------------------- uploads
def upload(client, sid, content, name="data.csv", content_type="text/csv"):
    return client.post(
        f"/api/sessions/{sid}/upload?name={name}",
        content=content,
        headers={"content-type": content_type},
    )


def test_an_uploaded_csv_trains_with_any_number_of_classes(client):
    sid = new_session(client, hidden=[4], learning_rate=0.1)
    r = upload(client, sid, csv_bytes(120, np.random.default_rng(1)), name="pets.csv")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["settings"]["dataset"] == "csv"
    assert body["settings"]["x1_column"] == "height"
    assert body["settings"]["x2_column"] == "weight"
    assert body["settings"]["target_column"] == "kind"
    assert body["kind"] == "multiclass"
    assert body["classes"] == ["cat", "dog", "owl"]
    assert body["upload"] == {
        "name": "pets.csv",
        "columns": ["height", "weight", "note", "kind"],
        "numeric": ["height", "weight"],
        "rows": 120,
        "missing": {},
    }
    assert body["missing"] == {
        "policy": "drop",
        "rows": 0,
        "left_out": 0,
        "filled": 0,
        "by_column": {},
        "medians": {},
    }
    assert body["layer_sizes"] == [2, 4, 3]
    before = frame(client, sid)["train_loss"]
    for _ in range(30):
        client.post(f"/api/sessions/{sid}/step")
    assert frame(client, sid)["train_loss"] < before
    # the plane's columns are standardized
    points = np.array(body["train"]["points"] + body["test"]["points"])
    np.testing.assert_allclose(points.mean(axis=0), 0, atol=1e-3)
    # choosing another target column
    r = client.post(f"/api/sessions/{sid}/settings", json={"target_column": "note"})
    assert r.json()["classes"] == ["n0", "n1", "n2"]


def test_an_uploaded_csv_with_a_numeric_target_is_regression(client):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (80, 2))
    rows = "\n".join(f"{a:.4f},{b:.4f},{a + 2 * b:.4f}" for a, b in x)
    sid = new_session(client)
    r = upload(client, sid, f"a,b,price\n{rows}\n".encode())
    assert r.json()["kind"] == "regression"
    assert r.json()["loss"] == "mse"
    assert r.json()["target_name"] == "price (standardized)"
    assert r.json()["settings"]["target_column"] == "price"
    y = np.array(r.json()["train"]["target"] + r.json()["test"]["target"])
    np.testing.assert_allclose([y.mean(), y.std()], [0, 1], atol=1e-9)
    before = frame(client, sid)["train_loss"]
    for _ in range(20):
        client.post(f"/api/sessions/{sid}/step")
    assert frame(client, sid)["train_loss"] < before


def test_an_uploaded_csv_with_integer_labels_is_classification():
    t = datasets.read_csv(b"a,b,y\n0,1,0\n1,0,1\n2,2,1\n1,1,0\n", "t.csv")
    d = datasets.csv_data(t, "a", "b", "y")
    assert d.kind == "binary"
    assert d.classes == ["0", "1"]


def test_an_upload_that_is_too_big_is_refused(client):
    sid = new_session(client)
    big = b"a,b,c\n" + b"1,2,3\n" * (datasets.MAX_UPLOAD_BYTES // 6 + 1)
    r = upload(client, sid, big, name="big.csv")
    assert r.status_code == 413
    assert r.json()["error"] == (
        "big.csv is too big: the playground takes CSV files of at most 2,000,000 bytes"
    )
    # without a Content-Length (chunked), the stream is cut at the limit
    chunks = (big[i : i + 65536] for i in range(0, len(big), 65536))
    r = client.post(f"/api/sessions/{sid}/upload?name=big.csv", content=chunks)
    assert r.status_code == 413
    assert "too big" in r.json()["error"]
    assert client.get(f"/api/sessions/{sid}").json()["settings"]["dataset"] == "circle"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"^empty\.csv is empty$"),
        (b"  \n\n", r"^empty\.csv is empty$"),
        (b"a,b,c\n", r"has 0 data rows; training needs at least 2"),
    ],
)
def test_an_empty_upload_is_refused(client, content, message):
    sid = new_session(client)
    r = upload(client, sid, content, name="empty.csv")
    assert r.status_code == 400
    assert r.json()["setting"] == "upload"
    assert re.search(message, r.json()["error"]), r.json()["error"]


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "message"),
    [
        (PNG, "text/csv", 400, r"not a CSV file: it holds binary data, not text"),
        (PNG, "image/png", 415, r"not a CSV file \(its type is image/png\)"),
        ("é,ü\n".encode("latin-1") * 3, "text/csv", 400, r"not a CSV file: it is not UTF-8 text"),
        (b"just one column\nhello\nworld\n", "text/csv", 400, r"not a CSV file with columns"),
        (b"a,b\n1,2\n1,2,3,4\n", "text/csv", 400, r"not a valid CSV file: Error tokenizing data"),
        (b"a,a,b\n1,2,3\n4,5,6\n", "text/csv", 400, r"two columns of the same name"),
        (b"a,b,c\n1,x,y\n2,z,w\n", "text/csv", 400, r"has 1 numeric column \(a\)"),
        (b"a,b\n1,2\n3,4\n", "text/csv", 400, r"needs a third column for the target"),
    ],
)
def test_an_upload_that_is_not_a_usable_csv_is_refused(
    client, content, content_type, status, message
):
    sid = new_session(client)
    r = upload(client, sid, content, name="thing.csv", content_type=content_type)
    assert r.status_code == status
    assert r.json()["setting"] == "upload"
    assert r.json()["error"].startswith("thing.csv ")
    assert re.search(message, r.json()["error"]), r.json()["error"]
    assert client.get(f"/api/sessions/{sid}").json()["upload"] is None


def test_an_upload_with_too_many_rows_is_refused(client):
    sid = new_session(client)
    rows = b"a,b,c\n" + b"1,2,x\n" * (datasets.MAX_UPLOAD_ROWS + 1)
    r = upload(client, sid, rows, name="huge.csv")
    assert r.status_code == 400
    assert "has 5,001 rows; the playground takes at most 5,000" in r.json()["error"]


@pytest.mark.parametrize(
    ("changes", "setting", "message"),
    [
        ({"x1_column": "kind"}, "x1_column", r"column 'kind' is not numeric"),
        ({"x2_column": "mass"}, "x2_column", r"has no column 'mass'; its columns are height"),
        ({"x2_column": "height"}, "x2_column", r"'height' is already x₁"),
        ({"target_column": "weight"}, "target_column", r"'weight' is drawn on the plane"),
        ({"target_column": "one"}, "target_column", r"has one class only \('a'\)"),
        ({"missing": "guess"}, "missing", r"missing must be one of drop, fill; got 'guess'"),
    ],
)
def test_bad_csv_columns_are_refused(client, changes, setting, message):
    sid = new_session(client)
    table = b"height,weight,one,gaps,kind\n1,2,a,x,p\n2,1,a,,q\n3,3,a,y,p\n"
    assert upload(client, sid, table).status_code == 200
    r = client.post(f"/api/sessions/{sid}/settings", json=changes)
    assert r.status_code == 400
    assert r.json()["setting"] == setting
    assert re.search(message, r.json()["error"]), r.json()["error"]


def test_an_upload_to_an_unknown_session(client):
    r = upload(client, "nope", b"a,b,c\n1,2,3\n")
    assert r.status_code == 404


# ---------------------------------------------------------------------------- keep it
def test_the_model_file_is_the_trained_network(client, tmp_path):
    sid = new_session(client, dataset="three", hidden=[5], features=["x1", "x2", "x1x2"])
    for _ in range(3):
        client.post(f"/api/sessions/{sid}/step")
    r = client.get(f"/api/sessions/{sid}/model.safetensors")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="playground-three.safetensors"'
    path = tmp_path / "m.safetensors"
    path.write_bytes(r.content)
    net = nnmath.load(path)
    f = frame(client, sid)
    np.testing.assert_array_equal(net.W[0], f["weights"][0])
    assert net.layer_sizes == [3, 5, 3]


def test_the_onnx_file_computes_what_the_network_does(client):
    sid = new_session(client, hidden=[4, 3])
    client.post(f"/api/sessions/{sid}/step")
    r = client.get(f"/api/sessions/{sid}/model.onnx")
    assert r.status_code == 200
    weights = frame(client, sid)["weights"]
    session = ort.InferenceSession(r.content, providers=["CPUExecutionProvider"])
    X = np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32)
    (y,) = session.run(None, {"X": X})
    net = nnmath.Network([2, 4, 3, 1], activation="tanh", output_activation="sigmoid")
    for W, w in zip(net.W, weights, strict=True):
        W[...] = w
    for b, bb in zip(net.b, frame(client, sid)["biases"], strict=True):
        b[...] = bb
    np.testing.assert_allclose(y, net.forward(X), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------- the page
def test_the_page_and_its_files_are_served(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "<title>nnmath playground</title>" in r.text
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', r.text):
        assert client.get(src).status_code == 200, src
    css = client.get("/static/vendor/katex/katex.min.css").text
    fonts = set(re.findall(r"url\((fonts/[^)]+\.woff2)\)", css))
    assert fonts
    assert all((STATIC / "vendor" / "katex" / f).is_file() for f in fonts)
    assert "http://" not in client.get("/static/app.js").text.replace("http://www.w3.org", "")
    previews = client.get("/api/datasets").json()
    assert sorted(previews) == sorted(datasets.DATASETS)


def test_the_static_files_are_package_data():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["nnmath.playground"]
    package = STATIC.parent
    for path in STATIC.rglob("*"):
        if path.is_file():
            rel = path.relative_to(package).as_posix()
            assert any(
                fnmatch.fnmatch(rel, p) and rel.count("/") == p.count("/") for p in patterns
            ), rel
    extras = config["project"]["optional-dependencies"]
    assert "playground" in " ".join(extras["test"])


def test_check_settings_keeps_a_valid_link():
    s = check_settings(
        {"dataset": "spiral", "hidden": [8, 8, 8], "features": ["x1", "x2", "sinx1"]}
    )
    assert s["hidden"] == [8, 8, 8]
    assert s["loss"] == "cross_entropy"
    assert json.loads(json.dumps(s)) == s


# ---------------------------------------------------------------------------- the command
def test_the_command_lists_playground_and_its_options(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "playground" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["playground", "--help"])
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--no-browser"):
        assert option in out


def test_the_command_does_not_load_the_web_stack_to_start():
    code = (
        "import sys, nnmath.cli; nnmath.cli.build_parser(); "
        "names = ('starlette', 'uvicorn', 'nnmath.playground'); "
        "print(sorted(m for m in names if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_a_port_in_use_is_one_line_and_status_2(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", "--port", str(port), "--no-browser"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(
        f"nnmath: error: cannot listen on 127.0.0.1:{port}: address already in use"
    )


def test_a_bad_port_is_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["playground", "--port", "70000"])
    assert exc.value.code == 2
    assert "expected a port number 0-65535, got '70000'" in capsys.readouterr().err


def test_without_the_extra_the_command_says_what_to_install():
    code = (
        "import sys; sys.modules['starlette'] = None; from nnmath.cli import main; "
        "sys.exit(main(['playground', '--no-browser']))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert r.returncode == 2
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0] == (
        "nnmath: error: the playground needs its web server (starlette is not installed): "
        'pip install "nnmath[playground]"'
    )


def test_the_command_serves_until_ctrl_c():
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnmath", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        m = re.fullmatch(r"nnmath playground: (http://127\.0\.0\.1:(\d+)/)\n", first)
        assert m, first
        url = m.group(1)
        assert int(m.group(2)) != 0
        page = httpx2.get(url, timeout=30)
        assert page.status_code == 200
        assert "nnmath playground" in page.text
        r = httpx2.post(url + "api/sessions", json={"hidden": [2]}, timeout=30)
        assert r.status_code == 201
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode in (0, 130)
    assert "Traceback" not in err, err
    assert err == "", err
    assert out.splitlines()[-1] == "nnmath playground: stopped"


def test_the_benchmark_quick_run_prints_its_figures():
    script = ROOT / "benchmarks" / "playground.py"
    r = subprocess.run(
        [sys.executable, str(script), "--quick", "--no-browser"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    for expected in ("epochs/s", "frames/s", "3 hidden layers × 8"):
        assert expected in r.stdout, r.stdout


def test_datasets_module_noise_and_split():
    rng = np.random.default_rng(0)
    clean = datasets.generate("circle", 300, 0, rng)
    r = np.hypot(*clean.points.T)
    assert ((r < 2.5) == (clean.target == 1)).all()
    noisy = datasets.generate("circle", 300, 50, np.random.default_rng(0))
    assert np.abs(noisy.points).max() > np.abs(clean.points).max()
    s = Session({"points": 100, "split": 30})
    assert s.n_train == 30
    assert len(s.X_test) == 70


def test_a_target_with_too_many_labels_is_refused():
    rows = "".join(f"{i},{i % 3},label{i % 25}\n" for i in range(50))
    table = datasets.read_csv(f"a,b,name\n{rows}".encode(), "names.csv")
    with pytest.raises(
        ValueError, match=r"has 25 distinct labels; the playground draws at most 20"
    ):
        datasets.csv_data(table, "a", "b", "name")


def test_every_hidden_activation_of_the_library_is_offered_and_trains(client):
    from nnmath.core import registry

    sid = new_session(client, activation="silu", hidden=[3])
    config = client.get(f"/api/sessions/{sid}").json()
    offered = set(config["activation_choices"])
    assert offered == set(registry.hidden_activations()) - {"logistic"}
    assert config["settings"]["activation"] == "silu"
    step = client.post(f"/api/sessions/{sid}/step").json()
    assert any(s["activation"] == "silu" for s in step["summary"])
