"""
Decision boundaries
===================

What a network learned, over the plane of two features: the class that
:meth:`~nnmath.MLPClassifier.predict` gives at every point, with the training data on
top (:func:`nnmath.plotting.plot_decision_boundary`). Three data sets of scikit-learn,
and networks from none to two hidden layers.
"""

import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_circles, make_classification, make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from nnmath import MLPClassifier
from nnmath.plotting import plot_decision_boundary

datasets = {
    "moons": make_moons(200, noise=0.25, random_state=0),
    "circles": make_circles(200, noise=0.1, factor=0.5, random_state=0),
    "linear": make_classification(
        200, n_features=2, n_redundant=0, n_informative=2, class_sep=1.2, random_state=2
    ),
}
networks = {
    "no hidden layer": (),
    "one layer of 8": (8,),
    "two layers of 16": (16, 16),
}

fig, axes = plt.subplots(len(datasets), len(networks), figsize=(10, 9.5))
for row, (data_name, (X, y)) in zip(axes, datasets.items(), strict=True):
    X = StandardScaler().fit_transform(X)
    for ax, (net_name, hidden) in zip(row, networks.items(), strict=True):
        clf = MLPClassifier(hidden, solver="lbfgs", max_iter=500, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
        plot_decision_boundary(clf, X, y, ax=ax)
        ax.set_title(f"{data_name}, {net_name}: {clf.score(X, y):.2f}", fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
fig.tight_layout()
plt.show()

# %%
# ``response="proba"`` shades the probability of the positive class instead of the
# predicted class: the network's confidence falls off near the boundary.

X, y = datasets["moons"]
X = StandardScaler().fit_transform(X)
clf = MLPClassifier((16, 16), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
ax = plot_decision_boundary(clf, X, y, response="proba")
ax.set_title("moons, two layers of 16: P(class 1)")
plt.show()
