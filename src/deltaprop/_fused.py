"""The optimizer rules' compiled loops, loaded on first use (optional: ``deltaprop[fast]``).

NumPy spends one pass over memory per operation, and BLAS level 1 (:mod:`deltaprop._blas`) has no
square root or division: Adam's step is seven passes over θ, g, m and v. Compiled by Numba, the
whole rule is one loop that reads and writes each number once — 265 µs → 73 µs per step for
the benchmark's 235,146 float32 parameters (``docs/performance.md``). Adam, AdamW, Adagrad,
Adadelta and RMSProp have loops (:mod:`deltaprop._fused_kernels`), which
:mod:`deltaprop.optimizers.fast` calls; SGD with momentum does not need one (BLAS does it in two
passes, measured as fast as one loop).

This module only loads them: Numba is imported, and the loops loaded from its cache (compiled
the first time), on first use; deltaprop works the same without it, through BLAS and the rules
themselves. ``DELTAPROP_NUMBA`` set to ``0``,
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
