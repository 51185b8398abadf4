"""The piecewise-linear activations and ELU: identity, ReLU, leaky ReLU, ELU.

Each is declared once, below its kernels: ``f``, ``f′`` from the output ``a``, the formulas of
each piece, ONNX and ``torch.nn``.
"""

from __future__ import annotations

import numpy as np

from ..notation import Func, Lit, Pow, row
from .base import ONE, Activation, ActivationNotation, Branch, E, OnnxGraph, onnx_op

POSITIVE = Branch("z > 0", lambda z: z > 0)
NOT_POSITIVE = Branch("z ≤ 0", lambda z: z <= 0)


# --- identity: f(z) = z, f′ = 1 ------------------------------------------------------------------


def _identity(z, out):
    if out is not z:
        np.copyto(out, z)
    return out


def _identity_d(z, a, out):
    out.fill(1)
    return out


IDENTITY = Activation(
    "identity",
    _identity,
    _identity_d,
    "z",
    "1",
    notation=ActivationNotation(lambda z: z, lambda z, a: ONE),
    onnx=OnnxGraph(),  # a = z: no node
    torch=lambda nn: None,  # no module
    label="id",
)


# --- ReLU: f(z) = max(z, 0), f′ = 1 if z > 0 else 0 ----------------------------------------------


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


RELU = Activation(
    "relu",
    _relu,
    _relu_d,
    "max(z, 0)",
    "1 if z > 0 else 0",
    vjp_fn=_vjp_relu,
    notation=ActivationNotation(
        lambda z: Func("max", [z, Lit("0")]), branches=(POSITIVE, NOT_POSITIVE)
    ),
    onnx=onnx_op("Relu"),
    torch=lambda nn: nn.ReLU(),
    label="ReLU",
    initializer="he_uniform",
    can_die=True,  # f′ = 0 for every z ≤ 0
)


# --- leaky ReLU: f(z) = max(z, αz), α = 0.01 -----------------------------------------------------

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


LEAKY_RELU = Activation(
    "leaky_relu",
    _leaky_relu,
    _leaky_relu_d,
    "max(z, 0.01 z)",
    "1 if z > 0 else 0.01",
    notation=ActivationNotation(
        lambda z: Func("max", [z, row(Lit("0.01"), "·", z)]), branches=(POSITIVE, NOT_POSITIVE)
    ),
    onnx=onnx_op("LeakyRelu", alpha=LEAKY_SLOPE),
    # onnxruntime has no float64 LeakyRelu: max(z, 0.01 z), deltaprop's own formula
    onnx_float64=OnnxGraph(
        (("Mul", ("z", "slope"), "scaled", {}), ("Max", ("z", "scaled"), "a", {})),
        (("slope", LEAKY_SLOPE),),
    ),
    torch=lambda nn: nn.LeakyReLU(LEAKY_SLOPE),
    label="lReLU",
    initializer="he_uniform",
)


# --- ELU: f(z) = z if z > 0 else eᶻ − 1 (α = 1) --------------------------------------------------


def _elu(z, out):
    # f(z) = z for z > 0, eᶻ − 1 otherwise (α = 1); expm1 of min(z, 0) never overflows.
    # z ≥ 0 takes z: both pieces give 0 at 0, but z keeps the sign of −0.0, as expm1(−0.0) and
    # torch do (min(−0.0, 0) is +0.0, which gave ELU(−0.0) = +0.0).
    # The result is assembled in a temporary before it is written: out may be z itself (the
    # training loop's buffers), and writing eᶻ − 1 over z first would lose the positive z.
    out[...] = np.where(z >= 0, z, np.expm1(np.minimum(z, 0)))
    return out


def _elu_d(z, a, out):
    # f'(z) = 1 for z > 0, eᶻ = a + 1 otherwise: min(a + 1, 1), as a + 1 > 1 exactly where z > 0
    np.add(a, 1, out=out)
    return np.minimum(out, 1, out=out)


ELU = Activation(
    "elu",
    _elu,
    _elu_d,
    "z if z > 0 else e^z − 1",
    "1 if z > 0 else a + 1",
    notation=ActivationNotation(
        lambda z: row(Pow(E, z), "−", ONE),
        branches=(
            Branch("z > 0", POSITIVE.holds, value=lambda z: z),
            Branch("z ≤ 0", NOT_POSITIVE.holds, derivative=lambda z, a: row(a, "+", ONE)),
        ),
    ),
    onnx=onnx_op("Elu", alpha=1.0),
    # onnxruntime has no float64 Elu: z if z > 0 else e^min(z, 0) − 1
    onnx_float64=OnnxGraph(
        (
            ("Min", ("z", "zero"), "neg", {}),
            ("Exp", ("neg",), "exp", {}),
            ("Sub", ("exp", "one"), "expm1", {}),
            ("Greater", ("z", "zero"), "pos", {}),
            ("Where", ("pos", "z", "expm1"), "a", {}),
        ),
        (("zero", 0.0), ("one", 1.0)),
    ),
    torch=lambda nn: nn.ELU(alpha=1.0),
    label="ELU",
    initializer="he_uniform",
    max_derivative=1.0,  # f′ = 1 for z > 0, eᶻ → 0 as z → −∞
)

ACTIVATIONS = (IDENTITY, RELU, LEAKY_RELU, ELU)
