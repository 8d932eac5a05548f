"""The model the command trains on a table: preprocessing, a network, a scaled target.

``train``, ``cv`` and ``tune`` build the same thing from the same options:

* the estimator (:func:`make_estimator`) with early stopping on a held-out validation
  split (:func:`validation_split`, stratified for classes);
* for regression, the target standardized while training, y' = (y − μ) / s (y' = y / s
  for the Poisson loss, whose targets stay ≥ 0), so that the learning rate means the
  same whatever the target's units; after training, the scaling is folded into the
  output layer (:func:`fold_target_scaling`), W_L ← s·W_L and b_L ← s·b_L + μ (for an
  exp output, b_L ← b_L + ln s), so the model predicts in the target's units and its
  ONNX graph needs nothing more;
* the check that training did not fail (:func:`training_failure`).

:class:`TableModel` is the one flow that puts them together, over :class:`Rows` in
memory, in chunks or on a Dask cluster, and a scikit-learn estimator over a table, for
``cross_validate`` and the successive-halving search.

Example
-------
>>> import numpy as np
>>> from nnmath import MLPRegressor
>>> X = np.linspace(0, 1, 20).reshape(-1, 1); y = 1000 + 50 * X.ravel()
>>> scaling = {"mean": y.mean(), "scale": y.std()}
>>> reg = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", random_state=0)
>>> reg = reg.fit(X, scale_target(y, scaling))
>>> fold_target_scaling(reg, scaling)
>>> bool(np.abs(reg.predict(X) - y).max() < 1)
True
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from nnmath.cli.messages import UsageError
from nnmath.cli.parser import MAX_SEED
from nnmath.core import registry

__all__ = [
    "CLASSIFICATION_LOSSES",
    "REGRESSION_LOSSES",
    "Rows",
    "TableModel",
    "ESTIMATOR_OPTIONS",
    "class_weight_for",
    "dropout_rates",
    "fold_target_scaling",
    "hidden_sizes",
    "loss_rose",
    "make_estimator",
    "neg_log_loss",
    "rows_in_memory",
    "scale_target",
    "target_scaling",
    "training_failure",
    "validation_split",
]

CLASSIFICATION_LOSSES = tuple(registry.losses_for("classification"))
REGRESSION_LOSSES = tuple(registry.losses_for("regression"))


def hidden_sizes(text: str) -> tuple[int, ...]:
    """--hidden as layer sizes.

    Examples
    --------
    >>> hidden_sizes("64,32")
    (64, 32)
    """
    try:
        sizes = tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise UsageError(
            f"--hidden must be comma-separated integers like 64,32; got {text!r}"
        ) from None
    if not sizes or any(s < 1 for s in sizes):
        raise UsageError(f"--hidden must be comma-separated integers >= 1; got {text!r}")
    return sizes


def dropout_rates(text: str, n_hidden: int) -> float | list[float]:
    """--dropout as one rate, or one per hidden layer.

    Examples
    --------
    >>> dropout_rates("0.2", 2), dropout_rates("0.2,0.1", 2)
    (0.2, [0.2, 0.1])
    """
    try:
        rates = [float(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        raise UsageError(f"--dropout must be a rate like 0.2, or 0.2,0.1; got {text!r}") from None
    if not rates or any(not 0 <= r < 1 for r in rates):
        raise UsageError(f"--dropout rates must be in [0, 1); got {text!r}")
    if len(rates) == 1:
        return rates[0]
    if len(rates) != n_hidden:
        raise UsageError(
            f"--dropout has {len(rates)} rates but --hidden has {n_hidden} layers; give one "
            "rate, or one per hidden layer"
        )
    return rates


def check_loss(loss: str | None, task: str) -> None:
    """Refuse a --loss that does not fit the task."""
    allowed = CLASSIFICATION_LOSSES if task == "classification" else REGRESSION_LOSSES
    if loss is not None and loss not in allowed:
        raise UsageError(f"--loss {loss} is not for {task}; use one of {', '.join(allowed)}")


#: The training options that the command's parser and a TableModel share by name
#: (make_estimator reads them).
ESTIMATOR_OPTIONS = (
    "activation",
    "solver",
    "alpha",
    "l1",
    "learning_rate",
    "batch_size",
    "epochs",
    "dropout",
    "loss",
    "patience",
    "seed",
    "class_weight",
)


def class_weight_for(class_weight, classes):
    """Return --class-weight as the classifier takes it, its classes named as ``classes``.

    "balanced" and None stay; the command's pairs (names as text) become a dict keyed by
    the classes they name: a class's text, or the number it is.

    Examples
    --------
    >>> class_weight_for({"1": 3.0}, np.array([0, 1]))
    {1: 3.0}
    """
    if not isinstance(class_weight, dict):
        return class_weight
    labels = np.asarray(classes).tolist()
    weights = {}
    for name, weight in class_weight.items():
        found = [c for c in labels if str(c) == name or _same_number(name, c)]
        if not found:
            shown = ", ".join(str(c) for c in labels[:20]) + (", …" if len(labels) > 20 else "")
            raise UsageError(
                f"--class-weight names {name!r}, which is not a class of the target; its "
                f"classes are {shown}"
            )
        weights[found[0]] = weight
    return weights


def _same_number(text: str, label) -> bool:
    if isinstance(label, (str, bool)):
        return False
    try:
        return float(text) == label
    except ValueError:
        return False


def make_estimator(task: str, options, *, early_stopping=False, classes=None, callbacks=None):
    """Build the MLPClassifier or MLPRegressor for the command's options.

    ``options`` holds them by name (a :class:`TableModel`): ``hidden``, the layer sizes,
    and the :data:`ESTIMATOR_OPTIONS`. ``class_weight`` is --class-weight's value; its
    class names are matched to ``classes`` (the target's). An option left None (``l1``,
    ``learning_rate``, ``batch_size``) takes the estimator's own default.

    Examples
    --------
    >>> make_estimator("regression", TableModel(hidden=(8,), solver="lbfgs")).hidden_layer_sizes
    (8,)
    """
    import nnmath

    hidden, dropout, solver, loss = options.hidden, options.dropout, options.solver, options.loss
    class_weight = options.class_weight
    check_loss(loss, task)
    if class_weight is not None and task != "classification":
        raise UsageError("--class-weight weighs classes; the target is a number (regression)")
    rates = dropout_rates(dropout, len(hidden)) if isinstance(dropout, str) else dropout
    if solver == "lbfgs" and any(rates if isinstance(rates, list) else [rates]):
        raise UsageError("--dropout needs a stochastic solver (adam, sgd or gd), not lbfgs")
    params = {
        "hidden_layer_sizes": tuple(hidden),
        "activation": options.activation,
        "solver": solver,
        "alpha": options.alpha,
        "max_iter": options.epochs,
        "random_state": options.seed,
        "dropout": rates,
        "n_iter_no_change": options.patience,
        "early_stopping": early_stopping,
        "verbose": 0,
        "callbacks": callbacks,
    }
    if options.batch_size is not None:
        params["batch_size"] = options.batch_size
    if options.learning_rate is not None:
        params["learning_rate_init"] = options.learning_rate
    if options.l1 is not None:
        params["l1"] = options.l1
    if task == "classification":
        # Early stopping watches the validation log loss: on a small validation set,
        # accuracy moves in steps and stalls too soon.
        params["scoring"] = neg_log_loss if early_stopping else None
        return nnmath.MLPClassifier(
            loss=loss or "log_loss",
            class_weight=class_weight_for(class_weight, classes),
            **params,
        )
    return nnmath.MLPRegressor(loss=loss or "squared_error", **params)


def neg_log_loss(estimator, X, y) -> float:
    """Return the negated log loss of a classifier on (X, y), over every class it knows.

    The number is scikit-learn's ``neg_log_loss`` scorer's with ``labels=classes_``,
    −(1/n) Σᵢ ln p̂ᵢ,yᵢ (probabilities clipped to [ε, 1 − ε] and each row renormalized),
    computed without the scorer's checks, which cost more than the epoch itself on a
    small table where early stopping scores every epoch. A label the classifier does not
    know falls back to scikit-learn's scorer. Model files store it by its name.

    Examples
    --------
    >>> from nnmath import MLPClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array(["a", "a", "b", "b"])
    >>> clf = MLPClassifier((4,), solver="lbfgs", random_state=0).fit(X, y)
    >>> from sklearn.metrics import log_loss
    >>> bool(np.isclose(neg_log_loss(clf, X, y), -log_loss(y, clf.predict_proba(X))))
    True
    """
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    classes = np.asarray(estimator.classes_)
    y = np.asarray(y)
    column = np.searchsorted(classes, y).clip(0, len(classes) - 1)
    if y.ndim != 1 or not np.array_equal(classes[column], y):
        from sklearn.metrics import log_loss

        return -float(log_loss(y, proba, labels=classes))
    eps = np.finfo(proba.dtype).eps
    proba = np.clip(proba, eps, 1 - eps)
    proba /= proba.sum(axis=1, keepdims=True)
    return float(np.mean(np.log(proba[np.arange(len(y)), column])))


def target_scaling(
    task: str, loss: str | None, mean: float | None, scale: float | None
) -> dict | None:
    """Say how a regression target is scaled for training.

    The scaling is {"mean": μ, "scale": s} (μ = 0 for the Poisson loss); None for
    classification.

    Examples
    --------
    >>> target_scaling("regression", None, 23.4, 7.8)
    {'mean': 23.4, 'scale': 7.8}
    """
    if task != "regression" or mean is None:
        return None
    scale = float(scale) if scale and math.isfinite(scale) else 1.0
    return {"mean": 0.0 if loss == "poisson" else float(mean), "scale": scale}


def scale_target(y: np.ndarray, scaling: dict | None) -> np.ndarray:
    """Scale a regression target: y' = (y − μ) / s."""
    if scaling is None:
        return y
    return (np.asarray(y, dtype=np.float64) - scaling["mean"]) / scaling["scale"]


def fold_target_scaling(model, scaling: dict | None) -> None:
    """Make a network trained on y' = (y − μ)/s predict y.

    W_L ← s·W_L, b_L ← s·b_L + μ for an identity output; b_L ← b_L + ln s for an exp
    output (μ = 0).
    """
    if scaling is None:
        return
    W, b = model.coefs_[-1], model.intercepts_[-1]
    s, mu = scaling["scale"], scaling["mean"]
    if model.out_activation_ == "exp":
        b[...] = b + math.log(s)
        return
    W[...] = W * s
    b[...] = b * s + mu


def validation_split(
    n: int,
    fraction: float,
    y,
    classification: bool,
    seed: int,
    note=None,
    inputs=None,
    category_inputs=(),
) -> tuple[np.ndarray, np.ndarray | None]:
    """Split the rows into (training rows, validation rows or None).

    The split is random; for classes it is stratified, and every class keeps rows in
    training: a class with a single row (too rare to split) stays in training whole,
    which ``note``, when given, is told in words. Given the encoded ``inputs``, shape
    (n, n_inputs), and the positions of their one-hot columns (``category_inputs``),
    every category keeps a row in training too: a category whose every row was drawn
    into validation gets one of them back (unless that would leave no validation row),
    since the network would otherwise never learn its input, yet be given it at
    prediction.

    Examples
    --------
    >>> y = np.array(["a"] * 10 + ["b"] * 9 + ["c"])
    >>> train, val = validation_split(20, 0.2, y, True, seed=0)
    >>> sorted(set(y[train].tolist())), len(val), 19 in train
    (['a', 'b', 'c'], 4, True)
    >>> X = np.zeros((20, 2)); X[:, 0] = 1; X[7] = [0, 1]  # row 7 alone holds category 1
    >>> train, val = validation_split(20, 0.5, None, False, seed=1)
    >>> 7 in val, len(val)
    (True, 10)
    >>> train, val = validation_split(20, 0.5, None, False, 1, inputs=X, category_inputs=[0, 1])
    >>> 7 in train, len(val)
    (True, 9)
    """
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    if not fraction:
        return idx, None
    if not classification:
        n_val = int(math.ceil(fraction * n))
        if n_val >= n:
            raise UsageError(
                f"--validation-fraction {fraction}: holding out {n_val} of {n} rows for "
                f"validation leaves none to train on; a validation set must leave rows to "
                f"train on: {_fractions_that_work(n, 1)}"
            )
        train, val = train_test_split(idx, test_size=n_val, random_state=seed)
        return _categories_in_training(train, val, inputs, category_inputs, note)
    labels, codes, counts = np.unique(
        np.asarray(y).astype(str), return_inverse=True, return_counts=True
    )
    rare = counts < 2
    kept = idx[~rare[codes]]
    n_val = max(1, int(math.ceil(fraction * n)))
    if len(kept) < n_val + 1:
        raise UsageError(
            f"--validation-fraction {fraction}: {n} rows leave too few to split off "
            f"{n_val} for validation; a validation set must leave rows to train on: "
            f"{_fractions_that_work(len(kept), 1, n)}"
        )
    try:  # stratified when the validation rows can hold every class
        train, val = train_test_split(
            kept, test_size=n_val, random_state=seed, stratify=codes[kept]
        )
    except ValueError:
        train, val = train_test_split(kept, test_size=n_val, random_state=seed)
    missing = np.setdiff1d(codes[kept], codes[train])
    if len(missing):  # a class drawn whole into validation goes back to training
        back = np.isin(codes[val], missing)
        train, val = np.concatenate([train, val[back]]), val[~back]
    if rare.any():
        train = np.concatenate([train, idx[rare[codes]]])
        if note is not None:
            names = ", ".join(repr(str(c)) for c in labels[rare][:5])
            more = " …" if int(rare.sum()) > 5 else ""
            note(
                f"class{'es' * bool(rare.sum() > 1)} {names}{more} with a single row: too rare "
                "to split, kept in training (the validation rows have none)"
            )
    return _categories_in_training(train, val, inputs, category_inputs, note)


def _fractions_that_work(n_split: int, n_left: int, n: int | None = None) -> str:
    """Say which validation fractions leave ``n_left`` of ``n_split`` rows to train on.

    ``n`` is all the rows (the fraction's base), when more than ``n_split`` can be split.

    Examples
    --------
    >>> _fractions_that_work(40, 1)
    'use a fraction of at most 0.975, or 0 for no validation'
    >>> _fractions_that_work(3, 1)
    'use a fraction of at most 0.666, or 0 for no validation'
    >>> _fractions_that_work(1, 1)
    'use 0 for no validation'
    """
    n = n_split if n is None else n
    n_val = n_split - n_left  # the most validation rows that leave n_left to train on
    if n_val < 1:
        return "use 0 for no validation"
    digits = 2 - math.floor(math.log10(n_val / n))  # three significant, rounded down
    most = math.floor(n_val / n * 10**digits + 1e-9) / 10**digits
    return f"use a fraction of at most {most:g}, or 0 for no validation"


def _categories_in_training(train, val, inputs, category_inputs, note):
    """Move back to training one validation row of each category that training lacks."""
    columns = np.asarray(category_inputs, dtype=np.intp)
    if inputs is None or not columns.size or not len(val):
        return train, val
    held = np.asarray(inputs)[val][:, columns] != 0  # (validation rows, categories)
    in_val = held.sum(axis=0)
    in_all = (np.asarray(inputs).sum(axis=0)[columns]).round()  # one-hot: a count
    lacking = np.flatnonzero((in_val > 0) & (in_all == in_val))
    back = np.zeros(len(val), dtype=bool)
    for j in lacking:
        if not (held[:, j] & back).any():
            back[np.flatnonzero(held[:, j])[0]] = True
    if not back.any() or back.all():
        return train, val
    if note is not None:
        count = int(back.sum())
        note(
            f"{count} row{'s' * (count > 1)} drawn for validation kept in training instead: "
            f"{'they hold' if count > 1 else 'it holds'} a category no training row has"
        )
    return np.concatenate([train, val[back]]), val[~back]


def loss_rose(model) -> str | None:
    """Say how far the training loss rose, when the last epoch's is over twice the first's.

    The words are "the training loss ended at …, far above where it started (…)"; None
    when the loss did not rise so.
    """
    curve = list(getattr(model, "loss_curve_", None) or [])
    if len(curve) >= 2 and curve[-1] > 2 * curve[0]:
        return (
            f"the training loss ended at {curve[-1]:.4g}, far above where it started "
            f"({curve[0]:.4g})"
        )
    return None


def training_failure(model, X: np.ndarray, y: np.ndarray) -> str | None:
    """Say why training failed, in words, or return None.

    Training failed with a loss that ended far above where it started (more than twice the
    first epoch's), a regressor far worse than predicting the mean (training R² < −1 on y
    as trained), a classifier far worse than predicting the class frequencies (twice their
    log loss).
    """
    rose = loss_rose(model)
    if rose:
        return rose
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if hasattr(model, "classes_"):
            from sklearn.metrics import log_loss

            proba = model.predict_proba(X)
            if not np.isfinite(proba).all():
                return "the predicted probabilities are not numbers"
            _, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
            share = counts / counts.sum()
            baseline = float(-(share * np.log(share)).sum())
            loss = log_loss(y, proba, labels=model.classes_)
            if baseline > 0 and loss > 2 * baseline:
                return (
                    f"the training log loss is {loss:.4g}, worse than predicting the class "
                    f"frequencies ({baseline:.4g})"
                )
            return None
        r2 = model.score(X, y)
    if not math.isfinite(r2) or r2 < -1:
        return f"the training R² is {r2:.4g}, far worse than predicting the mean"
    return None


class Rows(NamedTuple):
    """What :class:`TableModel` fits over: rows in memory, in chunks or on a cluster.

    ``fit(estimator, scaling)`` trains the estimator on the rows, the target scaled by
    ``scaling`` (:func:`scale_target`); ``validates`` says whether they hold validation
    rows, which early stopping then watches.
    """

    fit: Callable[[object, dict | None], None]
    validates: bool


def rows_in_memory(X, y, train, validation=None) -> Rows:
    """Return rows in memory as :class:`TableModel` fits them (the estimator's ``fit``).

    ``X`` (n_rows, n_inputs) are the encoded inputs, ``y`` (n_rows,) the encoded target;
    ``train`` and ``validation`` number the training rows and the validation rows (None:
    no validation set).

    Examples
    --------
    >>> rows_in_memory(np.zeros((4, 1)), np.arange(4.0), np.arange(3), np.array([3])).validates
    True
    """

    def fit(estimator, scaling):
        y_fit, val = scale_target(y, scaling), validation
        kwargs = {} if val is None else {"validation_data": (X[val], y_fit[val])}
        estimator.fit(X[train], y_fit[train], **kwargs)

    return Rows(fit, validation is not None)


class TableModel(BaseEstimator):
    """The command's one flow from a table to a model, and a scikit-learn estimator.

    The flow: the preprocessing fitted to the table; the target's scaling decided
    (:func:`target_scaling`); the estimator made (:func:`make_estimator`), with early
    stopping when the rows hold validation rows; the fit over the :class:`Rows`, which
    alone vary (in memory, :func:`rows_in_memory`; chunks or a Dask cluster,
    :mod:`nnmath.cli.stream`); the scaling folded into the output layer
    (:func:`fold_target_scaling`); the pipeline (``pipeline_``) that a model file holds.
    :meth:`fit` runs it all on a table (``cv``, ``tune``); ``train``, whose
    preprocessing comes from its own pass of statistics, runs :meth:`prepare` and
    :meth:`fit_prepared`.

    The parameters are the command's options; ``task`` is "classification" or
    "regression"; ``on_fit``, when given, is called with the model after each fit (a
    search's progress); ``stop_at``, when given, is a ``time.perf_counter()`` reading
    after which training stops at the end of its epoch (a search's budget), and
    ``stopped_`` says whether it did.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> table = pd.DataFrame({"x": np.linspace(0, 1, 40), "c": ["a", "b"] * 20})
    >>> model = TableModel(task="regression", hidden=(4,), solver="lbfgs")
    >>> model.fit(table, 100 + 10 * table["x"].to_numpy()).score(table, 100 + 10 * table["x"])
    0.99...
    """

    def __init__(
        self,
        task="classification",
        target=None,
        drop=(),
        categorical=(),
        numeric=(),
        impute=True,
        hidden=registry.ESTIMATOR_DEFAULTS["hidden_layer_sizes"],
        activation=registry.ESTIMATOR_DEFAULTS["activation"],
        solver=registry.ESTIMATOR_DEFAULTS["solver"],
        alpha=registry.ESTIMATOR_DEFAULTS["alpha"],
        learning_rate=None,
        batch_size=None,
        epochs=registry.ESTIMATOR_DEFAULTS["max_iter"],
        dropout=0.0,
        loss=None,
        patience=registry.ESTIMATOR_DEFAULTS["n_iter_no_change"],
        validation_fraction=registry.ESTIMATOR_DEFAULTS["validation_fraction"],
        l1=None,
        seed=0,
        on_fit=None,
        class_weight=None,
        stop_at=None,
    ):
        self.task = task
        self.target = target
        self.drop = drop
        self.categorical = categorical
        self.numeric = numeric
        self.impute = impute
        self.hidden = hidden
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.dropout = dropout
        self.loss = loss
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.l1 = l1
        self.seed = seed
        self.on_fit = on_fit
        self.class_weight = class_weight
        self.stop_at = stop_at

    @classmethod
    def from_args(cls, args, task: str) -> TableModel:
        """Return the model of the command's parsed options, for ``task``.

        Examples
        --------
        >>> from nnmath.cli.parser import build_parser
        >>> args = build_parser().parse_args(["train", "d.csv", "--hidden", "8,4"])
        >>> TableModel.from_args(args, "regression").hidden
        (8, 4)
        """
        return cls(
            task=task,
            hidden=hidden_sizes(args.hidden),
            validation_fraction=args.validation_fraction,
            **{name: getattr(args, name) for name in ESTIMATOR_OPTIONS},
        )

    def fit(self, table, y):
        """Fit the preprocessing on the table, then the network on its rows in memory."""
        from nnmath.preprocessing import TabularPreprocessor

        self._check_options()
        y = np.asarray(y)
        pre = TabularPreprocessor(
            self.target, self.impute, tuple(self.drop), tuple(self.categorical), tuple(self.numeric)
        )
        X = pre.fit(table).transform(table)
        classification = self.task == "classification"
        if not classification:
            y = y.astype(np.float64)
        train, val = validation_split(
            len(y),
            self.validation_fraction,
            y,
            classification,
            self.seed,
            inputs=X,
            category_inputs=pre.category_inputs(),
        )
        self.prepare(
            pre,
            rows_in_memory(X, y, train, val),
            mean=None if classification else y.mean(),
            scale=None if classification else y.std(),
            classes=np.unique(y) if classification else None,
        )
        self.fit_prepared()
        for w in self.warnings_:  # the fit's other warnings, as the fit would have given them
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return self

    def prepare(self, pre, rows, *, mean=None, scale=None, classes=None):
        """Make the estimator for a fitted preprocessing and the rows to fit; return self.

        ``rows`` are the :class:`Rows` to fit over; ``mean`` and ``scale`` are the
        regression target's, ``classes`` the classification target's. An option that
        does not fit the target (--class-weight) is refused here, before any training.

        Examples
        --------
        >>> from nnmath.preprocessing import TabularPreprocessor
        >>> table = {"x": np.linspace(0, 1, 20)}
        >>> pre = TabularPreprocessor().fit(table)
        >>> rows = rows_in_memory(pre.transform(table), 3 + 2 * table["x"], np.arange(20))
        >>> model = TableModel(task="regression").prepare(pre, rows, mean=4.0, scale=0.6)
        >>> model.scaling_, model.estimator_.early_stopping
        ({'mean': 4.0, 'scale': 0.6}, False)
        """
        self._check_options()
        self.pre_, self.rows_ = pre, rows
        self.scaling_ = target_scaling(self.task, self.loss, mean, scale)
        self.estimator_ = make_estimator(
            self.task,
            self,
            early_stopping=rows.validates and self.solver != "lbfgs",
            classes=classes,
            callbacks=None if self.stop_at is None else [self._past_stop_at],
        )
        return self

    def fit_prepared(self, callbacks=()):
        """Fit the prepared estimator over its rows; return self.

        ``callbacks`` (progress on the terminal) are called after each epoch of this fit
        only. The fit's warnings are kept in ``warnings_``, its seconds in ``seconds_``;
        a failed fit's ValueError (a divergence) is raised.

        Examples
        --------
        >>> from nnmath.preprocessing import TabularPreprocessor
        >>> table = {"x": np.linspace(0, 1, 20)}
        >>> pre = TabularPreprocessor().fit(table)
        >>> y = 300 + 20 * table["x"]
        >>> rows = rows_in_memory(pre.transform(table), y, np.arange(20))
        >>> model = TableModel(task="regression", hidden=(4,), solver="lbfgs")
        >>> model = model.prepare(pre, rows, mean=y.mean(), scale=y.std()).fit_prepared()
        >>> bool(np.abs(model.predict(table) - y).max() < 0.5)  # in the target's units
        True
        """
        from sklearn.pipeline import Pipeline

        estimator = self.estimator_
        kept = estimator.callbacks
        if callbacks:
            estimator.set_params(callbacks=[*callbacks, *(kept or ())])
        started = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self.rows_.fit(estimator, self.scaling_)
        finally:
            estimator.set_params(callbacks=kept)
        self.seconds_ = time.perf_counter() - started
        self.warnings_ = caught
        self.reached_epochs_ = any(issubclass(w.category, ConvergenceWarning) for w in caught)
        self.stopped_ = getattr(estimator, "stop_reason_", None) == "stopped by callback"
        fold_target_scaling(estimator, self.scaling_)
        self.pre_.target_scaling_ = self.scaling_
        self.pipeline_ = Pipeline([("preprocess", self.pre_), ("model", estimator)])
        self.rows_ = None  # no part of the model
        if self.task == "classification":
            self.classes_ = estimator.classes_
        if self.on_fit is not None:
            self.on_fit(self)
        return self

    def _check_options(self) -> None:
        """Raise ValueError (TypeError) for an option that no flow takes."""
        if self.task not in ("classification", "regression"):
            raise ValueError(
                f"task must be 'classification' or 'regression'; got {self.task!r:.100}"
            )
        hidden = self.hidden
        if not (
            isinstance(hidden, (tuple, list))
            and all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in hidden)
        ):
            raise ValueError(
                f"hidden must be a tuple of layer widths, e.g. (64, 32); got {hidden!r:.100}"
            )
        seed = self.seed
        if seed is not None and not (
            isinstance(seed, (int, np.integer))
            and not isinstance(seed, bool)
            and 0 <= seed <= MAX_SEED
        ):
            raise ValueError(
                f"seed must be an integer from 0 to {MAX_SEED}, or None; got {seed!r:.100}"
            )
        fraction = self.validation_fraction
        if not isinstance(fraction, (int, float, np.integer, np.floating)) or isinstance(
            fraction, bool
        ):
            raise ValueError(
                f"validation_fraction must be a number in [0, 1); got {fraction!r:.100}"
            )
        if not 0 <= fraction < 1:
            raise ValueError(
                "validation_fraction must be in [0, 1): the share of rows held out for "
                f"validation, which must leave rows to train on (0: none); got {fraction!r:.100}"
            )
        if self.on_fit is not None and not callable(self.on_fit):
            raise TypeError(f"on_fit must be callable or None; got {self.on_fit!r:.100}")

    def _past_stop_at(self, estimator, info: dict) -> bool:
        """Return True (stop training) once the clock has passed ``stop_at``."""
        return time.perf_counter() >= self.stop_at

    def predict(self, table) -> np.ndarray:
        """Labels, or values in the target's units."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(table)

    def predict_proba(self, table) -> np.ndarray:
        """Class probabilities (classification)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(table)

    def score(self, table, y) -> float:
        """Accuracy (classification) or R² (regression)."""
        from sklearn.metrics import accuracy_score, r2_score

        y_pred = self.predict(table)
        if self.task == "classification":
            return float(accuracy_score(np.asarray(y), y_pred))
        return float(r2_score(np.asarray(y, dtype=np.float64), y_pred))

    def __sklearn_tags__(self):
        """Return scikit-learn's tags, of a classifier or a regressor as the task is."""
        from sklearn.utils import ClassifierTags, RegressorTags

        tags = super().__sklearn_tags__()
        if self.task == "classification":
            tags.estimator_type, tags.classifier_tags = "classifier", ClassifierTags()
        else:
            tags.estimator_type, tags.regressor_tags = "regressor", RegressorTags()
        return tags
