"""Every interaction with the mock: request, answer and time. API keys are stored masked only.

Not thread-safe by itself: the mock records and reads it under its own lock."""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import orjson

from iterable_sim.redact import SECRET_HEADERS, mask

_QUERY_KEY = re.compile(r"(?i)([?&]api_key=)([^&#]*)")


def masked_url(url: str) -> str:
    """The URL with an `api_key` query parameter masked."""
    if "api_key=" not in url.lower():
        return url
    return _QUERY_KEY.sub(lambda m: m.group(1) + mask(m.group(2)), url)


def decoded_body(body: bytes) -> Any:
    """A journaled body as JSON when it is JSON, else as text; None when empty."""
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")


def _masked(headers: Mapping[str, Any]) -> dict[str, Any]:
    """masked_headers, for names already lower-cased: a copy with only the secret ones touched."""
    masked = dict(headers)
    for name in SECRET_HEADERS.intersection(masked):
        masked[name] = mask(masked[name])
    return masked


@dataclass(slots=True, frozen=True)
class JournalEntry:
    seq: int
    time: float
    data_center: str
    method: str
    url: str                       # masked
    endpoint: str | None           # the endpoint template, None for an unknown path
    api_key: str | None            # masked
    request_headers: dict[str, Any]  # masked
    request_body: bytes
    status: int | None             # None when the connection was dropped
    response_body: bytes
    fault: str | None
    latency: float


class Journal:
    """An append-only log, optionally capped to the last `limit` entries."""

    def __init__(self, limit: int | None = None) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._seq = 0

    def record(self, *, time: float, data_center: str, method: str, url: str, endpoint: str | None,
               api_key: str | None, headers: Mapping[str, Any], body: bytes, status: int | None,
               response_body: bytes, fault: str | None, latency: float) -> None:
        """`headers` with lower-cased names, as the mock has them."""
        self._seq += 1
        self._entries.append(JournalEntry(
            self._seq, time, data_center, method, masked_url(url), endpoint,
            None if api_key is None else mask(api_key), _masked(headers), body, status,
            response_body, fault, latency))

    @property
    def limit(self) -> int | None:
        """How many entries it keeps (the newest), None for all."""
        return self._entries.maxlen

    def copy(self) -> Journal:
        """A journal holding the same entries (entries are immutable, so they are shared)."""
        other = Journal(self.limit)
        other._entries.extend(self._entries)
        other._seq = self._seq
        return other

    def clear(self) -> None:
        self._entries.clear()

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
