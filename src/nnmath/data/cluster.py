"""Dask: fit on dask.array and dask.dataframe collections where the data lives.

The estimators and :meth:`nnmath.Network.fit` hand a Dask X (and y, sample_weight) to
this adapter, which turns it into a :class:`nnmath.data.sources.Chunks` source for
the one training loop; nothing here computes a forward or backward pass of its own.

* Each row chunk is checked and encoded (targets as the network's outputs) by a task
  on the cluster. With a ``distributed.Client`` the prepared chunks stay in the
  workers' memory for the fit, in contiguous runs: chunk k of K on worker
  ⌊k·n_workers/K⌋ (the workers in address order).
* Full batch ("gd", "lbfgs", a Perceptron): each iteration scatters θ to the workers
  once; every chunk's task runs ``Network.backprop(..., total_weight=Σw)`` for its
  share of the cost and gradient; each worker adds up its chunks' shares in chunk
  order and returns one gradient, and the client adds those in worker order. The
  traffic per iteration is θ to each worker and one gradient back, O(parameters) per
  worker; the sum is the in-memory gradient to rounding, and the same bits on every
  run with the same chunks and number of workers.
* Mini-batches ("sgd", "adam"): an epoch fetches one chunk at a time to the client
  in an order drawn from ``random_state`` and takes shuffled batches from it
  (:meth:`nnmath.data.sources.Chunks.epoch`), so the client holds one chunk, never
  the data.
* Without a Client (Dask's local schedulers) each chunk is computed in this process
  when it is needed, one at a time.

Importing nnmath never imports dask: :func:`is_collection` looks for dask only among
the modules already imported, and the rest imports it when a collection arrives.

Example
-------
>>> import numpy as np, dask.array as da
>>> from nnmath import MLPRegressor
>>> X = da.from_array(np.linspace(-1, 1, 40).reshape(-1, 1), chunks=10)
>>> y = X[:, 0] ** 2
>>> reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", random_state=0).fit(X, y)
>>> is_collection(reg.predict(X)), reg.score(X, y) > 0.95
(True, True)
"""

from __future__ import annotations

import asyncio
import copy
import math
import operator
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nnmath.data.adapters import Encoding, Held, Labels, TrainingInput
from nnmath.data.sources import Chunks, Data

__all__ = [
    "ChunkChecks",
    "CollectionInput",
    "DaskChunks",
    "RowBlocks",
    "chunk_data",
    "class_counts",
    "client_or_none",
    "is_collection",
    "predict_rows",
    "prepare",
    "row_blocks",
    "score",
    "split",
    "unique_labels",
]


def is_collection(*objects) -> bool:
    """Return True when any of ``objects`` is a Dask collection (array, dataframe, …).

    Never imports dask: a program that has not imported it holds no collection.

    Examples
    --------
    >>> is_collection(np.zeros(3), None)
    False
    """
    dask = sys.modules.get("dask")
    if dask is None:
        return False
    return any(o is not None and dask.is_dask_collection(o) for o in objects)


def client_or_none():
    """Return the ``distributed.Client`` that ``dask.compute`` would use now, or None.

    None means no client, or dask's config names a local scheduler.

    Examples
    --------
    >>> import dask
    >>> with dask.config.set(scheduler="sync"):
    ...     client_or_none() is None
    True
    """
    import dask

    scheduler = dask.config.get("scheduler", None)
    if scheduler is not None and scheduler not in ("dask.distributed", "distributed"):
        if not hasattr(scheduler, "get_executor"):  # a Client given as the scheduler
            return None
        return scheduler
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


# ---------------------------------------------------------------------------- input
@dataclass
class RowBlocks:
    """A Dask X (and y, sample_weight) as aligned row chunks, checked.

    Attributes
    ----------
    X, y, sample_weight : list of dask.delayed.Delayed (or None)
        Chunk k of each, in row order; y and sample_weight None when not given.
    n_features : int
    dtype : numpy.dtype
        float32 when every column of X is float32, else float64 (what scikit-learn's
        validation makes of X).
    feature_names : ndarray of str or None
        A dataframe's column names.
    y_width : int
        Columns of y (1 for a 1-D y).
    y_dtype : numpy.dtype or None
    rows : tuple of int or None
        Rows of each chunk, when known before computing (arrays).
    """

    X: list
    y: list | None
    sample_weight: list | None
    n_features: int
    dtype: np.dtype
    feature_names: np.ndarray | None
    y_width: int
    y_dtype: np.dtype | None
    rows: tuple | None

    @property
    def n_chunks(self) -> int:
        """How many row chunks there are."""
        return len(self.X)


def _is_frame(x) -> bool:
    """Return True for a dask DataFrame (dask arrays have no divisions)."""
    return hasattr(x, "divisions") and getattr(x, "ndim", 0) == 2


def _is_series(x) -> bool:
    return hasattr(x, "divisions") and getattr(x, "ndim", 0) == 1


def _known_rows(x, name: str) -> tuple:
    rows = x.chunks[0]
    if any(math.isnan(r) for r in rows):
        raise ValueError(
            f"{name} is a Dask array with unknown chunk sizes; nnmath needs the rows of each "
            f"chunk to split and weigh them. Compute them first: {name} = "
            f"{name}.compute_chunk_sizes()"
        )
    return tuple(int(r) for r in rows)


def _blocks_of(v, name: str, X_rows: tuple | None, n_chunks: int, ndim_max: int) -> list:
    """Row blocks of y or sample_weight, aligned with X's chunks."""
    import dask.array as da

    if not is_collection(v):  # an in-memory y beside a Dask array X: chunked like X
        if X_rows is None:
            raise ValueError(
                f"{name} is in memory but X is a Dask dataframe, whose partitions' lengths "
                f"are not known before computing; pass {name} as a Dask collection "
                "partitioned like X"
            )
        v = np.asarray(v)
        if v.shape[0] != sum(X_rows):
            raise ValueError(f"X has {sum(X_rows)} samples but {name} has {v.shape[0]}")
        v = da.from_array(v, chunks=(X_rows,) + v.shape[1:])
    if _is_frame(v) or _is_series(v):
        if v.npartitions != n_chunks:
            raise ValueError(
                f"{name} has {v.npartitions} partitions but X has {n_chunks} row chunks; "
                f"partition {name} like X"
            )
        return list(v.to_delayed())
    if v.ndim > ndim_max or v.ndim == 0:
        shape = "(n_samples,)" if ndim_max == 1 else "(n_samples,) or (n_samples, n_outputs)"
        raise ValueError(f"{name} must have shape {shape}; got a {v.ndim}-D Dask array")
    if X_rows is not None and not any(math.isnan(r) for r in v.chunks[0]):
        if tuple(v.chunks[0]) != X_rows:
            raise ValueError(
                f"{name}'s row chunks {tuple(v.chunks[0])} differ from X's {X_rows}; rechunk "
                f"it like X: {name} = {name}.rechunk({{0: X.chunks[0]}})"
            )
    elif len(v.chunks[0]) != n_chunks:
        raise ValueError(
            f"{name} has {len(v.chunks[0])} row chunks but X has {n_chunks}; rechunk it like X"
        )
    if v.ndim == 2 and len(v.chunks[1]) > 1:
        v = v.rechunk({1: -1})
    blocks = v.to_delayed()
    return list(blocks[:, 0] if v.ndim == 2 else blocks)


def _numpy_dtype(t) -> np.dtype:
    """Return a column's dtype as NumPy's; object for pandas' own (text, categories)."""
    try:
        return np.dtype(t)
    except TypeError:
        return np.dtype(object)


def row_blocks(X, y=None, sample_weight=None) -> RowBlocks:
    """Check a Dask X, y and sample_weight and split them into aligned row chunks.

    X is a 2-D ``dask.array`` with known chunk sizes (its column chunks are joined) or
    a ``dask.dataframe``; y and sample_weight are Dask collections with the same row
    chunks (a NumPy y or sample_weight beside a Dask array X is chunked like X).
    Raises ValueError naming the argument that does not fit. With a Dask client whose
    cluster has no workers yet, it first waits up to :data:`WORKER_WAIT` seconds for one.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> X = da.zeros((10, 3), chunks=(4, 2))
    >>> blocks = row_blocks(X, np.arange(10))
    >>> blocks.n_chunks, blocks.n_features, blocks.rows
    (3, 3, (4, 4, 2))
    """
    client = client_or_none()
    if client is not None:
        _wait_for_a_worker(client)  # a cluster just started registers its workers late
    if _is_frame(X):
        dtypes = {_numpy_dtype(t) for t in X.dtypes}
        dtype = np.dtype(np.float32) if dtypes == {np.dtype(np.float32)} else np.dtype(np.float64)
        columns = list(X.columns)
        names = (
            np.asarray(columns, dtype=object) if all(isinstance(c, str) for c in columns) else None
        )
        x_blocks, rows, n_features = list(X.to_delayed()), None, len(columns)
    elif _is_series(X) or not hasattr(X, "chunks"):
        raise ValueError(
            f"X must be 2-D, of shape (n_samples, n_features): a 2-D dask.array or a "
            f"dask.dataframe; got {type(X).__name__}"
        )
    else:
        if X.ndim != 2:
            raise ValueError(
                f"X must be 2-D of shape (n_samples, n_features); got a {X.ndim}-D Dask array"
            )
        rows = _known_rows(X, "X")
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        dtype = np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)
        x_blocks, names, n_features = list(X.to_delayed()[:, 0]), None, int(X.shape[1])
    n = len(x_blocks)
    y_blocks = w_blocks = None
    y_width, y_dtype = 1, None
    if y is not None:
        y_blocks = _blocks_of(y, "y", rows, n, 2)
        if _is_frame(y):
            y_width = len(y.columns)
            y_dtype = np.result_type(*[_numpy_dtype(t) for t in y.dtypes])
        else:
            y_width = int(y.shape[1]) if getattr(y, "ndim", 1) == 2 else 1
            y_dtype = _numpy_dtype(y.dtype)
    if sample_weight is not None:
        w_blocks = _blocks_of(sample_weight, "sample_weight", rows, n, 1)
    return RowBlocks(x_blocks, y_blocks, w_blocks, n_features, dtype, names, y_width, y_dtype, rows)


def _as_numpy(v):
    """Return a chunk (NumPy array, pandas frame or series) as a NumPy array."""
    return v.to_numpy() if hasattr(v, "to_numpy") else np.asarray(v)


def _unique(y) -> np.ndarray:
    y = _as_numpy(y)
    return np.unique(y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y)


def unique_labels(blocks: RowBlocks) -> np.ndarray:
    """Return the sorted distinct labels of a 1-D y, computed chunk by chunk on the cluster.

    Only the labels come back.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> X = da.zeros((5, 1), chunks=2)
    >>> unique_labels(row_blocks(X, da.from_array(np.array([2, 0, 2, 1, 0]), chunks=2)))
    array([0, 1, 2])
    """
    import dask

    parts = dask.compute(*[dask.delayed(_unique)(b) for b in blocks.y or ()])
    return np.unique(np.concatenate(parts))


def _class_counts(y, w, classes: np.ndarray) -> np.ndarray:
    from nnmath.data.checks import sample_weight_of

    y = _as_numpy(y)
    y = y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
    weights = sample_weight_of(None if w is None else _as_numpy(w), y.shape[0], np.float64)
    index = np.searchsorted(classes, y)
    return np.bincount(index, weights=weights, minlength=classes.shape[0]).astype(np.float64)


def class_counts(blocks: RowBlocks, classes) -> np.ndarray:
    """Return the weight of each class in a 1-D y: Σ of its rows' sample weights.

    Computed chunk by chunk on the cluster; one number per class and chunk comes back.
    ``classes`` are sorted and hold every label of y.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> X = da.zeros((5, 1), chunks=2)
    >>> class_counts(row_blocks(X, np.array([2, 0, 2, 1, 0])), np.array([0, 1, 2])).tolist()
    [2.0, 1.0, 2.0]
    """
    import dask

    classes = np.asarray(classes)
    ws = blocks.sample_weight if blocks.sample_weight is not None else [None] * blocks.n_chunks
    count = dask.delayed(_class_counts, pure=True)
    parts = dask.compute(*[count(y, w, classes) for y, w in zip(blocks.y or (), ws, strict=True)])
    return np.sum(parts, axis=0)


# ---------------------------------------------------------------------------- chunks
class ChunkChecks:
    """What an estimator's fit does to one chunk, called on the workers.

    X is checked and converted, the targets encoded as the network's outputs, the weights
    checked.

    Parameters
    ----------
    n_features : int
    dtype : numpy.dtype
        The network's dtype.
    encode : callable, optional
        Labels (1-D, or a 2-D indicator) → the network's targets (a fitted
        LabelBinarizer's ``transform``); None: y are numbers, used as they are.
    classes : ndarray, optional
        With ``encode``: the known labels (any other is an error).
    nonnegative : bool, default False
        Targets must be ≥ 0 (the Poisson loss).
    class_weight : ndarray of shape (n_classes,), optional
        With ``encode``: the weight of each class, which multiplies each row's sample
        weight (see :func:`nnmath.data.checks.weights_by_class`).

    Examples
    --------
    >>> import numpy as np
    >>> X, Y, w, y = ChunkChecks(2, np.dtype(np.float64))(np.ones((3, 2)), [1, 2, 3])
    >>> Y.shape, w is None
    ((3, 1), True)
    """

    def __init__(
        self,
        n_features: int,
        dtype,
        encode=None,
        classes=None,
        nonnegative=False,
        class_weight=None,
    ):
        self.n_features = int(n_features)
        self.dtype = np.dtype(dtype)
        self.encode = encode
        self.classes = classes
        self.nonnegative = nonnegative
        self.class_weight = class_weight

    def __call__(self, X, y=None, sample_weight=None):
        """Return the chunk checked, encoded and converted.

        Returns
        -------
        X : ndarray of shape (n_rows, n_features)
        Y : ndarray of shape (n_rows, n_outputs) or None
            The network's targets (None without y).
        sample_weight : ndarray of shape (n_rows,) or None
        y : ndarray of shape (n_rows,) or (n_rows, n_outputs), or None
            The labels as given (for scoring).
        """
        from sklearn.utils import check_array

        from nnmath.data.checks import sample_weight_of, weights_by_class

        X = check_array(X, dtype=self.dtype, input_name="X")
        if X.shape[1] != self.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the estimator is expecting "
                f"{self.n_features} features as input."
            )
        if y is None:
            return X, None, None, None
        y = _as_numpy(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"a chunk of X has {X.shape[0]} rows but y's has {y.shape[0]}")
        if self.encode is not None:
            if y.ndim == 1 and self.classes is not None:
                unknown = np.setdiff1d(np.unique(y), self.classes)
                if len(unknown):
                    raise ValueError(
                        f"`y` has classes not in `self.classes_`. `self.classes_` has "
                        f"{self.classes}. 'y' has {unknown}."
                    )
            Y = np.asarray(self.encode(y), dtype=self.dtype)
        else:
            Y = check_array(y, dtype=self.dtype, ensure_2d=False, input_name="y")
            if Y.ndim == 1:
                Y = Y.reshape(-1, 1)
            if self.nonnegative and (Y < 0).any():
                raise ValueError("loss='poisson' needs non-negative targets y; some are negative")
        if sample_weight is not None:
            sample_weight = _as_numpy(sample_weight)
            if sample_weight.shape[0] != X.shape[0]:
                raise ValueError(
                    f"a chunk of X has {X.shape[0]} rows but sample_weight's has "
                    f"{sample_weight.shape[0]}"
                )
            sample_weight = sample_weight_of(sample_weight, X.shape[0], self.dtype)
        if self.class_weight is not None and self.encode is not None:
            sample_weight = weights_by_class(Y, self.class_weight, sample_weight)
        return X, Y, sample_weight, y


#: Seconds a fit waits for the first worker of a cluster that has none yet (one just
#: started registers its workers a moment after it returns).
WORKER_WAIT = 30


def _wait_for_a_worker(client) -> list:
    """Return the addresses of the client's workers, sorted, waiting for a first one.

    An empty list after :data:`WORKER_WAIT` seconds: none joined (or the cluster starts
    them only when tasks arrive).
    """
    addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
    if not addresses:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes on Python 3.10
            pass
        addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
    return addresses


def _worker_addresses(client) -> list:
    """Return the addresses of the client's workers, sorted; RuntimeError when none."""
    addresses = _wait_for_a_worker(client)
    if not addresses:
        raise RuntimeError(
            f"the Dask client has no workers (none joined in {WORKER_WAIT} s); start some "
            "before fitting"
        )
    return addresses


def _apply(fn, *args):
    return fn(*args)


def prepare(blocks: RowBlocks, checks: Callable) -> list:
    """Return each chunk as ``checks(X_k, y_k, w_k)``, as dask.delayed objects.

    ``checks`` is e.g. a :class:`ChunkChecks`. Nothing is computed yet; ``checks`` travels
    once.

    Examples
    --------
    >>> import numpy as np, dask, dask.array as da
    >>> blocks = row_blocks(da.ones((4, 2), chunks=2), np.arange(4.0))
    >>> parts = prepare(blocks, ChunkChecks(2, np.float64))
    >>> dask.compute(parts[1])[0][1].ravel().tolist()
    [2.0, 3.0]
    """
    import dask

    fn = dask.delayed(checks, traverse=False, name=f"nnmath-checks-{uuid.uuid4().hex}")
    apply = dask.delayed(_apply, pure=True)
    ys = blocks.y if blocks.y is not None else [None] * blocks.n_chunks
    ws = blocks.sample_weight if blocks.sample_weight is not None else [None] * blocks.n_chunks
    return [apply(fn, x, y, w) for x, y, w in zip(blocks.X, ys, ws, strict=True)]


def _split_chunk(chunk: tuple, seed: int, fraction: float, validation: bool) -> tuple:
    rows = chunk[0].shape[0]
    held_out = np.random.default_rng(seed).random(rows) < fraction
    keep = held_out if validation else ~held_out
    return tuple(None if a is None else a[keep] for a in chunk)


def split(prepared: list, fraction: float, rng: np.random.Generator) -> tuple[list, list]:
    """Split chunks into (training, validation) chunks.

    In each chunk, every row goes to the validation set with probability ``fraction``,
    drawn from a seed per chunk taken from ``rng``.

    Not scikit-learn's ``train_test_split`` of the whole data (a shuffle of all rows,
    stratified by class): the validation set is a random ``fraction`` of each chunk,
    its size close to ``fraction`` of the rows, found without moving any chunk.

    Examples
    --------
    >>> import numpy as np, dask, dask.array as da
    >>> parts = prepare(row_blocks(da.ones((100, 1), chunks=50), np.zeros(100)),
    ...                 ChunkChecks(1, np.float64))
    >>> train, val = split(parts, 0.2, np.random.default_rng(0))
    >>> sum(c[0].shape[0] for c in dask.compute(*train + val))
    100
    """
    import dask

    seeds = rng.integers(np.iinfo(np.int64).max, size=len(prepared))
    cut = dask.delayed(_split_chunk, pure=True)
    train = [cut(c, int(s), float(fraction), False) for c, s in zip(prepared, seeds, strict=True)]
    val = [cut(c, int(s), float(fraction), True) for c, s in zip(prepared, seeds, strict=True)]
    return train, val


def _first(chunk: tuple, count: int) -> tuple:
    return chunk[:count]


def _sizes(chunk: tuple) -> tuple[int, float, bool]:
    X, w = chunk[0], chunk[2]
    if w is None:
        return X.shape[0], float(X.shape[0]), False
    return X.shape[0], float(np.sum(w, dtype=np.float64)), True


# ---------------------------------------------------------------------------- workers
_LOCAL = threading.local()


def _worker_model(template, token: str):
    """Return the thread's own copy of the model (a copy per fit, kept between iterations).

    Backprop writes into the model's gradient and work arrays, so threads and the client
    never share one.
    """
    models = getattr(_LOCAL, "models", None)
    if models is None:
        models = _LOCAL.models = {}
    model = models.get(token)
    if model is None:
        if len(models) >= 4:  # models of finished fits
            models.clear()
        model = models[token] = copy.deepcopy(template)
    return model


def _shares(template, token, theta, total_weight, penalties, seeds, divide_at_end, *chunks):
    """Return the sum of the shares of one worker's chunks at θ, added in chunk order.

    Each share is backprop(chunk, total_weight=Σw), its part of the whole's cost and
    gradient; ``penalties`` holds each chunk's (α, λ₁).
    """
    model = _worker_model(template, token)
    model.theta[...] = theta
    cost, grad = 0.0, None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for chunk, (alpha, l1), seed in zip(chunks, penalties, seeds, strict=True):
            cost += model.backprop(
                chunk[0],
                chunk[1],
                chunk[2],
                alpha=alpha,
                l1=l1,
                total_weight=total_weight,
                dropout_rng=None if seed is None else np.random.default_rng(seed),
                divide_at_end=divide_at_end,
            )
            if grad is None:
                grad = model.grad.copy()
            else:
                grad += model.grad
    return cost, grad


def _objective(template, token, theta, chunk, total_weight):
    model = _worker_model(template, token)
    model.theta[...] = theta
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return model.objective(chunk[0], chunk[1], chunk[2], total_weight=total_weight)


class DaskChunks(Chunks):
    """Chunks held in a Dask cluster's memory (see the module's docstring).

    Made by :func:`chunk_data`; the full-batch cost and gradient and the objective are
    computed on the workers, the mini-batch epochs fetch one chunk at a time.

    Parameters
    ----------
    futures : list of distributed.Future
        The prepared chunks, in row order.
    workers : list of str
        The worker that holds each chunk.
    client : distributed.Client
    model
        What is trained (its architecture travels to the workers once).
    rows, weights : sequence
        Rows and Σw of each chunk.
    weighted : bool
        The chunks carry sample weights.

    Examples
    --------
    >>> DaskChunks.__mro__[1].__name__
    'Chunks'
    """

    def __init__(self, futures, workers, client, model, rows, weights, weighted=False):
        super().__init__([f.result for f in futures], sum(rows), math.fsum(weights))
        self.futures, self.workers, self.client = list(futures), list(workers), client
        self.rows = tuple(int(r) for r in rows)
        self.weighted = weighted
        self._token = uuid.uuid4().hex
        self._template = client.scatter(model, broadcast=True, hash=False)
        # The chunks of each worker, in chunk order; the workers in the order of their
        # first chunk: the order in which the shares are added.
        groups: dict[str, list[int]] = {}
        for k, w in enumerate(self.workers):
            groups.setdefault(w, []).append(k)
        self.groups = list(groups.items())

    def _theta(self, model):
        from nnmath.core import arrays

        return self.client.scatter(
            np.array(arrays.to_numpy(model.theta), copy=True), broadcast=True, hash=False
        )

    def cost_and_gradient(
        self,
        model,
        *,
        alpha: float = 0.0,
        l1: float = 0.0,
        dropout_rng=None,
        divide_at_end: bool = False,
    ) -> float:
        """Compute Σ of the chunks' shares at the model's θ, where the chunks live.

        One task per worker adds up its chunks' shares; the client adds the workers' sums
        in order.
        """
        theta = self._theta(model)
        seeds: list[int | None] = [None] * self.n_chunks
        if dropout_rng is not None:
            drawn = dropout_rng.integers(np.iinfo(np.int64).max, size=self.n_chunks)
            seeds = [int(seed) for seed in drawn]
        sums = [
            self.client.submit(
                _shares,
                self._template,
                self._token,
                theta,
                self.total_weight,
                # the penalty terms belong to the whole: the first chunk carries them
                [(alpha, l1) if k == 0 else (0.0, 0.0) for k in ks],
                [seeds[k] for k in ks],
                divide_at_end,
                *[self.futures[k] for k in ks],
                workers=[worker],
                allow_other_workers=True,
                pure=False,
            )
            for worker, ks in self.groups
        ]
        parts = self.client.gather(sums)
        cost, grad = parts[0][0], parts[0][1]
        for c, g in parts[1:]:
            cost += c
            grad += g
        model.grad[...] = grad
        return float(cost)

    def objective(self, model, alpha: float = 0.0, l1: float = 0.0) -> float:
        """Σ of the chunks' costs at the model's θ, computed where the chunks live."""
        theta = self._theta(model)
        parts = [
            self.client.submit(
                _objective,
                self._template,
                self._token,
                theta,
                f,
                self.total_weight,
                workers=[w],
                allow_other_workers=True,
                pure=False,
            )
            for f, w in zip(self.futures, self.workers, strict=True)
        ]
        cost = float(sum(self.client.gather(parts)))
        if alpha:
            cost += model.l2_penalty(alpha, self.total_weight)
        if l1:
            cost += model.l1_penalty(l1, self.total_weight)
        return cost

    def close(self) -> None:
        """Release the chunks from the workers' memory."""
        self.futures, self.loaders, self._template = [], [], None


class _LocalChunks(Chunks):
    """Chunks that Dask computes each time one is needed (one at a time)."""

    def __init__(self, parts, rows, weights, weighted=False):
        import dask

        super().__init__(
            [lambda p=p: dask.compute(p)[0] for p in parts], sum(rows), math.fsum(weights)
        )
        self.parts = parts
        self.rows = tuple(int(r) for r in rows)
        self.weighted = weighted


def chunk_data(parts: list, model, keep: int = 3, persist: bool = True) -> Chunks:
    """Return the training data of prepared chunks, each cut to its first ``keep`` entries.

    The chunks are dask.delayed, e.g. from :func:`prepare` or :func:`split`.

    With a ``distributed.Client`` (and ``persist``): a :class:`DaskChunks`, the chunks
    computed and kept on the workers in contiguous runs. Otherwise
    :class:`~nnmath.data.sources.Chunks` that Dask computes (on the cluster, or in this
    process) each time one is needed, keeping none: for data bigger than the
    cluster's memory, read once per epoch.

    Examples
    --------
    >>> import numpy as np, dask, dask.array as da
    >>> parts = prepare(row_blocks(da.ones((6, 2), chunks=4), np.arange(6.0)),
    ...                 ChunkChecks(2, np.float64))
    >>> with dask.config.set(scheduler="sync"):
    ...     data = chunk_data(parts, model=None)
    >>> data.n_samples, data.n_chunks
    (6, 2)
    """
    import dask

    cut = dask.delayed(_first, pure=True)
    parts = [cut(p, keep) for p in parts]
    client = client_or_none() if persist else None
    sizes = dask.delayed(_sizes, pure=True)
    if client is None:
        counted = dask.compute(*[sizes(p) for p in parts])
    else:
        addresses = _worker_addresses(client)
        K = len(parts)
        workers = [addresses[k * len(addresses) // K] for k in range(K)]
        futures = [
            client.compute(p, workers=[w], allow_other_workers=True)
            for p, w in zip(parts, workers, strict=True)
        ]
        counted = client.gather(
            [
                client.submit(_sizes, f, workers=[w], allow_other_workers=True)
                for f, w in zip(futures, workers, strict=True)
            ]
        )
    rows, weights = [c[0] for c in counted], [c[1] for c in counted]
    weighted = any(c[2] for c in counted)
    if sum(rows) == 0:
        raise ValueError("X has no samples (every chunk is empty)")
    if not math.fsum(weights) > 0:
        raise ValueError("sample_weight sums to 0; at least one sample needs a positive weight")
    if client is None:
        return _LocalChunks(parts, rows, weights, weighted)
    return DaskChunks(futures, workers, client, model, rows, weights, weighted)


def chunk_arrays(data: DaskChunks | _LocalChunks, n_features: int, dtype, label_dtype) -> tuple:
    """Return the chunks of :func:`chunk_data` as the Dask arrays that a scorer takes.

    The chunks ``(X, Y, w, y)`` (``keep=4``) become (X, y, sample_weight), arrays that
    read the chunks where they are.

    Examples
    --------
    >>> import numpy as np, dask, dask.array as da
    >>> parts = prepare(row_blocks(da.ones((6, 2), chunks=4), np.arange(6), np.ones(6)),
    ...                 ChunkChecks(2, np.float64))
    >>> with dask.config.set(scheduler="sync"):
    ...     X, y, w = chunk_arrays(chunk_data(parts, None, keep=4), 2, np.float64, np.int64)
    ...     y.sum().compute()
    np.int64(15)
    """
    import dask
    import dask.array as da

    sources = data.futures if isinstance(data, DaskChunks) else data.parts
    pick = dask.delayed(operator.getitem, pure=True)

    def column(entry: int, shape: Callable[[int], tuple], kind) -> object:
        parts = [
            da.from_delayed(pick(s, entry), shape=shape(r), dtype=kind)
            for s, r in zip(sources, data.rows, strict=True)
        ]
        return da.concatenate(parts)

    X = column(0, lambda r: (r, n_features), dtype)
    y = column(3, lambda r: (r,), label_dtype)
    w = column(2, lambda r: (r,), dtype) if data.weighted else None
    return X, y, w


class CollectionInput(TrainingInput):
    """Dask collections as an estimator's training data (see the module's docstring).

    X, y and sample_weight stay on the cluster: their chunks are checked and encoded
    there (:func:`prepare`), the labels and the classes' counts computed chunk by chunk,
    a validation set split off each chunk (:func:`split`). The network is a NumPy one.

    Parameters
    ----------
    X : dask.array.Array or dask.dataframe.DataFrame of shape (n_samples, n_features)
    y : Dask collection (or NumPy array beside a Dask array X), optional
    sample_weight : Dask collection (or NumPy array beside a Dask array X), optional

    Examples
    --------
    >>> import dask.array as da
    >>> from sklearn.neural_network import MLPRegressor
    >>> source = CollectionInput(da.ones((6, 2), chunks=3), np.arange(6.0))
    >>> source.check(MLPRegressor(), reset=True, numeric_y=True)
    >>> source.n_features, source.target_width()
    (2, 1)
    """

    def __init__(self, X, y=None, sample_weight=None):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.checks: ChunkChecks | None = None
        self.label_dtype: np.dtype | None = None
        self._parts: list | None = None
        self._data: Chunks | None = None

    def check(self, estimator, reset: bool, numeric_y: bool) -> None:
        """Split X, y and sample_weight into row chunks; a NumPy network only."""
        if not reset and estimator.network_.xp is not np:
            raise ValueError(
                f"X is a Dask collection but the network lives on "
                f"{estimator.network_.describe_placement()}; Dask collections train NumPy "
                "networks"
            )
        blocks = self.blocks = row_blocks(self.X, self.y, self.sample_weight)
        if reset:
            estimator.n_features_in_ = blocks.n_features
            if blocks.feature_names is not None:
                estimator.feature_names_in_ = blocks.feature_names
            elif hasattr(estimator, "feature_names_in_"):
                del estimator.feature_names_in_
        elif blocks.n_features != estimator.n_features_in_:
            raise ValueError(
                f"X has {blocks.n_features} features, but {type(estimator).__name__} is "
                f"expecting {estimator.n_features_in_} features as input."
            )
        self.n_features, self.dtype = blocks.n_features, blocks.dtype

    def _require_y(self, what: str) -> None:
        if self.blocks.y is None:
            raise ValueError(f"y is required: the {what} of X's rows")

    def labels(self, fresh: bool, what: str = "labels") -> Labels:
        """Return y's distinct labels, computed on the cluster (an indicator: its columns)."""
        from sklearn.utils.multiclass import check_classification_targets

        self._require_y(what)
        if self.blocks.y_width > 1:  # a multilabel indicator: one output per label
            return Labels(np.eye(self.blocks.y_width, dtype=int), None)
        labels = unique_labels(self.blocks)
        check_classification_targets(labels)
        return Labels(labels, labels)

    def multilabel(self) -> bool:
        """Return True when y has more than one column."""
        return getattr(self.y, "ndim", 1) == 2 and self.y.shape[1] > 1

    def check_classes(self, classes) -> None:
        """Raise ValueError for fewer than two classes."""
        if classes.shape[0] < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); a classifier needs at least two classes"
            )

    def target_width(self, what: str = "targets") -> int:
        """Return y's number of columns."""
        self._require_y(what)
        return self.blocks.y_width

    def encode(self, encoding: Encoding) -> None:
        """Keep the encoding; the chunks are encoded on the cluster."""
        self.checks, self.label_dtype = encoding.chunk_checks(), encoding.label_dtype()

    def weigh(self, weights_of: Callable, n_classes: int) -> None:
        """Weigh the rows by their class, counted on the cluster."""
        checks = self.checks
        assert checks is not None
        weights = weights_of(lambda: class_counts(self.blocks, checks.classes))
        self.checks = copy.copy(checks)
        self.checks.class_weight = weights

    def _prepared(self) -> list:
        if self._parts is None:
            assert self.checks is not None
            self._parts = prepare(self.blocks, self.checks)
        return self._parts

    def like(self):
        """Return an empty array of the network's dtype and number of inputs."""
        assert self.checks is not None
        return np.empty((0, self.n_features), self.checks.dtype)

    def _held(self, parts: list, network) -> Held:
        self.data(network)  # the training chunks go to the workers first
        val_data = chunk_data(parts, network, keep=4)
        assert isinstance(val_data, (DaskChunks, _LocalChunks))
        if val_data.n_samples < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the "
                "size of your dataset."
            )
        X_val, y_val, w_val = chunk_arrays(
            val_data, self.n_features, network.dtype, self.label_dtype
        )
        return Held(X_val, y_val, w_val, val_data)

    def validation_set(self, X_val, y_val, network) -> Held | None:
        """Return a Dask ``validation_data`` prepared on the cluster; None for one in memory."""
        if not is_collection(X_val):
            return None
        self._prepared()
        assert self.checks is not None
        return self._held(prepare(row_blocks(X_val, y_val), self.checks), network)

    def split(self, fraction: float, random_state, rng, stratify: bool, network) -> Held:
        """Split a ``fraction`` of each chunk's rows off, drawn from ``rng``."""
        self._parts, held_out = split(self._prepared(), fraction, rng)
        return self._held(held_out, network)

    def data(self, network) -> Data:
        """Return the prepared chunks as the training data (computed once)."""
        if self._data is None:
            self._data = chunk_data(self._prepared(), network)
        return self._data


# ---------------------------------------------------------------------------- results
def _call_block(X, estimator, method: str):
    return getattr(estimator, method)(X)


def _snapshot(estimator):
    """Return the estimator as it is now, as one dask.delayed value (it travels once)."""
    import dask

    return dask.delayed(
        copy.deepcopy(estimator), traverse=False, name=f"nnmath-model-{uuid.uuid4().hex}"
    )


def predict_rows(estimator, X, method: str, n_columns: int | None, dtype) -> object:
    """Return ``estimator.<method>(X)`` for a Dask X, as a lazy Dask array.

    It is computed chunk by chunk on the cluster (X's row chunks; unknown chunk sizes for
    a dataframe). The estimator is copied as it is now: a later fit does not change the
    result.

    Parameters
    ----------
    n_columns : int or None
        Columns of the result; None for a 1-D result.
    dtype : numpy.dtype

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from nnmath import MLPRegressor
    >>> reg = MLPRegressor(hidden_layer_sizes=(2,), solver="lbfgs", random_state=0)
    >>> reg = reg.fit(np.eye(3), [0.0, 1.0, 2.0])
    >>> lazy = predict_rows(reg, da.eye(3, chunks=2), "predict", None, np.float64)
    >>> lazy.chunks, bool(np.allclose(lazy.compute(), reg.predict(np.eye(3))))
    (((2, 1),), True)
    """
    import dask
    import dask.array as da

    snapshot = _snapshot(estimator)
    if _is_frame(X):
        call = dask.delayed(_call_block, pure=True)
        shape = (math.nan,) if n_columns is None else (math.nan, n_columns)
        return da.concatenate(
            [
                da.from_delayed(call(part, snapshot, method), shape=shape, dtype=dtype)
                for part in X.to_delayed()
            ]
        )
    if getattr(X, "ndim", None) != 2:
        raise ValueError(
            f"X must be 2-D of shape (n_samples, n_features): a 2-D dask.array or a "
            f"dask.dataframe; got {type(X).__name__} of {getattr(X, 'ndim', '?')} dimensions"
        )
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if n_columns is None:
        return X.map_blocks(
            _call_block, snapshot, method, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype)
        )
    return X.map_blocks(
        _call_block,
        snapshot,
        method,
        chunks=(X.chunks[0], (n_columns,)),
        dtype=dtype,
        meta=np.empty((0, 0), dtype),
    )


def _accuracy_stats(estimator, X, y, w) -> np.ndarray:
    """Return [Σ wᵢ·(ŷᵢ = yᵢ), Σ wᵢ] of one chunk.

    A row of a multilabel y is right when all its labels are.
    """
    pred, y = np.asarray(estimator.predict(X)), _as_numpy(y)
    if y.ndim == 2 and y.shape[1] == 1 and pred.ndim == 1:
        y = y.ravel()
    right = pred == y
    if right.ndim == 2:
        right = right.all(axis=1)
    w = np.ones(right.shape[0]) if w is None else _as_numpy(w).astype(np.float64)
    return np.array([(w * right).sum(), w.sum()])


def _r2_stats(estimator, X, y, w) -> np.ndarray:
    """Return one chunk's [Σw, mean of y, Σw(y − mean)², Σw(y − ŷ)²] for each output.

    The rows have shape (4, n_outputs); chunks combine by Chan's parallel update
    (:func:`_combine_r2`).
    """
    pred, y = np.asarray(estimator.predict(X), dtype=np.float64), _as_numpy(y).astype(np.float64)
    pred, y = pred.reshape(pred.shape[0], -1), y.reshape(y.shape[0], -1)
    w = np.ones(y.shape[0]) if w is None else _as_numpy(w).astype(np.float64)
    total = w.sum()
    w = w[:, None]
    mean = (w * y).sum(axis=0) / total if total > 0 else np.zeros(y.shape[1])  # (an empty chunk)
    spread, residual = (w * (y - mean) ** 2).sum(axis=0), (w * (y - pred) ** 2).sum(axis=0)
    return np.stack([np.full(y.shape[1], total), mean, spread, residual])


def _combine_r2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two chunks' R² statistics as those of both (Chan et al.'s pairwise update)."""
    (na, ma, m2a, ra), (nb, mb, m2b, rb) = a, b
    if not (na > 0).all() or not (nb > 0).all():  # an empty chunk adds nothing
        return a if (na > 0).all() else b
    n = na + nb
    delta = mb - ma
    return np.stack([n, ma + delta * nb / n, m2a + m2b + delta**2 * na * nb / n, ra + rb])


def score(estimator, X, y, sample_weight=None, *, kind: str = "accuracy") -> float:
    """Return the estimator's score on Dask collections, computed chunk by chunk on the cluster.

    Only a few numbers per chunk come back.

    ``kind="accuracy"``: Σ w·(ŷ = y) / Σ w (scikit-learn's ``accuracy_score``);
    ``kind="r2"``: 1 − Σw(y − ŷ)² / Σw(y − ȳ)² per output, averaged over the outputs
    (``r2_score``; an output whose y is constant scores 1 when predicted exactly,
    else 0).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> from nnmath import MLPClassifier
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> clf = MLPClassifier((4,), solver="lbfgs", random_state=0).fit(X, y)
    >>> score(clf, da.from_array(X, chunks=2), da.from_array(y, chunks=2)) == clf.score(X, y)
    True
    """
    import dask

    blocks = row_blocks(X, y, sample_weight)
    snapshot = _snapshot(estimator)
    stats = dask.delayed(_accuracy_stats if kind == "accuracy" else _r2_stats, pure=True)
    ws = blocks.sample_weight or [None] * blocks.n_chunks
    parts = dask.compute(
        *[stats(snapshot, x, yb, w) for x, yb, w in zip(blocks.X, blocks.y or [], ws, strict=True)]
    )
    if kind == "accuracy":
        right, total = np.sum(parts, axis=0)
        return float(right / total)
    combined = parts[0]
    for part in parts[1:]:
        combined = _combine_r2(combined, part)
    _, _, m2, residual = combined
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(m2 > 0, 1 - residual / m2, np.where(residual == 0, 1.0, 0.0))
    return float(np.mean(r2))
