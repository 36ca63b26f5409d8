"""Iterable's documented limits, shared by the mock (which enforces them) and the client (which paces to them)."""
from __future__ import annotations

import re
from types import MappingProxyType

from iterable_sim.mapping.request import Request, json_bytes

# "METHOD endpoint-template" -> requests per second, per project unless listed in PER_API_KEY.
RATE_LIMITS = MappingProxyType({
    "POST users/update": 500.0,
    "POST users/bulkUpdate": 5.0,
    "POST users/registerDeviceToken": 500.0,
    "POST events/track": 2000.0,
    "POST events/trackBulk": 10.0,
    "GET users/{email}": 100.0,
    "DELETE users/{email}": 100.0,
    "GET users/byUserId/{userId}": 100.0,
    "DELETE users/byUserId/{userId}": 100.0,
    "POST catalogs/{catalogName}/items": 100.0,
    "GET catalogs/{catalogName}/items": 100.0,
    "POST users/forget": 3.0,
    "GET users/getFields": 3.0,
})
PER_API_KEY = frozenset({"POST catalogs/{catalogName}/items", "GET catalogs/{catalogName}/items"})
DAILY_CAPS = MappingProxyType({"POST users/forget": 1000})

MAX_BODY_BYTES = 4_000_000  # RudderStack's limit for every Iterable request (Iterable documents 4 MB)
PAYLOAD_TOO_LARGE = 413  # the status of a request Iterable refuses for its size
MAX_BULK_ITEMS = 1000
MAX_CATALOG_ITEM_BYTES = 30 * 1024  # each catalog document: "each value <= 30 KB"

# users/update and events/track bodies travel as items of a bulk call: {"users":[...]} / {"events":[...]}
_BULK_CALL = MappingProxyType({"users/update": ("users/bulkUpdate", b'{"users":[]}'),
                               "events/track": ("events/trackBulk", b'{"events":[]}')})

_TEMPLATES = (
    (re.compile(r"^users/byUserId/[^/]+$"), "users/byUserId/{userId}"),
    (re.compile(r"^catalogs/[^/]+/items$"), "catalogs/{catalogName}/items"),
    (re.compile(r"^catalogs/[^/]+$"), "catalogs/{catalogName}"),
    (re.compile(r"^users/(?!update$|bulkUpdate$|updateEmail$|registerDeviceToken$|registerBrowserToken$|forget$"
                r"|getFields$|byUserId$)[^/]+$"), "users/{email}"),
)


def endpoint_template(method: str, path: str) -> str:
    """'POST catalogs/shoes/items' -> 'POST catalogs/{catalogName}/items' (path without /api/)."""
    for pattern, template in _TEMPLATES:
        if pattern.match(path):
            return f"{method.upper()} {template}"
    return f"{method.upper()} {path}"


def size_problem(request: Request) -> str | None:
    """Why Iterable would refuse `request` for its size however it is batched, or None when it fits:
    a body (alone in its bulk call) over MAX_BODY_BYTES, or a catalog item over MAX_CATALOG_ITEM_BYTES."""
    body = request.body_bytes()
    bulk = _BULK_CALL.get(request.endpoint)
    if len(body) + (len(bulk[1]) if bulk else 0) > MAX_BODY_BYTES:
        where = f"its {bulk[0]} call would pass" if bulk else "over"
        return (f"too large for Iterable: the {request.endpoint} body is {len(body):,} bytes as JSON, so {where} the "
                f"{MAX_BODY_BYTES:,} bytes a request may hold; it cannot be sent")
    update = request.json.get("update") if isinstance(request.json, dict) else None
    if request.endpoint.startswith("catalogs/") and update is not None:
        size = len(json_bytes(update)[0])
        if size > MAX_CATALOG_ITEM_BYTES:
            return (f"too large for Iterable: the catalog item is {size:,} bytes as JSON, and Iterable takes at most "
                    f"{MAX_CATALOG_ITEM_BYTES:,} bytes (30 KB) per item, so it cannot be sent")
    return None
