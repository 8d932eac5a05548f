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

from nnmath.network import Network, _rng
from nnmath.optimizers import SGD
from nnmath.training import History, train

__all__ = ["Perceptron"]


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
    }

    def __init__(
        self,
        activation: str = "sigmoid",
        learning_rate: float = 0.1,
        max_iter: int = 1000,
        tol: float | None = 1e-6,
        n_iter_no_change: int = 10,
        random_state=None,
    ):
        self.activation = activation
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y):
        """Learn w and b from X of shape (n_samples, n_features) and labels y of
        shape (n_samples,) (at least two classes). Returns self."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=True)
        check_classification_targets(y)
        binarizer = LabelBinarizer()
        Y = binarizer.fit_transform(y).astype(X.dtype)
        self.classes_ = binarizer.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has only one class ({self.classes_[0]!r}); a classifier needs at least two"
            )
        step = self.activation == "step"
        self.network_ = Network(
            [X.shape[1], Y.shape[1]],
            activation="step" if step else "sigmoid",
            loss="mse",
            dtype=X.dtype,
            random_state=_rng(self.random_state),
        )
        if step:
            history = self._fit_rosenblatt(X, Y)
        else:
            history = train(
                self.network_,
                X,
                Y,
                optimizer=SGD(learning_rate=self.learning_rate),
                max_epochs=self.max_iter,
                batch_size=None,
                shuffle=False,
                rng=_rng(self.random_state),
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                max_epochs_label="max_iter",
            )
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

    def _fit_rosenblatt(self, X, Y) -> History:
        """Rosenblatt's rule, one sample at a time: w ← w + α(y − ŷ)x, b ← b + α(y − ŷ)."""
        history = History()
        W, b = self.network_.W[0], self.network_.b[0]
        step = self.network_.activations[0]
        alpha = X.dtype.type(self.learning_rate)
        for _ in range(self.max_iter):
            mistakes = 0
            for x, y in zip(X, Y, strict=True):
                y_hat = step(x @ W + b)  # ŷ = step(w·x + b)
                error = y - y_hat  # (y − ŷ) ∈ {−1, 0, 1}
                if error.any():
                    mistakes += 1
                    W += alpha * np.outer(x, error)  # w ← w + α(y − ŷ)x
                    b += alpha * error  # b ← b + α(y − ŷ)
            history.n_iter += 1
            history.loss_curve.append(
                self.network_.loss(self.network_._forward(X), Y)  # the article's cost
            )
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
        return W[:, 0].copy() if W.shape[1] == 1 else W.T.copy()

    @property
    def intercept_(self):
        """b: a float for two classes, shape (n_classes,) otherwise."""
        check_is_fitted(self, "network_")
        b = self.network_.b[0]
        return float(b[0]) if b.shape[0] == 1 else b.copy()

    def _check_X(self, X):
        check_is_fitted(self, "network_")
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def decision_function(self, X) -> np.ndarray:
        """z = w·x + b: shape (n_samples,) for two classes, else (n_samples, n_classes)."""
        X = self._check_X(X)
        z = X @ self.network_.W[0] + self.network_.b[0]
        return z[:, 0] if z.shape[1] == 1 else z

    def predict(self, X) -> np.ndarray:
        """The class of each sample: ŷ ≥ ½ (z ≥ 0) for two classes, argmax z otherwise."""
        z = self.decision_function(X)
        if z.ndim == 1:
            return self.classes_[(z >= 0).astype(int)]
        return self.classes_[np.argmax(z, axis=1)]

    def _has_proba(self):
        return self.activation != "step"

    @available_if(_has_proba)
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes): [1 − ŷ, ŷ] for two
        classes; one-vs-rest sigmoids normalized to sum to 1 otherwise. Only for
        ``activation="sigmoid"`` (a step outputs no probability)."""
        X = self._check_X(X)
        y_hat = self.network_._forward(X)
        if y_hat.shape[1] == 1:
            return np.hstack([1 - y_hat, y_hat])
        return y_hat / y_hat.sum(axis=1, keepdims=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
