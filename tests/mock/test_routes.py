"""The mock's routes as real clients use them (issue 12, items 16-17): Iterable's documented
lookups served, its other static paths answered as its router answers them, and a path parameter
reaching the mock the same way in-process and over HTTP."""
from __future__ import annotations

import pytest

from iterable_sim.mock import MockIterable

from .conftest import Api

A = "a@example.com"


def test_documented_lookups_by_query_parameter(mock: MockIterable, api: Api) -> None:
    mock.create_user(email=A, user_id="ua", data_fields={"tier": "gold"})
    by_email = api.get("users/getByEmail", params={"email": A})
    by_user_id = api.get("users/byUserId", params={"userId": "ua"})
    assert by_email.status_code == by_user_id.status_code == 200
    assert by_email.json() == by_user_id.json() == api.user(A) and by_email.json()["user"]["dataFields"]["tier"] == "gold"
    assert api.get("users/getByEmail", params={"email": "nobody@example.com"}).json() == {}
    unknown = api.get("users/byUserId", params={"userId": "nobody"})
    assert (unknown.status_code, unknown.text) == (400, "No user with that id exists!")
    missing = api.get("users/getByEmail")
    assert missing.status_code == 400 and missing.json()["code"] == "BadParams"
    assert [e.endpoint for e in mock.journal][:2] == ["users/getByEmail", "users/byUserId"]


@pytest.mark.parametrize("method, path", [
    ("GET", "users/getSentMessages"), ("GET", "users/forgotten"), ("POST", "users/merge"),
    ("DELETE", "users/byUserId"), ("DELETE", "users/getByEmail"), ("GET", "users/unforget")])
def test_iterables_other_static_paths_answer_404_before_the_key_check(api: Api, method: str, path: str) -> None:
    answer = api.request(method, path, key=None)
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert "Action not found" in answer.text


def test_an_email_that_is_not_a_static_path_is_still_looked_up(mock: MockIterable, api: Api) -> None:
    mock.create_user(email="getbyemail@example.com")
    assert api.get("users/getbyemail@example.com").json()["user"]["email"] == "getbyemail@example.com"
    assert api.delete("users/getbyemail@example.com").status_code == 200


def test_an_encoded_newline_in_a_path_parameter_reaches_the_mock(mock: MockIterable, api: Api) -> None:
    """Over HTTP too: no router in front of the mock answers for it (404 text/plain, no key check)."""
    assert api.get("users/a%0Ab@example.com", key=None).status_code == 401
    answer = api.get("users/a%0Ab@example.com")
    assert (answer.status_code, answer.json()["msg"]) == (400, "Invalid email: a\nb@example.com")
    deleted = api.delete("users/a%0Ab@example.com")
    assert (deleted.status_code, deleted.json()["msg"]) == (400, "Invalid email: a\nb@example.com")
    assert [e.endpoint for e in mock.journal] == ["users/{email}"] * 3


def test_the_clients_pacing_names_every_endpoint_as_the_mock_routes_it() -> None:
    from iterable_sim.limits import RATE_LIMITS
    from iterable_sim.mock import ENDPOINTS
    from iterable_sim.mock.urls import endpoint_template

    concrete = {"{email}": "ann%40example.com", "{userId}": "u-1", "{catalogName}": "shoes"}
    for endpoint in ENDPOINTS:
        method, template = endpoint.split(" ", 1)
        path = template
        for name, value in concrete.items():
            path = path.replace(name, value)
        assert endpoint_template(method.lower(), path) == endpoint
    assert sorted(set(RATE_LIMITS) - set(ENDPOINTS)) == []  # a rate for an endpoint nobody routes is never applied
    assert endpoint_template("GET", "users/getByEmail") == "GET users/getByEmail" != endpoint_template("GET", "users/a@b.c")
    assert endpoint_template("GET", "users/getSentMessages") == "GET users/getSentMessages"  # Iterable's, not an email
