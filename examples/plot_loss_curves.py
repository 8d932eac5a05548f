"""
Loss curves
===========

The cost :math:`C` after every epoch, on the training data and on a validation set,
for the three stochastic solvers of :class:`nnmath.MLPClassifier` on scikit-learn's
digits: plain SGD, Adam, and the article's full-batch gradient descent (``"gd"``).
:func:`nnmath.plotting.plot_loss_curve` draws one model's curves.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from nnmath import MLPClassifier
from nnmath.plotting import plot_loss_curve

X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_val, y_train, y_val = train_test_split(X, y, stratify=y, random_state=0)

# %%
# One model: the training cost and the validation cost, computed alike after each epoch.

adam = MLPClassifier(hidden_layer_sizes=(64,), max_iter=60, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # 60 epochs, on purpose
    adam.fit(X_train, y_train, validation_data=(X_val, y_val))
ax = plot_loss_curve(adam)
ax.set_title("MLPClassifier(solver='adam') on digits")
print(f"validation accuracy after {adam.n_iter_} epochs: {adam.validation_scores_[-1]:.3f}")

# %%
# Three solvers, the same network and epochs. Mini-batch SGD and Adam take many steps
# per epoch; full-batch gradient descent takes one, so it needs a larger learning rate
# and still moves slowest per epoch.

solvers = {
    "adam": {"learning_rate_init": 0.001},
    "sgd": {"learning_rate_init": 0.1},
    "gd": {"learning_rate_init": 0.5},
}
fig, ax = plt.subplots()
for solver, settings in solvers.items():
    clf = MLPClassifier(
        hidden_layer_sizes=(64,), solver=solver, max_iter=60, random_state=0, **settings
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train, validation_data=(X_val, y_val))
    (line,) = ax.plot(clf.loss_curve_, label=f"{solver}, training")
    ax.plot(clf.validation_loss_curve_, "--", color=line.get_color(), label=f"{solver}, validation")
ax.set_xlabel("epoch")
ax.set_ylabel("cost C")
ax.set_yscale("log")
ax.legend()
ax.set_title("Three solvers on digits")
plt.show()
