"""Modules imported when first used, not when iterable_sim is: pandas alone takes longer to import than a
command such as `iterable-sim --version` may take in all, and most runs of the command line never build a
frame."""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import Any, Callable, Mapping


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


def lazy_exports(package: str, homes: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's PEP 562 `__getattr__` and `__dir__`: each name of `homes` (name -> the module holding it) is
    imported from its module when first read, then kept in the package's namespace."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value  # the next read is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes})

    return __getattr__, __dir__
