"""The package's shape: data flows one way (no import circle), short modules, each imports alone.

An import anywhere in a module counts (a function-level import still ties two modules); imports
under ``if TYPE_CHECKING:`` do not, nor do imports of the top-level ``deltaprop`` package, which
only re-exports.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import deltaprop

ROOT = Path(deltaprop.__file__).resolve().parent
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ["deltaprop", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


def import_graph() -> dict[str, set[str]]:
    """Module → the package's modules it imports (at run time)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {
            id(s)
            for n in ast.walk(tree)
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
            for s in ast.walk(n)
        }
        package = m.split(".") if path.name == "__init__.py" else m.split(".")[:-1]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                subs = [f"{mod}.{a.name}" for a in node.names if f"{mod}.{a.name}" in mods]
                targets = subs or [mod]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            graph[m] |= {t for t in targets if t in mods and t not in (m, "deltaprop")}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle():
    graph = import_graph()
    assert "deltaprop.layers" in graph["deltaprop.network"]  # the graph is really read
    found = circles(graph)
    ties = [f"{a} -> {b}" for group in found for a in group for b in graph[a] if b in group]
    assert not found, "import circles: " + "; ".join(ties)


def test_no_module_is_long():
    long = {
        m: n
        for m, path in _modules().items()
        if (n := path.read_text(encoding="utf-8").count("\n")) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize(
    "module", sorted(m for m in _modules() if "kernels" not in m and m != "deltaprop.__main__")
)
def test_each_module_imports_alone(module):
    """No module relies on another having been imported first."""
    saved = {k: v for k, v in sys.modules.items() if k == "deltaprop" or k.startswith("deltaprop.")}
    for k in saved:
        del sys.modules[k]
    try:
        importlib.import_module(module)
    finally:
        for k in [k for k in sys.modules if k == "deltaprop" or k.startswith("deltaprop.")]:
            del sys.modules[k]
        sys.modules.update(saved)
