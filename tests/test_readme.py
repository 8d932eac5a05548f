"""Every Python example in README.md runs as written."""

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _heading(index: int) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(BLOCKS[index])
    headings = re.findall(r"^#+ (.+)$", text[:start], re.M)
    return re.sub(r"\W+", "-", headings[-1]).strip("-").lower() if headings else "top"


def test_readme_has_examples():
    assert len(BLOCKS) >= 15


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
        return
    with warnings.catch_warnings():
        # An example shows what a user sees: one that expects a ConvergenceWarning
        # silences it in its own code, so any other one is a failure here.
        warnings.simplefilter("default")
        warnings.simplefilter("error", ConvergenceWarning)
        exec(compile(BLOCKS[index], f"README.md example {index}", "exec"), {"__name__": "readme"})


COMMAND_SECTION = re.search(
    r"^## The nnmath command\n(.*?)^## ", README.read_text(encoding="utf-8"), re.S | re.M
)[1]
COMMAND_BLOCKS = re.findall(r"```bash\n(.*?)```", COMMAND_SECTION, re.S)


@pytest.mark.slow
def test_the_command_line_walkthrough_runs_as_written(tmp_path):
    # As after `make demo` and `source .venv/bin/activate`: this environment's nnmath and
    # python first on the PATH.
    assert len(COMMAND_BLOCKS) >= 7
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
    assert result.stdout.splitlines()[-1].startswith("True ")  # ONNX gives predict's labels
    for name in ("model.safetensors", "predictions.csv", "tuned.safetensors", "penguins.onnx"):
        assert (tmp_path / name).exists()
