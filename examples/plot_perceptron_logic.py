r"""
The perceptron on AND, OR and XOR
=================================

The article's single neuron, :class:`nnmath.Perceptron`, computes
:math:`\hat y = \sigma(w \cdot x + b)`: its decision boundary
:math:`w \cdot x + b = 0` is a straight line. AND and OR are separable by a line, and
the perceptron learns both. XOR is not: no line puts (0, 1) and (1, 0) on one side and
(0, 0) and (1, 1) on the other, and a single neuron cannot get all four right. One hidden
layer bends the boundary and solves it.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from nnmath import MLPClassifier, Perceptron
from nnmath.plotting import plot_decision_boundary

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
targets = {
    "AND": np.array([0, 0, 0, 1]),
    "OR": np.array([0, 1, 1, 1]),
    "XOR": np.array([0, 1, 1, 0]),
}

fig, axes = plt.subplots(1, 3, figsize=(13, 4.5))
for ax, (name, y) in zip(axes, targets.items(), strict=True):
    clf = Perceptron(activation="step", max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # XOR never converges
        clf.fit(X, y)
    plot_decision_boundary(clf, X, y, ax=ax)
    ax.set_title(f"{name}: {clf.score(X, y):.0%} right")
    print(f"{name:>3}: w = {clf.coef_}, b = {clf.intercept_:+.2f}, predicts {clf.predict(X)}")
    print(f"     {clf.stop_reason_}")
fig.suptitle("Perceptron(activation='step'): Rosenblatt's rule")
fig.tight_layout()
plt.show()

# %%
# The sigmoid neuron, trained by gradient descent on :math:`C = \frac1n\sum(y-\hat y)^2`,
# does no better on XOR: from small starting weights it settles near :math:`w = 0`,
# where :math:`\hat y \approx \frac12` for every sample — a neuron that cannot decide.

sigmoid = Perceptron(activation="sigmoid", learning_rate=1.0, max_iter=5000, random_state=0)
sigmoid.fit(X, targets["XOR"])
print("sigmoid perceptron on XOR: w =", sigmoid.coef_.round(3), "b =", round(sigmoid.intercept_, 3))
print("ŷ =", sigmoid.predict_proba(X)[:, 1].round(3))

# %%
# A hidden layer of two neurons is enough: each draws one line, and the output neuron
# combines them.

mlp = MLPClassifier((2,), activation="tanh", solver="lbfgs", random_state=1)
mlp.fit(X, targets["XOR"])
ax = plot_decision_boundary(mlp, X, targets["XOR"])
ax.set_title(f"XOR, one hidden layer of 2: {mlp.score(X, targets['XOR']):.0%} right")
print("MLP on XOR:", mlp.predict(X))
plt.show()
