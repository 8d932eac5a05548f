"""Dask collections, against a real ``distributed.LocalCluster``: full-batch fits equal
to the in-memory fit whatever the chunking, mini-batch training as accurate as in
memory, lazy predictions, early stopping, the search under joblib's Dask backend,
dask-ml's Incremental, the size of a pickle, and bad input.

The cluster (2 workers, 1 thread each, in this process) starts once for the module;
one test starts worker processes, to prove that everything sent to them pickles.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

import nnmath
from conftest import fit_quietly
from nnmath import MLPClassifier, MLPRegressor, Network, Perceptron

da = pytest.importorskip("dask.array", reason="the dask extra is not installed")
dd = pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def relative_error(a, b) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def chunked(a, rows):
    chunks = (rows,) + a.shape[1:]
    return da.from_array(a, chunks=chunks)


# ---------------------------------------------------------------------- import
def test_importing_nnmath_does_not_import_dask():
    code = (
        "import sys, numpy as np, nnmath, nnmath.data.cluster\n"
        "nnmath.MLPClassifier((4,), max_iter=5).fit(np.eye(4), [0, 1, 0, 1])\n"
        "print(sorted(m for m in sys.modules if m == 'dask' or m.startswith('dask.')))"
    )
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------- full batch
@pytest.mark.slow
@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_a_full_batch_fit_equals_the_in_memory_fit_whatever_the_chunking(client, digits, solver):
    X, y = digits
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    params = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        alpha=1e-2,
        max_iter=25,
        learning_rate_init=0.5,
        random_state=0,
    )
    reference = fit_quietly(MLPClassifier(**params), X, y, sample_weight=w)
    for rows in (len(y), 600, 257):
        clf = fit_quietly(
            MLPClassifier(**params),
            chunked(X, rows),
            chunked(y, rows),
            sample_weight=chunked(w, rows),
        )
        assert relative_error(clf.network_.theta, reference.network_.theta) < 1e-8, rows
        np.testing.assert_allclose(clf.loss_curve_, reference.loss_curve_, rtol=1e-8)
        assert clf.n_iter_ == reference.n_iter_
        np.testing.assert_array_equal(clf.classes_, reference.classes_)


@pytest.mark.slow
def test_a_regressor_on_a_dask_dataframe_equals_the_in_memory_fit(client):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    target = frame.a - 2 * frame.b * frame.c
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    reference = fit_quietly(MLPRegressor(**params), frame, target)
    X, y = dd.from_pandas(frame, npartitions=3), dd.from_pandas(target, npartitions=3)
    reg = fit_quietly(MLPRegressor(**params), X, y)
    assert relative_error(reg.network_.theta, reference.network_.theta) < 1e-8
    assert list(reg.feature_names_in_) == ["a", "b", "c"]
    predicted = reg.predict(X)
    assert isinstance(predicted, da.Array)
    np.testing.assert_allclose(predicted.compute(), reference.predict(frame), atol=1e-10)
    assert reg.score(X, y) == pytest.approx(reference.score(frame, target), rel=1e-10)


def test_network_fit_and_the_perceptron_add_up_the_chunks_shares(client):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 3))
    y = (X @ [1.0, -1.0, 0.5] > 0).astype(float)
    reference = Network(
        [3, 4, 1],
        activation="tanh",
        loss="binary_cross_entropy",
        output_activation="sigmoid",
        random_state=0,
    )
    net = Network(
        [3, 4, 1],
        activation="tanh",
        loss="binary_cross_entropy",
        output_activation="sigmoid",
        random_state=0,
    )
    history = reference.fit(X, y, epochs=20, alpha=0.1)
    chunked_history = net.fit(chunked(X, 50), chunked(y, 50), epochs=20, alpha=0.1)
    assert relative_error(net.theta, reference.theta) < 1e-8
    np.testing.assert_allclose(chunked_history.loss_curve, history.loss_curve, rtol=1e-10)

    labels = np.where(y > 0, "yes", "no")
    for activation in ("sigmoid", "step"):
        params = dict(activation=activation, max_iter=30, tol=None, random_state=0)
        reference = Perceptron(**params).fit(X, labels)
        clf = Perceptron(**params).fit(chunked(X, 50), chunked(labels, 50))
        assert relative_error(clf.network_.theta, reference.network_.theta) < 1e-8
        np.testing.assert_allclose(clf.loss_curve_, reference.loss_curve_, rtol=1e-10)
        assert (clf.predict(chunked(X, 50)).compute() == reference.predict(X)).all()
        assert clf.score(chunked(X, 50), chunked(labels, 50)) == reference.score(X, labels)


def test_without_a_client_the_chunks_are_computed_here(digits):
    dask = pytest.importorskip("dask")
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=10, random_state=0)
    reference = fit_quietly(MLPClassifier(**params), X, y)
    with dask.config.set(scheduler="sync"):
        assert nnmath.data.cluster.client_or_none() is None
        clf = fit_quietly(MLPClassifier(**params), chunked(X, 700), chunked(y, 700))
    assert relative_error(clf.network_.theta, reference.network_.theta) < 1e-8


@pytest.mark.slow
def test_worker_processes_get_everything_pickled(digits):
    # Workers in their own processes: the model, θ and the chunks cross by pickle.
    X, y = digits
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=10, random_state=0)
    reference = fit_quietly(MLPClassifier(**params), X, y)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as own,
    ):
        with own.as_current():
            clf = fit_quietly(MLPClassifier(**params), chunked(X, 600), chunked(y, 600))
            proba = clf.predict_proba(chunked(X, 600)).compute()
    assert relative_error(clf.network_.theta, reference.network_.theta) < 1e-8
    np.testing.assert_allclose(proba, reference.predict_proba(X), rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------- mini-batches
def test_one_chunk_shuffles_like_the_in_memory_fit(client, digits):
    # With one chunk the epoch is a global shuffle, draw for draw: the same weights.
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    reference = fit_quietly(MLPClassifier(**params), X, y)
    clf = fit_quietly(MLPClassifier(**params), chunked(X, len(y)), chunked(y, len(y)))
    np.testing.assert_array_equal(clf.network_.theta, reference.network_.theta)


@pytest.mark.slow
def test_mini_batches_from_chunks_reach_the_in_memory_accuracy(client, digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    params = dict(hidden_layer_sizes=(32,), max_iter=60, random_state=0)
    in_memory = fit_quietly(MLPClassifier(**params), X_train, y_train)
    clf = fit_quietly(MLPClassifier(**params), chunked(X_train, 200), chunked(y_train, 200))
    accuracy = clf.score(chunked(X_test, 200), chunked(y_test, 200))
    assert isinstance(accuracy, float)
    assert accuracy >= in_memory.score(X_test, y_test) - 0.01


def test_partial_fit_on_chunks(client, digits):
    X, y = digits
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    clf.partial_fit(chunked(X, 500), chunked(y, 500), classes=np.arange(10))
    clf.partial_fit(chunked(X, 500), chunked(y, 500))
    assert clf.n_iter_ == 1
    assert len(clf.loss_curve_) == 2
    with pytest.raises(ValueError, match="classes not in"):
        clf.partial_fit(chunked(X, 500), chunked(y + 10, 500))


# ---------------------------------------------------------------------- predictions
def test_predictions_are_lazy_and_equal_the_in_memory_ones(client, digits):
    X, y = digits
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0), X, y)
    Xd = chunked(X, 500)
    for method in ("predict", "predict_proba", "predict_log_proba"):
        lazy = getattr(clf, method)(Xd)
        assert isinstance(lazy, da.Array), method
        assert lazy.chunks[0] == Xd.chunks[0]
        np.testing.assert_array_equal(lazy.compute(), getattr(clf, method)(X))
    assert clf.predict(Xd).dtype == clf.classes_.dtype
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    np.testing.assert_array_equal(clf.predict(frame).compute(), clf.predict(X))
    score = clf.score(Xd, chunked(y, 500))
    assert type(score) is float
    assert score == pytest.approx(clf.score(X, y), rel=1e-12)


# ---------------------------------------------------------------------- early stopping
@pytest.mark.slow
def test_early_stopping_splits_each_chunk(client, digits):
    X, y = digits
    clf = MLPClassifier(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=200,
        random_state=0,
    ).fit(chunked(X, 400), chunked(y, 400))
    assert clf.stop_reason_.startswith("validation accuracy did not improve")
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_ == len(clf.validation_loss_curve_)
    assert clf.best_validation_score_ > 0.8
    X_val, y_val = chunked(X[:300], 150), chunked(y[:300], 150)
    given = fit_quietly(
        MLPRegressor(
            hidden_layer_sizes=(8,), max_iter=5, scoring="neg_mean_squared_error", random_state=0
        ),
        chunked(X, 400),
        chunked(y.astype(float), 400),
        validation_data=(X_val, y_val.astype(float)),
    )
    assert len(given.validation_scores_) == 5
    assert max(given.validation_scores_) < 0


# ---------------------------------------------------------------------- search
@pytest.mark.slow
def test_a_grid_search_under_the_dask_backend_scores_as_the_default_one(client, digits):
    joblib = pytest.importorskip("joblib")
    X, y = digits
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(8,), (16,)]}

    def search():
        estimator = MLPClassifier(solver="lbfgs", max_iter=30, random_state=0)
        return GridSearchCV(estimator, grid, cv=3, n_jobs=-1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        default = search().fit(X, y)
        with joblib.parallel_backend("dask"):
            on_cluster = search().fit(X, y)
    for key in ("mean_test_score", "split0_test_score", "split1_test_score", "split2_test_score"):
        np.testing.assert_array_equal(on_cluster.cv_results_[key], default.cv_results_[key])


def test_dask_ml_incremental_trains_chunk_by_chunk(client, digits):
    # Incremental calls partial_fit on each block in turn, on the workers, moving the
    # estimator between them: the same as partial_fit on the blocks here.
    wrappers = pytest.importorskip("dask_ml.wrappers", reason="dask-ml is not installed")
    X, y = digits
    params = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    model = wrappers.Incremental(MLPClassifier(**params), shuffle_blocks=False)
    model.fit(chunked(X, 400), chunked(y, 400), classes=np.arange(10))
    by_hand = MLPClassifier(**params)
    for start in range(0, len(y), 400):
        by_hand.partial_fit(X[start : start + 400], y[start : start + 400], classes=np.arange(10))
    np.testing.assert_array_equal(model.estimator_.network_.theta, by_hand.network_.theta)
    assert model.estimator_.t_ == len(y)
    assert model.score(chunked(X, 400), chunked(y, 400)) == by_hand.score(X, y)


# ---------------------------------------------------------------------- pickles
@pytest.mark.parametrize(("solver", "copies"), [("lbfgs", 1), ("sgd", 2), ("adam", 3)])
def test_a_fitted_estimator_pickles_small(digits, solver, copies):
    # θ, plus the optimizer's memory: SGD's velocity, Adam's two moments. No gradient,
    # no work arrays, no copy of the best weights, no L-BFGS memory.
    X, y = digits
    clf = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(64,), solver=solver, max_iter=10, random_state=0),
        X,
        y,
    )
    parameters = clf.network_.theta.nbytes
    size = len(pickle.dumps(clf))
    assert size < copies * parameters + 8_000, (size, parameters)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    if solver != "lbfgs":  # training goes on as if never pickled
        clf.partial_fit(X, y)
        again.partial_fit(X, y)
        np.testing.assert_array_equal(again.network_.theta, clf.network_.theta)


@pytest.mark.parametrize("restore_best_weights", [True, False])
def test_early_stopping_goes_on_after_a_pickle_as_without_one(digits, restore_best_weights):
    # The best weights travel only when they are not the current ones.
    X, y = digits
    params = dict(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        restore_best_weights=restore_best_weights,
        max_iter=12,
        random_state=0,
    )
    clf = fit_quietly(MLPClassifier(**params), X, y)
    again = pickle.loads(pickle.dumps(clf))
    for model in (clf, again):
        # a rate so large that no epoch beats the best: training ends on the old best
        fit_quietly(model.set_params(warm_start=True, max_iter=3, learning_rate_init=0.5), X, y)
    np.testing.assert_array_equal(again.network_.theta, clf.network_.theta)
    assert again.stop_reason_ == clf.stop_reason_


# ---------------------------------------------------------------------- bad input
def test_unknown_chunk_sizes_are_refused_naming_x(client, digits):
    X, y = digits
    Xd = chunked(X, 500)
    unknown = Xd[Xd[:, 10] > 0]
    with pytest.raises(
        ValueError, match=r"X is a Dask array with unknown chunk sizes.*compute_chunk_sizes"
    ):
        MLPClassifier().fit(unknown, y[:10])


def test_chunks_that_do_not_line_up_are_refused_naming_the_argument(client, digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"y's row chunks .* differ from X's.*rechunk"):
        MLPClassifier().fit(chunked(X, 500), chunked(y, 400))
    with pytest.raises(ValueError, match=r"sample_weight's row chunks"):
        MLPClassifier().fit(chunked(X, 500), chunked(y, 500), sample_weight=chunked(y, 300))
    frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    with pytest.raises(ValueError, match="y has 2 partitions but X has 3"):
        MLPClassifier().fit(frame, dd.from_pandas(pd.Series(y), npartitions=2))
    with pytest.raises(ValueError, match="X must be 2-D"):
        MLPClassifier().fit(chunked(X[:, 0], 500), chunked(y, 500))


# ---------------------------------------------------------------------- workers
def test_a_fit_waits_for_the_workers_of_a_cluster_that_is_starting(digits):
    # A cluster whose workers register after the fit begins (as one just started does):
    # the fit waits for them. A regressor computes nothing before it places the chunks.
    import threading

    X, y = digits
    with (
        distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as own,
        own.as_current(),
    ):
        threading.Timer(1.0, cluster.scale, args=(1,)).start()
        reg = fit_quietly(
            MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, random_state=0),
            chunked(X, 600),
            chunked(y.astype(float), 600),
        )
    assert reg.n_iter_ > 0


def test_a_cluster_without_workers_is_one_clear_error(digits, monkeypatch):
    # (A classifier first computes its classes, which waits for a worker like any
    # computation on that cluster: a regressor reaches the placement of its chunks.)
    monkeypatch.setattr(nnmath.data.cluster, "WORKER_WAIT", 0.5)
    X, y = digits
    with (
        distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as own,
        own.as_current(),
        pytest.raises(RuntimeError, match=r"has no workers \(none joined in 0.5 s\)"),
    ):
        MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5).fit(
            chunked(X, 600), chunked(y.astype(float), 600)
        )
