"""Network: the flat parameter buffer, forward by hand, the fused output delta,
dropout, dtypes, seeds and bad input."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from conftest import to_numpy
from nnmath import Network

# (output activation, loss, kind of target) pairs whose ∂C/∂z is c·(ŷ − y)
CANONICAL = [
    ("sigmoid", "binary_cross_entropy", "binary"),
    ("softmax", "cross_entropy", "onehot"),
    ("exp", "poisson", "counts"),
    ("identity", "mse", "real"),
    ("identity", "squared_error", "real"),
]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ---------------------------------------------------------------- fused path
@pytest.mark.parametrize(("output", "loss", "kind"), CANONICAL)
def test_fused_delta_equals_general_chain_rule(output, loss, kind, rng, make_targets):
    net = Network([3, 4, 3], activation="tanh", output_activation=output, loss=loss, random_state=0)
    X = rng.normal(size=(7, 3))
    y = make_targets(kind, rng, 7, 3)
    sw = rng.uniform(0.5, 2.0, 7)
    c_fused, g = net.cost_and_gradients(X, y, sample_weight=sw, fused=True)
    g_fused = [a.copy() for a in g]  # the returned arrays are overwritten by the next call
    c_general, g_general = net.cost_and_gradients(X, y, sample_weight=sw, fused=False)
    assert c_fused == c_general
    for a, b in zip(g_fused, g_general, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("fused", [True, False])
def test_fused_flag_chooses_the_path(fused, rng, monkeypatch):
    net = Network([2, 1], output_activation="sigmoid", loss="binary_cross_entropy", random_state=0)
    calls = []
    original = net.loss.canonical_delta_of
    monkeypatch.setattr(net.loss, "canonical_delta_of", lambda *a: calls.append(1) or original(*a))
    net.cost_and_gradients(rng.normal(size=(4, 2)), [0, 1, 1, 0], fused=fused)
    assert len(calls) == (1 if fused else 0)


def test_non_canonical_pair_takes_the_general_path(rng, monkeypatch):
    # sigmoid + mse is not a canonical pair: ŷ − y would be wrong there
    net = Network([2, 1], activation="sigmoid", loss="mse", random_state=0)
    monkeypatch.setattr(net.loss, "canonical_delta_of", lambda *a: pytest.fail("fused path taken"))
    net.cost_and_gradients(rng.normal(size=(4, 2)), [0, 1, 1, 0])


# ---------------------------------------------------------------- parameters
def test_parameters_are_shaped_views_into_theta():
    net = Network([3, 4, 2], random_state=0)
    params = net.parameters()
    assert [p.shape for p in params] == [(3, 4), (4,), (4, 2), (2,)]
    assert net.theta.size == 3 * 4 + 4 + 4 * 2 + 2 == net.n_parameters
    assert net.theta.flags.c_contiguous
    for p in params:
        assert np.shares_memory(p, net.theta)
        assert p.flags.writeable
    # theta[0] is W1[0, 0]; the last entry is b2[1]
    net.theta[0] = 42.0
    net.theta[-1] = -7.0
    assert params[0][0, 0] == 42.0
    assert params[3][1] == -7.0


def test_assigning_parameters_changes_forward():
    net = Network([2, 1], activation="identity", random_state=0)
    W, b = net.parameters()
    W[...] = [[1.0], [2.0]]
    b[...] = [0.5]
    # z = 1·1 + 2·1 + 0.5 = 3.5;  z = 1·2 + 2·(−1) + 0.5 = 0.5
    np.testing.assert_array_equal(net.forward([[1.0, 1.0], [2.0, -1.0]]), [[3.5], [0.5]])


def test_two_layer_forward_by_hand():
    net = Network([2, 2, 1], activation=["relu"], output_activation="identity")
    W1, b1, W2, b2 = net.parameters()
    W1[...] = [[1.0, -1.0], [0.0, 1.0]]
    b1[...] = [0.0, 0.5]
    W2[...] = [[2.0], [3.0]]
    b2[...] = [-1.0]
    # x = [1, 2]:  z1 = [1, −1 + 2 + 0.5] = [1, 1.5];  relu → [1, 1.5];  z2 = 2 + 4.5 − 1 = 5.5
    # x = [−1, 0]: z1 = [−1, 1 + 0.5] = [−1, 1.5];   relu → [0, 1.5];  z2 = 0 + 4.5 − 1 = 3.5
    np.testing.assert_array_equal(net.forward([[1.0, 2.0], [-1.0, 0.0]]), [[5.5], [3.5]])


def test_per_layer_activations(rng):
    net = Network([2, 3, 3, 1], activation=["tanh", "relu"], output_activation="sigmoid")
    assert [a.name for a in net.activations] == ["tanh", "relu", "sigmoid"]
    X = rng.normal(size=(5, 2))
    W1, b1, W2, b2, W3, b3 = net.parameters()
    a1 = np.tanh(X @ W1 + b1)
    a2 = np.maximum(a1 @ W2 + b2, 0)
    np.testing.assert_allclose(net.forward(X), _sigmoid(a2 @ W3 + b3), rtol=1e-14)


def test_output_activation_defaults_to_activation():
    assert [a.name for a in Network([2, 3, 1], activation="tanh").activations] == ["tanh"] * 2
    net = Network([2, 3, 1], activation="relu", output_activation="identity")
    assert [a.name for a in net.activations] == ["relu", "identity"]


def test_activation_list_needs_output_activation():
    with pytest.raises(ValueError, match="output_activation is required"):
        Network([2, 3, 1], activation=["tanh"])


def test_activation_list_of_wrong_length():
    with pytest.raises(ValueError, match=r"activation is a list of 2 entries .* 1 hidden layers"):
        Network([2, 3, 1], activation=["tanh", "relu"], output_activation="sigmoid")


def test_gradients_are_overwritten_not_accumulated(rng):
    net = Network([3, 4, 1], activation="tanh", random_state=0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    first = [g.copy() for g in net.cost_and_gradients(X, y)[1]]
    second = net.cost_and_gradients(X, y)[1]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_cost_is_the_mse_of_forward_by_hand(rng):
    net = Network([3, 2], activation="sigmoid", loss="mse", random_state=0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    W, b = net.parameters()
    y_hat = _sigmoid(X @ W + b)
    expected = ((y - y_hat) ** 2).sum(axis=1).mean()  # C = (1/n) Σᵢ Σₖ (yₖ − ŷₖ)²
    assert net.cost(X, y) == pytest.approx(expected, rel=1e-14)
    assert net.cost_and_gradients(X, y)[0] == pytest.approx(expected, rel=1e-14)


def test_l2_penalty_adds_alpha_over_2n_sum_of_squares(rng):
    net = Network([3, 2, 1], activation="tanh", random_state=0)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    W1, _, W2, _ = net.parameters()
    plain = net.cost(X, y)
    # C + (α/2n) Σ ‖W‖², n = 4, α = 0.3 (biases are not penalised)
    expected = plain + 0.3 / (2 * 4) * ((W1**2).sum() + (W2**2).sum())
    assert net.cost_and_gradients(X, y, alpha=0.3)[0] == pytest.approx(expected, rel=1e-14)


# ---------------------------------------------------------------- dropout
def test_dropout_only_with_a_generator(rng):
    net = Network([3, 8, 1], activation="tanh", dropout=0.5, random_state=0)
    twin = Network([3, 8, 1], activation="tanh", random_state=0)  # same weights, no dropout
    np.testing.assert_array_equal(net.theta, twin.theta)
    X, y = rng.normal(size=(10, 3)), rng.normal(size=10)
    # forward is deterministic and ignores dropout
    np.testing.assert_array_equal(net.forward(X), net.forward(X))
    np.testing.assert_array_equal(net.forward(X), twin.forward(X))
    # without dropout_rng, training sees the full network too
    assert net.cost_and_gradients(X, y)[0] == twin.cost_and_gradients(X, y)[0]
    # with one, units are dropped and the cost differs
    c_drop = net.cost_and_gradients(X, y, dropout_rng=np.random.default_rng(1))[0]
    assert c_drop != twin.cost(X, y)


def test_dropout_gradient_matches_central_differences(rng, central_difference):
    net = Network([3, 6, 2], activation="tanh", output_activation="identity", dropout=0.4)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))

    def cost(theta):  # a fresh generator with one seed draws the same mask every call
        net.theta[...] = theta
        return net.cost_and_gradients(X, y, dropout_rng=np.random.default_rng(3))[0]

    theta = net.theta.copy()
    numeric = central_difference(cost, theta.copy())
    net.theta[...] = theta
    _, grads = net.cost_and_gradients(X, y, dropout_rng=np.random.default_rng(3))
    analytic = np.concatenate([g.ravel() for g in grads])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_dropout_list_of_wrong_length():
    with pytest.raises(ValueError, match=r"dropout is a list of 1 entries but the network has 2"):
        Network([2, 3, 3, 1], dropout=[0.5])


def test_dropout_rate_must_be_below_one():
    with pytest.raises(ValueError, match=r"dropout rates must be in \[0, 1\)"):
        Network([2, 3, 1], dropout=1.0)


# ---------------------------------------------------------------- dtype and seeds
def test_float32_network_gives_float32(rng):
    net = Network([3, 4, 2], activation="tanh", dtype=np.float32, random_state=0)
    X = rng.normal(size=(5, 3)).astype(np.float32)
    assert net.theta.dtype == np.float32
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net.forward(X).dtype == np.float32
    cost, grads = net.cost_and_gradients(X, rng.normal(size=(5, 2)).astype(np.float32))
    assert isinstance(cost, float)
    assert all(g.dtype == np.float32 for g in grads)


def test_bad_dtype():
    with pytest.raises(ValueError, match="dtype must be numpy.float32 or numpy.float64"):
        Network([2, 1], dtype=np.int64)


def test_same_seed_same_weights_different_seed_different():
    a = Network([4, 5, 3], random_state=7)
    b = Network([4, 5, 3], random_state=7)
    np.testing.assert_array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, Network([4, 5, 3], random_state=8).theta)


def test_glorot_and_he_initialization():
    net = Network([3, 4, 2], activation="relu", output_activation="sigmoid", random_state=7)
    # layer 1 (relu): He uniform, r = √(6/n_in) = √2;  layer 2 (sigmoid): Glorot,
    # r = √(6/(n_in + n_out)) = 1; drawn in that order from default_rng(7); biases 0
    draws = np.random.default_rng(7)
    W1 = draws.uniform(-math.sqrt(2), math.sqrt(2), size=(3, 4))
    W2 = draws.uniform(-1.0, 1.0, size=(4, 2))
    np.testing.assert_array_equal(net.W[0], W1)
    np.testing.assert_array_equal(net.W[1], W2)
    assert not net.b[0].any()
    assert not net.b[1].any()


def test_y_may_be_1d_with_one_output(rng):
    net = Network([3, 1], random_state=0)
    X, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    assert net.cost(X, y) == net.cost(X, y.reshape(-1, 1))


# ---------------------------------------------------------------- bad input
@pytest.fixture
def net():
    return Network([3, 2, 1], random_state=0)


def test_nan_in_X(net):
    X = np.ones((2, 3))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        net.forward(X)


def test_inf_in_X(net):
    X = np.ones((2, 3))
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        net.cost_and_gradients(X, [1.0, 0.0])


def test_nan_in_y(net):
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        net.cost(np.ones((2, 3)), [1.0, np.nan])


def test_wrong_number_of_dimensions(net):
    with pytest.raises(ValueError, match=r"X must be 2-D .* got 1-D .*reshape\(1, -1\)"):
        net.forward(np.ones(3))


def test_wrong_number_of_features(net):
    with pytest.raises(ValueError, match=r"X has 4 features but the network expects 3"):
        net.forward(np.ones((2, 4)))


def test_X_and_y_of_different_lengths(net):
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        net.cost(np.ones((3, 3)), [1.0, 0.0])


def test_y_with_wrong_number_of_outputs(net):
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples, 1\)"):
        net.cost(np.ones((2, 3)), np.ones((2, 2)))


def test_no_samples(net):
    with pytest.raises(ValueError, match="X has no samples"):
        net.forward(np.empty((0, 3)))


@pytest.mark.parametrize("sizes", [[3, 0, 1], [3, -2, 1], [0, 1]])
def test_layer_sizes_below_one(sizes):
    with pytest.raises(ValueError, match="layer_sizes must all be >= 1"):
        Network(sizes)


@pytest.mark.parametrize("sizes", [[3], [2.5, 1], "ab"])
def test_layer_sizes_not_a_list_of_integers(sizes):
    with pytest.raises(ValueError, match="layer_sizes must be a list of integers"):
        Network(sizes)


def test_unknown_activation_name():
    with pytest.raises(ValueError, match=r"unknown activation 'sigmod'; valid names are .*sigmoid"):
        Network([2, 1], activation="sigmod")


def test_unknown_loss_name():
    with pytest.raises(ValueError, match=r"unknown loss 'mse2'; valid names are .*mse"):
        Network([2, 1], loss="mse2")


def test_bad_random_state():
    with pytest.raises(ValueError, match="random_state must be an int"):
        Network([2, 1], random_state="seed")


# ---------------------------------------------------------------- every array library
def test_forward_and_the_record_on_every_array_library(array_library, rng):
    xp, device = array_library
    kwargs = dict(activation="relu", output_activation="sigmoid", loss="binary_cross_entropy")
    reference = Network([3, 4, 1], random_state=0, **kwargs)
    net = Network([3, 4, 1], random_state=0, xp=xp, device=device, **kwargs)
    X = rng.normal(size=(6, 3))
    y = (X[:, 0] > 0).astype(float)
    np.testing.assert_allclose(to_numpy(net.forward(X)), reference.forward(X), rtol=1e-14)
    record = net.backprop(net.asarray(X), net.asarray(y.reshape(-1, 1)), record=True)
    expected = reference.backprop(X, y.reshape(-1, 1), record=True)
    assert record.cost == pytest.approx(expected.cost, rel=1e-14)
    for got, want in zip(record.layers, expected.layers, strict=True):
        for field in ("z", "a", "delta", "dC_dW", "dC_db"):
            np.testing.assert_allclose(
                to_numpy(getattr(got, field)), getattr(want, field), rtol=1e-13, atol=1e-15
            )


# ---------------------------------------------------------------- complex inputs
@pytest.mark.parametrize("method", ["forward", "cost", "cost_and_gradients", "fit"])
def test_complex_X_is_refused_not_cut_to_its_real_part(net, method):
    # numpy's own conversion drops the imaginary part with only a ComplexWarning
    X = np.ones((4, 3)) + 1j
    args = {"forward": (X,), "fit": (X, np.zeros(4))}.get(method, (X, np.zeros(4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning either
        with pytest.raises(ValueError, match="^X has complex values; a network takes real"):
            getattr(net, method)(*args)


def test_complex_sparse_X_is_refused(net):
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="X has complex values"):
        net.forward(sp.csr_matrix(np.ones((2, 3)) * 1j))


@pytest.mark.parametrize(
    ("sample_weight", "message"),
    [
        ([1.0, math.nan, 1.0, 1.0], "sample_weight contains NaN or infinity"),
        ([1.0, math.inf, 1.0, 1.0], "sample_weight contains NaN or infinity"),
        ([1.0, -1.0, 1.0, 1.0], "sample_weight has negative weights"),
        ([1.0, 1.0], r"sample_weight must have shape \(4,\), one weight per sample; got shape"),
        ([[1.0] * 4], r"sample_weight must have shape \(4,\)"),
        ([0.0] * 4, "sample_weight sums to 0"),
        (["a"] * 4, "sample_weight must be real numbers"),
        ([1j] * 4, "sample_weight must be real numbers"),
    ],
    ids=["nan", "inf", "negative", "short", "2-D", "zero", "text", "complex"],
)
@pytest.mark.parametrize("method", ["cost", "cost_and_gradients", "fit"])
def test_bad_sample_weights_are_refused_by_name(net, method, sample_weight, message):
    # a NaN weight once made the cost NaN; a wrong length gave a raw broadcast error
    X, y = np.ones((4, 3)), np.zeros(4)
    with pytest.raises(ValueError, match=message):
        getattr(net, method)(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize(
    ("loss", "out"),
    [("squared_error", "identity"), ("binary_cross_entropy", "sigmoid"), ("mse", "sigmoid")],
)
def test_dividing_by_the_weights_at_the_end_gives_the_same_gradient(loss, out):
    # scikit-learn's order (Σw·δ carried backwards, each gradient divided by Σw at the
    # end) and the output's (δ_L carries 1/Σw) differ in rounding only; both are the
    # cost's gradient, checked against central differences.
    rng = np.random.default_rng(3)
    net = Network([3, 4, 2], activation="tanh", output_activation=out, loss=loss, random_state=0)
    X, w = rng.normal(size=(7, 3)), rng.uniform(0.5, 2.0, size=7)
    Y = rng.integers(0, 2, size=(7, 2)).astype(float)
    net.backprop(X, Y, w, alpha=0.3, l1=0.1)
    early = net.grad.copy()
    cost = net.backprop(X, Y, w, alpha=0.3, l1=0.1, divide_at_end=True)
    late = net.grad.copy()
    np.testing.assert_allclose(late, early, rtol=1e-14, atol=1e-16)
    theta, h = net.theta.copy(), 1e-6
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        for sign in (1, -1):
            net.theta[...] = theta
            net.theta[i] += sign * h
            c = net.backprop(X, Y, w, alpha=0.3, l1=0.1)
            numeric[i] = c if sign == 1 else (numeric[i] - c) / (2 * h)
    net.theta[...] = theta
    assert cost == pytest.approx(net.backprop(X, Y, w, alpha=0.3, l1=0.1), rel=1e-15)
    np.testing.assert_allclose(late, numeric, rtol=1e-6, atol=1e-8)
