"""The article's single neuron as a scikit-learn classifier.

A perceptron computes the weighted sum and the activation

    z = w·x + b,        ŷ = σ(z)

* ``activation="sigmoid"``: full-batch gradient descent on the article's cost
  C = (1/n) Σ (y − ŷ)², with ∂C/∂w = ∂C/∂ŷ · ∂ŷ/∂z · ∂z/∂w and ∂z/∂b = 1 — exactly a
  one-layer :class:`~nnmath.Network` trained by :func:`~nnmath.training.train`.
* ``activation="step"``: Rosenblatt's rule, w ← w + α(y − ŷ)x and b ← b + α(y − ŷ),
  one sample at a time, since the step's derivative is zero almost everywhere.

More than two classes are learned one-vs-rest: one neuron per class, all trained
together (the costs of independent neurons add up, so their gradients do not mix).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from nnmath import document as doc
from nnmath.core import arrays
from nnmath.core.optimizers import SGD
from nnmath.core.rng import as_generator
from nnmath.core.rosenblatt import rosenblatt_pass
from nnmath.data import cluster as distributed
from nnmath.data.checks import (
    check_weights_by_class,
    class_counts,
    class_weight_of,
    weights_by_class,
)
from nnmath.data.sources import Data, InMemory
from nnmath.dispatch import as_float, float_dtypes, input_namespace, labels_to, same_namespace
from nnmath.network import Network
from nnmath.training import History, Settings, train

__all__ = ["Perceptron"]

#: What a perceptron's pickle carries as it is, beside its document: scikit-learn's
#: per-instance configuration and labels of another array library than NumPy.
_PICKLED_AS_THEY_ARE = ("_metadata_request", "_sklearn_output_config", "classes_")


class Perceptron(ClassifierMixin, BaseEstimator):
    """The article's perceptron: z = w·x + b, ŷ = σ(z).

    Parameters
    ----------
    activation : {"sigmoid", "step"}, default "sigmoid"
        "sigmoid" ("logistic" is an alias) trains by gradient descent on the MSE cost;
        "step" by Rosenblatt's rule.
    learning_rate : float, default 0.1
        α > 0.
    max_iter : int, default 1000
        Iterations (full-batch gradient steps, or Rosenblatt passes over the data).
    tol : float or None, default 1e-6
        Gradient descent stops when the cost improved by less than ``tol`` for
        ``n_iter_no_change`` consecutive iterations; None runs exactly ``max_iter``.
        Rosenblatt's rule stops after a pass with no mistakes.
    n_iter_no_change : int, default 10
    random_state : int, Generator or None
        Seed of the initial weights (Glorot uniform).
    class_weight : dict, "balanced" or None, default None
        Weights of the classes, as scikit-learn's classifiers take them
        (``sklearn.utils.class_weight.compute_class_weight``): a dict ``{class: weight}``
        (classes it leaves out weigh 1), or "balanced", n / (n_classes · n_c). A sample
        of class c weighs w_c in the cost, C = Σ w_c L / Σ w_c, and Rosenblatt's rule
        moves w_c times as far on it: w ← w + α·w_c(y − ŷ)x.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,), or (n_classes, n_features) for > 2 classes
    intercept_ : float, or ndarray of shape (n_classes,) for > 2 classes
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
    loss_curve_ : list of float
        The cost C at every iteration (before that iteration's update).
    stop_reason_ : str
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = [0, 0, 0, 1]   # AND
    >>> clf = Perceptron(activation="step", random_state=0).fit(X, y)
    >>> clf.predict(X).tolist()
    [0, 0, 0, 1]
    """

    _parameter_constraints: dict = {
        "activation": [StrOptions({"sigmoid", "logistic", "step"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state", np.random.Generator],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        activation: str = "sigmoid",
        learning_rate: float = 0.1,
        max_iter: int = 1000,
        tol: float | None = 1e-6,
        n_iter_no_change: int = 10,
        random_state=None,
        class_weight=None,
    ):
        self.activation = activation
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.class_weight = class_weight

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y):
        """Learn w and b from X and labels y.

        X has shape (n_samples, n_features) and y shape (n_samples,), with at least two
        classes. Returns self.

        X and y may be Dask collections: the chunks stay on the cluster (see
        :mod:`nnmath.data.cluster`); gradient descent adds up the chunks' shares of each
        step, Rosenblatt's rule visits the chunks in order, one at a time.
        """
        self._validate_params()
        if distributed.is_collection(X):
            blocks = distributed.row_blocks(X, y)
            self.n_features_in_ = blocks.n_features
            if blocks.feature_names is not None:
                self.feature_names_in_ = blocks.feature_names
            labels = distributed.unique_labels(blocks)
            check_classification_targets(labels)
            binarizer = self._binarizer(labels)
            self._new_network(blocks.n_features, blocks.dtype, np, "cpu")
            class_weights = None
            if self.class_weight is not None:
                class_weights = self._class_weights(
                    lambda: distributed.class_counts(blocks, self.classes_)
                )
            checks = distributed.ChunkChecks(
                blocks.n_features,
                self.network_.dtype,
                encode=binarizer.transform,
                classes=self.classes_,
                class_weight=class_weights,
            )
            data = distributed.chunk_data(distributed.prepare(blocks, checks), self.network_)
        else:
            xp, device = input_namespace(X)
            X, y = validate_data(
                self, X, labels_to(y, xp, device), dtype=float_dtypes(xp), reset=True
            )
            check_classification_targets(y)
            binarizer = self._binarizer(y)
            Y = as_float(binarizer.transform(y), X)
            self._new_network(X.shape[1], X.dtype, xp, device)
            w = None
            if self.class_weight is not None:
                n_classes = len(self.classes_)
                w = weights_by_class(Y, self._class_weights(lambda: class_counts(Y, n_classes)))
                check_weights_by_class(float(arrays.namespace_of(w).sum(w)))
            data = InMemory(X, Y, w)
        try:
            history = self._train(data)
        finally:
            data.close()
        self.n_iter_ = history.n_iter
        self.loss_curve_ = history.loss_curve
        self.stop_reason_ = history.stop_reason
        if not history.converged and self.tol is not None:
            warnings.warn(
                f"Perceptron: max_iter={self.max_iter} reached before convergence; "
                "increase max_iter or learning_rate",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _class_weights(self, counts) -> np.ndarray:
        """Return each class's weight (``counts()``: each class's count, for "balanced")."""
        balanced = isinstance(self.class_weight, str)
        classes = arrays.to_numpy(self.classes_)
        return class_weight_of(self.class_weight, classes, counts() if balanced else None)

    def _binarizer(self, y) -> LabelBinarizer:
        binarizer = LabelBinarizer().fit(y)
        self.classes_ = binarizer.classes_
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"y has only one class ({self.classes_[0]!r}); a classifier needs at least two"
            )
        return binarizer

    def _new_network(self, n_features: int, dtype, xp, device) -> None:
        n_outputs = 1 if self.classes_.shape[0] == 2 else self.classes_.shape[0]
        self.network_ = Network(
            [n_features, n_outputs],
            activation="step" if self.activation == "step" else "sigmoid",
            loss="mse",
            dtype=dtype,
            random_state=as_generator(self.random_state),
            xp=xp,
            device=device,
        )

    def _train(self, data: Data) -> History:
        if self.activation == "step":
            return self._fit_rosenblatt(data)
        settings = Settings(
            max_epochs=self.max_iter,
            shuffle=False,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            epochs_name="max_iter",
        )
        return train(
            self.network_,
            data,
            None,
            SGD(learning_rate=self.learning_rate),
            settings,
            rng=as_generator(self.random_state),
        )

    def _fit_rosenblatt(self, data: Data) -> History:
        """Make passes of Rosenblatt's rule over the data's chunks, in order, until one is right.

        The passes (:func:`nnmath.core.rosenblatt.rosenblatt_pass`) go on until one makes
        no mistake, recording the article's cost after each.
        """
        history = History()
        for _ in range(self.max_iter):
            mistakes = 0
            for chunk in data.chunks():
                mistakes += rosenblatt_pass(
                    self.network_, chunk[0], chunk[1], self.learning_rate, sample_weight=chunk[2]
                )
            history.n_iter += 1
            history.loss_curve.append(data.objective(self.network_))  # the article's cost
            if mistakes == 0:
                history.converged = True
                history.stop_reason = "no misclassified samples in a full pass (converged)"
                return history
        history.stop_reason = f"max_iter={self.max_iter} reached"
        return history

    # ------------------------------------------------------------------ fitted views
    @property
    def coef_(self) -> np.ndarray:
        """w: shape (n_features,) for two classes, (n_classes, n_features) otherwise."""
        check_is_fitted(self, "network_")
        W = self.network_.W[0]
        return arrays.copy_of(W[:, 0]) if W.shape[1] == 1 else arrays.copy_of(W.T)

    @property
    def intercept_(self):
        """b: a float for two classes, shape (n_classes,) otherwise."""
        check_is_fitted(self, "network_")
        b = self.network_.b[0]
        return float(b[0]) if b.shape[0] == 1 else arrays.copy_of(b)

    def _check_X(self, X, method: str):
        check_is_fitted(self, "network_")
        same_namespace(self, X, method)
        xp, _ = input_namespace(X)
        X = validate_data(self, X, dtype=float_dtypes(xp), reset=False)
        return self.network_.adopt(X) if self.network_.xp is not np else X

    def _lazy(self, X, method: str, n_columns: int | None, dtype):
        check_is_fitted(self, "network_")
        return distributed.predict_rows(self, X, method, n_columns, dtype)

    def decision_function(self, X) -> np.ndarray:
        """Return z = w·x + b.

        The shape is (n_samples,) for two classes, else (n_samples, n_classes). A Dask X
        gives a lazy Dask array.
        """
        if distributed.is_collection(X):
            k = self.network_.layer_sizes[-1]
            return self._lazy(X, "decision_function", None if k == 1 else k, self.network_.dtype)
        return self._decision(X, "decision_function")

    def _decision(self, X, method: str):
        X = self._check_X(X, method)
        z = self.network_.propagate(X, record=True).layers[-1].z  # z = w·x + b
        return z[:, 0] if z.shape[1] == 1 else z

    def encode_labels(self, y) -> np.ndarray:
        """Encode labels y as the network's targets.

        The targets have shape (n_samples, 1) of 0 and 1 for two classes, one-hot rows of
        shape (n_samples, n_classes) for more (one-vs-rest).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]])
        >>> clf = Perceptron(random_state=0, max_iter=5).fit(X, [0, 0, 0, 1])
        >>> clf.encode_labels([1, 0]).tolist()
        [[1], [0]]
        """
        check_is_fitted(self, "classes_")
        return LabelBinarizer().fit(self.classes_).transform(y)

    def predict(self, X) -> np.ndarray:
        """Predict the class of each sample.

        It is ŷ ≥ ½ (z ≥ 0) for two classes, argmax z otherwise. A Dask X gives a lazy
        Dask array.
        """
        if distributed.is_collection(X):
            return self._lazy(X, "predict", None, np.asarray(self.classes_).dtype)
        z = self._decision(X, "predict")
        xp = arrays.namespace_of(z)
        index = xp.astype(z >= 0, xp.int64) if z.ndim == 1 else xp.argmax(z, axis=1)
        if type(self.classes_) is np.ndarray:  # labels only NumPy holds (strings): host
            return self.classes_[arrays.to_numpy(index)]
        return arrays.namespace_of(self.classes_).take(self.classes_, index, axis=0)

    def _has_proba(self):
        return self.activation != "step"

    @available_if(_has_proba)
    def predict_proba(self, X) -> np.ndarray:
        """Return class probabilities, shape (n_samples, n_classes).

        They are [1 − ŷ, ŷ] for two classes; one-vs-rest sigmoids normalized to sum to 1
        otherwise. Only for ``activation="sigmoid"`` (a step outputs no probability). A
        Dask X gives a lazy Dask array.
        """
        if distributed.is_collection(X):
            return self._lazy(X, "predict_proba", len(self.classes_), self.network_.dtype)
        X = self._check_X(X, "predict_proba")
        y_hat = self.network_.propagate(X)
        xp = arrays.namespace_of(y_hat)
        if y_hat.shape[1] == 1:
            return xp.concat([1 - y_hat, y_hat], axis=1)
        return y_hat / xp.sum(y_hat, axis=1, keepdims=True)

    def score(self, X, y, sample_weight=None) -> float:
        """Return the mean accuracy on (X, y) (scikit-learn's).

        On Dask collections it is computed chunk by chunk on the cluster and returned as a
        float.
        """
        if distributed.is_collection(X):
            check_is_fitted(self, "network_")
            return distributed.score(self, X, y, sample_weight, kind="accuracy")
        return super().score(X, y, sample_weight=sample_weight)

    # ------------------------------------------------------------------ description
    def to_document(
        self, training_state: bool = False, objects: doc.Objects | None = None
    ) -> tuple[doc.Document, doc.Tensors]:
        """Describe the fitted perceptron for a model file, or for a pickle.

        The description holds JSON-able fields and the tensors W1, b1; see
        :mod:`nnmath.io`. A perceptron keeps no training state (every fit starts
        afresh), so ``training_state`` adds nothing. ``objects`` is a pickle's (see
        :mod:`nnmath.document`): hyperparameters that JSON would not give back as they
        are go into it, and a perceptron not fitted yet is described by its
        hyperparameters.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]])
        >>> clf = Perceptron(activation="step", random_state=0).fit(X, [0, 0, 0, 1])
        >>> clf.to_document()[0]["classes_"]
        {'dtype': '<i8', 'values': [0, 1]}
        """
        if objects is not None:
            doc.attributes_to_pickle(self, _PICKLED_AS_THEY_ARE, objects)
        if objects is not None and "network_" not in vars(self):
            return doc.estimator_to_document(self, objects), {}
        check_is_fitted(self, "network_")
        net_doc, tensors = self.network_.to_document(objects=objects)
        if objects is None:
            try:  # what from_document checks: a described model is one that loads
                _check_neuron(self.activation, self.network_.activations[0].name)
            except doc.ModelFileError as exc:
                raise ValueError(
                    f"cannot describe this Perceptron: {exc}; set activation back to the one "
                    "it was fitted with, or fit it again"
                ) from None
        return {**doc.estimator_to_document(self, objects), **net_doc}, tensors

    @classmethod
    def from_document(
        cls,
        document: doc.Document,
        tensors: doc.Tensors,
        xp=None,
        device=None,
        objects: doc.Objects | None = None,
    ) -> Perceptron:
        """Rebuild a fitted perceptron from :meth:`to_document`'s description.

        Its network is put on ``xp`` and ``device`` (default NumPy). The description is
        checked: its network is one layer of the neuron its activation names, with one
        output per class (one for two classes). ``objects`` are a pickle's.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]])
        >>> clf = Perceptron(activation="step", random_state=0).fit(X, [0, 0, 0, 1])
        >>> document, tensors = clf.to_document()
        >>> Perceptron.from_document(document, dict(tensors)).predict(X).tolist()
        [0, 0, 0, 1]
        """
        unfitted = doc.unfitted_from_pickle(cls, document, objects)
        if unfitted is not None:
            return unfitted
        model = cls.__new__(cls)  # no __init__: set attributes only
        net = Network.from_document(document, tensors, xp=xp, device=device, objects=objects)
        doc.estimator_from_document(model, document, net.layer_sizes[0], objects)
        if net.n_layers != 1:
            raise doc.ModelFileError(
                f"a Perceptron has one weight layer; got layer_sizes {net.layer_sizes}"
            )
        if objects is None:  # a pickle holds the hyperparameters as they were set since
            _check_neuron(model.activation, net.activations[0].name)
        if "classes_" not in document:
            raise doc.ModelFileError("the model document has no 'classes_'")
        model.classes_ = doc.classes_from_document(document["classes_"])
        if len(model.classes_) < 2:
            raise doc.ModelFileError(
                f"a Perceptron has at least two classes; 'classes_' holds "
                f"{model.classes_.tolist()!r:.100}"
            )
        n_out = 1 if len(model.classes_) == 2 else len(model.classes_)
        if net.layer_sizes[-1] != n_out:
            raise doc.ModelFileError(
                f"{len(model.classes_)} classes need {n_out} output(s); the network has "
                f"{net.layer_sizes[-1]}"
            )
        model.network_ = net
        doc.attributes_from_pickle(model, objects)
        return model

    def __reduce__(self):
        """Pickle as the model document (see :meth:`to_document`).

        Hyperparameters that JSON would not give back as they are travel beside it as
        they are; a perceptron not fitted yet pickles its hyperparameters.
        """
        return doc.pickle_reduce(self, vars(self).get("network_"))

    def __sklearn_tags__(self):
        """Return scikit-learn's tags: no NaN in X, array-API support."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.array_api_support = True
        return tags


def _check_neuron(activation, neuron: str) -> None:
    """Raise ModelFileError unless a perceptron's ``activation`` names its ``neuron``."""
    if activation not in ("sigmoid", "logistic", "step"):
        raise doc.ModelFileError(
            f"hyperparameter 'activation' of a Perceptron must be 'sigmoid', 'logistic' or "
            f"'step'; got {activation!r:.100}"
        )
    expected = "step" if activation == "step" else "sigmoid"
    if neuron != expected:
        raise doc.ModelFileError(
            f"a Perceptron with activation={activation!r} has a {expected} neuron; the "
            f"file's network has {neuron}"
        )
