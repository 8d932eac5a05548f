"""Losses L(ŷ, y) of one sample, the cost C over the data, and its gradient ∂C/∂ŷ.

The cost is the (weighted) mean of the per-sample loss over the n samples:
C = Σᵢ wᵢ Lᵢ / Σᵢ wᵢ, which is C = (1/n) Σᵢ Lᵢ without sample weights. Every loss
object has

* ``__call__(y_hat, y, sample_weight=None)`` — the cost C, a Python float;
* ``per_sample(y_hat, y)`` — the losses Lᵢ, shape (n_samples,);
* ``gradient(y_hat, y, sample_weight=None)`` — ∂C/∂ŷ with ``y_hat``'s shape, the
  1/n (or wᵢ/Σw) included.

``y_hat`` has shape (n_samples, n_outputs); ``y`` has the same shape, or (n_samples,)
when there is one output.

Example
-------
>>> import numpy as np
>>> from nnmath.core import losses
>>> mse = losses.get("mse")
>>> mse(np.array([[0.5]]), np.array([1.0]))   # (1 − 0.5)² = 0.25
0.25
>>> mse.gradient(np.array([[0.5]]), np.array([1.0]))   # 2(ŷ − y)/n
array([[-1.]])
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

from nnmath.core.arrays import namespace_of, vdot
from nnmath.core.registry import Named

__all__ = [
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Huber",
    "Loss",
    "MAE",
    "MSE",
    "Poisson",
    "SklearnSquaredError",
    "SquaredError",
    "get",
    "names",
]


def _array(x, like=None):
    """Return ``x`` as an array: arrays of any library pass through.

    The rest become NumPy arrays (or arrays of ``like``'s library).
    """
    if hasattr(x, "__array_namespace__") or type(x) is np.ndarray:
        return x
    if like is not None and type(like) is not np.ndarray:
        return namespace_of(like).asarray(np.asarray(x), dtype=like.dtype, device=like.device)
    return np.asarray(x)


def _column(x):
    return namespace_of(x).reshape(x, (-1, 1))


def _as_2d(y_hat):
    y_hat = _array(y_hat)
    return _column(y_hat) if y_hat.ndim == 1 else y_hat


def _as_2d_like(y, y_hat):
    y = _array(y, like=y_hat)
    if y.ndim == 1 and y_hat.ndim == 2:
        y = _column(y)
    if tuple(y.shape) != tuple(y_hat.shape):
        raise ValueError(
            f"y has shape {tuple(y.shape)} but y_hat has shape {tuple(y_hat.shape)}; "
            "they must match (y may be 1-D when there is one output)"
        )
    return y


def _weights(sample_weight, y_hat):
    """(wᵢ as a column or None, Σw) — Σw = n without weights."""
    if sample_weight is None:
        return None, float(y_hat.shape[0])
    xp = namespace_of(y_hat)
    w = _column(xp.astype(_array(sample_weight, like=y_hat), y_hat.dtype))
    return w, float(xp.sum(w))


def _xlogy(y, p):
    """y·log p, and 0 where y = 0 (whatever p)."""
    if type(y) is np.ndarray:
        return xlogy(y, p)
    xp = namespace_of(p)
    return xp.where(y == 0, 0.0, y * xp.log(p))


class Loss(Named):
    """Base class of the losses.

    Subclasses define ``_elementwise`` (the loss of each output of each sample) and
    ``_elementwise_gradient`` (its derivative by ŷ); the per-sample loss is their sum over
    outputs (times ``output_scale``).
    """

    name: str = ""
    formula: str = ""
    gradient_formula: str = ""
    #: The output activation whose pairing with this loss gives ∂C/∂z = ŷ − y
    #: (times ``output_scale``), the "canonical link": the network then skips the
    #: two separate factors ∂C/∂ŷ and ∂ŷ/∂z.
    canonical_activation: str | None = None

    def output_scale(self, n_outputs: int) -> float:
        """Factor in front of the sum over outputs in the per-sample loss."""
        return 1.0

    def _elementwise(self, y_hat, y):
        raise NotImplementedError

    def _elementwise_gradient(self, y_hat, y):
        raise NotImplementedError

    def per_sample(self, y_hat: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Lᵢ for each sample, shape (n_samples,)."""
        y_hat = _as_2d(y_hat)
        y = _as_2d_like(y, y_hat)
        L = self._elementwise(y_hat, y)
        return namespace_of(L).sum(L, axis=1) * self.output_scale(y_hat.shape[1])

    def __call__(self, y_hat: np.ndarray, y: np.ndarray, sample_weight=None) -> float:
        """Return the cost C = Σᵢ wᵢ Lᵢ / Σᵢ wᵢ (the mean of Lᵢ without weights), a float."""
        y_hat = _as_2d(y_hat)
        y = _as_2d_like(y, y_hat)
        return self.cost_of(y_hat, y, *_weights(sample_weight, y_hat))

    def gradient(self, y_hat: np.ndarray, y: np.ndarray, sample_weight=None) -> np.ndarray:
        """∂C/∂ŷ, shape of ``y_hat``; includes the 1/n (or wᵢ/Σw) of the mean."""
        y_hat = _array(y_hat)
        shape = tuple(y_hat.shape)
        y_hat = _as_2d(y_hat)
        y = _as_2d_like(y, y_hat)
        g = self.gradient_of(y_hat, y, *_weights(sample_weight, y_hat))
        return namespace_of(g).reshape(g, shape)

    def canonical_delta(self, y_hat: np.ndarray, y: np.ndarray, sample_weight=None) -> np.ndarray:
        """∂C/∂z at the output when it uses ``canonical_activation``: c·(ŷ − y)·wᵢ/Σw.

        This is ∂C/∂ŷ · ∂ŷ/∂z multiplied out by hand; a test holds it against the
        product of the two factors.
        """
        y = _as_2d_like(y, y_hat)
        return self.canonical_delta_of(y_hat, y, *_weights(sample_weight, y_hat))

    # The methods above check and reshape their arguments, then call the ones below.
    # These take arrays already in shape, as the network's backpropagation hands them
    # over: y_hat and y 2-D of one shape, w a column of sample weights or None, and
    # w_sum = Σw (n without weights). When y_hat is one part of a larger data set,
    # w_sum is the whole set's Σw: the parts' costs and gradients then add up to the
    # whole's.
    def cost_of(self, y_hat, y, w, w_sum: float) -> float:
        """Compute C = c · Σᵢₖ wᵢ Lᵢₖ / Σw on validated arrays (c = ``output_scale``).

        The sum over all entries at once is the sum of the per-sample losses.

        Examples
        --------
        >>> import numpy as np
        >>> MSE().cost_of(np.array([[0.5], [1.0]]), np.array([[1.0], [1.0]]), None, 2.0)
        0.125
        """
        L = self._elementwise(y_hat, y)
        if w is not None:
            L *= w
        total = np.add.reduce(L, axis=None) if type(L) is np.ndarray else namespace_of(L).sum(L)
        return float(total) * self.output_scale(y_hat.shape[1]) / w_sum

    def gradient_of(self, y_hat, y, w, w_sum: float):
        """∂C/∂ŷ = c · wᵢ · ∂Lᵢ/∂ŷ / Σw on validated arrays, shape of ``y_hat``.

        Examples
        --------
        >>> import numpy as np
        >>> MSE().gradient_of(np.array([[0.5]]), np.array([[1.0]]), None, 1.0)
        array([[-1.]])
        """
        g = self._elementwise_gradient(y_hat, y)
        g *= self.output_scale(y_hat.shape[1]) / w_sum
        if w is not None:
            g *= w
        return g

    def cost_and_gradient_of(self, y_hat, y, w, w_sum: float):
        """Compute (C, ∂C/∂ŷ) on validated arrays, in one call.

        A loss can then share the work of the two (the squared errors compute the residual
        ŷ − y once).

        Examples
        --------
        >>> import numpy as np
        >>> MAE().cost_and_gradient_of(np.array([[0.5]]), np.array([[1.0]]), None, 1.0)
        (0.5, array([[-1.]]))
        """
        return self.cost_of(y_hat, y, w, w_sum), self.gradient_of(y_hat, y, w, w_sum)

    def check_targets(self, y, name: str = "y") -> None:
        """Raise ValueError, naming ``name``, when y holds targets this loss cannot take.

        Such targets are the Poisson loss's negative counts. Most losses take any real y.

        Examples
        --------
        >>> import numpy as np
        >>> Poisson().check_targets(np.array([[-1.0]]))
        Traceback (most recent call last):
        ...
        ValueError: y has negative values; the poisson loss needs targets >= 0 (counts or rates)
        """

    def canonical_delta_of(self, y_hat, y, w, w_sum: float):
        """Compute ∂C/∂z at an output using ``canonical_activation``, on validated arrays.

        ∂C/∂z = c·(ŷ − y)·wᵢ/Σw, with c = :meth:`canonical_factor`.

        Examples
        --------
        >>> import numpy as np
        >>> BinaryCrossEntropy().canonical_delta_of(np.array([[0.75]]), np.array([[1.0]]),
        ...                                         None, 1.0)
        array([[-0.25]])
        """
        delta = y_hat - y
        delta *= self.canonical_factor(y_hat.shape[1]) / w_sum
        if w is not None:
            delta *= w
        return delta

    def canonical_factor(self, n_outputs: int) -> float:
        """Return c of δ = c·(ŷ − y)/n at the canonical output.

        It is 1 for most losses, 2 for the article's MSE, 1/k for scikit-learn's squared
        error over k outputs.
        """
        return self.output_scale(n_outputs)


class _SquaredResidual(Loss):
    """The squared errors: L = c Σₖ rₖ² of the residual r = ŷ − y, ∂L/∂ŷ = 2c·r.

    Here c = ``output_scale``. C and ∂C/∂ŷ share r (:meth:`cost_and_gradient_of`).
    """

    canonical_activation = "identity"

    def _elementwise(self, y_hat, y):
        r = y - y_hat
        r *= r
        return r

    def _elementwise_gradient(self, y_hat, y):
        return 2 * (y_hat - y)

    def cost_of(self, y_hat, y, w, w_sum: float) -> float:
        """C = c Σᵢ wᵢ rᵢ² / Σw of the residual r = ŷ − y, the sum as one dot product."""
        return self.cost_and_gradient_of(y_hat, y, w, w_sum)[0]

    def cost_and_gradient_of(self, y_hat, y, w, w_sum: float):
        """C = c Σᵢ wᵢ rᵢ² / Σw and ∂C/∂ŷ = 2c wᵢ rᵢ / Σw from one residual r = ŷ − y."""
        r = y_hat - y  # r = ŷ − y
        wr = r if w is None else r * w
        scale = self.output_scale(y_hat.shape[1]) / w_sum
        total = float(np.vdot(wr, r)) if type(r) is np.ndarray else vdot(wr, r)
        cost = total * scale  # C = c Σ wᵢ rᵢ² / Σw
        wr *= 2 * scale  # ∂C/∂ŷ = 2c wᵢ rᵢ / Σw (in wr's dtype)
        return cost, wr


class MSE(_SquaredResidual):
    """The article's squared error: L = Σₖ (yₖ − ŷₖ)² (one output: (y − ŷ)²).

    ∂L/∂ŷₖ = 2(ŷₖ − yₖ). C = (1/n) Σᵢ Lᵢ.
    """

    name = "mse"
    formula = "L = Σₖ (yₖ − ŷₖ)²"
    gradient_formula = "∂L/∂ŷ = 2(ŷ − y)"

    def canonical_factor(self, n_outputs):
        """Return 2, the factor of δ = 2(ŷ − y)/n."""
        return 2.0


class SquaredError(_SquaredResidual):
    """scikit-learn's regression loss: L = ½ · (1/k) Σₖ (yₖ − ŷₖ)² over k outputs.

    ∂L/∂ŷₖ = (ŷₖ − yₖ)/k. Half the article's MSE for one output.
    """

    name = "squared_error"
    formula = "L = ½·(1/k) Σₖ (yₖ − ŷₖ)²"
    gradient_formula = "∂L/∂ŷ = (ŷ − y)/k"

    def output_scale(self, n_outputs):
        """½ · 1/k: the mean over the k outputs, halved."""
        return 0.5 / n_outputs

    def canonical_factor(self, n_outputs):
        """Return 1/k for k outputs, the factor of δ = (ŷ − y)/(kn)."""
        return 1.0 / n_outputs


class SklearnSquaredError(SquaredError):
    """scikit-learn's regression cost with scikit-learn's gradient, as MLPRegressor has them.

    The cost is :class:`SquaredError`'s, C = ½·(1/k) Σₖ Σᵢ wᵢ (yᵢₖ − ŷᵢₖ)² / Σw, the mean
    over the k outputs; the gradient is that of ½ Σₖ Σᵢ wᵢ (yᵢₖ − ŷᵢₖ)² / Σw, the sum over
    the outputs: ∂/∂ŷ = wᵢ (ŷ − y)/Σw, k times ∂C/∂ŷ. scikit-learn's MLPRegressor reports
    the first (``loss_``, ``loss_curve_``) and steps along the second; L-BFGS is handed
    the pair. With one output (k = 1) the two agree and this is :class:`SquaredError`.
    The estimators train on it so as to be scikit-learn's model; a network of one's own
    wants ``"squared_error"`` or ``"mse"``, whose gradient is their cost's.

    Examples
    --------
    >>> import numpy as np
    >>> loss = SklearnSquaredError()
    >>> y_hat, y = np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])
    >>> loss(y_hat, y)                 # ½·½·(0.25 + 0.25)
    0.125
    >>> loss.gradient(y_hat, y)        # ŷ − y, not (ŷ − y)/2
    array([[-0.5,  0.5]])
    """

    name = "sklearn_squared_error"
    formula = "L = ½·(1/k) Σₖ (yₖ − ŷₖ)²"
    gradient_formula = "∂/∂ŷ = ŷ − y (the gradient of ½ Σₖ (yₖ − ŷₖ)², k times ∂L/∂ŷ)"

    def canonical_factor(self, n_outputs):
        """Return 1: δ = (ŷ − y)/n whatever the number of outputs, as scikit-learn's."""
        return 1.0

    def gradient_of(self, y_hat, y, w, w_sum: float):
        """wᵢ (ŷ − y)/Σw on validated arrays: k times the cost's gradient for k outputs."""
        return self.cost_and_gradient_of(y_hat, y, w, w_sum)[1]

    def cost_and_gradient_of(self, y_hat, y, w, w_sum: float):
        """C = ½·(1/k) Σᵢ wᵢ rᵢ² / Σw and wᵢ rᵢ / Σw from one residual r = ŷ − y."""
        r = y_hat - y  # r = ŷ − y
        wr = r if w is None else r * w
        if type(r) is np.ndarray:
            # scikit-learn's sums in scikit-learn's order: each output's weighted mean,
            # then their mean, halved (L-BFGS is handed this value)
            squares = r * r
            if w is not None:
                squares *= w
            per_output = np.add.reduce(squares, axis=0) / w_sum
            cost = 0.5 * float(np.add.reduce(per_output) / per_output.shape[0])
        else:
            cost = vdot(wr, r) * self.output_scale(y_hat.shape[1]) / w_sum
        wr *= 1.0 / w_sum  # wᵢ rᵢ / Σw: no 1/k (in wr's dtype)
        return cost, wr


def _clip_probability(p: np.ndarray) -> np.ndarray:
    # NOTE: log(0) is −inf; the probabilities are clipped to [ε, 1 − ε] (ε the dtype's
    # machine epsilon, as scikit-learn does) so that the cost and its gradient stay
    # finite when ŷ is exactly 0 or 1.
    xp = namespace_of(p)
    eps = float(xp.finfo(p.dtype).eps)
    return xp.clip(p, eps, 1 - eps)


class BinaryCrossEntropy(Loss):
    """Binary cross-entropy (log loss) of independent outputs.

    L = −Σₖ [yₖ log ŷₖ + (1 − yₖ) log(1 − ŷₖ)]; ∂L/∂ŷ = (ŷ − y) / (ŷ(1 − ŷ)). With a
    sigmoid output, ∂C/∂z = ŷ − y.
    """

    name = "binary_cross_entropy"
    formula = "L = −Σₖ [yₖ log ŷₖ + (1 − yₖ) log(1 − ŷₖ)]"
    gradient_formula = "∂L/∂ŷ = (ŷ − y) / (ŷ(1 − ŷ))"
    canonical_activation = "sigmoid"

    def _elementwise(self, y_hat, y):
        p = _clip_probability(y_hat)
        return -(_xlogy(y, p) + _xlogy(1 - y, 1 - p))

    def _elementwise_gradient(self, y_hat, y):
        p = _clip_probability(y_hat)
        return (p - y) / (p * (1 - p))


class CrossEntropy(Loss):
    """Categorical cross-entropy: L = −Σₖ yₖ log ŷₖ (one-hot or probability targets).

    ∂L/∂ŷₖ = −yₖ/ŷₖ. With a softmax output and rows of y summing to 1, ∂C/∂z = ŷ − y.
    """

    name = "cross_entropy"
    formula = "L = −Σₖ yₖ log ŷₖ"
    gradient_formula = "∂L/∂ŷ = −y / ŷ"
    canonical_activation = "softmax"

    def _elementwise(self, y_hat, y):
        L = _xlogy(y, _clip_probability(y_hat))
        L *= -1
        return L

    def _elementwise_gradient(self, y_hat, y):
        return -y / _clip_probability(y_hat)


class MAE(Loss):
    """Absolute error: ``L = Σₖ |yₖ − ŷₖ|``; ∂L/∂ŷ = sign(ŷ − y) (0 at ŷ = y)."""

    name = "mae"
    formula = "L = Σₖ |yₖ − ŷₖ|"
    gradient_formula = "∂L/∂ŷ = sign(ŷ − y)"

    def _elementwise(self, y_hat, y):
        return namespace_of(y_hat).abs(y - y_hat)

    def _elementwise_gradient(self, y_hat, y):
        return namespace_of(y_hat).sign(y_hat - y)


class Huber(Loss):
    """Huber loss with threshold δ, quadratic near 0 and linear beyond δ.

    Per output ``h(r) = ½r² if |r| ≤ δ else δ(|r| − ½δ)``, r = ŷ − y, L = Σₖ h(rₖ);
    ∂L/∂ŷ = clip(ŷ − y, −δ, δ).
    """

    name = "huber"
    formula = "L = Σₖ [½r² if |r| ≤ δ else δ(|r| − ½δ)], r = ŷ − y"
    gradient_formula = "∂L/∂ŷ = clip(ŷ − y, −δ, δ)"

    def __init__(self, delta: float = 1.0):
        if not delta > 0:
            raise ValueError(f"delta must be > 0; got {delta!r}")
        self.delta = float(delta)

    def _elementwise(self, y_hat, y):
        xp = namespace_of(y_hat)
        r = xp.abs(y_hat - y)
        d = self.delta
        return xp.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d))

    def _elementwise_gradient(self, y_hat, y):
        return namespace_of(y_hat).clip(y_hat - y, -self.delta, self.delta)

    def __repr__(self):
        """Return ``Huber(delta=…)``."""
        return f"Huber(delta={self.delta})"


class Poisson(Loss):
    """Half Poisson deviance (scikit-learn's), for counts and rates.

    L = Σₖ [yₖ log(yₖ/ŷₖ) − yₖ + ŷₖ] for ŷ > 0; ∂L/∂ŷ = 1 − y/ŷ. With an exp output (log
    link), ∂C/∂z = ŷ − y.
    """

    name = "poisson"
    formula = "L = Σₖ [yₖ log(yₖ/ŷₖ) − yₖ + ŷₖ]"
    gradient_formula = "∂L/∂ŷ = 1 − y/ŷ"
    canonical_activation = "exp"

    def _elementwise(self, y_hat, y):
        # NOTE: for a tiny y > 0 the ratio y/ŷ can underflow to 0 and y·log 0 = −inf;
        # flooring the ratio at the smallest normal number keeps y·log(y/ŷ) ≈ 0 there.
        xp = namespace_of(y_hat)
        ratio = xp.maximum(y / y_hat, float(xp.finfo(y_hat.dtype).smallest_normal))
        return _xlogy(y, ratio) - y + y_hat

    def _elementwise_gradient(self, y_hat, y):
        return 1 - y / y_hat

    def check_targets(self, y, name: str = "y") -> None:
        """Raise ValueError, naming ``name``, when y has negative values."""
        y = _array(y)
        if bool(namespace_of(y).any(y < 0)):
            raise ValueError(
                f"{name} has negative values; the poisson loss needs targets >= 0 (counts or rates)"
            )


_REGISTRY: dict[str, type[Loss]] = {
    "mse": MSE,
    "squared_error": SquaredError,
    "sklearn_squared_error": SklearnSquaredError,
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy,
    "mae": MAE,
    "huber": Huber,
    "poisson": Poisson,
}


def names() -> list[str]:
    """Return the loss names :func:`get` accepts, sorted."""
    return sorted(_REGISTRY)


def get(name: str | Loss) -> Loss:
    """Return the loss called ``name`` (a :class:`Loss` passes through).

    Parameters
    ----------
    name : str or Loss
        One of :func:`names`: "mse", "squared_error", "sklearn_squared_error",
        "binary_cross_entropy", "cross_entropy", "mae", "huber", "poisson".

    Examples
    --------
    >>> get("cross_entropy").canonical_activation
    'softmax'
    """
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown loss {name!r}; valid names are {', '.join(names())}")
    return _REGISTRY[name]()
