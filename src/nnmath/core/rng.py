"""Randomness from an explicit seed: every draw nnmath makes goes through a Generator.

Weights, shuffling, dropout masks and validation splits all take a
``numpy.random.Generator`` built here from the user's ``random_state``, never NumPy's
global state: the same seed gives the same draws.

Example
-------
>>> as_generator(0).integers(10, size=3).tolist() == as_generator(0).integers(10, size=3).tolist()
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_generator"]


def as_generator(random_state) -> np.random.Generator:
    """Return a NumPy Generator for ``random_state``.

    It comes from an int seed, a Generator (returned as is), a legacy RandomState (one
    draw seeds a new Generator) or None (fresh entropy).

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ValueError
        Anything else.

    Examples
    --------
    >>> g = np.random.default_rng(1)
    >>> as_generator(g) is g
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"random_state must be an int, a numpy.random.Generator or None; got {random_state!r}"
    )
