"""scikit-learn's array-API dispatch, for the estimators.

With ``sklearn.set_config(array_api_dispatch=True)`` (or ``config_context``), an
estimator takes X in the array library it arrives in — PyTorch, CuPy, … — and trains
and predicts there; without it, X becomes a NumPy array, as scikit-learn does. These
helpers decide the namespace, move labels and weights that arrive in another library
to X's, and refuse predictions on another library or device with scikit-learn's own
message.

Example
-------
>>> import numpy as np
>>> input_namespace(np.zeros((2, 2)))[1]
'cpu'
"""

from __future__ import annotations

import numpy as np
from sklearn import get_config

from nnmath.core import arrays

__all__ = [
    "as_float",
    "flat",
    "float_dtypes",
    "input_namespace",
    "labels_to",
    "same_namespace",
]


def input_namespace(X):
    """Return the (xp, device) an estimator trains and predicts in for X.

    They are the namespace and device of X when scikit-learn's ``array_api_dispatch`` is
    on and X is an array of another library (PyTorch, CuPy, …); NumPy otherwise, as
    scikit-learn does.

    Examples
    --------
    >>> input_namespace(np.zeros((2, 2)))
    (<module 'numpy' from ...>, 'cpu')
    """
    if type(X) is np.ndarray or not get_config()["array_api_dispatch"]:
        return np, "cpu"
    try:
        xp = arrays.namespace_of(X)
    except TypeError:  # a list, a DataFrame, a sparse matrix: scikit-learn makes NumPy
        return np, "cpu"
    return xp, arrays.device_of(X)


def same_namespace(estimator, X, method: str) -> None:
    """Check that X is of the library and on the device the estimator was fitted on.

    With array-API dispatch, raise ValueError unless it is (scikit-learn's check and
    message).

    Examples
    --------
    >>> same_namespace(None, np.zeros((1, 1)), "predict")  # no dispatch: no check
    """
    if not get_config()["array_api_dispatch"]:
        return
    net = estimator.network_
    xp, device = input_namespace(X)
    if arrays.name(xp) == arrays.name(net.xp) and arrays.same_device(device, net.device):
        return
    if arrays.name(xp) != arrays.name(net.xp):
        detail = (
            f"Array namespaces used during fit ({arrays.name(net.xp)}) and {method} "
            f"({arrays.name(xp)}) differ."
        )
    else:
        detail = f"Devices used during fit ({net.device}) and {method} ({device}) differ."
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the same namespace "
        f"and the same device as those passed to fit(). {detail}"
    )


def flat(a):
    """Return a column as a 1-D array, in its own library.

    Examples
    --------
    >>> flat(np.ones((2, 1)))
    array([1., 1.])
    """
    return a.ravel() if type(a) is np.ndarray else arrays.namespace_of(a).reshape(a, (-1,))


def float_dtypes(xp) -> tuple:
    """Return the float dtypes validate_data may return, float64 first, in ``xp``.

    Examples
    --------
    >>> float_dtypes(np)
    (<class 'numpy.float64'>, <class 'numpy.float32'>)
    """
    return (np.float64, np.float32) if xp is np else (xp.float64, xp.float32)


def as_float(Y, like):
    """Return targets Y as floats of ``like``'s library, dtype and device.

    Y holds labels encoded by a binarizer, or numbers; a NumPy Y crosses to the device
    once, at fit.

    Examples
    --------
    >>> as_float([0, 1], np.zeros(2, np.float32))
    array([0., 1.], dtype=float32)
    """
    if type(like) is np.ndarray or not hasattr(like, "device"):
        return np.asarray(arrays.to_numpy(Y), dtype=like.dtype)
    xp = arrays.namespace_of(like)
    return xp.astype(arrays.move_to(Y, xp, arrays.device_of(like)), like.dtype)


def labels_to(y, xp, device):
    """Move y to X's library and device when it is an array of another library or device.

    scikit-learn's array-API estimators move y to X's namespace; NumPy arrays and lists
    stay on the host (they may hold strings, which other libraries cannot).

    Examples
    --------
    >>> labels_to(["a", "b"], np, "cpu")
    ['a', 'b']
    """
    if xp is np or type(y) is np.ndarray or isinstance(y, (list, tuple)):
        return y
    try:
        arrays.namespace_of(y)
    except TypeError:  # a pandas Series, …: scikit-learn's validation takes it
        return y
    return arrays.move_to(y, xp, device)
