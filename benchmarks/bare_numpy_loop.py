"""The floor for a NumPy-level training loop: the benchmark's step with nothing but the math.

    python benchmarks/bare_numpy_loop.py [--steps 400] [--repeats 3]

784-256-128-10 ReLU/softmax, float32, batch 128, SGD + momentum, on random data of Fashion-MNIST's
shape: gather, forward, softmax, the o − t delta from integer labels, the delta rule, gradients,
and the momentum update (NumPy ufuncs, then BLAS axpby/axpy as deltaprop does) — no loss
bookkeeping, no norms, no checks, no library. Alternately it times the eight matrix products
alone on the same buffers, and prints per step: the whole step, the products, the rest, and the
roofline fraction (the issue's FLOPs over a 2048² float32 GEMM's rate) of the step and of the
products alone. "the rest" is what any NumPy-level loop pays on this machine around the
products. Last, each product alone (best of 5 × 200 calls) as a fraction of that GEMM rate: no
step can beat its products, so their sum bounds the roofline fraction of any loop built on
NumPy's BLAS at this batch size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from deltaprop import _blas  # noqa: E402

SIZES = (784, 256, 128, 10)
BATCH = 128


def views(flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``Wᵀ`` (inputs × units, row-major) and ``b`` views of one flat vector, layer by layer."""
    Wt, b, offset = [], [], 0
    for fan_in, fan_out in zip(SIZES, SIZES[1:], strict=False):
        Wt.append(flat[offset : offset + fan_in * fan_out].reshape(fan_in, fan_out))
        offset += fan_in * fan_out
        b.append(flat[offset : offset + fan_out])
        offset += fan_out
    return Wt, b


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    f32 = np.float32
    n = 60_000
    X = rng.random((n, SIZES[0]), dtype=f32)
    y = rng.integers(0, SIZES[-1], n)
    P = sum(i * o + o for i, o in zip(SIZES, SIZES[1:], strict=False))
    theta = (rng.standard_normal(P) * 0.05).astype(f32)
    grad, velocity, tmp = np.zeros(P, f32), np.zeros(P, f32), np.zeros(P, f32)
    Wt, b = views(theta)
    gWt, gb = views(grad)
    x = np.empty((BATCH, SIZES[0]), f32)
    z = [np.empty((BATCH, k), f32) for k in SIZES[1:]]
    d = [np.empty((BATCH, k), f32) for k in SIZES[1:]]
    ones, rows = np.ones(BATCH, f32), np.arange(BATCH)
    order = rng.permutation(n)

    def step(s: int, update: str) -> None:
        idx = order[(s * BATCH) % (n - BATCH) :][:BATCH]
        X.take(idx, axis=0, out=x, mode="clip")
        labels = y[idx]
        a = x
        for i in range(3):
            np.matmul(a, Wt[i], out=z[i])
            z[i] += b[i]
            if i < 2:
                np.maximum(z[i], 0, out=z[i])
            a = z[i]
        o = z[2]
        o -= np.maximum.reduce(o, axis=1, keepdims=True)
        np.exp(o, out=o)
        o /= np.add.reduce(o, axis=1, keepdims=True)
        delta = d[2]
        np.copyto(delta, o)
        delta[rows, labels] -= 1  # δᴸ = o − t, t one-hot
        delta *= 1.0 / BATCH
        for i in (2, 1, 0):
            a = x if i == 0 else z[i - 1]
            np.matmul(a.T, delta, out=gWt[i])
            np.matmul(ones, delta, out=gb[i])
            if i > 0:
                back = d[i - 1]
                np.matmul(delta, Wt[i].T, out=back)
                np.multiply(back, z[i - 1] > 0, out=back)  # δˡ = f'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹
                delta = back
        if update == "blas" and _blas.available():
            _blas.axpby(1.0, grad, 0.9, velocity)  # v ← μ v + g
            _blas.axpy(-0.01, velocity, theta)  # θ ← θ − η v
        else:
            np.multiply(velocity, 0.9, out=velocity)
            np.add(velocity, grad, out=velocity)
            np.multiply(velocity, 0.01, out=tmp)
            np.subtract(theta, tmp, out=theta)

    # The step's eight matrix products as (name, a, b, out): out = a @ b, on the step's buffers.
    product_list = [
        (f"z{i + 1} = a{i} W{i + 1}ᵀ", x if i == 0 else z[i - 1], Wt[i], z[i]) for i in range(3)
    ]
    for i in (2, 1, 0):
        a = x if i == 0 else z[i - 1]
        product_list.append((f"∂E/∂W{i + 1}ᵀ = a{i}ᵀ δ{i + 1}", a.T, d[i], gWt[i]))
        if i > 0:
            product_list.append((f"δ{i} = δ{i + 1} W{i + 1}", d[i], Wt[i].T, d[i - 1]))

    def products() -> None:
        for _, a, b_, out in product_list:
            np.matmul(a, b_, out=out)

    big = np.ones((2048, 2048), f32)
    out = np.empty_like(big)
    best = min(_timed(lambda: np.matmul(big, big, out=out)) for _ in range(5))
    gemm_rate = 2 * 2048**3 / best
    flops = BATCH * (4 * (P - sum(SIZES[1:])) + 2 * (P - sum(SIZES[1:]) - SIZES[0] * SIZES[1]))
    # The FLOP count is exactly what the eight products do: 2 m k n each.
    assert flops == sum(2 * a.shape[0] * a.shape[1] * b_.shape[1] for _, a, b_, _ in product_list)
    print(f"BLAS updates available: {_blas.available()}; GEMM {gemm_rate / 1e9:.0f} GFLOP/s")
    s = 0
    for _ in range(args.repeats):
        for update in ("numpy", "blas"):
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step(s, update)
                s += 1
            whole = (time.perf_counter() - t0) / args.steps * 1e6
            t0 = time.perf_counter()
            for _ in range(args.steps):
                products()
            prods = (time.perf_counter() - t0) / args.steps * 1e6
            print(
                f"{update:5s} updates: step {whole:6.0f} µs   products {prods:6.0f} µs   "
                f"rest {whole - prods:5.0f} µs   roofline: step "
                f"{flops / (whole * 1e-6) / gemm_rate:5.1%}, products alone "
                f"{flops / (prods * 1e-6) / gemm_rate:5.1%}"
            )
    print("each product alone, best of 5 × 200 calls (the ceiling of any loop on these products):")
    total = 0.0
    for name, a, b_, out in product_list:
        for _ in range(20):
            np.matmul(a, b_, out=out)
        best = (
            min(
                _timed(lambda a=a, b_=b_, out=out: [np.matmul(a, b_, out=out) for _ in range(200)])
                for _ in range(5)
            )
            / 200
        )
        total += best
        rate = 2 * a.shape[0] * a.shape[1] * b_.shape[1] / best
        shape = f"({a.shape[0]}×{a.shape[1]})({b_.shape[0]}×{b_.shape[1]})"
        print(f"  {name:20s} {shape:22s} {best * 1e6:7.1f} µs  {rate / gemm_rate:6.1%} of GEMM")
    print(
        f"  all eight            {total * 1e6:7.1f} µs per step = "
        f"{flops / total / gemm_rate:5.1%} of the roofline, with nothing else done"
    )


if __name__ == "__main__":
    main()
