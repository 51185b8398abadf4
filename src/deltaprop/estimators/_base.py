"""What MLPClassifier and MLPRegressor share: parameters, initialisation, the solvers' bookkeeping.

The network is a :class:`deltaprop.Network` (``network_``); ``coefs_``/``intercepts_`` are views of
its weights in scikit-learn's orientation (``coefs_[l] = Wˡ⁺¹ᵀ``, shape (fan_in, fan_out)). The
stochastic solvers run :func:`deltaprop.epoch.run_epoch` once per epoch and keep scikit-learn's
rules around it (stopping on ``tol``/``n_iter_no_change``, ``learning_rate`` schedules, early
stopping on a validation score); ``"lbfgs"`` is :func:`._lbfgs.fit_lbfgs`.
"""

from __future__ import annotations

import math
import time
import warnings
from itertools import pairwise

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..activations import Activation
from ..epoch import run_epoch
from ..network import Network
from ..norms import EpochNorms
from ..step import TrainingStep
from ..training import History
from ..validation import check_dtype, check_sample_weight
from ._checkpoint import CheckpointMixin
from ._explain import ExplainMixin
from ._holdout import hold_out
from ._lbfgs import fit_lbfgs
from ._params import SGD_FAMILY, check_params, hidden_activations, hidden_sizes, make_optimizer

Array = np.ndarray

_SPARSE = ["csr", "csc"]


class BaseMLP(CheckpointMixin, ExplainMixin, BaseEstimator):
    """Shared parameters and fitting; use :class:`MLPClassifier` or :class:`MLPRegressor`."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dtype="float64",
        solver_params=None,
        checkpoint_dir=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
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
        self.dtype = dtype
        self.solver_params = solver_params
        self.checkpoint_dir = checkpoint_dir

    # --- what the subclasses define ------------------------------------------------------------

    def _validate_input(self, X, y, incremental: bool, reset: bool, dtype):
        """``(X, T, y)``: inputs, targets (n, outputs) of ``dtype``, and ``y`` as validated."""
        raise NotImplementedError

    def _output(self) -> tuple[str, Activation | str, object, float]:
        """``(out_activation_, output activation, engine loss, loss_scale)``."""
        raise NotImplementedError

    def _score_output(self, out: Array, y, sample_weight) -> float:
        raise NotImplementedError

    def _stratify(self, y):
        return None

    def _accuracy_kind(self) -> str | None:
        return None

    # --- fitted state as scikit-learn names it ------------------------------------------------

    @property
    def coefs_(self) -> list[Array]:
        """``coefs_[l]``: weights from layer l to l+1, (fan_in, fan_out) views of ``network_``."""
        return [layer.W.T for layer in self._fitted_network().layers]

    @coefs_.setter
    def coefs_(self, coefs) -> None:
        net = self._fitted_network()
        for i, (layer, c) in enumerate(zip(net.layers, _as_list(coefs, net), strict=True)):
            layer.W[...] = _check_shape(np.asarray(c).T, layer.W.shape, f"coefs_[{i}]ᵀ")

    @property
    def intercepts_(self) -> list[Array]:
        """``intercepts_[l]``: biases of layer l+1, views of ``network_``."""
        return [layer.b for layer in self._fitted_network().layers]

    @intercepts_.setter
    def intercepts_(self, intercepts) -> None:
        net = self._fitted_network()
        for i, (layer, b) in enumerate(zip(net.layers, _as_list(intercepts, net), strict=True)):
            layer.b[...] = _check_shape(np.asarray(b), layer.b.shape, f"intercepts_[{i}]")

    def _fitted_network(self) -> Network:
        if "network_" not in vars(self):
            raise AttributeError(f"{type(self).__name__} is not fitted yet: no coefs_/intercepts_")
        return self.network_

    def _check_params(self) -> None:
        check_params(self)

    # --- fitting -------------------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental: bool = False):
        self._check_params()
        hidden = hidden_sizes(self)
        first_pass = "network_" not in vars(self) or (not self.warm_start and not incremental)
        dtype = check_dtype(self.dtype)
        X, T, y = self._validate_input(X, y, incremental, reset=first_pass, dtype=dtype)
        sw = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0])
        rs = check_random_state(self.random_state)
        if first_pass:
            self._initialize(T, [X.shape[1], *hidden, T.shape[1]], dtype, rs)
        else:
            if T.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {T.shape[1]} outputs, the fitted model {self.n_outputs_}")
            if self.network_.dtype != dtype:  # dtype changed between calls: convert, restart
                self.network_ = self.network_.astype(dtype)
                vars(self).pop("_optimizer", None)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, T, sw)
        else:
            self._fit_stochastic(X, T, y, sw, rs, incremental)
        if not all(np.isfinite(p).all() for p in self.network_.params().values()):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may contain large "
                "values and need to be preprocessed."
            )
        self.network_ = self.network_.copy()  # drop the training buffers before pickling
        return self

    def _initialize(self, T: Array, layer_units: list[int], dtype, rs) -> None:
        """Fresh fitted state; weights and biases drawn as scikit-learn draws them (Glorot
        uniform, ``±√(6/(fan_in + fan_out))``, 2 in place of 6 for logistic layers)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = T.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_, out_act, _, _ = self._output()
        hidden = hidden_activations(self, len(layer_units) - 2)
        init_acts = hidden + [hidden[-1] if hidden else self.activation]
        weights, biases = [], []
        for (fan_in, fan_out), act in zip(pairwise(layer_units), init_acts, strict=True):
            factor = 2.0 if isinstance(act, str) and act in ("logistic", "sigmoid") else 6.0
            bound = math.sqrt(factor / (fan_in + fan_out))
            weights.append(rs.uniform(-bound, bound, (fan_in, fan_out)).T)
            biases.append(rs.uniform(-bound, bound, fan_out))
        self.network_ = Network.from_weights(weights, biases, [*hidden, out_act], dtype=dtype)
        self.loss_curve_ = []
        self.history_ = History()
        self._no_improvement_count = 0
        stochastic_es = self.early_stopping and self.solver != "lbfgs"
        self.validation_scores_ = [] if stochastic_es else None
        self.best_validation_score_ = -np.inf if stochastic_es else None
        self.best_loss_ = None if stochastic_es else np.inf
        self._best_weights = self.network_.get_weights()
        vars(self).pop("_optimizer", None)

    def _fit_lbfgs(self, X, T: Array, sw: Array | None) -> None:
        _, _, loss, scale = self._output()
        r = fit_lbfgs(
            self.network_, X, T, sw, self.alpha, loss, scale, self.max_iter, self.max_fun,
            self.tol, bool(self.verbose),
        )  # fmt: skip
        self.n_iter_ = r.n_iter
        self.loss_ = r.loss
        self.loss_curve_.extend(r.losses)
        self.best_loss_ = min(self.loss_curve_, default=self.loss_)
        h = self.history_
        h.loss.extend(r.losses)
        h.layer_grad_norms.extend(r.layer_grad_norms)
        h.grad_norm.extend(math.sqrt(sum(g * g for g in gs)) for gs in r.layer_grad_norms)
        h.layer_delta_norms.extend(r.layer_delta_norms)
        h.updates += r.n_iter

    def _fit_stochastic(self, X, T, y, sw, rs, incremental: bool) -> None:
        if not incremental or "_optimizer" not in vars(self):
            self._optimizer = make_optimizer(self)
            self._optimizer_state = self._optimizer.init(self.network_.params())
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        val = None
        if self.early_stopping:
            val, (X, T, sw) = hold_out(self.validation_fraction, rs, self._stratify(y), X, T, y, sw)
        n = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                    "clipped",
                    stacklevel=4,
                )
            batch_size = min(self.batch_size, n)
        _, _, loss, scale = self._output()
        net, opt, state, h = self.network_, self._optimizer, self._optimizer_state, self.history_
        h.optimizer_state = state
        order = np.arange(n)
        self._last_checkpoint = None
        step = TrainingStep(net, loss, opt, state)
        norms = EpochNorms(net)
        self.n_iter_ = 0
        try:
            for _ in range(self.max_iter):
                started = time.perf_counter()
                if self.shuffle:
                    # sklearn.utils.shuffle's draw, without its per-call argument validation
                    perm = np.arange(n)
                    rs.shuffle(perm)
                    order = order[perm]
                r = run_epoch(
                    step, X, T, order if self.shuffle else None, batch_size, sample_weight=sw,
                    l2=self.alpha, l2_per_weight=True, loss_scale=scale,
                    accuracy=self._accuracy_kind(), norms=norms,
                )  # fmt: skip
                if not r.finite:
                    raise ValueError(
                        f"Solver diverged: the training loss became {r.loss} in epoch "
                        f"{self.n_iter_ + 1}. Try a smaller learning_rate_init, or scale the data."
                    )
                self.n_iter_ += 1
                self.loss_ = r.loss
                self.t_ += n
                self.loss_curve_.append(r.loss)
                h.loss.append(r.loss)
                if self._accuracy_kind():
                    h.accuracy.append(r.correct / n)
                h.layer_grad_norms.append(r.layer_grad_norms)
                h.grad_norm.append(r.grad_norm)
                h.layer_delta_norms.append(r.layer_delta_norms)
                h.learning_rate.append(opt.learning_rate)
                h.updates += r.updates
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(val, loss, scale)
                if self.learning_rate == "invscaling" and self.solver in SGD_FAMILY:
                    self._set_learning_rate(self.learning_rate_init / (self.t_ + 1) ** self.power_t)
                h.epoch_seconds.append(time.perf_counter() - started)
                self._last_checkpoint = self._write_checkpoint() or self._last_checkpoint
                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score" if val is not None else "Training loss"
                    msg = (
                        f"{what} did not improve more than tol={self.tol:f} for "
                        f"{self.n_iter_no_change} consecutive epochs."
                    )
                    if self._trigger_stopping(msg):
                        break
                    self._no_improvement_count = 0
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and "
                        "the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=4,
                    )
        except KeyboardInterrupt:
            saved = f"; the run of epoch {self.n_iter_} is saved in {self._last_checkpoint}" if (
                self._last_checkpoint) else ""  # fmt: skip
            warnings.warn(f"Training interrupted by user{saved}.", stacklevel=4)
        if val is not None:
            net.set_weights(self._best_weights)

    def _update_no_improvement_count(self, val, loss, scale: float) -> None:
        if val is None:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
            return
        X_val, T_val, y_val, sw_val = val
        out = self._forward(X_val, check_finite=False)
        finite = bool(np.isfinite(out).all())
        score = self._score_output(out, y_val, sw_val) if finite else np.nan
        self.validation_scores_.append(score)
        h = self.history_
        h.val_loss.append(scale * loss.value(out, T_val, sw_val) if finite else np.nan)
        if self._accuracy_kind():
            h.val_accuracy.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_weights = self.network_.get_weights()
            h.best_epoch = len(h.loss) - 1

    def _set_learning_rate(self, new: float) -> None:
        """Change η between epochs. scikit-learn's SGD velocity holds ``η·v`` (PyTorch's, here,
        holds ``v``): rescaling ``v`` by ``η_old/η_new`` keeps ``η·v`` — and the next steps —
        exactly scikit-learn's."""
        opt, state = self._optimizer, self._optimizer_state
        for v in state.get("velocity", {}).values():
            v *= opt.learning_rate / new
        opt.learning_rate = new

    def _trigger_stopping(self, msg: str) -> bool:
        adaptive = self.learning_rate == "adaptive" and self.solver in SGD_FAMILY
        if not adaptive or self._optimizer.learning_rate <= 1e-6:
            if self.verbose:
                print(msg + (" Learning rate too small." if adaptive else "") + " Stopping.")
            return True
        self._set_learning_rate(self._optimizer.learning_rate / 5.0)
        if self.verbose:
            print(f"{msg} Setting learning rate to {self._optimizer.learning_rate:f}")
        return False

    # --- prediction ----------------------------------------------------------------------------

    def _check_X(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, accept_sparse=_SPARSE, dtype=self.network_.dtype)

    def _forward(self, X, check_finite: bool = True) -> Array:
        """The output ``aᴸ`` (n, outputs) for validated ``X``: the network's ``predict``; a sparse
        ``X`` is densified a block of rows at a time."""
        net = self.network_
        if not hasattr(X, "toarray"):
            return net.predict(X, check_finite=check_finite)
        rows = 4096
        blocks = [X[i : i + rows].toarray() for i in range(0, X.shape[0], rows)]
        if not blocks:
            blocks = [np.empty((0, X.shape[1]), dtype=net.dtype)]
        return np.concatenate([net.predict(b, check_finite=check_finite) for b in blocks])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _as_list(values, net: Network) -> list:
    values = list(values)
    if len(values) != net.n_layers:
        raise ValueError(f"expected {net.n_layers} arrays, one per layer; got {len(values)}")
    return values


def _check_shape(a: Array, shape: tuple, name: str) -> Array:
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    return a
