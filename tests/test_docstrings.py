"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib
import pkgutil
import warnings

import matplotlib
import pytest

import nnmath

# Every module of the package, subpackages included; the command's entry points print
# and exit rather than return, and are tested through real processes in test_cli.py.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(nnmath.__path__, "nnmath.")
    if info.name not in ("nnmath.__main__", "nnmath.cli")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples may write files
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # examples keep short runs; not under test here
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
        )
    assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0
