"""Every example in README.md runs as written, and shows what it prints.

A ```text block right after an example is an excerpt of what that example printed:
each of its lines, other than "…", must be a line of the example's output. The
performance table is the documentation's (docs/performance.rst), figure for figure.
"""

import contextlib
import csv
import io
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


def _heading(index: int) -> str:
    start = TEXT.index(BLOCKS[index])
    headings = re.findall(r"^#+ (.+)$", TEXT[:start], re.M)
    return re.sub(r"\W+", "-", headings[-1]).strip("-").lower() if headings else "top"


def _excerpt(text: str, block: str) -> list[str] | None:
    """The lines of the ```text block right after ``block`` in ``text``, if there is one."""
    after = text[text.index(block) + len(block) :]
    shown = re.match(r"```\s*```text\n(.*?)```", after, re.S)
    return shown[1].splitlines() if shown else None


def _assert_shown(excerpt: list[str] | None, output: str) -> None:
    if excerpt is None:
        return
    printed = {line.rstrip() for line in output.splitlines()}
    missing = [line for line in excerpt if line != "…" and line.rstrip() not in printed]
    assert missing == [], f"the README shows lines the example did not print:\n{output}"


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[_heading(i) for i in range(len(BLOCKS))])
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples write model files and images
    if "SCIPY_ARRAY_API" in BLOCKS[index]:
        # An example that sets up SciPy's array API must start a fresh interpreter, as
        # a user's script does: here SciPy is imported already.
        env = {k: v for k, v in os.environ.items() if k != "SCIPY_ARRAY_API"}
        result = subprocess.run(
            [
                sys.executable,
                "-W",
                "error::sklearn.exceptions.ConvergenceWarning",
                "-c",
                BLOCKS[index],
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        _assert_shown(_excerpt(TEXT, BLOCKS[index]), result.stdout)
        return
    stdout = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(stdout):
        # An example shows what a user sees: one that expects a ConvergenceWarning
        # silences it in its own code, so any other one is a failure here.
        warnings.simplefilter("default")
        warnings.simplefilter("error", ConvergenceWarning)
        exec(compile(BLOCKS[index], f"README.md example {index}", "exec"), {"__name__": "readme"})
    _assert_shown(_excerpt(TEXT, BLOCKS[index]), stdout.getvalue())


COMMAND_SECTION = re.search(r"^## The nnmath command\n(.*?)^## ", TEXT, re.S | re.M)[1]
COMMAND_BLOCKS = re.findall(r"```bash\n(.*?)```", COMMAND_SECTION, re.S)


@pytest.mark.slow
def test_the_command_line_walkthrough_runs_as_written(tmp_path):
    # As after `make demo` and `source .venv/bin/activate`: this environment's nnmath and
    # python first on the PATH.
    assert len(COMMAND_BLOCKS) >= 4
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for block in COMMAND_BLOCKS:
        result = subprocess.run(
            ["bash", "-e", "-c", block],  # (a pipe into head may end its writer early)
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=600,
        )
        assert result.returncode == 0, f"{block}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        _assert_shown(_excerpt(COMMAND_SECTION, block), result.stdout + result.stderr)
    assert result.stdout.splitlines()[-1].startswith("True ")  # ONNX gives predict's labels
    for name in ("model.safetensors", "predictions.csv", "penguins.onnx"):
        assert (tmp_path / name).exists()


def _readme_table() -> list[list[str]]:
    table = re.search(
        r"^<!-- performance table: begin.*?-->\n(.*?)^<!-- performance table: end -->",
        TEXT,
        re.S | re.M,
    )
    assert table, "README.md: the performance table's markers are missing"
    rows = [line.strip().strip("|").split("|") for line in table[1].splitlines()]
    return [[cell.strip() for cell in row] for row in rows if not set("".join(row)) <= set("-: ")]


def _docs_table() -> list[list[str]]:
    text = (ROOT / "docs" / "performance.rst").read_text(encoding="utf-8")
    table = re.search(
        r"^\.\. performance table: begin\n(.*?)^\.\. performance table: end", text, re.S | re.M
    )
    assert table, "docs/performance.rst: the performance table's markers are missing"
    header = re.search(r"^   :header: (.+)$", table[1], re.M)[1]
    rows = re.findall(r"^   ([^:\s].*)$", table[1], re.M)  # not the options (":…")
    cells = csv.reader([header, *rows], skipinitialspace=True)
    return [[cell.strip() for cell in row] for row in cells]


def test_the_performance_table_is_the_documentations():
    assert _readme_table() == _docs_table()
