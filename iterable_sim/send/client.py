"""Sending Iterable requests over HTTP: timeouts, retries with back-off, pacing at Iterable's rate limits.

`IterableClient` (sync) and `AsyncIterableClient` send one `Request` at a time and give back a
`Delivery`: the final HTTP answer (or the transport error) after any retries. Where requests go is
the request's own URL (api.iterable.com or api.eu.iterable.com), or `base_url` in its place (the
mock server, a proxy). Retries follow Iterable's and RudderStack's conventions: 429, 5xx and
connection errors are retried with exponential back-off and full jitter, honouring Retry-After;
any other 4xx is Iterable's verdict and is never retried. Once one call's every attempt found the connection
refused (nothing listening there), the client's later calls fail at once with that reason, untried: a send
to a server that is not running fails in seconds, not a back-off per call.
"""
from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import httpx
import orjson
from tenacity import AsyncRetrying, RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from iterable_sim.clock import Clock, SystemClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.limits import RATE_LIMITS
from iterable_sim.mock.urls import endpoint_template
from iterable_sim.mapping.request import Request

log = logging.getLogger(__name__)

RETRYABLE_TRANSPORT_ERRORS = (httpx.TransportError,)
NEVER_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport errors raised before the request left: Iterable cannot have acted on it."""


class RetryPolicyError(IterableSimError, ValueError):
    """A RetryPolicy that would never try at all (attempts below 1)."""


@dataclass(slots=True)
class Delivery:
    """What became of one request: Iterable's final answer, or the error that kept it from answering."""

    request: Request
    status: int | None  # None: no HTTP answer at all (connection refused or dropped, timeout)
    body: Any  # the answer's JSON, or its text when it is not JSON
    attempts: int
    error: str | None = None  # the transport error, when status is None
    waited: float = 0.0  # seconds spent pacing and backing off
    retries: list[str] = field(default_factory=list)  # why each retry happened, and the wait before it
    unanswered: int = 0  # attempts sent that got no answer (timeout, dropped connection) and were sent again

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts in all, and the back-off between them (seconds).

    The wait before retry n is drawn uniformly from [0, min(max_backoff, backoff * 2**(n-1))] ("full
    jitter"); `seed` makes those draws repeatable, for simulations that must read the same every run.
    """

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise RetryPolicyError("RetryPolicy.attempts must be at least 1 (1 means: never retry)")


class Pacer:
    """Spaces requests to each endpoint at Iterable's documented rate (GCRA: one slot every 1/rate s).

    A hand-written scheduler rather than a rate-limiting library, because it must wait on the same
    clock as the mock: with a ManualClock, pacing a large simulated send costs no real time.
    """

    def __init__(self, rates: Mapping[str, float] | None = None, *, clock: Clock | None = None) -> None:
        self.rates = dict(RATE_LIMITS if rates is None else rates)
        self.clock = clock or SystemClock()
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, endpoint: str) -> float:
        """Take the next free slot for `endpoint` ("POST events/track"); seconds to wait for it."""
        rate = self.rates.get(endpoint)
        if not rate:
            return 0.0
        with self._lock:
            now = self.clock.now()
            slot = max(now, self._next.get(endpoint, now))
            self._next[endpoint] = slot + 1.0 / rate
            return slot - now


class _Retry(IterableSimError):
    """An answer worth another try (429, 5xx)."""

    def __init__(self, response: httpx.Response | _Answer) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


_RETRYABLE = (_Retry, *RETRYABLE_TRANSPORT_ERRORS)


@dataclass(slots=True)
class _Answer:
    """An in-process mock's answer given without an httpx.Response: what delivery reads of one."""

    status_code: int
    raw_headers: dict[str, str]
    content: bytes

    @property
    def headers(self) -> httpx.Headers:
        return httpx.Headers(self.raw_headers)

    @property
    def text(self) -> str:
        return httpx.Response(self.status_code, headers=self.raw_headers, content=self.content).text


_WIRE_SHAPES_KEPT = 256


class _ClientCore:
    _http: httpx.Client | httpx.AsyncClient

    def __init__(self, *, base_url: str | None, timeout: float, retry: RetryPolicy | None,
                 pace: bool | Pacer, clock: Clock | None, preserve_host: bool) -> None:
        self.clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self._jitter = random.Random(self.retry.seed)
        self.base_url = base_url.rstrip("/") if base_url else None
        self.preserve_host = preserve_host
        self.timeout = httpx.Timeout(timeout)
        if pace is True:
            self.pacer: Pacer | None = Pacer(clock=self.clock)
        else:
            self.pacer = pace or None
        self._wire_shapes: dict[tuple[Any, ...], tuple[str, dict[str, str], str | None]] = {}
        self.refused: str | None = None  # why every attempt of a call was refused: later calls are not tried

    def untried(self, request: Request) -> Delivery | None:
        """The delivery of a call not tried, once an earlier call found the connection refused; else None."""
        if self.refused is None:
            return None
        return Delivery(request, None, None, 0, f"{self.refused} (not tried: an earlier call's every attempt "
                                                f"was refused)")

    def _direct(self, transport: Any) -> Any:
        """The mock's transport, when calls can go to it directly (see MockIterableTransport.calls_directly)."""
        return transport if callable(getattr(transport, "calls_directly", None)) else None

    def wire(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[str, dict[str, str]]:
        """The URL and every header httpx would send for this call (its defaults, Host, Content-Length):
        worked out by httpx itself once per URL and header set, then only Content-Length changes."""
        key = (method, url, *headers.items())
        shape = self._wire_shapes.get(key)
        if shape is None:
            built = self._http.build_request(method, url, headers=headers, content=body)
            sent = dict(built.headers.items())
            length = next((name for name in sent if name.lower() == "content-length"), None)
            if len(self._wire_shapes) >= _WIRE_SHAPES_KEPT:
                self._wire_shapes.clear()
            shape = self._wire_shapes[key] = (str(built.url), sent, length)
        wire_url, sent, length = shape
        sent = dict(sent)
        if length is not None:
            sent[length] = str(len(body or b""))
        return wire_url, sent

    def target(self, request: Request) -> tuple[str, dict[str, str]]:
        """The URL to call and the headers to send: the request's own, or moved onto base_url."""
        headers = {str(k): str(v) for k, v in request.headers.items()}
        if self.base_url is None:
            return request.url, headers
        parts = urlsplit(request.url)
        if self.preserve_host:  # one server can then stand in for both data centers
            headers["Host"] = parts.netloc
        return self.base_url + parts.path + (f"?{parts.query}" if parts.query else ""), headers

    def prepare(self, request: Request) -> tuple[str, dict[str, str], bytes | None, str]:
        """URL, headers and body to send, and the endpoint the pacer spaces it under."""
        url, headers = self.target(request)
        body = request.body_bytes() if request.method != "GET" else None
        return url, headers, body, endpoint_template(request.method, request.endpoint)

    def retrying_options(self, noted: list[tuple[str, float, bool]],
                         sleep: Callable[[float], Any]) -> dict[str, Any]:
        """tenacity's options, the same for the sync and the async client."""
        return {"stop": stop_after_attempt(self.retry.attempts), "wait": self.wait, "reraise": True,
                "retry": retry_if_exception_type(_RETRYABLE), "sleep": sleep, "before_sleep": _note_retry(noted)}

    def wait(self, state: RetryCallState) -> float:
        ceiling = min(self.retry.max_backoff, self.retry.backoff * 2 ** (state.attempt_number - 1))
        backoff = self._jitter.uniform(0, ceiling)
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retry):
            retry_after = _retry_after(error.response, self.clock.now())
            if retry_after is not None:
                return min(max(retry_after, 0.0), self.retry.max_retry_after)
        return backoff

    def check(self, response: httpx.Response | _Answer) -> httpx.Response | _Answer:
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retry(response)
        return response

    def finish(self, request: Request, outcome: httpx.Response | _Answer | BaseException, attempts: int, paced: float,
               noted: list[tuple[str, float, bool]]) -> Delivery:
        waited = paced + sum(wait for _, wait, _ in noted)
        retries = [f"{reason}, then waited {wait:.3f}s" for reason, wait, _ in noted]
        unanswered = sum(1 for _, _, silent in noted if silent)
        if isinstance(outcome, _Retry):
            outcome = outcome.response
        if isinstance(outcome, (httpx.Response, _Answer)):
            log.debug("%s %s -> %s after %d attempt(s)", request.method, request.url, outcome.status_code, attempts)
            return Delivery(request, outcome.status_code, _body(outcome), attempts, None, waited, retries, unanswered)
        log.debug("%s %s failed after %d attempt(s): %r", request.method, request.url, attempts, outcome)
        if isinstance(outcome, httpx.ConnectError):
            self.refused = f"{type(outcome).__name__}: {outcome}"
        return Delivery(request, None, None, attempts, f"{type(outcome).__name__}: {outcome}", waited, retries,
                        unanswered)


class IterableClient(_ClientCore):
    """Sends requests one at a time, synchronously. Use as a context manager, or call close()."""
    _http: httpx.Client

    def __init__(self, *, base_url: str | None = None, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0, retry: RetryPolicy | None = None, pace: bool | Pacer = True,
                 clock: Clock | None = None, preserve_host: bool = True) -> None:
        super().__init__(base_url=base_url, timeout=timeout, retry=retry, pace=pace, clock=clock,
                         preserve_host=preserve_host)
        self._http = httpx.Client(transport=transport, timeout=self.timeout)
        # An in-process transport (the mock's) is called directly: httpx.Client's cookie, redirect
        # and auth handling were a fifth of a send to the mock, and the mock sets no cookie and never
        # redirects. vcrpy patches the transport's handle_request, so cassettes still record it.
        self._in_process = transport if isinstance(transport, httpx.MockTransport) else None
        # The mock's own transport is called without httpx's Request and Response objects (a third
        # of a call): it gets the same URL, headers and bytes, and answers the same.
        self._mock_transport = self._direct(transport)

    def _request(self, method: str, url: str, headers: dict[str, str],
                 body: bytes | None) -> httpx.Response | _Answer:
        if self._in_process is None:
            return self._http.request(method, url, headers=headers, content=body)
        if self._mock_transport is not None and self._mock_transport.calls_directly():
            wire_url, sent = self.wire(method, url, headers, body)
            answer = self._mock_transport.call(
                method, wire_url, sent, body or b"", self.timeout.read,
                lambda: self._http.build_request(method, url, headers=headers, content=body))
            return _Answer(answer.status, answer.headers, answer.body)
        call = self._http.build_request(method, url, headers=headers, content=body)
        response = self._in_process.handle_request(call)
        response.read()
        return response

    def send(self, request: Request) -> Delivery:
        if (untried := self.untried(request)) is not None:
            return untried
        url, headers, body, endpoint = self.prepare(request)
        noted: list[tuple[str, float, bool]]  # (reason, wait, silent) per retry
        paced, noted, attempts = 0.0, [], 0
        first: list[BaseException] = []
        try:  # the first attempt; tenacity takes over only when it failed in a way worth retrying
            attempts += 1
            paced += self._pace(endpoint)
            outcome: httpx.Response | _Answer | BaseException = self.check(
                self._request(request.method, url, headers, body))
        except _RETRYABLE as error:
            first.append(error)
        if not first:
            return self.finish(request, outcome, attempts, paced, noted)
        try:
            for attempt in Retrying(**self.retrying_options(noted, self.clock.sleep)):
                with attempt:
                    if first:  # tenacity's attempt 1 is the one made above: it sees its failure
                        raise first.pop()
                    attempts += 1
                    paced += self._pace(endpoint)
                    outcome = self.check(self._request(request.method, url, headers, body))
        except _RETRYABLE as error:
            outcome = error
        return self.finish(request, outcome, attempts, paced, noted)

    def _pace(self, endpoint: str) -> float:
        """Wait for the endpoint's next slot at its rate limit; the seconds waited."""
        if self.pacer is None:
            return 0.0
        delay = self.pacer.reserve(endpoint)
        self.clock.sleep(delay)
        return delay

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "IterableClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncIterableClient(_ClientCore):
    """Sends requests concurrently from asyncio, at most `max_concurrency` at a time."""
    _http: httpx.AsyncClient

    def __init__(self, *, base_url: str | None = None, transport: httpx.AsyncBaseTransport | None = None,
                 timeout: float = 10.0, retry: RetryPolicy | None = None, pace: bool | Pacer = True,
                 clock: Clock | None = None, preserve_host: bool = True, max_concurrency: int = 8) -> None:
        super().__init__(base_url=base_url, timeout=timeout, retry=retry, pace=pace, clock=clock,
                         preserve_host=preserve_host)
        self._http = httpx.AsyncClient(transport=transport, timeout=self.timeout)
        self._slots = asyncio.Semaphore(max_concurrency)
        self._mock_transport = self._direct(transport)

    async def _request(self, method: str, url: str, headers: dict[str, str],
                       body: bytes | None) -> httpx.Response | _Answer:
        if self._mock_transport is not None and self._mock_transport.calls_directly():
            wire_url, sent = self.wire(method, url, headers, body)
            answer = await self._mock_transport.acall(
                method, wire_url, sent, body or b"", self.timeout.read,
                lambda: self._http.build_request(method, url, headers=headers, content=body))
            return _Answer(answer.status, answer.headers, answer.body)
        return await self._http.request(method, url, headers=headers, content=body)

    async def send(self, request: Request) -> Delivery:
        if (untried := self.untried(request)) is not None:
            return untried
        url, headers, body, endpoint = self.prepare(request)
        noted: list[tuple[str, float, bool]]  # (reason, wait, silent) per retry
        paced, noted, attempts = 0.0, [], 0
        first: list[BaseException] = []
        try:  # the first attempt; tenacity takes over only when it failed in a way worth retrying
            attempts += 1
            paced += await self._pace(endpoint)
            async with self._slots:
                response = await self._request(request.method, url, headers, body)
            outcome: httpx.Response | _Answer | BaseException = self.check(response)
        except _RETRYABLE as error:
            first.append(error)
        if not first:
            return self.finish(request, outcome, attempts, paced, noted)
        try:
            async for attempt in AsyncRetrying(**self.retrying_options(noted, self.clock.asleep)):
                with attempt:
                    if first:  # tenacity's attempt 1 is the one made above: it sees its failure
                        raise first.pop()
                    attempts += 1
                    paced += await self._pace(endpoint)
                    async with self._slots:
                        response = await self._request(request.method, url, headers, body)
                    outcome = self.check(response)
        except _RETRYABLE as error:
            outcome = error
        return self.finish(request, outcome, attempts, paced, noted)

    async def _pace(self, endpoint: str) -> float:
        if self.pacer is None:
            return 0.0
        delay = self.pacer.reserve(endpoint)
        await self.clock.asleep(delay)
        return delay

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "AsyncIterableClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _body(response: httpx.Response | _Answer) -> Any:
    try:
        return orjson.loads(response.content) if response.content else None
    except orjson.JSONDecodeError:
        return response.text


def _retry_after(response: httpx.Response | _Answer, now: float) -> float | None:
    """Retry-After in seconds (a number of seconds, or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - now
    except (TypeError, ValueError):  # neither seconds nor a date: back off as if it were absent
        return None


def _note_retry(retries: list[tuple[str, float, bool]]) -> Callable[[RetryCallState], None]:
    """A tenacity before_sleep hook that records why each retry happened, how long it waits, and
    whether the attempt may have reached Iterable without an answer coming back."""
    def note(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        reason = f"HTTP {error.response.status_code}" if isinstance(error, _Retry) else type(error).__name__
        silent = not isinstance(error, (_Retry, *NEVER_SENT_ERRORS))
        retries.append((reason, state.next_action.sleep if state.next_action else 0.0, silent))
    return note

