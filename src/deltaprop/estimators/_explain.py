"""Beyond scikit-learn: the worked solution of a fitted estimator's training step."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..optimizers import Optimizer, get_optimizer
from ..trace import Trace, explain
from ._params import make_optimizer

Array = np.ndarray


class ExplainMixin:
    """``explain(X, y)`` for :class:`~deltaprop.MLPClassifier` and :class:`~deltaprop.MLPRegressor`
    (they supply ``_check_X``, ``_explain_targets`` and ``_output``)."""

    def _explain_targets(self, y) -> Array:
        raise NotImplementedError

    def explain(self, X: ArrayLike, y: ArrayLike, *, steps: int = 1) -> Trace:
        """A worked solution (:func:`deltaprop.explain`) of ``steps`` training steps of a copy of
        the fitted network on the batch ``(X, y)``, with this model's solver, learning rate and
        loss. The trace leaves out the ``alpha`` penalty; ``"lbfgs"`` is traced as plain gradient
        descent."""
        X = self._check_X(X)
        if hasattr(X, "toarray"):
            X = X.toarray()
        target = self._explain_targets(y)
        if target.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {target.shape[0]}")
        opt = self._optimizer if "_optimizer" in vars(self) else self._explain_optimizer()
        _, _, loss, _ = self._output()
        return explain(
            self.network_, X, target, learning_rate=opt.learning_rate, optimizer=opt,
            steps=steps, loss=loss,
        )  # fmt: skip

    def _explain_optimizer(self) -> Optimizer:
        if self.solver == "lbfgs":
            return get_optimizer("sgd", learning_rate=self.learning_rate_init)
        return make_optimizer(self)

