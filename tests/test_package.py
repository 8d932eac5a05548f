"""The package's public names: each loads on first use, and importing nnmath loads
nothing heavy (the command's --help and --version answer without NumPy)."""

import importlib
import subprocess
import sys

import pytest

import nnmath


@pytest.mark.parametrize("name", nnmath.__all__)
def test_every_public_name_imports_from_the_package(name):
    namespace: dict = {}
    exec(f"from nnmath import {name}", namespace)
    assert namespace[name] is getattr(nnmath, name)
    assert name in dir(nnmath)


def test_the_public_names_are_what_they_were():
    from nnmath.estimators import MLPClassifier
    from nnmath.network import gradcheck
    from nnmath.tracing import explain

    assert nnmath.MLPClassifier is MLPClassifier
    assert nnmath.explain is explain
    assert nnmath.gradcheck is gradcheck
    assert nnmath.core.activations is importlib.import_module("nnmath.core.activations")
    assert nnmath.__version__ == nnmath.io.container.nnmath_version()
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        nnmath.nothing  # noqa: B018


def test_importing_every_module_keeps_the_public_functions():
    importlib.import_module("nnmath.tracing.render")
    importlib.import_module("nnmath.network")
    assert callable(nnmath.explain)
    assert callable(nnmath.gradcheck)
    assert not isinstance(nnmath.explain, type(nnmath))


@pytest.mark.slow
def test_import_nnmath_loads_neither_numpy_nor_scikit_learn():
    code = (
        "import sys, nnmath; "
        "print(sorted(m for m in ('numpy', 'sklearn', 'scipy') if m in sys.modules)); "
        "print('nnmath.startup' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split("\n")[:2] == ["[]", "True"], out.stderr
