"""The vanishing-gradient warning: the first layer's gradient far below the last layer's.

By the delta rule ``δˡ = f′(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹`` every layer multiplies the delta by ``f′`` once
more; with σ (``f′ ≤ ¼``) the deltas, and so the gradients ``∂E/∂Wˡ = (1/n) Δˡᵀ Aˡ⁻¹``, shrink by
a factor per layer towards the input, and the early layers barely learn. ``fit`` watches the ratio
``‖∂E/∂θ¹‖ / ‖∂E/∂θᴸ‖`` of each epoch and warns once per run when it stays below ``1e-4``.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

_PACKAGE = str(Path(__file__).parent) + os.sep  # as the code objects name their files

RATIO = 1e-4  # first layer's gradient norm below this share of the last layer's
EPOCHS = 3  # … for this many epochs in a row (or every epoch of a shorter run)

CURES = (
    "ReLU activations in the hidden layers, He initialisation (init='he'), fewer layers, or a "
    "larger learning rate for the early layers"
)


class VanishingGradientWarning(UserWarning):
    """The first layer's gradient stayed below 1e-4 of the last layer's (vanishing gradients)."""


class VanishingWatch:
    """Counts the epochs in a row whose first-to-last gradient ratio is below :data:`RATIO` and
    warns once when they reach ``min(EPOCHS, epochs)``."""

    def __init__(self, epochs: int):
        self.needed = max(1, min(EPOCHS, epochs))
        self.below = 0
        self.warned = False

    def observe(self, layer_grad_norms: Sequence[float], epoch: int) -> None:
        """Look at one epoch's per-layer gradient norms (``epoch`` counted from 1, for the text)."""
        if self.warned or len(layer_grad_norms) < 2:
            return
        first, last = layer_grad_norms[0], layer_grad_norms[-1]
        self.below = self.below + 1 if last > 0 and first < RATIO * last else 0
        if self.below >= self.needed:
            self.warned = True
            warnings.warn(
                f"vanishing gradients: the first layer's gradient norm is {first:.3g}, "
                f"{first / last:.2g} of the last layer's ({last:.3g}) in epoch {epoch} (below "
                f"{RATIO:g} for {self.below} epoch(s) in a row), so the early layers barely "
                f"learn; usual cures: {CURES}",
                VanishingGradientWarning,
                stacklevel=_outside(),
            )


def _outside() -> int:
    """The ``stacklevel`` of the first caller outside deltaprop (the user's line that called
    ``fit``, through ``Network.fit`` or not), counted from the function calling this one."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level
