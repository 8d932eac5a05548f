"""Validation scores given every class: a rare class missing from the validation rows,
or a class in them that training never saw, is no crash."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import log_loss, make_scorer, roc_auc_score, top_k_accuracy_score

from nnmath import MLPClassifier


def _rare_table(seed: int):
    """60 rows, 3 classes, 3 rows of the last one."""
    rng = np.random.default_rng(seed)
    y = np.array([0] * 30 + [1] * 27 + [2] * 3)
    X = rng.normal(size=(60, 4)) + y[:, None]
    return X, y


def _fit_quietly(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Stochastic Optimizer")
        return model.fit(*args, **kwargs)


@pytest.mark.parametrize("seed", range(10))
def test_early_stopping_on_the_log_loss_with_a_class_of_three_rows(seed):
    X, y = _rare_table(seed)
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        scoring="neg_log_loss",
        max_iter=40,
        random_state=seed,
    )
    _fit_quietly(clf, X, y)
    assert clf.classes_.tolist() == [0, 1, 2]
    # every epoch's validation score is a log loss over the three classes, whichever of
    # them the 6 validation rows hold (the rare class is mostly in none)
    assert all(np.isfinite(clf.validation_scores_))
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_the_validation_score_is_the_log_loss_over_every_class():
    X, y = _rare_table(0)
    X_val, y_val = X[:10], y[:10]  # class 0 only, and the model knows 0, 1 and 2
    clf = MLPClassifier(hidden_layer_sizes=(8,), scoring="neg_log_loss", max_iter=1, random_state=0)
    _fit_quietly(clf, X, y, validation_data=(X_val, y_val))
    expected = -log_loss(y_val, clf.predict_proba(X_val), labels=[0, 1, 2])
    assert clf.validation_scores_[-1] == pytest.approx(expected, rel=1e-6)


def test_a_scorer_of_probabilities_made_by_hand_gets_the_classes_too():
    X, y = _rare_table(1)
    scorer = make_scorer(
        roc_auc_score, response_method="predict_proba", multi_class="ovr", average="macro"
    )
    X_val = np.vstack([X[:4], X[30:34], X[57:58]])
    y_val = np.r_[y[:4], y[30:34], y[57:58]]
    clf = MLPClassifier(hidden_layer_sizes=(8,), scoring=scorer, max_iter=1, random_state=0)
    _fit_quietly(clf, X, y, validation_data=(X_val, y_val))
    assert np.isfinite(clf.validation_scores_[-1])


def test_validation_rows_of_a_class_never_trained_on_are_left_out_with_a_warning():
    X, y = _rare_table(2)
    train = y < 2
    y_val = np.array([0, 1, 2, 2, 0, 1])
    X_val = X[[0, 31, 57, 58, 1, 32]]
    clf = MLPClassifier(hidden_layer_sizes=(8,), scoring="neg_log_loss", max_iter=1, random_state=0)
    with pytest.warns(UserWarning, match=r"2 rows of classes not in training \(2\)"):
        _fit_quietly(clf, X[train], y[train], validation_data=(X_val, y_val))
    known = y_val < 2
    expected = -log_loss(y_val[known], clf.predict_proba(X_val[known]), labels=[0, 1])
    assert clf.validation_scores_[-1] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("labels", [np.array([0, 1, 2]), np.array(["cat", "cow", "dog"])])
def test_the_commands_log_loss_scorer_is_scikit_learns_over_every_class(labels):
    from nnmath.cli.learn import neg_log_loss

    X, codes = _rare_table(3)
    y = labels[codes]
    clf = _fit_quietly(MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0), X, y)
    rows = np.r_[0:8, 40:45]  # no row of the rare class
    expected = -log_loss(y[rows], clf.predict_proba(X[rows]), labels=clf.classes_)
    assert neg_log_loss(clf, X[rows], y[rows]) == pytest.approx(expected, rel=1e-12)
    assert neg_log_loss(clf, X, y) == pytest.approx(-log_loss(y, clf.predict_proba(X)), rel=1e-12)


def test_the_commands_log_loss_scorer_is_saved_by_its_name(tmp_path):
    import nnmath
    from nnmath.cli import main

    X, y = _rare_table(4)
    table = {"a": X[:, 0], "b": X[:, 1], "label": np.array(["p", "q", "r"])[y]}
    import pandas as pd

    pd.DataFrame(table).to_csv(tmp_path / "t.csv", index=False)
    out = str(tmp_path / "m.nnm")
    assert (
        main(["train", str(tmp_path / "t.csv"), "--target", "label", "--quiet", "--out", out]) == 0
    )
    model = nnmath.load(out).named_steps["model"]
    assert model.scoring == "neg_log_loss"


def test_top_k_accuracy_on_rows_without_the_rare_class_is_over_every_class():
    X, y = _rare_table(3)
    X_val, y_val = X[:12], y[:12]  # class 0 only
    clf = MLPClassifier(
        hidden_layer_sizes=(8,), scoring="top_k_accuracy", max_iter=1, random_state=0
    )
    _fit_quietly(clf, X, y, validation_data=(X_val, y_val))
    expected = top_k_accuracy_score(y_val, clf.predict_proba(X_val), k=2, labels=[0, 1, 2])
    assert clf.validation_scores_[-1] == pytest.approx(expected, rel=1e-12)


def test_a_scorer_that_takes_no_classes_raises_its_own_error():
    X, y = _rare_table(4)

    def scorer(estimator, X_val, y_val):
        raise ValueError("this metric cannot score these rows")

    clf = MLPClassifier(hidden_layer_sizes=(8,), scoring=scorer, max_iter=1, random_state=0)
    with pytest.raises(ValueError, match="this metric cannot score these rows"):
        _fit_quietly(clf, X, y, validation_data=(X[:10], y[:10]))
