"""The playground's widget in a real headless Chromium, its comm played by this process.

No Jupyter front end runs here: a page loads the widget's JavaScript module as anywidget
would and gives ``render`` a model whose ``send`` calls the Python widget's message
handler (a Playwright binding) and whose ``msg:custom`` listeners get what the widget
sent (polled). So the page's own app.js talks to the same Python code as in a notebook,
through the same messages; the test operates it by its accessible names.
"""

from __future__ import annotations

import base64
import collections
import threading
from pathlib import Path

import pytest

pytest.importorskip("anywidget")
sync_api = pytest.importorskip("playwright.sync_api")

from nnmath.io import from_bytes  # noqa: E402
from nnmath.playground.widget import widget  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no chromium at {CHROMIUM}"),
]

HARNESS = """
async (source) => {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const module = await import(url);
  const listeners = [];
  const b64 = (buffer) => {
    let s = "";
    for (const byte of new Uint8Array(buffer)) s += String.fromCharCode(byte);
    return btoa(s);
  };
  const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)).buffer;
  const model = {
    send(msg, callbacks, buffers = []) {
      window.pySend(JSON.stringify(msg), (buffers || []).map(b64));
    },
    on(name, f) { if (name === "msg:custom") listeners.push(f); },
    off(name, f) { const i = listeners.indexOf(f); if (i >= 0) listeners.splice(i, 1); },
    get() { return undefined; }, set() {}, save_changes() {},
  };
  setInterval(async () => {
    for (const [msg, buffers] of await window.pyPoll()) {
      for (const f of listeners) f(msg, buffers.map(bytes));
    }
  }, 40);
  window.saved = [];
  const click = HTMLAnchorElement.prototype.click;  // the downloads, caught as they are saved
  HTMLAnchorElement.prototype.click = function () {
    if (this.href.startsWith("blob:")) window.saved.push([this.download, this.href]);
    else click.call(this);
  };
  module.default.render({ model, el: document.getElementById("cell") });
}
"""


@pytest.fixture
def page():
    import json

    w = widget(dataset="xor", hidden=[3], points=200)
    outbox: collections.deque = collections.deque()
    lock = threading.Lock()

    def send(content, buffers=None):
        with lock:
            outbox.append([content, [base64.b64encode(b).decode() for b in buffers or []]])

    w.send = send

    def py_send(_source, text, buffers):
        w._on_msg(w, json.loads(text), [base64.b64decode(b) for b in buffers])

    def py_poll(_source):
        with lock:
            out = list(outbox)
            outbox.clear()
        return out

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.expose_binding("pySend", py_send)
        pg.expose_binding("pyPoll", py_poll)
        pg.set_content(
            "<!doctype html><html><head><title>notebook</title></head>"
            "<body><h1 id='notebook-title'>A notebook</h1><div id='cell'></div></body></html>"
        )
        pg.evaluate(HARNESS, w._esm)
        yield pg, w, errors
        browser.close()
    w.close()


def epoch(pg) -> int:
    return int(pg.text_content("#epoch").replace(",", ""))


def test_the_widget_trains_and_explains_over_its_comm(page):
    pg, w, errors = page
    pg.wait_for_function(
        "document.querySelector('#cell div').shadowRoot.querySelector('#heatmap')",
        timeout=TIMEOUT_MS,
    )
    play = pg.get_by_role("button", name="Play")
    play.wait_for(timeout=TIMEOUT_MS)
    pg.wait_for_function(
        "document.querySelector('#cell div').shadowRoot.querySelector('#epoch').textContent"
        " === '0'",
        timeout=TIMEOUT_MS,
    )
    assert w.session is not None
    assert w.session.settings["dataset"] == "xor"  # the widget's settings reached the page
    play.click()
    deadline_epochs = 5
    pg.wait_for_function(
        "parseInt(document.querySelector('#cell div').shadowRoot.querySelector('#epoch')"
        f".textContent.replace(/,/g, '')) >= {deadline_epochs}",
        timeout=TIMEOUT_MS,
    )
    assert w.session.epoch >= deadline_epochs  # Python trained what the page shows
    pg.get_by_role("button", name="Pause").click()
    pg.get_by_role("button", name="Step").click()
    pg.wait_for_function(
        "document.querySelector('#cell div').shadowRoot.querySelectorAll('#math-body .katex')"
        ".length > 5",
        timeout=TIMEOUT_MS,
    )
    # the page kept to its cell: the notebook's title, address and heading are untouched
    assert pg.title() == "notebook"
    assert pg.evaluate("location.hash") == ""
    assert pg.text_content("#notebook-title") == "A notebook"
    assert pg.evaluate("getComputedStyle(document.body).backgroundColor") == "rgba(0, 0, 0, 0)"
    # the model download comes over the comm as bytes, the trained network
    pg.click("#dl-model")
    pg.wait_for_function("window.saved.length === 1", timeout=TIMEOUT_MS)
    name, url = pg.evaluate("window.saved[0]")
    assert name == "playground.safetensors"
    data = pg.evaluate(
        "async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()))", url
    )
    model = from_bytes(bytes(data))
    assert model.layer_sizes[1:] == [3, 1]
    assert errors == []
