"""A fully connected network: forward propagation and backpropagation.

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
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from nnmath import activations as _activations
from nnmath import initializers
from nnmath import losses as _losses

__all__ = ["Network"]


def _check_dtype(dtype) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64; got {dt}")
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


class Network:
    """A multi-layer network with one flat parameter buffer.

    Parameters
    ----------
    layer_sizes : sequence of int
        [n_inputs, hidden..., n_outputs]; every entry ≥ 1.
    activation : str or list of str, default "sigmoid"
        Hidden-layer activation, or one name per hidden layer (see
        :func:`nnmath.activations.names`).
    output_activation : str, optional
        Output activation; defaults to ``activation`` when that is one name.
    loss : str or Loss, default "mse"
        The per-sample loss whose mean is the cost C (see :func:`nnmath.losses.names`).
    dtype : numpy.float32 or numpy.float64, default numpy.float64
        dtype of the parameters, outputs and gradients.
    random_state : int, numpy.random.Generator or None
        Seed of the initial weights (Glorot, or He for ReLU layers).
    dropout : float or list of float, default 0.0
        Inverted-dropout rate of each hidden layer's output, applied only when a
        training step passes a random generator (``dropout_rng``).

    Attributes
    ----------
    W, b : list of ndarray
        Views into ``theta``: W[l] of shape (n_l, n_{l+1}), b[l] of shape (n_{l+1},).
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
        activation: str | Sequence[str] = "sigmoid",
        output_activation: str | None = None,
        loss: str | _losses.Loss = "mse",
        dtype=np.float64,
        random_state=None,
        dropout: float | Sequence[float] = 0.0,
    ):
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        self.dtype = _check_dtype(dtype)
        n_hidden = len(self.layer_sizes) - 2
        if output_activation is None:
            if isinstance(activation, (list, tuple)):
                raise ValueError(
                    "output_activation is required when activation is a list of per-layer "
                    "names; pass e.g. output_activation='sigmoid'"
                )
            output_activation = activation
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
        self.theta = np.zeros(total, dtype=self.dtype)
        self.grad = np.zeros(total, dtype=self.dtype)
        params, grads = self._views(self.theta), self._views(self.grad)
        self.W, self.b = params[0::2], params[1::2]
        self.dW, self.db = grads[0::2], grads[1::2]
        self._work: dict[int, list[np.ndarray]] = {}
        self.initialize(random_state)

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict:
        # The views W, b, dW, db and the work arrays are rebuilt from the two flat
        # buffers on unpickling, so that they stay views (pickle would copy them).
        state = self.__dict__.copy()
        for key in ("W", "b", "dW", "db", "_work"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        params, grads = self._views(self.theta), self._views(self.grad)
        self.W, self.b = params[0::2], params[1::2]
        self.dW, self.db = grads[0::2], grads[1::2]
        self._work = {}

    # ------------------------------------------------------------------ structure
    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        views, offset = [], 0
        for shape in self._shapes:
            size = int(np.prod(shape))
            views.append(flat[offset : offset + size].reshape(shape))
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

    def initialize(self, random_state=None) -> None:
        """Draw new weights (Glorot, or He for ReLU layers) and zero the biases."""
        rng = _rng(random_state)
        for W, b, act in zip(self.W, self.b, self.activations, strict=True):
            W[...] = initializers.for_activation(act.name)(rng, *W.shape, self.dtype)
            b[...] = 0

    def __repr__(self) -> str:
        acts = [a.name for a in self.activations]
        return (
            f"Network(layer_sizes={self.layer_sizes}, activations={acts}, "
            f"loss={self.loss.name!r}, dtype={self.dtype.name})"
        )

    # ------------------------------------------------------------------ input checks
    def _check_X(self, X, name: str = "X"):
        if sp.issparse(X):
            X = X.tocsr().astype(self.dtype, copy=False)
            data = X.data
        else:
            try:
                X = np.asarray(X, dtype=self.dtype)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
            data = X
        if X.ndim != 2:
            raise ValueError(
                f"{name} must be 2-D of shape (n_samples, n_features); got {X.ndim}-D "
                f"shape {X.shape}. Reshape a single sample with X.reshape(1, -1)."
            )
        if X.shape[0] == 0:
            raise ValueError(f"{name} has no samples (shape {X.shape})")
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"{name} has {X.shape[1]} features but the network expects "
                f"{self.layer_sizes[0]} (layer_sizes[0])"
            )
        if not np.isfinite(data).all():
            raise ValueError(f"{name} contains NaN or infinity")
        return X

    def _check_y(self, y, n_samples: int, name: str = "y") -> np.ndarray:
        try:
            y = np.asarray(y, dtype=self.dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        n_out = self.layer_sizes[-1]
        if y.ndim != 2 or y.shape[1] != n_out:
            raise ValueError(
                f"{name} must have shape (n_samples, {n_out}) for a network with {n_out} "
                f"outputs (1-D when there is one); got {np.shape(y)}"
            )
        if y.shape[0] != n_samples:
            raise ValueError(f"X has {n_samples} samples but {name} has {y.shape[0]}")
        if not np.isfinite(y).all():
            raise ValueError(f"{name} contains NaN or infinity")
        return y

    # ------------------------------------------------------------------ forward
    def forward(self, X) -> np.ndarray:
        """ŷ = a_L for inputs ``X`` of shape (n_samples, n_inputs).

        Returns an array of shape (n_samples, n_outputs) in the network's dtype.
        Dropout is never applied here: prediction is deterministic.
        """
        return self._forward(self._check_X(X))

    def _forward(self, X) -> np.ndarray:
        a = X
        for W, b, act in zip(self.W, self.b, self.activations, strict=True):
            z = a @ W  # z = a W + b
            z += b
            a = act(z, out=z)  # a = σ(z)
        return np.asarray(a)

    def cost(self, X, y, sample_weight=None) -> float:
        """The cost C = Σᵢ wᵢ L(ŷᵢ, yᵢ) / Σᵢ wᵢ of the network on (X, y)."""
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        return self.loss(self._forward(X), y, sample_weight)

    def l2_penalty(self, alpha: float, w_sum: float) -> float:
        """The L2 term of the cost, (α / 2Σw) Σₗ ‖Wₗ‖² (scikit-learn's scaling; Σw = n
        without sample weights). Biases are not penalized.

        Examples
        --------
        >>> net = Network([2, 1], random_state=0)
        >>> net.W[0][:] = [[3.0], [4.0]]
        >>> net.l2_penalty(alpha=1.0, w_sum=5.0)   # ½ · 1 · 25 / 5
        2.5
        """
        return 0.5 * alpha * sum(float(np.vdot(W, W)) for W in self.W) / w_sum

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
        X = self._check_X(X)
        y = self._check_y(y, X.shape[0])
        sw = None if sample_weight is None else np.asarray(sample_weight, self.dtype)
        cost = self._cost_and_gradients(X, y, sw, alpha, dropout_rng, fused)
        return cost, [g for pair in zip(self.dW, self.db, strict=True) for g in pair]

    def _work_arrays(self, n: int, dropout: bool) -> list[np.ndarray]:
        """Preallocated per-layer arrays for a batch of n rows."""
        key = n * 2 + int(dropout)
        work = self._work.get(key)
        if work is None:
            if len(self._work) > 8:
                self._work.clear()
            sizes = self.layer_sizes[1:]
            work = [np.empty((n, k), self.dtype) for k in sizes]  # a_l
            work += [np.empty((n, k), self.dtype) for k in sizes[:-1]]  # ∂C/∂a_l
            if dropout:
                work += [np.empty((n, k), self.dtype) for k in sizes[:-1]]  # a_l ⊙ mask
            work.append([np.empty_like(W) for W in self.W])  # (α/Σw)·W of the L2 term
            self._work[key] = work
        return work

    def _cost_and_gradients(self, X, y, sw, alpha, dropout_rng, fused=True) -> float:
        """Backpropagation on validated arrays; fills ``grad`` and returns C."""
        n = X.shape[0]
        L = len(self.W)
        use_dropout = dropout_rng is not None and any(self.dropout)
        work = self._work_arrays(n, use_dropout)
        a_out = work[:L]  # σ(z_l) of each layer
        dC_da = work[L : 2 * L - 1]
        dropped = work[2 * L - 1 : -1] if use_dropout else a_out
        masks: list[np.ndarray | None] = [None] * (L - 1)
        # only X can be sparse: every a_l is a dense array
        sparse_X = not isinstance(X, np.ndarray) and sp.issparse(X)

        # Forward propagation, keeping every layer's output for the backward pass.
        a = X
        for l in range(L):
            z = a_out[l]
            if l == 0 and sparse_X:
                z[...] = a @ self.W[l]
            else:
                np.dot(a, self.W[l], out=z)  # z = a W
            z += self.b[l]  # + b
            self.activations[l](z, out=z)  # a = σ(z), in place of z
            a = z
            if l < L - 1 and use_dropout and self.dropout[l] > 0:
                keep = 1.0 - self.dropout[l]
                mask = dropout_rng.random(z.shape, dtype=self.dtype) < keep
                masks[l] = mask.astype(self.dtype) / self.dtype.type(keep)
                a = np.multiply(z, masks[l], out=dropped[l])  # inverted dropout
        y_hat = a

        w_sum = float(n) if sw is None else float(sw.sum())
        if not w_sum > 0:
            raise ValueError(
                f"sample_weight: the weights of a batch of {n} samples sum to {w_sum}; the "
                "cost is a weighted mean and needs a positive total. Drop zero-weight "
                "samples or use larger batches."
            )
        w = None if sw is None else sw.reshape(-1, 1)
        loss = self.loss
        cost = loss._cost(y_hat, y, w, w_sum)
        if alpha:
            cost += self.l2_penalty(alpha, w_sum)

        # Output layer: δ_L = ∂C/∂z_L = ∂C/∂ŷ · ∂ŷ/∂z_L.
        output = self.activations[-1]
        if fused and loss.canonical_activation == output.name:
            delta = loss._canonical_delta(y_hat, y, w, w_sum)  # = c·(ŷ − y), multiplied out
        else:
            dC_dyhat = loss._gradient(y_hat, y, w, w_sum)
            delta = output.backward(dC_dyhat, y_hat, inplace=True)  # · ∂ŷ/∂z

        for l in range(L - 1, -1, -1):
            a_prev = X if l == 0 else (dropped[l - 1] if masks[l - 1] is not None else a_out[l - 1])
            # ∂C/∂W_l = ∂z_l/∂W_l · δ_l = a_{l−1}ᵀ δ_l
            if l == 0 and sparse_X:
                self.dW[l][...] = a_prev.T @ delta
            else:
                np.dot(a_prev.T, delta, out=self.dW[l])
            # ∂C/∂b_l = δ_l · ∂z_l/∂b_l, with ∂z_l/∂b_l = 1
            np.add.reduce(delta, axis=0, out=self.db[l])
            if alpha:
                # ∂/∂W of the L2 term: dW += (α/Σw)·W, through a preallocated scratch
                penalty = np.multiply(self.W[l], self.dtype.type(alpha / w_sum), out=work[-1][l])
                self.dW[l] += penalty
            if l > 0:
                # ∂C/∂a_{l−1} = δ_l · ∂z_l/∂a_{l−1} = δ_l W_lᵀ
                g = np.dot(delta, self.W[l].T, out=dC_da[l - 1])
                if masks[l - 1] is not None:
                    g *= masks[l - 1]  # a dropped unit passed nothing forward
                # δ_{l−1} = ∂C/∂a_{l−1} · ∂a_{l−1}/∂z_{l−1}
                delta = self.activations[l - 1].backward(g, a_out[l - 1], inplace=True)
        return float(cost)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X,
        y,
        optimizer=None,
        epochs: int = 1000,
        batch_size: int | None = None,
        shuffle: bool = True,
        tol: float | None = 1e-6,
        n_iter_no_change: int = 10,
        random_state=None,
        sample_weight=None,
        alpha: float = 0.0,
        callbacks=(),
    ):
        """Train by gradient descent; returns a :class:`nnmath.training.History`.

        A convenience over :func:`nnmath.training.fit_network`, which holds the loop.
        ``batch_size=None`` is full-batch gradient descent (the article's); an integer
        gives mini-batches. ``optimizer`` defaults to ``SGD(learning_rate=0.1)``.
        Training stops when the cost improved by less than ``tol`` for
        ``n_iter_no_change`` consecutive epochs (``tol=None``: never), or after
        ``epochs`` epochs.

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = np.array([0., 1, 1, 1])
        >>> net = Network([2, 1], random_state=0)
        >>> history = net.fit(X, y, epochs=50)
        >>> len(history.loss_curve)
        50
        """
        from nnmath.training import fit_network  # the loop lives above the network

        return fit_network(
            self,
            X,
            y,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            sample_weight=sample_weight,
            alpha=alpha,
            callbacks=callbacks,
        )


def _rng(random_state) -> np.random.Generator:
    """A Generator from an int, a Generator, a RandomState-free None (fresh entropy)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"random_state must be an int, a numpy.random.Generator or None; got {random_state!r}"
    )
