"""Softmax: a row-wise activation with a full Jacobian ``∂aᵢ/∂zⱼ = aᵢ(δᵢⱼ − aⱼ)``."""

from __future__ import annotations

import numpy as np

from ..notation import Frac, Pow
from .base import Activation, ActivationNotation, E, onnx_op, row_sum

Array = np.ndarray


def _softmax(z, out):
    # aᵢ = e^(zᵢ − max z) / Σⱼ e^(zⱼ − max z): subtracting the row max keeps exp ≤ 1.
    # (ufunc reductions rather than z.max/out.sum: no Python wrapper, this runs every batch)
    m = np.maximum.reduce(z, axis=1, keepdims=True)
    np.subtract(z, m, out=out)
    with np.errstate(under="ignore"):  # e^(zᵢ − max z) → 0 far below the max: correctly rounded
        np.exp(out, out=out)
    out /= np.add.reduce(out, axis=1, keepdims=True)
    return out


def _softmax_vjp(z, a, grad_a, out):
    # ∂E/∂zⱼ = Σᵢ (∂E/∂aᵢ) aᵢ(δᵢⱼ − aⱼ) = aⱼ (∂E/∂aⱼ − Σᵢ aᵢ ∂E/∂aᵢ)
    s = np.einsum("ij,ij->i", grad_a, a)[:, None]
    np.subtract(grad_a, s, out=out)
    out *= a
    return out


def softmax_jacobian(a: Array) -> Array:
    """The softmax Jacobian ``J[n, i, j] = ∂aᵢ/∂zⱼ = aᵢ(δᵢⱼ − aⱼ)`` for a batch ``a`` (n, k)."""
    return (
        np.einsum("ni,ij->nij", a, np.eye(a.shape[1], dtype=a.dtype))
        - a[:, :, None] * a[:, None, :]
    )


SOFTMAX = Activation(
    "softmax",
    _softmax,
    None,
    "e^(z_i) / Σ_j e^(z_j)",
    "∂a_i/∂z_j = a_i(δ_ij − a_j)",
    elementwise=False,
    vjp_fn=_softmax_vjp,
    notation=ActivationNotation(
        lambda z, zs: Frac(Pow(E, z), row_sum("j", zs, lambda v: Pow(E, v))), row_wise=True
    ),
    onnx=onnx_op("Softmax", axis=1),
    torch=lambda nn: nn.Softmax(dim=1),
    jacobian_fn=lambda z, a: softmax_jacobian(a),
    label="soft",
)

ACTIVATIONS = (SOFTMAX,)
