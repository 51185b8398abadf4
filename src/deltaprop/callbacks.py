"""Callbacks: code the training loop calls at its events, and early stopping.

A callback overrides any of ``on_train_begin``, ``on_epoch_end``, ``on_train_end`` and
``on_interrupt``; each receives the :class:`~deltaprop.training.TrainingRun` (network, optimizer,
state, history), and may set ``run.stop_training = True``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .validation import check_int, check_number

if TYPE_CHECKING:
    from .training import TrainingRun


class Callback:
    """Base class; every hook does nothing."""

    def on_train_begin(self, run: TrainingRun) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict, run: TrainingRun) -> None:
        pass

    def on_train_end(self, run: TrainingRun) -> None:
        pass

    def on_interrupt(self, run: TrainingRun) -> None:
        """The run was stopped on request and is back at its last complete epoch's end."""


class LambdaCallback(Callback):
    """A callback from a function ``f(epoch, logs, run)`` called at every epoch's end."""

    def __init__(self, on_epoch_end):
        self._fn = on_epoch_end

    def on_epoch_end(self, epoch, logs, run):
        self._fn(epoch, logs, run)


MONITORS = ("loss", "val_loss", "accuracy", "val_accuracy")  # accuracies are maximised


def check_monitor(monitor: str) -> str:
    """``monitor`` if it names a score ``fit`` records, else a ValueError listing them."""
    if monitor not in MONITORS:
        raise ValueError(
            f"unknown monitor {monitor!r}; expected loss, val_loss, accuracy or val_accuracy"
        )
    return monitor


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``monitor`` is ``"val_loss"`` (falls back to ``"loss"`` without validation data), ``"loss"``,
    or ``"val_accuracy"``/``"accuracy"`` (maximised). With ``restore_best_weights`` the network
    ends with the weights of its best epoch.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 10,
        min_delta: float = 0.0,
        restore_best_weights: bool = True,
    ):
        self.monitor = check_monitor(monitor)
        self.patience = check_int(patience, "patience", 0)
        self.min_delta = check_number(min_delta, "min_delta", 0.0)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, run):
        self.best = -math.inf if "accuracy" in self.monitor else math.inf
        self.best_epoch = -1
        self.best_weights = None
        self.wait = 0
        self.stopped_epoch = None

    def _key(self, logs: dict) -> str:
        if self.monitor in logs and logs[self.monitor] is not None:
            return self.monitor
        return self.monitor.removeprefix("val_")

    def on_epoch_end(self, epoch, logs, run):
        value = logs.get(self._key(logs))
        if value is None:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which is not recorded")
        maximise = "accuracy" in self.monitor
        improved = (
            value > self.best + self.min_delta if maximise else (value < self.best - self.min_delta)
        )
        if improved:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = run.network.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                run.stop_training = True

    def on_train_end(self, run):
        if self.restore_best_weights and self.best_weights is not None:
            run.network.set_weights(self.best_weights)
            run.history.best_epoch = self.best_epoch
