"""The playground end to end, as a learner uses it: ``nnmath playground`` as a real
process, the page in a real headless Chromium (Debian's ``/usr/bin/chromium``, driven by
Playwright's Python client), Play, the math of a step, a CSV file of one's own, a link
that reopens the settings, a second tab, and Ctrl-C.
"""

from __future__ import annotations

import io
import re
import signal
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
def server(playground_server):
    """The playground as a real process: (url, process)."""
    return playground_server


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


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is: 'rule: elements'."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def playing(page) -> bool:
    return page.evaluate("!!(window.playground.frame && window.playground.frame.playing)")


def wait_until_paused_and_still(page) -> int:
    """Wait for the server's frames to say it is paused; the epoch then stays put."""
    page.wait_for_function("window.playground.frame && !window.playground.frame.playing")
    stopped = epoch(page)
    page.wait_for_timeout(600)
    assert epoch(page) == stopped
    return stopped


def test_a_learner_who_cannot_see_the_page_or_use_a_mouse_trains_a_network(server, tmp_path):
    from playwright.sync_api import sync_playwright

    url, _ = server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.goto(url + "#dataset=xor&hidden=4&features=x1,x2&learning_rate=0.1")
        page.wait_for_function("window.playgroundStats.rendered > 0")

        # axe-core finds nothing serious on the page as it opens
        assert serious_violations(page) == []

        # Every button says in words what it does, to a screen reader (its accessible name,
        # as the browser computes it) and on the screen (its text or its tooltip).
        tree = page.locator("body").aria_snapshot()
        names = re.findall(r'- button "([^"]*)"', tree)
        assert len(names) == len(re.findall(r"- button\b", tree))
        for name in names:
            assert re.search(r"[A-Za-z]{2}", name), (name, tree)
        for button in page.locator("button:visible").all():
            text, title = button.inner_text(), button.get_attribute("title") or ""
            assert re.search(r"[A-Za-z]{2}", text + title), button.evaluate("b => b.outerHTML")
        for name in [
            "Reset", "Play", "Step", "Math", "Copy link", "Add a hidden layer",
            "Remove the last hidden layer", "Add a neuron to hidden layer 1",
            "Remove a neuron from hidden layer 1", "XOR", "Regenerate",
        ]:  # fmt: skip
            assert page.get_by_role("button", name=name, exact=True).count() == 1, name

        def feature_pressed(label: str) -> str | None:
            feature = page.get_by_role("button", name=f"Feature {label}", exact=True)
            return feature.get_attribute("aria-pressed")

        assert feature_pressed("x₁") == "true"
        assert feature_pressed("x₁²") == "false"
        for label in ["Learning rate α", "Activation", "Colours", "Training data 50 %"]:
            assert page.get_by_label(label, exact=True).count() == 1, label

        # Operated by its names: Play trains, and the same button, now Pause, stops.
        page.get_by_role("button", name="Play").click()
        wait_for_epoch(page, 10)
        page.get_by_role("button", name="Pause").click()
        paused_at = wait_until_paused_and_still(page)
        assert paused_at >= 10
        # ... and what the pictures show is in words: the output, the loss curve, and a
        # polite announcement of the epoch, the losses and the accuracy
        accuracy = page.evaluate("window.playground.frame.train_accuracy")
        said = page.text_content("#announce")
        assert page.get_attribute("#announce", "aria-live") == "polite"
        assert f"Epoch {paused_at:,}, paused." in said, said
        assert f"Training loss {page.text_content('#train-loss')}" in said, said
        assert f"test loss {page.text_content('#test-loss')}" in said, said
        assert f"Training accuracy {100 * accuracy:.1f} %" in said, said
        heatmap = page.get_by_role("img", name=re.compile(r"^The network's output over x₁"))
        assert heatmap.count() == 1
        description = heatmap.get_attribute("aria-label")
        assert "0 in orange, 1 in blue" in description, description
        assert f"{100 * accuracy:.1f} %" in description, description
        chart = page.get_by_role("img", name=re.compile(r"^Loss chart from epoch 0 to "))
        assert f"to {paused_at}: training loss from" in chart.get_attribute("aria-label")

        # The announcement is polite: while training it changes at most every 5 s.
        page.evaluate(
            """() => {
                window.announced = [];
                window.rendered0 = window.playgroundStats.rendered;
                new MutationObserver(() => window.announced.push(performance.now())).observe(
                    document.querySelector('#announce'),
                    {childList: true, characterData: true, subtree: true});
            }"""
        )
        page.get_by_role("button", name="Play").click()
        wait_for_epoch(page, paused_at + 20)
        page.wait_for_timeout(6000)
        frames = page.evaluate("window.playgroundStats.rendered - window.rendered0")
        announced = page.evaluate("window.announced")
        assert len(announced) >= 2, announced  # as it started, and once since
        assert min(np.diff(announced)) >= 4900, announced
        assert frames > 10 * len(announced)  # the frames come far oftener
        page.get_by_role("button", name="Pause").click()
        wait_until_paused_and_still(page)

        # The keyboard alone: Tab reaches Play, with a visible focus ring; Space plays and
        # pauses there, and anywhere that Space does nothing else.
        page.evaluate("document.activeElement.blur()")
        reached = []
        for _ in range(80):  # round the page, from wherever the last click was
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.id"))
            if page.evaluate("document.activeElement.id") == "play":
                break
        assert page.evaluate("document.activeElement.id") == "play", reached
        # on the way round: every kind of control, the file upload among them
        for control in ["step", "learning_rate", "math-toggle", "upload", "split", "regenerate",
                        "add-layer", "colours", "show-test", "dl-model"]:  # fmt: skip
            assert control in reached, (control, reached)
        ring = page.evaluate(
            """() => {
                const el = document.activeElement, style = getComputedStyle(el);
                return [el.matches(':focus-visible'), style.outlineStyle, style.outlineWidth];
            }"""
        )
        assert ring == [True, "solid", "3px"]
        start = epoch(page)
        page.keyboard.press("Space")
        wait_for_epoch(page, start + 20)
        page.keyboard.press("Space")
        start = wait_until_paused_and_still(page)
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("Space")
        wait_for_epoch(page, start + 20)
        page.keyboard.press("Space")
        start = wait_until_paused_and_still(page)
        # ... but not in a field, where Space is the field's
        page.focus("#split")
        page.keyboard.press("Space")
        page.wait_for_timeout(600)
        assert epoch(page) == start
        assert not playing(page)

        # Step by Tab and Enter: one epoch, and the math panel opens; axe-core finds
        # nothing serious in it; Escape closes it.
        page.focus("#play")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "step"
        page.keyboard.press("Enter")
        page.wait_for_selector("#math-body .eq")
        wait_for_epoch(page, start + 1)
        assert page.get_attribute("#math-toggle", "aria-expanded") == "true"
        assert page.locator("#math-body math").count() >= 3  # MathML for a screen reader
        page.focus("#math-body .eq >> nth=0")  # an equation by keyboard lights its neurons
        assert page.locator("#columns .column >> nth=1").locator(".node.hl").count() == 4
        assert serious_violations(page) == []
        page.keyboard.press("Escape")
        assert page.get_attribute("#math-toggle", "aria-expanded") == "false"
        assert page.evaluate("document.activeElement.id") == "math-toggle"

        # A feature goes in by keyboard
        page.get_by_role("button", name="Feature x₁²", exact=True).focus()
        page.keyboard.press("Enter")
        page.wait_for_function("window.playground.config.layer_sizes[0] === 3")
        assert feature_pressed("x₁²") == "true"

        # The other colour map: the picture changes to it, and the link keeps it.
        before = page.locator("#heatmap").screenshot()
        page.get_by_label("Colours").select_option("purple-orange")
        page.wait_for_function("location.hash.includes('colours=purple-orange')")
        page.wait_for_timeout(300)
        after = page.locator("#heatmap").screenshot()
        assert different_pixels(before, after) > 0.5
        ends = page.evaluate("window.playgroundPalettes['purple-orange']")
        from PIL import Image

        pixels = np.asarray(Image.open(io.BytesIO(after)).convert("RGB"), dtype=int).reshape(-1, 3)
        for end in (ends["neg"], ends["pos"]):  # each end of the map is on the picture
            nearest = np.abs(pixels - np.array(end)).sum(axis=1).min()
            assert nearest < 30, (end, nearest)
        assert "0 in orange, 1 in purple" in page.get_attribute("#heatmap", "aria-label")

        # After an upload, still nothing serious.
        lines = ["height,weight,kind"]
        rng = np.random.default_rng(1)
        for i in range(60):
            c = i % 3
            h, w = np.array([[0, 3], [3, -2], [-3, -2]])[c] + rng.normal(0, 0.7, 2)
            lines.append(f"{h:.3f},{w:.3f},{('cat', 'dog', 'owl')[c]}")
        csv = tmp_path / "pets.csv"
        csv.write_text("\n".join(lines) + "\n")
        page.set_input_files("#upload", str(csv))
        page.wait_for_function("window.playground.config.settings.dataset === 'csv'")
        page.wait_for_function(
            "document.querySelector('#heatmap').getAttribute('aria-label')"
            ".includes('cat in orange, dog in purple, owl in pink')"
        )
        assert page.text_content("#announce").startswith("Epoch 0, paused. ")
        assert serious_violations(page) == []
        assert errors == []
        browser.close()


def test_data_from_a_function_and_a_file_with_empty_cells(server, tmp_path):
    from urllib.parse import quote, unquote

    from playwright.sync_api import sync_playwright

    url, _ = server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        settings = "window.playground.config.settings"

        # A link with a typed formula opens on it, and keeps it.
        page.goto(url + "#dataset=curve&formula=" + quote("x**3/20 - x"))
        page.wait_for_function("window.playgroundStats.rendered > 0")
        assert page.evaluate(f"{settings}.formula") == "x**3/20 - x"
        assert page.get_by_label("f(x) =").input_value() == "x**3/20 - x"
        assert page.get_by_label("Pick").input_value() == "cubic"
        assert "formula=x**3/20 - x" in unquote(page.evaluate("location.hash"))
        assert page.get_by_role("button", name="f curve").get_attribute("aria-pressed") == "true"
        # the curve is drawn on the output, as a dark dashed line
        from PIL import Image

        shot = Image.open(io.BytesIO(page.locator("#heatmap").screenshot())).convert("RGB")
        dark = (np.asarray(shot, dtype=int) < 70).all(axis=2).sum()
        assert dark > 200, dark
        assert "f = x**3/20 - x, drawn as a dashed line" in page.get_attribute(
            "#heatmap", "aria-label"
        )

        # A preset by its label; a formula typed and sent with Enter; both in the link.
        page.get_by_label("Pick").select_option("sine")
        page.wait_for_function(f"{settings}.formula === '3*sin(x)'")
        assert "formula=3*sin(x)" in unquote(page.evaluate("location.hash"))
        page.get_by_role("button", name="Play").click()
        wait_for_epoch(page, 150)
        page.get_by_role("button", name="Pause").click()
        wait_until_paused_and_still(page)
        page.screenshot(path=str(tmp_path / "sine.png"))
        assert serious_violations(page) == []

        page.get_by_label("f(x) =").fill("abs(x) - 3")
        page.get_by_label("f(x) =").press("Enter")
        page.wait_for_function(f"{settings}.formula === 'abs(x) - 3'")
        assert page.get_by_label("Pick").input_value() == "abs"
        # a hostile formula is refused with its reason, and the field says it is wrong
        page.get_by_label("f(x) =").fill("os.system('ls')")
        page.get_by_label("f(x) =").press("Enter")
        page.wait_for_selector("#banner:not([hidden])")
        assert "formula: attribute access (.system) is not allowed" in page.inner_text("#banner")
        assert page.get_attribute("#formula", "aria-invalid") == "true"
        assert page.evaluate(f"{settings}.formula") == "abs(x) - 3"
        # the surface of the same formula, for regression
        page.get_by_role("button", name="f surface").click()
        page.wait_for_function("window.playground.config.kind === 'regression'")
        link = page.url

        # The link round trip: a new tab with the link has the same data set and formula.
        again = browser.new_page(viewport={"width": 1280, "height": 800})
        again.goto(link)
        again.wait_for_function("window.playgroundStats.rendered > 0")
        assert again.evaluate(f"{settings}.dataset") == "surface"
        assert again.evaluate(f"{settings}.formula") == "abs(x) - 3"
        assert again.get_by_label("f(x) =").input_value() == "abs(x) - 3"
        again.close()

        # An upload with empty cells: the column is offered, the rows left out are counted
        # on the page and said once by the live region.
        csv = tmp_path / "gaps.csv"
        csv.write_text(
            "a,b,c,label\n1,2,0.5,yes\n,1.5,0.1,no\n3,0.5,0.7,yes\n4,2.5,0.2,no\n"
            ",3,0.9,yes\n6,1,0.4,no\n7,0,0.3,\n8,2,0.6,yes\n,1,0.8,no\n10,3.5,0.1,yes\n"
        )
        page.set_input_files("#upload", str(csv))
        page.wait_for_function(f"{settings}.dataset === 'csv'")
        options = page.locator("#x1_column option").all_inner_texts()
        assert options == ["a (3 empty)", "b", "c"]
        assert page.get_by_label("x₁", exact=True).input_value() == "a"
        said = (
            "4 rows with empty cells in the chosen columns (a: 3, label: 1): 4 rows left out. "
            "6 of 10 rows are used."
        )
        page.wait_for_function(
            "document.querySelector('#announce').textContent.startsWith('4 rows with empty')"
        )
        assert page.text_content("#csv-missing") == said
        assert page.text_content("#announce").startswith(said + " Epoch 0, paused.")
        assert serious_violations(page) == []
        page.get_by_role("button", name="Step").click()
        wait_for_epoch(page, 1)
        page.wait_for_function(
            "document.querySelector('#announce').textContent.includes('Epoch 1,')"
        )
        assert "empty cells" not in page.text_content("#announce")  # said once
        page.keyboard.press("Escape")  # Step opened the math, over the data's column

        page.get_by_label("empty cells").select_option("fill")
        page.wait_for_function(f"{settings}.missing === 'fill'")
        assert page.text_content("#csv-missing") == (
            "4 rows with empty cells in the chosen columns (a: 3, label: 1): 1 row left out; "
            "3 rows filled with the median (a = 5) (a class label is not made up). "
            "9 of 10 rows are used."
        )
        assert "missing=fill" in page.evaluate("location.hash")
        assert errors == []
        browser.close()
