"""The adapters of the training data: arrays, a data source and Dask collections answer
fit's questions alike, and the estimator's fit asks them the same way whatever the kind."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer

from nnmath import MLPClassifier, MLPRegressor
from nnmath.data.adapters import ArrayInput, Encoding, SourceInput
from nnmath.data.cluster import ChunkChecks
from nnmath.data.sources import Chunks, InMemory
from nnmath.network import Network

X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0], [4.0, 0.0], [5.0, 2.0]])
LABELS = np.array(["a", "b", "a", "c", "a", "b"])
WEIGHTS = np.array([1.0, 2.0, 0.5, 4.0, 1.5, 3.0])
# by hand: one column per class a, b, c
ONE_HOT = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]], float)
# by hand: Σ of each class's weights (a: rows 0, 2, 4; b: 1, 5; c: 3)
COUNTS = [1.0 + 0.5 + 1.5, 2.0 + 3.0, 4.0]


def _arrays():
    return ArrayInput(X, LABELS, WEIGHTS)


def _source():
    parts = [(X[:4], LABELS[:4], WEIGHTS[:4]), (X[4:], LABELS[4:], WEIGHTS[4:])]
    return SourceInput(Chunks([lambda p=p: p for p in parts], 6), classes=["a", "b", "c"])


def _collection():
    da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
    from nnmath.data.cluster import CollectionInput

    return CollectionInput(
        da.from_array(X, chunks=(4, 2)),
        da.from_array(LABELS, chunks=4),
        da.from_array(WEIGHTS, chunks=4),
    )


def _encoding(binarizer):
    checks = ChunkChecks(2, np.float64, encode=binarizer.transform, classes=binarizer.classes_)
    return Encoding(
        lambda y, X_: np.asarray(binarizer.transform(y), X_.dtype),
        lambda: checks,
        lambda: binarizer.classes_.dtype,
    )


@pytest.mark.parametrize("make", [_arrays, _source, _collection])
def test_every_kind_answers_fits_questions_alike(make):
    source = make()
    estimator = MLPClassifier()
    source.check(estimator, reset=True, numeric_y=False)
    assert (source.n_features, estimator.n_features_in_, source.dtype) == (2, 2, np.float64)
    labels = source.labels(fresh=True)
    binarizer = LabelBinarizer().fit(labels.fit_on)
    assert binarizer.classes_.tolist() == ["a", "b", "c"]
    source.encode(_encoding(binarizer))
    counted = []

    def weights_of(counts):
        counted.append(np.asarray(counts()).tolist())
        return np.array([1.0, 10.0, 100.0])

    source.weigh(weights_of, 3)
    assert counted == [COUNTS]
    network = Network([2, 3], random_state=0)
    data = source.data(network)
    chunks = list(data.chunks())
    Xs = np.vstack([c[0] for c in chunks])
    Ys = np.vstack([c[1] for c in chunks])
    ws = np.concatenate([c[2] for c in chunks])
    np.testing.assert_array_equal(Xs, X)
    np.testing.assert_array_equal(Ys, ONE_HOT)
    # each row's weight times its class's: 1, 10 or 100
    np.testing.assert_array_equal(ws, WEIGHTS * (ONE_HOT @ [1.0, 10.0, 100.0]))
    data.close()


def test_a_data_source_splits_no_validation_set_off_itself():
    source = _source()
    assert not source.splits
    clf = MLPClassifier(hidden_layer_sizes=(2,), early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="needs validation_data"):
        clf.fit_data(InMemory(X, LABELS), classes=["a", "b", "c"])


def test_a_data_source_must_be_chunks_or_arrays_in_memory():
    with pytest.raises(TypeError, match="Chunks or InMemory; got list"):
        SourceInput([X, LABELS])


Y_REG = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0])

BAD_SOURCES = {
    "a loader returning (X, y)": (
        lambda: MLPClassifier(max_iter=2).fit_data(
            Chunks([lambda: (X, LABELS)], 6), classes=["a", "b", "c"]
        ),
        r"must be a tuple \(X, y, sample_weight\); a loader returned a tuple of 2",
    ),
    "a loader returning X alone": (
        lambda: MLPClassifier(max_iter=2).fit_data(Chunks([lambda: X], 6), classes=["a", "b"]),
        "a loader returned a ndarray",
    ),
    "a chunk without y": (
        lambda: MLPClassifier(max_iter=2).fit_data(
            Chunks([lambda: (X, None, None)], 6), classes=["a", "b", "c"]
        ),
        "a chunk's y is None",
    ),
    "classes as one string": (
        lambda: MLPClassifier(max_iter=2).fit_data(_source().source, classes="abc"),
        "classes must be a list of every label of the data, 1-D; got 'abc'",
    ),
    "a later chunk with more targets": (
        lambda: MLPRegressor(max_iter=2, solver="sgd").fit_data(
            Chunks(
                [lambda: (X, Y_REG, None), lambda: (X, np.c_[Y_REG, Y_REG], None)],
                12,
            )
        ),
        r"a chunk's y has 2 column\(s\) but the first chunk's had 1",
    ),
    "classes given to a regressor": (
        lambda: MLPRegressor(max_iter=2).fit_data(
            Chunks([lambda: (X, Y_REG, None)], 6), classes=[0, 1]
        ),
        r"classes= are a classifier's labels; an MLPRegressor takes none",
    ),
    "validation labels of no class": (
        lambda: MLPClassifier(max_iter=2).fit_data(
            _source().source, classes=["a", "b", "c"], validation_data=(X, ["z"] * 6)
        ),
        r"validation_data's labels are none of the classes .*got \['z'\]",
    ),
}


@pytest.mark.parametrize("case", BAD_SOURCES)
def test_bad_input_to_fit_data_says_what_is_wrong(case):
    fit, message = BAD_SOURCES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match=message):
            fit()


def test_the_estimator_checks_its_input_while_fit_scores_the_validation_set():
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(60, 2))
    y_train = (X_train[:, 0] > 0).astype(int)
    seen = []

    def scorer(view, X_val, y_val):
        # the estimator, called while its validation set is scored: a list of rows is
        # checked (and converted) as at any other time, a row of 3 features refused
        seen.append(clf.predict_proba([[0.5, -0.5]]))
        seen.append(view.predict_proba(np.array([[0.5, -0.5]])))
        with pytest.raises(ValueError, match="3 features"):
            clf.predict([[0.0, 1.0, 2.0]])
        return float(np.mean(view.predict(X_val) == y_val))

    clf = MLPClassifier(
        hidden_layer_sizes=(3,),
        early_stopping=True,
        scoring=scorer,
        max_iter=3,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    assert len(seen) == 6  # three epochs
    for on_list, on_array in zip(seen[::2], seen[1::2], strict=True):
        np.testing.assert_array_equal(on_list, on_array)


def test_a_prediction_in_another_thread_during_scoring_checks_its_input():
    rng = np.random.default_rng(1)
    X_train = rng.normal(size=(40, 2))
    y_train = X_train @ [1.0, -1.0]
    scoring, resume = threading.Event(), threading.Event()
    outcome = []

    def scorer(view, X_val, y_val):
        if not scoring.is_set():
            scoring.set()
            resume.wait(10)
        return -float(np.mean((view.predict(X_val) - y_val) ** 2))

    reg = MLPRegressor(
        hidden_layer_sizes=(3,), early_stopping=True, scoring=scorer, max_iter=2, random_state=0
    )

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X_train, y_train)

    thread = threading.Thread(target=fit)
    thread.start()
    try:
        assert scoring.wait(10)
        try:
            reg.predict([[1.0, 2.0, 3.0]])
        except ValueError as exc:
            outcome.append(str(exc))
    finally:
        resume.set()
        thread.join(20)
    assert len(outcome) == 1
    assert "3 features" in outcome[0]
