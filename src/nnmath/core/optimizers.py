"""Gradient-descent optimizers and learning-rate schedules.

The optimizers follow exactly the update rules documented for ``torch.optim.SGD``
(dampening 0, no weight decay) and ``torch.optim.Adam`` (no weight decay, no amsgrad):

SGD, with gradient g and learning rate α:
    plain:     θ ← θ − α g
    momentum:  b ← μ b + g  (b = g on the first step);  θ ← θ − α b
    Nesterov:  b as above;  θ ← θ − α (g + μ b)

Adam, at step t:
    m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²
    m̂ = m / (1 − β₁ᵗ);       v̂ = v / (1 − β₂ᵗ)
    θ ← θ − α m̂ / (√v̂ + ε)

``step(params, grads)`` updates each array of ``params`` in place. The network hands
over its single flat parameter buffer, so one step is a few vectorised operations into
preallocated arrays, whatever the number of layers.

Example
-------
>>> import numpy as np
>>> w = np.array([1.0, 2.0])
>>> SGD(learning_rate=0.1).step([w], [np.array([1.0, -1.0])])
>>> w
array([0.9, 2.1])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np

from nnmath.core import kernels
from nnmath.core.arrays import axpy_for, copy_of, device_of, move_to, namespace_of, ops_for

__all__ = [
    "SGD",
    "Adam",
    "Optimizer",
    "Schedule",
    "Constant",
    "InverseScaling",
    "StepDecay",
    "Cosine",
    "Adaptive",
    "get_schedule",
]


def _check_positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    if not value > 0 or not math.isfinite(value):
        raise ValueError(f"{name} must be > 0; got {value!r}")
    return float(value)


def _check_fraction(name: str, value, closed_right: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not (0 <= value <= 1 if closed_right else 0 <= value < 1):
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}; got {value!r}")
    return float(value)


class Optimizer:
    """Base class: holds the learning rate α and per-parameter state.

    A subclass defines ``_init_state(p)`` (the arrays it keeps for parameter p) and
    ``_update(p, g, lr, *state)`` (one step of rate ``lr``, in place); optionally
    ``_begin_step`` and ``_end_step``. The training loop sets the state up once per fit
    (:meth:`prepare`) and then calls :meth:`update` after every batch, with the rate of
    the epoch: the loop's schedule owns the rate, and ``learning_rate`` is only the rate
    of a step that is given none (and the schedule's start when the loop is told none).
    A subclass that overrides :meth:`step` itself is called through it instead.
    """

    #: The names of the leading entries of a parameter's state that are the optimizer's
    #: memory (velocities, moments): what :meth:`memory` returns and :meth:`restore`
    #: takes. The rest (scratch arrays, functions) are made anew by ``_init_state``.
    memory_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float):
        self.learning_rate = _check_positive("learning_rate", learning_rate)
        self._state: list[tuple[Any, ...]] | None = None
        self._layout: list | None = None
        self._pending: tuple[list, dict[str, list]] | None = None

    def reset(self) -> None:
        """Forget the running state (velocities, moments, step count)."""
        self._state = None
        self._pending = None

    # ------------------------------------------------------------------ description
    def hyperparameters(self) -> dict[str, Any]:
        """Return the constructor's arguments that rebuild this optimizer (JSON values).

        ``learning_rate`` is the rate the last step used (a schedule may have moved it).

        Examples
        --------
        >>> SGD(learning_rate=0.1).hyperparameters()["learning_rate"]
        0.1
        """
        raise NotImplementedError

    def counters(self) -> dict[str, Any]:
        """Return the running state's scalars (Adam's step count t; SGD's first step).

        Examples
        --------
        >>> Adam().counters()
        {'t': 0}
        """
        return {}

    def memory(self) -> dict[str, list]:
        """Return the running state's arrays: {name: one array per parameter}.

        The names are :attr:`memory_names` (SGD's ``velocity`` with momentum; Adam's
        ``m`` and ``u``, its moments rescaled as m/(1 − β₁) and v/(1 − β₂)); {} before
        the first step. The arrays are the optimizer's own, not copies.

        Examples
        --------
        >>> import numpy as np
        >>> opt = SGD(learning_rate=0.5, momentum=0.9)
        >>> opt.step([np.zeros(2)], [np.ones(2)])
        >>> opt.memory()
        {'velocity': [array([1., 1.])]}
        """
        if self._state is None and self._pending is not None:
            return self._pending[1]
        if self._state is None:
            return {}
        names = self.memory_names
        return {
            name: [entry[i] for entry in self._state]
            for i, name in enumerate(names)
            if self._state and self._state[0][i] is not None
        }

    def restore(self, counters: dict[str, Any], memory: dict[str, list], layout: list) -> None:
        """Take up the running state that :meth:`counters` and :meth:`memory` described.

        ``layout`` is the ``(shape, dtype)`` of each parameter the memory belongs to; the
        next :meth:`prepare` with parameters of that layout continues from the memory
        (copied: the given arrays may be read-only, or change afterwards), one with
        another layout starts afresh.

        Examples
        --------
        >>> import numpy as np
        >>> opt, w = SGD(learning_rate=0.5, momentum=0.9), np.zeros(1)
        >>> opt.step([w], [np.ones(1)])
        >>> again, w2 = SGD(learning_rate=0.5, momentum=0.9), w.copy()
        >>> again.restore(opt.counters(), opt.memory(), [(w.shape, w.dtype)])
        >>> opt.step([w], [np.ones(1)]); again.step([w2], [np.ones(1)])
        >>> bool(w2[0] == w[0])
        True
        """
        self.reset()
        self._set_counters(counters)
        self._layout = list(layout)
        if memory:  # copies: the memory as it is now, whatever becomes of the given arrays
            self._pending = (
                self._layout,
                {name: [copy_of(a) for a in arrays] for name, arrays in memory.items()},
            )

    def _set_counters(self, counters: dict[str, Any]) -> None:
        pass

    def __reduce_ex__(self, protocol):
        """Pickle as the description: hyperparameters, counters and memory, no scratch.

        A subclass without :meth:`hyperparameters` of its own pickles as any object.
        """
        if type(self).hyperparameters is Optimizer.hyperparameters:
            return super().__reduce_ex__(protocol)
        return _restored, (
            type(self),
            self.hyperparameters(),
            self.counters(),
            self.memory(),
            self._layout,
        )

    def step(
        self,
        params: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        learning_rate: float | None = None,
    ) -> None:
        """Update every array in ``params`` in place from the matching ``grads``.

        Parameters
        ----------
        params, grads : sequence of ndarray
            The parameters θ and their gradients ∂C/∂θ, pairwise of one shape.
        learning_rate : float, optional
            α of this step; None takes the optimizer's ``learning_rate``.

        Examples
        --------
        >>> import numpy as np
        >>> w = np.array([1.0, 2.0])
        >>> SGD(learning_rate=0.5).step([w], [np.array([2.0, -2.0])])   # w ← w − α·∂C/∂w
        >>> w
        array([0., 3.])
        """
        self.prepare(params)
        self.update(params, grads, learning_rate)

    def prepare(self, params: Sequence[np.ndarray]) -> None:
        """Create the state for ``params``, or keep it when their layout is unchanged.

        The training loop calls this once per fit, then :meth:`update` after every
        batch, which skips the layout check of :meth:`step`.

        Examples
        --------
        >>> import numpy as np
        >>> w, opt = np.zeros(2), SGD(learning_rate=0.1)
        >>> opt.prepare([w])
        >>> for _ in range(3):
        ...     opt.update([w], [np.ones(2)])   # three steps of w ← w − α·1
        >>> w
        array([-0.3, -0.3])
        """
        layout = [(p.shape, p.dtype) for p in params]
        if self._state is None and self._pending is not None and layout == self._pending[0]:
            # A restored memory, copied into fresh state, with the scratch made anew.
            memory, self._pending = self._pending[1], None
            self._state = []
            for j, p in enumerate(params):
                fresh = self._init_state(p)
                xp = namespace_of(p)
                for i, name in enumerate(self.memory_names):
                    if name in memory and fresh[i] is not None:
                        fresh[i][...] = move_to(memory[name][j], xp, device_of(p))
                self._state.append(fresh)
        if self._state is None or layout != self._layout:
            # New parameters (another network, or the first step): fresh state.
            self.reset()
            self._layout = layout
            self._state = [self._init_state(p) for p in params]

    def update(
        self,
        params: Sequence[np.ndarray],
        grads: Sequence[np.ndarray],
        learning_rate: float | None = None,
    ) -> None:
        """One step of rate ``learning_rate`` on parameters laid out as :meth:`prepare` saw them.

        No check of the layout; ``learning_rate=None`` takes the optimizer's own.

        Examples
        --------
        >>> import numpy as np
        >>> w, opt = np.array([1.0]), Adam(learning_rate=0.1)
        >>> opt.prepare([w])
        >>> opt.update([w], [np.array([4.0])])   # Adam's first step moves by about α
        >>> w.round(6)
        array([0.9])
        """
        states = self._prepared(params)
        lr = self.learning_rate if learning_rate is None else learning_rate
        self._begin_step()
        for p, g, state in zip(params, grads, states, strict=True):
            self._update(p, g, lr, *state)
        self._end_step()

    def _prepared(self, params: Sequence[np.ndarray]) -> list[tuple[Any, ...]]:
        """Return the state, made anew when reset() cleared it since prepare (a callback may)."""
        if self._state is None:
            self.prepare(params)
        return cast("list[tuple[Any, ...]]", self._state)

    def _init_state(self, p: np.ndarray) -> tuple[Any, ...]:
        raise NotImplementedError

    def _begin_step(self) -> None:
        pass

    def _end_step(self) -> None:
        pass

    def _update(self, p, g, lr, *state) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum.

    Parameters
    ----------
    learning_rate : float, default 0.01
        α > 0.
    momentum : float, default 0
        μ in [0, 1].
    nesterov : bool, default False
        Use Nesterov's momentum (needs momentum > 0).
    step_velocity : bool, default False
        Where α enters the velocity. False: the velocity sums gradients,
        b ← μ b + g, θ ← θ − α b (Nesterov: θ ← θ − α (g + μ b)), as torch.optim.SGD.
        True: it sums steps, v ← μ v − α g, θ ← θ + v (Nesterov: θ ← θ + μ v − α g),
        as scikit-learn's SGD (Sutskever et al.). The two agree while α is constant;
        when a schedule changes α, the step velocity applies the new α to new
        gradients only.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.zeros(1); opt = SGD(learning_rate=0.5, momentum=0.9)
    >>> opt.step([w], [np.ones(1)]); opt.step([w], [np.ones(1)])
    >>> w   # −0.5·1, then b = 0.9·1 + 1 = 1.9: −0.5 − 0.95
    array([-1.45])
    """

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        step_velocity: bool = False,
    ):
        super().__init__(learning_rate)
        self.momentum = _check_fraction("momentum", momentum, closed_right=True)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)
        self.step_velocity = bool(step_velocity)
        self._first = True

    def reset(self) -> None:
        """Forget the velocity: the next step starts from rest."""
        super().reset()
        self._first = True

    memory_names = ("velocity",)

    def hyperparameters(self) -> dict[str, Any]:
        """Return learning_rate, momentum, nesterov and step_velocity."""
        return {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "step_velocity": self.step_velocity,
        }

    def counters(self) -> dict[str, Any]:
        """Return {"first": whether the next step is the first (b = g)}."""
        return {"first": self._first}

    def _set_counters(self, counters: dict[str, Any]) -> None:
        self._first = bool(counters.get("first", True))

    def _init_state(self, p):
        # (velocity b, scratch, BLAS axpy or None, the namespace's operations); the
        # scratch keeps the step free of allocations
        xp = namespace_of(p)
        velocity = xp.zeros_like(p) if self.momentum else None
        return velocity, xp.empty_like(p), axpy_for(p) if p.ndim == 1 else None, ops_for(xp)

    def update(self, params, grads, learning_rate=None) -> None:
        """One step on parameters laid out as :meth:`prepare` saw them (no check)."""
        state = self._state if self._state is not None else self._prepared(params)
        lr = self.learning_rate if learning_rate is None else learning_rate
        if self.momentum:
            for p, g, (b, tmp, _, ops) in zip(params, grads, state, strict=True):
                self._momentum_update(p, g, lr, b, tmp, ops)
            self._first = False
            return
        for p, g, (_, tmp, axpy, ops) in zip(params, grads, state, strict=True):
            if (
                axpy is not None
                and type(g) is np.ndarray
                and g.dtype == p.dtype
                and g.shape == p.shape
            ):
                axpy(g, p, a=-lr)  # θ ← θ − α g, in place (g: any layout, f2py copies)
            else:
                p -= ops.multiply(g, lr, tmp)  # θ ← θ − α g

    def _momentum_update(self, p, g, lr, b, tmp, ops):
        mu = self.momentum
        if self.step_velocity:  # b = −v holds steps: b ← μ b + α g
            ops.multiply(g, lr, tmp)  # α g
            if self._first:
                b[...] = tmp
            else:
                b *= mu
                b += tmp
            if self.nesterov:
                p -= tmp
                ops.multiply(b, mu, tmp)  # θ ← θ − α g − μ b
            else:
                tmp[...] = b  # θ ← θ − b
            p -= tmp
            return
        if self._first:
            b[...] = g  # b₁ = g
        else:
            b *= mu
            b += g  # b ← μ b + g
        if self.nesterov:
            ops.multiply(b, mu, tmp)
            tmp += g  # g + μ b
        else:
            tmp[...] = b
        tmp *= lr
        p -= tmp  # θ ← θ − α (…)

    def __repr__(self):
        """Return ``SGD(…)`` with the hyperparameters."""
        step = ", step_velocity=True" if self.step_velocity else ""
        return (
            f"SGD(learning_rate={self.learning_rate}, momentum={self.momentum}, "
            f"nesterov={self.nesterov}{step})"
        )


class Adam(Optimizer):
    """Adam (Kingma & Ba), with torch.optim.Adam's bias-corrected update.

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta_1, beta_2 : float, default 0.9, 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default 1e-8
        Added to √v̂ for numerical stability.
    epsilon_on : {"v_hat", "v"}, default "v_hat"
        "v_hat": θ ← θ − α m̂ / (√v̂ + ε), as torch.optim.Adam. "v": the paper's
        efficient form, α_t = α √(1 − β₂ᵗ) / (1 − β₁ᵗ), θ ← θ − α_t m / (√v + ε), as
        scikit-learn's Adam; it is the first with ε / √(1 − β₂ᵗ) in place of ε.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.zeros(1)
    >>> Adam(learning_rate=0.1).step([w], [np.array([3.0])])
    >>> w.round(6)   # first step moves by α·g/(|g| + ε) ≈ α
    array([-0.1])
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        epsilon_on: str = "v_hat",
    ):
        super().__init__(learning_rate)
        self.beta_1 = _check_fraction("beta_1", beta_1)
        self.beta_2 = _check_fraction("beta_2", beta_2)
        self.epsilon = _check_positive("epsilon", epsilon)
        if epsilon_on not in ("v_hat", "v"):
            raise ValueError(f"epsilon_on must be 'v_hat' or 'v'; got {epsilon_on!r}")
        self.epsilon_on = epsilon_on
        self.t = 0

    def reset(self) -> None:
        """Forget the moments and the step count."""
        super().reset()
        self.t = 0

    memory_names = ("m", "u")

    def hyperparameters(self) -> dict[str, Any]:
        """Return learning_rate, beta_1, beta_2, epsilon and epsilon_on."""
        return {
            "learning_rate": self.learning_rate,
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "epsilon_on": self.epsilon_on,
        }

    def counters(self) -> dict[str, Any]:
        """Return {"t": the steps taken}."""
        return {"t": self.t}

    def _set_counters(self, counters: dict[str, Any]) -> None:
        self.t = int(counters.get("t", 0))

    def _init_state(self, p):
        # m' = m/(1 − β₁), u = v/(1 − β₂), a scratch array (see _update), and the
        # namespace's operations
        xp = namespace_of(p)
        return xp.zeros_like(p), xp.zeros_like(p), xp.empty_like(p), ops_for(xp)

    def _begin_step(self) -> None:
        self.t += 1

    def _update(self, p, g, lr, m_, u, tmp, ops):
        # NOTE: the state holds the moments rescaled, m' = m/(1 − β₁) and
        # u = v/(1 − β₂), so that their updates need no multiply by (1 − β):
        #   m ← β₁ m + (1 − β₁) g   ⇔   m' ← β₁ m' + g
        #   v ← β₂ v + (1 − β₂) g²  ⇔   u ← β₂ u + g²
        # The bias corrections are scalars too. With m̂ = m/(1 − β₁ᵗ) = s₁ m' and
        # √v̂ = √(v/(1 − β₂ᵗ)) = k √u, where s₁ = (1 − β₁)/(1 − β₁ᵗ) and
        # k = √((1 − β₂)/(1 − β₂ᵗ)):
        #   θ ← θ − α m̂ / (√v̂ + ε) = θ − (α s₁ / k) · m' / (√u + ε/k)
        # ten NumPy operations instead of the textbook's fourteen (s = α s₁ / k below).
        # With ε on √v (epsilon_on="v"), √v + ε = √(1 − β₂)(√u + ε/√(1 − β₂)): the same
        # step s, and ε/√(1 − β₂) in place of ε/k.
        b1, b2, t = self.beta_1, self.beta_2, self.t
        k = math.sqrt((1 - self.beta_2) / (1 - self.beta_2**t))
        eps_k = self.epsilon / (k if self.epsilon_on == "v_hat" else math.sqrt(1 - self.beta_2))
        step = lr * (1 - self.beta_1) / ((1 - self.beta_1**t) * k)
        if type(p) is np.ndarray:
            dt = p.dtype.type  # the scalars in θ's dtype, as the kernel takes them
            b1, b2, eps_k, step = dt(b1), dt(b2), dt(eps_k), dt(step)
            if kernels.adam_update(p, g, m_, u, b1, b2, eps_k, step):
                return  # the same operations, compiled into one pass (nnmath.core.kernels)
        m_ *= b1
        m_ += g  # m' ← β₁ m' + g
        u *= b2
        u += ops.multiply(g, g, tmp)  # u ← β₂ u + g²
        ops.sqrt(u, tmp)
        tmp += eps_k
        ops.divide(m_, tmp, tmp)
        tmp *= step
        p -= tmp  # θ ← θ − (m' / (√u + ε/k))·s

    def __repr__(self):
        """Return ``Adam(…)`` with the hyperparameters."""
        return (
            f"Adam(learning_rate={self.learning_rate}, beta_1={self.beta_1}, "
            f"beta_2={self.beta_2}, epsilon={self.epsilon}"
            + (")" if self.epsilon_on == "v_hat" else ", epsilon_on='v')")
        )


def _restored(cls, hyperparameters: dict, counters: dict, memory: dict, layout) -> Optimizer:
    """Rebuild an optimizer from its description (how optimizers unpickle)."""
    optimizer = cls(**hyperparameters)
    if layout is not None:
        optimizer.restore(counters, memory, layout)
    else:
        optimizer._set_counters(counters)
    return optimizer


# ---------------------------------------------------------------------- schedules
class Schedule:
    """A learning-rate schedule.

    ``rate(α₀, epoch, samples_seen)`` gives α for the next epoch (``epoch`` counts
    completed epochs from 0).
    """

    name = ""

    def rate(self, initial: float, epoch: int, samples_seen: int) -> float:
        """α for the next epoch, from α₀ = ``initial``, the epochs done and samples seen."""
        raise NotImplementedError

    def on_plateau(self, current_rate: float) -> bool:
        """Handle a plateau: training stopped improving; True means "keep going, α adapted"."""
        return False

    def __repr__(self):
        """Return the schedule's class name with its parameters."""
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class Constant(Schedule):
    """α_t = α₀."""

    name = "constant"

    def rate(self, initial, epoch, samples_seen):
        """Return α₀, whatever the epoch."""
        return initial


class InverseScaling(Schedule):
    """α_t = α₀ / (t + 1)^p, with t the number of samples seen.

    This is scikit-learn's "invscaling".
    """

    name = "invscaling"

    def __init__(self, power_t: float = 0.5):
        self.power_t = float(power_t)

    def rate(self, initial, epoch, samples_seen):
        """Return α₀ / (t + 1)^p for t samples seen."""
        return initial / (samples_seen + 1) ** self.power_t


class StepDecay(Schedule):
    """α_e = α₀ · γ^⌊e / step_size⌋: multiply by γ every ``step_size`` epochs."""

    name = "step"

    def __init__(self, step_size: int = 10, gamma: float = 0.5):
        if not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise ValueError(f"step_size must be an integer >= 1; got {step_size!r}")
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1]; got {gamma!r}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def rate(self, initial, epoch, samples_seen):
        """Return α₀ · γ^⌊e / step_size⌋."""
        return initial * self.gamma ** (epoch // self.step_size)


class Cosine(Schedule):
    """α_e = α_min + ½(α₀ − α_min)(1 + cos(π e / T)), for e ≤ T epochs, then α_min."""

    name = "cosine"

    def __init__(self, total_epochs: int, min_learning_rate: float = 0.0):
        if not isinstance(total_epochs, (int, np.integer)) or total_epochs < 1:
            raise ValueError(f"total_epochs must be an integer >= 1; got {total_epochs!r}")
        self.total_epochs, self.min_learning_rate = int(total_epochs), float(min_learning_rate)

    def rate(self, initial, epoch, samples_seen):
        """Return α_min + ½(α₀ − α_min)(1 + cos(π e / T)), α_min after T epochs."""
        e = min(epoch, self.total_epochs)
        lo = self.min_learning_rate
        return lo + 0.5 * (initial - lo) * (1 + math.cos(math.pi * e / self.total_epochs))


class Adaptive(Schedule):
    """scikit-learn's "adaptive": keep α while training improves.

    Each time it stalls, divide α by ``factor`` (5), and stop once α would fall below
    ``min_learning_rate``.
    """

    name = "adaptive"

    def __init__(self, factor: float = 5.0, min_learning_rate: float = 1e-6):
        self.factor, self.min_learning_rate = float(factor), float(min_learning_rate)
        self._divisions = 0

    @property
    def divisions(self) -> int:
        """The plateaus so far: α is α₀ / factor^divisions."""
        return self._divisions

    @divisions.setter
    def divisions(self, value: int) -> None:
        self._divisions = int(value)

    def rate(self, initial, epoch, samples_seen):
        """Return α₀ divided by ``factor`` once per plateau so far."""
        return initial / self.factor**self._divisions

    def on_plateau(self, current_rate: float) -> bool:
        """Divide α by ``factor`` and return True, or False once α ≤ the minimum."""
        # scikit-learn's rule: stop once α ≤ 1e-6, else divide α by 5 and carry on.
        if current_rate <= self.min_learning_rate:
            return False
        self._divisions += 1
        return True


def get_schedule(name: str | Schedule, *, power_t: float = 0.5, max_epochs: int = 200):
    """Return the schedule named ``name`` (a :class:`Schedule` passes through).

    The names are "constant", "invscaling", "adaptive", "step" and "cosine".

    Examples
    --------
    >>> get_schedule("step").rate(0.1, epoch=25, samples_seen=0)  # 0.1 · 0.5²
    0.025
    """
    if isinstance(name, Schedule):
        return name
    factories = {
        "constant": Constant,
        "invscaling": lambda: InverseScaling(power_t),
        "adaptive": Adaptive,
        "step": StepDecay,
        "cosine": lambda: Cosine(max_epochs),
    }
    if name not in factories:
        raise ValueError(
            f"unknown learning-rate schedule {name!r}; valid names are {', '.join(factories)}"
        )
    return factories[name]()
