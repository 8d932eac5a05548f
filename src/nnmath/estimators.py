"""scikit-learn compatible MLPClassifier and MLPRegressor.

Drop-in replacements for ``sklearn.neural_network.MLPClassifier`` and
``MLPRegressor``: the same constructor parameters with the same defaults and meanings,
the same fitted attributes, warnings and verbose lines. They translate parameters and
data, then hand the work to :mod:`nnmath.training` and :class:`nnmath.Network`; they
hold no backpropagation and no optimizer of their own.

X, y and sample_weight may also be Dask collections (``dask.array``, ``dask.dataframe``):
the chunks stay on the cluster and predictions come back as lazy Dask arrays (see
:mod:`nnmath.data.cluster`).

On top of scikit-learn's behaviour, all off by default: per-layer activations,
dropout, more losses, an explicit validation set with its loss curve, early stopping
on any scorer, callbacks, a progress bar, ``stop_reason_``, a clean stop on Ctrl-C,
and "cosine" and "step" learning-rate schedules.
"""

from __future__ import annotations

import copy
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    unique_labels,
)
from sklearn.utils.validation import (
    check_is_fitted,
    validate_data,
)

from nnmath import diagram
from nnmath import document as doc
from nnmath.core import activations as _activations
from nnmath.core import arrays, initializers, registry
from nnmath.core import losses as _losses
from nnmath.core.optimizers import SGD, Adam, Schedule, get_schedule
from nnmath.core.rng import as_random_state, side_stream
from nnmath.data import cluster as distributed
from nnmath.data.adapters import ArrayInput, Encoding, Held, SourceInput, TrainingInput
from nnmath.data.checks import class_weight_of
from nnmath.data.sources import Data, SampleOrder
from nnmath.dispatch import (
    as_float,
    flat,
    float_dtypes,
    input_namespace,
    labels_to,
    same_namespace,
)
from nnmath.network import Network
from nnmath.training import (
    DivergenceError,
    History,
    Progress,
    Settings,
    Validation,
    train,
    train_lbfgs,
)
from nnmath.training.monitor import all_finite

__all__ = ["MLPClassifier", "MLPRegressor"]


#: What an estimator's pickle carries as it is, beside its document: scikit-learn's
#: per-instance configuration (metadata routing requests, output settings), the
#: weights set through ``coefs_``/``intercepts_`` before a first fit, and labels of
#: another array library than NumPy (array-API dispatch: the document holds their
#: values, not their library and device).
_PICKLED_AS_THEY_ARE = (
    "_metadata_request",
    "_sklearn_output_config",
    "_given_coefs",
    "_given_intercepts",
    "classes_",
    "_label_binarizer",
)


def _lbfgs_iterations(result, max_iter: int) -> int:
    """Return L-BFGS's iteration count, warning as scikit-learn does when it did not converge.

    SciPy can report one iteration more than ``maxiter``; the count is capped at it.
    """
    n_iter = min(int(result.nit), max_iter)
    if result.status != 0:
        message = (
            f"lbfgs failed to converge after {n_iter} iteration(s) (status={result.status}):\n"
            f"{result.message}\n"
        )
        if n_iter == max_iter:
            message += (
                "\nIncrease the number of iterations to improve the convergence "
                f"(max_iter={max_iter})."
            )
        message += (
            "\nYou might also want to scale the data as shown in:\n"
            "    https://scikit-learn.org/stable/modules/preprocessing.html"
        )
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    return n_iter


_HIDDEN_ACTIVATIONS = set(registry.hidden_activations())
_DEFAULTS = registry.ESTIMATOR_DEFAULTS
# scikit-learn's message when training ends on weights that are not finite, word for word:
# scripts match it.
_NON_FINITE = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)
# scikit-learn's name for each output activation (out_activation_).
_SKLEARN_NAME = {"sigmoid": "logistic"}


def _check_activation_list(value):
    if isinstance(value, str):
        return
    bad = [a for a in value if a not in _HIDDEN_ACTIVATIONS]
    if bad or not value:
        raise ValueError(
            f"activation must be one of {sorted(_HIDDEN_ACTIVATIONS)} or a list of them, one "
            f"per hidden layer; got {value!r}"
        )


def _check_hidden_layers(model, net: Network, hyperparameters: dict) -> None:
    """Raise ModelFileError unless an estimator's hyperparameters describe its network.

    ``hyperparameters`` are as a model file holds them (JSON values). Their
    ``hidden_layer_sizes`` must be the network's hidden sizes and ``activation`` one of
    the estimator's hidden activations (or one per hidden layer) that the network's
    hidden layers have: what a refit would build is what the file's weights are.
    """
    name = type(model).__name__
    sizes = hyperparameters.get("hidden_layer_sizes")
    hidden = list(net.layer_sizes[1:-1])
    given = [sizes] if doc.is_int(sizes) else sizes
    if not (isinstance(given, (list, tuple)) and all(doc.is_int(s) for s in given)):
        raise doc.ModelFileError(
            f"hyperparameter 'hidden_layer_sizes' must be an integer or a list of integers; "
            f"got {sizes!r:.100}"
        )
    if list(given) != hidden:
        raise doc.ModelFileError(
            f"hyperparameter 'hidden_layer_sizes' is {list(given)!r:.100} but the network's "
            f"weights have hidden layers of {hidden!r:.100} units"
        )
    activation = hyperparameters.get("activation")
    names = [activation] if isinstance(activation, str) else activation
    if not (
        isinstance(names, (list, tuple))
        and all(isinstance(a, str) and a in _HIDDEN_ACTIVATIONS for a in names)
        and (isinstance(activation, str) or len(names) == len(hidden))
    ):
        raise doc.ModelFileError(
            f"hyperparameter 'activation' of a {name} must be one of "
            f"{sorted(_HIDDEN_ACTIVATIONS)} or a list of them, one per hidden layer; got "
            f"{activation!r:.100}"
        )
    acts = [activation] * len(hidden) if isinstance(activation, str) else list(names)
    expected = [_activations.get("sigmoid" if a == "logistic" else a) for a in acts]
    if net.activations[:-1] != expected:
        found = [a.name for a in net.activations[:-1]]
        raise doc.ModelFileError(
            f"a {name} with activation={activation!r:.60} has hidden layers of "
            f"{[a.name for a in expected]!r:.100}; the file's network has {found!r:.100}"
        )


def _scorer_of_every_class(scorer, classes: np.ndarray):
    """Return the scorer, which gives its metric ``labels=classes`` where rows lack a class.

    A metric of probabilities or decision values (log loss, ROC AUC, top-k accuracy,
    Brier score) takes its classes from the rows it scores unless told: on a validation
    set that lacks a class, the model's columns do not match them and it raises
    ValueError. Then the scorer is called again with the classes as scikit-learn's
    metadata (``labels``, with metadata routing on for the call), and from then on; a
    scorer or metric that takes no ``labels`` raises the first error. Rows with every
    class score as they would have without.
    """
    told = False

    def score(estimator, X, y, **kwargs):
        nonlocal told
        if not told:
            try:
                return scorer(estimator, X, y, **kwargs)
            except ValueError as exc:
                error = exc
        try:
            with config_context(enable_metadata_routing=True):
                value = scorer(estimator, X, y, labels=classes, **kwargs)
        except (TypeError, ValueError):
            if told:
                raise
            raise error from None
        told = True
        return value

    return score


class _Layers(list):
    """A network's W (or b) list as ``coefs_`` (``intercepts_``) shows it.

    Setting an item copies the array into the network's parameter buffer, shape checked,
    where a plain list would silently drop the view the network computes with.
    """

    def __init__(self, views: list[np.ndarray], name: str):
        super().__init__(views)
        self.name = name

    def __setitem__(self, index, value) -> None:
        if not isinstance(index, (int, np.integer)):
            raise TypeError(f"set {self.name} one layer at a time, or all of it at once")
        self._copy(list.__getitem__(self, index), value, f"{self.name}[{index}]")

    def _copy(self, view: np.ndarray, value, name: str) -> None:
        xp = arrays.namespace_of(view)
        try:
            if xp is np:
                array = np.asarray(value, dtype=view.dtype)
            else:  # the network's library and device (a NumPy value crosses once)
                array = xp.astype(arrays.move_to(value, xp, arrays.device_of(view)), view.dtype)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be an array of numbers; got {value!r:.100}") from None
        if tuple(array.shape) != tuple(view.shape):
            raise ValueError(
                f"{name} must have shape {tuple(view.shape)}; got {tuple(array.shape)}"
            )
        view[...] = array

    def assign(self, values) -> None:
        """Copy a whole list of arrays in, one per layer."""
        values = list(values)
        if len(values) != len(self):
            raise ValueError(
                f"{self.name} needs {len(self)} arrays, one per layer; got {len(values)}"
            )
        for l, (view, value) in enumerate(zip(self, values, strict=True)):
            self._copy(view, value, f"{self.name}[{l}]")


class _BaseMLP(BaseEstimator):
    """Shared parameters, validation and fitting of the two estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_HIDDEN_ACTIVATIONS), list, tuple],
        "solver": [StrOptions({"lbfgs", "sgd", "adam", "gd"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [
            StrOptions({"constant", "invscaling", "adaptive", "cosine", "step"}),
            Schedule,
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state", np.random.Generator],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "scoring": [str, callable, None],
        "restore_best_weights": ["boolean"],
        "callbacks": [list, tuple, None],
    }

    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        *,
        solver,
        alpha,
        l1,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
        dropout,
        scoring,
        restore_best_weights,
        callbacks,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.l1 = l1
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.scoring = scoring
        self.restore_best_weights = restore_best_weights
        self.callbacks = callbacks

    # ------------------------------------------------------------------ parameters
    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if any(not isinstance(s, (Integral, np.integer)) or s <= 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _params_snapshot(self) -> tuple:
        """Return the parameters' values, containers copied (shallow): what was validated."""
        values = (getattr(self, name, None) for name in self._parameter_constraints)
        return tuple(copy.copy(v) if isinstance(v, (list, dict, set)) else v for v in values)

    def _params_unchanged(self) -> bool:
        """Say whether every parameter is what the last validation saw (same object or equal)."""
        last = vars(self).get("_validated_params")
        if last is None:
            return False
        for old, new in zip(last, self._params_snapshot(), strict=True):
            if old is new:
                continue
            if type(old) is not type(new):
                return False
            try:
                if not bool(old == new):
                    return False
            except (TypeError, ValueError):  # an array of several values, say: validate again
                return False
        return True

    def _check_params(self) -> list[int]:
        # Parameters unchanged since they were last validated (partial_fit called again
        # and again) pass without scikit-learn's validation, which costs more than an
        # epoch on a hundred rows; any change validates them anew.
        if not self._params_unchanged():
            self._validate_params()
            self._validated_params = self._params_snapshot()
        hidden = self._hidden_sizes()
        if not isinstance(self.activation, str):
            _check_activation_list(self.activation)
            if len(self.activation) != len(hidden):
                raise ValueError(
                    f"activation has {len(self.activation)} entries but hidden_layer_sizes "
                    f"has {len(hidden)} layers; give one activation per hidden layer"
                )
        if isinstance(self.dropout, (list, tuple)):
            if len(self.dropout) != len(hidden):
                raise ValueError(
                    f"dropout has {len(self.dropout)} entries but hidden_layer_sizes has "
                    f"{len(hidden)} layers; give one rate per hidden layer, or one number"
                )
            if any(not (isinstance(p, Real) and 0 <= float(p) < 1) for p in self.dropout):
                raise ValueError(f"dropout rates must be in [0, 1); got {self.dropout!r}")
        rates = self.dropout if isinstance(self.dropout, (list, tuple)) else [self.dropout]
        if self.solver == "lbfgs" and any(rates):
            raise ValueError(
                f"dropout={self.dropout!r} needs a stochastic solver ('adam', 'sgd' or "
                "'gd'); solver='lbfgs' minimizes the cost without dropout. Set dropout=0.0 "
                "or choose another solver."
            )
        if self.callbacks is not None and not all(callable(c) for c in self.callbacks):
            raise ValueError("callbacks must be a list of callables f(estimator, info)")
        return hidden

    def _hidden_activation_names(self, n_hidden: int) -> list[str]:
        acts = [self.activation] * n_hidden if isinstance(self.activation, str) else self.activation
        return ["sigmoid" if a == "logistic" else a for a in acts]

    def _schedule(self):
        if isinstance(self.learning_rate, Schedule):
            # A copy: a schedule keeps state (Adaptive's divisions) and fit must not
            # change the estimator's parameters.
            return copy.deepcopy(self.learning_rate)
        return get_schedule(self.learning_rate, power_t=self.power_t, max_epochs=self.max_iter)

    def _make_optimizer(self):
        # scikit-learn's forms of the updates: ε on √v, a velocity of steps
        if self.solver == "adam":
            return Adam(
                self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon, epsilon_on="v"
            )
        if self.solver == "gd":
            return SGD(self.learning_rate_init)
        return SGD(
            self.learning_rate_init,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum and self.momentum > 0,
            step_velocity=True,
        )

    def _initialize_like_sklearn(self) -> None:
        """Draw the initial weights and biases as scikit-learn does.

        W and b come from U(−r, r), r = √(factor / (n_in + n_out)), factor 6, or 2 for
        logistic layers. A drop-in then starts from scikit-learn's distribution; with the
        Network's own He init and zero biases it trailed scikit-learn's accuracy on some
        data sets (see benchmarks/parity.py).
        """
        activation = self.activation if isinstance(self.activation, str) else None
        if activation is None:  # one per layer: logistic's factor when all are logistic
            logistic = all(a in ("logistic", "sigmoid") for a in self.activation)
        else:
            logistic = activation in ("logistic", "sigmoid")
        factor = 2.0 if logistic else 6.0
        net = self.network_
        for W, b in zip(net.W, net.b, strict=True):
            n_in, n_out = W.shape
            W_init, b_init = initializers.sklearn_uniform(
                self._random_state, n_in, n_out, net.dtype, factor
            )
            W[...], b[...] = net.asarray(W_init), net.asarray(b_init)

    # ------------------------------------------------------------------ fitted views
    @property
    def _no_improvement_count(self) -> int:
        """scikit-learn's count of the epochs in a row without improvement by ``tol``.

        Private there too; read from the training history, for code that reads it.
        """
        history = vars(self).get("_history")
        if history is None:
            raise AttributeError("_no_improvement_count is set by fit")
        return history.no_improvement_count

    @_no_improvement_count.setter
    def _no_improvement_count(self, value: int) -> None:
        history = vars(self).get("_history")
        if history is not None:
            history.no_improvement_count = int(value)
        elif value != 0:  # a first fit counts from 0
            raise ValueError("_no_improvement_count can be set before the first fit only to 0")

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices W_l of shape (n_l, n_{l+1}): views into the network.

        Assigning the list, or one of its matrices (``coefs_[0] = W``), writes into the
        network. Set on an estimator not fitted yet (with ``intercepts_``), the weights
        are where the next ``partial_fit`` (or ``fit`` with ``warm_start=True``) starts,
        as in scikit-learn.
        """
        given = vars(self).get("_given_coefs")
        if given is not None and "network_" not in vars(self):
            return given  # set before any fit
        check_is_fitted(self, "network_")
        return _Layers(self.network_.W, "coefs_")

    @coefs_.setter
    def coefs_(self, values) -> None:
        if "network_" in vars(self):
            _Layers(self.network_.W, "coefs_").assign(values)
        else:
            self._given_coefs = values  # the list itself: its items may still be set

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors b_l of shape (n_{l+1},).

        They are views into the network (assignable like :attr:`coefs_`).
        """
        given = vars(self).get("_given_intercepts")
        if given is not None and "network_" not in vars(self):
            return given  # set before any fit
        check_is_fitted(self, "network_")
        return _Layers(self.network_.b, "intercepts_")

    @intercepts_.setter
    def intercepts_(self, values) -> None:
        if "network_" in vars(self):
            _Layers(self.network_.b, "intercepts_").assign(values)
        else:
            self._given_intercepts = values

    def _start_from_given_weights(self) -> bool:
        """Copy coefs_ and intercepts_ set before the first fit into the new network.

        Returns False when none were set.
        """
        coefs = self.__dict__.pop("_given_coefs", None)
        intercepts = self.__dict__.pop("_given_intercepts", None)
        if coefs is None and intercepts is None:
            return False
        if coefs is None or intercepts is None:
            raise ValueError(
                "set both coefs_ and intercepts_ before fitting to start from given weights; "
                f"only {'coefs_' if intercepts is None else 'intercepts_'} was set"
            )
        _Layers(self.network_.W, "coefs_").assign(coefs)
        _Layers(self.network_.b, "intercepts_").assign(intercepts)
        return True

    # ------------------------------------------------------------------ fitting
    def _input(self, X, y, sample_weight) -> TrainingInput:
        """Return the training data's adapter: Dask collections, or arrays in memory."""
        if distributed.is_collection(X):
            return distributed.CollectionInput(X, y, sample_weight)
        xp, device = input_namespace(X)
        return ArrayInput(X, labels_to(y, xp, device), sample_weight, xp, device, float_dtypes(xp))

    def _fit(self, source: TrainingInput, incremental=False, validation_data=None, classes=None):
        """Fit on any kind of data, asking its adapter (see :mod:`nnmath.data.adapters`).

        ``classes``: the labels of a classifier's first ``partial_fit``.
        """
        hidden = self._check_params()
        if (
            self.early_stopping
            and self.solver != "lbfgs"
            and validation_data is None
            and not source.splits
        ):
            raise ValueError(
                "early_stopping=True on a data source needs validation_data=(X_val, y_val)"
            )
        first_pass = not hasattr(self, "network_") or (not self.warm_start and not incremental)
        source.check(self, reset=first_pass, numeric_y=not is_classifier(self))
        n_outputs = self._targets(source, incremental, classes)
        source.encode(self._encoding(source.dtype if first_pass else self.network_.dtype))
        self._set_up_network(
            source.n_features,
            n_outputs,
            hidden,
            source.dtype,
            source.xp,
            source.device,
            first_pass,
            incremental,
        )
        if not first_pass:  # warm start or partial_fit: the data comes to the network's dtype
            source.adopt(self._adopt, self.network_.adopt)
        self._weigh_classes(source, incremental)
        split = self._before_training(incremental)
        validation = self._validation(source, validation_data, split)
        return self._train(source.data(self.network_), validation, incremental)

    def _set_up_network(
        self, n_features, n_outputs, hidden, dtype, xp, device, first_pass, incremental
    ):
        """Make a new network (first pass), or check that the one fitted before fits."""
        self.n_outputs_ = n_outputs
        layer_sizes = [n_features, *hidden, n_outputs]
        # scikit-learn's stream, made anew on every fit and partial_fit as scikit-learn
        # makes it: the initial weights, the early-stopping split, the epochs' shuffles.
        self._random_state = as_random_state(self.random_state)
        if first_pass:
            # What scikit-learn has not (dropout masks) draws from a stream of its own.
            self._rng = side_stream(self.random_state)
            out_activation, loss = self._output_and_loss()
            self.network_ = Network(
                layer_sizes,
                activation=self._hidden_activation_names(len(hidden)),
                output_activation=out_activation,
                loss=loss,
                dtype=dtype,
                theta=0.0,  # none drawn: scikit-learn's initialization, or the given weights
                dropout=list(self.dropout)
                if isinstance(self.dropout, (list, tuple))
                else self.dropout,
                xp=xp,
                device=device,
            )
            # Weights set before a fit that keeps them (scikit-learn's hand-worked step
            # sets them and calls partial_fit), else scikit-learn's initialization.
            keep_given = self.warm_start or incremental
            if not (keep_given and self._start_from_given_weights()):
                vars(self).pop("_given_coefs", None)
                vars(self).pop("_given_intercepts", None)
                self._initialize_like_sklearn()
            self._history = History()
            self._optimizer = None
            self.n_layers_ = len(layer_sizes)
            self.out_activation_ = _SKLEARN_NAME.get(out_activation, out_activation)
        elif self.network_.layer_sizes != layer_sizes:
            raise ValueError(
                f"X has {n_features} features and y {n_outputs} outputs, but the network "
                f"fitted before has layer sizes {self.network_.layer_sizes}; refit with "
                "warm_start=False"
            )

    def _before_training(self, incremental: bool) -> bool:
        """Check what the solver allows; True when a validation set is split off."""
        if self.solver == "lbfgs":  # like scikit-learn, lbfgs ignores early_stopping
            return False
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if getattr(self, "_rng", None) is None:  # a model loaded from a file
            self._rng = side_stream(self.random_state)
        return self.early_stopping

    def _train(self, data: Data, validation: Validation | None, incremental: bool):
        try:
            if self.solver == "lbfgs":
                history = self._fit_lbfgs(data, validation)
            else:
                history = self._fit_stochastic(data, validation, incremental)
        except DivergenceError as exc:
            # A ValueError that starts as scikit-learn's; the network keeps its last
            # finite weights, and the curves recorded so far are the fitted attributes.
            if exc.history is not None:
                self._set_history_attributes(exc.history)
            raise DivergenceError(f"{_NON_FINITE} {exc}", exc.history) from None
        finally:
            data.close()
            if validation is not None and isinstance(validation.X, Data):
                validation.X.close()
        self._set_history_attributes(history)
        return self

    # ------------------------------------------------------------------ targets
    def _targets(self, source: TrainingInput, incremental: bool, classes=None) -> int:
        """Set up the targets' encoding from the data; return the number of outputs."""
        raise NotImplementedError

    def _encoding(self, dtype) -> Encoding:
        """Return how y becomes the network's targets, in the network's ``dtype``."""
        raise NotImplementedError

    def _weigh_classes(self, source: TrainingInput, incremental: bool) -> None:
        """Weigh the rows by their class (a classifier with ``class_weight``)."""

    # ------------------------------------------------------------------ Data sources
    def fit_data(self, data: Data, *, classes=None, validation_data=None):
        """Fit on a data source read chunk by chunk, for data bigger than memory.

        Parameters
        ----------
        data : nnmath.data.sources.Chunks or nnmath.data.sources.InMemory
            Chunks whose loaders return ``(X, y, sample_weight)``: X of shape
            (n_k, n_features), y the labels (classifier) or targets (regressor) of the
            chunk's rows as :meth:`fit` takes them, sample_weight None or of shape
            (n_k,). Each chunk is loaded when the loop needs it, checked and encoded,
            and dropped after: memory holds one chunk (and one batch). The first chunk
            is loaded once more at the start, for the number of features. An epoch of
            "sgd" or "adam" visits the chunks in a random order and shuffles the rows
            within each (see :class:`nnmath.data.sources.Chunks`).
        classes : array-like, optional
            Every label (classifier: required, as for ``partial_fit``); a chunk with
            another label is an error.
        validation_data : (X_val, y_val), optional
            A validation set in memory, for ``validation_scores_`` and early stopping
            (a data source has no ``validation_fraction`` split: early_stopping=True
            needs it).

        Returns
        -------
        self

        Examples
        --------
        >>> import numpy as np
        >>> from nnmath.data.sources import Chunks
        >>> X = np.linspace(-1, 1, 40).reshape(-1, 1); y = np.where(X[:, 0] > 0, "+", "-")
        >>> parts = [(X[:25], y[:25], None), (X[25:], y[25:], None)]
        >>> data = Chunks([lambda p=p: p for p in parts], n_samples=40)
        >>> clf = MLPClassifier((4,), solver="lbfgs", random_state=0)
        >>> clf.fit_data(data, classes=["-", "+"]).score(X, y)
        1.0
        """
        if classes is not None and not is_classifier(self):
            raise ValueError(
                f"classes= are a classifier's labels; an {type(self).__name__} takes none "
                f"(got {classes!r:.100})"
            )
        return self._fit(SourceInput(data, classes), validation_data=validation_data)

    # ------------------------------------------------------------------ Dask
    def _lazy(self, X, method: str):
        """Call ``method`` on a Dask X: a lazy Dask array computed chunk by chunk."""
        check_is_fitted(self, "network_")
        if self.network_.xp is not np:
            raise ValueError(
                f"X is a Dask collection but the network lives on "
                f"{self.network_.describe_placement()}; Dask collections take NumPy networks"
            )
        # one row of the network's input, for the result's columns and dtype
        probe = self._outputs(
            self.network_.propagate(np.zeros((1, self.n_features_in_), self.network_.dtype)),
            method,
        )
        n_columns = None if probe.ndim == 1 else probe.shape[1]
        return distributed.predict_rows(self, X, method, n_columns, probe.dtype)

    def _fit_lbfgs(self, data: Data, validation: Validation | None):
        history = self._history = History()
        progress = Progress(int(self.verbose), self.max_iter, self._score_name())
        started = time.perf_counter()
        settings = Settings(
            max_epochs=self.max_iter,
            alpha=self.alpha,
            l1=self.l1,
            tol=self.tol,
            callbacks=self._wrapped_callbacks(),
            epochs_name="max_iter",
            max_fun=self.max_fun,
        )
        try:
            train_lbfgs(
                self.network_,
                data,
                None,
                settings,
                validation=validation,
                progress=progress,
                history=history,
            )
        finally:
            progress.close()
        self.fit_time_ = time.perf_counter() - started
        if history.optimizer_result is not None and history.stop_reason == "stopped by callback":
            self.n_iter_ = int(history.optimizer_result.nit)  # asked for: no warning
            self.loss_ = float(history.optimizer_result.fun)
        elif history.optimizer_result is not None:
            self.n_iter_ = _lbfgs_iterations(history.optimizer_result, self.max_iter)
            self.loss_ = float(history.optimizer_result.fun)
        else:
            self.n_iter_ = history.n_iter
            self.loss_ = history.loss_curve[-1] if history.loss_curve else float("nan")
        self.best_loss_: float | None = history.best_loss
        self.t_ = history.t
        return history

    def _fit_stochastic(self, data: Data, validation: Validation | None, incremental: bool):
        first_rate = None
        if not incremental or getattr(self, "_optimizer", None) is None:
            # A model loaded from a file has weights but no optimizer state or history.
            self._optimizer = self._make_optimizer()
            self._lr_schedule = self._schedule()
            # scikit-learn's new optimizer begins at α₀ whatever the samples seen before
            # (a warm start); invscaling takes them into account from the next epoch.
            first_rate = self.learning_rate_init if self.learning_rate == "invscaling" else None
        if getattr(self, "_history", None) is None:
            self._history = History()
        history = self._history
        # The epochs' order of the samples: scikit-learn's (one chunk: the same as in memory).
        order = SampleOrder(self._random_state)

        n_samples = data.n_samples
        if self.solver == "gd":
            batch_size = None
        elif self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going "
                    "to be clipped",
                    stacklevel=4,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        max_epochs = 1 if incremental else self.max_iter
        progress = Progress(int(self.verbose), max_epochs, self._score_name())
        start_epoch = history.n_iter
        started = time.perf_counter()
        settings = Settings(
            max_epochs=max_epochs,
            batch_size=batch_size,
            shuffle=self.shuffle,
            alpha=self.alpha,
            l1=self.l1,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            schedule=self._lr_schedule,
            learning_rate_init=self.learning_rate_init,
            first_learning_rate=first_rate,
            early_stopping=self.early_stopping,
            restore_best_weights=self.restore_best_weights,
            callbacks=self._wrapped_callbacks(),
            epochs_name="max_iter",
        )
        try:
            train(
                self.network_,
                data,
                None,
                self._optimizer,
                settings,
                rng=order,
                dropout_rng=self._rng,
                validation=validation,
                progress=progress,
                history=history,
            )
        finally:
            progress.close()
        self.fit_time_ = time.perf_counter() - started
        self.n_iter_ = history.n_iter - start_epoch
        self.t_ = history.t
        # Interrupted in the first epoch, there is no epoch cost yet.
        self.loss_ = history.loss_curve[-1] if history.loss_curve else float("nan")
        self.best_loss_ = None if self.early_stopping else history.best_loss
        if (
            not incremental
            and not history.converged
            and history.stop_reason.startswith("max_iter=")
        ):
            warnings.warn(
                "Stochastic Optimizer: Maximum iterations (%d) reached and the optimization "
                "hasn't converged yet." % self.max_iter,
                ConvergenceWarning,
                stacklevel=4,
            )
        return history

    def _set_history_attributes(self, history: History) -> None:
        self.loss_curve_ = history.loss_curve
        self.stop_reason_ = history.stop_reason
        has_validation = bool(history.validation_scores)
        self.validation_scores_ = history.validation_scores if has_validation else None
        self.validation_loss_curve_ = (
            history.validation_loss_curve if history.validation_loss_curve else None
        )
        self.best_validation_score_ = history.best_validation_score if has_validation else None
        if has_validation and (not self.early_stopping or self.solver == "lbfgs"):
            self.best_validation_score_ = max(history.validation_scores)

    def _validation(self, source: TrainingInput, validation_data, split: bool) -> Validation | None:
        """Return the validation set for the loop, with the function that scores it.

        It is ``validation_data``, or (``split``) a ``validation_fraction`` of the data
        that the source leaves out of training; None without either.
        """
        if validation_data is not None:
            X_val, y_val = self._unpack_validation(validation_data)
            held = source.validation_set(X_val, y_val, self.network_)
            if held is None:
                held = self._validation_in_memory(X_val, y_val, source.like())
        elif split:
            stratify = is_classifier(self) and self.n_outputs_ == 1
            held = source.split(
                self.validation_fraction, self._random_state, self._rng, stratify, self.network_
            )
        else:
            return None
        if held.data is not None:  # encoded where the data lives
            return self._scored_validation(held.data, None, held.X, held.y, held.sample_weight)
        X_val, y_val, w_val = held.X, held.y, held.sample_weight
        if is_classifier(self):
            X_val, y_val, w_val = self._known_classes(X_val, y_val, w_val)
        Y_val = self._encode_validation_targets(y_val, source.like())
        return self._scored_validation(X_val, Y_val, X_val, y_val, w_val)

    def _scored_validation(self, source, Y_val, X_val, y_val, w_val) -> Validation:
        """Return the validation set for the loop.

        Its cost comes from ``source`` (arrays with ``Y_val``, or a Data with ``Y_val``
        None) and its score from the scorer on (X_val, y_val, w_val).
        """
        scorer = check_scoring(self, scoring=self.scoring)
        if is_classifier(self):
            scorer = _scorer_of_every_class(scorer, arrays.to_numpy(self.classes_))

        def score():
            # X_val was validated along with X, which drops a DataFrame's column names;
            # the scorer predicts through a view that takes it as checked (as
            # scikit-learn's own scoring does), else a fit on a DataFrame would warn
            # about feature names every epoch.
            view = self._view_of_checked_rows()
            try:
                if w_val is None:
                    return scorer(view, X_val, y_val)
                return scorer(view, X_val, y_val, sample_weight=w_val)
            except ValueError:
                # Predictions that overflowed: scikit-learn scores them NaN (and the
                # monitor ends a run whose validation score is NaN).
                if not all_finite(self.network_.propagate(X_val)):
                    return float("nan")
                raise

        weights = w_val if Y_val is not None else None
        return Validation(source, Y_val, weights, score, self._score_name())

    def _known_classes(self, X_val, y_val, w_val):
        """Leave out of the score the validation rows of a class the model never saw.

        The model cannot predict such a class; a warning names it.
        """
        y_host = arrays.to_numpy(y_val) if hasattr(y_val, "shape") else np.asarray(y_val)
        if y_host.ndim != 1 or X_val is None:
            return X_val, y_val, w_val
        known = np.isin(y_host, arrays.to_numpy(self.classes_))
        if known.all():
            return X_val, y_val, w_val
        unseen = np.unique(y_host[~known])
        if not known.any():
            raise ValueError(
                "validation_data's labels are none of the classes the model is fitted on "
                f"(classes_ {arrays.to_numpy(self.classes_).tolist()!r:.200}); got "
                f"{unseen.tolist()[:5]!r:.200}"
            )
        warnings.warn(
            f"the validation data has {int((~known).sum())} rows of classes not in "
            f"training ({', '.join(map(repr, unseen.tolist()[:5]))}); the validation "
            "score leaves them out",
            UserWarning,
            stacklevel=4,
        )
        rows = np.flatnonzero(known)
        y_kept = y_val.iloc[rows] if hasattr(y_val, "iloc") else y_val[rows]  # (a Series)
        return X_val[rows], y_kept, None if w_val is None else w_val[rows]

    @staticmethod
    def _unpack_validation(validation_data):
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError("validation_data must be a pair (X_val, y_val)") from None
        return X_val, y_val

    def _validation_in_memory(self, X_val, y_val, like) -> Held:
        """Check ``validation_data`` in memory like the training data's X (``like``)."""
        X_val = validate_data(
            self, X_val, accept_sparse=["csr", "csc"], dtype=like.dtype, reset=False
        )
        if not hasattr(y_val, "shape"):
            y_val = np.asarray(y_val)
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"validation_data: X_val has {X_val.shape[0]} samples but y_val has "
                f"{y_val.shape[0]}"
            )
        return Held(X_val, y_val)

    def _wrapped_callbacks(self):
        return [lambda info, cb=cb: cb(self, info) for cb in (self.callbacks or ())]

    def _score_name(self) -> str:
        if self.scoring is None:
            return "accuracy" if is_classifier(self) else "r2"
        return (
            self.scoring
            if isinstance(self.scoring, str)
            else getattr(self.scoring, "__name__", "score")
        )

    def _adopt(self, X):
        """Return X in the network's dtype.

        For a network on another array library, X is also checked to be of that library
        and on its device.
        """
        net = self.network_
        if net.xp is np and type(X) is np.ndarray:
            return X if X.dtype == net.dtype else X.astype(net.dtype)
        if net.xp is np:  # sparse
            return X.astype(net.dtype)
        return net.adopt(X)

    def _outputs(self, y_hat, method: str):
        """Return ``method``'s result from the network's output ``y_hat``."""
        raise NotImplementedError

    def _view_of_checked_rows(self):
        """Return a view of the fitted estimator whose predictions skip the input check.

        It shares the estimator's attributes (its network among them, trained in place)
        and is meant for rows that fit has already checked: the validation set a scorer
        predicts on. The estimator itself always checks its input.
        """
        view = object.__new__(type(self))
        view.__dict__.update(vars(self))
        view._rows_checked = True
        return view

    def _forward(self, X, method: str = "predict") -> np.ndarray:
        check_is_fitted(self, "network_")
        if not vars(self).get("_rows_checked", False):  # (a view for fit's scorer)
            same_namespace(self, X, method)
            xp, _ = input_namespace(X)
            X = validate_data(
                self, X, accept_sparse=["csr", "csc"], dtype=float_dtypes(xp), reset=False
            )
        return self.network_.propagate(self._adopt(X))

    # ------------------------------------------------------------------ description
    def to_document(
        self, training_state: bool = False, objects: doc.Objects | None = None
    ) -> tuple[doc.Document, doc.Tensors]:
        """Describe the fitted estimator for a model file, or for a pickle.

        The description holds the hyperparameters, fitted attributes, the network's
        architecture and its weights as tensors (see :mod:`nnmath.io`).

        Parameters
        ----------
        training_state : bool, default False
            Add what training needs to go on exactly where it stopped (``partial_fit``,
            ``warm_start``): the section "training_state" (the optimizer's counters,
            the schedule, the history, the dropout stream) and its tensors (the
            optimizer's memory, the best weights early stopping may still restore).
        objects : dict, optional
            A pickle's (see :mod:`nnmath.document`): what no name describes goes into
            it (callable hyperparameters, a custom schedule, activation or loss), and
            an estimator not fitted yet is described by its hyperparameters. None, for
            a model file, refuses them.

        Examples
        --------
        >>> import numpy as np
        >>> reg = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", random_state=0)
        >>> reg = reg.fit(np.eye(3), [0.0, 1.0, 2.0])
        >>> document, tensors = reg.to_document()
        >>> document["layer_sizes"], sorted(tensors)
        ([3, 3, 1], ['W1', 'W2', 'b1', 'b2'])
        """
        if objects is not None:
            doc.attributes_to_pickle(self, _PICKLED_AS_THEY_ARE, objects)
        if objects is not None and "network_" not in vars(self):
            return doc.estimator_to_document(self, objects), {}
        check_is_fitted(self, "network_")
        net_doc, tensors = self.network_.to_document(objects=objects)
        document = {**doc.estimator_to_document(self, objects), **net_doc}
        if is_classifier(self):
            document["label_type"] = self.label_type_
        if objects is None:
            try:  # what from_document checks: a described model is one that loads
                _check_hidden_layers(self, self.network_, document["hyperparameters"])
            except doc.ModelFileError as exc:
                raise ValueError(
                    f"cannot describe this {type(self).__name__}: {exc}; set the "
                    "hyperparameters back to those it was fitted with, or fit it again"
                ) from None
        if training_state:
            document["training_state"], state_tensors = self._training_state(objects)
            tensors.update(state_tensors)
        return document, tensors

    def _training_state(self, objects: doc.Objects | None) -> tuple[doc.Document, doc.Tensors]:
        """Return the section "training_state" of the document, and its tensors.

        The network's θ is described with the weights; here are the optimizer's memory
        (velocities, Adam's moments; not its scratch arrays), the schedule, the history's
        figures and the dropout stream. Not the solver's raw result (L-BFGS's
        inverse-Hessian memory) nor the copy of the best weights, unless early stopping
        may still restore weights other than the current ones.
        """
        state: doc.Document = {}
        tensors: doc.Tensors = {}
        optimizer = vars(self).get("_optimizer")
        if optimizer is not None:
            state["optimizer"], tensors = doc.optimizer_to_document(optimizer)
        schedule = vars(self).get("_lr_schedule")
        if schedule is not None:
            state["schedule"] = doc.schedule_to_document(schedule, objects)
        rng = vars(self).get("_rng")
        if rng is not None:
            same = objects is not None and rng is self.random_state
            state["dropout_rng"] = "random_state" if same else doc.rng_to_document(rng)
        history = vars(self).get("_history")
        if history is not None:
            state["history"] = doc.history_to_document(history)
            best, theta = history.best_theta, self.network_.theta
            if self.early_stopping and best is not None:
                same = best.shape == theta.shape
                if same and bool(arrays.namespace_of(theta).all(best == theta)):
                    state["best_theta"] = "current"
                else:
                    state["best_theta"] = "tensor"
                    tensors["best_theta"] = arrays.to_numpy(best)
        return state, tensors

    @classmethod
    def from_document(
        cls,
        document: doc.Document,
        tensors: doc.Tensors,
        xp=None,
        device=None,
        objects: doc.Objects | None = None,
    ):
        """Rebuild a fitted estimator from :meth:`to_document`'s description.

        There is no ``__init__`` validation; every field is checked as it is read. The
        network is put on the array library ``xp`` and ``device`` (default NumPy). A
        description with a training state goes on training where it stopped; one
        without starts a new optimizer at the next ``partial_fit``. ``objects`` are a
        pickle's (see :mod:`nnmath.document`).

        Examples
        --------
        >>> import numpy as np
        >>> reg = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", random_state=0)
        >>> reg = reg.fit(np.eye(3), [0.0, 1.0, 2.0])
        >>> document, tensors = reg.to_document()
        >>> again = MLPRegressor.from_document(document, dict(tensors))
        >>> bool((again.predict(np.eye(3)) == reg.predict(np.eye(3))).all())
        True
        """
        unfitted = doc.unfitted_from_pickle(cls, document, objects)
        if unfitted is not None:
            return unfitted
        model = cls.__new__(cls)  # no __init__: set attributes only
        trusted = objects is not None
        net = Network.from_document(document, tensors, xp=xp, device=device, objects=objects)
        doc.estimator_from_document(model, document, net.layer_sizes[0], objects)
        if not trusted and isinstance(model.hidden_layer_sizes, list):
            model.hidden_layer_sizes = tuple(model.hidden_layer_sizes)
        model.network_ = net
        model.n_outputs_ = net.layer_sizes[-1]
        model.n_layers_ = len(net.layer_sizes)
        out = net.activations[-1].name
        model.out_activation_ = _SKLEARN_NAME.get(out, out)
        model._restore_labels(document)
        try:
            expected = model._output_and_loss()
        except (AttributeError, TypeError, ValueError):
            expected = None
        if expected == (out, "sklearn_squared_error") and net.loss.name == "squared_error":
            net.loss = _losses.get(expected[1])  # nnmath 0.1.0's files name squared_error
        if not trusted:  # a pickle holds the hyperparameters as they were set since
            if expected != (out, net.loss.name):
                raise doc.ModelFileError(
                    f"a {cls.__name__} with loss={getattr(model, 'loss', None)!r:.40} has "
                    + (f"a {expected[0]} output and the {expected[1]} loss" if expected else "?")
                    + f"; the file's network has a {out} output and the {net.loss.name} loss"
                )
            given = {
                "hidden_layer_sizes": model.hidden_layer_sizes,
                "activation": model.activation,
            }
            _check_hidden_layers(model, net, given)  # the file's, or the defaults where absent
        if "training_state" in document:
            model._resume(document["training_state"], tensors, objects)
        doc.attributes_from_pickle(model, objects)
        return model

    def _resume(self, state, tensors: doc.Tensors, objects: doc.Objects | None) -> None:
        """Take up the training state :meth:`_training_state` described."""
        if not isinstance(state, dict):
            raise doc.ModelFileError(f"'training_state' must be an object; got {state!r:.200}")
        unknown = sorted(
            set(state) - {"optimizer", "schedule", "dropout_rng", "history", "best_theta"}
        )
        if unknown:
            raise doc.ModelFileError(f"'training_state' has unknown entries {unknown!r:.200}")
        trusted, net = objects is not None, self.network_
        if "optimizer" in state:
            self._optimizer = doc.optimizer_from_document(state["optimizer"], tensors, net, trusted)
            solver_class = Adam if self.solver == "adam" else SGD
            if not trusted and type(self._optimizer) is not solver_class:
                raise doc.ModelFileError(
                    f"the training state's optimizer is {type(self._optimizer).__name__}; "
                    f"solver={self.solver!r:.40} trains with {solver_class.__name__}"
                )
            if "schedule" not in state:
                raise doc.ModelFileError("'training_state' has an optimizer but no 'schedule'")
            self._lr_schedule = doc.schedule_from_document(state["schedule"], objects)
        if state.get("dropout_rng") == "random_state" and trusted:
            self._rng = self.random_state
        elif "dropout_rng" in state:
            self._rng = doc.rng_from_document(state["dropout_rng"])
        if "history" in state:
            history = self._history = History(**doc.history_from_document(state["history"]))
            for attribute, field in (
                ("loss_curve_", "loss_curve"),
                ("validation_scores_", "validation_scores"),
                ("validation_loss_curve_", "validation_loss_curve"),
            ):
                if vars(self).get(attribute) == getattr(history, field):  # the same list
                    setattr(self, attribute, getattr(history, field))
            best = state.get("best_theta")
            if best == "current":
                history.best_theta = arrays.copy_of(net.theta)
            elif best == "tensor":
                if "best_theta" not in tensors:
                    raise doc.ModelFileError(
                        "'best_theta' is 'tensor' but there is no tensor 'best_theta'"
                    )
                theta = doc.state_tensor(tensors, "best_theta", net, trusted)
                history.best_theta = net.asarray(theta.copy())
            elif best is not None:
                raise doc.ModelFileError(
                    f"'best_theta' must be 'current' or 'tensor' (with the tensor "
                    f"'best_theta'); got {best!r:.100}"
                )

    def _restore_labels(self, document: doc.Document) -> None:
        """Restore a classifier's classes and label encoding from its description."""

    # ------------------------------------------------------------------ pickling
    def __reduce__(self):
        """Pickle as the model document with its training state (see :meth:`to_document`).

        What no name describes (callable hyperparameters, a custom schedule, activation
        or loss) travels beside the document as the object itself. An estimator not
        fitted yet pickles its hyperparameters.
        """
        return doc.pickle_reduce(self, vars(self).get("network_"))

    # ------------------------------------------------------------------ display
    def _network_svg(self) -> str | None:
        """Return the fitted network's drawing as SVG (:mod:`nnmath.diagram`); None before fit."""
        net = vars(self).get("network_")
        if net is None:
            return None
        weights = [arrays.to_numpy(W) for W in net.W]
        names = [a.name for a in net.activations]
        return diagram.to_svg(
            diagram.layout(weights, names), title=f"{type(self).__name__} network"
        )

    def _repr_html_inner(self) -> str:
        """Scikit-learn's parameter diagram, then the fitted network's drawing below it."""
        html = super()._repr_html_inner()
        svg = self._network_svg()
        return html if svg is None else f"{html}\n<div>{svg}</div>"

    def _repr_mimebundle_(self, **kwargs) -> dict:
        """Return scikit-learn's bundle for Jupyter, with the drawing once fitted.

        With scikit-learn's ``display="diagram"`` (its default) the drawing follows its
        HTML; with ``display="text"`` it is given alone as ``image/svg+xml``.
        """
        output = super()._repr_mimebundle_(**kwargs)
        svg = self._network_svg()
        if svg is not None:
            if "text/html" in output:
                output["text/html"] = f"{output['text/html']}\n<div>{svg}</div>"
            else:
                output["image/svg+xml"] = svg
        return output

    def _check_solver(self):
        if self.solver not in ("sgd", "adam", "gd"):
            raise AttributeError(
                f"partial_fit is only available for stochastic optimizers. {self.solver} is "
                "not stochastic."
            )
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, a drop-in for scikit-learn's.

    The output layer is a sigmoid for two classes or multilabel targets, a softmax
    otherwise; the cost is the log loss (cross-entropy) plus the L2 term
    (α / 2n) Σ‖W‖². Parameters are scikit-learn's (same names, defaults and meanings);
    the ones below the line are nnmath's additions.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default (100,)
    activation : {"identity", "logistic", "tanh", "relu"} or list, default "relu"
        Also "sigmoid" (= "logistic") and "leaky_relu"; a list gives one per hidden layer.
    solver : {"lbfgs", "sgd", "adam", "gd"}, default "adam"
        "gd" is the article's full-batch gradient descent (plain, no momentum).
    alpha : float, default 0.0001
        L2 penalty, scaled by 1/n_samples of the batch as scikit-learn does.
    l1 : float, default 0.0
        L1 penalty λ₁ (an nnmath addition): adds (λ₁ / n) Σ|W| to the cost, scaled as
        ``alpha`` is; its subgradient (λ₁/n)·sign(W), with sign(0) = 0, pushes weights
        toward exactly zero. Biases are not penalized.
    batch_size : int or "auto", default "auto" (= min(200, n_samples))
    learning_rate : {"constant", "invscaling", "adaptive", "cosine", "step"} or Schedule
    learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose,
    warm_start, momentum, nesterovs_momentum, early_stopping, validation_fraction,
    beta_1, beta_2, epsilon, n_iter_no_change, max_fun
        As in scikit-learn. ``verbose``: 0 silent, 1 a progress bar on a terminal and
        scikit-learn's "Iteration N, loss = …" lines elsewhere, 2 one line per epoch
        with every figure.
    loss : {"log_loss", "mse"}, default "log_loss"
        "mse" is the article's cost Σₖ (yₖ − ŷₖ)² on the output probabilities.
    dropout : float or list of float, default 0.0
        Inverted-dropout rate after each hidden layer while training.
    scoring : str, callable or None, default None
        The validation metric (a scikit-learn scorer name or callable); None: accuracy.
    restore_best_weights : bool, default True
        With early stopping, end on the weights of the best validation score.
    callbacks : list of callable, optional
        ``f(estimator, info)`` after every epoch; ``info`` holds epoch, loss, val_loss,
        val_score, learning_rate and seconds. Returning True stops training.
    class_weight : dict, "balanced" or None, default None
        Weights of the classes, as scikit-learn's other classifiers take them
        (``sklearn.utils.class_weight.compute_class_weight``): a dict ``{class: weight}``
        (classes it leaves out weigh 1), or "balanced", n / (n_classes · n_c) with n_c
        the sum of class c's sample weights. Each row's weight in the cost is its
        class's weight times its ``sample_weight``, set before ``validation_fraction`` is
        split off (a ``validation_data`` set is not weighted). Every solver, ``fit_data``
        and Dask data take it; ``partial_fit`` takes a dict only (as scikit-learn's
        SGDClassifier: one call's rows do not give the classes' frequencies).
        Multilabel targets take none (weigh their rows with ``sample_weight``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coefs_, intercepts_ : list of ndarray
        W_l of shape (n_l, n_{l+1}) and b_l of shape (n_{l+1},).
    loss_, best_loss_ : float
    loss_curve_ : list of float
    validation_scores_, validation_loss_curve_ : list of float or None
    best_validation_score_ : float or None
    n_iter_, t_, n_layers_, n_outputs_, out_activation_, n_features_in_,
    feature_names_in_
        As in scikit-learn.
    stop_reason_ : str
        Why training stopped, in words.
    network_ : Network
        The trained network.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from nnmath import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:2]).shape
    (2, 3)
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions(set(registry.losses_for("classification")))],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=_DEFAULTS["hidden_layer_sizes"],
        activation=_DEFAULTS["activation"],
        *,
        solver=_DEFAULTS["solver"],
        alpha=_DEFAULTS["alpha"],
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=_DEFAULTS["learning_rate_init"],
        power_t=0.5,
        max_iter=_DEFAULTS["max_iter"],
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=_DEFAULTS["validation_fraction"],
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=_DEFAULTS["n_iter_no_change"],
        max_fun=15000,
        l1=0.0,
        loss="log_loss",
        dropout=0.0,
        scoring=None,
        restore_best_weights=True,
        callbacks=None,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            l1=l1,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            scoring=scoring,
            restore_best_weights=restore_best_weights,
            callbacks=callbacks,
        )
        self.class_weight = class_weight

    def _set_labels(self, fit_on, classes=None) -> None:
        """Fit the label encoding on ``fit_on``; ``classes_`` are its classes (or ``classes``).

        A single class is fitted as scikit-learn does: one sigmoid output trained towards
        0 (LabelBinarizer's encoding of it); predict returns the class.
        """
        self._label_binarizer = LabelBinarizer().fit(fit_on)
        self.classes_ = self._label_binarizer.classes_ if classes is None else classes

    def _targets(self, source, incremental: bool, classes=None) -> int:
        """Set classes_ and the label encoding (a first fit) or check y's labels against them.

        ``classes``: partial_fit's first call, whose classes are every label. Returns the
        number of outputs.
        """
        fresh = classes is None and (
            not hasattr(self, "classes_") or (not self.warm_start and not incremental)
        )
        labels = source.labels(fresh, "labels")
        if classes is not None:
            self._set_labels(labels.fit_on if source.multilabel() else classes, classes)
        elif fresh:
            self._set_labels(labels.fit_on)
            source.check_classes(self.classes_)
        if not fresh:
            known = arrays.to_numpy(self.classes_)
            seen = known if labels.seen is None else labels.seen
            if self.warm_start and not incremental and set(seen) != set(known):
                raise ValueError(
                    f"warm_start can only be used where `y` has the same classes as in the "
                    f"previous call to fit. Previously got {self.classes_}, `y` has {seen}"
                )
            if len(np.setdiff1d(seen, known)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {seen}."
                )
        binarizer = self._label_binarizer  # its encoding's columns
        return 1 if binarizer.y_type_ == "binary" else len(binarizer.classes_)

    def _encoding(self, dtype) -> Encoding:
        def chunk_checks():
            multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
            return distributed.ChunkChecks(
                self.n_features_in_,
                dtype,
                encode=self._label_binarizer.transform,
                classes=None if multilabel else arrays.to_numpy(self.classes_),
            )

        return Encoding(
            lambda y, X: as_float(self._label_binarizer.transform(y), X),
            chunk_checks,
            lambda: np.asarray(self.classes_).dtype,
        )

    def _encode_validation_targets(self, y_val, like):
        return as_float(self._label_binarizer.transform(y_val), like)

    def _class_weights(self, counts, incremental: bool) -> np.ndarray:
        """Return the weight of each class of ``classes_`` for ``class_weight`` (not None).

        ``counts()`` gives the weight of each class in the data, for "balanced".
        """
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError(
                f"class_weight={self.class_weight!r:.100} needs single-label targets (binary "
                "or multiclass); y is a multilabel indicator. Weigh its rows with "
                "sample_weight instead, e.g. sklearn.utils.class_weight.compute_sample_weight"
                "('balanced', y)"
            )
        if incremental and isinstance(self.class_weight, str):
            # scikit-learn's SGDClassifier refuses it too: one call sees too few rows to
            # count the classes.
            raise ValueError(
                f"class_weight={self.class_weight!r} is not supported for partial_fit: one "
                "call's rows do not give the classes' frequencies. Compute the weights "
                "with sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) on y (or a large enough sample of it) and pass them "
                "as a dict: class_weight=dict(zip(classes, weights))"
            )
        classes = arrays.to_numpy(self.classes_)
        balanced = isinstance(self.class_weight, str)
        return class_weight_of(self.class_weight, classes, counts() if balanced else None)

    def _weigh_classes(self, source, incremental: bool) -> None:
        if self.class_weight is not None:
            weights_of = lambda counts: self._class_weights(counts, incremental)  # noqa: E731
            source.weigh(weights_of, len(self.classes_))

    def _output_and_loss(self):
        return registry.recipe(self.loss, self._label_binarizer.y_type_ == "multiclass")

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Fit the network to X and labels y.

        X has shape (n_samples, n_features), y shape (n_samples,) or is a multilabel
        indicator (n_samples, n_labels). Returns self.

        ``validation_data=(X_val, y_val)`` is a validation set used instead of
        ``validation_fraction``: its cost goes to ``validation_loss_curve_``, its score
        to ``validation_scores_``, and early stopping watches it.

        X, y, sample_weight (and the validation set) may be Dask collections; see
        :mod:`nnmath.data.cluster` for what is computed where.
        """
        return self._fit(self._input(X, y, sample_weight), validation_data=validation_data)

    def _first_partial_fit(self, classes):
        """Return the classes of the first ``partial_fit`` call (``classes``), else None.

        Later calls may repeat ``classes`` but not change it.
        """
        known = getattr(self, "classes_", None)
        if known is None and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if classes is None:
            return None
        if known is not None:
            if not np.array_equal(known, unique_labels(classes)):
                raise ValueError(
                    f"`classes={classes!r}` is not the same as on last call to partial_fit, "
                    f"was: {known!r}"
                )
            return None
        return unique_labels(classes)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one epoch over (X, y), keeping the optimizer's state between calls.

        ``classes`` (all labels) is required on the first call. Returns self.
        """
        first = self._first_partial_fit(classes)
        return self._fit(self._input(X, y, sample_weight), incremental=True, classes=first)

    def predict(self, X) -> np.ndarray:
        """Predicted labels, shape (n_samples,) (or (n_samples, n_labels) multilabel).

        With array-API dispatch the labels are in ``classes_``'s library: the input's
        when y was an array of it, NumPy when y held labels only NumPy has (strings).
        """
        if distributed.is_collection(X):
            return self._lazy(X, "predict")
        return self._outputs(self._forward(X, "predict"), "predict")

    def _outputs(self, y_hat, method: str):
        """Return ``method``'s result from the network's output ``y_hat``."""
        if method == "predict":
            if self.n_outputs_ == 1:
                y_hat = flat(y_hat)
            if type(self.classes_) is np.ndarray and type(y_hat) is not np.ndarray:
                y_hat = arrays.to_numpy(y_hat)  # labels live on the host
            return self._label_binarizer.inverse_transform(y_hat)
        proba = y_hat
        if self.n_outputs_ == 1:
            p = flat(y_hat)
            proba = arrays.namespace_of(p).stack([1 - p, p], axis=1)
        return proba if method == "predict_proba" else arrays.namespace_of(proba).log(proba)

    def predict_proba(self, X) -> np.ndarray:
        """Return class probabilities, shape (n_samples, n_classes).

        They are in X's float dtype (and library, with array-API dispatch). A Dask X gives
        a lazy Dask array.
        """
        if distributed.is_collection(X):
            return self._lazy(X, "predict_proba")
        return self._outputs(self._forward(X, "predict_proba"), "predict_proba")

    def predict_log_proba(self, X) -> np.ndarray:
        """Return the log of :meth:`predict_proba`, shape (n_samples, n_classes)."""
        if distributed.is_collection(X):
            return self._lazy(X, "predict_log_proba")
        return self._outputs(self._forward(X, "predict_log_proba"), "predict_log_proba")

    def _restore_labels(self, document: doc.Document) -> None:
        if "classes_" not in document:
            raise doc.ModelFileError("the model document has no 'classes_'")
        self.classes_ = doc.classes_from_document(document["classes_"])
        label_type = doc.get(
            document,
            "label_type",
            lambda v: v in ("binary", "multiclass", "multilabel-indicator"),
            "'binary', 'multiclass' or 'multilabel-indicator'",
        )
        n = len(self.classes_)
        # What LabelBinarizer makes of the labels: "binary" for one or two classes,
        # "multiclass" for more, and for a multilabel indicator the labels 0 … n − 1.
        fits = {
            "binary": n <= 2,
            "multiclass": n >= 3,
            "multilabel-indicator": n >= 2
            and self.classes_.dtype.kind in "iu"
            and self.classes_.tolist() == list(range(n)),
        }[label_type]
        if not fits:
            raise doc.ModelFileError(
                f"'classes_' {self.classes_.tolist()!r:.200} cannot be {label_type} labels"
            )
        expected = 1 if label_type == "binary" else n
        if self.n_outputs_ != expected:
            raise doc.ModelFileError(
                f"{n} {label_type} classes need {expected} output(s); "
                f"the network has {self.n_outputs_}"
            )
        if label_type == "multilabel-indicator":
            self._set_labels(np.eye(n, dtype=int), self.classes_)
            self._label_binarizer.classes_ = self.classes_
        else:
            self._set_labels(self.classes_, self.classes_)

    def score(self, X, y, sample_weight=None) -> float:
        """Return the mean accuracy on (X, y), weighted by ``sample_weight`` (scikit-learn's).

        On Dask collections it is computed chunk by chunk on the cluster (two numbers
        per chunk come back) and returned as a float.
        """
        if distributed.is_collection(X):
            check_is_fitted(self, "network_")
            return distributed.score(self, X, y, sample_weight, kind="accuracy")
        return super().score(X, y, sample_weight=sample_weight)

    @property
    def label_type_(self) -> str:
        """How the labels were encoded for the network.

        "binary" (one sigmoid output), "multiclass" (one softmax output per class) or
        "multilabel-indicator" (one sigmoid output per label).
        """
        check_is_fitted(self, "classes_")
        return self._label_binarizer.y_type_

    def encode_labels(self, y) -> np.ndarray:
        """Encode labels y as the network's targets.

        The targets have shape (n_samples, n_outputs) of 0 and 1 (one column for two
        classes, one-hot rows for more).

        Examples
        --------
        >>> import numpy as np
        >>> X = np.array([[0.0], [1.0], [2.0]])
        >>> clf = MLPClassifier(hidden_layer_sizes=(2,), max_iter=5).fit(X, ["a", "b", "c"])
        >>> clf.encode_labels(["c", "a"]).tolist()
        [[0, 0, 1], [1, 0, 0]]
        """
        check_is_fitted(self, "classes_")
        return self._label_binarizer.transform(y)

    def __sklearn_tags__(self):
        """Return scikit-learn's tags, with multilabel support."""
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, a drop-in for scikit-learn's.

    The output layer is the identity (exp for the Poisson loss); the cost is the loss
    plus the L2 term (α / 2n) Σ‖W‖² and the L1 term (λ₁ / n) Σ|W| (``l1``).

    Parameters
    ----------
    loss : {"squared_error", "poisson", "mae", "huber"}, default "squared_error"
        "squared_error" is scikit-learn's ½·mean (y − ŷ)²; "poisson" the half Poisson
        deviance with an exp output; "mae" Σ|y − ŷ|; "huber" (δ = 1). With k > 1
        outputs, "squared_error" is scikit-learn's pair: ``loss_`` and ``loss_curve_``
        report ½·(1/k) Σₖ mean (yₖ − ŷₖ)² (the mean over every sample and output),
        while training steps along the gradient of ½ Σₖ mean (yₖ − ŷₖ)², k times the
        reported cost's (L-BFGS is handed that value and that gradient); the L2 term
        counts once in both (:class:`nnmath.core.losses.SklearnSquaredError`).
    hidden_layer_sizes, activation, solver, … callbacks
        As for :class:`MLPClassifier` (``scoring`` defaults to R²).

    Attributes
    ----------
    As for :class:`MLPClassifier`, without ``classes_``.

    Examples
    --------
    >>> import numpy as np
    >>> from nnmath import MLPRegressor
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1); y = X.ravel() ** 2
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0)
    >>> reg.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions(set(registry.losses_for("regression")))],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=_DEFAULTS["hidden_layer_sizes"],
        activation=_DEFAULTS["activation"],
        *,
        solver=_DEFAULTS["solver"],
        alpha=_DEFAULTS["alpha"],
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=_DEFAULTS["learning_rate_init"],
        power_t=0.5,
        max_iter=_DEFAULTS["max_iter"],
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=_DEFAULTS["validation_fraction"],
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=_DEFAULTS["n_iter_no_change"],
        max_fun=15000,
        l1=0.0,
        dropout=0.0,
        scoring=None,
        restore_best_weights=True,
        callbacks=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            l1=l1,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            dropout=dropout,
            scoring=scoring,
            restore_best_weights=restore_best_weights,
            callbacks=callbacks,
        )

    def _targets_of_arrays(self, y, X):
        """Return checked numeric targets y as the network's targets (X's library, dtype)."""
        Y = as_float(y, X)
        if Y.ndim == 1:
            Y = arrays.namespace_of(Y).reshape(Y, (-1, 1))
        if self.loss == "poisson" and bool(arrays.namespace_of(Y).any(Y < 0)):
            raise ValueError("loss='poisson' needs non-negative targets y; some are negative")
        return Y

    def _encode_validation_targets(self, y_val, like):
        # numeric, finite, of the network's number of outputs, and targets its loss
        # takes (no negative counts for the Poisson loss), as for y
        return self.network_.check_y(y_val, y_val.shape[0], name="validation_data's y_val")

    def _targets(self, source, incremental: bool, classes=None) -> int:
        return source.target_width("targets")

    def _encoding(self, dtype) -> Encoding:
        def chunk_checks():
            return distributed.ChunkChecks(
                self.n_features_in_, dtype, nonnegative=self.loss == "poisson"
            )

        return Encoding(self._targets_of_arrays, chunk_checks, lambda: dtype)

    def _output_and_loss(self):
        return registry.recipe(self.loss)

    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Fit the network to X and targets y.

        X has shape (n_samples, n_features), y shape (n_samples,) or (n_samples,
        n_outputs). Returns self. See :meth:`MLPClassifier.fit` for ``validation_data``.
        """
        return self._fit(self._input(X, y, sample_weight), validation_data=validation_data)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), keeping the optimizer's state between calls."""
        return self._fit(self._input(X, y, sample_weight), incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predict, shape (n_samples,) or (n_samples, n_outputs).

        A Dask X gives a lazy Dask array.
        """
        if distributed.is_collection(X):
            return self._lazy(X, "predict")
        return self._outputs(self._forward(X), "predict")

    def _outputs(self, y_hat, method: str):
        """Return ``method``'s result (predict's) from the network's output ``y_hat``."""
        return flat(y_hat) if y_hat.shape[1] == 1 else y_hat

    def score(self, X, y, sample_weight=None) -> float:
        """R² of the predictions on (X, y), weighted by ``sample_weight`` (scikit-learn's).

        On Dask collections it is computed chunk by chunk on the cluster (a few numbers
        per chunk come back) and returned as a float.
        """
        if distributed.is_collection(X):
            check_is_fitted(self, "network_")
            return distributed.score(self, X, y, sample_weight, kind="r2")
        return super().score(X, y, sample_weight=sample_weight)
