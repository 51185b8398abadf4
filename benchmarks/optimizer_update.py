"""Time one optimizer update alone on the benchmark's 784-256-128-10 float32 network.

    PYTHONPATH=src python benchmarks/optimizer_update.py [--repeat 15] [--number 200] \
        [--blas-threads 1]

The update runs as ``fit`` runs it: on the network's flat parameters and a training workspace's
flat gradients, with the state that ``init`` lays out alike (235,146 float32 numbers each).
Prints the best and median time per update over ``repeat`` rounds of ``number`` updates, for
``update`` (finds the flat vectors, cached) and ``update_flat`` (what ``fit`` calls per batch).
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import deltaprop as dp


def setup(optimizer: str):
    net = dp.Network.from_sizes([784, 256, 128, 10], ["relu", "relu", "softmax"], dtype="float32")
    params = net.params()
    ws = net.workspace(128)
    rng = np.random.default_rng(0)
    ws.flat_grads[...] = rng.normal(scale=1e-3, size=ws.flat_grads.size)
    opt = dp.get_optimizer(optimizer, learning_rate=1e-4)
    state = opt.init(params)
    grads = ws.grads_by_name
    assert opt.flat_arrays(params, grads, state) is not None  # fit's flat path
    return opt, params, grads, state


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--number", type=int, default=200)
    p.add_argument("--optimizers", default="adam,momentum")
    p.add_argument("--blas-threads", type=int, default=None, help="limit BLAS (threadpoolctl)")
    args = p.parse_args()
    if args.blas_threads:  # fewer threads: steadier figures on a shared machine
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
    for name in args.optimizers.split(","):
        opt, params, grads, state = setup(name)
        flat = opt.flat_arrays(params, grads, state)
        env = {"opt": opt, "params": params, "grads": grads, "state": state, "flat": flat}
        opt.update(params, grads, state)  # compile / load the loops before the clock
        for stmt in ("opt.update(params, grads, state)", "opt.update_flat(*flat, state)"):
            times = timeit.repeat(stmt, globals=env, repeat=args.repeat, number=args.number)
            per = [t / args.number * 1e6 for t in times]
            best, median = min(per), statistics.median(per)
            print(f"{name:9s} {stmt:34s} best {best:6.1f} µs  median {median:6.1f} µs")


if __name__ == "__main__":
    main()
