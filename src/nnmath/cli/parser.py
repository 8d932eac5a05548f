"""The command's arguments: one subparser per subcommand, every option with its help.

Only the standard library is imported here: ``nnmath --help`` and ``nnmath --version``
answer without loading NumPy or scikit-learn. A mistyped subcommand or choice gets the
nearest valid one suggested.

Example
-------
>>> args = build_parser().parse_args(["train", "data.csv", "--target", "y", "--hidden", "8"])
>>> args.command, args.target, args.hidden
('train', 'y', '8')
"""

from __future__ import annotations

import argparse
import re

from nnmath.cli.messages import one_line, suggestion
from nnmath.core.registry import (
    ESTIMATOR_DEFAULTS,
    ESTIMATOR_LOSSES,
    hidden_activations,
    losses_for,
)

#: The estimators' defaults, as the options give them.
_D = ESTIMATOR_DEFAULTS
_HIDDEN = ",".join(str(n) for n in _D["hidden_layer_sizes"])

__all__ = [
    "DATASETS",
    "MAX_CELLS",
    "MAX_BUDGET_MINUTES",
    "MAX_CELL_BYTES",
    "MAX_CLASSES",
    "MAX_COLUMNS",
    "MAX_MEMORY_GIB",
    "MAX_SEED",
    "Parser",
    "build_parser",
    "version",
]

DATASETS = ("digits", "iris", "wine", "breast-cancer", "diabetes")

#: The most values (rows × columns, and rows × inputs after encoding) a table may have
#: before it is read; ``--max-cells`` sets another limit.
MAX_CELLS = 50_000_000

#: The most columns a data file may have (counted in its header line first).
MAX_COLUMNS = 100_000

#: The longest cell of a CSV file, in bytes between two delimiters or line ends (checked
#: before the file is read: pandas takes some 50 times a cell's size to read it).
MAX_CELL_BYTES = 2**20

#: The most classes ``train`` learns (``--max-classes`` sets another limit): a target with
#: more is an identifier or a number, rarely a label.
MAX_CLASSES = 1_000

#: The most memory, in GiB, that training a network may take by the estimate made before
#: it starts (``--max-memory`` sets another limit).
MAX_MEMORY_GIB = 4.0

#: The largest --seed (NumPy's and scikit-learn's seeds are 32-bit).
MAX_SEED = 2**32 - 1

#: The largest ``tune --budget``, in minutes (a week).
MAX_BUDGET_MINUTES = 10_080

_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


def version() -> str:
    """Return the installed nnmath's version ("0.0.0" in a source tree without installation)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("nnmath")
    except PackageNotFoundError:
        return "0.0.0"


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose errors are one line and a pointer to ``--help``.

    A bad option is ``nnmath train: error: argument --epochs: …`` and the line
    ``try 'nnmath train --help'`` (not argparse's usage block, which buried the line
    that matters); a mistyped choice gets the nearest one suggested.
    """

    def error(self, message: str):
        """Exit with status 2: one line, a mistyped choice's nearest one suggested."""
        match = _INVALID_CHOICE.search(message)
        if match:
            choices = re.findall(r"'([^']*)'", match[2])
            hint = suggestion(match[1], choices)
            message = message.replace(f"'{match[1]}' (", f"'{match[1]}'{hint} (")
        self.exit(2, f"{self.prog}: error: {one_line(message)}\ntry '{self.prog} --help'\n")


def build_parser() -> Parser:
    """Build the command's argument parser, with one subparser per subcommand."""
    parser = Parser(
        prog="nnmath",
        description="Train, use and explain neural networks from the command line.",
        epilog="Run 'nnmath COMMAND --help' for a command's options.",
    )
    parser.add_argument(
        "--version", action="version", version=f"nnmath {version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    for add in (
        _train_command,
        _predict_command,
        _evaluate_command,
        _cv_command,
        _tune_command,
        _info_command,
        _export_onnx_command,
        _explain_command,
        _playground_command,
    ):
        add(sub)
    return parser


# ---------------------------------------------------------------------- subcommands
def _train_command(sub) -> None:
    """``nnmath train``'s options."""
    p = sub.add_parser(
        "train",
        help="train a network on a CSV/Parquet file, a folder of them, or a built-in data set",
        description="Train an MLP on DATA and save it with its preprocessing. Numbers are "
        "scaled robustly (long-tailed ones ≥ 0 on ln(1 + x)) and smoothly clipped, "
        "categories one-hot encoded, dates read as numbers and cycles; missing "
        "cells are filled; identifiers and free text are dropped, with a warning. A folder "
        "or a glob of Parquet or CSV files is read in batches, never whole. Without DATA, "
        "trains on a built-in data set.",
    )
    p.add_argument(
        "data",
        nargs="?",
        metavar="DATA",
        help="a CSV, TSV or Parquet file (a CSV may be compressed: .csv.gz, .bz2, .xz, .zst); "
        "'-' for standard input; a folder or a glob of files (read in batches)",
    )
    _add_table_options(p, target_required=False)
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="digits",
        help="the built-in data set to train on without DATA (default digits)",
    )
    _add_training_options(p)
    p.add_argument(
        "--out",
        default="model.safetensors",
        metavar="FILE",
        help="the model file to write (default model.safetensors). A run interrupted by "
        "Ctrl-C never replaces an existing FILE: it writes its best weights beside it, to "
        "NAME.interrupted.safetensors",
    )
    p.add_argument("--plot", metavar="FILE.png", help="also write the loss curve as an image")
    p.add_argument(
        "--force",
        action="store_true",
        help="write the model even when training failed (a loss that ended far above where "
        "it started, or worse than a constant prediction)",
    )
    p.add_argument(
        "--stream",
        action="store_true",
        help="read DATA in batches, never whole (automatic for a folder or a glob)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="train on a Dask cluster: a scheduler's address (tcp://host:8786), or 'local' for "
        "a LocalCluster sized to this machine (needs nnmath[dask])",
    )
    _add_quiet(p)
    p.set_defaults(func="nnmath.cli.train:cmd_train")


def _predict_command(sub) -> None:
    """``nnmath predict``'s options."""
    p = sub.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predict the rows of DATA with MODEL, as CSV: to standard output, or to "
        "--out FILE.",
    )
    _add_model(p)
    _add_data(p)
    p.add_argument(
        "--out",
        metavar="FILE.csv",
        help="write the predictions to this file instead of standard output ('-': standard output)",
    )
    p.add_argument("--proba", action="store_true", help="add each class's probability")
    p.add_argument(
        "--id",
        metavar="COLUMN",
        action="append",
        help="copy this column of DATA into the predictions (repeat for several)",
    )
    _add_sep(p)
    _add_max_cells(p)
    _add_quiet(p)
    p.set_defaults(func="nnmath.cli.use:cmd_predict")


def _evaluate_command(sub) -> None:
    """``nnmath evaluate``'s options."""
    p = sub.add_parser(
        "evaluate",
        help="score a saved model on labelled data",
        description="Accuracy, F1 and a confusion matrix (classifiers), or R², MAE and RMSE "
        "(regressors), of MODEL on DATA.",
    )
    _add_model(p)
    _add_data(p)
    p.add_argument(
        "--target",
        metavar="COLUMN",
        help="the column with the true values (default: the target the model was trained on)",
    )
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    _add_sep(p)
    _add_max_cells(p)
    _add_quiet(p)
    p.set_defaults(func="nnmath.cli.use:cmd_evaluate")


def _cv_command(sub) -> None:
    """``nnmath cv``'s options."""
    p = sub.add_parser(
        "cv",
        help="cross-validate the training options on a table",
        description="Train on all folds but one and score on that one, for each of --folds "
        "folds (stratified for classes); print each metric's mean ± standard deviation.",
    )
    _add_data(p)
    _add_table_options(p, target_required=True)
    _add_training_options(p)
    p.add_argument(
        "--folds", type=_at_least(2), default=5, metavar="K", help="number of folds (default 5)"
    )
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    _add_quiet(p)
    p.set_defaults(func="nnmath.cli.search:cmd_cv")


def _tune_command(sub) -> None:
    """``nnmath tune``'s options."""
    p = sub.add_parser(
        "tune",
        help="search hidden sizes, alpha, learning rate and batch size; save the best",
        description="Successive halving (scikit-learn's HalvingRandomSearchCV) over hidden "
        "layer sizes, alpha, learning rate and batch size: many candidates on few rows, the "
        "best ones on more. Prints the leaderboard and writes the best model, trained on "
        "every row.",
    )
    _add_data(p)
    _add_table_options(p, target_required=True)
    _add_training_options(p, tuned=True)
    p.add_argument(
        "--budget",
        type=_budget,
        default=5.0,
        metavar="MINUTES",
        help="the time to aim for, in minutes (default 5; at most "
        f"{MAX_BUDGET_MINUTES:,}): it sets the number of candidates",
    )
    p.add_argument(
        "--folds", type=_at_least(2), default=3, metavar="K", help="folds per candidate (default 3)"
    )
    p.add_argument(
        "--out",
        default="model.safetensors",
        metavar="FILE",
        help="the model file to write (default model.safetensors)",
    )
    p.add_argument(
        "--top", type=_positive_int, default=10, metavar="N", help="leaderboard rows (default 10)"
    )
    _add_quiet(p)
    p.set_defaults(func="nnmath.cli.search:cmd_tune")


def _info_command(sub) -> None:
    """``nnmath info``'s options."""
    p = sub.add_parser(
        "info",
        help="describe a saved model",
        description="Architecture, preprocessing (columns, kinds, fill values, means and "
        "scales, categories) and training summary of MODEL.",
    )
    _add_model(p)
    p.set_defaults(func="nnmath.cli.use:cmd_info")


def _export_onnx_command(sub) -> None:
    """``nnmath export-onnx``'s options."""
    p = sub.add_parser(
        "export-onnx",
        help="convert a saved model to ONNX",
        description="Write MODEL as an ONNX file (needs nnmath[onnx]). A model trained by "
        "this command takes the table's columns, one named input each, and does its own "
        "preprocessing.",
    )
    _add_model(p)
    p.add_argument("out", metavar="OUT", help="the ONNX file to write")
    p.set_defaults(func="nnmath.cli.use:cmd_export_onnx")


def _explain_command(sub) -> None:
    """``nnmath explain``'s options."""
    p = sub.add_parser(
        "explain",
        help="show every equation of one training step with its numbers",
        description="Without arguments: one gradient-descent step of the article's perceptron. "
        "With MODEL DATA --row N: the step for one row of a data file.",
    )
    p.add_argument("model", nargs="?", metavar="MODEL", help="a model file (default: none)")
    p.add_argument("data", nargs="?", metavar="DATA", help="the data file with the row")
    p.add_argument("--row", type=int, default=0, metavar="N", help="row number, from 0 (default 0)")
    p.add_argument(
        "--target", metavar="COLUMN", help="the true value's column (default: the model's target)"
    )
    p.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="text (default), markdown with LaTeX, or json",
    )
    _add_sep(p)
    _add_max_cells(p)
    p.set_defaults(func="nnmath.cli.use:cmd_explain")


def _playground_command(sub) -> None:
    """``nnmath playground``'s options."""
    p = sub.add_parser(
        "playground",
        help="watch a network learn in the browser, and see the math of each step",
        description="Start the playground's local web server and open it in the browser "
        "(needs nnmath[playground]). Ctrl-C stops it.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=_port,
        default=8000,
        help="port to listen on; 0 picks a free one (default 8000)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.set_defaults(func="nnmath.cli.serve:cmd_playground")


# ---------------------------------------------------------------------- option groups
def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="MODEL", help="a model file written by nnmath train")


def _add_data(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data", metavar="DATA", help="a CSV, TSV or Parquet file; '-' for standard input"
    )


def _add_sep(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sep",
        type=_sep,
        metavar="CHAR",
        help="the CSV file's delimiter (default: detected from its first lines; '\\t' for a tab)",
    )


def _add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quiet", "-q", action="store_true", help="print only warnings and errors (no progress)"
    )


def _add_max_cells(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-cells",
        type=_count,
        default=MAX_CELLS,
        metavar="N",
        help=f"refuse a table of more values, rows × columns (default {MAX_CELLS:,}; 0: no limit)",
    )


def _add_table_options(p: argparse.ArgumentParser, target_required: bool) -> None:
    p.add_argument(
        "--target", metavar="COLUMN", required=target_required, help="the column to predict"
    )
    p.add_argument(
        "--task",
        choices=("classification", "regression"),
        help="default: inferred from the target (text, or whole numbers with at most 20 "
        "values: classes)",
    )
    p.add_argument(
        "--drop",
        action="append",
        default=[],
        metavar="COLUMN",
        help="leave this column out (repeat, or separate names with commas)",
    )
    p.add_argument(
        "--categorical",
        action="append",
        default=[],
        metavar="COLUMN",
        help="one-hot encode this column whatever it holds (numbers, or many distinct values)",
    )
    p.add_argument(
        "--numeric",
        action="append",
        default=[],
        metavar="COLUMN",
        help="read this column as numbers; a cell that is not one counts as missing",
    )
    p.add_argument(
        "--impute",
        choices=("median", "none"),
        default="median",
        help="median: fill a missing number or date with the median and a missing category "
        "with the most frequent one (default); none: refuse missing cells",
    )
    _add_sep(p)
    p.add_argument(
        "--max-classes",
        type=_count,
        default=MAX_CLASSES,
        metavar="N",
        help=f"refuse a classification target with more classes (default {MAX_CLASSES:,}; "
        "0: no limit)",
    )
    _add_max_cells(p)


def _add_training_options(p: argparse.ArgumentParser, tuned: bool = False) -> None:
    if not tuned:
        p.add_argument(
            "--hidden",
            default=_HIDDEN,
            metavar="SIZES",
            help=f"hidden layer sizes, e.g. 64,32 (default {_HIDDEN})",
        )
    p.add_argument(
        "--activation",
        default=_D["activation"],
        choices=hidden_activations(),
        help=f"the hidden layers' activation (default {_D['activation']})",
    )
    p.add_argument(
        "--solver",
        default=_D["solver"],
        choices=("adam", "sgd", "lbfgs", "gd"),
        help=f"adam, sgd (with momentum), lbfgs, or gd (full-batch gradient descent); "
        f"default {_D['solver']}",
    )
    p.add_argument(
        "--epochs",
        type=_positive_int,
        default=_D["max_iter"],
        metavar="N",
        help=f"the most epochs (L-BFGS: iterations) to train (default {_D['max_iter']})",
    )
    if not tuned:
        p.add_argument(
            "--batch-size",
            type=_positive_int,
            metavar="B",
            help="rows per gradient step (default min(200, rows))",
        )
        p.add_argument(
            "--learning-rate",
            type=_positive_float,
            metavar="R",
            help=f"the step size α (default {_D['learning_rate_init']:g})",
        )
        p.add_argument(
            "--alpha",
            type=_nonnegative_float,
            default=_D["alpha"],
            metavar="A",
            help=f"L2 penalty (default {_D['alpha']:g})",
        )
    p.add_argument(
        "--l1",
        type=_nonnegative_float,
        metavar="L",
        help="L1 penalty λ₁, adding (λ₁/n)·Σ|W| to the cost: it pushes weights to exactly "
        "0 (default: the estimators' l1, no L1 term)",
    )
    p.add_argument(
        "--dropout",
        default="0",
        metavar="RATE",
        help="dropout rate after each hidden layer, or one per layer: 0.2,0.1 (default 0)",
    )
    p.add_argument(
        "--loss",
        choices=tuple(ESTIMATOR_LOSSES),
        help="classes: "
        + ", ".join(losses_for("classification"))
        + "; numbers: "
        + ", ".join(losses_for("regression"))
        + " (the first of each by default)",
    )
    p.add_argument(
        "--patience",
        type=_positive_int,
        default=_D["n_iter_no_change"],
        metavar="N",
        help=f"stop after N epochs without improvement (default {_D['n_iter_no_change']})",
    )
    p.add_argument(
        "--class-weight",
        type=_class_weight,
        metavar="W",
        help="classes: weigh each class's rows in the loss: 'balanced' (rows × n_classes / "
        "the class's rows, a rare class weighs more) or CLASS=WEIGHT pairs like yes=3,no=1 "
        "(unnamed classes weigh 1); default: every row weighs 1",
    )
    p.add_argument(
        "--max-memory",
        type=_nonnegative_float,
        default=MAX_MEMORY_GIB,
        metavar="GIB",
        help=f"refuse, before training, a network whose training is estimated to take more "
        f"memory, in GiB (default {MAX_MEMORY_GIB:g}; 0: no limit)",
    )
    p.add_argument(
        "--validation-fraction",
        type=_fraction,
        default=_D["validation_fraction"],
        metavar="F",
        help="rows held out for the validation score and early stopping (default "
        f"{_D['validation_fraction']:g}; 0: none)",
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="S",
        help=f"random seed, 0 to {MAX_SEED:,} (default 0)",
    )


# ---------------------------------------------------------------------- value types
def _class_weight(text: str) -> str | dict[str, float]:
    """--class-weight: 'balanced', or CLASS=WEIGHT pairs separated by commas."""
    if text.strip() == "balanced":
        return "balanced"
    expected = f"expected 'balanced' or CLASS=WEIGHT pairs like yes=3,no=1, got {text!r}"
    weights: dict[str, float] = {}
    for pair in text.split(","):
        label, sep, number = pair.rpartition("=")
        label = label.strip()
        if not sep or not label:
            raise argparse.ArgumentTypeError(expected)
        try:
            weight = float(number)
        except ValueError:
            raise argparse.ArgumentTypeError(expected) from None
        if not 0 <= weight < float("inf"):
            raise argparse.ArgumentTypeError(
                f"a class's weight must be a number >= 0; got {number.strip()!r} for {label!r}"
            )
        if label in weights:
            raise argparse.ArgumentTypeError(f"class {label!r} is given twice in {text!r}")
        weights[label] = weight
    return weights


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    return _at_least(1)(text)


def _at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {low}, got {text!r}"
            ) from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _nonnegative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to {MAX_SEED}, got {text!r}"
        ) from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an integer from 0 to {MAX_SEED}, got {text!r}")
    return value


def _budget(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= MAX_BUDGET_MINUTES:
        raise argparse.ArgumentTypeError(
            f"expected minutes > 0 and at most {MAX_BUDGET_MINUTES:,} (a week), got {text!r}"
        )
    return value


def _sep(text: str) -> str:
    r"""Read a --sep value as one delimiter: a printable ASCII character, or "\t" (also "tab")."""
    sep = {"\\t": "\t", "tab": "\t", "TAB": "\t"}.get(text, text)
    if (
        len(sep) != 1
        or not sep.isascii()
        or sep in '\r\n"'
        or not (sep.isprintable() or sep == "\t")
    ):
        raise argparse.ArgumentTypeError(
            "expected one printable ASCII character such as ',', ';' or '|', or '\\t' for a "
            f"tab, got {text!r}"
        )
    return sep
