"""Layering: sources/ is the front of the pipeline. It imports no later stage (parse, classify, store,
engine, outputs, nor the drivers that join them), and no import cycle runs through it."""

from __future__ import annotations

import ast
from pathlib import Path

import slotail

SRC = Path(slotail.__file__).parent
LATER_STAGES = "parse classify store engine outputs pipeline backfill daemon workers cli state ledger totals"
LATER = tuple(f"slotail.{name}" for name in LATER_STAGES.split())


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The slotail modules a file imports, at any level (function bodies and TYPE_CHECKING too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) - {name} for name, path in paths.items()}


def reaches(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module `start` imports, directly or not."""
    seen: set[str] = set()
    todo = list(graph[start])
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name])
    return seen


def test_sources_import_no_later_stage() -> None:
    """Not directly, nor through another module (config/'s models reach every stage: the tailer reads
    a source's settings through a protocol of its own)."""
    graph = import_graph()
    sources = [name for name in graph if name.startswith("slotail.sources")]
    assert len(sources) >= 10
    for name in sources:
        later = {dep for dep in reaches(graph, name) if dep.startswith(LATER)}
        assert not later, f"{name} imports {later}"


def test_no_import_cycle_runs_through_sources() -> None:
    graph = import_graph()
    for name in graph:
        if name.startswith("slotail.sources"):
            assert name not in reaches(graph, name), f"{name} imports itself through others"


def test_the_graph_sees_an_import_cycle_when_there_is_one() -> None:
    """The check above can fail: a cycle made up in a copy of the graph is found."""
    graph = import_graph()
    graph["slotail.sources.archive"] = graph["slotail.sources.archive"] | {"slotail.pipeline"}
    assert "slotail.sources.archive" in reaches(graph, "slotail.sources.archive")
