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
- `out/summary.json`: events, requests, refused, malformed_lines, requests per endpoint.

Rows are written in chunks, so memory holds one chunk at a time. `dask_archive.map_archive_dask`
writes the same parts and summary from a Dask cluster.
"""
from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from iterable_sim.archive.reader import STDIN, Event, MalformedLine, Record, archive_files, read_file
from iterable_sim.collector import collector_paused
from iterable_sim.limits import MAX_CATALOG_ITEM_BYTES, PAYLOAD_TOO_LARGE
from iterable_sim.mapping.request import size_problem
from iterable_sim.mapping import map_event
from iterable_sim.mapping.names import event_name, identity
from iterable_sim.mapping.request import MappingError, json_bytes
from iterable_sim.mapping.settings import Settings
from iterable_sim.progress import PROGRESS_DELAY

CHUNK_EVENTS = 10_000

_NAMES = pa.dictionary(pa.int32(), pa.string())
# Where RudderStack kept the event (`Event.origin`: the archiver's path, a gw_jobs row), null where unknown.
ORIGIN_FIELDS = [("source_id", _NAMES), ("archive_date", _NAMES), ("archive_hour", pa.int8())]
REQUEST_SCHEMA = pa.schema([
    ("source", _NAMES), ("line", pa.int64()), ("type", _NAMES), ("name", pa.string()), ("endpoint", _NAMES),
    ("email", pa.string()), ("userId", pa.string()), ("eventName", pa.string()), ("method", _NAMES),
    ("url", _NAMES), ("body", pa.string()), *ORIGIN_FIELDS])
REFUSED_SCHEMA = pa.schema([
    ("source", _NAMES), ("line", pa.int64()), ("type", _NAMES), ("name", pa.string()), ("stage", _NAMES),
    ("status", pa.int32()), ("error", pa.string()), ("field", pa.string()), *ORIGIN_FIELDS])


def new_summary() -> dict[str, Any]:
    return {"files": 0, "events": 0, "requests": 0, "refused": 0, "malformed_lines": 0, "requests_per_endpoint": {}}


def merge_summaries(summaries: Iterable[dict[str, Any]], warnings: Iterable[str] = ()) -> dict[str, Any]:
    """Add up per-file summaries into one (endpoints sorted by name, so equal runs write equal files)."""
    total = new_summary()
    endpoints: Counter[str] = Counter()
    for part in summaries:
        for key in ("files", "events", "requests", "refused", "malformed_lines"):
            total[key] += part[key]
        endpoints.update(part["requests_per_endpoint"])
    total["requests_per_endpoint"] = dict(sorted(endpoints.items()))
    total["settings_warnings"] = list(warnings)
    return total


def map_archive(sources: Iterable[str | Path] | str | Path, settings: Settings, out: str | Path, *,
                chunk_events: int = CHUNK_EVENTS, progress: bool = True) -> dict[str, Any]:
    """Map every event of the archive into Parquet parts under `out`; return (and write) the summary."""
    files = archive_files(sources)
    out = prepare_output(out)
    bar = tqdm(desc="mapping", unit=" events", delay=PROGRESS_DELAY, disable=not progress)
    try:
        parts = [map_file(name, part, settings, out, chunk_events=chunk_events, bar=bar)
                 for part, name in enumerate(files)]
    finally:
        bar.close()
    return write_summary(out, merge_summaries(parts, settings.warnings))


def prepare_output(out: str | Path) -> Path:
    """The output directory, made if needed; parts from an earlier run are removed so none lingers."""
    out = Path(out)
    for kind in ("requests", "refused"):
        (out / kind).mkdir(parents=True, exist_ok=True)
        for old in (out / kind).glob("part-*.parquet"):
            old.unlink()
    return out


def write_summary(out: Path, summary: dict[str, Any]) -> dict[str, Any]:
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return summary


def map_file(name: str, part: int, settings: Settings, out: str | Path, *, chunk_events: int = CHUNK_EVENTS,
             bar: Any = None) -> dict[str, Any]:
    """Map one file into part `part` of `out`'s requests and refused; its summary."""
    out = Path(out)
    summary = new_summary()
    summary["files"] = 1
    endpoints: Counter[str] = Counter()
    label = "standard input" if name == STDIN else name
    file_name = f"part-{part:05d}.parquet"
    with pq.ParquetWriter(out / "requests" / file_name, REQUEST_SCHEMA) as requests_out, \
            pq.ParquetWriter(out / "refused" / file_name, REFUSED_SCHEMA) as refused_out:
        records = read_file(name)
        while True:
            with collector_paused():  # the chunk's objects are garbage together after it: no cycles to hunt
                chunk = list(itertools.islice(records, chunk_events))
                requests, refused = map_records(chunk, settings, label)
            if not chunk:
                break
            events = sum(1 for r in chunk if isinstance(r, Event))
            summary["events"] += events
            summary["malformed_lines"] += len(chunk) - events
            summary["requests"] += len(requests["line"])
            summary["refused"] += sum(1 for stage in refused["stage"] if stage != "input")
            endpoints.update(requests["endpoint"])
            requests_out.write_table(pa.table(requests, schema=REQUEST_SCHEMA))
            refused_out.write_table(pa.table(refused, schema=REFUSED_SCHEMA))
            if bar is not None:
                bar.update(len(chunk))
    summary["requests_per_endpoint"] = dict(endpoints)
    return summary


def map_records(records: Iterable[Record], settings: Settings, source: str | None = None,
                ) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """Map a chunk of records: the columns of its requests and of its refused events and malformed lines."""
    requests: dict[str, list[Any]] = {name: [] for name in REQUEST_SCHEMA.names}
    refused: dict[str, list[Any]] = {name: [] for name in REFUSED_SCHEMA.names}
    append_request = [requests[name].append for name in REQUEST_SCHEMA.names]
    for record in records:
        where = source if source is not None else record.source
        origin = record.origin
        kept = (None, None, None) if origin is None else (origin.source_id, origin.date, origin.hour)
        if isinstance(record, MalformedLine):
            for name, value in zip(REFUSED_SCHEMA.names,
                                   (where, record.line, None, None, "input", None, record.reason, None, *kept),
                                   strict=True):
                refused[name].append(value)
            continue
        event = record.event
        kind, label = type_and_name(event)
        try:
            mapped = map_event(event, settings)
        except MappingError as err:
            for name, value in zip(REFUSED_SCHEMA.names,
                                   (where, record.line, kind, label, "mapping", err.status, str(err), err.field, *kept),
                                   strict=True):
                refused[name].append(value)
            continue
        too_large = None
        for request in mapped:
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
            for name, value in zip(REFUSED_SCHEMA.names,
                                   (where, record.line, kind, label, "size", PAYLOAD_TOO_LARGE, too_large, None,
                                    *kept),
                                   strict=True):
                refused[name].append(value)
    return requests, refused


def iter_mapped_lines(records: Iterable[Record], settings: Settings) -> Iterator[dict[str, Any]]:
    """One JSON-ready line per request, per refused event and per malformed line, as events stream by."""
    index = 0
    for record in records:
        if isinstance(record, MalformedLine):
            yield {"source": record.source, "line": record.line, "error": record.reason, "stage": "input"}
            continue
        try:
            requests = map_event(record.event, settings)
        except MappingError as err:
            yield {"event": index, "error": str(err), "status": err.status}
        else:
            for request in requests:
                yield {"event": index, "method": request.method, "url": request.url, "json": request.json}
            too_large = next(filter(None, map(size_problem, requests)), None)
            if too_large is not None:
                yield {"event": index, "error": too_large, "status": PAYLOAD_TOO_LARGE}
        index += 1


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
