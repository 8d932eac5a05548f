"""The ``nnmath`` command under failure: Ctrl-C in every phase, outputs that
cannot be written, divergence and memory errors, tables too large, formula injection.

Ctrl-C is sent to real processes (``python -m nnmath`` and the console script); the rest
runs through :func:`nnmath.cli.main` in-process, the code the command runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nnmath
from conftest import unwritable_directory
from nnmath.cli import main
from nnmath.cli import train as train_command

TIMEOUT = 300


def _one_error_line(capsys, status: int, pattern: str) -> str:
    """The status is 2 and stderr one 'nnmath: error:' line matching pattern; returns it."""
    import re

    captured = capsys.readouterr()
    assert status == 2, captured
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("nnmath: error: "), captured.err
    assert re.search(pattern, lines[0]), lines[0]
    assert "Trained" not in captured.out  # found before training
    return lines[0]


@pytest.fixture
def table(tmp_path, monkeypatch) -> Path:
    """A small classification table in the working directory."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": np.where(x[:, 0] > 0, "yes", "no")}).to_csv(
        tmp_path / "data.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data.csv"


QUICK = ["--target", "label", "--hidden", "3", "--epochs", "3", "--validation-fraction", "0"]


# ============================================================================ Ctrl-C
def _command(kind: str) -> list[str]:
    if kind == "console script":
        script = Path(sys.executable).with_name("nnmath")
        if not script.exists():
            pytest.skip("the console script is not installed")
        return [str(script)]
    return [sys.executable, "-m", "nnmath"]


def _start(command, cwd) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _good_model(path: Path) -> bytes:
    """A trained model at path, as a user's earlier run left it; its bytes."""
    nnmath.save(nnmath.Network([2, 1], random_state=0), path)
    return path.read_bytes()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
@pytest.mark.parametrize("kind", ["python -m nnmath", "console script"])
def test_ctrl_c_while_the_command_starts_exits_130_in_one_line(tmp_path, kind):
    # Ctrl-C while the libraries load: one line and status 130, not a traceback and a
    # death by signal (−2)
    good = _good_model(tmp_path / "model.safetensors")
    child = _start([*_command(kind), "train", "--out", "model.safetensors"], tmp_path)
    maps = Path(f"/proc/{child.pid}/maps")
    deadline = time.monotonic() + TIMEOUT
    while "_multiarray_umath" not in maps.read_text():  # numpy is loading: start-up
        assert child.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.002)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 130
    assert err == "nnmath: interrupted\n"
    assert out == ""
    assert (tmp_path / "model.safetensors").read_bytes() == good


def _wait_for(child: subprocess.Popen, prefix: str) -> list[str]:
    lines = []
    while not (lines and lines[-1].startswith(prefix)):
        line = child.stdout.readline()
        assert line, (lines, child.stderr.read())
        lines.append(line)
    return lines


@pytest.mark.slow
def test_ctrl_c_after_some_epochs_writes_the_best_weights_says_so_and_exits_130(tmp_path):
    # labels that are noise: the training loss falls for hundreds of epochs (seconds)
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(3000, 20)), columns=[f"x{i}" for i in range(20)])
    table = table.assign(label=rng.integers(0, 10, 3000).astype(str))
    table.to_csv(tmp_path / "noise.csv", index=False)
    argv = ["train", "noise.csv", "--target", "label", "--epochs", "100000", "--hidden", "256"]
    argv += ["--batch-size", "16", "--validation-fraction", "0"]
    child = _start([*_command("python -m nnmath"), *argv], tmp_path)
    _wait_for(child, "Task:")  # training starts now
    time.sleep(1.5)  # epochs of a few tens of milliseconds
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 130, err
    assert "stopped: interrupted (KeyboardInterrupt)" in out
    assert "Wrote model.safetensors" in out
    (line,) = err.splitlines()
    assert line.startswith("nnmath: interrupted after ")
    assert line.endswith("epochs; wrote the best weights it had to model.safetensors")
    model = nnmath.load(tmp_path / "model.safetensors").named_steps["model"]
    assert model.n_iter_ >= 1
    assert model.stop_reason_.startswith("interrupted")


@pytest.mark.slow
def test_ctrl_c_in_the_first_epoch_writes_nothing_and_exits_130(tmp_path):
    # A run interrupted before its first epoch ends writes no model: an untrained one
    # ("Trained 0 epochs") must not replace the good model already at the path
    good = _good_model(tmp_path / "model.safetensors")
    argv = ["train", "--hidden", "2500,2500", "--epochs", "5"]
    child = _start([*_command("python -m nnmath"), *argv], tmp_path)
    _wait_for(child, "Task:")
    time.sleep(0.8)  # the set-up is done in a tenth of that; the first epoch takes seconds
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 130, err
    assert err == (
        "nnmath: interrupted before the first epoch ended; nothing written to model.safetensors\n"
    )
    assert "Wrote" not in out
    assert (tmp_path / "model.safetensors").read_bytes() == good


def test_ctrl_c_before_training_is_status_130_in_process(table, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "builtin_table", interrupted)
    assert main(["train"]) == 130
    assert capsys.readouterr().err == "nnmath: interrupted\n"


def test_main_restores_the_callers_sigint_handler(table):
    def mine(signum, frame):
        pass

    previous = signal.signal(signal.SIGINT, mine)
    try:
        main(["train", "data.csv", *QUICK])
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, previous)


# ============================================================================ outputs checked first
def test_a_read_only_output_directory_is_found_before_training(table, capsys):
    # The output directory is checked before training starts, not after it finished
    out = os.path.join(unwritable_directory(table.parent), "m.safetensors")
    status = main(["train", "data.csv", *QUICK, "--out", out])
    _one_error_line(capsys, status, r"cannot write the model file .*m\.safetensors: cannot create")


def test_a_special_file_as_the_output_is_refused_before_training(table, capsys):
    os.mkfifo(table.parent / "fifo")
    status = main(["train", "data.csv", *QUICK, "--out", "fifo"])
    _one_error_line(capsys, status, r"cannot write the model file fifo: it is a FIFO")
    status = main(["train", "data.csv", *QUICK, "--out", "m.safetensors", "--plot", "fifo.png"])
    assert status == 0  # a new plot file next to the FIFO is fine
    capsys.readouterr()
    os.mkfifo(table.parent / "plot.png")
    status = main(["train", "data.csv", *QUICK, "--plot", "plot.png"])
    _one_error_line(capsys, status, r"cannot write the plot plot\.png: it is a FIFO")


def test_a_file_name_too_long_is_refused_before_training(table, capsys):
    name = "m" * 300 + ".safetensors"
    status = main(["train", "data.csv", *QUICK, "--out", name])
    _one_error_line(
        capsys, status, r"cannot write the model file m+\.safetensors: file name too long"
    )


def test_an_info_on_a_fifo_is_one_line_and_does_not_block(table, capsys):
    os.mkfifo(table.parent / "model.safetensors")
    status = main(["info", "model.safetensors"])
    captured = capsys.readouterr()
    assert status == 2
    assert "it is a FIFO (named pipe), not a model file" in captured.err


def test_info_notes_a_file_without_checksums(table, capsys):
    import json
    import struct

    assert main(["train", "data.csv", *QUICK, "--out", "m.safetensors"]) == 0
    assert main(["info", "m.safetensors"]) == 0
    assert "checksums: matched (SHA-256 of the weights and of the description)" in (
        capsys.readouterr().out
    )
    data = (table.parent / "m.safetensors").read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    header["__metadata__"] = {"nnmath": header["__metadata__"]["nnmath"]}
    raw = json.dumps(header).encode()
    (table.parent / "old.safetensors").write_bytes(
        struct.pack("<Q", len(raw)) + raw + data[8 + n :]
    )
    assert main(["info", "old.safetensors"]) == 0
    captured = capsys.readouterr()
    assert "checksums: none: a file from before nnmath stored checksums" in captured.out
    assert captured.err.startswith("warning: ")
    assert "has no checksums" in captured.err
    assert main(["predict", "old.safetensors", "data.csv"]) == 0  # warned, and it predicts
    captured = capsys.readouterr()
    assert captured.err.count("has no checksums") == 1
    assert "NoChecksumWarning" not in captured.err  # the command's line, not Python's


# ======================================================================== every failure one line
def test_divergence_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    # A diverging fit: one error line and status 2, not a DivergenceError traceback
    import warnings

    x = np.random.default_rng(0).normal(size=(100, 2))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": x @ [1e6, 2e6]}).to_csv(
        tmp_path / "big.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    argv = ["train", "big.csv", "--target", "y", "--task", "regression", "--solver", "sgd"]
    argv += ["--learning-rate", "1e6", "--validation-fraction", "0", "--hidden", "4"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        status = main(argv)
    line = _one_error_line(
        capsys,
        status,
        r"^nnmath: error: training diverged: the loss became infinite or NaN in epoch \d+; "
        r"--learning-rate 1e\+06 is likely too large for this data; try --learning-rate 100000\.",
    )
    assert line.endswith("Nothing was written.")
    assert not (tmp_path / "model.safetensors").exists()


def test_memory_error_is_one_line(table, capsys, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError

    from nnmath import preprocessing

    monkeypatch.setattr(preprocessing.TabularPreprocessor, "transform", no_memory)
    status = main(["train", "data.csv", *QUICK])
    _one_error_line(capsys, status, "out of memory; try a smaller data set")


def test_an_unforeseen_failure_is_still_one_line(table, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("something nobody foresaw")

    from nnmath import preprocessing

    monkeypatch.setattr(preprocessing.TableStatistics, "update", broken)
    status = main(["train", "data.csv", *QUICK])
    _one_error_line(capsys, status, "^nnmath: error: TypeError: something nobody foresaw$")


# ======================================================================= resources refused early
def test_a_header_only_csv_of_a_million_columns_is_refused_at_once(tmp_path, capsys, monkeypatch):
    # Refused at once, from its header and line count, before pandas builds a table of a
    # million columns
    header = ",".join(f"c{i}" for i in range(1_000_000))
    (tmp_path / "wide.csv").write_text(header + "\n")
    (tmp_path / "wide_row.csv").write_text(header + "\n" + ",".join(["1"] * 1_000_000) + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pd, "read_csv", None)  # never reached
    _one_error_line(
        capsys, main(["train", "wide.csv", "--target", "c0"]), r"wide\.csv has no rows$"
    )
    _one_error_line(
        capsys,
        main(["train", "wide_row.csv", "--target", "c0"]),
        r"wide_row\.csv has 1,000,000 columns; nnmath reads at most 100,000$",
    )


def test_a_parquet_file_of_30_million_rows_is_refused_from_its_metadata(
    tmp_path, capsys, monkeypatch
):
    # A small Parquet file that expands to a huge table is refused from its metadata,
    # before it is read
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 30_000_000
    pq.write_table(
        pa.table({"x": pa.array(np.zeros(n, np.int8)), "y": pa.array(np.zeros(n, np.int8))}),
        tmp_path / "tall.parquet",
    )
    assert (tmp_path / "tall.parquet").stat().st_size < 2**20
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(pd, "read_parquet", None)  # never reached
    _one_error_line(
        capsys,
        main(["train", "tall.parquet", "--target", "y"]),
        r"tall\.parquet has 30,000,000 rows × 2 columns = 60,000,000 values, more than the "
        r"limit of 50,000,000 \(--max-cells N sets another; 0: none; a folder or a glob of "
        r"files, or --stream, is read in batches instead\)$",
    )


def test_max_cells_sets_the_limit(table, capsys):
    _one_error_line(
        capsys,
        main(["train", "data.csv", *QUICK, "--max-cells", "100"]),
        r"data\.csv has 60 rows × 3 columns = 180 values, more than the limit of 100",
    )
    assert main(["train", "data.csv", *QUICK, "--max-cells", "0"]) == 0


def test_an_identifier_as_the_target_is_refused_with_the_way_out(tmp_path, capsys, monkeypatch):
    # 15,000 rows and as many classes: refused before training, with the way out
    n = 15_000
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=n), "id": [f"row-{i}" for i in range(n)]}).to_csv(
        tmp_path / "ids.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    _one_error_line(
        capsys,
        main(["train", "ids.csv", "--target", "id"]),
        r"target column 'id' has more than 1,000 distinct values in 15,000 rows, too many "
        r"classes to learn; an identifier\? For a number to predict use --task regression; "
        r"--max-classes N sets another limit$",
    )


def test_an_identifier_as_a_feature_is_dropped_or_refused_before_encoding(
    tmp_path, capsys, monkeypatch
):
    n = 15_000
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {"id": [f"row-{i}" for i in range(n)], "x": rng.normal(size=n), "y": rng.normal(size=n)}
    ).to_csv(tmp_path / "ids.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["train", "ids.csv", "--target", "y", *QUICK[2:]]) == 0
    assert (
        "warning: column 'id': more than 10,000 distinct values: free text or an identifier; "
        "dropped" in capsys.readouterr().err
    )
    _one_error_line(
        capsys,
        main(["train", "ids.csv", "--target", "y", "--categorical", "id"]),
        r"ids\.csv: encoding gives 15,000 rows × 15,001 inputs = 225,015,000 values, more "
        r"than the limit of 50,000,000 .*column 'id' alone has 15,000 categories \(--drop id",
    )


# ============================================================================ formula injection
def test_predicted_labels_never_become_spreadsheet_formulas(tmp_path, monkeypatch, capsys):
    # Labels starting with = + - @ (or a tab) are written so that a spreadsheet shows text
    labels = ["=1+2", "+cmd", "-x", "@SUM(A1)", "\tTab", "ok"]
    x = np.arange(60.0) / 2
    pd.DataFrame({"x": x, "label": [labels[i % 6] for i in range(60)]}).to_csv(
        tmp_path / "data.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    assert main(["train", "data.csv", *QUICK]) == 0
    model = nnmath.load(tmp_path / "model.safetensors")
    expected = model.predict(pd.read_csv(tmp_path / "data.csv"))
    assert main(["predict", "model.safetensors", "data.csv", "--out", "p.csv", "--proba"]) == 0
    written = pd.read_csv(tmp_path / "p.csv", keep_default_na=False)["prediction"].tolist()
    assert written == [
        "'" + v if v[0] in "=+-@\t" else v for v in expected
    ]  # a leading ' keeps each a text
    assert not any(v.startswith(("=", "+", "-", "@", "\t")) for v in written)
