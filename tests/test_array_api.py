"""Networks on any array-API library: the same numbers as NumPy's, PyTorch's autograd as
an independent reference, arrays that stay on their device, and the errors of mixing
libraries and devices."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import nnmath
from conftest import array_library_for, to_numpy
from nnmath import SGD, Adam, Network
from nnmath.core import arrays

# (output activation, loss, kind of targets): every pairing whose math is defined (the
# cross-entropies need probabilities, Poisson a positive ŷ).
PAIRS = [
    ("identity", "mse", "real"),
    ("identity", "squared_error", "real"),
    ("identity", "mae", "far"),
    ("identity", "huber", "real"),
    ("tanh", "mse", "real"),
    ("relu", "mse", "real"),
    ("silu", "mse", "real"),
    ("leaky_relu", "huber", "real"),
    ("sigmoid", "mse", "binary"),
    ("sigmoid", "binary_cross_entropy", "binary"),
    ("softmax", "cross_entropy", "onehot"),
    ("softmax", "mse", "onehot"),
    ("softmax", "binary_cross_entropy", "onehot"),
    ("sigmoid", "poisson", "counts"),
    ("exp", "poisson", "counts"),
    ("exp", "mse", "real"),
]
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "silu"]
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


def _problem(make_targets, kind, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(9, 4)).astype(dtype)
    Y = make_targets(kind, rng, 9, 3).astype(dtype)
    w = rng.uniform(0.5, 2.0, 9).astype(dtype)
    return X, Y, w


def _pair_network(output, loss, hidden, dtype, xp=None, device=None):
    return Network(
        [4, 5, 3],
        activation=hidden,
        output_activation=output,
        loss=loss,
        dtype=dtype,
        random_state=1,
        xp=xp,
        device=device,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("output", "loss", "kind"), PAIRS)
@pytest.mark.parametrize("library", ["array_api_strict", "torch"])
def test_cost_and_gradients_equal_numpys(library, output, loss, kind, dtype, make_targets):
    xp, device = array_library_for(library)
    hidden = HIDDEN[PAIRS.index((output, loss, kind)) % len(HIDDEN)]
    X, Y, w = _problem(make_targets, kind, dtype)
    reference = _pair_network(output, loss, hidden, dtype)
    cost, grads = reference.cost_and_gradients(X, Y, sample_weight=w, alpha=0.3)
    grads = [g.copy() for g in grads]
    net = _pair_network(output, loss, hidden, dtype, xp, device)
    np.testing.assert_array_equal(to_numpy(net.theta), reference.theta)  # the same start
    got_cost, got_grads = net.cost_and_gradients(
        net.asarray(X), net.asarray(Y), net.asarray(w), 0.3
    )
    rtol = TOLERANCE[dtype]
    assert got_cost == pytest.approx(cost, rel=rtol)
    for g, expected in zip(got_grads, grads, strict=True):
        assert arrays.name(arrays.namespace_of(g)) == library
        np.testing.assert_allclose(to_numpy(g), expected, rtol=rtol, atol=rtol * 1e-3)


# ---------------------------------------------------------------- torch's autograd
def _torch_activation(torch, name, z):
    return {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda v: torch.nn.functional.leaky_relu(v, 0.01),
        "silu": torch.nn.functional.silu,
        "identity": lambda v: v,
        "softmax": lambda v: torch.softmax(v, dim=-1),
        "exp": torch.exp,
    }[name](z)


def _torch_losses(torch, name, y_hat, y):
    """Lᵢ of each sample, written from the formulas, independently of nnmath."""
    eps = torch.finfo(y_hat.dtype).eps
    k = y_hat.shape[1]
    if name == "mse":
        return ((y - y_hat) ** 2).sum(1)
    if name == "squared_error":
        return 0.5 * ((y - y_hat) ** 2).mean(1)
    if name == "mae":
        return (y - y_hat).abs().sum(1)
    if name == "huber":
        r = (y_hat - y).abs()
        return torch.where(r <= 1.0, 0.5 * r * r, r - 0.5).sum(1)
    if name == "binary_cross_entropy":
        p = y_hat.clamp(eps, 1 - eps)
        return -(torch.xlogy(y, p) + torch.xlogy(1 - y, 1 - p)).sum(1)
    if name == "cross_entropy":
        return -torch.xlogy(y, y_hat.clamp(eps, 1 - eps)).sum(1)
    if name == "poisson":  # y log y − y log ŷ − y + ŷ: the first term is a constant
        return (torch.xlogy(y, y) - torch.xlogy(y, y_hat) - y + y_hat).sum(1)
    raise AssertionError(f"no reference for {name} ({k} outputs)")


@pytest.mark.parametrize(("output", "loss", "kind"), PAIRS)
def test_gradients_equal_torchs_autograd(output, loss, kind, make_targets):
    torch = pytest.importorskip("torch")
    hidden = HIDDEN[PAIRS.index((output, loss, kind)) % len(HIDDEN)]
    X, Y, w = _problem(make_targets, kind, np.float64, seed=3)
    net = _pair_network(output, loss, hidden, np.float64, torch)
    alpha = 0.3
    cost, grads = net.cost_and_gradients(torch.tensor(X), torch.tensor(Y), torch.tensor(w), alpha)
    # The same network in torch, differentiated by autograd.
    params = [p.detach().clone().requires_grad_(True) for p in net.parameters()]
    a = torch.tensor(X)
    for l, act in enumerate(net.activations):
        a = _torch_activation(torch, act.name, a @ params[2 * l] + params[2 * l + 1])
    wt = torch.tensor(w)
    penalty = 0.5 * alpha * sum((W * W).sum() for W in params[0::2]) / wt.sum()
    C = (wt * _torch_losses(torch, loss, a, torch.tensor(Y))).sum() / wt.sum() + penalty
    C.backward()
    assert cost == pytest.approx(float(C.detach()), rel=1e-12)
    for g, p in zip(grads, params, strict=True):
        torch.testing.assert_close(g, p.grad, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- training
@pytest.mark.parametrize(
    "fit",
    [
        dict(optimizer=SGD(0.1), epochs=15),  # the article's full-batch descent
        dict(optimizer=SGD(0.05, momentum=0.9, nesterov=True), epochs=5, batch_size=4),
        dict(optimizer=Adam(0.05), epochs=5, batch_size=4, alpha=0.01),
    ],
    ids=["gd", "sgd-nesterov", "adam-l2"],
)
def test_training_gives_numpys_weights(array_library, fit):
    xp, device = array_library
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    results = []
    for library, place in ((None, None), (xp, device)):
        net = Network(
            [3, 4, 1],
            activation="tanh",
            output_activation="sigmoid",
            loss="binary_cross_entropy",
            random_state=0,
            xp=library,
            device=place,
        )
        history = net.fit(net.asarray(X), net.asarray(y), random_state=0, **fit)
        results.append((to_numpy(net.theta), history.loss_curve))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


def test_nothing_but_scalars_leaves_the_device_while_training():
    # array_api_strict's "device1" refuses every conversion to NumPy: a whole training
    # run there (shuffled mini-batches, dropout, L2, Adam, early-stopping bookkeeping,
    # divergence checks) shows that only Python scalars — the cost, the finiteness
    # check — cross to the host.
    xp = pytest.importorskip("array_api_strict")
    device = xp.Device("device1")
    rng = np.random.default_rng(0)
    X = xp.asarray(rng.normal(size=(12, 3)), device=device)
    y = xp.asarray((rng.normal(size=12) > 0).astype(float), device=device)
    net = Network(
        [3, 5, 1],
        activation="relu",
        output_activation="sigmoid",
        loss="binary_cross_entropy",
        dropout=0.2,
        random_state=0,
        xp=xp,
        device=device,
    )
    history = net.fit(
        X,
        y,
        optimizer=Adam(0.05),
        epochs=4,
        batch_size=5,
        alpha=0.01,
        random_state=0,
        callbacks=[lambda info: None],
    )
    assert history.n_iter == 4
    assert net.forward(X).device == device
    with pytest.raises(RuntimeError, match="NumPy"):
        np.asarray(net.theta)  # the parameters are on device1 indeed


def test_outputs_are_arrays_of_the_network_library(array_library):
    xp, device = array_library
    net = Network(
        [2, 3, 2],
        activation="relu",
        output_activation="softmax",
        loss="cross_entropy",
        random_state=0,
        xp=xp,
        device=device,
    )
    out = net.forward([[0.5, -1.0]])  # a list is converted once, at the call
    library = "numpy" if xp is None else xp.__name__
    assert arrays.name(arrays.namespace_of(out)) == library
    assert arrays.same_device(arrays.device_of(out), net.device)
    record = net.backprop(net.asarray([[0.5, -1.0]]), net.asarray([[1.0, 0.0]]), record=True)
    assert all(arrays.name(arrays.namespace_of(r.delta)) == library for r in record.layers)


def test_to_copies_the_weights_exactly(array_library):
    xp, device = array_library
    net = Network([3, 4, 2], activation="tanh", dtype="float32", random_state=0)
    moved = net.to(xp, device)
    assert moved.dtype == np.float32
    np.testing.assert_array_equal(to_numpy(moved.theta), net.theta)
    back = moved.to(None)
    np.testing.assert_array_equal(back.theta, net.theta)
    moved.W[0][...] = 0.0  # a copy: the original is untouched
    assert np.any(net.W[0] != 0)


def test_a_network_pickles_with_its_library(array_library):
    xp, device = array_library
    net = Network([2, 2, 1], random_state=0, xp=xp, device=device)
    again = pickle.loads(pickle.dumps(net))
    assert arrays.name(again.xp) == arrays.name(net.xp)
    np.testing.assert_array_equal(to_numpy(again.theta), to_numpy(net.theta))
    again.W[0][...] = 1.0  # the views are views of the unpickled buffer
    assert float(to_numpy(again.theta)[0]) == 1.0


def test_model_files_from_any_library_and_back(tmp_path, array_library):
    xp, device = array_library
    net = Network([2, 3, 1], activation="tanh", random_state=0, xp=xp, device=device)
    nnmath.save(net, tmp_path / "net.safetensors")
    on_host = nnmath.load(tmp_path / "net.safetensors")
    np.testing.assert_array_equal(on_host.theta, to_numpy(net.theta))
    placed = nnmath.load(tmp_path / "net.safetensors", xp=xp, device=device)
    assert arrays.name(placed.xp) == arrays.name(net.xp)
    np.testing.assert_array_equal(to_numpy(placed.theta), to_numpy(net.theta))


def test_onnx_export_from_another_library(tmp_path):
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    net = Network(
        [3, 4, 2],
        activation="relu",
        output_activation="softmax",
        loss="cross_entropy",
        random_state=0,
        xp=torch,
    )
    path = nnmath.export_onnx(net, tmp_path / "net.onnx")
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    (out,) = ort.InferenceSession(str(path)).run(None, {"X": X})
    np.testing.assert_allclose(
        out, net.forward(torch.tensor(X, dtype=torch.float64)).numpy(), rtol=1e-5, atol=1e-6
    )


def test_explain_reads_a_network_of_another_library():
    torch = pytest.importorskip("torch")
    net = Network([3, 1], activation="sigmoid", loss="mse", random_state=0, xp=torch)
    trace = nnmath.explain(net, torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64), 1.0)
    expected = nnmath.explain(net.to(None), np.array([1.0, 0.0, 1.0]), 1.0)
    assert trace.cost == expected.cost
    assert any("NumPy copy" in note for note in trace.notes)


# ---------------------------------------------------------------- errors
def test_an_array_of_another_library_is_refused():
    torch = pytest.importorskip("torch")
    xp = pytest.importorskip("array_api_strict")
    net = Network([2, 1], xp=xp)
    with pytest.raises(
        ValueError, match="X is a torch array but the network lives on array_api_strict"
    ):
        net.forward(torch.zeros((1, 2), dtype=torch.float64))
    numpy_net = Network([2, 1])
    with pytest.raises(
        ValueError, match="X is a array_api_strict array but the network lives on numpy"
    ):
        numpy_net.forward(xp.zeros((1, 2)))


def test_an_array_on_another_device_is_refused():
    xp = pytest.importorskip("array_api_strict")
    net = Network([2, 1], xp=xp)  # the default device
    X = xp.zeros((1, 2), dtype=xp.float64, device=xp.Device("device1"))
    with pytest.raises(ValueError, match="X is on device .*device1.* but the network lives on"):
        net.forward(X)
    with pytest.raises(ValueError, match="device='gpu7' is not a device of array_api_strict"):
        Network([2, 1], xp=xp, device="gpu7")


def test_integer_tensors_are_refused():
    torch = pytest.importorskip("torch")
    net = Network([2, 1], xp=torch)
    with pytest.raises(
        ValueError, match="X is an integer torch array; the network computes in float64"
    ):
        net.forward(torch.zeros((1, 2), dtype=torch.int64))
    with pytest.raises(ValueError, match="y is an integer torch array"):
        net.cost(torch.zeros((1, 2), dtype=torch.float64), torch.zeros(1, dtype=torch.int64))


def test_a_tensor_that_requires_grad_is_refused():
    torch = pytest.importorskip("torch")
    net = Network([2, 1], xp=torch)
    X = torch.zeros((1, 2), dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match=r"X requires grad; .* pass X.detach\(\)"):
        net.forward(X)


def test_xp_must_be_an_array_library():
    with pytest.raises(ValueError, match="xp must be an array library"):
        Network([2, 1], xp="torch")


def test_dtype_takes_names_and_other_libraries_dtypes():
    torch = pytest.importorskip("torch")
    assert Network([2, 1], dtype="float32").dtype == np.float32
    assert Network([2, 1], dtype=torch.float32, xp=torch).theta.dtype == torch.float32
