"""Iterable's documented limits, shared by the mock (which enforces them) and the client (which paces to them);
and, apart, how many events iterable_sim holds at once when it streams (CHUNK_EVENTS)."""
from __future__ import annotations

from types import MappingProxyType

# "METHOD endpoint-template" -> requests per second, per project unless listed in PER_API_KEY.
RATE_LIMITS = MappingProxyType({
    "POST users/update": 500.0,
    "POST users/bulkUpdate": 5.0,
    "POST users/registerDeviceToken": 500.0,
    "POST events/track": 2000.0,
    "POST events/trackBulk": 10.0,
    "GET users/{email}": 100.0,
    "GET users/getByEmail": 100.0,  # api-notes.md: GET users/{email}, getByEmail, byUserId(+/{id}) 100/s
    "GET users/byUserId": 100.0,
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


# Not Iterable's: the events iterable_sim maps or sends at a time when it streams an archive (map --out, send),
# so that memory holds one chunk; the command line also reads this many before it decides an input is large.
CHUNK_EVENTS = 10_000
