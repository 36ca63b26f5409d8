"""The optional parts of iterable_sim and the packages each needs (pyproject.toml's extras): a feature
that needs a missing one says so in one line, with the pip command that brings it."""
from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from iterable_sim.exceptions import IterableSimError

ARCHIVES = "archives"  # Parquet output (`map --out`), Dask
STORAGE = "storage"  # s3:// and gs:// sources, through fsspec
WIDGETS = "widgets"  # the notebook widgets
JUPYTER = "jupyter"  # JupyterLab, Voilà: the notebooks and the explore page


class MissingExtra(IterableSimError, ImportError):
    """A feature's package is not installed; the message names the extra and the command to install it."""


def install_command(extra: str) -> str:
    """The pip command that brings `extra`: into a checkout's editable install, or from the index."""
    checkout = Path(__file__).resolve().parents[1] / "pyproject.toml"
    if checkout.is_file():
        return f'pip install -e ".[{extra}]"'
    return f'pip install "iterable_sim[{extra}]"'


def needs_extra(feature: str, extra: str, err: ImportError) -> str:
    """The one line for `feature` failing with `err` for want of `extra`: "<feature> needs iterable_sim's
    `<extra>` extra (<package> is not installed): pip ..."."""
    missing = f"{err.name} is not installed" if err.name else str(err)
    return f"{feature} needs iterable_sim's `{extra}` extra ({missing}): {install_command(extra)}"


def require(module: str, extra: str, feature: str) -> ModuleType:
    """`module`, imported; MissingExtra (`needs_extra`'s line) when it, or a package it needs, is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtra(needs_extra(feature, extra, err), name=err.name) from None
