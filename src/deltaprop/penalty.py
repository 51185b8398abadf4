"""The L2 weight penalty ``(λ/2) Σₗ ‖Wˡ‖²`` and its gradient ``λ Wˡ`` (biases are not penalised).

One implementation for every training loop: ``fit``'s ``l2`` and the estimators' ``alpha``
(scikit-learn's per-batch ``λ = α / Σ w``).
"""

from __future__ import annotations

import numpy as np

from ._blas import squared_norm

Array = np.ndarray


class L2Penalty:
    """``(λ/2) Σₗ ‖Wˡ‖²`` over the weight matrices of ``params`` (``W1, W2, …``)."""

    def __init__(self, params: dict[str, Array]):
        self.names = [k for k in params if k.startswith("W")]
        self._scratch: dict[str, Array] = {}

    def value(self, params: dict[str, Array], lam: float) -> float:
        """``(λ/2) Σₗ ‖Wˡ‖²``, one dot product per matrix."""
        return 0.5 * lam * sum(squared_norm(params[k]) for k in self.names)

    def add_gradient(self, params: dict[str, Array], grads: dict[str, Array], lam: float) -> None:
        """``∂E/∂Wˡ += λ Wˡ`` in place (∂/∂W of (λ/2)‖W‖² is λW), through reused buffers."""
        for k in self.names:
            buf = self._scratch.get(k)
            if buf is None:
                buf = self._scratch[k] = np.empty_like(params[k])
            np.multiply(params[k], lam, out=buf)
            grads[k] += buf
