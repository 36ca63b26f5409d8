"""The /_mock/ control routes under bad input: seeding answers what users/update answers, keys and
bodies have limits, unknown paths are 404s, snapshots are bounded and can be dropped, and no body
whatever gives a 500: every answer is JSON, a refusal in the `{"msg", "code", "params"}` envelope."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from iterable_sim.mock import ManualClock, MockIterable, control

from .conftest import Api

A = "a@example.com"
US = "https://api.iterable.com"


def bad_params(msg: str) -> dict[str, Any]:
    return {"msg": msg, "code": "BadParams", "params": None}


# ---- seeding: what users/update answers ----------------------------------------------------------

@pytest.mark.parametrize("user", [
    {"email": 5},
    {"email": A, "userId": {}},
    {"email": A, "dataFields": [1, 2]},
    {"email": A, "dataFields": "x"},
    {"email": A, "mergeNestedObjects": "yes"},
    {"email": A, "preferUserId": 1, "createNewFields": "no"},
    {"email": A, "dataFields": {"deep": json.loads("[" * 120 + "]" * 120)}},
    "a@example.com",
])
def test_seeding_refuses_a_bad_user_as_users_update_does(mock: MockIterable, api: Api, user: Any) -> None:
    seeded = api.control("POST", "users", {"users": [{"email": "first@example.com"}, user]})
    over_api = api.post("users/update", user)
    assert over_api.status_code == 400 and over_api.json()["code"] == "BadJsonBody"
    assert (seeded.status_code, seeded.json()) == (over_api.status_code, over_api.json())
    assert mock.get_user(email="first@example.com") is None  # all or none


def test_seeding_follows_create_new_fields_as_users_update_does(mock: MockIterable, api: Api) -> None:
    seeded = api.control("POST", "users", {"users": [{"email": A, "dataFields": {"tier": "gold"},
                                                      "createNewFields": False}]})
    assert seeded.status_code == 200
    assert "tier" not in api.user(A)["user"]["dataFields"]


user_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6)
    | st.sampled_from([A, "b@example.com", "u1", "not-an-email", ""]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8)
users = st.dictionaries(st.sampled_from(["email", "userId", "dataFields", "preferUserId", "mergeNestedObjects",
                                         "createNewFields"]), user_values, max_size=5)


@settings(max_examples=150, deadline=None)
@given(user=users)
def test_a_seeded_user_gets_users_updates_answer(user: dict[str, Any]) -> None:
    """Seeding is users/update with preferUserId defaulting to true: a refusal is the same answer."""
    mock = MockIterable(clock=ManualClock(), rate_limits=False)
    mock.add_api_key("k")
    mock.create_user(email=A, user_id="u1", data_fields={"n": 1})
    with mock.rolled_back():
        seeded = mock.handle("POST", f"{US}/_mock/users", body=orjson.dumps({"users": [user]}))
    over_api = mock.handle("POST", f"{US}/api/users/update", {"api-key": "k"},
                           orjson.dumps({"preferUserId": True, **user} if "preferUserId" not in user else user))
    assert seeded.status == over_api.status
    if over_api.status != 200:
        assert seeded.json() == over_api.json()


# ---- keys, body size, routes ---------------------------------------------------------------------

@pytest.mark.parametrize(("body", "msg"), [
    ({"key": ""}, "'key' must be 1-256 printable ASCII characters without spaces"),
    ({"key": "new\nkey"}, "'key' must be 1-256 printable ASCII characters without spaces"),
    ({"key": "new key"}, "'key' must be 1-256 printable ASCII characters without spaces"),
    ({"key": "k" * 257}, "'key' must be 1-256 printable ASCII characters without spaces"),
    ({"key": 5}, "'key' must be 1-256 printable ASCII characters without spaces"),
    ({"key": "new-key", "keyType": "admin"}, "'keyType' must be one of server_side, mobile, javascript, read_only"),
    ({"key": "new-key", "keyType": ["mobile"]}, "'keyType' must be one of server_side, mobile, javascript, read_only"),
    ({"key": "new-key", "dataCenter": 5}, "unknown data center 5; use 'US' or 'EU'"),
    ({"key": "new-key", "dataCenter": ["US", "MARS"]}, "unknown data center 'MARS'; use 'US' or 'EU'"),
    ({"key": "new-key", "dataCenter": []}, "unknown data center []; use 'US' or 'EU'"),
])
def test_a_bad_key_is_refused(mock: MockIterable, api: Api, body: dict[str, Any], msg: str) -> None:
    refused = api.control("POST", "keys", body)
    assert (refused.status_code, refused.json()) == (400, bad_params(msg))
    assert api.post("users/update", {"email": A}, key="new-key").status_code == 401


def test_a_key_for_both_data_centers_by_list(mock: MockIterable, api: Api) -> None:
    assert api.control("POST", "keys", {"key": "new-key", "dataCenter": ["US", "EU"]}).json() == {"key": "new-…"}
    assert api.post("users/update", {"email": A}, key="new-key", dc="EU").status_code == 200


def test_a_control_body_over_the_limit_is_refused(mock: MockIterable, api: Api) -> None:
    refused = api.control("POST", "users", {"users": [{"email": A}] * (control.MAX_BODY_BYTES // 20)})
    assert refused.status_code == 400 and refused.json()["code"] == "BatchTooLarge"
    assert refused.json()["msg"].endswith(f"bytes; the limit is {control.MAX_BODY_BYTES}")
    assert mock.get_user(email=A) is None


@pytest.mark.parametrize("route", ["/reset", "reset/", "reset//", "/state", "RESET", "snapshot/", "drop"])
def test_a_path_that_is_not_a_control_route_is_a_404(mock: MockIterable, api: Api, route: str) -> None:
    mock.create_user(email=A)
    answer = api.control("POST" if route != "/state" else "GET", route)
    assert answer.status_code == 404
    assert answer.json()["code"] == "NotFound" and "POST reset" in answer.json()["params"]["routes"]
    assert mock.get_user(email=A) is not None  # not reset


# ---- snapshots -----------------------------------------------------------------------------------

def test_only_the_newest_snapshots_are_kept(mock: MockIterable, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "MAX_SNAPSHOTS", 3)
    numbers = []
    for n in range(5):
        api.post("users/update", {"email": f"user{n}@example.com"})
        numbers.append(api.control("POST", "snapshot").json()["snapshot"])
    assert numbers == [1, 2, 3, 4, 5]
    gone = api.control("POST", "restore", {"snapshot": 2})
    assert (gone.status_code, gone.json()) == (400, bad_params(
        "snapshot 2 was dropped: only the newest 3 are kept, and POST /_mock/snapshot/drop drops one"))
    assert api.control("POST", "restore", {"snapshot": 3}).json() == {"restored": 3}
    assert len(mock.users_frame()) == 3


def test_a_snapshot_can_be_dropped_and_its_number_is_not_reused(mock: MockIterable, api: Api) -> None:
    number = api.control("POST", "snapshot").json()["snapshot"]
    assert api.control("POST", "snapshot/drop", {"snapshot": number}).json() == {"dropped": number}
    for route in ("restore", "snapshot/drop"):
        gone = api.control("POST", route, {"snapshot": number})
        assert gone.status_code == 400 and gone.json()["msg"].startswith(f"snapshot {number} was dropped")
    assert api.control("POST", "snapshot").json()["snapshot"] == number + 1
    unknown = api.control("POST", "snapshot/drop", {"snapshot": 99})
    assert (unknown.status_code, unknown.json()) == (400, bad_params("no snapshot 99: POST /_mock/snapshot makes one"))
    assert api.control("POST", "snapshot/drop", {"snapshot": "1"}).json() == bad_params(
        "'snapshot' must be a snapshot number, such as 1")


def test_snapshots_outlive_a_reset(mock: MockIterable, api: Api) -> None:
    api.post("users/update", {"email": A})
    number = api.control("POST", "snapshot").json()["snapshot"]
    api.control("POST", "reset")
    assert api.control("POST", "restore", {"snapshot": number}).json() == {"restored": number}
    assert mock.get_user(email=A) is not None


# ---- any body, any route: never a 500 ------------------------------------------------------------

CONTROL_FIELDS = ["users", "key", "keyType", "dataCenter", "snapshot", "email", "userId", "dataFields",
                  "preferUserId", "mergeNestedObjects", "createNewFields"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12)
    | st.sampled_from([A, "US", "EU", "mobile", "read_only", "k-123", 1, 2]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(CONTROL_FIELDS) | st.text(max_size=6), children, max_size=5),
    max_leaves=20)
control_bodies = (st.dictionaries(st.sampled_from(CONTROL_FIELDS), json_values, max_size=5).map(json.dumps)
                  | json_values.map(json.dumps)).map(str.encode) | st.binary(max_size=200)
control_routes = st.sampled_from([tuple(name.split(" ")) for name in control.ROUTES])
control_queries = st.dictionaries(st.sampled_from(["dataCenter", "limit"]), st.text(max_size=6), max_size=2)


def assert_control_answer(status: int, content_type: str, body: bytes) -> None:
    assert 200 <= status < 500 and content_type == "application/json", (status, body[:300])
    answer = orjson.loads(body)
    assert isinstance(answer, dict)
    if status >= 400:
        assert set(answer) == {"msg", "code", "params"} and isinstance(answer["msg"], str) and answer["code"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(route=control_routes | st.tuples(st.sampled_from(["GET", "POST", "DELETE"]), st.text(max_size=12)),
       query=control_queries, body=control_bodies)
def test_any_body_to_any_control_route_answers_in_the_envelope(route: tuple[str, str], query: dict[str, str],
                                                               body: bytes) -> None:
    method, name = route
    mock = MockIterable(clock=ManualClock(), rate_limits=False)
    mock.add_api_key("k")
    mock.create_user(email=A)
    mock.handle("POST", f"{US}/_mock/snapshot")
    answer = mock.handle(method, f"{US}/_mock/{name}?{urlencode(query)}", body=body)
    assert_control_answer(answer.status, answer.headers["content-type"], answer.body)


@pytest.mark.server
@settings(max_examples=60, deadline=None)
@given(route=control_routes, body=control_bodies)
@example(route=("POST", "users"), body=b'{"users": [{"email": 5}]}')  # was a 500 and a traceback in the log
@example(route=("POST", "keys"), body=b'{"key": "k-123", "dataCenter": 5}')
def test_the_server_answers_any_control_body_in_the_envelope(shared_server: Any, route: tuple[str, str],
                                                             body: bytes) -> None:
    switch, url = shared_server
    switch.target = MockIterable(clock=ManualClock(), rate_limits=False)
    method, name = route
    with httpx.Client(base_url=url, timeout=10) as client:
        r = client.request(method, f"/_mock/{name}", content=body)
        assert_control_answer(r.status_code, r.headers["content-type"], r.content)
