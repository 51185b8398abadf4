"""Beyond scikit-learn: the worked solution of a fitted estimator's training step, and its
training report."""

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

    def _batch(self, X, y) -> tuple[Array, Array]:
        """``X`` checked (a sparse one densified) and ``y`` as the network's targets."""
        X = self._check_X(X)
        if hasattr(X, "toarray"):
            X = X.toarray()
        T = self._explain_targets(y)
        if T.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} samples but y has {T.shape[0]}")
        return X, T

    def explain(self, X: ArrayLike, y: ArrayLike, *, steps: int = 1) -> Trace:
        """A worked solution (:func:`deltaprop.explain`) of ``steps`` training steps of a copy of
        the fitted network on the batch ``(X, y)``, with this model's solver, learning rate and
        loss. The trace leaves out the ``alpha`` penalty; ``"lbfgs"`` is traced as plain gradient
        descent."""
        X, target = self._batch(X, y)
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

    def report(self, X: ArrayLike, y: ArrayLike, *, path=None, title: str | None = None) -> str:
        """A training report (:func:`deltaprop.report`) of the fitted network on ``(X, y)``: the
        model, these estimator's parameters, the learning curves, the results on ``(X, y)``;
        written to ``path`` if given, returned as HTML."""
        from ..report import report

        X, T = self._batch(X, y)
        _, _, loss, _ = self._output()
        settings = {k: v for k, v in self.get_params().items() if v is not None}
        classes = list(vars(self).get("classes_", [])) or None
        return report(self.network_, self.history_, X, T, path=path, loss=loss,
                      title=title or f"{type(self).__name__} training report",
                      settings=settings, classes=classes)  # fmt: skip
