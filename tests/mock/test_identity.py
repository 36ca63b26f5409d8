"""Identity rules per project type: who gets created, precedence, preferUserId, conflicts,
forgotten versus deleted users."""
from __future__ import annotations

from typing import Callable

import pytest

from iterable_sim.mock import MockIterable, MockOptions

from .conftest import Api


@pytest.fixture
def typed(make_mock: Callable[..., MockIterable], connect: Callable[[MockIterable], Api],
          project_type: str) -> tuple[MockIterable, Api]:
    mock = make_mock(project_type)
    return mock, connect(mock)


def test_users_update_creates_a_user_in_every_project_type(typed: tuple[MockIterable, Api], project_type: str) -> None:
    mock, api = typed
    assert api.post("users/update", {"email": "a@example.com", "userId": "u1",
                                     "dataFields": {"plan": "pro"}}).status_code == 200
    user = api.user(user_id="u1")["user"]
    assert user["email"] == "a@example.com" and user["userId"] == "u1"
    assert user["dataFields"]["plan"] == "pro"
    assert len(mock.users_frame()) == 1


def test_email_only_identifies_except_in_userid_projects(typed: tuple[MockIterable, Api], project_type: str) -> None:
    _, api = typed
    r = api.post("users/update", {"email": "a@example.com"})
    if project_type == "userId":
        assert r.status_code == 400 and r.json()["code"] == "BadParams"
    else:
        assert r.status_code == 200 and api.user("a@example.com")["user"]["email"] == "a@example.com"


def test_user_id_only(typed: tuple[MockIterable, Api], project_type: str) -> None:
    _, api = typed
    r = api.post("users/update", {"userId": "u1"})
    if project_type == "email":  # a userId alone only finds users in email-based projects
        assert r.status_code == 400 and r.json()["code"] == "UnknownUserIdError"
        assert api.user(user_id="u1") == {}
    else:
        assert r.status_code == 200 and api.user(user_id="u1")["user"]["userId"] == "u1"


def test_prefer_user_id_creates_a_placeholder_email_in_email_projects(typed: tuple[MockIterable, Api],
                                                                        project_type: str) -> None:
    _, api = typed
    assert api.post("users/update", {"userId": "u1", "preferUserId": True}).status_code == 200
    email = api.user(user_id="u1")["user"]["email"]
    if project_type == "email":
        assert email.endswith("@placeholder.email")
    else:  # ignored outside email-based projects
        assert email == ""


def test_email_wins_and_user_id_is_written_in_email_projects(make_mock: Callable[..., MockIterable],
                                                             connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock("email")
    api = connect(mock)
    api.post("users/update", {"email": "a@example.com", "userId": "old"})
    api.post("users/update", {"email": "a@example.com", "userId": "new"})
    assert api.user("a@example.com")["user"]["userId"] == "new"
    # userIds are not unique in email-based projects
    assert api.post("users/update", {"email": "b@example.com", "userId": "new"}).status_code == 200
    assert len(mock.users_frame()) == 2


def test_hybrid_conflict_between_two_users_is_409(make_mock: Callable[..., MockIterable],
                                                  connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock("hybrid")
    api = connect(mock)
    mock.create_user(email="a@example.com", user_id="ua")
    mock.create_user(email="b@example.com", user_id="ub")
    r = api.post("users/update", {"email": "a@example.com", "userId": "ub"})
    assert r.status_code == 409 and r.json()["code"] == "Conflict"
    r = api.post("users/update", {"userId": "ua", "dataFields": {"email": "b@example.com"}})
    assert r.status_code == 409
    bulk = api.post("users/bulkUpdate", {"users": [{"email": "a@example.com", "userId": "ub"},
                                                   {"email": "c@example.com", "userId": "uc"}]}).json()
    assert (bulk["successCount"], bulk["failCount"]) == (1, 1)
    assert bulk["failedUpdates"]["conflictUserIds"] == ["ub"]


def test_hybrid_email_change_through_data_fields(make_mock: Callable[..., MockIterable],
                                                 connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock("hybrid")
    api = connect(mock)
    mock.create_user(email="old@example.com", user_id="u1")
    r = api.post("users/update", {"userId": "u1", "dataFields": {"email": "new@example.com"}})
    assert r.status_code == 200
    assert api.user("old@example.com") == {}
    assert api.user("new@example.com")["user"]["userId"] == "u1"
    # a known userId with an email nobody holds: the user moves to that email (as after an alias)
    r = api.post("users/update", {"userId": "u1", "email": "other@example.com"})
    assert r.status_code == 200
    assert api.user("other@example.com")["user"]["userId"] == "u1" and api.user("new@example.com") == {}


def test_hybrid_a_new_user_cannot_take_an_identifier_another_user_holds(
        make_mock: Callable[..., MockIterable], connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock("hybrid")
    api = connect(mock)
    mock.create_user(email="a@example.com", user_id="ua")
    r = api.post("users/update", {"email": "new@example.com", "dataFields": {"userId": "ua"}})
    assert r.status_code == 409 and r.json()["code"] == "Conflict"
    r = api.post("users/update", {"email": "fresh@example.com", "dataFields": {"email": "a@example.com"}})
    assert r.status_code == 409 and r.json()["code"] == "Conflict"
    assert len(mock.users_frame()) == 1  # nobody was created


def test_hybrid_userid_moving_email_can_be_a_conflict_instead(
        make_mock: Callable[..., MockIterable], connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock("hybrid", options=MockOptions(userid_moves_email=False))
    api = connect(mock)
    mock.create_user(email="old@example.com", user_id="u1")
    r = api.post("users/update", {"userId": "u1", "email": "other@example.com"})
    assert r.status_code == 409 and r.json()["code"] == "Conflict"
    assert api.user("old@example.com")["user"]["userId"] == "u1"


def test_userid_projects_share_emails(make_mock: Callable[..., MockIterable],
                                      connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock("userId")
    api = connect(mock)
    api.post("users/update", {"userId": "u1", "email": "same@example.com"})
    api.post("users/update", {"userId": "u2", "email": "same@example.com"})
    assert len(mock.users_frame()) == 2
    r = api.post("users/update", {"userId": "u1", "dataFields": {"userId": "u2"}})
    assert r.status_code == 409


def test_forget_blocks_future_writes(typed: tuple[MockIterable, Api], project_type: str) -> None:
    mock, api = typed
    ident = {"userId": "u1"} if project_type == "userId" else {"email": "a@example.com"}
    api.post("users/update", {**ident, "userId": "u1", "dataFields": {"x": 1}})
    api.post("events/track", {**ident, "eventName": "e"})
    assert api.post("users/forget", ident).status_code == 200
    assert mock.users_frame().empty and mock.events_frame().empty
    r = api.post("users/update", {**ident, "userId": "u1"})
    assert r.status_code == 409 and r.json()["code"] == "ForgottenUserError"
    assert api.post("events/track", {**ident, "eventName": "e"}).status_code == 409
    bulk = api.post("users/bulkUpdate", {"users": [ident]}).json()
    field = "forgottenUserIds" if project_type == "userId" else "forgottenEmails"
    assert bulk["failCount"] == 1 and bulk["failedUpdates"][field] == [ident.get("email", "u1")]
    events = api.post("events/trackBulk", {"events": [{**ident, "eventName": "e"}]}).json()
    assert events["failedUpdates"][field] == [ident.get("email", "u1")]


def test_forget_identifier_rules(typed: tuple[MockIterable, Api], project_type: str) -> None:
    _, api = typed
    by_user_id = api.post("users/forget", {"userId": "u1"})
    by_email = api.post("users/forget", {"email": "a@example.com"})
    assert by_user_id.status_code == (400 if project_type == "email" else 200)
    assert by_email.status_code == (400 if project_type == "userId" else 200)


def test_delete_does_not_block_re_creation(typed: tuple[MockIterable, Api], project_type: str) -> None:
    mock, api = typed
    api.post("users/update", {"email": "a@example.com", "userId": "u1"})
    r = api.delete("users/byUserId/u1")
    assert r.status_code == 200
    assert r.json()["msg"] == "All users associated with u1 were successfully deleted"
    assert mock.users_frame().empty
    assert api.post("users/update", {"email": "a@example.com", "userId": "u1"}).status_code == 200
    assert len(mock.users_frame()) == 1


def test_delete_by_email(typed: tuple[MockIterable, Api], project_type: str) -> None:
    mock, api = typed
    api.post("users/update", {"email": "a@example.com", "userId": "u1"})
    r = api.delete("users/a@example.com")
    if project_type == "userId":
        assert r.status_code == 400
    else:
        assert r.json() == {"msg": "", "code": "Success", "params": None}
        assert mock.users_frame().empty


def test_delete_unknown_user(api: Api) -> None:
    r = api.delete("users/byUserId/ghost")
    assert r.status_code == 400
    assert r.json() == {"msg": "User does not exist. Email:  UserId: ghost", "code": "BadParams", "params": None}
    # by email, Iterable answers an address it does not hold as a deletion (recorded 2021)
    assert api.delete("users/ghost@example.com").json() == {"msg": "", "code": "Success", "params": None}


def test_delete_by_user_id_deletes_every_user_sharing_it(make_mock: Callable[..., MockIterable],
                                                         connect: Callable[[MockIterable], Api]) -> None:
    mock = make_mock("email")
    api = connect(mock)
    api.post("users/update", {"email": "a@example.com", "userId": "shared"})
    api.post("users/update", {"email": "b@example.com", "userId": "shared"})
    assert api.delete("users/byUserId/shared").status_code == 200
    assert mock.users_frame().empty


def test_data_centers_are_separate_projects(mock: MockIterable, api: Api) -> None:
    api.post("users/update", {"email": "eu@example.com", "userId": "eu1"}, dc="EU")
    assert api.user("eu@example.com", dc="EU")["user"]["userId"] == "eu1"
    assert api.user("eu@example.com", dc="US") == {}
    assert list(mock.users_frame()["data_center"]) == ["EU"]


def test_create_user_rejects_bad_identifiers(mock: MockIterable) -> None:
    with pytest.raises(ValueError):
        mock.create_user(email="not-an-email")
    assert mock.create_user(email="a@example.com", user_id="u")["userId"] == "u"
    user = mock.get_user(user_id="u")
    assert user is not None and user["email"] == "a@example.com"
