"""Speed of the playground: frames per second and epochs per second while it plays.

The workload the playground is built for: a network of 3 hidden layers × 8 neurons (tanh)
on 500 training points (1,000 points of the circle data set, half of them for training,
so that every frame also computes the cost on 500 test points), batch size 10, SGD. A
frame is what the page draws: the training and test cost, the output and every neuron
over the 50 × 50 grid (one recorded forward pass, 2,500 points), the weights, as JSON.

Server side, in this process (no browser, no network):

1. training alone: epochs per second of ``Session.train``;
2. one frame: milliseconds for ``Session.frame`` and its JSON;
3. playing: what the server's socket task does — train for ``TRAIN_SLICE`` seconds,
   then build and encode a frame — over and over: frames and epochs per second.

Browser side (when Debian's ``/usr/bin/chromium`` and Playwright are installed):
``nnmath playground`` as a real process, the page in headless Chromium at 1280 × 800,
Play pressed; the frames the page drew per second and the epochs per second, from the
page's own counters. This is what a learner sees.

Each is measured with the inputs x₁, x₂ and with all seven features. Targets: at least
10 frames and 100 epochs per second.

Usage::

    python benchmarks/playground.py               # 5 s per measure
    python benchmarks/playground.py --seconds 10
    python benchmarks/playground.py --quick       # a smoke test of the script
    python benchmarks/playground.py --no-browser  # server side only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from nnmath.playground import Session
from nnmath.playground.server import TRAIN_SLICE

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
FEATURE_SETS = {
    "x₁, x₂": ["x1", "x2"],
    "all 7 features": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"],
}


def settings(features: list[str], points: int) -> dict:
    return {
        "dataset": "circle",
        "points": points,
        "split": 50,
        "hidden": [8, 8, 8],
        "activation": "tanh",
        "features": features,
        "learning_rate": 0.03,
        "batch_size": 10,
        "optimizer": "sgd",
    }


def server_side(features: list[str], points: int, seconds: float) -> dict:
    s = Session(settings(features, points))
    s.train(5)  # warm the work arrays
    epochs, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        s.train(10)
        epochs += 10
    train_eps = epochs / (time.perf_counter() - t0)

    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min(seconds, 2.0):
        payload = json.dumps(s.frame())
        n += 1
    frame_ms = (time.perf_counter() - t0) / n * 1e3

    s.reset()
    s.playing = True
    frames, e0, t0 = 0, s.epoch, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        s.train_for(TRAIN_SLICE)
        payload = json.dumps(s.frame())
        frames += 1
    dt = time.perf_counter() - t0
    return {
        "train_eps": train_eps,
        "frame_ms": frame_ms,
        "frame_kb": len(payload) / 1e3,
        "fps": frames / dt,
        "eps": (s.epoch - e0) / dt,
    }


def browser_side(features: list[str], points: int, seconds: float) -> dict | None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnmath", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        url = re.fullmatch(r"nnmath playground: (\S+)\n", first).group(1)
        query = {
            k: ",".join(map(str, v)) if isinstance(v, list) else v
            for k, v in settings(features, points).items()
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{url}#{urlencode(query)}")
            page.wait_for_function("window.playgroundStats && window.playgroundStats.rendered > 0")
            page.click("#play")
            page.wait_for_timeout(1500)  # the first frames of a run
            read = "[window.playgroundStats.rendered, document.querySelector('#epoch').textContent]"
            r0, e0 = page.evaluate(read)
            t0 = time.perf_counter()
            page.wait_for_timeout(seconds * 1000)
            r1, e1 = page.evaluate(read)
            dt = time.perf_counter() - t0
            browser.close()
        epochs = int(e1.replace(",", "")) - int(e0.replace(",", ""))
        return {"fps": (r1 - r0) / dt, "eps": epochs / dt}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measure (default 5)")
    parser.add_argument("--quick", action="store_true", help="0.3 s per measure, 100 points")
    parser.add_argument("--no-browser", action="store_true", help="server side only")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else args.seconds
    points = 100 if args.quick else 1000
    print(
        f"nnmath playground speed: 3 hidden layers × 8 neurons (tanh), {points // 2} training "
        f"and {points // 2} test points, batch size 10, SGD, {seconds:g} s per measure"
    )
    cpu = platform.processor() or platform.machine()
    print(f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print()
    print("| inputs | training alone | one frame | playing (server) | playing (browser) |")
    print("|---|---:|---:|---:|---:|")
    for name, features in FEATURE_SETS.items():
        s = server_side(features, points, seconds)
        b = None if args.no_browser else browser_side(features, points, max(seconds, 1.0))
        browser = "–" if b is None else f"{b['fps']:.1f} frames/s, {b['eps']:.0f} epochs/s"
        print(
            f"| {name} | {s['train_eps']:.0f} epochs/s | {s['frame_ms']:.1f} ms "
            f"({s['frame_kb']:.0f} kB) | {s['fps']:.1f} frames/s, {s['eps']:.0f} epochs/s "
            f"| {browser} |",
            flush=True,
        )
    print()
    print("Targets: 10 frames/s or more, 100 epochs/s or more, while playing.")
    if not args.no_browser and not Path(CHROMIUM).exists():
        print(f"(no browser measure: {CHROMIUM} is not installed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
