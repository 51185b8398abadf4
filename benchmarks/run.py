"""deltaprop against scikit-learn and PyTorch: training speed, roofline, memory, accuracy.

    python benchmarks/run.py            # Fashion-MNIST, 5 interleaved rounds, then the sweeps
    python benchmarks/run.py --quick    # scikit-learn's digits: a sanity run in about a minute

Every measurement runs in a fresh process (``worker_*.py``), one library at a time, in rounds
A B C A B C … so that slow drifts of the machine hit every library alike; figures are medians
over the rounds ("best" is the fastest round; "dp/this (rounds)" is the median over rounds of the
ratio within each round). Each round also measures NumPy's float32 GEMM rate, the roofline's
denominator.
Peak memory is the worker's ``ru_maxrss`` (its whole peak resident set: interpreter, libraries,
training and test data, training). ``others`` is the CPU time other processes on the machine
used while a worker ran, in cores (from /proc/stat); a run disturbed by more than
``--max-others`` (0.1 cores) is set aside and repeated once the machine is quiet (up to
``--retries`` times; the record keeps what was set aside under ``discarded``).
Results go to ``benchmarks/results/*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LIBRARIES = ("deltaprop", "sklearn", "torch")
OPTIMIZERS = ("adam", "momentum")


def _busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (from /proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / ticks


def _git_commit() -> str | None:
    """The commit of the work tree the benchmark runs from (``+dirty`` if it has changes)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=HERE,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_worker(name: str, args: list[str], env: dict | None = None) -> dict:
    """Run ``worker_<name>.py`` in its own process; its last stdout line is a JSON record."""
    cmd = [sys.executable, str(HERE / f"worker_{name}.py"), *args]
    busy0, own0, t0 = _busy_seconds(), _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE)
    wall = time.perf_counter() - t0
    busy1, own1 = _busy_seconds(), _children_cpu()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    record = json.loads(proc.stdout.strip().splitlines()[-1])
    if busy0 is not None and busy1 is not None:
        record["others_cores"] = max(0.0, (busy1 - busy0) - (own1 - own0)) / wall
    return record


def wait_for_quiet(timeout: float = 60.0, threshold: float = 0.05) -> None:
    """Wait until the machine is idle (< ``threshold`` cores busy) for 3 s running, or timeout."""
    deadline, quiet = time.perf_counter() + timeout, 0
    while quiet < 3 and time.perf_counter() < deadline:
        b0, t0 = _busy_seconds(), time.perf_counter()
        time.sleep(1.0)
        b1, t1 = _busy_seconds(), time.perf_counter()
        if b0 is None or b1 is None:
            return
        quiet = quiet + 1 if (b1 - b0) / (t1 - t0) < threshold else 0


def measure(name: str, args: list[str], env: dict | None = None) -> dict:
    """``run_worker``, repeated (up to ``RETRIES`` times) while other processes disturbed it.

    A run during which other processes used more than ``MAX_OTHERS`` cores is set aside (kept in
    the record under ``discarded``) and the worker runs again once the machine is quiet.
    """
    discarded = []
    for attempt in range(RETRIES + 1):
        rec = run_worker(name, args, env)
        if rec.get("others_cores", 0.0) <= MAX_OTHERS or attempt == RETRIES:
            if discarded:
                rec["discarded"] = discarded
            return rec
        discarded.append({k: rec.get(k) for k in ("samples_per_s", "others_cores")})
        wait_for_quiet()
    raise AssertionError("unreachable")


MAX_OTHERS = 0.1
RETRIES = 3


def median(values):
    return statistics.median(values) if values else float("nan")


def compare(
    opts, rounds: int, common_args: list[str], libraries, baseline: dict | None = None
) -> tuple[list, list]:
    """Interleaved rounds: per round, GEMM once, then every (optimizer, library) once.

    The library ``baseline`` is deltaprop's worker run on another version of deltaprop (its
    ``src`` first on PYTHONPATH: the environment ``baseline``)."""
    runs, gemms = [], []
    for r in range(rounds):
        g = measure("gemm", [])
        g["round"] = r
        gemms.append(g)
        print(f"round {r + 1}/{rounds}: GEMM {g['best_gflops']:.0f} GFLOP/s", flush=True)
        for opt in opts:
            for lib in libraries:
                worker = "deltaprop" if lib == "baseline" else lib
                env = baseline if lib == "baseline" else None
                rec = measure(worker, [*common_args, "--optimizer", opt], env)
                rec["library"], rec["round"] = lib, r
                runs.append(rec)
                print(
                    f"  {opt:9s} {lib:10s} {rec['samples_per_s']:9.0f} samples/s  "
                    f"acc {rec['test_accuracy']:.4f}  peak {rec['peak_rss_mb']:.0f} MB  "
                    f"others {rec.get('others_cores', 0):.2f}",
                    flush=True,
                )
    return runs, gemms


def summarise(runs, gemms, opts, libraries) -> dict:
    """Medians per (optimizer, library) over the runs that other processes left undisturbed."""
    peak = median([g["best_gflops"] for g in gemms]) * 1e9
    kept = [r for r in runs if r.get("others_cores", 0.0) <= MAX_OTHERS]
    out: dict = {"gemm_gflops_median": peak / 1e9, "rows": [], "excluded": len(runs) - len(kept)}
    by = {}
    for rec in kept:
        by.setdefault((rec["optimizer"], rec["library"]), []).append(rec)
    for opt in opts:
        dp_recs = by.get((opt, "deltaprop"), [])
        dp_rate = median([r["samples_per_s"] for r in dp_recs])
        dp_by_round = {r["round"]: r["samples_per_s"] for r in dp_recs}
        for lib in libraries:
            recs = by.get((opt, lib), [])
            if not recs:
                continue
            rate = median([r["samples_per_s"] for r in recs])
            flops = recs[0]["flops_per_sample"]
            out["rows"].append(
                {
                    "optimizer": opt,
                    "library": lib,
                    "samples_per_s": rate,
                    "samples_per_s_all": [r["samples_per_s"] for r in recs],
                    "samples_per_s_best": max(r["samples_per_s"] for r in recs),
                    "deltaprop_over_this": dp_rate / rate,
                    # The same ratio taken within each round, then the median over rounds: less
                    # sensitive to a slow spell of the machine that spans a few runs.
                    "deltaprop_over_this_per_round_median": median(
                        [
                            dp_by_round[r["round"]] / r["samples_per_s"]
                            for r in recs
                            if r["round"] in dp_by_round
                        ]
                    ),
                    "rounds": len(recs),
                    "roofline_fraction": rate * flops / peak,
                    "peak_rss_mb": median([r["peak_rss_mb"] for r in recs]),
                    "train_data_mb": recs[0]["train_data_mb"],
                    "test_accuracy": median([r["test_accuracy"] for r in recs]),
                    "others_cores_max": max(r.get("others_cores", 0.0) for r in recs),
                }
            )
    return out


def describe_blas(blas: dict) -> str:
    """Whether OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are set, and the kernel that runs."""
    parts = [
        f"{name} is " + (f"set to {blas[name]}" if blas[name] else "unset")
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    ]
    parts += [
        f"{p.get('internal_api')} {p.get('version')}: kernel {p.get('architecture')}, "
        f"{p.get('num_threads')} threads"
        for p in blas["pools"]
        if p.get("user_api") == "blas"
    ]
    return "; ".join(parts)


def print_table(summary: dict, meta: dict) -> None:
    print()
    print(describe_blas(meta["blas"]))
    if summary.get("excluded"):
        print(
            f"{summary['excluded']} run(s) disturbed by other processes "
            f"(> {MAX_OTHERS} cores) left out"
        )
    print(
        f"NumPy float32 GEMM: {summary['gemm_gflops_median']:.0f} GFLOP/s (median of rounds); "
        f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores"
    )
    head = (
        f"{'optimizer':9s} {'library':10s} {'samples/s':>10s} {'(best)':>8s} {'dp/this':>8s} "
        f"{'(rounds)':>8s} {'roofline':>8s} {'peak MB':>8s} {'test acc':>8s} {'others':>6s}"
    )
    print(head)
    print("-" * len(head))
    for row in summary["rows"]:
        print(
            f"{row['optimizer']:9s} {row['library']:10s} {row['samples_per_s']:10.0f} "
            f"{row['samples_per_s_best']:8.0f} {row['deltaprop_over_this']:8.2f} "
            f"{row['deltaprop_over_this_per_round_median']:8.2f} "
            f"{100 * row['roofline_fraction']:7.1f}% {row['peak_rss_mb']:8.0f} "
            f"{row['test_accuracy']:8.4f} {row['others_cores_max']:6.2f}"
        )


SWEEPS = {
    "batch_size": [["--batch-size", str(b)] for b in (32, 64, 128, 256, 512, 1024)],
    "width": [["--hidden", f"{w},{w // 2}"] for w in (64, 128, 256, 512, 1024)],
    "depth": [["--hidden", ",".join(["256"] * d)] for d in (1, 2, 3, 4)],
    "samples": [["--n-samples", str(n)] for n in (7500, 15000, 30000, 60000)],
}


def sweeps(common_args: list[str], epochs: int, gemm_peak: float) -> dict:
    """deltaprop alone (SGD + momentum), one process per point, time and roofline per point."""
    out = {}
    for name, points in SWEEPS.items():
        rows = []
        for extra in points:
            rec = measure(
                "deltaprop",
                [*common_args, "--optimizer", "momentum", "--epochs", str(epochs), *extra],
            )
            rec["roofline_fraction"] = rec["samples_per_s"] * rec["flops_per_sample"] / gemm_peak
            rows.append(rec)
            print(
                f"  {name:10s} {' '.join(extra):22s} sizes {rec['sizes']!s:24s} "
                f"{rec['seconds']:7.2f} s  {rec['samples_per_s']:9.0f} samples/s  "
                f"roofline {100 * rec['roofline_fraction']:5.1f}%  others "
                f"{rec.get('others_cores', 0):.2f}",
                flush=True,
            )
        out[name] = rows
    return out


def checkout(rev: str) -> Path:
    """A detached work tree of ``rev`` (made once, kept under benchmarks/.baselines/)."""
    root = HERE.parent
    sha = subprocess.run(
        ["git", "rev-parse", "--short", rev], capture_output=True, text=True, cwd=root, check=True
    ).stdout.strip()
    path = HERE / ".baselines" / sha
    if not path.exists():
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), sha],
            cwd=root, check=True, capture_output=True,
        )  # fmt: skip
    return path


def pool(paths: list[str], opts, libraries) -> int:
    """One summary over the rounds of several results files (rounds keep their file apart)."""
    runs, gemms, meta = [], [], None
    for i, path in enumerate(paths):
        results = json.loads(Path(path).read_text())
        meta = results["meta"]
        runs += [{**rec, "round": (i, rec["round"])} for rec in results["runs"]]
        gemms += results["gemm"]
    summary = summarise(runs, gemms, opts, libraries)
    print_table(summary, meta)
    print(f"pooled: {len(gemms)} rounds from {len(paths)} files")
    return 0


def main(argv=None) -> int:
    global MAX_OTHERS, RETRIES
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="scikit-learn's digits instead")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--sweep-epochs", type=int, default=2)
    p.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    p.add_argument(
        "--libraries",
        default=",".join(LIBRARIES),
        help="comma-separated; also 'dpmlp': deltaprop's scikit-learn-style MLPClassifier",
    )
    p.add_argument("--no-sweeps", action="store_true")
    p.add_argument("--no-memmap", action="store_true")
    p.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    p.add_argument("--label", default=None, help="name for the results file")
    p.add_argument(
        "--pool", nargs="+", metavar="JSON", help="print one table pooling earlier results files"
    )
    p.add_argument(
        "--max-others",
        type=float,
        default=MAX_OTHERS,
        help="rerun a worker during which other processes used more cores than this",
    )
    p.add_argument("--retries", type=int, default=RETRIES)
    p.add_argument(
        "--baseline",
        metavar="REV",
        help="also run deltaprop at git revision REV (library 'baseline'), alternating with this "
        "version in every round: dp/this on its rows is this version's speed over REV's",
    )
    args = p.parse_args(argv)
    MAX_OTHERS, RETRIES = args.max_others, args.retries
    opts = [o for o in args.optimizers.split(",") if o]
    libraries = [lib for lib in args.libraries.split(",") if lib]
    if args.pool:
        return pool(args.pool, opts, libraries)
    data_args = (["--quick"] if args.quick else []) + (["--data", args.data] if args.data else [])
    common_args = [*data_args, "--epochs", str(args.epochs)]

    started = time.time()
    first_gemm = run_worker("gemm", [])
    meta = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "dataset": "digits" if args.quick else "fashion-mnist",
        "blas": first_gemm["blas"],
        "machine": json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import json, common; print(json.dumps(common.machine_info()))",
                ],
                capture_output=True,
                text=True,
                cwd=HERE,
                check=True,
            ).stdout
        ),
        "rounds": args.rounds,
        "deltaprop_commit": _git_commit(),
    }
    print(describe_blas(meta["blas"]), flush=True)
    baseline = None
    if args.baseline:
        libraries.append("baseline")
        meta["baseline"] = args.baseline
        baseline = {**os.environ, "PYTHONPATH": str(checkout(args.baseline) / "src")}
    runs, gemms = compare(opts, args.rounds, common_args, libraries, baseline)
    summary = summarise(runs, gemms, opts, libraries)
    results = {"meta": meta, "summary": summary, "runs": runs, "gemm": gemms}
    if not args.no_memmap and "deltaprop" in libraries:
        rec = measure(
            "deltaprop", [*common_args, "--optimizer", "momentum", "--epochs", "1", "--memmap"]
        )
        results["memmap"] = rec
        print(
            f"memmap: 1 epoch from a np.memmap of {rec['memmap_data_mb']:.0f} MB: tracemalloc "
            f"peak {rec['tracemalloc_peak_mb']:.1f} MB during fit, "
            f"{rec['samples_per_s']:.0f} samples/s",
            flush=True,
        )
    if not args.no_sweeps:
        print("scaling (deltaprop, SGD + momentum):", flush=True)
        results["sweeps"] = sweeps(
            data_args,
            args.sweep_epochs,
            summary["gemm_gflops_median"] * 1e9,
        )
    meta["seconds"] = time.time() - started
    print_table(summary, meta)
    RESULTS.mkdir(exist_ok=True)
    coretype = meta["blas"]["OPENBLAS_CORETYPE"]
    env = f"coretype-{coretype}" if coretype else "openblas-vars-unset"
    label = args.label or f"{meta['dataset']}_{env}_{time.strftime('%Y%m%d-%H%M%S')}"
    path = RESULTS / f"{label}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1))
    tmp.replace(path)
    print(f"\nresults: {path.relative_to(HERE.parent)}  ({meta['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
