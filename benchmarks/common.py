"""What every benchmark worker shares: the data, the initial weights, the FLOP count, the machine.

Workers are separate processes (one library each), so each imports only its own library and
NumPy's and PyTorch's thread pools never share the two cores. A worker prints one JSON object on
its last line of stdout; ``run.py`` collects them.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

HIDDEN = (256, 128)
SEED = 0
LEARNING_RATES = {"adam": 1e-3, "momentum": 0.01}
MOMENTUM = 0.9


def load_data(quick: bool, path: str | None = None):
    """``(x_train, y_train, x_test, y_test)``: float32 in [0, 1], int64 labels.

    Full: Fashion-MNIST from its IDX files (``path`` or Debian's default directory), 60,000 ×
    784 and 10,000 × 784. Quick: scikit-learn's bundled digits, 1,437 / 360 samples × 64.
    """
    if quick:
        from sklearn.datasets import load_digits

        digits = load_digits()
        x = (digits.data / 16.0).astype(np.float32)
        y = digits.target.astype(np.int64)
        order = np.random.default_rng(SEED).permutation(len(x))
        x, y = x[order], y[order]
        cut = 1437
        return x[:cut], y[:cut], x[cut:], y[cut:]
    from deltaprop.datasets import load_fashion_mnist

    out = []
    for kind in ("train", "test"):
        images, labels = load_fashion_mnist(path, kind=kind)
        x = np.asarray(images, dtype=np.float32)  # one float32 copy, scaled in place
        x /= 255.0
        out += [x, np.asarray(labels, dtype=np.int64)]
        del images
    return tuple(out)


def sizes_for(n_inputs: int, hidden=HIDDEN, n_classes: int = 10) -> list[int]:
    return [n_inputs, *hidden, n_classes]


def initial_weights(sizes, seed: int = SEED):
    """Glorot-uniform ``W`` (units, inputs) and ``b``, both ``U(−r, r)``, r = √(6/(in + out)).

    scikit-learn's own scheme for ReLU and softmax layers (its ``_init_coef``); deltaprop and
    PyTorch start from these very arrays, scikit-learn draws the same scheme from its own seed.
    """
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        r = np.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-r, r, size=(fan_out, fan_in)).astype(np.float32))
        biases.append(rng.uniform(-r, r, size=fan_out).astype(np.float32))
    return weights, biases


def flops_per_sample(sizes) -> int:
    """FLOPs one training sample needs: 2P forward, 2P weight gradients, 2(P − P₁) deltas back."""
    p = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    p1 = sizes[0] * sizes[1]
    return 2 * p + 2 * p + 2 * (p - p1)


def peak_rss_mb() -> float:
    """The process's peak resident set (``ru_maxrss``, KiB on Linux) in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


def rss_mb() -> float:
    """The current resident set, from /proc/self/status (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return 0.0


def blas_info() -> dict:
    """OPENBLAS_* variables as set, and what threadpoolctl says runs (kernel = architecture)."""
    info = {
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "pools": [],
    }
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            info["pools"].append(
                {
                    k: pool.get(k)
                    for k in (
                        "user_api",
                        "internal_api",
                        "prefix",
                        "version",
                        "architecture",
                        "num_threads",
                    )
                }
            )
    except ImportError:  # pragma: no cover - threadpoolctl is in the bench extra
        info["pools"].append({"error": "threadpoolctl not installed"})
    return info


def machine_info() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def emit(result: dict) -> None:
    """The worker's answer: one JSON line, last on stdout."""
    result.setdefault("peak_rss_mb", peak_rss_mb())
    print(json.dumps(result), flush=True)


def base_parser(description: str):
    import argparse

    p = argparse.ArgumentParser(description=description)
    p.add_argument("--optimizer", choices=sorted(LEARNING_RATES), default="adam")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--hidden", default=",".join(map(str, HIDDEN)), help="e.g. 256,128")
    p.add_argument("--n-samples", type=int, default=None, help="train on the first N samples")
    p.add_argument("--quick", action="store_true", help="scikit-learn's digits, not Fashion-MNIST")
    p.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    p.add_argument("--seed", type=int, default=SEED)
    return p


def setup(args):
    """Data (cut to ``--n-samples``), layer sizes and initial weights, from a worker's args."""
    x, y, xt, yt = load_data(args.quick, args.data)
    if args.n_samples:
        x, y = x[: args.n_samples], y[: args.n_samples]
    hidden = tuple(int(h) for h in args.hidden.split(",") if h)
    sizes = sizes_for(x.shape[1], hidden, int(y.max()) + 1)
    weights, biases = initial_weights(sizes, args.seed)
    return x, y, xt, yt, sizes, weights, biases


def result_record(library: str, args, sizes, x, seconds: float, accuracy: float, **extra):
    n = x.shape[0] * args.epochs
    return {
        "library": library,
        "optimizer": args.optimizer,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "sizes": list(sizes),
        "n_train": int(x.shape[0]),
        "seconds": seconds,
        "samples_per_s": n / seconds,
        "flops_per_sample": flops_per_sample(sizes),
        "test_accuracy": accuracy,
        "train_data_mb": x.nbytes / 1e6,
        **extra,
    }
