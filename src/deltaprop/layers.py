"""A dense layer and its three equations: the forward pass, the gradients, the delta rule.

For layer ``l`` with weights ``Wˡ`` (units, inputs) and bias ``bˡ`` (units,), on a batch of ``n``
samples in rows (``A``, ``Z``, ``Δ`` are (n, ·) matrices whose row ``i`` is sample ``i``'s vector):

- forward:     ``zˡ = Wˡ aˡ⁻¹ + bˡ``,  ``aˡ = f(zˡ)``;        in rows ``Zˡ = Aˡ⁻¹ (Wˡ)ᵀ + bˡ``
- gradients:   ``∂E/∂Wˡ = (1/n) Σᵢ δˡᵢ (aˡ⁻¹ᵢ)ᵀ``,            in rows ``(1/n) (Δˡ)ᵀ Aˡ⁻¹``;
               ``∂E/∂bˡ = (1/n) Σᵢ δˡᵢ``,                    in rows ``(1/n) 1ᵀ Δˡ``
- delta rule:  ``δˡ⁻¹ = f'(zˡ⁻¹) ⊙ (Wˡ)ᵀ δˡ``,               in rows ``(Δˡ Wˡ) ⊙ f'(Zˡ⁻¹)``

Every function writes into arrays it is given (``out``): whoever calls them decides where the
arrays come from — fresh ones, or a training workspace reused batch after batch. There is no
second copy of these equations anywhere in deltaprop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import Activation

Array = np.ndarray


@dataclass
class Dense:
    """A dense layer ``z = W a + b``, ``a = f(z)``; ``W`` is (units, inputs), ``b`` optional."""

    W: Array
    b: Array | None
    activation: Activation

    @property
    def units(self) -> int:
        return self.W.shape[0]

    @property
    def inputs(self) -> int:
        return self.W.shape[1]


def forward(layer: Dense, a_prev: Array, z: Array, a: Array) -> Array:
    """``zˡ = aˡ⁻¹ (Wˡ)ᵀ + bˡ`` into ``z``, then ``aˡ = f(zˡ)`` into ``a`` (which may be ``z``).

    Returns the array holding ``aˡ`` (``a``, or ``z`` written over for an activation that returns
    its input buffer).
    """
    np.matmul(a_prev, layer.W.T, out=z)
    if layer.b is not None:
        z += layer.b
    out = layer.activation.function(z, a)
    if out is not a:  # an activation that returned a new array instead of writing into a
        np.copyto(a, out)
    return a


def gradients(
    layer: Dense, a_prev: Array, delta: Array, dW: Array, db: Array | None, scaled: Array,
    mean: Array,
) -> None:  # fmt: skip
    """``∂E/∂Wˡ = (1/n) (Δˡ)ᵀ Aˡ⁻¹`` into ``dW`` and ``∂E/∂bˡ = (1/n) 1ᵀ Δˡ`` into ``db``.

    The batch mean's ``1/n`` multiplies ``Δˡ`` (n × units numbers, into ``scaled``) rather than the
    gradient (units × inputs): fewer numbers, and the deltas themselves stay per sample. ``mean``
    is the row ``(1/n) 1ᵀ`` (n,): the bias gradient is one matrix-vector product.
    """
    n = delta.shape[0]
    if db is not None:
        np.matmul(mean, delta, out=db)
    if n > 1:
        delta = np.multiply(delta, 1.0 / n, out=scaled)
    if dW.flags.c_contiguous:
        np.matmul(delta.T, a_prev, out=dW)
    else:  # the transposed layout of deltaprop's stored W: write (∂E/∂Wˡ)ᵀ = Aᵀ (Δ/n) row-major
        np.matmul(a_prev.T, delta, out=dW.T)


def delta_rule(
    layer: Dense, below: Dense, z_below: Array, a_below: Array, delta: Array, back: Array,
    out: Array,
) -> Array:  # fmt: skip
    """``δˡ⁻¹ = f'(zˡ⁻¹) ⊙ (Wˡ)ᵀ δˡ``: the delta of the layer ``below`` from this layer's ``delta``.

    ``back`` receives ``(Wˡ)ᵀ δˡ`` (one row per sample: ``Δˡ Wˡ``), ``out`` the new delta; they may
    be one array (the training loop's buffers) or two (a worked solution keeps both). For a
    non-element-wise activation (softmax) ``f'(z) ⊙`` is its Jacobian's transpose (``vjp``).
    """
    np.matmul(delta, layer.W, out=back)
    return below.activation.vjp(z_below, a_below, back, out=out)
