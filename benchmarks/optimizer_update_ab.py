"""A/B: one optimizer update, this deltaprop against a copy of another, in one process.

    cp -r <old checkout>/src/deltaprop /tmp/ab/deltaprop_base
    PYTHONPATH=src:/tmp/ab python benchmarks/optimizer_update_ab.py [--rounds 30]

Both packages update the benchmark's 784-256-128-10 float32 network (235,146 parameters) as
``fit`` does (``update_flat`` on the flat vectors); their timings alternate, round by round, so
that both see the same load. Prints the best and median time per update of each, and the ratio.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import timeit

import numpy as np


def setup(dp, optimizer: str):
    net = dp.Network.from_sizes([784, 256, 128, 10], ["relu", "relu", "softmax"], dtype="float32")
    params = net.params()
    ws = net.workspace(128)
    ws.flat_grads[...] = np.random.default_rng(0).normal(scale=1e-3, size=ws.flat_grads.size)
    opt = dp.get_optimizer(optimizer, learning_rate=1e-4)
    state = opt.init(params)
    flat = opt.flat_arrays(params, ws.grads_by_name, state)
    assert flat is not None
    opt.update_flat(*flat, state)  # load the compiled loops before the clock
    return lambda: opt.update_flat(*flat, state)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--number", type=int, default=100)
    p.add_argument("--optimizers", default="adam,momentum")
    p.add_argument("--base", default="deltaprop_base")
    args = p.parse_args()
    modules = {"new": "deltaprop", "base": args.base}
    packages = {k: importlib.import_module(m) for k, m in modules.items()}
    for name in args.optimizers.split(","):
        runs = {k: setup(dp, name) for k, dp in packages.items()}
        times: dict[str, list[float]] = {k: [] for k in runs}
        for r in range(args.rounds):
            order = list(runs) if r % 2 else list(runs)[::-1]
            for k in order:
                times[k].append(timeit.timeit(runs[k], number=args.number) / args.number * 1e6)
        best = {k: min(v) for k, v in times.items()}
        med = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"{name:9s} base best {best['base']:6.1f} µs median {med['base']:6.1f} µs | "
            f"new best {best['new']:6.1f} µs median {med['new']:6.1f} µs | "
            f"new/base best {best['new'] / best['base']:.3f} median {med['new'] / med['base']:.3f}"
        )


if __name__ == "__main__":
    main()
