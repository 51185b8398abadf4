"""One training step: a batch through forward, loss, backward, penalty and update.

On a batch of ``n`` samples (weights ``wᵢ``, all 1 unless given) the error is

    ``E = Σᵢ wᵢ J(oᵢ, tᵢ) / Σᵢ wᵢ + (λ/2) Σₗ ‖Wˡ‖²``   (biases are not decayed)

and one step is: the forward pass, ``E``, the output delta and the delta rule (``∂E/∂θ``), the
penalty's gradient ``λWˡ`` added, then the optimizer's update. ``fit``, the scikit-learn
estimators' epochs, L-BFGS's objective (without the update) and the worked solution (``explain``,
and the steps ``fit`` records with ``trace_steps``) all run this one step, in these phases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .losses import Loss, get_loss, rows_sum_to_one
from .penalty import L2Penalty

if TYPE_CHECKING:
    from .buffers import Gradients, Workspace
    from .network import Network
    from .optimizers import Optimizer, State

Array = np.ndarray


def targets_normalised(t: Array) -> bool | None:
    """True if every row of ``t`` sums to exactly 1, else None (unknown: each batch checks).

    Softmax + cross-entropy's δ = o − t needs target rows summing to 1: checked once for all
    batches (one-hot rows from labels do) instead of once per batch. If some row does not, only
    the batches holding such a row take the general form.
    """
    return True if rows_sum_to_one(t, exact=True) else None


@dataclass
class StepResult:
    """A step's batch error ``E = data_loss + penalty`` and the output ``o`` it was measured on.

    ``finite`` is false when ``E`` was NaN or infinite: the step then stopped before the backward
    pass and changed nothing.
    """

    data_loss: float
    penalty: float
    output: Array
    gradients: Gradients | None = None

    @property
    def loss(self) -> float:
        return self.data_loss + self.penalty

    @property
    def finite(self) -> bool:
        return math.isfinite(self.loss)


class TrainingStep:
    """The step of one network with one loss, optimizer and optimizer state.

    Call it on a workspace whose ``x`` and ``t`` hold the batch; ``sample_weight`` (n,) or None,
    ``l2`` the penalty's ``λ`` for this batch. ``target_rows_sum_to_one`` passes on a check of
    every target already made (see :func:`targets_normalised`).
    """

    def __init__(
        self,
        network: Network,
        loss: str | Loss,
        optimizer: Optimizer | None = None,
        state: State | None = None,
        target_rows_sum_to_one: bool | None = None,
    ):
        self.network = network
        self.loss = get_loss(loss)
        self.optimizer = optimizer
        self.state = state
        self.target_rows_sum_to_one = target_rows_sum_to_one
        self.params = network.params()
        self.penalty = L2Penalty(self.params)

    def evaluate(self, ws: Workspace, sample_weight: Array | None = None, l2: float = 0.0):
        """Forward pass and batch error ``E`` (phase 1)."""
        fp = self.network.forward(ws.x, ws)
        data = self.loss.value(fp.output, ws.t, sample_weight)
        penalty = self.penalty.value(self.params, l2) if l2 else 0.0
        return StepResult(data, penalty, fp.output)

    def backward(self, ws: Workspace, sample_weight: Array | None = None) -> Gradients:
        """Output delta, delta rule and the gradients of the data error (phase 2)."""
        return self.network.backward(
            ws.forward,
            ws.t,
            self.loss,
            ws,
            sample_weight=sample_weight,
            target_rows_sum_to_one=self.target_rows_sum_to_one,
        )

    def penalise(self, ws: Workspace, l2: float) -> None:
        """``∂E/∂Wˡ += λ Wˡ`` (phase 3)."""
        if l2:
            self.penalty.add_gradient(self.params, ws.grads_by_name, l2)

    def update(self, ws: Workspace) -> None:
        """The optimizer's update of θ and its state from the workspace's gradients (phase 4)."""
        self.optimizer.update(self.params, ws.grads_by_name, self.state)

    def gradients(self, ws: Workspace, sample_weight=None, l2: float = 0.0) -> StepResult:
        """Phases 1–3: ``E`` and ``∂E/∂θ`` (penalty included), no update."""
        result = self.evaluate(ws, sample_weight, l2)
        result.gradients = self.backward(ws, sample_weight)
        self.penalise(ws, l2)
        return result

    def __call__(self, ws: Workspace, sample_weight=None, l2: float = 0.0) -> StepResult:
        """The whole step; a non-finite ``E`` stops it before the backward pass."""
        result = self.evaluate(ws, sample_weight, l2)
        if result.finite:
            result.gradients = self.backward(ws, sample_weight)
            self.penalise(ws, l2)
            self.update(ws)
        return result
