"""The documentation site: its API reference lists every public name, and its pages'
Python examples are blocks that the build runs.

The site itself is built by ``make docs`` (part of ``make test``), which runs every
example of its pages and gallery and fails on any warning; these tests keep the
reference complete as modules gain names, and every example under that build.
"""

import importlib
import inspect
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api"

# The modules whose ``__all__`` the reference documents.
PUBLIC_MODULES = [
    "nnmath",
    "nnmath.core.activations",
    "nnmath.core.arrays",
    "nnmath.core.network",
    "nnmath.core.registry",
    "nnmath.core.rosenblatt",
    "nnmath.data.checks",
    "nnmath.data.cluster",
    "nnmath.data.sources",
    "nnmath.tracing",
    "nnmath.core.initializers",
    "nnmath.io",
    "nnmath.core.losses",
    "nnmath.network",
    "nnmath.onnx_export",
    "nnmath.core.optimizers",
    "nnmath.perceptron",
    "nnmath.playground",
    "nnmath.plotting",
    "nnmath.preprocessing",
    "nnmath.training",
]


def _documented() -> set[str]:
    """The full names that the reference's autosummary tables list."""
    names = set()
    for page in API.glob("*.rst"):
        module = None
        in_table = False
        for line in page.read_text(encoding="utf-8").splitlines():
            if m := re.match(r"\.\. currentmodule:: (\S+)", line):
                module = m.group(1)
            elif line.startswith(".. autosummary::"):
                in_table = True
            elif in_table and re.match(r"   [A-Za-z_]\w*$", line):
                names.add(f"{module}.{line.strip()}")
            elif in_table and line and not line.startswith("   "):
                in_table = False
    return names


def _resolve(full_name: str):
    module, _, name = full_name.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_reference_lists_names():
    assert len(_documented()) > 100


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_reference(module_name):
    documented = _documented()
    objects = [_resolve(n) for n in documented]
    module = importlib.import_module(module_name)
    missing = []
    for name in module.__all__:
        if name == "__version__" or f"{module_name}.{name}" in documented:
            continue
        obj = getattr(module, name)
        if inspect.ismodule(obj) and (API / f"{obj.__name__}.rst").exists():
            continue  # a submodule, with a page of its own
        # A class or function re-exported elsewhere is documented once, under one name.
        if (inspect.isclass(obj) or inspect.isroutine(obj)) and any(o is obj for o in objects):
            continue
        missing.append(name)
    assert missing == [], f"{module_name}: add {missing} to docs/api/{module_name}.rst"


def test_the_pages_python_examples_run_while_the_site_builds():
    # A Python example on a page is an ``.. nnmath-run::`` block, which the build runs
    # and whose printed output it shows; a plain code block would be checked by nothing.
    pages = (API.parent).rglob("*.rst")
    plain = [
        str(page.relative_to(API.parent))
        for page in pages
        if not {"_build", "auto_examples", "generated"} & set(page.parts)
        and re.search(
            r"^\.\. (code-block|code|sourcecode):: (python|pycon)", page.read_text(), re.M
        )
    ]
    assert plain == []
