"""``nnmath cv`` and ``nnmath tune``: how well the options generalize, and better ones.

Both read one table whole and decide its columns' kinds once, on all of it (each fold
and candidate then fits its own statistics on its own rows, with those kinds).

* ``cv`` trains on all folds but one and scores on that one (stratified folds for
  classes), and prints each metric's mean ± standard deviation over the folds.
* ``tune`` runs scikit-learn's successive halving (``HalvingRandomSearchCV``) over the
  hidden layer sizes, alpha, the learning rate and the batch size: many candidates on
  few rows, the best third on three times as many, and so on until the last round on
  every row. ``--budget`` sets the number of candidates from timed fits of the
  costliest candidates (the widest layer and the most weights at batch 16), so that
  the plan is an upper bound: each round costs about three fits on all rows per fold,
  so the B seconds left once the final fit's share is set aside afford about
  B / (3 · folds · fit) rounds, 3^rounds candidates. A fit still running when the
  search's share is spent stops at the end of its epoch, and the final fit at the
  budget's end. It prints the leaderboard (ranked by rows, then score), what the search
  and the final fit each took, and writes the best candidate, trained on every row.

Example
-------
>>> rounds_for(budget=60.0, pilot=1.0, folds=3, n=10_000, min_rows=100)  # 6 affordable
5
"""

from __future__ import annotations

import json
import math
import time
import warnings

import numpy as np

from nnmath.cli.learn import ESTIMATOR_OPTIONS, TableModel, hidden_sizes
from nnmath.cli.messages import Console, UsageError, one_line, plural
from nnmath.cli.prepare import (
    check_output,
    check_training_options,
    prepare_table,
    row_subset,
    say_decisions,
)
from nnmath.cli.tables import is_dataset, parse_sep, read_table

__all__ = ["SEARCH_SPACE", "RareInTraining", "cmd_cv", "cmd_tune", "rounds_for"]

#: What ``tune`` searches (continuous values drawn log-uniformly).
SEARCH_SPACE = {
    "hidden": [(16,), (32,), (64,), (128,), (256,), (32, 16), (64, 32), (128, 64)],
    "alpha": (1e-6, 1e-1),
    "learning_rate": (1e-4, 3e-2),
    "batch_size": [16, 32, 64, 128, 256],
}

_METRICS = {
    "classification": {
        "accuracy": "accuracy",
        "F1 (macro)": "f1_macro",
        "log loss": "neg_log_loss",
    },
    "regression": {
        "R²": "r2",
        "MAE": "neg_mean_absolute_error",
        "RMSE": "neg_root_mean_squared_error",
    },
}


def _table_for_search(args, console: Console):
    """Return (table, y, task, model options, source) for cv and tune.

    The table is read whole, its rows without a target left out, its columns' kinds
    decided once (:func:`~nnmath.cli.prepare.prepare_table`, as ``train`` does).
    """
    check_training_options(args)
    if args.data != "-" and is_dataset(args.data):
        raise UsageError(
            f"nnmath {args.command} reads one file whole; a folder or a glob trains with "
            "nnmath train"
        )
    table, source = read_table(args.data, args.max_cells, parse_sep(args.sep))
    ready = prepare_table(args, console, table, args.target, source)
    say_decisions(ready.stats, console)
    kinds: dict[str, list[str]] = {"drop": [], "categorical": [], "numeric": []}
    for d in ready.stats.decisions:
        if d.kind in ("drop", "numeric"):
            kinds[d.kind].append(d.column)
        elif d.kind == "category":
            kinds["categorical"].append(d.column)
    table, y, task, target = ready.table, ready.y, ready.task, ready.target
    base = {
        "task": task,
        "target": target,
        **{option: tuple(columns) for option, columns in kinds.items()},
        "impute": args.impute != "none",
        "validation_fraction": args.validation_fraction,
        **{k: getattr(args, k) for k in ESTIMATOR_OPTIONS if k not in SEARCH_SPACE},
    }
    return table, y, task, base, source


def _note_rare_classes(console: Console, y, task: str, folds: int) -> None:
    """Say which classes are too rare to split into ``folds`` folds (training goes on)."""
    if task != "classification":
        return
    rare = RareInTraining.rare(y, folds).tolist()
    if rare:
        shown_names = ", ".join(repr(str(c)) for c in rare[:5]) + (" …" * (len(rare) > 5))
        console.note(
            f"class{'es' * (len(rare) > 1)} {shown_names} with fewer rows than {folds} "
            "folds: "
            "too rare to split, kept in the training rows of every fold (scored in none)"
        )


class RareInTraining:
    """Folds for classes: stratified, and a class too rare for every fold stays in training.

    A class with fewer rows than folds could not be in every test fold, and a fold whose
    training rows lacked it would have a model that never saw it; its rows are therefore in
    the training rows of every fold and in no test fold. The other rows are split by
    scikit-learn's ``StratifiedKFold``.

    Examples
    --------
    >>> y = np.array([0] * 6 + [1] * 6 + [2])
    >>> folds = list(RareInTraining(3, seed=0).split(np.zeros(13), y))
    >>> all(12 in train and 12 not in test for train, test in folds)
    True
    """

    def __init__(self, folds: int, seed: int):
        self.folds, self.seed = folds, seed

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Return the number of folds."""
        return self.folds

    @staticmethod
    def rare(y, folds: int) -> np.ndarray:
        """Return the labels with fewer rows than ``folds``."""
        labels, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
        return labels[counts < folds]

    def split(self, X, y, groups=None):
        """Yield (training rows, test rows) for each fold."""
        from sklearn.model_selection import KFold, StratifiedKFold

        text = np.asarray(y).astype(str)
        rare = np.isin(text, self.rare(y, self.folds))
        common = np.flatnonzero(~rare)
        if len(np.unique(text[common])) >= 2:
            inner = StratifiedKFold(self.folds, shuffle=True, random_state=self.seed)
        else:
            inner = KFold(self.folds, shuffle=True, random_state=self.seed)
        for train, test in inner.split(common, text[common]):
            yield np.concatenate([common[train], np.flatnonzero(rare)]), common[test]


def _splitter(task: str, y, folds: int, seed: int):
    from sklearn.model_selection import KFold

    if task == "classification":
        return RareInTraining(folds, seed)
    return KFold(folds, shuffle=True, random_state=seed)


def _score(scorer: str, model, table, y) -> float:
    """Return a metric of ``model`` on rows, as larger-is-better scikit-learn scorers give it.

    The log loss is given the model's classes, which the rows may not all hold.
    """
    from sklearn.metrics import get_scorer, log_loss

    if scorer == "neg_log_loss":
        return -float(log_loss(y, model.predict_proba(table), labels=model.classes_))
    return float(get_scorer(scorer)(model, table, y))


def _quietly(function, *args):
    """Call a fit or a scorer with its warnings (a short run's ConvergenceWarning) silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return function(*args)


def cmd_cv(args) -> int:
    """`nnmath cv`: cross-validate the training options; returns 0."""
    from sklearn.base import clone

    console = Console(args.quiet or args.json)
    table, y, task, base, source = _table_for_search(args, console)
    model = TableModel(
        **base,
        hidden=hidden_sizes(args.hidden),
        alpha=args.alpha,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
    )
    if len(y) < 2 * args.folds:
        raise UsageError(
            f"{source.name} has {plural(len(y), 'row')}: too few for {args.folds} folds"
        )
    _note_rare_classes(console, y, task, args.folds)
    metrics = _METRICS[task]
    scores: dict[str, list[float]] = {name: [] for name in metrics}
    console.info(
        f"Cross-validation: {args.folds} folds of {source.name} ({plural(len(y), 'row')}), "
        f"{task} of {base['target']!r}"
    )
    for k, (train, test) in enumerate(_splitter(task, y, args.folds, args.seed).split(table, y)):
        started = time.perf_counter()
        fitted = _quietly(clone(model).fit, row_subset(table, train), y[train])
        test_table = row_subset(table, test)
        for name, scorer in metrics.items():
            value = _quietly(_score, scorer, fitted, test_table, y[test])
            scores[name].append(-value if scorer.startswith("neg_") else value)
        shown = ", ".join(f"{name} {values[-1]:.4f}" for name, values in scores.items())
        console.info(f"fold {k + 1}/{args.folds}: {shown} ({time.perf_counter() - started:.1f} s)")
    summary = {
        name: {"mean": float(np.mean(v)), "std": float(np.std(v)), "folds": [float(x) for x in v]}
        for name, v in scores.items()
    }
    if args.json:
        print(
            json.dumps(
                {"data": source.name, "rows": len(y), "folds": args.folds, "metrics": summary}
            )
        )
        return 0
    print(f"{source.name}: {args.folds}-fold cross-validation, {plural(len(y), 'row')}")
    for name, s in summary.items():
        print(f"{name}: {s['mean']:.4f} ± {s['std']:.4f}")
    return 0


def rounds_for(budget: float, pilot: float, folds: int, n: int, min_rows: int) -> int:
    """Return how many rounds of successive halving (factor 3) fit in ``budget`` seconds.

    A fit on all ``n`` rows takes ``pilot`` seconds, and each round costs about 3 · folds
    such fits. The result is at least 1, and no more than the rows allow (the first
    round's rows, n / 3^(rounds − 1), at least ``min_rows``).

    Examples
    --------
    >>> rounds_for(budget=60.0, pilot=1.0, folds=3, n=10_000, min_rows=100)
    5
    """
    affordable = int(budget // max(3 * folds * pilot, 1e-9))
    possible = 1 + int(math.floor(math.log(max(n / max(min_rows, 1), 1.0), 3)))
    return max(1, min(affordable, possible))


#: The candidates the plan is timed on: the widest layer and the most weights, at the
#: smallest batch (the most steps per epoch): no candidate costs more per row.
COSTLIEST = [(SEARCH_SPACE["hidden"][4], 16), (SEARCH_SPACE["hidden"][7], 16)]

#: The rows the timed fits use at most (their time per row scales to the table's).
PILOT_ROWS = 2000


def cmd_tune(args) -> int:
    """Run `nnmath tune`: a successive-halving search within ``--budget``.

    The plan comes from timed fits of the costliest candidates, so that it is an upper
    bound; a fit still running when the search's share of the budget is spent stops at
    the end of its epoch, and so does the final fit at the budget's end. It prints the
    leaderboard, what the search and the final fit each took, and saves the best;
    returns 0.
    """
    started = time.perf_counter()
    from scipy.stats import loguniform
    from sklearn.base import clone
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    from nnmath.cli.report import save_model

    console = Console(args.quiet)
    check_output(args.out, "the model file")
    budget = args.budget * 60
    end = started + budget
    table, y, task, base, source = _table_for_search(args, console)
    n = len(y)
    classes = len(np.unique(np.asarray(y).astype(str))) if task == "classification" else 1
    min_rows = max(30, 10 * classes * args.folds)
    if n < min_rows:
        raise UsageError(
            f"{source.name} has {plural(n, 'row')}: too few to tune (at least {min_rows})"
        )
    _note_rare_classes(console, y, task, args.folds)
    sample = np.sort(np.random.default_rng(args.seed).permutation(n)[: min(n, PILOT_ROWS)])
    pilot_table = row_subset(table, sample)
    timed = time.perf_counter()
    pilot_stop = started + 0.25 * budget
    per_row = 0.0
    for hidden, batch in COSTLIEST:
        began = time.perf_counter()
        model = TableModel(**{**base, "stop_at": pilot_stop}, hidden=hidden, batch_size=batch)
        _quietly(model.fit, pilot_table, y[sample])
        per_row = max(per_row, (time.perf_counter() - began) / len(sample))
    pilot_seconds = time.perf_counter() - timed
    final_estimate = per_row * n
    search_end = max(time.perf_counter(), end - final_estimate)
    fit_all = per_row * n * (args.folds - 1) / args.folds
    rounds = rounds_for(search_end - time.perf_counter(), fit_all, args.folds, n, min_rows)
    candidates = 3**rounds
    first_rows = max(min_rows, n // 3 ** (rounds - 1))
    console.info(
        f"Tuning on {source.name} ({plural(n, 'row')}) within {budget:.0f} s: the costliest "
        f"candidates (hidden {_sizes(COSTLIEST[0][0])} and {_sizes(COSTLIEST[1][0])}, batch "
        f"{COSTLIEST[0][1]}, no candidate costlier) take about {fit_all:.1f} s a fit on a "
        f"fold's rows and {final_estimate:.1f} s on every row (timed on "
        f"{plural(len(sample), 'row')} in {pilot_seconds:.1f} s); "
        f"{rounds} round{'s' * (rounds > 1)} of successive halving, "
        f"{candidates} candidates on {first_rows:,} rows first, {args.folds} folds each"
    )
    total_fits = sum((candidates // 3**i) * args.folds for i in range(rounds))
    done = [0]
    stopped = [0]

    def count(model):
        done[0] += 1
        stopped[0] += model.stopped_
        if done[0] % args.folds == 0 or done[0] == total_fits:
            now = time.perf_counter()
            console.info(
                f"tune: {done[0]}/{total_fits} fits, {now - started:.0f} s, "
                f"{max(0.0, end - now):.0f} s of the budget left"
            )

    space = {
        "hidden": SEARCH_SPACE["hidden"],
        "alpha": loguniform(*SEARCH_SPACE["alpha"]),
        "learning_rate": loguniform(*SEARCH_SPACE["learning_rate"]),
        "batch_size": SEARCH_SPACE["batch_size"],
    }
    scoring = "accuracy" if task == "classification" else "r2"
    search = HalvingRandomSearchCV(
        TableModel(**base, on_fit=count, stop_at=search_end),
        space,
        n_candidates=candidates,
        factor=3,
        resource="n_samples",
        min_resources=first_rows,
        max_resources=n,
        cv=_splitter(task, y, args.folds, args.seed),
        scoring=scoring,
        random_state=args.seed,
        refit=False,
        error_score=np.nan,
    )
    searching = time.perf_counter()
    try:
        _quietly(search.fit, table, y)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(f"tune: {one_line(exc)}") from None
    search_seconds = time.perf_counter() - searching
    for line in leaderboard(search, args.top, "accuracy" if scoring == "accuracy" else "R²"):
        print(line)
    params = search.best_params_
    final = time.perf_counter()
    best = _quietly(
        clone(TableModel(**base, stop_at=started + 1.1 * budget)).set_params(**params).fit,
        table,
        y,
    )
    final_seconds = time.perf_counter() - final
    save_model(best.pre_, best.estimator_, args.out)
    cut = f", {plural(stopped[0], 'fit')} stopped at the search's share of the budget"
    console.info(
        f"Search: {plural(done[0], 'fit')} in {search_seconds:.2f} s (timing the plan "
        f"{pilot_seconds:.2f} s{cut if stopped[0] else ''}); final fit on every row: "
        f"{final_seconds:.2f} s{' (stopped at the budget)' if best.stopped_ else ''}; "
        f"in all {time.perf_counter() - started:.2f} s of a {budget:.0f} s budget"
    )
    console.info(
        f"Wrote {args.out}: the best candidate (hidden {_sizes(params['hidden'])}, alpha "
        f"{params['alpha']:.3g}, learning rate {params['learning_rate']:.3g}, batch size "
        f"{params['batch_size']}) trained on every row"
    )
    return 0


def _sizes(hidden) -> str:
    return ",".join(str(h) for h in hidden)


def leaderboard(search, top: int, metric: str) -> list[str]:
    """Return the leaderboard's lines: the best candidates, the last round's first.

    Candidates are ranked as successive halving ranks them: by the rows of the last
    round each reached (a score on more rows above one on fewer), then by score. Each
    line has the rank, the score ± std over the folds, the round's rows and the rows
    each fold's score was measured on, and the options; a closing line says so.
    """
    r = search.cv_results_
    folds = search.n_splits_
    order = sorted(
        range(len(r["params"])),
        key=lambda i: (-r["n_resources"][i], -np.nan_to_num(r["mean_test_score"][i], nan=-np.inf)),
    )
    lines = [
        f"{'rank':>4}  {metric + ' (± std)':>18}  {'rows':>7}  {'scored':>7}  {'hidden':>8}  "
        f"{'alpha':>8}  {'rate':>8}  {'batch':>5}"
    ]
    for rank, i in enumerate(order[:top], start=1):
        p = r["params"][i]
        score = f"{r['mean_test_score'][i]:.4f} ± {r['std_test_score'][i]:.4f}"
        rows = int(r["n_resources"][i])
        lines.append(
            f"{rank:>4}  {score:>18}  {rows:>7,}  {rows // folds:>7,}  "
            f"{_sizes(p['hidden']):>8}  {p['alpha']:>8.2g}  {p['learning_rate']:>8.2g}  "
            f"{p['batch_size']:>5}"
        )
    lines.append(
        f"Ranked as successive halving ranks: by rows, then {metric} (a score on more rows "
        f"ranks above one on fewer). rows: the candidate's last round; scored: the rows "
        f"each of the {folds} folds' scores was measured on, about rows / {folds}."
    )
    return lines
