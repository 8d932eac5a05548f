"""Training: the loop, its stopping rule, L-BFGS, progress and Ctrl-C.

Gradient descent (:func:`train`) runs epochs of mini-batch or full-batch steps; L-BFGS
(:func:`train_lbfgs`) hands the same cost and gradient to scipy. Both stop through one
:class:`Monitor` (scikit-learn's ``tol`` rule, the best weights, the stop reason in
words) and record a :class:`History`. Their settings travel as one :class:`Settings`.

The loop reads its samples through a :class:`Data`: arrays in memory
(:class:`InMemory`) or :class:`Chunks` loaded one at a time, whose full-batch cost and
gradient are the sums of the chunks' shares (the Dask adapter, :mod:`nnmath.distributed`,
computes those shares on the workers that hold the chunks).

Training knows a model only by its training interface — the flat parameters ``theta``
and gradient ``grad``, ``backprop`` and ``objective`` — so it sits below the network:
:meth:`nnmath.Network.fit` validates its input and calls :func:`train`.

Modules: ``loop`` (the epochs), ``data`` (what the loop reads), ``lbfgs``, ``monitor``
(the stopping rule and the best weights), ``history``, ``settings``, ``progress`` (the
progress bar and lines), ``interrupt`` (Ctrl-C), ``threads`` (how many BLAS threads a
fit uses).

Example
-------
>>> import numpy as np
>>> from nnmath import Network, SGD
>>> net = Network([1, 1], activation="identity", random_state=0)
>>> X, Y = np.array([[0.0], [1.0]]), np.array([[1.0], [3.0]])
>>> history = train(net, X, Y, SGD(0.5), Settings(max_epochs=500, tol=1e-12),
...                 rng=np.random.default_rng(0))
>>> history.stop_reason
'training loss improved by less than tol=1e-12 for 10 consecutive epochs'
"""

from nnmath.training.data import Chunks, Data, InMemory, SampleOrder, chunk_batches
from nnmath.training.history import DivergenceError, History
from nnmath.training.interrupt import InterruptFlag
from nnmath.training.lbfgs import train_lbfgs
from nnmath.training.loop import train
from nnmath.training.monitor import Monitor
from nnmath.training.progress import Progress
from nnmath.training.settings import Settings, Validation

__all__ = [
    "Chunks",
    "Data",
    "DivergenceError",
    "History",
    "InMemory",
    "SampleOrder",
    "InterruptFlag",
    "Monitor",
    "Progress",
    "Settings",
    "Validation",
    "chunk_batches",
    "train",
    "train_lbfgs",
]
