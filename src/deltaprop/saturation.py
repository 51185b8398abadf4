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
