"""Weight initialisers: ``W`` of shape ``(fan_out, fan_in)`` drawn from a seeded generator.

=================  ===============================================
glorot_uniform     U(−r, r),  r = √(6 / (fan_in + fan_out))
glorot_normal      N(0, σ²),  σ = √(2 / (fan_in + fan_out))
he_uniform         U(−r, r),  r = √(6 / fan_in)
he_normal          N(0, σ²),  σ = √(2 / fan_in)
lecun_uniform      U(−r, r),  r = √(3 / fan_in)
zeros              0
=================  ===============================================

Biases start at zero. Glorot/Xavier suits sigmoid, tanh and softmax layers; He suits the ReLU
family, whose half-zero outputs halve the variance that Glorot preserves.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .activations import get_activation

Array = np.ndarray
Initializer = Callable[[int, int, np.random.Generator, np.dtype], Array]


def glorot_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64) -> Array:
    r = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-r, r, size=(fan_out, fan_in)).astype(dtype)


def glorot_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64) -> Array:
    s = np.sqrt(2.0 / (fan_in + fan_out))
    return rng.normal(0.0, s, size=(fan_out, fan_in)).astype(dtype)


def he_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64) -> Array:
    r = np.sqrt(6.0 / fan_in)
    return rng.uniform(-r, r, size=(fan_out, fan_in)).astype(dtype)


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64) -> Array:
    s = np.sqrt(2.0 / fan_in)
    return rng.normal(0.0, s, size=(fan_out, fan_in)).astype(dtype)


def lecun_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64) -> Array:
    r = np.sqrt(3.0 / fan_in)
    return rng.uniform(-r, r, size=(fan_out, fan_in)).astype(dtype)


def zeros(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64) -> Array:
    return np.zeros((fan_out, fan_in), dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_uniform": glorot_uniform,
    "xavier_normal": glorot_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "kaiming_normal": he_normal,
    "lecun_uniform": lecun_uniform,
    "zeros": zeros,
}

def default_initializer(activation) -> str:
    """The initialiser an activation (or its name) declares: He for the ReLU-like ones (ReLU,
    leaky ReLU, ELU, SiLU, GELU), Glorot otherwise (:class:`deltaprop.activations.Activation`)."""
    return get_activation(activation).initializer


def get_initializer(name: str | Initializer) -> Initializer:
    """Look an initialiser up by name, or pass a callable through."""
    if callable(name):
        return name
    if not isinstance(name, str) or name.lower() not in INITIALIZERS:
        raise ValueError(
            f"unknown initializer {name!r}; expected one of {', '.join(sorted(INITIALIZERS))}"
        )
    return INITIALIZERS[name.lower()]
