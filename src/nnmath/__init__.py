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

import sys
import types

import nnmath.startup  # noqa: F401  first: Ctrl-C while the command starts exits with 130

#: Where each public name lives: name → (module, attribute or None for the module).
_PUBLIC = {
    "SGD": ("nnmath.optimizers", "SGD"),
    "Adam": ("nnmath.optimizers", "Adam"),
    "DivergenceError": ("nnmath.training", "DivergenceError"),
    "History": ("nnmath.training", "History"),
    "MLPClassifier": ("nnmath.estimators", "MLPClassifier"),
    "MLPRegressor": ("nnmath.estimators", "MLPRegressor"),
    "ModelFileError": ("nnmath.io", "ModelFileError"),
    "Network": ("nnmath.network", "Network"),
    "Perceptron": ("nnmath.perceptron", "Perceptron"),
    "Trace": ("nnmath.explain", "Trace"),
    "activations": ("nnmath.activations", None),
    "explain": ("nnmath.explain", "explain"),
    "export_onnx": ("nnmath.onnx_export", "export_onnx"),  # imports onnx only when called
    "gradcheck": ("nnmath.gradcheck", "gradcheck"),
    "initializers": ("nnmath.initializers", None),
    "io": ("nnmath.io", None),
    "load": ("nnmath.io", "load"),
    "losses": ("nnmath.losses", None),
    "optimizers": ("nnmath.optimizers", None),
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


#: Public functions named like the module that holds them.
_SHADOWED = ("explain", "gradcheck")


class _Package(types.ModuleType):
    """The package's module type, which keeps ``nnmath.explain`` a function.

    It keeps ``nnmath.explain`` and ``nnmath.gradcheck`` the functions when their modules
    are imported.
    """

    def __setattr__(self, name: str, value) -> None:
        # NOTE: importing the submodule nnmath.explain (or nnmath.gradcheck) makes Python
        # set the package's attribute of that name to the module; the public name is the
        # function, so the module is not stored here (it stays in sys.modules).
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
