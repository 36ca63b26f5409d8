"""The package's shape, as its users and maintainers rely on it: one exception base, a true
`__all__`, wings by pipeline stage with one import rule each (checked transitively: what a module
imports, and all that imports in turn), no import cycles, no module importing another's private names,
and the import paths modules had before the wings still working."""
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


def _graph(*, with_packages: bool = False) -> dict[str, set[str]]:
    """module -> the package's modules it imports. `with_packages` adds the packages whose `__init__`
    such an import runs (all but the top one, the public face that everything is under)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        edges = set()
        for module, names in _imports(path):
            submodules = {f"{module}.{name}" for name in names} & MODULES
            edges |= submodules or ({module} & MODULES)
        if with_packages:
            edges |= {".".join(edge.split(".")[:depth]) for edge in edges for depth in range(2, edge.count(".") + 1)}
        graph[_module_name(path)] = edges - {_module_name(path)}
    return graph


# The ground floor: what every wing may use.
GROUND = {"clock", "collector", "exceptions", "extras", "former_paths", "hosts", "lazy", "limits", "progress", "redact", "samples",
          "version"}
# wing -> the wings it may import (itself and the ground floor always). rudder-server's steps and the mock
# stand on the ground floor alone, the transformer's mapping on rudder-server's steps (they come first);
# sending on those; everything else above.
WING_RULES = {
    "ground": set(),
    "mapping": {"pipeline"},
    "pipeline": set(),
    "mock": set(),
    # rudder-server's router as a simulation: it maps and batches (mapping), reads the router's status rules
    # (pipeline) and drives the in-process mock on its clock (mock); a delivery of its own beside send, so
    # only the widgets (its chart) and the command line may reach it
    "rudder_router": {"mapping", "pipeline", "mock"},
    "send": {"mapping", "pipeline", "mock"},
    "archive": {"mapping", "pipeline", "mock", "send"},
    "checks": {"mapping", "pipeline", "mock", "send", "archive"},
    "cassettes": {"mapping", "pipeline", "mock", "send", "archive"},
    "widgets": {"mapping", "pipeline", "mock", "send", "archive", "checks", "cassettes", "rudder_router"},
    "pytest_plugin": {"mapping", "pipeline", "mock", "send", "archive", "cassettes"},
    "cli": {"mapping", "pipeline", "mock", "send", "archive", "checks", "cassettes", "widgets", "rudder_router"},
}


def _wing(module: str) -> str:
    top = module.split(".")[1] if module != "iterable_sim" else ""
    return "ground" if top in GROUND else top


def test_every_module_is_in_a_wing_with_a_rule() -> None:
    assert sorted({_wing(name) for name in _graph()} - {""} - set(WING_RULES)) == []
    loose = sorted(path.name for path in PACKAGE.glob("*.py") if path.stem not in GROUND | {"__init__", "pytest_plugin"})
    assert loose == []


@pytest.mark.parametrize("wing", sorted(WING_RULES))
def test_a_wing_reaches_only_the_wings_its_rule_allows(wing: str) -> None:
    graph = _graph(with_packages=True)
    allowed = WING_RULES[wing] | {wing, "ground"}
    offenders = []
    for start in (name for name in graph if _wing(name) == wing):
        seen, todo = {start}, [start]
        while todo:
            for target in graph.get(todo.pop(), ()):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        offenders += [f"{start} -> {name}" for name in sorted(seen) if _wing(name) not in allowed]
    assert offenders == []


def test_the_import_paths_modules_had_before_the_wings_still_work() -> None:
    from iterable_sim.former_paths import FORMER_PATHS

    for former, current in FORMER_PATHS.items():
        assert importlib.import_module(former) is importlib.import_module(current)
    import iterable_sim.checks.crosscheck

    assert iterable_sim.crosscheck is iterable_sim.checks.crosscheck.crosscheck  # the function, not the module
    from iterable_sim.archive import events_only, read_archive  # noqa: F401  (docs/archives.md)
    from iterable_sim.cli import main, read_events  # noqa: F401  (the entry point; notebooks)
    from iterable_sim.send import send  # noqa: F401  (notebooks)


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
    for name in iterable_sim.__all__:  # each is imported when first read (the package's __getattr__)
        assert not inspect.ismodule(getattr(iterable_sim, name)), name
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


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = [f"{_module_name(path)}: from {module} import {name}"
                 for path in PACKAGE.rglob("*.py") for module, names in _imports(path)
                 for name in names if name.startswith("_") and module.startswith("iterable_sim")]
    assert offenders == []
