"""The training loop: gradient descent against closed form, history, convergence,
seeds, dtypes, divergence and schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nnmath import SGD, Adam, DivergenceError, Network, training
from nnmath.core.optimizers import Adaptive, InverseScaling, StepDecay
from nnmath.data import sources


@pytest.fixture
def linear_data(rng):
    X = rng.normal(size=(5, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=5)


def _least_squares_step(w, b, X, y, lr):
    """One gradient-descent step on C = (1/n) Σ (x·w + b − y)², in closed form:
    ∂C/∂w = (2/n) Xᵀr, ∂C/∂b = (2/n) Σ r with r = Xw + b − y. Returns (w, b, C)."""
    r = X @ w + b - y
    n = len(y)
    return w - lr * 2 / n * X.T @ r, b - lr * 2 / n * r.sum(), float(np.mean(r**2))


def test_full_batch_is_the_articles_gradient_descent(linear_data):
    X, y = linear_data
    net = Network([3, 1], activation="identity", loss="mse", random_state=0)
    w, b = net.W[0][:, 0].copy(), float(net.b[0][0])
    history = net.fit(X, y, optimizer=SGD(learning_rate=0.05), epochs=3, tol=None)
    costs = []
    for _ in range(3):
        w, b, C = _least_squares_step(w, b, X, y, 0.05)
        costs.append(C)
    np.testing.assert_allclose(net.W[0][:, 0], w, rtol=1e-12)
    assert float(net.b[0][0]) == pytest.approx(b, rel=1e-12)
    # loss_curve: the cost of each epoch, computed before that epoch's update
    assert history.loss_curve == pytest.approx(costs, rel=1e-12)


def test_mini_batches_in_order(linear_data):
    X, y = linear_data
    net = Network([3, 1], activation="identity", loss="mse", random_state=0)
    w, b = net.W[0][:, 0].copy(), float(net.b[0][0])
    history = net.fit(
        X, y, optimizer=SGD(learning_rate=0.05), epochs=1, batch_size=2, shuffle=False, tol=None
    )
    # batches of rows [0, 1], [2, 3], [4]; the epoch's cost is the batch costs
    # weighted by batch size: (2 C₁ + 2 C₂ + 1 C₃) / 5
    total = 0.0
    for rows in ([0, 1], [2, 3], [4]):
        w, b, C = _least_squares_step(w, b, X[rows], y[rows], 0.05)
        total += C * len(rows)
    np.testing.assert_allclose(net.W[0][:, 0], w, rtol=1e-12)
    assert float(net.b[0][0]) == pytest.approx(b, rel=1e-12)
    assert history.loss_curve == pytest.approx([total / 5], rel=1e-12)


def test_sample_weight_equals_repeated_rows(linear_data):
    X, y = linear_data
    a = Network([3, 2, 1], activation="tanh", output_activation="identity", random_state=0)
    b = Network([3, 2, 1], activation="tanh", output_activation="identity", random_state=0)
    # weight 2 on row 0 is the same weighted mean as row 0 appearing twice
    a.fit(X, y, epochs=5, tol=None, shuffle=False, sample_weight=[2, 1, 1, 1, 1])
    b.fit(np.vstack([X[:1], X]), np.concatenate([y[:1], y]), epochs=5, tol=None, shuffle=False)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-12)


def test_tol_none_runs_exactly_the_epochs(linear_data):
    X, y = linear_data
    history = Network([3, 1], random_state=0).fit(X, y, epochs=7, tol=None)
    assert len(history.loss_curve) == history.n_iter == 7
    assert history.stop_reason == "epochs=7 reached"
    assert history.converged is False
    assert history.t == 7 * 5  # samples seen


def test_stops_on_tol_with_the_reason_in_words():
    # y = 2x + 1 is learnt, then the cost stops improving by tol
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = 2 * X[:, 0] + 1
    net = Network([1, 1], activation="identity", loss="mse", random_state=0)
    history = net.fit(
        X, y, optimizer=SGD(learning_rate=0.05), epochs=5000, tol=1e-6, n_iter_no_change=10
    )
    assert history.converged is True
    assert history.stop_reason == (
        "training loss improved by less than tol=1e-06 for 10 consecutive epochs"
    )
    assert len(history.loss_curve) == history.n_iter < 5000
    assert float(net.W[0][0, 0]) == pytest.approx(2.0, abs=1e-2)
    assert float(net.b[0][0]) == pytest.approx(1.0, abs=2e-2)
    # the rule: the last 11 epochs each failed to beat the best cost so far by tol
    curve = history.loss_curve
    best_before = [min(curve[:i]) for i in range(len(curve) - 11, len(curve))]
    assert all(c > best - 1e-6 for c, best in zip(curve[-11:], best_before, strict=True))


def test_same_seed_gives_bit_identical_training(rng):
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 2, 20)
    runs = []
    for _ in range(2):
        net = Network(
            [4, 6, 1],
            activation="relu",
            output_activation="sigmoid",
            loss="binary_cross_entropy",
            dropout=0.2,
            random_state=3,
        )
        h = net.fit(X, y, optimizer=Adam(0.01), epochs=5, batch_size=6, random_state=4, tol=None)
        runs.append((net.theta.copy(), h.loss_curve))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_float32_training_stays_float32(rng):
    X = rng.normal(size=(10, 3)).astype(np.float32)
    y = rng.normal(size=10).astype(np.float32)
    for opt in (SGD(0.05, momentum=0.9), Adam(0.01)):
        net = Network(
            [3, 4, 1],
            activation="tanh",
            output_activation="identity",
            dtype=np.float32,
            random_state=0,
        )
        history = net.fit(X, y, optimizer=opt, epochs=5, batch_size=4, tol=None)
        assert net.theta.dtype == np.float32
        assert net.forward(X).dtype == np.float32
        assert all(math.isfinite(c) for c in history.loss_curve)


def test_training_reduces_the_cost(rng):
    X = rng.normal(size=(40, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)
    net = Network(
        [2, 4, 1],
        activation="tanh",
        output_activation="sigmoid",
        loss="binary_cross_entropy",
        random_state=0,
    )
    history = net.fit(X, y, optimizer=SGD(0.5), epochs=200, tol=None)
    assert history.loss_curve[-1] < 0.5 * history.loss_curve[0]
    assert ((net.forward(X)[:, 0] > 0.5) == y).mean() >= 0.95


# ---------------------------------------------------------------- divergence
def test_huge_learning_rate_raises_divergence_error(linear_data):
    X, y = linear_data
    net = Network([3, 1], activation="identity", loss="mse", random_state=0)
    with pytest.raises(DivergenceError, match=r"training diverged in epoch \d+: the cost became"):
        net.fit(X, y, optimizer=SGD(learning_rate=1e4), epochs=1000, tol=None)
    assert np.isfinite(net.theta).all()


def test_overflowing_step_restores_finite_parameters(linear_data):
    # α = 1e308 makes the first update itself overflow to ±inf: θ goes back to the last
    # finite parameters, here the initial ones
    X, y = linear_data
    net = Network([3, 1], activation="identity", loss="mse", random_state=0)
    initial = net.theta.copy()
    with pytest.raises(
        DivergenceError, match="the gradient or the parameters became infinite or NaN"
    ) as info:
        net.fit(X, y, optimizer=SGD(learning_rate=1e308), epochs=1000)
    np.testing.assert_array_equal(net.theta, initial)
    assert info.value.history.stop_reason.startswith("diverged")


# ---------------------------------------------------------------- callbacks, schedules
def test_callback_returning_true_stops(linear_data):
    X, y = linear_data
    seen = []

    def stop_at_three(info):
        seen.append(info)
        return info["epoch"] == 3

    history = Network([3, 1], random_state=0).fit(X, y, epochs=100, callbacks=[stop_at_three])
    assert [i["epoch"] for i in seen] == [1, 2, 3]
    assert seen[0]["loss"] == history.loss_curve[0]
    assert history.stop_reason == "stopped by callback"
    assert len(history.loss_curve) == 3


def _rates(schedule, X, y, epochs, tol=None, n_iter_no_change=10):
    net = Network([3, 1], activation="identity", random_state=0)
    rates = []
    settings = training.Settings(
        max_epochs=epochs,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        schedule=schedule,
        callbacks=(lambda info: rates.append(info["learning_rate"]),),
    )
    history = training.train(
        net, X, y.reshape(-1, 1), SGD(0.1), settings, rng=np.random.default_rng(0)
    )
    return rates, history


def test_step_schedule_in_training(linear_data):
    rates, _ = _rates(StepDecay(step_size=2, gamma=0.5), *linear_data, epochs=5)
    assert rates == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_invscaling_schedule_counts_samples(linear_data):
    # α = 0.1/√(t + 1) with t = 0, 5, 10 samples seen (5 per full-batch epoch)
    rates, _ = _rates(InverseScaling(0.5), *linear_data, epochs=3)
    assert rates == pytest.approx([0.1, 0.1 / math.sqrt(6), 0.1 / math.sqrt(11)])


def test_adaptive_schedule_in_training(linear_data):
    # tol = 1e9: no epoch counts as an improvement after the first. With
    # n_iter_no_change = 2 the 4th epoch is a plateau (count 3 > 2): α ÷ 5 and count 0;
    # then every 3rd epoch, until the plateau at α = 0.1/5⁸ = 2.56e-7 ≤ 1e-6 stops it.
    rates, history = _rates(Adaptive(), *linear_data, epochs=1000, tol=1e9, n_iter_no_change=2)
    expected = [0.1] * 4 + [r for k in range(1, 9) for r in [0.1 / 5**k] * 3]
    assert rates == pytest.approx(expected)
    assert history.stop_reason.endswith("at the smallest learning rate")


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs must be an integer >= 1"),
        ({"batch_size": 0}, r"batch_size must be None \(full batch\) or an integer >= 1"),
        ({"tol": -1.0}, "tol must be a number >= 0 or None"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be an integer >= 1"),
        ({"optimizer": "sgd"}, "optimizer must be an nnmath.core.optimizers.Optimizer"),
        ({"sample_weight": [1.0, 2.0]}, r"sample_weight must have shape \(5,\)"),
    ],
)
def test_bad_fit_arguments(kwargs, match, linear_data):
    with pytest.raises(ValueError, match=match):
        Network([3, 1], random_state=0).fit(*linear_data, **kwargs)


def test_fit_checks_X_and_y(linear_data):
    X, y = linear_data
    with pytest.raises(ValueError, match="X has 5 samples but y has 4"):
        Network([3, 1], random_state=0).fit(X, y[:4])
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        Network([3, 1], random_state=0).fit(X, y)


# ---------------------------------------------------------------- fixes from review
def test_reusing_an_optimizer_starts_each_fit_afresh():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.normal(size=20)
    shared = Adam(learning_rate=0.01)
    a = Network([3, 4, 1], activation="tanh", output_activation="identity", random_state=0)
    b = Network([3, 4, 1], activation="tanh", output_activation="identity", random_state=0)
    other = Network([3, 2, 1], activation="tanh", output_activation="identity", random_state=0)
    a.fit(X, y, optimizer=shared, epochs=5, tol=None, random_state=1)
    other.fit(X, y, optimizer=shared, epochs=5, tol=None, random_state=1)  # another size
    a2 = Network([3, 4, 1], activation="tanh", output_activation="identity", random_state=0)
    a2.fit(X, y, optimizer=shared, epochs=5, tol=None, random_state=1)  # reused a third time
    b.fit(X, y, optimizer=Adam(learning_rate=0.01), epochs=5, tol=None, random_state=1)
    np.testing.assert_array_equal(a2.theta, b.theta)
    np.testing.assert_array_equal(a.theta, b.theta)


def test_a_batch_whose_weights_sum_to_zero_is_refused():
    X = np.ones((4, 2))
    net = Network([2, 1], activation="identity", random_state=0)
    with pytest.raises(ValueError, match="sample_weight: the weights of a batch"):
        net.fit(X, np.ones(4), sample_weight=[0, 0, 1, 1], batch_size=2, shuffle=False)


def test_fit_checks_alpha_and_accepts_numpy_tol():
    net = Network([2, 1], activation="identity", random_state=0)
    X, y = np.ones((4, 2)), np.ones(4)
    with pytest.raises(ValueError, match="alpha"):
        net.fit(X, y, alpha=-5)
    net.fit(X, y, tol=np.float32(1e-3), epochs=3)


def test_dropout_without_hidden_layers_is_refused():
    with pytest.raises(ValueError, match="dropout=0.5 needs hidden layers"):
        Network([3, 1], dropout=0.5)


def test_interrupt_keeps_the_weights_of_this_call_not_an_earlier_partial_fit():
    from nnmath import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(4,), learning_rate_init=0.05, random_state=0)
    for _ in range(30):
        clf.partial_fit(X, y, classes=[0, 1])

    def interrupt(est, info):
        raise KeyboardInterrupt

    clf.set_params(callbacks=[interrupt])
    flipped = 1 - y  # other labels: this epoch's cost is higher than the best so far
    clf.partial_fit(X, flipped)
    after = [W.copy() for W in clf.coefs_]
    assert clf.stop_reason_ == "interrupted (KeyboardInterrupt)"
    clf.set_params(callbacks=None)
    # The weights are this call's (one epoch on the flipped labels), not a snapshot
    # from an earlier chunk.
    reference = MLPClassifier((4,), learning_rate_init=0.05, random_state=0)
    for _ in range(30):
        reference.partial_fit(X, y, classes=[0, 1])
    reference.partial_fit(X, flipped)
    for W, R in zip(after, reference.coefs_, strict=True):
        np.testing.assert_array_equal(W, R)


# ---------------------------------------------------------------- the loop's set-up
def test_a_full_batch_is_not_shuffled(linear_data):
    # One batch of all samples is the same gradient in any order, so the loop skips the
    # permutation: shuffle=True and shuffle=False train to the same bits.
    X, y = linear_data
    nets = [Network([3, 4, 1], activation="tanh", loss="mse", random_state=0) for _ in (0, 1)]
    for net, shuffle in zip(nets, (True, False), strict=True):
        net.fit(X, y, epochs=20, tol=None, shuffle=shuffle, random_state=1)
    np.testing.assert_array_equal(nets[0].theta, nets[1].theta)


def test_a_callback_may_reset_the_optimizer(linear_data):
    # The state is set up once per fit; a reset in between starts it afresh, not a crash.
    X, y = linear_data
    opt = Adam(learning_rate=0.01)
    net = Network([3, 1], activation="identity", random_state=0)
    history = net.fit(
        X, y, optimizer=opt, epochs=5, batch_size=2, tol=None, callbacks=[lambda info: opt.reset()]
    )
    assert len(history.loss_curve) == 5
    assert opt.t == 0  # reset after the last epoch
    net.fit(X, y, optimizer=opt, epochs=2, batch_size=2, tol=None, callbacks=[])
    assert opt.t == 2 * 3  # 3 batches of ≤ 2 samples per epoch, counted from the reset


def test_an_optimizer_with_its_own_step_is_called_through_it(linear_data):
    X, y = linear_data

    class Counting(SGD):
        calls = 0

        def step(self, params, grads, learning_rate=None):
            Counting.calls += 1
            super().step(params, grads, learning_rate)

    net = Network([3, 1], activation="identity", random_state=0)
    net.fit(X, y, optimizer=Counting(learning_rate=0.01), epochs=4, batch_size=2, tol=None)
    assert Counting.calls == 4 * 3


def test_callbacks_run_under_the_callers_error_settings(linear_data):
    X, y = linear_data
    net = Network([3, 1], activation="identity", random_state=0)

    def divide_by_zero(info):
        return np.float64(1.0) / np.float64(0.0)

    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        net.fit(X, y, epochs=2, tol=None, callbacks=[divide_by_zero])
    # ... while the overflow of a diverging run stays a DivergenceError, even so
    with np.errstate(all="raise"), pytest.raises(DivergenceError):
        net.fit(X * 1e3, y, optimizer=SGD(learning_rate=1e6), epochs=50, tol=None)


# ---------------------------------------------------------------------- chunked data
def _parts(X, Y, w, sizes):
    edges = np.cumsum([0, *sizes])
    return [
        (X[a:b], Y[a:b], None if w is None else w[a:b])
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]


def _chunks(parts):
    return sources.Chunks(
        [lambda p=p: p for p in parts],
        n_samples=sum(p[0].shape[0] for p in parts),
        total_weight=None if parts[0][2] is None else float(sum(p[2].sum() for p in parts)),
    )


def test_the_shares_of_chunks_add_up_to_the_full_batch(rng):
    X, Y, w = rng.normal(size=(23, 3)), rng.normal(size=(23, 2)), rng.uniform(0.1, 2, 23)
    net = Network([3, 4, 2], activation="tanh", output_activation="identity", random_state=0)
    whole = net.backprop(X, Y, w, alpha=0.3)
    grad = net.grad.copy()
    data = _chunks(_parts(X, Y, w, [5, 10, 8]))
    assert data.cost_and_gradient(net, alpha=0.3) == pytest.approx(whole, rel=1e-14)
    np.testing.assert_allclose(net.grad, grad, rtol=1e-12, atol=1e-15)
    assert data.objective(net, alpha=0.3) == pytest.approx(whole, rel=1e-14)


@pytest.mark.parametrize(
    ("n_samples", "counted"), [(30, "23"), (22, "at least 23"), (4, "at least [78]")]
)
@pytest.mark.parametrize(
    "pass_",
    [
        lambda data, net, rng: list(data.epoch(rng, 4)),
        lambda data, net, rng: data.cost_and_gradient(net),
        lambda data, net, rng: data.objective(net),
    ],
    ids=["epoch", "cost_and_gradient", "objective"],
)
def test_chunks_whose_rows_disagree_with_n_samples_are_refused(n_samples, counted, pass_, rng):
    X, Y = rng.normal(size=(23, 3)), rng.normal(size=(23, 2))
    parts = _parts(X, Y, None, [8, 8, 7])  # 23 rows; an epoch's first chunk holds 7 or 8
    data = sources.Chunks([lambda p=p: p for p in parts], n_samples=n_samples)
    net = Network([3, 2], output_activation="identity", random_state=0)
    message = f"n_samples={n_samples}, but its 3 chunks hold {counted} rows"
    with pytest.raises(ValueError, match=message):
        pass_(data, net, np.random.default_rng(0))


def test_training_on_chunks_that_disagree_with_n_samples_is_refused(rng):
    X = rng.normal(size=(23, 1))
    parts = _parts(X, 2 * X, None, [5, 10, 8])
    data = sources.Chunks([lambda p=p: p for p in parts], n_samples=46)
    net = Network([1, 1], activation="identity", random_state=0)
    with pytest.raises(ValueError, match=r"n_samples=46, but its 3 chunks hold 23 rows"):
        training.train(
            net,
            data,
            None,
            SGD(0.1),
            training.Settings(max_epochs=3, batch_size=4),
            rng=np.random.default_rng(0),
        )


def test_chunk_batches_visit_every_row_once_in_full_batches(rng):
    X = np.arange(23.0).reshape(-1, 1)
    parts = _parts(X, X, X[:, 0], [5, 10, 8])
    batches = list(sources.chunk_batches(parts, 4, rng))
    assert [rows for *_, rows in batches] == [4] * 5 + [3]  # only the last one is short
    seen = np.concatenate([Xb[:, 0] for Xb, *_ in batches])
    assert sorted(seen) == list(range(23))
    for Xb, Yb, wb, _ in batches:  # rows stay together
        np.testing.assert_array_equal(Xb, Yb)
        np.testing.assert_array_equal(Xb[:, 0], wb)
    in_order = list(sources.chunk_batches(parts, 4))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in in_order])[:, 0], np.arange(23))


def test_an_epoch_visits_the_chunks_in_a_drawn_order():
    X = np.arange(30.0).reshape(-1, 1)
    data = _chunks(_parts(X, X, None, [10, 10, 10]))

    def chunk_order(seed):
        # batch size = chunk size: each batch holds the rows of one chunk
        batches = [Xb[:, 0] // 10 for Xb, *_ in data.epoch(np.random.default_rng(seed), 10)]
        assert all(len(set(b)) == 1 for b in batches)
        return tuple(int(b[0]) for b in batches)

    orders = {chunk_order(seed) for seed in range(8)}
    assert len(orders) > 1
    assert all(sorted(o) == [0, 1, 2] for o in orders)
    assert chunk_order(3) == chunk_order(3)  # same seed, same epoch


def test_one_chunk_trains_like_arrays_in_memory(rng):
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    settings = training.Settings(max_epochs=5, batch_size=8)
    a = Network([3, 5, 1], activation="relu", output_activation="identity", random_state=0)
    b = Network([3, 5, 1], activation="relu", output_activation="identity", random_state=0)
    training.train(a, X, Y, Adam(0.01), settings, rng=np.random.default_rng(1))
    training.train(
        b, _chunks([(X, Y, None)]), None, Adam(0.01), settings, rng=np.random.default_rng(1)
    )
    np.testing.assert_array_equal(a.theta, b.theta)


def test_lbfgs_on_chunks_equals_lbfgs_in_memory(rng):
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    settings = training.Settings(max_epochs=20, alpha=0.01, tol=1e-12)
    a = Network([3, 5, 1], activation="tanh", output_activation="identity", random_state=0)
    b = Network([3, 5, 1], activation="tanh", output_activation="identity", random_state=0)
    training.train_lbfgs(a, X, Y, settings)
    training.train_lbfgs(b, _chunks(_parts(X, Y, None, [7, 20, 13])), None, settings)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-8, atol=1e-10)
