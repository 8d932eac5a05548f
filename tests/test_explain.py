"""Tests of nnmath.explain: every number of a trace against hand arithmetic, against
backpropagation (Network.cost_and_gradients) and against one real training step."""

from __future__ import annotations

import copy
import json
import math
import re

import numpy as np
import pytest

import nnmath
from conftest import fit_quietly
from nnmath import SGD, MLPClassifier, MLPRegressor, Network, Perceptron, Trace, explain
from nnmath.tracing import EXPLODING, VANISHING, explain_demo

X4 = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
Y4 = np.array([0, 0, 1, 1])


def _article_perceptron(w=(0.5, -0.4, 0.2), b=0.1, learning_rate=0.5) -> Perceptron:
    """A fitted sigmoid Perceptron whose weights are then set to known values."""
    p = Perceptron(learning_rate=learning_rate, max_iter=1, tol=None, random_state=0)
    p.fit(X4, Y4)
    p.network_.W[0][:, 0] = w
    p.network_.b[0][:] = b
    return p


def _values(trace: Trace) -> dict[str, object]:
    return {step.symbol: step.value for step in trace}


# ---------------------------------------------------------------------------- the article
def test_article_perceptron_step_number_by_number():
    p = _article_perceptron()
    trace = explain(p, np.array([1.0, 0.0, 1.0]), 1)  # α = p.learning_rate = 0.5
    # Hand arithmetic, x = [1, 0, 1], y = 1, w = [0.5, −0.4, 0.2], b = 0.1, α = 0.5:
    # z = 0.5·1 + (−0.4)·0 + 0.2·1 + 0.1 = 0.8
    z = 0.5 * 1 + (-0.4) * 0 + 0.2 * 1 + 0.1
    # ŷ = σ(0.8) = 1 / (1 + e^(−0.8)) = 1 / 1.449329 = 0.689974
    y_hat = 1 / (1 + math.exp(-z))
    # L = (y − ŷ)² = (1 − 0.689974)² = 0.096116 ; C = L (one sample)
    loss = (1 - y_hat) ** 2
    # ∂C/∂ŷ = 2(ŷ − y) = 2·(0.689974 − 1) = −0.620051
    dC_dyhat = 2 * (y_hat - 1)
    # ∂ŷ/∂z = ŷ(1 − ŷ) = 0.689974·0.310026 = 0.213910
    dyhat_dz = y_hat * (1 - y_hat)
    # δ = ∂C/∂ŷ · ∂ŷ/∂z = −0.620051·0.213910 = −0.132635
    delta = dC_dyhat * dyhat_dz
    # ∂z/∂w = x = [1, 0, 1];  ∂z/∂b = 1
    # ∂C/∂w = δ·x = [−0.132635, 0, −0.132635];  ∂C/∂b = δ·1 = −0.132635
    dC_dw = [delta * 1, delta * 0, delta * 1]
    dC_db = delta
    # w ← w − α·∂C/∂w = [0.5 + 0.066317, −0.4, 0.2 + 0.066317] = [0.566317, −0.4, 0.266317]
    # b ← b − α·∂C/∂b = 0.1 + 0.066317 = 0.166317
    w_new = [0.5 - 0.5 * dC_dw[0], -0.4 - 0.5 * dC_dw[1], 0.2 - 0.5 * dC_dw[2]]
    b_new = 0.1 - 0.5 * dC_db

    steps = list(trace)
    assert [s.symbol for s in steps] == [
        "z", "ŷ", "L", "C", "∂C/∂ŷ", "∂ŷ/∂z", "δ", "∂z/∂w", "∂z/∂b", "∂C/∂w", "∂C/∂b", "w", "b",
    ]  # fmt: skip
    v = [s.value for s in steps]
    approx = pytest.approx
    assert v[0].item() == approx(z, rel=1e-14)
    assert v[1].item() == approx(y_hat, rel=1e-14)
    assert v[2].item() == approx(loss, rel=1e-12)
    assert v[3] == approx(loss, rel=1e-12)
    assert v[4].item() == approx(dC_dyhat, rel=1e-12)
    assert v[5].item() == approx(dyhat_dz, rel=1e-12)
    assert v[6].item() == approx(delta, rel=1e-12)
    assert v[7].ravel().tolist() == [1.0, 0.0, 1.0]
    assert v[8] == 1.0
    assert v[9].ravel() == approx(dC_dw, rel=1e-12)
    assert v[10].item() == approx(dC_db, rel=1e-12)
    assert v[11].ravel() == approx(w_new, rel=1e-12)
    assert v[12].item() == approx(b_new, rel=1e-12)
    # The substituted values are the inputs of each equation.
    assert steps[0].substituted["w"].ravel().tolist() == [0.5, -0.4, 0.2]
    assert steps[0].substituted["x"].ravel().tolist() == [1.0, 0.0, 1.0]
    assert steps[0].substituted["b"].tolist() == [0.1]
    assert steps[11].substituted["α"] == 0.5
    # The arithmetic written out for one sample.
    assert steps[0].expanded == "0.5·1 + (-0.4)·0 + 0.2·1 + 0.1"
    assert steps[1].expanded == "σ(0.8)"
    assert trace.cost == approx(loss, rel=1e-12)
    assert trace.learning_rate == 0.5


def test_demo_batch_step_against_independent_arithmetic():
    trace = explain_demo()  # w = [0.5, −0.4, 0.2], b = 0.1, α = 0.5, 4 samples
    w, b, a, y = np.array([0.5, -0.4, 0.2]), 0.1, 0.5, Y4.astype(float)
    z = X4 @ w + b  # [0.3, −0.1, 0.8, 0.4]
    y_hat = 1 / (1 + np.exp(-z))
    L = (y - y_hat) ** 2
    C = L.mean()  # (1/n) Σ Lᵢ
    dC_dyhat = 2 * (y_hat - y) / 4  # the 1/n of the mean included
    dyhat_dz = y_hat * (1 - y_hat)
    delta = dC_dyhat * dyhat_dz
    dC_dw = X4.T @ delta  # Σᵢ δᵢ xᵢ
    dC_db = delta.sum()
    v = _values(trace)
    np.testing.assert_allclose(v["z"].ravel(), z, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(v["ŷ"].ravel(), y_hat, rtol=1e-14)
    np.testing.assert_allclose(v["L"], L, rtol=1e-12)
    assert v["C"] == pytest.approx(C, rel=1e-12)
    np.testing.assert_allclose(v["∂C/∂ŷ"].ravel(), dC_dyhat, rtol=1e-12)
    np.testing.assert_allclose(v["∂ŷ/∂z"].ravel(), dyhat_dz, rtol=1e-12)
    np.testing.assert_allclose(v["δ"].ravel(), delta, rtol=1e-12)
    np.testing.assert_array_equal(v["∂z/∂w"], X4)
    np.testing.assert_allclose(v["∂C/∂w"].ravel(), dC_dw, rtol=1e-12)
    assert v["∂C/∂b"].item() == pytest.approx(dC_db, rel=1e-12)
    np.testing.assert_allclose(v["w"].ravel(), w - a * dC_dw, rtol=1e-12)
    assert v["b"].item() == pytest.approx(b - a * dC_db, rel=1e-12)


def test_demo_options_and_bad_arguments():
    assert explain_demo(sample=2).n_samples == 1
    assert explain_demo(learning_rate=0.1).learning_rate == 0.1
    assert explain_demo("step").rule == "rosenblatt"
    with pytest.raises(ValueError, match="activation must be 'sigmoid' or 'step'"):
        explain_demo("tanh")
    with pytest.raises(ValueError, match="sample must be a row index 0–3; got 4"):
        explain_demo(sample=4)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        explain_demo(learning_rate=0)


# ---------------------------------------------------------------------------- Rosenblatt
def test_step_perceptron_shows_rosenblatts_rule():
    p = Perceptron(activation="step", learning_rate=0.5, max_iter=1, tol=None, random_state=0)
    p.fit(X4, Y4)
    p.network_.W[0][:, 0] = [0.5, -0.4, 0.2]
    p.network_.b[0][:] = 0.1
    trace = explain(p, X4[0], 0)
    # x = [0, 0, 1], y = 0: z = 0.5·0 + (−0.4)·0 + 0.2·1 + 0.1 = 0.3; ŷ = step(0.3) = 1
    # y − ŷ = 0 − 1 = −1
    # w ← w + α(y − ŷ)x = [0.5, −0.4, 0.2] + 0.5·(−1)·[0, 0, 1] = [0.5, −0.4, −0.3]
    # b ← b + α(y − ŷ) = 0.1 + 0.5·(−1) = −0.4
    assert trace.rule == "rosenblatt"
    assert trace.gradients is None
    assert trace.summary == []
    assert [s.equation for s in trace][3] == "w ← w + α(y − ŷ)x"
    assert [s.equation for s in trace][4] == "b ← b + α(y − ŷ)"
    v = [s.value for s in trace]
    assert v[0].item() == pytest.approx(0.3)
    assert v[1].item() == 1.0
    assert v[2].item() == -1.0
    np.testing.assert_allclose(v[3], [0.5, -0.4, -0.3])
    assert v[4].item() == pytest.approx(-0.4)
    assert "w ← w + α(y − ŷ)x" in str(trace)
    assert r"\alpha" in trace.to_markdown()


def test_rosenblatt_pass_is_the_perceptrons_own_pass():
    # One more pass of explain after one fitted pass = two fitted passes.
    kw = dict(activation="step", learning_rate=0.3, tol=None, random_state=0)
    X = np.random.default_rng(1).normal(size=(10, 3))
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    p1 = Perceptron(max_iter=1, **kw).fit(X, y)
    p2 = Perceptron(max_iter=2, **kw).fit(X, y)
    trace = explain(p1, X, y)
    for new, fitted in zip(trace.new_parameters, p2.network_.parameters(), strict=True):
        np.testing.assert_array_equal(new.reshape(fitted.shape), fitted)


# ---------------------------------------------------------------------------- networks
PAIRINGS = [
    (["relu", "tanh"], "softmax", "cross_entropy"),  # fused δ = ŷ − y
    (["tanh", "sigmoid"], "sigmoid", "binary_cross_entropy"),  # fused δ = ŷ − y
    (["sigmoid", "leaky_relu"], "sigmoid", "mse"),  # ∂C/∂ŷ · ∂ŷ/∂z
    (["tanh", "relu"], "softmax", "mse"),  # softmax Jacobian
    (["relu", "relu"], "identity", "squared_error"),  # fused with a 1/k factor
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("hidden", "output", "loss"), PAIRINGS)
def test_two_hidden_layer_trace_equals_backpropagation(hidden, output, loss, dtype, rng):
    net = Network([4, 5, 3, 2], hidden, output, loss, dtype=dtype, random_state=0)
    X = rng.normal(size=(6, 4))
    Y = np.eye(2)[rng.integers(0, 2, size=6)]
    trace = explain(net, X, Y, l2_penalty=0.3)
    cost, grads = net.cost_and_gradients(X, Y, alpha=0.3)
    assert trace.cost == cost
    assert len(trace.gradients) == 6
    for mine, theirs in zip(trace.gradients, grads, strict=True):
        assert mine.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(mine, theirs)  # the same arithmetic, bit for bit
    # The trace's own steps hold the same gradients.
    for l in (1, 2, 3):
        np.testing.assert_array_equal(trace.find(f"∂C/∂W{'₀₁₂₃'[l]}").value, grads[2 * l - 2])
        np.testing.assert_array_equal(trace.find(f"∂C/∂b{'₀₁₂₃'[l]}").value, grads[2 * l - 1])


def test_deep_trace_follows_the_math_in_order(rng):
    net = Network([4, 5, 3, 2], ["relu", "tanh"], "sigmoid", "mse", random_state=0)
    trace = explain(net, rng.normal(size=4), [0.0, 1.0])
    symbols = [s.symbol for s in trace]
    assert symbols[:6] == ["z₁", "a₁", "z₂", "a₂", "z₃", "ŷ"]
    assert symbols[6:11] == ["L", "C", "∂C/∂ŷ", "∂ŷ/∂z₃", "δ₃"]
    # From the output back, each δ from the next layer's.
    order = [symbols.index(s) for s in ["∂C/∂W₃", "∂C/∂a₂", "δ₂", "∂C/∂W₂", "δ₁", "∂C/∂W₁"]]
    assert order == sorted(order)
    assert symbols[-6:] == ["W₁", "b₁", "W₂", "b₂", "W₃", "b₃"]
    phases = [s.phase for s in trace]
    assert phases == sorted(phases, key=["forward", "cost", "backward", "update"].index)
    backward_layers = [s.layer for s in trace if s.phase == "backward"]
    assert backward_layers == sorted(backward_layers, reverse=True)
    # δ₂ = (δ₃ W₃ᵀ) ⊙ (1 − a₂²), computed independently.
    v = _values(trace)
    expected = (v["δ₃"] @ net.W[2].T) * (1 - v["a₂"] ** 2)
    np.testing.assert_allclose(v["δ₂"], expected, rtol=1e-12)


def test_fused_output_step_is_shown_for_canonical_pairs(rng):
    for out, loss in [("softmax", "cross_entropy"), ("sigmoid", "binary_cross_entropy")]:
        net = Network([3, 4, 2], "tanh", out, loss, random_state=0)
        X, Y = rng.normal(size=(2, 3)), np.array([[1.0, 0.0], [0.0, 1.0]])
        trace = explain(net, X, Y)
        step = trace.find("δ₂")
        assert step.name == "output error δ (fused)"
        assert "(ŷ − y)/n" in step.equation
        np.testing.assert_array_equal(step.value, (trace.find("ŷ").value - Y) / 2)
        assert "∂C/∂ŷ" not in [s.symbol for s in trace]


def test_softmax_without_its_loss_shows_the_jacobian(rng):
    net = Network([3, 2, 3], "tanh", "softmax", "mse", random_state=0)
    trace = explain(net, rng.normal(size=(2, 3)), np.eye(3)[[0, 2]])
    assert trace.find("∂ŷ/∂z₂").value.shape == (2, 3, 3)
    assert "softmax Jacobian" in trace.find("δ₂").equation


def test_new_parameters_are_one_real_training_step(rng):
    net = Network([3, 4, 1], "tanh", "sigmoid", "binary_cross_entropy", random_state=0)
    X, y = rng.normal(size=(8, 3)), rng.integers(0, 2, size=8).astype(float)
    trace = explain(net, X, y, learning_rate=0.3)
    trained = copy.deepcopy(net)
    trained.fit(X, y, optimizer=SGD(learning_rate=0.3), epochs=1, shuffle=False, tol=None)
    for new, fitted in zip(trace.new_parameters, trained.parameters(), strict=True):
        np.testing.assert_array_equal(new, fitted)


def test_the_model_is_left_unchanged(rng):
    net = Network([3, 4, 2], "relu", "softmax", "cross_entropy", random_state=0)
    X, Y = rng.normal(size=(5, 3)), np.eye(2)[[0, 1, 1, 0, 1]]
    net.cost_and_gradients(X, Y)
    theta, grad = net.theta.tobytes(), net.grad.tobytes()
    explain(net, X, Y)
    assert net.theta.tobytes() == theta
    assert net.grad.tobytes() == grad
    for p in (_article_perceptron(), Perceptron(activation="step", random_state=0).fit(X4, Y4)):
        before = p.network_.theta.tobytes()
        explain(p, X4, Y4)
        assert p.network_.theta.tobytes() == before


# ---------------------------------------------------------------------------- estimators
@pytest.mark.parametrize(
    ("cls", "kind"),
    [(MLPClassifier, "multiclass"), (MLPClassifier, "binary"), (MLPRegressor, "regression")],
)
def test_mlp_estimator_trace_is_its_next_training_step(cls, kind, rng):
    X = rng.normal(size=(12, 4))
    y = {
        "multiclass": np.array(["a", "b", "c"] * 4),
        "binary": np.array([3, 7] * 6),
        "regression": rng.normal(size=12),
    }[kind]
    kw = dict(
        hidden_layer_sizes=(5,),
        solver="gd",
        learning_rate_init=0.05,
        alpha=0.01,
        shuffle=False,
        random_state=0,
    )
    one = fit_quietly(cls(max_iter=1, **kw), X, y)
    two = fit_quietly(cls(max_iter=2, **kw), X, y)
    before = one.network_.theta.tobytes()
    trace = explain(one, X, y)
    assert one.network_.theta.tobytes() == before
    assert trace.learning_rate == 0.05
    assert trace.l2_penalty == 0.01
    # The cost training recorded (L2 term included); the loop records Σ C·n_batch / n,
    # which may round in the last bit.
    assert trace.cost == pytest.approx(two.loss_curve_[1], rel=1e-15, abs=0)
    for new, fitted in zip(trace.new_parameters, two.network_.parameters(), strict=True):
        np.testing.assert_array_equal(new, fitted)
    assert not trace.notes


def test_adam_estimator_gets_a_note_and_one_sample_label(rng):
    X, y = rng.normal(size=(9, 3)), np.array(["x", "y", "z"] * 3)
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0), X, y)
    trace = explain(clf, X[0], "y")
    np.testing.assert_array_equal(trace.find("L").substituted["y"], [[0.0, 1.0, 0.0]])
    assert trace.learning_rate == clf.learning_rate_init
    assert "solver='adam'" in trace.notes[0]
    assert "note: the model trains with solver='adam'" in str(trace)


# ---------------------------------------------------------------------------- renderings
def test_text_rendering_uses_the_math_symbols():
    trace = explain_demo(sample=2)
    text = str(trace)
    for symbol in ("σ", "∂C/∂ŷ", "∂ŷ/∂z", "α", "←", "Σᵢ", "ŷ = σ(z)"):
        assert symbol in text
    assert "z = 0.5·1 + (-0.4)·0 + 0.2·1 + 0.1 = 0.8" in text
    assert "w ← w − α·∂C/∂w" in text
    assert "Gradient summary" in text
    # Aligned: every equation of a step starts in the same column.
    lines = [ln for ln in text.splitlines() if re.match(r"\s*\d+\. ", ln)]
    columns = {ln.index(step.equation) for ln, step in zip(lines, trace, strict=True)}
    assert len(lines) == 13
    assert len(columns) == 1


def test_markdown_rendering_writes_latex_math():
    md = explain_demo(sample=2).to_markdown()
    assert md.startswith("### ")
    assert r"$\hat{y} = \sigma (z);" in md
    assert r"\frac{\partial C}{\partial \hat{y}}" in md
    assert r"w \leftarrow  w - \alpha \cdot \frac{\partial C}{\partial w}" in md
    assert r"\begin{bmatrix}0.5 \\ -0.4 \\ 0.2\end{bmatrix}" in md
    assert md.count("$$") % 2 == 0
    for line in md.splitlines():  # inline math is balanced on every line
        if not line.startswith("$$"):
            assert line.count("$") % 2 == 0, line
    assert "| layer | activation |" in md


def test_to_dict_is_json_and_round_trips_at_full_precision(rng):
    net = Network([3, 4, 2], "tanh", "softmax", "cross_entropy", random_state=0)
    X, Y = rng.normal(size=(3, 3)), np.eye(2)[[0, 1, 0]]
    trace = explain(net, X, Y)
    d = json.loads(json.dumps(trace.to_dict()))
    assert set(d) >= {"steps", "cost", "gradients", "summary", "learning_rate"}
    assert len(d["steps"]) == len(trace)
    for step, loaded in zip(trace, d["steps"], strict=True):
        assert {"name", "equation", "substituted", "value"} <= set(loaded)
        assert loaded["name"] == step.name
        assert loaded["equation"] == step.equation
        np.testing.assert_array_equal(np.array(loaded["value"]), step.value)
        for k, v in step.substituted.items():
            np.testing.assert_array_equal(np.array(loaded["substituted"][k]), v)
    for g, loaded in zip(trace.gradients, d["gradients"], strict=True):
        np.testing.assert_array_equal(np.array(loaded), g)
    assert d["cost"] == trace.cost
    assert json.loads(trace.render("json"))["cost"] == trace.cost
    assert trace.render("markdown") == trace.to_markdown()
    with pytest.raises(ValueError, match="format must be 'text', 'markdown' or 'json'"):
        trace.render("html")


def test_large_arrays_are_summarized_in_text_but_not_in_dict(rng):
    net = Network([784, 16, 10], "relu", "softmax", "cross_entropy", random_state=0)
    x = rng.random(784)
    trace = explain(net, x, np.eye(10)[3])
    text, md = str(trace), trace.to_markdown()
    assert "(784, 16) array: ‖·‖ = " in text
    assert ", first [" in text
    assert max(len(line) for line in text.splitlines()) < 400
    assert max(len(line) for line in md.splitlines()) < 400
    assert r"\text{(784, 16) array: }" in md
    W1 = trace.find("W₁")  # the update step
    assert np.array(trace.to_dict()["steps"][trace.steps.index(W1)]["value"]).shape == (784, 16)
    # Twelve numbers or fewer are written out in full.
    assert "b₃" not in text
    assert "[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]" in text


# ---------------------------------------------------------------------------- summary
def test_summary_flags_vanishing_gradients_and_saturated_units(rng):
    net = Network([3, 4, 4, 1], "sigmoid", random_state=0)
    net.W[0][...] = 60.0  # the first layer's sigmoids saturate: σ'(z) ≈ e^(−z) ≈ 0
    X = np.abs(rng.normal(size=(40, 3))) + 0.5  # z ≥ 60·1.5 = 90 for every row: a = 1
    trace = explain(net, X, np.ones(40))
    first = trace.summary[0]
    assert first.vanishing
    assert first.sample_grad_norm < VANISHING
    assert "vanishing gradient" in first.flags[0]
    assert first.saturated_units == [0, 1, 2, 3]
    assert "saturated sigmoid units: 4 of 4 (within 1% of its bounds for all 40 rows)" in str(trace)
    assert not trace.summary[-1].vanishing
    assert trace.summary[-1].saturated_units is None  # the output layer is not judged so
    assert "vanishing gradient" in str(trace)
    assert trace.units == "units judged over the step's 40 rows"


def test_summary_flags_exploding_gradients(rng):
    net = Network([3, 4, 1], "identity", loss="mse", random_state=0)
    net.W[0][...] = 100.0
    net.W[1][...] = 100.0
    trace = explain(net, rng.normal(size=(30, 3)), np.zeros(30))
    assert all(s.exploding for s in trace.summary)
    assert min(s.grad_norm for s in trace.summary) > EXPLODING
    assert "exploding gradient" in trace.to_markdown()


def test_summary_flags_dead_relu_units(rng):
    net = Network([3, 5, 1], "relu", "sigmoid", "binary_cross_entropy", random_state=0)
    net.b[0][[1, 3]] = -100.0  # z < 0 for any reasonable input: σ(z) = 0 always
    X = rng.normal(size=(36, 3))
    trace = explain(net, X, np.ones(36))
    hidden = trace.summary[0]
    assert hidden.dead_units == [1, 3]
    assert "dead ReLU units: 2 of 5 (0 for all 36 rows): units 1, 3" == hidden.flags[-1]
    assert trace.summary[1].dead_units is None  # a sigmoid layer has no dead-unit check
    np.testing.assert_array_equal(trace.gradients[0][:, [1, 3]], 0.0)
    assert "dead ReLU units: 2 of 5" in str(trace)
    assert trace.to_dict()["summary"][0]["dead_units"] == [1, 3]


def _relu_net_with_dead_units() -> Network:
    """A ReLU layer of 8 units, three of them negative for most inputs, one for all."""
    net = Network([4, 8, 1], "relu", "identity", "mse", random_state=3)
    net.b[0][[0, 5, 6]] = -2.5
    net.b[0][2] = -1000.0
    return net


@pytest.mark.parametrize("m", [30, 200, 2500])
def test_dead_units_are_counted_over_the_sample_as_numpy_counts_them(rng, m):
    net = _relu_net_with_dead_units()
    Xs, ys = rng.normal(size=(m, 4)), rng.normal(size=m)
    trace = explain(net, Xs[5], ys[5], sample=(Xs, ys))
    # The rows judged: all of them, or 1,000 drawn without replacement with seed 0.
    rows = np.arange(m) if m <= 1000 else np.sort(
        np.random.default_rng(0).choice(m, size=1000, replace=False)
    )  # fmt: skip
    a = np.maximum(0.0, Xs[rows] @ net.W[0] + net.b[0])  # the hidden layer, by hand
    expected = [j for j in range(8) if not a[:, j].any()]
    assert 2 in expected
    hidden = trace.summary[0]
    assert hidden.dead_units == expected
    assert hidden.n_rows == len(rows)
    assert f"dead ReLU units: {len(expected)} of 8 (0 for all {len(rows):,} rows)" in str(trace)
    if m > 1000:
        assert trace.units == "units judged over 1,000 rows sampled (seed 0) of the sample's 2,500"
    else:
        assert trace.units == f"units judged over the sample's {m} rows"
    # The step itself is still the one row's.
    assert trace.n_samples == 1


def test_one_row_is_not_judged_and_says_why(rng):
    net = _relu_net_with_dead_units()
    X = rng.normal(size=(29, 4))
    for x, y, sample in [
        (X[0], 0.5, None),
        (X[0], 0.5, (X, np.zeros(29))),
        (X, np.zeros(29), None),
    ]:
        trace = explain(net, x, y, sample=sample)
        assert all(not s.judged and s.dead_units is None and s.flags == [] for s in trace.summary)
        m = 1 if sample is None and x.ndim == 1 else 29
        assert trace.units.startswith(
            f"units not judged: {m} row{'s are' if m > 1 else ' is'} too few"
        )
        assert "(at least 30 are needed" in trace.units
        text = str(trace)
        assert trace.units in text
        assert "dead ReLU" not in text
        assert text.rstrip().endswith("not judged")
        assert trace.to_dict()["units"] == trace.units
        assert trace.to_dict()["summary"][0]["judged"] is False


def test_healthy_layers_have_no_flags(rng):
    net = Network([3, 4, 1], "tanh", loss="mse", random_state=0)
    trace = explain(net, rng.normal(size=(40, 3)), rng.normal(size=40))
    assert [s.flags for s in trace.summary] == [[], []]
    assert [s.saturated_units for s in trace.summary] == [[], None]
    assert str(trace).splitlines()[-1].endswith("ok")


# ---------------------------------------------------------------------------- bad input
def test_bad_input_messages(rng):
    net = Network([3, 1], random_state=0)
    with pytest.raises(TypeError, match="model must be an nnmath Perceptron, Network"):
        explain("a model", X4, Y4)
    with pytest.raises(ValueError, match="not fitted"):
        explain(MLPClassifier(), X4, Y4)
    with pytest.raises(ValueError, match="x has 2 features but the network expects 3"):
        explain(net, [1.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="x must be one sample of shape"):
        explain(net, np.zeros((1, 1, 3)), 1.0)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        explain(net, X4, Y4, learning_rate=-1)
    with pytest.raises(ValueError, match="l2_penalty must be a finite number >= 0"):
        explain(net, X4, Y4, l2_penalty=-0.1)
    with pytest.raises(ValueError, match="has 4 samples but y has 3"):
        explain(net, X4, np.zeros(3))
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples, 1\)"):
        explain(net, X4, np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"y has labels \[5\] the model was not fitted on"):
        explain(_article_perceptron(), X4[0], 5)
    trace = explain_demo()
    with pytest.raises(KeyError, match="no step computes 'q'"):
        trace.find("q")


def test_public_names():
    assert nnmath.explain is explain
    assert nnmath.Trace is Trace
    assert {"explain", "Trace"} <= set(nnmath.__all__)
    assert isinstance(explain_demo(), Trace)
    assert len(explain_demo()) == 13
