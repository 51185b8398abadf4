"""What a training run records, epoch by epoch, and what its callbacks see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .network import Network
    from .optimizers import Optimizer, State
    from .schedules import Schedule
    from .trace import Trace

# Records that are objects, not numbers: left out of as_dict (and of model files' history).
_OBJECTS = ("optimizer_state", "schedule", "traces")


@dataclass
class History:
    """Per-epoch records of a run (lists indexed by epoch).

    ``grad_norm`` is ‖∂E/∂θ‖ over all parameters; ``layer_grad_norms[e][l]`` is
    ‖(∂E/∂Wˡ, ∂E/∂bˡ)‖; ``layer_delta_norms[e][l]`` is the root-mean-square per-sample ‖δˡ‖ —
    all averaged over the epoch's updates. Shrinking norms towards the input layer are the
    tutorials' vanishing gradients, made measurable. ``optimizer_state`` and ``schedule`` (the
    learning-rate schedule given to ``fit``, with what it learned) continue a resumed run.
    ``traces`` holds the worked solutions of the updates ``fit`` was asked to record
    (``trace_steps``), one :class:`~deltaprop.trace.Trace` each.
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    layer_grad_norms: list[list[float]] = field(default_factory=list)
    layer_delta_norms: list[list[float]] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    optimizer_state: State | None = None
    schedule: Schedule | None = None
    updates: int = 0
    initial_epoch: int = 0
    traces: list[Trace] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Epochs run by this call of ``fit``."""
        return len(self.loss)

    @property
    def end_epoch(self) -> int:
        """Epochs run in all, counting earlier runs this one resumed (``initial_epoch``): pass
        it as the next resumed call's ``initial_epoch``."""
        return self.initial_epoch + len(self.loss)

    def as_dict(self) -> dict:
        """The records as plain lists (JSON-ready; optimizer state, schedule, traces left out)."""
        return {k: v for k, v in vars(self).items() if k not in _OBJECTS}


@dataclass
class TrainingRun:
    """What callbacks see: the network, the optimizer with its state, the history so far, the
    generator that shuffles the data, the chance-level loss of the training targets
    (:func:`deltaprop.divergence.chance_loss`), the untrained network's error (the first
    batch's, before its update), and whether the network is a classifier."""

    network: Network
    optimizer: Optimizer
    state: State
    history: History
    stop_training: bool = False
    rng: np.random.Generator | None = None
    chance_loss: float | None = None
    initial_loss: float | None = None
    classifier: bool = False
    base_learning_rate: float | None = None  # the optimizer's η before the schedule's factor
    checkpoint: str | None = None  # the file a Checkpoint wrote when the run was interrupted
