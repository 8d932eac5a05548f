"""nnmath: the mathematics of a neural network, made runnable, correct and fast.

Forward propagation z = w·x + b and ŷ = σ(z); a loss and its cost C; backpropagation
by the chain rule; gradient descent w ← w − α·∂C/∂w. From the article's single neuron
(:class:`Perceptron`) to multi-layer networks (:class:`Network`) and scikit-learn
compatible estimators.

The public names load when first used (PEP 562): ``import nnmath`` itself imports only
:mod:`nnmath.startup`, so that the ``nnmath`` command answers ``--help`` and
``--version`` without loading NumPy or scikit-learn. ``from nnmath import X`` and
``nnmath.X`` work as for any package.

Example
-------
>>> import nnmath
>>> nnmath.Network([2, 1], random_state=0).layer_sizes
[2, 1]
"""

import nnmath.startup  # noqa: F401  first: Ctrl-C while the command starts exits with 130

#: Where each public name lives: name → (module, attribute or None for the module).
_PUBLIC = {
    "SGD": ("nnmath.core.optimizers", "SGD"),
    "Adam": ("nnmath.core.optimizers", "Adam"),
    "DivergenceError": ("nnmath.training", "DivergenceError"),
    "History": ("nnmath.training", "History"),
    "MLPClassifier": ("nnmath.estimators", "MLPClassifier"),
    "MLPRegressor": ("nnmath.estimators", "MLPRegressor"),
    "ModelFileError": ("nnmath.io", "ModelFileError"),
    "Network": ("nnmath.network", "Network"),
    "Perceptron": ("nnmath.perceptron", "Perceptron"),
    "Trace": ("nnmath.tracing", "Trace"),
    "activations": ("nnmath.core.activations", None),
    "explain": ("nnmath.tracing", "explain"),
    "export_onnx": ("nnmath.onnx_export", "export_onnx"),  # imports onnx only when called
    "gradcheck": ("nnmath.network", "gradcheck"),
    "initializers": ("nnmath.core.initializers", None),
    "io": ("nnmath.io", None),
    "load": ("nnmath.io", "load"),
    "losses": ("nnmath.core.losses", None),
    "optimizers": ("nnmath.core.optimizers", None),
    "save": ("nnmath.io", "save"),
    "training": ("nnmath.training", None),
}

# (``io`` loads on use like the rest, but stays out of ``import *``: it would shadow the
# standard library's io.)
__all__ = sorted(
    [*(n for n in _PUBLIC if n != "io"), "__version__"], key=lambda n: (n[0].islower(), n)
)


def __getattr__(name: str):
    """Import a public name on first use, and keep it in the package's namespace."""
    value: object
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("nnmath")
        except PackageNotFoundError:  # a source tree without installation
            value = "0.0.0"
    elif name in _PUBLIC:
        import importlib

        module_name, attribute = _PUBLIC[name]
        module = importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
    else:
        raise AttributeError(f"module 'nnmath' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
