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

>>> import numpy as np
>>> from nnmath.core.network import Network
>>> net = Network([2, 1], activation="identity")
>>> net.W[0][:], net.b[0][:] = [[1.0], [2.0]], 0.5
>>> net.propagate(np.array([[1.0, 1.0]]))   # z = 1·1 + 1·2 + 0.5
array([[3.5]])
"""
