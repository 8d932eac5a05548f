"""Losses: costs worked by hand, gradients against central differences, properties."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import to_numpy
from nnmath import activations, losses

ALL = ["mse", "squared_error", "binary_cross_entropy", "cross_entropy", "mae", "huber", "poisson"]


def _data(name, rng, shape=(5, 3)):
    """(ŷ, y) inside each loss's domain and clear of its kinks."""
    n, k = shape
    if name == "binary_cross_entropy":
        return rng.uniform(0.05, 0.95, shape), rng.integers(0, 2, shape).astype(float)
    if name == "cross_entropy":
        return rng.uniform(0.05, 0.95, shape), np.eye(k)[rng.integers(0, k, n)]
    if name == "poisson":
        return rng.uniform(0.5, 3.0, shape), rng.poisson(1.5, shape).astype(float)
    y = rng.normal(size=shape)
    # |ŷ − y| ∈ [0.2, 0.8] ∪ [1.2, 2]: away from mae's kink at 0 and huber's at δ = 1
    r = rng.choice([-1.0, 1.0], shape) * np.where(
        rng.random(shape) < 0.5, rng.uniform(0.2, 0.8, shape), rng.uniform(1.2, 2.0, shape)
    )
    return y + r, y


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("shape", [(5, 3), (4, 1)])
@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_central_differences(name, shape, weighted, rng, central_difference):
    loss = losses.get(name)
    y_hat, y = _data(name, rng, shape)
    sw = rng.uniform(0.5, 2.0, shape[0]) if weighted else None
    numeric = central_difference(lambda v: loss(v, y, sample_weight=sw), y_hat.copy())
    analytic = loss.gradient(y_hat, y, sample_weight=sw)
    assert analytic.shape == y_hat.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ALL)
def test_gradient_keeps_a_1d_shape(name, rng):
    y_hat, y = _data(name, rng, (6, 1))
    assert losses.get(name).gradient(y_hat[:, 0], y[:, 0]).shape == (6,)


def test_mse_is_the_articles_mean_of_squared_errors():
    y = np.array([1.0, 0.0, 2.0])
    y_hat = np.array([[0.5], [0.5], [1.0]])
    # L = (y − ŷ)² = 0.25, 0.25, 1;  C = (1/n) Σ L = 1.5 / 3 = 0.5
    assert losses.get("mse")(y_hat, y) == pytest.approx(0.5, rel=1e-15)
    # ∂C/∂ŷ = (2/n)(ŷ − y) = (2/3)·[−0.5, 0.5, −1] = [−⅓, ⅓, −⅔]: the 1/n is included
    np.testing.assert_allclose(
        losses.get("mse").gradient(y_hat, y), [[-1 / 3], [1 / 3], [-2 / 3]], rtol=1e-15
    )
    # Several outputs: L = Σₖ (yₖ − ŷₖ)² = 0.5² + 0.5² = 0.5 for the one sample
    assert losses.get("mse")(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])) == 0.5


def test_squared_error_is_half_mean_over_outputs():
    # one output: ½(1 − 0.5)² = 0.125; two outputs: ½·½·(0.25 + 0.25) = 0.125
    assert losses.get("squared_error")(np.array([[0.5]]), np.array([1.0])) == 0.125
    assert losses.get("squared_error")(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])) == 0.125


def test_cross_entropies_by_hand():
    # BCE: y = [1, 0], ŷ = [0.8, 0.4]: L = −ln 0.8, −ln 0.6; C = −ln(0.48)/2
    bce = losses.get("binary_cross_entropy")
    y_hat, y = np.array([[0.8], [0.4]]), np.array([1.0, 0.0])
    assert bce(y_hat, y) == pytest.approx(-math.log(0.48) / 2, rel=1e-14)
    # ∂C/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))/n = (−0.2/0.16)/2, (0.4/0.24)/2 = −0.625, 0.8333…
    np.testing.assert_allclose(bce.gradient(y_hat, y), [[-0.625], [5 / 6]], rtol=1e-14)
    # CE: one-hot y = [0, 1, 0], ŷ = [0.2, 0.7, 0.1]: L = −ln 0.7; ∂L/∂ŷ = −y/ŷ
    ce = losses.get("cross_entropy")
    y_hat, y = np.array([[0.2, 0.7, 0.1]]), np.array([[0.0, 1.0, 0.0]])
    assert ce(y_hat, y) == pytest.approx(-math.log(0.7), rel=1e-14)
    np.testing.assert_allclose(ce.gradient(y_hat, y), [[0.0, -1 / 0.7, 0.0]], rtol=1e-14)


def test_mae_huber_poisson_by_hand():
    # MAE: |1 − 0.5| = 0.5, |−1 − 1| = 2: C = 1.25; ∂C/∂ŷ = sign(ŷ − y)/n = [−½, ½]
    mae = losses.get("mae")
    y_hat, y = np.array([[0.5], [1.0]]), np.array([1.0, -1.0])
    assert mae(y_hat, y) == 1.25
    np.testing.assert_array_equal(mae.gradient(y_hat, y), [[-0.5], [0.5]])
    # Huber δ = 1: r = 0.5 → ½·0.25 = 0.125; r = 3 → 1·(3 − ½) = 2.5: C = 1.3125;
    # ∂C/∂ŷ = clip(r, −1, 1)/n = [0.25, 0.5]
    huber = losses.get("huber")
    y_hat, y = np.array([[0.5], [3.0]]), np.array([0.0, 0.0])
    assert huber(y_hat, y) == 1.3125
    np.testing.assert_array_equal(huber.gradient(y_hat, y), [[0.25], [0.5]])
    # Poisson: y = 2, ŷ = 1 → 2 ln 2 − 2 + 1; y = 0, ŷ = 0.5 → 0 − 0 + 0.5
    poisson = losses.get("poisson")
    y_hat, y = np.array([[1.0], [0.5]]), np.array([2.0, 0.0])
    assert poisson(y_hat, y) == pytest.approx((2 * math.log(2) - 1 + 0.5) / 2, rel=1e-14)
    # ∂C/∂ŷ = (1 − y/ŷ)/n = (1 − 2)/2, (1 − 0)/2
    np.testing.assert_allclose(poisson.gradient(y_hat, y), [[-0.5], [0.5]], rtol=1e-15)


def test_sample_weight_gives_the_weighted_mean():
    y = np.array([1.0, 0.0, 2.0])
    y_hat = np.array([[0.5], [0.5], [1.0]])
    # L = 0.25, 0.25, 1 with w = 1, 2, 1: C = (0.25 + 0.5 + 1)/4 = 0.4375
    assert losses.get("mse")(y_hat, y, sample_weight=[1, 2, 1]) == 0.4375
    # ∂C/∂ŷᵢ = wᵢ·2(ŷᵢ − yᵢ)/Σw = [1·(−1), 2·1, 1·(−2)]/4
    np.testing.assert_allclose(
        losses.get("mse").gradient(y_hat, y, sample_weight=[1, 2, 1]),
        [[-0.25], [0.5], [-0.5]],
        rtol=1e-15,
    )


@pytest.mark.parametrize("name", ["binary_cross_entropy", "cross_entropy"])
def test_finite_when_probabilities_are_exactly_0_or_1(name):
    loss = losses.get(name)
    # the worst case: ŷ certain and wrong (and certain and right) in every column
    y_hat = np.array([[0.0, 1.0], [1.0, 0.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero warning either
        assert math.isfinite(loss(y_hat, y))
        assert np.isfinite(loss.gradient(y_hat, y)).all()


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize(
    "name", ["mse", "squared_error", "binary_cross_entropy", "cross_entropy", "poisson"]
)
def test_canonical_delta_is_the_chain_rule_product(name, weighted, rng, central_difference):
    loss = losses.get(name)
    act = activations.get(loss.canonical_activation)
    _, y = _data(name, rng, (5, 3))
    z = rng.normal(size=(5, 3))
    sw = rng.uniform(0.5, 2.0, 5) if weighted else None
    # ∂C/∂z by central differences of z ↦ C(σ(z), y) …
    numeric = central_difference(lambda v: loss(act(v), y, sample_weight=sw), z.copy())
    np.testing.assert_allclose(loss.canonical_delta(act(z), y, sw), numeric, rtol=1e-6, atol=1e-9)
    # … and the general path ∂C/∂ŷ · ∂ŷ/∂z gives the same
    general = act.backward(loss.gradient(act(z), y, sw), act(z))
    np.testing.assert_allclose(loss.canonical_delta(act(z), y, sw), general, rtol=1e-10)


def test_shape_mismatch_is_explained():
    with pytest.raises(ValueError, match=r"y has shape \(3, 2\) but y_hat has shape \(3, 1\)"):
        losses.get("mse")(np.zeros((3, 1)), np.zeros((3, 2)))


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown loss 'hinge'; valid names are .*mse"):
        losses.get("hinge")


def test_huber_delta_must_be_positive():
    with pytest.raises(ValueError, match="delta must be > 0"):
        losses.Huber(delta=0.0)


# ---------------------------------------------------------------- properties
_shapes = st.tuples(st.integers(1, 5), st.integers(1, 3))


@st.composite
def _loss_inputs(draw, name):
    """(ŷ, y) of one shape, finite and within the loss's domain."""
    shape = draw(_shapes)
    unit = st.floats(0.0, 1.0)
    if name == "binary_cross_entropy":
        y_hat = draw(hnp.arrays(np.float64, shape, elements=unit))
        y = draw(hnp.arrays(np.float64, shape, elements=unit))
    elif name == "cross_entropy":
        y_hat = draw(hnp.arrays(np.float64, shape, elements=unit))
        y = np.eye(shape[1])[
            draw(hnp.arrays(np.int64, shape[0], elements=st.integers(0, shape[1] - 1)))
        ]
    elif name == "poisson":
        y_hat = draw(hnp.arrays(np.float64, shape, elements=st.floats(1e-6, 1e6)))
        y = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1e6)))
    else:
        big = st.floats(-1e6, 1e6)
        y_hat = draw(hnp.arrays(np.float64, shape, elements=big))
        y = draw(hnp.arrays(np.float64, shape, elements=big))
    return y_hat, y


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=40)
@given(data=st.data())
def test_loss_is_nonnegative_and_finite(name, data):
    y_hat, y = data.draw(_loss_inputs(name))
    loss = losses.get(name)
    C = loss(y_hat, y)
    L = loss.per_sample(y_hat, y)
    assert math.isfinite(C)
    assert np.isfinite(loss.gradient(y_hat, y)).all()
    # ≥ 0, up to rounding in the Poisson deviance's y log(y/ŷ) − y + ŷ
    assert (L >= -1e-9 * (1 + np.abs(y).sum(axis=1))).all()


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=40)
@given(data=st.data())
def test_loss_is_zero_at_the_target(name, data):
    _, y = data.draw(_loss_inputs(name))
    if name == "binary_cross_entropy":
        y = np.round(y)  # the minimum 0 is reached only for hard labels
    if name == "poisson":
        y = np.maximum(y, 1e-6)  # ŷ = y must be > 0
    L = losses.get(name).per_sample(y.copy(), y)
    # cross-entropies clip ŷ to [ε, 1 − ε], so they reach −log(1 − ε) ≈ 2.2e-16, not 0
    np.testing.assert_allclose(L, 0.0, atol=1e-12)


# ---------------------------------------------------------------- every array library
@pytest.mark.parametrize("name", losses.names())
def test_cost_and_gradient_on_every_array_library(name, other_array_library, rng):
    xp, _ = other_array_library
    loss = losses.get(name)
    y_hat, y = _data(name, rng)
    w = rng.uniform(0.5, 2.0, y_hat.shape[0])
    on = xp.asarray
    assert loss(on(y_hat), on(y), on(w)) == pytest.approx(loss(y_hat, y, w), rel=1e-12)
    np.testing.assert_allclose(
        to_numpy(loss.gradient(on(y_hat), on(y), on(w))), loss.gradient(y_hat, y, w), rtol=1e-12
    )
    np.testing.assert_allclose(
        to_numpy(loss.per_sample(on(y_hat), on(y))), loss.per_sample(y_hat, y), rtol=1e-12
    )


# ---------------------------------------------------------------- scikit-learn's pair
def test_sklearn_squared_error_by_hand():
    # y = [[1, 0], [2, 2]], ŷ = [[0.5, 0.5], [1, 3]]: r² = 0.25, 0.25, 1, 1
    y_hat, y = np.array([[0.5, 0.5], [1.0, 3.0]]), np.array([[1.0, 0.0], [2.0, 2.0]])
    loss = losses.get("sklearn_squared_error")
    # C = ½ · mean of every r² = ½ · 2.5/4 = 0.3125, the cost of squared_error
    assert loss(y_hat, y) == 0.3125
    assert losses.get("squared_error")(y_hat, y) == 0.3125
    # the gradient of ½ Σₖ meanᵢ rᵢₖ²: (ŷ − y)/n, no 1/k
    np.testing.assert_array_equal(loss.gradient(y_hat, y), [[-0.25, 0.25], [-0.5, 0.5]])
    # weights 1, 3: C = ½·½·(1·0.5 + 3·2)/4 = 0.40625; ∂ = wᵢ(ŷ − y)/Σw
    assert loss(y_hat, y, sample_weight=[1, 3]) == 0.40625
    np.testing.assert_array_equal(
        loss.gradient(y_hat, y, sample_weight=[1, 3]), [[-0.125, 0.125], [-0.75, 0.75]]
    )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("k", [1, 3])
def test_sklearn_squared_error_gradient_is_k_times_its_costs(k, weighted, rng, central_difference):
    loss = losses.get("sklearn_squared_error")
    y_hat, y = _data("sklearn_squared_error", rng, (5, k))
    sw = rng.uniform(0.5, 2.0, 5) if weighted else None
    numeric = central_difference(lambda v: loss(v, y, sample_weight=sw), y_hat.copy())
    np.testing.assert_allclose(loss.gradient(y_hat, y, sw), k * numeric, rtol=1e-6, atol=1e-9)
    # at the identity output the shortcut δ = (ŷ − y)·wᵢ/Σw is the same gradient
    np.testing.assert_allclose(loss.canonical_delta(y_hat, y, sw), loss.gradient(y_hat, y, sw))
