"""The ``nnmath`` command against a hostile or careless user: real processes, real pipes.

Outputs that go away (a closed standard output, ``| head``, a full device, a full disk
through ``RLIMIT_FSIZE``), Ctrl-C beside an existing model, bad option values, closed
standard input, numbers that overflow: each run as a real process, its exit status and
every line of its stderr checked.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nnmath
from nnmath.cli import main

TIMEOUT = 300
QUICK = ["--target", "label", "--hidden", "3", "--epochs", "3", "--validation-fraction", "0"]
COMMAND = [sys.executable, "-m", "nnmath"]


def _env() -> dict:
    src = str(Path(nnmath.__file__).parents[1])
    return {**os.environ, "PYTHONPATH": src, "PYTHONUNBUFFERED": "1"}


def _run(argv, cwd, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        [*COMMAND, *argv], cwd=cwd, env=_env(), timeout=TIMEOUT, text=True, **kwargs
    )


def _close(*fds):
    def preexec():
        for fd in fds:
            os.close(fd)

    return preexec


def _file_size_limit(limit: int):
    """A preexec_fn: files this process writes are cut at ``limit`` bytes (EFBIG), as on a
    full disk; SIGXFSZ ignored so that the write fails instead of killing the process."""

    def preexec():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """A folder with data.csv (600 rows) and model.safetensors trained on it."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 2))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": np.where(x[:, 0] > 0, "yes", "no")}).to_csv(
        tmp_path / "data.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    assert main(["train", "data.csv", *QUICK, "--quiet"]) == 0
    return tmp_path


# ================================================================== standard output goes away
def test_train_piped_to_head_keeps_the_model_and_exits_141(folder):
    # `nnmath train … | head -1`: head leaves after the first line; the model is written
    # all the same, and the status is the shell's quiet 141 for a pipe closed by its reader
    train = subprocess.Popen(
        [*COMMAND, "train", "data.csv", *QUICK, "--out", "piped.safetensors"],
        cwd=folder,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    head = subprocess.Popen(["head", "-1"], stdin=train.stdout, stdout=subprocess.PIPE)
    train.stdout.close()
    first, _ = head.communicate(timeout=TIMEOUT)
    with train.stderr:
        err = train.stderr.read().decode()
    assert train.wait(timeout=TIMEOUT) == 141, err
    assert first.decode().startswith("Data: data.csv")
    assert "error" not in err
    assert "Traceback" not in err
    model = nnmath.load(folder / "piped.safetensors")
    assert model.named_steps["model"].n_iter_ == 3


def test_predict_whose_reader_leaves_exits_141_quietly(folder):
    # the reader takes the first line and closes the pipe while predict writes 2 MB
    pd.concat([pd.read_csv(folder / "data.csv")] * 600).to_csv(folder / "big.csv", index=False)
    predict = subprocess.Popen(
        [*COMMAND, "predict", "model.safetensors", "big.csv", "--proba", "--quiet"],
        cwd=folder,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert predict.stdout.readline().startswith(b"prediction,proba_no,proba_yes")
    predict.stdout.close()
    assert predict.wait(timeout=TIMEOUT) == 141
    with predict.stderr:
        assert predict.stderr.read() == b""


def test_predict_to_a_closed_standard_output_is_an_error(folder):
    # `nnmath predict m d.csv >&-` exited 0 having written nothing
    result = _run(["predict", "model.safetensors", "data.csv"], folder, stdout=None,
                  preexec_fn=_close(1))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "nnmath: error: standard output is closed: nowhere to write the predictions; "
        "--out FILE.csv writes a file"
    ]


def test_predict_to_a_full_device_is_an_error(folder):
    with open("/dev/full", "w") as full:
        result = _run(["predict", "model.safetensors", "data.csv"], folder, stdout=full)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "nnmath: error: could not write to standard output: No space left on device"
    ]


def test_train_with_a_closed_standard_output_writes_the_model_then_fails(folder):
    result = _run(["train", "data.csv", *QUICK, "--out", "closed.safetensors"], folder,
                  stdout=None, preexec_fn=_close(1))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "nnmath: error: could not write to standard output: it is closed"
    )
    assert nnmath.load(folder / "closed.safetensors").named_steps["model"].n_iter_ == 3


def test_help_to_a_closed_standard_output_is_an_error(tmp_path):
    result = _run(["train", "--help"], tmp_path, stdout=None, preexec_fn=_close(1))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "nnmath: error: could not write to standard output: it is closed"
    ]


# ======================================================================= files on a full disk
def test_predict_out_on_a_full_disk_leaves_the_earlier_file_whole(folder):
    pd.concat([pd.read_csv(folder / "data.csv")] * 20).to_csv(folder / "big.csv", index=False)
    earlier = b"prediction\nyes\nno\n"
    (folder / "p.csv").write_bytes(earlier)
    result = _run(["predict", "model.safetensors", "big.csv", "--out", "p.csv"], folder,
                  preexec_fn=_file_size_limit(16_384))  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == "nnmath: error: could not write p.csv: File too large"
    assert (folder / "p.csv").read_bytes() == earlier  # not cut at 16,384 bytes
    assert sorted(p.name for p in folder.iterdir()) == [
        "big.csv", "data.csv", "model.safetensors", "p.csv"
    ]  # fmt: skip


def test_plot_on_a_full_disk_leaves_no_empty_image(folder):
    # the model file (2.5 kB) fits under the limit, the PNG (30 kB) does not
    result = _run(["train", "data.csv", *QUICK, "--out", "m.safetensors", "--plot", "loss.png"],
                  folder, preexec_fn=_file_size_limit(8192))  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "nnmath: error: could not write the plot loss.png: File too large"
    )
    assert not (folder / "loss.png").exists()  # no 0-byte image
    nnmath.load(folder / "m.safetensors")


# ======================================================================= Ctrl-C beside a model
def _wait_for(child: subprocess.Popen, prefix: str) -> None:
    while True:
        line = child.stdout.readline()
        assert line, child.stderr.read()
        if line.startswith(prefix):
            return


@pytest.mark.slow
def test_ctrl_c_writes_beside_an_existing_model_and_says_how_to_keep_either(tmp_path):
    # interrupted after some epochs, train wrote its best weights over the model at --out
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(3000, 20)), columns=[f"x{i}" for i in range(20)])
    table.assign(label=rng.integers(0, 10, 3000).astype(str)).to_csv(
        tmp_path / "noise.csv", index=False
    )
    nnmath.save(nnmath.Network([2, 1], random_state=0), tmp_path / "model.safetensors")
    good = (tmp_path / "model.safetensors").read_bytes()
    argv = ["train", "noise.csv", "--target", "label", "--epochs", "100000", "--hidden", "256",
            "--batch-size", "16", "--validation-fraction", "0"]  # fmt: skip
    child = subprocess.Popen([*COMMAND, *argv], cwd=tmp_path, env=_env(), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    _wait_for(child, "Task:")
    time.sleep(1.5)  # epochs of a few tens of milliseconds
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=TIMEOUT)
    assert child.returncode == 130, err
    assert (tmp_path / "model.safetensors").read_bytes() == good
    (line,) = err.splitlines()
    assert line.startswith("nnmath: interrupted after ")
    assert line.endswith(
        "epochs; model.safetensors was left as it was and the best weights of this run were "
        "written beside it, to model.interrupted.safetensors (mv model.interrupted.safetensors "
        "model.safetensors keeps them instead)"
    )
    assert "Wrote model.interrupted.safetensors" in out
    model = nnmath.load(tmp_path / "model.interrupted.safetensors").named_steps["model"]
    assert model.n_iter_ >= 1
    assert model.stop_reason_.startswith("interrupted")


# ========================================================================== messages
@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["train", "--seed", "-1"],
         "nnmath train: error: argument --seed: expected an integer from 0 to 4294967295, "
         "got '-1'"),
        (["train", "--seed", "4294967296"],
         "nnmath train: error: argument --seed: expected an integer from 0 to 4294967295, "
         "got '4294967296'"),
        (["tune", "d.csv", "--target", "y", "--budget", "1e308"],
         "nnmath tune: error: argument --budget: expected minutes > 0 and at most 10,080 "
         "(a week), got '1e308'"),
        (["tune", "d.csv", "--target", "y", "--budget", "nan"],
         "nnmath tune: error: argument --budget: expected minutes > 0 and at most 10,080 "
         "(a week), got 'nan'"),
        (["train", "--sep", "é"],
         "nnmath train: error: argument --sep: expected one printable ASCII character such "
         "as ',', ';' or '|', or '\\t' for a tab, got 'é'"),
        (["train", "--epochs", "x"],
         "nnmath train: error: argument --epochs: expected an integer >= 1, got 'x'"),
    ],
)  # fmt: skip
def test_a_bad_option_value_is_one_line_and_the_way_to_the_help(capsys, argv, line):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    prog = f"nnmath {argv[0]}"
    assert capsys.readouterr().err.splitlines() == [line, f"try '{prog} --help'"]


def test_closed_standard_input_is_one_line(folder):
    result = _run(["predict", "model.safetensors", "-"], folder, preexec_fn=_close(0))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "nnmath: error: standard input is closed: give DATA as a file instead of '-'"
    ]


def test_numpy_overflow_warnings_are_not_shown_raw(tmp_path):
    # --learning-rate 1e308 let NumPy's "RuntimeWarning: overflow encountered in matmul"
    # through with its source line
    x = np.random.default_rng(0).normal(size=(200, 2))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "label": np.where(x[:, 0] > 0, "yes", "no")}).to_csv(
        tmp_path / "d.csv", index=False
    )
    argv = ["train", "d.csv", "--target", "label", "--hidden", "3", "--epochs", "3"]
    result = _run([*argv, "--learning-rate", "1e308", "--quiet"], tmp_path)
    assert result.returncode == 2
    assert "Warning" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("nnmath: error: training failed: ")
    assert "--learning-rate 1e+308 is likely too large" in line


def test_a_library_warning_is_one_line_of_the_command(folder, capsys):
    # whatever warns inside a subcommand is said as one "warning:" line, never with its
    # file, line number and source line
    import warnings

    from nnmath.cli import use

    def warns(args):
        warnings.warn("something odd\n  in two lines", RuntimeWarning, stacklevel=1)
        return 0

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        use.cmd_info, original = warns, use.cmd_info
        try:
            assert main(["info", "model.safetensors"]) == 0
        finally:
            use.cmd_info = original
    assert capsys.readouterr().err == "warning: something odd in two lines\n"


# ============================================================ bounded before the work starts
def _one_error_line(capsys, status: int) -> str:
    captured = capsys.readouterr()
    assert status == 2, captured
    (line,) = captured.err.splitlines()
    assert line.startswith("nnmath: error: ")
    assert "Trained" not in captured.out
    return line


def test_stream_counts_the_columns_before_reading(folder, capsys, monkeypatch):
    # `train --stream` skipped the column refusal and grew to gigabytes
    from nnmath.cli import tables

    monkeypatch.setattr(tables, "MAX_COLUMNS", 3)
    pd.read_csv(folder / "data.csv").assign(c=1.0).to_csv(folder / "wide.csv", index=False)
    (folder / "parts").mkdir()
    pd.read_csv(folder / "wide.csv").to_parquet(folder / "parts" / "p.parquet")

    def never(self):
        raise AssertionError("the files were opened")

    monkeypatch.setattr(tables.Dataset, "_open", never)
    for data, name in [("wide.csv", "wide.csv"), ("parts", "parts/p.parquet")]:
        argv = ["train", data, "--target", "label"] + ["--stream"] * (data == "wide.csv")
        line = _one_error_line(capsys, main(argv))
        assert line == f"nnmath: error: {name} has 4 columns; nnmath reads at most 3"


def test_standard_input_counts_the_columns_of_parquet(folder, capsys, monkeypatch):
    import io

    from nnmath.cli import tables

    monkeypatch.setattr(tables, "MAX_COLUMNS", 3)
    data = io.BytesIO()
    pd.read_csv(folder / "data.csv").assign(c=1.0).to_parquet(data)

    class Stdin:
        buffer = io.BytesIO(data.getvalue())

    monkeypatch.setattr(sys, "stdin", Stdin)
    monkeypatch.setattr(pd, "read_parquet", None)  # never reached
    line = _one_error_line(capsys, main(["train", "-", "--target", "label"]))
    assert line == "nnmath: error: standard input has 4 columns; nnmath reads at most 3"


def test_a_cell_over_1_mib_is_refused_with_its_line_before_reading(folder, capsys, monkeypatch):
    # a 100 MB cell peaked at 5.2 GB; refused now from a scan of the bytes
    text = "a,label\n1,x\n\n2," + "y" * (2**20 + 1) + "\n3,z\n"  # the cell is on line 4
    (folder / "long.csv").write_text(text)
    (folder / "ok.csv").write_text("a,label\n1," + "y" * 2**20 + "\n2,z\n")
    monkeypatch.setattr(pd, "read_csv", None)  # never reached
    line = _one_error_line(capsys, main(["train", "long.csv", "--target", "label"]))
    assert line == (
        "nnmath: error: long.csv: line 4 has a cell longer than 1 MiB; nnmath reads cells of "
        "at most that (numbers, categories, dates, short texts)"
    )
    # a cell of exactly 1 MiB passes the check, on to pandas (here None: not callable)
    line = _one_error_line(capsys, main(["train", "ok.csv", "--target", "label"]))
    assert line == "nnmath: error: TypeError: 'NoneType' object is not callable"


def test_a_network_too_big_for_memory_is_refused_before_the_data_is_read(folder, capsys):
    # --hidden 20000,20000 ran 28 s to 6.3 GB before "out of memory". With at least one
    # input and one output it has (1+1)·20000 + (20000+1)·20000 + (20000+1)·1
    # = 40,000 + 400,020,000 + 20,001 = 400,080,001 parameters
    line = _one_error_line(capsys, main(["train", "missing.csv", "--target", "label",
                                         "--hidden", "20000,20000"]))  # fmt: skip
    assert line.startswith(
        "nnmath: error: --hidden 20000,20000 alone is a network of more than 400,080,001 "
        "parameters: training it takes more than "
    )
    assert line.endswith("more than the limit of 4 GiB (--max-memory GIB sets another; 0: none)")


def test_the_memory_estimate_counts_the_inputs_and_max_memory_lifts_it(folder, capsys):
    # 2 inputs, --hidden 100, 1 output: 3·100 + 101·1 = 401 parameters, 80 bytes each,
    # and batches of 200 rows (of 600) × (2 + 100 + 1) values × 32 bytes:
    # 32,080 + 659,200 = 691,280 bytes = 0.00064 GiB, above 0.0006
    argv = ["train", "data.csv", *QUICK[:2], "--hidden", "100", "--epochs", "2", "-q"]
    line = _one_error_line(capsys, main([*argv, "--max-memory", "0.0006"]))
    assert line == (
        "nnmath: error: --hidden 100 with 2 inputs and 1 output is a network of 401 "
        "parameters: training it takes about 0.000644 GiB (batches of 200 rows), more than the "
        "limit of 0.0006 GiB (--max-memory GIB sets another; 0: none)"
    )
    assert main([*argv, "--max-memory", "0.00065"]) == 0
    assert main([*argv, "--max-memory", "0", "--out", "lifted.safetensors"]) == 0


def test_the_tensor_limit_of_model_files_is_checked_before_training(folder, capsys):
    # 2,001 hidden layers trained fully, then failed at save ("4004 tensors; at most 2048")
    from nnmath.io import ModelFileError

    many = ",".join(["2"] * 2001)
    line = _one_error_line(capsys, main(["train", "data.csv", *QUICK[:2], "--hidden", many]))
    assert line == (
        "nnmath: error: --hidden has 2,001 layers: a model file holds at most 2,048 tensors, "
        "two per layer, so at most 1,023 hidden layers"
    )
    # the bound is the model file's own: 1,023 hidden layers save, 1,024 do not
    nnmath.save(nnmath.Network([1] * 1025, random_state=0), folder / "deep.safetensors")
    with pytest.raises((ModelFileError, ValueError), match="2048"):
        nnmath.save(nnmath.Network([1] * 1026, random_state=0), folder / "deeper.safetensors")
    line = _one_error_line(capsys, main(["train", "data.csv", *QUICK[:2], "--hidden",
                                         ",".join(["2"] * 1024)]))  # fmt: skip
    assert "--hidden has 1,024 layers" in line


# ================================================================ what a file is, named
@pytest.mark.parametrize(
    ("name", "pack"),
    [
        ("data.csv.gz", "gzip"),
        ("data.csv.bz2", "bz2"),
        ("data.csv.xz", "lzma"),
        ("misnamed.csv", "gzip"),  # gzip bytes under a plain .csv name
    ],
)
def test_a_compressed_csv_trains_as_the_plain_one(folder, capsys, name, pack):
    # a gzip file given as CSV said "new-line character seen in unquoted field"
    import importlib

    plain = (folder / "data.csv").read_bytes()
    (folder / name).write_bytes(importlib.import_module(pack).compress(plain))
    assert main(["train", name, *QUICK, "--out", "packed.safetensors", "-q"]) == 0
    assert main(["train", "data.csv", *QUICK, "--out", "plain.safetensors", "-q"]) == 0
    packed = nnmath.load(folder / "packed.safetensors").named_steps["model"]
    plain_model = nnmath.load(folder / "plain.safetensors").named_steps["model"]
    for a, b in zip(packed.coefs_, plain_model.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_bad_cell_in_a_compressed_csv_is_named_by_its_line(folder, capsys):
    import gzip

    text = (folder / "data.csv").read_text().splitlines()
    text[5] = "forty," + text[5].split(",", 1)[1]
    (folder / "bad.csv.gz").write_bytes(gzip.compress("\n".join(text).encode() + b"\n"))
    line = _one_error_line(capsys, main(["train", "bad.csv.gz", *QUICK]))
    assert "column 'a' holds numbers, but 1 cell is not: line 6 'forty'" in line


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"PK\x03\x04" + bytes(60),
         "nnmath: error: t.csv is a ZIP archive, not a CSV or Parquet file: extract the "
         "table first"),
        (b"a,b\n\x00\x01\x02\x03\n",
         "nnmath: error: t.csv is a binary file, not CSV text (a NUL byte in its first bytes)"),
        ("a,label\n1,x\n".encode("utf-16"),
         "nnmath: error: t.csv is UTF-16 text; nnmath reads UTF-8: save it as UTF-8 CSV"),
        (b"\x1f\x8bnot really gzip",
         "nnmath: error: t.csv is not a valid gzip file: "),
    ],
)  # fmt: skip
def test_archives_and_binary_files_are_named_as_such(folder, capsys, content, line):
    (folder / "t.csv").write_bytes(content)
    assert _one_error_line(capsys, main(["train", "t.csv", *QUICK])).startswith(line)


def test_compressed_standard_input_is_named_as_such(folder):
    import gzip

    packed = gzip.compress((folder / "data.csv").read_bytes())
    result = subprocess.run([*COMMAND, "train", "-", *QUICK], cwd=folder, env=_env(),
                            input=packed, capture_output=True, timeout=TIMEOUT)  # fmt: skip
    result.stderr = result.stderr.decode()
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "nnmath: error: standard input is gzip-compressed: decompress it in the pipe "
        "(gunzip -c FILE | nnmath …), or give the file itself"
    ]


# ====================================================================== columns written as CSV
def test_duplicate_column_names_are_an_error_naming_them(folder, capsys):
    # `a,b,label,label`: the second label became an input called label.1
    (folder / "twice.csv").write_text("a,b,label,label\n1,2,x,y\n3,4,y,x\n")
    line = _one_error_line(capsys, main(["train", "twice.csv", *QUICK]))
    assert line == (
        "nnmath: error: twice.csv: the column name 'label' is given twice (columns 3 and 4); "
        "each column needs a name of its own"
    )
    (folder / "parts").mkdir()
    (folder / "parts" / "p.csv").write_text("a,a,label\n1,2,x\n")
    line = _one_error_line(capsys, main(["train", "parts", *QUICK]))
    assert "the column name 'a' is given twice (columns 1 and 2)" in line


def test_id_column_names_never_become_spreadsheet_formulas(folder, capsys):
    # a column named =HYPERLINK(...) copied by --id reached the header bare
    import csv

    name = '=HYPERLINK("http://evil.example","x")'
    table = pd.read_csv(folder / "data.csv").assign(**{name: ["@SUM(1)", "ok"] * 300})
    table.to_csv(folder / "new.csv", index=False)
    assert main(["predict", "model.safetensors", "new.csv", "--id", name, "--out", "p.csv"]) == 0
    with open(folder / "p.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["'" + name, "prediction"]
    assert [r[0] for r in rows[1:3]] == ["'@SUM(1)", "ok"]


def test_a_cell_over_1_mib_in_a_folder_is_refused_with_its_row(folder, capsys):
    (folder / "parts").mkdir()
    (folder / "parts" / "p.csv").write_text("a,label\n1,x\n2," + "y" * (2**20 + 1) + "\n3,z\n")
    line = _one_error_line(capsys, main(["train", "parts", *QUICK[:2], "--epochs", "1"]))
    assert line.startswith("nnmath: error: parts: column 'label' has a cell longer than 1 MiB (")
    assert "p.csv row 2" in line
