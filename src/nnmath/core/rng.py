"""Randomness from an explicit seed: never NumPy's global state.

Weights, shuffling, dropout masks and validation splits all draw from a generator built
here from the user's ``random_state``: the same seed gives the same draws.

* :func:`as_generator`: a ``numpy.random.Generator`` (the Network, the Perceptron, and
  everything nnmath adds beyond scikit-learn).
* :func:`as_random_state` and :func:`side_stream`: the scikit-learn estimators' two
  streams. The first is a legacy ``RandomState`` made as scikit-learn's
  ``check_random_state`` makes it, consumed in scikit-learn's order (initial weights, the
  early-stopping split, each epoch's shuffle), so the same seed draws the same numbers
  as scikit-learn; the second is a Generator seeded from the same ``random_state``
  without drawing from the first, for what scikit-learn does not have (dropout masks),
  so that turning dropout on changes none of scikit-learn's draws.

Example
-------
>>> as_generator(0).integers(10, size=3).tolist() == as_generator(0).integers(10, size=3).tolist()
True
"""

from __future__ import annotations

import numpy as np

__all__ = ["as_generator", "as_random_state", "side_stream"]


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


def as_random_state(random_state) -> np.random.RandomState:
    """Return the legacy ``RandomState`` scikit-learn's ``check_random_state`` would give.

    An int seeds a new one, a RandomState is returned as is (its draws continue), a
    Generator seeds a new one with one draw, and None gives one seeded from fresh entropy
    (scikit-learn would use NumPy's global RandomState; nnmath never touches it).

    Parameters
    ----------
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None

    Returns
    -------
    numpy.random.RandomState

    Raises
    ------
    ValueError
        Anything else.

    Examples
    --------
    >>> float(as_random_state(0).uniform()) == float(np.random.RandomState(0).uniform())
    True
    """
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(2**32)))
    if random_state is None:
        return np.random.RandomState()
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.RandomState(int(random_state))
    raise ValueError(
        "random_state must be an int, a numpy.random.RandomState, a numpy.random.Generator "
        f"or None; got {random_state!r}"
    )


def side_stream(random_state) -> np.random.Generator:
    """Return a Generator seeded from ``random_state`` without drawing from it.

    An int ``s`` gives ``default_rng(s)``; a RandomState gives a Generator seeded from its
    current state (read, not advanced); a Generator is returned as is; None gives fresh
    entropy.

    Parameters
    ----------
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> rs = np.random.RandomState(0)
    >>> before = rs.uniform()
    >>> rs = np.random.RandomState(0)
    >>> _ = side_stream(rs).random()
    >>> float(rs.uniform()) == float(before)   # its draws are untouched
    True
    """
    if isinstance(random_state, np.random.RandomState):
        state = random_state.get_state(legacy=False)  # {"state": {"key", "pos"}, …}
        key, pos = state["state"]["key"], int(state["state"]["pos"])
        return np.random.default_rng([*np.asarray(key).tolist(), pos])
    return as_generator(random_state)
