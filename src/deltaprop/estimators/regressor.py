"""``MLPRegressor``: scikit-learn's multi-layer perceptron regressor on the deltaprop engine."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import xlogy
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..activations import Activation
from ..losses import Loss, get_loss
from ._base import _SPARSE, BaseMLP

Array = np.ndarray


def _exp(z, out):
    return np.exp(z, out=out)


def _exp_d(z, a, out):
    np.copyto(out, a)  # (eᶻ)' = eᶻ = a
    return out


def _poisson(o, t):
    return (xlogy(t, t / o) - t + o).sum(axis=1)


def _poisson_grad(o, t, out):
    np.divide(t, o, out=out)
    np.subtract(1, out, out=out)
    return out


#: The log link of Poisson regression: ``o = eᶻ``.
EXP = Activation("exp", _exp, _exp_d, "e^z", "a")
#: scikit-learn's "poisson" loss, ``J = Σₖ [t log(t/o) − t + o]``; after ``o = eᶻ`` its output
#: delta is ``(1 − t/o)·o = o − t``, the shortcut this pair shares with the other canonical links.
POISSON = Loss("poisson", _poisson, _poisson_grad, "Σ [t log(t/o) − t + o]", "1 − t/o", "exp")


class MLPRegressor(RegressorMixin, BaseMLP):
    """A multi-layer perceptron regressor, trained by explicit backpropagation.

    Takes scikit-learn's ``MLPRegressor`` parameters with their meanings (``loss`` first, as
    there) and exposes its fitted attributes. ``loss="squared_error"``: identity output and
    ``J = ½ Σₖ (oₖ − tₖ)²``, whose ``loss_`` is reported as scikit-learn reports it, averaged over
    the outputs (½·mean squared error); ``"poisson"``: exponential output and the Poisson deviance.

    Beyond scikit-learn (as :class:`MLPClassifier`): every deltaprop optimizer as ``solver``
    (``solver_params`` for further settings), one activation per hidden layer, ``dtype``,
    ``history_``, ``network_``, ``explain``, and ``checkpoint_dir`` with ``from_checkpoint``.
    """

    def __init__(
        self,
        loss="squared_error",
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
        self.loss = loss
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
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
            dtype=dtype,
            solver_params=solver_params,
            checkpoint_dir=checkpoint_dir,
        )

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> MLPRegressor:
        """Fit to ``X`` (n, features) and targets ``y`` (n,) or (n, outputs)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self) -> bool:
        if self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers")
        return True

    @available_if(_check_solver)
    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _check_params(self) -> None:
        if self.loss not in ("squared_error", "poisson"):
            raise ValueError(f"loss must be 'squared_error' or 'poisson'; got {self.loss!r}")
        super()._check_params()

    def _validate_input(self, X, y, incremental, reset, dtype):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE,
            multi_output=True,
            y_numeric=True,
            dtype=dtype,
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and (y < 0).any():
            raise ValueError("loss='poisson' requires non-negative y")
        return X, y.reshape(len(y), -1).astype(dtype, copy=False), y

    def _output(self):
        if self.loss == "poisson":
            return "exp", EXP, POISSON, 1.0
        # identity + ½ squared error: δᴸ = o − t, the gradient of ½ Σₖ (oₖ − tₖ)². scikit-learn
        # trains on that gradient but reports the error averaged over the k outputs: scale 1/k.
        return "identity", "identity", get_loss("squared_error"), 1.0 / self.n_outputs_

    def _score_output(self, out, y, sample_weight) -> float:
        return r2_score(y, out.ravel() if out.shape[1] == 1 else out, sample_weight=sample_weight)

    def _explain_targets(self, y) -> Array:
        check_is_fitted(self)
        return np.asarray(y, dtype=self.network_.dtype).reshape(len(y), -1)

    def predict(self, X: ArrayLike) -> Array:
        """Predictions, (n,) for one output or (n, outputs)."""
        out = self._forward(self._check_X(X))
        return out.ravel() if out.shape[1] == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags
