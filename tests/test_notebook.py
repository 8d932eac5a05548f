"""The docs' notebook runs from top to bottom in a real kernel, and shows what it says.

It is executed with nbclient in a ``python3`` kernel (ipykernel, this interpreter): any
cell that raises fails the test, and so does any of the notebook's own comparisons of
its hand-worked NumPy against nnmath (each is an ``assert``). Its outputs are then
checked against the article's numbers, worked out here.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("anywidget")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "article.ipynb"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("notebook")
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError for any cell that fails
    return nb


def outputs(nb, mime: str) -> list[str]:
    return [
        out["data"][mime]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if mime in out.get("data", {})
    ]


def test_no_cell_of_the_notebook_fails(executed):
    for cell in executed.cells:
        if cell.cell_type == "code":
            assert all(out["output_type"] != "error" for out in cell.outputs)
            assert not any(
                out.get("name") == "stderr" and "Traceback" in out.get("text", "")
                for out in cell.outputs
            )


def test_the_notebook_shows_the_traces_as_math(executed):
    markdown = outputs(executed, "text/markdown")
    assert len(markdown) == 2  # explain_demo's trace and the XOR network's
    # the article's cost: the mean of (y − σ(w·x + b))² over its four samples, by hand
    X = [(0, 0, 1), (0, 1, 1), (1, 0, 1), (1, 1, 1)]
    y = [0, 0, 1, 1]
    w, b = (0.5, -0.4, 0.2), 0.1
    cost = (
        sum(
            (t - 1 / (1 + math.exp(-(sum(a * c for a, c in zip(w, x, strict=True)) + b)))) ** 2
            for x, t in zip(X, y, strict=True)
        )
        / 4
    )
    assert f"{cost:.6g}" == "0.203199"
    assert "0.203199" in markdown[0]
    assert "$$" in markdown[0]
    assert "\\sigma" in markdown[0]


def test_the_notebook_draws_the_networks(executed):
    svgs = outputs(executed, "image/svg+xml")
    assert len(svgs) == 1
    assert svgs[0].count("<line ") == 3  # the neuron: three weights
    assert len(outputs(executed, "image/png")) == 1  # loss curve, boundary, plot_network
    widgets = outputs(executed, "application/vnd.jupyter.widget-view+json")
    assert len(widgets) == 1  # the playground's widget was built in the kernel
