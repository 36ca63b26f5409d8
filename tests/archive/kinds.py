"""RudderStack's file kinds, built by code from one small set of events, as rudder-server would write them.

`SDK_EVENTS` are what an SDK sends in one `/v1/batch` request (identify, track, page, Order Completed, group).
`STORED` is what rudder-server's gateway stores for that request, by iterable_sim's gateway
(`pipeline.gateway.read_request`, rudder-server gateway/handle.go:301-553) at a fixed clock and IP: each
job's event (`rudderId`, `receivedAt`, `request_ip` added), user_id, receivedAt and requestIP. Every kind is
written from these (formats.md sections 3 and 4; pipeline.md section 1):

- plain JSONL: the stored events, one a line;
- a gateway archive at the archiver's object path, one `{"userId", "payload", "createdAt", "messageId"}` line
  per job, the payload in Go's JSON (keys sorted, archiver/worker.go:217-229);
- a legacy gw_jobs dump: one jsonb row per job, keys in jsonb's order (jobsdb/backup.go:468-523 at 99d085d9);
- `/v1/batch` bodies (two, one a line) and an SDK batch capture (`sentAt`, `writeKey` beside `batch`,
  gzipped): the SDK's events, as sent; an Event Replay body (one pretty-printed document): the stored events,
  as the replay sends archived events again.

Each writer takes `bad=True` to put one malformed line among the others (a line that is not JSON), so that
a test can see the rest still read.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from iterable_sim.pipeline.gateway import GatewayOptions, read_request, uuid4_source
from iterable_sim.pipeline.gojson import go_json
from iterable_sim.pipeline.gotime import parse_rfc3339

SOURCE_ID, WORKSPACE_ID, WRITE_KEY, INSTANCE_ID = "2bFsrc9Kq1", "2aWks0Zt7", "wk-1", "1"
RECEIVED_AT, REQUEST_IP = "2026-01-05T10:00:07.123Z", "203.0.113.7"
CREATED_AT = "2026-01-05T10:00:08.456789Z"  # the jobs' created_at as the database gives it back
ARCHIVE_NAME = f"1767607208_1767607208_{WORKSPACE_ID}_0b6f3c9e-4a1d-4c55-9a0e-2f7d0c1e9b11.json.gz"
ARCHIVE_FOLDER = f"rudder-saas/7dayretention/{SOURCE_ID}/gw/2026-01-05/10/{INSTANCE_ID}"
BAD_LINE = '{"userId": "u-9", oops'

_LIBRARY = {"name": "RudderLabs JavaScript SDK", "version": "3.11.0"}
_CONTEXT = {"library": _LIBRARY, "locale": "en-US", "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            "page": {"path": "/checkout", "url": "https://shop.example/checkout", "title": "Checkout"}}


def _event(kind: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "anonymousId": "a-1", "messageId": f"m-{n}", "channel": "web", "context": _CONTEXT,
            "originalTimestamp": f"2026-01-05T10:00:0{n}.000Z", "sentAt": "2026-01-05T10:00:05.000Z",
            "integrations": {"All": True}, **fields}


SDK_EVENTS: list[dict[str, Any]] = [
    _event("identify", 0, userId="u-1", traits={"email": "ada@example.com", "firstName": "Ada", "plan": "pro"}),
    _event("track", 1, userId="u-1", event="Product Viewed",
           properties={"product_id": "p-7", "name": "Kettle", "price": 24.5}),
    _event("page", 2, userId="u-1", name="Checkout", properties={"path": "/checkout", "title": "Checkout"}),
    _event("track", 3, userId="u-1", event="Order Completed",
           properties={"order_id": "o-1", "total": 42.5, "currency": "EUR",
                       "products": [{"product_id": "p-7", "name": "Kettle", "price": 24.5, "quantity": 1},
                                    {"product_id": "p-9", "name": "Mug", "price": 9, "quantity": 2}]}),
    _event("group", 4, userId="u-1", groupId="g-1", traits={"name": "Example Ltd", "employees": 40}),
]

_ACCEPTED = read_request(json.dumps({"batch": SDK_EVENTS}), endpoint="batch", options=GatewayOptions(
    received_at=parse_rfc3339(RECEIVED_AT), request_ip=REQUEST_IP, write_key=WRITE_KEY, source_id=SOURCE_ID,
    new_id=uuid4_source(1)))
assert _ACCEPTED.status == 200, _ACCEPTED.text
JOBS = _ACCEPTED.jobs
STORED: list[dict[str, Any]] = [job.event for job in JOBS]


def _write(path: Path, lines: list[str], *, gz: bool, bad: bool) -> Path:
    if bad:  # in the middle
        lines = lines[: len(lines) // 2] + [BAD_LINE] + lines[len(lines) // 2:]
    data = "".join(line + "\n" for line in lines).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def plain_jsonl(folder: Path, *, bad: bool = False) -> Path:
    return _write(folder / "events.jsonl", [json.dumps(event) for event in STORED], gz=False, bad=bad)


def gateway_archive(folder: Path, *, bad: bool = False) -> Path:
    """The archiver's file at its object path: `{"userId", "payload", "createdAt", "messageId"}` in that order."""
    lines = ['{"userId":%s,"payload":%s,"createdAt":%s,"messageId":%s}' % (
        go_json(job.user_id), go_json(job.event), go_json(CREATED_AT), go_json(job.event["messageId"]))
        for job in JOBS]
    return _write(folder / ARCHIVE_FOLDER / ARCHIVE_NAME, lines, gz=True, bad=bad)


def _jsonb(value: Any) -> Any:
    """jsonb's key order: shorter keys first, then by bytes (PostgreSQL's jsonb text output)."""
    if isinstance(value, dict):
        return {key: _jsonb(value[key]) for key in sorted(value, key=lambda k: (len(k.encode()), k.encode()))}
    if isinstance(value, list):
        return [_jsonb(item) for item in value]
    return value


def gateway_dump(folder: Path, *, bad: bool = False) -> Path:
    """A legacy `gw_jobs_<N>.<minJobID>.<maxJobID>.<minCreatedAtMs>.<maxCreatedAtMs>.<workspaceID>.gz` dump."""
    rows = [json.dumps(_jsonb({
        "job_id": 7 + n, "workspace_id": WORKSPACE_ID, "uuid": f"2f1c0d6e-0000-4000-8000-00000000000{n}",
        "user_id": job.user_id, "parameters": dict(job.parameters), "custom_val": job.custom_val,
        "event_payload": {"batch": [job.event], "requestIP": job.request_ip, "writeKey": job.write_key,
                          "receivedAt": job.received_at},
        "event_count": 1, "created_at": "2026-01-05T10:00:08.4567+00:00",
        "expire_at": "2026-01-15T10:00:08.4567+00:00"})) for n, job in enumerate(JOBS)]
    return _write(folder / "rudder-saas" / INSTANCE_ID / "gw_jobs_12.7.11.1767607208456.1767607208456.2aWks0Zt7.gz",
                  rows, gz=True, bad=bad)


def batch_bodies(folder: Path, *, bad: bool = False) -> Path:
    """Two `/v1/batch` request bodies, one a line."""
    bodies = [json.dumps({"batch": SDK_EVENTS[:2]}), json.dumps({"batch": SDK_EVENTS[2:]})]
    return _write(folder / "v1-batch-bodies.jsonl", bodies, gz=False, bad=bad)


def replay_body(folder: Path, *, bad: bool = False) -> Path:
    """An Event Replay body (`/internal/v1/replay`: the archived events, sent again), one pretty-printed
    document; with `bad`, two bodies one a line around the bad line (a bad line inside one document leaves
    no document to read)."""
    if bad:
        bodies = [json.dumps({"batch": STORED[:2]}), json.dumps({"batch": STORED[2:]})]
        return _write(folder / "replay-bodies.jsonl", bodies, gz=False, bad=True)
    return _write(folder / "replay-body.json", json.dumps({"batch": STORED}, indent=2).splitlines(), gz=False,
                  bad=False)


def sdk_capture(folder: Path, *, bad: bool = False) -> Path:
    """What an SDK sent to /v1/batch, captured with its batch-level fields, gzipped: two requests, one a line."""
    bodies = [json.dumps({"batch": SDK_EVENTS[:3], "sentAt": "2026-01-05T10:00:05.000Z", "writeKey": WRITE_KEY}),
              json.dumps({"sentAt": "2026-01-05T10:00:06.000Z", "batch": SDK_EVENTS[3:], "writeKey": WRITE_KEY})]
    return _write(folder / "sdk-capture.jsonl.gz", bodies, gz=True, bad=bad)


# kind name -> (writer, the events it holds, through a gateway already)
KINDS = {
    "plain JSONL": (plain_jsonl, STORED, False),
    "gateway archive": (gateway_archive, STORED, True),
    "gw_jobs dump": (gateway_dump, STORED, True),
    "/v1/batch bodies": (batch_bodies, SDK_EVENTS, False),
    "Event Replay body": (replay_body, STORED, False),
    "SDK batch capture": (sdk_capture, SDK_EVENTS, False),
}
