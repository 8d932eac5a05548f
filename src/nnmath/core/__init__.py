"""The mathematics of a network, and nothing else.

The network (:mod:`nnmath.core.network`: one flat parameter buffer with per-layer views,
one forward pass with an optional record, one backpropagation), the activations and
losses (each value beside its derivative), the optimizers, the initial weights, random
numbers from ``random_state``, and the array library and device arrays live on
(:mod:`nnmath.core.arrays`). The core imports nothing else of nnmath and no library but
NumPy, SciPy and array-api-compat (numba only for its optional kernel); its functions
take arrays that the data edge (:mod:`nnmath.data`) has already checked.

Importing this package imports none of its modules, so that :mod:`nnmath.core.registry`
(standard library only) can be read before NumPy loads.
"""
