"""Distances between floating-point results in ulps; how far each fast path may be from its rule.

An optimizer's definition is its ``rule`` (``deltaprop/optimizers/*.py``); the fast paths
(``deltaprop/optimizers/fast.py``) compute the same rule in another order of operations. Each
rounding of an IEEE operation errs by at most ½ ulp of its result, so two orders of the same
arithmetic differ by a few ulps — of the *terms they add*, not of the result: θ ← θ − Δθ with
θ ≈ Δθ leaves a tiny θ whose own ulp says nothing about the update's accuracy. So every update
``new = old + change`` is measured in ulps at the scale ``max(|old|, |new|, |change|)``.
"""

from __future__ import annotations

import numpy as np


def ulp_distance(a, b, scale=None) -> float:
    """The largest ``|a − b|`` over the elements, in units in the last place of ``a``'s dtype at
    the magnitude ``max(|a|, |b|, |scale|)`` (element-wise); equal NaNs count as 0."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    magnitude = np.maximum(np.abs(a), np.abs(b))
    if scale is not None:
        magnitude = np.maximum(magnitude, np.abs(np.asarray(scale, dtype=a.dtype)))
    spacing = np.spacing(magnitude).astype(np.float64)  # one ulp at that magnitude
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    diff[np.isnan(a) & np.isnan(b)] = 0.0
    return float(np.max(diff / spacing)) if diff.size else 0.0


def update_ulps(old, new, reference) -> float:
    """:func:`ulp_distance` of ``new`` from ``reference``, both updates of ``old``, at the scale
    of the update's terms: ``max(|old|, |reference|, |reference − old|)``."""
    old = np.asarray(old)
    scale = np.maximum(np.abs(old), np.abs(np.asarray(reference) - old))
    return ulp_distance(new, reference, scale)


# How far each fast path may be from the rule, in ulps at the update's scale, per step (both start
# from the same θ, g and state), for θ and for every state slot.
TOLERANCE = {
    # Adagrad's, Adadelta's and RMSProp's compiled loops do the rule's operations in its order,
    # without fast-math (no reassociation, no fused multiply-add; √ correctly rounded in both):
    # the same numbers, bit for bit.
    "loop": {"θ": 0, "slots": 0},
    # Without the loops, their NumPy form does the rule's operations in its order, only into
    # work arrays (out=) instead of new ones: bit for bit.
    "numpy": {"θ": 0, "slots": 0},
    # Adam's loop updates m and v as the rule does (0 ulps) but computes the step in one division,
    # m/(√v·c + s) with c = 1/(√(1 − β₂ᵗ)·η_t), s = ε/η_t, against the rule's
    # η·m̂/(√v̂ + ε): about a dozen roundings between them, each ≤ ½ ulp of Δθ, and ½ ulp for
    # θ − Δθ. Measured: ≤ 3 ulps (float32 and float64, 4 seeds × 10 steps, both layouts).
    "adam-loop": {"θ": 8, "slots": 0},
    # BLAS axpy/axpby may fuse the multiply-add (one rounding instead of two; OpenBLAS's Haswell
    # kernel does, its SkylakeX kernel does not): ≤ 1 ulp per call at the scale of its terms.
    # Nesterov's step is two axpys (θ − η·g − ημ·v against θ − η·(g + μ·v)) and ημ is rounded once
    # more. Measured: ≤ 2.02 ulps.
    "sgd-blas": {"θ": 4, "slots": 1},
    # Adam through BLAS: m and v by axpby (≤ 1 ulp, fused), the step rearranged as
    # η_t·√(1 − β₂ᵗ)·m/(√v + ε√(1 − β₂ᵗ)) (as many roundings as the loop's form) and applied by
    # axpy. Measured: ≤ 4 ulps.
    "adam-blas": {"θ": 8, "slots": 1},
}
