"""One epoch: every batch of the data through the training step, once.

The one batch loop of deltaprop: ``fit`` and the scikit-learn estimators both run it. Per batch:
gather the rows (:mod:`deltaprop.batches`), run the step (:class:`deltaprop.step.TrainingStep`),
add its error, its correct predictions and its gradient and delta norms to the epoch's sums. The
penalty's ``λ`` is one number per run (``fit``'s ``l2``) or, with ``l2_per_weight``,
scikit-learn's ``α / Σ_b wᵢ``, which changes from batch to batch: the last, smaller batch and every
weighted batch get their own — what makes a sample of weight 2 train exactly as the sample given
twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .batches import batches, gather
from .norms import EpochNorms
from .step import TrainingStep
from .targets import count_correct
from .trace import StepTrace, record_step

Array = np.ndarray


@dataclass
class EpochResult:
    """What one epoch measured.

    ``loss`` is ``Σ_b n_b·E_b / n`` over the batches ``b`` of ``n_b`` samples, with ``E_b`` the
    reported batch error (its data part scaled by ``loss_scale``); ``layer_grad_norms[l]`` is the
    root-mean-square over updates of ‖(∂E/∂Wˡ, ∂E/∂bˡ)‖ (penalty included) and
    ``layer_delta_norms[l]`` the RMS per-sample ‖δˡ‖. ``finite`` is false if a batch error was NaN
    or infinite: the epoch stopped there, before that batch's update (``updates`` counts those
    made), and ``loss`` is that batch error.
    """

    loss: float
    correct: int
    updates: int
    layer_grad_norms: list[float] = field(default_factory=list)
    layer_delta_norms: list[float] = field(default_factory=list)
    finite: bool = True
    traces: list[StepTrace] = field(default_factory=list)
    interrupted: bool = False

    @property
    def grad_norm(self) -> float:
        """‖∂E/∂θ‖ over all layers (RMS over updates)."""
        return math.sqrt(sum(g * g for g in self.layer_grad_norms))


def run_epoch(
    step: TrainingStep,
    X,
    T: Array,
    order: Array | None,
    batch_size: int,
    *,
    sample_weight: Array | None = None,
    l2: float = 0.0,
    l2_per_weight: bool = False,
    loss_scale: float = 1.0,
    accuracy: str | None = None,
    norms: EpochNorms | None = None,
    trace_at: frozenset[int] = frozenset(),
    first_update: int = 0,
    stop: Callable[[], bool] | None = None,
    update_loss: list[float] | None = None,
) -> EpochResult:
    """Visit ``X`` (n, inputs) and ``T`` (n, outputs) in ``order`` (None: as stored).

    A batch whose weights sum to zero carries no gradient and is skipped. ``loss_scale`` scales the
    *reported* data error only (scikit-learn reports the squared error averaged over outputs while
    its gradient is that of the sum). Updates numbered ``first_update + k`` (counting from 0)
    that are in ``trace_at`` are recorded as worked solutions (:func:`deltaprop.trace.record_step`).
    ``stop()``, asked after every batch, ends the epoch early (``interrupted``) when it is true.
    ``update_loss``, if given, receives every update's reported batch error (before the update).
    """
    n = X.shape[0]
    total, correct, updates, traces = 0.0, 0, 0, []
    if norms is not None:
        norms.reset()
    for idx in batches(n, batch_size, order):
        w = None if sample_weight is None else sample_weight[idx]
        size = (idx.stop - idx.start) if isinstance(idx, slice) else len(idx)
        w_sum = float(size) if w is None else float(w.sum())
        if not w_sum > 0:
            continue  # a batch of zero-weight samples carries no gradient
        traced = first_update + updates in trace_at
        ws = step.network.workspace(size, keep_all=traced)
        gather(X, idx, ws.x)
        gather(T, idx, ws.t)
        lam = l2 / w_sum if l2_per_weight else l2
        if traced:
            result, trace = record_step(step, ws, w, lam, number=first_update + updates + 1)
            traces.append(trace)
        else:
            result = step(ws, w, lam)
        reported = loss_scale * result.data_loss + result.penalty
        if not result.finite:
            return EpochResult(reported, correct, updates, finite=False, traces=traces)
        total += reported * size
        if update_loss is not None:
            update_loss.append(reported)
        correct += count_correct(accuracy, result.output, ws.t)
        if norms is not None:
            norms.add(ws)
        updates += 1
        if stop is not None and stop():
            return EpochResult(total / n, correct, updates, traces=traces, interrupted=True)
    grad, _, delta = norms.epoch(updates) if norms is not None else ([], 0.0, [])
    return EpochResult(total / n, correct, updates, grad, delta, traces=traces)
