"""Modules imported when first used, not when iterable_sim is: pandas alone takes longer to import than a
command such as `iterable-sim --version` may take in all, and most runs of the command line never build a
frame."""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for the module `name`: the first attribute read imports it (as `import name` would, with the
    same ImportError when it is missing); later reads go to the imported module."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module: ModuleType = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported when first used>"
