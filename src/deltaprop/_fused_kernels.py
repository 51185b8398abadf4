"""The fused update loops, compiled by Numba when :mod:`deltaprop._fused` first needs them.

Each loop does, element by element, exactly the floating-point operations of the optimizer's
NumPy path, in the same order and in the arrays' own precision (the constants arrive already
rounded to it): Numba compiles without fast-math, so nothing is reassociated or fused into a
multiply-add, and every result is the NumPy path's, bit for bit. ``error_model="numpy"`` lets a
division by zero give ∞ or NaN as NumPy does (Python's model would raise, and would keep the loop
from being vectorised).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}


def _signatures(arrays: int, scalars: int) -> list[str]:
    return [
        f"void({', '.join([f'{t}[::1]'] * arrays + [t] * scalars)})" for t in ("float32", "float64")
    ]


@njit(_signatures(4, 7), **_OPTIONS)
def adam(p, g, m, v, b1, c1, b2, c2, c, s, d):  # pragma: no cover - compiled
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1
        vi = v[i] * b2 + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        p[i] = p[i] * d - mi / (np.sqrt(vi) * c + s)
