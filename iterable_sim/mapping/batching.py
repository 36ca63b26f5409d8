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

Older releases (Settings.rudderstack; iterable_sim.mapping.releases) route as their own code does:

- before v1.133.0 (rule no_type_grouping, fdd1f2de0 removed it): a group's jobs are first cut into
  message-type runs by groupEventsByType (src/v0/util/index.js), each run batched as above on its own
  (so many more, smaller batches, each run's errors after its batches). Since v1.103.0 (rule
  type_grouping_rewrite, 9332c75b5) a job joins the first run of its type at or after its user's
  (metadata.userId) last run, else starts a new one; before, runs are taken greedily: the first job
  left starts a run, which takes every later job of the same type until that job's user has had a
  job left behind.
- before v1.103.0 (rule config_grouping, 93dbc44ac): jobs are grouped by destination ID only (String
  of it, not `|| "default"`), so a group may mix Configs: a bulk request takes the URL and api_key of
  its chunk's first job, but a users/bulkUpdate request cut at the size limit those of the job that
  passed it (util.js prepareAndSplitUpdateUserBatchesBasedOnPayloadSize, `event.destination`).
- before v1.97.0 (rule track_bulk_chunks, bc7035849): events/trackBulk takes chunks of 8,000 events
  (TRACK_MAX_BATCH_SIZE: 8 times the chunk size) and is never split by size.
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

Job = tuple[Any, ...]  # (job id, RudderStack message, settings[, destination ID[, metadata.userId]])

_OLD_TRACK_CHUNKS = 8  # TRACK_MAX_BATCH_SIZE before v1.97.0: 8,000, eight times IDENTIFY_MAX_BATCH_SIZE

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
    batch, as in RudderStack (jobs without one count as one destination); and a fifth, its
    metadata.userId (rudder-server's user of the job), which releases before v1.133.0 keep in order when
    they group by message type (absent: undefined, as for a metadata without one). Every job id comes back in
    exactly one Batch. A job whose event cannot be mapped is a Batch with no requests, `status` and
    `error` from its MappingError; the other jobs go on. `max_items` and `max_bytes` are RudderStack's
    chunk size and size limit; lower them to see the splitting at work.
    """
    if max_items < 1 or max_bytes < 1:
        raise RouteError(f"max_items and max_bytes must be positive, got {max_items} and {max_bytes}")
    groups: dict[tuple[Any, ...], Any] = {}  # a _Group, or a _ReleaseGroup for an older release
    # id(settings) -> (settings, its Config key, or None for an older release); the ref keeps ids unique
    keys: dict[int, tuple[Settings, str | None]] = {}
    for job in jobs:
        job_id, message, settings = job[0], job[1], job[2]
        known = keys.get(id(settings))
        if known is None:
            if not isinstance(settings, Settings):
                raise SettingsTypeError(f"job {job_id!r}: the third item must be a Settings (Settings.from_rudder(config) "
                                        f"reads a RudderStack Config), not {type(settings).__name__}")
            release = settings.release
            modern = release.has("no_type_grouping") and release.has("config_grouping")
            known = keys[id(settings)] = (settings, settings.group_key if modern else None)
        if known[1] is None:
            _add_to_release_group(groups, job, settings)
            continue
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


def _add_to_release_group(groups: dict[tuple[Any, ...], Any], job: Job, settings: Settings) -> None:
    """A job of a release before v1.133.0 or v1.103.0 into its group (groupRouterTransformEvents of that
    release): by destination ID and Config from v1.103.0 (93dbc44ac), by String(destination ID) before."""
    release = settings.release
    if release.has("config_grouping"):
        key: tuple[Any, ...] = (job[3] if len(job) > 3 and job[3] else "default", settings.group_key, release.tag)
    else:  # lodash groupBy on [destination?.ID, ...]: the array's String, where undefined and null are ""
        destination = job[3] if len(job) > 3 else None
        key = ("" if destination is None or destination is UNDEFINED else js_string(destination), release.tag)
    group = groups.get(key)
    if group is None:
        group = groups[key] = _ReleaseGroup(settings)
    group.add_job(job)


class _ReleaseGroup:
    """The jobs of one group of an older release: mapped as they come, batched per message-type run
    (before v1.133.0) and, before v1.103.0, each request with the settings of the job RudderStack takes
    them from (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.release = settings.release
        # the user as groupEventsByType compares it: a Map key from v1.103.0, an object key (String) before
        self.user_key = _same_value_zero if self.release.has("type_grouping_rewrite") else js_string
        self.entries: list[tuple[Any, Any, Any, Settings, list[Request] | Batch]] = []  # (job, type, user, settings, out)

    def add_job(self, job: Job) -> None:
        job_id, message, settings = job[0], job[1], job[2]
        kind = _strict_key(message.get("type", UNDEFINED) if isinstance(message, dict) else UNDEFINED)
        user = self.user_key(job[4] if len(job) > 4 else UNDEFINED)
        try:
            out: list[Request] | Batch = map_event(message, settings)
        except MappingError as err:
            out = Batch([job_id], [], False, err.status, str(err))
        self.entries.append((job_id, kind, user, settings, out))

    def batches(self, max_items: int, max_bytes: int) -> Iterator[Batch]:
        release = self.release
        if release.has("no_type_grouping"):
            runs = [self.entries]
        elif release.has("type_grouping_rewrite"):
            runs = _type_runs(self.entries)
        else:
            runs = _type_runs_before_v1_103(self.entries)
        track_items = max_items if release.has("track_bulk_chunks") else _OLD_TRACK_CHUNKS * max_items
        track_bytes = max_bytes if release.has("track_bulk_chunks") else None
        for run in runs:
            yield from _run_batches(run, max_items, max_bytes, track_items, track_bytes)


def _type_runs(entries: list[Any]) -> list[list[Any]]:
    """groupEventsByType from v1.103.0 (9332c75b5): each job joins the first run of its message type
    (=== on _strict_key) at or after the last run of its user (metadata.userId, a Map key: _same_value_zero), else
    starts a new run."""
    runs: list[tuple[Any, list[Any]]] = []
    last_run: dict[Any, int] = {}
    for entry in entries:
        kind, user = entry[1], entry[2]
        target = -1
        for index in range(last_run.get(user, 0), len(runs)):
            if runs[index][0] == kind:
                target = index
                break
        if target == -1:
            target = len(runs)
            runs.append((kind, []))
        runs[target][1].append(entry)
        last_run[user] = target
    return [run for _, run in runs]


def _type_runs_before_v1_103(entries: list[Any]) -> list[list[Any]]:
    """groupEventsByType before v1.103.0: the first job left starts a run; each later job joins it when
    of the same type (===) and its user (String(metadata.userId), an object key: js_string) has had no job left
    behind in this pass; the jobs left behind make the next pass."""
    runs = []
    remaining = entries
    while remaining:
        first, rest = remaining[0], remaining[1:]
        run, left, held = [first], [], set()
        for entry in rest:
            user = entry[2]
            if entry[1] == first[1] and user not in held:
                run.append(entry)
            else:
                left.append(entry)
                held.add(user)
        runs.append(run)
        remaining = left
    return runs


def _strict_key(value: Any) -> Any:
    """A message type as a value whose == is JavaScript's ===: strings as they are, objects and arrays by
    identity, NaN equal to nothing, 1 === 1.0, true !== 1."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", value) if value == value else object()  # Python's 1 == 1.0, as JavaScript's
    if value is None or value is UNDEFINED:
        return (value is None, "nullish")
    return ("object", id(value))


def _same_value_zero(value: Any) -> Any:
    """A Map key as JavaScript's Map compares keys (SameValueZero): objects by identity, 1 and 1.0 alike."""
    if isinstance(value, (dict, list)):
        return ("object", id(value))
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", value if value == value else "NaN")
    if value is None or value is UNDEFINED:
        return (value is None, "nullish")
    return (type(value).__name__, value)


def _run_batches(run: list[Any], max_items: int, max_bytes: int, track_items: int,
                 track_bytes: int | None) -> Iterator[Batch]:
    """filterEventsAndPrepareBatchRequests of an older release over one run, each request taking the
    URL and headers of the job its code reads them from."""
    users: list[tuple[Any, Any, int, Settings]] = []
    events: list[tuple[Any, Any, int, Settings]] = []
    catalogs: list[tuple[Any, Request, Settings]] = []
    riders: dict[Any, Request] = {}
    singles: list[Batch] = []
    failed: list[Batch] = []
    for job_id, _, _, settings, out in run:
        if isinstance(out, Batch):
            failed.append(out)
            continue
        base = settings.base_url
        for request in out:
            url = request.url
            if url == base + "users/update":
                users.append((job_id, request.json, len(json_bytes(request.json)[0]), settings))
            elif "api/catalogs" in url:
                catalogs.append((job_id, request, settings))
            elif url in (base + _TOKEN_ENDPOINTS[0], base + _TOKEN_ENDPOINTS[1]):
                riders[_job_key(job_id)] = request
            elif "api/events/track" in url:
                events.append((job_id, request.json, len(json_bytes(request.json)[0]), settings))
            else:
                singles.append(Batch([job_id], [request], False))
    yield from _mixed_bulk(users, "users/bulkUpdate", "users", riders, max_items, max_bytes, split_by_next=True)
    for start in range(0, len(catalogs), max_items):
        chunk = catalogs[start:start + max_items]
        body = {"documents": _documents((_document(r.json) for _, r, _ in chunk)), "replaceUploadedFieldsOnly": True}
        yield Batch([job for job, _, _ in chunk], [Request("POST", chunk[0][1].url, chunk[0][2].headers, body)], True)
    yield from _mixed_bulk(events, "events/trackBulk", "events", {}, track_items, track_bytes, split_by_next=False)
    yield from singles
    yield from failed


def _mixed_bulk(items: list[tuple[Any, Any, int, Settings]], endpoint: str, list_key: str, riders: dict[Any, Request],
                max_items: int, max_bytes: int | None, *, split_by_next: bool) -> Iterator[Batch]:
    """_bulk for items that may hold different settings: a request takes those of its chunk's first item;
    with `split_by_next`, one cut at the size limit those of the item that passed it. No size split
    when `max_bytes` is None."""
    for chunk_start in range(0, len(items), max_items):
        chunk = items[chunk_start:chunk_start + max_items]
        spans = [(0, len(chunk))] if max_bytes is None else list(_size_spans([i[2] for i in chunk], max_bytes))
        for start, stop in spans:
            part = chunk[start:stop]
            owner = chunk[stop][3] if split_by_next and stop < len(chunk) else chunk[0][3]
            jobs = [job for job, _, _, _ in part]
            request = Request("POST", owner.base_url + endpoint, owner.headers, {list_key: [i[1] for i in part]})
            yield _bulk_batch(jobs, request, riders)


def _bulk(items: list[tuple[Any, Any, int]], url: str, headers: Any, list_key: str, riders: dict[Any, Request],
          max_items: int, max_bytes: int) -> Iterator[Batch]:
    """users/bulkUpdate or events/trackBulk batches (util.js batchUpdateUserEvents, batchTrackEvents)."""
    for chunk_start in range(0, len(items), max_items):
        chunk = items[chunk_start:chunk_start + max_items]
        for start, stop in _size_spans([size for _, _, size in chunk], max_bytes):
            part = chunk[start:stop]
            jobs = [job for job, _, _ in part]
            yield _bulk_batch(jobs, Request("POST", url, headers, {list_key: [item for _, item, _ in part]}), riders)


def _bulk_batch(jobs: list[Any], request: Request, riders: dict[Any, Request]) -> Batch:
    """A bulk request's batch: the request, then each of its jobs' token registration (a rider) as a call of
    its own carried by that job alone."""
    requests, carried = [request], [jobs]
    if riders:
        for job in jobs:
            rider = riders.get(_job_key(job))
            if rider is not None:
                requests.append(rider)
                carried.append([job])
    return Batch(jobs, requests, True, _carried=carried)


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
