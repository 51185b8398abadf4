"""Checkpoints: a run written to disk as it goes, resumable bit for bit.

:class:`Checkpoint` saves the whole run every ``every`` epochs and/or every ``seconds`` seconds —
network, optimizer with its state, the learning-rate schedule with what it learned, the history,
and the generator that shuffles the data — as ordinary model files (:func:`deltaprop.save`,
atomic: a crash leaves the old file or the new one), named ``epoch-00012.deltaprop`` after the
epochs done, in a folder of their own (a schedule of your own, which no file can rebuild, is
left out with a warning: pass it again to resume). It keeps the newest ``keep``, and with ``best``
also ``best.deltaprop``, the epoch with the best ``monitor`` (the lowest validation loss by
default; the highest accuracy when an accuracy is monitored).
When a run is interrupted (``fit(stop=…)``, Ctrl-C in the command line) it writes the state the
run went back to, the end of the last complete epoch.

:func:`resume` reads one back as a network and the arguments that make ``fit`` continue it, so
that 3 epochs, a checkpoint and 3 more end where 6 epochs in one go end.
"""

from __future__ import annotations

import copy
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .callbacks import Callback, check_monitor
from .validation import check_int, check_number

if TYPE_CHECKING:
    from .history import TrainingRun
    from .io import SavedModel
    from .network import Network

PATTERN = "epoch-{:05d}.deltaprop"
BEST = "best.deltaprop"


class Checkpoint(Callback):
    """Save the run into ``folder`` every ``every`` epochs and/or ``seconds`` seconds.

    ``keep`` newest periodic files are kept (older ones are removed); ``best`` also keeps
    ``best.deltaprop``, the epoch with the best ``monitor``: ``"val_loss"`` or ``"loss"`` (lowest),
    ``"val_accuracy"`` or ``"accuracy"`` (highest). A monitor the run does not record falls back
    as :class:`~deltaprop.callbacks.EarlyStopping`'s does (``val_x`` to ``x``), then to the
    loss beside it (``val_loss`` for a ``val_`` monitor, else ``loss``), then ``loss``. With neither
    ``every`` nor ``seconds`` it writes only when the run is interrupted. ``metadata`` and
    ``preprocessing`` are stored in every file. ``last`` is the newest file written.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        every: int | None = 1,
        seconds: float | None = None,
        keep: int = 2,
        best: bool = False,
        monitor: str = "val_loss",
        metadata: dict | None = None,
        preprocessing=None,
    ):
        self.folder = Path(folder)
        self.every = None if every is None else check_int(every, "every", 1)
        self.seconds = None if seconds is None else check_number(seconds, "seconds", 0.0)
        self.keep = check_int(keep, "keep", 1)
        self.best = bool(best)
        self.monitor = check_monitor(monitor)
        self.metadata = metadata
        self.preprocessing = preprocessing
        self.last: Path | None = None

    def on_train_begin(self, run: TrainingRun) -> None:
        if self.every is not None or self.seconds is not None or self.best:
            self.folder.mkdir(parents=True, exist_ok=True)
        self._since = time.monotonic()
        self._best_value = math.inf

    def on_epoch_end(self, epoch: int, logs: dict, run: TrainingRun) -> None:
        done = run.history.end_epoch
        due = (self.every is not None and done % self.every == 0) or (
            self.seconds is not None and time.monotonic() - self._since >= self.seconds
        )
        if due:
            self._save(run, self.folder / PATTERN.format(done))
            self._prune()
        if self.best:
            score = self._score(logs)
            if score < self._best_value:
                self._best_value = score
                self._save(run, self.folder / BEST, periodic=False)

    def _score(self, logs: dict) -> float:
        """The monitored value where it is recorded (else its fallback), negated if it is an
        accuracy: lower is better."""
        losses = ("val_loss", "loss") if self.monitor.startswith("val_") else ("loss",)
        for key in (self.monitor, self.monitor.removeprefix("val_"), *losses):
            value = logs.get(key)
            if value is not None:
                return -value if "accuracy" in key else value
        raise ValueError(f"Checkpoint monitors {self.monitor!r}, which is not recorded")

    def on_interrupt(self, run: TrainingRun) -> None:
        """Write the state the interrupted run went back to (unless that file exists already)."""
        path = self.folder / PATTERN.format(run.history.end_epoch)
        if self.last != path:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._save(run, path)
            self._prune()
        run.checkpoint = str(path)

    def _save(self, run: TrainingRun, path: Path, periodic: bool = True) -> None:
        from .io import save

        # The optimizer as the run was given it: its learning rate without the schedule's factor
        # (the schedule itself is saved and applies it again on resume).
        optimizer = copy.copy(run.optimizer)
        optimizer.learning_rate = run.base_learning_rate
        # The schedule is the history's: save keeps a built-in one with its state and, like any
        # file written with a history, warns and leaves out one of the user's own (which it
        # cannot rebuild) instead of refusing it, which would end the run at its first checkpoint.
        save(path, run.network, optimizer=optimizer, optimizer_state=run.state,
             history=run.history, rng=run.rng,
             preprocessing=self.preprocessing, metadata=self.metadata)  # fmt: skip
        if periodic:
            self.last = path
            self._since = time.monotonic()

    def _prune(self) -> None:
        prune(self.folder, self.keep)


def prune(folder: str | os.PathLike, keep: int) -> None:
    """Remove all but the ``keep`` newest periodic checkpoints in ``folder``."""
    files = sorted(Path(folder).glob("epoch-*.deltaprop"))
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


def latest(folder: str | os.PathLike) -> Path | None:
    """The newest periodic checkpoint in ``folder`` (by epoch), or None."""
    files = sorted(Path(folder).glob("epoch-*.deltaprop"))
    return files[-1] if files else None


def resume(checkpoint: str | os.PathLike | SavedModel) -> tuple[Network, dict]:
    """The network of a checkpoint and the ``fit`` arguments that continue its run.

    ``net, kwargs = resume(path)``, then ``net.fit(x, y, epochs=more, **kwargs)`` with the same
    data and settings as the run that wrote it: the optimizer with its state, the schedule with
    its state, the shuffling generator and the epoch count (``initial_epoch``) carry on.
    """
    from .io import SavedModel, load

    saved = checkpoint if isinstance(checkpoint, SavedModel) else load(checkpoint)
    if saved.optimizer is None or saved.optimizer_state is None or saved.history is None:
        raise ValueError(
            "this model file holds no optimizer state or history: it is not a checkpoint "
            "(write checkpoints with deltaprop.checkpoints.Checkpoint)"
        )
    kwargs = {
        "optimizer": saved.optimizer,
        "optimizer_state": saved.optimizer_state,
        "initial_epoch": saved.history.end_epoch,
    }
    if saved.schedule is not None:
        kwargs["schedule"] = saved.schedule
    if saved.rng is not None:
        kwargs["seed"] = saved.rng
    return saved.network, kwargs
