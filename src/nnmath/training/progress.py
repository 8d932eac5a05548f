"""Progress display: nothing, a progress bar, or one line per epoch."""

from __future__ import annotations

import sys

__all__ = ["Progress"]


class Progress:
    """Reports epochs as they end.

    verbose=0: nothing. verbose=1: a live progress bar (tqdm) on a terminal, and
    scikit-learn's plain lines ("Iteration N, loss = …") when output is not a terminal.
    verbose=2: one line per epoch with every figure.

    Examples
    --------
    >>> Progress(1, total_epochs=10).epoch_end({"epoch": 1, "loss": 0.25})  # not a terminal
    Iteration 1, loss = 0.25000000
    """

    def __init__(self, verbose: int, total_epochs: int, score_name: str = "score"):
        self.verbose = int(verbose)
        self.score_name = score_name
        self._bar = None
        # The bar goes to stderr, the plain lines to stdout: draw it only when both are
        # terminals, so that no carriage return or escape code lands in a file or pipe.
        if self.verbose == 1 and _is_terminal(sys.stdout) and _is_terminal(sys.stderr):
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total_epochs, unit="epoch", file=sys.stderr, leave=True)

    def epoch_end(self, info: dict) -> None:
        """Report one epoch's figures (the dict the callbacks receive)."""
        if self.verbose <= 0:
            return
        if self._bar is not None:
            figures = {"loss": f"{info['loss']:.5g}"}
            if info.get("val_loss") is not None:
                figures["val_loss"] = f"{info['val_loss']:.5g}"
            if info.get("val_score") is not None and self.score_name != "neg_log_loss":
                # (a negated log-loss score would repeat val_loss in a narrow bar)
                figures[f"val_{self.score_name}"] = f"{info['val_score']:.5g}"
            self._bar.set_postfix(figures, refresh=False)
            self._bar.update(1)
            return
        line = "Iteration %d, loss = %.8f" % (info["epoch"], info["loss"])
        if self.verbose >= 2:
            if info.get("val_loss") is not None:
                line += f", val_loss = {info['val_loss']:.8f}"
            if info.get("val_score") is not None:
                line += f", val_{self.score_name} = {info['val_score']:.6f}"
            line += f", learning_rate = {info['learning_rate']:.6g}, {info['seconds']:.3f}s"
            print(line, flush=True)
        else:
            print(line, flush=True)
            if info.get("val_score") is not None:
                print(f"Validation score: {info['val_score']:f}", flush=True)

    def message(self, text: str) -> None:
        """Print a line without breaking the progress bar."""
        if self.verbose <= 0:
            return
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, flush=True)

    def close(self) -> None:
        """Finish the progress bar, if one is drawn."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
