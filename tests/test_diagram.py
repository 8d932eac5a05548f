"""The network's drawing (SVG in Jupyter, plot_network in matplotlib) and a trace's markdown.

The drawing is checked against the weights themselves: one line per weight between shown
units, its colour the weight's sign, its width 0.5 + 5.5·|w|/max|w| worked out here from
the matrices; the SVG and matplotlib versions against each other and against that.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from nnmath import MLPClassifier, MLPRegressor, Network, explain
from nnmath.diagram import layout, to_svg
from nnmath.tracing import explain_demo

SVG = "{http://www.w3.org/2000/svg}"
BLUE, ORANGE = "#0877bd", "#f59322"
# a few epochs suffice to have weights to draw
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def lines_of(svg: str) -> list[ET.Element]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    return root.findall(f"{SVG}line")


def expected_widths(weights: list[np.ndarray], cap: int = 16) -> list[float]:
    """Row by row, matrix by matrix: the widths of the drawn weights, by hand."""
    sizes = [weights[0].shape[0]] + [W.shape[1] for W in weights]
    shown = [min(n, cap) for n in sizes]
    drawn = [W[: shown[k], : shown[k + 1]] for k, W in enumerate(weights)]
    top = max(np.abs(W).max() for W in drawn)
    return [0.5 + 5.5 * abs(w) / top for W in drawn for w in W.ravel()]


def test_network_svg_has_a_line_per_weight_with_its_sign_and_size():
    net = Network([3, 4, 2], random_state=0)
    weights = [np.asarray(W).copy() for W in net.W]
    lines = lines_of(net._repr_svg_())
    assert len(lines) == 3 * 4 + 4 * 2
    flat = [w for W in weights for w in W.ravel()]
    widths = [float(line.get("stroke-width")) for line in lines]
    np.testing.assert_allclose(widths, expected_widths(weights), atol=1e-3)
    colours = [line.get("stroke") for line in lines]
    assert colours == [ORANGE if w < 0 else BLUE for w in flat]
    # the thickest line is the largest |w|, drawn 6 wide
    assert max(widths) == pytest.approx(6.0, abs=1e-3)
    assert np.argmax(widths) == int(np.argmax(np.abs(flat)))
    # each line's title gives the weight
    titles = [line.find(f"{SVG}title").text for line in lines]
    assert titles[1] == f"W1[0,1] = {weights[0][0, 1]:.4g}"
    root = ET.fromstring(net._repr_svg_())
    assert len(root.findall(f"{SVG}circle")) == 3 + 4 + 2


def test_hand_set_weights_give_hand_worked_widths():
    net = Network([2, 1], activation="identity", random_state=0)
    net.W[0][...] = [[2.0], [-0.5]]
    lines = lines_of(net._repr_svg_())
    assert [float(line.get("stroke-width")) for line in lines] == [6.0, 1.875]  # 0.5 + 5.5/4
    assert [line.get("stroke") for line in lines] == [BLUE, ORANGE]


def test_wide_layers_are_capped_with_a_note():
    net = Network([20, 30, 1], random_state=1)
    svg = net._repr_svg_()
    lines = lines_of(svg)
    assert len(lines) == 16 * 16 + 16 * 1
    weights = [np.asarray(W).copy() for W in net.W]
    np.testing.assert_allclose(
        [float(line.get("stroke-width")) for line in lines], expected_widths(weights), atol=1e-3
    )
    texts = [t.text for t in ET.fromstring(svg).findall(f"{SVG}text")]
    assert "… 4 more" in texts
    assert "… 14 more" in texts
    assert ET.fromstring(svg).get("aria-label").endswith("input (20), sigmoid (30), sigmoid (1)")
    assert len(lines_of(to_svg(layout(weights, ["sigmoid", "sigmoid"], max_units=3)))) == 9 + 3


@pytest.mark.parametrize(
    ("weights", "activations", "max_units", "message"),
    [
        ([], [], 16, "weights is empty"),
        ([np.ones((2, 3)), np.ones((2, 1))], ["relu", "relu"], 16, "must chain"),
        ([np.ones((2, 3))], [], 16, "one activation per weight matrix"),
        ([np.ones((2, 3))], ["relu"], 0, "max_units must be an integer of at least 1"),
    ],
)
def test_layout_refuses_what_cannot_be_drawn(weights, activations, max_units, message):
    with pytest.raises(ValueError, match=message):
        layout(weights, activations, max_units=max_units)


def test_fitted_estimator_shows_sklearn_html_then_the_network():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 2
    model = MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0)
    before = model._repr_mimebundle_()
    assert "<svg" not in before["text/html"]  # not fitted: scikit-learn's own bundle
    model.fit(X, y)
    bundle = model._repr_mimebundle_()
    html = bundle["text/html"]
    assert bundle["text/plain"] == repr(model)
    assert "sk-top-container" in html  # scikit-learn's parameter diagram comes first
    assert html.index("sk-top-container") < html.index("<svg")
    svg = re.search(r"<svg.*</svg>", html, re.S).group(0)
    widths = [float(line.get("stroke-width")) for line in lines_of(svg)]
    np.testing.assert_allclose(widths, expected_widths([W.copy() for W in model.coefs_]), atol=1e-3)
    assert "<svg" in model._repr_html_()


def test_fitted_estimator_with_text_display_gives_the_svg_alone():
    from sklearn import config_context

    model = MLPRegressor(hidden_layer_sizes=(2,), max_iter=500, random_state=0)
    model.fit(np.linspace(0, 1, 20).reshape(-1, 1), np.linspace(0, 1, 20))
    with config_context(display="text"):
        bundle = model._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/svg+xml"}
    assert len(lines_of(bundle["image/svg+xml"])) == 1 * 2 + 2 * 1


def test_plot_network_draws_the_svg_layout():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    from nnmath import plotting

    net = Network([3, 20, 2], random_state=0)
    ax = plotting.plot_network(net)
    svg_lines = lines_of(net._repr_svg_())
    assert len(ax.lines) == len(svg_lines) == 3 * 16 + 16 * 2
    np.testing.assert_allclose(
        [line.get_linewidth() for line in ax.lines],
        [float(line.get("stroke-width")) for line in svg_lines],
        atol=1e-3,
    )
    assert [to_hex(line.get_color()) for line in ax.lines] == [
        line.get("stroke") for line in svg_lines
    ]
    assert any(t.get_text() == "… 4 more" for t in ax.texts)
    plt.close(ax.figure)


def test_plot_network_of_a_fitted_estimator_and_bad_models():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.exceptions import NotFittedError

    from nnmath import plotting

    with pytest.raises(NotFittedError):
        plotting.plot_network(MLPClassifier())
    with pytest.raises(TypeError, match="needs a Network or a fitted MLPClassifier"):
        plotting.plot_network("a network")
    model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=500, random_state=0)
    model.fit(np.linspace(0, 1, 20).reshape(-1, 1), np.linspace(0, 1, 20))
    fig, ax = plt.subplots()
    assert plotting.plot_network(model, ax=ax) is ax
    assert len(ax.lines) == 1 * 3 + 3 * 1
    plt.close(fig)


def test_trace_displays_as_its_markdown_in_ipython():
    ipython = pytest.importorskip("IPython.core.formatters")
    trace = explain(Network([2, 2, 1], random_state=0), np.array([0.5, -1.0]), 1.0)
    data, _ = ipython.DisplayFormatter().format(trace)
    assert data["text/markdown"] == trace.to_markdown()
    assert data["text/plain"] == repr(trace)
    demo = explain_demo()
    md = ipython.DisplayFormatter().format(demo)[0]["text/markdown"]
    # the article's first equation, numbered and in LaTeX, as to_markdown writes it
    assert md == demo.to_markdown()
    assert "**1. weighted sum**" in md
    assert "$$" in md


def test_network_displays_as_svg_in_ipython():
    ipython = pytest.importorskip("IPython.core.formatters")
    data, _ = ipython.DisplayFormatter().format(Network([2, 3, 1], random_state=0))
    assert len(lines_of(data["image/svg+xml"])) == 9
