"""attribute(): the outcome of each event in a request, from Iterable's answer, as RudderStack reads it.

Three cases, as RudderStack's Iterable response handling has them:
- an HTTP error (not 2xx): the whole request failed; every event gets that status, and as error the
  answer's body as JSON.stringify writes it;
- a 2xx answer to users/bulkUpdate or events/trackBulk: each item is failed (400) when its userId or
  email is in one of the answer's failure lists, or its eventName in disallowedEventNames; the
  others succeeded;
- any other 2xx answer: every event succeeded.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping.jsvalues import UNDEFINED, js_json, js_string, truthy
from iterable_sim.mapping.request import Request

SUCCESS = "success"
BULK_ENDPOINTS = ("/api/users/bulkUpdate", "/api/events/trackBulk")


class AttributionError(IterableSimError, ValueError):
    """attribute() given job ids that do not pair one to one with a bulk request's items."""


# Where a bulk answer lists the values it refused, and what each list means in plain words.
USER_ID_LISTS = {
    "invalidUserIds": "is not a valid userId",
    "failedUpdates.invalidUserIds": "is not a valid userId",
    "failedUpdates.notFoundUserIds": "matches no user in the project",
    "failedUpdates.forgottenUserIds": "belongs to a forgotten (GDPR-deleted) user",
    "failedUpdates.conflictUserIds": "conflicts with another user",
    "failedUpdates.invalidDataUserIds": "came with data fields Iterable refused",
}
EMAIL_LISTS = {
    "invalidEmails": "is not a valid email",
    "failedUpdates.invalidEmails": "is not a valid email",
    "failedUpdates.notFoundEmails": "matches no user in the project",
    "failedUpdates.forgottenEmails": "belongs to a forgotten (GDPR-deleted) user",
    "failedUpdates.conflictEmails": "conflicts with another user",
    "failedUpdates.invalidDataEmails": "came with data fields Iterable refused",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event: `error` is "success" when delivered, else RudderStack's error text."""

    job_id: Any
    status: int
    error: str
    reason: str = "delivered"  # the same, in plain words
    retryable: bool = False  # RudderStack would try again (429 and 5xx); other failures are final

    @property
    def delivered(self) -> bool:
        return self.error == SUCCESS


def attribute(request: Request, job_ids: Sequence[Any], http_status: int, response_body: Any) -> list[Outcome]:
    """The outcome of each job carried by `request`, given Iterable's HTTP status and answer.

    `job_ids` are in the order of the request's items (a bulk request's users or events).
    `response_body` is the parsed JSON answer, or its raw text or bytes (parsed here when it is JSON).
    """
    body = _parsed(response_body)
    if not 200 <= http_status < 300:
        error = js_json(body)
        reason = _request_failure(http_status, body)
        retryable = http_status == 429 or http_status >= 500
        return [Outcome(job_id, http_status, error, reason, retryable) for job_id in job_ids]
    if any(path in request.url for path in BULK_ENDPOINTS):
        return _bulk_outcomes(request, job_ids, body)
    return [Outcome(job_id, http_status, SUCCESS) for job_id in job_ids]


def _bulk_outcomes(request: Request, job_ids: Sequence[Any], body: Any) -> list[Outcome]:
    payload = request.json if isinstance(request.json, dict) else {}
    items = payload.get("events")
    if not truthy(items):  # RudderStack takes `events || users`
        items = payload.get("users")
    items = items if isinstance(items, list) else []
    if len(items) != len(job_ids):
        raise AttributionError(f"{request.endpoint} carries {len(items)} item(s) but {len(job_ids)} job id(s) were given: "
                               f"give one job id per item, in the items' order")
    check = _failure_checker(body)
    outcomes = []
    for job_id, item in zip(job_ids, items, strict=True):
        failures = check(item) if isinstance(item, dict) else []
        if not failures:
            outcomes.append(Outcome(job_id, 200, SUCCESS))
            continue
        error = "".join(f'{field} error:"{value}" in "{",".join(paths)}".' for field, value, paths, _ in failures)
        reason = "; ".join(f"{field} {value!r} {words}" for field, value, _, words in failures)
        outcomes.append(Outcome(job_id, 400, error, f"Iterable refused this item: {reason}"))
    return outcomes


Failure = tuple[str, str, list[str], str]  # (field, value as text, lists it is in, plain words)


def _failure_checker(body: Any) -> Callable[[dict[str, Any]], list[Failure]]:
    """From a bulk answer, a function telling which failure lists name an item's userId, email or eventName."""
    answer = body if isinstance(body, dict) else {}
    fail_count = answer.get("failCount")
    if type(fail_count) in (int, float) and fail_count == 0:
        return lambda item: []
    user_ids = _listed(answer, USER_ID_LISTS)
    emails = _listed(answer, EMAIL_LISTS)
    disallowed = answer.get("disallowedEventNames")
    names = {_js_key(name) for name in disallowed} if isinstance(disallowed, list) else set()

    def check(item: dict[str, Any]) -> list[Failure]:
        failures: list[Failure] = []
        for field, lists, meanings in (("userId", user_ids, USER_ID_LISTS), ("email", emails, EMAIL_LISTS)):
            value = item.get(field, UNDEFINED)
            paths = lists.get(_js_key(value)) if truthy(value) else None
            if paths:
                failures.append((field, js_string(value), paths, meanings[paths[0]]))
        name = item.get("eventName", UNDEFINED)
        if truthy(name) and _js_key(name) in names:
            failures.append(("eventName", js_string(name), ["disallowedEventNames"], "is a disallowed event name"))
        return failures

    return check


def _listed(answer: dict[str, Any], lists: dict[str, str]) -> dict[Any, list[str]]:
    """value -> the lists naming it, once per mention (as RudderStack counts them)."""
    found: dict[Any, list[str]] = {}
    for path in lists:
        node: Any = answer
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, list):
            for value in node:
                key = _js_key(value)
                if key is not None:
                    found.setdefault(key, []).append(path)
    return found


def _js_key(value: Any) -> Any:
    """A lookup key equal where JavaScript's Map finds two values equal (1 and 1.0 are; 1 and '1', true and 1 are not)."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, (int, float)):
        return ("number", float(value)) if not math.isnan(value) else None
    if isinstance(value, str):
        return ("string", value)
    return None  # objects and arrays match only themselves: never a value of an item


def _request_failure(status: int, body: Any) -> str:
    """Iterable's reason for refusing a whole request, in plain words."""
    if isinstance(body, dict):
        code = body.get("code")
        message = body.get("msg") or body.get("message")
        detail = body.get("params")
        parts = [f"HTTP {status}" + (f" {code}" if isinstance(code, str) and code else "")]
        if isinstance(message, str) and message:
            parts.append(message)
        if detail:
            parts.append(js_json(detail))
        return "Iterable refused the whole request: " + ": ".join(parts)
    text = body if isinstance(body, str) else js_json(body)
    return f"Iterable refused the whole request: HTTP {status}" + (f": {text}" if text else "")


def _parsed(body: Any) -> Any:
    """An answer given as text or bytes is parsed when it is JSON, and kept as text when it is not."""
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body
