"""What a training run of the command says and writes.

The fit's divergence and warnings in the command's terms (:func:`fit_model`), its
summary lines, its failure check, the model file and the loss plot, shared by
``nnmath train`` on a table read whole and on data read in batches.

Example
-------
>>> learning_rate_hint(0.1)
'--learning-rate 0.1 is likely too large for this data; try --learning-rate 0.01'
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
import warnings
from pathlib import Path

from nnmath.cli.learn import loss_rose, training_failure
from nnmath.cli.messages import UsageError, in_command_terms, number, one_line, plural
from nnmath.core import registry
from nnmath.preprocessing import TargetStatistics
from nnmath.startup import EXIT_INTERRUPTED

__all__ = [
    "EpochBar",
    "check_plot_format",
    "describe_loss",
    "describe_task",
    "divergence_message",
    "fit_model",
    "interrupted_path",
    "learning_rate_hint",
    "plot_loss",
    "quiet_arithmetic",
    "report_training",
    "save_model",
    "say_warnings",
    "summary_lines",
]

DEFAULT_LEARNING_RATE = registry.ESTIMATOR_DEFAULTS["learning_rate_init"]


class EpochBar:
    """A progress bar of a fit's epochs on the terminal, as an estimator's callback.

    The command draws its own bar rather than the estimators' ``verbose`` output, whose
    messages are scikit-learn's ("… tol=0.000100 … Stopping."): what the command has to
    say about a run, it says after the fit, in its own terms.

    Parameters
    ----------
    epochs : int
        The bar's length, ``--epochs``.

    Examples
    --------
    >>> bar = EpochBar(3, disable=True)
    >>> bar(None, {"epoch": 1, "loss": 0.5, "val_loss": None})
    False
    >>> bar.close()
    """

    def __init__(self, epochs: int, disable: bool = False):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=epochs, unit="epoch", file=sys.stderr, disable=disable)

    def __call__(self, estimator, info: dict) -> bool:
        """Advance the bar by the epoch that ended; never stops training."""
        figures = {"loss": f"{info['loss']:.5g}"}
        if info.get("val_loss") is not None:
            figures["val_loss"] = f"{info['val_loss']:.5g}"
        self.bar.set_postfix(figures, refresh=False)
        self.bar.update(1)
        return False

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


def describe_task(task: str, target: str, stats: TargetStatistics) -> str:
    """Write the "Task: …" line, ending with the rule that decided the task."""
    rule = f" — {stats.rule}" if stats.rule else ""
    if stats.rule and not stats.rule.startswith("--task") and stats.numeric and stats.whole:
        other = "regression" if task == "classification" else "classification"
        rule += f" (--task {other} to override)"
    if task == "classification" and stats.classes is not None:
        labels = [str(c) for c in stats.classes]
        shown = ", ".join(labels[:12]) + (" …" if len(labels) > 12 else "")
        return f"Task: classification of {target!r}, {len(labels)} classes: {shown}{rule}"
    return (
        f"Task: regression of {target!r} (mean {stats.mean:.4g}, standard deviation "
        f"{stats.scale:.4g}; trained standardized, predicted in its units){rule}"
    )


def learning_rate_hint(rate: float | None, solver: str = "adam") -> str:
    """Say what to try after a failed run, in the command's options."""
    if solver == "lbfgs":
        return "L-BFGS has no learning rate: try --solver adam, or rescale huge values"
    rate = DEFAULT_LEARNING_RATE if rate is None else rate
    return (
        f"--learning-rate {rate:g} is likely too large for this data; "
        f"try --learning-rate {rate / 10:g}"
    )


def divergence_message(exc: Exception, args) -> str:
    """Return a failed fit's one line: a divergence (naming --learning-rate) or another error."""
    history = getattr(exc, "history", None)
    if type(exc).__name__ == "DivergenceError":
        epoch = (history.n_iter + 1) if history is not None else None
        when = f" in epoch {epoch}" if epoch else ""
        return (
            f"training diverged: the loss became infinite or NaN{when}; "
            f"{learning_rate_hint(args.learning_rate, args.solver)}. Nothing was written."
        )
    text = one_line(exc)
    if "validation set is too small" in text:
        return (
            f"--validation-fraction {args.validation_fraction} leaves fewer than 2 rows for "
            "validation; raise it, or 0 for no validation set"
        )
    return in_command_terms(text)


def fit_model(args, console, model, callbacks=(), close=None) -> None:
    """Fit a prepared :class:`~nnmath.cli.learn.TableModel` for the command and say its warnings.

    A failed fit (a divergence) is the command's one-line error; ``close``, when given,
    is called once the fit ends, whichever way (a progress bar's).

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath.cli.learn import TableModel, rows_in_memory
    >>> from nnmath.cli.messages import Console
    >>> from nnmath.cli.parser import build_parser
    >>> from nnmath.preprocessing import TabularPreprocessor
    >>> args = build_parser().parse_args(["train", "d.csv", "--hidden", "4", "--epochs", "500"])
    >>> table = {"x": np.linspace(0, 1, 20)}
    >>> pre = TabularPreprocessor().fit(table)
    >>> rows = rows_in_memory(pre.transform(table), (table["x"] > 0.5).astype(int), np.arange(20))
    >>> model = TableModel.from_args(args, "classification")
    >>> model = model.prepare(pre, rows, classes=np.array([0, 1]))
    >>> fit_model(args, Console(quiet=True), model)
    >>> model.pipeline_.predict({"x": np.array([0.0, 1.0])}).tolist()
    [0, 1]
    """
    try:
        model.fit_prepared(callbacks)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(divergence_message(exc, args)) from None
    finally:
        if close is not None:
            close()
    say_warnings(model.warnings_, console, args.epochs)


def say_warnings(caught, console, epochs: int) -> None:
    """Say the warnings of a fit, in the command's terms."""
    from sklearn.exceptions import ConvergenceWarning

    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            console.warn(
                f"training reached --epochs {epochs} before the loss settled; a larger "
                "--epochs trains longer"
            )
        elif issubclass(w.category, UserWarning):
            console.warn(in_command_terms(one_line(w.message)))


def describe_loss(model, scaling) -> str:
    """Describe the final training loss, saying what it is the loss of."""
    curve = getattr(model, "loss_curve_", None) or []
    if not curve:
        return ""
    loss = model.loss_curve_[-1]
    name = registry.ESTIMATOR_LOSSES[model.loss].description
    if scaling is not None:
        name += " of the standardized target" if scaling["mean"] else " of the target / its scale"
    return f"Final training loss: {loss:.4g} ({name}, with the L2 term)"


def summary_lines(model, seconds: float, solver: str) -> list[str]:
    """Describe the network and how training went."""
    net = model.network_
    sizes = " → ".join(str(s) for s in net.layer_sizes)
    acts = ", ".join(a.name for a in net.activations)
    unit = "iterations" if solver == "lbfgs" else "epochs"
    return [
        f"Network: {sizes} ({acts}), {net.n_parameters:,} parameters, solver {solver}",
        f"Trained {model.n_iter_} {unit} in {seconds:.2f} s; stopped: "
        f"{in_command_terms(model.stop_reason_)}",
    ]


def report_training(args, console, fitted, train, validation) -> int:
    """Report a fit: the summary, the failure check, the model file and the plot.

    ``fitted`` is the :class:`~nnmath.cli.learn.TableModel` that :func:`fit_model`
    fitted; ``train`` and ``validation`` are (X, y) to score, or None. Returns the exit
    status.
    """
    pre, model = fitted.pre_, fitted.estimator_
    for line in summary_lines(model, fitted.seconds_, args.solver):
        console.info(line)
    interrupted = model.stop_reason_.startswith("interrupted")
    unit = "iteration" if args.solver == "lbfgs" else "epoch"
    if model.n_iter_ == 0:  # an untrained model never replaces anything
        what = "interrupted" if interrupted else f"stopped ({model.stop_reason_})"
        message = f"{what} before the first {unit} ended; nothing written to {args.out}"
        if interrupted:
            print(f"nnmath: {message}", file=sys.stderr)
            return EXIT_INTERRUPTED
        raise UsageError(message)
    classification = hasattr(model, "classes_")
    metric = "accuracy" if classification else "R²"
    line = ""
    with quiet_arithmetic():  # overflow of a failed run: the failure check below says it
        if train is not None:
            line = f"Training {metric}: {number(model.score(*train))}"
        if validation is not None:
            score = f"validation {metric}: {number(model.score(*validation))}"
            line = f"{line}; {score}" if line else score[0].upper() + score[1:]
    if line:
        console.info(line)
    loss = describe_loss(model, pre.target_scaling_)
    if loss:
        console.info(loss)
    failure = None
    if not interrupted:
        failure = training_failure(model, *train) if train is not None else loss_rose(model)
    if failure:
        hint = learning_rate_hint(args.learning_rate, args.solver)
        if not args.force:
            raise UsageError(
                f"training failed: {failure}; {hint}. Nothing was written (--force writes the "
                "model anyway)"
            )
        console.warn(f"training failed: {failure}; {hint}. Writing the model (--force)")
    out = args.out
    if interrupted and os.path.lexists(out):  # Ctrl-C never replaces a model
        out = interrupted_path(args.out)
    save_model(pre, model, out)
    console.info(f"Wrote {out}")
    if args.plot:
        plot_loss(model, args.plot)
        console.info(f"Wrote {args.plot}")
    if interrupted:
        done = f"nnmath: interrupted after {plural(model.n_iter_, unit)}; "
        if out == args.out:
            done += f"wrote the best weights it had to {out}"
        else:
            done += (
                f"{args.out} was left as it was and the best weights of this run were written "
                f"beside it, to {out} (mv {shlex.quote(out)} {shlex.quote(args.out)} keeps "
                "them instead)"
            )
        print(done, file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


@contextlib.contextmanager
def quiet_arithmetic():
    """Silence NumPy's overflow and invalid-value warnings for the time of a block.

    For the scores of a run whose weights may be huge: what matters of them is said by
    the failure check in the command's terms, not by NumPy's source lines.
    """
    import numpy as np

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def interrupted_path(path: str) -> str:
    """Return where an interrupted run writes its weights beside an existing model file.

    That is NAME.interrupted.safetensors for NAME.safetensors (NAME.interrupted for a
    name without a suffix).

    Examples
    --------
    >>> interrupted_path("runs/model.safetensors"), interrupted_path("model")
    ('runs/model.interrupted.safetensors', 'model.interrupted')
    """
    folder, name = os.path.split(path)
    stem, dot, suffix = name.rpartition(".")
    new = f"{stem}.interrupted.{suffix}" if dot and stem else f"{name}.interrupted"
    return os.path.join(folder, new)


def save_model(pre, model, path: str) -> None:
    """Write the preprocessing and the network as one model file."""
    from sklearn.pipeline import Pipeline

    import nnmath
    from nnmath.cli.learn import neg_log_loss

    if getattr(model, "scoring", None) is neg_log_loss:  # the same scorer, by its name
        model.set_params(scoring="neg_log_loss")
    try:
        nnmath.save(Pipeline([("preprocess", pre), ("model", model)]), path)
    except OSError as exc:
        raise UsageError(f"could not write the model file {path}: {one_line(exc)}") from None


def check_plot_format(path: str) -> None:
    """Refuse a --plot file type matplotlib cannot write, before training."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError('--plot needs matplotlib: pip install "nnmath[plot]"') from None
    formats = Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in formats:
        raise UsageError(
            f"--plot {path}: unsupported image type {suffix or '(none)'!r}; use .png, .svg or .pdf"
        )


def plot_loss(model, path: str) -> None:
    """Write the loss curve as an image."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from nnmath.plotting import plot_loss_curve
    except ImportError:
        raise UsageError('--plot needs matplotlib: pip install "nnmath[plot]"') from None
    import io

    fig, ax = plt.subplots(figsize=(6, 4))
    plot_loss_curve(model, ax=ax)
    image = io.BytesIO()
    try:
        fig.savefig(image, dpi=120, bbox_inches="tight", format=Path(path).suffix[1:].lower())
    except ValueError as exc:
        raise UsageError(f"could not write the plot {path}: {one_line(exc)}") from None
    finally:
        plt.close(fig)
    from nnmath.io.container import atomic_write

    try:  # whole or not at all: a full disk leaves no empty or cut image
        atomic_write(path, image.getvalue())
    except OSError as exc:
        raise UsageError(
            f"could not write the plot {path}: {exc.strerror or one_line(exc)}"
        ) from None
