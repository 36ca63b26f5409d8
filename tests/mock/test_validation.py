"""Whole-request validation: JSON types with Play-style paths, required fields, sizes, limits."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from iterable_sim.mock import MockIterable, MockOptions

from .conftest import Api


@pytest.mark.parametrize(("endpoint", "body", "params"), [
    ("users/bulkUpdate", {"users": [{"email": "a@example.com"}, {"email": "b@example.com", "preferUserId": "abc"}]},
     {"obj.users[1].preferUserId": "Boolean value expected"}),
    ("events/trackBulk", {"events": [{"email": "a@example.com", "eventName": "e", "createdAt": "abc"}]},
     {"obj.events[0].createdAt": "Number value expected"}),
    ("events/track", {"email": 5, "eventName": "e"}, {"obj.email": "String value expected"}),
    ("events/track", {"email": "a@example.com"}, {"obj.eventName": "Missing required field"}),
    ("events/track", {"email": "a@example.com", "eventName": "e", "dataFields": []},
     {"obj.dataFields": "Object value expected"}),
    ("events/track", {"email": "a@example.com", "eventName": "e", "createdAt": True},
     {"obj.createdAt": "Number value expected"}),
    ("users/update", {"email": "a@example.com", "mergeNestedObjects": 1},
     {"obj.mergeNestedObjects": "Boolean value expected"}),
    ("commerce/trackPurchase", {"user": {"email": "a@example.com"}, "items": [{"id": "1", "name": "n", "price": "9",
                                                                               "quantity": 1}]},
     {"obj.total": "Missing required field", "obj.items[0].price": "Number value expected"}),
    ("users/registerDeviceToken", {"email": "a@example.com", "device": {"token": "t", "platform": "WINDOWS",
                                                                        "applicationName": "app"}},
     {"obj.device.platform": "Value expected to be one of APNS, APNS_SANDBOX, GCM"}),
    ("users/bulkUpdate", {"users": {"email": "a@example.com"}}, {"obj.users": "Array value expected"}),
    ("users/update", [], {"obj": "Object value expected"}),
    # a null list item is not an absent field (found by the fuzz test: it used to crash the handler)
    ("users/bulkUpdate", {"users": [None]}, {"obj.users[0]": "Object value expected"}),
    ("events/trackBulk", {"events": [{"email": "a@example.com", "eventName": "e"}, None]},
     {"obj.events[1]": "Object value expected"}),
    # Iterable's Swagger makes no trackBulk item field nullable (a schemathesis finding): a null is a wrong type
    ("events/trackBulk", {"events": [{"email": "a@example.com", "eventName": "e", "userId": None}]},
     {"obj.events[0].userId": "String value expected"}),
    ("events/trackBulk", {"events": [{"email": "a@example.com", "eventName": None, "dataFields": None}]},
     {"obj.events[0].eventName": "String value expected", "obj.events[0].dataFields": "Object value expected"}),
])
def test_bad_json_body(api: Api, endpoint: str, body: Any, params: dict[str, str]) -> None:
    r = api.post(endpoint, body)
    assert r.status_code == 400
    assert r.json() == {"msg": f"[/api/{endpoint}] Invalid JSON body", "code": "BadJsonBody", "params": params}


def test_one_bad_bulk_item_rejects_the_whole_request(mock: MockIterable, api: Api) -> None:
    r = api.post("users/bulkUpdate", {"users": [{"email": "ok@example.com"}, {"email": 7}]})
    assert r.status_code == 400
    assert api.user("ok@example.com") == {}


def test_null_counts_as_absent(api: Api) -> None:
    r = api.post("events/track", {"email": "a@example.com", "eventName": "e", "createdAt": None, "userId": None})
    assert r.status_code == 200


@pytest.mark.parametrize("value", ["null", "yes", "TRUE", "1"])
def test_catalog_listing_refuses_a_sort_order_that_is_not_a_boolean(mock: MockIterable, api: Api, value: str) -> None:
    mock.create_catalog("shoes")
    r = api.get("catalogs/shoes/items", params={"sortAscending": value})
    assert (r.status_code, r.json()) == (400, {"msg": "sortAscending must be true or false", "code": "BadParams",
                                               "params": None})
    assert api.get("catalogs/shoes/items", params={"sortAscending": "true"}).status_code == 200


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe\x00garbage", "{\"email\": \"\udcff\"}".encode(
    "utf-8", "surrogatepass")])
def test_unparseable_body_is_bad_json_body(api: Api, content: bytes) -> None:
    r = api.post("users/update", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "BadJsonBody" and r.json()["msg"] == "[/api/users/update] Invalid JSON body"


def test_form_encoded_body_is_a_4xx(api: Api) -> None:
    r = api.post("users/update", content=b"email=a%40example.com",
                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and r.json()["code"] == "BadJsonBody"


def test_json_with_another_content_type_is_read(api: Api) -> None:
    r = api.post("users/update", content=b'{"email": "a@example.com"}', headers={"content-type": "text/plain"})
    assert r.status_code == 200


def test_body_over_the_limit_is_batch_too_large(make_mock: Callable[..., MockIterable],
                                                 connect: Callable[[MockIterable], Api]) -> None:
    api = connect(make_mock(options=MockOptions(max_body_bytes=1000)))
    r = api.post("users/bulkUpdate", {"users": [{"email": f"u{i}@example.com"} for i in range(100)]})
    assert r.status_code == 400 and r.json()["code"] == "BatchTooLarge"


def test_default_body_limit_is_4mb(api: Api) -> None:
    big = {"users": [{"email": "a@example.com", "dataFields": {"blob": "x" * 4_100_000}}]}
    r = api.post("users/bulkUpdate", big)
    assert r.status_code == 400 and r.json()["code"] == "BatchTooLarge"


def test_bulk_item_limit(make_mock: Callable[..., MockIterable], connect: Callable[[MockIterable], Api]) -> None:
    api = connect(make_mock(options=MockOptions(bulk_item_limit=2)))
    r = api.post("events/trackBulk", {"events": [{"email": "a@example.com", "eventName": "e"}] * 3})
    assert r.status_code == 400 and r.json()["code"] == "BatchTooLarge"
    assert api.post("events/trackBulk", {"events": [{"email": "a@example.com", "eventName": "e"}] * 2}).json()[
        "successCount"] == 2


def test_default_bulk_item_limit_is_1000(api: Api) -> None:
    events = [{"email": "a@example.com", "eventName": "e"}]
    assert api.post("events/trackBulk", {"events": events * 1000}).status_code == 200
    assert api.post("events/trackBulk", {"events": events * 1001}).json()["code"] == "BatchTooLarge"


@pytest.mark.parametrize("email", ["sayan", "000", "none", "a@b", "@example.com", "a b@example.com", ""])
def test_invalid_email_single_endpoint(api: Api, email: str) -> None:
    r = api.post("events/track", {"email": email, "eventName": "e"})
    assert r.status_code == 400
    assert r.json() == {"msg": f"Invalid email: {email}", "code": "InvalidEmailAddressError", "params": None}


@pytest.mark.parametrize("user_id", ["", "x" * 53, "trailing ", "naïve", "tab\tid"])
def test_invalid_user_id_single_endpoint(api: Api, user_id: str) -> None:
    r = api.post("users/update", {"userId": user_id})
    assert r.status_code == 400 and r.json()["code"] == "InvalidUserIdError"


def test_no_identifier_is_bad_params(api: Api) -> None:
    r = api.post("users/update", {"dataFields": {"a": 1}})
    assert r.status_code == 400 and r.json()["code"] == "BadParams"
