"""The ``nnmath`` command, driven the way a new user drives it.

Each subcommand runs as ``python -m nnmath …`` in a subprocess, on CSV and Parquet files
the tests write. Starting Python and importing the library costs seconds, so the
trained model files are shared between tests (module-scoped fixtures) and the long
list of user mistakes runs through :func:`nnmath.cli.main` in-process (the same code
the command runs); a few of them also run as subprocesses, to show that the real
process prints one line and exits with status 2.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import safetensors.numpy
from sklearn import metrics
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

import nnmath
from nnmath.cli import main
from nnmath.cli.messages import in_command_terms
from nnmath.preprocessing import TabularPreprocessor

pytestmark = pytest.mark.slow  # real processes: seconds each (make test runs them)

TIMEOUT = 300  # seconds per command: generous, the test machine may be busy
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SUBCOMMANDS = {
    "train": ["--target", "--task", "--hidden", "--activation", "--solver", "--epochs",
              "--batch-size", "--learning-rate", "--alpha", "--dropout", "--loss", "--patience",
              "--validation-fraction", "--seed", "--out", "--plot", "--dataset", "--drop",
              "--categorical", "--numeric", "--impute", "--sep", "--force", "--stream",
              "--scheduler", "--quiet"],
    "predict": ["MODEL", "DATA", "--out", "--proba", "--id", "--sep", "--quiet"],
    "evaluate": ["MODEL", "DATA", "--target", "--json", "--sep"],
    "cv": ["DATA", "--target", "--folds", "--hidden", "--alpha", "--json"],
    "tune": ["DATA", "--target", "--budget", "--folds", "--out", "--top"],
    "info": ["MODEL"],
    "export-onnx": ["MODEL", "OUT"],
    "explain": ["MODEL", "DATA", "--row", "--target", "--format"],
    "playground": ["--host", "--port", "--no-browser"],
}  # fmt: skip


def nnmath_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m nnmath ARGS`` in ``cwd``, capturing its output."""
    return subprocess.run(
        [sys.executable, "-m", "nnmath", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=TIMEOUT,
    )


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    # the only things a successful run may say on stderr are warnings and notes
    assert all(line.startswith(("warning: ", "note: ")) for line in result.stderr.splitlines()), (
        result.stderr
    )


def assert_one_line_error(result: subprocess.CompletedProcess, pattern: str) -> None:
    """Exit status 2, nothing on stdout, exactly one line on stderr matching pattern."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nnmath: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def _table(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """A float column, an integer column and a text column; a label and a price."""
    x1 = rng.normal(size=n)
    x2 = rng.integers(0, 10, size=n)
    color = rng.choice(["red", "green", "blue"], size=n)
    score = 1.5 * x1 + 0.3 * (x2 - 4.5) + np.select([color == "red", color == "blue"], [1, -1])
    label = np.where(score > 0.8, "high", np.where(score < -0.8, "low", "mid"))
    price = 10 + 3 * score + rng.normal(0, 0.5, size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "color": color, "label": label, "price": price})


# ============================================================================ fixtures
@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """The data files: classification as CSV, regression as Parquet, held-out rows."""
    path = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    train, test = _table(240, rng), _table(60, rng)
    train.drop(columns="price").to_csv(path / "clf.csv", index=False)
    test.drop(columns="price").to_csv(path / "clf_test.csv", index=False)
    train.drop(columns="label").to_parquet(path / "reg.parquet", index=False)
    test.drop(columns="label").to_csv(path / "reg_test.csv", index=False)
    return path


CLF_ARGS = (
    "train", "clf.csv", "--target", "label", "--hidden", "8", "--activation", "tanh",
    "--epochs", "40", "--batch-size", "32", "--learning-rate", "0.01",
    "--validation-fraction", "0.25", "--seed", "3",
)  # fmt: skip


@pytest.fixture(scope="module")
def clf_run(workdir) -> subprocess.CompletedProcess:
    """A classifier trained on the CSV file, the task inferred from its string labels."""
    return nnmath_command(*CLF_ARGS, "--out", "clf.safetensors", "--plot", "loss.png", cwd=workdir)


@pytest.fixture(scope="module")
def clf_model(workdir, clf_run) -> Path:
    assert_ok(clf_run)
    return workdir / "clf.safetensors"


@pytest.fixture(scope="module")
def reg_run(workdir) -> subprocess.CompletedProcess:
    """A regressor trained on the Parquet file, the task given, no validation set."""
    return nnmath_command(
        "train", "reg.parquet", "--target", "price", "--task", "regression",
        "--hidden", "8,4", "--activation", "relu", "--solver", "sgd", "--epochs", "30",
        "--batch-size", "16", "--learning-rate", "0.01", "--validation-fraction", "0",
        "--seed", "1", "--out", "reg.safetensors", cwd=workdir,
    )  # fmt: skip


@pytest.fixture(scope="module")
def reg_model(workdir, reg_run) -> Path:
    assert_ok(reg_run)
    return workdir / "reg.safetensors"


def _encoded(model_path: Path, data: Path) -> tuple[Pipeline, np.ndarray, pd.DataFrame]:
    """The loaded pipeline, the table's encoded features, and the table."""
    pipeline = nnmath.load(model_path)
    table = pd.read_csv(data)
    return pipeline, pipeline.named_steps["preprocess"].transform(table), table


# ============================================================================ train
def test_train_on_csv_prints_the_summary(workdir, clf_run, clf_model):
    out = clf_run.stdout
    assert "Data: clf.csv: 240 rows × 3 feature columns → 5 inputs after encoding" in out
    assert "Task: classification of 'label', 3 classes: high, low, mid" in out
    assert "Network: 5 → 8 → 3 (tanh, softmax), 75 parameters, solver adam" in out
    model = nnmath.load(clf_model).named_steps["model"]
    epochs = re.search(r"^Trained (\d+) epochs in (\d+\.\d\d) s; stopped: (.+)$", out, re.M)
    assert epochs, out
    assert int(epochs[1]) == model.n_iter_ <= 40
    assert epochs[3] == in_command_terms(model.stop_reason_)
    # The scores printed are those of the rows the command held out (seed 3, stratified).
    table = pd.read_csv(workdir / "clf.csv")
    train_idx, val_idx = train_test_split(
        np.arange(240), test_size=0.25, random_state=3, stratify=table["label"]
    )
    pipeline = nnmath.load(clf_model)
    train_score = pipeline.score(table.iloc[train_idx], table["label"].iloc[train_idx])
    val_score = pipeline.score(table.iloc[val_idx], table["label"].iloc[val_idx])
    assert f"Training accuracy: {train_score:.4f}; validation accuracy: {val_score:.4f}" in out
    assert train_score > 0.6  # it learned something
    assert "Wrote clf.safetensors" in out
    assert "Wrote loss.png" in out


def test_train_writes_the_loss_curve_as_a_png(workdir, clf_model):
    data = (workdir / "loss.png").read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1000


def test_the_model_file_loads_as_a_pipeline_with_the_options_given(workdir, clf_model):
    pipeline = nnmath.load(clf_model)
    assert isinstance(pipeline, Pipeline)
    pre, model = pipeline.named_steps["preprocess"], pipeline.named_steps["model"]
    assert isinstance(pre, TabularPreprocessor)
    assert isinstance(model, nnmath.MLPClassifier)
    assert pre.target == "label"
    assert pre.feature_names_in_ == ["x1", "x2", "color"]
    params = model.get_params()
    assert params["hidden_layer_sizes"] == (8,)
    assert params["activation"] == "tanh"
    assert params["solver"] == "adam"
    assert params["max_iter"] == 40
    assert params["batch_size"] == 32
    assert params["learning_rate_init"] == 0.01
    assert params["random_state"] == 3
    assert list(model.classes_) == ["high", "low", "mid"]
    # it predicts on a DataFrame, with or without the target column
    table = pd.read_csv(workdir / "clf_test.csv")
    predictions = pipeline.predict(table)
    np.testing.assert_array_equal(predictions, pipeline.predict(table.drop(columns="label")))
    assert set(predictions) <= {"high", "low", "mid"}


def test_same_seed_gives_an_identical_model_file(workdir, clf_model):
    # the same run with the task given explicitly instead of inferred
    again = nnmath_command(
        *CLF_ARGS, "--task", "classification", "--out", "clf2.safetensors", cwd=workdir
    )
    assert_ok(again)
    assert "Task: classification of 'label'" in again.stdout
    first = safetensors.numpy.load_file(clf_model)
    second = safetensors.numpy.load_file(workdir / "clf2.safetensors")
    assert first.keys() == second.keys()
    assert first
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_train_on_parquet_regression_without_validation(workdir, reg_run, reg_model):
    out = reg_run.stdout
    assert "Data: reg.parquet: 240 rows × 3 feature columns → 5 inputs after encoding" in out
    assert "Task: regression of 'price'" in out
    assert "Network: 5 → 8 → 4 → 1 (relu, relu, identity), 89 parameters, solver sgd" in out
    assert re.search(r"^Trained \d+ epochs in \d+\.\d\d s; stopped: .+$", out, re.M)
    pipeline = nnmath.load(reg_model)
    table = pd.read_parquet(workdir / "reg.parquet")
    r2 = pipeline.score(table, table["price"])  # every row trained: no validation set
    assert re.search(rf"^Training R²: {r2:.4f}$", out, re.M), out
    assert "validation" not in out
    model = pipeline.named_steps["model"]
    assert isinstance(model, nnmath.MLPRegressor)
    assert model.get_params()["hidden_layer_sizes"] == (8, 4)
    assert model.get_params()["batch_size"] == 16
    assert model.best_validation_score_ is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--dataset", "iris", "--hidden", "8", "--epochs", "20"),
            [
                "No DATA given: training on the built-in iris data set.",
                "150 rows × 4 feature columns → 4 inputs",
                "3 classes: setosa, versicolor, virginica",
            ],
        ),
        (
            ("--hidden", "8", "--epochs", "5"),  # the default data set: digits
            [
                "No DATA given: training on the built-in digits data set.",
                "1797 rows × 64 feature columns → 64 inputs",
                "10 classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9",
                "Trained 5 epochs",
            ],
        ),
    ],
    ids=["iris", "digits"],
)
def test_train_without_data_uses_a_built_in_data_set(tmp_path, args, expected):
    result = nnmath_command("train", *args, cwd=tmp_path)
    assert_ok(result)
    for text in expected:
        assert text in result.stdout
    assert (tmp_path / "model.safetensors").exists()  # the default --out


# ============================================================================ predict
def test_predict_to_stdout_matches_the_library(workdir, clf_model):
    result = nnmath_command("predict", "clf.safetensors", "clf_test.csv", cwd=workdir)
    assert_ok(result)
    printed = pd.read_csv(io.StringIO(result.stdout))
    assert list(printed.columns) == ["prediction"]
    table = pd.read_csv(workdir / "clf_test.csv")
    np.testing.assert_array_equal(printed["prediction"], nnmath.load(clf_model).predict(table))


def test_predict_proba_to_a_file(workdir, clf_model):
    result = nnmath_command(
        "predict", "clf.safetensors", "clf_test.csv", "--proba", "--out", "p.csv", cwd=workdir
    )
    assert_ok(result)
    assert result.stdout.strip() == "Wrote 60 predictions to p.csv"
    written = pd.read_csv(workdir / "p.csv")
    assert list(written.columns) == ["prediction", "proba_high", "proba_low", "proba_mid"]
    proba = written[["proba_high", "proba_low", "proba_mid"]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    pipeline = nnmath.load(clf_model)
    table = pd.read_csv(workdir / "clf_test.csv")
    np.testing.assert_allclose(proba, pipeline.predict_proba(table), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(written["prediction"], pipeline.predict(table))
    classes = np.array(["high", "low", "mid"])
    np.testing.assert_array_equal(written["prediction"], classes[proba.argmax(axis=1)])


def test_predict_with_a_regressor(workdir, reg_model):
    result = nnmath_command("predict", "reg.safetensors", "reg_test.csv", cwd=workdir)
    assert_ok(result)
    printed = pd.read_csv(io.StringIO(result.stdout))
    table = pd.read_csv(workdir / "reg_test.csv")
    expected = nnmath.load(reg_model).predict(table)
    np.testing.assert_allclose(printed["prediction"], expected, rtol=1e-12)


# ============================================================================ evaluate
def test_evaluate_a_classifier(workdir, clf_model):
    result = nnmath_command(
        "evaluate", "clf.safetensors", "clf_test.csv", "--target", "label", cwd=workdir
    )
    assert_ok(result)
    table = pd.read_csv(workdir / "clf_test.csv")
    y_true, y_pred = table["label"], nnmath.load(clf_model).predict(table)
    accuracy = metrics.accuracy_score(y_true, y_pred)
    f1 = metrics.f1_score(y_true, y_pred, average="macro")
    cm = metrics.confusion_matrix(y_true, y_pred, labels=["high", "low", "mid"])
    lines = result.stdout.splitlines()
    assert lines[0] == "clf_test.csv: 60 rows"
    assert lines[1] == f"accuracy: {accuracy:.4f}"
    assert lines[2] == f"F1 (macro): {f1:.4f}"
    assert lines[3] == "confusion matrix (rows: true, columns: predicted):"
    assert lines[4].split() == ["high", "low", "mid"]
    for line, label, row in zip(lines[5:8], ["high", "low", "mid"], cm, strict=True):
        assert line.split() == [label, *map(str, row)]
    assert cm.sum() == 60


def test_evaluate_scores_the_rows_of_a_class_never_seen_in_training(bad_files, clf_model):
    # long_label.csv's first row is "highest", a class the model cannot predict (and not
    # "high" cut to the classes' width): it is scored as an error and reported
    table = pd.read_csv(bad_files / "long_label.csv")
    y_true = table["label"].to_numpy()
    y_pred = nnmath.load(clf_model).predict(table)
    labels = ["high", "low", "mid", "highest"]
    argv = ["evaluate", "clf.safetensors", "long_label.csv", "--target", "label"]
    result = nnmath_command(*argv, cwd=bad_files)
    assert_ok(result)
    lines = result.stdout.splitlines()
    assert lines[0] == "long_label.csv: 60 rows"
    assert lines[1] == f"accuracy: {np.mean(y_true == y_pred.astype(str)):.4f}"
    f1 = metrics.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    assert lines[2] == f"F1 (macro): {f1:.4f}"
    assert lines[3] == (
        "classes never seen in training, every row of them an error: highest (1 row) "
        "(the model's classes: high, low, mid)"
    )
    assert lines[5].split() == labels
    assert lines[9].split() == ["highest", *map(str, [int(y_pred[0] == c) for c in labels])]
    as_json = json.loads(nnmath_command(*argv, "--json", cwd=bad_files).stdout)
    assert as_json["unseen_classes"] == {"highest": 1}
    assert as_json["accuracy"] == pytest.approx(np.mean(y_true == y_pred.astype(str)))
    assert as_json["confusion_matrix"]["labels"] == labels
    assert (
        as_json["confusion_matrix"]["counts"]
        == metrics.confusion_matrix(y_true, y_pred, labels=labels).tolist()
    )


def test_evaluate_a_regressor(workdir, reg_model):
    result = nnmath_command(
        "evaluate", "reg.safetensors", "reg_test.csv", "--target", "price", cwd=workdir
    )
    assert_ok(result)
    table = pd.read_csv(workdir / "reg_test.csv")
    y_true, y_pred = table["price"], nnmath.load(reg_model).predict(table)
    assert result.stdout.splitlines() == [
        "reg_test.csv: 60 rows",
        f"R²: {metrics.r2_score(y_true, y_pred):.4f}",
        f"MAE: {metrics.mean_absolute_error(y_true, y_pred):.4f}",
        f"RMSE: {np.sqrt(metrics.mean_squared_error(y_true, y_pred)):.4f}",
    ]


# ============================================================================ info, ONNX
def test_info_describes_the_model(workdir, clf_model):
    result = nnmath_command("info", "clf.safetensors", cwd=workdir)
    assert_ok(result)
    model = nnmath.load(clf_model).named_steps["model"]
    out = result.stdout
    assert out.startswith("clf.safetensors: MLPClassifier\n")
    assert "architecture: 5 → 8 → 3 (tanh, softmax); loss cross_entropy" in out
    assert f"parameters: {model.network_.n_parameters}\n" in out
    assert model.network_.n_parameters == 5 * 8 + 8 + 8 * 3 + 3
    assert "classes: high, low, mid" in out
    assert "input columns: x1, x2, color (target 'label')" in out
    assert (
        f"training: {model.n_iter_} epochs; stopped: {in_command_terms(model.stop_reason_)}" in out
    )
    assert "preprocessing (column, kind, fill value, transformation):" in out
    pre = nnmath.load(clf_model).named_steps["preprocess"]
    center, scale = pre.numeric_["x1"]["center"], pre.numeric_["x1"]["scale"]
    x1 = pd.read_csv(workdir / "clf.csv")["x1"].dropna()
    assert center == pytest.approx(x1.median())  # the robust scaling: median, quartiles
    assert scale == pytest.approx(x1.quantile(0.75) - x1.quantile(0.25))
    assert re.search(
        rf"x1 +number +missing → {pre.fill_['x1']:.6g}; z = \(x − {center:.6g}\) / {scale:.6g}",
        out,
    )
    assert re.search(r"color +category +missing → '\w+'; 3 categories: blue, green, red", out)
    assert f"final training loss: {model.loss_curve_[-1]:.6g}" in out
    assert f"best validation log loss: {-model.best_validation_score_:.6g}" in out


def test_export_onnx_runs_in_onnxruntime_on_the_table_columns(workdir, clf_model):
    ort = pytest.importorskip("onnxruntime")
    result = nnmath_command("export-onnx", "clf.safetensors", "clf.onnx", cwd=workdir)
    assert_ok(result)
    assert "Wrote clf.onnx" in result.stdout
    assert "x1 (double); x2 (double); color (string ('' when missing))" in result.stdout
    pipeline = nnmath.load(clf_model)
    table = pd.read_csv(workdir / "clf_test.csv")
    session = ort.InferenceSession(str(workdir / "clf.onnx"), providers=["CPUExecutionProvider"])
    feeds = {
        "x1": table["x1"].to_numpy(np.float64),
        "x2": table["x2"].to_numpy(np.float64),
        "color": table["color"].to_numpy(object),
    }
    label, proba = session.run(["label", "probabilities"], feeds)
    expected = pipeline.predict_proba(table)
    np.testing.assert_allclose(proba, expected, atol=1e-5)
    top2 = np.sort(expected, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-4  # float32 may break a near tie differently
    np.testing.assert_array_equal(label[clear], pipeline.predict(table)[clear])


# ============================================================================ explain
def test_explain_without_arguments_shows_the_article_perceptron(tmp_path):
    result = nnmath_command("explain", cwd=tmp_path)
    assert_ok(result)
    out = result.stdout
    assert out.startswith("The article's perceptron (sigmoid): one step of gradient descent")
    assert "z = Σᵢ wᵢxᵢ + b" in out
    assert "ŷ = σ(z)" in out
    # w = [0.5, −0.4, 0.2], b = 0.1 on x = [0,0,1], [0,1,1], [1,0,1], [1,1,1]
    assert "→ z = [0.3, -0.1, 0.8, 0.4]ᵀ" in out
    assert "∂C/∂ŷ" in out
    assert "α = 0.5" in out


def _explained_row(model_path: Path, data: Path, row: int, target: str):
    """The trace the library gives for one row, computed in the test's process."""
    pipeline, X, table = _encoded(model_path, data)
    y = table[target].to_numpy()
    inputs = pipeline.named_steps["preprocess"].describe_inputs(table.iloc[[row]])
    model = pipeline.named_steps["model"]
    trace = nnmath.explain(model, X[row], y[row : row + 1], inputs=inputs, sample=(X, y))
    trace.units = f"units judged over all {len(table)} rows of {data.name}"  # every row
    return trace


@pytest.mark.parametrize(
    ("model", "data", "extra", "fmt"),
    [
        ("clf", "clf_test.csv", [], "text"),
        ("clf", "clf_test.csv", ["--target", "label"], "markdown"),
        ("clf", "clf_test.csv", [], "json"),
        ("reg", "reg_test.csv", ["--target", "price"], "json"),
    ],
)
def test_explain_one_row_of_a_data_file(workdir, clf_model, reg_model, model, data, extra, fmt):
    row = 7
    result = nnmath_command(
        "explain", f"{model}.safetensors", data, "--row", str(row), *extra, "--format", fmt,
        cwd=workdir,
    )  # fmt: skip
    assert_ok(result)
    model_path = clf_model if model == "clf" else reg_model
    target = "label" if model == "clf" else "price"
    trace = _explained_row(model_path, workdir / data, row, target)
    out = result.stdout
    if fmt == "json":
        document = json.loads(out)
        assert [s["name"] for s in document["steps"]] == [s.name for s in trace.steps]
        # the gradients of that very row, to the last digit
        assert document["gradients"] == trace.to_dict()["gradients"]
        assert document["cost"] == trace.cost
    elif fmt == "markdown":
        assert out.rstrip("\n") == trace.to_markdown().rstrip("\n")
        assert "$" in out
        assert "#### Backpropagation" in out
    else:
        assert out.rstrip("\n") == str(trace).rstrip("\n")
        assert "Forward propagation" in out
        assert "∂C/∂W" in out


# ============================================================================ help
def test_help_on_the_command_through_the_console_script(tmp_path):
    script = Path(sys.executable).with_name("nnmath")  # the installed `nnmath`
    command = [str(script)] if script.exists() else [sys.executable, "-m", "nnmath"]
    result = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path
    )
    assert_ok(result)
    assert result.stdout.startswith("usage: nnmath")
    for name in SUBCOMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("command", list(SUBCOMMANDS))
def test_help_on_every_subcommand(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nnmath {command}")
    for option in SUBCOMMANDS[command]:
        assert option in out
    # every argument and option has its help text: on its line, or on the next one
    lines = out.split("options:")[0].splitlines() + out.split("options:")[1].splitlines()
    entries = [i for i, line in enumerate(lines) if re.match(r"^  \S", line)]
    for i in entries:
        parts = re.split(r"\s{2,}", lines[i].strip(), maxsplit=1)
        follows = i + 1 < len(lines) and re.match(r"^ {6,}\S", lines[i + 1])
        assert len(parts) == 2 or follows, f"no help for {lines[i].strip()!r} in {command}"


def test_no_subcommand_prints_the_help_and_exits_2(capsys):
    assert main([]) == 2
    assert capsys.readouterr().out.startswith("usage: nnmath")


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"nnmath {nnmath.__version__}"


# ============================================================================ user mistakes
@pytest.fixture(scope="module")
def bad_files(workdir, clf_model) -> Path:
    """One file per kind of bad input, next to the good ones."""
    table = pd.read_csv(workdir / "clf_test.csv")
    (workdir / "empty.csv").write_bytes(b"")
    (workdir / "empty.parquet").write_bytes(b"")
    (workdir / "not_parquet.parquet").write_text("x1,x2\n1,2\n")
    table.head(0).to_csv(workdir / "header_only.csv", index=False)
    table.to_csv(workdir / "data.xlsx", index=False)
    table.rename(columns={"x2": "x2b"}).assign(extra=1).to_csv(
        workdir / "other_columns.csv", index=False
    )
    table.assign(color=table["color"].where(table.index != 4, "purple")).to_csv(
        workdir / "unseen.csv", index=False
    )
    table.assign(x1=table["x1"].where(table.index != 3)).to_csv(
        workdir / "missing_x1.csv", index=False
    )
    table.assign(color=table["color"].where(table.index != 5)).to_csv(
        workdir / "missing_color.csv", index=False
    )
    table.assign(label=table["label"].where(table.index != 6)).to_csv(
        workdir / "missing_label.csv", index=False
    )
    table.assign(x1=table["x1"].astype(str).where(table.index != 2, "two")).to_csv(
        workdir / "text_x1.csv", index=False
    )
    # a label longer than the classes' 4 characters ("highest" must not pass as "high")
    table.assign(label=table["label"].where(table.index != 0, "highest")).to_csv(
        workdir / "long_label.csv", index=False
    )
    (workdir / "text.safetensors").write_text("this is not a model\n")
    data = clf_model.read_bytes()
    (workdir / "truncated.safetensors").write_bytes(data[: len(data) // 2])
    (workdir / "a_folder").mkdir()
    return workdir


USER_MISTAKES = {
    # name: (argv, pattern of the one error line)
    "missing data file": (["train", "nope.csv", "--target", "label"], r"no such file: nope\.csv$"),
    "missing model file": (
        ["predict", "nope.safetensors", "clf_test.csv"],
        r"no such model file: nope\.safetensors$",
    ),
    "data is a folder": (["predict", "clf.safetensors", "a_folder"], r"a_folder is a directory"),
    "model is a folder": (["info", "a_folder"], r"a_folder.*is a directory"),
    "unknown --target at train": (
        ["train", "clf.csv", "--target", "price"],
        r"clf\.csv has no column 'price'; its columns are x1, x2, color, label$",
    ),
    "unknown --target at evaluate": (
        ["evaluate", "clf.safetensors", "clf_test.csv", "--target", "Label"],
        r"clf_test\.csv has no column 'Label'",
    ),
    "no --target": (["train", "clf.csv"], r"--target COLUMN is required"),
    "empty CSV": (["train", "empty.csv", "--target", "label"], r"empty\.csv is empty$"),
    "empty Parquet": (
        ["train", "empty.parquet", "--target", "label"],
        r"empty\.parquet: could not read the data",
    ),
    "text as Parquet": (
        ["predict", "clf.safetensors", "not_parquet.parquet"],
        r"not_parquet\.parquet: could not read the data",
    ),
    "header-only CSV": (
        ["predict", "clf.safetensors", "header_only.csv"],
        r"header_only\.csv has no rows$",
    ),
    "header-only CSV at train": (
        ["train", "header_only.csv", "--target", "label"],
        r"header_only\.csv has no rows$",
    ),
    "text target for regression": (
        ["train", "clf.csv", "--target", "label", "--task", "regression"],
        r"target column 'label' is not numeric; regression needs numbers\. Use --task "
        r"classification",
    ),
    "float target for classification": (
        ["train", "reg.parquet", "--target", "price", "--task", "classification", "--epochs", "1"],
        r"target column 'price' holds numbers that are not whole: classes are labels or whole "
        r"numbers\. Use --task regression",
    ),
    "text model file": (
        ["info", "text.safetensors"],
        r"text\.safetensors: not a safetensors model file.*text file",
    ),
    "truncated model file": (
        ["predict", "truncated.safetensors", "clf_test.csv"],
        r"truncated\.safetensors: not a safetensors model file.*truncated",
    ),
    "data file as model file": (
        ["evaluate", "clf_test.csv", "clf_test.csv", "--target", "label"],
        r"clf_test\.csv: not a safetensors model file",
    ),
    "unsupported extension": (
        ["train", "data.xlsx", "--target", "label"],
        r"data\.xlsx: unsupported file type \.xlsx; use \.csv, \.tsv or \.parquet "
        r"\(compressed: \.csv\.gz, \.csv\.bz2, \.csv\.xz, \.csv\.zst\)$",
    ),
    "--hidden not integers": (
        ["train", "clf.csv", "--target", "label", "--hidden", "8,x"],
        r"--hidden must be comma-separated integers like 64,32; got '8,x'$",
    ),
    "--hidden zero": (
        ["train", "clf.csv", "--target", "label", "--hidden", "8,0"],
        r"--hidden must be comma-separated integers >= 1; got '8,0'$",
    ),
    "--row past the end": (
        ["explain", "clf.safetensors", "clf_test.csv", "--row", "60"],
        r"--row 60 is out of range: clf_test\.csv has rows 0 to 59$",
    ),
    "--row negative": (
        ["explain", "clf.safetensors", "clf_test.csv", "--row", "-1"],
        r"--row -1 is out of range",
    ),
    "explain without DATA": (["explain", "clf.safetensors"], r"DATA is missing"),
    "missing number with --impute none": (
        ["train", "missing_x1.csv", "--target", "label", "--impute", "none"],
        r"missing_x1\.csv: column 'x1' has 1 missing value \(line 5\); --impute none refuses them",
    ),
    "numeric column became text": (
        ["predict", "clf.safetensors", "text_x1.csv"],
        r"text_x1\.csv: column 'x1' holds numbers, but 1 cell is not: line 4 'two'$",
    ),
    "columns differ": (
        ["predict", "clf.safetensors", "other_columns.csv"],
        r"other_columns\.csv: the data lacks the model's input columns x2; did you mean 'x2b'\?$",
    ),
    "--proba with a regressor": (
        ["predict", "reg.safetensors", "reg_test.csv", "--proba"],
        r"--proba needs a classifier",
    ),
    "--out in a missing folder": (
        ["train", "clf.csv", "--target", "label", "--out", "no/such/m.safetensors"],
        r"cannot write the model file no/such/m\.safetensors: directory 'no/such' does not",
    ),
    "--plot of an unknown type": (
        ["train", "clf.csv", "--target", "label", "--plot", "loss.txt"],
        r"--plot loss\.txt: unsupported image type 'txt'",
    ),
    "--target for a built-in set": (
        ["train", "--dataset", "iris", "--target", "species"],
        r"the built-in data sets have their target in column 'target'",
    ),
}


@pytest.mark.parametrize(("argv", "pattern"), USER_MISTAKES.values(), ids=USER_MISTAKES.keys())
def test_user_mistakes_print_one_line_and_exit_2(
    bad_files, reg_model, monkeypatch, capsys, argv, pattern
):
    monkeypatch.chdir(bad_files)
    status = main(argv)
    captured = capsys.readouterr()
    assert_one_line_error(
        subprocess.CompletedProcess(argv, status, captured.out, captured.err), pattern
    )
    assert "Trained" not in captured.out  # every check happens before training


@pytest.mark.parametrize("name", ["missing data file", "text model file", "columns differ"])
def test_user_mistakes_in_a_real_process(bad_files, name):
    argv, pattern = USER_MISTAKES[name]
    result = nnmath_command(*argv, cwd=bad_files)
    assert_one_line_error(result, pattern)
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--epochs", "0"], "argument --epochs: expected an integer >= 1, got '0'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2(tmp_path, argv, message):
    result = nnmath_command(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    # one line naming the option, and where the help is: not argparse's usage block
    prog = " ".join(["nnmath", *argv[:1]]) if argv[0] in SUBCOMMANDS else "nnmath"
    assert result.stderr.splitlines() == [
        result.stderr.splitlines()[0],
        f"try '{prog} --help'",
    ]
    assert result.stderr.startswith(f"{prog}: error: ")
    assert message in result.stderr.splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--validation-fraction", "1"], "expected a number in [0, 1), got '1'"),
        (["train", "--learning-rate", "-0.1"], "expected a number > 0, got '-0.1'"),
        (["train", "--batch-size", "x"], "expected an integer >= 1, got 'x'"),
        (["train", "--activation", "swish"], "invalid choice: 'swish'"),
        (["explain", "--format", "html"], "invalid choice: 'html'"),
        (["cv", "d.csv"], "the following arguments are required: --target"),
        (["cv", "d.csv", "--target", "y", "--folds", "1"], "expected an integer >= 2, got '1'"),
        (["trian"], "invalid choice: 'trian'; did you mean 'train'?"),
        (["train", "--solver", "adm"], "invalid choice: 'adm'; did you mean 'adam'?"),
        (["predict", "m.safetensors"], "the following arguments are required: DATA"),
    ],
)
def test_bad_option_values_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_category_seen_only_in_the_validation_rows_is_known(tmp_path, monkeypatch, capsys):
    table = _table(40, np.random.default_rng(5)).drop(columns="price")
    table.loc[0, "color"] = "violet"  # the only violet row
    table.to_csv(tmp_path / "rare.csv", index=False)
    # a seed whose validation rows (the command's stratified split) hold row 0
    seed = next(
        s
        for s in range(100)
        if 0 in train_test_split(np.arange(40), test_size=0.5, random_state=s,
                                 stratify=table["label"])[1]
    )  # fmt: skip
    monkeypatch.chdir(tmp_path)
    argv = ["train", "rare.csv", "--target", "label", "--validation-fraction", "0.5",
            "--seed", str(seed), "--epochs", "3", "--hidden", "4",
            "--out", "rare.safetensors"]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    pre = nnmath.load(tmp_path / "rare.safetensors").named_steps["preprocess"]
    assert pre.categories_["color"] == ["blue", "green", "red", "violet"]


def test_cells_the_model_can_fill_or_ignore_are_said_not_refused(bad_files, monkeypatch, capsys):
    monkeypatch.chdir(bad_files)
    assert main(["predict", "clf.safetensors", "unseen.csv"]) == 0
    err = capsys.readouterr().err
    assert err == (
        "warning: 1 value never seen in training read as none of the known categories: "
        "color 'purple' (1 row)\n"
    )
    assert main(["predict", "clf.safetensors", "missing_x1.csv", "--out", "p.csv"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "note: 1 missing cell filled with the training median or most frequent value (x1 1)\n"
    )
    assert captured.out == "Wrote 60 predictions to p.csv\n"
    argv = ["train", "missing_label.csv", "--target", "label", "--epochs", "3", "--hidden", "3"]
    assert main([*argv, "--out", "m.safetensors"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert "warning: 1 row without a value of the target 'label' (line 8) left out" in err


@pytest.mark.slow
def test_on_a_terminal_train_draws_a_bar_of_epochs_and_speaks_in_its_own_terms(tmp_path):
    # stdout and stderr a terminal 100 columns wide, as a user's shell gives them
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios
    import time

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    out = tmp_path / "m.safetensors"
    process = subprocess.Popen(
        [sys.executable, "-m", "nnmath", "train", "--dataset", "digits", "--out", str(out)],
        stdout=follower,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    os.close(follower)
    chunks, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        if not select.select([leader], [], [], 1.0)[0]:
            continue
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=10) == 0
    text = b"".join(chunks).decode()
    assert re.search(r"(^|\n)Data: digits", text), text  # the bar starts after the summary
    assert re.search(r"\d+/200 \[", text), text  # the bar: epochs done of --epochs 200
    assert "Trained " in text
    assert "stopped: validation log loss did not improve" in text
    assert "tol=0.000100" not in text  # scikit-learn's verbose line
    assert "Stopping." not in text
    assert out.exists()
    saved = nnmath.io.read_metadata(out)  # the bar is not a part of the model
    assert saved["hyperparameters"]["callbacks"] is None
    assert "hyperparameters_not_saved" not in json.dumps(saved)


def test_every_hidden_activation_of_the_library_is_an_option(workdir):
    # silu is named only by the library (its class and the registry): the command offers it
    result = nnmath_command(
        "train", "clf.csv", "--target", "label", "--hidden", "4", "--activation", "silu",
        "--epochs", "5", "--out", "silu.safetensors", cwd=workdir,
    )  # fmt: skip
    assert_ok(result)
    model = nnmath.load(workdir / "silu.safetensors")
    assert [a.name for a in model[-1].network_.activations][:-1] == ["silu"]
