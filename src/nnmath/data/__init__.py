"""The data edge: where input is checked, placed and turned into one kind of source.

:mod:`nnmath.data.checks` checks arrays once for the network they are meant for (array
library and device, sparse, dtype, shape, finite values, sample weights);
:mod:`nnmath.data.sources` turns data into what the training loop reads (arrays in
memory, or chunks loaded one at a time); :mod:`nnmath.data.adapters` answers what an
estimator's fit asks of its data, one adapter per kind; :mod:`nnmath.data.cluster` does
the same for Dask collections, whose chunks stay on the workers. Nothing above this
layer asks what kind of array or collection it holds.

>>> from nnmath.core.network import Network
>>> from nnmath.data.checks import check_X
>>> check_X(Network([2, 1]), [[1, 2]])   # a list becomes the network's float64 array
array([[1., 2.]])
"""
