"""The package's shape, as its users and maintainers rely on it: one exception base, a true
`__all__`, dependencies pointing down (no import cycles, the mock free of the mapping side, no
module importing another's private names)."""
from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import iterable_sim
from iterable_sim import IterableSimError

PACKAGE = Path(iterable_sim.__file__).parent
MODULES = {info.name for info in pkgutil.walk_packages(iterable_sim.__path__, "iterable_sim.")
           if not info.name.endswith(".__main__")} | {"iterable_sim"}  # importing a __main__ runs it


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every runtime import, lazy ones included."""
    tree = ast.parse(path.read_text("utf-8"))
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for statement in node.body for n in ast.walk(statement)}
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found.append((module, [alias.name for alias in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        edges = set()
        for module, names in _imports(path):
            submodules = {f"{module}.{name}" for name in names} & MODULES
            edges |= submodules or ({module} & MODULES)
        graph[_module_name(path)] = edges - {_module_name(path)}
    return graph


def test_every_exception_the_library_defines_derives_from_iterable_sim_error() -> None:
    defined = []
    for name in sorted(MODULES):
        module = importlib.import_module(name)
        defined += [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                    if issubclass(obj, Exception) and not issubclass(obj, Warning) and obj.__module__ == name]
    assert len(defined) >= 10
    assert [cls for cls in defined if not issubclass(cls, IterableSimError)] == []
    assert issubclass(iterable_sim.mock.ApiError, ValueError) and issubclass(iterable_sim.SettingsError, ValueError)


def test_all_is_what_the_package_exports() -> None:
    exported = {name for name, value in vars(iterable_sim).items()
                if not name.startswith("_") and not inspect.ismodule(value)}
    assert sorted(iterable_sim.__all__) == sorted(exported)
    for name in ("ManualClock", "MockOptions", "Faults", "IterableSimError", "Target"):
        assert name in iterable_sim.__all__


def test_there_is_no_import_cycle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = stack[stack.index(node):]
            del stack[stack.index(node):]
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("outside", ["iterable_sim.mapping.settings", "iterable_sim.mapping.request", "iterable_sim.mapping",
                                     "iterable_sim.send.api", "iterable_sim.send.client", "iterable_sim.mapping.batching"])
def test_the_mock_depends_on_nothing_of_the_mapping_side(outside: str) -> None:
    graph = _graph()
    mock_modules = [name for name in graph if name.startswith("iterable_sim.mock")]
    assert [name for name in mock_modules if any(t == outside or t.startswith(outside + ".") for t in graph[name])] == []


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = [f"{_module_name(path)}: from {module} import {name}"
                 for path in PACKAGE.rglob("*.py") for module, names in _imports(path)
                 for name in names if name.startswith("_") and module.startswith("iterable_sim")]
    assert offenders == []
