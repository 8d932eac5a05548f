"""The playground's data from a function and from a file with empty cells.

A typed formula is parsed by Python's ``ast`` against a whitelist and evaluated with
NumPy, never run as Python: the tests check it against values worked by hand and
refuse hostile text, each with its one-line reason. The curve's classes are checked
against y − f(x) computed here, and an upload with empty cells is counted, offered and
either left out or filled as the setting says.
"""

from __future__ import annotations

import builtins
import math
import statistics

import numpy as np
import pytest

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from nnmath.playground import Session, datasets  # noqa: E402
from nnmath.playground.server import create_app  # noqa: E402

BASE_URL = "http://127.0.0.1"


@pytest.fixture
def client():
    with TestClient(create_app(), base_url=BASE_URL) as c:
        yield c


# ---------------------------------------------------------------------------- the parser
@pytest.mark.parametrize(
    ("text", "x1", "x2", "expected"),
    [
        ("3*sin(x)", math.pi / 6, 0.0, 1.5),
        ("x**3/20 - x", 2.0, 0.0, 8 / 20 - 2),
        ("abs(x) - 3", -5.0, 0.0, 2.0),
        ("(x1**2 + x2**2)/16 - 1", 4.0, 0.0, 0.0),
        ("(x1**2 + x2**2)/16 - 1", 2.0, 2.0, -0.5),
        ("-x**2", 3.0, 0.0, -9.0),  # ** binds tighter than the minus sign, as in Python
        ("2**-1 + x", 1.0, 0.0, 1.5),
        ("exp(log(2)*x)", 3.0, 0.0, 8.0),
        ("sqrt(abs(x))", -9.0, 0.0, 3.0),
        ("tanh(0) + cos(pi)", 1.0, 1.0, -1.0),
        ("tan(pi/4) * e", 0.0, 0.0, math.e),
        ("1/x", 4.0, 0.0, 0.25),
        ("x1*x2 - 2.5", 2.0, 3.0, 3.5),
        ("  (((x)))  ", 7.0, 0.0, 7.0),
    ],
)
def test_a_formula_gives_the_values_worked_by_hand(text, x1, x2, expected):
    f = datasets.parse_formula(text)
    value = f(np.array([x1, 0.5]), np.array([x2, 0.5]))
    assert value.shape == (2,)
    assert value[0] == pytest.approx(expected, abs=1e-12)
    assert f.surface == ("x2" in text)


def test_a_formula_is_never_run_as_python(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("eval or exec was called")

    monkeypatch.setattr(builtins, "eval", refused)
    monkeypatch.setattr(builtins, "exec", refused)
    f = datasets.parse_formula("3*sin(x) + x2**2")
    assert f(np.array([0.0]), np.array([2.0]))[0] == pytest.approx(4.0)


FUNCTIONS = "sin, cos, tan, exp, log, sqrt, abs, tanh"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("os", "unknown name 'os'; a formula uses x (or x1), x2, pi and e"),
        ("x.__class__", "attribute access (.__class__) is not allowed"),
        ("os.system('ls')", "attribute access (.system) is not allowed"),
        ("().__class__.__bases__[0]", "indexing is not allowed"),
        ("().__class__", "attribute access (.__class__) is not allowed"),
        ("__import__('os')", f"a call '__import__' is not allowed; the functions are {FUNCTIONS}"),
        ("eval('1')", f"a call 'eval' is not allowed; the functions are {FUNCTIONS}"),
        ("open", "unknown name 'open'; a formula uses x (or x1), x2, pi and e"),
        ("(lambda: 1)()", f"a call of an expression is not allowed; the functions are {FUNCTIONS}"),
        ("lambda: x", "lambda is not allowed"),
        ("[x for x in (1, 2)]", "a comprehension is not allowed"),
        ("sum(x for x in (1, 2))", "a call 'sum' is not allowed"),
        ("{x: 1 for x in ()}", "a comprehension is not allowed"),
        ("9**9**9", "an exponent after ** must be a number"),
        ("x**1000", "the exponent 1000 is too big; exponents go up to 10"),
        ("2**-11", "the exponent -11 is too big; exponents go up to 10"),
        ("1e400", "the number inf is too big; numbers up to 1e6 do"),
        ("9" * 30, "is too big; numbers up to 1e6 do"),
        ("x+" * 100 + "x", "201 characters is too long; a formula has at most 200"),
        ("-" * 30 + "x", "nested more than 20 deep; write a simpler formula"),
        ("sin(" * 25 + "x" + ")" * 25, "nested more than 20 deep; write a simpler formula"),
        ("x^2", "write powers with ** (x**2), not ^"),
        ("x // 2", "the operator // is not allowed; use + - * / **"),
        ("x if x else 1", "if/else is not allowed"),
        ("x < 1", "a comparison is not allowed"),
        ("x[0]", "indexing is not allowed"),
        ("(x := 1)", "assignment is not allowed"),
        ("'text'", "'text' is not a number"),
        ("True", "True is not a number"),
        ("sin", "'sin' is a function: write sin(...)"),
        ("sin(x, 2)", "sin() takes one argument: sin(x)"),
        ("sin(x=1)", "sin() takes one argument: sin(x)"),
        ("1 +", "not a formula: invalid syntax"),
        ("   ", "nothing typed; type a formula of x such as 3*sin(x)"),
        ("x\x00", "not a formula"),
    ],
)
def test_a_hostile_or_wrong_formula_is_refused_with_its_reason(text, reason):
    with pytest.raises(ValueError, match=r"^formula: ") as info:
        datasets.parse_formula(text)
    message = str(info.value)
    assert message.startswith("formula: "), message
    assert reason in message, message
    assert "\n" not in message


def test_a_bad_formula_is_a_400_naming_the_setting(client):
    r = client.post("/api/sessions", json={"dataset": "curve", "formula": "os.system('ls')"})
    assert r.status_code == 400
    assert r.json() == {
        "error": "formula: attribute access (.system) is not allowed",
        "setting": "formula",
    }
    r = client.post("/api/sessions", json={"formula": "os"})
    assert r.json()["error"].startswith("formula: unknown name 'os'")
    # undefined on part of the square, or one class only: refused when drawn
    sid = client.post("/api/sessions", json={}).json()["id"]
    r = client.post(f"/api/sessions/{sid}/settings", json={"dataset": "curve", "formula": "log(x)"})
    assert r.status_code == 400
    assert r.json()["setting"] == "formula"
    assert r.json()["error"].startswith("formula: log(x) is not a number at ")
    r = client.post(f"/api/sessions/{sid}/settings", json={"dataset": "curve", "formula": "x + 99"})
    assert r.json()["error"] == (
        "formula: every point of the square [-6, 6]² is below x + 99; choose a curve that "
        "crosses it"
    )
    assert client.get(f"/api/sessions/{sid}").json()["settings"]["dataset"] == "circle"


# ---------------------------------------------------------------------------- the data
@pytest.mark.parametrize(
    ("formula", "boundary"),
    [
        ("3*sin(x)", lambda x, y: y - 3 * np.sin(x)),
        ("x**3/20 - x", lambda x, y: y - (x**3 / 20 - x)),
        ("abs(x) - 3", lambda x, y: y - (np.abs(x) - 3)),
        ("(x1**2 + x2**2)/16 - 1", lambda x, y: np.hypot(x, y) - 4),  # outside radius 4
    ],
)
def test_the_classes_are_the_sides_of_the_curve(formula, boundary):
    s = Session({"dataset": "curve", "formula": formula, "points": 1000, "noise": 0})
    points, target = s.data.points, s.data.target
    assert s.data.kind == "binary"
    expected = (boundary(points[:, 0], points[:, 1]) > 0).astype(int)
    np.testing.assert_array_equal(target, expected)
    assert 100 < target.sum() < 900  # both sides have points
    assert np.abs(points).max() <= 6


def test_the_surface_is_the_target():
    s = Session({"dataset": "surface", "formula": "x1*x2/6 - sin(x2)", "noise": 0})
    p = s.data.points
    assert s.data.kind == "regression"
    assert s.settings["loss"] == "mse"
    np.testing.assert_allclose(s.data.target, p[:, 0] * p[:, 1] / 6 - np.sin(p[:, 1]))
    # a curve's formula on the surface data set: the target is the curve's value
    s.update({"formula": "abs(x) - 3"})
    np.testing.assert_allclose(s.data.target, np.abs(s.data.points[:, 0]) - 3)


def test_the_page_gets_the_curve_to_draw(client):
    r = client.post("/api/sessions", json={"dataset": "curve", "formula": "abs(x) - 3"})
    body = r.json()
    curve = body["curve"]
    assert curve[0] == [-6.0, 3.0]
    assert curve[-1] == [6.0, 3.0]
    x = np.array([p[0] for p in curve])
    np.testing.assert_allclose([p[1] for p in curve], np.abs(x) - 3, atol=1e-4)
    assert body["formula_presets"]["sine"] == "3*sin(x)"
    assert body["settings"]["formula"] == "abs(x) - 3"
    assert body["boundary"] == []
    # a surface's zero level is drawn as segments: here the circle of radius 3
    r = client.post(f"/api/sessions/{body['id']}/settings", json={"formula": "x1**2 + x2**2 - 9"})
    assert r.json()["curve"] == []
    ends = np.array(r.json()["boundary"]).reshape(-1, 2)
    np.testing.assert_allclose(np.hypot(ends[:, 0], ends[:, 1]), 3, atol=0.02)
    octants = np.floor(np.arctan2(ends[:, 1], ends[:, 0]) / (np.pi / 4)) % 8
    assert sorted(set(octants.tolist())) == list(range(8))  # all the way round
    r = client.post(f"/api/sessions/{body['id']}/settings", json={"dataset": "xor"})
    assert r.json()["curve"] == []
    assert r.json()["boundary"] == []


# ---------------------------------------------------------------------------- uploads
# 'a' has empty cells in data rows 2, 5 and 9; 'label' in data row 7
CSV = (
    "a,b,c,label\n"
    "1.0,2.0,0.5,yes\n"
    ",1.5,0.1,no\n"
    "3.0,0.5,0.7,yes\n"
    "4.0,2.5,0.2,no\n"
    ",3.0,0.9,yes\n"
    "6.0,1.0,0.4,no\n"
    "7.0,0.0,0.3,\n"
    "8.0,2.0,0.6,yes\n"
    ",1.0,0.8,no\n"
    "10.0,3.5,0.1,yes\n"
)


def test_an_upload_with_empty_cells_offers_the_column_and_says_what_it_did(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    r = client.post(
        f"/api/sessions/{sid}/upload?name=gaps.csv",
        content=CSV.encode(),
        headers={"content-type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["upload"]["numeric"] == ["a", "b", "c"]  # 'a' is offered, not skipped
    assert body["upload"]["missing"] == {"a": 3, "label": 1}
    assert body["upload"]["rows"] == 10
    s = body["settings"]
    assert (s["x1_column"], s["x2_column"], s["target_column"], s["missing"]) == (
        "a",
        "b",
        "label",
        "drop",
    )
    assert body["missing"] == {
        "policy": "drop",
        "rows": 4,
        "left_out": 4,
        "filled": 0,
        "by_column": {"a": 3, "label": 1},
        "medians": {},
    }
    assert len(body["train"]["points"]) + len(body["test"]["points"]) == 6

    r = client.post(f"/api/sessions/{sid}/settings", json={"missing": "fill"})
    body = r.json()
    median = statistics.median([1.0, 3.0, 4.0, 6.0, 8.0, 10.0])  # 'a' in the rows kept
    assert body["missing"] == {
        "policy": "fill",
        "rows": 4,
        "left_out": 1,  # the row without a label: a class is not made up
        "filled": 3,
        "by_column": {"a": 3, "label": 1},
        "medians": {"a": median},
    }
    assert len(body["train"]["points"]) + len(body["test"]["points"]) == 9

    # the filled cells hold the median, before the plane is standardized
    table = datasets.read_csv(CSV.encode(), "gaps.csv")
    d = datasets.csv_data(table, "a", "b", "label", missing="fill")
    raw = np.array([1, median, 3, 4, median, 6, 8, median, 10])
    np.testing.assert_allclose(d.points[:, 0], (raw - raw.mean()) / raw.std())

    # columns without gaps: nothing left out
    r = client.post(f"/api/sessions/{sid}/settings", json={"x1_column": "c", "missing": "drop"})
    assert r.json()["missing"]["by_column"] == {"label": 1}
    assert r.json()["missing"]["left_out"] == 1


def test_a_numeric_target_with_empty_cells_is_filled_or_left_out():
    text = "p,q,price\n" + "".join(
        f"{i},{(i * 7) % 5},{'' if i % 4 == 0 else i * 1.5 + 0.25}\n" for i in range(1, 21)
    )
    table = datasets.read_csv(text.encode(), "prices.csv")
    dropped = datasets.csv_data(table, "p", "q", "price")
    assert dropped.kind == "regression"
    assert dropped.missing["left_out"] == 5
    assert dropped.n_samples == 15
    filled = datasets.csv_data(table, "p", "q", "price", missing="fill")
    known = [i * 1.5 + 0.25 for i in range(1, 21) if i % 4]
    assert filled.missing["medians"] == {"price": statistics.median(known)}
    assert filled.n_samples == 20


def test_too_few_rows_without_empty_cells_is_refused():
    table = datasets.read_csv(b"a,b,y\n1,,p\n,2,q\n3,4,p\n", "few.csv")
    with pytest.raises(ValueError, match=r"^missing: 1 row of few\.csv is left without"):
        datasets.csv_data(table, "a", "b", "y")
    assert datasets.csv_data(table, "a", "b", "y", missing="fill").n_samples == 3
