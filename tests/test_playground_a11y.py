"""The playground for every learner, without a browser: its colour maps as colour-blind
eyes see them (Machado, Oliveira and Fernandes' simulation of dichromacy, 2009), and the
accuracy that the page announces in words.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

import nnmath.playground

pytest.importorskip("starlette")
from nnmath.playground.session import Session  # noqa: E402

APP_JS = Path(nnmath.playground.__file__).parent / "static" / "app.js"

# Machado et al. (2009), Table 1 at severity 1.0: linear RGB as a dichromat sees it.
DICHROMACY = {
    "protanopia": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopia": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopia": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
}


def _lab(rgb, seen_as=None) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour in 0..255, as a dichromat sees it when seen_as names one."""
    c = np.asarray(rgb, dtype=float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    if seen_as is not None:
        linear = np.clip(np.array(DICHROMACY[seen_as]) @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    t = xyz @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _delta_e(a, b, seen_as=None) -> float:
    """CIE76 colour difference: about 2 is just noticeable, over 10 two different colours."""
    return float(np.linalg.norm(_lab(a, seen_as) - _lab(b, seen_as)))


def _palettes() -> dict[str, list[list[int]]]:
    """The page's colour maps, read from app.js: each map's two ends, then the classes after."""
    source = APP_JS.read_text(encoding="utf-8")
    triple = r"\[(\d+), (\d+), (\d+)\]"
    ends = re.finditer(rf'"([a-z-]+)": \{{ neg: {triple}, pos: {triple}', source)
    maps = {
        m.group(1): [[int(v) for v in m.groups()[1:4]], [int(v) for v in m.groups()[4:]]]
        for m in ends
    }
    more = re.search(r"const MORE_CLASSES = \[(.*?)\];", source, re.S).group(1)
    classes = [[int(v) for v in t] for t in re.findall(triple, more)]
    return {name: ends + classes for name, ends in maps.items()}


def test_the_dichromacy_simulation_is_machados():
    # Red and green, which deuteranopes confuse, come out close together for them; blue
    # and yellow stay far apart.
    red, green, blue, yellow = [255, 0, 0], [0, 160, 0], [0, 0, 255], [255, 255, 0]
    assert _delta_e(red, green) > 100
    assert _delta_e(red, green, "deuteranopia") < 15
    assert _delta_e(blue, yellow, "deuteranopia") > 100
    # matplotlib's default cycle: its blue and purple, its orange and green are clearly
    # apart for most eyes, not for a protanope's
    tab_blue, tab_purple, tab_orange, tab_green = [31, 119, 180], [148, 103, 189], [
        255, 127, 14], [44, 160, 44]  # fmt: skip
    assert _delta_e(tab_blue, tab_purple) > 30
    assert _delta_e(tab_blue, tab_purple, "protanopia") < 10
    assert _delta_e(tab_orange, tab_green) > 90
    assert _delta_e(tab_orange, tab_green, "protanopia") < 10


def test_both_colour_maps_stay_apart_for_colour_blind_eyes():
    palettes = _palettes()
    assert set(palettes) == {"blue-orange", "purple-orange"}
    for name, colours in palettes.items():
        assert len(colours) == 10, name
        for seen_as in [None, *DICHROMACY]:
            # the two ends of the diverging map: −1 against +1, class 0 against class 1
            assert _delta_e(colours[0], colours[1], seen_as) > 55, (name, seen_as)
            # the built-in data's three classes, and a fourth from an upload
            for a, b in itertools.combinations(colours[:4], 2):
                assert _delta_e(a, b, seen_as) > 20, (name, seen_as, a, b)


def test_a_frame_says_the_share_of_samples_classified_right():
    # All weights 0 and a bias of +5: the sigmoid says class 1 for every sample, so the
    # accuracy is the share of class 1 among the training and the test samples.
    s = Session({"dataset": "xor", "hidden": [], "points": 200, "split": 70})
    s.net.W[0][...] = 0.0
    s.net.b[0][...] = 5.0
    frame = s.frame()
    target = s.data.target
    assert frame["train_accuracy"] == pytest.approx(np.mean(target[:140] == 1))
    assert frame["test_accuracy"] == pytest.approx(np.mean(target[140:] == 1))
    # three classes: the largest output wins
    s = Session({"dataset": "three", "hidden": [], "points": 300, "split": 50})
    s.net.W[0][...] = 0.0
    s.net.b[0][...] = [0.0, 0.0, 3.0]
    frame = s.frame()
    assert frame["train_accuracy"] == pytest.approx(np.mean(s.data.target[:150] == 2))
    assert frame["test_accuracy"] == pytest.approx(np.mean(s.data.target[150:] == 2))
    # training on XOR's own features gets most of it right
    s = Session({"dataset": "xor", "hidden": [4], "learning_rate": 0.1, "points": 200})
    s.train(150)
    assert s.frame()["train_accuracy"] > 0.9


def test_a_regression_has_no_accuracy():
    frame = Session({"dataset": "plane", "hidden": [2]}).frame()
    assert frame["train_accuracy"] is None
    assert frame["test_accuracy"] is None
