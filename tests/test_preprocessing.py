"""The table preprocessing: column kinds, filling, standardization, one-hot encoding,
dates, one pass in batches, documents and errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from nnmath.document import ModelFileError
from nnmath.preprocessing import (
    BadCellsError,
    MissingCellsError,
    TableStatistics,
    TabularPreprocessor,
    TargetStatistics,
    missing_mask,
)
from nnmath.preprocessing import statistics as statistics_module
from nnmath.preprocessing.cells import days, numbers, texts


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
    return TabularPreprocessor(target="label", scaling="standard").fit(_table())


def _messy(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Numbers and categories with missing cells, a date column, an ID, a row counter."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "row": np.arange(1, n + 1),
            "id": [f"P{1000 + i}" for i in range(n)],
            "mass": rng.normal(4000, 700, n).round(),
            "bill": rng.normal(44, 5, n),
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], n, p=[0.5, 0.3, 0.2]),
            "sex": rng.choice(["male", "female"], n),
            "seen": (
                pd.Timestamp("2008-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
            ).strftime("%Y-%m-%d"),
            "y": rng.choice(["Adelie", "Gentoo"], n),
        }
    )
    for name, count in (("mass", 7), ("bill", 3), ("island", 5), ("sex", 11), ("seen", 4)):
        frame.loc[rng.choice(n, count, replace=False), name] = np.nan
    return frame


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
    np.testing.assert_allclose(X[:, :2].mean(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(X[:, :2].std(axis=0), 1.0, rtol=1e-15)


def test_a_missing_number_takes_the_median_and_the_scale_is_of_the_filled_column():
    # x = 1, _, 3, 10: the median of 1, 3, 10 is 3; filled: 1, 3, 3, 10
    # μ = 17/4 = 4.25; s² = ((3.25)² + 1.25² + 1.25² + 5.75²)/4 = 46.75/4
    pre = TabularPreprocessor(scaling="standard").fit({"x": np.array([1.0, np.nan, 3.0, 10.0])})
    assert pre.fill_["x"] == 3.0
    assert pre.numeric_["x"]["mean"] == 4.25
    assert pre.numeric_["x"]["scale"] == pytest.approx(math.sqrt(46.75 / 4), rel=1e-15)
    X = pre.transform({"x": np.array([np.nan, 10.0])})
    np.testing.assert_allclose(X[:, 0], (np.array([3.0, 10.0]) - 4.25) / math.sqrt(46.75 / 4))


def test_constant_numeric_column_gets_scale_one():
    pre = TabularPreprocessor(scaling="standard").fit({"c": np.array([5.0, 5.0, 5.0])})
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
    assert X.shape == (4, 7)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(
        X[:, 2:],
        [
            [0, 0, 1, 0, 1],  # red, True
            [1, 0, 0, 1, 0],  # blue, False
            [0, 0, 1, 1, 0],  # red, False
            [0, 1, 0, 0, 1],  # green, True
        ],
    )


def test_the_same_numbers_as_scikit_learns_imputers_scaler_and_encoder():
    # SimpleImputer(median) + StandardScaler for numbers, SimpleImputer(most_frequent) +
    # OneHotEncoder(handle_unknown="ignore") for categories: the same inputs, missing
    # cells and unseen categories included
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = _messy().drop(columns=["row", "id", "seen", "y"])
    numeric, categorical = ["mass", "bill"], ["island", "sex"]
    text = frame.astype({c: object for c in categorical}).fillna({c: "" for c in categorical})
    sklearn_pre = ColumnTransformer(
        [
            ("n", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "c",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent", missing_values=""),
                    OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                ),
                categorical,
            ),
        ]
    ).fit(text)
    pre = TabularPreprocessor(scaling="standard").fit(frame)
    new = frame.head(20).copy()
    new.loc[0, "island"], new.loc[1, "sex"] = "Atlantis", "unknown"
    new.loc[2, "mass"], new.loc[3, "island"] = np.nan, np.nan
    new_text = new.astype({c: object for c in categorical}).fillna({c: "" for c in categorical})
    ours, theirs = pre.transform(new), sklearn_pre.transform(new_text)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    assert not ours[0, 2:5].any()  # Atlantis: none of the known islands
    np.testing.assert_allclose(ours, sklearn_pre.transform(new_text))


def test_a_dict_and_a_dataframe_give_the_same_result():
    from_dict = TabularPreprocessor(target="label").fit(_table())
    frame = pd.DataFrame(_table())
    from_frame = TabularPreprocessor(target="label").fit(frame)
    assert from_frame.to_document() == from_dict.to_document()
    np.testing.assert_array_equal(from_frame.transform(frame), from_dict.transform(_table()))
    np.testing.assert_array_equal(from_dict.transform(frame), from_frame.transform(_table()))


def test_numbers_written_as_text_read_as_numbers():
    # a CSV file read in batches arrives as text: the same preprocessing as numbers
    frame = _messy()
    text = frame.astype(object).where(frame.notna(), None)
    text[["mass", "bill", "row"]] = text[["mass", "bill", "row"]].map(
        lambda v: None if v is None else str(v)
    )
    assert TabularPreprocessor(target="y").fit(text).to_document() == (
        TabularPreprocessor(target="y").fit(frame).to_document()
    )


def test_whole_numbers_in_a_category_column_read_the_same_with_or_without_gaps():
    values = np.array([3.0, 4.0, np.nan, 3.0])  # a gap makes the column float
    assert texts(values).tolist() == ["3", "4", None, "3"]
    pre = TabularPreprocessor(categorical=("k",)).fit({"k": values})
    assert pre.categories_ == {"k": ["3", "4"]}
    np.testing.assert_array_equal(pre.transform({"k": np.array([4, 3])}), [[0, 1], [1, 0]])


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
    pre = TabularPreprocessor(scaling="standard").fit(frame)
    assert pre.get_feature_names_out() == ["0", "1=a", "1=b"]
    np.testing.assert_array_equal(pre.transform(frame), [[-1, 1, 0], [1, 0, 1]])


# ============================================================================ column kinds
def test_identifiers_dates_and_counters_are_decided_in_the_open():
    frame = _messy()
    stats = TableStatistics(target="y")
    stats.update(frame)
    pre = TabularPreprocessor.from_statistics(stats)
    decided = {d.column: (d.kind, d.note) for d in stats.decisions}
    assert decided["row"] == ("drop", "counts the rows (1, 2, 3, …): an identifier; dropped")
    assert decided["id"] == ("drop", "a distinct value in every row: an identifier; dropped")
    assert decided["seen"][0] == "date"
    assert "days" in decided["seen"][1]
    assert decided["mass"] == ("numeric", None)
    assert decided["island"] == ("category", None)
    assert pre.feature_names_in_ == ["mass", "bill", "island", "sex", "seen"]
    assert pre.dropped_ == {"row": decided["row"][1], "id": decided["id"][1]}
    assert stats.missing == {"mass": 7, "bill": 3, "island": 5, "sex": 11, "seen": 4}


def test_free_text_with_many_distinct_values_is_dropped():
    rng = np.random.default_rng(0)
    names = [f"car {i % 150}" for i in range(400)]  # 150 names, repeated: not an ID
    mostly = [f"w{i}" if i % 5 else "same" for i in range(60)]  # 49 distinct in 60 rows
    stats = TableStatistics()
    stats.update({"name": np.array(names), "x": rng.normal(size=400)})
    stats.finish()
    assert stats.decisions[0].note == (
        "150 distinct values in 400 rows: free text or an identifier; dropped"
    )
    stats = TableStatistics()
    stats.update({"word": np.array(mostly), "x": rng.normal(size=60)})
    stats.finish()
    assert stats.decisions[0].kind == "drop"


def test_a_shuffled_integer_column_is_a_number_not_a_counter():
    rng = np.random.default_rng(0)
    stats = TableStatistics()
    stats.update({"n": rng.permutation(50) + 1})
    stats.finish()
    assert stats.decisions[0].kind == "numeric"


def test_the_overrides_keep_drop_or_read_a_column_as_numbers():
    frame = _messy().assign(mass=lambda f: f["mass"].astype(object))
    frame.loc[5, "mass"] = "forty"
    pre = TabularPreprocessor(
        target="y", drop=("island",), categorical=("id",), numeric=("mass", "row")
    ).fit(frame)
    assert "island" not in pre.feature_names_in_
    assert len(pre.categories_["id"]) == 300
    assert "row" in pre.numeric_
    assert pre.text_as_missing_ == ["mass"]
    X = pre.transform(frame.head(6))  # "forty" is missing: the median
    assert X[5, pre.get_feature_names_out().index("mass")] == pytest.approx(
        0.0  # the median, centred on itself
    )
    with pytest.raises(ValueError, match="given two kinds"):
        TableStatistics(drop=["a"], numeric=["a"])
    with pytest.raises(ValueError, match="the data has no column 'ghost'"):
        TabularPreprocessor(drop=("ghost",)).fit(_table())


def test_a_column_of_numbers_with_a_few_cells_that_are_not_is_reported():
    frame = _messy()
    text = frame["mass"].map(lambda v: f"{v:.0f}" if v == v else None).astype(object)
    text[10], text[147], text[200] = "forty", "3,825", "1,204"
    with pytest.raises(BadCellsError) as error:
        TabularPreprocessor(target="y").fit(frame.assign(mass=text))
    assert (error.value.column, error.value.rows) == ("mass", [10, 147, 200])
    assert error.value.cells == ["forty", "3,825", "1,204"]
    assert error.value.count == 3
    assert not error.value.thousands  # "forty" is not a number with a separator
    only_thousands = text.copy()
    only_thousands[10] = "4,000"
    with pytest.raises(BadCellsError) as error:
        TabularPreprocessor(target="y").fit(frame.assign(mass=only_thousands))
    assert error.value.thousands
    assert str(error.value).startswith("column 'mass' holds numbers, but 3 cells are not a number")


def test_a_column_with_no_values_is_dropped():
    stats = TableStatistics()
    stats.update({"empty": np.full(5, np.nan), "x": np.arange(5.0) ** 2})
    pre = TabularPreprocessor.from_statistics(stats)
    assert pre.dropped_ == {"empty": "no values: dropped"}
    with pytest.raises(ValueError, match="no column is left to learn from"):
        TabularPreprocessor().fit({"empty": np.full(5, np.nan)})


# ============================================================================ dates
def test_dates_become_days_and_the_yearly_cycle():
    t = np.array(["2020-01-01", "2020-07-01", None, "2021-01-01"], dtype=object)
    pre = TabularPreprocessor().fit({"when": t})
    assert pre.kind("when") == "date"
    assert pre.dates_["when"]["format"] == "%Y-%m-%d"
    d = np.array([18262.0, 18444.0, 18628.0])  # days since 1970-01-01
    assert pre.fill_["when"] == 18444.0  # the median date fills the missing one
    filled = np.array([18262.0, 18444.0, 18444.0, 18628.0])
    assert pre.dates_["when"]["mean"] == pytest.approx(filled.mean())
    X = pre.transform({"when": t})
    phase = 2 * np.pi * np.fmod(filled, 365.2425) / 365.2425
    np.testing.assert_allclose(X[:, 0], (filled - filled.mean()) / filled.std())
    np.testing.assert_allclose(X[:, 1], np.sin(phase))
    np.testing.assert_allclose(X[:, 2], np.cos(phase))
    assert pre.get_feature_names_out() == ["when", "when:year_sin", "when:year_cos"]
    assert days(t[:2], "%Y-%m-%d")[0].tolist() == d[:2].tolist()


def test_times_of_day_add_the_daily_cycle_and_timestamps_are_dates():
    stamps = pd.Series(pd.to_datetime(["2020-01-01 06:00", "2020-01-02 18:00", "2020-01-05 00:00"]))
    pre = TabularPreprocessor().fit(pd.DataFrame({"t": stamps}))
    assert pre.dates_["t"]["daily"]
    assert pre.dates_["t"]["format"] is None
    X = pre.transform(pd.DataFrame({"t": stamps}))
    np.testing.assert_allclose(X[0, 3:], [np.sin(np.pi / 2), np.cos(np.pi / 2)], atol=1e-12)
    aware = pd.DataFrame({"t": stamps.dt.tz_localize("Europe/Paris")})  # 1 hour ahead of UTC
    X_aware = TabularPreprocessor().fit(aware).transform(aware)
    np.testing.assert_allclose(X_aware[0, 3], np.sin(2 * np.pi * 5 / 24), atol=1e-12)


def test_a_date_cell_that_is_not_a_date_is_reported():
    values = np.array(["2020-01-01"] * 30 + ["someday"], dtype=object)
    with pytest.raises(BadCellsError) as error:
        TabularPreprocessor().fit({"when": values})
    assert error.value.kind == "dates"
    assert error.value.rows == [30]


# ============================================================================ in batches
def test_statistics_in_batches_equal_those_of_the_whole_table():
    frame = _messy(1000)
    whole = TableStatistics(target="y", scaling="standard")
    whole.update(frame)
    expected = whole.finish()
    parts = TableStatistics(target="y", scaling="standard")
    for start in range(0, 1000, 137):
        parts.update(frame.iloc[start : start + 137].reset_index(drop=True))
    got = parts.finish()
    assert got["categories"] == expected["categories"]
    assert got["fill"] == expected["fill"]
    assert got["dropped"] == expected["dropped"]
    for kind in ("numeric", "dates"):
        for name, stats in expected[kind].items():
            assert got[kind][name]["mean"] == pytest.approx(stats["mean"], rel=1e-13)
            assert got[kind][name]["scale"] == pytest.approx(stats["scale"], rel=1e-13)


def test_the_median_of_a_long_column_is_that_of_a_seeded_sample(monkeypatch):
    monkeypatch.setattr(statistics_module, "MEDIAN_SAMPLE", 2_000)
    x = np.random.default_rng(0).exponential(size=50_000)  # median ln 2
    fills = []
    for _ in range(2):
        stats = TableStatistics(seed=3)
        for start in range(0, 50_000, 7_000):
            stats.update({"x": x[start : start + 7_000]})
        fills.append(stats.finish()["fill"]["x"])
    assert fills[0] == fills[1]  # the same seed, the same sample
    assert abs(np.mean(x < fills[0]) - 0.5) < 0.03  # a median to within 3 percentiles


def test_the_batches_must_have_the_same_columns():
    stats = TableStatistics()
    stats.update({"a": np.ones(2)})
    with pytest.raises(ValueError, match="differ from the first batch's"):
        stats.update({"b": np.ones(2)})


# ============================================================================ the target
def test_the_target_column_is_excluded_at_fit_and_ignored_at_transform(fitted):
    assert fitted.feature_names_in_ == ["size", "count", "color", "flag"]
    without_target = {k: v for k, v in _table().items() if k != "label"}
    np.testing.assert_array_equal(fitted.transform(without_target), fitted.transform(_table()))
    odd_target = {**_table(), "label": np.array([None, "zzz", 1.5, None], dtype=object)}
    np.testing.assert_array_equal(fitted.transform(odd_target), fitted.transform(_table()))


def test_without_a_target_every_column_is_a_feature():
    pre = TabularPreprocessor().fit(_table())
    assert pre.feature_names_in_ == ["size", "count", "color", "flag", "label"]


@pytest.mark.parametrize(
    ("values", "task", "classes"),
    [
        (np.array(["b", "a", "b"], dtype=object), "classification", ["a", "b"]),
        (np.array([True, False, True]), "classification", ["False", "True"]),
        (np.tile([0, 1, 2], 10), "classification", [0, 1, 2]),
        (np.array([0, 1, 2, 1, 0]), "regression", None),  # 3 values in 5 rows: too few each
        (np.tile([0, 1, 2, 3, 7, 12], 10), "regression", None),  # whole numbers with gaps
        (np.array(["1", "0", "1"], dtype=object), "classification", [0, 1]),
        (np.array([1.0, 0.0, 1.0]), "classification", [0, 1]),
        (np.arange(50), "regression", None),  # many whole numbers: a quantity
        (np.array([0.5, 1.25, 3.0]), "regression", None),
    ],
)
def test_the_task_is_inferred_from_the_target(values, task, classes):
    stats = TargetStatistics()
    stats.update(values)
    assert stats.finish() == task
    if classes is not None:
        assert stats.classes.tolist() == classes
    else:
        assert stats.mean == pytest.approx(values.mean())
        assert stats.scale > 0


def test_the_target_in_batches_and_too_many_classes():
    stats = TargetStatistics(max_classes=5)
    for k in range(3):
        stats.update(np.array([f"id{3 * k + i}" for i in range(3)], dtype=object))
    assert stats.finish() == "classification"
    assert stats.too_many
    text = TargetStatistics(task="regression")
    text.update(np.array(["a", "b"], dtype=object))
    with pytest.raises(ValueError, match="regression needs numbers"):
        text.finish()


# ============================================================================ at transform
def test_extra_columns_are_ignored_and_missing_ones_named(fitted):
    table = _table()
    reordered = {k: table[k] for k in reversed(list(table))}
    np.testing.assert_array_equal(fitted.transform(reordered), fitted.transform(table))
    np.testing.assert_array_equal(
        fitted.transform({**table, "extra": table["size"]}), fitted.transform(table)
    )
    assert fitted.report({**table, "extra": table["size"]}).extra_columns == ["extra"]
    with pytest.raises(ValueError, match=r"^the data lacks the model's input columns \['count'\]$"):
        fitted.transform({k: v for k, v in table.items() if k != "count"})


def test_the_report_says_what_is_filled_unseen_or_unreadable(fitted):
    table = {
        **_table(),
        "size": np.array(["1", None, "two", "9"], dtype=object),
        "color": np.array(["red", "purple", None, "purple"], dtype=object),
    }
    report = fitted.report(table)
    assert report.missing == {"size": [1, 2], "color": [2]}
    assert report.unseen == {"color": {"purple": [1, 3]}}
    assert report.bad == {"size": [2]}
    with pytest.raises(ValueError, match=r"^column 'size' holds numbers, but row 2 has 'two'$"):
        fitted.transform(table)


def test_unseen_categories_are_none_of_the_known_ones(fitted):
    table = {**_table(), "color": np.array(["red", "purple", "teal", "blue"])}
    X = fitted.transform(table)
    np.testing.assert_array_equal(X[:, 2:5], [[0, 0, 1], [0, 0, 0], [0, 0, 0], [1, 0, 0]])


def test_unfitted_preprocessor_raises_not_fitted():
    with pytest.raises(NotFittedError):
        TabularPreprocessor().transform(_table())
    with pytest.raises(NotFittedError):
        TabularPreprocessor().to_document()


# ============================================================================ documents
def test_document_round_trip_is_json_and_transforms_identically():
    frame = _messy()
    pre = TabularPreprocessor(target="y").fit(frame)
    pre.target_scaling_ = {"mean": 2.0, "scale": 3.0}
    document = pre.to_document()
    text = json.dumps(document, allow_nan=False)
    rebuilt = TabularPreprocessor.from_document(json.loads(text))
    assert rebuilt.to_document() == document
    assert rebuilt.get_feature_names_out() == pre.get_feature_names_out()
    np.testing.assert_array_equal(rebuilt.transform(frame), pre.transform(frame))


def test_a_document_written_before_filling_existed_loads_and_refuses_missing_cells(fitted):
    document = fitted.to_document()
    for key in ("dates", "fill", "dropped", "text_as_missing"):
        document.pop(key)
    old = TabularPreprocessor.from_document(document)
    np.testing.assert_array_equal(old.transform(_table()), fitted.transform(_table()))
    table = {**_table(), "size": np.array([1.0, np.nan, 4.0, 9.0])}
    with pytest.raises(ValueError, match=r"'size' has 1 missing value \(first at row 1\); fill"):
        old.transform(table)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("numeric"), "no 'numeric'"),
        (lambda d: d["numeric"]["size"].update(mean="x"), "finite 'mean'"),
        (lambda d: d.update(categories=[1, 2]), "'categories' must be an object"),
        (
            lambda d: d.update(feature_names_in=["size", "count", "color", "flag", "ghost"]),
            "each column must have one kind",
        ),
        (lambda d: d.update(target=3), "'target' must be a string or null"),
        (lambda d: d.update(feature_names_in=["size"] * 4), "must be distinct columns"),
        (lambda d: d["fill"].update(size="x"), "invalid fill value for column 'size'"),
        (lambda d: d["fill"].update(color=1.0), "invalid fill value for column 'color'"),
        (lambda d: d.update(fill=[1]), "'fill' is"),
        (lambda d: d.update(target_scaling={"mean": 0, "scale": 0}), "the target"),
        (lambda d: d.update(text_as_missing=["color"]), "'text_as_missing' names a column"),
    ],
    ids=[
        "no-numeric", "bad-mean", "bad-categories", "columns-disagree", "target", "twice",
        "fill-text", "fill-number", "fill-list", "target-scale", "text-as-missing",
    ],
)  # fmt: skip
def test_from_document_rejects_damaged_documents(fitted, damage, message):
    document = fitted.to_document()
    damage(document)
    with pytest.raises(ModelFileError, match=message):
        TabularPreprocessor.from_document(document)


@pytest.mark.parametrize("scale", [0.0, -1.0, math.nan, math.inf])
def test_a_scale_that_is_not_finite_and_positive_is_refused(fitted, scale):
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


def test_a_damaged_date_column_is_refused():
    pre = TabularPreprocessor().fit({"t": np.array(["2020-01-01", "2021-01-01"], dtype=object)})
    document = pre.to_document()
    document["dates"]["t"]["daily"] = "yes"
    with pytest.raises(ModelFileError, match="date column 't' has an invalid format or daily"):
        TabularPreprocessor.from_document(document)


@pytest.mark.parametrize("values", [["red", "blue"], ["blue", "blue"], [], ["blue", 1]])
def test_categories_must_be_distinct_sorted_strings(fitted, values):
    document = fitted.to_document()
    document["categories"]["color"] = values
    with pytest.raises(ModelFileError, match="distinct strings in sorted order"):
        TabularPreprocessor.from_document(document)


# ============================================================================ errors
def test_fit_refuses_a_column_too_large_to_standardize():
    with pytest.raises(ValueError, match="column 'x' has values too large to standardize"):
        TabularPreprocessor(scaling="standard").fit({"x": np.array([1e308, -1e308, 1e308])})


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("size", [1.0, np.nan, 4.0, np.nan], r"'size' has 2 missing values \(first at row 1\)"),
        ("color", ["red", None, "red", "blue"], r"'color' has 1 missing value \(first at row 1\)"),
        ("color", ["red", "blue", np.nan, "x"], r"'color' has 1 missing value \(first at row 2\)"),
        ("color", ["red", "blue", "", "x"], r"'color' has 1 missing value \(first at row 2\)"),
        ("color", pd.array(["red", "blue", None, "x"], dtype="string"), r"'color' has 1 missing"),
    ],
    ids=["nan", "none", "nan-in-text", "empty-text", "pandas-NA"],
)
def test_without_imputation_missing_values_are_refused(column, values, message):
    frame = pd.DataFrame(_table())
    frame[column] = values
    with pytest.raises(MissingCellsError, match=message):
        TabularPreprocessor(target="label", impute=False).fit(frame)
    pre = TabularPreprocessor(target="label", impute=False).fit(_table())
    assert pre.fill_ == {}
    with pytest.raises(ValueError, match=message) as at_transform:
        pre.transform(frame)
    assert str(at_transform.value).endswith("; fill or drop them before predicting")


def test_an_infinite_number_is_refused(fitted):
    table = {**_table(), "size": np.array([1.0, np.inf, 4.0, 9.0])}
    with pytest.raises(ValueError, match=r"column 'size' has an infinite value at row 1"):
        fitted.transform(table)


def test_missing_mask_finds_every_kind_of_missing_value():
    values = np.array([None, np.nan, pd.NA, pd.NaT, "x", 0, float("nan"), ""], dtype=object)
    np.testing.assert_array_equal(missing_mask(values), [1, 1, 1, 1, 0, 0, 1, 1])
    np.testing.assert_array_equal(
        missing_mask(np.array(["2020-01-01", "NaT"], dtype="datetime64[D]")), [0, 1]
    )
    assert not missing_mask(np.array([1, 2, 3])).any()
    x, bad = numbers(np.array(["1e3", " 2 ", "x", None], dtype=object))
    assert x[:2].tolist() == [1000.0, 2.0]
    assert bad.tolist() == [False, False, True, False]


def test_a_table_with_only_the_target_or_no_rows_is_refused():
    with pytest.raises(ValueError, match="no feature columns besides the target"):
        TabularPreprocessor(target="y").fit({"y": np.array([1, 2])})
    with pytest.raises(ValueError, match="the data has no rows"):
        TabularPreprocessor().fit({"x": np.array([], dtype=float)})


def test_something_other_than_a_table_is_a_type_error():
    with pytest.raises(TypeError, match="expected a pandas DataFrame or a dict of columns"):
        TabularPreprocessor().fit(np.ones((3, 2)))


# ============================================================================ robust scaling
def test_robust_scaling_by_hand():
    # x = 1, 2, 4, 9: median 3; q₁ = 1 + 0.75·(2 − 1) = 1.75, q₃ = 4 + 0.25·(9 − 4) = 5.25
    # (linear interpolation), s = 3.5; 9 → z = 6/3.5, f(z) = z / √(1 + (z/3)²)
    pre = TabularPreprocessor().fit({"x": np.array([1.0, 2.0, 4.0, 9.0])})
    assert pre.scaling_ == "robust"
    assert pre.numeric_["x"] == {"center": 3.0, "scale": 3.5, "min": 1.0, "max": 9.0}
    z = np.array([-2.0, -1.0, 1.0, 6.0]) / 3.5
    expected = z / np.sqrt(1 + (z / 3) ** 2)
    X = pre.transform({"x": np.array([1.0, 2.0, 4.0, 9.0])})
    np.testing.assert_allclose(X[:, 0], expected, rtol=1e-15)
    assert X[3, 0] == pytest.approx((12 / 7) / math.sqrt(1 + (4 / 7) ** 2), rel=1e-15)


def test_robust_scaling_matches_scikit_learns_robust_scaler_then_the_clip():
    from sklearn.preprocessing import RobustScaler

    frame = _messy()
    pre = TabularPreprocessor(target="y").fit(frame)
    for name in ("mass", "bill"):
        present = frame[name].dropna().to_numpy()[:, None]
        scaler = RobustScaler(quantile_range=(25.0, 75.0)).fit(present)
        z = scaler.transform(present)[:, 0]
        got = pre.transform(frame.dropna(subset=[name]).reset_index(drop=True))
        column = got[:, pre.get_feature_names_out().index(name)]
        np.testing.assert_allclose(column, z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-12)


def test_values_far_beyond_the_training_range_stay_within_the_clip_and_are_reported():
    rng = np.random.default_rng(0)
    pop = rng.lognormal(10, 1, 500)  # ≥ 0 with a long right tail: scaled on ln(1 + x)
    pre = TabularPreprocessor().fit({"pop": pop})
    far = np.array([1e3, 5.1e6, 1e12, -1e12, np.nan])
    X = pre.transform({"pop": far})[:, 0]
    assert np.all(np.abs(X) < 3)
    assert np.all(np.diff(X[:3]) > 0)
    # u = ln(1 + max(x, 0)), z = (u − median) / IQR of ln(1 + pop), then the clip
    q1, median, q3 = np.quantile(np.log1p(pop), [0.25, 0.5, 0.75])
    z = (np.log1p(np.maximum(far[:4], 0.0)) - median) / (q3 - q1)
    np.testing.assert_allclose(X[:4], z / np.sqrt(1 + (z / 3) ** 2), rtol=1e-12)
    assert 2.9 < X[2] < 3.0  # ln(1 + 1e12) = 27.6: z ≈ 12.7 interquartile ranges above
    assert -3.0 < X[3] < -2.5  # −1e12 counts as 0, below every training value
    report = pre.report({"pop": far})
    low, high = pre.numeric_["pop"]["min"], pre.numeric_["pop"]["max"]
    expected = [i for i, v in enumerate(far) if v < low or v > high]
    assert report.out_of_range == {"pop": expected}
    assert expected == [1, 2, 3]


def test_a_column_mostly_of_one_value_is_scaled_by_half_its_range():
    # q₁ = q₃ = 0: the interquartile range is 0, so s = (4 − 0)/2 = 2; a constant column: 1.
    # (Skewness 1.5 by hand, m₂ = 2.56, m₃ = 6.144: below 2, so x is scaled as it is.)
    pre = TabularPreprocessor().fit({"x": np.array([0.0] * 8 + [4.0] * 2), "c": np.full(10, 5.0)})
    assert pre.numeric_["x"]["scale"] == 2.0
    assert pre.numeric_["c"]["scale"] == 1.0
    X = pre.transform({"x": np.array([4.0]), "c": np.array([5.0])})
    np.testing.assert_allclose(X, [[2 / math.sqrt(1 + 4 / 9), 0.0]], rtol=1e-15)


def test_a_document_without_scaling_is_standard_and_a_robust_one_round_trips(fitted):
    old = fitted.to_document()
    del old["scaling"]  # written before robust scaling existed
    loaded = TabularPreprocessor.from_document(json.loads(json.dumps(old)))
    assert loaded.scaling_ == "standard"
    np.testing.assert_array_equal(loaded.transform(_table()), fitted.transform(_table()))
    robust = TabularPreprocessor(target="label").fit(_table())
    again = TabularPreprocessor.from_document(json.loads(json.dumps(robust.to_document())))
    np.testing.assert_array_equal(again.transform(_table()), robust.transform(_table()))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"scaling": "minmax"}, "'scaling' is 'minmax'"),
        ({"numeric": {"size": {"center": 1.0, "scale": 1.0}}}, "needs a finite 'center'"),
        ({"numeric": {"size": {"center": 9.0, "scale": 1.0, "min": 0, "max": 2}}}, "min ≤"),
        ({"numeric": {"size": {"center": 1.0, "scale": 0.0, "min": 0, "max": 2}}}, "'scale' > 0"),
    ],
)
def test_a_damaged_robust_document_is_refused(damage, message):
    document = TabularPreprocessor().fit({"size": np.array([0.0, 1.0, 2.0])}).to_document()
    with pytest.raises(ModelFileError, match=message):
        TabularPreprocessor.from_document({**document, **damage})


# ============================================================================ identifiers
@pytest.mark.parametrize(
    ("name", "values", "why"),
    [
        ("PID", np.cumsum(np.random.default_rng(0).integers(1, 9, 60)), "increasing with the row"),
        ("county_id", np.random.default_rng(1).permutation(np.arange(60) * 7 + 100), "named"),
        ("key", np.random.default_rng(2).permutation(60), "named"),
        ("orderId", np.random.default_rng(3).permutation(60) + 5000, "named"),
        # R's row names and pandas' index written as a column, in a shuffled file
        ("rownames", np.random.default_rng(5).permutation(60) + 1, "named"),
        ("Unnamed: 0", np.random.default_rng(6).permutation(60), "named"),
        ("row.names", np.random.default_rng(7).permutation(60) + 1, "named"),
    ],
)
def test_numeric_identifiers_are_dropped_and_numeric_keeps_them(name, values, why):
    table = {name: values, "x": np.random.default_rng(4).normal(size=60)}
    stats = TableStatistics()
    stats.update(table)
    stats.finish()
    decision = stats.decisions[0]
    assert decision.kind == "drop"
    assert "identifier" in decision.note
    assert f"--numeric {name} keeps it" in decision.note
    assert ("increasing with the row" in decision.note) == (why == "increasing with the row")
    kept = TabularPreprocessor(numeric=(name,)).fit(table)
    assert name in kept.numeric_


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("count", np.random.default_rng(0).permutation(60)),  # shuffled, not named like an id
        ("PID", np.r_[np.arange(30), np.arange(30)]),  # repeated values
        ("age_id", np.random.default_rng(0).normal(size=60)),  # not whole
        ("year", np.sort(np.random.default_rng(0).integers(1990, 2000, 60))),  # ties
        ("paid", np.random.default_rng(1).permutation(60)),  # "id" inside a word
        ("rows", np.random.default_rng(2).permutation(60)),  # a count, not row names
        ("Unnamed: 3", np.random.default_rng(3).permutation(60)),  # not the index's place
        ("rownames", np.r_[np.arange(30), np.arange(30)]),  # repeated values
    ],
)
def test_columns_that_are_not_numeric_identifiers_are_kept(name, values):
    stats = TableStatistics()
    stats.update({name: values, "x": np.zeros(60)})
    stats.finish()
    assert stats.decisions[0].kind == "numeric"


def test_an_identifier_in_batches_is_followed_across_them():
    values = np.arange(100) * 3 + 7
    stats = TableStatistics()
    for start in range(0, 100, 30):
        stats.update({"ref": values[start : start + 30], "x": np.ones(len(values[start:][:30]))})
    stats.finish()
    assert stats.decisions[0].kind == "drop"
    stats = TableStatistics()
    for start in (30, 0, 60):  # out of order: not increasing, and not named like an id
        stats.update({"ref": values[start : start + 30], "x": np.ones(30)})
    stats.finish()
    assert stats.decisions[0].kind == "numeric"


@pytest.mark.parametrize(
    ("values", "task", "words"),
    [
        (np.tile([0, 1, 2, 3, 7, 12], 10), "regression", "with gaps"),
        (np.arange(19).repeat(3), "regression", "too many for labels"),
        (np.tile([1, 2, 3], 20), "classification", "3 consecutive whole numbers in 60 rows"),
        (np.array([0, 1] * 3), "classification", "2 distinct whole numbers"),
        (np.arange(40), "regression", "more than 20"),
        (np.array(["a", "b"]), "classification", "not numbers"),
        (np.array([0.5, 1.5]), "regression", "not whole"),
    ],
)
def test_the_rule_that_decided_the_task_is_said(values, task, words):
    stats = TargetStatistics()
    stats.update(values)
    assert stats.finish() == task
    assert words in stats.rule
    forced = TargetStatistics("regression" if task == "classification" else "classification")
    forced.update(np.tile([0, 1, 2, 3, 7, 12], 10))
    forced.finish()
    assert forced.rule.startswith("--task")
