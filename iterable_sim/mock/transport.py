"""The in-process adapter: an httpx transport, sync and async, in front of `MockIterable.handle`.

It subclasses `httpx.MockTransport` on purpose: vcrpy (>= 8.2) patches MockTransport's
`handle_request` / `handle_async_request`, so interactions with the mock are recorded into an
open cassette like real ones. The subclass therefore does all its work in the handler function
and only wraps the async method (calling up into it), never replacing what vcrpy patches.
"""
from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping

import httpx

from iterable_sim.clock import SystemClock

if TYPE_CHECKING:
    from iterable_sim.mock.contract import MockResponse, Served

_ASYNC_CALL = contextvars.ContextVar("iterable_sim_mock_async_call", default=False)
# Where MockTransport's own methods live, read off them as httpx defines them (httpx renames its classes'
# __module__ to "httpx", but not their methods'), before anything could have replaced them.
_HTTPX_MOCK_MODULE = httpx.MockTransport.handle_request.__module__


class MockIterableTransport(httpx.MockTransport):
    """`httpx.Client(transport=mock.transport())` (or AsyncClient) talks to the mock in-process.

    Injected latency waits on the mock's clock: a ManualClock just advances; the real clock sleeps
    (asynchronously under an AsyncClient); latency beyond the client's read timeout raises
    httpx.ReadTimeout. A dropped connection raises httpx.RemoteProtocolError."""

    def __init__(self, mock: Served) -> None:
        # one handler for both: httpx's types take a sync one or an async one, this answers with a Response
        # or (real-clock latency under an AsyncClient) an awaitable of one
        super().__init__(self._respond)  # type: ignore[arg-type]
        self.mock = mock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        token = _ASYNC_CALL.set(True)
        try:
            return await super().handle_async_request(request)
        finally:
            _ASYNC_CALL.reset(token)

    def calls_directly(self) -> bool:
        """Whether a client may give its calls to `call` / `acall`, without building httpx's Request
        and Response objects: only while nothing has patched MockTransport or this class (vcrpy
        patches MockTransport to record a cassette: every call then goes through httpx)."""
        return (_httpx_own(httpx.MockTransport.handle_request) and _httpx_own(httpx.MockTransport.handle_async_request)
                and type(self).handle_async_request is MockIterableTransport.handle_async_request
                and type(self).handle_request is httpx.MockTransport.handle_request)

    def _respond(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        answer = self.mock.handle(request.method, str(request.url), request.headers, request.content)
        clock = self.mock.clock
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        delay = _waited(answer, read_timeout)
        if delay > 0 and _ASYNC_CALL.get() and isinstance(clock, SystemClock):
            return self._after(clock.asleep(delay), answer, request, read_timeout)
        clock.sleep(delay)
        return _to_httpx(answer, request, read_timeout)

    def call(self, method: str, url: str, headers: Mapping[str, str], body: bytes, read_timeout: float | None,
             request: Callable[[], httpx.Request]) -> MockResponse:
        """What `handle_request` does, given the request's parts as httpx would send them (its URL, all
        its headers): the mock's answer, after its latency; `request()` builds the httpx.Request that
        a ReadTimeout or RemoteProtocolError carries."""
        answer = self.mock.handle(method, url, headers, body)
        self.mock.clock.sleep(_waited(answer, read_timeout))
        _raise_unanswered(answer, request, read_timeout)
        return answer

    async def acall(self, method: str, url: str, headers: Mapping[str, str], body: bytes,
                    read_timeout: float | None, request: Callable[[], httpx.Request]) -> MockResponse:
        """`call` from an AsyncClient: the real clock's latency is awaited, as `handle_async_request` does."""
        answer = self.mock.handle(method, url, headers, body)
        clock = self.mock.clock
        delay = _waited(answer, read_timeout)
        if delay > 0 and isinstance(clock, SystemClock):
            await clock.asleep(delay)
        else:
            clock.sleep(delay)
        _raise_unanswered(answer, request, read_timeout)
        return answer

    @staticmethod
    async def _after(wait: Awaitable[Any], answer: MockResponse, request: httpx.Request,
                     read_timeout: float | None) -> httpx.Response:
        await wait
        return _to_httpx(answer, request, read_timeout)


def _httpx_own(method: Any) -> bool:
    """Whether `method` is httpx's own, defined with MockTransport, not a replacement (vcrpy's keeps
    the name and module, and says what it wraps in __wrapped__)."""
    return getattr(method, "__module__", None) == _HTTPX_MOCK_MODULE and not hasattr(method, "__wrapped__")


def _waited(answer: MockResponse, read_timeout: float | None) -> float:
    """How long the client waits for the answer: its latency, at most the read timeout."""
    return answer.delay if read_timeout is None else min(answer.delay, read_timeout)


def _raise_unanswered(answer: MockResponse, request: Callable[[], httpx.Request], read_timeout: float | None) -> None:
    """Latency beyond the client's read timeout is a ReadTimeout, raised after the mock has acted on
    the request, as a slow Iterable would have; a dropped connection a RemoteProtocolError."""
    if read_timeout is not None and answer.delay > read_timeout:
        raise httpx.ReadTimeout(f"no answer within {read_timeout:g}s (the mock's injected latency is "
                                f"{answer.delay:g}s)", request=request())
    if answer.dropped:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request())


def _to_httpx(answer: MockResponse, request: httpx.Request, read_timeout: float | None) -> httpx.Response:
    """The answer as httpx would see it."""
    _raise_unanswered(answer, lambda: request, read_timeout)
    return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)
