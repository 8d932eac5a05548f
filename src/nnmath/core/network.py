"""A fully connected network: forward propagation and backpropagation, written once.

Layer l computes the weighted sum and the activation

    z_l = a_{l−1} W_l + b_l,        a_l = σ_l(z_l),        a_0 = X,  ŷ = a_L

with W_l of shape (n_{l−1}, n_l) and b_l of shape (n_l,). Backpropagation applies the
chain rule from the output back:

    δ_L = ∂C/∂z_L = ∂C/∂ŷ · ∂ŷ/∂z_L
    ∂C/∂W_l = a_{l−1}ᵀ δ_l          (∂z/∂W = a_{l−1})
    ∂C/∂b_l = Σ_rows δ_l             (∂z/∂b = 1)
    δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'_{l−1}   (∂z_l/∂a_{l−1} = W_l)

All weights and biases live in one contiguous buffer (``Network.theta``); W_l and b_l
are views into it, and the gradients likewise live in ``Network.grad``. An optimizer
can therefore update every parameter with a handful of vectorised operations.

This module is the one place where the passes are written. Training, the gradient
check, ``explain`` and the playground all call :meth:`Network.backprop`; asked for a
record (``record=True``) the same pass keeps every intermediate value of every layer
(:class:`PassRecord`), which is what ``explain`` renders.

The methods here (:meth:`~Network.propagate`, :meth:`~Network.objective`,
:meth:`~Network.backprop`) take arrays as they are: checked once at the data edge
(:mod:`nnmath.data.checks`), which is how training calls them on every batch.
:class:`nnmath.Network` (:mod:`nnmath.network`) is this class with the methods a user
calls on any data — ``forward``, ``cost``, ``cost_and_gradients``, ``fit`` — which
check their input first, and with its model-file description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import scipy.sparse as sp

from nnmath.core import activations as _activations
from nnmath.core import arrays, initializers
from nnmath.core import losses as _losses
from nnmath.core.rng import as_generator

__all__ = ["LayerRecord", "Network", "PassRecord"]


def _check_dtype(dtype) -> np.dtype:
    """Return float32 or float64 as a NumPy dtype.

    The dtype may be given as a NumPy dtype, a name ("float32") or another library's dtype
    object (torch.float32).
    """
    try:
        dt = np.dtype(dtype)
    except TypeError:
        text = str(dtype).rsplit(".", 1)[-1]
        dt = np.dtype(text) if text in ("float32", "float64") else None
    if dt not in (np.float32, np.float64):
        raise ValueError(
            f"dtype must be numpy.float32 or numpy.float64 (or the names 'float32', "
            f"'float64', or another library's float32/float64); got {dtype!r}"
        )
    return dt


def _check_layer_sizes(layer_sizes) -> list[int]:
    try:
        sizes = [int(n) for n in layer_sizes]
        ok = all(float(n) == int(n) for n in layer_sizes)
    except (TypeError, ValueError):
        ok = False
    if not ok or len(sizes) < 2:
        raise ValueError(
            f"layer_sizes must be a list of integers [n_inputs, hidden..., n_outputs] "
            f"with at least two entries; got {layer_sizes!r}"
        )
    bad = [n for n in sizes if n < 1]
    if bad:
        raise ValueError(f"layer_sizes must all be >= 1; got {sizes} (bad: {bad})")
    return sizes


def _per_layer(value, n: int, name: str, check) -> list:
    """Broadcast one value to n layers, or check a list has exactly n entries."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{name} is a list of {len(value)} entries but the network has {n} "
                f"hidden layers; give one entry per hidden layer, or a single value"
            )
        return [check(v) for v in value]
    return [check(value)] * n


def _check_rate(p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)):
        raise ValueError(f"dropout rates must be numbers in [0, 1); got {p!r}")
    if not 0 <= p < 1:
        raise ValueError(f"dropout rates must be in [0, 1); got {p!r}")
    return float(p)


def _reshape(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else arrays.namespace_of(x).reshape(x, shape)


def _all_finite(x) -> bool:
    """Return True when no entry is NaN or infinite (one scalar crosses to the host)."""
    if type(x) is np.ndarray:
        return bool(np.isfinite(x).all())
    xp = arrays.namespace_of(x)
    return bool(xp.all(xp.isfinite(x)))


# ---------------------------------------------------------------------------- records
@dataclass(eq=False)
class LayerRecord:
    """What one layer computed in a recorded pass; arrays are batch-first copies.

    Attributes
    ----------
    z : ndarray of shape (n_samples, n_units)
        The weighted sum z = a_{l−1} W + b.
    a : ndarray of shape (n_samples, n_units)
        The activation σ(z) (before dropout).
    mask : ndarray of shape (n_samples, n_units) or None
        The inverted-dropout factor a was multiplied by (0 or 1/(1 − p)); None when
        the layer dropped nothing.
    da_dz : ndarray or None
        σ'(z) computed from a, as backpropagation uses it: elementwise, or the softmax
        Jacobian of shape (n_samples, n_units, n_units). None in a forward-only record.
    dC_da : ndarray of shape (n_samples, n_units) or None
        ∂C/∂a of a hidden layer (after the dropout mask); None at the output (see
        :attr:`PassRecord.dC_dyhat`) and in a forward-only record.
    delta : ndarray of shape (n_samples, n_units) or None
        δ = ∂C/∂z.
    dC_dW : ndarray of shape (n_in, n_units) or None
        ∂C/∂W = a_{l−1}ᵀ δ (+ the L2 term's (α/Σw)·W, + the L1 term's
        (λ₁/Σw)·sign(W)).
    dC_db : ndarray of shape (n_units,) or None
        ∂C/∂b = Σᵢ δᵢ.
    l1_gradient : ndarray of shape (n_in, n_units) or None
        The L1 term's subgradient (λ₁/Σw)·sign(W) that ``dC_dW`` includes, with
        sign(0) = 0; None without an L1 term.
    """

    z: np.ndarray
    a: np.ndarray
    mask: np.ndarray | None = None
    da_dz: np.ndarray | None = None
    dC_da: np.ndarray | None = None
    delta: np.ndarray | None = None
    dC_dW: np.ndarray | None = None
    dC_db: np.ndarray | None = None
    l1_gradient: np.ndarray | None = None


@dataclass(eq=False)
class PassRecord:
    """Every intermediate value of one pass through the network, by layer.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_inputs)
    layers : list of LayerRecord
        One per weight layer, the output layer last.
    y_hat : ndarray of shape (n_samples, n_outputs)
    Y, sample_weight, w_sum
        The targets (None in a forward-only record), the sample weights (None: all 1)
        and their total Σw.
    losses : ndarray of shape (n_samples,) or None
        Lᵢ of each sample.
    mean_loss : float or None
        Σᵢ wᵢ Lᵢ / Σw, the cost without its penalty terms.
    l2 : float
        The L2 term (α / 2Σw) Σₗ ‖Wₗ‖² (0 without one).
    alpha : float
        α of the L2 term.
    l1 : float
        The L1 term (λ₁ / Σw) Σₗ Σ|Wₗ| (0 without one).
    lambda1 : float
        λ₁ of the L1 term (the ``l1`` argument of :meth:`Network.backprop`).
    cost : float or None
        C = mean_loss + l2 + l1, as training computes it.
    fused : bool
        True when δ_L came from the canonical pair's c·(ŷ − y) (see
        :attr:`nnmath.core.losses.Loss.canonical_activation`); False when it came from
        ∂C/∂ŷ · ∂ŷ/∂z.
    dC_dyhat : ndarray or None
        ∂C/∂ŷ (None when ``fused``).
    """

    X: np.ndarray
    layers: list[LayerRecord]
    y_hat: np.ndarray
    Y: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    w_sum: float | None = None
    losses: np.ndarray | None = None
    mean_loss: float | None = None
    l2: float = 0.0
    alpha: float = 0.0
    l1: float = 0.0
    lambda1: float = 0.0
    cost: float | None = None
    fused: bool = False
    dC_dyhat: np.ndarray | None = None
    gradients: list[np.ndarray] = field(default_factory=list)


class Network:
    """A multi-layer network with one flat parameter buffer.

    Parameters
    ----------
    layer_sizes : sequence of int
        [n_inputs, hidden..., n_outputs]; every entry ≥ 1.
    activation : str, Activation or list of them, default "sigmoid"
        Hidden-layer activation, or one per hidden layer (see
        :func:`nnmath.core.activations.names`).
    output_activation : str or Activation, optional
        Output activation; defaults to ``activation`` when that is one name.
    loss : str or Loss, default "mse"
        The per-sample loss whose mean is the cost C (see :func:`nnmath.core.losses.names`).
    dtype : numpy.float32 or numpy.float64, default numpy.float64
        dtype of the parameters, outputs and gradients.
    random_state : int, numpy.random.Generator or None
        Seed of the initial weights (Glorot, or He for ReLU layers).
    dropout : float or list of float, default 0.0
        Inverted-dropout rate of each hidden layer's output, applied only when a
        training step passes a random generator (``dropout_rng``).
    xp : array library, optional
        Where the parameters, gradients and work arrays live: a module such as
        ``torch``, ``cupy`` or ``array_api_strict`` (any library of the Python array API
        standard); None is NumPy. The network's methods then take arrays of that
        library (NumPy arrays and lists are converted once, at the call) and return
        arrays of it. See :mod:`nnmath.core.arrays`.
    device : optional
        A device of ``xp`` (e.g. ``"cuda"`` for torch); None is the library's default.
    theta : array-like of shape (n_parameters,) or float, optional
        The weights to start from, laid out as :attr:`theta` (W1, b1, W2, b2, … each
        flattened in row-major order), copied in; a number sets every weight and bias
        to it (0.0 for a caller that writes its own); None draws them from
        ``random_state``. Nothing is drawn when they are given.

    Attributes
    ----------
    xp, device
        The array namespace and device the network lives on.
    W, b : list of ndarray
        Views into ``theta``: W[l] of shape (n_l, n_{l+1}), b[l] of shape (n_{l+1},).
    dW, db : list of ndarray
        The matching views into ``grad``.
    theta, grad : ndarray of shape (n_parameters,)
        The flat parameter and gradient buffers.

    Examples
    --------
    >>> import numpy as np
    >>> net = Network([2, 3, 1], activation="tanh", output_activation="sigmoid",
    ...               loss="binary_cross_entropy", random_state=0)
    >>> net.propagate(np.zeros((4, 2))).shape
    (4, 1)
    >>> [p.shape for p in net.parameters()]
    [(2, 3), (3,), (3, 1), (1,)]
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str | _activations.Activation | Sequence[str | _activations.Activation] = (
            "sigmoid"
        ),
        output_activation: str | _activations.Activation | None = None,
        loss: str | _losses.Loss = "mse",
        dtype=np.float64,
        random_state=None,
        dropout: float | Sequence[float] = 0.0,
        xp=None,
        device=None,
        theta=None,
    ):
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        self.dtype = _check_dtype(dtype)
        self.xp = arrays.namespace(xp)
        self.device = arrays.default_device(self.xp) if device is None else device
        n_hidden = len(self.layer_sizes) - 2
        if output_activation is None:
            if isinstance(activation, (list, tuple)):
                raise ValueError(
                    "output_activation is required when activation is a list of per-layer "
                    "names; pass e.g. output_activation='sigmoid'"
                )
            output_activation = cast("str | _activations.Activation", activation)
        hidden = _per_layer(activation, n_hidden, "activation", _activations.get)
        self.activations: list[_activations.Activation] = hidden + [
            _activations.get(output_activation)
        ]
        self.loss = _losses.get(loss)
        self.dropout: list[float] = _per_layer(dropout, n_hidden, "dropout", _check_rate)
        if n_hidden == 0 and not isinstance(dropout, (list, tuple)) and _check_rate(dropout):
            raise ValueError(
                f"dropout={dropout!r} needs hidden layers, but the network has none "
                "(layer_sizes has two entries); dropout acts on hidden units"
            )
        shapes = []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True):
            shapes += [(n_in, n_out), (n_out,)]
        self._shapes = shapes
        total = sum(int(np.prod(s)) for s in shapes)
        self.theta = self._zeros(total)
        self.grad = self._zeros(total)
        self._bind_views()
        if theta is None:
            self.initialize(random_state)
        else:
            given = arrays.to_numpy(theta)
            if given.ndim == 0:
                given = np.full(total, given)
            if given.shape != (total,):
                raise ValueError(
                    f"theta must have shape ({total},), one entry per weight and bias of "
                    f"layer_sizes {self.layer_sizes}; got shape {given.shape}"
                )
            self.theta[...] = self.asarray(given)

    def _zeros(self, n: int):
        if self.xp is np:
            return np.zeros(n, dtype=self.dtype)
        try:
            return self.xp.zeros(
                n, dtype=arrays.float_dtype(self.xp, self.dtype), device=self.device
            )
        except Exception as exc:  # noqa: BLE001 - the library's own refusal of the device
            raise ValueError(
                f"device={self.device!r} is not a device of {arrays.name(self.xp)}: {exc}"
            ) from None

    def _empty(self, shape):
        if self.xp is np:
            return np.empty(shape, dtype=self.dtype)
        return self.xp.empty(
            shape, dtype=arrays.float_dtype(self.xp, self.dtype), device=self.device
        )

    def _bind_views(self) -> None:
        params, grads = self.views(self.theta), self.views(self.grad)
        self.W, self.b = params[0::2], params[1::2]
        self.dW, self.db = grads[0::2], grads[1::2]
        self._work: tuple | None = None
        self._ops = arrays.ops_for(self.xp)
        self._device_rng: tuple | None = None

    def _dropout_mask(self, rng: np.random.Generator, shape: tuple, rate: float):
        """Return the inverted-dropout factor of one layer.

        It is 0 for a dropped unit, 1/(1 − p) for a kept one (so that the expected
        activation is unchanged).
        """
        keep = 1.0 - rate
        if self.xp is np:
            mask = rng.random(shape, dtype=self.dtype) < keep
            return mask.astype(self.dtype) / self.dtype.type(keep)
        if self._device_rng is None or self._device_rng[0] is not rng:
            self._device_rng = (rng, arrays.RandomStream(rng, self.xp, self.device))
        uniform = self._device_rng[1].uniform(shape, self.dtype)
        return self.xp.astype(uniform < keep, uniform.dtype) / keep

    # ------------------------------------------------------------------ structure
    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """[W1, b1, W2, b2, …] as views into a flat buffer laid out like ``theta``.

        Parameters
        ----------
        flat : ndarray of shape (n_parameters,)

        Returns
        -------
        list of ndarray
            W_l of shape (n_{l−1}, n_l) and b_l of shape (n_l,), sharing ``flat``'s memory.

        Examples
        --------
        >>> import numpy as np
        >>> [v.shape for v in Network([2, 1]).views(np.zeros(3))]
        [(2, 1), (1,)]
        """
        views, offset = [], 0
        for shape in self._shapes:
            size = int(np.prod(shape))
            part = flat[offset : offset + size]
            views.append(
                part.reshape(shape) if type(part) is np.ndarray else self.xp.reshape(part, shape)
            )
            offset += size
        return views

    @property
    def n_layers(self) -> int:
        """Number of weight layers (hidden layers + the output layer)."""
        return len(self.layer_sizes) - 1

    @property
    def n_parameters(self) -> int:
        """Total count of weights and biases."""
        return self.theta.size

    def parameters(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, …]: writable views into the parameter buffer."""
        return [p for pair in zip(self.W, self.b, strict=True) for p in pair]

    def gradients(self) -> list[np.ndarray]:
        """[∂C/∂W1, ∂C/∂b1, …]: views into ``grad``, aligned with :meth:`parameters`."""
        return [g for pair in zip(self.dW, self.db, strict=True) for g in pair]

    def initialize(self, random_state=None) -> None:
        """Draw new weights (Glorot, or He for ReLU layers) and zero the biases."""
        rng = as_generator(random_state)
        for W, b, act in zip(self.W, self.b, self.activations, strict=True):
            drawn = initializers.for_activation(act.name)(rng, *W.shape, self.dtype)
            W[...] = self.asarray(drawn)  # drawn with NumPy, then moved: the same start
            b[...] = 0

    def asarray(self, value):
        """Return ``value`` (a NumPy array, list or scalar) as an array of the network's kind.

        The array has the network's library, dtype and device.

        Examples
        --------
        >>> Network([1, 1]).asarray([1, 2])
        array([1., 2.])
        """
        return arrays.as_device_array(value, self.xp, self.device, self.dtype)

    def to(self, xp=None, device=None) -> Network:
        """Return a copy of the network living on another array library or device.

        The weights are copied exactly (through the host).

        Examples
        --------
        >>> import array_api_strict
        >>> net = Network([2, 1], random_state=0)
        >>> moved = net.to(array_api_strict)
        >>> moved.describe_placement()
        "array_api_strict on array_api_strict.Device('CPU_DEVICE')"
        >>> bool((arrays.to_numpy(moved.theta) == net.theta).all())
        True
        """
        twin = type(self)(
            self.layer_sizes,
            activation=list(self.activations[:-1]),
            output_activation=self.activations[-1],
            loss=self.loss,
            dtype=self.dtype,
            dropout=list(self.dropout),
            xp=xp,
            device=device,
            theta=arrays.to_numpy(self.theta),  # the weights copied exactly, none drawn
        )
        return twin

    def describe_placement(self) -> str:
        """Where the network lives, in words: "numpy", or e.g. "torch on cuda:0".

        Examples
        --------
        >>> Network([1, 1]).describe_placement()
        'numpy'
        """
        return arrays.describe(self.xp, self.device)

    def __repr__(self) -> str:
        """Show the architecture, loss and dtype (and the library and device, if not NumPy)."""
        acts = [a.name for a in self.activations]
        where = "" if self.xp is np else f", xp={arrays.name(self.xp)}, device={self.device!r}"
        return (
            f"Network(layer_sizes={self.layer_sizes}, activations={acts}, "
            f"loss={self.loss.name!r}, dtype={self.dtype.name}{where})"
        )

    # ------------------------------------------------------------------ description

    # ------------------------------------------------------------------ input checks

    # ------------------------------------------------------------------ forward

    def propagate(self, X, record: bool = False):
        """Forward propagation on a validated X (see :meth:`check_X`).

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_inputs), network's dtype
        record : bool, default False
            Return a :class:`PassRecord` with each layer's z and a instead of ŷ.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs), or PassRecord

        Examples
        --------
        >>> import numpy as np
        >>> net = Network([1, 1], activation="identity")
        >>> net.W[0][:], net.b[0][:] = 2.0, 1.0
        >>> net.propagate(np.array([[3.0]]))   # z = 3·2 + 1
        array([[7.]])
        """
        n = X.shape[0]
        a_out = [self._empty((n, k)) for k in self.layer_sizes[1:]]
        y_hat, layers = self._forward(X, a_out, record=record)
        if record:
            return PassRecord(X=X, layers=layers, y_hat=y_hat)
        return y_hat

    def _forward(
        self,
        X,
        a_out: list,
        z_in: list | None = None,
        dropout_rng: np.random.Generator | None = None,
        dropped: list | None = None,
        masks: list | None = None,
        record: bool = False,
        sparse_X: bool | None = None,
    ) -> tuple:
        """Forward propagation, the one written in nnmath: z_l = a_{l−1} W_l + b_l, a_l = σ(z_l).

        Each layer's a is written into ``a_out[l]`` (preallocated, shape (n, n_l)); z
        is kept in ``z_in[l]`` where that is not None (an activation whose derivative
        needs z). With ``dropout_rng``, each hidden layer's output is multiplied by its
        inverted-dropout mask (into ``dropped[l]``; the mask into ``masks[l]``).
        ``sparse_X`` says whether X is a scipy sparse matrix (None: find out).

        Returns ŷ and, with ``record``, the list of :class:`LayerRecord` (else []).
        """
        # NOTE: training calls this once per batch; on small batches (the article's
        # perceptron) its Python overhead is the step's cost, so what can be is
        # decided once here, outside the loop over the layers.
        Ws, bs, acts, ops = self.W, self.b, self.activations, self._ops
        L = len(Ws)
        layers: list[LayerRecord] = []
        if sparse_X is None:  # only X can be sparse: every a_l is a dense array
            sparse_X = type(X) is not np.ndarray and sp.issparse(X)
        kept_z: list = z_in if z_in is not None else [None] * L
        drop = masks is not None and dropped is not None and dropout_rng is not None
        mask_out: list = masks if masks is not None else [None] * L
        dropped_out: list = dropped if dropped is not None else []
        a = X
        for l in range(L):
            z = a_out[l]
            if l == 0 and sparse_X:
                z[...] = a @ Ws[l]
            else:
                ops.dot(a, Ws[l], z)  # z = a W
            ops.add(z, bs[l], z)  # + b
            if record:
                z_seen = arrays.copy_of(z)
            if kept_z[l] is not None:
                kept_z[l][...] = z  # kept for σ'(z)
            acts[l](z, out=z)  # a = σ(z), in place of z
            a = z
            if drop and l < L - 1 and self.dropout[l] > 0:
                rng = cast("np.random.Generator", dropout_rng)
                mask_out[l] = self._dropout_mask(rng, tuple(z.shape), self.dropout[l])
                a = ops.multiply(z, mask_out[l], dropped_out[l])  # inverted dropout
            if record:
                mask = mask_out[l] if l < L - 1 else None
                layers.append(LayerRecord(z=z_seen, a=arrays.copy_of(z), mask=mask))
        return a, layers

    def objective(
        self,
        X,
        Y,
        sample_weight=None,
        alpha: float = 0.0,
        total_weight: float | None = None,
        l1: float = 0.0,
    ) -> float:
        """C on validated arrays, without gradients.

        C = Σᵢ wᵢ Lᵢ / Σw + (α / 2Σw) Σₗ ‖Wₗ‖² + (λ₁ / Σw) Σₗ Σ|Wₗ|, with λ₁ = ``l1``.
        What training records for a validation set after every epoch. With
        ``total_weight`` (Σw of a whole of which (X, Y) is one part), C is this part's
        share, as in :meth:`backprop`.

        Examples
        --------
        >>> import numpy as np
        >>> net = Network([1, 1], activation="identity")
        >>> net.W[0][:], net.b[0][:] = 1.0, 0.0
        >>> net.objective(np.array([[1.0], [2.0]]), np.array([[0.0], [0.0]]))  # (1 + 4)/2
        2.5
        """
        n = X.shape[0]
        if total_weight is not None:
            w_sum = float(total_weight)
        else:
            w_sum = float(n) if sample_weight is None else float(self.xp.sum(sample_weight))
        w = None if sample_weight is None else _reshape(sample_weight, (-1, 1))
        cost = self.loss.cost_of(self.propagate(X), Y, w, w_sum)
        if alpha:
            cost += self.l2_penalty(alpha, w_sum)
        if l1:
            cost += self.l1_penalty(l1, w_sum)
        return cost

    def l2_penalty(self, alpha: float, w_sum: float) -> float:
        """Return the L2 term of the cost, (α / 2Σw) Σₗ ‖Wₗ‖².

        This is scikit-learn's scaling; Σw = n without sample weights. Biases are not
        penalized.

        Examples
        --------
        >>> net = Network([2, 1], random_state=0)
        >>> net.W[0][:] = [[3.0], [4.0]]
        >>> net.l2_penalty(alpha=1.0, w_sum=5.0)   # ½ · 1 · 25 / 5
        2.5
        """
        if self.xp is np:
            squares = sum(float(np.vdot(W, W)) for W in self.W)
        else:  # summed on the device: one scalar crosses to the host
            squares = float(sum(self.xp.sum(W * W) for W in self.W))
        return 0.5 * alpha * squares / w_sum

    def l1_penalty(self, l1: float, w_sum: float) -> float:
        """Return the L1 term of the cost, (λ₁ / Σw) Σₗ Σ|Wₗ|, with λ₁ = ``l1``.

        Scaled as :meth:`l2_penalty` scales scikit-learn's L2 term: divided by Σw (n
        without sample weights). Biases are not penalized. Its subgradient, which
        :meth:`backprop` adds to ∂C/∂W, is (λ₁ / Σw)·sign(W) with sign(0) = 0.

        Examples
        --------
        >>> net = Network([2, 1], random_state=0)
        >>> net.W[0][:] = [[3.0], [-4.0]]
        >>> net.l1_penalty(l1=1.0, w_sum=5.0)   # 1 · (3 + 4) / 5
        1.4
        """
        if self.xp is np:
            total = sum(float(np.abs(W).sum()) for W in self.W)
        else:  # summed on the device: one scalar crosses to the host
            total = float(sum(self.xp.sum(self.xp.abs(W)) for W in self.W))
        return l1 * total / w_sum

    # ------------------------------------------------------------------ backward

    def _work_arrays(self, n: int, dropout: bool) -> tuple:
        """Return preallocated arrays for a batch of n rows (those of the last size are kept).

        They are each layer's σ(z), each hidden layer's ∂C/∂a and dropped-out a, and the
        penalty terms' (α/Σw)·W and sign(W).
        """
        key = n * 2 + int(dropout)
        if self._work is not None and self._work[0] == key:
            return self._work
        sizes = self.layer_sizes[1:]
        a_out = [self._empty((n, k)) for k in sizes]
        dC_da = [self._empty((n, k)) for k in sizes[:-1]]
        dropped = [self._empty((n, k)) for k in sizes[:-1]] if dropout else a_out
        penalty = [self._empty(tuple(W.shape)) for W in self.W]
        # z itself, kept only for the activations whose derivative needs it
        z_in = [
            self._empty((n, k)) if act.needs_z else None
            for k, act in zip(sizes, self.activations, strict=True)
        ]
        self._work = (key, a_out, dC_da, dropped, penalty, z_in)
        return self._work

    def backprop(
        self,
        X,
        Y,
        sample_weight=None,
        *,
        alpha: float = 0.0,
        l1: float = 0.0,
        total_weight: float | None = None,
        dropout_rng: np.random.Generator | None = None,
        fused: bool = True,
        record: bool = False,
        divide_at_end: bool = False,
    ):
        """Backpropagation on validated arrays: fills ``grad`` with ∂C/∂θ, returns C.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_inputs), network's dtype
        Y : ndarray of shape (n_samples, n_outputs), network's dtype
        sample_weight : ndarray of shape (n_samples,), optional
        alpha : float, default 0
            L2 penalty: adds (α / 2Σw) Σ‖W‖² to C and (α/Σw)·W to ∂C/∂W.
        l1 : float, default 0
            L1 penalty λ₁: adds (λ₁ / Σw) Σ|W| to C and its subgradient
            (λ₁/Σw)·sign(W) to ∂C/∂W, with sign(0) taken as 0 (biases are not
            penalized).
        total_weight : float, optional
            Σw of the whole data set when (X, Y) is one part of it: C and ∂C/∂θ are then
            this part's share, and the shares of all parts add up to the whole's (give
            ``alpha`` and ``l1`` to one part only). Default: this batch's own Σw (n
            without weights).
        dropout_rng : numpy.random.Generator, optional
            Draw dropout masks (at the network's ``dropout`` rates) from it.
        fused : bool, default True
            Use δ_L = c·(ŷ − y) for a canonical output/loss pair.
        record : bool, default False
            Return a :class:`PassRecord` of every intermediate value instead of C.
        divide_at_end : bool, default False
            False: δ_L carries the 1/Σw of the mean from the output on. True: carry
            Σw·δ backwards and divide each layer's gradient by Σw at the end, as
            scikit-learn does — the same gradient, rounded as scikit-learn rounds it
            (L-BFGS asks for this, to be handed scikit-learn's very numbers), at the
            cost of one more pass over ∂C/∂θ.

        Returns
        -------
        float or PassRecord

        Examples
        --------
        >>> import numpy as np
        >>> net = Network([1, 1], activation="identity", loss="mse")
        >>> net.W[0][:], net.b[0][:] = 1.0, 0.0
        >>> net.backprop(np.array([[2.0]]), np.array([[1.0]]))   # (2 − 1)²
        1.0
        >>> net.grad   # ∂C/∂w = 2(ŷ − y)·x = 4, ∂C/∂b = 2(ŷ − y) = 2
        array([4., 2.])
        """
        n = X.shape[0]
        L = len(self.W)
        use_dropout = dropout_rng is not None and any(self.dropout)
        work = self._work
        if work is None or work[0] != n * 2 + use_dropout:
            work = self._work_arrays(n, use_dropout)
        _, a_out, dC_da, dropped, penalty, z_in = work
        ops = self._ops
        masks: list = [None] * (L - 1)
        # only X can be sparse: every a_l is a dense array
        sparse_X = type(X) is not np.ndarray and sp.issparse(X)

        # Forward propagation, keeping every layer's output for the backward pass.
        y_hat, layers = self._forward(
            X,
            a_out,
            z_in,
            dropout_rng if use_dropout else None,
            dropped,
            masks,
            record,
            sparse_X,
        )

        # The cost C = Σᵢ wᵢ Lᵢ / Σw (+ the L2 term) and the output error δ_L.
        if total_weight is not None:
            w_sum = float(total_weight)
        elif sample_weight is None:
            w_sum = float(n)
        else:
            w_sum = float(ops.xp.sum(sample_weight))
        if not w_sum > 0:
            raise ValueError(
                f"sample_weight: the weights of a batch of {n} samples sum to {w_sum}; the "
                "cost is a weighted mean and needs a positive total. Drop zero-weight "
                "samples or use larger batches."
            )
        w = None if sample_weight is None else _reshape(sample_weight, (-1, 1))
        loss, output = self.loss, self.activations[-1]
        fused = fused and loss.canonical_activation == output.name
        # With divide_at_end the backward pass carries Σw·δ (the 1/Σw of the mean left
        # out) and divides each layer's gradient by Σw at the end, as scikit-learn does:
        # the same numbers, rounded in the same order. Else δ carries the 1/Σw itself.
        late = w_sum if divide_at_end else 1.0  # the divisor left for the end
        if fused:
            # δ_L = ∂C/∂ŷ · ∂ŷ/∂z_L multiplied out: c·(ŷ − y)·wᵢ/Σw
            cost = loss.cost_of(y_hat, Y, w, w_sum)
            delta = loss.canonical_delta_of(y_hat, Y, w, w_sum / late)
        else:
            cost, dC_dyhat = loss.cost_and_gradient_of(y_hat, Y, w, w_sum)
            if record:
                dC_dyhat_kept = arrays.copy_of(dC_dyhat)
            if divide_at_end:
                dC_dyhat *= w_sum  # Σw·∂C/∂ŷ, as the backward pass carries it
            z_L = z_in[-1]  # (an activation written before needs_z takes no z)
            delta = (  # · ∂ŷ/∂z_L
                output.backward(dC_dyhat, y_hat, inplace=True)
                if z_L is None
                else output.backward(dC_dyhat, y_hat, inplace=True, z=z_L)
            )
        mean_loss = cost
        l2_term = self.l2_penalty(alpha, w_sum) if alpha else 0.0
        l1_term = self.l1_penalty(l1, w_sum) if l1 else 0.0
        if alpha:
            cost += l2_term
        if l1:
            cost += l1_term

        for l in range(L - 1, -1, -1):
            a_prev = X if l == 0 else (dropped[l - 1] if masks[l - 1] is not None else a_out[l - 1])
            # ∂C/∂W_l = ∂z_l/∂W_l · δ_l = a_{l−1}ᵀ δ_l
            dW = self.dW[l]
            if l == 0 and sparse_X:
                dW[...] = a_prev.T @ delta
            else:
                ops.dot(a_prev.T, delta, dW)
            if alpha:
                # ∂/∂W of the L2 term: dW += (α/Σw)·W
                if divide_at_end:  # α·W, rounded once, then added, as scikit-learn adds it
                    dW += ops.multiply(self.W[l], alpha, penalty[l])
                else:
                    ops.add_scaled(dW, alpha / w_sum, self.W[l], penalty[l])
            if l1:
                # ∂/∂W of the L1 term: dW += (λ₁/Σw)·sign(W) (λ₁·sign(W) with the 1/Σw
                # at the end).
                # NOTE: |w| has no derivative at w = 0; its subgradient there is any
                # value in [−1, 1], and this takes 0 (sign(0) = 0), so a weight that is
                # exactly 0 feels no pull from the L1 term.
                if ops.xp is np:
                    sign = np.sign(self.W[l], out=penalty[l])
                else:
                    sign = ops.xp.sign(self.W[l])
                if record:
                    layers[l].l1_gradient = arrays.copy_of(sign * (l1 / w_sum))
                ops.add_scaled(dW, l1 / (w_sum / late), sign, penalty[l])
            # ∂C/∂b_l = δ_l · ∂z_l/∂b_l, with ∂z_l/∂b_l = 1
            ops.sum_rows(delta, out=self.db[l])
            if divide_at_end:
                dW /= w_sum
                self.db[l] /= w_sum
            if record:
                layers[l].delta = arrays.copy_of(delta) / late
            if l > 0:
                # ∂C/∂a_{l−1} = δ_l · ∂z_l/∂a_{l−1} = δ_l W_lᵀ
                g = ops.dot(delta, self.W[l].T, dC_da[l - 1])
                if masks[l - 1] is not None:
                    g *= masks[l - 1]  # a dropped unit passed nothing forward
                if record:
                    layers[l - 1].dC_da = arrays.copy_of(g) / late
                # δ_{l−1} = ∂C/∂a_{l−1} · ∂a_{l−1}/∂z_{l−1}
                act, z_l = self.activations[l - 1], z_in[l - 1]
                delta = (
                    act.backward(g, a_out[l - 1], inplace=True)
                    if z_l is None
                    else act.backward(g, a_out[l - 1], inplace=True, z=z_l)
                )
        if not record:
            return float(cost)

        for rec, act, dW, db in zip(layers, self.activations, self.dW, self.db, strict=True):
            rec.da_dz = act.local_derivative(rec.a, rec.z)
            rec.dC_dW, rec.dC_db = arrays.copy_of(dW), arrays.copy_of(db)
        losses = loss.per_sample(layers[-1].a, Y)
        return PassRecord(
            X=X,
            layers=layers,
            y_hat=arrays.copy_of(y_hat),
            Y=Y,
            sample_weight=sample_weight,
            w_sum=w_sum,
            losses=losses,
            mean_loss=float(mean_loss),
            l2=float(l2_term),
            alpha=float(alpha),
            l1=float(l1_term),
            lambda1=float(l1),
            cost=float(cost),
            fused=fused,
            dC_dyhat=None if fused else dC_dyhat_kept,
            gradients=[arrays.copy_of(g) for g in self.gradients()],
        )
