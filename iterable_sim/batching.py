"""route(): many events -> the batches of Iterable requests RudderStack's router sends for them.

As RudderStack batches: identify -> users/bulkUpdate, track/page/screen -> events/trackBulk, reverse-ETL
catalog updates -> one catalogs/{name}/items call per catalog; a device or browser token registration
travels unbatched in its user's batch; purchases, carts and email changes stay single calls. Jobs are
grouped by their settings (equal settings share batches), and a bulk request holds at most 1,000
items. RudderStack splits a 1,000-item chunk where the summed JSON sizes of its items pass 4,000,000
bytes; here the sum also counts the separators and the body around the items, so a bulk body as
actually serialized never passes the limit. Each item is serialized once, to size it; the bulk body
is built from the dicts the mapping made.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from .collector import without_collector
from .jsvalues import UNDEFINED, js_string
from .limits import MAX_BODY_BYTES, MAX_BULK_ITEMS
from .mapping import map_event
from .request import MappingError, Request, json_bytes
from .settings import Settings

Job = tuple[Any, Any, Settings]  # (job id, RudderStack message, settings)

PAYLOAD_TOO_LARGE = 413

# The bytes a bulk body adds around its items, e.g. {"users":[ + items + ]}.
_USERS_FRAME = len(b'{"users":[]}')
_EVENTS_FRAME = len(b'{"events":[]}')
_DOCUMENTS_FRAME = len(b'{"documents":{},"replaceUploadedFieldsOnly":true}')


@dataclass(slots=True, repr=False)
class Batch:
    """Requests sent together for a set of jobs, or a job that failed mapping (no requests, its error)."""

    job_ids: list[Any]
    requests: list[Request]
    batched: bool
    status: int = 200
    error: str | None = None
    _carried: list[list[Any]] | None = field(default=None, compare=False)

    @property
    def request_job_ids(self) -> list[list[Any]]:
        """For each request, the jobs it carries: a bulk call carries them all, a token registration its own."""
        if self._carried is not None:
            return self._carried
        return [self.job_ids for _ in self.requests]

    def __repr__(self) -> str:
        shown = ", ".join(repr(j) for j in self.job_ids[:3])
        jobs = f"[{shown}, … {len(self.job_ids)} jobs]" if len(self.job_ids) > 3 else f"[{shown}]"
        if self.error is not None:
            return f"Batch(jobs={jobs}, status={self.status}, error={self.error!r})"
        calls = ", ".join(_describe(r) for r in self.requests)
        return f"Batch(jobs={jobs}, batched={self.batched}, requests=[{calls}])"


@without_collector
def route(jobs: Iterable[Job], *, max_items: int = MAX_BULK_ITEMS, max_bytes: int = MAX_BODY_BYTES) -> list[Batch]:
    """Map and batch `(job_id, message, settings)` jobs as RudderStack's router does.

    Every job id comes back in exactly one Batch. A job whose event cannot be mapped is a Batch with
    no requests, `status` and `error` from its MappingError; the other jobs go on. `max_items` and
    `max_bytes` are Iterable's limits for a bulk request; lower them to see the splitting at work.
    """
    if max_items < 1 or max_bytes < 1:
        raise ValueError(f"max_items and max_bytes must be positive, got {max_items} and {max_bytes}")
    groups: dict[Any, _Group] = {}
    unhashable: list[_Group] = []
    seen: dict[int, tuple[Settings, _Group]] = {}  # id(settings) -> (settings, its group); the ref keeps ids unique
    failed: list[Batch] = []
    for job_id, message, settings in jobs:
        known = seen.get(id(settings))
        if known is None:
            group = _group_for(settings, groups, unhashable, job_id)
            seen[id(settings)] = (settings, group)
        else:
            group = known[1]
        try:
            requests = map_event(message, settings)
        except MappingError as err:
            failed.append(Batch([job_id], [], False, err.status, str(err)))
            continue
        group.add(job_id, requests)
    batches: list[Batch] = []
    for group in (*groups.values(), *unhashable):
        batches.extend(group.batches(max_items, max_bytes))
    batches.extend(failed)
    return batches


def _group_for(settings: Settings, groups: dict[Any, _Group], unhashable: list[_Group], job_id: Any) -> _Group:
    """The group of jobs with settings equal to these; settings holding unhashable values are compared one by one."""
    if not isinstance(settings, Settings):
        raise TypeError(f"job {job_id!r}: the third item must be a Settings (Settings.from_rudder(config) reads a "
                        f"RudderStack Config), not {type(settings).__name__}")
    try:
        group = groups.get(settings)
    except TypeError:
        group = next((g for g in unhashable if g.settings == settings), None)
        if group is None:
            group = _Group(settings)
            unhashable.append(group)
        return group
    if group is None:
        group = groups[settings] = _Group(settings)
    return group


class _Items:
    """Bulk items of one kind: each job's item, its serialized size, and the requests riding with it."""

    __slots__ = ("jobs", "items", "sizes", "riders", "stdlib")

    def __init__(self) -> None:
        self.jobs: list[Any] = []
        self.items: list[Any] = []
        self.sizes: list[int] = []
        self.riders: list[list[Request]] = []
        self.stdlib: set[int] = set()  # items orjson refuses (integers beyond 64 bits): serialized by json instead

    def add(self, job_id: Any, item: Any, size: tuple[int, bool], riders: list[Request]) -> None:
        if size[1]:
            self.stdlib.add(len(self.items))
        self.jobs.append(job_id)
        self.items.append(item)
        self.sizes.append(size[0])
        self.riders.append(riders)


class _Group:
    """The jobs of one settings, sorted into users, catalog documents, track events and single calls."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        base = settings.base_url
        self.users_url = base + "users/update"
        self.track_url = base + "events/track"
        self.catalog_prefix = base + "catalogs/"
        self.users = _Items()
        self.events = _Items()
        self.catalogs: dict[str, _Items] = {}  # catalogs/{name}/items URL -> its documents
        self.singles: list[Batch] = []

    def add(self, job_id: Any, requests: list[Request]) -> None:
        first = requests[0]
        url = first.url
        if url == self.users_url:
            self.users.add(job_id, first.json, _json_size(first.json), requests[1:])
        elif url == self.track_url and len(requests) == 1:
            self.events.add(job_id, first.json, _json_size(first.json), [])
        elif url.startswith(self.catalog_prefix) and len(requests) == 1:
            key, update = _document(first.json)
            size = _json_size({key: update}) if update is not UNDEFINED else (0, False)
            self.catalogs.setdefault(url, _Items()).add(job_id, (key, update), (size[0] - 2, size[1]), [])
        else:
            self.singles.append(Batch([job_id], list(requests), False))

    def batches(self, max_items: int, max_bytes: int) -> Iterator[Batch]:
        headers = self.settings.headers
        base = self.settings.base_url
        yield from _bulk(self.users, base + "users/bulkUpdate", headers, "users", _USERS_FRAME, max_items, max_bytes)
        for url, documents in self.catalogs.items():
            yield from _bulk(documents, url, headers, None, _DOCUMENTS_FRAME, max_items, max_bytes)
        yield from _bulk(self.events, base + "events/trackBulk", headers, "events", _EVENTS_FRAME, max_items,
                         max_bytes)
        yield from self.singles


def _bulk(kind: _Items, url: str, headers: Any, list_key: str | None, frame: int, max_items: int,
          max_bytes: int) -> Iterator[Batch]:
    """The bulk batches of one kind of item; list_key None means catalog documents."""
    for start, stop in _spans(kind.sizes, kind.stdlib, frame, max_items, max_bytes):
        jobs = kind.jobs[start:stop]
        if stop - start == 1 and frame + kind.sizes[start] > max_bytes:
            yield Batch(jobs, [], False, PAYLOAD_TOO_LARGE,
                        f"the event is {kind.sizes[start]:,} bytes as JSON: a {url.split('/api/', 1)[-1]} request "
                        f"holds at most {max_bytes:,} bytes, so it cannot be sent")
            continue
        if list_key is None:
            body: dict[str, Any] = {"documents": _documents(kind.items[start:stop]), "replaceUploadedFieldsOnly": True}
        else:
            body = {list_key: kind.items[start:stop]}
        requests = [Request("POST", url, headers, body)]
        carried = [jobs]
        for job_id, riders in zip(jobs, kind.riders[start:stop]):
            for rider in riders:
                requests.append(rider)
                carried.append([job_id])
        yield Batch(jobs, requests, True, _carried=carried)


def catalog_documents(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The router's catalogs/{name}/items body for catalog items as the processor maps them
    ({catalogId, update} each): {documents: {id: update}, replaceUploadedFieldsOnly: true}."""
    return {"documents": _documents([_document(item) for item in items]), "replaceUploadedFieldsOnly": True}


def _document(item: dict[str, Any]) -> tuple[str, Any]:
    return js_string(item.get("catalogId", UNDEFINED)), item.get("update", UNDEFINED)  # a JS key: String(id)


def _documents(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    documents: dict[str, Any] = {}
    for key, update in pairs:
        if update is UNDEFINED:
            documents.pop(key, None)  # JavaScript sets the key to undefined, and JSON.stringify drops it
        else:
            documents[key] = update
    return documents


def _spans(sizes: list[int], stdlib: set[int], frame: int, max_items: int,
           max_bytes: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of each bulk request: chunks of max_items, each split where its body would pass max_bytes.

    An item orjson cannot serialize goes alone: its body is then serialized by the standard library,
    whose output for the other items could differ in length. An item too large to fit alone is a
    span of one whose size passes the limit (the caller fails it).
    """
    for chunk_start in range(0, len(sizes), max_items):
        chunk_stop = min(chunk_start + max_items, len(sizes))
        start = chunk_start
        body = frame
        for index in range(chunk_start, chunk_stop):
            size = sizes[index]
            if stdlib and index in stdlib:
                if index > start:
                    yield start, index
                yield index, index + 1
                start, body = index + 1, frame
                continue
            grown = body + size + (index > start)  # a comma before every item but the first
            if grown > max_bytes and index > start:
                yield start, index
                start, grown = index, frame + size
            body = grown
        if start < chunk_stop:
            yield start, chunk_stop


def _json_size(value: Any) -> tuple[int, bool]:
    """(bytes, serialized by the standard library), as Request.body_bytes serializes."""
    body, stdlib = json_bytes(value)
    return len(body), stdlib


def _describe(request: Request) -> str:
    body = request.json if isinstance(request.json, dict) else {}
    for key in ("users", "events", "documents"):
        if isinstance(body.get(key), (list, dict)):
            return f"{request.method} {request.endpoint} ({len(body[key])} {key})"
    return f"{request.method} {request.endpoint}"
