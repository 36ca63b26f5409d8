"""events/track and events/trackBulk: storage, id upsert, per-item failures, disallowed names."""
from __future__ import annotations

from typing import Any, Callable

import pandas as pd
import pytest

from iterable_sim.mock import MockIterable, MockOptions

from .conftest import Api


def test_track_returns_the_id_and_stores_the_event(mock: MockIterable, api: Api) -> None:
    r = api.post("events/track", {"email": "sayan@gmail.com", "userId": "u1", "eventName": "Email Opened",
                                  "id": "1234", "createdAt": 1598631966468, "dataFields": {"subject": "s"},
                                  "campaignId": 0, "templateId": 0, "createNewFields": True})
    assert r.json() == {"msg": "Event with id: 1234 tracked.", "code": "Success", "params": {"id": "1234"}}
    events = mock.events_frame()
    assert list(events["id"]) == ["1234"]
    assert events["createdAt"][0].year == 2020  # milliseconds read as such
    assert events["dataFields"][0] == {"subject": "s"}


def test_generated_ids_are_30_hex_chars(api: Api) -> None:
    event_id = api.post("events/track", {"email": "a@example.com", "eventName": "e"}).json()["params"]["id"]
    assert len(event_id) == 30 and int(event_id, 16) >= 0


def test_an_existing_id_is_updated_not_duplicated(mock: MockIterable, api: Api) -> None:
    api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "x1", "dataFields": {"v": 1}})
    api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "x1", "dataFields": {"v": 2}})
    events = mock.events_frame()
    assert len(events) == 1 and events["dataFields"][0] == {"v": 2}


def test_event_id_longer_than_512_bytes(api: Api) -> None:
    r = api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "x" * 513})
    assert r.status_code == 400 and r.json()["code"] == "BadParams"


def test_event_field_types_are_locked_per_event_name(api: Api) -> None:
    api.post("events/track", {"email": "a@example.com", "eventName": "A", "dataFields": {"n": 1}})
    assert api.post("events/track", {"email": "a@example.com", "eventName": "B",
                                     "dataFields": {"n": "text"}}).status_code == 200
    r = api.post("events/track", {"email": "a@example.com", "eventName": "A", "dataFields": {"n": "text"}})
    assert r.status_code == 400 and r.json()["code"] == "RequestFieldsTypesMismatched"
    assert "A:::n" in r.json()["params"]["validationErrors"]


def test_track_bulk_partial_failure(mock: MockIterable, api: Api) -> None:
    r = api.post("events/trackBulk", {"events": [
        {"email": "sayan", "userId": "u1", "eventName": "Email Opened", "createdAt": 1598631966468},
        {"email": "pradip@gmail.com", "userId": "u1", "eventName": "Email Opened", "createdAt": 1598631966468},
    ]})
    assert r.status_code == 200
    assert r.json() == {
        "successCount": 1, "failCount": 1, "invalidEmails": ["sayan"], "invalidUserIds": [],
        "disallowedEventNames": [], "filteredOutFields": [], "createdFields": [],
        "failedUpdates": {"invalidEmails": ["sayan"], "invalidUserIds": [], "notFoundEmails": [],
                          "notFoundUserIds": [], "forgottenEmails": [], "forgottenUserIds": []}}
    assert len(mock.events_frame()) == 1


def test_track_bulk_two_emails_sharing_a_user_id_both_succeed(mock: MockIterable, api: Api) -> None:
    body = api.post("events/trackBulk", {"events": [
        {"email": "sayan@gmail.com", "userId": "shared", "eventName": "e"},
        {"email": "pradip@gmail.com", "userId": "shared", "eventName": "e"}]}).json()
    assert body["successCount"] == 2
    # the second email is nobody's: its userId identifies the first user, who gets both events
    assert list(mock.events_frame()["email"]) == ["sayan@gmail.com", "sayan@gmail.com"]


def test_disallowed_event_names(mock: MockIterable, api: Api) -> None:
    mock.disallow_event("Blocked")
    r = api.post("events/track", {"email": "a@example.com", "eventName": "Blocked"})
    assert r.status_code == 200 and "is disallowed from tracking" in r.json()["msg"]
    body = api.post("events/trackBulk", {"events": [{"email": "a@example.com", "eventName": "Blocked"},
                                                    {"email": "a@example.com", "eventName": "Fine"}]}).json()
    assert body["disallowedEventNames"] == ["Blocked"] and (body["successCount"], body["failCount"]) == (1, 1)
    assert list(mock.events_frame()["eventName"]) == ["Fine"]


def test_events_create_users_by_default(mock: MockIterable, api: Api) -> None:
    api.post("events/track", {"email": "new@example.com", "eventName": "e"})
    assert api.user("new@example.com")["user"]["email"] == "new@example.com"


@pytest.mark.parametrize("project_type", ["email", "userId", "hybrid"])
def test_events_without_user_creation(make_mock: Callable[..., MockIterable], connect: Callable[[MockIterable], Api],
                                      project_type: str) -> None:
    mock = make_mock(project_type, options=MockOptions(events_create_users=False))
    api = connect(mock)
    ident = {"userId": "ghost"} if project_type == "userId" else {"email": "ghost@example.com"}
    r = api.post("events/track", {**ident, "eventName": "e"})
    assert r.status_code == 400
    assert r.json()["code"] == ("UnknownUserIdError" if project_type == "userId" else "UnknownEmailError")
    body = api.post("events/trackBulk", {"events": [{**ident, "eventName": "e"}]}).json()
    listed = "notFoundUserIds" if project_type == "userId" else "notFoundEmails"
    assert body["failCount"] == 1 and body["failedUpdates"][listed] == [next(iter(ident.values()))]
    assert mock.users_frame().empty


def test_email_project_event_with_unknown_user_id_only(make_mock: Callable[..., MockIterable],
                                                       connect: Callable[[MockIterable], Api]) -> None:
    api = connect(make_mock("email"))
    r = api.post("events/track", {"userId": "ghost", "eventName": "e"})
    assert r.status_code == 400 and r.json()["code"] == "UnknownUserIdError"
    api.post("users/update", {"email": "a@example.com", "userId": "known"})
    assert api.post("events/track", {"userId": "known", "eventName": "e"}).status_code == 200


def test_events_follow_an_email_change(mock: MockIterable, api: Api) -> None:
    api.post("events/track", {"email": "old@example.com", "eventName": "e"})
    api.post("users/updateEmail", {"currentEmail": "old@example.com", "newEmail": "new@example.com"})
    assert list(mock.events_frame()["email"]) == ["new@example.com"]


def test_created_at_in_milliseconds_is_stored_exactly(mock: MockIterable, api: Api) -> None:
    """Issue 12, item 18: no float rounding (…200123 once became …200122999907)."""
    api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "ms", "createdAt": 1700000200123})
    api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "s", "createdAt": 1700000200})
    api.post("commerce/trackPurchase", {"user": {"email": "a@example.com"}, "items": [], "total": 1.0, "id": "o",
                                        "createdAt": 1700000200123})
    events = mock.events_frame().set_index("id")["createdAt"]
    assert events["ms"] == pd.Timestamp(1700000200123, unit="ms", tz="UTC")
    assert events["ms"].microsecond == 123000 and events["ms"].nanosecond == 0
    assert events["s"] == pd.Timestamp(1700000200, unit="s", tz="UTC")
    assert mock.purchases_frame()["createdAt"][0] == pd.Timestamp(1700000200123, unit="ms", tz="UTC")
    assert [e["createdAt"] for e in mock.state()["US"]["events"]] == [1700000200123, 1700000200000]


@pytest.mark.parametrize("absent", [{}, {"campaignId": None, "templateId": None, "createdAt": None}])
def test_re_tracking_an_id_updates_the_event_and_keeps_what_it_leaves_out(mock: MockIterable, api: Api,
                                                                          absent: dict[str, Any]) -> None:
    """Issue 12, item 19. Iterable's TrackRequest.id: "If an event exists with that id, the event will
    be updated": an update, as users/update merges, not a replacement (docs/mock.md)."""
    api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "x1", "createdAt": 1700000000000,
                              "campaignId": 5, "templateId": 7, "dataFields": {"a": 1, "b": 2}})
    api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "x1", "dataFields": {"b": 3},
                              **absent})
    [event] = mock.events_frame().to_dict("records")
    assert (event["createdAt"], event["campaignId"], event["templateId"]) == (pd.Timestamp(1700000000, unit="s", tz="UTC"), 5, 7)
    assert event["dataFields"] == {"a": 1, "b": 3}
    api.post("events/track", {"email": "a@example.com", "eventName": "e", "id": "x1", "campaignId": 6,
                              "createdAt": 1700000001000})
    [event] = mock.events_frame().to_dict("records")
    assert (event["createdAt"], event["campaignId"], event["templateId"]) == (pd.Timestamp(1700000001, unit="s", tz="UTC"), 6, 7)
