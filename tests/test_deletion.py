"""delete_users(): RudderStack's user deletion for Iterable, against a scripted transport (no network)."""
from __future__ import annotations

import logging
from typing import Literal

import httpx
import pytest

import iterable_sim as its
from iterable_sim import DeletionResult, delete_users

KEY = "secret-deletion-key"


class Iterable:
    """A scripted Iterable: userId -> (status, body); records every call it gets."""

    def __init__(self, answers: dict[str, tuple[int, object]] | None = None) -> None:
        self.answers = answers or {}
        self.calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        user_id = request.url.raw_path.decode().rsplit("/", 1)[-1]
        status, body = self.answers.get(user_id, (200, {"msg": "deleted", "code": "Success", "params": None}))
        return httpx.Response(status, json=body)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def test_every_user_with_a_user_id_is_deleted_on_the_us_host_with_the_key_in_the_header():
    iterable = Iterable()
    result = delete_users([{"userId": "u1"}, {"email": "no-id@example.com"}, {"userId": "u2"}], {"apiKey": KEY},
                          transport=iterable.transport())
    assert (result.status, result.error, result.ok) == (200, None, True)
    assert result.deleted == ("u1", "u2")
    assert [(c.method, str(c.url)) for c in iterable.calls] == [
        ("DELETE", "https://api.iterable.com/api/users/byUserId/u1"),
        ("DELETE", "https://api.iterable.com/api/users/byUserId/u2"),
    ]
    assert all(c.headers["api_key"] == KEY and c.headers["content-type"] == "application/json"
               for c in iterable.calls)


def test_the_eu_data_center_deletes_on_the_eu_host():
    iterable = Iterable()
    delete_users([{"userId": "u1"}], {"apiKey": KEY, "dataCenter": "EUDC"}, transport=iterable.transport())
    assert str(iterable.calls[0].url) == "https://api.eu.iterable.com/api/users/byUserId/u1"


def test_a_user_id_is_one_path_segment_whatever_it_holds():
    iterable = Iterable()
    delete_users([{"userId": "a/b?c#d é"}], {"apiKey": KEY}, transport=iterable.transport())
    assert iterable.calls[0].url.raw_path == b"/api/users/byUserId/a%2Fb%3Fc%23d%20%C3%A9"


def test_a_user_iterable_does_not_know_counts_as_deleted():
    iterable = Iterable({"gone": (404, {"msg": "not found"})})
    result = delete_users([{"userId": "gone"}], {"apiKey": KEY}, transport=iterable.transport())
    assert (result.status, result.error, result.deleted) == (200, None, ("gone",))


def test_users_iterable_refuses_are_listed_in_rudderstacks_words():
    iterable = Iterable({"u2": (400, {"msg": "User does not exist. Email:  UserId: u2", "code": "BadParams"})})
    result = delete_users([{"userId": "u1"}, {"userId": "u2"}], {"apiKey": KEY}, transport=iterable.transport())
    assert result.status == 400
    assert result.error == ('User deletion request failed for userIds : '
                            '[{"userId":"u2","Reason":"User does not exist. Email:  UserId: u2"}]')
    assert result.deleted == ("u1",)
    assert result.failed == (("u2", 400, "User does not exist. Email:  UserId: u2"),)


def test_a_failure_that_is_not_about_one_user_fails_the_request_with_its_status():
    iterable = Iterable({"u1": (401, {"msg": "Invalid API key"}), "u2": (401, {"msg": "Invalid API key"})})
    result = delete_users([{"userId": "u1"}, {"userId": "u2"}], {"apiKey": "wrong"}, transport=iterable.transport())
    assert (result.status, result.error) == (401, "User deletion request failed : Invalid API key")
    assert len(iterable.calls) == 2  # RudderStack sends them all at once: every user is still asked for


def test_no_answer_at_all_is_a_clear_server_side_failure():
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    result = delete_users([{"userId": "u1"}], {"apiKey": KEY}, transport=httpx.MockTransport(unreachable))
    assert result.status == 500 and "no answer from Iterable (ConnectError)" in result.error


@pytest.mark.parametrize("attributes, config, error", [
    ([{"userId": "u1"}], None, "Config for deletion not present"),
    ([{"userId": "u1"}], {}, "Config for deletion not present"),
    ([{"userId": "u1"}], {"apiToken": KEY}, "api key for deletion not present"),
    ([{"userId": "u1"}], {"apiKey": ""}, "api key for deletion not present"),
    ({"userId": "u1"}, {"apiKey": KEY}, "userAttributes is not an array"),
])
def test_nothing_is_sent_without_a_config_an_api_key_or_a_list_of_users(attributes, config, error):
    iterable = Iterable()
    result = delete_users(attributes, config, transport=iterable.transport())
    assert result == DeletionResult(400, error)
    assert iterable.calls == []


def test_the_api_key_is_never_logged_nor_shown(caplog):
    caplog.set_level(logging.DEBUG)
    iterable = Iterable({"u1": (401, {"msg": "Invalid API key"})})
    result = delete_users([{"userId": "u1"}], {"apiKey": KEY}, transport=iterable.transport())
    assert KEY not in caplog.text
    assert KEY not in repr(result) and KEY not in (result.error or "")


def mock_with_user(user_id: str, data_center: Literal["USDC", "EUDC"] = "USDC") -> its.MockIterable:
    mock = its.MockIterable(clock=its.ManualClock())
    mock.add_api_key("k")
    its.send([{"type": "identify", "userId": user_id, "traits": {"email": f"{user_id}@example.com"}}],
             its.Settings(api_key="k", data_center=data_center), to=mock, progress=False)
    assert len(mock.users_frame()) == 1
    return mock


def test_delete_users_goes_to_a_fresh_mock_unless_told_otherwise():
    result = its.delete_users([{"userId": "u1"}], {"apiKey": "k"})
    assert result.target == "the in-process mock Iterable"
    assert result.mock.journal_frame()[["method", "endpoint"]].values.tolist() == [["DELETE", "users/byUserId/{userId}"]]


def test_delete_users_deletes_from_the_mock_it_is_given():
    mock = mock_with_user("u1")
    assert its.delete_users([{"userId": "u1"}], {"apiKey": "k"}, to=mock).ok
    assert mock.users_frame().empty


@pytest.mark.server
def test_delete_users_deletes_through_a_server_in_the_configs_data_center():
    mock = mock_with_user("u2", "EUDC")
    with mock.serve() as url:
        result = its.delete_users([{"userId": "u2"}], {"apiKey": "k", "dataCenter": "EUDC"}, to=url)
    assert result.ok and result.target == url and mock.users_frame().empty


def test_delete_users_reaches_iterable_only_when_live_is_named():
    calls = []
    transport = httpx.MockTransport(lambda request: calls.append(str(request.url)) or httpx.Response(200, json={}))
    result = its.delete_users([{"userId": "u1"}], {"apiKey": "k", "dataCenter": "EUDC"}, transport, to=its.LIVE)
    assert result.ok and result.target == "live Iterable"
    assert calls == ["https://api.eu.iterable.com/api/users/byUserId/u1"]


def test_delete_users_refuses_a_key_no_header_can_carry_before_deleting_anything():
    mock = mock_with_user("u1")
    with pytest.raises(its.SettingsError, match="apiKey has a character"):
        its.delete_users([{"userId": "u1"}], {"apiKey": "…"}, to=mock)
    assert len(mock.users_frame()) == 1


def test_delete_users_refuses_a_destination_it_does_not_know():
    with pytest.raises(ValueError, match="give a URL"):
        its.delete_users([{"userId": "u1"}], {"apiKey": "k"}, to="production")
