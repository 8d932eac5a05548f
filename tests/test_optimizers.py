"""Optimizers stepped by hand with torch.optim's documented rules; schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conftest import to_numpy
from nnmath.core.optimizers import (
    SGD,
    Adam,
    Adaptive,
    Constant,
    Cosine,
    InverseScaling,
    StepDecay,
    get_schedule,
)


def _run(opt, w0, grads):
    """Apply the optimizer to one parameter w for each gradient; return every new w."""
    w = np.array([w0], dtype=np.float64)
    seen = []
    for g in grads:
        opt.step([w], [np.array([g])])
        seen.append(float(w[0]))
    return seen


def test_sgd_plain_by_hand():
    # θ ← θ − α g with α = 0.1:  1 − 0.1·0.5 = 0.95;  0.95 − 0.1·1 = 0.85;  0.85 + 0.1·2 = 1.05
    assert _run(SGD(learning_rate=0.1), 1.0, [0.5, 1.0, -2.0]) == pytest.approx(
        [0.95, 0.85, 1.05], rel=1e-15
    )


def test_sgd_momentum_by_hand():
    # torch.optim.SGD, μ = 0.9, α = 0.1, dampening 0: b₁ = g₁, bₜ = μ bₜ₋₁ + gₜ, θ ← θ − α b
    # step 1: g = 1:  b = 1;                  θ = 1 − 0.1·1 = 0.9
    # step 2: g = 2:  b = 0.9·1 + 2 = 2.9;     θ = 0.9 − 0.29 = 0.61
    # step 3: g = −1: b = 0.9·2.9 − 1 = 1.61;  θ = 0.61 − 0.161 = 0.449
    opt = SGD(learning_rate=0.1, momentum=0.9)
    assert _run(opt, 1.0, [1.0, 2.0, -1.0]) == pytest.approx([0.9, 0.61, 0.449], rel=1e-14)


def test_sgd_nesterov_by_hand():
    # torch.optim.SGD(nesterov=True): b as with momentum, θ ← θ − α (g + μ b)
    # step 1: g = 1:  b = 1;     g + μb = 1 + 0.9 = 1.9;        θ = 1 − 0.19 = 0.81
    # step 2: g = 2:  b = 2.9;   g + μb = 2 + 2.61 = 4.61;      θ = 0.81 − 0.461 = 0.349
    # step 3: g = −1: b = 1.61;  g + μb = −1 + 1.449 = 0.449;   θ = 0.349 − 0.0449 = 0.3041
    opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    assert _run(opt, 1.0, [1.0, 2.0, -1.0]) == pytest.approx([0.81, 0.349, 0.3041], rel=1e-14)


def test_adam_by_hand():
    # torch.optim.Adam, α = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, θ₀ = 1:
    #   m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  m̂ = m/(1 − β₁ᵗ);  v̂ = v/(1 − β₂ᵗ)
    #   θ ← θ − α m̂/(√v̂ + ε)
    # t = 1, g = 2:   m = 0.2;  v = 0.004;  m̂ = 0.2/0.1 = 2;  v̂ = 0.004/0.001 = 4
    #                 θ₁ = 1 − 0.1·2/(2 + ε) ≈ 0.9
    # t = 2, g = −1:  m = 0.18 − 0.1 = 0.08;  v = 0.003996 + 0.001 = 0.004996
    #                 m̂ = 0.08/0.19;  v̂ = 0.004996/0.001999
    # t = 3, g = 0.5: m = 0.072 + 0.05 = 0.122;  v = 0.004991004 + 0.00025 = 0.005241004
    #                 m̂ = 0.122/0.271;  v̂ = 0.005241004/0.002997001
    theta1 = 1 - 0.1 * 2 / (2 + 1e-8)
    theta2 = theta1 - 0.1 * (0.08 / 0.19) / (math.sqrt(0.004996 / 0.001999) + 1e-8)
    theta3 = theta2 - 0.1 * (0.122 / 0.271) / (math.sqrt(0.005241004 / 0.002997001) + 1e-8)
    got = _run(Adam(learning_rate=0.1), 1.0, [2.0, -1.0, 0.5])
    assert got == pytest.approx([theta1, theta2, theta3], rel=1e-12)
    # m̂ = 0.421053, √v̂ = 1.580901: θ₂ ≈ 0.9 − 0.1·0.266337
    assert theta2 == pytest.approx(0.9 - 0.0266337, abs=1e-7)


def test_steps_update_several_arrays_in_place():
    W, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5])
    W_id, b_id = id(W), id(b)
    opt = SGD(learning_rate=0.5, momentum=0.5)
    gW, gb = np.array([[1.0, -1.0], [0.0, 2.0]]), np.array([4.0])
    opt.step([W, b], [gW, gb])  # b₁ = g: θ − 0.5 g
    opt.step([W, b], [gW, gb])  # b₂ = 0.5 g + g = 1.5 g: θ − 0.75 g
    # total: θ₀ − 1.25 g
    np.testing.assert_allclose(W, [[1 - 1.25, 2 + 1.25], [3.0, 4 - 2.5]], rtol=1e-15)
    np.testing.assert_allclose(b, [0.5 - 5.0], rtol=1e-15)
    assert (id(W), id(b)) == (W_id, b_id)


@pytest.mark.parametrize(
    "opt",
    [SGD(0.1), SGD(0.1, momentum=0.9), SGD(0.1, momentum=0.9, nesterov=True), Adam(0.1)],
    ids=["sgd", "momentum", "nesterov", "adam"],
)
def test_float32_parameters_stay_float32(opt):
    w = np.ones(3, dtype=np.float32)
    for _ in range(2):
        opt.step([w], [np.full(3, 0.5, dtype=np.float32)])
    assert w.dtype == np.float32


def test_reset_forgets_the_state():
    opt = SGD(learning_rate=0.1, momentum=0.9)
    _run(opt, 1.0, [1.0, 2.0])
    opt.reset()
    # after reset the first step is plain again: 1 − 0.1·1 = 0.9
    assert _run(opt, 1.0, [1.0]) == pytest.approx([0.9], rel=1e-15)
    adam = Adam(learning_rate=0.1)
    _run(adam, 1.0, [2.0, -1.0])
    adam.reset()
    assert adam.t == 0
    assert _run(adam, 1.0, [2.0]) == pytest.approx([1 - 0.1 * 2 / (2 + 1e-8)], rel=1e-15)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("make", [SGD, Adam], ids=["SGD", "Adam"])
@pytest.mark.parametrize("rate", [0, 0.0, -0.1, float("nan")])
def test_learning_rate_must_be_positive(make, rate):
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        make(learning_rate=rate)


def test_learning_rate_must_be_a_number():
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        SGD(learning_rate="fast")


def test_momentum_out_of_range():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\]"):
        SGD(momentum=1.5)


def test_nesterov_needs_momentum():
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD(nesterov=True)


def test_adam_betas_out_of_range():
    with pytest.raises(ValueError, match=r"beta_2 must be in \[0, 1\)"):
        Adam(beta_2=1.0)


# ---------------------------------------------------------------- schedules
def test_constant_schedule():
    assert Constant().rate(0.1, epoch=50, samples_seen=1000) == 0.1


def test_inverse_scaling_schedule():
    # α₀ / (t + 1)^p with t = 99 samples seen, p = ½: 0.1 / √100 = 0.01
    assert InverseScaling(0.5).rate(0.1, epoch=3, samples_seen=99) == pytest.approx(0.01)
    # p = 1, t = 3: 0.1 / 4
    assert InverseScaling(1.0).rate(0.1, epoch=0, samples_seen=3) == pytest.approx(0.025)


def test_step_schedule():
    s = StepDecay(step_size=10, gamma=0.5)
    # α₀ · γ^⌊e/10⌋: epochs 0–9 → 0.1, 10–19 → 0.05, 25 → 0.1·0.25
    rates = [s.rate(0.1, e, 0) for e in (0, 9, 10, 19, 25)]
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_cosine_schedule():
    s = Cosine(total_epochs=10, min_learning_rate=0.01)
    # α_min + ½(α₀ − α_min)(1 + cos(πe/T)): e = 0 → α₀; e = 5 → cos(π/2) = 0, the midpoint
    # 0.01 + 0.045 = 0.055; e = 10 → cos π = −1, α_min; beyond T stays α_min
    rates = [s.rate(0.1, e, 0) for e in (0, 5, 10, 20)]
    assert rates == pytest.approx([0.1, 0.055, 0.01, 0.01])


def test_adaptive_schedule_divides_by_five_on_plateau():
    s = Adaptive()
    assert s.rate(0.1, 0, 0) == 0.1
    assert s.on_plateau(0.1) is True  # keep training with α / 5
    assert s.rate(0.1, 1, 0) == pytest.approx(0.02)
    assert s.on_plateau(0.02) is True
    assert s.rate(0.1, 2, 0) == pytest.approx(0.004)
    # once α ≤ 1e-6 a plateau ends training
    assert s.on_plateau(1e-6) is False


def test_get_schedule_by_name():
    assert isinstance(get_schedule("constant"), Constant)
    assert get_schedule("invscaling", power_t=0.25).power_t == 0.25
    assert get_schedule("cosine", max_epochs=30).total_epochs == 30
    assert isinstance(get_schedule("step"), StepDecay)
    assert isinstance(get_schedule("adaptive"), Adaptive)


def test_unknown_schedule_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown learning-rate schedule 'linear'; valid names"):
        get_schedule("linear")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: StepDecay(step_size=0), "step_size must be an integer >= 1"),
        (lambda: StepDecay(gamma=0.0), r"gamma must be in \(0, 1\]"),
        (lambda: Cosine(total_epochs=0), "total_epochs must be an integer >= 1"),
    ],
)
def test_bad_schedule_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- every array library
@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(learning_rate=0.1),
        lambda: SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
        lambda: Adam(learning_rate=0.05),
    ],
    ids=["sgd", "nesterov", "adam"],
)
def test_steps_on_every_array_library_equal_numpys(make, other_array_library):
    xp, _ = other_array_library
    rng = np.random.default_rng(0)
    theta, grads = rng.normal(size=6), [rng.normal(size=6) for _ in range(4)]
    reference, on_library = theta.copy(), xp.asarray(theta.copy())
    numpy_opt, library_opt = make(), make()
    for g in grads:
        numpy_opt.step([reference], [g])
        library_opt.step([on_library], [xp.asarray(g)])
    np.testing.assert_allclose(to_numpy(on_library), reference, rtol=1e-14)
