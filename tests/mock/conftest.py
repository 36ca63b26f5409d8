"""Fixtures: a mock per project type, and an API client that reaches it either in-process (the
httpx transport) or over a real HTTP server (marked `server`)."""
from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

import httpx
import pytest

from iterable_sim.mock import ManualClock, MockIterable
from iterable_sim.mock.server import BackgroundServer

KEY = "test-server-key"
HOSTS = {"US": "api.iterable.com", "EU": "api.eu.iterable.com"}


class Api:
    """Calls Iterable's REST API paths on one mock, through one adapter."""

    def __init__(self, client: httpx.Client, base: str | None) -> None:
        self.client = client
        self._base = base  # None: in-process, the URL's host picks the data center

    def request(self, method: str, endpoint: str, json: Any = None, *, key: str | None = KEY, dc: str = "US",
                headers: dict[str, str] | None = None, content: bytes | None = None,
                params: dict[str, str] | None = None) -> httpx.Response:
        all_headers = {"api_key": key} if key is not None else {}
        all_headers.update(headers or {})
        if self._base is None:
            url = f"https://{HOSTS[dc]}/api/{endpoint}"
        else:
            url = f"{self._base}/api/{endpoint}"
            all_headers["host"] = HOSTS[dc]
        return self.client.request(method, url, json=json, content=content, headers=all_headers, params=params)

    def post(self, endpoint: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", endpoint, json, **kw)

    def get(self, endpoint: str, **kw: Any) -> httpx.Response:
        return self.request("GET", endpoint, **kw)

    def delete(self, endpoint: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", endpoint, **kw)

    def control(self, method: str, route: str, json: Any = None, **params: str) -> httpx.Response:
        """A control route (/_mock/<route>) of the mock."""
        base = "https://api.iterable.com" if self._base is None else self._base
        return self.client.request(method, f"{base}/_mock/{route}", json=json, params=params or None)

    def user(self, email: str | None = None, user_id: str | None = None, dc: str = "US") -> dict[str, Any]:
        """The profile as GET users/... returns it ({} when unknown)."""
        if email is not None:
            return self.get(f"users/{email}", dc=dc).json()
        answer = self.get(f"users/byUserId/{user_id}", dc=dc)
        if answer.status_code == 400 and answer.headers["content-type"].startswith("text/plain"):
            return {}  # Iterable's answer for an id no user holds: "No user with that id exists!"
        return answer.json()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(params=["inprocess", pytest.param("server", marks=pytest.mark.server)])
def adapter(request: pytest.FixtureRequest) -> str:
    return request.param


class MockSwitch:
    """Stands in for a MockIterable behind one server shared by the session: each test points it
    at its own mock, so server tests do not pay a server start and stop each."""

    target: MockIterable

    def handle(self, *args: Any, **kw: Any) -> Any:
        return self.target.handle(*args, **kw)

    @property
    def clock(self) -> Any:
        return self.target.clock


@pytest.fixture(scope="session")
def shared_server() -> Iterator[tuple[MockSwitch, str]]:
    switch = MockSwitch()
    with BackgroundServer(switch) as url:
        yield switch, url


@pytest.fixture
def connect(adapter: str, request: pytest.FixtureRequest) -> Iterator[Callable[[MockIterable], Api]]:
    """connect(mock) -> Api over the parametrized adapter."""
    with contextlib.ExitStack() as stack:
        def make(mock: MockIterable) -> Api:
            if adapter == "inprocess":
                return Api(stack.enter_context(httpx.Client(transport=mock.transport())), None)
            switch, url = request.getfixturevalue("shared_server")
            switch.target = mock
            return Api(stack.enter_context(httpx.Client(timeout=10)), url)
        yield make


@pytest.fixture
def make_mock(clock: ManualClock) -> Callable[..., MockIterable]:
    def make(project_type: str = "hybrid", **kw: Any) -> MockIterable:
        kw.setdefault("rate_limits", False)
        mock = MockIterable(project_type=project_type, clock=clock, **kw)
        mock.add_api_key(KEY)
        return mock
    return make


@pytest.fixture(params=["email", "userId", "hybrid"])
def project_type(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def mock(make_mock: Callable[..., MockIterable]) -> MockIterable:
    return make_mock("hybrid")


@pytest.fixture
def api(mock: MockIterable, connect: Callable[[MockIterable], Api]) -> Api:
    return connect(mock)
