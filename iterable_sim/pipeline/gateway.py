"""rudder-server's gateway, as far as it decides what an event looks like when it is stored.

Everything here follows `getJobDataFromRequest` (`gateway/handle.go:301-553`) and the request handlers
around it (`gateway/handle_http.go`, `gateway/import_handler.go`), at rudder-server f2655fbbe; see
`docs/pipeline.md` and ../shared/rudderstack/server/pipeline.md section 1. HTTP authentication (write keys,
source and replay-source checks), rate limiting, concurrency limits and storage are not reproduced: a
request given to `read_request` is taken as authenticated for the write key and source it names.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Collection, Mapping, Sequence

from iterable_sim.clock import SystemClock
from iterable_sim.pipeline.gojson import (InvalidJSON, as_gateway_values, clean_identifier, decode_body, go_json,
                                          sanitize_unicode, trim_space)
from iterable_sim.pipeline.gotime import GoTime

# Texts and HTTP codes of gateway/response/response.go:8-126 that iterable_sim's reading can produce.
OK = "ok"
REQUEST_BODY_NIL = "request body is nil"
INVALID_JSON = "invalid json"
NOT_RUDDER_EVENT = "event is not a valid rudder event"
NON_IDENTIFIABLE = "request neither has anonymousId nor userId"
TOO_LARGE = "request size exceeds max limit"
EMPTY_BATCH = "empty batch payload"
STATUS_OF_TEXT = MappingProxyType({  # gateway/response/response.go:88-126
    OK: 200, REQUEST_BODY_NIL: 400, INVALID_JSON: 400, NOT_RUDDER_EVENT: 400, NON_IDENTIFIABLE: 400,
    TOO_LARGE: 413, EMPTY_BATCH: 400,
})

DELIMITER = "<<>>"  # gateway/gateway.go:17
CUSTOM_VAL = "GW"  # gateway/gateway.go:22
EXTRACT_EVENT, RETL_EVENT = "extract", "record"  # gateway/gateway.go:20-21: allowed without ids
MAX_REQUEST_BYTES = 4000 * 1024  # Gateway.maxReqSizeInKB default 4000 (gateway/handle_lifecycle.go:104)
# Routes whose request type is fixed by the route; the body is one event (gateway/handle_http.go:27-68).
SINGLE_EVENT_ENDPOINTS = frozenset({"alias", "audiencelist", "extract", "group", "identify", "merge", "page",
                                    "screen", "track"})
# Request types whose body is already {"batch": [...]} and whose events keep their own type (handle.go:337).
BATCH_REQUEST_TYPES = frozenset({"batch", "replay", "retl"})
# sjson.SetRawBytes(batchEvent, "batch.0", body) around a single event (gateway/gateway.go:27-32): the
# template's "[\n\t\t]" becomes "[" + body + "]".
_WRAPPER_BYTES = len('\n\t{\n\t\t"batch": [\n\t\t]\n\t}\n') - len("[\n\t\t]") + len("[]")


def request_ip(headers: Mapping[str, str] | None, remote_addr: str) -> str:
    """go-kit `httputil.GetRequestIP` (go-kit@httputil/client.go:38-46, used at gateway/handle.go:688): the first
    `X-Forwarded-For` entry with spaces removed, else `RemoteAddr` without its last `:port`."""
    forwarded = ""
    for name, value in (headers or {}).items():
        if str(name).lower() == "x-forwarded-for":  # Header.Get is case-insensitive
            forwarded = str(value)
            break
    first = forwarded.split(",")[0]
    if first == "":
        return ":".join(remote_addr.split(":")[:-1])
    return first.replace(" ", "")


def rudder_id(user_id: str, anonymous_id: str) -> str:
    """`rudderId`: MD5 of `userId + ":" + anonymousId` (the cleaned strings) with the UUID version 4 and
    RFC 4122 variant bits set (gateway/handle.go:428-433, 1053-1060; go-kit@uuid/uuid.go:10-30)."""
    digest = bytearray(hashlib.md5(f"{user_id}:{anonymous_id}".encode("utf-8", "surrogatepass")).digest())
    digest[8] = digest[8] & 0x3F | 0x80
    digest[6] = digest[6] & 0x0F | 0x40
    return str(uuid.UUID(bytes=bytes(digest)))


def job_user_id(anonymous_id_header: str, anonymous_id: str, user_id: str) -> str:
    """The gateway job's UserID (`buildUserID`, gateway/handle.go:566-571)."""
    return f"{anonymous_id_header}{DELIMITER}{anonymous_id or user_id}{DELIMITER}{user_id}"


def clean_message_id(value: Any, new_id: Callable[[], str]) -> str:
    """`fillMessageID` (gateway/handle.go:320-328): a string is sanitized and trimmed; a non-string or an empty
    result is replaced by a new random UUID v4 (`new_id`)."""
    text = trim_space(sanitize_unicode(value)) if isinstance(value, str) else ""
    return text or new_id()


def uuid4_source(seed: int | None = None) -> Callable[[], str]:
    """New UUID v4 strings: random, or from a seeded generator so that runs repeat exactly."""
    if seed is None:
        return lambda: str(uuid.uuid4())
    import random
    generator = random.Random(seed)
    return lambda: str(uuid.UUID(int=generator.getrandbits(128), version=4))


@dataclass(frozen=True)
class GatewayJob:
    """One stored gateway job (gateway/handle.go:509-549): one event, as rudder-server keeps it."""

    event: dict[str, Any] = field(compare=False)
    user_id: str
    request_ip: str  # EventPayload.requestIP: the request IP after the whole batch was read
    received_at: str  # EventPayload.receivedAt: gateway time, or a replay source's own receivedAt
    write_key: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict, compare=False)
    custom_val: str = CUSTOM_VAL


@dataclass(frozen=True)
class GatewayResponse:
    """What the gateway answers a request, and the jobs it stores."""

    status: int
    text: str
    jobs: tuple[GatewayJob, ...] = ()

    @property
    def http_body(self) -> str:
        """The HTTP body: `ok` on success, otherwise the text and a newline (`http.Error`, handle_http.go:102-115)."""
        return self.text if self.status == 200 else self.text + "\n"


@dataclass(frozen=True)
class GatewayOptions:
    """The request context and gateway settings `read_batch` needs (all optional)."""

    received_at: GoTime | None = None  # the gateway's clock; None: now, from the system clock
    request_ip: str = ""
    anonymous_id_header: str = ""
    write_key: str = ""
    source_id: str = ""
    source_category: str = "eventStream"  # gateway/handle_http_auth.go:251-253: no category -> eventStream
    destination_id: str = ""
    job_run_id: str = ""
    task_run_id: str = ""
    traceparent: str = ""
    replay_source: bool = False
    allow_without_ids: bool = False  # Gateway.allowReqsWithoutUserIDAndAnonymousID (default false)
    suppressed_user_ids: Collection[str] = frozenset()
    max_request_bytes: int = MAX_REQUEST_BYTES
    new_id: Callable[[], str] = field(default_factory=uuid4_source)


@dataclass(frozen=True)
class BatchRead:
    """`getJobDataFromRequest`'s result: the jobs, or the text of the error that rejects the whole request
    (None when it is accepted; `suppressed` when every event belonged to a suppressed user)."""

    jobs: tuple[GatewayJob, ...]
    error: str | None = None
    suppressed: bool = False


def batch_elements(batch: Any) -> list[Any]:
    """gjson `Result.Array()` of the body's `batch`: missing or null -> none, an array -> its elements,
    anything else -> that one value (tidwall/gjson v1.19.0 gjson.go:202-211)."""
    if batch is None:
        return []
    return list(batch) if isinstance(batch, list) else [batch]


# No character of a decoded value takes more than 6 bytes in Go's encoding ("\\u003c" for "<"), and no
# number more than 6 times its shortest form (1e+20 is written 100000000000000000000): a bound on a body's
# length from Python's (C) encoder, which is far faster than go_json.
_MAX_GROWTH = 6


def size_for_limit(batch: Sequence[Any], limit: int = MAX_REQUEST_BYTES) -> int:
    """The length of the body `{"batch": batch}` as `read_batch`'s `body_bytes`, for its size limit: exact
    when the body may be over `limit`, else 0 (a bound shows that it is not), so that only large batches
    pay for encoding them as Go does."""
    try:
        bound = _MAX_GROWTH * len(json.dumps({"batch": batch}, ensure_ascii=False, check_circular=False))
    except (TypeError, ValueError):  # values JSON does not have: measure them as Go writes them
        bound = limit + 1
    if bound <= limit:
        return 0
    return len(go_json({"batch": batch}).encode("utf-8", "surrogatepass"))


def read_batch(events: Sequence[Any], options: GatewayOptions, *, body_bytes: int = 0) -> BatchRead:
    """The per-event part of `getJobDataFromRequest` (gateway/handle.go:346-553) over the decoded elements of a
    request's `batch` (not modified: each stored event is a copy). `body_bytes` is the request body's length
    after a single event was wrapped, for the size limit."""
    clock_time = options.received_at if options.received_at is not None else GoTime.from_unix(SystemClock().now())
    now = clock_time.format_milli()
    ip_addr = options.request_ip
    job_run_id, task_run_id = options.job_run_id, options.task_run_id
    kept: list[tuple[str, dict[str, Any]]] = []
    suppressed = contains_audience_list = False
    for index, element in enumerate(events):
        if not isinstance(element, dict):  # handle.go:366-370
            return BatchRead((), NOT_RUDDER_EVENT)
        event = as_gateway_values(element)  # a copy holding what gjson's Value() holds
        anonymous_id = clean_identifier(event.get("anonymousId"))  # handle.go:372-373
        user_id = clean_identifier(event.get("userId"))
        event_type = event.get("type") if isinstance(event.get("type"), str) else ""
        if (event_type not in (EXTRACT_EVENT, RETL_EVENT) and not anonymous_id and not user_id
                and not options.allow_without_ids):  # handle.go:379-382, 555-564
            return BatchRead((), NON_IDENTIFIABLE)
        if index == 0:
            job_run_id, task_run_id = _sources_run_ids(event, job_run_id, task_run_id)
        if user_id in options.suppressed_user_ids:  # handle.go:423-426 (by userId)
            suppressed = True
            continue
        ip_addr = _enrich(event, user_id, anonymous_id, now, ip_addr, options.new_id)
        contains_audience_list = contains_audience_list or event_type == "audiencelist"
        kept.append((job_user_id(options.anonymous_id_header, anonymous_id, user_id), event))
    if not kept and suppressed:  # handle.go:474-477: 200 ok, nothing stored
        return BatchRead((), None, suppressed=True)
    if body_bytes > options.max_request_bytes and not contains_audience_list:  # handle.go:479-482
        return BatchRead((), TOO_LARGE)
    parameters = _job_parameters(options, job_run_id, task_run_id)
    jobs = []
    for user_id, event in kept:  # handle.go:509-549
        received_at = event["receivedAt"] if options.replay_source and isinstance(event["receivedAt"], str) else now
        jobs.append(GatewayJob(event=event, user_id=user_id, request_ip=ip_addr, received_at=received_at,
                               write_key=options.write_key, parameters=MappingProxyType(dict(parameters))))
    return BatchRead(tuple(jobs))


def _sources_run_ids(event: dict[str, Any], job_run_id: str, task_run_id: str) -> tuple[str, str]:
    """handle.go:384-394: the first event's `context.sources` run ids, where set, win over the request's."""
    context = event.get("context")
    sources = context.get("sources") if isinstance(context, dict) else None
    if isinstance(sources, dict):
        if isinstance(sources.get("job_run_id"), str) and sources["job_run_id"]:
            job_run_id = sources["job_run_id"]
        if isinstance(sources.get("task_run_id"), str) and sources["task_run_id"]:
            task_run_id = sources["task_run_id"]
    return job_run_id, task_run_id


def _enrich(event: dict[str, Any], user_id: str, anonymous_id: str, now: str, ip_addr: str,
            new_id: Callable[[], str]) -> str:
    """What the gateway sets on a stored event (handle.go:428-447); returns the request's IP after it, since
    an event's own `request_ip` becomes the request's."""
    event["rudderId"] = rudder_id(user_id, anonymous_id)  # handle.go:428-433
    if "receivedAt" not in event:  # handle.go:434-436
        event["receivedAt"] = now
    if "request_ip" in event:  # handle.go:437-446
        ip_addr = event["request_ip"] if isinstance(event["request_ip"], str) else ""
    else:
        event["request_ip"] = ip_addr
    event["messageId"] = clean_message_id(event.get("messageId"), new_id)  # handle.go:447
    return ip_addr


def _job_parameters(options: GatewayOptions, job_run_id: str, task_run_id: str) -> dict[str, Any]:
    """A job's parameters (handle.go:484-493)."""
    parameters = {"source_id": options.source_id, "source_job_run_id": job_run_id,
                  "source_task_run_id": task_run_id, "traceparent": options.traceparent,
                  "source_category": options.source_category}
    if options.destination_id:
        parameters["destination_id"] = options.destination_id
    return parameters


def _respond(text: str, jobs: tuple[GatewayJob, ...] = ()) -> GatewayResponse:
    # gateway/response/response.go:134-150: a text not in the table is answered with 500, as it is.
    return GatewayResponse(STATUS_OF_TEXT.get(text, 500), text, jobs)


def _single_event_body(value: Any, endpoint: str, raw_length: int) -> tuple[Any, int] | None:
    """The body of a single-event route after `sjson.SetBytes(body, "type", reqType)` and the wrapping into a
    batch (handle.go:337-344), with its length; None where sjson fails (a JSON array)."""
    if isinstance(value, list):
        return None
    if isinstance(value, dict):
        event = dict(value)
        old = event.get("type")
        if "type" in event:
            grown = len(go_json(endpoint)) - len(go_json(old))
        else:
            grown = len(f'"type":{go_json(endpoint)}') + (1 if event else 0)
        event["type"] = endpoint
    else:  # sjson replaces a JSON scalar by a new object
        event, grown = {"type": endpoint}, len(f'{{"type":{go_json(endpoint)}}}') - raw_length
    return {"batch": [event]}, raw_length + grown + _WRAPPER_BYTES


def _gjson_string(value: Any) -> str:
    """gjson `Result.String()` of a decoded value, as `/v1/import` groups events by user (import_handler.go:53-56)."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # strconv.FormatFloat(f, 'f', -1, 64): never an exponent
        text = format(Decimal(repr(value)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return go_json(value)


def read_request(body: bytes | str | None, *, endpoint: str = "batch",
                 options: GatewayOptions | None = None) -> GatewayResponse:
    """What rudder-server's gateway answers a request to `/v1/<endpoint>` (or `replay`, `retl`), and the jobs
    it stores: body checks, the single-event wrapping, the per-event enrichment, then `empty batch payload`
    (gateway/handle.go:252-255) when nothing is left. `import` groups the events by user and answers with
    the joined texts of the groups (gateway/import_handler.go:23-80)."""
    options = options or GatewayOptions()
    if body is None:  # handle.go:654-673
        return _respond(REQUEST_BODY_NIL)
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    try:
        value = decode_body(raw)
    except InvalidJSON:  # handle.go:331-334
        return _respond(INVALID_JSON)
    if endpoint == "import":
        return _read_import(value, options)
    body_bytes = len(raw)
    if endpoint not in BATCH_REQUEST_TYPES:
        wrapped = _single_event_body(value, endpoint, len(raw))
        if wrapped is None:
            return _respond(NOT_RUDDER_EVENT)
        value, body_bytes = wrapped
    batch = value.get("batch") if isinstance(value, dict) else None
    return _answer(read_batch(batch_elements(batch), options, body_bytes=body_bytes))


def _answer(read: BatchRead) -> GatewayResponse:
    if read.error is not None:
        return _respond(read.error)
    if read.suppressed:  # handle.go:230-232: no error, 200 ok
        return _respond(OK)
    if not read.jobs:
        return _respond(EMPTY_BATCH)
    return _respond(OK, read.jobs)


def _read_import(value: Any, options: GatewayOptions) -> GatewayResponse:
    if not isinstance(value, dict) or "batch" not in value:  # gjson ForEach: nothing to iterate
        elements: list[Any] = []
    elif isinstance(value["batch"], dict):  # over an object: its values
        elements = list(value["batch"].values())
    elif isinstance(value["batch"], list):
        elements = list(value["batch"])
    else:  # over a scalar or null: that one value
        elements = [value["batch"]]
    groups: dict[str, list[Any]] = {}
    for element in elements:
        user = element.get("userId") if isinstance(element, dict) else None
        anonymous = element.get("anonymousId") if isinstance(element, dict) else None
        groups.setdefault(rudder_id(_gjson_string(user), _gjson_string(anonymous)), []).append(element)
    texts: list[str] = []
    jobs: list[GatewayJob] = []
    for group in groups.values():  # each group is a "batch" request of its own
        size = len(go_json({"batch": group}))
        answer = _answer(read_batch(group, options, body_bytes=size))
        texts.append("" if answer.status == 200 else answer.text)
        jobs.extend(answer.jobs)
    text = "".join(texts)  # the groups' jobs are stored even when another group fails
    return _respond(text or OK, tuple(jobs))
