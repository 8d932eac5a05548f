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

Two kinds of methods: the public ones a user calls (:meth:`~Network.forward`,
:meth:`~Network.cost`, :meth:`~Network.cost_and_gradients`, :meth:`~Network.fit`)
validate their input; :meth:`~Network.propagate`, :meth:`~Network.objective` and
:meth:`~Network.backprop` take arrays that :meth:`~Network.check_X`,
:meth:`~Network.check_y` and :meth:`~Network.check_sample_weight` have already
checked, which is how training calls them on every batch.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import scipy.sparse as sp

from nnmath import activations as _activations
from nnmath import arrays, distributed, initializers, training
from nnmath import document as doc
from nnmath import losses as _losses
from nnmath.optimizers import SGD, Optimizer
from nnmath.rng import as_generator

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


def _is_array(x) -> bool:
    """Return True for an array of an array-API library (NumPy, torch, cupy, …)."""
    if hasattr(x, "__array_namespace__"):
        return True
    import array_api_compat

    return array_api_compat.is_array_api_obj(x)


def _reshape(x, shape):
    return x.reshape(shape) if type(x) is np.ndarray else arrays.namespace_of(x).reshape(x, shape)


def _all_finite(x) -> bool:
    """Return True when no entry is NaN or infinite (one scalar crosses to the host)."""
    if type(x) is np.ndarray:
        return bool(np.isfinite(x).all())
    xp = arrays.namespace_of(x)
    return bool(xp.all(xp.isfinite(x)))


def _copy(x):
    """Return a copy of an array of any library."""
    return x.copy() if type(x) is np.ndarray else arrays.namespace_of(x).asarray(x, copy=True)


def _checked_chunk(network: Network, X, y, sample_weight) -> tuple:
    """One chunk of a Dask collection, checked as :meth:`Network.fit` checks its data."""
    X = network.check_X(X)
    n = X.shape[0]
    return X, network.check_y(y, n), network.check_sample_weight(sample_weight, n)


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
        ∂C/∂W = a_{l−1}ᵀ δ (+ the L2 term's (α/Σw)·W).
    dC_db : ndarray of shape (n_units,) or None
        ∂C/∂b = Σᵢ δᵢ.
    """

    z: np.ndarray
    a: np.ndarray
    mask: np.ndarray | None = None
    da_dz: np.ndarray | None = None
    dC_da: np.ndarray | None = None
    delta: np.ndarray | None = None
    dC_dW: np.ndarray | None = None
    dC_db: np.ndarray | None = None


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
        Σᵢ wᵢ Lᵢ / Σw, the cost without its L2 term.
    l2 : float
        The L2 term (α / 2Σw) Σₗ ‖Wₗ‖² (0 without one).
    alpha : float
        α of the L2 term.
    cost : float or None
        C = mean_loss + l2, as training computes it.
    fused : bool
        True when δ_L came from the canonical pair's c·(ŷ − y) (see
        :attr:`nnmath.losses.Loss.canonical_activation`); False when it came from
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
        :func:`nnmath.activations.names`).
    output_activation : str or Activation, optional
        Output activation; defaults to ``activation`` when that is one name.
    loss : str or Loss, default "mse"
        The per-sample loss whose mean is the cost C (see :func:`nnmath.losses.names`).
    dtype : numpy.float32 or numpy.float64, default numpy.float64
        dtype of the parameters, outputs and gradients.
    random_state : int, numpy.random.Generator or None
        Seed of the initial weights (Glorot, or He for ReLU layers).
    draw_weights : bool, default True
        False leaves every weight and bias at 0 and draws nothing, for a caller that
        sets them itself (scikit-learn's initialization in the estimators).
    dropout : float or list of float, default 0.0
        Inverted-dropout rate of each hidden layer's output, applied only when a
        training step passes a random generator (``dropout_rng``).
    xp : array library, optional
        Where the parameters, gradients and work arrays live: a module such as
        ``torch``, ``cupy`` or ``array_api_strict`` (any library of the Python array API
        standard); None is NumPy. The network's methods then take arrays of that
        library (NumPy arrays and lists are converted once, at the call) and return
        arrays of it. See :mod:`nnmath.arrays`.
    device : optional
        A device of ``xp`` (e.g. ``"cuda"`` for torch); None is the library's default.

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
    >>> net.forward(np.zeros((4, 2))).shape
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
        *,
        draw_weights: bool = True,
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
        if draw_weights:
            self.initialize(random_state)

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

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        """Return the state to pickle: θ once, without views, gradients or the library module."""
        # The views W, b, dW, db and the work arrays are rebuilt from the flat
        # parameter buffer on unpickling, so that they stay views (pickle would copy
        # them); the gradient buffer, which every backprop overwrites, is not kept (a
        # pickle holds θ once); the array library is stored by name (a module does not
        # pickle).
        state = self.__dict__.copy()
        for key in ("W", "b", "dW", "db", "grad", "_work", "_device_rng", "_ops"):
            state.pop(key, None)
        state["xp"] = arrays.name(self.xp)
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore a pickled network, its views and work arrays rebuilt on the flat buffer."""
        state = dict(state)
        state["xp"] = arrays.namespace_by_name(state.get("xp", "numpy"))
        state.setdefault("device", arrays.default_device(state["xp"]))
        self.__dict__.update(state)
        if "grad" not in state:
            self.grad = self._zeros(self.theta.shape[0])
        self._bind_views()

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
            random_state=0,
            dropout=list(self.dropout),
            xp=xp,
            device=device,
        )
        twin.theta[...] = twin.asarray(arrays.to_numpy(self.theta))
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
    def to_document(self) -> tuple[doc.Document, doc.Tensors]:
        """Describe the network for a model file.

        Its architecture goes in JSON-able fields and its weights in tensors
        ``W1, b1, …, WL, bL`` (views, not copies).

        Raises ValueError for weights that are not finite: a model file holds a model
        that predicts.

        Examples
        --------
        >>> document, tensors = Network([2, 1]).to_document()
        >>> document["layer_sizes"], sorted(tensors)
        ([2, 1], ['W1', 'b1'])
        """
        document = {
            "layer_sizes": [int(n) for n in self.layer_sizes],
            "activations": [
                doc.component_to_document(a, _activations.get, "activation")
                for a in self.activations
            ],
            "loss": doc.component_to_document(self.loss, _losses.get, "loss"),
            "dtype": self.dtype.name,
            "dropout": [float(p) for p in self.dropout],
        }
        if not _all_finite(self.theta):
            raise ValueError(
                "cannot describe a network whose weights hold NaN or infinity (a diverged "
                "training run?); a model file holds finite weights"
            )
        tensors = {}
        for l, (W, b) in enumerate(zip(self.W, self.b, strict=True), start=1):
            tensors[f"W{l}"], tensors[f"b{l}"] = arrays.to_numpy(W), arrays.to_numpy(b)
        return document, tensors

    @classmethod
    def from_document(
        cls, document: doc.Document, tensors: doc.Tensors, xp=None, device=None
    ) -> Network:
        """Build the network a :meth:`to_document` description gives, weights copied in exactly.

        The network is on the array library ``xp`` and ``device`` (default NumPy);
        ``W1, b1, …`` are popped from ``tensors``.

        Every shape is checked against ``layer_sizes`` before anything is allocated, so
        the network is never larger than the file, and every weight must be finite.
        Raises :class:`ModelFileError`.

        Examples
        --------
        >>> net = Network([2, 1], random_state=0)
        >>> document, tensors = net.to_document()
        >>> copy = Network.from_document(document, dict(tensors))
        >>> bool((copy.theta == net.theta).all())
        True
        """
        sizes = doc.get(document, "layer_sizes", doc.list_of(doc.is_int), "a list of integers")
        if len(sizes) < 2 or min(sizes) < 1:
            raise doc.ModelFileError(
                f"'layer_sizes' must have ≥ 2 entries, all ≥ 1; got {sizes!r:.200}"
            )
        n_layers = len(sizes) - 1
        if n_layers > len(tensors):  # bounds the names listed below
            raise doc.ModelFileError(
                f"'layer_sizes' gives {n_layers} weight layers, which need {2 * n_layers} "
                f"tensors (W1, b1, …); the file holds {len(tensors)}"
            )
        acts = doc.get(document, "activations", lambda v: isinstance(v, list), "a list")
        if len(acts) != n_layers:
            raise doc.ModelFileError(
                f"'activations' has {len(acts)} entries but layer_sizes {sizes!r:.200} has "
                f"{n_layers} weight layers"
            )
        dropout = doc.get(document, "dropout", doc.list_of(doc.is_number), "a list of numbers")
        if len(dropout) != n_layers - 1:
            raise doc.ModelFileError(
                f"'dropout' has {len(dropout)} entries but there are {n_layers - 1} hidden layers"
            )
        activations = [doc.component_from_document(a, _activations.get, "activation") for a in acts]
        loss = doc.component_from_document(document.get("loss"), _losses.get, "loss")
        dtype = np.dtype(
            doc.get(
                document,
                "dtype",
                lambda v: isinstance(v, str) and v in ("float32", "float64"),
                "'float32' or 'float64'",
            )
        )
        names = [f"{p}{l}" for l in range(1, n_layers + 1) for p in ("W", "b")]
        missing = [name for name in names if name not in tensors]
        if missing:
            raise doc.ModelFileError(
                f"tensors {missing[:10]}{' …' * (len(missing) > 10)} are missing for "
                f"layer_sizes {sizes!r:.200}"
            )
        weights = []
        for l in range(n_layers):
            for name, shape in (
                (f"W{l + 1}", (sizes[l], sizes[l + 1])),
                (f"b{l + 1}", (sizes[l + 1],)),
            ):
                if tensors[name].dtype.itemsize != dtype.itemsize:
                    raise doc.ModelFileError(
                        f"tensor {name!r} is {tensors[name].dtype.name} but the model's dtype "
                        f"is {dtype.name}"
                    )
                if tensors[name].shape != shape:
                    raise doc.ModelFileError(
                        f"tensor {name!r} has shape {tensors[name].shape} but layer_sizes "
                        f"{sizes!r:.200} needs {shape}"
                    )
                if not np.isfinite(tensors[name]).all():
                    raise doc.ModelFileError(
                        f"tensor {name!r} holds NaN or infinity; a model's weights are finite"
                    )
                weights.append(tensors[name])
        try:
            net = cls(
                sizes,
                activation=activations[:-1],
                output_activation=activations[-1],
                loss=loss,
                dtype=dtype,
                random_state=0,  # drawn, then overwritten by the file's weights
                dropout=[float(p) for p in dropout],
                xp=xp,
                device=device,
            )
        except ValueError as exc:
            raise doc.ModelFileError(f"invalid network description: {exc}") from None
        for param, value in zip(net.parameters(), weights, strict=True):
            param[...] = net.asarray(value)  # same dtype: an exact copy
        for name in names:
            del tensors[name]
        return net

    # ------------------------------------------------------------------ input checks
    def adopt(self, x, name: str = "X"):
        """Return ``x`` as an array of the network's library and device.

        A NumPy array, list or scalar is converted (once); an array of the network's
        library is checked.

        Raises ValueError naming ``name`` for an array of another library or on
        another device, an integer array, a complex one, or a tensor that requires
        grad (nnmath computes gradients itself). Shapes are not checked here.

        Examples
        --------
        >>> import array_api_strict as xp
        >>> net = Network([1, 1], xp=xp)
        >>> net.adopt([[1.0]]).dtype
        array_api_strict.float64
        >>> net.adopt(xp.asarray([[1]]))
        Traceback (most recent call last):
        ...
        ValueError: X is an integer array_api_strict array; the network computes in float64: ...
        """
        xp = self.xp
        if sp.issparse(x):
            raise ValueError(
                f"{name} is a scipy sparse matrix, but the network lives on "
                f"{self.describe_placement()} and takes dense arrays"
            )
        if type(x) is np.ndarray or not _is_array(x):
            if np.iscomplexobj(x):
                raise ValueError(f"{name} has complex values; a network takes real numbers")
            try:
                host = np.asarray(x, dtype=self.dtype)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
            return self.asarray(host)
        library = arrays.name(arrays.namespace_of(x))
        if library != arrays.name(xp):
            raise ValueError(
                f"{name} is a {library} array but the network lives on "
                f"{self.describe_placement()}; pass {arrays.name(xp)} arrays, or move the "
                f"network with network.to({library})"
            )
        if not arrays.same_device(arrays.device_of(x), self.device):
            raise ValueError(
                f"{name} is on device {arrays.device_of(x)} but the network lives on "
                f"{self.describe_placement()}; move {name} to {self.device} (or the "
                "network with network.to(xp, device))"
            )
        if getattr(x, "requires_grad", False):
            raise ValueError(
                f"{name} requires grad; nnmath computes the gradients itself: pass {name}.detach()"
            )
        want = arrays.float_dtype(xp, self.dtype)
        if not xp.isdtype(x.dtype, "real floating"):
            kind = "complex" if xp.isdtype(x.dtype, "complex floating") else "an integer"
            raise ValueError(
                f"{name} is {kind} {library} array; the network computes in "
                f"{self.dtype.name}: convert it first (xp.astype({name}, xp.{self.dtype.name}))"
            )
        return x if x.dtype == want else xp.astype(x, want)

    def _refuse_foreign(self, x, name: str) -> None:
        """Refuse another library's array: a NumPy network takes NumPy arrays, lists and tables."""
        if type(x) is not np.ndarray and not sp.issparse(x) and _is_array(x):
            library = arrays.name(arrays.namespace_of(x))
            raise ValueError(
                f"{name} is a {library} array but the network lives on numpy; pass NumPy "
                f"arrays, or move the network with network.to({library})"
            )

    def check_X(self, X, name: str = "X"):
        """X as an array of the network's dtype, shape (n_samples, n_inputs), finite.

        A sparse matrix stays sparse (CSR). Raises ValueError naming ``name`` and what
        is wrong: not numeric, complex, not 2-D, no samples, the wrong number of
        features, NaN or infinity.

        Examples
        --------
        >>> Network([2, 1]).check_X([[1, 2]]).dtype
        dtype('float64')
        """
        if self.xp is not np:
            X = self.adopt(X, name)
            self._check_shape_and_values(X, name)
            return X
        self._refuse_foreign(X, name)
        if sp.issparse(X):
            X = X.tocsr()
            if np.iscomplexobj(X.data):
                raise ValueError(f"{name} has complex values; a network takes real numbers")
            X = X.astype(self.dtype, copy=False)
            data = X.data
        else:
            try:
                if np.iscomplexobj(X):
                    raise ValueError(f"{name} has complex values; a network takes real numbers")
                X = np.asarray(X, dtype=self.dtype)
            except (TypeError, ValueError) as exc:
                if "complex" in str(exc):
                    raise
                raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
            data = X
        self._check_shape_and_values(X, name, data)
        return X

    def _check_shape_and_values(self, X, name: str, data=None) -> None:
        shape = tuple(X.shape)
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D of shape (n_samples, n_features); got {X.ndim}-D "
                f"shape {shape}. Reshape a single sample with X.reshape(1, -1)."
            )
        if shape[0] == 0:
            raise ValueError(f"{name} has no samples (shape {shape})")
        if shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"{name} has {shape[1]} features but the network expects "
                f"{self.layer_sizes[0]} (layer_sizes[0])"
            )
        if not _all_finite(X if data is None else data):
            raise ValueError(f"{name} contains NaN or infinity")

    def check_y(self, y, n_samples: int, name: str = "y") -> np.ndarray:
        """Return y as an array of shape (n_samples, n_outputs) in the network's dtype.

        A 1-D y is taken as one column when the network has one output. Raises
        ValueError naming ``name``: not numeric, complex, the wrong shape or length,
        NaN or infinity, or targets the loss cannot take (negative counts for the
        Poisson loss).

        Examples
        --------
        >>> Network([2, 1]).check_y([0, 1], 2).shape
        (2, 1)
        """
        if self.xp is not np:
            y = self.adopt(y, name)
        else:
            self._refuse_foreign(y, name)
            try:
                if np.iscomplexobj(y):
                    raise ValueError(f"{name} has complex values; targets must be real numbers")
                y = np.asarray(y, dtype=self.dtype)
            except (TypeError, ValueError) as exc:
                if "complex" in str(exc):
                    raise
                raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
        if y.ndim == 1:
            y = _reshape(y, (-1, 1))
        n_out = self.layer_sizes[-1]
        if y.ndim != 2 or y.shape[1] != n_out:
            raise ValueError(
                f"{name} must have shape (n_samples, {n_out}) for a network with {n_out} "
                f"outputs (1-D when there is one); got {tuple(y.shape)}"
            )
        if y.shape[0] != n_samples:
            raise ValueError(f"X has {n_samples} samples but {name} has {y.shape[0]}")
        if not _all_finite(y):
            raise ValueError(f"{name} contains NaN or infinity")
        self.loss.check_targets(y, name)
        return y

    def check_sample_weight(self, sample_weight, n_samples: int, name: str = "sample_weight"):
        """Check sample weights: a 1-D array of n_samples finite numbers ≥ 0, positive in total.

        The weights are returned in the network's dtype; None stays None (every weight 1).

        Examples
        --------
        >>> Network([2, 1]).check_sample_weight([1, 2], 2)
        array([1., 2.])
        """
        if sample_weight is None:
            return None
        if self.xp is not np:
            w = self.adopt(sample_weight, name)
            if w.ndim == 0:
                w = self.xp.full((n_samples,), float(w), dtype=w.dtype, device=self.device)
        else:
            self._refuse_foreign(sample_weight, name)
            try:
                if np.iscomplexobj(sample_weight):
                    raise TypeError("complex")
                w = np.asarray(sample_weight, dtype=self.dtype)
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name} must be real numbers; got {type(sample_weight).__name__}"
                ) from None
            if w.ndim == 0:
                w = np.full(n_samples, w, dtype=self.dtype)
        if tuple(w.shape) != (n_samples,):
            raise ValueError(
                f"{name} must have shape ({n_samples},), one weight per sample; got shape "
                f"{tuple(w.shape)}"
            )
        xp = arrays.namespace_of(w)
        if not _all_finite(w):
            raise ValueError(f"{name} contains NaN or infinity")
        if bool(xp.any(w < 0)):
            raise ValueError(f"{name} has negative weights; weights must be >= 0")
        if not float(xp.sum(w)) > 0:
            raise ValueError(f"{name} sums to 0; at least one sample needs a positive weight")
        return w

    # ------------------------------------------------------------------ forward
    def forward(self, X, record: bool = False):
        """ŷ = a_L for inputs ``X`` of shape (n_samples, n_inputs).

        Returns an array of shape (n_samples, n_outputs) in the network's dtype, or
        with ``record=True`` a :class:`PassRecord` holding every layer's z and a.
        Dropout is never applied here: prediction is deterministic.
        """
        return self.propagate(self.check_X(X), record=record)

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
        a = X
        layers: list[LayerRecord] = []
        for W, b, act in zip(self.W, self.b, self.activations, strict=True):
            z = a @ W  # z = a W
            z += b  # + b
            if record:
                z_seen = _copy(z)
            a = act(z, out=z)  # a = σ(z)
            if record:
                layers.append(LayerRecord(z=z_seen, a=_copy(a)))
        if self.xp is np:
            a = np.asarray(a)  # (a sparse X times W can be a matrix)
        if record:
            return PassRecord(X=X, layers=layers, y_hat=a)
        return a

    def cost(self, X, y, sample_weight=None) -> float:
        """Return the cost C = Σᵢ wᵢ L(ŷᵢ, yᵢ) / Σᵢ wᵢ of the network on (X, y)."""
        X = self.check_X(X)
        y = self.check_y(y, X.shape[0])
        return self.objective(X, y, self.check_sample_weight(sample_weight, X.shape[0]))

    def objective(
        self, X, Y, sample_weight=None, alpha: float = 0.0, total_weight: float | None = None
    ) -> float:
        """C on validated arrays, without gradients: Σᵢ wᵢ Lᵢ / Σw + (α / 2Σw) Σₗ ‖Wₗ‖².

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

    # ------------------------------------------------------------------ backward
    def cost_and_gradients(
        self,
        X,
        y,
        sample_weight=None,
        alpha: float = 0.0,
        dropout_rng: np.random.Generator | None = None,
        fused: bool = True,
    ) -> tuple[float, list[np.ndarray]]:
        """C and ∂C/∂θ for every parameter, by backpropagation.

        Parameters
        ----------
        X : array of shape (n_samples, n_inputs)
        y : array of shape (n_samples, n_outputs), or (n_samples,) with one output
        sample_weight : array of shape (n_samples,), optional
        alpha : float, default 0
            L2 penalty; adds (α / 2Σw) Σ‖W‖² to C (scikit-learn's scaling).
        dropout_rng : numpy.random.Generator, optional
            When given, hidden layers drop units at the network's ``dropout`` rates.
        fused : bool, default True
            Take the ŷ − y shortcut for a canonical output/loss pair (sigmoid with
            binary cross-entropy, softmax with cross-entropy, exp with Poisson,
            identity with squared errors); False uses ∂C/∂ŷ · ∂ŷ/∂z.

        Returns
        -------
        cost : float
        gradients : list of ndarray
            Aligned with :meth:`parameters`; views into ``grad``, overwritten by the
            next call (never accumulated).
        """
        X = self.check_X(X)
        y = self.check_y(y, X.shape[0])
        sw = self.check_sample_weight(sample_weight, X.shape[0])
        cost = self.backprop(X, y, sw, alpha=alpha, dropout_rng=dropout_rng, fused=fused)
        return cost, self.gradients()

    def _work_arrays(self, n: int, dropout: bool) -> tuple:
        """Return preallocated arrays for a batch of n rows (those of the last size are kept).

        They are each layer's σ(z), each hidden layer's ∂C/∂a and dropped-out a, and the
        L2 term's (α/Σw)·W.
        """
        key = n * 2 + int(dropout)
        if self._work is not None and self._work[0] == key:
            return self._work
        sizes = self.layer_sizes[1:]
        a_out = [self._empty((n, k)) for k in sizes]
        dC_da = [self._empty((n, k)) for k in sizes[:-1]]
        dropped = [self._empty((n, k)) for k in sizes[:-1]] if dropout else a_out
        penalty = [self._empty(tuple(W.shape)) for W in self.W]
        self._work = (key, a_out, dC_da, dropped, penalty)
        return self._work

    def backprop(
        self,
        X,
        Y,
        sample_weight=None,
        *,
        alpha: float = 0.0,
        total_weight: float | None = None,
        dropout_rng: np.random.Generator | None = None,
        fused: bool = True,
        record: bool = False,
    ):
        """Backpropagation on validated arrays: fills ``grad`` with ∂C/∂θ, returns C.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_inputs), network's dtype
        Y : ndarray of shape (n_samples, n_outputs), network's dtype
        sample_weight : ndarray of shape (n_samples,), optional
        alpha : float, default 0
            L2 penalty: adds (α / 2Σw) Σ‖W‖² to C and (α/Σw)·W to ∂C/∂W.
        total_weight : float, optional
            Σw of the whole data set when (X, Y) is one part of it: C and ∂C/∂θ are then
            this part's share, and the shares of all parts add up to the whole's (give
            ``alpha`` to one part only). Default: this batch's own Σw (n without weights).
        dropout_rng : numpy.random.Generator, optional
            Draw dropout masks (at the network's ``dropout`` rates) from it.
        fused : bool, default True
            Use δ_L = c·(ŷ − y) for a canonical output/loss pair.
        record : bool, default False
            Return a :class:`PassRecord` of every intermediate value instead of C.

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
        _, a_out, dC_da, dropped, penalty = work
        ops = self._ops
        masks: list = [None] * (L - 1)
        layers: list[LayerRecord] = []
        # only X can be sparse: every a_l is a dense array
        sparse_X = type(X) is not np.ndarray and sp.issparse(X)

        # Forward propagation, keeping every layer's output for the backward pass.
        a = X
        for l in range(L):
            z = a_out[l]
            if l == 0 and sparse_X:
                z[...] = a @ self.W[l]
            else:
                ops.dot(a, self.W[l], z)  # z = a W
            ops.add(z, self.b[l], z)  # + b
            if record:
                z_seen = _copy(z)
            self.activations[l](z, out=z)  # a = σ(z), in place of z
            a = z
            if l < L - 1 and dropout_rng is not None and use_dropout and self.dropout[l] > 0:
                masks[l] = self._dropout_mask(dropout_rng, tuple(z.shape), self.dropout[l])
                a = ops.multiply(z, masks[l], dropped[l])  # inverted dropout
            if record:
                mask = masks[l] if l < L - 1 else None
                layers.append(LayerRecord(z=z_seen, a=_copy(z), mask=mask))
        y_hat = a

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
        if fused:
            # δ_L = ∂C/∂ŷ · ∂ŷ/∂z_L multiplied out: c·(ŷ − y)·wᵢ/Σw
            cost = loss.cost_of(y_hat, Y, w, w_sum)
            delta = loss.canonical_delta_of(y_hat, Y, w, w_sum)
        else:
            cost, dC_dyhat = loss.cost_and_gradient_of(y_hat, Y, w, w_sum)
            if record:
                dC_dyhat_kept = _copy(dC_dyhat)
            delta = output.backward(dC_dyhat, y_hat, inplace=True)  # · ∂ŷ/∂z_L
        mean_loss = cost
        if alpha:
            cost += self.l2_penalty(alpha, w_sum)

        for l in range(L - 1, -1, -1):
            a_prev = X if l == 0 else (dropped[l - 1] if masks[l - 1] is not None else a_out[l - 1])
            # ∂C/∂W_l = ∂z_l/∂W_l · δ_l = a_{l−1}ᵀ δ_l
            if l == 0 and sparse_X:
                self.dW[l][...] = a_prev.T @ delta
            else:
                ops.dot(a_prev.T, delta, self.dW[l])
            # ∂C/∂b_l = δ_l · ∂z_l/∂b_l, with ∂z_l/∂b_l = 1
            ops.sum_rows(delta, out=self.db[l])
            if alpha:
                # ∂/∂W of the L2 term: dW += (α/Σw)·W
                ops.add_scaled(self.dW[l], alpha / w_sum, self.W[l], penalty[l])
            if record:
                layers[l].delta = _copy(delta)
            if l > 0:
                # ∂C/∂a_{l−1} = δ_l · ∂z_l/∂a_{l−1} = δ_l W_lᵀ
                g = ops.dot(delta, self.W[l].T, dC_da[l - 1])
                if masks[l - 1] is not None:
                    g *= masks[l - 1]  # a dropped unit passed nothing forward
                if record:
                    layers[l - 1].dC_da = _copy(g)
                # δ_{l−1} = ∂C/∂a_{l−1} · ∂a_{l−1}/∂z_{l−1}
                delta = self.activations[l - 1].backward(g, a_out[l - 1], inplace=True)
        if not record:
            return float(cost)

        for rec, act, dW, db in zip(layers, self.activations, self.dW, self.db, strict=True):
            rec.da_dz = act.derivative_from_output(rec.a)
            rec.dC_dW, rec.dC_db = _copy(dW), _copy(db)
        losses = loss.per_sample(layers[-1].a, Y)
        return PassRecord(
            X=X,
            layers=layers,
            y_hat=_copy(y_hat),
            Y=Y,
            sample_weight=sample_weight,
            w_sum=w_sum,
            losses=losses,
            mean_loss=float(mean_loss),
            l2=float(cost - mean_loss),
            alpha=float(alpha),
            cost=float(cost),
            fused=fused,
            dC_dyhat=None if fused else dC_dyhat_kept,
            gradients=[_copy(g) for g in self.gradients()],
        )

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X,
        y,
        optimizer: Optimizer | None = None,
        epochs: int = 1000,
        batch_size: int | None = None,
        shuffle: bool = True,
        tol: float | None = 1e-6,
        n_iter_no_change: int = 10,
        random_state=None,
        sample_weight=None,
        alpha: float = 0.0,
        callbacks=(),
    ) -> training.History:
        """Train by gradient descent; returns a :class:`nnmath.training.History`.

        ``batch_size=None`` is full-batch gradient descent (the article's); an integer
        gives mini-batches. ``optimizer`` defaults to ``SGD(learning_rate=0.1)``.
        Training stops when the cost improved by less than ``tol`` for
        ``n_iter_no_change`` consecutive epochs (``tol=None``: never), or after
        ``epochs`` epochs. ``callbacks`` are called with each epoch's figures (a dict:
        epoch, loss, val_loss, val_score, learning_rate, seconds); one returning True
        stops training.

        X, y and sample_weight may be Dask collections (``dask.array``,
        ``dask.dataframe``): their chunks are checked and kept on the cluster, full-batch
        steps add up the chunks' shares computed there, and mini-batches come from one
        chunk at a time (see :mod:`nnmath.distributed`).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0., 1, 1, 1])
        >>> net = Network([2, 1], random_state=0)
        >>> history = net.fit(X, y, epochs=50)
        >>> len(history.loss_curve)
        50
        >>> lin = Network([1, 1], activation="identity", random_state=0)
        >>> _ = lin.fit([[0.0], [1.0]], [1.0, 3.0], epochs=2000, tol=None)
        >>> round(float(lin.W[0][0, 0]), 3), round(float(lin.b[0][0]), 3)   # y = 2x + 1
        (2.0, 1.0)
        """
        if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1; got {epochs!r}")
        if batch_size is not None and (
            not isinstance(batch_size, (int, np.integer))
            or isinstance(batch_size, bool)
            or batch_size < 1
        ):
            raise ValueError(
                f"batch_size must be None (full batch) or an integer >= 1; got {batch_size!r}"
            )
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, (int, float, np.integer, np.floating))
            or not alpha >= 0
        ):
            raise ValueError(f"alpha (the L2 penalty) must be a number >= 0; got {alpha!r}")
        if tol is not None and not (
            isinstance(tol, (int, float, np.integer, np.floating)) and tol >= 0
        ):
            raise ValueError(f"tol must be a number >= 0 or None; got {tol!r}")
        if not isinstance(n_iter_no_change, (int, np.integer)) or n_iter_no_change < 1:
            raise ValueError(f"n_iter_no_change must be an integer >= 1; got {n_iter_no_change!r}")
        if distributed.is_collection(X):
            X, y, sample_weight = self._chunks_of_collection(X, y, sample_weight), None, None
        else:
            X = self.check_X(X)
            y = self.check_y(y, X.shape[0])
            sample_weight = self.check_sample_weight(sample_weight, X.shape[0])
        optimizer = optimizer if optimizer is not None else SGD(learning_rate=0.1)
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be an nnmath.optimizers.Optimizer; got {optimizer!r}")
        if callbacks and not all(callable(c) for c in callbacks):
            raise ValueError("callbacks must be callables f(info)")
        optimizer.reset()  # every fit starts the optimizer afresh (no moments from a past fit)
        settings = training.Settings(
            max_epochs=int(epochs),
            batch_size=batch_size,
            shuffle=shuffle,
            alpha=float(alpha),
            tol=tol,
            n_iter_no_change=int(n_iter_no_change),
            callbacks=tuple(callbacks),
        )
        try:
            return training.train(
                self,
                X,
                y,
                optimizer,
                settings,
                rng=as_generator(random_state),
                sample_weight=sample_weight,
            )
        finally:
            if isinstance(X, training.Data):
                X.close()

    def _chunks_of_collection(self, X, y, sample_weight) -> training.Chunks:
        """Check Dask X, y and sample_weight as chunks on the cluster.

        See :mod:`nnmath.distributed`.
        """
        if self.xp is not np:
            raise ValueError(
                f"X is a Dask collection but the network lives on {self.describe_placement()}; "
                "Dask collections train NumPy networks"
            )
        if y is None:
            raise ValueError("y is required: the targets of X's rows")
        blocks = distributed.row_blocks(X, y, sample_weight)
        if blocks.n_features != self.layer_sizes[0]:
            raise ValueError(
                f"X has {blocks.n_features} features but the network expects "
                f"{self.layer_sizes[0]} (layer_sizes[0])"
            )
        checks = functools.partial(_checked_chunk, self)
        return distributed.chunk_data(distributed.prepare(blocks, checks), self)
