"""The network drawn: neurons in columns, edges as wide as ``|w|`` and coloured by its sign.

The same picture as ``explain``'s SVG (:mod:`deltaprop.render.svg`): width grows with ``|w|``,
blue for ``w ≥ 0``, orange for ``w < 0``. A layer of more than ``max_units`` neurons shows its
first ``max_units − 1`` and its last, with ``⋮`` between, and only their edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..render.svg import NEGATIVE, POSITIVE
from ._mpl import axes

if TYPE_CHECKING:
    from ..network import Network

MIN_WIDTH, EXTRA_WIDTH = 0.5, 3.5  # edge width in points: MIN + EXTRA · |w| / max |w|


def shown_units(units: int, max_units: int) -> list[int]:
    """The neurons drawn of a layer of ``units``: all, or the first ``max_units − 1`` and the
    last."""
    if units <= max_units:
        return list(range(units))
    return [*range(max_units - 1), units - 1]


def edges(network: Network, max_units: int = 10) -> list[tuple[int, int, int, float]]:
    """The edges drawn, in drawing order: ``(layer l, unit i, unit j of layer l − 1, Wˡ[i, j])``."""
    out = []
    for ly, layer in enumerate(network.layers, start=1):
        rows = shown_units(layer.units, max_units)
        cols = shown_units(layer.inputs, max_units)
        out += [(ly, i, j, float(layer.W[i, j])) for i in rows for j in cols]
    return out


def edge_style(w: float, w_max: float) -> tuple[float, str]:
    """``(width in points, colour)`` of an edge of weight ``w`` (``w_max``: the largest |w|)."""
    return MIN_WIDTH + EXTRA_WIDTH * abs(w) / (w_max or 1.0), POSITIVE if w >= 0 else NEGATIVE


def plot_network(network: Network, ax: Any = None, max_units: int = 10):
    """The network's neurons and weighted edges (:func:`edges`, styled by :func:`edge_style`;
    the widest edge is the largest ``|w|`` of the whole network); a Figure."""
    from matplotlib.collections import LineCollection

    if max_units < 2:
        raise ValueError(f"max_units must be at least 2, got {max_units}")
    sizes = network.sizes
    shown = [shown_units(s, max_units) for s in sizes]
    tall = max(len(s) for s in shown)
    fig, ax = axes(ax, (1.8 * len(sizes) + 1, 0.6 * tall + 1.2))

    def pos(layer: int, i: int) -> tuple[float, float]:
        k = shown[layer].index(i)
        return float(layer), (len(shown[layer]) - 1) / 2 - k + (tall - 1) / 2

    w_max = max(float(np.max(np.abs(ly.W))) for ly in network.layers)
    segments, widths, colours = [], [], []
    for ly, i, j, w in edges(network, max_units):
        segments.append([pos(ly - 1, j), pos(ly, i)])
        width, colour = edge_style(w, w_max)
        widths.append(width)
        colours.append(colour)
    ax.add_collection(LineCollection(segments, linewidths=widths, colors=colours, alpha=0.8,
                                     zorder=1))  # fmt: skip
    for layer, units in enumerate(shown):
        xs = [pos(layer, i)[0] for i in units]
        ys = [pos(layer, i)[1] for i in units]
        fill = "#eef3ea" if layer == 0 else "#fdf5e2" if layer < len(sizes) - 1 else "#e8eef8"
        ax.scatter(xs, ys, s=260, c=fill, edgecolors="#333", zorder=2)  # explain's fills
        if sizes[layer] > max_units:
            y_gap = (ys[-2] + ys[-1]) / 2
            ax.text(layer, y_gap, "⋮", ha="center", va="center", fontsize=14, zorder=3)
        label = "input" if layer == 0 else network.layers[layer - 1].activation.label
        ax.text(layer, max(ys) + 0.7, f"{label}\n{sizes[layer]} units", ha="center",
                va="bottom", fontsize=9)  # fmt: skip
    ax.set_xlim(-0.5, len(sizes) - 0.5)
    ax.set_ylim(-0.8, tall + 0.6)
    ax.set_axis_off()
    ax.set_title("The network (edge width ∝ |w|; blue w ≥ 0, orange w < 0)", fontsize=10)
    return fig
