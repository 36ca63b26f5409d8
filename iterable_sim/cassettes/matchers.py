"""vcrpy matchers for Iterable calls. A matcher takes (this request, recorded request) and raises
AssertionError saying how they differ; vcrpy shows the message for the closest recorded requests.

- `iterable_body`: the JSON bodies are equal, types included; the message is a field-level diff
  naming each bulk item or event by userId, email and eventName, recorded value against now.
- `iterable_who`: the body is about the same people and events (userId, email and the event's
  createdAt, of the body or of each bulk item). Matched before the body, it ranks the recorded call
  for the same event closest, so the message vcrpy prints diffs the right pair.
- `iterable_data_center`: the Iterable host (US or EU) is the same, when both requests name one;
  a request to a mock server or proxy that does not carry an Iterable Host matches either.
"""
from __future__ import annotations

import json
from typing import Any

from iterable_sim.exceptions import IterableSimError
from iterable_sim.cassettes.bodydiff import bulk_items, describe, diff_bodies, same, who
from iterable_sim.cassettes.scrub import ITERABLE_HOSTS

_NOT_JSON = object()


class RequestMismatch(IterableSimError, AssertionError):
    """A matcher's verdict: this request is not the recorded one. vcrpy reads any AssertionError a
    matcher raises as a mismatch, and shows its message for the closest recorded requests."""


def body_json(request: Any) -> Any:
    """The parsed JSON body of a vcrpy request; None for no body; `_NOT_JSON` when it is not JSON."""
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return _NOT_JSON


def endpoint(request: Any) -> str:
    return f"{request.method} {request.path.split('/api/', 1)[-1]}"


def iterable_body(r1: Any, r2: Any) -> None:
    now, recorded = body_json(r1), body_json(r2)
    if now is _NOT_JSON or recorded is _NOT_JSON:
        if r1.body != r2.body:
            raise RequestMismatch("the bodies differ (not JSON)")
        return
    if not same(recorded, now):
        changes = diff_bodies(recorded, now)
        raise RequestMismatch(describe(changes, f"{endpoint(r1)}: {len(changes)} difference(s) from the recording"))


def subjects(body: Any) -> list[tuple[Any, Any, Any]]:
    """(userId, email, createdAt) of the body, or of each bulk item."""
    items = bulk_items(body)
    return [(who(item).get("userId"), who(item).get("email"), item.get("createdAt") if isinstance(item, dict) else None)
            for item in items]


def iterable_who(r1: Any, r2: Any) -> None:
    now, recorded = subjects(body_json(r1)), subjects(body_json(r2))
    if now != recorded:
        if len(now) == len(recorded) == 1:
            raise RequestMismatch("recorded for userId {!r}, email {!r}, createdAt {!r}; this request is for "
                                  "userId {!r}, email {!r}, createdAt {!r}".format(*recorded[0], *now[0]))
        raise RequestMismatch(f"recorded for {len(recorded)} item(s), this request carries {len(now)}, "
                              "or other people or events (see the body's differences)")


def iterable_data_center(r1: Any, r2: Any) -> None:
    now, recorded = r1.host, r2.host
    if now in ITERABLE_HOSTS and recorded in ITERABLE_HOSTS and now != recorded:
        raise RequestMismatch(f"recorded for {recorded}, this request goes to {now} (the data center changed)")


MATCHERS = {"iterable_who": iterable_who, "iterable_body": iterable_body, "iterable_data_center": iterable_data_center}
MATCH_ON = ("method", "path", "query", "iterable_data_center", "iterable_who", "iterable_body")
