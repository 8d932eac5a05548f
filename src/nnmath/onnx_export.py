"""Export a trained model to ONNX, so that any ONNX runtime can serve it.

The graph spells out the forward pass layer by layer, as the math reads:

    z_l = a_{l−1} W_l + b_l   →   MatMul(a_{l−1}, W_l), Add(·, b_l)
    a_l = σ_l(z_l)             →   Sigmoid | Tanh | Relu | LeakyRelu(alpha) | Identity
                                   | Softmax(axis=−1) | Exp | step

ONNX has no step operator; σ(z) = 1 if z ≥ 0 else 0 is written
``Cast(GreaterOrEqual(z, 0), to=float)``, which keeps nnmath's value 1 at z = 0.

On top of the network, classifiers turn ŷ into labels and probabilities the way
:meth:`MLPClassifier.predict` and ``predict_proba`` do, and regressors return ŷ.

A model trained by the ``nnmath`` command (its table preprocessing and the network)
becomes one graph that takes the table's columns, one named input each, and spells out
:class:`~nnmath.preprocessing.TabularPreprocessor`'s rules before the network:

    number     x' = f((u − m) / s), f(z) = z / √(1 + (z/3)²), u = x or, for a column
               scaled on its logarithm, ln(1 + max(x, 0)); a missing x (NaN) filled
               first (a model file from before robust scaling: x' = (x − μ) / s)
                                   →   Where(IsNaN(x), fill, x), [Max, Add, Log,] Sub,
                                       Div, then Div, Mul, Add, Sqrt, Div
    category   one-hot over the known categories, a missing one ("") filled, an
               unseen one all zeros
                                   →   ai.onnx.ml OneHotEncoder(zeros=1) over the
                                       categories and "", then MatMul by [I; e_fill]
    date       t = seconds / 86400; (t − μ) / s, sin and cos of 2π·fmod(t, P)/P
                                   →   Div, Sub, Div, Mod(fmod=1), Mul, Sin, Cos

``onnx`` is needed only here (``pip install "nnmath[onnx]"``); importing nnmath never
imports it.

Example
-------
>>> import numpy as np
>>> net = Network([2, 1], activation="sigmoid", random_state=0)
>>> proto = to_onnx(net)
>>> [i.name for i in proto.graph.input], [o.name for o in proto.graph.output]
(['X'], ['y_hat'])
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from nnmath.core.arrays import to_numpy
from nnmath.estimators import MLPClassifier, MLPRegressor
from nnmath.io.container import atomic_write, nnmath_version
from nnmath.network import Network
from nnmath.perceptron import Perceptron
from nnmath.preprocessing import TabularPreprocessor
from nnmath.preprocessing.transformer import CLIP, YEAR_DAYS

__all__ = ["OPSET", "export_onnx", "to_onnx"]

#: The ONNX operator set the exported graphs use (Softmax over the last axis and
#: ReduceSum with its axes as an input both need ≥ 13).
OPSET = 13

#: The ai.onnx.ml operator set of a command model's graph (its OneHotEncoder).
_ML_OPSET = 1

#: The graphs' output names; a command model's column may not have one of them.
_OUTPUT_NAMES = ("label", "probabilities", "variable", "y_hat")
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

    def __init__(self, onnx, inputs=("X",)):
        self.onnx = onnx
        self.helper = onnx.helper
        self.nodes: list = []
        self.initializers: list = []
        self._names: set[str] = set(inputs) | set(_OUTPUT_NAMES)

    def name(self, base: str) -> str:
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def const(self, base: str, value: np.ndarray) -> str:
        """Add an initializer holding ``value`` (string arrays become STRING tensors)."""
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

    def op(self, op_type: str, inputs: list[str], base: str, domain: str = "", **attributes):
        """Append one node with a single output called ``base``.

        The name is made unique, except for the graph's output names.
        """
        out = base if base in _OUTPUT_NAMES else self.name(base)
        self.nodes.append(
            self.helper.make_node(
                op_type, inputs, [out], name=f"{op_type}_{out}", domain=domain, **attributes
            )
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
    if act.name == "silu":
        # σ(z) = z·s(z)
        return g.op("Mul", [z, g.op("Sigmoid", [z], f"{out}_s")], out)
    if act.name == "step":
        # σ(z) = 1 if z ≥ 0 else 0: a boolean comparison cast back to float.
        zero = g.const("zero", np.array(0.0, np.float32))
        return g.op("Cast", [g.op("GreaterOrEqual", [z, zero], f"{out}_ge0")], out, to=f32)
    raise ValueError(
        f"activation {act.name!r} ({type(act).__name__}) has no ONNX translation; "
        "export supports sigmoid, tanh, relu, leaky_relu, silu, identity, softmax, exp and step"
    )


def _layers(g: _Graph, network, last_activation: bool = True, x: str = "X") -> tuple[str, str]:
    """Add z_l = a_{l−1} W_l + b_l and a_l = σ_l(z_l) for every layer from the input ``x``.

    The weights are float32.

    Returns the names of the last weighted sum z_L and of ŷ = a_L (z_L itself when
    ``last_activation`` is False).
    """
    a = x
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
    """Add label = classes_[index] for an int64 index of shape (N,)."""
    classes_name, elem = _classes_constant(g, classes)
    return g.op("Gather", [classes_name, index], "label", axis=0), elem


def _flat_index(g: _Graph, mask: str) -> str:
    """Turn a boolean (N, 1) mask into an int64 class index of shape (N,)."""
    index = g.op("Cast", [mask], "class_index_2d", to=g.onnx.TensorProto.INT64)
    flat = g.const("shape_flat", np.array([-1], np.int64))
    return g.op("Reshape", [index, flat], "class_index")


def _column(g: _Graph, pre: TabularPreprocessor, name: str) -> str:
    """Add the nodes that turn the input of one column into its float32 inputs (N, k)."""
    TP = g.onnx.TensorProto
    kind = pre.kind(name)
    fill = pre.fill_.get(name)
    if kind == "category":
        categories = pre.categories_[name]
        # OneHotEncoder over the categories and "" (missing): unseen text is all zeros;
        # the product by [I; e_fill] sends a missing cell to its fill category.
        one_hot = g.op(
            "OneHotEncoder",
            [name],
            f"{name}_one_hot",
            domain="ai.onnx.ml",
            cats_strings=[*categories, ""],
            zeros=1,
        )
        select = np.vstack([np.eye(len(categories)), np.zeros((1, len(categories)))])
        if fill is not None:
            select[-1, categories.index(fill)] = 1.0
        return g.op("MatMul", [one_hot, g.const(f"{name}_fill", select.astype(np.float32))], name)
    x = name
    if kind == "date":  # seconds since 1970-01-01 → days
        x = g.op("Div", [x, g.const("seconds_per_day", np.array(86400.0))], f"{name}_days")
    if fill is not None:
        missing = g.op("IsNaN", [x], f"{name}_missing")
        x = g.op(
            "Where", [missing, g.const(f"{name}_fill", np.array(float(fill))), x], f"{name}_filled"
        )
    stats = pre.numeric_[name] if kind == "numeric" else pre.dates_[name]
    robust = kind == "numeric" and pre.scaling_ == "robust"
    if robust and stats.get("log"):  # u = ln(1 + max(x, 0)), as transform computes it
        x = g.op("Max", [x, g.const("zero", np.array(0.0))], f"{name}_nonnegative")
        x = g.op("Add", [x, g.const("one", np.array(1.0))], f"{name}_one_plus_x")
        x = g.op("Log", [x], f"{name}_log")
    center = stats["center"] if robust else stats["mean"]
    centered = g.op("Sub", [x, g.const(f"{name}_mean", np.array(center))], f"{name}_centered")
    scaled = g.op(
        "Div", [centered, g.const(f"{name}_scale", np.array(stats["scale"]))], f"{name}_scaled"
    )
    if robust:  # the smooth clip z / √(1 + (z/c)²), in float64 as transform computes it
        ratio = g.op("Div", [scaled, g.const("clip", np.array(CLIP))], f"{name}_ratio")
        square = g.op("Mul", [ratio, ratio], f"{name}_ratio_squared")
        one_plus = g.op("Add", [square, g.const("one", np.array(1.0))], f"{name}_one_plus")
        root = g.op("Sqrt", [one_plus], f"{name}_root")
        scaled = g.op("Div", [scaled, root], f"{name}_clipped")
    columns = [g.op("Cast", [scaled], f"{name}_f32", to=TP.FLOAT)]
    if kind == "date":
        cycles = [("year", YEAR_DAYS)] + ([("day", 1.0)] if pre.dates_[name]["daily"] else [])
        for cycle, period in cycles:
            # the phase reduced in float64 first, so that float32 keeps its precision
            reduced = g.op(
                "Mod",
                [x, g.const(f"{cycle}_period", np.array(period))],
                f"{name}_{cycle}_mod",
                fmod=1,
            )
            phase = g.op(
                "Mul",
                [reduced, g.const(f"{cycle}_radians", np.array(2 * np.pi / period))],
                f"{name}_{cycle}_phase",
            )
            phase32 = g.op("Cast", [phase], f"{name}_{cycle}_phase_f32", to=TP.FLOAT)
            columns += [
                g.op("Sin", [phase32], f"{name}_{cycle}_sin"),
                g.op("Cos", [phase32], f"{name}_{cycle}_cos"),
            ]
    to_2d = g.const("shape_column", np.array([-1, 1], np.int64))
    columns = [g.op("Reshape", [c, to_2d], f"{c}_2d") for c in columns]
    return columns[0] if len(columns) == 1 else g.op("Concat", columns, f"{name}_inputs", axis=1)


def _preprocessing(g: _Graph, pre: TabularPreprocessor) -> str:
    """Add the nodes from the columns' inputs to the network's input X (N, n_inputs)."""
    blocks = [_column(g, pre, name) for name in pre.feature_names_in_]
    return blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, "X", axis=1)


def _build(onnx, model, inputs=("X",), x: str = "X"):
    """Build the graph's nodes, initializers and output descriptions for ``model``.

    The model's network reads ``x``.
    """
    TP = onnx.TensorProto
    F32 = TP.FLOAT
    g = _Graph(onnx, inputs)
    outputs: list[tuple[str, int, list]] = []  # (name, element type, shape)
    pre = None
    if hasattr(model, "named_steps"):
        pre, model = model.named_steps.get("preprocess"), model.named_steps.get("model")
        if not isinstance(pre, TabularPreprocessor):
            raise TypeError(
                "export_onnx takes a Pipeline only in the form the nnmath command builds: "
                "[('preprocess', TabularPreprocessor), ('model', an nnmath model)]"
            )
        x = _preprocessing(g, pre)

    if isinstance(model, Network):
        network = model
        _, y_hat = _layers(g, network, x=x)
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
        _, y_hat = _layers(g, network, x=x)
        outputs.append((g.op("Identity", [y_hat], "variable"), F32, ["N", n_out]))
        return g, network, outputs

    classes = to_numpy(model.classes_)
    if isinstance(model, Perceptron):
        # The label comes from z = w·x + b: z ≥ 0 for two classes (ŷ ≥ ½), argmax z
        # otherwise, exactly as Perceptron.predict decides.
        sigmoid = model.network_.activations[-1].name == "sigmoid"
        z, _ = _layers(g, network, last_activation=False, x=x)
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
    _, y_hat = _layers(g, network, x=x)
    y_type = model.label_type_
    half = g.const("threshold", np.array(0.5, np.float32)) if y_type != "multiclass" else ""
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


def _preprocessor(model) -> TabularPreprocessor | None:
    steps = getattr(model, "named_steps", None)
    return None if steps is None else steps.get("preprocess")


def to_onnx(model):
    """Build the ONNX model of ``model`` in memory (see :func:`export_onnx`).

    Returns
    -------
    onnx.ModelProto
        Checked with ``onnx.checker.check_model``.
    """
    onnx = _import_onnx()
    helper = onnx.helper
    TP = onnx.TensorProto
    pre = _preprocessor(model)
    if pre is None:
        g, network, outputs = _build(onnx, model)
        inputs = [helper.make_tensor_value_info("X", TP.FLOAT, ["N", network.layer_sizes[0]])]
    else:
        clash = sorted(set(pre.feature_names_in_) & set(_OUTPUT_NAMES))
        if clash:
            raise ValueError(
                f"column {clash[0]!r} has the name of an output of the ONNX graph "
                f"({', '.join(_OUTPUT_NAMES)}); rename it before training"
            )
        g, network, outputs = _build(onnx, model, inputs=pre.feature_names_in_)
        types = {"numeric": TP.DOUBLE, "date": TP.DOUBLE, "category": TP.STRING}
        inputs = [
            helper.make_tensor_value_info(name, types[pre.kind(name)], ["N"])
            for name in pre.feature_names_in_
        ]
    graph = helper.make_graph(
        g.nodes,
        f"nnmath_{type(model).__name__}",
        inputs,
        [helper.make_tensor_value_info(name, elem, shape) for name, elem, shape in outputs],
        initializer=g.initializers,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if pre is not None:
        opsets.append(helper.make_opsetid("ai.onnx.ml", _ML_OPSET))
    proto = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=_IR_VERSION,
        producer_name="nnmath",
        producer_version=nnmath_version(),
        doc_string=f"{type(model).__name__} exported by nnmath {nnmath_version()}",
    )
    props = {
        "model_class": type(model).__name__,
        "layer_sizes": json.dumps(network.layer_sizes),
        "activations": json.dumps([a.name for a in network.activations]),
    }
    if pre is not None:
        props["inputs"] = json.dumps({name: pre.kind(name) for name in pre.feature_names_in_})
        props["target"] = json.dumps(pre.target)
    helper.set_model_props(proto, props)
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
