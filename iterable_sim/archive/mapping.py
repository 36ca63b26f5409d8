"""Mapping an event archive of any size to Parquet, in memory that does not grow with it.

`map_archive(sources, settings, out)` reads the archive as a stream (see `archive`), maps each
event as RudderStack's processor does (`map_event`), and writes, one part per input file:

- `out/requests/part-NNNNN.parquet`: one row per request (source, line, type, name, endpoint,
  email, userId, eventName, method, url, body as compact JSON);
- `out/refused/part-NNNNN.parquet`: one row per event that cannot be sent: RudderStack would not
  map it (stage "mapping", its status and message) or it is too large for Iterable (stage "size",
  413; its requests are written too); and per malformed line (stage "input", the reason);
- both with where RudderStack kept the event (`Event.origin`): source_id, archive_date, archive_hour (the
  archiver's path; for a gw_jobs dump row its source_id), null when the file does not say;
- `out/summary.json`: events, requests, refused, filtered, malformed_lines, requests per endpoint.

With `settings.rudder_server` on, rudder-server's steps come first: an event they drop on purpose is a
refused row whose stage is the step (e.g. "event_filter", status 298) and is counted as filtered, not refused.

Rows are written in chunks, so memory holds one chunk at a time. `dask_archive.map_archive_dask`
writes the same parts and summary from a Dask cluster.
"""
from __future__ import annotations

import functools
import itertools
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from tqdm.auto import tqdm

from iterable_sim.archive.reader import STDIN, Event, MalformedLine, Record, archive_files, read_file
from iterable_sim.clock import SystemClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.extras import ARCHIVES, require
from iterable_sim.collector import collector_paused
from iterable_sim.limits import CHUNK_EVENTS, MAX_CATALOG_ITEM_BYTES, PAYLOAD_TOO_LARGE
from iterable_sim.mapping.request import size_problem
from iterable_sim.mapping.results import EventResult, MappingResults, map_one
from iterable_sim.mapping.rudder_server import RudderServer
from iterable_sim.pipeline.eventfilter import FILTER_EVENT_CODE
from iterable_sim.pipeline.fates import STEPS
from iterable_sim.mapping.names import event_name, identity
from iterable_sim.mapping.request import json_bytes
from iterable_sim.mapping.settings import Settings
from iterable_sim.progress import PROGRESS_DELAY

if TYPE_CHECKING:
    import pyarrow as pa


def _pyarrow() -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, imported when Parquet is written: the `archives` extra."""
    feature = "writing Parquet (map --out)"
    return require("pyarrow", ARCHIVES, feature), require("pyarrow.parquet", ARCHIVES, feature)


# Where RudderStack kept the event (`Event.origin`: the archiver's path, a gw_jobs row), null where unknown.
ORIGIN_COLUMNS = ("source_id", "archive_date", "archive_hour")
PARQUET_REQUEST_COLUMNS = ("source", "line", "type", "name", "endpoint", "email", "userId", "eventName", "method",
                           "url", "body", *ORIGIN_COLUMNS)
PARQUET_REFUSED_COLUMNS = ("source", "line", "type", "name", "stage", "status", "error", "field", *ORIGIN_COLUMNS)


@functools.cache
def schemas() -> tuple[pa.Schema, pa.Schema]:
    """The Parquet schemas of `requests` and `refused` (pyarrow is imported here: the `archives` extra)."""
    pa, _ = _pyarrow()
    names, text = pa.dictionary(pa.int32(), pa.string()), pa.string()
    types = {"source": names, "line": pa.int64(), "type": names, "name": text, "endpoint": names, "email": text,
             "userId": text, "eventName": text, "method": names, "url": names, "body": text, "stage": names,
             "status": pa.int32(), "error": text, "field": text, "source_id": names, "archive_date": names,
             "archive_hour": pa.int8()}
    return (pa.schema([(column, types[column]) for column in PARQUET_REQUEST_COLUMNS]),
            pa.schema([(column, types[column]) for column in PARQUET_REFUSED_COLUMNS]))


def new_summary() -> dict[str, Any]:
    return {"files": 0, "events": 0, "requests": 0, "refused": 0, "filtered": 0, "malformed_lines": 0,
            "requests_per_endpoint": {}}


def merge_summaries(summaries: Iterable[dict[str, Any]], warnings: Iterable[str] = ()) -> dict[str, Any]:
    """Add up per-file summaries into one (endpoints sorted by name, so equal runs write equal files)."""
    total = new_summary()
    endpoints: Counter[str] = Counter()
    for part in summaries:
        for key in ("files", "events", "requests", "refused", "filtered", "malformed_lines"):
            total[key] += part[key]
        endpoints.update(part["requests_per_endpoint"])
    total["requests_per_endpoint"] = dict(sorted(endpoints.items()))
    total["settings_warnings"] = list(warnings)
    return total


def map_archive(sources: Iterable[str | Path] | str | Path, settings: Settings, out: str | Path, *,
                chunk_events: int = CHUNK_EVENTS, progress: bool = True, received_at: Any = None,
                through_gateway: bool = False) -> dict[str, Any]:
    """Map every event of the archive into Parquet parts under `out`; return (and write) the summary.
    `received_at`: the gateway's clock for events no gateway stored yet (see `RudderServer`); default now.
    `through_gateway=True` takes plain events as stored by a gateway too (RudderStack's archives say so)."""
    schemas()  # pyarrow (the `archives` extra) is there: said before anything is written
    files = archive_files(sources)
    received_at = run_instant(received_at)
    out = prepare_output(out)
    bar = tqdm(desc="mapping", unit=" events", delay=PROGRESS_DELAY, disable=not progress)
    try:
        parts = [map_file(name, part, settings, out, chunk_events=chunk_events, bar=bar, received_at=received_at,
                          through_gateway=through_gateway)
                 for part, name in enumerate(files)]
    finally:
        bar.close()
    return write_summary(out, merge_summaries(parts, settings.warnings))


class OutputError(IterableSimError, ValueError):
    """An output directory that is a file, or that cannot be made or written: `problem` says which."""

    def __init__(self, out: Path, problem: str) -> None:
        super().__init__(f"{out} {problem}")
        self.problem = problem


def prepare_output(out: str | Path) -> Path:
    """The output directory, made if needed; parts from an earlier run are removed so none lingers. An
    OutputError when it is a file or cannot be written, before anything is read."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(out, "is a file, not a directory")
    try:
        for kind in ("requests", "refused"):
            (out / kind).mkdir(parents=True, exist_ok=True)
            for old in (out / kind).glob("part-*.parquet"):
                old.unlink()
    except OSError as err:
        raise OutputError(out, f"cannot be written: {err.strerror}") from None
    return out


def write_summary(out: Path, summary: dict[str, Any]) -> dict[str, Any]:
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return summary


def map_file(name: str, part: int, settings: Settings, out: str | Path, *, chunk_events: int = CHUNK_EVENTS,
             bar: Any = None, received_at: Any = None, through_gateway: bool = False) -> dict[str, Any]:
    """Map one file into part `part` of `out`'s requests and refused; its summary."""
    out = Path(out)
    summary = new_summary()
    summary["files"] = 1
    endpoints: Counter[str] = Counter()
    label = "standard input" if name == STDIN else name
    file_name = f"part-{part:05d}.parquet"
    pa, pq = _pyarrow()
    request_schema, refused_schema = schemas()
    with pq.ParquetWriter(out / "requests" / file_name, request_schema) as requests_out, \
            pq.ParquetWriter(out / "refused" / file_name, refused_schema) as refused_out:
        records = read_file(name)
        server = RudderServer(settings, received_at=received_at, through_gateway=through_gateway)
        while True:
            with collector_paused():  # the chunk's objects are garbage together after it: no cycles to hunt
                chunk = list(itertools.islice(records, chunk_events))
                requests, refused = map_records(chunk, settings, label, server)
            if not chunk:
                break
            events = sum(1 for r in chunk if isinstance(r, Event))
            summary["events"] += events
            summary["malformed_lines"] += len(chunk) - events
            summary["requests"] += len(requests["line"])
            dropped = sum(1 for row in zip(refused["stage"], refused["status"], strict=True) if _filtered(*row))
            summary["filtered"] += dropped
            summary["refused"] += sum(1 for stage in refused["stage"] if stage != "input") - dropped
            endpoints.update(requests["endpoint"])
            requests_out.write_table(pa.table(requests, schema=request_schema))
            refused_out.write_table(pa.table(refused, schema=refused_schema))
            if bar is not None:
                bar.update(len(chunk))
    summary["requests_per_endpoint"] = dict(endpoints)
    return summary


def map_records(records: Iterable[Record], settings: Settings, source: str | None = None,
                server: RudderServer | None = None) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Map a chunk of records: the columns of its requests and of its refused (or filtered) events and
    malformed lines. `server`: rudder-server's steps, by default `RudderServer(settings)`."""
    server = server if server is not None else RudderServer(settings)
    requests: dict[str, list[Any]] = {name: [] for name in PARQUET_REQUEST_COLUMNS}
    refused: dict[str, list[Any]] = {name: [] for name in PARQUET_REFUSED_COLUMNS}
    append_request = [requests[name].append for name in PARQUET_REQUEST_COLUMNS]
    for record in records:
        where = source if source is not None else record.source
        origin = record.origin
        kept = (None, None, None) if origin is None else (origin.source_id, origin.date, origin.hour)
        if isinstance(record, MalformedLine):
            for name, value in zip(PARQUET_REFUSED_COLUMNS,
                                   (where, record.line, None, None, "input", None, record.reason, None, *kept),
                                   strict=True):
                refused[name].append(value)
            continue
        event = record.event
        kind, label = type_and_name(event)
        result = map_one(0, event, settings, server, keep_event=False,
                         through_gateway=record.through_gateway or server.through_gateway)
        if result.error is not None or result.stopped is not None:
            err = result.error
            stage = "mapping" if result.stopped is None else result.step
            for name, value in zip(PARQUET_REFUSED_COLUMNS,
                                   (where, record.line, kind, label, stage, result.status, result.message,
                                    err.field if err is not None else None, *kept), strict=True):
                refused[name].append(value)
            if not result.requests:
                continue
        too_large = None
        for request in result.requests:
            body = request.json
            email, user_id = identity(body)
            sent_name = body.get("eventName") if isinstance(body, dict) else None
            text = json_bytes(body)[0]
            if len(text) >= MAX_CATALOG_ITEM_BYTES:  # smaller cannot pass any of Iterable's size limits
                too_large = too_large or size_problem(request)
            values = (where, record.line, kind, label, request.endpoint, _text(email), _text(user_id),
                      _text(sent_name), request.method, request.url, text.decode(), *kept)
            for append, value in zip(append_request, values, strict=True):
                append(value)
        if too_large is not None:
            for name, value in zip(PARQUET_REFUSED_COLUMNS,
                                   (where, record.line, kind, label, "size", PAYLOAD_TOO_LARGE, too_large, None,
                                    *kept),
                                   strict=True):
                refused[name].append(value)
    return requests, refused


def iter_mapped_lines(records: Iterable[Record], settings: Settings, *,
                      received_at: Any = None, through_gateway: bool = False) -> Iterator[dict[str, Any]]:
    """One JSON-ready line per request, per refused or filtered event and per malformed line, as events
    stream by."""
    index = 0
    server = RudderServer(settings, received_at=received_at, through_gateway=through_gateway)
    for record in records:
        if isinstance(record, MalformedLine):
            yield {"source": record.source, "line": record.line, "error": record.reason, "stage": "input"}
            continue
        result = map_one(index, record.event, settings, server, keep_event=False,
                         through_gateway=record.through_gateway or server.through_gateway)
        if result.stopped is not None:  # rudder-server's step: a drop is not an error
            yield {"event": index, "filtered" if result.filtered else "error": result.message,
                   "status": result.status, "stage": result.step}
        elif result.error is not None:
            yield {"event": index, "error": str(result.error), "status": result.error.status}
        else:
            requests = result.requests
            for request in requests:
                yield {"event": index, "method": request.method, "url": request.url, "json": request.json}
            too_large = next(filter(None, map(size_problem, requests)), None)
            if too_large is not None:
                yield {"event": index, "error": too_large, "status": PAYLOAD_TOO_LARGE}
        index += 1


def map_records_in_memory(records: Iterable[Record], settings: Settings,
                          malformed: list[MalformedLine] | None = None, *, received_at: Any = None,
                          through_gateway: bool = False) -> MappingResults:
    """`map_events` over archive records, each event taken as its record says (through a gateway or not);
    malformed lines are appended to `malformed` when given, else skipped."""
    server = RudderServer(settings, received_at=received_at, through_gateway=through_gateway)
    results: list[EventResult] = []
    for record in records:
        if isinstance(record, MalformedLine):
            if malformed is not None:
                malformed.append(record)
            continue
        results.append(map_one(len(results), record.event, settings, server,
                               through_gateway=record.through_gateway or server.through_gateway))
    return MappingResults(settings, results)


def run_instant(received_at: Any) -> Any:
    """The gateway's clock for a whole run: `received_at`, else now (seconds since the epoch), read once so
    that every file and every Dask task of the run sees the same instant."""
    return received_at if received_at is not None else SystemClock().now()


def _filtered(stage: str, status: int | None) -> bool:
    """A refused row that rudder-server dropped on purpose (298 filtered, 200 a suppressed user's event)."""
    return stage in STEPS and status in (FILTER_EVENT_CODE, 200)


def type_and_name(event: Any) -> tuple[str | None, str | None]:
    """An event's type, and its name (a track's event, a page's or screen's name), as text."""
    if not isinstance(event, dict):
        return None, None
    return _text(event.get("type")), _text(event_name(event))


def _text(value: Any) -> str | None:
    """A cell of a string column: strings as they are, anything else as its JSON."""
    if value is None or isinstance(value, str):
        return value
    return json_bytes(value)[0].decode()
