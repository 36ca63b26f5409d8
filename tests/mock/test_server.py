"""The real HTTP server: mock.serve(), data centers by Host header, dropped connections,
concurrent clients."""
from __future__ import annotations

import concurrent.futures

import httpx
import pytest

from iterable_sim.mock import ManualClock, MockIterable

from .conftest import KEY

pytestmark = pytest.mark.server


def test_serve_answers_and_stops() -> None:
    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(KEY)
    with mock.serve() as url, httpx.Client(base_url=url) as client:
        assert url.startswith("http://127.0.0.1:")
        r = client.post("/api/events/track", headers={"api_key": KEY}, json={"email": "a@example.com",
                                                                           "eventName": "e"})
        assert r.status_code == 200
        eu = client.post("/api/users/update", headers={"api_key": KEY, "host": "api.eu.iterable.com"},
                         json={"email": "eu@example.com"})
        assert eu.status_code == 200
        assert client.get("/", headers={"api_key": KEY}).status_code == 404
    assert list(mock.users_frame()["data_center"]) == ["US", "EU"]
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{url}/api/events/track", timeout=2)


def test_default_data_center_eu() -> None:
    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(KEY)
    with mock.serve(default_data_center="EU") as url:
        httpx.post(f"{url}/api/users/update", headers={"api_key": KEY}, json={"email": "a@example.com"})
    assert list(mock.users_frame()["data_center"]) == ["EU"]


def test_dropped_connection_closes_the_socket_and_the_server_lives_on() -> None:
    mock = MockIterable(clock=ManualClock(), rate_limits=False)
    mock.add_api_key(KEY)
    mock.faults.add("drop", "events/track", times=1)
    with mock.serve() as url, httpx.Client(base_url=url) as client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            client.post("/api/events/track", headers={"api_key": KEY}, json={"email": "a@example.com",
                                                                           "eventName": "e"})
        assert client.post("/api/events/track", headers={"api_key": KEY},
                           json={"email": "a@example.com", "eventName": "e"}).status_code == 200


def test_concurrent_clients_lose_nothing() -> None:
    mock = MockIterable(rate_limits=False)
    mock.add_api_key(KEY)
    with mock.serve() as url:
        def send(worker: int) -> int:
            ok = 0
            with httpx.Client(base_url=url) as client:
                for i in range(50):
                    r = client.post("/api/events/track", headers={"api_key": KEY},
                                    json={"email": f"w{worker}@example.com", "eventName": "e", "id": f"{worker}-{i}"})
                    ok += r.status_code == 200
            return ok
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            accepted = sum(pool.map(send, range(8)))
    assert accepted == 400 == len(mock.events_frame())


def test_huge_body_over_http_is_a_4xx_and_the_server_survives() -> None:
    mock = MockIterable(clock=ManualClock())
    mock.add_api_key(KEY)
    with mock.serve() as url, httpx.Client(base_url=url, timeout=30) as client:
        r = client.post("/api/users/bulkUpdate", headers={"api_key": KEY}, content=b"[" + b"1," * 3_000_000 + b"1]")
        assert r.status_code == 400 and r.json()["code"] == "BatchTooLarge"
        assert client.get("/api/users/getFields", headers={"api_key": KEY}).status_code == 200
