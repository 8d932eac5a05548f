"""The data edge: input checked and placed once, for the network it is meant for.

Every public method that takes data (``Network.fit``, ``forward``, ``cost``, the
estimators' ``fit`` and ``predict``) sends it through these functions first; the math
below them (:meth:`nnmath.core.network.Network.backprop` and the loop) then takes the
arrays as they are. What kind of array it is (NumPy, sparse, another array library, a
list), where it lives (device) and whether its values can be computed with (dtype,
finite, shape) is decided here and nowhere else.

Each function takes the network the data is for: its ``xp``, ``device``, ``dtype``,
``layer_sizes`` and ``loss`` say what the data must be.

>>> import numpy as np
>>> from nnmath.core.network import Network
>>> check_X(Network([2, 1]), [[1, 2]]).dtype
dtype('float64')
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nnmath.core import arrays
from nnmath.core.network import Network, _all_finite, _reshape

__all__ = [
    "adopt",
    "check_X",
    "check_sample_weight",
    "check_weights_by_class",
    "check_y",
    "class_counts",
    "class_index",
    "class_weight_of",
    "is_array",
    "sample_weight_of",
    "weights_by_class",
]


def is_array(x) -> bool:
    """Return True for an array of an array-API library (NumPy, torch, cupy, …).

    Examples
    --------
    >>> import numpy as np
    >>> is_array(np.zeros(2)), is_array([0.0, 0.0])
    (True, False)
    """
    if hasattr(x, "__array_namespace__"):
        return True
    import array_api_compat

    return array_api_compat.is_array_api_obj(x)


def adopt(network: Network, x, name: str = "X"):
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
    >>> adopt(net, [[1.0]]).dtype
    array_api_strict.float64
    >>> adopt(net, xp.asarray([[1]]))
    Traceback (most recent call last):
    ...
    ValueError: X is an integer array_api_strict array; the network computes in float64: ...
    """
    xp = network.xp
    if sp.issparse(x):
        raise ValueError(
            f"{name} is a scipy sparse matrix, but the network lives on "
            f"{network.describe_placement()} and takes dense arrays"
        )
    if type(x) is np.ndarray or not is_array(x):
        if np.iscomplexobj(x):
            raise ValueError(f"{name} has complex values; a network takes real numbers")
        try:
            host = np.asarray(x, dtype=network.dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
        return network.asarray(host)
    library = arrays.name(arrays.namespace_of(x))
    if library != arrays.name(xp):
        raise ValueError(
            f"{name} is a {library} array but the network lives on "
            f"{network.describe_placement()}; pass {arrays.name(xp)} arrays, or move the "
            f"network with network.to({library})"
        )
    if not arrays.same_device(arrays.device_of(x), network.device):
        raise ValueError(
            f"{name} is on device {arrays.device_of(x)} but the network lives on "
            f"{network.describe_placement()}; move {name} to {network.device} (or the "
            "network with network.to(xp, device))"
        )
    if getattr(x, "requires_grad", False):
        raise ValueError(
            f"{name} requires grad; nnmath computes the gradients itself: pass {name}.detach()"
        )
    want = arrays.float_dtype(xp, network.dtype)
    if not xp.isdtype(x.dtype, "real floating"):
        kind = "complex" if xp.isdtype(x.dtype, "complex floating") else "an integer"
        raise ValueError(
            f"{name} is {kind} {library} array; the network computes in "
            f"{network.dtype.name}: convert it first (xp.astype({name}, xp.{network.dtype.name}))"
        )
    return x if x.dtype == want else xp.astype(x, want)


def _refuse_foreign(network: Network, x, name: str) -> None:
    """Refuse another library's array: a NumPy network takes NumPy arrays, lists and tables."""
    if type(x) is not np.ndarray and not sp.issparse(x) and is_array(x):
        library = arrays.name(arrays.namespace_of(x))
        raise ValueError(
            f"{name} is a {library} array but the network lives on numpy; pass NumPy "
            f"arrays, or move the network with network.to({library})"
        )


def check_X(network: Network, X, name: str = "X"):
    """X as an array of the network's dtype, shape (n_samples, n_inputs), finite.

    A sparse matrix stays sparse (CSR). Raises ValueError naming ``name`` and what
    is wrong: not numeric, complex, not 2-D, no samples, the wrong number of
    features, NaN or infinity.

    Examples
    --------
    >>> check_X(Network([2, 1]), [[1, 2]]).dtype
    dtype('float64')
    """
    if network.xp is not np:
        X = adopt(network, X, name)
        _check_shape_and_values(network, X, name)
        return X
    _refuse_foreign(network, X, name)
    if sp.issparse(X):
        X = X.tocsr()
        if np.iscomplexobj(X.data):
            raise ValueError(f"{name} has complex values; a network takes real numbers")
        X = X.astype(network.dtype, copy=False)
        data = X.data
    else:
        try:
            if np.iscomplexobj(X):
                raise ValueError(f"{name} has complex values; a network takes real numbers")
            X = np.asarray(X, dtype=network.dtype)
        except (TypeError, ValueError) as exc:
            if "complex" in str(exc):
                raise
            raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
        data = X
    _check_shape_and_values(network, X, name, data)
    return X


def _check_shape_and_values(network: Network, X, name: str, data=None) -> None:
    shape = tuple(X.shape)
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D of shape (n_samples, n_features); got {X.ndim}-D "
            f"shape {shape}. Reshape a single sample with X.reshape(1, -1)."
        )
    if shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {shape})")
    if shape[1] != network.layer_sizes[0]:
        raise ValueError(
            f"{name} has {shape[1]} features but the network expects "
            f"{network.layer_sizes[0]} (layer_sizes[0])"
        )
    if not _all_finite(X if data is None else data):
        raise ValueError(f"{name} contains NaN or infinity")


def check_y(network: Network, y, n_samples: int, name: str = "y") -> np.ndarray:
    """Return y as an array of shape (n_samples, n_outputs) in the network's dtype.

    A 1-D y is taken as one column when the network has one output. Raises
    ValueError naming ``name``: not numeric, complex, the wrong shape or length,
    NaN or infinity, or targets the loss cannot take (negative counts for the
    Poisson loss).

    Examples
    --------
    >>> check_y(Network([2, 1]), [0, 1], 2).shape
    (2, 1)
    """
    if network.xp is not np:
        y = adopt(network, y, name)
    else:
        _refuse_foreign(network, y, name)
        try:
            if np.iscomplexobj(y):
                raise ValueError(f"{name} has complex values; targets must be real numbers")
            y = np.asarray(y, dtype=network.dtype)
        except (TypeError, ValueError) as exc:
            if "complex" in str(exc):
                raise
            raise ValueError(f"{name} must be numeric; could not convert: {exc}") from None
    if y.ndim == 1:
        y = _reshape(y, (-1, 1))
    n_out = network.layer_sizes[-1]
    if y.ndim != 2 or y.shape[1] != n_out:
        raise ValueError(
            f"{name} must have shape (n_samples, {n_out}) for a network with {n_out} "
            f"outputs (1-D when there is one); got {tuple(y.shape)}"
        )
    if y.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} samples but {name} has {y.shape[0]}")
    if not _all_finite(y):
        raise ValueError(f"{name} contains NaN or infinity")
    network.loss.check_targets(y, name)
    return y


def check_sample_weight(
    network: Network, sample_weight, n_samples: int, name: str = "sample_weight"
):
    """Check sample weights: a 1-D array of n_samples finite numbers ≥ 0, positive in total.

    The weights are returned in the network's dtype; None stays None (every weight 1).

    Examples
    --------
    >>> check_sample_weight(Network([2, 1]), [1, 2], 2)
    array([1., 2.])
    """
    if sample_weight is None:
        return None
    if network.xp is not np:
        w = adopt(network, sample_weight, name)
        if w.ndim == 0:
            w = network.xp.full((n_samples,), float(w), dtype=w.dtype, device=network.device)
    else:
        _refuse_foreign(network, sample_weight, name)
        try:
            if np.iscomplexobj(sample_weight):
                raise TypeError("complex")
            w = np.asarray(sample_weight, dtype=network.dtype)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be real numbers; got {type(sample_weight).__name__}"
            ) from None
        if w.ndim == 0:
            w = np.full(n_samples, w, dtype=network.dtype)
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


def sample_weight_of(sample_weight, n_samples: int, dtype, like=None):
    """Return sample weights as scikit-learn's estimators take them: shape (n_samples,).

    None gives ones, a number gives that number for every sample, and an array must be
    1-D with one finite weight per sample. The weights are in ``dtype`` (float32 or
    float64; anything else gives float64), or with ``like`` (an array of another array
    library, X) in its library, device and dtype.

    Parameters
    ----------
    sample_weight : None, float or array-like of shape (n_samples,)
    n_samples : int
    dtype : numpy dtype
    like : array, optional
        X, when it is not a NumPy array.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> sample_weight_of(None, 2, np.float64)
    array([1., 1.])
    >>> sample_weight_of(3, 2, np.float32)
    array([3., 3.], dtype=float32)
    """
    from sklearn.utils import check_array

    if like is not None and not isinstance(like, np.ndarray):
        return _sample_weight_like(sample_weight, n_samples, like)
    dtype = np.dtype(dtype) if np.dtype(dtype) in (np.float32, np.float64) else np.float64
    if sample_weight is None:
        return np.ones(n_samples, dtype=dtype)
    if isinstance(sample_weight, (int, float, np.number)) and not isinstance(sample_weight, bool):
        return np.full(n_samples, sample_weight, dtype=dtype)
    sample_weight = check_array(
        sample_weight,
        accept_sparse=False,
        ensure_2d=False,
        dtype=dtype,
        order="C",
        input_name="sample_weight",
    )
    if sample_weight.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if sample_weight.shape != (n_samples,):
        raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected {(n_samples,)}!")
    return sample_weight


def _sample_weight_like(sample_weight, n_samples: int, like):
    """:func:`sample_weight_of` in the array library, device and dtype of ``like``."""
    xp, device = arrays.namespace_of(like), arrays.device_of(like)
    if sample_weight is None:
        return xp.ones((n_samples,), dtype=like.dtype, device=device)
    if isinstance(sample_weight, (int, float, np.number)) and not isinstance(sample_weight, bool):
        return xp.full((n_samples,), float(sample_weight), dtype=like.dtype, device=device)
    w = arrays.move_to(sample_weight, xp, device)
    if w.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if tuple(w.shape) != (n_samples,):
        raise ValueError(f"sample_weight.shape == {tuple(w.shape)}, expected {(n_samples,)}!")
    w = xp.astype(w, like.dtype)
    if not bool(xp.all(xp.isfinite(w))):
        raise ValueError("Input sample_weight contains NaN or infinity.")
    return w


# ---------------------------------------------------------------- class weights
def class_index(Y) -> np.ndarray:
    """Return the class of each row of encoded targets, as an index into the classes.

    Parameters
    ----------
    Y : array of shape (n_samples, n_outputs)
        Labels as a LabelBinarizer encodes them: one column of 0 and 1 for two classes
        (or one), one-hot rows for more. Any array library; the index comes to the host.

    Returns
    -------
    ndarray of int64, shape (n_samples,)

    Examples
    --------
    >>> class_index(np.array([[0.0], [1.0]])).tolist()
    [0, 1]
    >>> class_index(np.array([[0, 0, 1], [1, 0, 0]])).tolist()
    [2, 0]
    """
    Y = arrays.to_numpy(Y)
    if Y.shape[1] == 1:
        return (Y[:, 0] > 0.5).astype(np.int64)
    return np.argmax(Y, axis=1).astype(np.int64)


def class_counts(Y, n_classes: int, sample_weight=None) -> np.ndarray:
    """Return the weight of each class in encoded targets: Σ of its rows' sample weights.

    Parameters
    ----------
    Y : array of shape (n_samples, n_outputs)
        Encoded labels (see :func:`class_index`).
    n_classes : int
    sample_weight : array of shape (n_samples,), optional
        None counts every row once.

    Returns
    -------
    ndarray of float64, shape (n_classes,)

    Examples
    --------
    >>> class_counts(np.array([[1.0], [0.0], [1.0]]), 2).tolist()
    [1.0, 2.0]
    """
    weights = None if sample_weight is None else arrays.to_numpy(sample_weight)
    index = class_index(Y)
    weights = np.ones(index.shape[0]) if weights is None else weights.astype(np.float64)
    return np.bincount(index, weights=weights, minlength=n_classes).astype(np.float64)


def class_weight_of(class_weight, classes, counts=None) -> np.ndarray:
    """Return the weight of each class, as scikit-learn's ``compute_class_weight`` gives it.

    Parameters
    ----------
    class_weight : None, "balanced" or dict
        None: every class weighs 1. "balanced": n / (n_classes · n_c), with n_c the
        (weighted) count of class c and n their sum. A dict ``{class: weight}``: the
        classes it names weigh that much, the others 1; every key must be a class and
        every weight a finite number ≥ 0.
    classes : array-like of shape (n_classes,)
        The classes, sorted as ``classes_``.
    counts : array-like of shape (n_classes,), optional
        The weight of each class in the training data (:func:`class_counts`), needed for
        "balanced".

    Returns
    -------
    ndarray of float64, shape (n_classes,)

    Examples
    --------
    >>> class_weight_of({"b": 3}, np.array(["a", "b"])).tolist()
    [1.0, 3.0]
    >>> class_weight_of("balanced", np.array([0, 1]), counts=[3.0, 1.0]).tolist()
    [0.6666666666666666, 2.0]
    """
    classes = np.asarray(classes)
    n = classes.shape[0]
    if class_weight is None:
        return np.ones(n)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict {{class: weight}}; "
                f"got {class_weight!r}"
            )
        if counts is None:
            raise ValueError("class_weight='balanced' needs the count of each class")
        counts = np.asarray(counts, dtype=np.float64)
        empty = [c for c, k in zip(classes.tolist(), counts.tolist(), strict=True) if not k > 0]
        if empty:
            raise ValueError(
                f"class_weight='balanced' needs every class in y; {empty!r:.200} "
                f"{'has' if len(empty) == 1 else 'have'} no samples (or a total sample "
                "weight of 0). Give class_weight as a dict instead"
            )
        return np.sum(counts) / (n * counts)
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"class_weight must be None, 'balanced' or a dict {{class: weight}}; got "
            f"{type(class_weight).__name__}"
        )
    position = {c: k for k, c in enumerate(classes.tolist())}
    unknown = [key for key in class_weight if position.get(key) is None]
    if unknown:
        raise ValueError(
            f"class_weight names {unknown!r:.200}, which {'is' if len(unknown) == 1 else 'are'} "
            f"not among the classes {classes.tolist()!r:.200}; its keys must be classes of y"
        )
    weights = np.ones(n)
    for key, value in class_weight.items():
        ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, (bool, np.bool_)
        )
        if not (ok and np.isfinite(value) and value >= 0):
            raise ValueError(
                f"class_weight[{key!r}] must be a finite number >= 0; got {value!r:.100}"
            )
        weights[position[key]] = float(value)
    return weights


def weights_by_class(Y, weights: np.ndarray, sample_weight=None):
    """Return each row's weight: its class's weight times its sample weight.

    Parameters
    ----------
    Y : array of shape (n_samples, n_outputs)
        Encoded labels (see :func:`class_index`), of the library, device and dtype the
        weights are wanted in.
    weights : ndarray of shape (n_classes,)
        The weight of each class (:func:`class_weight_of`).
    sample_weight : array of shape (n_samples,), optional
        In Y's library, device and dtype; None: every row 1.

    Returns
    -------
    array of shape (n_samples,)

    Examples
    --------
    >>> Y = np.array([[0.0], [1.0], [1.0]])
    >>> weights_by_class(Y, np.array([2.0, 1.0]), np.array([1.0, 1.0, 3.0])).tolist()
    [2.0, 1.0, 3.0]
    """
    per_row = np.asarray(weights, dtype=np.float64)[class_index(Y)]
    if type(Y) is np.ndarray:
        per_row = per_row.astype(Y.dtype)
    else:
        per_row = arrays.as_device_array(
            per_row, arrays.namespace_of(Y), arrays.device_of(Y), Y.dtype
        )
    return per_row if sample_weight is None else sample_weight * per_row


def check_weights_by_class(total: float) -> None:
    """Raise ValueError unless the rows' weights (class times sample weight) sum above 0.

    Examples
    --------
    >>> check_weights_by_class(2.0)
    """
    if not total > 0:
        raise ValueError(
            "the sample weights times class_weight sum to 0; at least one sample of a class "
            "with a positive class_weight needs a positive weight"
        )
