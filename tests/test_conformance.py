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

EXPECTED_FAILED = {}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_conformance(estimator, check):
    check(estimator)
