"""nnmath.plotting: the loss curve and the decision boundary, drawn with Agg."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from conftest import fit_quietly
from nnmath import MLPClassifier, MLPRegressor, Network, Perceptron
from nnmath.training import History

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

from nnmath import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def blobs(rng):
    """Three well-separated clusters in the plane, with string labels."""
    centers = np.array([[-3.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    k = np.repeat(np.arange(3), 30)
    X = centers[k] + rng.normal(scale=0.6, size=(90, 2))
    return X, np.array(["ant", "bee", "cat"])[k]


@pytest.fixture
def fitted_multiclass(blobs):
    X, y = blobs
    return fit_quietly(MLPClassifier((8,), solver="lbfgs", max_iter=200, random_state=0), X, y)


def _only(ax, kind):
    (found,) = [c for c in ax.collections if isinstance(c, kind)]
    return found


# ============================================================================ loss curve
def test_loss_curve_of_estimator_with_validation(blobs, tmp_path):
    X, y = blobs
    clf = fit_quietly(
        MLPClassifier((8,), max_iter=15, early_stopping=True, n_iter_no_change=50, random_state=0),
        X,
        y,
    )
    ax = plotting.plot_loss_curve(clf)
    assert isinstance(ax, plt.Axes)
    train, val = ax.get_lines()
    np.testing.assert_array_equal(train.get_ydata(), clf.loss_curve_)
    np.testing.assert_array_equal(val.get_ydata(), clf.validation_loss_curve_)
    np.testing.assert_array_equal(train.get_xdata(), np.arange(1, len(clf.loss_curve_) + 1))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "training cost",
        "validation cost",
    ]
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "cost C"
    assert "MLPClassifier" in ax.get_title()
    ax.figure.savefig(tmp_path / "loss.png")


def test_loss_curve_without_validation_has_one_line(blobs):
    X, y = blobs
    clf = fit_quietly(MLPClassifier((8,), max_iter=10, random_state=0), X, y)
    assert clf.validation_loss_curve_ is None
    ax = plotting.plot_loss_curve(clf)
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_ydata(), clf.loss_curve_)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training cost"]


def test_loss_curve_of_regressor_with_validation_data(rng):
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    reg = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(5,), max_iter=12, random_state=0),
        X[:40],
        y[:40],
        validation_data=(X[40:], y[40:]),
    )
    train, val = plotting.plot_loss_curve(reg).get_lines()
    np.testing.assert_array_equal(train.get_ydata(), reg.loss_curve_)
    np.testing.assert_array_equal(val.get_ydata(), reg.validation_loss_curve_)


def test_loss_curve_of_perceptron(blobs):
    X, y = blobs
    clf = fit_quietly(Perceptron(max_iter=25, tol=None, random_state=0), X, y)
    (line,) = plotting.plot_loss_curve(clf).get_lines()
    np.testing.assert_array_equal(line.get_ydata(), clf.loss_curve_)
    assert len(line.get_ydata()) == 25


def test_loss_curve_of_history():
    X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
    history = Network([2, 1], random_state=0).fit(X, np.array([0.0, 1, 1, 1]), epochs=30)
    (line,) = plotting.plot_loss_curve(history).get_lines()
    np.testing.assert_array_equal(line.get_ydata(), history.loss_curve)

    with_validation = History(loss_curve=[3.0, 2.0, 1.0], validation_loss_curve=[3.5, 2.5, 2.0])
    train, val = plotting.plot_loss_curve(with_validation).get_lines()
    np.testing.assert_array_equal(val.get_ydata(), [3.5, 2.5, 2.0])
    np.testing.assert_array_equal(val.get_xdata(), [1, 2, 3])


def test_loss_curve_draws_on_the_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    ax = plotting.plot_loss_curve(History(loss_curve=[2.0, 1.0]), ax=right)
    assert ax is right
    assert len(right.get_lines()) == 1
    assert not left.get_lines()


@pytest.mark.parametrize("model", [MLPClassifier(), MLPRegressor(), Perceptron()])
def test_loss_curve_of_unfitted_estimator_raises(model):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        plotting.plot_loss_curve(model)


def test_loss_curve_of_other_object_raises():
    with pytest.raises(TypeError, match="needs a fitted MLPClassifier"):
        plotting.plot_loss_curve([1.0, 0.5])


def test_loss_curve_empty_raises():
    with pytest.raises(ValueError, match="loss curve is empty"):
        plotting.plot_loss_curve(History())


# ============================================================================ decision boundary
def test_decision_boundary_multiclass(fitted_multiclass, blobs, tmp_path):
    X, y = blobs
    clf = fitted_multiclass
    ax = plotting.plot_decision_boundary(clf, X, y)
    assert isinstance(ax, plt.Axes)
    contour = _only(ax, ContourSet)
    # One filled region per class: levels are the borders −½, ½, 3/2, 5/2.
    np.testing.assert_array_equal(contour.levels, [-0.5, 0.5, 1.5, 2.5])
    assert sum(len(p.vertices) > 0 for p in contour.get_paths()) == 3  # every class shows
    points = _only(ax, PathCollection)
    np.testing.assert_array_equal(points.get_offsets(), X)
    # A point's colour is its class region's colour.
    region_colours = contour.get_facecolor()[:, :3]
    for k, label in enumerate(clf.classes_):
        assert np.allclose(points.get_facecolors()[y == label][:, :3], region_colours[k])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ant", "bee", "cat"]
    # The grid spans X with a margin on every side.
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < X[:, 0].min()
    assert x1 > X[:, 0].max()
    assert y0 < X[:, 1].min()
    assert y1 > X[:, 1].max()
    assert "MLPClassifier" in ax.get_title()
    ax.figure.savefig(tmp_path / "boundary.png")


def test_decision_boundary_binary_and_proba(rng, tmp_path):
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = fit_quietly(MLPClassifier((6,), solver="lbfgs", max_iter=200, random_state=0), X, y)
    ax = plotting.plot_decision_boundary(clf, X, y)
    assert len(_only(ax, ContourSet).levels) == 3  # two regions
    np.testing.assert_array_equal(_only(ax, PathCollection).get_offsets(), X)

    fig, ax = plt.subplots()
    returned = plotting.plot_decision_boundary(clf, X, y, ax=ax, response="proba")
    assert returned is ax
    shading = [c for c in ax.collections if isinstance(c, ContourSet)]
    np.testing.assert_allclose(shading[0].levels, np.linspace(0, 1, 11))
    assert list(shading[1].levels) == [0.5]  # the boundary line P = ½
    np.testing.assert_array_equal(_only(ax, PathCollection).get_offsets(), X)
    fig.savefig(tmp_path / "proba.png")


def test_decision_boundary_perceptron_step(rng):
    X = rng.normal(size=(40, 2))
    y = np.where(X[:, 0] > 0, 5, -5)
    clf = fit_quietly(Perceptron(activation="step", max_iter=50, random_state=0), X, y)
    ax = plotting.plot_decision_boundary(clf, X, y, grid_resolution=50)
    assert len(_only(ax, ContourSet).levels) == 3
    with pytest.raises(ValueError, match="needs a classifier with predict_proba"):
        plotting.plot_decision_boundary(clf, X, y, response="proba")


def test_decision_boundary_regressor_and_network(rng):
    X = rng.normal(size=(50, 2))
    y = X[:, 0] - 2 * X[:, 1]
    reg = fit_quietly(MLPRegressor(hidden_layer_sizes=(5,), solver="lbfgs", random_state=0), X, y)
    ax = plotting.plot_decision_boundary(reg, X, y, grid_resolution=40)
    points = _only(ax, PathCollection)
    np.testing.assert_array_equal(points.get_offsets(), X)
    np.testing.assert_array_equal(points.get_array(), y)  # coloured by the target
    assert len(ax.figure.axes) == 2  # the colour bar

    net = Network([2, 4, 1], activation="tanh", output_activation="identity", random_state=0)
    ax = plotting.plot_decision_boundary(net, X, y, grid_resolution=40)
    np.testing.assert_array_equal(_only(ax, PathCollection).get_offsets(), X)


def test_decision_boundary_names_axes_after_dataframe_columns(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    frame = pd.DataFrame(X, columns=["length", "width"])
    clf = fit_quietly(MLPClassifier((4,), solver="lbfgs", max_iter=50, random_state=0), frame, y)
    # Predicting on the grid raises no "feature names" warning (warnings are errors here).
    ax = plotting.plot_decision_boundary(clf, frame, y, grid_resolution=30)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("length", "width")


@pytest.mark.parametrize(
    "X",
    [np.zeros((90, 3)), np.zeros((90, 1)), np.zeros(90), np.zeros((90, 2, 1))],
    ids=["3 features", "1 feature", "1-D", "3-D"],
)
def test_decision_boundary_needs_two_features(fitted_multiclass, blobs, X):
    _, y = blobs
    with pytest.raises(ValueError, match=r"X of shape \(n_samples, 2\).*got shape"):
        plotting.plot_decision_boundary(fitted_multiclass, X, y)


def test_decision_boundary_bad_y(fitted_multiclass, blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"y must have shape \(90,\)"):
        plotting.plot_decision_boundary(fitted_multiclass, X, y[:-1])
    bad = y.copy().astype(object)
    bad[0] = "dog"
    with pytest.raises(ValueError, match="labels the model does not know: dog"):
        plotting.plot_decision_boundary(fitted_multiclass, X, bad)


def test_decision_boundary_bad_options(fitted_multiclass, blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="response must be 'predict' or 'proba'"):
        plotting.plot_decision_boundary(fitted_multiclass, X, y, response="score")
    with pytest.raises(ValueError, match="this model has 3 classes"):
        plotting.plot_decision_boundary(fitted_multiclass, X, y, response="proba")
    with pytest.raises(ValueError, match="grid_resolution must be an integer"):
        plotting.plot_decision_boundary(fitted_multiclass, X, y, grid_resolution=1)
    with pytest.raises(ValueError, match="margin must be a finite number"):
        plotting.plot_decision_boundary(fitted_multiclass, X, y, margin=-1.0)


def test_decision_boundary_multilabel_raises(rng):
    X = rng.normal(size=(40, 2))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    clf = fit_quietly(MLPClassifier((4,), solver="lbfgs", max_iter=50, random_state=0), X, Y)
    with pytest.raises(ValueError, match="y must have shape"):
        plotting.plot_decision_boundary(clf, X, Y)
    with pytest.raises(ValueError, match="predicts 2 values per sample"):
        plotting.plot_decision_boundary(clf, X, Y[:, 0])


# ============================================================================ without matplotlib
@pytest.mark.parametrize("call", ["loss", "boundary"])
def test_without_matplotlib_the_error_says_how_to_install(monkeypatch, blobs, call):
    X, y = blobs
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import now fails
    if call == "loss":
        plot, args = plotting.plot_loss_curve, (History(loss_curve=[1.0]),)
    else:
        net = Network([2, 1], random_state=0)
        plot, args = plotting.plot_decision_boundary, (net, X, np.zeros(len(X)))
    with pytest.raises(ImportError, match=r'pip install "nnmath\[plot\]"'):
        plot(*args)
