"""Gradient check: the backward pass against central finite differences, on your own network.

For every parameter θ: ``∂E/∂θ ≈ (E(θ + h) − E(θ − h)) / 2h`` (error O(h²)). The check reports,
per parameter array, the relative error ``‖g_bp − g_fd‖ / max(‖g_bp‖ + ‖g_fd‖, tiny)``; in float64
a correct backward pass gives about 1e-8 or less with the default ``h = 1e-6``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .losses import Loss, get_loss
from .network import Network

Array = np.ndarray


@dataclass
class GradcheckResult:
    """Backprop and finite-difference gradients, and their relative error, per parameter."""

    backprop: dict[str, Array]
    numeric: dict[str, Array]
    relative_error: dict[str, float]
    tolerance: float

    @property
    def max_error(self) -> float:
        return max(self.relative_error.values())

    @property
    def passed(self) -> bool:
        return self.max_error <= self.tolerance

    def __str__(self) -> str:
        lines = [f"{'parameter':<10} {'relative error':>15}"]
        lines += [f"{k:<10} {v:>15.3e}" for k, v in self.relative_error.items()]
        verdict = "passed" if self.passed else "FAILED"
        lines.append(
            f"{verdict}: max relative error {self.max_error:.3e} (tolerance {self.tolerance:.0e})"
        )
        return "\n".join(lines)


def numeric_gradients(
    network: Network, x, target, loss: str | Loss, h: float = 1e-6
) -> dict[str, Array]:
    """Central finite differences of ``E`` for every parameter (the network is left unchanged)."""
    loss = get_loss(loss)
    x = network.check_input(x)
    t = network.check_target(target, x.shape[0])
    out: dict[str, Array] = {}
    for name, p in network.params().items():
        g = np.empty_like(p, dtype=np.float64)
        # order="A": a view in memory order for C- and F-contiguous parameters alike.
        flat, gflat = p.reshape(-1, order="A"), g.reshape(-1, order="A")
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + h
            e_plus = loss.value(network.predict(x), t)
            flat[i] = keep - h
            e_minus = loss.value(network.predict(x), t)
            flat[i] = keep
            gflat[i] = (e_plus - e_minus) / (2 * h)
        out[name] = g
    return out


def gradcheck(
    network: Network,
    x,
    target,
    loss: str | Loss,
    h: float | None = None,
    tolerance: float | None = None,
) -> GradcheckResult:
    """Compare :meth:`Network.gradients` with :func:`numeric_gradients`, parameter by parameter.

    ``h`` and ``tolerance`` default to 1e-6 and 1e-6 in float64, 1e-2 and 1e-2 in float32 (whose
    finite differences are only good to about ``√ε``); the network's own dtype is used throughout.
    """
    f64 = network.dtype == np.float64
    h = h if h is not None else (1e-6 if f64 else 1e-2)
    tolerance = tolerance if tolerance is not None else (1e-6 if f64 else 1e-2)
    bp = network.gradients(x, target, loss).as_dict()
    fd = numeric_gradients(network, x, target, loss, h)
    rel = {}
    for k in bp:
        a, b = bp[k].astype(np.float64), fd[k]
        denom = max(np.linalg.norm(a) + np.linalg.norm(b), np.finfo(np.float64).tiny)
        rel[k] = float(np.linalg.norm(a - b) / denom)
    return GradcheckResult(bp, fd, rel, tolerance)
