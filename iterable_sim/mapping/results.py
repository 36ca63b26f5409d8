"""Mapping many events: a result for every one, never stopping at a bad event."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sized

from tqdm.auto import tqdm

from iterable_sim.collector import without_collector
from iterable_sim.mapping.request import MappingError, Request
from iterable_sim.mapping.settings import Settings, require_events, require_settings
from iterable_sim.mapping.events import map_event
from iterable_sim.mapping.rudder_server import RudderServer
from iterable_sim.pipeline.fates import FILTERED, SUPPRESSED, Stopped

if TYPE_CHECKING:
    import pandas as pd


@dataclass(slots=True)
class EventResult:
    """One event's fate: the requests it maps to, the transformer's error that stops it, or the step of
    rudder-server that stops it before the transformer (`stopped`: its step, status and text)."""

    index: int
    event: Any
    requests: list[Request] = field(default_factory=list)
    error: MappingError | None = None
    stopped: Stopped | None = None

    @property
    def ok(self) -> bool:
        """Mapped: neither stopped before the transformer nor refused by it."""
        return self.error is None and self.stopped is None

    @property
    def filtered(self) -> bool:
        """rudder-server dropped the event on purpose (298, or a suppressed user): neither sent nor failed."""
        return self.stopped is not None and self.stopped.state in (FILTERED, SUPPRESSED)

    @property
    def failed(self) -> bool:
        """Refused: by the transformer (`error`) or by a step of rudder-server (aborted, rejected)."""
        return self.error is not None or (self.stopped is not None and not self.filtered)

    @property
    def step(self) -> str | None:
        """Who decided a refusal or a drop: a rudder-server step, or "transformer"; None when mapped."""
        if self.stopped is not None:
            return self.stopped.step
        return "transformer" if self.error is not None else None

    @property
    def status(self) -> int | None:
        """RudderStack's status for a refusal or a drop (e.g. 298 filtered, 400); None when mapped."""
        if self.stopped is not None:
            return self.stopped.status
        return self.error.status if self.error is not None else None

    @property
    def message(self) -> str:
        """RudderStack's words for a refusal or a drop, else "" (rudder-server gives no text for some drops:
        then iterable_sim's account of the rule)."""
        if self.stopped is not None:
            return self.stopped.text or self.stopped.reason
        return str(self.error) if self.error is not None else ""


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
        """The events refused, by the transformer or by a step of rudder-server (see `EventResult.failed`)."""
        return [result for result in self.results if result.failed]

    @property
    def filtered(self) -> list[EventResult]:
        """The events rudder-server drops before the transformer (298 and the like): neither sent nor failed."""
        return [result for result in self.results if result.filtered]

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.settings.warnings

    def requests_frame(self) -> "pd.DataFrame":
        """One row per request: event index, type, name, endpoint, identity, flattened dataFields."""
        from iterable_sim.mapping.frames import requests_frame

        return requests_frame(self)

    def errors_frame(self) -> "pd.DataFrame":
        """One row per event refused, by the transformer or by a step of rudder-server, with RudderStack's
        message and status; `filtered_frame()` has the events dropped on purpose."""
        from iterable_sim.mapping.frames import errors_frame

        return errors_frame(self)

    def filtered_frame(self) -> "pd.DataFrame":
        """One row per event rudder-server drops before the transformer: its step, status and reason."""
        from iterable_sim.mapping.frames import filtered_frame

        return filtered_frame(self)

    def summary(self) -> dict[str, int]:
        failed, filtered = len(self.errors), len(self.filtered)
        return {"events": len(self.results), "mapped": len(self.results) - failed - filtered,
                "filtered": filtered, "failed": failed, "requests": sum(len(r.requests) for r in self.results)}

    def __repr__(self) -> str:
        s = self.summary()
        return (f"<MappingResults {s['events']} events: {s['mapped']} mapped to {s['requests']} requests, "
                f"{s['filtered']} filtered, {s['failed']} failed; {len(self.warnings)} settings warnings>")


@without_collector
def map_events(events: Iterable[Any], settings: Settings, *, keep_events: bool = True,
               progress: bool = True, received_at: Any = None, through_gateway: bool = False) -> MappingResults:
    """Map every event (any iterable: a list, a generator, `archive.read_archive(...)` events); a bad
    one gets its MappingError and the rest go on.

    With `settings.rudder_server` on (the default), rudder-server's steps come first (see `RudderServer`:
    `received_at` is the gateway's clock, `through_gateway=True` for events a gateway stored already): an
    event they stop gets its `stopped` fate, and the transformer maps what they pass on.
    `keep_events=False` keeps, of each event, only its type and name (what the frames show), so a
    million events take a fraction of the memory. A progress bar shows when the work takes over a second.
    """
    require_events(events)
    require_settings(settings)
    server = RudderServer(settings, received_at=received_at, through_gateway=through_gateway)
    results = []
    total = len(events) if isinstance(events, Sized) else None
    quick = total is not None and total < PROGRESS_MIN_EVENTS  # no bar (nor notebook widget) for a handful
    with tqdm(total=total, desc="mapping", unit=" events", delay=1.0, disable=not progress or quick) as bar:
        for index, event in enumerate(events):
            results.append(map_one(index, event, settings, server, keep_event=keep_events))
            if not index % 1000:
                bar.update(index - bar.n)
        bar.update(len(results) - bar.n)
    return MappingResults(settings, results)


def map_one(index: int, event: Any, settings: Settings, server: RudderServer, *, keep_event: bool = True,
            through_gateway: bool | None = None) -> EventResult:
    """One event's result: rudder-server's steps (`server`), then the transformer on each event they pass
    on (a user transformation may fan one out: their requests in order, the first error kept)."""
    kept = event if keep_event else _type_and_name(event)
    if not server.on:  # the transformer's own input
        try:
            return EventResult(index, kept, map_event(event, settings))
        except MappingError as err:
            return EventResult(index, kept, [], err)
    fate = server.fate(index, event, through_gateway=through_gateway)
    if not fate.passed:
        return EventResult(index, kept, [], None, fate)
    return map_passed(index, kept, fate.events, settings)


def map_passed(index: int, kept: Any, outputs: Iterable[Any], settings: Settings) -> EventResult:
    """The result of an event that rudder-server's steps passed on to the transformer as `outputs` (a user
    transformation may fan one out: their requests in order, the first error kept); `kept` is what the
    result holds as its event."""
    result = EventResult(index, kept)
    for output in outputs:
        try:
            result.requests.extend(map_event(output, settings))
        except MappingError as err:
            # kept without its traceback, which holds this frame and so `result`: a reference cycle that
            # would outlive the result until the collector's next full pass
            result.error = result.error or err.with_traceback(None)
    return result


PROGRESS_MIN_EVENTS = 10_000
_SHOWN_KEYS = ("type", "event", "name")


def _type_and_name(event: Any) -> Any:
    """The part of an event the frames show."""
    return {key: event[key] for key in _SHOWN_KEYS if key in event} if isinstance(event, dict) else None
