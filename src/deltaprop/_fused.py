"""Optimizer rules fused into one compiled loop (optional: ``pip install deltaprop[fast]``).

NumPy spends one pass over memory per operation, and BLAS level 1 (:mod:`deltaprop._blas`) has no
square root or division: Adam's step is seven passes over θ, g, m and v. Compiled by Numba, the
whole rule is one loop that reads and writes each number once — 265 µs → 73 µs per step for
the benchmark's 235,146 float32 parameters (``docs/performance.md``). Adam, AdamW, Adagrad,
Adadelta and RMSProp have loops; SGD with momentum does not need one (BLAS does it in two passes,
measured as fast as one loop).

The loops (:mod:`deltaprop._fused_kernels`) compute exactly the NumPy path's operations in its
order, so the two agree bit for bit (tested; a NaN's sign bit aside, where two NaNs meet).
Numba is imported, and the loops loaded from its cache (compiled the first time), on first use;
deltaprop works the same without it, through BLAS and NumPy. ``DELTAPROP_NUMBA`` set to ``0``,
``no``, ``off`` or ``false`` when deltaprop is imported switches the loops off; a Numba that fails
to import is reported once with a warning.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
import warnings
from contextlib import contextmanager
from types import ModuleType

import numpy as np

from ._memory import flat, flat_alike

Array = np.ndarray

_wanted = os.environ.get("DELTAPROP_NUMBA", "1").strip().lower() not in ("0", "no", "off", "false")
_installed = importlib.util.find_spec("numba") is not None
_kernels = None
_failed = False
_disabled_depth = 0
_lock = threading.Lock()


def available() -> bool:
    """Whether the fused loops are installed and switched on (Numba is not imported by this)."""
    return _wanted and _installed and not _failed and _disabled_depth == 0


def kernels() -> ModuleType | None:
    """The compiled loops (the module :mod:`deltaprop._fused_kernels`), loading them on first use;
    None where they are not available."""
    global _kernels, _failed
    if not available():
        return None
    if _kernels is None:
        with _lock:
            if _kernels is None and not _failed:
                try:
                    compiled = importlib.import_module(f"{__package__}._fused_kernels")
                except Exception as exc:  # a broken or incompatible Numba: fall back, say why
                    _failed = True
                    warnings.warn(
                        f"deltaprop's fused optimizer loops are off: Numba failed to load ({exc})",
                        RuntimeWarning,
                        stacklevel=3,
                    )
                    return None
                _kernels = compiled
    return _kernels


@contextmanager
def disabled():
    """Run the block without the fused loops (for tests; process-wide, blocks may nest)."""
    global _disabled_depth
    with _lock:
        _disabled_depth += 1
    try:
        yield
    finally:
        with _lock:
            _disabled_depth -= 1


def adam(
    p: Array, g: Array, m: Array, v: Array, beta1: float, beta2: float, c: float, s: float,
    decay: float = 1.0,
) -> bool:  # fmt: skip
    """Adam's step in one pass, if it can run here; returns whether it did.

    ``m ← β₁ m + (1 − β₁) g``;  ``v ← β₂ v + (1 − β₂) g²``;  ``θ ← θ·decay − m / (√v·c + s)``,
    with ``c = 1/(√(1 − β₂ᵗ)·η_t)``, ``s = ε/η_t`` and ``η_t = η/(1 − β₁ᵗ)`` (the NumPy path's
    form of ``η_t m / (√v/√(1 − β₂ᵗ) + ε)``) and AdamW's ``decay = 1 − ηλ``.
    """
    return _run("adam", (p, g, m, v), (beta1, 1 - beta1, beta2, 1 - beta2, c, s, decay))


def adagrad(p: Array, g: Array, G: Array, eps: float, lr: float) -> bool:
    """Adagrad's step in one pass: ``G ← G + g²``;  ``θ ← θ − g/(√G + ε)·η_t``."""
    return _run("adagrad", (p, g, G), (eps, lr))


def adadelta(p: Array, g: Array, v: Array, u: Array, rho: float, eps: float, lr: float) -> bool:
    """Adadelta's step in one pass: ``v ← ρ v + (1 − ρ) g²``;  ``Δ ← √(u + ε)/√(v + ε)·g``;
    ``u ← ρ u + (1 − ρ) Δ²``;  ``θ ← θ − Δ·η``."""
    return _run("adadelta", (p, g, v, u), (rho, 1 - rho, eps, lr))


def rmsprop(
    p: Array, g: Array, v: Array, gbar: Array | None, b: Array | None,
    alpha: float, eps: float, momentum: float, lr: float,
) -> bool:  # fmt: skip
    """RMSProp's step in one pass: ``v ← α v + (1 − α) g²``; with ``gbar`` (centred)
    ``ḡ ← α ḡ + (1 − α) g`` and ``r = √(v − ḡ²)``, else ``r = √v``; ``q = g/(r + ε)``; with ``b``
    (momentum μ) ``b ← μ b + q`` and ``q = b``; ``θ ← θ − q·η``."""
    arrays = (p, g, v) + tuple(a for a in (gbar, b) if a is not None)
    k = _ready(arrays)
    if k is None:
        return False
    none = np.empty(0, dtype=p.dtype)  # stands for a slot the options leave out
    t = p.dtype.type
    k.rmsprop(
        flat(p), flat(g), flat(v),
        none if gbar is None else flat(gbar), none if b is None else flat(b),
        t(alpha), t(1 - alpha), t(eps), t(momentum), t(lr), gbar is not None, b is not None,
    )  # fmt: skip
    return True


def _ready(arrays: tuple[Array, ...]) -> ModuleType | None:
    """The compiled loops, if they are here and these arrays can go to them as flat vectors.

    Not when one array comes twice (say ``g`` is ``θ``): the NumPy lines then read values an
    earlier line already changed (AdamW's decay), where the loop reads each operand first.
    """
    k = kernels()
    if k is None or len({id(a) for a in arrays}) < len(arrays) or not flat_alike(*arrays):
        return None
    return k


def _run(name: str, arrays: tuple[Array, ...], scalars: tuple[float, ...]) -> bool:
    """Run loop ``name`` on the arrays' memory, the scalars rounded to their dtype first."""
    k = _ready(arrays)
    if k is None:
        return False
    t = arrays[0].dtype.type
    getattr(k, name)(*(flat(a) for a in arrays), *(t(x) for x in scalars))
    return True
