"""The speed benchmark runs (a smoke test at tiny sizes; it never asserts on time)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real processes: seconds each (make test runs them)

SPEED = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"
SCALE = Path(__file__).resolve().parents[1] / "benchmarks" / "scale.py"


def test_speed_benchmark_quick_run_prints_its_table():
    result = subprocess.run(
        [sys.executable, str(SPEED), "--quick", "--skip-torch"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("MLP", "perceptron", "floor", "memory", "PyTorch"):
        assert expected.lower() in out.lower(), f"{expected!r} missing from:\n{out}"


def test_the_device_workload_runs_on_the_cpu():
    # workload 5's code path (nnmath under array-API dispatch against PyTorch's loop),
    # on the CPU device: what --device cuda runs on a GPU.
    pytest.importorskip("torch")
    result = subprocess.run(
        [sys.executable, str(SPEED), "--quick", "--device", "cpu"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "5 MLP on cpu b=1024" in result.stdout
    assert "W5 device batch 1024: nnmath / torch" in result.stdout


def test_the_scale_benchmark_quick_run_prints_its_table():
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    result = subprocess.run(
        [sys.executable, str(SCALE), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for expected in (
        "in memory, 1 BLAS thread",
        "LocalCluster, 2 worker(s)",
        "s / iteration",
        "| 160,000 (8 ×) |",
        "peak RSS at 8 × / at 1 ×:",
    ):
        assert expected in result.stdout, f"{expected!r} missing from:\n{result.stdout}"


def test_the_ab_benchmark_compares_two_trees():
    src = SPEED.parents[1] / "src"
    result = subprocess.run(
        [sys.executable, str(SPEED.parent / "ab.py"), str(src), "--rows", "512", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    rows = [
        line for line in result.stdout.splitlines() if line.startswith("| ") and "s |" not in line
    ]
    assert [row.split("|")[1].strip() for row in rows] == ["32", "128", "512"]


def test_the_ab_benchmark_refuses_a_tree_without_nnmath(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            str(SPEED.parent / "ab.py"),
            str(tmp_path),
            "--rows",
            "512",
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode != 0
    assert "nnmath was imported from" in result.stderr


def test_the_class_weight_benchmark_quick_run_prints_its_table():
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "class_weight.py"
    result = subprocess.run(
        [sys.executable, str(script), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for table in ("cancer 1:10", "digits 9 vs rest", "digits geometric"):
        for class_weight in ("None", "balanced"):
            assert f"| {table} |" in result.stdout
            assert f"| {class_weight} |" in result.stdout
