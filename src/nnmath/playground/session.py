"""One playground session: the data, the features, the network, its training and its frames.

A browser tab owns one :class:`Session`. Its settings (:data:`DEFAULTS`, checked by
:func:`check_settings`) say which data, which features, which network and how it
trains. The session trains with nnmath itself — :func:`nnmath.training.train` on a
:class:`nnmath.Network` with :class:`nnmath.SGD` or :class:`nnmath.Adam` — and
describes what the network computes as *frames*: the training and test cost, the
output over a grid of the plane and every neuron's activation there (the network's
own recorded forward pass, :meth:`nnmath.Network.propagate`). :meth:`Session.step`
and :meth:`Session.explain` give the equations of one training step for one sample,
:func:`nnmath.explain`'s trace prepared for the page.

Changing a data setting (``dataset``, ``points``, ``noise``, ``split``, ``seed``,
``formula``, the CSV columns and ``missing``) draws the data anew; a network setting
(``features``, ``hidden``, ``activation``, ``loss``) builds a new network; a training setting
(``learning_rate``, ``l2``, ``l1``, ``batch_size``, ``optimizer``) applies from the next
epoch on, without a reset: the weights and the epoch count go on. The same settings give
the same data, the same initial weights and the same training, epoch for epoch.

Example
-------
>>> s = Session({"dataset": "xor", "hidden": [4], "points": 100})
>>> before = s.losses()[0]
>>> s.train(20)
>>> s.epoch, s.losses()[0] < before
(20, True)
"""

from __future__ import annotations

import base64
import importlib.util
import math
import threading
import time
from collections.abc import Mapping

import numpy as np

import nnmath
from nnmath import training
from nnmath.core import registry
from nnmath.playground import datasets
from nnmath.playground.datasets import Data, Table
from nnmath.tracing import explain, render
from nnmath.tracing.trace import PHASES

__all__ = [
    "ACTIVATIONS",
    "DEFAULTS",
    "GRID",
    "OUTPUT_GRID",
    "LIMITS",
    "Session",
    "SettingError",
    "check_settings",
]

#: Points per side of the grid over which every neuron is drawn.
GRID = 50
#: Points per side of the finer grid of the output's picture, the decision heatmap.
OUTPUT_GRID = 100
#: The hidden activations offered (scikit-learn's alias "logistic" of the sigmoid aside).
ACTIVATIONS = tuple(n for n in registry.hidden_activations() if n != "logistic")
LOSSES = ("cross_entropy", "mse")
OPTIMIZERS = ("sgd", "adam")

DEFAULTS: dict = {
    "dataset": "circle",
    "points": 500,
    "noise": 0,
    "split": 50,
    "seed": 1,
    "features": ["x1", "x2"],
    "hidden": [4, 2],
    "activation": "tanh",
    "loss": "cross_entropy",
    "learning_rate": 0.03,
    "l2": 0.0,
    "l1": 0.0,
    "batch_size": 10,
    "optimizer": "sgd",
    "x1_column": None,
    "x2_column": None,
    "target_column": None,
    "formula": datasets.DEFAULT_FORMULA,
    "missing": "drop",
}

#: The bounds of each numeric setting (inclusive, except learning_rate's lower one).
LIMITS = {
    "points": (10, 5000),
    "noise": (0, 50),
    "split": (10, 90),
    "seed": (0, 2**31 - 1),
    "learning_rate": (0, 10),
    "l2": (0, 10),
    "l1": (0, 10),
    "batch_size": (1, 1000),
    "hidden_layers": (0, 6),
    "neurons": (1, 8),
}

DATA_SETTINGS: tuple[str, ...] = (
    "dataset",
    "points",
    "noise",
    "split",
    "seed",
    "x1_column",
    "x2_column",
)
DATA_SETTINGS += ("target_column", "formula", "missing")
NETWORK_SETTINGS = ("features", "hidden", "activation", "loss")


class SettingError(ValueError):
    """A setting has a bad value; ``setting`` names it and the message says what would do.

    Examples
    --------
    >>> err = SettingError("noise", "noise must be a number from 0 to 50; got 99")
    >>> err.setting, str(err)
    ('noise', 'noise must be a number from 0 to 50; got 99')
    """

    def __init__(self, setting: str, message: str):
        super().__init__(message)
        self.setting = setting


# ---------------------------------------------------------------------------- settings
def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(name: str, v) -> int:
    lo, hi = LIMITS[name]
    if not (_is_number(v) and float(v) == int(v)) or not lo <= v <= hi:
        raise SettingError(name, f"{name} must be an integer from {lo} to {hi}; got {v!r}")
    return int(v)


def _number(name: str, v, open_low: bool = False) -> float:
    lo, hi = LIMITS[name]
    ok = _is_number(v) and (lo < v if open_low else lo <= v) and v <= hi
    if not ok:
        bounds = f"> {lo} and <= {hi}" if open_low else f"from {lo} to {hi}"
        raise SettingError(name, f"{name} must be a number {bounds}; got {v!r}")
    return float(v)


def _choice(name: str, v, choices) -> str:
    if v not in choices:
        raise SettingError(name, f"{name} must be one of {', '.join(choices)}; got {v!r}")
    return v


def _features(v) -> list[str]:
    names = list(datasets.FEATURES)
    if not isinstance(v, (list, tuple)) or not v:
        raise SettingError(
            "features", f"features must be a non-empty list of {', '.join(names)}; got {v!r}"
        )
    for f in v:
        if not isinstance(f, str) or f not in datasets.FEATURES:
            raise SettingError(
                "features", f"features: unknown feature {f!r}; the features are {', '.join(names)}"
            )
    if len(set(v)) != len(v):
        raise SettingError("features", f"features lists a feature twice: {v!r}")
    return [f for f in names if f in v]  # the page's order, whatever the link's


def _hidden(v) -> list[int]:
    lo, hi = LIMITS["hidden_layers"]
    n_lo, n_hi = LIMITS["neurons"]
    if not isinstance(v, (list, tuple)) or not lo <= len(v) <= hi:
        raise SettingError(
            "hidden",
            f"hidden must be a list of {lo} to {hi} layer sizes (neurons per hidden layer); "
            f"got {v!r}",
        )
    for n in v:
        if not (_is_number(n) and float(n) == int(n)) or not n_lo <= n <= n_hi:
            raise SettingError(
                "hidden", f"hidden: each layer has {n_lo} to {n_hi} neurons; got {n!r} in {v!r}"
            )
    return [int(n) for n in v]


def _column(name: str, v) -> str | None:
    if v is not None and not isinstance(v, str):
        raise SettingError(name, f"{name} must be a column name (text); got {v!r}")
    return v


def _formula(v) -> str:
    try:
        return datasets.parse_formula(v).text
    except ValueError as exc:
        raise SettingError("formula", str(exc)) from None


_CHECKS = {
    "dataset": lambda v: _choice("dataset", v, (*datasets.DATASETS, "csv")),
    "points": lambda v: _integer("points", v),
    "noise": lambda v: _number("noise", v),
    "split": lambda v: _number("split", v),
    "seed": lambda v: _integer("seed", v),
    "features": _features,
    "hidden": _hidden,
    "activation": lambda v: _choice("activation", v, ACTIVATIONS),
    "loss": lambda v: _choice("loss", v, LOSSES),
    "learning_rate": lambda v: _number("learning_rate", v, open_low=True),
    "l2": lambda v: _number("l2", v),
    "l1": lambda v: _number("l1", v),
    "batch_size": lambda v: _integer("batch_size", v),
    "optimizer": lambda v: _choice("optimizer", v, OPTIMIZERS),
    "x1_column": lambda v: _column("x1_column", v),
    "x2_column": lambda v: _column("x2_column", v),
    "target_column": lambda v: _column("target_column", v),
    "formula": _formula,
    "missing": lambda v: _choice("missing", v, ("drop", "fill")),
}


def check_settings(changes: Mapping, base: Mapping | None = None) -> dict:
    """Return ``base`` (default :data:`DEFAULTS`) updated with ``changes``, every value checked.

    A change of ``dataset`` to a regression data set without a ``loss`` of its own
    takes the loss regression uses ("mse").

    Parameters
    ----------
    changes : mapping of setting name to value
    base : mapping, optional
        Settings already checked.

    Returns
    -------
    dict
        Every setting.

    Raises
    ------
    SettingError
        An unknown setting or a bad value, naming the setting.

    Examples
    --------
    >>> check_settings({"hidden": [3], "learning_rate": 0.1})["hidden"]
    [3]
    >>> check_settings({"learning_rate": 0})
    Traceback (most recent call last):
    ...
    nnmath.playground.session.SettingError: learning_rate must be a number > 0 and <= 10; got 0
    """
    if not isinstance(changes, Mapping):
        raise SettingError(
            "settings", f"settings must be an object of name: value; got {changes!r}"
        )
    unknown = [k for k in changes if k not in DEFAULTS]
    if unknown:
        raise SettingError(
            str(unknown[0]),
            f"unknown setting {unknown[0]!r}; the settings are {', '.join(DEFAULTS)}",
        )
    out = dict(DEFAULTS if base is None else base)
    for key, value in changes.items():
        out[key] = _CHECKS[key](value)
    if "dataset" in changes and "loss" not in changes and out["dataset"] in datasets.REGRESSION:
        out["loss"] = "mse"
    if out["dataset"] in datasets.REGRESSION and out["loss"] != "mse":
        raise SettingError(
            "loss",
            f"loss {out['loss']!r} is for classification; {out['dataset']!r} is a regression "
            "data set: use 'mse'",
        )
    return out


# ---------------------------------------------------------------------------- encoding
def _to_bytes(values: np.ndarray, lo: float, hi: float) -> str:
    """Values mapped from [lo, hi] to 0–255 (clipped), as base64: what the page paints."""
    scaled = (np.clip(values, lo, hi) - lo) * (255.0 / (hi - lo))
    return base64.b64encode(np.rint(scaled).astype(np.uint8).tobytes()).decode("ascii")


def _highlight(step, n_layers: int) -> dict:
    """Find which neurons and weights a step of the trace is about.

    Neurons are given by layer (0 is the inputs), weights by layer, read from the step's
    symbol and layer.
    """
    layer = step.layer if step.layer is not None else n_layers
    symbol = step.symbol
    stem = symbol.rstrip("₀₁₂₃₄₅₆₇₈₉")
    if "/∂W" in symbol or "/∂w" in symbol or stem in ("W", "w"):
        return {"neurons": [layer - 1] if "∂z" in symbol else [], "weights": [layer]}
    if symbol.startswith("∂C/∂a"):
        return {"neurons": [layer], "weights": [layer + 1]}
    if step.phase == "forward" and stem == "z":
        return {"neurons": [layer - 1, layer], "weights": [layer]}
    return {"neurons": [layer], "weights": []}


def trace_for_page(trace: nnmath.Trace, n_layers: int) -> dict:
    r"""Return a :class:`nnmath.Trace` as the page shows it.

    Each step has its LaTeX (the trace's own, from :func:`nnmath.tracing.render.latex`),
    its numbers as LaTeX, and what it highlights in the network.

    Examples
    --------
    >>> net = nnmath.Network([2, 1], activation="sigmoid", random_state=0)
    >>> page = trace_for_page(nnmath.explain(net, np.array([1.0, 2.0]), 1.0), 1)
    >>> page["steps"][0]["equation"]
    'z = \\sum_i w_{i}x_{i} + b'
    """
    steps = []
    for i, step in enumerate(trace.steps, 1):
        steps.append(
            {
                "n": i,
                "name": step.name,
                "phase": step.phase,
                "phase_title": PHASES.get(step.phase, step.phase),
                "layer": step.layer,
                "symbol": render.latex(step.symbol),
                "equation": render.latex(step.equation),
                "given": [
                    [render.latex(k), render.latex_value(v)] for k, v in step.substituted.items()
                ],
                "expanded": None if step.expanded is None else render.latex(step.expanded),
                "value": render.latex_value(step.value),
                "highlight": _highlight(step, n_layers),
            }
        )
    return {
        "title": trace.title,
        "rule": trace.rule,
        "learning_rate": trace.learning_rate,
        "l2_penalty": trace.l2_penalty,
        "l1_penalty": trace.l1_penalty,
        "cost": trace.cost,
        "notes": list(trace.notes),
        "steps": steps,
        "summary": [s.to_dict() for s in trace.summary],
    }


# ---------------------------------------------------------------------------- session
class Session:
    """One tab's playground: data, features, network, optimizer, history.

    Parameters
    ----------
    settings : mapping, optional
        Changes to :data:`DEFAULTS`, checked by :func:`check_settings`.
    table : datasets.Table, optional
        An uploaded CSV file (for ``dataset="csv"``).

    Attributes
    ----------
    settings : dict
    data : datasets.Data
        All points; the first ``n_train`` are the training set.
    net : nnmath.Network
    history : nnmath.History
    playing : bool
        Whether the server trains it continuously.
    error : str or None
        Why training stopped by itself (it diverged), until the next reset.
    version, config_version : int
        Counters that grow with every change of the frames and of the configuration.

    Examples
    --------
    >>> s = Session({"dataset": "three", "hidden": [], "points": 60})
    >>> s.net.layer_sizes, s.data.kind
    ([2, 3], 'multiclass')
    >>> [len(layer) for layer in s.frame()["neurons"]]   # each output unit's picture
    [3]
    """

    # Set by the first update(): the data, its training rows, the optimizer.
    data: Data
    n_train: int
    optimizer: nnmath.core.optimizers.Optimizer

    def __init__(self, settings: Mapping | None = None, table: Table | None = None):
        self.lock = threading.RLock()
        self.table = table
        self.playing = False
        self.closed = False
        self.error: str | None = None
        self.sample: int | None = None
        self.version = 0
        self.config_version = 0
        self.last_seen = time.monotonic()
        self.settings = check_settings({}, DEFAULTS)
        self.update(settings or {})

    # ------------------------------------------------------------------ settings
    def update(self, changes: Mapping) -> None:
        """Apply changed settings (see the module's docstring for what each redoes).

        Raises
        ------
        SettingError
            A bad value; the session is left as it was.
        """
        with self.lock:
            new = check_settings(changes, self.settings)
            first = not hasattr(self, "data")
            redo_data = first or any(new[k] != self.settings[k] for k in DATA_SETTINGS)
            # may raise: nothing has changed yet
            data, n_train = self._make_data(new) if redo_data else (self.data, self.n_train)
            regression = data.kind == "regression"
            if regression and new["loss"] != "mse":
                if "loss" in changes:
                    raise SettingError(
                        "loss",
                        f"loss {new['loss']!r} is for classification; the target "
                        f"{new['target_column'] or data.target_name!r} is a regression target: "
                        "use 'mse'",
                    )
                new["loss"] = "mse"
            was_regression = not first and self.data.kind == "regression"
            if was_regression and not regression and "loss" not in changes:
                new["loss"] = "cross_entropy"
            redo_net = redo_data or any(new[k] != self.settings[k] for k in NETWORK_SETTINGS)
            if redo_data:
                self.data, self.n_train = data, n_train
                if new["dataset"] == "csv":
                    new["x1_column"], new["x2_column"], new["target_column"] = self._columns
                self._make_grid(new["dataset"])
            self.settings = new
            if redo_net:
                self.reset()
            else:
                if not isinstance(self.optimizer, self._optimizer_class()):
                    self.optimizer = self._optimizer_class()(new["learning_rate"])
                self.version += 1
            self.config_version += 1

    def upload(self, data: bytes, name: str = "upload.csv") -> None:
        """Use an uploaded CSV file.

        Its first two numeric columns go on the plane and its last other column is the
        target, until the settings choose others.

        Raises
        ------
        ValueError
            The file is refused (see :func:`datasets.read_csv`).
        """
        table = datasets.read_csv(data, name)
        with self.lock:
            old = self.table
            self.table = table
            x1, x2 = table.numeric[:2]
            others = [c for c in table.columns if c not in (x1, x2)]
            target = others[-1] if others else None
            if target is None:
                self.table = old
                raise ValueError(
                    f"{name} has only the two numeric columns {x1!r} and {x2!r}; it needs a "
                    "third column for the target"
                )
            changes = {"dataset": "csv", "x1_column": x1, "x2_column": x2, "target_column": target}
            try:
                self.update(changes)
            except ValueError:
                self.table = old
                raise

    def _optimizer_class(self):
        return nnmath.SGD if self.settings["optimizer"] == "sgd" else nnmath.Adam

    def _make_data(self, s: dict) -> tuple[Data, int]:
        rng = np.random.default_rng([s["seed"], 0])
        if s["dataset"] == "csv":
            if self.table is None:
                raise SettingError(
                    "dataset", "dataset 'csv' needs an uploaded CSV file: upload one first"
                )
            numeric, columns = self.table.numeric, self.table.columns
            x1 = s["x1_column"] or numeric[0]
            x2 = s["x2_column"] or next(c for c in numeric if c != x1)
            target = s["target_column"] or [c for c in columns if c not in (x1, x2)][-1]
            try:
                data = datasets.csv_data(self.table, x1, x2, target, s["missing"])
            except ValueError as exc:
                setting = str(exc).split(":", 1)[0]
                raise SettingError(
                    setting if setting in DEFAULTS else "dataset", str(exc)
                ) from None
            order = rng.permutation(data.n_samples)
            data.points, data.target = data.points[order], data.target[order]
            self._columns = (x1, x2, target)
        else:
            try:
                data = datasets.generate(
                    s["dataset"], s["points"], s["noise"], rng, formula=s["formula"]
                )
            except ValueError as exc:
                raise SettingError("formula", str(exc)) from None
        n = data.n_samples
        n_train = min(max(1, round(n * s["split"] / 100)), n - 1)
        return data, n_train

    def _make_grid(self, dataset: str) -> None:
        """Make the grid over the plane.

        It is [−6, 6]² for a built-in data set, the points' range and a margin for a CSV
        file.
        """
        if dataset == "csv":
            p = self.data.points
            lo, hi = p.min(axis=0), p.max(axis=0)
            pad = 0.08 * np.maximum(hi - lo, 1e-9)
            lo, hi = lo - pad, hi + pad
        else:
            lo, hi = np.array([-6.0, -6.0]), np.array([6.0, 6.0])
        self.extent = [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]
        self.grid_points = _grid(lo, hi, GRID)
        self.output_points = _grid(lo, hi, OUTPUT_GRID)

    # ------------------------------------------------------------------ network
    def reset(self) -> None:
        """Start training again: new network from the seed, new optimizer, no history."""
        with self.lock:
            s, data = self.settings, self.data
            names = s["features"]
            kind = data.kind
            if kind == "regression":  # the article's cost, C = (1/n) Σ (y − ŷ)²
                n_out, out_act, loss = 1, "identity", "mse"
            else:  # the estimators' recipe: "cross_entropy" is their log loss
                n_out = 1 if kind == "binary" else len(data.classes)
                out_act, loss = registry.recipe(
                    "log_loss" if s["loss"] == "cross_entropy" else "mse",
                    multiclass=kind == "multiclass",
                )
            self.net = nnmath.Network(
                [len(names), *s["hidden"], n_out],
                activation=s["activation"],
                output_activation=out_act,
                loss=loss,
                random_state=np.random.default_rng([s["seed"], 1]),
            )
            X = self.net.check_X(datasets.features(data.points, names))
            if kind == "multiclass":
                Y = np.eye(n_out)[data.target]
            else:
                Y = data.target.reshape(-1, 1).astype(float)
            Y = self.net.check_y(Y, X.shape[0])
            k = self.n_train
            self.X_train, self.Y_train, self.X_test, self.Y_test = X[:k], Y[:k], X[k:], Y[k:]
            self.grid_X = self.net.check_X(datasets.features(self.grid_points, names))
            self.output_X = self.net.check_X(datasets.features(self.output_points, names))
            # a regression target's range [lo, hi] maps to the colour scale's [−1, 1]
            lo, hi = (float(data.target.min()), float(data.target.max()))
            regression = kind == "regression"
            self.target_center = (lo + hi) / 2 if regression else 0.0
            self.target_scale = max((hi - lo) / 2, 1e-9) if regression else 1.0
            self.optimizer = self._optimizer_class()(s["learning_rate"])
            self.history = nnmath.History()
            self.rng = np.random.default_rng([s["seed"], 2])
            self.pick_rng = np.random.default_rng([s["seed"], 3])
            self.error = None
            self.sample = None
            self.version += 1
            self.config_version += 1

    @property
    def epoch(self) -> int:
        """Epochs trained since the last reset."""
        return self.history.n_iter

    def train(self, epochs: int) -> None:
        """Train ``epochs`` epochs with the session's settings (in place).

        Training that diverges stops the session (``playing`` False) and sets ``error``;
        the network keeps its last finite weights.
        """
        with self.lock:
            if self.error is not None:
                self.playing = False
                return
            s = self.settings
            settings = training.Settings(
                max_epochs=int(epochs),
                batch_size=s["batch_size"],
                learning_rate_init=s["learning_rate"],  # the rate of every step
                alpha=s["l2"],
                l1=s["l1"],
                tol=None,
                dropout=False,
            )
            try:
                training.train(
                    self.net,
                    self.X_train,
                    self.Y_train,
                    self.optimizer,
                    settings,
                    rng=self.rng,
                    history=self.history,
                )
            except nnmath.DivergenceError as exc:
                self.error = str(exc)
                self.playing = False
            self.version += 1

    def train_for(self, seconds: float, max_epochs: int = 100_000) -> int:
        """Train whole epochs for about ``seconds`` (at least one); returns how many.

        Examples
        --------
        >>> s = Session({"points": 50})
        >>> s.train_for(0.01) >= 1
        True
        """
        started = time.perf_counter()
        done, chunk = 0, 1
        while done < max_epochs:
            t0 = time.perf_counter()
            self.train(chunk)
            done += chunk
            now = time.perf_counter()
            left = seconds - (now - started)
            if left <= 0 or self.error is not None:
                break
            per_epoch = max((now - t0) / chunk, 1e-6)
            chunk = int(min(max(1, left / per_epoch), max_epochs - done))
        return done

    # ------------------------------------------------------------------ frames
    def losses(self) -> tuple[float, float | None]:
        """Return the cost C on the training set and on the test set (without the L2 term)."""
        with self.lock, np.errstate(all="ignore"):
            train = float(self.net.objective(self.X_train, self.Y_train))
            test = float(self.net.objective(self.X_test, self.Y_test)) if len(self.X_test) else None
        return train, test

    def accuracies(self) -> tuple[float | None, float | None]:
        """Return the share of training and of test samples classified right.

        A binary output says class 1 where ŷ > 0.5, several outputs say the class of the
        largest; a regression, or a test set with no samples, has None.
        """
        if self.data.kind == "regression":
            return None, None

        def share(X: np.ndarray, Y: np.ndarray) -> float | None:
            if not len(X):
                return None
            y_hat = np.asarray(self.net.propagate(X))
            if y_hat.shape[1] == 1:
                return float(np.mean((y_hat[:, 0] > 0.5) == (Y[:, 0] > 0.5)))
            return float(np.mean(y_hat.argmax(axis=1) == Y.argmax(axis=1)))

        with self.lock, np.errstate(all="ignore"):
            return share(self.X_train, self.Y_train), share(self.X_test, self.Y_test)

    def _encode_layer(self, l: int, a: np.ndarray) -> list[str]:
        """Encode each unit of layer l (1-based) on the grid, mapped to one colour scale.

        The scale is −1 to 1 for hidden units, a probability p as 2p − 1, a regression
        output by the targets' scale.
        """
        last = l == self.net.n_layers
        if last and self.data.kind != "regression":
            a = 2 * a - 1
        elif last:
            a = (a - self.target_center) / self.target_scale
        return [_to_bytes(a[:, j], -1.0, 1.0) for j in range(a.shape[1])]

    def frame(self) -> dict:
        """Return what the page draws.

        That is the epoch, costs, the output and every neuron on the grid, the weights and
        biases.

        Returns
        -------
        dict
            ``epoch``, ``train_loss``, ``test_loss``, ``train_accuracy`` and
            ``test_accuracy`` (None for a regression), ``neurons`` (per layer, per unit:
            GRID × GRID bytes in base64, row 0 at the top, 0 = −1, 255 = +1 on the
            colour scale), ``output`` (the output over the finer OUTPUT_GRID ×
            OUTPUT_GRID grid: the output neuron on the same colour scale, or for
            several classes their probabilities, OUTPUT_GRID² × k bytes of p·255),
            ``weights``, ``biases``, ``playing``, ``error``.
        """
        with self.lock, np.errstate(all="ignore"):
            record = self.net.propagate(self.grid_X, record=True)
            neurons = [self._encode_layer(l, rec.a) for l, rec in enumerate(record.layers, 1)]
            y_hat = self.net.propagate(self.output_X)
            if self.data.kind == "multiclass":
                output = _to_bytes(y_hat.ravel(), 0.0, 1.0)
            else:
                output = self._encode_layer(self.net.n_layers, y_hat)[0]
            train_loss, test_loss = self.losses()
            train_accuracy, test_accuracy = self.accuracies()
            return {
                "type": "frame",
                "epoch": self.epoch,
                "config_version": self.config_version,
                "train_loss": _finite(train_loss),
                "test_loss": _finite(test_loss),
                "train_accuracy": train_accuracy,
                "test_accuracy": test_accuracy,
                "neurons": neurons,
                "output": output,
                "weights": [W.tolist() for W in self.net.W],
                "biases": [b.tolist() for b in self.net.b],
                "playing": self.playing,
                "error": self.error,
                "sample": self.sample,
            }

    def config(self) -> dict:
        """Return what the page needs to draw the session: settings, data, features, layers."""
        with self.lock:
            data, names, k = self.data, self.settings["features"], self.n_train
            every = list(datasets.FEATURES)
            feats = datasets.features(self.grid_points, every)
            scale = np.maximum(np.abs(feats).max(axis=0), 1e-9)
            table = self.table
            return {
                "type": "config",
                "version": self.config_version,
                "settings": dict(self.settings),
                "activation_choices": list(ACTIVATIONS),
                "kind": data.kind,
                "classes": data.classes,
                "axes": list(data.axes),
                "target_name": data.target_name,
                "target_center": self.target_center,
                "target_scale": self.target_scale,
                "extent": self.extent,
                "grid": GRID,
                "output_grid": OUTPUT_GRID,
                "features": [
                    {
                        "name": f,
                        "label": datasets.FEATURES[f][0],
                        "enabled": f in names,
                        "heat": _to_bytes(feats[:, j] / scale[j], -1.0, 1.0),
                    }
                    for j, f in enumerate(every)
                ],
                "layer_sizes": self.net.layer_sizes,
                "activations": [a.name for a in self.net.activations],
                "loss": self.net.loss.name,
                "n_parameters": self.net.n_parameters,
                "train": {
                    "points": np.round(data.points[:k], 4).tolist(),
                    "target": data.target[:k].tolist(),
                },
                "test": {
                    "points": np.round(data.points[k:], 4).tolist(),
                    "target": data.target[k:].tolist(),
                },
                "onnx": importlib.util.find_spec("onnx") is not None,
                "upload": None
                if table is None
                else {
                    "name": table.name,
                    "columns": table.columns,
                    "numeric": table.numeric,
                    "rows": len(table.frame),
                    "missing": {c: n for c, n in table.missing.items() if n},
                },
                "missing": data.missing,
                "formula_presets": dict(datasets.FORMULA_PRESETS),
                "curve": datasets.curve_points(
                    self.settings["formula"], self.extent[0], self.extent[1]
                )
                if self.settings["dataset"] == "curve"
                else [],
                "boundary": datasets.boundary_segments(self.settings["formula"], self.extent)
                if self.settings["dataset"] == "curve"
                and datasets.parse_formula(self.settings["formula"]).surface
                else [],
            }

    # ------------------------------------------------------------------ the math
    def explain(self, sample: int) -> dict:
        """Explain one gradient-descent step on training sample ``sample`` alone.

        The step starts from the current weights; the network is left unchanged.

        Raises
        ------
        SettingError
            ``sample`` is not the index of a training sample.
        """
        with self.lock:
            n = self.n_train
            if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)):
                raise SettingError(
                    "sample", f"sample must be a training sample index; got {sample!r}"
                )
            if not 0 <= sample < n:
                raise SettingError(
                    "sample",
                    f"sample must be a training sample index from 0 to {n - 1}; got {sample}",
                )
            self.sample = int(sample)
            s = self.settings
            with np.errstate(all="ignore"):
                trace = explain(
                    self.net,
                    self.X_train[sample],
                    self.Y_train[sample],
                    learning_rate=s["learning_rate"],
                    l2_penalty=s["l2"],
                    sample=(self.X_train, self.Y_train),  # the units, judged over the data
                    l1_penalty=s["l1"],
                )
            page = trace_for_page(trace, self.net.n_layers)
            x1, x2 = self.data.points[sample]
            target = self.data.target[sample]
            page.update(
                {
                    "type": "math",
                    "sample": self.sample,
                    "point": [float(x1), float(x2)],
                    "target": self.data.classes[target] if self.data.classes else float(target),
                    "epoch": self.epoch,
                    "optimizer": s["optimizer"],
                    "batch_size": s["batch_size"],
                    "n_train": n,
                    "inputs": [datasets.FEATURES[f][0] for f in s["features"]],
                }
            )
            self.version += 1
            return page

    def step(self) -> dict:
        """Train one epoch, and explain a gradient-descent step on the chosen sample.

        The sample is a random training sample until one is chosen; the step starts from
        the weights the epoch started with.

        Examples
        --------
        >>> s = Session({"points": 40})
        >>> math = s.step()
        >>> s.epoch, math["epoch"], math["steps"][0]["name"]
        (1, 0, 'weighted sum, layer 1')
        """
        with self.lock:
            sample = self.sample
            if sample is None:
                sample = int(self.pick_rng.integers(self.n_train))
            page = self.explain(sample)
            self.playing = False
            self.train(1)
            page["trained"] = self.epoch
            return page

    # ------------------------------------------------------------------ keep it
    def model_file(self) -> bytes:
        """Return the network as a nnmath model file (safetensors; :func:`nnmath.load` reads it)."""
        with self.lock:
            return nnmath.io.to_bytes(self.net)

    def onnx_file(self) -> bytes:
        """Return the network as an ONNX graph (input ``X``: the features, output ``y_hat``).

        Raises
        ------
        ImportError
            The onnx package is not installed.
        """
        from nnmath.onnx_export import to_onnx

        with self.lock:
            return to_onnx(self.net).SerializeToString()


def _grid(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """Return the centres of n × n cells over [lo, hi], row by row from the top: shape (n², 2)."""
    step = (hi - lo) / n
    xs = lo[0] + step[0] * (np.arange(n) + 0.5)
    ys = hi[1] - step[1] * (np.arange(n) + 0.5)  # row 0 is the top of the picture
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def _finite(v: float | None) -> float | None:
    """JSON has no NaN or infinity: a cost that is not finite travels as None."""
    return v if v is not None and math.isfinite(v) else None
