"""Checks at the boundary where a user hands data or settings to deltaprop.

Each raises ``ValueError`` (or ``TypeError``) with a message naming the argument, what was found
and what was expected, so that bad input never surfaces as a traceback from deep inside NumPy.
"""

from __future__ import annotations

import numbers

import numpy as np

Array = np.ndarray

FLOAT_DTYPES = (np.float32, np.float64)


def check_dtype(dtype) -> np.dtype:
    """``float32`` or ``float64``; anything else is refused by name."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def as_2d_float(
    x,
    name: str,
    dtype: np.dtype | type = np.float64,
    n_columns: int | None = None,
    copy: bool = False,
    allow_1d_as: str = "sample",
) -> Array:
    """``x`` as a finite 2-D float array of ``dtype`` with ``n_columns`` columns.

    A 1-D ``x`` is one sample (``allow_1d_as="sample"``, shape ``(1, d)``) or one column
    (``"column"``, shape ``(n, 1)``). A ``np.memmap`` or array of the right dtype is not copied.
    """
    if isinstance(x, np.ndarray):
        arr = x
    else:
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{name} could not be read as a numeric array: {exc}") from None
    check_real_dtype(arr.dtype, name)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1) if allow_1d_as == "sample" else arr.reshape(-1, 1)
    elif arr.ndim == 0:
        raise ValueError(f"{name} must be a 2-D array (samples × features), got a scalar")
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (samples × features), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no samples (shape {arr.shape})")
    if n_columns is not None and arr.shape[1] != n_columns:
        raise ValueError(f"{name} has {arr.shape[1]} columns, expected {n_columns}")
    arr = arr.astype(dtype, copy=copy) if arr.dtype != dtype or copy else arr
    if not isinstance(arr, np.memmap):
        # A memmap may be larger than memory; its finiteness is checked batch by batch instead.
        check_finite(arr, name)
    return arr


def check_real_dtype(dtype: np.dtype, name: str) -> None:
    """Refuse an array's dtype unless it holds real numbers (bools included), by name."""
    if not (np.issubdtype(dtype, np.number) or np.issubdtype(dtype, np.bool_)):
        raise TypeError(f"{name} must hold numbers, got an array of dtype {dtype}")
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got complex dtype {dtype}")


def check_finite(arr: Array, name: str) -> None:
    """Refuse NaN and ±inf, saying where the first one is.

    Checked in blocks of rows, so a large array costs no array-sized boolean temporary.
    """
    rows = max(1, (1 << 20) // max(1, arr[0].size if arr.ndim > 1 else 1))
    for start in range(0, max(arr.shape[0], 1) if arr.ndim else 1, rows):
        block = arr[start : start + rows] if arr.ndim else arr
        if not np.isfinite(block).all():
            bad = np.argwhere(~np.isfinite(block))[0]
            if arr.ndim:
                bad[0] += start
            where = ", ".join(str(int(i)) for i in bad)
            raise ValueError(f"{name} contains NaN or infinity (first at index [{where}])")


def non_finite_outputs(x: Array, bad: Array, dtype) -> Exception:
    """The error for a network's outputs that are not finite in the rows ``bad`` (a mask):
    a NaN or infinity in a memmap's ``x`` (unchecked on the way in: it may not fit in memory)
    raises here, naming where; otherwise the inputs overflowed, and the rows are named."""
    if isinstance(x, np.memmap):
        check_finite(x, "x")
    rows = np.flatnonzero(bad)
    shown = ", ".join(str(i) for i in rows[:10]) + (" …" if rows.size > 10 else "")
    return OverflowError(
        f"the network's output is not finite for {rows.size} of {bad.size} rows (rows {shown}): "
        f"their inputs are too large for {np.dtype(dtype)} arithmetic (it overflows near "
        f"{np.finfo(dtype).max:.3g}); scale the inputs"
    )


def check_number(
    value,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """A real number within ``[low, high]`` (bounds optional, inclusive unless said otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"Invalid {name}: {value!r} (expected a finite real number)")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        bound = ">=" if low_inclusive else ">"
        raise ValueError(f"Invalid {name}: {value!r} (expected {bound} {low})")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        bound = "<=" if high_inclusive else "<"
        raise ValueError(f"Invalid {name}: {value!r} (expected {bound} {high})")
    return float(value)


def check_int(value, name: str, low: int | None = None) -> int:
    """A whole number ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"Invalid {name}: {value!r} (expected a whole number)")
    if low is not None and value < low:
        raise ValueError(f"Invalid {name}: {value!r} (expected >= {low})")
    return int(value)


def check_sample_weight(sample_weight, n: int) -> Array:
    """Non-negative finite weights, one per sample, not all zero."""
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(f"sample_weight has shape {w.shape}, expected ({n},)")
    check_finite(w, "sample_weight")
    if (w < 0).any():
        raise ValueError("sample_weight must be non-negative")
    if not w.sum() > 0:
        raise ValueError("sample_weight sums to zero")
    return w


def per_layer(value, n: int, name: str) -> list:
    """``value`` once per layer: a single name (or flag, or None) repeated ``n`` times, or a
    sequence of exactly ``n`` entries."""
    if isinstance(value, str | bool) or value is None or callable(value):
        return [value] * n
    try:
        value = list(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a name or one per layer, got {type(value).__name__}"
        ) from None
    if len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries, expected one per layer ({n})")
    return value
