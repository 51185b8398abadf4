"""Fused vector updates from the BLAS that NumPy already loaded (no new dependency).

The optimizers' rules are sums of scaled vectors, ``v ← μ v + g`` and ``θ ← θ − η v``. NumPy
spends one pass over memory per operation (``v *= μ``, ``v += g``, ``tmp = η v``, ``θ -= tmp``:
four passes, one thread); BLAS level 1 does each rule in one pass, on every BLAS thread:

- ``axpy(α, x, y)``:      ``y ← α x + y``
- ``axpby(α, x, β, y)``:  ``y ← α x + β y``   (an OpenBLAS extension)

and ``squared_norm(a)`` is ``‖a‖²`` as one dot product over the array's memory (NumPy's own
BLAS call), without the copy ``np.vdot`` makes of an F-ordered array.

NumPy's wheels bundle OpenBLAS with its symbols renamed (``scipy_cblas_saxpy64_`` in NumPy 2's
``scipy-openblas64``); we find that library beside NumPy, look the symbols up, and check them on
a small vector before trusting them. Anywhere else (another BLAS, another platform, or
``DELTAPROP_BLAS`` set to ``0``, ``no``, ``off`` or ``false`` in the environment when deltaprop
is imported) ``available()`` is False and :mod:`deltaprop.optimizers.fast` runs the rules
themselves: the arithmetic is the same up to rounding (within the ulps that
``tests/ulps.py`` states).
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from contextlib import contextmanager

import numpy as np

from ._memory import flat, flat_alike

Array = np.ndarray

_PATTERNS = (
    "numpy.libs/libscipy_openblas*.so*",  # Linux wheels
    "numpy/.dylibs/libscipy_openblas*.dylib",  # macOS wheels
    "numpy.libs/libscipy_openblas*.dll",  # Windows wheels
)
_NAMES = (  # (prefix, suffix, integer type) of the CBLAS symbols, newest first
    ("scipy_cblas_", "64_", ctypes.c_int64),
    ("scipy_cblas_", "", ctypes.c_int),
    ("cblas_", "64_", ctypes.c_int64),
)


class _Routines:
    def __init__(self, lib: ctypes.CDLL, prefix: str, suffix: str, integer) -> None:
        self.axpy: dict[np.dtype, object] = {}
        self.axpby: dict[np.dtype, object] = {}
        ptr = ctypes.c_void_p
        kinds = (("s", ctypes.c_float, np.float32), ("d", ctypes.c_double, np.float64))
        for letter, real, dtype in kinds:
            axpy = getattr(lib, f"{prefix}{letter}axpy{suffix}")
            axpy.argtypes = [integer, real, ptr, integer, ptr, integer]
            axpy.restype = None
            axpby = getattr(lib, f"{prefix}{letter}axpby{suffix}")
            axpby.argtypes = [integer, real, ptr, integer, real, ptr, integer]
            axpby.restype = None
            self.axpy[np.dtype(dtype)] = axpy
            self.axpby[np.dtype(dtype)] = axpby


def _load() -> _Routines | None:
    if os.environ.get("DELTAPROP_BLAS", "1").strip().lower() in ("0", "no", "off", "false"):
        return None
    site = os.path.dirname(os.path.dirname(np.__file__))
    for pattern in _PATTERNS:
        for path in sorted(glob.glob(os.path.join(site, pattern))):
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for prefix, suffix, integer in _NAMES:
                try:
                    routines = _Routines(lib, prefix, suffix, integer)
                except AttributeError:
                    continue
                if _works(routines):
                    return routines
    return None


def _works(r: _Routines) -> bool:
    """Check both routines in both precisions against NumPy on a small vector."""
    for dtype in r.axpy:
        x = np.arange(1, 6, dtype=dtype)
        y = np.arange(10, 15, dtype=dtype)
        r.axpby[dtype](5, 2.0, x.ctypes.data, 1, 0.5, y.ctypes.data, 1)
        r.axpy[dtype](5, -1.0, x.ctypes.data, 1, y.ctypes.data, 1)
        if not np.array_equal(y, 2.0 * np.arange(1, 6) + 0.5 * np.arange(10, 15) - np.arange(1, 6)):
            return False
    return True


_ROUTINES = _load()
_enabled = _ROUTINES is not None
_disabled_depth = 0
_lock = threading.Lock()


def available() -> bool:
    """Whether the fused BLAS updates are found and switched on."""
    return _enabled


@contextmanager
def disabled():
    """Run the block without BLAS's vector updates (for tests).

    Process-wide, not per thread: a fit running in another thread meanwhile also takes NumPy's
    path. Blocks may nest and overlap; BLAS is back on when the last one ends.
    """
    global _enabled, _disabled_depth
    with _lock:
        _disabled_depth += 1
        _enabled = False
    try:
        yield
    finally:
        with _lock:
            _disabled_depth -= 1
            _enabled = _ROUTINES is not None and _disabled_depth == 0


def usable(*arrays: Array) -> bool:
    """Whether these arrays can go to BLAS as flat vectors: BLAS is on and they are laid out
    alike in memory (:func:`deltaprop._memory.flat_alike`)."""
    return _enabled and flat_alike(*arrays)


def axpy(alpha: float, x: Array, y: Array) -> None:
    """``y ← α x + y`` in place (arrays checked by :func:`usable`)."""
    _ROUTINES.axpy[y.dtype](y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)


def axpby(alpha: float, x: Array, beta: float, y: Array) -> None:
    """``y ← α x + β y`` in place (arrays checked by :func:`usable`).

    With ``β = 0`` OpenBLAS does not read ``y``, so a NaN or ∞ in it would vanish where IEEE
    arithmetic (NumPy, PyTorch) gives ``0 · NaN = NaN``: then ``y`` is first scaled by 0 with
    NumPy (NaN and ∞ become NaN, the rest 0) and ``α x`` added by ``axpy`` — or, when ``x`` is
    ``y`` itself, the whole rule is NumPy's.
    """
    if beta == 0:
        if x is y or np.shares_memory(x, y):
            np.add(np.multiply(x, alpha), np.multiply(y, 0.0), out=y)
        else:
            np.multiply(y, 0.0, out=y)
            axpy(alpha, x, y)
        return
    _ROUTINES.axpby[y.dtype](y.size, alpha, x.ctypes.data, 1, beta, y.ctypes.data, 1)


def squared_norm(a: Array) -> float:
    """``‖a‖² = Σ aᵢ²`` as one BLAS dot product over the array's memory.

    ``np.vdot(a, a)`` flattens in C order, which copies an F-contiguous array (every stored
    ``Wˡ`` and its gradient): at 784 × 256 the copy costs more than the dot product itself.
    """
    v = flat(a)
    return float(np.dot(v, v))
