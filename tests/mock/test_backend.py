"""One write path: every set-up call from Python and the same call over HTTP go through the same
backend operation, so they leave the same state and fail with the same error."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from iterable_sim.mock import ApiError, ManualClock, MockIterable

from .conftest import KEY, Api

ITEM = {"id": "p1", "name": "Shoe", "price": 10.0, "quantity": 1}
A, B = "a@example.com", "b@example.com"

# (what it does, the Python call, the same call over HTTP)
OPERATIONS: list[tuple[str, Callable[[MockIterable], Any], tuple[str, str, Any]]] = [
    ("upsert a user", lambda m: m.create_user(email=A, user_id="ua", data_fields={"age": 3, "joined": "2020-01-01T10:00:00Z"}),
     ("POST", "users/update", {"email": A, "userId": "ua", "preferUserId": True,
                               "dataFields": {"age": 3, "joined": "2020-01-01T10:00:00Z"}})),
    ("a field of another type", lambda m: m.create_user(email=A, data_fields={"age": "three"}),
     ("POST", "users/update", {"email": A, "preferUserId": True, "dataFields": {"age": "three"}})),
    ("an invalid email", lambda m: m.create_user(email="not-an-email"),
     ("POST", "users/update", {"email": "not-an-email", "preferUserId": True})),
    ("a userId alone (placeholder email)", lambda m: m.create_user(user_id="u9"),
     ("POST", "users/update", {"userId": "u9", "preferUserId": True})),
    ("an email/userId conflict", lambda m: m.create_user(email=A, user_id="u9"),
     ("POST", "users/update", {"email": A, "userId": "u9", "preferUserId": True})),
    ("track an event", lambda m: m.track_event("Signed Up", email=A, id="ev1", created_at=1700000000123,
                                               data_fields={"plan": "pro"}, campaign_id=5),
     ("POST", "events/track", {"eventName": "Signed Up", "email": A, "id": "ev1", "createdAt": 1700000000123,
                               "dataFields": {"plan": "pro"}, "campaignId": 5})),
    ("an event field of another type", lambda m: m.track_event("Signed Up", email=A, data_fields={"plan": 1}),
     ("POST", "events/track", {"eventName": "Signed Up", "email": A, "dataFields": {"plan": 1}})),
    ("track a purchase", lambda m: m.track_purchase([ITEM], 10.0, email=A, id="o1"),
     ("POST", "commerce/trackPurchase", {"user": {"email": A}, "items": [ITEM], "total": 10.0, "id": "o1"})),
    ("update a cart", lambda m: m.update_cart([ITEM], email=A),
     ("POST", "commerce/updateCart", {"user": {"email": A}, "items": [ITEM]})),
    ("update an email", lambda m: m.update_email(B, email=A),
     ("POST", "users/updateEmail", {"currentEmail": A, "newEmail": B})),
    ("update the email of nobody", lambda m: m.update_email(B, email="nobody@example.com"),
     ("POST", "users/updateEmail", {"currentEmail": "nobody@example.com", "newEmail": B})),
    ("register a device", lambda m: m.register_device_token("tok", platform="APNS", email=B, data_fields={"v": 1}),
     ("POST", "users/registerDeviceToken", {"email": B, "device": {"token": "tok", "platform": "APNS",
                                                                   "applicationName": "app", "dataFields": {"v": 1}}})),
    ("register a browser token", lambda m: m.register_browser_token("btok", email=B),
     ("POST", "users/registerBrowserToken", {"email": B, "browserToken": "btok"})),
    ("create a catalog", lambda m: m.create_catalog("shoes"), ("POST", "catalogs/shoes", None)),
    ("create it again", lambda m: m.create_catalog("shoes"), ("POST", "catalogs/shoes", None)),
    ("add catalog items", lambda m: m.add_catalog_items("shoes", {"s1": {"size": 9}}),
     ("POST", "catalogs/shoes/items", {"documents": {"s1": {"size": 9}}, "replaceUploadedFieldsOnly": False})),
    ("items for a missing catalog", lambda m: m.add_catalog_items("hats", {"h1": {"size": 1}}),
     ("POST", "catalogs/hats/items", {"documents": {"h1": {"size": 1}}, "replaceUploadedFieldsOnly": False})),
    ("forget a user", lambda m: m.forget_user(email=B), ("POST", "users/forget", {"email": B})),
    ("write a forgotten user", lambda m: m.create_user(email=B), ("POST", "users/update", {"email": B, "preferUserId": True})),
]


def test_each_operation_gives_the_same_state_and_error_from_python_and_over_http(
        connect: Callable[[MockIterable], Api]) -> None:
    by_python = MockIterable(clock=ManualClock(), rate_limits=False)
    over_http = MockIterable(clock=ManualClock(), rate_limits=False)
    over_http.add_api_key(KEY)
    api = connect(over_http)
    refused = []
    for name, call, (method, endpoint, body) in OPERATIONS:
        try:
            call(by_python)
            error = None
        except ApiError as raised:
            error = raised
            refused.append(name)
        answer = api.request(method, endpoint, body)
        if error is None:
            assert answer.status_code in (200, 201), (name, answer.json())
        else:
            assert (answer.status_code, answer.json()) == (error.status, error.body), name
        assert by_python.state() == over_http.state(), name
    assert refused == ["a field of another type", "an invalid email", "an email/userId conflict",
                       "an event field of another type", "update the email of nobody", "create it again",
                       "items for a missing catalog", "write a forgotten user"]
    state = by_python.state()["US"]
    assert state["catalogs"] == {"shoes": {"s1": {"size": 9}}}
    assert [user["userId"] for user in state["users"]] == ["u9"]  # B (once A) was forgotten


def test_a_field_seeded_from_python_is_typed_as_over_http(mock: MockIterable, api: Api) -> None:
    mock.create_user(email=A, data_fields={"age": 3})
    answer = api.post("users/update", {"email": A, "dataFields": {"age": "three"}})
    assert answer.status_code == 400 and answer.json()["code"] == "RequestFieldsTypesMismatched"


def test_python_set_up_raises_the_error_iterable_answers(mock: MockIterable) -> None:
    mock.create_user(email=A, data_fields={"age": 3})
    with pytest.raises(ApiError) as raised:
        mock.create_user(email=A, data_fields={"age": "three"})
    assert raised.value.status == 400 and raised.value.code == "RequestFieldsTypesMismatched"
    assert "Field 'age' already exists for type 'user'" in str(raised.value)
    user = mock.get_user(email=A)
    assert user is not None and user["dataFields"]["age"] == 3  # refused whole: nothing changed


def test_a_disallowed_event_tracked_from_python_is_not_stored(mock: MockIterable) -> None:
    mock.disallow_event("Spam")
    assert mock.track_event("Spam", email=A) is None
    assert mock.events_frame().empty
