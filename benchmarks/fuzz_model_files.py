"""Fuzz ``deltaprop.load`` with damaged copies of two rich model files; count what escapes.

    PYTHONPATH=src python benchmarks/fuzz_model_files.py [--cases 1500] [--seed 0] [--show 5]

Each case is one of: flipped bytes, a truncation, a changed ZIP field (version needed, flags,
compression method, sizes, CRC, offsets, name and extra lengths, end-record counts), a ZIP64 entry
claiming up to 16 EiB, a crafted file whose header, .npy header and directory agree on a layer of
terabytes, a header value of the wrong type or size (or a deleted entry), or every member
recompressed with deflate, bzip2 or lzma (half of them with a byte flipped inside a member).
The outcome of ``load`` (and of ``predict`` on what loads) is tallied: loaded, ModelFileError,
the exception type that escaped, or ``net:Type`` when only load's last-resort translation caught
it. The address space is capped (2 GiB above what is in use) so that a file claiming terabytes
fails fast instead of swapping the machine.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import modelfile_mutations as mm  # noqa: E402

import deltaprop as dp  # noqa: E402
from deltaprop.io import ModelFileError  # noqa: E402

PLAN = [  # (kind, cases out of 1,500)
    ("flip", 300),
    ("truncate", 150),
    ("zip-field", 350),
    ("zip64-claim", 50),
    ("header-value", 400),
    ("recompress", 250),
]


def mutant(kind: str, base: bytes, r: np.random.Generator) -> tuple[str, bytes]:
    if kind == "flip":
        k = int(r.integers(1, 4))
        data = base
        for _ in range(k):
            data = mm.flip(data, int(r.integers(len(base))), int(r.integers(256)))
        return f"flip x{k}", data
    if kind == "truncate":
        n = int(r.integers(len(base)))
        return f"truncate {n}", mm.truncate(base, n)
    if kind == "zip-field":
        record = str(r.choice(["local", "central", "eocd"]))
        table = {"local": mm.LOCAL, "central": mm.CENTRAL, "eocd": mm.EOCD}[record]
        field = str(r.choice(sorted(table)))
        fmt = table[field][1]
        pick = r.random()
        if pick < 0.6:
            value = int(r.choice(mm.SPECIAL[fmt]))
        else:
            value = int(r.integers(1 << (16 if fmt == "<H" else 32)))
        index = int(r.integers(20))
        return f"{record}[{index}].{field}={value}", mm.set_field(base, record, index, field, value)
    if kind == "zip64-claim" and r.random() < 0.4:  # a crafted file: header, .npy, directory agree
        inputs = [2**40, 2**34, 2**28][int(r.integers(3))]
        return f"huge layer {inputs}", mm.claim_huge_layer(base, inputs, claim=r.random() < 0.8)
    if kind == "zip64-claim":
        sizes = [8 << 40, 1 << 62, (1 << 64) - 1, 3 << 30, 100_000]
        size = sizes[int(r.integers(len(sizes)))]
        comp = [size, 100, 8 << 40][int(r.integers(3))]
        index = int(r.integers(20))
        return f"zip64[{index}] {size}/{comp}", mm.claim_zip64_sizes(base, index, size, comp)
    if kind == "header-value":
        import json

        header = json.loads(mm.members(base)[mm.HEADER])
        paths = mm.header_paths(header)
        path = paths[int(r.integers(len(paths)))]
        pick = r.random()
        if pick < 0.1:
            return f"del {path}", mm.delete_header_entry(base, path)
        if pick < 0.15:
            return f"{path}=<5000 digits>", mm.set_header_value(base, path, raw=mm.HUGE_INT)
        if pick < 0.18:
            return f"{path}=<deep list>", mm.set_header_value(base, path, raw=mm.DEEP)
        value = mm.WEIRD_VALUES[int(r.integers(len(mm.WEIRD_VALUES)))]
        return f"{path}={value!r:.40}", mm.set_header_value(base, path, value)
    method = int(r.choice(mm.METHODS[1:]))
    data = mm.recompress(base, method)
    if r.random() < 0.5:
        index, pos = int(r.integers(20)), int(r.integers(1 << 20))
        return f"method {method} + flip", mm.flip_in_member(data, index, pos, int(r.integers(256)))
    return f"method {method}", data


def outcome(path: Path) -> tuple[str, str]:
    try:
        model = dp.load(path)
    except ModelFileError as exc:
        if exc.__cause__ is not None:  # load's last-resort net caught what no check did
            return f"net:{type(exc.__cause__).__name__}", str(exc)
        return "ModelFileError", str(exc)
    except Exception as exc:  # noqa: BLE001 - what we count
        return type(exc).__name__, "".join(traceback.format_exception_only(exc)).strip()
    try:
        with np.errstate(all="ignore"):
            model.predict(np.zeros((2, model.network.sizes[0])))
    except Exception as exc:  # noqa: BLE001
        return f"predict:{type(exc).__name__}", str(exc)
    return "loaded", ""


def _cap_memory(extra: int) -> None:
    with open("/proc/self/statm") as fh:
        used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (used + extra, resource.RLIM_INFINITY))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=5, help="examples shown per escaping type")
    args = ap.parse_args()
    bases = list(mm.model_files().values())
    r = np.random.default_rng(args.seed)
    _cap_memory(2 << 30)
    tally, by_kind, examples = collections.Counter(), collections.Counter(), {}
    slowest = (0.0, "")
    scale = args.cases / sum(n for _, n in PLAN)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.deltaprop"
        for kind, n in PLAN:
            for _ in range(round(n * scale)):
                what, data = mutant(kind, bases[int(r.integers(len(bases)))], r)
                path.write_bytes(data)
                t0 = time.perf_counter()
                result, message = outcome(path)
                dt = time.perf_counter() - t0
                slowest = max(slowest, (dt, what))
                tally[result] += 1
                if result not in ("loaded", "ModelFileError"):
                    by_kind[kind] += 1
                    examples.setdefault(result, []).append(f"{what}: {message[:150]}")
    total = sum(tally.values())
    escaped = total - tally["loaded"] - tally["ModelFileError"]
    print(f"{total} damaged files: {escaped} escaped as other exceptions")
    for k, v in tally.most_common():
        print(f"  {k:<28} {v}")
    if by_kind:
        print("escapes by mutation: " + ", ".join(f"{k} {v}" for k, v in by_kind.most_common()))
    for k, lines in examples.items():
        print(f"{k}:")
        for line in lines[: args.show]:
            print(f"    {line}")
    print(f"slowest load: {slowest[0]:.3f} s ({slowest[1]})")


if __name__ == "__main__":
    main()
