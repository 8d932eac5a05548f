"""L1 beside L2 in the playground, in a real headless Chromium: the L1 control found by its
spoken name and changed from the keyboard while the network trains (no reset), and the
weights' histogram and its text showing L1 pile the weights up at zero where the same
amount of L2 only shrinks them. Screenshots of both are written to the test's tmp_path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Debian's chromium is not installed at {CHROMIUM} "
        "(apt-get install chromium; .ci/run installs it)",
    ),
]

LINK = "#dataset=xor&hidden=8,8&features=x1,x2&learning_rate=0.1"
NEAR = re.compile(r"^Weights \((\d+), from −\S+ to \S+\): ([\d.]+) % within 0\.01 of zero")


@pytest.fixture
def server(playground_server):
    """The playground's address, served by a real process."""
    return playground_server[0]


def _epoch(page) -> int:
    return int(page.text_content("#epoch").replace(",", ""))


def _train_until(page, epochs: int) -> None:
    page.wait_for_function(
        f"window.playground.frame && window.playground.frame.epoch >= {epochs}",
        timeout=TIMEOUT_MS,
    )


def _pause(page) -> None:
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function("window.playground.frame && !window.playground.frame.playing")


def _regularized_run(page, url: str, name: str, value: str, shot: Path) -> float:
    """Train, change the penalty named ``name`` while playing, train on; return the share
    of weights within 0.01 of zero that the page says."""
    page.goto(url + LINK)
    page.wait_for_function("window.playgroundStats.rendered > 0")
    control = page.get_by_role("combobox", name=name)
    page.get_by_role("button", name="Play").click()
    _train_until(page, 100)
    before = _epoch(page)
    # from the keyboard: focus the control, move to the value, as a keyboard user would
    control.focus()
    while page.input_value(f"#{control.get_attribute('id')}") != value:
        page.keyboard.press("ArrowDown")
    page.wait_for_function(
        f"window.playground.config.settings.{control.get_attribute('id')} === {value}"
    )
    assert _epoch(page) >= before  # not reset: the epochs go on
    _train_until(page, before + 1500)
    _pause(page)
    assert _epoch(page) > before + 1000
    page.wait_for_timeout(300)  # the last frame drawn
    text = page.text_content("#weights-text")
    m = NEAR.match(text)
    assert m, text
    assert int(m.group(1)) == 2 * 8 + 8 * 8 + 8  # every weight of 2 → 8 → 8 → 1
    page.screenshot(path=str(shot))
    return float(m.group(2))


def test_l1_against_l2_on_the_same_network(server, tmp_path):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        # the controls have visible labels, which are their spoken names
        page.goto(server + LINK)
        page.wait_for_function("window.playgroundStats.rendered > 0")
        for name, id_ in [("L1 strength λ₁", "l1"), ("L2 strength λ", "l2")]:
            assert page.get_by_role("combobox", name=name).get_attribute("id") == id_
        hist = page.get_by_role("img", name="Histogram of the weights")
        assert hist.get_attribute("aria-describedby") == "weights-text"
        box = hist.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] <= 800
        l1 = _regularized_run(page, server, "L1 strength λ₁", "0.3", tmp_path / "l1.png")
        l2 = _regularized_run(page, server, "L2 strength λ", "0.3", tmp_path / "l2.png")
        browser.close()
    assert not errors, errors
    # L1's subgradient has the same size for every weight and pulls small ones to 0;
    # L2's pull shrinks with the weight
    assert l1 > l2 + 20, (l1, l2)
