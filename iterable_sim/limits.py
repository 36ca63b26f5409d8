"""Iterable's documented limits, shared by the mock (which enforces them) and the client (which paces to them)."""
from __future__ import annotations

import re
from types import MappingProxyType

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

MAX_BODY_BYTES = 4_000_000
MAX_BULK_ITEMS = 1000

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
