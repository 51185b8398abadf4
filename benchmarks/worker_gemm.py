"""Benchmark worker: NumPy's float32 GEMM rate on this machine (the roofline's denominator)."""

from __future__ import annotations

import time

import numpy as np
from common import blas_info, emit


def rate(n: int, repeats: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty_like(a)
    np.matmul(a, b, out=c)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def main() -> None:
    rates = {str(n): rate(n, r) for n, r in ((1024, 20), (2048, 8), (4096, 3))}
    emit(
        {
            "library": "gemm",
            "gflops": {k: v / 1e9 for k, v in rates.items()},
            "best_gflops": max(rates.values()) / 1e9,
            "blas": blas_info(),
        }
    )


if __name__ == "__main__":
    main()
