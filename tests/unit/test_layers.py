"""The package's architecture, checked: no runtime import cycle, and every import points down the layers.

Imports are read with ``ast``: every ``import`` anywhere in a module (also inside functions, which run
later but still run), except those under ``if TYPE_CHECKING:``. Importing ``a.b.c`` also runs the
``__init__`` of ``a.b``, so that counts as an import of ``a.b`` too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_opspec

PACKAGE = Path(pytest_opspec.__file__).parent

# Lowest first: a module may import its own layer and the layers before it (docs/architecture.md).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "resources", "processes", "matchers", "registry", "limits", "logs"),
    ("options",),
    ("values",),
    ("expressions",),
    ("pkgs",),
    ("model",),
    ("runtime",),
    ("events",),
    ("executor",),
    ("node",),
    ("backends",),
    ("reporting",),
    ("plugin",),
    ("conformance",),
    ("cli",),
)
# Deliberate upward imports, made lazily (inside a function) so that they run only when asked for.
LAZY_UPWARD = {
    # `--opspec-conformance` loads the conformance suite's pytest plugin; without it the suite is not imported.
    ("pytest_opspec.plugin.hooks", "pytest_opspec.conformance.pytest_plugin"),
}



def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ("pytest_opspec", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path) -> dict[str, bool]:
    """``{imported module: lazily}`` for the package's own modules that ``module`` imports at run time."""
    is_package = path.name == "__init__.py"
    found: dict[str, bool] = {}

    def add(target: str, lazy: bool) -> None:
        parts = target.split(".")
        for end in range(2, len(parts) + 1):  # the parent packages' __init__ run first
            name = ".".join(parts[:end])
            if name in MODULES and name != module and not module.startswith(name + "."):
                found[name] = found.get(name, True) and lazy

    def visit(nodes: list[ast.stmt], lazy: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse, lazy)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name, lazy)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                add(source, lazy)
                for alias in node.names:
                    add(f"{source}.{alias.name}", lazy)
            else:
                inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                blocks = [getattr(node, name, []) for name in ("body", "orelse", "finalbody")]
                blocks += [handler.body for handler in getattr(node, "handlers", [])]
                blocks += [case.body for case in getattr(node, "cases", [])]
                for block in blocks:
                    visit([child for child in block if isinstance(child, ast.stmt)], inner)

    visit(ast.parse(path.read_text(encoding="utf-8")).body, False)
    return found


IMPORTS = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return -1  # pytest_opspec/__init__.py: the version, below everything
    for rank, names in enumerate(LAYERS):
        if parts[1] in names:
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to docs/architecture.md)")


def test_the_import_reader_sees_relative_lazy_and_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nfrom .errors import OpspecError\n"
                      "if TYPE_CHECKING:\n    from .cli import main\n"
                      "def f():\n    from .node import client\n")
    assert _imports("pytest_opspec.m", source) == {"pytest_opspec.errors": False, "pytest_opspec.node": True,
                                                   "pytest_opspec.node.client": True}


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_runtime_import_cycles() -> None:
    graph = {module: set(imports) for module, imports in IMPORTS.items()}
    assert _cycles(graph) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module: str) -> None:
    allowed = {target for source, target in LAZY_UPWARD if source == module}
    allowed |= {target.rpartition(".")[0] for target in allowed}  # and the package it is in
    upward = [target for target, lazy in IMPORTS[module].items()
              if _layer(target) > _layer(module) and not (lazy and target in allowed)]
    assert upward == [], f"{module} (layer {LAYERS[_layer(module)]}) imports higher layers"
