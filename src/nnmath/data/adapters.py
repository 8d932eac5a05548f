"""What an estimator's fit asks of its training data: one adapter per kind of data.

The estimators fit on three kinds of data: arrays in memory (of any array library, X
perhaps sparse; :class:`ArrayInput`), a data source read chunk by chunk
(:class:`nnmath.data.sources.Chunks` or :class:`~nnmath.data.sources.InMemory`, given
to ``fit_data``; :class:`SourceInput`) and Dask collections
(:class:`nnmath.data.cluster.CollectionInput`). Each adapter answers the same
questions, which the estimators' one fit asks in this order:

1. :meth:`TrainingInput.check`: X checked; its number of features and their names
   (``n_features_in_`` and ``feature_names_in_``, set on the estimator by a first fit,
   compared by a later one), its float dtype, its array library and device;
2. :meth:`~TrainingInput.labels` (a classifier's labels, for the label encoding) or
   :meth:`~TrainingInput.target_width` (a regressor's number of outputs);
3. :meth:`~TrainingInput.encode`: y as the network's targets, sample weights checked
   (:class:`Encoding` says how);
4. :meth:`~TrainingInput.weigh`: each row's weight times its class's weight, from the
   classes' counts in the data;
5. :meth:`~TrainingInput.split` (``validation_fraction``) or
   :meth:`~TrainingInput.validation_set` (``validation_data``): the validation set;
6. :meth:`~TrainingInput.data`: the encoded :class:`~nnmath.data.sources.Data` that the
   training loop reads.

Example
-------
>>> import numpy as np
>>> from sklearn.neural_network import MLPRegressor
>>> source = ArrayInput(np.ones((4, 2)), [1.0, 2.0, 3.0, 4.0])
>>> source.check(MLPRegressor(), reset=True, numeric_y=True)
>>> source.n_features, source.dtype, source.target_width("targets")
(2, dtype('float64'), 1)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nnmath.core import arrays
from nnmath.data.checks import (
    check_weights_by_class,
    class_counts,
    sample_weight_of,
    weights_by_class,
)
from nnmath.data.sources import Chunks, Data, InMemory

__all__ = ["ArrayInput", "Encoding", "Held", "Labels", "SourceInput", "TrainingInput"]


@dataclass
class Labels:
    """A classifier's labels, as the label encoding needs them.

    Attributes
    ----------
    fit_on : array-like or None
        What a first fit fits the label encoding on (y itself, its distinct labels, or
        the classes given).
    seen : ndarray or None
        The distinct labels of y, for a later fit to compare with the classes it knows;
        None when there is nothing to compare (a multilabel indicator, labels not read
        before training, or a first fit).
    """

    fit_on: Any
    seen: np.ndarray | None


@dataclass
class Encoding:
    """How a fit turns y into the network's targets.

    Attributes
    ----------
    targets : callable
        ``targets(y, X)``: checked labels or targets in memory as the network's targets,
        of shape (n_samples, n_outputs), in X's library and dtype.
    chunk_checks : callable
        ``chunk_checks()`` returns a :class:`nnmath.data.cluster.ChunkChecks`: a chunk's
        (X, y, sample_weight) checked and encoded, in the network's (NumPy) dtype.
    label_dtype : callable
        ``label_dtype()`` returns the NumPy dtype of y as a scorer takes it (labels, or
        the targets' floats).
    """

    targets: Callable
    chunk_checks: Callable
    label_dtype: Callable


@dataclass
class Held:
    """A validation set held out of training.

    ``X``, ``y`` and ``sample_weight`` (None: every weight 1) as a scorer takes them; a
    ``data`` of encoded chunks when they are already the network's input (Dask), None
    when the estimator still encodes ``y``.
    """

    X: Any
    y: Any
    sample_weight: Any = None
    data: Data | None = None


class TrainingInput:
    """The questions an estimator's fit asks of its data (see the module's docstring).

    This is a base class: see :class:`ArrayInput`, :class:`SourceInput` and
    :class:`nnmath.data.cluster.CollectionInput`. After :meth:`check`, ``n_features``
    and ``dtype`` are set; ``xp`` and ``device`` say where the network will live.

    Examples
    --------
    >>> TrainingInput.splits
    True
    """

    n_features: int
    dtype: Any
    xp: Any = np
    device: Any = "cpu"
    #: Whether the data can split a validation set off itself (validation_fraction).
    splits: bool = True

    def check(self, estimator, reset: bool, numeric_y: bool) -> None:
        """Check X (and y); a first fit (``reset``) sets the estimator's features.

        ``numeric_y``: y holds numbers (a regressor's targets), not labels.
        """
        raise NotImplementedError

    def labels(self, fresh: bool, what: str = "labels") -> Labels:
        """Return the labels of y; ``fresh``: the label encoding is fitted anew."""
        raise NotImplementedError

    def multilabel(self) -> bool:
        """Return True when y is a multilabel indicator."""
        return False

    def check_classes(self, classes) -> None:
        """Raise ValueError when a classifier cannot be fitted on these classes."""

    def target_width(self, what: str = "targets") -> int:
        """Return the number of columns of y (a regressor's outputs)."""
        raise NotImplementedError

    def encode(self, encoding: Encoding) -> None:
        """Encode y as the network's targets and check the sample weights."""
        raise NotImplementedError

    def adopt(self, adopt_X: Callable, adopt_Y: Callable) -> None:
        """Bring the encoded data to the network's dtype (a later fit's network)."""

    def weigh(self, weights_of: Callable, n_classes: int) -> None:
        """Multiply each row's weight by its class's weight.

        ``weights_of(counts)`` returns the weight of each class; ``counts()`` is the
        weight of each class in the data (Σ of its rows' sample weights), computed when
        asked for.
        """
        raise NotImplementedError

    def like(self):
        """Return an array of the network's input kind and dtype (for validation data)."""
        raise NotImplementedError

    def validation_set(self, X_val, y_val, network) -> Held | None:
        """Return ``validation_data`` held where the data lives; None: in memory."""
        return None

    def split(self, fraction: float, random_state, rng, stratify: bool, network) -> Held:
        """Split a ``fraction`` of the rows off as the validation set.

        ``random_state`` is scikit-learn's stream (its ``train_test_split``), ``rng`` a
        Generator for data split where it lives; ``stratify``: by the encoded column.
        """
        raise ValueError(
            "early_stopping=True on a data source needs validation_data=(X_val, y_val)"
        )

    def data(self, network) -> Data:
        """Return the encoded data that the training loop reads."""
        raise NotImplementedError


class ArrayInput(TrainingInput):
    """X, y and sample_weight in memory: arrays of any array library (X may be sparse).

    They are checked by scikit-learn's ``validate_data``, as scikit-learn's estimators
    check theirs.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), optional
    xp, device
        The array library and device the network trains in (NumPy, "cpu" by default).
    dtypes : tuple, optional
        The float dtypes X may keep, the first one for any other (default float64 then
        float32 of ``xp``).

    Examples
    --------
    >>> from sklearn.neural_network import MLPClassifier
    >>> source = ArrayInput(np.eye(3), ["a", "b", "a"])
    >>> source.check(MLPClassifier(), reset=True, numeric_y=False)
    >>> source.labels(fresh=False).seen.tolist()
    ['a', 'b']
    """

    def __init__(self, X, y, sample_weight=None, xp=np, device="cpu", dtypes=None):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.Y = None
        self.xp, self.device = xp, device
        self.dtypes = dtypes if dtypes is not None else (xp.float64, xp.float32)

    def check(self, estimator, reset: bool, numeric_y: bool) -> None:
        """Check X and y with scikit-learn's ``validate_data`` (which sets the features)."""
        from sklearn.utils.validation import column_or_1d, validate_data

        X, y = validate_data(
            estimator,
            self.X,
            self.y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=numeric_y,
            dtype=self.dtypes,
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        self.X, self.y = X, y
        self.n_features, self.dtype = X.shape[1], X.dtype

    def labels(self, fresh: bool, what: str = "labels") -> Labels:
        """Return y (checked to hold class labels) and, for a later fit, its distinct labels."""
        from sklearn.utils.multiclass import check_classification_targets

        check_classification_targets(self.y)
        seen = None
        if not fresh:
            host = arrays.to_numpy(self.y)
            seen = np.unique(host) if host.ndim == 1 else None
        return Labels(self.y, seen)

    def multilabel(self) -> bool:
        """Return True when y is a multilabel indicator (scikit-learn's ``type_of_target``)."""
        from sklearn.utils.multiclass import type_of_target

        return type_of_target(self.y).startswith("multilabel")

    def target_width(self, what: str = "targets") -> int:
        """Return y's number of columns."""
        return 1 if self.y.ndim == 1 else int(self.y.shape[1])

    def encode(self, encoding: Encoding) -> None:
        """Encode y in X's library and dtype; check sample_weight (moved to X's device)."""
        X, w = self.X, self.sample_weight
        self.Y = encoding.targets(self.y, X)
        if w is not None:
            if self.xp is not np:  # weights of another library or device come to X's
                w = arrays.move_to(w, self.xp, self.device)
            w = sample_weight_of(w, X.shape[0], X.dtype, like=None if self.xp is np else X)
        self.sample_weight = w

    def adopt(self, adopt_X: Callable, adopt_Y: Callable) -> None:
        """Bring X and the targets to the network's dtype."""
        self.X, self.Y = adopt_X(self.X), adopt_Y(self.Y, "y")

    def weigh(self, weights_of: Callable, n_classes: int) -> None:
        """Weigh the rows by their class, counted in the encoded targets."""
        Y, w = self.Y, self.sample_weight
        weights = weights_of(lambda: class_counts(Y, n_classes, w))
        w = weights_by_class(Y, weights, w)
        check_weights_by_class(float(arrays.namespace_of(w).sum(w)))
        self.sample_weight = w

    def like(self):
        """Return X (checked)."""
        return self.X

    def split(self, fraction: float, random_state, rng, stratify: bool, network) -> Held:
        """Split off the validation set with scikit-learn's ``train_test_split``."""
        from sklearn.model_selection import train_test_split

        X, Y, y, w = self.X, self.Y, self.y, self.sample_weight
        # scikit-learn's stratification: the encoded column as booleans, on the host
        by = arrays.to_numpy(Y).astype(bool) if stratify else None
        parts = train_test_split(
            *([X, Y, y] + ([w] if w is not None else [])),
            random_state=random_state,
            test_size=fraction,
            stratify=by,
        )
        X_tr, X_val, Y_tr, _, _, y_val = parts[:6]
        w_tr, w_val = (parts[6], parts[7]) if w is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size "
                "of your dataset."
            )
        self.X, self.Y, self.sample_weight = X_tr, Y_tr, w_tr
        return Held(X_val, y_val, w_val)

    def data(self, network) -> Data:
        """Return the arrays as :class:`~nnmath.data.sources.InMemory`."""
        return InMemory(self.X, self.Y, self.sample_weight)


def _parts(chunk) -> tuple:
    """Return a data source's chunk as (X, y, sample_weight), checked to be one."""
    if not (isinstance(chunk, (tuple, list)) and len(chunk) >= 3):
        got = type(chunk).__name__
        if isinstance(chunk, (tuple, list)):
            got += f" of {len(chunk)}"
        raise ValueError(
            "each chunk of fit_data's data must be a tuple (X, y, sample_weight); a "
            f"loader returned a {got}"
        )
    if chunk[1] is None:
        raise ValueError(
            "a chunk's y is None; fit_data's chunks are (X, y, sample_weight), y the "
            "chunk's labels (a classifier) or targets (a regressor)"
        )
    return tuple(chunk[:3])


class SourceInput(TrainingInput):
    """A data source of ``fit_data``: chunks ``(X, y, sample_weight)`` of raw rows.

    Each chunk is checked and encoded when the loop loads it; the first one is loaded
    once more by :meth:`check`, for the number of features. The labels are the classes
    given (a classifier), not read from the data. A data source has no
    ``validation_fraction`` split.

    Parameters
    ----------
    source : nnmath.data.sources.Chunks or nnmath.data.sources.InMemory
    classes : array-like, optional
        Every label of the data (a classifier's first fit needs them).

    Examples
    --------
    >>> from sklearn.neural_network import MLPRegressor
    >>> X = np.arange(6.0).reshape(3, 2)
    >>> source = SourceInput(Chunks([lambda: (X, [1.0, 2.0, 3.0], None)], 3))
    >>> source.check(MLPRegressor(), reset=True, numeric_y=True)
    >>> source.n_features, source.target_width()
    (2, 1)
    """

    splits = False

    def __init__(self, source, classes=None):
        if not isinstance(source, (Chunks, InMemory)):
            raise TypeError(
                "data must be a nnmath.data.sources.Chunks or InMemory; got "
                f"{type(source).__name__}"
            )
        self.source, self.classes = source, classes
        self.checks: Any = None
        self.total_weight: float | None = None
        self.n_outputs = 0

    def check(self, estimator, reset: bool, numeric_y: bool) -> None:
        """Load the first chunk for the number of features and the dtype."""
        source = self.source
        first = _parts(source.load(0) if isinstance(source, Chunks) else next(source.chunks()))
        X0 = np.asarray(first[0])
        if X0.ndim != 2:
            raise ValueError(f"a chunk's X must be 2-D; got shape {X0.shape}")
        self.first_y = first[1]
        self.n_features = X0.shape[1]
        self.dtype = X0.dtype if X0.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        if reset:
            estimator.n_features_in_ = X0.shape[1]
            if hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_

    def labels(self, fresh: bool, what: str = "labels") -> Labels:
        """Return the classes given (a first fit needs them)."""
        if fresh and self.classes is None:
            raise ValueError("fit_data needs classes=: every label of the data")
        if self.classes is None:
            return Labels(None, None)
        classes = np.asarray(self.classes)
        if classes.ndim != 1:
            raise ValueError(
                f"classes must be a list of every label of the data, 1-D; got {self.classes!r:.100}"
            )
        return Labels(classes, None)

    def check_classes(self, classes) -> None:
        """Raise ValueError for fewer than two classes."""
        if classes.shape[0] < 2:
            raise ValueError("a classifier needs at least two classes")

    def target_width(self, what: str = "targets") -> int:
        """Return the number of columns of the first chunk's y."""
        y0 = np.asarray(self.first_y)
        return int(y0.shape[1]) if y0.ndim == 2 else 1

    def encode(self, encoding: Encoding) -> None:
        """Keep the checks that each chunk goes through when it is loaded."""
        self.checks = encoding.chunk_checks()

    def weigh(self, weights_of: Callable, n_classes: int) -> None:
        """Weigh the rows by their class, counted in one pass over the chunks."""
        # One pass over the chunks, for the weight of each class: "balanced" needs it,
        # and so does Σw (the rows' weights change with their class).
        counts = np.zeros(n_classes)
        if self.checks.classes is not None:  # single-label
            for chunk in map(_parts, self.source.chunks()):
                if np.shape(chunk[0])[0]:
                    _, Y, w = self.checks(*chunk)[:3]
                    counts += class_counts(Y, n_classes, w)
        weights = weights_of(lambda: counts)
        self.total_weight = float((weights * counts).sum())  # Σ over the classes
        check_weights_by_class(self.total_weight)
        self.checks = copy.copy(self.checks)
        self.checks.class_weight = weights

    def like(self):
        """Return an empty array of the network's dtype and number of inputs."""
        return np.empty((0, self.checks.n_features), self.checks.dtype)

    def _checked(self, chunk: tuple) -> tuple:
        X, y, w = _parts(chunk)
        checks = self.checks
        if np.shape(X)[0] == 0:  # a chunk with no rows (all held out, say): nothing
            Y = np.empty((0, self.n_outputs), checks.dtype)
            return np.empty((0, checks.n_features), checks.dtype), Y, None
        X, Y, w = checks(X, y, w)[:3]
        if Y.shape[1] != self.n_outputs:
            raise ValueError(
                f"a chunk's y has {Y.shape[1]} column(s) but the first chunk's had "
                f"{self.n_outputs}; every chunk's y has as many"
            )
        return X, Y, w

    def data(self, network) -> Data:
        """Return the chunks, each checked and encoded when it is loaded."""
        source = self.source
        self.n_outputs = network.layer_sizes[-1]
        if isinstance(source, Chunks):

            def loader(k: int):
                return lambda: self._checked(source.load(k))

            total = source.total_weight if self.total_weight is None else self.total_weight
            return Chunks([loader(k) for k in range(source.n_chunks)], source.n_samples, total)
        return InMemory(*self._checked((source.X, source.Y, source.sample_weight)))
