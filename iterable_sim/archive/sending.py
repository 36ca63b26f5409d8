"""Sending an event stream of any size, keeping compact outcomes instead of the events.

`send_stream(events, settings)` takes any iterable (a generator, `archive.read_archive(...)`) and
sends it in chunks of `chunk_events`: each chunk is mapped, routed, delivered and attributed by
`send()`, its outcomes are kept as compact columns, and the chunk (events, request bodies,
answers) is let go before the next is read. Memory holds one chunk, the outcomes' columns, and
whatever the receiving mock keeps.

What differs from one `send()` over all events: batches never span chunks, so each chunk may end
with a bulk call of fewer than 1,000 items (at 10,000 events a chunk, a handful more calls in
millions); calls are otherwise the same. Events not delivered can be written, as they go, to a
JSON lines file to send again.
"""
from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, Callable, Iterable

from tqdm.auto import tqdm

from iterable_sim.archive.reader import Event, MalformedLine
from iterable_sim.exceptions import IterableSimError
from iterable_sim.archive.mapping import CHUNK_EVENTS, type_and_name
from iterable_sim.mapping.request import json_bytes
from iterable_sim.mock import MockIterable
from iterable_sim.send import EventOutcome, Target, send
from iterable_sim.send.report import UNAUTHORIZED, key_note
from iterable_sim.send.targets import fresh_mock
from iterable_sim.mapping.settings import Settings
from iterable_sim.progress import PROGRESS_DELAY

if TYPE_CHECKING:
    import pandas as pd

MOCK_EVENT_LIMIT = 10_000  # the events (and purchases) per project a mock made here keeps: the newest
FATES = ("delivered", "filtered", "rejected", "failed")
OUTCOME_COLUMNS = ["event", "source", "line", "type", "name", "fate", "status", "reason", "stage", "endpoints",
                   "attempts", "possible_duplicates"]


class StreamError(IterableSimError, ValueError):
    """send_stream() given a chunk size below 1, or a StreamReport's rows asked for where they were not kept."""


@dataclass
class StreamReport:
    """Counts, requests per endpoint, and (unless not kept) one compact row per event sent."""

    settings: Settings
    target: str
    counts: Counter[str] = field(default_factory=Counter)
    requests_per_endpoint: Counter[str] = field(default_factory=Counter)
    columns: dict[str, list[Any]] | None = field(default_factory=lambda: {name: [] for name in OUTCOME_COLUMNS})
    duration: float = 0.0
    mock: MockIterable | None = None  # the MockIterable that received the events, when send_stream made one
    interrupted: bool = False

    def summary(self) -> dict[str, Any]:
        return {"sent": self.counts["sent"], **{fate: self.counts[fate] for fate in FATES},
                "malformed_lines": self.counts["malformed_lines"], "requests": self.counts["requests"],
                "retried": self.counts["retried"], "possibly_duplicated": self.counts["possibly_duplicated"],
                "possible_duplicates": self.counts["possible_duplicates"], "requests_per_endpoint": dict(sorted(self.requests_per_endpoint.items()))}

    @property
    def key_note(self) -> str:
        """send.report.KEY_REFUSED when Iterable refused every call with 401, else ""."""
        return key_note(self.counts["requests"], self.counts["unauthorized"])

    def frame(self) -> "pd.DataFrame":
        """One row per event (and malformed line): where it came from, its fate, Iterable's answer."""
        import pandas as pd

        if self.columns is None:
            raise StreamError("this stream was sent with keep_outcomes=False: only its summary was kept")
        frame = pd.DataFrame(self.columns, columns=OUTCOME_COLUMNS).astype({"line": "Int64", "status": "Int64"})
        for name in ("source", "type", "fate", "stage", "endpoints"):
            frame[name] = frame[name].astype("category")
        return frame

    def __repr__(self) -> str:
        s = self.summary()
        state = ", interrupted" if self.interrupted else ""
        doubts = f", {s['possibly_duplicated']:,} possibly stored more than once" if s["possibly_duplicated"] else ""
        return (f"<StreamReport to {self.target}: {s['sent']:,} sent, {s['delivered']:,} delivered, "
                f"{s['filtered']:,} filtered, {s['rejected']:,} rejected, {s['failed']:,} failed, {s['malformed_lines']:,} malformed line(s){doubts}; "
                f"{s['requests']:,} requests{state}{f'; {self.key_note}' if self.key_note else ''}>")


def send_stream(events: Iterable[Any], settings: Settings, to: Target = None, *, chunk_events: int = CHUNK_EVENTS,
                keep_outcomes: bool = True, failed_out: IO[bytes] | None = None,
                on_outcome: Callable[[dict[str, Any]], None] | None = None, progress: bool = True,
                **send_options: Any) -> StreamReport:
    """Send `events` (plain events, or `archive` records) chunk by chunk; see the module's docs.

    `to` is as for `send()`; None makes one in-process mock on simulated time for the whole stream
    (its journal keeps the last MOCK_JOURNAL_LIMIT entries, its projects the newest MOCK_EVENT_LIMIT
    events and purchases: profiles are all kept). `failed_out` receives each event not
    delivered (failed or rejected; not the ones rudder-server filters) as a JSON line; `on_outcome` each
    outcome row as it is known. An archive record says whether a gateway stored its event
    (`Event.through_gateway`); `through_gateway=` stands for plain events. Other keyword arguments go to
    `send()` (retry, timeout, pace, stable_event_ids, clock, received_at).
    """
    if chunk_events < 1:
        raise StreamError(f"chunk_events must be positive, got {chunk_events}")
    default_through = bool(send_options.pop("through_gateway", False))  # for plain events; a record knows
    made_mock = None
    if to is None:
        made_mock = to = fresh_mock(settings, send_options.pop("clock", None), event_limit=MOCK_EVENT_LIMIT)
    report = StreamReport(settings, "", mock=made_mock,
                          columns={name: [] for name in OUTCOME_COLUMNS} if keep_outcomes else None)
    keep = _Keeper(report, failed_out, on_outcome)
    records = iter(events)
    bar = tqdm(desc="sending", unit=" events", delay=PROGRESS_DELAY, disable=not progress)
    try:
        while chunk := list(itertools.islice(records, chunk_events)):
            kept = [r for r in chunk if not isinstance(r, MalformedLine)]
            events = [r.event if isinstance(r, Event) else r for r in kept]
            outcomes: Iterable[EventOutcome] = ()
            if events:
                through = [(r.through_gateway or default_through) if isinstance(r, Event) else default_through for r in kept]
                sent = send(events, settings, to=to, progress=False, through_gateway=through, **send_options)
                report.target = sent.target
                report.duration += sent.duration
                report.counts["requests"] += len(sent.deliveries)
                report.requests_per_endpoint.update(d.request.endpoint for d in sent.deliveries)
                report.counts["unauthorized"] += sum(1 for d in sent.deliveries if d.status == UNAUTHORIZED)
                report.interrupted = sent.interrupted
                outcomes = sent.outcomes
            fates = iter(outcomes)
            for record in chunk:  # in the input's order
                if isinstance(record, MalformedLine):
                    keep.malformed(record)
                elif isinstance(record, Event):
                    keep.outcome(next(fates), record.source, record.line, record.event)
                else:
                    keep.outcome(next(fates), None, None, record)
            if report.interrupted:
                break
            bar.update(len(chunk))
    except KeyboardInterrupt:  # between chunks: what was sent is reported
        report.interrupted = True
    finally:
        bar.close()
    return report


class _Keeper:
    """Adds each outcome to the report's counts and columns, and passes it on."""

    def __init__(self, report: StreamReport, failed_out: IO[bytes] | None,
                 on_outcome: Callable[[dict[str, Any]], None] | None) -> None:
        self.report = report
        self.failed_out = failed_out
        self.on_outcome = on_outcome
        self.interned: dict[str, str] = {}  # reasons and endpoint lists repeat: keep one copy of each
        self.index = 0

    def malformed(self, record: MalformedLine) -> None:
        self.report.counts["malformed_lines"] += 1
        self._row(record.source, record.line, None, None, "failed", None, record.reason, "input", "", 0, 0)

    def outcome(self, outcome: EventOutcome, source: str | None, line: int | None, event: Any) -> None:
        counts = self.report.counts
        counts["sent"] += 1
        counts[outcome.fate] += 1
        if outcome.attempts > 1:
            counts["retried"] += 1
        if outcome.possible_duplicates:
            counts["possibly_duplicated"] += 1
            counts["possible_duplicates"] += outcome.possible_duplicates
        kind, name = type_and_name(event)
        self._row(source, line, kind, name, outcome.fate, outcome.status, outcome.reason, outcome.stage,
                  ", ".join(outcome.endpoints), outcome.attempts, outcome.possible_duplicates)
        if self.failed_out is not None and outcome.fate in ("failed", "rejected"):
            self.failed_out.write(json_bytes(event)[0] + b"\n")

    def _row(self, source: str | None, line: int | None, kind: Any, name: Any, fate: str, status: int | None,
             reason: str, stage: str | None, endpoints: str, attempts: int, duplicates: int) -> None:
        intern = self.interned.setdefault
        row = (self.index, source, line, kind, name, fate, status, intern(reason, reason), stage,
               intern(endpoints, endpoints), attempts, duplicates)
        self.index += 1
        columns = self.report.columns
        if columns is not None:
            for column, value in zip(columns.values(), row, strict=True):
                column.append(value)
        if self.on_outcome is not None:
            self.on_outcome(dict(zip(OUTCOME_COLUMNS, row, strict=True)))
