"""Activation functions ``a = f(z)`` and their derivatives, side by side, and their registry.

Every activation works on a batch ``z`` of shape ``(n, units)``. Each knows:

- ``forward(z)``: ``a = f(z)``;
- ``derivative(z, a)``: the element-wise ``f'(z)``, written in terms of the output ``a`` where the
  math allows it (``σ' = a(1 − a)``, ``tanh' = 1 − a²``), so backprop needs no second ``exp``;
- ``vjp(z, a, grad_a)``: the chain rule through ``f``, ``∂E/∂z = J_f(z)ᵀ ∂E/∂a``. For an
  element-wise ``f`` the Jacobian is diagonal and this is ``f'(z) ⊙ ∂E/∂a``; softmax couples its
  outputs and uses its full Jacobian ``∂aᵢ/∂zⱼ = aᵢ(δᵢⱼ − aⱼ)``;
- its formulas for a worked solution, and its ONNX and ``torch.nn`` equivalents.

All take an optional ``out=`` buffer so that the training loop allocates nothing per batch. Each
activation is declared once (:mod:`.piecewise`, :mod:`.smooth`, :mod:`.softmax`); register your
own with :func:`register_activation`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import piecewise, smooth, softmax
from .base import Activation, ActivationNotation, Branch, OnnxGraph, onnx_op, row_sum
from .piecewise import LEAKY_SLOPE
from .softmax import softmax_jacobian

Array = np.ndarray

_REGISTRY: dict[str, Activation] = {
    act.name: act for act in (*piecewise.ACTIVATIONS, *smooth.ACTIVATIONS, *softmax.ACTIVATIONS)
}

_ALIASES = {"linear": "identity", "logistic": "sigmoid", "none": "identity"}


def register_activation(
    name: str | Activation,
    function: Callable[[Array], Array] | None = None,
    derivative: Callable[[Array, Array], Array] | None = None,
    formula: str = "",
    derivative_formula: str = "",
    *,
    notation: ActivationNotation | None = None,
    onnx: OnnxGraph | None = None,
    onnx_float64: OnnxGraph | None = None,
    torch: Callable[[Any], Any] | None = None,
    label: str = "",
    max_derivative: float | None = None,
    can_die: bool = False,
    initializer: str = "glorot_uniform",
) -> Activation:
    """Register a user-defined element-wise activation, or a ready :class:`Activation`.

    ``function(z) -> a`` and ``derivative(z, a) -> f'(z)`` take and return plain arrays (they need
    not support ``out=``). The name can then be used anywhere an activation name is accepted.
    ``notation`` gives its formulas to worked solutions (default: ``name(z)``, and ``f′`` as its
    number), ``onnx`` and ``torch`` its equivalents for :func:`deltaprop.export.to_onnx` and
    :func:`~deltaprop.export.to_torch` (see :class:`Activation`). ``max_derivative`` (the largest
    ``|f′|`` of an activation that saturates) and ``can_die`` (``f′`` is exactly 0 on a half-line)
    let diagnostics report its saturated and dead units; ``initializer`` names the weights
    ``Network.from_sizes`` draws for its layers by default.
    """
    if isinstance(name, Activation):
        _REGISTRY[name.name] = name
        return name
    if not name or not isinstance(name, str):
        raise ValueError(f"activation name must be a non-empty string, got {name!r}")
    if not callable(function) or not callable(derivative):
        raise TypeError("function and derivative must be callables")

    def fn(z, out):
        out[...] = function(z)
        return out

    def dfn(z, a, out):
        out[...] = derivative(z, a)
        return out

    act = Activation(
        name,
        fn,
        dfn,
        formula or f"{name}(z)",
        derivative_formula or f"{name}'(z)",
        derivative_from_output=False,
        notation=notation,
        onnx=onnx,
        onnx_float64=onnx_float64,
        torch=torch,
        label=label,
        max_derivative=max_derivative,
        can_die=can_die,
        initializer=initializer,
    )
    _REGISTRY[name] = act
    return act


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name (``"relu"``, ``"sigmoid"``, ...) or pass one through.

    A name is found as it was registered (a user's may have capitals), else in lower case or as
    an alias (``linear``, ``logistic``, ``none``)."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    if name in _REGISTRY:
        return _REGISTRY[name]
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _REGISTRY:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[key]


def available_activations() -> list[str]:
    """Names of every registered activation."""
    return sorted(_REGISTRY)


__all__ = [
    "LEAKY_SLOPE",
    "Activation",
    "ActivationNotation",
    "Branch",
    "OnnxGraph",
    "available_activations",
    "get_activation",
    "onnx_op",
    "register_activation",
    "row_sum",
    "softmax_jacobian",
]
