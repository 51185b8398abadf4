"""The scaling sweeps of several ``run.py`` results files, pooled: one Markdown table per sweep.

    python benchmarks/pool_sweeps.py benchmarks/results/fashion-mnist_*.json

For every point (batch size, widths, depth, number of samples): the median over the runs of
seconds per epoch, samples/s and roofline fraction, and the best run's samples/s.
"""

from __future__ import annotations

import json
import statistics
import sys

TITLES = {"batch_size": "batch", "width": "sizes", "depth": "sizes", "samples": "samples"}


def main(paths: list[str]) -> None:
    points: dict[tuple, list[dict]] = {}
    for path in paths:
        with open(path) as f:
            sweeps = json.load(f).get("sweeps", {})
        for kind, records in sweeps.items():
            for r in records:
                points.setdefault(
                    (kind, r["batch_size"], tuple(r["sizes"]), r["n_train"]), []
                ).append(r)
    for kind in TITLES:
        keys = sorted((k for k in points if k[0] == kind), key=lambda k: (k[1], sum(k[2]), k[3]))
        if not keys:
            continue
        print(f"\n{kind} ({len(points[keys[0]])} runs)\n")
        print(f"| {TITLES[kind]} | s/epoch | samples/s | best | roofline |")
        print("|---|---:|---:|---:|---:|")
        for key in keys:
            rs = points[key]
            label = {"batch_size": key[1], "samples": f"{key[3]:,}"}.get(
                kind, "-".join(map(str, key[2]))
            )
            epoch = statistics.median(sum(r["epoch_seconds"]) / len(r["epoch_seconds"]) for r in rs)
            rate = statistics.median(r["samples_per_s"] for r in rs)
            best = max(r["samples_per_s"] for r in rs)
            roof = statistics.median(r["roofline_fraction"] for r in rs)
            print(f"| {label} | {epoch:.2f} | {rate:,.0f} | {best:,.0f} | {roof:.0%} |")


if __name__ == "__main__":
    main(sys.argv[1:])
