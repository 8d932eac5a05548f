"""Pickles are the model document: round trips, training that goes on, objects, size.

A pickle of a Network, an estimator or a Perceptron is its model document (with the
training state) and its tensors, plus the objects no name describes. Each test compares
the unpickled model with the same model never pickled, which carries on in the same
process: the same predictions, and the same weights, bit for bit, after more training.
The resumable model file (``nnmath.save(..., training_state=True)``) is held to the same
comparison, and its training state to the loader's checks.
"""

from __future__ import annotations

import json
import pickle
import warnings

import joblib
import numpy as np
import pytest
import safetensors.numpy
import sklearn
from sklearn.base import clone

import nnmath
from conftest import fit_quietly
from nnmath import MLPClassifier, MLPRegressor, Network, Perceptron
from nnmath.core import activations
from nnmath.core.optimizers import SGD, Adam, Adaptive, Schedule
from nnmath.io import container

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 5))
Y_CLASS = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1)  # three classes
Y_REG = X @ np.array([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * RNG.normal(size=120)

SOLVERS = {
    "adam": dict(solver="adam"),
    "sgd momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
    "sgd nesterov, adaptive, dropout": dict(
        solver="sgd", momentum=0.9, learning_rate="adaptive", dropout=0.2
    ),
}


def _unpickled(model):
    return pickle.loads(pickle.dumps(model))


class Softsign(activations.Activation):
    """σ(z) = z / (1 + |z|), σ'(z) = (1 − |σ|)²: an activation the registry does not name."""

    name = "softsign"

    def __call__(self, z, out=None):
        a = z / (1 + np.abs(z))
        if out is None:
            return a
        out[...] = a
        return out

    def derivative_from_output(self, a):
        return (1 - np.abs(a)) ** 2


class Halving(Schedule):
    """α_e = α₀ / 2^e: a schedule the document does not name."""

    name = "halving"

    def rate(self, initial, epoch, samples_seen):
        return initial / 2**epoch


def accuracy_by_hand(estimator, X, y) -> float:
    return float(np.mean(estimator.predict(X) == y))


def no_stop(estimator, info) -> bool:
    return False


# ---------------------------------------------------------------------- training goes on
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_after_a_pickle_is_bit_for_bit_the_never_pickled_models(cls, solver):
    y = Y_CLASS if cls is MLPClassifier else Y_REG
    model = fit_quietly(
        cls(hidden_layer_sizes=(7,), max_iter=4, random_state=0, **SOLVERS[solver]), X, y
    )
    again = _unpickled(model)
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    for _ in range(3):
        model.partial_fit(X, y)
        again.partial_fit(X, y)
    np.testing.assert_array_equal(again.network_.theta, model.network_.theta)
    assert again.loss_curve_ == model.loss_curve_
    assert (again.t_, again.n_iter_) == (model.t_, model.n_iter_)
    assert again._optimizer.learning_rate == model._optimizer.learning_rate


def test_a_warm_start_after_a_pickle_keeps_the_adaptive_schedule_and_its_count():
    params = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.01,
        n_iter_no_change=2,
        tol=1.0,  # no epoch improves by 1: the rate is divided every few epochs
        max_iter=9,
        random_state=0,
    )
    model = fit_quietly(MLPRegressor(**params), X, Y_REG)
    assert model._lr_schedule.divisions > 0
    again = _unpickled(model)
    assert again._lr_schedule.divisions == model._lr_schedule.divisions
    assert again._no_improvement_count == model._no_improvement_count
    for m in (model, again):
        fit_quietly(m.set_params(warm_start=True, max_iter=5), X, Y_REG)
    np.testing.assert_array_equal(again.network_.theta, model.network_.theta)
    assert again.loss_curve_ == model.loss_curve_


def test_a_network_pickles_and_trains_on_as_the_original():
    net = Network([5, 4, 1], activation="tanh", random_state=0)
    net.fit(X, Y_REG, optimizer=Adam(0.01), epochs=3, batch_size=32, random_state=0)
    again = _unpickled(net)
    np.testing.assert_array_equal(again.forward(X), net.forward(X))
    for n in (net, again):
        n.fit(X, Y_REG, optimizer=SGD(0.01, momentum=0.9), epochs=3, random_state=1, tol=None)
    np.testing.assert_array_equal(again.theta, net.theta)
    assert all(np.shares_memory(W, again.theta) for W in again.W + again.b)


@pytest.mark.parametrize(
    "optimizer",
    [SGD(0.1), SGD(0.1, momentum=0.9, nesterov=True), Adam(0.1, epsilon_on="v")],
    ids=repr,
)
def test_an_optimizer_pickles_its_memory_and_steps_on_as_the_original(optimizer):
    w = np.zeros(500)
    optimizer.step([w], [np.linspace(-1, 1, 500)])
    again, w_again = _unpickled(optimizer), w.copy()
    # the hyperparameters and, per parameter, at most two moments: no scratch array
    assert len(pickle.dumps(optimizer)) < 2 * w.nbytes + 600
    for g in (np.cos(np.arange(500.0)), np.sin(np.arange(500.0))):
        optimizer.step([w], [g])
        again.step([w_again], [g])
    np.testing.assert_array_equal(w_again, w)
    assert repr(again) == repr(optimizer)


@pytest.mark.parametrize("activation", ["sigmoid", "step"])
def test_a_perceptron_pickles_and_refits_as_the_original(activation):
    clf = fit_quietly(Perceptron(activation=activation, max_iter=20, random_state=0), X, Y_CLASS)
    again = _unpickled(clf)
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    assert (again.n_iter_, again.loss_curve_) == (clf.n_iter_, clf.loss_curve_)
    for m in (clf, again):
        fit_quietly(m, X[:60], Y_CLASS[:60])
    np.testing.assert_array_equal(again.coef_, clf.coef_)


def test_early_stopping_best_weights_travel_only_when_they_are_not_the_current_ones():
    params = dict(hidden_layer_sizes=(6,), early_stopping=True, max_iter=8, random_state=0)
    model = fit_quietly(MLPClassifier(**params), X, Y_CLASS)
    # a finished fit has put the best weights back: they are the current ones
    document, tensors = model.to_document(training_state=True, objects={})
    assert document["training_state"]["best_theta"] == "current"
    assert "best_theta" not in tensors
    np.testing.assert_array_equal(_unpickled(model)._history.best_theta, model.network_.theta)
    # a fit stopped before it put them back (an interrupt, say) holds others
    best = model.network_.theta + 0.5
    model._history.best_theta = best.copy()
    document, tensors = model.to_document(training_state=True, objects={})
    assert document["training_state"]["best_theta"] == "tensor"
    np.testing.assert_array_equal(tensors["best_theta"], best)
    np.testing.assert_array_equal(_unpickled(model)._history.best_theta, best)


# ---------------------------------------------------------------------- objects beside it
def test_a_custom_activation_pickles_and_a_model_file_refuses_it(tmp_path):
    net = Network([5, 3, 1], activation=Softsign(), output_activation="identity", random_state=0)
    again = _unpickled(net)
    assert type(again.activations[0]) is Softsign
    np.testing.assert_array_equal(again.forward(X), net.forward(X))
    document, _ = net.to_document(objects={})
    assert document["activations"][0] == {"name": "softsign", "pickled": "activation 1"}
    with pytest.raises(ValueError, match="custom activation .*a pickle carries custom ones"):
        nnmath.save(net, tmp_path / "net.safetensors")


def test_objects_no_name_describes_pickle_as_they_are():
    params = dict(
        hidden_layer_sizes=(6,),
        solver="sgd",
        learning_rate=Halving(),
        scoring=accuracy_by_hand,
        callbacks=[no_stop],
        max_iter=3,
        random_state=np.random.RandomState(0),
    )
    model = fit_quietly(MLPClassifier(**params), X, Y_CLASS)
    again = _unpickled(model)
    assert again.callbacks == [no_stop]
    assert type(again._lr_schedule) is Halving
    assert isinstance(again.random_state, np.random.RandomState)
    assert again.scoring is accuracy_by_hand
    model.partial_fit(X, Y_CLASS)
    again.partial_fit(X, Y_CLASS)
    np.testing.assert_array_equal(again.network_.theta, model.network_.theta)


def test_an_unfitted_estimator_pickles_its_parameters_as_they_are():
    est = MLPRegressor(hidden_layer_sizes=[4, 3], activation=("tanh", "relu"), alpha=0.5)
    with sklearn.config_context(enable_metadata_routing=True):
        est.set_fit_request(sample_weight=True)
        again = _unpickled(est)
        assert again.get_metadata_routing().fit.requests["sample_weight"] is True
    assert again.get_params() == est.get_params()
    assert type(again.hidden_layer_sizes) is list
    assert type(again.activation) is tuple
    assert not hasattr(again, "network_")
    assert clone(again).get_params() == est.get_params()
    given = MLPRegressor(hidden_layer_sizes=(2,))
    given.coefs_ = [np.ones((5, 2)), np.ones((2, 1))]
    given.intercepts_ = [np.zeros(2), np.zeros(1)]
    np.testing.assert_array_equal(_unpickled(given).coefs_[0], np.ones((5, 2)))


def test_parameters_set_after_fit_pickle_as_they_were_set():
    model = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, Y_CLASS
    )
    model.set_params(hidden_layer_sizes=(9, 9))  # not the fitted network's: refit would apply it
    again = _unpickled(model)
    assert again.hidden_layer_sizes == (9, 9)
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))


def test_the_commands_table_model_pickles_through_its_documents():
    from sklearn.pipeline import Pipeline

    from nnmath.preprocessing import TabularPreprocessor

    rng = np.random.default_rng(2)
    table = {
        "size": np.where(rng.random(60) < 0.1, np.nan, rng.normal(size=60)),
        "color": rng.choice(["red", "blue"], 60),
        "label": rng.choice(["a", "b", "c"], 60),
    }
    pre = TabularPreprocessor(target="label", categorical=("color",)).fit(table)
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    fit_quietly(model, pre.transform(table), table["label"])
    pipeline = Pipeline([("preprocess", pre), ("model", model)])
    again = _unpickled(pipeline)
    np.testing.assert_array_equal(again.predict_proba(table), pipeline.predict_proba(table))
    assert again.named_steps["preprocess"].get_params() == pre.get_params()
    assert again.named_steps["preprocess"].to_document() == pre.to_document()
    unfitted = _unpickled(TabularPreprocessor(target="y", numeric=("a",)))
    assert unfitted.get_params() == TabularPreprocessor(target="y", numeric=("a",)).get_params()
    assert not hasattr(unfitted, "feature_names_in_")


# ---------------------------------------------------------------------- small
def test_a_pickle_holds_the_weights_and_the_optimizer_memory_only():
    # θ, plus Adam's two moments, plus the document: no gradient, no work arrays, no
    # scratch of the optimizer (each as large as θ, or as a batch).
    model = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(64,), max_iter=3, batch_size=100, random_state=0),
        X,
        Y_CLASS,
    )
    theta = model.network_.theta.nbytes
    document, _ = model.to_document(training_state=True, objects={})
    text = len(json.dumps(document))
    size = len(pickle.dumps(model))
    assert 3 * theta < size < 3 * theta + text + 2_000, (size, theta, text)
    net = model.network_
    net.backprop(X, net.check_y(np.eye(3)[Y_CLASS], len(X)), None)  # work arrays now exist
    assert len(pickle.dumps(net)) < theta + 2_000


def test_joblib_memmap_read_only_tensors_give_a_model_that_trains(tmp_path):
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(6,), max_iter=3, random_state=0), X, Y_REG)
    joblib.dump(model, tmp_path / "model.joblib")
    again = joblib.load(tmp_path / "model.joblib", mmap_mode="r")
    model.partial_fit(X, Y_REG)
    again.partial_fit(X, Y_REG)
    np.testing.assert_array_equal(again.network_.theta, model.network_.theta)


# ---------------------------------------------------------------------- other libraries
def test_torch_models_pickle_back_onto_torch():
    torch = pytest.importorskip("torch")
    net = Network([5, 4, 1], activation="tanh", random_state=0, xp=torch)
    Xt, yt = torch.asarray(X), torch.asarray(Y_REG)
    net.fit(Xt, yt, optimizer=Adam(0.01), epochs=2, random_state=0)
    again = _unpickled(net)
    assert nnmath.core.arrays.name(again.xp) == "torch"
    assert torch.equal(again.forward(Xt), net.forward(Xt))
    for n in (net, again):
        n.fit(Xt, yt, optimizer=Adam(0.01), epochs=2, random_state=0)
    assert torch.equal(again.theta, net.theta)
    # an estimator on torch (as nnmath.load(..., xp=torch) puts it) with its Adam moments
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, random_state=0), X, Y_REG)
    document, tensors = model.to_document(training_state=True)
    placed = MLPRegressor.from_document(document, dict(tensors), xp=torch)
    back = _unpickled(placed)
    assert isinstance(back.network_.theta, torch.Tensor)
    assert isinstance(back._optimizer.memory()["m"][0], np.ndarray)  # installed at the next step
    np.testing.assert_array_equal(back.network_.theta.numpy(), model.network_.theta)


def test_a_pickle_from_a_library_this_process_lacks_says_so():
    net = Network([2, 1], random_state=0)
    reducer, (cls, document, tensors, objects, library, device) = net.__reduce__()
    assert (library, device) == ("numpy", "cpu")
    with pytest.raises(
        ValueError,
        match=r"cannot unpickle this Network: it lives on no_such_library \(device cuda:7\), "
        r"which this process cannot use \(ModuleNotFoundError: .*nnmath.save",
    ):
        reducer(cls, document, tensors, objects, "no_such_library", "cuda:7")


# ---------------------------------------------------------------------- resumable files
def _parts(path):
    """(document, tensors) of a model file, read by safetensors itself."""
    return nnmath.io.read_metadata(path), safetensors.numpy.load_file(path)


def _file(document, tensors) -> bytes:
    """A model file of this document and these tensors, its checksums recomputed."""
    text = json.dumps(document)
    return safetensors.numpy.save(
        tensors,
        metadata={
            "nnmath": text,
            "nnmath_sha256_document": container.document_digest(text),
            "nnmath_sha256_weights": container.weights_digest(tensors),
        },
    )


@pytest.mark.parametrize("solver", ["adam", "sgd momentum"])
def test_a_resumable_file_goes_on_as_the_saved_model(tmp_path, solver):
    model = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(7,), max_iter=4, random_state=0, **SOLVERS[solver]),
        X,
        Y_CLASS,
    )
    path = tmp_path / "model.safetensors"
    nnmath.save(model, path, training_state=True)
    _, tensors = _parts(path)
    expected = {"optimizer.m", "optimizer.u"} if solver == "adam" else {"optimizer.velocity"}
    assert set(tensors) - {"W1", "b1", "W2", "b2"} == expected
    loaded = nnmath.load(path)
    for m in (model, loaded):
        for _ in range(2):
            m.partial_fit(X, Y_CLASS)
    np.testing.assert_array_equal(loaded.network_.theta, model.network_.theta)
    assert loaded.loss_curve_ == model.loss_curve_


def test_a_plain_file_holds_no_training_state(tmp_path):
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0), X, Y_REG)
    nnmath.save(model, tmp_path / "m.safetensors")
    document, tensors = _parts(tmp_path / "m.safetensors")
    assert "training_state" not in document
    assert sorted(tensors) == ["W1", "W2", "b1", "b2"]


def _edit(document, tensors, key, value):
    document = json.loads(json.dumps(document))
    if value is None:
        del document["training_state"][key]
    else:
        document["training_state"][key] = value
    return document, tensors


def _history(document, tensors, **entries):
    """The file's parts with the training state's history entries replaced."""
    return _edit(document, tensors, "history", {**document["training_state"]["history"], **entries})


HOSTILE = {
    "negative second moment": (
        lambda d, t: (d, {**t, "optimizer.u": -np.abs(t["optimizer.u"]) - 1}),
        "optimizer.u', a sum of squares, holds negative",
    ),
    "moment of another shape": (
        lambda d, t: (d, {**t, "optimizer.m": t["optimizer.m"][:-1].copy()}),
        r"tensor 'optimizer.m' has shape \(\d+,\).*laid out as the weights",
    ),
    "moment not finite": (
        lambda d, t: (d, {**t, "optimizer.m": np.full_like(t["optimizer.m"], np.inf)}),
        "'optimizer.m' holds NaN or infinity",
    ),
    "a moment missing": (
        lambda d, t: (d, {k: v for k, v in t.items() if k != "optimizer.u"}),
        r"memory is the tensors \['optimizer.m', 'optimizer.u'\]",
    ),
    "unknown entry": (
        lambda d, t: _edit(d, t, "scratch", [1, 2]),
        r"'training_state' has unknown entries \['scratch'\]",
    ),
    "unknown optimizer": (
        lambda d, t: _edit(
            d, t, "optimizer", {**d["training_state"]["optimizer"], "name": "rmsprop"}
        ),
        "'optimizer' 'rmsprop' is not one of",
    ),
    "negative step count": (
        lambda d, t: _edit(
            d, t, "optimizer", {**d["training_state"]["optimizer"], "counters": {"t": -1}}
        ),
        r"counters must be \['t'\]",
    ),
    "an optimizer of another solver": (
        lambda d, t: (
            _edit(
                d,
                t,
                "optimizer",
                {
                    "name": "sgd",
                    "hyperparameters": {"learning_rate": 0.1},
                    "counters": {"first": True},
                },
            )[0],
            {k: v for k, v in t.items() if not k.startswith("optimizer.")},
        ),
        "the training state's optimizer is SGD; solver='adam' trains with Adam",
    ),
    "bad optimizer hyperparameter": (
        lambda d, t: _edit(
            d,
            t,
            "optimizer",
            {
                **d["training_state"]["optimizer"],
                "hyperparameters": {
                    **d["training_state"]["optimizer"]["hyperparameters"],
                    "beta_1": 1.5,
                },
            },
        ),
        r"invalid optimizer .*beta_1 must be in \[0, 1\)",
    ),
    "schedule a pickle carries": (
        lambda d, t: _edit(d, t, "schedule", {"pickled": "schedule"}),
        "schedule is a custom one, which only a pickle carries",
    ),
    "schedule with a zero step": (
        lambda d, t: _edit(d, t, "schedule", {"name": "step", "step_size": 0, "gamma": 0.5}),
        "invalid schedule .*step_size must be an integer >= 1",
    ),
    "random stream of the hyperparameter": (
        lambda d, t: _edit(d, t, "dropout_rng", "random_state"),
        "a random stream must be",
    ),
    "random stream of a bad state": (
        lambda d, t: _edit(d, t, "dropout_rng", {"bit_generator": "PCG64", "state": {"x": 1}}),
        "invalid random stream state",
    ),
    "random stream of a short Mersenne Twister key": (
        lambda d, t: _edit(
            d,
            t,
            "dropout_rng",
            {
                "bit_generator": "MT19937",
                "state": {"bit_generator": "MT19937", "state": {"key": [1, 2], "pos": 3}},
            },
        ),
        r"invalid random stream state: IndexError",
    ),
    "a count no float holds exactly": (
        lambda d, t: _edit(d, t, "history", {**d["training_state"]["history"], "t": 10**400}),
        "history entry 't' has the wrong type",
    ),
    "adaptive schedule dividing by 0": (
        lambda d, t: _edit(
            d,
            t,
            "schedule",
            {"name": "adaptive", "factor": 0.0, "min_learning_rate": 1e-6, "divisions": 1},
        ),
        r"the adaptive schedule takes the numbers .*a factor > 0",
    ),
    "history of the wrong type": (
        lambda d, t: _edit(d, t, "history", {**d["training_state"]["history"], "n_iter": -3}),
        "history entry 'n_iter' has the wrong type",
    ),
    "a best epoch past the epochs run": (
        lambda d, t: _history(d, t, best_epoch=9),
        "history entry 'best_epoch' is 9, past 'n_iter' 3",
    ),
    "a loss curve shorter than the epochs": (
        lambda d, t: _history(d, t, loss_curve=[0.7, 0.6]),
        "history entry 'loss_curve' has 2 costs for 'n_iter' 3 epochs",
    ),
    "a loss curve longer than the epochs": (
        lambda d, t: _history(d, t, loss_curve=[0.7, 0.6, 0.5, 0.4]),
        "history entry 'loss_curve' has 4 costs for 'n_iter' 3 epochs",
    ),
    "validation scores longer than the loss curve": (
        lambda d, t: _history(d, t, validation_scores=[0.5] * 4),
        "history entry 'validation_scores' has 4 entries for 3 epochs in 'loss_curve'",
    ),
    "a validation loss curve longer than the loss curve": (
        lambda d, t: _history(d, t, validation_loss_curve=[0.5] * 6),
        "history entry 'validation_loss_curve' has 6 entries for 3 epochs",
    ),
    "best weights named but absent": (
        lambda d, t: _edit(d, t, "best_theta", "tensor"),
        "'best_theta' is 'tensor' but there is no tensor 'best_theta'",
    ),
    "best weights of an unknown kind": (
        lambda d, t: _edit(d, t, "best_theta", "elsewhere"),
        "'best_theta' must be 'current' or 'tensor'",
    ),
    "a tensor no model has": (
        lambda d, t: (d, {**t, "optimizer.velocity": t["optimizer.m"]}),
        r"unexpected tensors \['optimizer.velocity'\]",
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_training_state_is_refused_with_a_model_file_error(tmp_path, case):
    model = fit_quietly(
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, dropout=0.1, random_state=0),
        X,
        Y_CLASS,
    )
    path = tmp_path / "model.safetensors"
    nnmath.save(model, path, training_state=True)
    edit, message = HOSTILE[case]
    document, tensors = edit(*_parts(path))
    with pytest.raises(nnmath.ModelFileError, match=message):
        nnmath.io.from_bytes(_file(document, tensors))


def test_a_run_that_diverged_with_early_stopping_is_resumable(tmp_path):
    big = np.random.default_rng(0).normal(size=(200, 3))
    model = MLPRegressor(
        hidden_layer_sizes=(20,),
        solver="sgd",
        learning_rate_init=10.0,
        max_iter=30,
        early_stopping=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow that diverges
        model.fit(big, big @ [1e3, 2e3, 3e3])
    history = model._history
    assert history.stop_reason.startswith("diverged")
    # the epoch that diverged adds a NaN score, but no cost
    assert len(history.validation_scores) == len(history.loss_curve) + 1 == history.n_iter + 1
    nnmath.save(model, tmp_path / "m.safetensors", training_state=True)
    loaded = nnmath.load(tmp_path / "m.safetensors")._history
    assert loaded.n_iter == history.n_iter
    np.testing.assert_array_equal(loaded.validation_scores, history.validation_scores)


def test_a_file_cannot_name_an_object_only_a_pickle_carries(tmp_path):
    net = Network([2, 1], random_state=0)
    nnmath.save(net, tmp_path / "net.safetensors")
    document, tensors = _parts(tmp_path / "net.safetensors")
    document["activations"][0] = {"name": "softsign", "pickled": "activation 1"}
    with pytest.raises(nnmath.ModelFileError, match="custom one, which only a pickle carries"):
        nnmath.io.from_bytes(_file(document, tensors))


def test_the_adaptive_count_and_the_rate_survive_a_resumable_file(tmp_path):
    schedule = Adaptive()
    schedule.divisions = 2
    model = fit_quietly(
        MLPRegressor(hidden_layer_sizes=(3,), solver="sgd", max_iter=2, random_state=0),
        X,
        Y_REG,
    )
    model._lr_schedule = schedule
    nnmath.save(model, tmp_path / "m.safetensors", training_state=True)
    document, _ = _parts(tmp_path / "m.safetensors")
    assert document["training_state"]["schedule"] == {
        "name": "adaptive",
        "factor": 5.0,
        "min_learning_rate": 1e-6,
        "divisions": 2,
    }
    assert nnmath.load(tmp_path / "m.safetensors")._lr_schedule.divisions == 2
