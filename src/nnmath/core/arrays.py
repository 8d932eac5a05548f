"""Arrays beyond NumPy: the array library and device a network lives on.

The network's math needs only what the Python array API standard has: matrix
products, sums, exp, log, tanh, where, maximum. A :class:`~nnmath.Network` therefore
runs on any library that implements the standard — NumPy (the default), PyTorch on CPU
or CUDA, CuPy, ``array_api_strict`` — through the namespaces of ``array_api_compat``,
the adapter scikit-learn uses. This module says which namespace and device an array
or a request names, moves arrays between libraries, and provides the few operations
the network writes into preallocated arrays: on NumPy they are the ufuncs with
``out=`` (no temporary), elsewhere the result is computed and copied in (the array API
has no ``out=``).

The standard has no random numbers: weights and shuffling orders are drawn with NumPy
from ``random_state`` and then moved to the device, so the same seed gives the same
start on every library.

Example
-------
>>> import numpy as np
>>> namespace(None) is np
True
>>> name(np)
'numpy'
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "NUMPY_OPS",
    "Ops",
    "RandomStream",
    "AXPY_MAX_SIZE",
    "as_device_array",
    "copy_of",
    "axpy_for",
    "default_device",
    "describe",
    "device_of",
    "float_dtype",
    "into",
    "is_numpy",
    "move_to",
    "name",
    "namespace",
    "namespace_by_name",
    "namespace_of",
    "ops_by_name",
    "ops_for",
    "same_device",
    "sum_of_squares",
    "to_numpy",
    "vdot",
]


def _compat():
    import array_api_compat

    return array_api_compat


def namespace(xp=None):
    """Return the array namespace for ``xp``.

    None or numpy → the numpy module itself; a library module (``torch``, ``cupy``,
    ``array_api_strict``) or an ``array_api_compat`` namespace → its array-API namespace.

    Raises ValueError for anything that is not an array library.

    Examples
    --------
    >>> import array_api_strict
    >>> namespace(array_api_strict) is array_api_strict
    True
    """
    if xp is None or xp is np:
        return np
    if not isinstance(xp, ModuleType) or not hasattr(xp, "asarray"):
        raise ValueError(
            f"xp must be an array library such as torch, cupy or array_api_strict (the "
            f"module), or None for NumPy; got {xp!r}"
        )
    compat = _compat()
    if xp is getattr(compat, "numpy", None):
        return np
    try:
        probe = xp.asarray([0.0])
    except Exception as exc:  # noqa: BLE001 - any failure means: not an array library
        raise ValueError(f"xp={xp.__name__!r} could not make an array: {exc}") from None
    return namespace_of(probe)


def namespace_of(x):
    """Return the namespace of an array (numpy itself for a NumPy array).

    Examples
    --------
    >>> namespace_of(np.zeros(2)) is np
    True
    """
    if type(x) is np.ndarray:
        return np
    ns = _compat().array_namespace(x)
    return np if getattr(ns, "__name__", "") == "array_api_compat.numpy" else ns


def is_numpy(xp) -> bool:
    """Return True for the numpy namespace.

    Examples
    --------
    >>> is_numpy(np)
    True
    """
    return xp is np


def name(xp) -> str:
    """Return the library's short name: "numpy", "torch", "cupy", "array_api_strict", ….

    Examples
    --------
    >>> name(namespace(None))
    'numpy'
    """
    if xp is np:
        return "numpy"
    module = getattr(xp, "__name__", str(xp))
    return module.removeprefix("array_api_compat.")


def default_device(xp):
    """Return the device new arrays of ``xp`` go to when none is named.

    Examples
    --------
    >>> default_device(np)
    'cpu'
    """
    if xp is np:
        return "cpu"
    return device_of(xp.asarray([0.0]))


def device_of(x):
    """Return the device an array lives on ("cpu" for NumPy).

    Examples
    --------
    >>> device_of(np.zeros(1))
    'cpu'
    """
    if type(x) is np.ndarray:
        return "cpu"
    return _compat().device(x)


def same_device(a, b) -> bool:
    """Return True when two devices are the same.

    They are compared by their text, so that "cpu" and torch.device("cpu") agree.

    Examples
    --------
    >>> same_device("cpu", "cpu")
    True
    """
    return a is b or a == b or str(a) == str(b)


def describe(xp, device) -> str:
    """Describe a namespace and device for messages: "numpy", or e.g. "torch on cuda:0".

    Examples
    --------
    >>> describe(np, "cpu")
    'numpy'
    """
    return "numpy" if xp is np else f"{name(xp)} on {device}"


def float_dtype(xp, dtype: np.dtype):
    """Return the float32/float64 dtype object of ``xp`` matching a NumPy dtype.

    Examples
    --------
    >>> float_dtype(np, np.dtype("float32"))
    dtype('float32')
    """
    if xp is np:
        return dtype
    return xp.float32 if dtype == np.float32 else xp.float64


def as_device_array(value, xp, device, dtype=None):
    """``value`` (a NumPy array, list or scalar) as an array of ``xp`` on ``device``.

    Examples
    --------
    >>> as_device_array([1, 2], np, "cpu", np.float64)
    array([1., 2.])
    """
    if xp is np:
        return np.asarray(value, dtype=dtype)
    if dtype is not None:
        try:
            dtype = float_dtype(xp, np.dtype(dtype))
        except TypeError:  # already one of the library's dtypes
            pass
    host = np.asarray(value)
    if not host.flags.writeable:  # (a view of a file's bytes): libraries want their own
        host = host.copy()
    return xp.asarray(host, dtype=dtype, device=device)


def move_to(x, xp, device):
    """Return an array of any library as an array of ``xp`` on ``device``.

    It is x itself when it is one already, else a copy through the host (for inputs that
    arrive in another library, such as labels or weights beside a torch X).

    Examples
    --------
    >>> move_to(np.ones(2), np, "cpu")
    array([1., 1.])
    """
    if xp is np:
        return to_numpy(x)
    if type(x) is not np.ndarray:
        try:
            same = name(namespace_of(x)) == name(xp) and same_device(device_of(x), device)
        except TypeError:
            same = False
        if same:
            return x
    return xp.asarray(to_numpy(x), device=device)


def to_numpy(x) -> np.ndarray:
    """Return a NumPy copy of an array of any library, on the host (a NumPy array as is).

    Examples
    --------
    >>> to_numpy(np.ones(2))
    array([1., 1.])
    """
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch
        return x.detach().cpu().numpy()
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return x.get()
    try:
        xp = namespace_of(x)
    except TypeError:  # a list, a scalar: not an array of any library
        return np.asarray(x)
    host = default_device(xp)
    if not same_device(device_of(x), host):
        x = xp.asarray(x, device=host)
    try:
        return np.from_dlpack(x)
    except (TypeError, ValueError, RuntimeError, BufferError, AttributeError):
        return np.asarray(x)


def into(value, out):
    """``value``, written into ``out`` when one is given (returns ``out``).

    Examples
    --------
    >>> out = np.zeros(2)
    >>> into(np.ones(2), out) is out
    True
    """
    if out is None:
        return value
    out[...] = value
    return out


def vdot(a, b) -> float:
    """Σ aᵢ·bᵢ over all entries, as a Python float (one scalar crosses to the host).

    Examples
    --------
    >>> vdot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    11.0
    """
    if type(a) is np.ndarray:
        return float(np.vdot(a, b))
    xp = namespace_of(a)
    return float(xp.sum(a * b))


def sum_of_squares(a) -> float:
    """Return Σ aᵢ² as a Python float.

    It is infinite or NaN exactly when some entry is (or when the sum overflows), which
    makes it a one-pass finiteness check.

    Examples
    --------
    >>> import math
    >>> math.isfinite(sum_of_squares(np.array([1.0, np.inf])))
    False
    """
    return vdot(a, a)


def namespace_by_name(library: str):
    """Return the namespace of a library named by :func:`name` ("numpy", "torch", …).

    For a network unpickled in a new process.

    Examples
    --------
    >>> namespace_by_name("numpy") is np
    True
    """
    if library == "numpy":
        return np
    import importlib

    return namespace(importlib.import_module(library))


class Ops:
    """Operations that write into preallocated arrays, for one namespace.

    The network and the optimizers use ``dot(a, b, out)``, ``add``, ``multiply``,
    ``divide`` (same arguments), ``sqrt(a, out)`` and ``sum_rows(a, out=…)``; each returns
    ``out``. ``add_scaled(y, a, x, scratch)`` adds a·x to y in place. :data:`NUMPY_OPS`
    are NumPy's own functions (``out=`` without a temporary; BLAS's axpy for
    ``add_scaled``); ``Ops(xp)`` computes the result and copies it in.

    Examples
    --------
    >>> import array_api_strict as xp
    >>> out = xp.zeros((1, 1), dtype=xp.float64)
    >>> Ops(xp).dot(xp.ones((1, 2), dtype=xp.float64), xp.ones((2, 1), dtype=xp.float64), out)
    Array([[2.]], dtype=array_api_strict.float64)
    """

    def __init__(self, xp):
        self.xp = xp

    def __reduce__(self):  # a module does not pickle: the library by name
        """Pickle by the library's name, since a module does not pickle."""
        return ops_by_name, (name(self.xp),)

    @staticmethod
    def dot(a, b, out):
        """Write the matrix product a @ b into ``out``."""
        out[...] = a @ b
        return out

    @staticmethod
    def add(a, b, out):
        """Write a + b into ``out``."""
        out[...] = a + b
        return out

    @staticmethod
    def multiply(a, b, out):
        """Write a * b into ``out``."""
        out[...] = a * b
        return out

    @staticmethod
    def divide(a, b, out):
        """Write a / b into ``out``."""
        out[...] = a / b
        return out

    def sqrt(self, a, out):
        """Write √a into ``out``."""
        out[...] = self.xp.sqrt(a)
        return out

    def sum_rows(self, a, out):
        """Write the sum of a's rows into ``out``."""
        out[...] = self.xp.sum(a, axis=0)
        return out

    @staticmethod
    def add_scaled(y, a: float, x, scratch):
        """Add a·x to y in place (``scratch``, shaped as x, keeps NumPy free of a temporary)."""
        y += x * a
        return y


_add_reduce = np.add.reduce


def _blas_axpy():
    from scipy.linalg import blas

    return {np.dtype(np.float64): blas.daxpy, np.dtype(np.float32): blas.saxpy}


_AXPY = _blas_axpy()


#: axpy is used for vectors up to this long. OpenBLAS runs shorter ones on one thread;
#: a longer one wakes the thread pool of SciPy's BLAS, a second OpenBLAS beside NumPy's,
#: and two pools spinning between each other's calls fight for the cores (epochs 10 ×
#: slower measured on 2 cores, ``benchmarks/threads.py``).
AXPY_MAX_SIZE = 8192


def axpy_for(y):
    """Return BLAS's axpy for ``y`` when it can update it in place, else None.

    Axpy computes y ← y + a·x in one pass, each entry rounded once. It applies to a
    writeable, contiguous float32/float64 NumPy array of at most :data:`AXPY_MAX_SIZE`
    entries; for any other the caller takes NumPy's two passes.

    Examples
    --------
    >>> axpy = axpy_for(np.zeros(2))
    >>> y = np.zeros(2); _ = axpy(np.ones(2), y, a=0.5); y
    array([0.5, 0.5])
    >>> axpy_for(np.zeros(AXPY_MAX_SIZE + 1)) is None
    True
    """
    if type(y) is not np.ndarray or y.size > AXPY_MAX_SIZE:
        return None
    if not (y.flags.c_contiguous and y.flags.writeable):
        return None
    return _AXPY.get(y.dtype)


class _NumpyOps(Ops):
    """NumPy's functions with ``out=``: the same calls as :class:`Ops`, no temporaries."""

    xp = np
    dot = staticmethod(np.dot)
    add: Callable[..., Any] = staticmethod(np.add)
    multiply: Callable[..., Any] = staticmethod(np.multiply)
    divide: Callable[..., Any] = staticmethod(np.divide)
    sqrt = staticmethod(np.sqrt)

    def __init__(self):
        pass

    @staticmethod
    def sum_rows(a, out):
        return _add_reduce(a, 0, None, out)  # positional: NumPy's quickest call

    @staticmethod
    def add_scaled(y, a: float, x, scratch):
        axpy = axpy_for(y)
        if axpy is not None and x.dtype == y.dtype and x.flags.c_contiguous:
            axpy(x.reshape(-1), y.reshape(-1), a=a)  # one pass, in place
        else:
            y += np.multiply(x, a, out=scratch)
        return y


#: NumPy's functions with ``out=``: the same calls as :class:`Ops`, no temporaries.
NUMPY_OPS = _NumpyOps()


def copy_of(x):
    """Return a copy of an array of any library, on its device.

    Examples
    --------
    >>> a = np.zeros(2)
    >>> b = copy_of(a)
    >>> b is a, bool((b == a).all())
    (False, True)
    """
    return x.copy() if type(x) is np.ndarray else namespace_of(x).asarray(x, copy=True)


def ops_for(xp):
    """:data:`NUMPY_OPS` for NumPy, else ``Ops(xp)``.

    Examples
    --------
    >>> ops_for(np) is NUMPY_OPS
    True
    """
    return NUMPY_OPS if xp is np else Ops(xp)


def ops_by_name(library: str):
    """:func:`ops_for` the library named ``library`` (how :class:`Ops` unpickle)."""
    return ops_for(namespace_by_name(library))


class RandomStream:
    """Uniform draws on a device, from a NumPy Generator.

    The library's own generator (torch, cupy) is seeded once from ``rng``, so that no draw
    crosses from the host; NumPy draws directly, and other libraries draw on the host and
    move the result.

    Examples
    --------
    >>> stream = RandomStream(np.random.default_rng(0), np, "cpu")
    >>> stream.uniform((2,), np.dtype("float64")).shape
    (2,)
    """

    def __init__(self, rng: np.random.Generator, xp, device):
        self.rng, self.xp, self.device = rng, xp, device
        self._native: Any = None
        library = name(xp)
        if library in ("torch", "cupy"):
            # NOTE: the library is never imported here: its arrays are what the network
            # holds, so it is loaded already; its own generator draws on the device.
            native = sys.modules[library]
            seed = int(rng.integers(2**63 - 1))
            if library == "torch":
                self._native = native.Generator(device=device).manual_seed(seed)
            else:
                self._native = native.random.default_rng(seed)

    def uniform(self, shape, dtype: np.dtype):
        """Uniform numbers in [0, 1) of ``shape``, in the stream's library and device."""
        if self.xp is np:
            return self.rng.random(shape, dtype=dtype)
        library = name(self.xp)
        want = float_dtype(self.xp, dtype)
        if library == "torch":
            torch = sys.modules["torch"]
            return torch.rand(shape, generator=self._native, dtype=want, device=self.device)
        if library == "cupy":
            return self._native.random(shape, dtype=want)
        return as_device_array(self.rng.random(shape, dtype=dtype), self.xp, self.device)
