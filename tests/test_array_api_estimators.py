"""The estimators under scikit-learn's array-API dispatch: trained and predicting in the
input's library, with NumPy's numbers.

scikit-learn's dispatch needs SciPy's array-API support, which the environment variable
SCIPY_ARRAY_API=1 turns on before SciPy is imported; ``make test`` runs this module in a
second pytest pass with it set (the first pass skips it).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from sklearn import config_context
from sklearn.datasets import load_iris, make_regression

from conftest import fit_quietly, to_numpy
from nnmath import MLPClassifier, MLPRegressor, Perceptron
from nnmath.core import arrays

pytestmark = pytest.mark.skipif(
    os.environ.get("SCIPY_ARRAY_API") != "1",
    reason="scikit-learn's array-API dispatch needs SCIPY_ARRAY_API=1 (make test's second pass)",
)
torch = pytest.importorskip("torch")

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = (X_IRIS - X_IRIS.mean(0)) / X_IRIS.std(0)


def _pair(estimator, X, y, **fit_params):
    """The same estimator fitted on NumPy arrays and, under dispatch, on torch tensors."""
    on_numpy = fit_quietly(estimator.__class__(**estimator.get_params()), X, y, **fit_params)
    with config_context(array_api_dispatch=True):
        on_torch = fit_quietly(
            estimator.__class__(**estimator.get_params()),
            torch.tensor(X),
            torch.tensor(y) if np.asarray(y).dtype.kind in "iuf" else y,
            **fit_params,
        )
    return on_numpy, on_torch


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_a_classifier_on_torch_gives_numpys_probabilities(solver):
    est = MLPClassifier((8,), solver=solver, max_iter=20, random_state=0, learning_rate_init=0.01)
    on_numpy, on_torch = _pair(est, X_IRIS, Y_IRIS)
    X_t = torch.tensor(X_IRIS)
    with config_context(array_api_dispatch=True):
        proba = on_torch.predict_proba(X_t)
        labels = on_torch.predict(X_t)
    assert isinstance(proba, torch.Tensor)
    assert proba.device == X_t.device
    assert isinstance(on_torch.coefs_[0], torch.Tensor)
    assert isinstance(on_torch.classes_, torch.Tensor)
    np.testing.assert_allclose(proba.numpy(), on_numpy.predict_proba(X_IRIS), rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(labels.numpy(), on_numpy.predict(X_IRIS))
    assert on_torch.loss_curve_ == pytest.approx(on_numpy.loss_curve_, rel=1e-10)


def test_a_regressor_and_early_stopping_on_torch():
    X, y = make_regression(n_samples=80, n_features=4, noise=1.0, random_state=0)
    y = y / y.std()
    est = MLPRegressor(
        hidden_layer_sizes=(6,),
        max_iter=20,
        early_stopping=True,
        random_state=0,
        learning_rate_init=0.01,
    )
    on_numpy, on_torch = _pair(est, X, y)
    with config_context(array_api_dispatch=True):
        prediction = on_torch.predict(torch.tensor(X))
    assert isinstance(prediction, torch.Tensor)
    np.testing.assert_allclose(prediction.numpy(), on_numpy.predict(X), rtol=1e-8, atol=1e-10)
    assert on_torch.validation_scores_ == pytest.approx(on_numpy.validation_scores_, rel=1e-8)


def test_the_perceptron_on_torch():
    y = (Y_IRIS == 0).astype(int)
    on_numpy, on_torch = _pair(Perceptron(max_iter=200, random_state=0), X_IRIS, y)
    with config_context(array_api_dispatch=True):
        proba = on_torch.predict_proba(torch.tensor(X_IRIS))
    np.testing.assert_allclose(proba.numpy(), on_numpy.predict_proba(X_IRIS), rtol=1e-8)
    np.testing.assert_allclose(to_numpy(on_torch.coef_), on_numpy.coef_, rtol=1e-10)


def test_string_labels_stay_on_the_host():
    names = np.array(["setosa", "versicolor", "virginica"])[Y_IRIS]
    est = MLPClassifier((8,), max_iter=20, random_state=0)
    on_numpy, on_torch = _pair(est, X_IRIS, names)
    with config_context(array_api_dispatch=True):
        labels = on_torch.predict(torch.tensor(X_IRIS))
    assert isinstance(on_torch.classes_, np.ndarray)  # torch holds no strings
    np.testing.assert_array_equal(labels, on_numpy.predict(X_IRIS))


def test_labels_and_weights_of_another_library_come_to_xs():
    strict = pytest.importorskip("array_api_strict")
    w = np.linspace(0.5, 1.5, len(Y_IRIS))
    with config_context(array_api_dispatch=True):
        clf = fit_quietly(
            MLPClassifier((4,), max_iter=5, random_state=0),
            torch.tensor(X_IRIS),
            strict.asarray(Y_IRIS, device=strict.Device("device1")),
            sample_weight=strict.asarray(w),
        )
    assert arrays.name(arrays.namespace_of(clf.classes_)) == "torch"


def test_predicting_in_another_library_is_refused():
    with config_context(array_api_dispatch=True):
        clf = fit_quietly(
            MLPClassifier((4,), max_iter=5, random_state=0),
            torch.tensor(X_IRIS),
            torch.tensor(Y_IRIS),
        )
        with pytest.raises(
            ValueError, match=r"MLPClassifier.predict\(\) must use the same namespace"
        ):
            clf.predict(X_IRIS)


def test_without_dispatch_torch_input_becomes_numpy_as_in_scikit_learn():
    clf = fit_quietly(
        MLPClassifier((4,), max_iter=5, random_state=0), torch.tensor(X_IRIS), torch.tensor(Y_IRIS)
    )
    assert isinstance(clf.coefs_[0], np.ndarray)
    assert isinstance(clf.predict_proba(torch.tensor(X_IRIS)), np.ndarray)


def test_weights_set_on_a_torch_model_go_to_its_network():
    with config_context(array_api_dispatch=True):
        clf = fit_quietly(
            MLPClassifier((4,), max_iter=5, random_state=0),
            torch.tensor(X_IRIS),
            torch.tensor(Y_IRIS),
        )
        clf.coefs_[0] = np.ones((4, 4))  # a NumPy array comes to the network's device
        assert isinstance(clf.coefs_[0], torch.Tensor)
        assert float(clf.network_.W[0].sum()) == 16.0
        with pytest.raises(ValueError, match=r"coefs_\[0\] must have shape \(4, 4\)"):
            clf.coefs_[0] = torch.ones((3, 4), dtype=torch.float64)


@pytest.mark.parametrize("cls", [MLPClassifier, Perceptron])
def test_a_pickle_of_a_model_on_torch_predicts_and_trains_on_torch(cls):
    import pickle

    params = dict(max_iter=5, random_state=0)
    if cls is MLPClassifier:
        params.update(hidden_layer_sizes=(6,), solver="adam", learning_rate_init=0.01)
    X_t, y_t = torch.tensor(X_IRIS), torch.tensor(Y_IRIS)
    with config_context(array_api_dispatch=True):
        model = fit_quietly(cls(**params), X_t, y_t)
        again = pickle.loads(pickle.dumps(model))
        assert isinstance(again.classes_, torch.Tensor)
        assert torch.equal(again.predict(X_t), model.predict(X_t))
        if cls is MLPClassifier:
            for m in (model, again):
                m.partial_fit(X_t, y_t)
            assert torch.equal(again.network_.theta, model.network_.theta)
