"""Saturated and dead units per layer over epochs (:mod:`deltaprop.saturation`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..saturation import measured
from ._mpl import axes, epochs_axis, layer_labels, whole_ticks

if TYPE_CHECKING:
    from ..history import History
    from ..network import Network


def plot_saturation(history: History, ax: Any = None, network: Network | None = None):
    """Share of saturated entries (``|f′(z)| < 1 %`` of its maximum; solid lines) and of dead
    units (``f′ = 0`` on every sample; dashed) per layer, at each epoch's end.

    With ``network``, only the layers whose activation saturates (or can die) are drawn, as its
    declaration says; without, every layer's record is.
    """
    if not history.layer_saturation:
        raise ValueError("the history holds no saturation records: train with track_norms=True")
    fig, ax = axes(ax)
    sat = np.asarray(history.layer_saturation, dtype=float)
    dead = np.asarray(history.layer_dead, dtype=float)
    n_layers = sat.shape[1]
    saturates, dies = measured(network) if network is not None else ([True] * n_layers,) * 2
    epochs = epochs_axis(history, sat.shape[0])
    labels = layer_labels(network, n_layers)
    for i in range(n_layers):
        if saturates[i]:
            ax.plot(epochs, sat[:, i], label=f"{labels[i]} saturated")
        if dies[i]:
            ax.plot(epochs, dead[:, i], linestyle="--", label=f"{labels[i]} dead")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("epoch")
    whole_ticks(ax)
    ax.set_ylabel("share of units")
    ax.set_title("Saturated and dead units")
    if ax.lines:
        ax.legend(fontsize="small")
    return fig
