"""Export a trained model to ONNX, so that any ONNX runtime can serve it.

The graph spells out the forward pass layer by layer, as the math reads:

    z_l = a_{l−1} W_l + b_l   →   MatMul(a_{l−1}, W_l), Add(·, b_l)
    a_l = σ_l(z_l)             →   Sigmoid | Tanh | Relu | LeakyRelu(alpha) | Identity
                                   | Softmax(axis=−1) | Exp | step

ONNX has no step operator; σ(z) = 1 if z ≥ 0 else 0 is written
``Cast(GreaterOrEqual(z, 0), to=float)``, which keeps nnmath's value 1 at z = 0.

On top of the network, classifiers turn ŷ into labels and probabilities the way
:meth:`MLPClassifier.predict` and ``predict_proba`` do, and regressors return ŷ.
``onnx`` is needed only here (``pip install "nnmath[onnx]"``); importing nnmath never
imports it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from nnmath.arrays import to_numpy
from nnmath.estimators import MLPClassifier, MLPRegressor
from nnmath.io.container import atomic_write, nnmath_version
from nnmath.network import Network
from nnmath.perceptron import Perceptron

__all__ = ["OPSET", "export_onnx", "to_onnx"]

#: The ONNX operator set the exported graphs use (Softmax over the last axis and
#: ReduceSum with its axes as an input both need ≥ 13).
OPSET = 13
# IR version 8 (ONNX ≥ 1.10) carries opset 13 and is read by every onnxruntime ≥ 1.10;
# onnx's own default follows its newest release, which older runtimes refuse.
_IR_VERSION = 8

_INSTALL_HINT = 'ONNX export needs the onnx package: pip install "nnmath[onnx]"'


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(f"{_INSTALL_HINT} ({exc})") from exc
    return onnx


class _Graph:
    """Collects nodes and initializers, naming intermediate values uniquely."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes: list = []
        self.initializers: list = []
        self._names: set[str] = {"X"}

    def name(self, base: str) -> str:
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def const(self, base: str, value: np.ndarray) -> str:
        """An initializer holding ``value`` (string arrays become STRING tensors)."""
        name = self.name(base)
        value = np.asarray(value)
        if value.dtype.kind in "USO":
            tensor = self.helper.make_tensor(
                name,
                self.onnx.TensorProto.STRING,
                list(value.shape),
                [str(v).encode("utf-8") for v in value.ravel()],
            )
        else:
            tensor = self.onnx.numpy_helper.from_array(value, name)
        self.initializers.append(tensor)
        return name

    def op(self, op_type: str, inputs: list[str], base: str, **attributes) -> str:
        """Append one node with a single output called ``base`` (made unique)."""
        out = self.name(base)
        self.nodes.append(
            self.helper.make_node(op_type, inputs, [out], name=f"{op_type}_{out}", **attributes)
        )
        return out


def _activation(g: _Graph, act, z: str, out: str) -> str:
    """Append the nodes of a = σ(z); returns the name of a."""
    f32 = g.onnx.TensorProto.FLOAT
    simple = {
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "relu": "Relu",
        "identity": "Identity",
        "exp": "Exp",
    }
    if act.name in simple:
        return g.op(simple[act.name], [z], out)
    if act.name == "leaky_relu":
        return g.op("LeakyRelu", [z], out, alpha=float(act.negative_slope))
    if act.name == "softmax":
        return g.op("Softmax", [z], out, axis=-1)
    if act.name == "step":
        # σ(z) = 1 if z ≥ 0 else 0: a boolean comparison cast back to float.
        zero = g.const("zero", np.array(0.0, np.float32))
        return g.op("Cast", [g.op("GreaterOrEqual", [z, zero], f"{out}_ge0")], out, to=f32)
    raise ValueError(
        f"activation {act.name!r} ({type(act).__name__}) has no ONNX translation; "
        "export supports sigmoid, tanh, relu, leaky_relu, identity, softmax, exp and step"
    )


def _layers(g: _Graph, network, last_activation: bool = True) -> tuple[str, str]:
    """z_l = a_{l−1} W_l + b_l and a_l = σ_l(z_l) for every layer, weights as float32.

    Returns the names of the last weighted sum z_L and of ŷ = a_L (z_L itself when
    ``last_activation`` is False).
    """
    a = "X"
    z = a
    L = network.n_layers
    for l, (W, b, act) in enumerate(
        zip(network.W, network.b, network.activations, strict=True), start=1
    ):
        # weights brought to the host from any array library or device
        W_name = g.const(f"W{l}", np.ascontiguousarray(to_numpy(W), dtype=np.float32))
        b_name = g.const(f"b{l}", np.ascontiguousarray(to_numpy(b), dtype=np.float32))
        z = g.op("Add", [g.op("MatMul", [a, W_name], f"aW{l}"), b_name], f"z{l}")
        if l == L and not last_activation:
            return z, z
        a = _activation(g, act, z, f"a{l}")
    return z, a


def _classes_constant(g: _Graph, classes: np.ndarray):
    """classes_ as an initializer, with the ONNX element type of the label output."""
    TP = g.onnx.TensorProto
    classes = np.asarray(classes)
    kind = classes.dtype.kind
    if kind == "O":
        if all(isinstance(c, str) for c in classes):
            kind = "U"
        elif all(isinstance(c, (int, np.integer)) for c in classes):
            classes, kind = classes.astype(np.int64), "i"
    if kind in "US":
        return g.const("classes", classes.astype(str)), TP.STRING
    if kind in "iu":
        return g.const("classes", classes.astype(np.int64)), TP.INT64
    if kind == "b":
        return g.const("classes", classes), TP.BOOL
    if kind == "f":
        return g.const("classes", classes.astype(np.float64)), TP.DOUBLE
    raise TypeError(
        f"classes_ of dtype {classes.dtype} cannot be stored in ONNX; use integer or string "
        "class labels"
    )


def _binary_probabilities(g: _Graph, p: str) -> str:
    """[1 − p, p] of shape (N, 2) from p of shape (N, 1)."""
    one = g.const("one", np.array(1.0, np.float32))
    return g.op("Concat", [g.op("Sub", [one, p], "one_minus_p"), p], "probabilities", axis=1)


def _gather_labels(g: _Graph, classes: np.ndarray, index: str) -> tuple[str, int]:
    """label = classes_[index] for an int64 index of shape (N,)."""
    classes_name, elem = _classes_constant(g, classes)
    return g.op("Gather", [classes_name, index], "label", axis=0), elem


def _flat_index(g: _Graph, mask: str) -> str:
    """A boolean (N, 1) mask as an int64 class index of shape (N,)."""
    index = g.op("Cast", [mask], "class_index_2d", to=g.onnx.TensorProto.INT64)
    flat = g.const("shape_flat", np.array([-1], np.int64))
    return g.op("Reshape", [index, flat], "class_index")


def _build(onnx, model):
    """The graph's nodes, initializers and output descriptions for ``model``."""
    TP = onnx.TensorProto
    F32 = TP.FLOAT
    g = _Graph(onnx)
    outputs: list[tuple[str, int, list]] = []  # (name, element type, shape)

    if isinstance(model, Network):
        network = model
        _, y_hat = _layers(g, network)
        out = g.op("Identity", [y_hat], "y_hat")
        outputs.append((out, F32, ["N", network.layer_sizes[-1]]))
        return g, network, outputs

    if not isinstance(model, (MLPClassifier, MLPRegressor, Perceptron)):
        raise TypeError(
            "export_onnx supports nnmath.Network, Perceptron, MLPClassifier and MLPRegressor; "
            f"got {type(model).__module__}.{type(model).__qualname__}"
        )
    check_is_fitted(model, "network_")
    network = model.network_
    n_out = network.layer_sizes[-1]

    if isinstance(model, MLPRegressor):
        _, y_hat = _layers(g, network)
        outputs.append((g.op("Identity", [y_hat], "variable"), F32, ["N", n_out]))
        return g, network, outputs

    classes = to_numpy(model.classes_)
    if isinstance(model, Perceptron):
        # The label comes from z = w·x + b: z ≥ 0 for two classes (ŷ ≥ ½), argmax z
        # otherwise, exactly as Perceptron.predict decides.
        sigmoid = model.network_.activations[-1].name == "sigmoid"
        z, _ = _layers(g, network, last_activation=False)
        if n_out == 1:
            zero = g.const("zero", np.array(0.0, np.float32))
            index = _flat_index(g, g.op("GreaterOrEqual", [z, zero], "z_ge0"))
        else:
            index = g.op("ArgMax", [z], "class_index", axis=1, keepdims=0)
        label, elem = _gather_labels(g, classes, index)
        outputs.append((label, elem, ["N"]))
        if sigmoid:  # a step outputs no probability (Perceptron has no predict_proba)
            y_hat = _activation(g, network.activations[-1], z, f"a{network.n_layers}")
            if n_out == 1:
                proba = _binary_probabilities(g, y_hat)
            else:  # one-vs-rest sigmoids normalized to sum to 1
                axes = g.const("axis_1", np.array([1], np.int64))
                total = g.op("ReduceSum", [y_hat, axes], "sum_y_hat", keepdims=1)
                proba = g.op("Div", [y_hat, total], "probabilities")
            outputs.append((proba, F32, ["N", len(classes)]))
        return g, network, outputs

    # MLPClassifier: sigmoid output for binary and multilabel targets, softmax otherwise.
    _, y_hat = _layers(g, network)
    y_type = model.label_type_
    half = None
    if y_type != "multiclass":
        half = g.const("threshold", np.array(0.5, np.float32))
    if y_type == "multilabel-indicator":
        mask = g.op("Greater", [y_hat, half], "y_hat_gt_half")
        label = g.op("Cast", [mask], "label", to=TP.INT64)
        outputs.append((label, TP.INT64, ["N", n_out]))
        outputs.append((g.op("Identity", [y_hat], "probabilities"), F32, ["N", n_out]))
    elif y_type == "multiclass":
        index = g.op("ArgMax", [y_hat], "class_index", axis=1, keepdims=0)
        label, elem = _gather_labels(g, classes, index)
        outputs.append((label, elem, ["N"]))
        outputs.append((g.op("Identity", [y_hat], "probabilities"), F32, ["N", n_out]))
    else:  # binary: LabelBinarizer's threshold, ŷ > ½ (strictly)
        index = _flat_index(g, g.op("Greater", [y_hat, half], "y_hat_gt_half"))
        label, elem = _gather_labels(g, classes, index)
        outputs.append((label, elem, ["N"]))
        outputs.append((_binary_probabilities(g, y_hat), F32, ["N", 2]))
    return g, network, outputs


def to_onnx(model):
    """Build the ONNX model of ``model`` in memory (see :func:`export_onnx`).

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker.check_model``.
    """
    onnx = _import_onnx()
    helper = onnx.helper
    g, network, outputs = _build(onnx, model)
    X = helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, ["N", network.layer_sizes[0]])
    graph = helper.make_graph(
        g.nodes,
        f"nnmath_{type(model).__name__}",
        [X],
        [helper.make_tensor_value_info(name, elem, shape) for name, elem, shape in outputs],
        initializer=g.initializers,
    )

    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=_IR_VERSION,
        producer_name="nnmath",
        producer_version=nnmath_version(),
        doc_string=f"{type(model).__name__} exported by nnmath {nnmath_version()}",
    )
    helper.set_model_props(
        proto,
        {
            "model_class": type(model).__name__,
            "layer_sizes": json.dumps(network.layer_sizes),
            "activations": json.dumps([a.name for a in network.activations]),
        },
    )
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model, path: str | os.PathLike) -> Path:
    """Write ``model`` as an ONNX file that reproduces its predictions.

    The graph is, per layer, ``MatMul`` and ``Add`` (z = a W + b) then the activation
    (``Sigmoid``, ``Tanh``, ``Relu``, ``LeakyRelu(alpha)``, ``Identity``,
    ``Softmax(axis=-1)``, ``Exp``; the step as ``Cast(GreaterOrEqual(z, 0))``), in
    operator set 13. Weights are stored as float32 and the input is float32 whatever
    the model's dtype, so a float64 model's outputs agree to float32 precision.

    The graph's input is ``X``, float32 of shape (N, n_features) with N free. Its
    outputs, by model:

    * Network: ``y_hat``, float32 (N, n_outputs).
    * MLPRegressor: ``variable``, float32 (N, n_outputs), also for a single output
      (where ``predict`` returns shape (N,)).
    * MLPClassifier and Perceptron: ``label``, the predicted class of shape (N,) as
      int64 for integer classes and string for string classes (bool and double
      classes keep their type); for a multilabel MLPClassifier the 0/1 indicator
      matrix, int64 (N, n_labels). And ``probabilities``, float32 (N, n_classes),
      equal to ``predict_proba`` (binary: [1 − p, p]); a step Perceptron has no
      ``predict_proba`` and so no ``probabilities`` output.

    Labels are ``classes_`` gathered by ArgMax (multiclass), by ŷ > ½ (binary
    MLPClassifier) or by z ≥ 0 (binary Perceptron), exactly as ``predict`` decides.

    Parameters
    ----------
    model : Network, Perceptron, MLPClassifier or MLPRegressor
        A fitted model.
    path : str or os.PathLike
        Where to write the ``.onnx`` file; written atomically (a temporary file in
        the same folder, then a rename), so an interrupted export never leaves a
        damaged file.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    ImportError
        Without the onnx package (``pip install "nnmath[onnx]"``).
    TypeError
        For a model of another type.
    sklearn.exceptions.NotFittedError
        For an estimator that was not fitted.

    Examples
    --------
    >>> import numpy as np, onnxruntime as ort, pathlib, tempfile
    >>> from nnmath import MLPClassifier, export_onnx
    >>> X = np.array([[0., 0], [0, 1], [1, 0], [1, 1]]); y = ["no", "yes", "yes", "no"]
    >>> clf = MLPClassifier((8,), activation="tanh", solver="lbfgs", random_state=0)
    >>> path = export_onnx(clf.fit(X, y), pathlib.Path(tempfile.mkdtemp()) / "xor.onnx")
    >>> session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    >>> label, proba = session.run(["label", "probabilities"], {"X": X.astype(np.float32)})
    >>> label.tolist(), proba.shape
    (['no', 'yes', 'yes', 'no'], (4, 2))
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    data = to_onnx(model).SerializeToString()

    atomic_write(os.fspath(path), data)  # temp file, fsync, rename: as model files
    return Path(path)
