"""The validation split keeps in training a row of every class and of every category.

A category whose every row is drawn into validation would give the network an input it
never learns from, yet is given at prediction; the split gives one of those rows back
to training. The expected splits are scikit-learn's ``train_test_split``, computed here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from nnmath.cli import main
from nnmath.cli.learn import validation_split
from nnmath.preprocessing import TabularPreprocessor


def _one_hot(codes: np.ndarray, k: int) -> np.ndarray:
    return (codes[:, None] == np.arange(k)).astype(np.float64)


def _check_partition(train, val, n):
    assert len(np.intersect1d(train, val)) == 0
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(n))


@pytest.mark.parametrize("seed", range(12))
def test_every_category_keeps_a_training_row_and_only_those_rows_move(seed):
    n = 30
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 3, n)
    codes[[5, 17]] = 3  # category 3: two rows
    codes[11] = 4  # category 4: one row
    inputs = np.hstack([rng.normal(size=(n, 1)), _one_hot(codes, 5)])  # a number first
    plain_train, plain_val = train_test_split(np.arange(n), test_size=0.2, random_state=seed)
    train, val = validation_split(
        n, 0.2, None, False, seed, inputs=inputs, category_inputs=[1, 2, 3, 4, 5]
    )
    _check_partition(train, val, n)
    # every category has a training row
    assert set(codes[train].tolist()) == set(range(5))
    # the rows moved are validation rows of categories the plain split left out of training
    moved = np.setdiff1d(plain_val, val)
    lacking = set(codes[plain_val].tolist()) - set(codes[plain_train].tolist())
    assert len(moved) == len(lacking)
    assert set(codes[moved].tolist()) == lacking
    assert np.isin(val, plain_val).all()


def test_a_row_drawn_into_validation_goes_back_and_the_note_says_so():
    n = 20
    codes = np.zeros(n, dtype=int)
    codes[7] = 1
    drawn = [
        s for s in range(100) if 7 in train_test_split(range(n), test_size=0.5, random_state=s)[1]
    ]
    seed = drawn[0]
    notes = []
    train, val = validation_split(
        n, 0.5, None, False, seed, notes.append, inputs=_one_hot(codes, 2), category_inputs=[0, 1]
    )
    assert 7 in train
    assert len(val) == 9
    assert notes == [
        "1 row drawn for validation kept in training instead: it holds a category no "
        "training row has"
    ]


def test_classes_and_categories_are_kept_together():
    n = 40
    y = np.array(["a"] * 20 + ["b"] * 19 + ["c"])  # "c": one row, kept in training
    codes = np.arange(n) % 4
    codes[3] = 4  # category 4: one row, of class "a"
    inputs = _one_hot(codes, 5)
    for seed in range(10):
        train, val = validation_split(
            n, 0.25, y, True, seed, inputs=inputs, category_inputs=range(5)
        )
        _check_partition(train, val, n)
        assert 39 in train
        assert 3 in train
        assert set(y[train].tolist()) == {"a", "b", "c"}
        assert len(val) >= 9  # 10 drawn, at most the row of category 4 back


def test_a_validation_set_of_rows_that_all_lack_training_rows_is_left_as_drawn():
    n = 10  # every row its own category: giving them back would leave no validation row
    inputs = np.eye(n)
    plain_train, plain_val = train_test_split(np.arange(n), test_size=0.2, random_state=0)
    train, val = validation_split(n, 0.2, None, False, 0, inputs=inputs, category_inputs=range(n))
    assert train.tolist() == plain_train.tolist()
    assert val.tolist() == plain_val.tolist()


def test_without_inputs_or_one_hot_columns_the_split_is_scikit_learns():
    n = 25
    plain_train, plain_val = train_test_split(np.arange(n), test_size=0.2, random_state=3)
    zeros = np.zeros((n, 2))  # a number that is 0 in every row is not a category
    zeros[plain_val, 1] = 1.0
    for kwargs in ({}, {"inputs": zeros, "category_inputs": []}, {"inputs": zeros}):
        train, val = validation_split(n, 0.2, None, False, 3, **kwargs)
        assert train.tolist() == plain_train.tolist()
        assert val.tolist() == plain_val.tolist()


def test_the_one_hot_inputs_are_found_among_numbers_dates_and_booleans():
    table = pd.DataFrame(
        {
            "x=1": [1.0, 2.0, 3.0, 4.0],  # a number whose name has "="
            "when": pd.to_datetime(
                ["2020-01-01 10:00", "2020-02-01 00:30", "2020-03-01 12:00", "2020-04-01 08:00"]
            ),
            "color": ["red", "blue", "green", "red"],
            "flag": [True, False, True, True],
        }
    )
    pre = TabularPreprocessor().fit(table)
    # x=1: input 0; when: days and the yearly and daily cycles, inputs 1–5;
    # color: blue, green, red, inputs 6–8; flag: False, True, inputs 9–10
    assert pre.get_feature_names_out()[6:] == [
        "color=blue", "color=green", "color=red", "flag=False", "flag=True"
    ]  # fmt: skip
    assert pre.category_inputs().tolist() == [6, 7, 8, 9, 10]
    assert TabularPreprocessor().fit({"x": np.arange(3.0)}).category_inputs().tolist() == []


def test_the_command_keeps_a_categorys_only_row_in_training(tmp_path, capsys, monkeypatch):
    n = 40
    rng = np.random.default_rng(0)
    kind = np.array(["p", "q"] * 20, dtype=object)
    kind[13] = "rare"
    x = rng.normal(size=n)
    pd.DataFrame({"x": x, "kind": kind, "y": 3 * x + (kind == "p")}).to_csv(
        tmp_path / "t.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    seen = set()
    for seed in (0, 1, 21, 29):  # row 13 is drawn into validation by seeds 21 and 29
        drawn = 13 in train_test_split(np.arange(n), test_size=0.1, random_state=seed)[1]
        seen.add(drawn)
        argv = ["train", "t.csv", "--target", "y", "--seed", str(seed), "--out", "m.nnm"]
        assert main(argv) == 0
        err = capsys.readouterr().err
        said = "note: 1 row drawn for validation kept in training instead" in err
        assert said == drawn, (seed, err)
    assert seen == {True, False}
