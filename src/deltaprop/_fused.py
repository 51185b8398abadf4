"""Optimizer rules fused into one compiled loop (optional: ``pip install deltaprop[fast]``).

NumPy spends one pass over memory per operation, and BLAS level 1 (:mod:`deltaprop._blas`) has no
square root or division: Adam's step is seven passes over θ, g, m and v. Compiled by Numba, the
whole rule is one loop that reads and writes each number once — 265 µs → 73 µs per step for
the benchmark's 235,146 float32 parameters (``docs/performance.md``).

The loops (:mod:`deltaprop._fused_kernels`) compute exactly the NumPy path's operations in its
order, so the two agree bit for bit (tested). Numba is imported, and the loops loaded from its
cache (compiled the first time), on first use; deltaprop works the same without it, through BLAS
and NumPy. ``DELTAPROP_NUMBA`` set to ``0``, ``no``, ``off`` or ``false`` when deltaprop is
imported switches the loops off; a Numba that fails to import is reported once with a warning.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
import warnings
from contextlib import contextmanager

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


def kernels():
    """The compiled loops, loading them on first use; None where they are not available."""
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
    k = kernels()
    if k is None or not flat_alike(p, g, m, v):
        return False
    t = p.dtype.type
    k.adam(
        flat(p), flat(g), flat(m), flat(v),
        t(beta1), t(1 - beta1), t(beta2), t(1 - beta2), t(c), t(s), t(decay),
    )  # fmt: skip
    return True
