"""Bad input never breaks the mock: whatever comes in, the answer is Iterable-style (a 2xx or a
4xx with a JSON envelope, the HTML 404 of an unknown path, or one of the two answers Iterable was
recorded giving otherwise: the plain-text 400 of an unknown userId, the 500 of an empty device token),
never another 500 or an exception."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iterable_sim.mock import ManualClock, MockIterable
from iterable_sim.mock import ENDPOINTS

KEY = "fuzz-key"
CONCRETE = {"{email}": ["a@example.com", "x", "%40", "..", "a%2Fb@example.com"], "{userId}": ["u1", "", "%FF"],
            "{catalogName}": ["shoes", "bad.name", "x" * 300]}
ROUTES = sorted(tuple(endpoint.split(" ", 1)) for endpoint in ENDPOINTS)
PATHS = sorted({template for _, template in ROUTES})
FIELDS = ["email", "userId", "dataFields", "preferUserId", "mergeNestedObjects", "createNewFields", "users",
          "events", "eventName", "id", "createdAt", "campaignId", "templateId", "currentEmail", "currentUserId",
          "newEmail", "device", "token", "platform", "applicationName", "browserToken", "user", "items", "total",
          "price", "quantity", "name", "documents", "replaceUploadedFieldsOnly", "updateOnly"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["a@example.com", "sayan", "u1", "APNS", "GCM", "2020-01-01"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=6),
    max_leaves=25)
bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8)


def dumps(value: Any) -> bytes:
    """JSON as any client may write it (integers beyond 64 bits and Infinity included)."""
    return json.dumps(value).encode()


def fresh_mock() -> MockIterable:
    mock = MockIterable(project_type="hybrid", clock=ManualClock(), rate_limits=False)
    mock.add_api_key(KEY)
    mock.create_user(email="a@example.com", user_id="u1")
    mock.create_catalog("shoes")
    return mock


MOCK = fresh_mock()


def assert_iterable_style(status: int, headers: dict[str, str], body: bytes) -> None:
    if headers.get("content-type", "").startswith("text/html"):
        assert status == 404
        return
    if headers.get("content-type", "").startswith("text/plain"):
        assert (status, body) == (400, b"No user with that id exists!")
        return
    answer = orjson.loads(body)
    assert isinstance(answer, dict)
    if status == 500:
        assert answer["code"] == "GenericError" and answer["msg"].startswith("Unable to register token to user ")
        return
    assert 200 <= status < 500, (status, body[:300])
    if status >= 400:
        assert "code" in answer or "error" in answer


def concrete(template: str, draw: Any) -> str:
    for placeholder, values in CONCRETE.items():
        if placeholder in template:
            template = template.replace(placeholder, draw(st.sampled_from(values)))
    return template


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), body=bodies)
def test_structured_bodies_to_every_endpoint(data: st.DataObject, body: dict[str, Any]) -> None:
    method, template = data.draw(st.sampled_from(ROUTES))
    path = concrete(template, data.draw)
    answer = MOCK.handle(method, f"https://api.iterable.com/api/{path}", {"api_key": KEY}, dumps(body))
    assert_iterable_style(answer.status, answer.headers, answer.body)


@settings(max_examples=300, deadline=None)
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "BREW"]),
       path=st.sampled_from(PATHS).map(lambda p: p.replace("{", "").replace("}", "")) | st.text(max_size=40),
       body=st.binary(max_size=300),
       key=st.sampled_from([KEY, "", "nope", "\u00e9"]),
       extra=st.dictionaries(st.sampled_from(["content-type", "api-key", "Api_Key", "x-junk"]),
                             st.text(max_size=20), max_size=3))
def test_arbitrary_bytes_paths_and_headers(method: str, path: str, body: bytes, key: str,
                                           extra: dict[str, str]) -> None:
    url = "https://api.iterable.com/api/" + quote(path.lstrip("/"), safe="/%")
    answer = MOCK.handle(method, url, {"api_key": key, **extra}, body)
    assert_iterable_style(answer.status, answer.headers, answer.body)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), items=st.lists(bodies, max_size=5))
def test_bulk_items_with_every_type(data: st.DataObject, items: list[dict[str, Any]]) -> None:
    endpoint = data.draw(st.sampled_from(["users/bulkUpdate", "events/trackBulk"]))
    wrapper = "users" if endpoint == "users/bulkUpdate" else "events"
    answer = MOCK.handle("POST", f"https://api.iterable.com/api/{endpoint}", {"api_key": KEY},
                         dumps({wrapper: items}))
    assert_iterable_style(answer.status, answer.headers, answer.body)
    if answer.status == 200:
        result = answer.json()
        assert result["successCount"] + result["failCount"] == len(items)


@pytest.mark.server
@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200) | bodies.map(dumps),
       path=st.sampled_from(PATHS).map(lambda p: p.replace("{", "").replace("}", "")))
def test_server_survives_bad_input(shared_server: Any, body: bytes, path: str) -> None:
    switch, url = shared_server
    switch.target = MOCK
    with httpx.Client(base_url=url, timeout=10) as client:
        r = client.post(f"/api/{path}", content=body, headers={"api_key": KEY, "content-type": "application/json"})
        assert_iterable_style(r.status_code, dict(r.headers), r.content)
        assert client.get("/api/users/getFields", headers={"api_key": KEY}).status_code == 200
