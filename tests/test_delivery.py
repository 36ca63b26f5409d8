"""IterableClient: retries, back-off, Retry-After, pacing and base URLs, against scripted transports."""
import asyncio
import email.utils
from typing import Any

import httpx
import pytest

from iterable_sim import Request
from iterable_sim.clock import ManualClock
from iterable_sim.send.client import AsyncIterableClient, IterableClient, Pacer, RetryPolicy

TRACK = Request("POST", "https://api.iterable.com/api/events/track", {"api_key": "k", "Content-Type": "application/json"},
                {"eventName": "e", "userId": "u"})


def scripted(*answers):
    """A transport answering with `answers` in turn (an int status, a Response, or an exception to raise)."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer if isinstance(answer, httpx.Response) else httpx.Response(answer, json={"code": "x", "msg": ""})
    return httpx.MockTransport(handler), calls


def client(transport, clock=None, **kw):
    return IterableClient(transport=transport, clock=clock or ManualClock(), **kw)


def test_success_first_time():
    transport, calls = scripted(200)
    delivery = client(transport).send(TRACK)
    assert delivery.ok and delivery.attempts == 1 and delivery.body == {"code": "x", "msg": ""}
    assert calls[0].headers["api_key"] == "k" and calls[0].url == TRACK.url


def test_5xx_is_retried_with_backoff_then_succeeds():
    clock = ManualClock()
    transport, calls = scripted(500, 503, 200)
    delivery = client(transport, clock).send(TRACK)
    assert delivery.status == 200 and delivery.attempts == 3 and len(calls) == 3
    assert [r.split(",")[0] for r in delivery.retries] == ["HTTP 500", "HTTP 503"]
    assert clock.now() > ManualClock().now()  # the back-off waited on the client's clock


def test_429_honours_retry_after():
    clock = ManualClock()
    start = clock.now()
    transport, _ = scripted(httpx.Response(429, headers={"Retry-After": "7"}, json={"code": "RateLimitExceeded"}), 200)
    delivery = client(transport, clock).send(TRACK)
    assert delivery.status == 200 and delivery.attempts == 2
    assert clock.now() - start == pytest.approx(7.0, abs=0.01)


@pytest.mark.parametrize("retry_after", ["soon", "Wed, 32 Foo 2026 99:00:00 GMT"])
def test_an_unreadable_retry_after_falls_back_to_backoff(retry_after):
    clock = ManualClock()
    start = clock.now()
    transport, _ = scripted(httpx.Response(429, headers={"Retry-After": retry_after}, json={"code": "x"}), 200)
    delivery = client(transport, clock, retry=RetryPolicy(backoff=0.5, seed=3)).send(TRACK)
    assert delivery.status == 200 and delivery.attempts == 2
    assert 0 <= clock.now() - start <= 0.5  # the first back-off, not a crash


def test_retry_after_as_an_http_date():
    clock = ManualClock()
    start = clock.now()
    when = email.utils.formatdate(start + 12, usegmt=True)
    transport, _ = scripted(httpx.Response(429, headers={"Retry-After": when}, json={"code": "x"}), 200)
    assert client(transport, clock).send(TRACK).status == 200
    assert clock.now() - start == pytest.approx(12, abs=1)


@pytest.mark.parametrize("status", [400, 401, 404, 409])
def test_4xx_is_never_retried(status):
    transport, calls = scripted(status, 200)
    delivery = client(transport).send(TRACK)
    assert delivery.status == status and delivery.attempts == 1 and len(calls) == 1


def test_connection_errors_and_timeouts_are_retried_then_reported():
    transport, calls = scripted(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x"))
    delivery = client(transport, retry=RetryPolicy(attempts=3)).send(TRACK)
    assert delivery.status is None and delivery.attempts == 3 and len(calls) == 3
    assert delivery.error.startswith("RemoteProtocolError")


def test_gives_up_after_the_last_attempt_with_the_last_answer():
    transport, calls = scripted(502)
    delivery = client(transport, retry=RetryPolicy(attempts=4)).send(TRACK)
    assert delivery.status == 502 and delivery.attempts == 4 and len(calls) == 4


def test_pacing_spaces_requests_at_the_endpoint_rate():
    clock = ManualClock()
    start = clock.now()
    transport, _ = scripted(200)
    bulk = Request("POST", "https://api.iterable.com/api/users/bulkUpdate", {"api_key": "k"}, {"users": []})
    with client(transport, clock) as c:
        for _ in range(11):
            c.send(bulk)
    assert clock.now() - start == pytest.approx(10 / 5)  # users/bulkUpdate: 5 per second


def test_pacer_leaves_unlisted_endpoints_alone():
    pacer = Pacer(clock=ManualClock())
    assert [pacer.reserve("POST commerce/trackPurchase") for _ in range(3)] == [0, 0, 0]
    assert pacer.reserve("POST events/trackBulk") == 0 and pacer.reserve("POST events/trackBulk") == pytest.approx(0.1)


def test_base_url_moves_the_request_and_keeps_the_iterable_host():
    transport, calls = scripted(200)
    eu = Request("POST", "https://api.eu.iterable.com/api/users/update", {"api_key": "k"}, {"userId": "u"})
    client(transport, base_url="http://127.0.0.1:9999/").send(eu)
    assert str(calls[0].url) == "http://127.0.0.1:9999/api/users/update"
    assert calls[0].headers["host"] == "api.eu.iterable.com"


def test_async_client_sends_concurrently_within_its_bound():
    in_flight, peak = 0, 0

    async def handler(request):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json={"code": "Success"})

    async def main():
        async with AsyncIterableClient(transport=httpx.MockTransport(handler), max_concurrency=3, pace=False) as c:
            return await asyncio.gather(*(c.send(TRACK) for _ in range(10)))

    deliveries = asyncio.run(main())
    assert all(d.ok for d in deliveries) and peak == 3


def test_an_in_process_transport_gets_the_request_as_httpx_sends_it_and_vcrpy_records_it(tmp_path):
    import vcr

    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(200, json={"code": "Success"})

    cassette_path = tmp_path / "in-process.yaml"
    with vcr.VCR(record_mode="all").use_cassette(str(cassette_path)) as cassette:
        with IterableClient(transport=httpx.MockTransport(handler), pace=False, timeout=3.0) as client:
            delivery = client.send(TRACK)
    assert delivery.ok and delivery.body == {"code": "Success"}
    assert seen[0].headers["api_key"] == "k" and seen[0].headers["user-agent"].startswith("python-httpx")
    assert seen[0].extensions["timeout"]["read"] == 3.0  # the mock's injected latency reads it
    assert len(cassette.requests) == 1 and cassette.requests[0].uri == TRACK.url


def _mock_sends(direct: bool, monkeypatch, use_async: bool = False):
    """Deliveries and the mock's journal for calls through faults: a 429, a 5xx, latency beyond the
    read timeout, a dropped connection, then an answer; a call Iterable refuses; an unknown path."""
    from iterable_sim import MockIterable
    from iterable_sim.mock.transport import MockIterableTransport

    if not direct:
        monkeypatch.setattr(MockIterableTransport, "calls_directly", lambda self: False)
    mock = MockIterable(clock=ManualClock())
    mock.add_api_key("k")
    for kind in ("429", "5xx", "latency", "drop"):
        mock.faults.add(kind, "events/track", times=1, seconds=5.0)
    refused = Request("POST", "https://api.eu.iterable.com/api/events/track", TRACK.headers, {"eventName": "e"})
    unknown = Request("GET", "https://api.iterable.com/api/no/such/path?x=1", TRACK.headers, None)
    options: dict[str, Any] = {"transport": mock.transport(), "clock": mock.clock, "timeout": 2.0, "retry": RetryPolicy(seed=1)}
    if use_async:
        async def both():
            async with AsyncIterableClient(**options) as client:
                return [await client.send(TRACK), await client.send(refused), await client.send(unknown)]
        deliveries = asyncio.run(both())
    else:
        with IterableClient(**options) as client:
            deliveries = [client.send(TRACK), client.send(refused), client.send(unknown)]
    monkeypatch.undo()
    return deliveries, list(mock.journal)


@pytest.mark.parametrize("use_async", [False, True])
def test_the_mock_transport_called_directly_gets_and_answers_what_httpx_would_carry(monkeypatch, use_async):
    direct, direct_journal = _mock_sends(True, monkeypatch, use_async)
    through_httpx, httpx_journal = _mock_sends(False, monkeypatch, use_async)
    assert {"ReadTimeout", "HTTP 500", "RemoteProtocolError"} <= {why.split(",")[0] for why in direct[0].retries}
    assert direct == through_httpx and direct[0].ok and direct[1].status == 400
    assert direct[2].status == 404 and "Action not found" in direct[2].body
    assert direct_journal == httpx_journal and len(direct_journal) == 6
    assert direct_journal[0].request_headers["user-agent"].startswith("python-httpx")
    assert direct_journal[0].request_headers["content-length"] == str(len(TRACK.body_bytes()))
