"""Benchmark worker: deltaprop trains the MLP (one process, one configuration)."""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
from common import Timer, base_parser, emit, result_record, rss_mb, setup

import deltaprop as dp

OPTIMIZERS = {
    "adam": lambda lr: {"name": "adam", "learning_rate": lr},
    "momentum": lambda lr: {"name": "sgd", "learning_rate": lr, "momentum": 0.9},
}


def build(sizes, weights, biases):
    acts = ["relu"] * (len(sizes) - 2) + ["softmax"]
    return dp.Network.from_weights(weights, biases, activations=acts, dtype=np.float32)


def accuracy(net, x, y) -> float:
    return float(np.mean(net.predict(x).argmax(axis=1) == y))


def _fast_paths() -> dict:
    """Which optimizer fast paths this version of deltaprop has switched on (for the record)."""
    import sys

    found = {}
    for name in ("deltaprop._blas", "deltaprop._fused", "deltaprop.optimizers.fast"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "available"):
            found[name] = bool(module.available())
    return found


def main() -> None:
    from common import LEARNING_RATES

    p = base_parser(__doc__)
    p.add_argument(
        "--memmap",
        action="store_true",
        help="train from a np.memmap of the data and report tracemalloc's peak during fit",
    )
    p.add_argument("--no-track-norms", action="store_true")
    args = p.parse_args()
    x, y, xt, yt, sizes, weights, biases = setup(args)
    opt = OPTIMIZERS[args.optimizer](LEARNING_RATES[args.optimizer])
    # The optimizer's compiled loop (with Numba installed) is imported and loaded from its cache
    # (~0.5 s) before the clock starts, like the peers' imports: by one update of a throwaway
    # copy. Through fit itself, so that it works for any version of deltaprop (benchmarks
    # --baseline runs an older one).
    warm = build(sizes, weights, biases)
    warm.fit(x[: args.batch_size], y[: args.batch_size], optimizer=dict(opt), epochs=1,
             batch_size=args.batch_size)  # fmt: skip
    del warm
    net = build(sizes, weights, biases)
    fit_args = dict(
        optimizer=opt,
        epochs=args.epochs,
        batch_size=args.batch_size,
        seed=args.seed,
        track_norms=not args.no_track_norms,
    )
    extra = {}
    if args.memmap:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.npy"
            np.save(path, x)
            data_mb = x.nbytes / 1e6
            del x
            xm = np.load(path, mmap_mode="r")
            tracemalloc.start()
            with Timer() as t:
                history = net.fit(xm, y, **fit_args)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            extra = {"memmap": True, "tracemalloc_peak_mb": peak / 1e6, "memmap_data_mb": data_mb}
            record = result_record("deltaprop", args, sizes, xm, t.seconds, accuracy(net, xt, yt))
            del xm
    else:
        rss_before = rss_mb()
        with Timer() as t:
            history = net.fit(x, y, **fit_args)
        extra = {"rss_before_fit_mb": rss_before}
        record = result_record("deltaprop", args, sizes, x, t.seconds, accuracy(net, xt, yt))
    record.update(extra)
    record["final_loss"] = history.loss[-1]
    record["fast_paths"] = _fast_paths()
    record["epoch_seconds"] = history.epoch_seconds
    emit(record)


if __name__ == "__main__":
    main()
