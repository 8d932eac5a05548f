"""TabularPreprocessor: standardization, one-hot encoding, columns, documents, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from nnmath.document import ModelFileError
from nnmath.preprocessing import TabularPreprocessor, missing_mask


def _table() -> dict[str, np.ndarray]:
    """Two numeric columns (one of ints), a text column, a boolean one and a target."""
    return {
        "size": np.array([1.0, 2.0, 4.0, 9.0]),
        "count": np.array([3, 3, 5, 1]),
        "color": np.array(["red", "blue", "red", "green"]),
        "flag": np.array([True, False, False, True]),
        "label": np.array(["a", "b", "a", "b"]),
    }


@pytest.fixture
def fitted() -> TabularPreprocessor:
    return TabularPreprocessor(target="label").fit(_table())


# ============================================================================ the numbers
def test_numeric_columns_are_standardized_by_hand(fitted):
    X = fitted.transform(_table())
    # size: μ = (1 + 2 + 4 + 9)/4 = 4; s = sqrt((9 + 4 + 0 + 25)/4) = sqrt(9.5)
    expected_size = (np.array([1.0, 2.0, 4.0, 9.0]) - 4.0) / np.sqrt(9.5)
    # count: μ = 12/4 = 3; s = sqrt((0 + 0 + 4 + 4)/4) = sqrt(2)
    expected_count = (np.array([3.0, 3.0, 5.0, 1.0]) - 3.0) / np.sqrt(2.0)
    np.testing.assert_allclose(X[:, 0], expected_size, rtol=1e-15)
    np.testing.assert_allclose(X[:, 1], expected_count, rtol=1e-15)
    assert fitted.numeric_["size"] == {"mean": 4.0, "scale": pytest.approx(np.sqrt(9.5))}
    # the standardized training columns have mean 0 and standard deviation 1
    np.testing.assert_allclose(X[:, :2].mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(X[:, :2].std(axis=0), 1.0, rtol=1e-15)


def test_constant_numeric_column_gets_scale_one():
    pre = TabularPreprocessor().fit({"c": np.array([5.0, 5.0, 5.0])})
    assert pre.numeric_["c"] == {"mean": 5.0, "scale": 1.0}
    np.testing.assert_array_equal(pre.transform({"c": np.array([5.0, 7.0])}), [[0.0], [2.0]])


def test_other_columns_are_one_hot_with_sorted_categories_and_names(fitted):
    assert fitted.categories_ == {"color": ["blue", "green", "red"], "flag": ["False", "True"]}
    assert fitted.get_feature_names_out() == [
        "size",
        "count",
        "color=blue",
        "color=green",
        "color=red",
        "flag=False",
        "flag=True",
    ]
    X = fitted.transform(_table())
    assert X.shape == (4, 7) and X.dtype == np.float64
    np.testing.assert_array_equal(
        X[:, 2:],
        [
            [0, 0, 1, 0, 1],  # red, True
            [1, 0, 0, 1, 0],  # blue, False
            [0, 0, 1, 1, 0],  # red, False
            [0, 1, 0, 0, 1],  # green, True
        ],
    )


def test_a_dict_and_a_dataframe_give_the_same_result():
    from_dict = TabularPreprocessor(target="label").fit(_table())
    frame = pd.DataFrame(_table())
    from_frame = TabularPreprocessor(target="label").fit(frame)
    assert from_frame.to_document() == from_dict.to_document()
    np.testing.assert_array_equal(from_frame.transform(frame), from_dict.transform(_table()))
    # fitted on one kind, applied to the other
    np.testing.assert_array_equal(from_dict.transform(frame), from_frame.transform(_table()))


def test_pandas_string_and_categorical_dtypes_are_categories():
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0],
            "s": pd.Series(["u", "v", "u"], dtype="string"),
            "k": pd.Categorical(["p", "q", "q"]),
        }
    )
    pre = TabularPreprocessor().fit(frame)
    assert pre.get_feature_names_out() == ["x", "s=u", "s=v", "k=p", "k=q"]


def test_non_string_column_labels_are_named_as_text():
    frame = pd.DataFrame({0: [1.0, 2.0], 1: ["a", "b"]})
    pre = TabularPreprocessor().fit(frame)
    assert pre.get_feature_names_out() == ["0", "1=a", "1=b"]
    np.testing.assert_array_equal(pre.transform(frame), [[-1, 1, 0], [1, 0, 1]])


# ============================================================================ the target
def test_the_target_column_is_excluded_at_fit_and_ignored_at_transform(fitted):
    assert fitted.feature_names_in_ == ["size", "count", "color", "flag"]
    without_target = {k: v for k, v in _table().items() if k != "label"}
    np.testing.assert_array_equal(fitted.transform(without_target), fitted.transform(_table()))
    # a target with values never seen, or missing, does not matter to the features
    odd_target = {**_table(), "label": np.array([None, "zzz", 1.5, None], dtype=object)}
    np.testing.assert_array_equal(fitted.transform(odd_target), fitted.transform(_table()))


def test_without_a_target_every_column_is_a_feature():
    pre = TabularPreprocessor().fit(_table())
    assert pre.feature_names_in_ == ["size", "count", "color", "flag", "label"]


# ============================================================================ columns
def test_check_columns_accepts_the_same_columns_in_any_order(fitted):
    table = _table()
    fitted.check_columns({k: table[k] for k in reversed(list(table))})
    np.testing.assert_array_equal(
        fitted.transform({k: table[k] for k in reversed(list(table))}), fitted.transform(table)
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: {k: v for k, v in t.items() if k != "count"},
            r"^the data's columns differ from the model's: missing columns \['count'\]$",
        ),
        (
            lambda t: {**t, "extra": t["size"]},
            r"^the data's columns differ from the model's: unexpected columns \['extra'\]$",
        ),
        (
            lambda t: {("colour" if k == "color" else k): v for k, v in t.items()},
            r"^the data's columns differ from the model's: missing columns \['color'\]; "
            r"unexpected columns \['colour'\]$",
        ),
    ],
    ids=["missing", "unexpected", "both"],
)
def test_check_columns_names_missing_and_unexpected_columns(fitted, change, message):
    with pytest.raises(ValueError, match=message):
        fitted.check_columns(change(_table()))
    with pytest.raises(ValueError, match=message):
        fitted.transform(change(_table()))


def test_unfitted_preprocessor_raises_not_fitted():
    with pytest.raises(NotFittedError):
        TabularPreprocessor().transform(_table())
    with pytest.raises(NotFittedError):
        TabularPreprocessor().to_document()


# ============================================================================ documents
def test_document_round_trip_is_json_and_transforms_identically(fitted):
    document = fitted.to_document()
    text = json.dumps(document, allow_nan=False)
    rebuilt = TabularPreprocessor.from_document(json.loads(text))
    assert rebuilt.target == "label"
    assert rebuilt.feature_names_in_ == fitted.feature_names_in_
    assert rebuilt.get_feature_names_out() == fitted.get_feature_names_out()
    assert rebuilt.to_document() == document
    np.testing.assert_array_equal(rebuilt.transform(_table()), fitted.transform(_table()))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("numeric"), "no 'numeric'"),
        (lambda d: d["numeric"]["size"].update(mean="x"), "finite 'mean'"),
        (lambda d: d.update(categories=[1, 2]), "'categories' must be an object"),
        (
            lambda d: d.update(feature_names_in=["size", "count", "color", "flag", "ghost"]),
            "either numeric statistics or categories",
        ),
        (lambda d: d.update(target=3), "'target' must be a string or null"),
        (lambda d: d.update(feature_names_in=["size"] * 4), "must be distinct columns"),
    ],
    ids=["no-numeric", "bad-mean", "bad-categories", "columns-disagree", "target", "twice"],
)
def test_from_document_rejects_damaged_documents(fitted, damage, message):
    document = fitted.to_document()
    damage(document)
    with pytest.raises(ModelFileError, match=message):
        TabularPreprocessor.from_document(document)


@pytest.mark.parametrize("scale", [0.0, -1.0, math.nan, math.inf])
def test_a_scale_that_is_not_finite_and_positive_is_refused(fitted, scale):
    # 0, NaN and inf once loaded and then blamed the user's data at predict time
    document = fitted.to_document()
    document["numeric"]["size"]["scale"] = scale
    with pytest.raises(ModelFileError, match="'size' needs a finite 'mean' and a finite 'scale'"):
        TabularPreprocessor.from_document(json.loads(json.dumps(document)))


@pytest.mark.parametrize("mean", [math.nan, math.inf, True])
def test_a_mean_that_is_not_a_finite_number_is_refused(fitted, mean):
    document = fitted.to_document()
    document["numeric"]["size"]["mean"] = mean
    with pytest.raises(ModelFileError, match="finite 'mean'"):
        TabularPreprocessor.from_document(document)


@pytest.mark.parametrize("values", [["red", "blue"], ["blue", "blue"], [], ["blue", 1]])
def test_categories_must_be_distinct_sorted_strings(fitted, values):
    # their order is the order of the one-hot inputs: another order permutes the inputs
    document = fitted.to_document()
    document["categories"]["color"] = values
    with pytest.raises(ModelFileError, match="distinct strings in sorted order"):
        TabularPreprocessor.from_document(document)


def test_fit_refuses_a_column_too_large_to_standardize():
    with pytest.raises(ValueError, match="column 'x' has values too large to standardize"):
        TabularPreprocessor().fit({"x": np.array([1e308, -1e308, 1e308])})


# ============================================================================ errors
@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "size",
            [1.0, np.nan, 4.0, np.nan],
            r"column 'size' has 2 missing values \(first at row 1\)",
        ),
        (
            "color",
            ["red", None, "red", "blue"],
            r"column 'color' has 1 missing value \(first at row 1\)",
        ),
        (
            "color",
            ["red", "blue", np.nan, "x"],
            r"column 'color' has 1 missing value \(first at row 2\)",
        ),
        (
            "color",
            pd.array(["red", "blue", None, "x"], dtype="string"),
            r"column 'color' has 1 missing",
        ),
        ("size", [1.0, np.inf, 4.0, 9.0], r"column 'size' has an infinite value at row 1"),
    ],
    ids=["nan", "none", "nan-in-text", "pandas-NA", "inf"],
)
def test_missing_values_are_refused_at_fit_and_at_transform(column, values, message):
    frame = pd.DataFrame(_table())
    frame[column] = values
    with pytest.raises(ValueError, match=message) as at_fit:
        TabularPreprocessor(target="label").fit(frame)
    pre = TabularPreprocessor(target="label").fit(_table())
    with pytest.raises(ValueError, match=message) as at_transform:
        pre.transform(frame)
    if "missing" in message:  # the messages say what to do
        assert str(at_fit.value).endswith("; fill or drop them before training")
        assert str(at_transform.value).endswith("; fill or drop them before predicting")


def test_missing_mask_finds_every_kind_of_missing_value():
    values = np.array([None, np.nan, pd.NA, pd.NaT, "x", 0, float("nan")], dtype=object)
    np.testing.assert_array_equal(missing_mask(values), [1, 1, 1, 1, 0, 0, 1])
    np.testing.assert_array_equal(
        missing_mask(np.array(["2020-01-01", "NaT"], dtype="datetime64[D]")), [0, 1]
    )
    assert not missing_mask(np.array([1, 2, 3])).any()


def test_unseen_categories_are_named(fitted):
    table = {**_table(), "color": np.array(["red", "purple", "teal", "purple"])}
    with pytest.raises(
        ValueError, match=r"^column 'color' has values not seen in training: \['purple', 'teal'\]$"
    ):
        fitted.transform(table)


def test_numeric_column_that_became_text_is_refused(fitted):
    table = {**_table(), "size": np.array(["1.0", "two", "4", "9"], dtype=object)}
    with pytest.raises(
        ValueError,
        match=r"^column 'size' was numeric in training but holds non-numeric values here "
        r"\(dtype object\)$",
    ):
        fitted.transform(table)


def test_a_table_with_only_the_target_or_no_rows_is_refused():
    with pytest.raises(ValueError, match="no feature columns besides the target"):
        TabularPreprocessor(target="y").fit({"y": np.array([1, 2])})
    with pytest.raises(ValueError, match="the data has no rows"):
        TabularPreprocessor().fit({"x": np.array([], dtype=float)})


def test_something_other_than_a_table_is_a_type_error():
    with pytest.raises(TypeError, match="expected a pandas DataFrame or a dict of columns"):
        TabularPreprocessor().fit(np.ones((3, 2)))
