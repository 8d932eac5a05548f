"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib
import warnings

import matplotlib
import pytest

MODULES = [
    "activations",
    "losses",
    "initializers",
    "network",
    "gradcheck",
    "optimizers",
    "kernels",
    "training",
    "perceptron",
    "estimators",
    "preprocessing",
    "explain",
    "io",
    "onnx_export",
    "plotting",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)  # examples may write files
    module = importlib.import_module(f"nnmath.{name}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # examples keep short runs; not under test here
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
        )
    assert result.attempted > 0, f"nnmath.{name} has no docstring example"
    assert result.failed == 0
