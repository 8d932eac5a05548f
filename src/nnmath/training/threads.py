"""How many BLAS threads a fit runs with: a rule on the shapes of its matrix products.

A training step's matrix products are small when the batch and the layers are small: a
batch of 32 rows through a 784 → 64 layer is 1.6 million multiply-adds, which one core
finishes in a fraction of a millisecond, and a BLAS that splits such a product across
threads spends more on waking and synchronizing them than it gains. Larger products gain
from every core. So for each fit the number of BLAS threads comes from the size of the
step's largest product, batch × n_in × n_out (:func:`threads_for`): below
:data:`ONE_THREAD_BELOW` multiply-adds one thread, else every core. The threshold comes
from measurements on a 2-core machine with no other job running (``benchmarks/threads.py``;
the table is on the documentation's Performance page). The rule looks at the call alone,
never at timings or the machine's load, so the same call always runs with the same
threads and gives the same bits. On a machine whose cores are busy with other work,
extra BLAS threads wait for cores and a fit can be several times slower: there, set
``NNMATH_BLAS_THREADS=1`` (or ``OMP_NUM_THREADS=1``).

The limit holds for the fit only (threadpoolctl) and is restored after. A user's own
limit always wins: an environment variable (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``), a threadpoolctl limit below the cores in
force when the fit starts, or ``NNMATH_BLAS_THREADS`` set to a number (``auto``, the
default, applies the rule). Networks on other array libraries (PyTorch, CuPy) are left
to those libraries.

Example
-------
>>> threads_for([784, 64, 32, 10], batch_size=32, cores=2)
1
>>> threads_for([784, 256, 128, 10], batch_size=32, cores=2)
2
"""

from __future__ import annotations

import contextlib
import os

__all__ = [
    "ONE_THREAD_BELOW",
    "blas_threads",
    "default_blas_threads",
    "largest_product",
    "threads_for",
]

#: A step whose largest matrix product has fewer multiply-adds than this runs its BLAS
#: on one thread (see the module's docstring and ``benchmarks/threads.py``).
ONE_THREAD_BELOW = 4_000_000

_USER_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def default_blas_threads() -> int:
    """Return the cores this process may run on (what OpenBLAS starts with).

    Examples
    --------
    >>> default_blas_threads() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def largest_product(layer_sizes, batch_size: int) -> int:
    """Return the multiply-adds of a step's largest matrix product.

    That is the max over the layers of batch × n_in × n_out (the forward product; the two
    backward ones are its size too).

    Examples
    --------
    >>> largest_product([784, 256, 10], 32)   # 32 · 784 · 256
    6422528
    """
    sizes = list(layer_sizes)
    return max(batch_size * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))


def threads_for(layer_sizes, batch_size: int, cores: int) -> int:
    """Apply the rule: 1 thread below :data:`ONE_THREAD_BELOW` multiply-adds, else ``cores``.

    Examples
    --------
    >>> threads_for([4, 3, 1], batch_size=4, cores=8)
    1
    """
    return 1 if largest_product(layer_sizes, batch_size) < ONE_THREAD_BELOW else cores


_controller = None


def _blas():
    """Return threadpoolctl's controller of the BLAS libraries this process has loaded.

    It is found once (finding them reads the process's memory map: milliseconds; asking
    and setting their threads afterwards takes microseconds).
    """
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def _current_blas_threads() -> int | None:
    counts = [info["num_threads"] for info in _blas().info()]
    return min(counts) if counts else None


@contextlib.contextmanager
def blas_threads(layer_sizes, batch_size: int):
    """Run the block with the BLAS threads the rule gives for these shapes.

    A limit the user set wins (see the module's docstring). The threads are restored
    after.

    Examples
    --------
    >>> with blas_threads([4, 3, 1], batch_size=4):
    ...     pass
    """
    setting = os.environ.get("NNMATH_BLAS_THREADS", "auto").strip().lower()
    cores = default_blas_threads()
    if setting not in ("", "auto"):
        try:
            wanted = max(1, int(setting))
        except ValueError:
            raise ValueError(
                f"NNMATH_BLAS_THREADS must be 'auto' or a number of threads; got {setting!r}"
            ) from None
    elif any(os.environ.get(name) for name in _USER_LIMITS):
        yield  # the user's environment decides
        return
    else:
        current = _current_blas_threads()
        if current is None or current < cores:  # no BLAS, or a limit the user set
            yield
            return
        wanted = threads_for(layer_sizes, batch_size, cores)
    if wanted == _current_blas_threads():
        yield
        return
    with _blas().limit(limits=wanted):
        yield
