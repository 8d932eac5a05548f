"""scikit-learn's own conformance suite over nnmath's estimators."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from nnmath import MLPClassifier, MLPRegressor, Perceptron

# scikit-learn runs its own MLPs through these checks with max_iter=100, which leaves
# them unconverged on the checks' small data sets; the warning is expected there.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [
    MLPClassifier(max_iter=100, random_state=0),
    MLPRegressor(max_iter=100, random_state=0),
    Perceptron(random_state=0),
]

EXPECTED_FAILED = {
    "Perceptron": {
        "check_class_weight_classifiers": (
            "the article's neuron on raw features of scale 20: the sigmoid saturates and "
            "the MSE cost's gradient vanishes before class_weight={0: 1000, …} makes it "
            "predict class 0 (0.72 of the test rows, where the check wants 0.87); with "
            "three classes Rosenblatt's rule weighs each row by its class (0.82), where "
            "scikit-learn's one-vs-rest weighs only each problem's positive class"
        )
    }
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_conformance(estimator, check):
    check(estimator)
