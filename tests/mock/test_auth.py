"""API keys: unknown, missing, wrong data center, denied endpoints and key types."""
from __future__ import annotations

import pytest

from iterable_sim.mock import MockIterable

from .conftest import KEY, Api

EVENT = {"email": "a@example.com", "eventName": "Signed Up"}


def test_unknown_key_is_401_bad_api_key(api: Api) -> None:
    r = api.post("events/track", EVENT, key="nope")
    assert r.status_code == 401
    body = r.json()
    assert (body["code"], body["msg"]) == ("BadApiKey", "Invalid API key")
    assert body["params"]["endpoint"] == "/api/events/track"
    assert "ip" in body["params"]


def test_missing_key_is_the_same_401(api: Api) -> None:
    r = api.post("events/track", EVENT, key=None)
    assert r.status_code == 401 and r.json()["msg"] == "Invalid API key"


@pytest.mark.parametrize("header", ["Api-Key", "Api_Key", "api_key", "API-KEY"])
def test_key_header_spellings(api: Api, header: str) -> None:
    r = api.post("events/track", EVENT, key=None, headers={header: KEY})
    assert r.status_code == 200


def test_legacy_query_parameter_key(api: Api) -> None:
    r = api.post("events/track", EVENT, key=None, params={"api_key": KEY})
    assert r.status_code == 200


def test_key_valid_only_in_its_data_center(mock: MockIterable, api: Api) -> None:
    mock.add_api_key("us-only", data_center="US")
    assert api.post("events/track", EVENT, key="us-only", dc="US").status_code == 200
    r = api.post("events/track", EVENT, key="us-only", dc="EU")
    assert r.status_code == 401 and r.json()["msg"] == "Invalid API key"


def test_denied_endpoint_is_401_insufficient_privileges(mock: MockIterable, api: Api) -> None:
    mock.add_api_key("limited", deny=["users/registerDeviceToken"])
    r = api.post("users/registerDeviceToken", {"email": "a@example.com", "device": {
        "token": "t", "platform": "GCM", "applicationName": "app"}}, key="limited")
    assert r.status_code == 401
    body = r.json()
    assert body["code"] == "BadApiKey" and body["msg"] == "Disabled API key or insufficient privileges"
    assert body["params"]["apiKeyType"] == "ServerSide"
    assert len(body["params"]["apiKeyIdentifier"]) == 8 and "limited" not in body["params"]["apiKeyIdentifier"]
    assert api.post("events/track", EVENT, key="limited").status_code == 200


@pytest.mark.parametrize(("key_type", "endpoint", "allowed"), [
    ("read_only", "GET users/getFields", True),
    ("read_only", "POST events/track", False),
    ("mobile", "POST events/track", True),
    ("mobile", "POST users/registerDeviceToken", True),
    ("mobile", "POST users/bulkUpdate", False),
    ("mobile", "GET users/getFields", False),
    ("javascript", "POST users/registerBrowserToken", True),
    ("javascript", "POST events/trackBulk", False),
    ("server_side", "POST events/trackBulk", True),
])
def test_key_types(mock: MockIterable, api: Api, key_type: str, endpoint: str, allowed: bool) -> None:
    mock.add_api_key("typed", key_type=key_type)
    bodies = {"POST events/track": EVENT, "POST events/trackBulk": {"events": [EVENT]},
              "POST users/bulkUpdate": {"users": [{"email": "a@example.com"}]},
              "POST users/registerBrowserToken": {"email": "a@example.com", "browserToken": "b"},
              "POST users/registerDeviceToken": {"email": "a@example.com", "device": {
                  "token": "t", "platform": "APNS", "applicationName": "app"}}}
    method, path = endpoint.split(" ")
    r = api.request(method, path, bodies.get(endpoint), key="typed")
    if allowed:
        assert r.status_code == 200
    else:
        assert r.status_code == 401
        assert r.json()["msg"] == "Disabled API key or insufficient privileges"


def test_unknown_path_is_action_not_found_even_without_a_key(api: Api) -> None:
    r = api.get("campaigns/99999999", key=None)
    assert r.status_code == 404
    assert "Action not found" in r.text and r.headers["content-type"].startswith("text/html")
