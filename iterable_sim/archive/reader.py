"""Reading event archives as a stream: JSON lines, gzipped or not, from files, directories, globs, object
storage URLs or stdin, RudderStack's own files told apart by their content.

RudderStack's object-storage destinations write events as gzipped JSON lines; a day of a site is
millions of them. `read_archive` yields them one at a time, so memory does not grow with the
archive, and a line that is not a JSON object is reported as a `MalformedLine` (file, line number,
reason) in its place while the rest goes on. A file that is one JSON document (an event, or a list
of events, possibly pretty-printed) is read whole, as small inputs are.

Each line (or document, or item of a document's list) is one of these, told by its keys (`record_kind`):

- a plain event: an object with a `type`, or any object that is none of the others;
- a gateway archive line (rudder-server's archiver, `{"userId", "payload", "createdAt", "messageId"}`,
  archiver/worker.go:217-229): no `type`, both `payload` and `createdAt`; the event is `payload`, as the
  gateway stored it (`Event.through_gateway`);
- a legacy `gw_jobs` dump row (jobsdb backup, removed in rudder-server ba94ed40e; jobsdb/backup.go:468-523 at
  99d085d9): no `type`, an `event_payload`; the events are `event_payload.batch`, stored by a gateway;
- a `/v1/batch` or Event Replay request body (`{"batch": [...]}`): no `type`, a `batch`; the events are the
  batch's elements, as an SDK or the replay sends them (not through a gateway);
- an SDK batch capture: such a body with other top-level keys (`sentAt`, `writeKey`, ...). The gateway reads
  only `batch` of a body (gateway/handle.go:346) and the write key from the Basic-auth header
  (gateway/handle_http_auth.go:31-35), so those keys are dropped as rudder-server drops them.

Events from a file at the archiver's object path (`<prefix>/<sourceID>/gw/<YYYY-MM-DD>/<H>/<INSTANCE_ID>/
<first>_<last>_<workspaceID>_<uuid>.json.gz`, archiver/worker.go:142-201) carry that source, date, hour,
instance and workspace as their `origin`.

`read_events` is the strict reader for one file of events that fits in memory (the CLI's explore,
cassettes, the pytest plugin, the explore page): the same reading, all of it in a list that
remembers its file, and the first bad line an `ArchiveError`.
"""
from __future__ import annotations

import glob
import gzip
import io
import itertools
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Union, cast

import orjson

from iterable_sim.exceptions import IterableSimError
from iterable_sim.extras import STORAGE, install_command, needs_extra
from iterable_sim.pipeline.gateway import EMPTY_BATCH, NOT_RUDDER_EVENT, batch_elements

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
ARCHIVE_SUFFIXES = (".jsonl", ".json", ".ndjson", ".gz")

# What `record_kind` tells apart.
PLAIN_EVENT = "event"
GATEWAY_ARCHIVE = "gateway archive line"
GATEWAY_DUMP = "gw_jobs dump row"
BATCH_BODY = "batch request body"
SDK_BATCH = "SDK batch capture"
KINDS = (PLAIN_EVENT, GATEWAY_ARCHIVE, GATEWAY_DUMP, BATCH_BODY, SDK_BATCH)


@dataclass(frozen=True, slots=True)
class ArchiveOrigin:
    """Where RudderStack kept an event: what the archiver's object path says (`source_id`, `date` as
    YYYY-MM-DD and `hour` in UTC of the file's first entry, `instance_id`, `workspace_id`), the archive
    line's job `user_id` and `created_at`; for a gw_jobs dump row, its own `parameters.source_id`,
    `workspace_id`, `user_id`, `created_at`, and the job's `received_at` and `request_ip` (the gateway job's
    `event_payload.receivedAt` / `requestIP`, which rudder-server's processor writes into the event's
    `receivedAt` and `request_ip`, processor/processor.go:1052, 2224). None where the file does not say."""

    source_id: str | None = None
    date: str | None = None
    hour: int | None = None
    instance_id: str | None = None
    workspace_id: str | None = None
    user_id: str | None = None
    created_at: str | None = None
    received_at: str | None = None
    request_ip: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """An event read from an archive, and where it came from: `through_gateway` when a rudder-server gateway
    stored it already (archive lines, gw_jobs dumps), `origin` when the file says where RudderStack kept it."""

    source: str
    line: int
    event: Any
    through_gateway: bool = False  # a gateway stored the event already (an archive's payload)
    origin: ArchiveOrigin | None = None


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """A line of an archive that is not a JSON object, or not one RudderStack could read: where it is and why
    (and the file's `origin`, when its path is the archiver's)."""

    source: str
    line: int
    reason: str
    origin: ArchiveOrigin | None = None

    def __str__(self) -> str:
        where = f", line {self.line:,}" if self.line else ""  # line 0: the file as a whole
        return f"{self.source}{where}: {self.reason}"


Record = Union[Event, MalformedLine]


class ArchiveError(IterableSimError, ValueError):
    """An input that cannot be read at all (no such file, a glob matching nothing, a storage URL without the
    `storage` extra), or, for `read_events`, a line that is not an event."""


class EventsFile(list):  # type: ignore[type-arg]
    """Events read from a file, remembering the file (`source`, its absolute path; None for standard
    input), so a cassette can name it."""

    source: str | None

    def __init__(self, events: Iterable[Any], source: str | None) -> None:
        super().__init__(events)
        self.source = source


def read_events(source: str | os.PathLike[str]) -> EventsFile:
    """All the RudderStack events of one file ('-' for standard input): a JSON document (one event or
    a list of them) or JSON lines, gzipped or not (told by the first bytes). Strict: the first line
    that is not an event raises an `ArchiveError` naming the file and the line. An empty file holds
    no events."""
    name = str(source)
    if name != STDIN:
        path = Path(name)
        if path.is_dir():
            raise ArchiveError(f"{name} is a directory: give a JSON or JSONL events file")
        if not path.is_file():
            raise ArchiveError(f"no such events file: {name}")
    events = []
    try:
        for record in read_file(name):
            if isinstance(record, MalformedLine):
                raise ArchiveError(str(record))
            events.append(record.event)
    except OSError as err:  # opening it: a file one may not read
        raise ArchiveError(f"cannot read {name}: {err.strerror}") from None
    return EventsFile(events, None if name == STDIN else str(Path(name).resolve()))


def archive_files(sources: Iterable[str | Path] | str | Path) -> list[str]:
    """The files named by `sources` (one source or several), in order: files as given, '-' for stdin,
    a directory's archive files (sorted, recursively), a glob's matches (sorted); the same for object
    storage URLs (`s3://bucket/prefix/`, `gs://bucket/*/gw/2026-01-05/**`), read through fsspec (the
    `storage` extra). Sorted means by path, with folders named by a number (the archiver's hour and
    instance folders) in numeric order, so an archive's files come hour by hour."""
    if isinstance(sources, (str, Path)):
        sources = [sources]
    files: list[str] = []
    for source in sources:
        text = str(source)
        if is_url(text):
            files.extend(_storage_files(text))
            continue
        path = Path(text)
        if text == STDIN or path.is_file():
            files.append(text)
        elif path.is_dir():
            found = sorted((str(p) for p in path.rglob("*") if p.is_file() and p.name.endswith(ARCHIVE_SUFFIXES)),
                           key=_listing_order)
            if not found:
                raise ArchiveError(f"{text} is a directory holding no .jsonl, .json, .ndjson or .gz files")
            files.extend(found)
        elif glob.has_magic(text):
            found = sorted((p for p in glob.glob(text, recursive=True) if Path(p).is_file()), key=_listing_order)
            if not found:
                raise ArchiveError(f"{text}: no file matches")
            files.extend(found)
        else:
            raise ArchiveError(f"no such events file: {text}")
    return files


def read_archive(sources: Iterable[str | Path] | str | Path) -> Iterator[Record]:
    """Every event of every file named (see `archive_files`), each an `Event`, or a `MalformedLine`
    in place of a line that is not a JSON object. Blank lines are skipped."""
    for name in archive_files(sources):
        yield from read_file(name)


def read_file(name: str) -> Iterator[Record]:
    """The records of one file ('-' for stdin, or a storage URL); gzip is recognised by its first bytes,
    not its name."""
    if name == STDIN:
        stdin = getattr(sys.stdin, "buffer", None)  # a text stream without one (a test's StringIO) is read whole
        raw = io.BufferedReader(stdin if stdin is not None else io.BytesIO(sys.stdin.read().encode()))
        yield from _unpacked(raw, "standard input", None)
        return
    origin = archive_path_origin(name)
    if is_url(name):
        try:
            remote = _open_storage(name)
        except OSError as err:  # listed a moment ago, gone or forbidden now: the other files go on
            yield MalformedLine(name, 0, f"cannot be read: {err}", origin)
            return
        with remote, io.BufferedReader(remote) as buffered:
            yield from _unpacked(buffered, name, origin)
        return
    with open(name, "rb") as raw:
        yield from _unpacked(raw, name, origin)


def _unpacked(raw: io.BufferedReader[Any], name: str, origin: ArchiveOrigin | None) -> Iterator[Record]:
    """The file's records, then, should it end early (a truncated or corrupt .gz), a MalformedLine of the file as
    a whole (line 0) naming the last line read: what was read stands."""
    stream: io.BufferedIOBase = gzip.GzipFile(fileobj=raw) if raw.peek(2)[:2] == GZIP_MAGIC else raw
    last_line = 0
    try:
        for record in _records(stream, name, origin):
            last_line = record.line
            yield record
    except (OSError, EOFError) as err:
        where = f"after line {last_line:,}" if last_line else "from its start"
        yield MalformedLine(name, 0, f"the file cannot be read {where}: {err}", origin)


def events_only(records: Iterable[Record], malformed: list[MalformedLine] | None = None) -> Iterator[Any]:
    """The events of `records`; malformed lines are appended to `malformed` when given, else skipped."""
    for record in records:
        if isinstance(record, Event):
            yield record.event
        elif malformed is not None:
            malformed.append(record)


def _records(stream: io.BufferedIOBase, name: str, origin: ArchiveOrigin | None) -> Iterator[Record]:
    lines = iter(stream)
    first = next(lines, b"").removeprefix(b"\xef\xbb\xbf")  # a byte order mark (Windows editors) is no event's
    rest: Iterable[bytes] = lines
    try:
        first.decode()
    except UnicodeDecodeError:  # a binary file: one error for it, not one per "line"
        yield MalformedLine(name, 1, "is not UTF-8 text: events are JSON lines, gzipped or not", origin)
        return
    if first.lstrip(b" \t\r\n")[:1] in (b"[", b"{") and not _is_json(first):
        # one JSON document over several lines (an event, a list of events, a request body), or a bad first line
        text = first + stream.read()
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            rest = iter(io.BytesIO(text))  # not one document: JSON lines after all, each bad line reported
            first = next(rest, b"")
        else:
            yield from _read_value(document, name, 1, origin)
            return
    loads = orjson.loads
    for number, line in enumerate(itertools.chain((first,), rest), 1):
        if not line.strip():
            continue
        try:
            value = loads(line)
        except orjson.JSONDecodeError as err:
            # err.pos, not orjson's own "line L column C": the line's number is the file's, given once
            yield MalformedLine(name, number, f"not JSON ({err.msg} at column {err.pos + 1})", origin)
            continue
        if isinstance(value, dict) and "type" in value:  # a plain event, the common case: no further look
            yield Event(name, number, value, False, origin)
        else:
            yield from _read_value(value, name, number, origin)


def _is_json(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def record_kind(value: Any) -> str | None:
    """Which of RudderStack's shapes one JSON value is (one of `KINDS`), by its top-level keys; None for a
    value that is not an object. An object with a `type` is an event whatever else it holds."""
    if not isinstance(value, dict):
        return None
    if "type" in value:
        return PLAIN_EVENT
    if "payload" in value and "createdAt" in value:
        return GATEWAY_ARCHIVE
    if "event_payload" in value:
        return GATEWAY_DUMP
    if "batch" in value:
        return SDK_BATCH if len(value) > 1 else BATCH_BODY
    return PLAIN_EVENT


def _read_value(value: Any, name: str, line: int, origin: ArchiveOrigin | None) -> Iterator[Record]:
    """The records of one line's (or document's) JSON value: a list is read item by item."""
    if isinstance(value, list):  # a line holding a list, as a one-line JSON file may
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield from _read_object(item, name, line, origin, f"item {index}: ")
            else:
                yield MalformedLine(name, line, f"item {index} is not a JSON object but {type(item).__name__}",
                                    origin)
    elif isinstance(value, dict):
        yield from _read_object(value, name, line, origin, "")
    else:
        yield MalformedLine(name, line, f"not a JSON object but {type(value).__name__}: an event is an object",
                            origin)


def _read_object(value: dict[str, Any], name: str, line: int, origin: ArchiveOrigin | None,
                 where: str) -> Iterator[Record]:
    kind = record_kind(value)
    if kind == GATEWAY_ARCHIVE:
        yield _archive_line(value, name, line, origin, where)
    elif kind == GATEWAY_DUMP:
        yield from _dump_row(value, name, line, origin, where)
    elif kind in (BATCH_BODY, SDK_BATCH):
        yield from _batch_body(value, name, line, origin, where)
    else:
        yield Event(name, line, value, False, origin)


def _archive_line(value: dict[str, Any], name: str, line: int, origin: ArchiveOrigin | None, where: str) -> Record:
    """`{"userId", "payload", "createdAt", "messageId"}` (archiver/worker.go:217-229): the event is `payload`, the
    gateway job's stored event (formats.md section 3); userId is the job's user_id, createdAt its created_at."""
    payload = value["payload"]
    if not isinstance(payload, dict):
        return MalformedLine(name, line, f"{where}an archive line whose payload is not a JSON object but "
                                         f"{type(payload).__name__}: the archiver's payload is the stored event",
                             origin)
    path = origin or _NO_ORIGIN
    return Event(name, line, payload, True,
                 ArchiveOrigin(path.source_id, path.date, path.hour, path.instance_id, path.workspace_id,
                               _text(value.get("userId")), _text(value.get("createdAt"))))


def _dump_row(value: dict[str, Any], name: str, line: int, origin: ArchiveOrigin | None,
              where: str) -> Iterator[Record]:
    """A jsonb_build_object of a gateway job row (jobsdb/backup.go:468-523 at 99d085d9): its `event_payload` is
    the job's payload `{"batch": [event], "requestIP", "writeKey", "receivedAt"}` (gateway/handle.go:516-531)."""
    payload = value["event_payload"]
    batch = payload.get("batch") if isinstance(payload, dict) else None
    if not isinstance(batch, list) or not batch:
        what = (f"whose event_payload is not a JSON object but {type(payload).__name__}" if not isinstance(payload, dict)
                else "whose event_payload holds no batch of events")
        yield MalformedLine(name, line, f"{where}a gw_jobs row {what}: a gateway job's payload is "
                                        '{"batch": [event], "requestIP", "writeKey", "receivedAt"}', origin)
        return
    parameters = value.get("parameters")
    path = origin or _NO_ORIGIN
    row_origin = ArchiveOrigin(
        _text(parameters.get("source_id")) if isinstance(parameters, dict) else path.source_id,
        path.date, path.hour, path.instance_id, _text(value.get("workspace_id")) or path.workspace_id,
        _text(value.get("user_id")), _text(value.get("created_at")),
        _text(payload.get("receivedAt")), _text(payload.get("requestIP")))
    for index, event in enumerate(batch):
        if isinstance(event, dict):
            yield Event(name, line, event, True, row_origin)
        else:
            yield MalformedLine(name, line, f"{where}event_payload.batch item {index} is not a JSON object but "
                                            f"{type(event).__name__}", origin)


def _batch_body(value: dict[str, Any], name: str, line: int, origin: ArchiveOrigin | None,
                where: str) -> Iterator[Record]:
    """A body as `/v1/batch` and `/internal/v1/replay` take it: the gateway reads its `batch` as gjson's
    `Array()` (gateway/handle.go:346) and refuses the whole request when an element is not an object
    (handle.go:366-370) or there is none (handle.go:252-255)."""
    events = batch_elements(value["batch"])
    if not events:
        yield MalformedLine(name, line, f"{where}a batch request body with no events: rudder-server's gateway "
                                        f"answers 400 {EMPTY_BATCH}", origin)
        return
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            yield MalformedLine(name, line, f"{where}batch item {index} is not a JSON object but "
                                            f"{type(event).__name__}: rudder-server's gateway refuses the whole "
                                            f"request (400 {NOT_RUDDER_EVENT})", origin)
            return
    for event in events:
        yield Event(name, line, event, False, origin)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


_NO_ORIGIN = ArchiveOrigin()
_ARCHIVE_FILE = re.compile(r"[0-9]+_[0-9]+_(?P<workspace>.+)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                           r"[0-9a-f]{12}\.json\.gz")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_HOUR = re.compile(r"[0-9]|1[0-9]|2[0-3]")  # fmt "%d": not zero-padded (archiver/worker.go:191)


def archive_path_origin(name: str) -> ArchiveOrigin | None:
    """The source, date, hour, instance and workspace of a file at the archiver's object path
    `.../<sourceID>/gw/<YYYY-MM-DD>/<H>/<INSTANCE_ID>/<firstUnix>_<lastUnix>_<workspaceID>_<uuid>.json.gz`
    (archiver/worker.go:147-153, 186-193; the file manager joins prefix, folders and name, go-kit@
    filemanager/s3manager.go:142-146); None for any other path."""
    parts = name.replace(os.sep, "/").split("/")
    if len(parts) < 6:
        return None
    source_id, folder, date, hour, instance_id, file_name = parts[-6:]
    found = _ARCHIVE_FILE.fullmatch(file_name)
    if (found is None or folder != "gw" or not source_id or not instance_id or not _DATE.fullmatch(date)
            or not _HOUR.fullmatch(hour)):
        return None
    return ArchiveOrigin(source_id=source_id, date=date, hour=int(hour), instance_id=instance_id,
                         workspace_id=found["workspace"])


def _listing_order(path: str) -> list[tuple[int, int, str]]:
    """Sort key of a listed path: folder by folder, numbers (the archiver's hour folders 0..23, not zero-padded)
    by value, other names as text."""
    return [(0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part) for part in path.split("/")]


# Object storage, through fsspec (s3fs, gcsfs): the `storage` extra.

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def is_url(text: str) -> bool:
    """A source given as a URL (`s3://...`, `gs://...`), read through fsspec, rather than a local path."""
    return _URL.match(text) is not None


def _storage_files(url: str) -> list[str]:
    """The files a storage URL names: the object, a folder's archive files, or a glob's matches, sorted."""
    fs, path = _filesystem(url)
    fs.invalidate_cache()  # fsspec keeps listings for the life of the process: files may have come since
    if glob.has_magic(path):
        entries = fs.glob(path, detail=True)
        found = [fs.unstrip_protocol(name) for name, info in entries.items() if info.get("type") == "file"]
        if not found:
            raise ArchiveError(f"{url}: no file matches")
        return sorted(found, key=_listing_order)
    if fs.isfile(path):
        return [url]
    if fs.isdir(path):
        found = [fs.unstrip_protocol(name) for name in fs.find(path) if name.endswith(ARCHIVE_SUFFIXES)]
        if not found:
            raise ArchiveError(f"{url} is a folder holding no .jsonl, .json, .ndjson or .gz files")
        return sorted(found, key=_listing_order)
    raise ArchiveError(f"no such events file: {url}")


def _filesystem(url: str) -> tuple[Any, str]:
    scheme = url.split("://", 1)[0]
    try:
        import fsspec

        return fsspec.core.url_to_fs(url)
    except ImportError as err:  # fsspec itself, or its implementation of the scheme (s3fs, gcsfs)
        raise ArchiveError(f"{url}: {needs_extra(f'reading {scheme}:// URLs', STORAGE, err)}") from None
    except ValueError as err:  # a scheme fsspec does not know
        raise ArchiveError(f"{url}: {err}") from None


def _open_storage(url: str) -> io.RawIOBase:
    """The object, unbuffered as `io.BufferedReader` takes it: an fsspec file reads into a buffer
    (`readinto`), fetching blocks of its own as it goes."""
    fs, path = _filesystem(url)
    return cast(io.RawIOBase, fs.open(path, "rb"))


def storage_install_command() -> str:
    """The pip command that brings the `storage` extra."""
    return install_command(STORAGE)
