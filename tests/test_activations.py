"""Activations: values by closed form, derivatives against central differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import to_numpy
from nnmath import activations

ELEMENTWISE = [
    "sigmoid",
    "logistic",
    "step",
    "tanh",
    "relu",
    "leaky_relu",
    "silu",
    "identity",
    "exp",
]


def _z_clear_of_kinks(rng, shape=(4, 5)):
    # |z| ∈ [0.1, 3]: relu, leaky_relu and step have a kink (or jump) at 0, where the
    # finite difference would straddle two branches.
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 3.0, size=shape)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name, rng, central_difference):
    act = activations.get(name)
    z = _z_clear_of_kinks(rng)
    # Elementwise: aᵢ depends on zᵢ only, so ∂(Σ a)/∂zᵢ = daᵢ/dzᵢ.
    numeric = central_difference(lambda v: act(v).sum(), z.copy())
    analytic = act.derivative(z)
    assert analytic.shape == z.shape
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_backward_is_dC_da_times_derivative(name, rng):
    act = activations.get(name)
    z = _z_clear_of_kinks(rng)
    dC_da = rng.normal(size=z.shape)
    a = act(z)
    expected = dC_da * act.derivative(z)  # ∂C/∂z = ∂C/∂a · ∂a/∂z
    np.testing.assert_allclose(act.backward(dC_da.copy(), a, z=z), expected, rtol=1e-12)
    # inplace=True writes the product into the array passed in
    buf = dC_da.copy()
    out = act.backward(buf, a, inplace=True, z=z)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert np.shares_memory(out, buf)


def test_softmax_jacobian_matches_central_differences(rng, central_difference):
    softmax = activations.get("softmax")
    z = rng.normal(size=(3, 4))
    J = softmax.derivative(z)  # J[n, k, j] = ∂aₖ/∂zⱼ of row n
    assert J.shape == (3, 4, 4)
    for k in range(4):
        # rows are independent, so ∂(Σₙ aₙₖ)/∂zₙⱼ = J[n, k, j]
        numeric = central_difference(lambda v, k=k: softmax(v)[:, k].sum(), z.copy())
        np.testing.assert_allclose(J[:, k, :], numeric, rtol=1e-7, atol=1e-10)


def test_softmax_backward_applies_the_jacobian(rng, central_difference):
    softmax = activations.get("softmax")
    z = rng.normal(size=(3, 4))
    dC_da = rng.normal(size=(3, 4))
    a = softmax(z)
    # For C = Σ dC_da ⊙ softmax(z), ∂C/∂z is exactly what backward must return.
    numeric = central_difference(lambda v: (dC_da * softmax(v)).sum(), z.copy())
    np.testing.assert_allclose(softmax.backward(dC_da.copy(), a), numeric, rtol=1e-7, atol=1e-9)
    # … and equals the Jacobian applied by hand: ∂C/∂zⱼ = Σₖ ∂C/∂aₖ · ∂aₖ/∂zⱼ
    by_jacobian = np.einsum("nk,nkj->nj", dC_da, softmax.derivative(z))
    np.testing.assert_allclose(softmax.backward(dC_da.copy(), a), by_jacobian, rtol=1e-12)


def test_values_by_closed_form():
    z = np.array([-2.0, 0.0, math.log(3.0)])
    # σ(0) = ½; σ(ln 3) = 1/(1 + 1/3) = ¾; σ(−2) = 1/(1 + e²)
    np.testing.assert_allclose(
        activations.get("sigmoid")(z), [1 / (1 + math.e**2), 0.5, 0.75], rtol=1e-15
    )
    np.testing.assert_array_equal(activations.get("step")(z), [0.0, 1.0, 1.0])  # step(0) = 1
    np.testing.assert_array_equal(activations.get("relu")(z), [0.0, 0.0, math.log(3.0)])
    # leaky: −2 · 0.01 = −0.02
    np.testing.assert_allclose(activations.get("leaky_relu")(z), [-0.02, 0.0, math.log(3.0)])
    # tanh(−2) = (e⁻² − e²)/(e⁻² + e²); tanh(ln 3) = (3 − ⅓)/(3 + ⅓) = 0.8
    e2 = math.e**2
    np.testing.assert_allclose(
        activations.get("tanh")(z), [(1 / e2 - e2) / (1 / e2 + e2), 0.0, 0.8], rtol=1e-14
    )
    np.testing.assert_allclose(activations.get("exp")(z), [math.exp(-2.0), 1.0, 3.0], rtol=1e-15)
    np.testing.assert_array_equal(activations.get("identity")(z), z)
    # softmax([0, ln 2]) = [1, 2] / 3
    np.testing.assert_allclose(
        activations.get("softmax")(np.array([[0.0, math.log(2.0)]])), [[1 / 3, 2 / 3]]
    )


def test_derivatives_at_known_points():
    # σ'(0) = ½·½ = ¼; tanh'(0) = 1; relu'(0) = 0 and leaky'(0) = slope (the NOTEs)
    zero = np.zeros(1)
    assert activations.get("sigmoid").derivative(zero)[0] == 0.25
    assert activations.get("tanh").derivative(zero)[0] == 1.0
    assert activations.get("relu").derivative(zero)[0] == 0.0
    assert activations.get("leaky_relu").derivative(zero)[0] == pytest.approx(0.01)
    assert activations.get("identity").derivative(zero)[0] == 1.0


def test_step_derivative_is_zero():
    step = activations.get("step")
    z = np.array([-5.0, -1e-9, 0.0, 1e-9, 5.0])
    np.testing.assert_array_equal(step.derivative(z), np.zeros(5))
    np.testing.assert_array_equal(step.backward(np.ones(5), step(z)), np.zeros(5))


def test_sigmoid_is_stable_at_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail here
        a = activations.get("sigmoid")(np.array([-1000.0, 1000.0]))
    assert a[0] == 0.0
    assert a[1] == 1.0


def test_softmax_is_stable_at_extremes():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = activations.get("softmax")(np.array([1000.0, 0.0, -1000.0]))
    assert np.isfinite(a).all()
    # e^0 / (e^0 + e^−1000 + e^−2000) = 1 to double precision; e^−1000 underflows to 0
    np.testing.assert_allclose(a, [1.0, 0.0, 0.0], atol=1e-300)


@pytest.mark.parametrize("name", [*ELEMENTWISE, "softmax"])
def test_float32_in_float32_out(name):
    act = activations.get(name)
    z = np.array([[-1.5, 0.5, 2.0]], dtype=np.float32)
    assert act(z).dtype == np.float32
    assert act.derivative(z).dtype == np.float32
    assert act.backward(np.ones_like(z), act(z), z=z).dtype == np.float32


def test_get_resolves_names_and_aliases():
    assert activations.get("logistic").name == "sigmoid"
    sigmoid = activations.get("sigmoid")
    assert activations.get(sigmoid) is sigmoid
    assert set(activations.names()) >= {
        "sigmoid",
        "logistic",
        "step",
        "tanh",
        "relu",
        "leaky_relu",
        "identity",
        "softmax",
        "exp",
    }


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'; valid names are .*sigmoid"):
        activations.get("swish")


def test_leaky_relu_slope_must_be_in_open_unit_interval():
    with pytest.raises(ValueError, match=r"negative_slope must be in \(0, 1\)"):
        activations.LeakyReLU(negative_slope=0.0)


# ---------------------------------------------------------------- properties
_rows = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
    elements=st.floats(-1e300, 1e300, allow_nan=False),
)


@settings(max_examples=50)
@given(_rows)
def test_softmax_rows_sum_to_one(z):
    a = activations.get("softmax")(z)
    assert np.isfinite(a).all()
    assert ((a >= 0) & (a <= 1)).all()
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", [*ELEMENTWISE, "softmax"])
@settings(max_examples=40)
@given(z=_rows)
def test_finite_inputs_give_finite_outputs(name, z):
    act = activations.get(name)
    if name == "exp":
        z = np.minimum(z, 700.0)  # e^z itself is finite only for z < ln(max float) ≈ 709.8
    assert np.isfinite(act(z)).all()
    if name != "softmax":  # derivatives of bounded-slope activations stay finite too
        assert np.isfinite(act.derivative(z)).all()


# ---------------------------------------------------------------- every array library
@pytest.mark.parametrize("name", activations.names())
def test_values_and_derivatives_on_every_array_library(name, other_array_library, rng):
    xp, _ = other_array_library
    act = activations.get(name)
    z = _z_clear_of_kinks(rng)
    a = act(z)
    got = act(xp.asarray(z))
    assert type(got) is not np.ndarray
    np.testing.assert_allclose(to_numpy(got), a, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(
        to_numpy(act.local_derivative(xp.asarray(a), xp.asarray(z))),
        act.local_derivative(a, z),
        rtol=1e-13,
        atol=1e-300,
    )
    g = rng.normal(size=z.shape)
    np.testing.assert_allclose(
        to_numpy(act.backward(xp.asarray(g), xp.asarray(a), z=xp.asarray(z))),
        act.backward(g, a, z=z),
        rtol=1e-12,
        atol=1e-300,
    )


def test_sigmoid_of_any_library_never_overflows(array_library):
    xp, _ = array_library
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    sigma = activations.get("sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from e^(1000)
        got = to_numpy(sigma(z if xp is None else xp.asarray(z)))
    np.testing.assert_allclose(
        got, [0.0, 1 / (1 + math.exp(30)), 0.5, 1 / (1 + math.exp(-30)), 1.0]
    )
