"""Where training reads its samples: arrays in memory, or chunks read one at a time.

The loop asks its data for two things: the cost and gradient over all of it (a
full-batch step, or an L-BFGS evaluation), and the batches of an epoch. Because the
cost is a weighted mean, C = Σᵢ wᵢ Lᵢ / Σw, it splits into one share per chunk,

    C = Σ_chunks C_k,      C_k = Σ_{i ∈ k} wᵢ Lᵢ / Σw      (Σw over all the data),

and so does ∂C/∂θ: :meth:`Chunks.cost_and_gradient` adds up the shares that
``model.backprop(..., total_weight=Σw)`` computes chunk by chunk, which is the
full-batch cost and gradient to rounding, whatever the chunking.

* :class:`InMemory`: validated arrays; batches are gathered in a random order
  (a global shuffle), the full batch is one ``backprop``.
* :class:`Chunks`: a sequence of chunks, each loaded when needed and dropped after:
  only one is in memory at a time. An epoch visits the chunks in a random order and
  each chunk's rows in a random order (:func:`chunk_batches`). The Dask adapter
  (:mod:`nnmath.data.cluster`) builds on it, computing the full-batch shares on the
  workers that hold the chunks.

A chunk is a tuple ``(X, Y, sample_weight)`` of validated arrays (``sample_weight``
None: every weight 1); entries after these three are carried along and ignored here.

Example
-------
>>> import numpy as np
>>> from nnmath import Network
>>> net = Network([1, 1], activation="identity", random_state=0)
>>> X, Y = np.arange(6.0).reshape(-1, 1), np.arange(6.0).reshape(-1, 1)
>>> parts = [(X[:2], Y[:2], None), (X[2:], Y[2:], None)]
>>> data = Chunks([lambda p=p: p for p in parts], n_samples=6)
>>> whole = InMemory(X, Y).cost_and_gradient(net)
>>> bool(np.isclose(data.cost_and_gradient(net), whole))
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from nnmath.core import arrays

__all__ = ["Batch", "Chunks", "Data", "InMemory", "SampleOrder", "chunk_batches"]

#: One batch of an epoch: (X_B, Y_B, w_B or None, number of rows).
Batch = tuple


def _take(A, idx, buffer):
    """Rows ``idx`` of A, into a preallocated buffer when A is a dense NumPy array."""
    if sp.issparse(A):
        return A[idx]
    if buffer is None:  # another array library: its own take
        return arrays.namespace_of(A).take(A, idx, axis=0)
    out = buffer[: len(idx)]
    # mode="clip" lets numpy write straight into `out` (the indices come from a
    # permutation, so none is out of range); the default mode copies through a buffer.
    np.take(A, idx, axis=0, out=out, mode="clip")
    return out


class SampleOrder:
    """Each epoch's order of the samples, drawn as scikit-learn's MLPs draw it.

    scikit-learn shuffles the previous epoch's order again with its ``RandomState``
    (``sklearn.utils.shuffle(sample_idx, random_state=...)``): the order of epoch e is
    that of epoch e − 1 taken in a new random permutation. :meth:`permutation` returns
    that composed order; the loop takes it wherever it takes a Generator's
    ``permutation``.

    Parameters
    ----------
    random_state : numpy.random.RandomState
        Drawn from, one permutation per epoch.

    Examples
    --------
    >>> order = SampleOrder(np.random.RandomState(0))
    >>> first = order.permutation(4)
    >>> rs = np.random.RandomState(0)
    >>> p1 = rs.permutation(4)
    >>> first.tolist() == p1.tolist()
    True
    >>> order.permutation(4).tolist() == p1[rs.permutation(4)].tolist()
    True
    """

    def __init__(self, random_state: np.random.RandomState):
        self.random_state = random_state
        self.order: np.ndarray | None = None

    def permutation(self, n: int) -> np.ndarray:
        """Return the next epoch's order of ``n`` samples (an index array)."""
        if self.order is None or self.order.shape[0] != n:
            self.order = np.arange(n)
        self.order = self.order[self.random_state.permutation(n)]
        return self.order


class _Batches:
    """The batches of one epoch: slices in order, or rows gathered in a random order.

    Rows in a random order are gathered into preallocated buffers. The order is drawn with
    NumPy; on another array library it crosses to the device once per epoch, and the
    batches are gathered there.
    """

    def __init__(self, X, Y, sample_weight, batch_size: int, shuffle: bool):
        self.X, self.Y, self.w = X, Y, sample_weight
        self.n = n = X.shape[0]
        self.size = batch_size
        self.shuffle = shuffle
        self.xp = arrays.namespace_of(Y)
        buffers = shuffle and self.xp is np
        dense = not sp.issparse(X)
        self.x_buf = np.empty((batch_size, X.shape[1]), X.dtype) if buffers and dense else None
        self.y_buf = np.empty((batch_size, Y.shape[1]), Y.dtype) if buffers else None
        self.w_buf = (
            np.empty(batch_size, sample_weight.dtype)
            if buffers and sample_weight is not None
            else None
        )
        self.starts = range(0, n, batch_size)

    def epoch(self, rng: np.random.Generator | SampleOrder):
        """Yield (X_B, Y_B, w_B, rows) for each batch of one epoch."""
        n, size, X, Y, w = self.n, self.size, self.X, self.Y, self.w
        order = rng.permutation(n) if self.shuffle else None
        if order is not None and self.xp is not np:
            order = arrays.as_device_array(order, self.xp, arrays.device_of(Y))
        for start in self.starts:
            stop = min(start + size, n)
            if order is not None:
                idx = order[start:stop]
                wb = None if w is None else _take(w, idx, self.w_buf)
                yield _take(X, idx, self.x_buf), _take(Y, idx, self.y_buf), wb, stop - start
            else:
                wb = None if w is None else w[start:stop]
                yield X[start:stop], Y[start:stop], wb, stop - start


class Data:
    """The training data as the loop sees it.

    This is a base class: see :class:`InMemory` and :class:`Chunks`.

    Attributes
    ----------
    n_samples : int
        Rows in all.
    total_weight : float
        Σw over all rows (``n_samples`` without sample weights).

    Examples
    --------
    >>> import numpy as np
    >>> InMemory(np.zeros((3, 2)), np.zeros((3, 1))).n_samples
    3
    """

    n_samples: int

    def cost_and_gradient(
        self,
        model,
        *,
        alpha: float = 0.0,
        l1: float = 0.0,
        dropout_rng=None,
        divide_at_end: bool = False,
    ) -> float:
        """C over all the data at the model's θ; fills ``model.grad`` with ∂C/∂θ.

        ``divide_at_end`` is the network's ``backprop`` option: scikit-learn's rounding
        order, which L-BFGS asks for.
        """
        raise NotImplementedError

    def objective(self, model, alpha: float = 0.0, l1: float = 0.0) -> float:
        """C over all the data at the model's θ, without gradients."""
        raise NotImplementedError

    def epoch(
        self, rng: np.random.Generator | SampleOrder, batch_size: int, shuffle: bool = True
    ) -> Iterator[Batch]:
        """Yield the batches ``(X_B, Y_B, w_B, rows)`` of one epoch.

        ``rng`` is read through its ``permutation(n)`` only.
        """
        raise NotImplementedError

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[tuple]:
        """Yield the data as chunks ``(X, Y, sample_weight)``, one at a time, in order.

        For passes that visit every row in turn, such as Rosenblatt's rule.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what the data holds (nothing, unless a subclass says so)."""


class InMemory(Data):
    """Validated arrays in memory (any array library; X may be sparse).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_inputs)
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,), optional

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network
    >>> net = Network([1, 1], activation="identity")
    >>> net.W[0][:], net.b[0][:] = 1.0, 0.0
    >>> InMemory(np.array([[2.0]]), np.array([[1.0]])).cost_and_gradient(net)   # (2 − 1)²
    1.0
    """

    def __init__(self, X, Y, sample_weight=None):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.n_samples = X.shape[0]
        self._total_weight: float | None = None if sample_weight is not None else float(X.shape[0])
        self._batches: _Batches | None = None

    @property
    def total_weight(self) -> float:
        """Σw of the data (computed once)."""
        if self._total_weight is None:
            self._total_weight = float(
                arrays.namespace_of(self.sample_weight).sum(self.sample_weight)
            )
        return self._total_weight

    def cost_and_gradient(
        self,
        model,
        *,
        alpha: float = 0.0,
        l1: float = 0.0,
        dropout_rng=None,
        divide_at_end: bool = False,
    ) -> float:
        """Compute C and ∂C/∂θ on all the data in one backprop; return C."""
        return model.backprop(
            self.X,
            self.Y,
            self.sample_weight,
            alpha=alpha,
            l1=l1,
            dropout_rng=dropout_rng,
            divide_at_end=divide_at_end,
        )

    def objective(self, model, alpha: float = 0.0, l1: float = 0.0) -> float:
        """Return the model's objective on the data: the cost with the penalty terms."""
        return model.objective(self.X, self.Y, self.sample_weight, alpha, l1=l1)

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[tuple]:
        """One chunk: all the data."""
        yield self.X, self.Y, self.sample_weight

    def epoch(self, rng: np.random.Generator | SampleOrder, batch_size: int, shuffle: bool = True):
        """Return the batches of a global shuffle.

        Every row of the data comes in one random order, drawn from ``rng`` (no shuffle:
        in order), gathered into buffers reused every epoch.
        """
        b = self._batches
        if b is None or b.size != batch_size or b.shuffle != shuffle:
            b = self._batches = _Batches(self.X, self.Y, self.sample_weight, batch_size, shuffle)
        return b.epoch(rng)


def _rows(A, idx):
    """Rows ``idx`` of A (None stays None), a copy."""
    if A is None:
        return None
    if type(A) is np.ndarray or sp.issparse(A):
        return A[idx]
    return arrays.namespace_of(A).take(A, idx, axis=0)


def _joined(pieces: list[tuple]) -> tuple:
    """(X, Y, w) pieces of one batch as one (X, Y, w), rows in turn."""
    out: list = []
    for parts in zip(*pieces, strict=True):
        if parts[0] is None:
            out.append(None)
        elif len(parts) == 1:
            out.append(parts[0])
        elif sp.issparse(parts[0]):
            out.append(sp.vstack(parts, format="csr"))
        else:
            out.append(arrays.namespace_of(parts[0]).concat(list(parts), axis=0))
    return tuple(out)


def chunk_batches(
    chunks: Iterable[tuple], batch_size: int, rng: np.random.Generator | SampleOrder | None = None
) -> Iterator[Batch]:
    """Batches of ``batch_size`` rows from chunks that arrive one at a time.

    Each chunk's rows are taken in a random order drawn from ``rng`` (in order when
    ``rng`` is None), ``batch_size`` at a time; the rows a chunk leaves over (fewer than
    a batch) are completed from the next chunk, so only the last batch may be short.
    Memory holds the current chunk and at most one batch of the one before.

    Parameters
    ----------
    chunks : iterable of (X, Y, sample_weight, ...)
        Validated arrays of one library (sample_weight None in every chunk, or an
        array in every chunk); entries after the third are ignored.
    batch_size : int
    rng : numpy.random.Generator, optional

    Yields
    ------
    (X_B, Y_B, w_B, rows)

    Examples
    --------
    >>> import numpy as np
    >>> parts = [(np.arange(3.0)[:, None], np.zeros((3, 1)), None),
    ...          (np.arange(3.0, 5.0)[:, None], np.zeros((2, 1)), None)]
    >>> [Xb.ravel().tolist() for Xb, _, _, _ in chunk_batches(parts, 2)]
    [[0.0, 1.0], [2.0, 3.0], [4.0]]
    """
    size = int(batch_size)
    carry: list[tuple] = []  # pieces of a batch begun in an earlier chunk
    carried = 0
    for chunk in chunks:
        X, Y, w = chunk[0], chunk[1], chunk[2]
        n = X.shape[0]
        order = None
        if rng is not None:
            order = rng.permutation(n)
            if type(Y) is not np.ndarray:
                order = arrays.as_device_array(order, arrays.namespace_of(Y), arrays.device_of(Y))
        start = 0
        while start < n:
            stop = min(start + size - carried, n)
            if order is None:
                piece = (X[start:stop], Y[start:stop], None if w is None else w[start:stop])
            else:
                idx = order[start:stop]
                piece = (_rows(X, idx), _rows(Y, idx), _rows(w, idx))
            rows = stop - start
            start = stop
            if carried + rows < size:  # the chunk ran out before the batch was full
                carry.append(piece)
                carried += rows
                break
            if carry:
                carry.append(piece)
                yield (*_joined(carry), size)
                carry, carried = [], 0
            else:
                yield piece[0], piece[1], piece[2], rows
    if carry:
        yield (*_joined(carry), carried)


class Chunks(Data):
    """Training data as a sequence of chunks, each loaded when it is needed.

    Parameters
    ----------
    loaders : sequence of callable
        ``loaders[k]()`` returns chunk k as ``(X, Y, sample_weight)`` of validated
        arrays (see the module's docstring).
    n_samples : int
        Rows in all the chunks together: the cost's mean divides by it (unless
        ``total_weight`` is given), the schedules count samples seen by it. A pass over
        all the chunks (an epoch, the full-batch cost) counts their rows and raises a
        ValueError when the count disagrees.
    total_weight : float, optional
        Σw over all the chunks; default ``n_samples`` (no sample weights).

    Notes
    -----
    An epoch of mini-batches (:meth:`epoch`) visits the chunks in an order drawn from
    the generator, shuffles each chunk's rows and takes the batches from it in turn
    (:func:`chunk_batches`). That is not a global shuffle: a batch holds rows of one
    chunk (of two where one chunk's last rows meet the next one's), never rows drawn
    from the whole data, so chunks that each hold one kind of row (sorted by label or
    by date) give batches of one kind. Chunks that are random samples of the data
    behave like a global shuffle. With one chunk, the epoch is the global shuffle of
    :class:`InMemory`, draw for draw.

    The full-batch cost and gradient (:meth:`cost_and_gradient`) add up the chunks'
    shares, computed one chunk at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import Network, SGD
    >>> from nnmath.training import Settings, train
    >>> X = np.linspace(0, 1, 8).reshape(-1, 1); Y = 2 * X + 1
    >>> data = Chunks([lambda: (X[:5], Y[:5], None), lambda: (X[5:], Y[5:], None)], 8)
    >>> net = Network([1, 1], activation="identity", random_state=0)
    >>> h = train(net, data, None, SGD(0.3), Settings(max_epochs=500, batch_size=4),
    ...           rng=np.random.default_rng(0))
    >>> round(float(net.W[0][0, 0]), 1), round(float(net.b[0][0]), 1)   # y = 2x + 1
    (2.0, 1.0)
    """

    def __init__(
        self,
        loaders: Sequence[Callable[[], tuple]],
        n_samples: int,
        total_weight: float | None = None,
    ):
        if len(loaders) == 0:
            raise ValueError("Chunks needs at least one chunk; got none")
        self.loaders = list(loaders)
        self.n_samples = int(n_samples)
        self.total_weight = float(n_samples if total_weight is None else total_weight)
        self._grad_sum: Any = None

    @property
    def n_chunks(self) -> int:
        """How many chunks there are."""
        return len(self.loaders)

    def load(self, k: int) -> tuple:
        """Chunk k, as its loader returns it."""
        return self.loaders[k]()

    def chunks(self, order: Iterable[int] | None = None) -> Iterator[tuple]:
        """Yield the chunks one at a time, in ``order`` (default: as given)."""
        for k in range(self.n_chunks) if order is None else order:
            yield self.load(k)

    def _counted(self, order: Iterable[int] | None = None) -> Iterator[tuple]:
        """Yield every chunk, as :meth:`chunks` does, and check their rows add up to n_samples.

        Raises ValueError as soon as the chunks hold more rows than ``n_samples``, or
        at the end of the pass when they hold fewer.
        """
        counted = 0
        for chunk in self.chunks(order):
            counted += int(chunk[0].shape[0])
            if counted > self.n_samples:
                raise ValueError(self._miscount(f"at least {counted:,}"))
            yield chunk
        if counted != self.n_samples:
            raise ValueError(self._miscount(f"{counted:,}"))

    def _miscount(self, counted: str) -> str:
        return (
            f"Chunks was given n_samples={self.n_samples:,}, but its {self.n_chunks} "
            f"chunks hold {counted} rows; n_samples must be the rows in all the chunks "
            "together"
        )

    def chunk_order(self, rng: np.random.Generator | SampleOrder | None) -> list[int]:
        """Return the order an epoch visits the chunks in.

        It is drawn from ``rng`` (None: as given; one chunk draws nothing, so that one
        chunk shuffles like :class:`InMemory`).
        """
        if rng is None or self.n_chunks == 1:
            return list(range(self.n_chunks))
        return [int(k) for k in rng.permutation(self.n_chunks)]

    def epoch(self, rng: np.random.Generator | SampleOrder, batch_size: int, shuffle: bool = True):
        """Return the batches of an epoch, chunk after chunk.

        The chunks come in an order drawn from ``rng``, each chunk's rows shuffled, the
        batches taken in turn (see the class's Notes); ``shuffle=False``: all in order.
        """

        def batches():
            order = self.chunk_order(rng if shuffle else None)
            yield from chunk_batches(self._counted(order), batch_size, rng if shuffle else None)

        return batches()

    def _shares(self, model, alpha: float, l1: float, seeds, divide_at_end: bool = False):
        """Each chunk's cost share and a view of its gradient share (model.grad)."""
        for k, chunk in enumerate(self._counted()):
            dropout_rng = None if seeds is None else np.random.default_rng(seeds[k])
            cost = model.backprop(
                chunk[0],
                chunk[1],
                chunk[2],
                alpha=alpha if k == 0 else 0.0,  # the L2 term belongs to the whole: once
                l1=l1 if k == 0 else 0.0,  # and so does the L1 term
                total_weight=self.total_weight,
                dropout_rng=dropout_rng,
                divide_at_end=divide_at_end,
            )
            yield cost, model.grad

    def cost_and_gradient(
        self,
        model,
        *,
        alpha: float = 0.0,
        l1: float = 0.0,
        dropout_rng=None,
        divide_at_end: bool = False,
    ) -> float:
        """Compute C = Σ_k C_k and ∂C/∂θ = Σ_k ∂C_k/∂θ, one chunk at a time.

        With dropout, each chunk's masks come from a generator seeded from
        ``dropout_rng``.
        """
        seeds = None
        if dropout_rng is not None:
            seeds = dropout_rng.integers(np.iinfo(np.int64).max, size=self.n_chunks)
        grad = model.grad
        if self._grad_sum is None or self._grad_sum.shape != grad.shape:
            self._grad_sum = arrays.namespace_of(grad).asarray(grad, copy=True)
        total = self._grad_sum
        cost = 0.0
        for k, (share, g) in enumerate(self._shares(model, alpha, l1, seeds, divide_at_end)):
            cost += share
            if k == 0:
                total[...] = g
            else:
                total += g
        grad[...] = total
        return cost

    def objective(self, model, alpha: float = 0.0, l1: float = 0.0) -> float:
        """C = Σ_k C_k at the model's θ, one chunk at a time, without gradients."""
        cost = sum(
            model.objective(chunk[0], chunk[1], chunk[2], total_weight=self.total_weight)
            for chunk in self._counted()
        )
        if alpha:
            cost += model.l2_penalty(alpha, self.total_weight)
        if l1:
            cost += model.l1_penalty(l1, self.total_weight)
        return float(cost)
