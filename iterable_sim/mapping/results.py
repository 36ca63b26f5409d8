"""Mapping many events: a result for every one, never stopping at a bad event."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sized

from tqdm.auto import tqdm

from iterable_sim.collector import without_collector
from iterable_sim.mapping.request import MappingError, Request
from iterable_sim.mapping.settings import Settings, require_events, require_settings
from iterable_sim.mapping.events import map_event

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
        from iterable_sim.mapping.frames import requests_frame

        return requests_frame(self)

    def errors_frame(self) -> "pd.DataFrame":
        """One row per event that maps to nothing, with RudderStack's message and status."""
        from iterable_sim.mapping.frames import errors_frame

        return errors_frame(self)

    def summary(self) -> dict[str, int]:
        return {"events": len(self.results), "mapped": len(self.results) - len(self.errors),
                "failed": len(self.errors), "requests": sum(len(r.requests) for r in self.results)}

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<MappingResults {s['events']} events: {s['mapped']} mapped to {s['requests']} requests, "
                f"{s['failed']} failed; {len(self.warnings)} settings warnings>")


@without_collector
def map_events(events: Iterable[Any], settings: Settings, *, keep_events: bool = True,
               progress: bool = True) -> MappingResults:
    """Map every event (any iterable: a list, a generator, `archive.read_archive(...)` events); a bad
    one gets its MappingError and the rest go on.

    `keep_events=False` keeps, of each event, only its type and name (what the frames show), so a
    million events take a fraction of the memory. A progress bar shows when the work takes over a second.
    """
    require_events(events)
    require_settings(settings)
    results = []
    total = len(events) if isinstance(events, Sized) else None
    quick = total is not None and total < PROGRESS_MIN_EVENTS  # no bar (nor notebook widget) for a handful
    with tqdm(total=total, desc="mapping", unit=" events", delay=1.0, disable=not progress or quick) as bar:
        for index, event in enumerate(events):
            kept = event if keep_events else _type_and_name(event)
            try:
                results.append(EventResult(index, kept, map_event(event, settings)))
            except MappingError as err:
                results.append(EventResult(index, kept, [], err))
            if not index % 1000:
                bar.update(index - bar.n)
        bar.update(len(results) - bar.n)
    return MappingResults(settings, results)


PROGRESS_MIN_EVENTS = 10_000
_SHOWN_KEYS = ("type", "event", "name")


def _type_and_name(event: Any) -> Any:
    """The part of an event the frames show."""
    return {key: event[key] for key in _SHOWN_KEYS if key in event} if isinstance(event, dict) else None
