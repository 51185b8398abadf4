"""Batches: the rows of one update, gathered from the data into the workspace's buffers.

One switch chooses the tutorials' three modes: a batch size of ``n`` is batch gradient descent,
1 is stochastic, anything between is mini-batch. Each epoch visits every sample once, in a
shuffled order or as stored. Batches are gathered by index, so the data may be a ``np.memmap``
larger than memory (checked for NaN batch by batch) or a sparse matrix (densified batch by batch).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from .validation import as_2d_float, check_real_dtype

if TYPE_CHECKING:
    from .network import Network

Array = np.ndarray


class NonFiniteBatch(ValueError):
    """A batch read from a memory-mapped ``x`` holds NaN or infinity."""


def as_inputs(network: Network, x, name: str) -> Array:
    """``x`` as ``(n, inputs)`` of the network's dtype; a memmap stays on disk, unchecked here."""
    if isinstance(x, np.memmap):
        # Kept on disk: checked and cast batch by batch, never copied whole. Its dtype is checked
        # here, as as_2d_float checks an array's: a complex x_val would otherwise be refused only
        # by the first epoch's validation, under the name "x", after that epoch's updates.
        check_real_dtype(x.dtype, name)
        if x.ndim != 2 or x.shape[1] != network.layers[0].inputs:
            raise ValueError(
                f"{name} must have shape (n, {network.layers[0].inputs}), got {x.shape}"
            )
        return x
    return as_2d_float(x, name, network.dtype, n_columns=network.layers[0].inputs)


def batches(n: int, batch_size: int, order: Array | None) -> Iterator[slice | Array]:
    """The indices of each batch: slices in stored order (``order`` None), else ``order``'s runs."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def gather(x, idx: slice | Array, out: Array) -> None:
    """Copy the rows ``x[idx]`` into ``out``, casting if need be.

    A sparse ``x`` is densified here, one batch at a time. Rows read from a memmap are checked:
    a NaN or infinity raises :class:`NonFiniteBatch` naming its position in ``x``.
    """
    if hasattr(x, "toarray"):
        np.copyto(out, x[idx].toarray(), casting="unsafe")
        return
    if isinstance(idx, slice):
        np.copyto(out, x[idx], casting="unsafe")
    elif x.dtype == out.dtype:
        # mode="clip": the indices come from a permutation of range(n), so none is out of range;
        # the default mode="raise" buffers the copy and runs ~3× slower.
        x.take(idx, axis=0, out=out, mode="clip")
    else:
        np.copyto(out, np.take(x, idx, axis=0, mode="clip"), casting="unsafe")
    if isinstance(x, np.memmap):
        bad = ~np.isfinite(out)
        if bad.any():
            # Report the position in x, not in the batch (whose rows are x[idx]).
            i, j = (int(v) for v in np.argwhere(bad)[0])
            row = idx.start + i if isinstance(idx, slice) else int(idx[i])
            raise NonFiniteBatch(f"x contains NaN or infinity (at index [{row}, {j}])")
