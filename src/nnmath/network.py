"""The network as users call it: the core's math, with its input checked, fitted and described.

:class:`nnmath.core.network.Network` holds the parameters and the passes, and takes
arrays as they are. This :class:`Network` adds what a user calls: the methods that
take any data (lists, NumPy, sparse matrices, another array library's arrays, Dask
collections) and check it once at the data edge (:mod:`nnmath.data.checks`), ``fit``
(the loop of :mod:`nnmath.training`), and the description a model file holds
(``to_document`` / ``from_document``, read by :mod:`nnmath.io`).

>>> import numpy as np
>>> net = Network([2, 1], random_state=0)
>>> net.forward([[0.0, 1.0]]).shape
(1, 1)
"""

from __future__ import annotations

import functools
import math

import numpy as np

from nnmath import diagram, training
from nnmath import document as doc
from nnmath.core import activations as _activations
from nnmath.core import arrays
from nnmath.core import losses as _losses
from nnmath.core import network as _core
from nnmath.core.network import _all_finite
from nnmath.core.optimizers import SGD, Optimizer
from nnmath.core.rng import as_generator
from nnmath.data import checks
from nnmath.data import cluster as distributed
from nnmath.data.sources import Chunks, Data

__all__ = ["Network", "gradcheck", "numerical_gradient"]


def _checked_chunk(network: Network, X, y, sample_weight) -> tuple:
    """One chunk of a Dask collection, checked as :meth:`Network.fit` checks its data."""
    X = network.check_X(X)
    n = X.shape[0]
    return X, network.check_y(y, n), network.check_sample_weight(sample_weight, n)


class Network(_core.Network):  # noqa: D101 - the docstring is the core class's
    __doc__ = _core.Network.__doc__

    # ------------------------------------------------------------------ display
    def _repr_svg_(self) -> str:
        """Draw the layers and weights as SVG, which Jupyter shows (:mod:`nnmath.diagram`).

        Examples
        --------
        >>> Network([2, 3, 1], random_state=0)._repr_svg_().count("<line ")
        9
        """
        weights = [arrays.to_numpy(W) for W in self.W]
        names = [a.name for a in self.activations]
        return diagram.to_svg(diagram.layout(weights, names), title=f"Network {self.layer_sizes}")

    # ------------------------------------------------------------------ input checks
    def adopt(self, x, name: str = "X"):
        """Return ``x`` as an array of the network's library and device.

        See :func:`nnmath.data.checks.adopt`.

        Examples
        --------
        >>> Network([1, 1]).adopt([[1.0]])
        array([[1.]])
        """
        return checks.adopt(self, x, name)

    def check_X(self, X, name: str = "X"):
        """X as an array of the network's dtype, shape (n_samples, n_inputs), finite.

        See :func:`nnmath.data.checks.check_X`.

        Examples
        --------
        >>> Network([2, 1]).check_X([[1, 2]]).dtype
        dtype('float64')
        """
        return checks.check_X(self, X, name)

    def check_y(self, y, n_samples: int, name: str = "y"):
        """Return y as an array of shape (n_samples, n_outputs) in the network's dtype.

        See :func:`nnmath.data.checks.check_y`.

        Examples
        --------
        >>> Network([2, 1]).check_y([0, 1], 2).shape
        (2, 1)
        """
        return checks.check_y(self, y, n_samples, name)

    def check_sample_weight(self, sample_weight, n_samples: int, name: str = "sample_weight"):
        """Check sample weights: a 1-D array of n_samples finite numbers ≥ 0, positive in total.

        See :func:`nnmath.data.checks.check_sample_weight`.

        Examples
        --------
        >>> Network([2, 1]).check_sample_weight([1, 2], 2)
        array([1., 2.])
        """
        return checks.check_sample_weight(self, sample_weight, n_samples, name)

    # ------------------------------------------------------------------ the passes on any data
    def forward(self, X, record: bool = False):
        """ŷ = a_L for inputs ``X`` of shape (n_samples, n_inputs).

        Returns an array of shape (n_samples, n_outputs) in the network's dtype, or
        with ``record=True`` a :class:`PassRecord` holding every layer's z and a.
        Dropout is never applied here: prediction is deterministic.
        """
        return self.propagate(self.check_X(X), record=record)

    def cost(self, X, y, sample_weight=None) -> float:
        """Return the cost C = Σᵢ wᵢ L(ŷᵢ, yᵢ) / Σᵢ wᵢ of the network on (X, y)."""
        X = self.check_X(X)
        y = self.check_y(y, X.shape[0])
        return self.objective(X, y, self.check_sample_weight(sample_weight, X.shape[0]))

    def cost_and_gradients(
        self,
        X,
        y,
        sample_weight=None,
        alpha: float = 0.0,
        dropout_rng: np.random.Generator | None = None,
        fused: bool = True,
        l1: float = 0.0,
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
        l1 : float, default 0
            L1 penalty λ₁; adds (λ₁ / Σw) Σ|W| to C and its subgradient
            (λ₁/Σw)·sign(W) to ∂C/∂W, with sign(0) = 0.

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
        cost = self.backprop(X, y, sw, alpha=alpha, l1=l1, dropout_rng=dropout_rng, fused=fused)
        return cost, self.gradients()

    # ------------------------------------------------------------------ description
    def to_document(
        self, training_state: bool = False, objects: doc.Objects | None = None
    ) -> tuple[doc.Document, doc.Tensors]:
        """Describe the network for a model file, or for a pickle.

        Its architecture goes in JSON-able fields and its weights in tensors
        ``W1, b1, …, WL, bL`` (views, not copies). A network keeps no training state
        (every :meth:`fit` starts its optimizer afresh), so ``training_state`` adds
        nothing.

        Parameters
        ----------
        training_state : bool, default False
            Accepted for every model class alike (see :func:`nnmath.save`).
        objects : dict, optional
            A pickle's (see :mod:`nnmath.document`): custom activations and losses go
            into it. None, for a model file, refuses them.

        Raises ValueError for weights that are not finite (a model file holds a model
        that predicts; a pickle holds them as they are) and, for a model file, for a
        custom activation or loss.

        Examples
        --------
        >>> document, tensors = Network([2, 1]).to_document()
        >>> document["layer_sizes"], sorted(tensors)
        ([2, 1], ['W1', 'b1'])
        """
        document = {
            "layer_sizes": [int(n) for n in self.layer_sizes],
            "activations": [
                doc.component_to_document(
                    a, _activations.get, "activation", objects, f"activation {l}"
                )
                for l, a in enumerate(self.activations, start=1)
            ],
            "loss": doc.component_to_document(self.loss, _losses.get, "loss", objects, "loss"),
            "dtype": self.dtype.name,
            "dropout": [float(p) for p in self.dropout],
        }
        if objects is None and not _all_finite(self.theta):
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
        cls,
        document: doc.Document,
        tensors: doc.Tensors,
        xp=None,
        device=None,
        objects: doc.Objects | None = None,
    ) -> Network:
        """Build the network a :meth:`to_document` description gives, weights copied in exactly.

        The network is on the array library ``xp`` and ``device`` (default NumPy);
        ``W1, b1, …`` are popped from ``tensors``. ``objects`` are a pickle's (custom
        activations and losses; see :mod:`nnmath.document`).

        Every shape is checked against ``layer_sizes`` before anything is allocated, so
        the network is never larger than the file, and every weight must be finite (a
        pickle's are taken as they are). Raises :class:`ModelFileError`.

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
        activations = [
            doc.component_from_document(a, _activations.get, "activation", objects) for a in acts
        ]
        loss = doc.component_from_document(document.get("loss"), _losses.get, "loss", objects)
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
                if objects is None and not np.isfinite(tensors[name]).all():
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
                dropout=[float(p) for p in dropout],
                xp=xp,
                device=device,
                # the file's weights, copied exactly (same dtype), none drawn
                theta=np.concatenate([w.ravel() for w in weights]),
            )
        except ValueError as exc:
            raise doc.ModelFileError(f"invalid network description: {exc}") from None
        for name in names:
            del tensors[name]
        return net

    def __reduce__(self):
        """Pickle as the model document, with the custom activations and losses beside it."""
        return doc.pickle_reduce(self, self)

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
        l1: float = 0.0,
    ) -> training.History:
        """Train by gradient descent; returns a :class:`nnmath.training.History`.

        ``batch_size=None`` is full-batch gradient descent (the article's); an integer
        gives mini-batches. ``optimizer`` defaults to ``SGD(learning_rate=0.1)``.
        Training stops when the cost improved by less than ``tol`` for
        ``n_iter_no_change`` consecutive epochs (``tol=None``: never), or after
        ``epochs`` epochs. ``callbacks`` are called with each epoch's figures (a dict:
        epoch, loss, val_loss, val_score, learning_rate, seconds); one returning True
        stops training. ``alpha`` is the L2 penalty, (α / 2Σw) Σ‖W‖² in the cost;
        ``l1`` the L1 penalty, (λ₁ / Σw) Σ|W| (its subgradient (λ₁/Σw)·sign(W) with
        sign(0) = 0); biases are not penalized.

        X, y and sample_weight may be Dask collections (``dask.array``,
        ``dask.dataframe``): their chunks are checked and kept on the cluster, full-batch
        steps add up the chunks' shares computed there, and mini-batches come from one
        chunk at a time (see :mod:`nnmath.data.cluster`).

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
        if (
            isinstance(l1, bool)
            or not isinstance(l1, (int, float, np.integer, np.floating))
            or not (l1 >= 0 and math.isfinite(l1))
        ):
            raise ValueError(f"l1 (the L1 penalty) must be a finite number >= 0; got {l1!r}")
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
            raise ValueError(
                f"optimizer must be an nnmath.core.optimizers.Optimizer; got {optimizer!r}"
            )
        if callbacks and not all(callable(c) for c in callbacks):
            raise ValueError("callbacks must be callables f(info)")
        optimizer.reset()  # every fit starts the optimizer afresh (no moments from a past fit)
        settings = training.Settings(
            max_epochs=int(epochs),
            batch_size=batch_size,
            shuffle=shuffle,
            alpha=float(alpha),
            l1=float(l1),
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
            if isinstance(X, Data):
                X.close()

    def _chunks_of_collection(self, X, y, sample_weight) -> Chunks:
        """Check Dask X, y and sample_weight as chunks on the cluster.

        See :mod:`nnmath.data.cluster`.
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


# ---------------------------------------------------------------------------- gradcheck
# For every parameter θⱼ: ∂C/∂θⱼ ≈ (C(θ + εeⱼ) − C(θ − εeⱼ)) / 2ε, an error of O(ε²).
def numerical_gradient(
    network: Network, X, y, eps: float = 1e-6, sample_weight=None, alpha=0.0, l1=0.0
):
    """∂C/∂θ by central differences, flat, shape (n_parameters,), float64.

    Each parameter θⱼ is moved by ±ε in turn and the cost recomputed by the network's
    own pass; θ is restored afterwards.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network
    >>> net = Network([1, 1], activation="identity")
    >>> net.W[0][:], net.b[0][:] = 1.0, 0.0
    >>> numerical_gradient(net, [[2.0]], [1.0]).round(6)   # 2(ŷ − y)·x, 2(ŷ − y)
    array([4., 2.])
    """
    X = network.check_X(X)
    y = network.check_y(y, X.shape[0])
    sample_weight = network.check_sample_weight(sample_weight, X.shape[0])
    theta = network.theta
    saved = arrays.to_numpy(theta).copy()  # θ of any array library, its values on the host
    out = np.empty(saved.size, dtype=np.float64)
    try:
        for j in range(saved.size):
            theta[j] = float(saved[j]) + eps
            c_plus = network.backprop(X, y, sample_weight, alpha=alpha, l1=l1)
            theta[j] = float(saved[j]) - eps
            c_minus = network.backprop(X, y, sample_weight, alpha=alpha, l1=l1)
            theta[j] = float(saved[j])
            out[j] = (c_plus - c_minus) / (2 * eps)
    finally:
        theta[...] = network.asarray(saved)
    return out


def gradcheck(
    network: Network, X, y, eps: float = 1e-6, sample_weight=None, alpha=0.0, l1=0.0
) -> float:
    """Largest relative error between backpropagation and central finite differences.

    The error of each parameter is taken relative to the size of the whole gradient:
    ``maxⱼ |gⱼ − ĝⱼ| / (maxⱼ |gⱼ| + maxⱼ |ĝⱼ|)``, g from backpropagation, ĝ from
    differences. NOTE: a central difference carries a rounding error of about
    ε_machine·C/ε ≈ 1e-10·C whatever the parameter, so a parameter-by-parameter
    relative error blows up on gradients near 0 (a ReLU unit that is off, an MAE whose
    signs cancel) although backpropagation is right; measured against the largest
    component, that noise stays near 1e-9 and a real mistake still shows. Use a float64
    network: in float32 the differences drown in rounding.

    Parameters
    ----------
    network : Network
    X : array of shape (n_samples, n_inputs)
    y : array of shape (n_samples, n_outputs) or (n_samples,)
    eps : float, default 1e-6
    sample_weight : array of shape (n_samples,), optional
    alpha, l1 : float, default 0
        The L2 and L1 penalties of the cost. The L1 term's subgradient jumps at W = 0:
        check it with weights away from 0 (farther than ``eps``).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network
    >>> net = Network([3, 4, 1], activation="tanh", random_state=0)
    >>> X = np.random.default_rng(0).normal(size=(5, 3)); y = np.ones(5)
    >>> gradcheck(net, X, y) < 1e-6
    True
    """
    _, grads = network.cost_and_gradients(X, y, sample_weight=sample_weight, alpha=alpha, l1=l1)
    analytic = np.concatenate([arrays.to_numpy(g).ravel() for g in grads]).astype(np.float64)
    numeric = numerical_gradient(network, X, y, eps, sample_weight, alpha, l1)
    scale = max(float(np.max(np.abs(analytic))) + float(np.max(np.abs(numeric))), 1e-12)
    return float(np.max(np.abs(analytic - numeric)) / scale)
