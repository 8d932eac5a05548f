r"""
Learning rates
==============

Gradient descent moves :math:`w \leftarrow w - \alpha \, \partial C/\partial w`. Too
small an :math:`\alpha` crawls; a larger one gets there in fewer epochs; too large a one
overshoots the minimum, and the cost grows instead of falling. The article's full-batch
gradient descent (``solver="gd"``) on the standardized breast-cancer data, with the
same network and starting weights, and four learning rates:
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from nnmath import DivergenceError, MLPClassifier

X, y = load_breast_cancer(return_X_y=True)
X = StandardScaler().fit_transform(X)

fig, ax = plt.subplots()
for rate in (0.01, 0.1, 1.0, 4.0):
    clf = MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="gd",
        learning_rate_init=rate,
        max_iter=200,
        tol=0.0,
        n_iter_no_change=200,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 200 epochs each, on purpose
        clf.fit(X, y)
    ax.plot(clf.loss_curve_, label=f"α = {rate}")
    print(f"α = {rate:>4}: cost {clf.loss_curve_[-1]:.4f} after {clf.n_iter_} epochs")
ax.set_xlabel("epoch")
ax.set_ylabel("cost C")
ax.set_yscale("log")
ax.legend()
ax.set_title("Full-batch gradient descent, four learning rates")
plt.show()

# %%
# With :math:`\alpha = 8` each step overshoots further than the last: the cost grows
# until it overflows, and ``fit`` raises :class:`nnmath.DivergenceError` (a
# ``ValueError``, with scikit-learn's message first) rather than return a network of
# infinite weights. (With the default ``tol``, the fit would instead stop after ten
# epochs without improvement.)

too_large = MLPClassifier(
    hidden_layer_sizes=(16,),
    solver="gd",
    learning_rate_init=8.0,
    max_iter=200,
    tol=0.0,
    n_iter_no_change=200,
    random_state=0,
)
try:
    too_large.fit(X, y)
except DivergenceError as error:
    print(error)

# %%
# Schedules
# ---------
#
# A schedule changes :math:`\alpha` from epoch to epoch: ``"cosine"`` lowers it from
# ``learning_rate_init`` to 0 along half a cosine, ``"step"`` halves it every 10 epochs,
# ``"invscaling"`` divides it by a power of the samples seen. A callback records the rate
# each epoch used.

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for schedule in ("constant", "cosine", "step", "invscaling"):
    rates = []
    clf = MLPClassifier(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate=schedule,
        learning_rate_init=0.05,
        max_iter=60,
        tol=0.0,
        n_iter_no_change=60,
        callbacks=[lambda est, info, rates=rates: rates.append(info["learning_rate"])],
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    left.plot(rates, label=schedule)
    right.plot(clf.loss_curve_, label=schedule)
left.set_xlabel("epoch")
left.set_ylabel("learning rate α")
left.legend()
right.set_xlabel("epoch")
right.set_ylabel("cost C")
right.set_yscale("log")
right.legend()
fig.tight_layout()
plt.show()
