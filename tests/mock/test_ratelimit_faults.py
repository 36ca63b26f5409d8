"""Rate limits and injected faults on a manual clock: instant and deterministic."""
from __future__ import annotations

import asyncio
from typing import Callable

import httpx
import pandas as pd
import pytest

from iterable_sim.mock import ManualClock, MockIterable, MockOptions

from .conftest import KEY, Api

EVENTS = {"events": [{"email": "a@example.com", "eventName": "e"}]}


def test_track_bulk_is_limited_to_10_per_second(make_mock: Callable[..., MockIterable],
                                                connect: Callable[[MockIterable], Api], clock: ManualClock) -> None:
    mock = make_mock(rate_limits=True)
    api = connect(mock)
    statuses = [api.post("events/trackBulk", EVENTS).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    r = api.post("events/trackBulk", EVENTS)
    assert r.json() == {"msg": "Exceeded rate limit.", "code": "RateLimitExceeded", "params": None}
    assert "retry-after" not in r.headers
    clock.advance(0.1)  # the bucket drains at 10/s: room for one more
    assert [api.post("events/trackBulk", EVENTS).status_code for _ in range(2)] == [200, 429]
    clock.advance(1.0)
    assert api.post("events/trackBulk", EVENTS).status_code == 200
    assert len(mock.events_frame()) == 12  # 429s stored nothing


def test_limits_are_per_endpoint_and_per_project(make_mock: Callable[..., MockIterable],
                                                 connect: Callable[[MockIterable], Api]) -> None:
    api = connect(make_mock(rate_limits=True))
    for _ in range(5):
        assert api.post("users/bulkUpdate", {"users": [{"email": "a@example.com"}]}).status_code == 200
    assert api.post("users/bulkUpdate", {"users": [{"email": "a@example.com"}]}).status_code == 429
    assert api.post("users/bulkUpdate", {"users": [{"email": "a@example.com"}]}, dc="EU").status_code == 200
    assert api.post("users/update", {"email": "a@example.com"}).status_code == 200


def test_rate_overrides_and_retry_after(make_mock: Callable[..., MockIterable],
                                        connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock(rate_limits={"POST events/track": 2, "POST events/trackBulk": None},
                     options=MockOptions(retry_after_seconds=60))
    api = connect(mock)
    track = {"email": "a@example.com", "eventName": "e"}
    assert [api.post("events/track", track).status_code for _ in range(3)] == [200, 200, 429]
    assert api.post("events/track", track).headers["retry-after"] == "60"
    assert all(api.post("events/trackBulk", EVENTS).status_code == 200 for _ in range(30))


def test_catalog_items_are_limited_per_api_key(make_mock: Callable[..., MockIterable],
                                               connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock(rate_limits={"POST catalogs/{catalogName}/items": 1})
    mock.add_api_key("second")
    mock.create_catalog("c")
    api = connect(mock)
    body = {"documents": {"a": {}}, "replaceUploadedFieldsOnly": False}
    assert api.post("catalogs/c/items", body).status_code == 200
    assert api.post("catalogs/c/items", body).status_code == 429
    assert api.post("catalogs/c/items", body, key="second").status_code == 200


def test_forget_daily_cap(make_mock: Callable[..., MockIterable], clock: ManualClock) -> None:
    mock = make_mock(rate_limits=True)
    client = httpx.Client(transport=mock.transport())
    statuses = []
    for i in range(1001):
        clock.advance(1)
        statuses.append(client.post("https://api.iterable.com/api/users/forget", headers={"api_key": KEY},
                                    json={"email": f"u{i}@example.com"}).status_code)
    assert statuses[:1000] == [200] * 1000 and statuses[1000] == 429
    clock.advance(86_400)
    assert client.post("https://api.iterable.com/api/users/forget", headers={"api_key": KEY},
                       json={"email": "late@example.com"}).status_code == 200


def test_rate_limits_off(make_mock: Callable[..., MockIterable], connect: Callable[[MockIterable], Api]) -> None:
    api = connect(make_mock(rate_limits=False))
    assert all(api.post("events/trackBulk", EVENTS).status_code == 200 for _ in range(50))


def test_5xx_fault_for_a_fraction_is_seeded(make_mock: Callable[..., MockIterable],
                                            connect: Callable[[MockIterable], Api]) -> None:
    def run() -> list[int]:
        mock = make_mock(seed=7)
        mock.faults.add(endpoint="events/trackBulk", kind="5xx", rate=0.2)
        api = connect(mock)
        return [api.post("events/trackBulk", EVENTS).status_code for _ in range(200)]
    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500} and 15 <= first.count(500) <= 70


def test_fault_body_and_endpoint_targeting(mock: MockIterable, api: Api) -> None:
    mock.faults.add("5xx", "events/track", status=503)
    r = api.post("events/track", {"email": "a@example.com", "eventName": "e"})
    assert r.status_code == 503 and r.json()["code"] == "GenericError"
    assert "try again later" in r.json()["msg"]
    assert api.post("users/update", {"email": "a@example.com"}).status_code == 200
    assert mock.events_frame().empty  # a faulted request changes nothing


def test_429_fault_and_times(mock: MockIterable, api: Api) -> None:
    mock.faults.add("429", times=2)
    statuses = [api.post("events/track", {"email": "a@example.com", "eventName": "e"}).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]


def test_latency_advances_the_manual_clock(mock: MockIterable, api: Api, clock: ManualClock) -> None:
    mock.faults.add("latency", "events/track", seconds=2.5)
    start = clock.now()
    assert api.post("events/track", {"email": "a@example.com", "eventName": "e"}).status_code == 200
    assert clock.now() - start == pytest.approx(2.5)
    assert mock.journal_frame()["latency"].iloc[-1] == 2.5


def test_dropped_connection_is_a_transport_error(mock: MockIterable, api: Api) -> None:
    mock.faults.add("drop", "events/track", times=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ConnectError, httpx.ReadError)):
        api.post("events/track", {"email": "a@example.com", "eventName": "e"})
    assert api.post("events/track", {"email": "a@example.com", "eventName": "e"}).status_code == 200
    journal = mock.journal_frame()
    assert journal["fault"].iloc[0] == "drop" and pd.isna(journal["fault"].iloc[1])
    assert pd.isna(journal["status"].iloc[0])  # no answer was sent


def test_fault_arguments_are_checked(mock: MockIterable) -> None:
    with pytest.raises(ValueError):
        mock.faults.add("explode")  # type: ignore[arg-type]  # (an unknown kind is the point)
    with pytest.raises(ValueError):
        mock.faults.add("5xx", status=404)
    with pytest.raises(ValueError):
        mock.faults.add("drop", rate=2)
    fault = mock.faults.add("drop", "/api/events/track")
    assert fault.endpoint == "events/track" and len(mock.faults) == 1
    mock.faults.remove(fault)
    assert len(mock.faults) == 0


def test_async_client_with_real_clock_latency() -> None:
    mock = MockIterable(rate_limits=False)
    mock.add_api_key(KEY)
    mock.faults.add("latency", seconds=0.01)

    async def main() -> list[int]:
        async with httpx.AsyncClient(transport=mock.transport()) as client:
            answers = await asyncio.gather(*[client.post("https://api.iterable.com/api/events/track",
                                                         headers={"api_key": KEY},
                                                         json={"email": "a@example.com", "eventName": "e"})
                                             for _ in range(20)])
            return [a.status_code for a in answers]
    assert asyncio.run(main()) == [200] * 20
    assert len(mock.events_frame()) == 20


def test_async_client_drop() -> None:
    mock = MockIterable(rate_limits=False)
    mock.add_api_key(KEY)
    mock.faults.add("drop")

    async def main() -> None:
        async with httpx.AsyncClient(transport=mock.transport()) as client:
            await client.get("https://api.iterable.com/api/users/getFields", headers={"api_key": KEY})
    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(main())


def test_manual_clock_is_exported_and_drives_a_mock():
    clock = ManualClock()
    mock = MockIterable("hybrid", clock=clock)
    clock.advance(60)
    assert mock.clock.now() == clock.now()
