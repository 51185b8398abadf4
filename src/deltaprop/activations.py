"""Activation functions ``a = f(z)`` and their derivatives, side by side.

Every activation works on a batch ``z`` of shape ``(n, units)``. Each knows:

- ``forward(z)``: ``a = f(z)``;
- ``derivative(z, a)``: the element-wise ``f'(z)``, written in terms of the output ``a`` where the
  math allows it (``σ' = a(1 − a)``, ``tanh' = 1 − a²``), so backprop needs no second ``exp``;
- ``vjp(z, a, grad_a)``: the chain rule through ``f``, ``∂E/∂z = J_f(z)ᵀ ∂E/∂a``. For an
  element-wise ``f`` the Jacobian is diagonal and this is ``f'(z) ⊙ ∂E/∂a``; softmax couples its
  outputs and uses its full Jacobian ``∂aᵢ/∂zⱼ = aᵢ(δᵢⱼ − aⱼ)``.

All take an optional ``out=`` buffer so that the training loop allocates nothing per batch.
Register your own pair with :func:`register_activation`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An activation ``f`` with its derivative ``f'``.

    ``function(z, out)`` writes ``f(z)`` into ``out`` (which may be ``z`` itself) and returns it.
    ``derivative(z, a, out)`` writes the element-wise ``f'(z)`` into ``out`` and returns it; it may
    read the output ``a = f(z)`` instead of ``z``. ``elementwise`` is false for activations such as
    softmax whose Jacobian is not diagonal; those supply ``vjp`` instead of a useful ``derivative``.
    ``derivative_from_output`` says the derivative reads ``a`` only (true of every built-in), so the
    training loop may compute ``a`` over ``z`` in place.
    """

    name: str
    function: Callable[[Array, Array], Array]
    derivative_fn: Callable[[Array, Array, Array], Array] | None
    formula: str
    derivative_formula: str
    elementwise: bool = True
    vjp_fn: Callable[[Array, Array, Array, Array], Array] | None = None
    derivative_from_output: bool = True

    def forward(self, z: Array, out: Array | None = None) -> Array:
        """``a = f(z)``; with ``out`` the result is written there (``out`` may be ``z``)."""
        return self.function(z, np.empty_like(z) if out is None else out)

    def derivative(self, z: Array, a: Array, out: Array | None = None) -> Array:
        """The element-wise derivative ``f'(z)`` (diagonal of the Jacobian)."""
        if self.derivative_fn is None:
            raise ValueError(f"activation {self.name!r} has no element-wise derivative; use vjp")
        return self.derivative_fn(z, a, np.empty_like(z) if out is None else out)

    def vjp(self, z: Array, a: Array, grad_a: Array, out: Array | None = None) -> Array:
        """``∂E/∂z = J_f(z)ᵀ ∂E/∂a``; ``out`` may be ``grad_a`` itself."""
        if out is None:
            out = np.empty_like(grad_a)
        if self.vjp_fn is not None:
            return self.vjp_fn(z, a, grad_a, out)
        if out is grad_a:
            d = self.derivative_fn(z, a, np.empty_like(z))
            return np.multiply(grad_a, d, out=out)
        self.derivative_fn(z, a, out)
        return np.multiply(out, grad_a, out=out)


# --- the element-wise activations ---------------------------------------------------------------


def _identity(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


def _identity_d(z, a, out):
    out.fill(1)
    return out


def _sigmoid(z, out):
    # σ(z) = 1 / (1 + e^(−z)), the textbook form: exact to a few ulp *relative* for every z.
    # (The form (1 + tanh(z/2)) / 2 cancels for z < 0: it gave σ(−40) = 0 instead of 4.2e-18.)
    # e^(−z) overflows to inf for z < −709 and underflows to 0 for z > 745; 1/(1 + inf) = 0 and
    # 1/(1 + 0) = 1 are then the correctly rounded values, so neither is an error.
    np.negative(z, out=out)
    with np.errstate(over="ignore", under="ignore"):
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _sigmoid_d(z, a, out):
    # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)
    np.subtract(1, a, out=out)
    out *= a
    return out


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_d(z, a, out):
    # tanh'(z) = 1 − tanh²(z) = 1 − a²
    np.multiply(a, a, out=out)
    np.subtract(1, out, out=out)
    return out


def _relu(z, out):
    return np.maximum(z, 0, out=out)


def _relu_d(z, a, out):
    # ReLU'(z) = 1 if z > 0 else 0 (0 at the kink, as PyTorch and scikit-learn take it);
    # z > 0 exactly where a > 0, so the output alone suffices.
    return np.greater(a, 0, out=out, casting="unsafe")


def _vjp_relu(z, a, grad_a, out):
    # ReLU'(z) ⊙ g: g times the 0/1 mask (a > 0). A masked write (out[a <= 0] = 0) is exact too
    # but branches on every entry and runs ~5× slower when half the units are off.
    return np.multiply(grad_a, a > 0, out=out)


LEAKY_SLOPE = 0.01


def _leaky_relu(z, out):
    # f(z) = z for z > 0, αz otherwise (α = 0.01, PyTorch's default); αz is a temporary, so
    # out may be z itself.
    return np.maximum(z, LEAKY_SLOPE * z, out=out)


def _leaky_relu_d(z, a, out):
    np.greater(a, 0, out=out, casting="unsafe")
    out *= 1 - LEAKY_SLOPE
    out += LEAKY_SLOPE
    return out


def _elu(z, out):
    # f(z) = z for z > 0, eᶻ − 1 otherwise (α = 1); expm1 of min(z, 0) never overflows.
    # The result is assembled in a temporary before it is written: out may be z itself (the
    # training loop's buffers), and writing eᶻ − 1 over z first would lose the positive z.
    a = np.expm1(np.minimum(z, 0))
    np.copyto(a, z, where=z > 0)
    np.copyto(out, a)
    return out


def _elu_d(z, a, out):
    # f'(z) = 1 for z > 0, eᶻ = a + 1 otherwise
    positive = a > 0
    np.add(a, 1, out=out)
    out[positive] = 1
    return out


def _softplus(z, out):
    # f(z) = log(1 + eᶻ) = max(z, 0) + log1p(e^(−|z|)), stable for any z; e^(−|z|) underflows
    # to its correctly rounded 0 for |z| > 745, which is not an error.
    with np.errstate(under="ignore"):
        t = np.exp(-np.abs(z))
    np.log1p(t, out=t)
    np.maximum(z, 0, out=out)
    out += t
    return out


def _softplus_d(z, a, out):
    # f'(z) = σ(z) = 1 − e^(−a), since eᵃ = 1 + eᶻ; −expm1(−a) keeps it exact for small a.
    np.negative(a, out=out)
    np.expm1(out, out=out)
    np.negative(out, out=out)
    return out


# --- softmax: a row-wise activation with a full Jacobian ------------------------------------------


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


_REGISTRY: dict[str, Activation] = {}


def register_activation(
    name: str,
    function: Callable[[Array], Array],
    derivative: Callable[[Array, Array], Array],
    formula: str = "",
    derivative_formula: str = "",
) -> Activation:
    """Register a user-defined element-wise activation.

    ``function(z) -> a`` and ``derivative(z, a) -> f'(z)`` take and return plain arrays (they need
    not support ``out=``). The name can then be used anywhere an activation name is accepted.
    """
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
    )
    _REGISTRY[name] = act
    return act


def _register(act: Activation) -> None:
    _REGISTRY[act.name] = act


_register(Activation("identity", _identity, _identity_d, "z", "1"))
_register(Activation("sigmoid", _sigmoid, _sigmoid_d, "1 / (1 + e^(−z))", "a(1 − a)"))
_register(Activation("tanh", _tanh, _tanh_d, "tanh(z)", "1 − a²"))
_register(Activation("relu", _relu, _relu_d, "max(z, 0)", "1 if z > 0 else 0", vjp_fn=_vjp_relu))
_register(
    Activation("leaky_relu", _leaky_relu, _leaky_relu_d, "max(z, 0.01 z)", "1 if z > 0 else 0.01")
)
_register(Activation("elu", _elu, _elu_d, "z if z > 0 else e^z − 1", "1 if z > 0 else a + 1"))
_register(Activation("softplus", _softplus, _softplus_d, "log(1 + e^z)", "σ(z) = 1 − e^(−a)"))
_register(
    Activation(
        "softmax",
        _softmax,
        None,
        "e^(z_i) / Σ_j e^(z_j)",
        "∂a_i/∂z_j = a_i(δ_ij − a_j)",
        elementwise=False,
        vjp_fn=_softmax_vjp,
    )
)

_ALIASES = {"linear": "identity", "logistic": "sigmoid", "none": "identity"}


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name (``"relu"``, ``"sigmoid"``, ...) or pass one through."""
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in _REGISTRY:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {', '.join(sorted(_REGISTRY))}"
        )
    return _REGISTRY[key]


def available_activations() -> list[str]:
    """Names of every registered activation."""
    return sorted(_REGISTRY)
