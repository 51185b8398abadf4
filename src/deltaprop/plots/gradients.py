"""Per-layer gradient and delta norms over epochs, on a log scale: vanishing gradients, seen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._mpl import axes, epochs_axis, layer_labels, whole_ticks

if TYPE_CHECKING:
    from ..history import History
    from ..network import Network


def _per_layer(history: History, records: list[list[float]], ax, network, ylabel: str, title):
    if not records:
        raise ValueError("the history holds no per-layer norms: train with track_norms=True")
    fig, ax = axes(ax)
    values = np.asarray(records, dtype=float)  # (epochs, layers)
    epochs = epochs_axis(history, values.shape[0])
    for label, column in zip(layer_labels(network, values.shape[1]), values.T, strict=True):
        ax.plot(epochs, column, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    whole_ticks(ax)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return fig


def plot_grad_norms(history: History, ax: Any = None, network: Network | None = None):
    """``‖(∂E/∂Wˡ, ∂E/∂bˡ)‖`` per layer ``l`` (RMS over the epoch's updates), log scale."""
    return _per_layer(history, history.layer_grad_norms, ax, network, "‖∂E/∂θˡ‖",
                      "Gradient norm per layer")  # fmt: skip


def plot_delta_norms(history: History, ax: Any = None, network: Network | None = None):
    """The RMS per-sample ``‖δˡ‖`` per layer ``l``, log scale: the deltas the delta rule
    ``δˡ = f′(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹`` carries back, layer by layer."""
    return _per_layer(history, history.layer_delta_norms, ax, network, "‖δˡ‖",
                      "Delta norm per layer")  # fmt: skip
