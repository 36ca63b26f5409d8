"""attribute(): each event's outcome from Iterable's answer, as RudderStack attributes it."""
from __future__ import annotations

from typing import Any

import pytest

from iterable_sim import Outcome, Request, Settings, attribute, route

HEADERS = {"Content-Type": "application/json", "api_key": "secret-key"}
TRACK_BULK = "https://api.iterable.com/api/events/trackBulk"
USERS_BULK = "https://api.eu.iterable.com/api/users/bulkUpdate"


def bulk_events(*items: dict) -> Request:
    return Request("POST", TRACK_BULK, HEADERS, {"events": list(items)})


def bulk_users(*items: dict) -> Request:
    return Request("POST", USERS_BULK, HEADERS, {"users": list(items)})


def answer(fail_count: int = 1, **lists) -> dict:
    body = {"successCount": 0, "failCount": fail_count, "invalidEmails": [], "invalidUserIds": [],
            "disallowedEventNames": [], "failedUpdates": {"invalidEmails": [], "notFoundUserIds": []}}
    for path, values in lists.items():
        node: dict[str, Any] = body
        *parents, last = path.split("__")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[last] = values
    return body


def view(outcomes: list[Outcome]) -> list[tuple]:
    return [(o.job_id, o.status, o.error) for o in outcomes]


# ---------------------------------------------------------------- bulk answers, item by item


def test_a_clean_bulk_answer_delivers_every_event():
    request = bulk_events({"email": "a@example.com", "eventName": "e"}, {"userId": "u2", "eventName": "e"})
    outcomes = attribute(request, [1, 2], 200, answer(fail_count=0))
    assert view(outcomes) == [(1, 200, "success"), (2, 200, "success")]
    assert all(o.delivered and o.reason == "delivered" for o in outcomes)


def test_only_the_items_named_in_the_failure_lists_fail():
    request = bulk_users({"email": "good@example.com"}, {"email": "bad", "userId": "u2"})
    body = answer(invalidEmails=["bad"], failedUpdates__invalidEmails=["bad"])
    outcomes = attribute(request, ["j1", "j2"], 200, body)
    assert view(outcomes) == [
        ("j1", 200, "success"),
        ("j2", 400, 'email error:"bad" in "invalidEmails,failedUpdates.invalidEmails".'),
    ]
    assert "'bad' is not a valid email" in outcomes[1].reason
    assert not outcomes[1].retryable


def test_a_disallowed_event_name_fails_only_its_events():
    request = bulk_events({"userId": "u1", "eventName": "ok"}, {"userId": "u2", "eventName": "blocked"},
                          {"userId": "u3", "eventName": "blocked"})
    outcomes = attribute(request, [1, 2, 3], 200, answer(disallowedEventNames=["blocked"]))
    assert view(outcomes) == [(1, 200, "success"),
                              (2, 400, 'eventName error:"blocked" in "disallowedEventNames".'),
                              (3, 400, 'eventName error:"blocked" in "disallowedEventNames".')]


def test_several_failures_of_one_item_are_reported_userId_then_email_then_event_name():
    request = bulk_events({"userId": "ghost", "email": "x@", "eventName": "blocked"})
    body = answer(failedUpdates__notFoundUserIds=["ghost"], invalidEmails=["x@"], disallowedEventNames=["blocked"])
    [outcome] = attribute(request, [9], 200, body)
    assert outcome.error == ('userId error:"ghost" in "failedUpdates.notFoundUserIds".'
                             'email error:"x@" in "invalidEmails".'
                             'eventName error:"blocked" in "disallowedEventNames".')
    assert "matches no user" in outcome.reason


def test_a_fail_count_of_zero_means_nothing_failed_whatever_the_lists_say():
    request = bulk_events({"email": "bad", "eventName": "e"})
    assert view(attribute(request, [1], 200, answer(fail_count=0, invalidEmails=["bad"]))) == [(1, 200, "success")]


def test_values_match_as_javascript_compares_them():
    request = bulk_users({"userId": 123}, {"userId": "456"})
    outcomes = attribute(request, [1, 2], 200, answer(invalidUserIds=["123", 456]))
    assert view(outcomes) == [(1, 200, "success"), (2, 200, "success")]  # a number never equals a string


def test_a_bulk_request_needs_one_job_id_per_item():
    with pytest.raises(ValueError, match="2 item.*3 job id"):
        attribute(bulk_events({"userId": "a"}, {"userId": "b"}), [1, 2, 3], 200, answer(fail_count=0))


# ---------------------------------------------------------------- whole-request answers


def test_an_http_error_fails_every_event_with_the_answer_as_error():
    body = {"msg": "[/api/events/trackBulk] Invalid JSON body", "code": "BadJsonBody",
            "params": {"obj.events[1].createdAt": "Number value expected"}}
    outcomes = attribute(bulk_events({"userId": "a"}, {"userId": "b"}), [1, 2], 400, body)
    error = ('{"msg":"[/api/events/trackBulk] Invalid JSON body","code":"BadJsonBody",'
             '"params":{"obj.events[1].createdAt":"Number value expected"}}')
    assert view(outcomes) == [(1, 400, error), (2, 400, error)]
    assert outcomes[0].reason.startswith("Iterable refused the whole request: HTTP 400 BadJsonBody")
    assert not outcomes[0].retryable


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_retryable(status):
    [outcome] = attribute(Request("POST", "https://api.iterable.com/api/events/track", HEADERS, {}), [1], status,
                          {"msg": "slow down"})
    assert (outcome.status, outcome.error, outcome.retryable) == (status, '{"msg":"slow down"}', True)


def test_a_single_call_that_succeeds_delivers_its_event_with_iterables_status():
    request = Request("POST", "https://api.iterable.com/api/commerce/trackPurchase", HEADERS, {"user": {}})
    assert view(attribute(request, ["p"], 201, {"msg": "ok", "code": "Success"})) == [("p", 201, "success")]


def test_answers_given_as_text_or_bytes_are_read_as_json_when_they_are():
    request = Request("POST", "https://api.iterable.com/api/users/updateEmail", HEADERS, {})
    [from_bytes] = attribute(request, [1], 400, b'{"msg": "Invalid currentEmail x", "code": "InvalidEmailAddressError"}')
    assert from_bytes.error == '{"msg":"Invalid currentEmail x","code":"InvalidEmailAddressError"}'
    [plain_text] = attribute(request, [1], 502, "Bad Gateway")
    assert plain_text.error == '"Bad Gateway"'


def test_the_error_writes_json_as_javascript_does():
    request = Request("POST", "https://api.iterable.com/api/events/track", HEADERS, {})
    [outcome] = attribute(request, [1], 400, {"b": 1.0, "10": "é\n", "2": [1e21, 0.5, None]})
    assert outcome.error == '{"2":[1e+21,0.5,null],"10":"é\\n","b":1}'


# ---------------------------------------------------------------- with route


def test_attribution_follows_the_jobs_each_routed_request_carries():
    settings = Settings.from_rudder({"apiKey": "k", "registerDeviceOrBrowserApiKey": "dk", "trackAllPages": True})
    events = [{"type": "identify", "userId": f"u{i}", "traits": {"email": f"u{i}@example.com"}} for i in range(3)]
    events[2]["context"] = {"device": {"token": "t", "type": "android"}}
    [batch] = route([(f"job{i}", e, settings) for i, e in enumerate(events)])
    bulk, device = batch.requests
    jobs_bulk, jobs_device = batch.request_job_ids
    users = attribute(bulk, jobs_bulk, 200, answer(invalidUserIds=["u1"]))
    assert view(users) == [("job0", 200, "success"), ("job1", 400, 'userId error:"u1" in "invalidUserIds".'),
                           ("job2", 200, "success")]
    assert view(attribute(device, jobs_device, 401, {"msg": "no"})) == [("job2", 401, '{"msg":"no"}')]
