"""The layering of docs/architecture.md, checked on the source: no import cycles, one-way
dependencies (bot knows no HTTP or database, handoff no transport), small modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "bot", "handoff")
MAX_MODULE_LINES = 400  # one idea per module; past this a module holds two


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module this one imports, at any depth of the file (function-level too)."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            # `from pkg import module` imports the module too.
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    return {name: _imports(name, path) & set(MODULES) - {name} for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    # A package's __init__ re-exporting its modules is not a cycle of ideas; leave it out.
    graph = {
        name: {dep for dep in deps if dep not in PACKAGES}
        for name, deps in _graph().items()
        if name not in PACKAGES
    }
    assert _cycles(graph) == []


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("bot", ("app", "handoff", "fastapi", "starlette", "sqlalchemy", "websockets")),
        ("handoff", ("app", "fastapi", "starlette", "uvicorn", "websockets")),
    ],
)
def test_data_flows_one_way(layer: str, forbidden: tuple[str, ...]) -> None:
    offenders = {
        f"{name} imports {imported}"
        for name, path in MODULES.items()
        if name.split(".")[0] == layer
        for imported in _imports(name, path)
        if imported.split(".")[0] in forbidden
    }
    assert offenders == set()


def test_modules_stay_small() -> None:
    long = {
        name: lines
        for name, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
