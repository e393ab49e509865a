"""The house rules, checked on the code itself: imports point one way and go round in no circle.

- ``pipelines`` (data) never imports ``dashboard`` (presentation) or ``knotwork`` (the command line);
  ``dashboard`` never imports ``knotwork``.
- No import cycle among the project's modules (a cycle makes a module impossible to read alone).
- Pages stay thin: a therapist page reads widgets, calls query/metric/chart functions and renders.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "dashboard", "knotwork")
PAGE_MAX_LINES = 120  # lines of code as ruff formats them: blank and comment-only lines not counted
# A page that must grow past that for a while is listed here with its ceiling, which may only come down
# as logic moves into dashboard/components and dashboard/queries (none today: every page is within it).
LONG_PAGES_TODAY: dict[str, int] = {}


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = path
    return mods


def _imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (anywhere in the file, function-local imports too)."""

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                found = resolve(target)
                # a package's own __init__ is not an edge from its submodules
                if found and found != mod and not (mods[found].name == "__init__.py" and mod.startswith(found + ".")):
                    graph[mod].add(found)
    return graph


GRAPH = _imports(_modules())


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_among_project_modules():
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize("layer, forbidden", [("pipelines", ("dashboard", "knotwork")), ("dashboard", ("knotwork",))])
def test_imports_point_one_way(layer, forbidden):
    wrong = sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        if m.split(".")[0] == layer
        for t in targets
        if t.split(".")[0] in forbidden
    )
    assert wrong == []


def test_the_checks_above_can_fail():
    """The graph really is read: a known edge is there, and a made-up circle is found."""
    assert "pipelines.warehouse.db" in GRAPH["pipelines.ingest.importer"]
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]


def _code_lines(path: Path) -> int:
    return sum(
        1
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def test_pages_stay_thin_and_long_pages_only_get_shorter():
    pages = sorted((ROOT / "dashboard" / "app_pages").glob("*.py"))
    grown = {
        p.name: n
        for p in pages
        if p.name != "__init__.py" and (n := _code_lines(p)) > LONG_PAGES_TODAY.get(p.name, PAGE_MAX_LINES)
    }
    assert grown == {}
