"""The static import graph of a package tree, for the architecture checks in the test suite.

Every ``import`` and ``from ... import`` counts: at module level, inside a function (a
lazy import is still a dependency) and under ``if TYPE_CHECKING:`` (a type-only import
is a dependency of the code's meaning: two modules that name each other's types belong
together, or their shared type belongs in a third).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Import", "find_cycles", "imports_of", "module_files"]


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # the full dotted name as written (resolved when relative)
    line: int
    lazy: bool  # inside a function or class body, not at module level


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """``{"rir.engines.base": Path(...)}`` for every module of ``packages`` under ``root``."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _walk(node: ast.AST, lazy: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    for child in ast.iter_child_nodes(node):
        yield child, lazy
        inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                           ast.Lambda))
        yield from _walk(child, inner)


def imports_of(module: str, path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node, lazy in _walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno, lazy) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # "from pkg import name": the module pkg.name when it is one, else pkg (resolved
            # by walking up the dotted name, see _resolve).
            found += [Import(module, f"{base}.{alias.name}", node.lineno, lazy)
                      for alias in node.names]
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module a dotted name lands in: itself, else its closest package."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def find_cycles(modules: dict[str, Path]) -> list[list[str]]:
    """Groups of modules that import each other, directly or in a ring (Tarjan's SCCs)."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for found in imports_of(name, path):
            target = _resolve(found.imported, modules)
            if target is not None and target != name:
                graph[name].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the number of modules
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles
