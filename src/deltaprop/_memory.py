"""When arrays of any shape can be handed to a compiled kernel as flat vectors.

The fast paths (:mod:`deltaprop.optimizers.fast`: BLAS and the compiled loops) run over an
array's memory, not its indices. That is only right when every operand stores element ``i`` of
that memory at the same index, and when the kernel may write where it writes.
"""

from __future__ import annotations

import weakref

import numpy as np

Array = np.ndarray

FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def flat_alike(*arrays: Array) -> bool:
    """Whether these arrays can be processed as flat vectors, element by element.

    They must be plain ndarrays (or memmaps; no masked or other subclasses) of one native float
    dtype, shape and strides, contiguous (C or F order) and aligned: element ``i`` of the memory
    of each then belongs to the same index, whatever the shape. They must be writeable (a kernel
    would write through a read-only view, and a memory-mapped file opened read-only would crash
    the process, where NumPy raises a clear error), and no two may partly overlap (a kernel reads
    and writes element by element, or splits the vector between threads, so overlapping operands
    would race); the same array twice is fine here (the fused loops refuse it themselves).
    """
    a0 = arrays[0]
    if a0.dtype not in FLOATS or not (a0.flags.c_contiguous or a0.flags.f_contiguous):
        return False
    for a in arrays:
        if (
            (type(a) is not np.ndarray and type(a) is not np.memmap)
            or a.dtype != a0.dtype
            or a.shape != a0.shape
            or a.strides != a0.strides
            or not a.flags.writeable
            or not a.flags.aligned
        ):
            return False
    return _disjoint(arrays)


def flat(a: Array) -> Array:
    """The memory of a contiguous array as a 1-D view (no copy, C or F order)."""
    return a.reshape(-1, order="A") if a.flags.f_contiguous else a.reshape(-1)


_DISJOINT: dict[tuple[int, ...], tuple[tuple[weakref.ref, ...], bool]] = {}


def _disjoint(arrays: tuple[Array, ...]) -> bool:
    """Whether no two distinct arrays share memory.

    Cached by identity, checked through weak references (an ndarray's memory never moves while
    the object lives, and a dead array's id may be reused): the training loop asks about the
    same few vectors every step.
    """
    key = tuple(id(a) for a in arrays)
    hit = _DISJOINT.get(key)
    if hit is not None and all(ref() is a for ref, a in zip(hit[0], arrays, strict=True)):
        return hit[1]
    verdict = not any(
        a is not b and np.may_share_memory(a, b)
        for i, a in enumerate(arrays)
        for b in arrays[i + 1 :]
    )
    if len(_DISJOINT) >= 64:
        _DISJOINT.clear()
    _DISJOINT[key] = (tuple(weakref.ref(a) for a in arrays), verdict)
    return verdict
