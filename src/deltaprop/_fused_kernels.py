"""The fused update loops, compiled by Numba when :mod:`deltaprop._fused` first needs them.

Compiled for float32 and float64 vectors (explicit signatures), cached on disk by Numba: the first
process compiles (a few seconds), later ones load.

Each loop computes its optimizer's rule (the ``rule`` method of ``deltaprop.optimizers``, the
definition) element by element, in the arrays' own precision (the constants arrive already
rounded to it). Numba compiles without fast-math, so nothing is reassociated or fused into a
multiply-add: Adagrad's, Adadelta's and RMSProp's loops do the rule's operations in its order and
give its numbers bit for bit; Adam's computes the step in one division,
``m/(√v·c + s)``, and rounds θ differently by a few ulps (``tests/test_optimizer_fast_paths.py``).
``error_model="numpy"`` lets a division by zero give ∞ or NaN as NumPy does (Python's model would
raise, and would keep the loop from being vectorised).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_OPTIONS = {"nogil": True, "error_model": "numpy"}


def _signatures(arrays: int, scalars: int) -> list[str]:
    return [
        f"void({', '.join([f'{t}[::1]'] * arrays + [t] * scalars)})" for t in ("float32", "float64")
    ]


def _compiled(signatures: list[str]):
    """``njit`` for these signatures, cached on disk where Numba finds a writable place for it
    (beside this file, else the user's cache directory), else compiled in memory every process."""

    def compile_(fn):
        try:
            return njit(signatures, cache=True, **_OPTIONS)(fn)
        except RuntimeError:  # "cannot cache function …: no locator available"
            return njit(signatures, cache=False, **_OPTIONS)(fn)

    return compile_


@_compiled(_signatures(4, 7))
def adam(p, g, m, v, b1, c1, b2, c2, c, s, d):  # pragma: no cover - compiled
    for i in range(p.size):
        gi = g[i]
        mi = m[i] * b1 + gi * c1
        vi = v[i] * b2 + (gi * gi) * c2
        m[i] = mi
        v[i] = vi
        p[i] = p[i] * d - mi / (np.sqrt(vi) * c + s)


@_compiled(_signatures(3, 2))
def adagrad(p, g, G, eps, lr):  # pragma: no cover - compiled
    for i in range(p.size):
        gi = g[i]
        Gi = G[i] + gi * gi
        G[i] = Gi
        p[i] = p[i] - lr * (gi / (np.sqrt(Gi) + eps))


@_compiled(_signatures(4, 4))
def adadelta(p, g, v, u, rho, c, eps, lr):  # pragma: no cover - compiled
    for i in range(p.size):
        gi = g[i]
        vi = v[i] * rho + (gi * gi) * c
        v[i] = vi
        d = np.sqrt(u[i] + eps) / np.sqrt(vi + eps) * gi
        u[i] = u[i] * rho + c * (d * d)
        p[i] = p[i] - d * lr


@_compiled([s.replace(")", ", boolean, boolean)") for s in _signatures(5, 5)])
def rmsprop(p, g, v, gbar, b, a, c, eps, mu, lr, centered, momentum):  # pragma: no cover
    # gbar (centred) and b (momentum) are empty arrays when their option is off
    for i in range(p.size):
        gi = g[i]
        vi = v[i] * a + (gi * gi) * c
        v[i] = vi
        if centered:
            gb = gbar[i] * a + c * gi
            gbar[i] = gb
            r = np.sqrt(vi - gb * gb)
        else:
            r = np.sqrt(vi)
        r = r + eps
        if momentum:
            bi = b[i] * mu + gi / r
            b[i] = bi
            p[i] = p[i] - lr * bi
        else:
            p[i] = p[i] - lr * (gi / r)
