"""Activation functions a = σ(z), each paired with its derivative da/dz.

Every activation is an object with

* ``__call__(z)`` — the value a = σ(z), same shape and dtype as ``z``;
* ``derivative(z)`` — da/dz, elementwise (softmax: the full Jacobian, see
  :class:`Softmax`);
* ``backward(dC_da, a)`` — the chain-rule product ∂C/∂z = ∂C/∂a · ∂a/∂z, computed
  from the activation's *output* ``a`` (which the forward pass keeps), in place
  into ``dC_da`` when that is allowed.

The arrays may come from any array-API library (NumPy, PyTorch, CuPy, …). On NumPy
the value is the ufunc written into ``out`` without a temporary; elsewhere the same
formula is computed with the array's own namespace (:mod:`nnmath.core.arrays`).

Example
-------
>>> import numpy as np
>>> from nnmath.core import activations
>>> sigma = activations.get("sigmoid")
>>> sigma(np.array([0.0]))
array([0.5])
>>> sigma.derivative(np.array([0.0]))
array([0.25])
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from nnmath.core import registry
from nnmath.core.arrays import device_of as _device
from nnmath.core.arrays import into, namespace_of

__all__ = [
    "Activation",
    "Exp",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Step",
    "Tanh",
    "get",
    "names",
]


class Activation(registry.Named):
    """Base class: an activation σ with its derivative.

    Subclasses implement ``__call__`` (the value), ``derivative`` (da/dz from z) and
    ``derivative_from_output`` (da/dz from a = σ(z), used by backpropagation).

    A new activation is a subclass here, its line in :mod:`nnmath.core.registry` (which
    says whether hidden layers may use it and which initial weights it takes) and its
    ONNX form in :mod:`nnmath.onnx_export`.

    Attributes
    ----------
    name : str
        The name :func:`get` takes.
    formula, derivative_formula : str
        The value and the derivative in words, as ``explain`` shows them.
    needs_z : bool
        Whether its derivative needs z itself: backpropagation then keeps z beside
        a = σ(z) (SiLU; the others compute σ'(z) from a).
    """

    name: str = ""
    formula: str = ""
    derivative_formula: str = ""
    needs_z: bool = False

    def __call__(self, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Return σ(z), elementwise, written into ``out`` when it is given."""
        raise NotImplementedError

    def derivative(self, z: np.ndarray) -> np.ndarray:
        """da/dz evaluated at ``z``, elementwise, same shape as ``z``."""
        return self.derivative_from_output(self(_as_array(z)))

    def local_derivative(self, a: np.ndarray, z: np.ndarray | None = None) -> np.ndarray:
        """da/dz from what the forward pass kept: ``a``, and ``z`` when :attr:`needs_z`."""
        if not self.needs_z:
            return self.derivative_from_output(a)
        if z is None:
            raise ValueError(f"{self.name}'s derivative needs z, not only a = σ(z): pass z")
        return self.derivative(z)

    def derivative_from_output(self, a: np.ndarray) -> np.ndarray:
        """Compute da/dz from the output a = σ(z), the way backpropagation uses it.

        Elementwise, same shape as ``a``; for softmax, its Jacobian.
        """
        raise NotImplementedError

    def backward(
        self, dC_da: np.ndarray, a: np.ndarray, inplace: bool = False, z: np.ndarray | None = None
    ) -> np.ndarray:
        """∂C/∂z = ∂C/∂a · ∂a/∂z, with ∂a/∂z computed from the output ``a``.

        Parameters
        ----------
        dC_da : ndarray of shape (n_samples, n_units)
        a : ndarray of shape (n_samples, n_units), the forward pass's σ(z)
        inplace : bool
            Write the result into ``dC_da``.
        z : ndarray of shape (n_samples, n_units), optional
            The weighted sum, for an activation that :attr:`needs_z`.
        """
        da_dz = self.local_derivative(a, z)
        if inplace:
            dC_da *= da_dz
            return dC_da
        return dC_da * da_dz


class Sigmoid(Activation):
    """Logistic sigmoid: σ(z) = 1 / (1 + e^(−z)); σ'(z) = σ(z)(1 − σ(z)).

    Computed with :func:`scipy.special.expit`, which never overflows:
    σ(−1000) = 0 and σ(1000) = 1 without a warning.
    """

    name = "sigmoid"
    formula = "σ(z) = 1 / (1 + e^(−z))"
    derivative_formula = "σ'(z) = σ(z)·(1 − σ(z))"

    def __call__(self, z, out=None):
        """Return σ(z) = 1 / (1 + e^(−z)), without overflow for large ``|z|``."""
        if type(z) is np.ndarray:
            return expit(z, out=out)
        xp = namespace_of(z)
        # NOTE: 1/(1 + e^(−z)) for z ≥ 0 and e^z/(1 + e^z) for z < 0, with e = e^(−|z|):
        # the same value as expit, and no exponential of a large positive number.
        e = xp.exp(-xp.abs(z))
        return into(xp.where(z >= 0, 1 / (1 + e), e / (1 + e)), out)

    def derivative_from_output(self, a):
        """Return σ'(z) = a(1 − a) from a = σ(z)."""
        return a * (1 - a)

    def backward(self, dC_da, a, inplace=False, z=None):
        """Return ∂C/∂z = ∂C/∂a · a(1 − a)."""
        if inplace:
            dC_da *= a
            dC_dz = dC_da
        else:
            dC_dz = dC_da * a
        dC_dz -= dC_dz * a  # ∂C/∂a·a − ∂C/∂a·a² = ∂C/∂a · a(1 − a)
        return dC_dz


class Step(Activation):
    """Binary (Heaviside) step: σ(z) = 1 if z ≥ 0 else 0; σ'(z) = 0.

    NOTE: the derivative is 0 everywhere it exists (it is undefined at 0), so no
    gradient flows through a step; the perceptron uses Rosenblatt's rule instead.
    """

    name = "step"
    formula = "σ(z) = 1 if z ≥ 0 else 0"
    derivative_formula = "σ'(z) = 0"

    def __call__(self, z, out=None):
        """Return 1 where z ≥ 0, else 0."""
        z = _as_array(z)
        xp = namespace_of(z)
        return into(xp.astype(z >= 0, z.dtype), out)

    def derivative_from_output(self, a):
        """Return zeros: the step's derivative is 0 wherever it is defined."""
        return namespace_of(a).zeros_like(a)


def _as_array(z):
    """Return ``z`` itself when it is an array of any library; a NumPy array otherwise."""
    return z if hasattr(z, "__array_namespace__") or hasattr(z, "device") else np.asarray(z)


class Tanh(Activation):
    """Hyperbolic tangent: σ(z) = tanh z; σ'(z) = 1 − tanh² z."""

    name = "tanh"
    formula = "σ(z) = tanh(z)"
    derivative_formula = "σ'(z) = 1 − tanh²(z)"

    def __call__(self, z, out=None):
        """Return tanh(z)."""
        if type(z) is np.ndarray:
            return np.tanh(z, out=out)
        return into(namespace_of(z).tanh(z), out)

    def derivative_from_output(self, a):
        """Return 1 − a² from a = tanh(z)."""
        return 1 - a * a


class ReLU(Activation):
    """Rectified linear unit: σ(z) = max(0, z); σ'(z) = 1 if z > 0 else 0.

    NOTE: at z = 0 the derivative is taken as 0 (the subgradient scikit-learn and
    PyTorch use).
    """

    name = "relu"
    formula = "σ(z) = max(0, z)"
    derivative_formula = "σ'(z) = 1 if z > 0 else 0"

    def __call__(self, z, out=None):
        """Return max(0, z)."""
        if type(z) is np.ndarray:
            return np.maximum(z, 0, out=out)
        return into(namespace_of(z).maximum(z, 0.0), out)

    def derivative_from_output(self, a):
        """Return 1 where a > 0, else 0."""
        xp = namespace_of(a)
        return xp.astype(a > 0, a.dtype)

    def backward(self, dC_da, a, inplace=False, z=None):
        """Return ∂C/∂z = ∂C/∂a · 1[a > 0]."""
        # ∂C/∂a · 1[a > 0]; on NumPy a multiply by the mask is several times faster than
        # a masked assignment.
        if type(dC_da) is np.ndarray:
            return np.multiply(dC_da, a > 0, out=dC_da if inplace else None)
        xp = namespace_of(dC_da)
        return into(xp.where(a > 0, dC_da, 0.0), dC_da if inplace else None)


class LeakyReLU(Activation):
    """Leaky ReLU: σ(z) = z if z > 0 else s·z; σ'(z) = 1 if z > 0 else s (s = slope).

    NOTE: at z = 0 the derivative is taken as s.
    """

    name = "leaky_relu"
    formula = "σ(z) = z if z > 0 else s·z"
    derivative_formula = "σ'(z) = 1 if z > 0 else s"

    def __init__(self, negative_slope: float = 0.01):
        if not 0 < negative_slope < 1:
            raise ValueError(
                f"negative_slope must be in (0, 1); got {negative_slope!r}. "
                "Use 'relu' for a slope of 0."
            )
        self.negative_slope = float(negative_slope)

    def __call__(self, z, out=None):
        """Return z where z > 0, else ``negative_slope`` · z."""
        z = _as_array(z)
        xp = namespace_of(z)
        return into(xp.where(z > 0, z, z * self.negative_slope), out)

    def derivative_from_output(self, a):
        """Return 1 where a > 0, else ``negative_slope``."""
        # a > 0 exactly when z > 0, since the slope is positive.
        xp = namespace_of(a)
        return xp.where(a > 0, xp.ones_like(a), xp.full_like(a, self.negative_slope))

    def __repr__(self):
        """Return ``LeakyReLU(negative_slope=…)``."""
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Identity(Activation):
    """Identity: σ(z) = z; σ'(z) = 1."""

    name = "identity"
    formula = "σ(z) = z"
    derivative_formula = "σ'(z) = 1"

    def __call__(self, z, out=None):
        """Return a copy of z (or z written into ``out``)."""
        z = _as_array(z)
        if out is None:
            return namespace_of(z).asarray(z, copy=True)
        if out is not z:
            out[...] = z
        return out

    def derivative_from_output(self, a):
        """Return ones, the identity's derivative."""
        return namespace_of(a).ones_like(a)

    def backward(self, dC_da, a, inplace=False, z=None):
        """Return ∂C/∂a unchanged (a copy unless ``inplace``)."""
        return dC_da if inplace else namespace_of(dC_da).asarray(dC_da, copy=True)


class Exp(Activation):
    """Exponential, the inverse of Poisson regression's log link: σ(z) = e^z; σ'(z) = e^z."""

    name = "exp"
    formula = "σ(z) = e^z"
    derivative_formula = "σ'(z) = e^z"

    def __call__(self, z, out=None):
        """Return e^z."""
        if type(z) is np.ndarray:
            return np.exp(z, out=out)
        return into(namespace_of(z).exp(z), out)

    def derivative_from_output(self, a):
        """Return e^z itself (a copy of ``a``), the exponential's derivative."""
        return namespace_of(a).asarray(a, copy=True)


class Softmax(Activation):
    """Softmax over the last axis: σ(z)ₖ = e^(zₖ) / Σⱼ e^(zⱼ); ∂σₖ/∂zⱼ = σₖ(δₖⱼ − σⱼ).

    Softmax mixes the units of a row, so its derivative is a Jacobian, not an
    elementwise factor: ``derivative(z)`` returns the full Jacobian of shape
    (..., k, k), and ``backward`` applies its transpose to ∂C/∂a without forming it:
    ∂C/∂zⱼ = σⱼ (∂C/∂aⱼ − Σₖ ∂C/∂aₖ σₖ).

    The row maximum is subtracted before exponentiating, so softmax([1000, 0, −1000])
    is finite.
    """

    name = "softmax"
    formula = "σ(z)ₖ = e^(zₖ) / Σⱼ e^(zⱼ)"
    derivative_formula = "∂σₖ/∂zⱼ = σₖ(δₖⱼ − σⱼ)"

    def __call__(self, z, out=None):
        """Return the softmax over the last axis, from z − max(z) so that e^z cannot overflow."""
        z = _as_array(z)
        if type(z) is np.ndarray:
            shifted = np.subtract(z, z.max(axis=-1, keepdims=True), out=out)
            np.exp(shifted, out=shifted)
            shifted /= shifted.sum(axis=-1, keepdims=True)
            return shifted
        xp = namespace_of(z)
        e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
        return into(e / xp.sum(e, axis=-1, keepdims=True), out)

    def derivative(self, z):
        """Return the Jacobian ∂σₖ/∂zⱼ = σₖ(δₖⱼ − σⱼ), shape ``z.shape + (k,)``."""
        return self.derivative_from_output(self(_as_array(z)))

    def derivative_from_output(self, a):
        """Return the Jacobian ∂σₖ/∂zⱼ = σₖ(δₖⱼ − σⱼ) from σ = ``a``, shape ``a.shape + (k,)``."""
        if type(a) is np.ndarray:
            eye = np.eye(a.shape[-1], dtype=a.dtype)
        else:
            eye = namespace_of(a).eye(a.shape[-1], dtype=a.dtype, device=_device(a))
        return a[..., :, None] * (eye - a[..., None, :])

    def backward(self, dC_da, a, inplace=False, z=None):
        """Return ∂C/∂z = σ ⊙ (∂C/∂a − Σⱼ ∂C/∂aⱼ σⱼ), the Jacobian product without the Jacobian."""
        xp = namespace_of(dC_da)
        weighted = xp.sum(dC_da * a, axis=-1, keepdims=True)
        if inplace:
            dC_da -= weighted
            dC_dz = dC_da
        else:
            dC_dz = dC_da - weighted
        dC_dz *= a
        return dC_dz


class SiLU(Activation):
    """SiLU (swish): σ(z) = z·s(z), s(z) = 1 / (1 + e^(−z)); σ'(z) = s(z)·(1 + z·(1 − s(z))).

    NOTE: σ is not monotonic (its minimum is near z = −1.28), so z cannot be recovered
    from a = σ(z): backpropagation keeps z for it (:attr:`needs_z`).
    """

    name = "silu"
    formula = "σ(z) = z·s(z), s(z) = 1 / (1 + e^(−z))"
    derivative_formula = "σ'(z) = s(z)·(1 + z·(1 − s(z)))"
    needs_z = True

    def __call__(self, z, out=None):
        """Return z·s(z), with the logistic s computed without overflow."""
        z = _as_array(z)
        if type(z) is np.ndarray:
            return np.multiply(z, expit(z), out=out)
        return into(z * Sigmoid()(z), out)

    def derivative(self, z):
        """Return s(z)·(1 + z·(1 − s(z))), elementwise."""
        z = _as_array(z)
        s = expit(z) if type(z) is np.ndarray else Sigmoid()(z)
        return s * (1 + z * (1 - s))

    def derivative_from_output(self, a):
        """Refuse: SiLU's derivative needs z (see :meth:`local_derivative`)."""
        raise ValueError("silu's derivative needs z, not only a = σ(z): pass z")


_REGISTRY: dict[str, type[Activation]] = {
    name: globals()[entry.cls] for name, entry in registry.ACTIVATIONS.items()
}


def names() -> list[str]:
    """Return the activation names :func:`get` accepts, sorted."""
    return sorted(_REGISTRY)


def get(name: str | Activation) -> Activation:
    """Return the activation called ``name`` (an :class:`Activation` passes through).

    Parameters
    ----------
    name : str or Activation
        One of :func:`names`: "sigmoid" (alias "logistic"), "step", "tanh", "relu",
        "leaky_relu", "silu", "identity", "softmax", "exp".

    Examples
    --------
    >>> get("logistic").name
    'sigmoid'
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(f"unknown activation {name!r}; valid names are {', '.join(names())}")
    return _REGISTRY[name]()
