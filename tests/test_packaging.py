"""The package builds into a wheel without a warning, with its license declared."""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

# pip's notices about this machine's package-index configuration (an index folder it
# cannot find), which say nothing about the package being built.
MACHINE_NOTICE = re.compile(r"^WARNING: Location '.*' is ignored")


def test_license_is_an_spdx_expression_with_its_file():
    project = PYPROJECT["project"]
    assert project["license"] == "BSD-3-Clause"
    assert project["license-files"] == ["LICENSE"]
    assert "BSD 3-Clause License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    # PEP 639's license expression and license-files need setuptools 77 or later.
    assert "setuptools>=77" in PYPROJECT["build-system"]["requires"]


@pytest.mark.slow
def test_wheel_builds_without_warnings(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    # Without PYTHONDONTWRITEBYTECODE, which makes setuptools warn that it skips
    # byte-compiling whatever the package says.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    command = [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-w", str(tmp_path), "-v"]
    result = subprocess.run(
        command, cwd=source, env=env, capture_output=True, text=True, timeout=600
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warnings = [
        line
        for line in output.splitlines()
        if re.search(r"\bwarning|\bdeprecat", line, re.I) and not MACHINE_NOTICE.match(line)
    ]
    assert warnings == [], "\n".join(warnings)

    (wheel,) = tmp_path.glob("nnmath-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    assert "License-Expression: BSD-3-Clause" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
