"""Mutation testing of deltaprop's core modules with mutmut, one module at a time.

    python scripts/mutate.py [src/deltaprop/MODULE.py ...] [--jobs N]

Each module (default: every one listed under ``[tool.deltaprop.mutate]`` in pyproject.toml) is
mutated alone, in a scratch copy of the repository under ``build/mutate/deltaprop.<module>/``,
and its mutants run against the test files listed for it there; mutmut then runs, for each
mutant, only those of the tests that execute the mutated function. The report (the score and
every surviving mutant's diff) goes to ``build/mutate/deltaprop.<module>/report.txt``, a score
per module to the terminal. Exits 1 if a mutant survived that is not listed as equivalent
(``[tool.deltaprop] mutate-equivalent``; docs/testing.md says why each is). Not part of
``make test``: ``make mutate MODULES=...``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIRS = ("examples", "docs")  # the worked examples and guides some tests read


def _toml_value(value) -> str:
    """Strings, booleans, numbers and lists of them: JSON spells them as TOML does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _label(module: str) -> str:
    """``src/deltaprop/schedules.py`` → ``deltaprop.schedules`` (unique, unlike the file's stem)."""
    return ".".join(Path(module).with_suffix("").parts).removeprefix("src.")


def _scratch_copy(module: str, tests: list[str], config: dict) -> Path:
    """``build/mutate/<module>``: src/, tests/ and examples/, and a pyproject.toml naming the one
    module."""
    work = ROOT / "build" / "mutate" / _label(module)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis")
    shutil.copytree(ROOT / "src", work / "src", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    for data in DATA_DIRS:  # files the tests read beside src/ and tests/
        shutil.copytree(ROOT / data, work / data, ignore=ignore)
    mutmut = {
        **config["tool"].get("mutmut", {}),
        "also_copy": list(DATA_DIRS),
        "source_paths": ["src"],
        "only_mutate": [module],
        "pytest_add_cli_args_test_selection": tests,
    }
    pytest_ini = config["tool"].get("pytest", {}).get("ini_options", {})
    lines = ["[tool.mutmut]"] + [f"{k} = {_toml_value(v)}" for k, v in mutmut.items()]
    lines += ["", "[tool.pytest.ini_options]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in pytest_ini.items()]
    (work / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return work


def _mutmut(work: Path, *args: str, capture: bool = False) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutmut sets the path
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=work,
        env=env,
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    if done.returncode != 0 and args[0] != "run":
        raise SystemExit(f"mutmut {' '.join(args)} failed in {work}")
    return done.stdout or ""


def mutate(module: str, tests: list[str], config: dict, jobs: int) -> dict:
    """Run mutmut on one module; returns its counts and the survivors' names."""
    missing = [t for t in [module, *tests] if not (ROOT / t).exists()]
    if missing:
        raise SystemExit(f"{module}: missing {', '.join(missing)}")
    work = _scratch_copy(module, tests, config)
    _mutmut(work, "run", "--max-children", str(jobs))
    _mutmut(work, "export-cicd-stats", capture=True)
    stats = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
    checked = sum(stats[k] for k in ("killed", "survived", "no_tests", "timeout", "suspicious"))
    if stats["total"] and not checked:
        # mutmut stops before any mutant when the clean tests fail in its copy (say a data file
        # the tests read was not copied); its message is above. Never report that as a score.
        raise SystemExit(f"{module}: mutmut checked none of {stats['total']} mutants (see above)")
    listed = _mutmut(work, "results", capture=True)
    survivors = re.findall(r"^\s*(\S+): (survived|no tests|timeout|suspicious)", listed, re.M)
    report = [
        f"{module}: {stats['killed']} killed of {stats['total']} "
        f"({stats['survived']} survived, {stats['no_tests']} without tests, "
        f"{stats['timeout']} timed out)",
        f"tests: {' '.join(tests)}",
        "",
    ]
    for name, _status in survivors:
        report.append(_mutmut(work, "show", name, capture=True).rstrip())
        report.append("")
    (work / "report.txt").write_text("\n".join(report) + "\n")
    stats["module"], stats["survivors"] = module, [n for n, _ in survivors]
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths such as src/deltaprop/schedules.py")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutmut children")
    args = parser.parse_args(argv)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    table = config["tool"]["deltaprop"]["mutate"]
    modules = args.modules or list(table)
    unknown = [m for m in modules if m not in table]
    if unknown:
        raise SystemExit(
            f"no test files listed for {', '.join(unknown)} under [tool.deltaprop.mutate] in "
            f"pyproject.toml; known: {', '.join(table)}"
        )
    equivalent = set(config["tool"]["deltaprop"].get("mutate-equivalent", []))
    results = [mutate(m, table[m], config, args.jobs) for m in modules]
    print()
    new = []
    for r in results:
        score = r["killed"] / r["total"] if r["total"] else 1.0
        print(
            f"{r['module']}: {r['killed']}/{r['total']} killed ({score:.1%}); "
            f"survived {r['survived']}, no tests {r['no_tests']}, timeout {r['timeout']}"
        )
        for name in r["survivors"]:
            known = name in equivalent
            print(f"    {name}{'  (equivalent, docs/testing.md)' if known else '  NEW'}")
            if not known:
                new.append(name)
        print(f"    report: build/mutate/{_label(r['module'])}/report.txt")
    if new:
        print(f"\n{len(new)} surviving mutant(s) need a test, or a reason in docs/testing.md")
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
