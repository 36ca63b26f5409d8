"""This package's version, and the version of RudderStack's Iterable destination whose output it reproduces."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import NamedTuple


class RudderStackVersion(NamedTuple):
    """The rudder-transformer commit iterable_sim is checked against, and the date it was that
    repository's HEAD (when the reference snapshot was taken; ../shared/iterable/api-notes.md)."""

    project: str
    commit: str
    date: str

    @property
    def short(self) -> str:
        return self.commit[:8]

    def __str__(self) -> str:
        return f"{self.project} {self.short} ({self.date})"


RUDDERSTACK_VERSION = RudderStackVersion(
    project="rudder-transformer",
    commit="c98d160cfaddc5fe5ddee7891c4f4a23014b9aa8",
    date="2026-08-06",
)
"""RudderStack's Iterable destination (src/v0/destinations/iterable) at this commit is the reference."""

try:
    PACKAGE_VERSION = version("iterable_sim")
except PackageNotFoundError:  # imported from a source tree that was never installed
    PACKAGE_VERSION = "0+unknown"
"""iterable_sim's own version (`iterable_sim.__version__`)."""
