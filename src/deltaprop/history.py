"""What a training run records, epoch by epoch, and what its callbacks see."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .network import Network
    from .optimizers import Optimizer, State
    from .schedules import Schedule
    from .trace import Trace

# Records that are objects, not numbers: left out of as_dict (and of model files' history).
_OBJECTS = ("optimizer_state", "schedule", "traces", "optimizer_name")
# Records added after model-file version 1: left out of as_dict while empty, so that a file
# written before them is written back byte for byte.
_LATER = ("layer_saturation", "layer_dead", "update_loss")


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
    ``layer_saturation[e][l]`` is the share of layer ``l``'s (sample, unit) entries with
    ``|f′(z)| < 1 %`` of its maximum and ``layer_dead[e][l]`` the share of its units with ``f′ = 0``
    on every sample, at epoch ``e``'s end on (a sample of) the training data
    (:mod:`deltaprop.saturation`). ``update_loss`` is every update's batch error, before that
    update, when ``fit`` was asked for it (``record_update_loss=True``).
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
    layer_saturation: list[list[float]] = field(default_factory=list)
    layer_dead: list[list[float]] = field(default_factory=list)
    update_loss: list[float] = field(default_factory=list)
    optimizer_name: str | None = None

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
        """The records as plain lists (JSON-ready; optimizer state, schedule, traces left out;
        the saturation and per-update records only when there are some)."""
        return {
            k: v
            for k, v in vars(self).items()
            if k not in _OBJECTS and not (k in _LATER and not v)
        }

    @classmethod
    def record_names(cls) -> set[str]:
        """Every record :meth:`as_dict` may hold (what a model file's history may name)."""
        return {f.name for f in fields(cls)} - set(_OBJECTS)

    def __repr__(self) -> str:
        """A short summary: epochs, first and final loss, final scores, optimizer — no arrays."""
        parts = [f"epochs={self.epochs}"]
        if self.initial_epoch:
            parts.append(f"initial_epoch={self.initial_epoch}")
        if self.loss:
            parts.append(f"loss {self.loss[0]:.4g} → {self.loss[-1]:.4g}")
        for name in ("accuracy", "val_loss", "val_accuracy"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name} {values[-1]:.4g}")
        if self.best_epoch is not None:
            parts.append(f"best_epoch={self.best_epoch}")
        parts.append(f"updates={self.updates}")
        if self.optimizer_name:
            parts.append(f"optimizer={self.optimizer_name}")
        return f"History({', '.join(parts)})"

    __str__ = __repr__

    def plot(self, kind: str = "loss", ax=None, network: Network | None = None):
        """A matplotlib Figure of one record over the epochs (needs ``deltaprop[plot]``).

        ``kind``: ``"loss"`` (training and validation), ``"update_loss"`` (per update),
        ``"grad_norms"`` (per layer, log scale), ``"delta_norms"``, ``"saturation"`` (saturated
        and dead shares per layer). ``ax``: draw into these axes instead of a new figure.
        ``network`` labels the per-layer plots with its activations (and picks the layers that
        saturate or can die).
        """
        from . import plots

        kinds = {
            "loss": plots.plot_loss,
            "update_loss": plots.plot_update_loss,
            "grad_norms": plots.plot_grad_norms,
            "delta_norms": plots.plot_delta_norms,
            "saturation": plots.plot_saturation,
        }
        if kind not in kinds:
            raise ValueError(f"unknown plot kind {kind!r}; expected one of {', '.join(kinds)}")
        if kind in ("grad_norms", "delta_norms", "saturation"):
            return kinds[kind](self, ax=ax, network=network)
        return kinds[kind](self, ax=ax)


@dataclass
class TrainingRun:
    """What callbacks see: the network, the optimizer with its state, the history so far, the
    generator that shuffles the data, the chance-level loss of the training targets
    (:func:`deltaprop.divergence.chance_loss`), the untrained network's error (on up to
    1,024 evenly spaced training rows), and whether the network is a classifier."""

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
