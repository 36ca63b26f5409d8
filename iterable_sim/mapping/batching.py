"""route(): many events -> the batches of Iterable requests RudderStack's router sends for them.

Each rule follows rudder-transformer c98d160c, src/v0/destinations/iterable (util.js, config.js,
transform.js processRouterDest) and groupRouterTransformEvents (src/v0/util/index.js):

- Jobs are grouped by destination ID and by their destination Config, stably stringified; groups
  come in the order of their first job.
- Within a group each request is sorted by its URL (util.js categorizeEvent): users/update ->
  users/bulkUpdate items; a URL holding api/catalogs -> catalog documents; a device or browser
  token registration -> sent unbatched in the batch of the users/update of the same job id;
  a URL holding api/events/track -> events/trackBulk items; anything else (purchases, carts, email
  changes) -> a call of its own. A job that cannot be mapped is a batch with its error.
- A group's batches come as util.js prepareBatchRequests orders them: users/bulkUpdate, catalogs,
  events/trackBulk, single calls, errors.
- Users and events go in chunks of 1,000 (INITIAL_CHUNK_SIZE); a chunk is split where the running
  sum of its items' JSON sizes (json-size) passes 4,000,000 bytes (MAX_BODY_BYTES): the item that
  passes starts the next request. When the first item of a chunk alone passes, RudderStack first
  sends an empty bulk request, with no job; an item larger than the limit is sent alone.
- Catalog documents of every catalog go together in chunks of 1,000 (CATALOG_MAX_ITEMS_PER_REQUEST),
  to the URL of the chunk's first document, as {documents: {String(catalogId): update},
  replaceUploadedFieldsOnly: true}; no size split.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from iterable_sim.collector import without_collector
from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping.jsvalues import UNDEFINED, js_string
from iterable_sim.limits import MAX_BODY_BYTES, MAX_BULK_ITEMS
from iterable_sim.mapping import map_event
from iterable_sim.mapping.request import MappingError, Request, json_bytes
from iterable_sim.mapping.settings import Settings, SettingsTypeError

Job = tuple[Any, ...]  # (job id, RudderStack message, settings[, destination ID])

_TOKEN_ENDPOINTS = ("users/registerDeviceToken", "users/registerBrowserToken")


class RouteError(IterableSimError, ValueError):
    """route() given a chunk size or size limit that is not positive."""


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

    A job may carry a fourth item, its destination ID: jobs of different destinations never share a
    batch, as in RudderStack (jobs without one count as one destination). Every job id comes back in
    exactly one Batch. A job whose event cannot be mapped is a Batch with no requests, `status` and
    `error` from its MappingError; the other jobs go on. `max_items` and `max_bytes` are RudderStack's
    chunk size and size limit; lower them to see the splitting at work.
    """
    if max_items < 1 or max_bytes < 1:
        raise RouteError(f"max_items and max_bytes must be positive, got {max_items} and {max_bytes}")
    groups: dict[tuple[Any, str], _Group] = {}
    keys: dict[int, tuple[Settings, str]] = {}  # id(settings) -> (settings, its Config key); the ref keeps ids unique
    for job in jobs:
        job_id, message, settings = job[0], job[1], job[2]
        known = keys.get(id(settings))
        if known is None:
            if not isinstance(settings, Settings):
                raise SettingsTypeError(f"job {job_id!r}: the third item must be a Settings (Settings.from_rudder(config) "
                                        f"reads a RudderStack Config), not {type(settings).__name__}")
            known = keys[id(settings)] = (settings, settings.group_key)
        destination = job[3] if len(job) > 3 and job[3] else "default"  # `destination.ID || "default"`
        group = groups.get((destination, known[1]))
        if group is None:
            group = groups[(destination, known[1])] = _Group(settings)
        try:
            requests = map_event(message, settings)
        except MappingError as err:
            group.failed.append(Batch([job_id], [], False, err.status, str(err)))
            continue
        group.add(job_id, requests)
    batches: list[Batch] = []
    for group in groups.values():
        batches.extend(group.batches(max_items, max_bytes))
    return batches


class _Group:
    """The jobs of one destination and Config, sorted as util.js filterEvents sorts them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        base = settings.base_url
        self.users_url = base + "users/update"
        self.track_url = base + "events/track"
        self.token_urls = tuple(base + endpoint for endpoint in _TOKEN_ENDPOINTS)
        self.users: list[tuple[Any, Any, int]] = []  # (job id, item, JSON size)
        self.events: list[tuple[Any, Any, int]] = []
        self.catalogs: list[tuple[Any, Request]] = []
        self.riders: dict[Any, Request] = {}  # a token registration, by its job id (the last one wins)
        self.singles: list[Batch] = []
        self.failed: list[Batch] = []

    def add(self, job_id: Any, requests: list[Request]) -> None:
        for request in requests:
            url = request.url
            if url == self.users_url:
                self.users.append((job_id, request.json, len(json_bytes(request.json)[0])))
            elif url == self.track_url:  # the common case first; it holds neither api/catalogs nor a token URL
                self.events.append((job_id, request.json, len(json_bytes(request.json)[0])))
            elif "api/catalogs" in url:
                self.catalogs.append((job_id, request))
            elif url in self.token_urls:
                self.riders[_job_key(job_id)] = request
            elif "api/events/track" in url:
                self.events.append((job_id, request.json, len(json_bytes(request.json)[0])))
            else:
                self.singles.append(Batch([job_id], [request], False))

    def batches(self, max_items: int, max_bytes: int) -> Iterator[Batch]:
        base, headers = self.settings.base_url, self.settings.headers
        yield from _bulk(self.users, base + "users/bulkUpdate", headers, "users", self.riders, max_items, max_bytes)
        for start in range(0, len(self.catalogs), max_items):
            chunk = self.catalogs[start:start + max_items]
            body = {"documents": _documents((_document(r.json) for _, r in chunk)), "replaceUploadedFieldsOnly": True}
            yield Batch([job for job, _ in chunk], [Request("POST", chunk[0][1].url, headers, body)], True)
        yield from _bulk(self.events, base + "events/trackBulk", headers, "events", {}, max_items, max_bytes)
        yield from self.singles
        yield from self.failed


def _bulk(items: list[tuple[Any, Any, int]], url: str, headers: Any, list_key: str, riders: dict[Any, Request],
          max_items: int, max_bytes: int) -> Iterator[Batch]:
    """users/bulkUpdate or events/trackBulk batches (util.js batchUpdateUserEvents, batchTrackEvents)."""
    for chunk_start in range(0, len(items), max_items):
        chunk = items[chunk_start:chunk_start + max_items]
        for start, stop in _size_spans([size for _, _, size in chunk], max_bytes):
            part = chunk[start:stop]
            jobs = [job for job, _, _ in part]
            requests = [Request("POST", url, headers, {list_key: [item for _, item, _ in part]})]
            carried = [jobs]
            if riders:
                for job in jobs:
                    rider = riders.get(_job_key(job))
                    if rider is not None:
                        requests.append(rider)
                        carried.append([job])
            yield Batch(jobs, requests, True, _carried=carried)


def _size_spans(sizes: list[int], max_bytes: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of each request of a chunk (util.js prepareAndSplit*BatchesBasedOnPayloadSize): where
    the running sum of item sizes passes max_bytes, the request so far goes (even when empty) and the
    passing item starts the next one."""
    total, start = 0, 0
    for index, size in enumerate(sizes):
        total += size
        if total > max_bytes:
            yield start, index
            start, total = index, size
    if start < len(sizes):
        yield start, len(sizes)


def _job_key(job_id: Any) -> Any:
    """A job id as a key of a JavaScript object (registerDeviceOrBrowserTokenEvents[jobId]): String(jobId)."""
    if job_id is None or isinstance(job_id, (str, int, float, bool, list, dict)):
        return js_string(job_id)
    return job_id


def catalog_documents(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The router's catalogs/{name}/items body for catalog items as the processor maps them
    ({catalogId, update} each): {documents: {id: update}, replaceUploadedFieldsOnly: true}."""
    return {"documents": _documents(_document(item) for item in items), "replaceUploadedFieldsOnly": True}


def _document(item: Any) -> tuple[str, Any]:
    if not isinstance(item, dict):
        return "undefined", UNDEFINED
    return js_string(item.get("catalogId", UNDEFINED)), item.get("update", UNDEFINED)  # a JS key: String(id)


_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")


def _documents(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """`documents[catalogId] = update` for each item, as a JavaScript object: a repeated id keeps its first
    place and its last value; ids that are array indexes ("7") come first, in numeric order; a key set
    to undefined is not written."""
    documents: dict[str, Any] = {}
    for key, update in pairs:
        documents[key] = update
    indexes = [key for key in documents if _ARRAY_INDEX.fullmatch(key) and int(key) < 2**32 - 1]
    if indexes:
        ordered = {key: documents[key] for key in sorted(indexes, key=int)}
        ordered.update((key, value) for key, value in documents.items() if key not in ordered)
        documents = ordered
    return {key: value for key, value in documents.items() if value is not UNDEFINED}


def _describe(request: Request) -> str:
    body = request.json if isinstance(request.json, dict) else {}
    for key in ("users", "events", "documents"):
        if isinstance(body.get(key), (list, dict)):
            return f"{request.method} {request.endpoint} ({len(body[key])} {key})"
    return f"{request.method} {request.endpoint}"
