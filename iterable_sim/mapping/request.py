"""What the mapping produces: Iterable API requests, and the error for an event it cannot map."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

import orjson

from iterable_sim.exceptions import IterableSimError
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


def json_bytes(value: Any) -> tuple[bytes, bool]:
    """`value` as compact UTF-8 JSON, and whether the standard library had to write it: orjson
    refuses integers beyond 64 bits, which JSON allows."""
    try:
        return orjson.dumps(value), False
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode(), True


class MappingError(IterableSimError):
    """RudderStack would not send this event: `str(err)` is RudderStack's message, `status` its code."""

    def __init__(self, message: str, status: int = 400, *, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.status), {"field": self.field})
