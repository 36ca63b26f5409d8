"""delete_users(): RudderStack's user deletion for Iterable (a regulation request), with its results and messages.

One DELETE users/byUserId/{userId} per user that has a userId (users without one are skipped, as
RudderStack skips them), on the US or EU host by the config's dataCenter. An answer of 2xx or 404
counts as deleted; 400 is a per-user failure; any other status fails the whole request, and so does
no answer at all (status 500, as RudderStack reports a network failure). The API key travels only in
the api_key header and is never logged or kept.

A deletion is the most destructive call there is, so it goes where send() goes: to a fresh
in-process mock Iterable unless the caller names a mock, a URL, or live Iterable (`to=LIVE`, with
the config's apiKey).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote, urlsplit

import httpx

from iterable_sim.mapping.jsvalues import js_json
from iterable_sim.clock import ManualClock
from iterable_sim.hosts import BASE_URLS
from iterable_sim.mapping.jsvalues import UNDEFINED, js_string, truthy
from iterable_sim.mock import MockIterable
from iterable_sim.send.targets import Target, resolve_target
from iterable_sim.mapping.releases import LATEST, Release, resolve_release
from iterable_sim.mapping.settings import SettingsError, header_problem

# Characters a path segment may hold as they are (RFC 3986 pchar); anything else is percent-encoded,
# so a userId with '/', '?' or '#' still names one user.
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"


@dataclass(frozen=True, slots=True)
class DeletionResult:
    """RudderStack's answer to a deletion request: status 200 with error None, or the failure's status and message."""

    status: int
    error: str | None = None
    deleted: tuple[Any, ...] = ()  # userIds Iterable deleted, or did not know (404)
    failed: tuple[tuple[Any, int, str], ...] = ()  # (userId, HTTP status, Iterable's message) per user not deleted
    target: str = ""  # where the deletions went
    mock: MockIterable | None = None  # the MockIterable delete_users made, when `to` was None

    @property
    def ok(self) -> bool:
        return self.error is None


def delete_users(user_attributes: Any, config: Mapping[str, Any] | None,
                 transport: httpx.BaseTransport | None = None, *, to: Target = None,
                 rudderstack: str | Release = LATEST) -> DeletionResult:
    """Delete the users in `user_attributes` ([{"userId": ...}, ...]) from the Iterable project of `config`.

    `config` is the RudderStack destination Config (apiKey, dataCenter). Without an apiKey nothing is
    sent. Where the calls go, as for send(): `to=None` a fresh in-process MockIterable (kept as
    `result.mock`), a MockIterable, a URL (the mock server), or `LIVE` for Iterable itself. A
    `transport` (httpx.MockTransport, ...) is used as given, wherever `to` points. `rudderstack` is the
    rudder-transformer release to delete as (Settings.rudderstack): before v1.85.0 (rule eu_data_center,
    1c134f846) dataCenter "EUDC" is ignored and the calls go to the US host.
    """
    release = resolve_release(rudderstack)[0]
    refusal = _refusal(user_attributes, config)
    if refusal is not None:
        return refusal
    api_key = config.get("apiKey")  # type: ignore[union-attr]
    problem = header_problem("apiKey", api_key)
    if problem:
        raise SettingsError(problem)
    headers = {"Content-Type": "application/json", "api_key": js_string(api_key)}
    user_ids = [a["userId"] for a in user_attributes if isinstance(a, dict) and truthy(a.get("userId"))]
    target, server, transport, mock = _destination(to, transport, headers["api_key"])
    data_center = config.get("dataCenter") if release.has("eu_data_center") else "USDC"  # type: ignore[union-attr]
    base_url, host = _base_url(data_center, server)
    if host is not None:
        headers["Host"] = host
    deletions = _Deletions()
    with httpx.Client(transport=transport, timeout=30.0) as client:
        for user_id in user_ids:
            deletions.delete(client, user_id, f"{base_url}users/byUserId/{quote(js_string(user_id), safe=_SEGMENT_SAFE)}",
                             headers)
    return deletions.result(target, mock)


def _refusal(user_attributes: Any, config: Mapping[str, Any] | None) -> DeletionResult | None:
    """RudderStack's answer to a request it refuses before sending anything, checked in its order."""
    if not isinstance(user_attributes, list):
        return DeletionResult(400, "userAttributes is not an array")
    if not config:
        return DeletionResult(400, "Config for deletion not present")
    if not truthy(config.get("apiKey")):
        return DeletionResult(400, "api key for deletion not present")
    return None


def _base_url(data_center: Any, server: str | None) -> tuple[str, str | None]:
    """The URL the deletions go under (the Config's data center, the US one for anything but a known
    name), and the Host header to send: a server standing in for Iterable is told the data center so."""
    iterable_url = BASE_URLS.get(data_center, BASE_URLS["USDC"]) if isinstance(data_center, str) else BASE_URLS["USDC"]
    if server is None:
        return iterable_url, None
    return server.rstrip("/") + urlsplit(iterable_url).path, urlsplit(iterable_url).netloc


@dataclass
class _Deletions:
    """The DELETE calls of one request so far, summed up as RudderStack sums them up."""

    deleted: list[Any] = field(default_factory=list)
    failed: list[tuple[Any, int, str]] = field(default_factory=list)
    refusals: list[dict[str, Any]] = field(default_factory=list)  # RudderStack's list of per-user failures
    fatal: tuple[int, str] | None = None  # the first failure that is not about one user

    def delete(self, client: httpx.Client, user_id: Any, url: str, headers: Mapping[str, str]) -> None:
        """One user's DELETE: 2xx or 404 deleted, 400 that user refused, anything else (or no answer) fatal."""
        try:
            response = client.delete(url, headers=headers)
        except httpx.HTTPError as err:
            self.fatal = self.fatal or (500, f"User deletion request failed : no answer from Iterable ({type(err).__name__})")
            return
        message = _message(response)
        if response.is_success or response.status_code == 404:
            self.deleted.append(user_id)
            return
        self.failed.append((user_id, response.status_code, js_string(message)))
        if response.status_code == 400:
            self.refusals.append({"userId": user_id} if message is UNDEFINED else {"userId": user_id, "Reason": message})
        else:
            self.fatal = self.fatal or (response.status_code, f"User deletion request failed : {js_string(message)}")

    def result(self, target: str, mock: MockIterable | None) -> DeletionResult:
        where: dict[str, Any] = {"target": target, "mock": mock}
        if self.fatal is not None:
            return DeletionResult(self.fatal[0], self.fatal[1], tuple(self.deleted), tuple(self.failed), **where)
        if self.refusals:
            return DeletionResult(400, f"User deletion request failed for userIds : {js_json(self.refusals)}",
                                  tuple(self.deleted), tuple(self.failed), **where)
        return DeletionResult(200, None, tuple(self.deleted), **where)


def _destination(to: Target, transport: httpx.BaseTransport | None,
                 api_key: str) -> tuple[str, str | None, httpx.BaseTransport | None, MockIterable | None]:
    """Where the deletions go: a description, the server URL standing in for Iterable (None: Iterable's
    own host), the transport to send through, and the mock made for them."""
    if to is None and transport is not None:
        return "the given transport", None, transport, None

    def make_mock() -> MockIterable:
        mock = MockIterable(clock=ManualClock())
        mock.add_api_key(api_key)
        return mock

    destination = resolve_target(to, "delete_users", make_mock)
    if destination.mock is not None:
        return destination.description, None, transport or destination.mock.transport(), \
            (destination.mock if destination.made else None)
    return destination.description, destination.url, transport, None


def _message(response: httpx.Response) -> Any:
    """The answer's `msg`, as RudderStack reads it: UNDEFINED when there is none."""
    try:
        body = response.json()
    except ValueError:
        return UNDEFINED
    return body.get("msg", UNDEFINED) if isinstance(body, dict) else UNDEFINED
