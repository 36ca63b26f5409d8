"""What the mapping produces: Iterable API requests, and the error for an event it cannot map."""
from __future__ import annotations

import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

import orjson

from iterable_sim.exceptions import IterableSimError
from iterable_sim.limits import MAX_BODY_BYTES, MAX_CATALOG_ITEM_BYTES
from iterable_sim.redact import masked_headers


@dataclass(slots=True, eq=True)
class Request:
    """One Iterable API call: method, full URL, headers and JSON body."""

    method: str
    url: str
    headers: Mapping[str, Any]
    json: Any

    @property
    def endpoint(self) -> str:
        """The path after /api/, such as 'events/track'."""
        return self.url.split("/api/", 1)[-1]

    def body_bytes(self) -> bytes:
        """The JSON body as sent (compact, UTF-8)."""
        return json_bytes(self.json)[0]

    def __repr__(self) -> str:
        return (f"Request(method={self.method!r}, url={self.url!r}, headers={masked_headers(self.headers)!r}, "
                f"json={self.json!r})")


def endpoint_path(request: Request, release: Any = None) -> str | None:
    """The `endpointPath` RudderStack's transformer puts on `request` (rudder-server reads it for its stats;
    it is not sent to Iterable): the path after /api/, "catalogs" for every catalog call. None on a
    release (a Release, or a name Settings.rudderstack takes) before v1.108.0 (rule endpoint_path,
    840ba5cf0), which sets none."""
    from iterable_sim.mapping.releases import resolve_release  # releases imports nothing of the mapping

    if not resolve_release(release)[0].has("endpoint_path"):
        return None
    path = request.endpoint
    return "catalogs" if path.startswith("catalogs/") else path


def json_bytes(value: Any) -> tuple[bytes, bool]:
    """`value` as compact UTF-8 JSON, and whether the standard library had to write it: orjson
    refuses integers beyond 64 bits, which JSON allows."""
    try:
        return orjson.dumps(value), False
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), True


class MappingError(IterableSimError):
    """RudderStack would not send this event: `str(err)` is RudderStack's message, `status` its code.

    It also names the rule that failed, as glom's PathAccessError names the path of its spec: `spec`,
    the spec of mapping/specs/ the event took ("identify", "track", "page", ...; None for a check made
    before one is chosen); `field`, the destination field or what the check reads ("eventName",
    "email/userId", "type"); `origin`, the RudderStack file and entry the rule follows, or the file and
    function of the check ("transform.js process"). `rule` says all three in one line; repr shows it.
    """

    def __init__(self, message: str, status: int = 400, *, spec: str | None = None, field: str | None = None,
                 origin: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.spec = spec
        self.field = field
        self.origin = origin

    @property
    def rule(self) -> str:
        """The spec's field and where RudderStack has the rule: "track.json eventName (IterableTrackConfig.json
        eventName)", or "type (transform.js process)" for a check before any spec."""
        name = " ".join(part for part in (f"{self.spec}.json" if self.spec else None, self.field) if part)
        return f"{name} ({self.origin})" if name and self.origin else name or self.origin or ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status={self.status}, rule={self.rule!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.status), {"spec": self.spec, "field": self.field, "origin": self.origin})


# users/update and events/track bodies travel as items of a bulk call: {"users":[...]} / {"events":[...]}
_BULK_CALL = MappingProxyType({"users/update": ("users/bulkUpdate", b'{"users":[]}'),
                               "events/track": ("events/trackBulk", b'{"events":[]}')})


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
