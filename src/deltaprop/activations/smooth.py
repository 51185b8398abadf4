"""The smooth activations: sigmoid, tanh, softplus, SiLU and GELU.

Each is declared once, below its kernels: ``f``, ``f′`` (from the output ``a`` where the tutorials
write it so: ``σ' = a(1 − a)``, ``tanh' = 1 − a²``), the formulas, ONNX and ``torch.nn``.
"""

from __future__ import annotations

import math

import numpy as np

from ..notation import HALF, Frac, Func, Lit, Op, Paren, Pow, Row, Sym, row
from .base import ONE, TWO, Activation, ActivationNotation, E, OnnxGraph, onnx_op

# --- sigmoid: σ(z) = 1 / (1 + e^(−z)), σ' = a(1 − a) ---------------------------------------------


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


def sigma(z):
    """``σ(z)`` as a formula."""
    return Func("σ", [z])


def _one_minus(x):
    return Paren(row(ONE, "−", x))


SIGMOID = Activation(
    "sigmoid",
    _sigmoid,
    _sigmoid_d,
    "1 / (1 + e^(−z))",
    "a(1 − a)",
    notation=ActivationNotation(sigma, lambda z, a: row(a, "·", _one_minus(a))),
    onnx=onnx_op("Sigmoid"),
    torch=lambda nn: nn.Sigmoid(),
    label="σ",
    max_derivative=0.25,  # σ′(0) = ¼
)


# --- tanh: tanh' = 1 − a² ------------------------------------------------------------------------


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_d(z, a, out):
    # tanh'(z) = 1 − tanh²(z) = 1 − a²
    np.multiply(a, a, out=out)
    np.subtract(1, out, out=out)
    return out


TANH = Activation(
    "tanh",
    _tanh,
    _tanh_d,
    "tanh(z)",
    "1 − a²",
    notation=ActivationNotation(
        lambda z: Func("tanh", [z]), lambda z, a: row(ONE, "−", Pow(a, TWO))
    ),
    onnx=onnx_op("Tanh"),
    torch=lambda nn: nn.Tanh(),
    label="tanh",
    max_derivative=1.0,  # tanh′(0) = 1
)


# --- softplus: f(z) = log(1 + eᶻ), f' = σ(z) = 1 − e^(−a) ----------------------------------------


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


SOFTPLUS = Activation(
    "softplus",
    _softplus,
    _softplus_d,
    "log(1 + e^z)",
    "σ(z) = 1 − e^(−a)",
    notation=ActivationNotation(
        lambda z: Func("log", [row(ONE, "+", Pow(E, z))]),
        lambda z, a: row(ONE, "−", Pow(E, Row([Op("−"), a]))),
    ),
    onnx=onnx_op("Softplus"),
    # onnxruntime has no float64 Softplus: max(z, 0) + log(1 + e^−|z|), stable for any z
    onnx_float64=OnnxGraph(
        (
            ("Abs", ("z",), "abs", {}),
            ("Neg", ("abs",), "nabs", {}),
            ("Exp", ("nabs",), "exp", {}),
            ("Add", ("exp", "one"), "1p", {}),
            ("Log", ("1p",), "log1p", {}),
            ("Relu", ("z",), "relu", {}),
            ("Add", ("relu", "log1p"), "a", {}),
        ),
        (("one", 1.0),),
    ),
    # threshold 40, not PyTorch's 20: past 40, log(1 + eᶻ) and z agree to the last bit of float64
    torch=lambda nn: nn.Softplus(beta=1.0, threshold=40.0),
    label="s₊",
    max_derivative=1.0,  # σ(z) → 1 as z → ∞
)


# --- SiLU (swish): f(z) = z σ(z), f' = σ(z)(1 + z(1 − σ(z))) ------------------------------------


def _silu(z, out):
    s = _sigmoid(z, np.empty_like(z))  # a temporary: out may be z itself
    return np.multiply(z, s, out=out)


def _silu_d(z, a, out):
    # f'(z) = σ(z) + z σ(z)(1 − σ(z)) = σ(z)(1 + z(1 − σ(z))); it needs z, not only a
    s = _sigmoid(z, np.empty_like(z))
    np.subtract(1, s, out=out)
    out *= z
    out += 1
    out *= s
    return out


SILU = Activation(
    "silu",
    _silu,
    _silu_d,
    "z σ(z)",
    "σ(z)(1 + z(1 − σ(z)))",
    derivative_from_output=False,
    notation=ActivationNotation(
        lambda z: row(z, "·", sigma(z)),
        lambda z, a: row(sigma(z), "·", Paren(row(ONE, "+", z, "·", _one_minus(sigma(z))))),
    ),
    onnx=OnnxGraph((("Sigmoid", ("z",), "s", {}), ("Mul", ("z", "s"), "a", {}))),
    torch=lambda nn: nn.SiLU(),
    label="SiLU",
    initializer="he_uniform",  # ReLU-like: z·σ(z) ≈ z above 0, ≈ 0 well below
)


# --- GELU, tanh form: f(z) = ½ z (1 + tanh u), u = √(2/π)(z + 0.044715 z³) ----------------------

GELU_K = 0.044715
_TWO_C = 2 * math.sqrt(2 / math.pi)  # 2√(2/π): ½(1 + tanh u) = σ(2u), exact relative for z < 0


def _gelu_sigma(z):
    """``σ(2u) = ½(1 + tanh u)``; ``|z|`` clipped to 50, where σ(2u) is already exactly 0 or 1,
    so that ``z³`` stays finite."""
    zc = np.minimum(np.maximum(z, -50.0), 50.0)
    u2 = zc * zc * zc
    u2 *= GELU_K
    u2 += zc
    u2 *= _TWO_C
    return _sigmoid(u2, u2), zc


def _gelu(z, out):
    # ½z(1 + tanh u) = z σ(2u): the same number, without the cancellation of 1 + tanh u for z < 0
    s, _ = _gelu_sigma(z)
    return np.multiply(z, s, out=out)


def _gelu_d(z, a, out):
    # f' = ½(1 + tanh u) + ½z(1 − tanh² u) u' = s + z s(1 − s)·2u', s = σ(2u),
    # 2u' = 2√(2/π)(1 + 3·0.044715 z²); s(1 − s) = 0 exactly where |z| > 50
    s, zc = _gelu_sigma(z)
    np.multiply(zc, zc, out=out)
    out *= 3 * GELU_K
    out += 1
    out *= _TWO_C
    out *= zc
    out *= s
    out *= 1 - s
    out += s
    return out


_ROOT = Func("√", [Frac(TWO, Sym("π"))])


def _tanh_u(z):
    """``tanh(√(2/π)·(z + 0.044715·z³))``."""
    u = row(_ROOT, "·", Paren(row(z, "+", Lit(str(GELU_K)), "·", Pow(z, Lit("3")))))
    return Func("tanh", [u])


GELU = Activation(
    "gelu",
    _gelu,
    _gelu_d,
    "½z(1 + tanh(√(2/π)(z + 0.044715 z³)))",
    "½(1 + tanh u) + ½z(1 − tanh² u)√(2/π)(1 + 0.134145 z²), u = √(2/π)(z + 0.044715 z³)",
    derivative_from_output=False,
    notation=ActivationNotation(
        lambda z: row(HALF, "·", z, "·", Paren(row(ONE, "+", _tanh_u(z)))),
        lambda z, a: row(
            HALF,
            "·",
            Paren(row(ONE, "+", _tanh_u(z))),
            "+",
            HALF,
            "·",
            z,
            "·",
            _one_minus(Pow(_tanh_u(z), TWO)),
            "·",
            _ROOT,
            "·",
            Paren(row(ONE, "+", Lit(f"{3 * GELU_K:g}"), "·", Pow(z, TWO))),
        ),
    ),
    # opset 17 has no Gelu: z σ(2√(2/π)(z + 0.044715 z³)), the engine's own form
    onnx=OnnxGraph(
        (
            ("Mul", ("z", "z"), "z2", {}),
            ("Mul", ("z2", "z"), "z3", {}),
            ("Mul", ("z3", "k"), "kz3", {}),
            ("Add", ("kz3", "z"), "inner", {}),
            ("Mul", ("inner", "two_c"), "u2", {}),
            ("Sigmoid", ("u2",), "s", {}),
            ("Mul", ("z", "s"), "a", {}),
        ),
        (("k", GELU_K), ("two_c", _TWO_C)),
    ),
    torch=lambda nn: nn.GELU(approximate="tanh"),
    label="GELU",
    initializer="he_uniform",  # ReLU-like, as SiLU
)

ACTIVATIONS = (SIGMOID, TANH, SOFTPLUS, SILU, GELU)
