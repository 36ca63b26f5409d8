"""The import paths modules had before the package was laid out in wings, kept working: `import
iterable_sim.preflight` gives the very module `iterable_sim.checks.preflight` (one object, so patching
either name patches both)."""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

FORMER_PATHS = {
    "iterable_sim.attribution": "iterable_sim.mapping.attribution",
    "iterable_sim.batching": "iterable_sim.mapping.batching",
    "iterable_sim.jsvalues": "iterable_sim.mapping.jsvalues",
    "iterable_sim.request": "iterable_sim.mapping.request",
    "iterable_sim.settings": "iterable_sim.mapping.settings",
    "iterable_sim.delivery": "iterable_sim.send.client",
    "iterable_sim.deletion": "iterable_sim.send.deletion",
    "iterable_sim.archive_map": "iterable_sim.archive.mapping",
    "iterable_sim.archive_send": "iterable_sim.archive.sending",
    "iterable_sim.dask_archive": "iterable_sim.archive.on_dask",
    "iterable_sim.preflight": "iterable_sim.checks.preflight",
    "iterable_sim.compare": "iterable_sim.checks.compare",
    "iterable_sim.crosscheck": "iterable_sim.checks.crosscheck",
    "iterable_sim.cli_input": "iterable_sim.cli.arguments",
    "iterable_sim.cassettes.commands": "iterable_sim.cli.cassettes",
}


class FormerPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds a former path and loads it as the module now at its current path."""

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        return importlib.util.spec_from_loader(fullname, self) if fullname in FORMER_PATHS else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(FORMER_PATHS[spec.name])
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # importlib has just given the module the former path's spec; it keeps its own
        module.__spec__ = module.__spec__.loader_state  # type: ignore[union-attr]


def install() -> None:
    """Make every former path importable. A module already loaded is entered at its former path at
    once: importing it later through the finder would also set the package attribute of that name
    (`iterable_sim.crosscheck`, the function), which must stay what `iterable_sim` exports."""
    for former, current in FORMER_PATHS.items():
        if current in sys.modules:
            sys.modules.setdefault(former, sys.modules[current])
    if not any(isinstance(finder, FormerPathFinder) for finder in sys.meta_path):
        sys.meta_path.append(FormerPathFinder())
