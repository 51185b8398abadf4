"""Divergence, always caught: a run that blows up or plainly fails to learn stops, clearly.

Three rules, each keeping the network's last good weights:

1. **Non-finite** (always on, in ``fit``): a batch error or a weight that becomes NaN or infinite
   stops the run at once, with the weights of the last good epoch.
2. **Worse than chance**, for classifiers (:class:`DivergenceCheck`, on by default;
   ``fit(divergence_check=False)`` turns it off). Their losses clip the outputs, so they never
   become NaN: a run with an absurd learning rate can sit far above the *chance-level loss* ``E₀``
   for ever (a softmax classifier at ~32 where ``E₀`` is 2.3). ``E₀`` is the error of a model that
   ignores its input and outputs the class frequencies (``−Σₖ pₖ log pₖ`` for the
   cross-entropy). When the epoch loss has been above ``factor · E₀`` (4 by default) for
   ``patience`` epochs in a row (3) without coming down by ``progress`` (a tenth) over them — a
   run that is far off but learning is left alone — the run stops with :class:`DivergenceError`,
   and the network gets back the weights that its best epoch started from (an epoch's
   loss is measured along the way, each batch before its update).
3. **Exploding**, for every loss (same callback): the epoch loss above ``growth`` (10) × the
   smaller of the untrained network's error (on up to 1,024 evenly spaced training rows) and the
   best epoch's, for ``patience`` epochs in a row, stops the run the same way, before it overflows.

Regression is not stopped by rule 2: its ``E₀`` is ``½ Σₖ Var(tₖ)`` (squared error), and starting
far above it and learning slowly is normal there. Any run that ends above ``factor · E₀`` ends
with a warning: it does worse than always predicting the mean target.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

from .callbacks import Callback
from .validation import check_int, check_number
from .vanishing import _outside

if TYPE_CHECKING:
    from .history import History, TrainingRun
    from .losses import Loss

Array = np.ndarray


class DivergenceError(ArithmeticError):
    """Training diverged: a non-finite loss or weight, or a loss far above chance that does not
    come down. The network keeps its last good weights; ``history`` holds the run so far."""

    def __init__(self, message: str, history: History):
        super().__init__(message)
        self.history = history


def chance_loss(loss: Loss, t: Array, sample_weight: Array | None = None) -> float:
    """``E₀``: the error of always predicting the (weighted) mean target row of ``t`` (n, k)."""
    if t.shape[0] == 0:
        return 0.0
    mean = np.average(t, axis=0, weights=sample_weight)
    return loss.value(np.broadcast_to(mean, t.shape), t, sample_weight)


class DivergenceCheck(Callback):
    """Stop a classifier whose loss stays above ``factor`` × the chance-level loss for
    ``patience`` epochs without coming down by ``progress`` over them, and any run whose loss stays
    above ``growth`` × its best for ``patience`` epochs (the module's rules 2 and 3); the network
    keeps its best epoch's weights.
    """

    def __init__(
        self, factor: float = 4.0, patience: int = 3, progress: float = 0.1, growth: float = 10.0
    ):
        self.factor = check_number(factor, "factor", 1.0)
        self.patience = check_int(patience, "patience", 1)
        self.progress = check_number(progress, "progress", 0.0, 1.0)
        self.growth = check_number(growth, "growth", 1.0)

    def on_train_begin(self, run: TrainingRun) -> None:
        self.chance = run.chance_loss
        self.best = math.inf
        self.best_weights = self.entering = run.network.get_weights()
        self.streak: list[float] = []  # the losses of the epochs in a row above chance's limit
        self.exploding = 0  # epochs in a row above growth × the best

    def limit(self) -> float:
        """``factor · E₀``, or ∞ where there is none (constant targets)."""
        return self.factor * self.chance if self.chance else math.inf

    def on_epoch_end(self, epoch: int, logs: dict, run: TrainingRun) -> None:
        loss = logs["loss"]
        start = run.initial_loss if run.initial_loss is not None else math.inf
        reference = min(self.best, start)
        self.exploding = self.exploding + 1 if loss > self.growth * reference else 0
        if loss < self.best:
            # An epoch's loss is measured on the way (each batch before its update): the weights
            # that earned it are those the epoch started from.
            self.best, self.best_weights = loss, self.entering
        self.entering = run.network.get_weights()
        if self.exploding >= self.patience:
            self._stop(run, f"the loss has stayed above {self.growth:g}× the untrained or best "
                            f"loss ({reference:.4g}) for {self.patience} epochs (now "
                            f"{loss:.4g})")  # fmt: skip
        if not run.classifier:
            return
        limit = self.limit()
        self.streak = [*self.streak, loss] if loss > limit else []
        if len(self.streak) < self.patience:
            return
        start = self.streak[-self.patience]
        if loss < (1 - self.progress) * start:
            return  # far off, but coming down
        self._stop(run, f"the loss has stayed above {self.factor:g}× the chance-level loss "
                        f"({self.chance:.4g}) for {self.patience} epochs without coming down "
                        f"({start:.4g} → {loss:.4g})")  # fmt: skip

    def _stop(self, run: TrainingRun, why: str) -> None:
        run.network.set_weights(self.best_weights)
        raise DivergenceError(
            f"training is not learning: {why}, at epoch {run.history.end_epoch}; try a smaller "
            f"learning rate. The network is back at the weights its best epoch started from "
            f"(loss {self.best:.4g}).",
            run.history,
        )

    def on_train_end(self, run: TrainingRun) -> None:
        history = run.history
        if not history.loss:
            return
        limit = self.limit()
        if history.loss[-1] > limit:
            warnings.warn(
                f"the training loss ended at {history.loss[-1]:.4g}, above {self.factor:g}× the "
                f"chance-level loss ({self.chance:.4g}): the model does worse than always "
                f"predicting the mean target. Train for more epochs if the loss is still "
                f"falling; otherwise try a smaller learning rate.",
                RuntimeWarning,
                stacklevel=_outside(),  # the line that called fit, through Network.fit or not
            )
