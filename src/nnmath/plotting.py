"""Figures of training and of what a model learned (matplotlib, the extra ``nnmath[plot]``).

* :func:`plot_loss_curve` — the cost C per epoch, training and validation;
* :func:`plot_decision_boundary` — a model's predictions over the plane of two features,
  with the data on top;
* :func:`plot_network` — the layers and their weights, coloured by sign and as thick as
  their magnitude (the drawing a Network shows in Jupyter, :mod:`nnmath.diagram`).

Import this module explicitly (``from nnmath import plotting``); ``import nnmath``
never imports matplotlib. Each function draws on the Axes it is given, or on a new
figure's, and returns that Axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnmath import diagram
from nnmath.core import arrays
from nnmath.network import Network
from nnmath.training import History

__all__ = ["plot_decision_boundary", "plot_loss_curve", "plot_network"]

_INSTALL_HINT = 'plotting needs matplotlib: pip install "nnmath[plot]"'


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    return plt


def _axes(ax):
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _curves(model) -> tuple[list[float], list[float] | None, str]:
    """Return (training curve, validation curve or None, name) of a model.

    The model is an estimator, a History or a Perceptron.
    """
    if isinstance(model, History):
        return list(model.loss_curve), list(model.validation_loss_curve) or None, "History"
    name = type(model).__name__
    if hasattr(model, "loss_curve_"):
        validation = getattr(model, "validation_loss_curve_", None)
        return list(model.loss_curve_), list(validation) if validation else None, name
    if hasattr(model, "get_params"):  # a scikit-learn style estimator, not fitted yet
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"This {name} instance is not fitted yet: call fit before plotting its loss curve"
        )
    raise TypeError(
        "plot_loss_curve needs a fitted MLPClassifier, MLPRegressor or Perceptron (its "
        f"loss_curve_) or a training History (its loss_curve); got {name}"
    )


def plot_loss_curve(model, ax=None):
    """Plot the training cost C per epoch and, when recorded, the validation cost.

    Parameters
    ----------
    model : MLPClassifier, MLPRegressor, Perceptron or History
        A fitted estimator (``loss_curve_`` and ``validation_loss_curve_``) or the
        :class:`~nnmath.training.History` that :meth:`Network.fit` returns
        (``loss_curve`` and ``validation_loss_curve``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when None.

    Returns
    -------
    matplotlib.axes.Axes
        Line 0 is the training cost (x = epoch 1, 2, …, n_epochs); line 1, present
        only when a validation cost was recorded, the validation cost.

    Raises
    ------
    ImportError
        Without matplotlib (``pip install "nnmath[plot]"``).
    sklearn.exceptions.NotFittedError
        For an estimator that was not fitted.
    TypeError
        For an object without a loss curve.
    ValueError
        For an empty loss curve.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network, plotting
    >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0., 1, 1, 1])
    >>> history = Network([2, 1], random_state=0).fit(X, y, epochs=50)
    >>> ax = plotting.plot_loss_curve(history)
    >>> ax.figure.savefig("loss.png")                                  # doctest: +SKIP
    """
    train, validation, name = _curves(model)
    if not train:
        raise ValueError(f"the {name}'s loss curve is empty: nothing was trained")
    ax = _axes(ax)
    epochs = np.arange(1, len(train) + 1)
    ax.plot(epochs, train, label="training cost", color="tab:blue")
    if validation:
        ax.plot(
            np.arange(1, len(validation) + 1),
            validation,
            label="validation cost",
            color="tab:orange",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost C")
    ax.set_title(f"Loss curve of {name}")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def _check_two_features(X) -> tuple[np.ndarray, list[str]]:
    names = ["x₁", "x₂"]
    columns = getattr(X, "columns", None)
    if columns is not None:
        names = [str(c) for c in columns]
    try:
        values = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"X must be numeric; could not convert: {exc}") from None
    if values.ndim != 2 or values.shape[1] != 2:
        raise ValueError(
            "plot_decision_boundary needs X of shape (n_samples, 2): two features, one per "
            f"axis of the plane; got shape {values.shape}. Select two columns, or project "
            "the data to two dimensions (e.g. with PCA) and fit the model on that."
        )
    if values.shape[0] == 0:
        raise ValueError("X has no samples")
    if not np.isfinite(values).all():
        raise ValueError("X contains NaN or infinity")
    return values, names


def _predict_surface(model, grid: np.ndarray, response: str) -> np.ndarray:
    """Return the model's response at every grid point: one value per row."""
    if isinstance(model, Network):
        values = model.forward(grid)
    else:
        feature_names = getattr(model, "feature_names_in_", None)
        if feature_names is not None:  # fitted on a DataFrame: predict on one too
            import pandas as pd

            grid = pd.DataFrame(grid, columns=list(feature_names))
        if response == "proba":
            values = model.predict_proba(grid)
            if values.shape[1] != 2:
                raise ValueError(
                    f"response='proba' shades the probability of the positive class of a "
                    f"binary classifier; this model has {values.shape[1]} classes. Use "
                    "response='predict'"
                )
            return np.asarray(values[:, 1])
        values = model.predict(grid)
    values = np.asarray(values)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise ValueError(
            "plot_decision_boundary draws one prediction per point; this model predicts "
            f"{values.shape[1]} values per sample (multilabel or multi-output)"
        )
    return values


def plot_decision_boundary(
    model,
    X,
    y,
    ax=None,
    *,
    response: str = "predict",
    grid_resolution: int = 200,
    margin: float = 0.1,
    cmap: str | None = None,
):
    """Shade a model's predictions over the plane of two features and scatter the data.

    For a classifier the plane is split into one filled region per class (the
    decision regions; their borders are the decision boundary), coloured as the
    points of that class. For a regressor or a one-output :class:`Network` the
    prediction is shaded continuously, with the points coloured by y on the same scale.

    Parameters
    ----------
    model : fitted classifier or regressor with ``predict``, or Network
        Trained on exactly two features.
    X : array-like of shape (n_samples, 2)
        The data; the grid spans its range plus ``margin`` on every side.
    y : array-like of shape (n_samples,)
        Class labels (from ``model.classes_``) or target values; colours the points.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when None.
    response : {"predict", "proba"}, default "predict"
        "proba" shades P(positive class) of a binary classifier from 0 to 1 instead of
        the predicted class.
    grid_resolution : int, default 200
        Grid points along each axis.
    margin : float, default 0.1
        Extra room around the data, as a fraction of each feature's range.
    cmap : str, optional
        A matplotlib colormap name; "tab10" (or "tab20" beyond 10 classes) for classes,
        "RdBu_r" for probabilities, "viridis" for regression.

    Returns
    -------
    matplotlib.axes.Axes
        Holding the filled contour (``ax.collections[0]``, a ``ContourSet``; for
        classes its ``levels`` are the n_classes + 1 borders k − ½) and the scatter
        of X (a ``PathCollection`` whose offsets are X).

    Raises
    ------
    ImportError
        Without matplotlib (``pip install "nnmath[plot]"``).
    ValueError
        When X does not have exactly 2 features, X and y differ in length, y holds a
        label the classifier does not know, or the model predicts several values per
        sample.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import MLPClassifier, plotting
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> clf = MLPClassifier((16,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    >>> ax = plotting.plot_decision_boundary(clf, X, y)
    >>> ax.figure.savefig("boundary.png")                              # doctest: +SKIP
    """
    values, feature_names = _check_two_features(X)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != values.shape[0]:
        raise ValueError(
            f"y must have shape ({values.shape[0]},), one value per row of X; got {y.shape}"
        )
    if response not in ("predict", "proba"):
        raise ValueError(f"response must be 'predict' or 'proba'; got {response!r}")
    if isinstance(grid_resolution, bool) or not isinstance(grid_resolution, (int, np.integer)):
        raise ValueError(f"grid_resolution must be an integer ≥ 2; got {grid_resolution!r}")
    if grid_resolution < 2:
        raise ValueError(f"grid_resolution must be an integer ≥ 2; got {grid_resolution!r}")
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number ≥ 0; got {margin!r}")
    classes: Any = getattr(model, "classes_", None)
    index_of: dict = {}
    if classes is not None:
        classes = np.asarray(classes)
        if classes.ndim != 1 or len(classes) < 2:
            raise ValueError("plot_decision_boundary needs a classifier with ≥ 2 classes")
        index_of = {c: k for k, c in enumerate(classes.tolist())}
        unknown = sorted({str(v) for v in y.tolist() if v not in index_of})
        if unknown:
            raise ValueError(
                f"y holds labels the model does not know: {', '.join(unknown)}; the model's "
                f"classes_ are {classes.tolist()}"
            )
    if response == "proba" and (classes is None or not hasattr(model, "predict_proba")):
        raise ValueError(
            "response='proba' needs a classifier with predict_proba; use response='predict'"
        )
    plt = _pyplot()
    from matplotlib.colors import ListedColormap
    from matplotlib.ticker import MaxNLocator

    lo, hi = values.min(axis=0), values.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)  # a constant feature still gets a window
    lo, hi = lo - margin * span, hi + margin * span
    xx, yy = np.meshgrid(
        np.linspace(lo[0], hi[0], grid_resolution), np.linspace(lo[1], hi[1], grid_resolution)
    )
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    surface = _predict_surface(model, grid, response)
    ax = _axes(ax)

    if response == "predict" and classes is not None:
        n = len(classes)
        cmap_obj = plt.get_cmap(cmap or ("tab10" if n <= 10 else "tab20"))
        # One region per class k: the contour levels are the borders k − ½.
        levels: Any = np.arange(n + 1) - 0.5
        Z = np.array([index_of[v] for v in surface.tolist()], dtype=float)
        if isinstance(cmap_obj, ListedColormap) and cmap_obj.N >= n:
            colors = [cmap_obj(k) for k in range(n)]  # an integer picks the k-th colour
        else:
            colors = [cmap_obj(k / max(n - 1, 1)) for k in range(n)]
        ax.contourf(xx, yy, Z.reshape(xx.shape), levels=levels, colors=colors, alpha=0.35)
        c = np.array([index_of[v] for v in y.tolist()])
        points = ax.scatter(
            values[:, 0],
            values[:, 1],
            c=[colors[k] for k in c],
            edgecolors="black",
            linewidths=0.5,
            s=25,
        )
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], marker="o", linestyle="", markerfacecolor=colors[k],
                   markeredgecolor="black", markeredgewidth=0.5, label=str(cls))
            for k, cls in enumerate(classes.tolist())
        ]  # fmt: skip
        ax.legend(handles=handles, title="class", loc="best", framealpha=0.8)
        title = f"Decision regions of {type(model).__name__}"
    else:
        if response == "proba":
            levels = np.linspace(0.0, 1.0, 11)
            vmin, vmax, label = 0.0, 1.0, f"P(y = {classes[1]})"
            cmap_obj = plt.get_cmap(cmap or "RdBu_r")
        else:
            try:
                y_num = y.astype(float)
            except (TypeError, ValueError):
                raise ValueError(
                    "y must be numeric for a model without classes_ (a regressor)"
                ) from None
            vmin = float(min(surface.min(), y_num.min()))
            vmax = float(max(surface.max(), y_num.max()))
            if vmax <= vmin:
                vmax = vmin + 1.0
            levels = MaxNLocator(nbins=15).tick_values(vmin, vmax)
            label = "prediction"
            cmap_obj = plt.get_cmap(cmap or "viridis")
        norm = plt.Normalize(vmin=vmin, vmax=vmax)
        shading = ax.contourf(
            xx, yy, surface.reshape(xx.shape), levels=levels, cmap=cmap_obj, norm=norm, alpha=0.6
        )
        ax.figure.colorbar(shading, ax=ax, label=label)
        if response == "proba":
            ax.contour(xx, yy, surface.reshape(xx.shape), levels=[0.5], colors="black")
            colours = [cmap_obj(0.1 + 0.8 * index_of[v]) for v in y.tolist()]
            points = ax.scatter(
                values[:, 0], values[:, 1], c=colours, edgecolors="black", linewidths=0.5, s=25
            )
            title = f"P(positive class) of {type(model).__name__}"
        else:
            points = ax.scatter(
                values[:, 0],
                values[:, 1],
                c=y.astype(float),
                cmap=cmap_obj,
                norm=norm,
                edgecolors="black",
                linewidths=0.5,
                s=25,
            )
            title = f"Predictions of {type(model).__name__}"
    points.set_label("data")
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel(feature_names[0])
    ax.set_ylabel(feature_names[1])
    ax.set_title(title)
    return ax


def _network_of(model):
    """Return the network a Network or a fitted estimator holds."""
    if isinstance(model, Network):
        return model
    if hasattr(model, "get_params") and hasattr(type(model), "coefs_"):
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(model, "network_")
        return model.network_
    raise TypeError(
        "plot_network needs a Network or a fitted MLPClassifier or MLPRegressor; got "
        f"{type(model).__name__}"
    )


def plot_network(model, ax=None, max_units: int = 16):
    """Draw a network's layers, its weights coloured by sign and as thick as their size.

    The same drawing that a :class:`~nnmath.Network` or a fitted estimator shows in
    Jupyter (both come from :func:`nnmath.diagram.layout`): blue lines are positive
    weights, orange ones negative, the thickest the largest ``|w|`` shown.

    Parameters
    ----------
    model : Network, MLPClassifier or MLPRegressor
        A network, or a fitted estimator.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure's Axes when None.
    max_units : int, default=16
        The most units drawn in one layer; a wider layer shows "… n more".

    Returns
    -------
    matplotlib.axes.Axes
        One line per drawn weight, in the order of W₁ row by row, then W₂ …; its
        linewidth (points) is that of the SVG drawing's ``stroke-width``.

    Raises
    ------
    ImportError
        Without matplotlib (``pip install "nnmath[plot]"``).
    sklearn.exceptions.NotFittedError
        For an estimator that was not fitted.
    TypeError
        For anything else.

    Examples
    --------
    >>> from nnmath import Network, plotting
    >>> ax = plotting.plot_network(Network([2, 3, 1], random_state=0))
    >>> len(ax.lines)
    9
    """
    net = _network_of(model)
    shape = diagram.layout(
        [arrays.to_numpy(W) for W in net.W], [a.name for a in net.activations], max_units
    )
    ax = _axes(ax)
    for e in shape.edges:
        (x0, y0), (x1, y1) = e.start, e.end
        ax.plot([x0, x1], [y0, y1], color=e.color, linewidth=e.width, alpha=0.8, zorder=1)
    xs = [x for column in shape.units for x, _ in column]
    ys = [y for column in shape.units for _, y in column]
    ax.scatter(xs, ys, s=140, facecolor="#f4f5f6", edgecolor="#333333", zorder=2)
    for x, y, text in shape.more:
        ax.text(x, y, text, ha="center", va="center", fontsize=8)
    for column, label in zip(shape.units, shape.labels, strict=True):
        ax.text(column[0][0], shape.height - 8, label, ha="center", va="bottom", fontsize=9)
    ax.set_xlim(0, shape.width)
    ax.set_ylim(shape.height, 0)  # y grows downwards, as in the SVG
    ax.set_axis_off()
    ax.set_title(f"{type(model).__name__} {shape.sizes}")
    return ax
