"""class_weight on MLPClassifier and Perceptron, against scikit-learn's definition.

A class weight is a sample weight chosen by class: every fit with ``class_weight`` is
compared, bit for bit where the arithmetic is the same, with a fit given the weights
``sklearn.utils.class_weight.compute_class_weight`` (or the dict) gives each row as
``sample_weight``.
"""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.utils.class_weight import compute_class_weight

import nnmath
from nnmath import MLPClassifier, Perceptron
from nnmath.cli import main
from nnmath.core.network import Network
from nnmath.core.rosenblatt import rosenblatt_pass
from nnmath.data.checks import class_counts, class_weight_of
from nnmath.data.sources import Chunks
from nnmath.document import ModelFileError

SOLVERS = ["adam", "sgd", "lbfgs", "gd"]
ABC = np.array(["a", "b", "c"])


def _fit(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short runs: ConvergenceWarning
        return model.fit(*args, **kwargs)


@pytest.fixture(scope="module")
def cancer():
    """An imbalanced binary table (212 malignant, 357 benign), standardized."""
    X, y = load_breast_cancer(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


@pytest.fixture(scope="module")
def three():
    """Three string classes of 50, 30 and 10 rows, and sample weights."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.array(["a", "b", "c"]), [50, 30, 10])
    X = rng.normal(size=(90, 4)) + (y == "b")[:, None] - (y == "c")[:, None]
    return X, y, rng.uniform(0.5, 2.0, size=90)


def _same(a, b) -> None:
    assert np.array_equal(a.network_.theta, b.network_.theta)
    assert a.loss_curve_ == b.loss_curve_ if hasattr(a, "loss_curve_") else True


def _kw(solver, **more):
    return dict(hidden_layer_sizes=(5,), solver=solver, max_iter=15, random_state=0, **more)


# ------------------------------------------------------------------ the weights
@pytest.mark.parametrize("weighted", [False, True])
def test_balanced_weights_are_compute_class_weights(three, weighted):
    _, y, sw = three
    classes = np.unique(y)
    w = sw if weighted else None
    Y = np.eye(3)[np.searchsorted(classes, y)]
    ours = class_weight_of("balanced", classes, class_counts(Y, 3, w))
    theirs = compute_class_weight("balanced", classes=classes, y=y, sample_weight=w)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)
    # binary targets are one column of 0 and 1
    y2 = (y == "c").astype(int)
    ours2 = class_weight_of("balanced", np.array([0, 1]), class_counts(y2[:, None], 2, w))
    theirs2 = compute_class_weight("balanced", classes=np.array([0, 1]), y=y2, sample_weight=w)
    np.testing.assert_allclose(ours2, theirs2, rtol=1e-15)


def test_a_dict_weighs_the_classes_it_names_and_leaves_the_others_at_one():
    classes = np.array([0, 1, 2])
    expected = compute_class_weight({2: 5.0, 0: 0.5}, classes=classes, y=np.array([0, 1, 2]))
    assert class_weight_of({2: 5.0, 0: 0.5}, classes).tolist() == expected.tolist()
    assert class_weight_of({}, classes).tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------ MLPClassifier
@pytest.mark.parametrize("solver", SOLVERS)
def test_a_dict_equals_sample_weights_by_class(cancer, solver):
    X, y = cancer
    a = _fit(MLPClassifier(class_weight={0: 2, 1: 1}, **_kw(solver)), X, y)
    b = _fit(MLPClassifier(**_kw(solver)), X, y, sample_weight=np.where(y == 0, 2.0, 1.0))
    _same(a, b)
    plain = _fit(MLPClassifier(**_kw(solver)), X, y)
    assert not np.array_equal(a.network_.theta, plain.network_.theta)  # it weighed


@pytest.mark.parametrize("solver", SOLVERS)
def test_balanced_equals_compute_class_weights_as_sample_weights(three, solver):
    X, y, _ = three
    weights = compute_class_weight("balanced", classes=np.unique(y), y=y)
    a = _fit(MLPClassifier(class_weight="balanced", **_kw(solver)), X, y)
    b = _fit(MLPClassifier(**_kw(solver)), X, y, sample_weight=weights[np.searchsorted(ABC, y)])
    _same(a, b)


@pytest.mark.parametrize("solver", SOLVERS)
def test_class_weight_times_sample_weight(three, solver):
    X, y, sw = three
    cw = {"a": 0.5, "c": 4.0}
    per_row = np.array([cw.get(label, 1.0) for label in y])
    a = _fit(MLPClassifier(class_weight=cw, **_kw(solver)), X, y, sample_weight=sw)
    b = _fit(MLPClassifier(**_kw(solver)), X, y, sample_weight=sw * per_row)
    _same(a, b)
    # "balanced" counts the classes by their sample weights, as compute_class_weight does
    weights = compute_class_weight("balanced", classes=np.unique(y), y=y, sample_weight=sw)
    c = _fit(MLPClassifier(class_weight="balanced", **_kw(solver)), X, y, sample_weight=sw)
    d = _fit(
        MLPClassifier(**_kw(solver)), X, y, sample_weight=sw * weights[np.searchsorted(ABC, y)]
    )
    _same(c, d)


def test_the_weights_are_set_before_the_validation_split(three):
    # scikit-learn's HistGradientBoostingClassifier's rule: the validation_fraction rows
    # keep their class weights (its score is then weighted by class too).
    X, y, _ = three
    kw = _kw("adam", early_stopping=True, validation_fraction=0.2, n_iter_no_change=3)
    a = _fit(MLPClassifier(class_weight="balanced", **kw), X, y)
    weights = compute_class_weight("balanced", classes=np.unique(y), y=y)
    b = _fit(MLPClassifier(**kw), X, y, sample_weight=weights[np.searchsorted(ABC, y)])
    _same(a, b)
    assert a.validation_scores_ == b.validation_scores_


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_takes_a_dict(three, solver):
    X, y, _ = three
    cw = {"b": 3.0}
    per_row = np.where(y == "b", 3.0, 1.0)
    a = MLPClassifier(class_weight=cw, **_kw(solver))
    b = MLPClassifier(**_kw(solver))
    for rows in (slice(0, 40), slice(40, 90)):
        a.partial_fit(X[rows], y[rows], classes=["a", "b", "c"])
        b.partial_fit(X[rows], y[rows], classes=["a", "b", "c"], sample_weight=per_row[rows])
    _same(a, b)


def test_partial_fit_refuses_balanced_as_sgdclassifier_does(three):
    X, y, _ = three
    with pytest.raises(ValueError, match=r"class_weight='balanced' is not supported for partial"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=["a", "b", "c"])


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_fit_data_weighs_each_chunk_by_class(three, solver):
    X, y, sw = three
    cw = {"a": 2.0, "c": 3.0}
    weighted = sw * np.array([cw.get(label, 1.0) for label in y])
    cut = [slice(0, 35), slice(35, 90)]

    def chunks(w):
        parts = [(X[s], y[s], w[s]) for s in cut]
        return Chunks([lambda p=p: p for p in parts], 90, sum(float(w[s].sum()) for s in cut))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short runs: ConvergenceWarning
        a = MLPClassifier(class_weight=cw, **_kw(solver)).fit_data(chunks(sw), classes=ABC)
        b = MLPClassifier(**_kw(solver)).fit_data(chunks(weighted), classes=ABC)
        # "balanced" counts the classes over all the chunks
        c = MLPClassifier(class_weight="balanced", **_kw(solver))
        c.fit_data(chunks(sw), classes=ABC)
    _same(a, b)
    weights = compute_class_weight("balanced", classes=np.unique(y), y=y, sample_weight=sw)
    d = _fit(
        MLPClassifier(**_kw(solver)), X, y, sample_weight=sw * weights[np.searchsorted(ABC, y)]
    )
    np.testing.assert_allclose(c.network_.theta, d.network_.theta, rtol=1e-9, atol=1e-12)


def test_dask_data_is_weighed_by_class(three):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    X, y, sw = three
    weights = compute_class_weight("balanced", classes=np.unique(y), y=y, sample_weight=sw)
    per_row = weights[np.searchsorted(ABC, y)]
    with dask.config.set(scheduler="sync"):
        Xd, yd = da.from_array(X, chunks=40), da.from_array(y, chunks=40)
        a = _fit(
            MLPClassifier(class_weight="balanced", **_kw("lbfgs")),
            Xd,
            yd,
            sample_weight=da.from_array(sw, chunks=40),
        )
        b = _fit(
            MLPClassifier(**_kw("lbfgs")),
            Xd,
            yd,
            sample_weight=da.from_array(sw * per_row, chunks=40),
        )
        p = _fit(Perceptron(class_weight="balanced", random_state=0, max_iter=30), Xd, yd)
    np.testing.assert_allclose(a.network_.theta, b.network_.theta, rtol=1e-9, atol=1e-12)
    q = _fit(Perceptron(class_weight="balanced", random_state=0, max_iter=30), X, y)
    np.testing.assert_allclose(p.network_.theta, q.network_.theta, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ Perceptron
def test_perceptron_gradient_descent_weighs_a_class_as_repeating_its_rows(cancer):
    X, y = cancer
    a = _fit(Perceptron(class_weight={0: 2}, random_state=0, max_iter=40, tol=None), X, y)
    twice = np.concatenate([np.arange(len(y)), np.flatnonzero(y == 0)])
    b = _fit(Perceptron(random_state=0, max_iter=40, tol=None), X[twice], y[twice])
    np.testing.assert_allclose(a.network_.theta, b.network_.theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-10)


def test_perceptron_balanced_is_compute_class_weight(three):
    X, y, _ = three
    weights = compute_class_weight("balanced", classes=np.unique(y), y=y)
    for activation in ("sigmoid", "step"):
        kw = dict(activation=activation, random_state=0, max_iter=20)
        a = _fit(Perceptron(class_weight="balanced", **kw), X, y)
        b = _fit(Perceptron(class_weight=dict(zip("abc", weights, strict=True)), **kw), X, y)
        _same(a, b)


def test_rosenblatt_moves_a_weighted_sample_that_many_times_as_far():
    net = Network([2, 1], activation="step")
    net.W[0][:], net.b[0][:] = 0.0, -1.0
    X, Y = np.array([[1.0, 2.0], [3.0, 1.0]]), np.array([[1.0], [1.0]])
    # sample 1: z = −1, ŷ = 0, a mistake: w += 0.5·3·(1)·x = [1.5, 3], b += 1.5 → 0.5;
    # sample 2: z = 4.5 + 3 + 0.5 > 0, right: nothing moves.
    assert rosenblatt_pass(net, X, Y, 0.5, sample_weight=np.array([3.0, 2.0])) == 1
    assert net.W[0].ravel().tolist() == [1.5, 3.0]
    assert net.b[0].tolist() == [0.5]


# ------------------------------------------------------------------ model files
@pytest.mark.parametrize("class_weight", [{"a": 2, "c": 0.5}, "balanced", {"b": 0}, None], ids=str)
def test_model_files_keep_class_weight(tmp_path, three, class_weight):
    X, y, _ = three
    for model in (
        MLPClassifier(class_weight=class_weight, **_kw("adam")),
        Perceptron(class_weight=class_weight, random_state=0, max_iter=5),
    ):
        _fit(model, X, y)
        path = tmp_path / "m.safetensors"
        nnmath.save(model, path)
        again = nnmath.load(path)
        assert again.class_weight == class_weight
        assert type(again.class_weight) is type(class_weight)
        assert np.array_equal(again.predict(X), model.predict(X))


def test_integer_classes_keep_their_type_in_a_model_file(tmp_path, cancer):
    X, y = cancer
    model = _fit(MLPClassifier(class_weight={np.int64(0): 3}, **_kw("adam")), X, y)
    nnmath.save(model, tmp_path / "m.safetensors")
    again = nnmath.load(tmp_path / "m.safetensors")
    assert again.class_weight == {0: 3}
    assert type(next(iter(again.class_weight))) is int
    # a refit of the loaded model weighs the same
    _same(_fit(again, X, y), _fit(MLPClassifier(class_weight={0: 3}, **_kw("adam")), X, y))


def test_older_model_files_load_with_class_weight_none():
    for name in ("classifier", "perceptron"):
        model = nnmath.load(f"tests/data/0.1.0-{name}.safetensors")
        assert model.class_weight is None


@pytest.mark.parametrize(
    ("saved", "message"),
    [
        ([["zz", 1]], r"names \['zz'\]"),
        ([["a", -1]], "must be null, 'balanced' or a list"),
        ("heavy", "must be null, 'balanced' or a list"),
        ([["a", 1], ["a", 2]], "names a class twice"),
    ],
)
def test_a_bad_class_weight_in_a_model_file_is_a_model_file_error(three, saved, message):
    X, y, _ = three
    document, tensors = _fit(MLPClassifier(**_kw("adam")), X, y).to_document()
    document["hyperparameters"]["class_weight"] = saved
    with pytest.raises(ModelFileError, match=message):
        MLPClassifier.from_document(document, dict(tensors))


# ------------------------------------------------------------------ bad values
@pytest.mark.parametrize("Estimator", [MLPClassifier, Perceptron])
@pytest.mark.parametrize(
    ("class_weight", "message"),
    [
        ({"z": 1.0}, r"class_weight names \['z'\], which is not among the classes"),
        ({"a": -1.0}, r"class_weight\['a'\] must be a finite number >= 0; got -1"),
        ({"a": float("nan")}, r"class_weight\['a'\] must be a finite number >= 0"),
        ({"a": "2"}, r"class_weight\['a'\] must be a finite number >= 0"),
        ("heavy", r"'class_weight' parameter .* must be .*'balanced'.* Got 'heavy'"),
        (["a"], r"'class_weight' parameter"),
        ({"a": 0, "b": 0, "c": 0}, r"sample weights times class_weight sum to 0"),
    ],
)
def test_a_bad_class_weight_is_a_value_error_naming_it(three, Estimator, class_weight, message):
    X, y, _ = three
    with pytest.raises(ValueError, match=message):
        Estimator(class_weight=class_weight, max_iter=2).fit(X, y)


def test_multilabel_targets_take_no_class_weight(three):
    X, _, _ = three
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0], axis=1).astype(int)
    with pytest.raises(ValueError, match=r"class_weight='balanced' needs single-label targets"):
        MLPClassifier(class_weight="balanced", max_iter=2).fit(X, Y)
    MLPClassifier(class_weight=None, max_iter=2, hidden_layer_sizes=(3,))  # None is fine
    _fit(MLPClassifier(max_iter=2, hidden_layer_sizes=(3,)), X, Y)


# ------------------------------------------------------------------ the command
@pytest.fixture
def rare_table(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    label = np.where(x[:, 0] > 1.0, "rare", "common")
    lines = ["a,b,label"] + [f"{p:.6f},{q:.6f},{c}" for (p, q), c in zip(x, label, strict=True)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _train(*options):
    return main(["train", "t.csv", "--target", "label", "--epochs", "5", "--quiet", *options])


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("balanced", "balanced"),
        ("rare=3,common=1", {"rare": 3.0, "common": 1.0}),
        ("rare=2.5", {"rare": 2.5}),
    ],
)
def test_the_commands_class_weight_reaches_the_estimator(rare_table, option, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _train("--class-weight", option, "--out", "m.safetensors") == 0
    assert nnmath.load("m.safetensors").named_steps["model"].class_weight == expected


def test_the_commands_class_weight_reaches_a_streamed_fit(rare_table):
    # read in batches: the estimator's fit_data, its chunks weighed by class
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _train("--stream", "--class-weight", "rare=4", "--out", "m.safetensors") == 0
    assert nnmath.load("m.safetensors").named_steps["model"].class_weight == {"rare": 4.0}


def test_the_commands_default_weighs_every_row_alike(rare_table):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _train("--out", "m.safetensors") == 0
    assert nnmath.load("m.safetensors").named_steps["model"].class_weight is None


def test_the_command_matches_number_labels(tmp_path, monkeypatch):
    from nnmath.cli.learn import class_weight_for

    assert class_weight_for({"1": 3.0}, np.array([0, 1])) == {1: 3.0}
    assert class_weight_for({"1.0": 3.0}, np.array([0, 1])) == {1: 3.0}
    assert class_weight_for({"yes": 2.0}, np.array(["no", "yes"])) == {"yes": 2.0}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "rar=2",
            r"--class-weight names 'rar', which is not a class of the target; its classes "
            r"are common, rare",
        ),
        ("heavy", r"argument --class-weight: expected 'balanced' or CLASS=WEIGHT pairs"),
        ("rare=-1", r"argument --class-weight: a class's weight must be a number >= 0"),
        ("rare=2,rare=3", r"class 'rare' is given twice"),
    ],
)
def test_a_bad_class_weight_option_is_one_line(rare_table, capsys, option, message):
    try:
        status = _train("--class-weight", option)
    except SystemExit as exc:  # argparse's errors
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert any(re.search(message, line) for line in err.splitlines()), err


def test_class_weight_is_refused_for_a_regression_target(tmp_path, monkeypatch, capsys):
    lines = ["x,y"] + [f"{i / 10},{i * 1.5 + 0.25}" for i in range(60)]
    (tmp_path / "r.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    status = main(["train", "r.csv", "--target", "y", "--class-weight", "balanced", "--quiet"])
    assert status == 2
    assert "--class-weight weighs classes; the target is a number" in capsys.readouterr().err


# ------------------------------------------------------------------ array-API dispatch
@pytest.mark.skipif(
    os.environ.get("SCIPY_ARRAY_API") != "1",
    reason="scikit-learn's array-API dispatch needs SCIPY_ARRAY_API=1 (make test's second pass)",
)
def test_array_api_class_weight_on_torch(cancer):
    torch = pytest.importorskip("torch")
    from sklearn import config_context

    X, y = cancer
    for class_weight in ("balanced", {0: 3.0}):
        with config_context(array_api_dispatch=True):
            kw = _kw("adam", class_weight=class_weight)
            on_torch = _fit(MLPClassifier(**kw), torch.tensor(X), torch.tensor(y))
        on_numpy = _fit(MLPClassifier(**kw), X, y)
        np.testing.assert_allclose(
            on_torch.network_.theta.numpy(), on_numpy.network_.theta, rtol=1e-9, atol=1e-12
        )
    plain = _fit(MLPClassifier(**_kw("adam")), X, y)
    assert not np.allclose(plain.network_.theta, on_numpy.network_.theta)
