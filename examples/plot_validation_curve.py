"""
A validation curve
==================

How one hyperparameter trades training fit for validation accuracy: the L2 penalty
``alpha`` of :class:`nnmath.MLPClassifier`, over five orders of magnitude, scored by
scikit-learn's :func:`~sklearn.model_selection.validation_curve` with 3-fold cross
validation. nnmath's estimators are scikit-learn estimators, so scikit-learn's model
selection tools take them as they are.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import validation_curve

from nnmath import MLPClassifier

X, y = load_digits(return_X_y=True)
X = X[:600] / 16
y = y[:600]

alphas = np.logspace(-4, 2, 7)
train_scores, val_scores = validation_curve(
    MLPClassifier(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=200, random_state=0),
    X,
    y,
    param_name="alpha",
    param_range=alphas,
    cv=3,
)

fig, ax = plt.subplots()
for scores, label in ((train_scores, "training"), (val_scores, "validation")):
    mean, std = scores.mean(axis=1), scores.std(axis=1)
    ax.semilogx(alphas, mean, "o-", label=label)
    ax.fill_between(alphas, mean - std, mean + std, alpha=0.2)
ax.set_xlabel("alpha (L2 penalty)")
ax.set_ylabel("accuracy")
ax.set_title("MLPClassifier on 600 digits, 3-fold cross validation")
ax.legend()
plt.show()

best = alphas[val_scores.mean(axis=1).argmax()]
print(f"best alpha: {best:g}, validation accuracy {val_scores.mean(axis=1).max():.3f}")
