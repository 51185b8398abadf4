"""Per-layer gradient and delta norms over an epoch: vanishing gradients, measured.

For every update and layer ``l`` the tracker adds ``‖(∂E/∂Wˡ, ∂E/∂bˡ)‖²`` and the per-sample mean
``(1/n) Σᵢ ‖δˡᵢ‖²``; at the end of the epoch it reports their root mean squares over the updates.
Norms that shrink towards the input layer are the tutorials' vanishing gradients.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ._blas import squared_norm

if TYPE_CHECKING:
    from .buffers import Workspace
    from .network import Network


class EpochNorms:
    """Sums of squared gradient and delta norms per layer over an epoch's updates.

    Layer ``l``'s ``(∂E/∂Wˡ, ∂E/∂bˡ)`` is one contiguous segment of the workspace's flat gradient
    vector, so each layer costs one dot product for its gradient and one for its deltas.
    """

    def __init__(self, network: Network):
        sizes = [ly.W.size + (0 if ly.b is None else ly.b.size) for ly in network.layers]
        self.bounds = np.cumsum([0, *sizes]).tolist()
        self.grad_sq = [0.0] * len(sizes)
        self.delta_sq = [0.0] * len(sizes)

    def reset(self) -> None:
        self.grad_sq = [0.0] * len(self.grad_sq)
        self.delta_sq = [0.0] * len(self.delta_sq)

    def add(self, workspace: Workspace, grads=None) -> None:
        """Add one update's norms, from the gradients (any penalty already added) and per-sample
        deltas in ``workspace`` (``grads``, once needed, is ignored)."""
        flat, b = workspace.flat_grads, self.bounds
        for i, d in enumerate(workspace.gradients.deltas):
            self.grad_sq[i] += squared_norm(flat[b[i] : b[i + 1]])
            self.delta_sq[i] += squared_norm(d) / workspace.n

    def epoch(self, updates: int) -> tuple[list[float], float, list[float]]:
        """Per-layer RMS gradient norms, the RMS total gradient norm, per-layer RMS delta norms."""
        u = max(updates, 1)
        layer_grad = [math.sqrt(v / u) for v in self.grad_sq]
        total = math.sqrt(sum(self.grad_sq) / u)
        return layer_grad, total, [math.sqrt(v / u) for v in self.delta_sq]
