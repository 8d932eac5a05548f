"""The playground end to end, as a learner uses it: ``nnmath playground`` as a real
process, the page in a real headless Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright's Python client), Play, the math of a step, a CSV file of one's own, a link
that reopens the settings, a second tab, and Ctrl-C.
"""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import numpy as np
import pytest

import nnmath

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000  # generous: the test machine may be busy

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"Debian's chromium is not installed at {CHROMIUM} "
    "(apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture
def server():
    """``nnmath playground --port 0 --no-browser`` as a real process: (url, process)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnmath", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        m = re.fullmatch(r"nnmath playground: (http://127\.0\.0\.1:\d+/)\n", first)
        assert m, (first, proc.stderr.read() if proc.poll() is not None else "")
        yield m.group(1), proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def epoch(page) -> int:
    return int(page.text_content("#epoch").replace(",", ""))


def loss(page, which: str = "train") -> float:
    return float(page.text_content(f"#{which}-loss"))


def wait_for_epoch(page, at_least: int) -> None:
    page.wait_for_function(
        f"parseInt(document.querySelector('#epoch').textContent.replace(/,/g, '')) >= {at_least}",
        timeout=TIMEOUT_MS,
    )


def pause(page) -> None:
    page.click("#play")
    page.wait_for_function(
        "window.playground.frame && !window.playground.frame.playing", timeout=TIMEOUT_MS
    )


def different_pixels(a: bytes, b: bytes) -> float:
    """The share of pixels that differ between two PNG screenshots."""
    from PIL import Image

    x = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"), dtype=int)
    y = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"), dtype=int)
    assert x.shape == y.shape
    return float((np.abs(x - y).sum(axis=2) > 30).mean())


def test_a_learner_trains_looks_at_the_math_uploads_data_and_stops(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, proc = server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, accept_downloads=True)
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on(
            "console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None
        )
        page.goto(url + "#dataset=xor&hidden=4&features=x1,x2&learning_rate=0.1")
        page.wait_for_function("window.playgroundStats.rendered > 0")

        # The main controls fit a 1280 × 800 screen without scrolling.
        for selector in [
            "#play", "#step", "#reset", "#epoch", "#learning_rate", "#activation", "#loss",
            "#l2", "#batch_size", "#optimizer", "#math-toggle", "#share", "#datasets",
            ".upload-btn", "#split", "#noise", "#points", "#regenerate", "#add-layer",
            "#remove-layer", "#columns .feature >> nth=6", "#heatmap", "#chart",
            "#train-loss", "#test-loss", "#show-test", "#dl-model", "#dl-onnx",
        ]:  # fmt: skip
            box = page.locator(selector).bounding_box()
            assert box is not None, selector
            assert box["x"] >= 0, (selector, box)
            assert box["x"] + box["width"] <= 1280, (selector, box)
            assert box["y"] >= 0, (selector, box)
            assert box["y"] + box["height"] <= 800, (selector, box)
        assert page.evaluate("document.documentElement.scrollHeight") <= 800

        # The link's settings are in force.
        assert page.input_value("#learning_rate") == "0.1"
        assert page.locator("#columns .column").count() == 3  # features, 4 neurons, output
        assert page.locator("#columns .column >> nth=1").locator(".node").count() == 4

        # Play, wait, pause: the epochs and the loss moved, and so did the picture.
        assert epoch(page) == 0
        loss0 = loss(page)
        before = page.locator("#heatmap").screenshot()
        page.click("#play")
        wait_for_epoch(page, 40)
        pause(page)
        trained = epoch(page)
        assert trained >= 40
        assert loss(page) < loss0
        after = page.locator("#heatmap").screenshot()
        assert different_pixels(before, after) > 0.05
        assert len(page.evaluate("window.playground.chart")) >= 2

        # Step: one epoch, and the math of one sample's training step.
        page.click("#step")
        page.wait_for_selector("#math-body .eq")
        wait_for_epoch(page, trained + 1)
        assert epoch(page) == trained + 1
        body = page.inner_text("#math-body")
        for heading in ("Forward propagation", "Loss and cost", "Backpropagation", "Gradient"):
            assert heading.lower() in body.lower(), heading
        names = page.locator("#math-body .eq-name").all_inner_texts()
        assert names[0] == "1. weighted sum, layer 1"
        assert any("chain rule" in n for n in names)
        assert any(n.endswith("update W₂, layer 2") for n in names)
        assert page.locator("#math-body .katex").count() >= 3 * len(names)
        assert page.locator("#math-body .katex-error").count() == 0
        caption = page.inner_text("#math-caption")
        assert f"start of epoch {trained + 1}" in caption
        assert "Training sample" in caption
        # its lines point at the network: z₁ = x·W₁ + b₁ is about the inputs, W₁ and layer 1
        page.hover("#math-body .eq >> nth=0")
        assert page.locator("#net.dim").count() == 1
        assert page.locator("#columns .column >> nth=0").locator(".node.hl").count() == 2
        assert page.locator("#columns .column >> nth=1").locator(".node.hl").count() == 4
        assert page.locator("#links path.link.hl").count() == 2 * 4
        # hovering a connection shows its weight
        middle = page.evaluate(
            """() => {
                const path = document.querySelector('#links path.hit'), net = document
                    .querySelector('#net').getBoundingClientRect();
                const p = path.getPointAtLength(path.getTotalLength() / 2);
                return [net.left + p.x, net.top + p.y];
            }"""
        )
        page.mouse.move(*middle)
        assert re.match(r"W₁\[1, 1\] = -?\d+\.\d{4}", page.text_content("#tooltip"))

        # Clicking a training point explains that sample.
        page.click("#math-close")
        target = page.evaluate(
            """() => {
                const c = window.playground.config, r = document.querySelector('#heatmap')
                    .getBoundingClientRect(), [x0, x1, y0, y1] = c.extent, p = c.train.points[5];
                return [(p[0] - x0) / (x1 - x0) * r.width, (y1 - p[1]) / (y1 - y0) * r.height];
            }"""
        )
        page.locator("#heatmap").click(position={"x": target[0], "y": target[1]})
        page.wait_for_function("window.playground.math && window.playground.math.sample === 5")
        assert "Training sample 6 of" in page.inner_text("#math-caption")
        assert page.evaluate("window.playground.math.steps[0].equation").startswith("z_{1}")
        page.click("#math-close")  # the data column comes back

        # The link encodes every setting and reopens the same configuration.
        page.select_option("#activation", "relu")
        page.wait_for_function("location.hash.includes('activation=relu')")
        link = page.evaluate("location.href")
        for part in ("dataset=xor", "hidden=4", "learning_rate=0.1", "features=x1%2Cx2"):
            assert part in link, (part, link)
        other = browser.new_page(viewport={"width": 1280, "height": 800})
        other.goto(link)
        other.wait_for_function("window.playgroundStats.rendered > 0")
        assert other.input_value("#activation") == "relu"
        assert other.input_value("#learning_rate") == "0.1"
        # ... in a session of its own: the first tab's training does not move it
        first_id, second_id = (
            page.evaluate("window.playground.id"),
            other.evaluate("window.playground.id"),
        )
        assert first_id != second_id
        page.click("#play")
        wait_for_epoch(page, 5)
        pause(page)
        assert epoch(other) == 0
        other.close()
        deadline = time.monotonic() + 15  # a closed tab's session is freed
        while time.monotonic() < deadline:
            if httpx2.get(f"{url}api/sessions/{second_id}", timeout=10).status_code == 404:
                break
            time.sleep(0.1)
        assert httpx2.get(f"{url}api/sessions/{second_id}", timeout=10).status_code == 404

        # Downloads: a nnmath model file of the trained network.
        with page.expect_download() as download:
            page.click("#dl-model")
        path = tmp_path / "model.safetensors"
        download.value.save_as(path)
        assert nnmath.load(path).layer_sizes == [2, 4, 1]

        # One's own data: a CSV file with three classes in words.
        rng = np.random.default_rng(0)
        lines = ["height,weight,kind"]
        for i in range(90):
            c = i % 3
            h, w = np.array([[0, 3], [3, -2], [-3, -2]])[c] + rng.normal(0, 0.7, 2)
            lines.append(f"{h:.3f},{w:.3f},{('cat', 'dog', 'owl')[c]}")
        csv = tmp_path / "pets.csv"
        csv.write_text("\n".join(lines) + "\n")
        page.set_input_files("#upload", str(csv))
        page.wait_for_function(
            "window.playground.config.settings.dataset === 'csv' && "
            "document.querySelector('#epoch').textContent === '0'"
        )
        assert page.is_visible("#csv-columns")
        assert page.input_value("#x1_column") == "height"
        assert page.input_value("#target_column") == "kind"
        assert page.inner_text("#legend").split() == ["cat", "dog", "owl"]
        assert page.locator("#columns .output-node").count() == 3
        assert epoch(page) == 0
        csv_loss = loss(page)
        page.click("#play")
        wait_for_epoch(page, 20)
        pause(page)
        assert loss(page) < csv_loss
        assert errors == []
        # a file that is not a CSV is refused with a message on the page
        bad = tmp_path / "notes.csv"
        bad.write_text("just one column\nhello\n")
        page.set_input_files("#upload", str(bad))
        page.wait_for_selector("#banner:not([hidden])")
        assert "notes.csv is not a CSV file with columns" in page.inner_text("#banner")

        # (the browser logs the refused request, status 400; nothing else went wrong)
        assert [e for e in errors if "status of 400" not in e] == []

        # Ctrl-C stops the server cleanly, even while the page is training.
        page.click("#banner-close")
        page.click("#play")
        page.wait_for_function("window.playground.frame.playing")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        page.wait_for_selector("#banner:not([hidden])")
        assert "Lost the connection" in page.inner_text("#banner")
        browser.close()
    assert proc.returncode in (0, 130), err
    assert "Traceback" not in err, err
    assert out.splitlines()[-1] == "nnmath playground: stopped"
