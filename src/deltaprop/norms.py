"""Per-layer gradient and delta norms over an epoch: vanishing gradients, measured.

For every update and layer ``l`` the tracker adds ``‖(∂E/∂Wˡ, ∂E/∂bˡ)‖²`` and the per-sample mean
``(1/n) Σᵢ ‖δˡᵢ‖²``; at the end of the epoch it reports their root mean squares over the updates.
Norms that shrink towards the input layer are the tutorials' vanishing gradients.
"""

from __future__ import annotations

import math

import numpy as np

from ._blas import squared_norm
from .network import Gradients, Network, Workspace


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

    def add(self, workspace: Workspace, grads: Gradients) -> None:
        """Add one update's norms: ``grads`` (with any penalty already added) in ``workspace``.

        The stored deltas are ``delta_scale · δ`` (the batch mean's 1/n may be folded into δᴸ):
        undone here, so the delta norms are those of the per-sample deltas.
        """
        flat, b = workspace.flat_grads, self.bounds
        d_unscale = 1.0 / (grads.delta_scale * grads.delta_scale * workspace.n)
        for i, d in enumerate(grads.deltas):
            self.grad_sq[i] += squared_norm(flat[b[i] : b[i + 1]])
            self.delta_sq[i] += squared_norm(d) * d_unscale

    def epoch(self, updates: int) -> tuple[list[float], float, list[float]]:
        """Per-layer RMS gradient norms, the RMS total gradient norm, per-layer RMS delta norms."""
        u = max(updates, 1)
        layer_grad = [math.sqrt(v / u) for v in self.grad_sq]
        total = math.sqrt(sum(self.grad_sq) / u)
        return layer_grad, total, [math.sqrt(v / u) for v in self.delta_sq]
