"""Saturated and dead units: where ``f′(z)`` is (nearly) zero, so that no gradient gets through.

For a layer with activation ``f`` on a batch ``Z`` (n, units), ``A = f(Z)``:

- saturated share ``= (1 / (n·units)) Σᵢⱼ [|f′(zᵢⱼ)| < 1 % · max |f′|]`` — for activations that
  declare ``max_derivative`` (σ: ¼, tanh: 1): the share of the (sample, unit) entries whose
  delta ``δ = f′(z) ⊙ (Wᵀ δ)`` is multiplied by almost nothing;
- dead share ``= (1 / units) Σⱼ [f′(zᵢⱼ) = 0 for every sample i]`` — for activations that
  declare ``can_die`` (ReLU): units that never pass a gradient on these data.

Which activations saturate or can die is read from their declarations
(:class:`deltaprop.activations.Activation`), never from their names. An activation that declares
neither has, by that definition, no saturated or dead units: its shares are 0 (the records stay
plain finite numbers, as model files keep them); :func:`measured` says which shares mean
something, for tables and plots.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .batches import gather
from .buffers import ForwardPass

if TYPE_CHECKING:
    from .network import Network

Array = np.ndarray

SAMPLE_ROWS = 1024  # fit measures saturation at each epoch's end on at most this many rows


def layer_saturation(network: Network, x) -> tuple[list[float], list[float]]:
    """Per layer ``l = 1 … L``: the saturated share and the dead share on the inputs ``x``.

    Runs the engine's own forward pass (``network.forward``) and reads each layer's ``z`` and
    ``a``; 0 where the layer's activation declares no saturation (or cannot die).
    """
    fp = network.forward(x)
    saturated, dead = [], []
    for i, layer in enumerate(network.layers):
        z, a = fp.z[i], fp.a[i + 1]
        mask = layer.activation.saturated(z, a)
        saturated.append(0.0 if mask is None else float(np.mean(mask)))
        off = layer.activation.inactive(z, a)
        dead.append(0.0 if off is None else float(np.mean(off.all(axis=0))))
    return saturated, dead


class SaturationCount:
    """The shares of :func:`layer_saturation`, counted chunk by chunk over many rows.

    ``add(fp)`` counts one forward pass's saturated entries and active units per layer;
    ``shares()`` gives the saturated and dead shares of all rows added.
    """

    def __init__(self, network: Network):
        self.acts = [ly.activation for ly in network.layers]
        self.entries = 0
        self.saturated = [0] * len(self.acts)
        self.active = [np.zeros(ly.units, dtype=bool) for ly in network.layers]

    def add(self, fp: ForwardPass) -> None:
        self.entries += fp.a[0].shape[0]
        for i, act in enumerate(self.acts):
            z, a = fp.z[i], fp.a[i + 1]
            mask = act.saturated(z, a)
            if mask is not None:
                self.saturated[i] += int(np.count_nonzero(mask))
            off = act.inactive(z, a)
            if off is not None:
                self.active[i] |= ~off.all(axis=0)

    def shares(self) -> tuple[list[float], list[float]]:
        n = max(self.entries, 1)
        saturated = [c / (n * len(m)) for c, m in zip(self.saturated, self.active, strict=True)]
        dead = [
            float(np.mean(~m)) if act.can_die and act.elementwise else 0.0
            for m, act in zip(self.active, self.acts, strict=True)
        ]
        return saturated, dead


def epoch_saturation(network: Network, X, rows: slice | Array, buffers: ForwardPass):
    """:func:`layer_saturation` on ``X[rows]``, chunk by chunk through ``buffers`` (a forward
    pass's arrays, ``a[0]`` the input rows: a training workspace's, whose contents the next batch
    overwrites anyway), so that no copy of the rows is kept. Raises
    :class:`~deltaprop.batches.NonFiniteBatch` on a memmap's NaN."""
    idx = np.arange(X.shape[0])[rows] if isinstance(rows, slice) else rows
    count = SaturationCount(network)
    size = buffers.a[0].shape[0]
    for start in range(0, len(idx), size):
        chunk = idx[start : start + size]
        k = len(chunk)
        gather(X, chunk, buffers.a[0][:k])
        fp = ForwardPass([z[:k] for z in buffers.z], [a[:k] for a in buffers.a])
        network._run_forward(fp)  # Network.forward's layer loop, into these views
        count.add(fp)
    return count.shares()


def measured(network: Network) -> tuple[list[bool], list[bool]]:
    """Per layer: does its activation saturate (``max_derivative``), can it die (``can_die``)?"""
    acts = [ly.activation for ly in network.layers]
    return (
        [a.max_derivative is not None and a.elementwise for a in acts],
        [a.can_die and a.elementwise for a in acts],
    )


def sample_rows(n: int, rows: int = SAMPLE_ROWS) -> slice | Array:
    """The rows ``fit`` measures saturation on: all ``n`` if at most ``rows``, else ``rows``
    evenly spaced ones (data sorted by class still give every class its share)."""
    if n <= rows:
        return slice(0, n)
    return np.linspace(0, n - 1, rows).round().astype(np.intp)
