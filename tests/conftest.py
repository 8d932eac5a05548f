"""Shared fixtures and helpers of the tests: a seeded generator, central differences,
targets of each kind a loss expects, a fit that ignores the ConvergenceWarning of a
deliberately short run, scikit-learn's stopping rule written out by hand, a directory
no file can be created in, and one model file of every kind (the fuzzers' seeds).

The helpers are plain functions (``from conftest import fit_quietly, plateau_epoch``);
the fixtures hand out the others.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a test that takes seconds (make test runs it; -m 'not slow' skips it)"
    )


#: The array libraries the core tests run on: NumPy, array_api_strict (which refuses
#: anything outside the array API standard, and whose "device1" catches arrays on the
#: wrong device) and PyTorch on the CPU (a test extra).
ARRAY_LIBRARIES = ["numpy", "array_api_strict", "torch"]


def array_library_for(name: str):
    """(xp, device) of a library named in :data:`ARRAY_LIBRARIES` (skips the test when
    it is not installed); xp is what a user passes: None for NumPy, else the module."""
    if name == "numpy":
        return None, None
    module = pytest.importorskip(name)
    return module, None


@pytest.fixture(params=ARRAY_LIBRARIES)
def array_library(request):
    """(xp, device) for each array library the core runs on (None, None is NumPy)."""
    return array_library_for(request.param)


@pytest.fixture(params=ARRAY_LIBRARIES[1:])
def other_array_library(request):
    """(xp, device) for each array library besides NumPy, for comparisons with it."""
    return array_library_for(request.param)


def to_numpy(x) -> np.ndarray:
    """An array of any library as NumPy (the tests compare on the host)."""
    from nnmath.core.arrays import to_numpy as convert

    return convert(x)


def fit_quietly(estimator, *args, **kwargs):
    """``estimator.fit(...)``, ignoring only the ConvergenceWarning of a deliberately
    short run (every other warning is still an error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def plateau_epoch(curve, tol, n_iter_no_change):
    """scikit-learn's rule, written out: the epoch at which the training loss has
    failed to improve on its best by tol for more than n_iter_no_change epochs (None
    when it never has)."""
    best, count = math.inf, 0
    for epoch, loss in enumerate(curve, start=1):
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            return epoch
    return None


def unwritable_directory(tmp_path) -> str:
    """A directory in which no file can be created: a read-only one, or for root (whom
    the mode does not stop) sysfs, where no file can be created at all."""
    directory = tmp_path / "read-only"
    directory.mkdir()
    directory.chmod(0o555)
    if not os.access(directory, os.W_OK):
        return str(directory)
    try:
        open("/sys/nnmath-probe", "wb").close()
    except OSError:
        return "/sys"
    os.unlink("/sys/nnmath-probe")
    pytest.skip("no directory that this user cannot write")


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh, seeded generator for every test (never the global state)."""
    return np.random.default_rng(12345)


def _central_difference(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """∂f/∂x of a scalar function f by central differences, (f(x+ε) − f(x−ε)) / 2ε,
    one coordinate at a time (an error of O(ε²)); x is float64 and is restored."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    flat, g = x.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        saved = flat[j]
        flat[j] = saved + eps
        f_plus = float(f(x))
        flat[j] = saved - eps
        f_minus = float(f(x))
        flat[j] = saved
        g[j] = (f_plus - f_minus) / (2 * eps)
    return grad


@pytest.fixture
def central_difference():
    """The finite-difference reference every gradient test compares against."""
    return _central_difference


def _make_targets(kind: str, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Targets of shape (n, k) for a loss: "binary" 0/1, "onehot" rows, "counts"
    (Poisson), "far" (±10: |ŷ − y| ≫ ε keeps mae clear of its kink at ŷ = y), or real."""
    if kind == "binary":
        return rng.integers(0, 2, (n, k)).astype(float)
    if kind == "onehot":
        return np.eye(k)[rng.integers(0, k, n)]
    if kind == "counts":
        return rng.poisson(2.0, (n, k)).astype(float)
    if kind == "far":
        return rng.choice([-10.0, 10.0], (n, k))
    return 2 * rng.normal(size=(n, k))


@pytest.fixture
def make_targets():
    """``make_targets(kind, rng, n, k)``: see :func:`_make_targets`."""
    return _make_targets


def check_consistent(model) -> None:
    """Assert what a loaded model owes its user, whatever its weights: it predicts, a
    classifier's labels are among its classes, and each has the highest of its
    probabilities (where those are numbers: finite weights of 1e300 overflow, as any
    model's would on such inputs). ``model`` is one of :func:`save_every_model_kind`'s
    kinds, loaded (maybe from a mutated file)."""
    import warnings

    import nnmath

    estimator = model.steps[-1][1] if hasattr(model, "steps") else model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow of huge weights
        warnings.simplefilter("ignore", UserWarning)  # feature names of a mutated file
        if isinstance(estimator, nnmath.Network):
            estimator.forward(np.zeros((2, estimator.layer_sizes[0])))
            return
        if hasattr(model, "steps"):  # a table the model's own preprocessing takes
            pre = model.steps[0][1]
            X = {
                name: np.zeros(4)
                if name in pre.numeric_
                else np.array(pre.categories_[name] * 4)[:4]
                if name in pre.categories_
                else np.full(4, np.datetime64("2021-03-04"))
                for name in pre.feature_names_in_
            }
        else:
            X = np.zeros((4, estimator.n_features_in_))
        pred = model.predict(X)
        if hasattr(estimator, "classes_") and pred.ndim == 1:
            assert set(pred.tolist()) <= set(estimator.classes_.tolist())
            if hasattr(model, "predict_proba") and len(estimator.classes_) > 1:
                proba = model.predict_proba(X)
                index = np.searchsorted(estimator.classes_, pred)  # classes_ are sorted
                chosen = proba[np.arange(len(pred)), index]
                finite = np.isfinite(proba).all(axis=1)
                # the predicted class has the highest probability (ties, which rounding
                # makes of nearly equal sigmoids, may go either way)
                assert (chosen[finite] == proba[finite].max(axis=1)).all()


def save_every_model_kind(directory) -> dict:
    """One small model file of every kind nnmath saves, written into ``directory``:
    {kind: path}. The seed files of the loader's fuzz tests (CI's seeded mutator and
    ``make fuzz``'s longer campaign)."""
    from pathlib import Path

    from sklearn.pipeline import Pipeline

    import nnmath
    from nnmath.preprocessing import TabularPreprocessor

    directory = Path(directory)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    three = np.digitize(X[:, 0], [-0.5, 0.5])
    quiet = {"hidden_layer_sizes": (3,), "max_iter": 5, "random_state": 0}
    table = {"size": X[:, 0], "color": np.where(X[:, 1] > 0, "red", "blue"), "label": labels}
    pre = TabularPreprocessor(target="label").fit(table)
    models = {
        "network": nnmath.Network([3, 4, 2], activation="tanh", random_state=0),
        "network-f32": nnmath.Network(
            [3, 2], activation="leaky_relu", loss="huber", dtype=np.float32, random_state=0
        ),
        "perceptron-step": nnmath.Perceptron("step", max_iter=5, random_state=0),
        "perceptron-3": nnmath.Perceptron(max_iter=5, tol=None, random_state=0),
        "mlp-binary": nnmath.MLPClassifier(**quiet),
        "mlp-multiclass": nnmath.MLPClassifier(**quiet),
        "mlp-multilabel": nnmath.MLPClassifier(**quiet),
        "mlp-one-class": nnmath.MLPClassifier(**quiet),
        "mlp-regressor": nnmath.MLPRegressor(**quiet),
        "mlp-poisson": nnmath.MLPRegressor(loss="poisson", **quiet),
        "pipeline": nnmath.MLPClassifier(**quiet),
    }
    targets = {
        "perceptron-step": labels,
        "perceptron-3": three,
        "mlp-binary": labels,
        "mlp-multiclass": three,
        "mlp-multilabel": (X[:, :2] > 0).astype(int),
        "mlp-one-class": np.full(40, "only"),
        "mlp-regressor": X @ [1.0, 2.0, 0.0],
        "mlp-poisson": rng.poisson(1.0, 40),
    }
    paths = {}
    for kind, model in models.items():
        if kind == "pipeline":
            fit_quietly(model, pre.transform(table), labels)
            model = Pipeline([("preprocess", pre), ("model", model)])
        elif kind in targets:
            fit_quietly(model, X, targets[kind])
        paths[kind] = directory / f"{kind}.safetensors"
        nnmath.save(model, paths[kind])
    return paths


@pytest.fixture
def playground_server():
    """``nnmath playground --port 0 --no-browser`` as a real process: (url, process)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "nnmath", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline()
        m = re.fullmatch(r"nnmath playground: (http://127\.0\.0\.1:\d+/)\n", first)
        assert m, (first, proc.stderr.read() if proc.poll() is not None else "")
        yield m.group(1), proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
