"""Where the arrays of a forward and a backward pass live: fresh, or reused batch after batch.

The equations (:mod:`deltaprop.layers`) write into arrays they are given. This module makes those
arrays: a :class:`ForwardPass` (every ``z`` and ``a``), a :class:`Gradients` (every delta and
gradient) and a :class:`Workspace` (both, plus the batch's ``x`` and ``t``) that the training loop
makes once per batch size and reuses, so that it allocates nothing per batch.

Memory layout (for speed; invisible to the math): every gradient is a view into one flat vector
laid out like the network's parameter vector θ (``W1, b1, W2, …``, each ``W`` stored transposed),
so that an optimizer updates all layers with one call per element-wise operation. In a training
workspace ``a`` is written over ``z`` when the activation's derivative reads only ``a``, and each
``(Wˡ)ᵀ δˡ`` is turned into the delta below in place; a worked solution asks for separate arrays
(``keep_all=True``) to show every intermediate. The numbers are the same either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .layers import Dense

Array = np.ndarray


@dataclass
class ForwardPass:
    """What the forward pass keeps: ``a[0] = x`` and, for ``l = 1 … L``, ``z[l-1]`` and ``a[l]``.

    ``z[i]`` and ``a[i + 1]`` are ``(n, units)`` arrays; ``output`` is ``a[-1]``. In the training
    loop's buffers ``z[i]`` may be the very array ``a[i + 1]`` (activation computed in place).
    """

    z: list[Array]
    a: list[Array]

    @property
    def output(self) -> Array:
        return self.a[-1]


@dataclass
class Gradients:
    """The backward pass: per-sample ``deltas[l-1]`` (n, units) and the batch gradients.

    ``weights[l-1] = ∂E/∂Wˡ`` (units, inputs), ``biases[l-1] = ∂E/∂bˡ`` (units,) or None, all views
    of ``flat`` (laid out like θ). ``back[l-1] = (Wˡ⁺¹)ᵀ δˡ⁺¹`` per sample where the buffers keep
    it apart from the delta (fresh arrays and worked solutions), else None. ``delta_scale`` is
    always 1 (deltas are per sample); it stays for code written against older versions.
    """

    deltas: list[Array]
    weights: list[Array]
    biases: list[Array | None]
    delta_scale: float = 1.0
    flat: Array | None = None
    back: list[Array | None] | None = None
    scaled: list[Array] = field(default_factory=list)
    mean: Array | None = None  # the row (1/n) 1ᵀ: ∂E/∂b = (1/n) 1ᵀ Δ

    def as_dict(self) -> dict[str, Array]:
        """Gradients keyed like :meth:`Network.params`: ``W1, b1, W2, …``."""
        out: dict[str, Array] = {}
        for i, (gW, gb) in enumerate(zip(self.weights, self.biases, strict=True), start=1):
            out[f"W{i}"] = gW
            if gb is not None:
                out[f"b{i}"] = gb
        return out


@dataclass
class Workspace:
    """Buffers for one batch size: the batch ``x`` (n, inputs) and ``t`` (n, outputs), a
    :class:`ForwardPass` and a :class:`Gradients`; ``grads_by_name`` and ``flat_grads`` are the
    gradients by parameter name and as one vector."""

    n: int
    x: Array
    t: Array
    forward: ForwardPass
    gradients: Gradients
    grads_by_name: dict[str, Array] = field(default_factory=dict)
    flat_grads: Array | None = None
    keep_all: bool = False


def flat_size(layers: Sequence[Dense]) -> int:
    """Number of parameters: every ``W`` and ``b``."""
    return sum(ly.W.size + (0 if ly.b is None else ly.b.size) for ly in layers)


def flat_views(flat: Array, layers: Sequence[Dense]) -> list[tuple[Array, Array | None]]:
    """``(W, b)`` views into ``flat`` for every layer, in the order ``W1, b1, W2, …``.

    Each ``W`` is laid out transposed: ``Wᵀ`` is C-contiguous, so ``W`` (shape still
    ``(units, inputs)``) is F-contiguous. The products ``A Wᵀ`` and ``(∂E/∂W)ᵀ = Aᵀ Δ`` then read
    and write row-major operands, which NumPy's BLAS runs 5–10 % faster at these shapes.
    """
    views: list[tuple[Array, Array | None]] = []
    offset = 0
    for layer in layers:
        units, inputs = layer.W.shape
        chunk = flat[offset : offset + units * inputs]
        W = chunk.reshape(inputs, units).T  # Wᵀ row-major: W is F-contiguous
        offset += units * inputs
        b = None
        if layer.b is not None:
            b = flat[offset : offset + units]
            offset += units
        views.append((W, b))
    return views


def pack(layers: Sequence[Dense], dtype: np.dtype) -> tuple[Array, list]:
    """θ: a new flat vector holding every ``W`` and ``b`` of ``layers``, which now hold views of it.

    Returns the vector and the ``(W, b)`` views (see :func:`flat_views`).
    """
    flat = np.empty(flat_size(layers), dtype=dtype)
    views = flat_views(flat, layers)
    for layer, (W, b) in zip(layers, views, strict=True):
        np.copyto(W, layer.W, casting="same_kind")
        layer.W = W
        if b is not None:
            np.copyto(b, layer.b, casting="same_kind")
            layer.b = b
    return flat, views


def forward_buffers(layers: Sequence[Dense], x: Array, keep_all: bool = False) -> ForwardPass:
    """Empty ``z`` and ``a`` arrays for a forward pass of ``x``; ``a[0]`` is ``x`` itself.

    ``a`` shares ``z``'s array where the activation's derivative reads only ``a`` (unless
    ``keep_all``): the activation is then computed in place.
    """
    n, dt = x.shape[0], x.dtype
    zs, acts = [], [x]
    for layer in layers:
        z = np.empty((n, layer.units), dtype=dt)
        in_place = layer.activation.derivative_from_output and not keep_all
        zs.append(z)
        acts.append(z if in_place else np.empty_like(z))
    return ForwardPass(zs, acts)


def gradient_buffers(
    layers: Sequence[Dense], n: int, dtype: np.dtype, keep_all: bool = True
) -> Gradients:
    """Empty deltas and gradients for ``n`` samples; ``keep_all`` keeps each ``(Wˡ⁺¹)ᵀ δˡ⁺¹``."""
    flat = np.zeros(flat_size(layers), dtype=dtype)
    views = flat_views(flat, layers)
    deltas = [np.empty((n, layer.units), dtype=dtype) for layer in layers]
    back = [np.empty_like(d) for d in deltas[:-1]] + [None] if keep_all else None
    return Gradients(
        deltas=deltas,
        weights=[gW for gW, _ in views],
        biases=[gb for _, gb in views],
        flat=flat,
        back=back,
        scaled=[np.empty_like(d) for d in deltas] if n > 1 else [],
        mean=np.full(n, 1.0 / n, dtype=dtype),
    )


def back_buffer(g: Gradients, i: int) -> Array:
    """Where the delta rule puts ``(Wˡ⁺¹)ᵀ δˡ⁺¹`` of layer ``i`` (list index): its own array when
    kept apart; in a training workspace the layer's scaled-delta buffer, unused until that layer's
    gradients, so that no activation needs a temporary (else the delta itself, in place)."""
    if g.back is not None:
        return g.back[i]
    return g.scaled[i] if g.scaled else g.deltas[i]


def workspace(
    layers: Sequence[Dense], n: int, dtype: np.dtype, keep_all: bool = False
) -> Workspace:
    """Every buffer of a training step on batches of ``n`` samples."""
    x = np.empty((n, layers[0].inputs), dtype=dtype)
    t = np.empty((n, layers[-1].units), dtype=dtype)
    grads = gradient_buffers(layers, n, dtype, keep_all)
    return Workspace(
        n,
        x,
        t,
        forward_buffers(layers, x, keep_all),
        grads,
        grads_by_name=grads.as_dict(),
        flat_grads=grads.flat,
        keep_all=keep_all,
    )
