"""nnmath: the mathematics of a neural network, made runnable, correct and fast.

Forward propagation z = w·x + b and ŷ = σ(z); a loss and its cost C; backpropagation
by the chain rule; gradient descent w ← w − α·∂C/∂w. From the article's single neuron
(:class:`Perceptron`) to multi-layer networks (:class:`Network`) and scikit-learn
compatible estimators.
"""

import nnmath.startup  # noqa: F401  first: Ctrl-C while the command starts exits with 130
from nnmath import activations, initializers, losses, optimizers, training
from nnmath.estimators import MLPClassifier, MLPRegressor
from nnmath.explain import Trace, explain
from nnmath.gradcheck import gradcheck
from nnmath.io import ModelFileError, load, save
from nnmath.io.container import nnmath_version
from nnmath.network import Network
from nnmath.onnx_export import export_onnx  # imports onnx only when called
from nnmath.optimizers import SGD, Adam
from nnmath.perceptron import Perceptron
from nnmath.training import DivergenceError, History

__version__ = nnmath_version()

__all__ = [
    "SGD",
    "Adam",
    "DivergenceError",
    "History",
    "MLPClassifier",
    "MLPRegressor",
    "ModelFileError",
    "Network",
    "Perceptron",
    "Trace",
    "__version__",
    "activations",
    "explain",
    "export_onnx",
    "gradcheck",
    "initializers",
    "load",
    "losses",
    "optimizers",
    "save",
    "training",
]
