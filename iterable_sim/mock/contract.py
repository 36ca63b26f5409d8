"""The mock's contract with its adapters and callers: what the httpx transport and the HTTP server need of
a mock (`Served`), what the mock answers (`MockResponse`), and what its set-up calls read of Settings and
requests (`KeyHolder`, `AddressedRequest`), so that the mock needs nothing of the mapping side."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol

import orjson

from iterable_sim.clock import Clock


class Served(Protocol):
    """What the adapters (transport.py, server.py) need of a mock: MockIterable, or a stand-in."""

    @property
    def clock(self) -> Clock: ...

    def handle(self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes = b"",
               *, client: str = "127.0.0.1", default_data_center: str = "US") -> MockResponse: ...


class KeyHolder(Protocol):
    """What `accept_keys_of` reads: iterable_sim.Settings, or anything with these two keys."""

    @property
    def api_key(self) -> Any: ...

    @property
    def register_device_or_browser_api_key(self) -> Any: ...


class AddressedRequest(Protocol):
    """What `create_catalogs_for` reads of a request: iterable_sim.Request, or alike."""

    @property
    def endpoint(self) -> str: ...

    @property
    def url(self) -> str: ...


@dataclass(slots=True)
class MockResponse:
    """What the mock answers. `dropped` means the connection closes with no answer at all;
    `delay` is injected latency the adapter waits on the mock's clock before answering."""

    status: int
    headers: dict[str, str]
    body: bytes
    delay: float = 0.0
    dropped: bool = False
    fault: str | None = field(default=None, repr=False)

    def json(self) -> Any:
        return orjson.loads(self.body)
