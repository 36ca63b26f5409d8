"""Mapping many events: a result for every one, never stopping at a bad event."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from ..request import MappingError, Request
from ..settings import Settings, require_events, require_settings
from .events import map_event

if TYPE_CHECKING:
    import pandas as pd


@dataclass(slots=True)
class EventResult:
    """One event's fate: the requests it maps to, or the error that stops it."""

    index: int
    event: Any
    requests: list[Request] = field(default_factory=list)
    error: MappingError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class MappingResults:
    """The results of `map_events`, in the events' order, with pandas views."""

    settings: Settings
    results: list[EventResult]

    def __iter__(self) -> Iterator[EventResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, index: int) -> EventResult:
        return self.results[index]

    @property
    def requests(self) -> list[Request]:
        return [r for result in self.results for r in result.requests]

    @property
    def errors(self) -> list[EventResult]:
        return [result for result in self.results if result.error is not None]

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.settings.warnings

    def requests_frame(self) -> "pd.DataFrame":
        """One row per request: event index, type, name, endpoint, identity, flattened dataFields."""
        from .frames import requests_frame

        return requests_frame(self)

    def errors_frame(self) -> "pd.DataFrame":
        """One row per event that maps to nothing, with RudderStack's message and status."""
        from .frames import errors_frame

        return errors_frame(self)

    def summary(self) -> dict[str, int]:
        return {"events": len(self.results), "mapped": len(self.results) - len(self.errors),
                "failed": len(self.errors), "requests": sum(len(r.requests) for r in self.results)}

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<MappingResults {s['events']} events: {s['mapped']} mapped to {s['requests']} requests, "
                f"{s['failed']} failed; {len(self.warnings)} settings warnings>")


def map_events(events: Iterable[Any], settings: Settings) -> MappingResults:
    """Map every event; a bad one gets its MappingError and the rest go on."""
    require_events(events)
    require_settings(settings)
    results = []
    for index, event in enumerate(events):
        try:
            results.append(EventResult(index, event, map_event(event, settings)))
        except MappingError as err:
            results.append(EventResult(index, event, [], err))
    return MappingResults(settings, results)
