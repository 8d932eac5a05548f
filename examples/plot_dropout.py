"""
The effect of dropout
=====================

A wide network on few noisy points learns the noise: its training cost keeps falling
while its validation cost turns back up. Dropout zeroes each hidden unit with
probability :math:`p` at every training step (the survivors scaled by
:math:`1/(1-p)`), so no unit can rely on another: the network fits smoother functions
and over-fits later and more slowly. Prediction never drops. Three networks, the same
but for the dropout rate, each trained for 300 epochs on 80 points and scored on 1,000
others.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning

from nnmath import MLPClassifier
from nnmath.plotting import plot_decision_boundary

X_train, y_train = make_moons(80, noise=0.35, random_state=0)
X_val, y_val = make_moons(1000, noise=0.35, random_state=1)

rates = [0.0, 0.3, 0.6]
models = {}
for p in rates:
    clf = MLPClassifier(
        hidden_layer_sizes=(128, 128),
        dropout=p,
        learning_rate_init=0.01,
        max_iter=300,
        n_iter_no_change=300,  # all 300 epochs, to watch the validation cost
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 300 epochs, on purpose
        clf.fit(X_train, y_train, validation_data=(X_val, y_val))
    models[p] = clf
    print(
        f"dropout {p}: training accuracy {clf.score(X_train, y_train):.2f}, "
        f"validation accuracy {clf.score(X_val, y_val):.2f}"
    )

# %%
# The boundaries: without dropout, the network wraps single noisy points.

fig, axes = plt.subplots(1, len(rates), figsize=(12, 4))
for ax, (p, clf) in zip(axes, models.items(), strict=True):
    plot_decision_boundary(clf, X_train, y_train, ax=ax)
    ax.set_title(f"dropout = {p}: validation {clf.score(X_val, y_val):.2f}")
fig.tight_layout()
plt.show()

# %%
# The cost after every epoch. Without dropout, the validation cost is lowest near epoch
# 20 and then climbs steeply; with dropout it climbs more slowly. Early
# stopping (``early_stopping=True``) would end each fit near its lowest point.

fig, ax = plt.subplots()
for p, clf in models.items():
    (line,) = ax.plot(clf.validation_loss_curve_, label=f"dropout = {p}, validation")
    ax.plot(clf.loss_curve_, ":", color=line.get_color(), label=f"dropout = {p}, training")
ax.set_xlabel("epoch")
ax.set_ylabel("cost C")
ax.set_ylim(0, 1.6)
ax.legend()
plt.show()
