"""``nnmath train`` on a folder or a glob of files, read in batches: the same
preprocessing as the table read whole, errors that name the file and line, progress in
rows per second, peak memory that does not grow with the rows, and a Dask cluster."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nnmath
from nnmath.cli import main

pytest.importorskip("pyarrow")

TIMEOUT = 300


def _part(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    color = rng.choice(["red", "green", "blue"], n)
    score = X[:, 0] - X[:, 1] + (color == "red")
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]).assign(
        color=color, label=np.where(score > 0.5, "yes", "no"), value=2 * score + 10
    )
    frame.loc[rng.choice(n, n // 50, replace=False), "x2"] = np.nan
    frame.loc[rng.choice(n, n // 50, replace=False), "color"] = np.nan
    return frame


def _write_parts(folder: Path, n: int, files: int, kind: str, row_group: int = 2_000) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(files):
        frame = _part(n // files, seed=k)
        if kind == "parquet":
            frame.to_parquet(folder / f"part-{k}.parquet", row_group_size=row_group, index=False)
        else:
            frame.to_csv(folder / f"part-{k}.csv", index=False)


def _run(argv, capsys, cwd, monkeypatch):
    monkeypatch.chdir(cwd)
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_a_folder_has_the_preprocessing_of_the_table_read_whole(
    kind, tmp_path, capsys, monkeypatch
):
    _write_parts(tmp_path / "parts", 8_000, 4, kind)
    whole = pd.concat([_part(2_000, k) for k in range(4)], ignore_index=True)
    whole.to_parquet(tmp_path / "whole.parquet", index=False)
    common = ["--target", "label", "--drop", "value", "--hidden", "8", "--epochs", "30"]
    pattern = "parts" if kind == "parquet" else "parts/*.csv"
    status, out, err = _run(
        ["train", pattern, *common, "--out", "parts.safetensors"], capsys, tmp_path, monkeypatch
    )
    assert status == 0, err
    assert "Data: " in out
    assert "4 files, 8,000 rows × 5 feature columns → 7 inputs" in out
    status, _, err = _run(
        ["train", "whole.parquet", *common, "--out", "whole.safetensors"], capsys, tmp_path,
        monkeypatch,
    )  # fmt: skip
    assert status == 0, err
    streamed = nnmath.load(tmp_path / "parts.safetensors").named_steps["preprocess"]
    in_memory = nnmath.load(tmp_path / "whole.safetensors").named_steps["preprocess"]
    assert streamed.categories_ == in_memory.categories_
    assert streamed.fill_ == pytest.approx(in_memory.fill_)
    for name, stats in in_memory.numeric_.items():
        assert streamed.numeric_[name] == pytest.approx(stats, rel=1e-12)
    pipeline = nnmath.load(tmp_path / "parts.safetensors")
    assert pipeline.score(whole, whole["label"]) > 0.9


def test_progress_shows_rows_seen_and_rows_per_second(tmp_path, capsys, monkeypatch):
    _write_parts(tmp_path / "parts", 6_000, 3, "parquet")
    argv = ["train", "parts", "--target", "value", "--drop", "label", "--epochs", "3"]
    status, out, err = _run([*argv, "--hidden", "8", "--seed", "2"], capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert re.search(r"^Read parts: 6,000 rows \([\d,]+ rows/s\)$", out, re.M), out
    epochs = re.findall(
        r"^epoch (\d): loss [\d.e+-]+, validation R² [\d.e+-]+; ([\d,]+) rows \([\d,]+ rows/s\) "
        r"seen$",
        out,
        re.M,
    )
    assert [int(e) for e, _ in epochs] == [1, 2, 3]
    rows = [int(r.replace(",", "")) for _, r in epochs]
    assert rows[1] == 2 * rows[0]
    assert 5_300 < rows[0] < 5_700  # about 10% held out
    assert "Task: regression of 'value'" in out
    assert "Validation R²: " in out


def test_a_bad_cell_is_named_by_its_file_and_line(tmp_path, capsys, monkeypatch):
    _write_parts(tmp_path / "parts", 3_000, 3, "csv")
    path = tmp_path / "parts" / "part-2.csv"
    lines = path.read_text().splitlines()
    cells = lines[41].split(",")
    cells[0] = "forty"
    lines[41] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    status, out, err = _run(
        ["train", "parts/*.csv", "--target", "label"], capsys, tmp_path, monkeypatch
    )
    assert status == 2
    assert err.splitlines() == [
        "nnmath: error: parts/*.csv: column 'x0' holds numbers, but 1 cell is not: part-2.csv "
        "line 42 'forty'. To go on, fix or empty those cells; --numeric x0 reads them as "
        "missing; --categorical x0 makes the column categories; --drop x0 leaves it out"
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "-", "--target", "label", "--stream"], "a folder, a glob, --stream or"),
        (["train", "nothing/*.parquet", "--target", "label"], "no file matches nothing/"),
        (["train", "parts", "--target", "labl"], "did you mean 'label'"),
    ],
    ids=["stdin", "no-match", "target"],
)
def test_mistakes_with_folders_are_one_line(argv, message, tmp_path, capsys, monkeypatch):
    _write_parts(tmp_path / "parts", 1_000, 2, "parquet")
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 2, err
    assert len(err.splitlines()) == 1, err
    assert message in err, err


def test_one_big_file_streams_with_the_stream_option(tmp_path, capsys, monkeypatch):
    _part(5_000, 0).to_parquet(tmp_path / "big.parquet", row_group_size=1_000)
    argv = ["train", "big.parquet", "--stream", "--target", "label", "--epochs", "2"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 0, err
    assert "Data: big.parquet: 1 file, 5,000 rows" in out


# NOTE: a child's peak memory (ru_maxrss) starts from its parent's at the fork (Linux
# keeps the high-water mark of the memory it had before exec), and pytest's process is
# large: this small process starts the command, so that the figure is the command's own.
MEASURE = (
    "import os, subprocess, sys; child = subprocess.Popen(sys.argv[1:]); "
    "_, status, usage = os.wait4(child.pid, 0); "
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, file=sys.stderr)"
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "wait4"), reason="reads a child's peak memory with wait4")
def test_peak_memory_does_not_grow_with_the_rows(tmp_path):
    # 1x: 65,536 rows, already more than a batch (16,384) and a validation set (20,000);
    # 8x: 524,288 rows. Row groups of 16,384 rows in both.
    peaks = {}
    for scale in (1, 8):
        folder = tmp_path / f"x{scale}"
        _write_parts(folder, 65_536 * scale, 4, "parquet", row_group=16_384)
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, sys.executable, "-m", "nnmath", "train", folder.name,
             "--target", "label", "--drop", "value", "--hidden", "8", "--epochs", "1",
             "--validation-fraction", "0.5", "--batch-size", "256", "--out",
             f"x{scale}.safetensors"],
            cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
        )  # fmt: skip
        status, kilobytes = map(int, result.stderr.splitlines()[-1].split())
        assert status == 0, result.stderr
        assert f"{65_536 * scale:,} rows" in result.stdout
        peaks[scale] = kilobytes / 1024  # kilobytes on Linux
    assert peaks[8] < 1.2 * peaks[1], peaks


@pytest.mark.slow
def test_a_local_dask_cluster_trains_the_model(tmp_path):
    pytest.importorskip("distributed")
    _write_parts(tmp_path / "parts", 4_000, 4, "parquet")
    result = subprocess.run(
        [sys.executable, "-m", "nnmath", "train", "parts", "--target", "label", "--drop", "value",
         "--scheduler", "local", "--hidden", "8", "--epochs", "20", "--learning-rate", "0.01",
         "--out", "dask.safetensors"],
        cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"^Dask: a LocalCluster, \d+ workers?, \d+ threads?", result.stdout, re.M)
    assert re.findall(r"^epoch \d: loss .*rows/s\) seen$", result.stdout, re.M)
    # 4,000 rows fit in memory: one line says that the command alone is faster
    assert re.search(
        r"^note: parts has 4,000 rows, which fit in memory: nnmath train without --scheduler "
        r"is faster for its size \(the cluster took [\d.]+ s to start, and each epoch is a "
        r"round of Dask tasks\)$",
        result.stderr,
        re.M,
    )
    table = pd.concat([_part(1_000, k) for k in range(4)], ignore_index=True)
    assert nnmath.load(tmp_path / "dask.safetensors").score(table, table["label"]) > 0.8


@pytest.mark.slow
def test_without_a_scheduler_nothing_distributed_starts(tmp_path):
    _write_parts(tmp_path / "parts", 2_000, 2, "parquet")
    code = (
        "import sys; from nnmath.cli import main; "
        "status = main(['train', 'parts', '--target', 'label', '--epochs', '2', '--quiet']); "
        "print(status, sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.stdout.split("\n")[-2] == "0 []", result.stderr


def test_a_scheduler_out_of_reach_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    import socket

    from nnmath.cli import stream

    monkeypatch.setattr(stream, "CONNECT_TIMEOUT", "1s")
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    _write_parts(tmp_path / "parts", 1_000, 1, "parquet")
    argv = ["train", "parts", "--target", "label", "--scheduler", f"tcp://127.0.0.1:{port}"]
    status, out, err = _run(argv, capsys, tmp_path, monkeypatch)
    assert status == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(
        f"nnmath: error: --scheduler tcp://127.0.0.1:{port}: could not reach the Dask scheduler"
    )
