"""Preflight: what Iterable would answer to each mapped request, found without sending anything.

Every request of a `MappingResults` goes, in event order, through a throwaway `MockIterable` (an
empty project, rate limits off, a throwaway API key in place of yours), so its answer is Iterable's
validation and identity rules applied to exactly that body: an email Iterable calls invalid, a
required field that mapped to null, a string where Iterable wants a boolean, a field whose type
clashes with an earlier request. On top of Iterable's answer, `notes` list what Iterable accepts
without complaint but you probably did not mean: a page sent as "undefined page", a value that one
of RudderStack's conversions turned into null.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import orjson

from iterable_sim.lazy import LazyModule
from iterable_sim.mapping.batching import catalog_documents
from iterable_sim.clock import ManualClock
from iterable_sim.hosts import data_center_of
from iterable_sim.mapping.jsvalues import js_get, split_path
from iterable_sim.mapping.request import size_problem
from iterable_sim.mapping import explain
from iterable_sim.mapping.names import event_name
from iterable_sim.mapping.results import MappingResults
from iterable_sim.mock import MockIterable
from iterable_sim.redact import SECRET_HEADERS
from iterable_sim.mapping.request import MappingError, Request

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

Verdict = Literal["ok", "warning", "rejected"]

PREFLIGHT_COLUMNS = ["event", "type", "name", "endpoint", "preflight", "status", "code", "reason", "notes"]
_THROWAWAY_KEY = "preflight-key"
_UNNAMED_EVENTS = {"undefined page": "page", "undefined screen": "screen"}


def preflight(results: MappingResults, *, project_type: str = "hybrid") -> pd.DataFrame:
    """One row per request, in `results.requests_frame()` order: Iterable's status, code and reason,
    `notes` on surprises Iterable accepts, and `preflight` = "rejected" / "warning" / "ok".

    The requests are answered in event order by one empty project of `project_type` ("hybrid",
    "email" or "userId"), so a request can depend on an earlier one (an alias moving a profile, a
    field's type locked by its first value), as it would on a first send to a new project.
    """
    mock = MockIterable(project_type, rate_limits=False, clock=ManualClock(), seed=0)
    mock.add_api_key(_THROWAWAY_KEY)
    rows = []
    for result in results:
        if not result.requests:
            continue
        notes = _notes_by_endpoint(result.event, results.settings)
        event = result.event if isinstance(result.event, dict) else {}
        for request in result.requests:
            too_large = size_problem(request)  # send() would not even try it: the router cannot fit it in a call
            status, code, reason, wire_notes = (413, "", too_large, []) if too_large else _answer(mock, request)
            request_notes = notes.get(request.endpoint, []) + _name_notes(request) + wire_notes
            verdict: Verdict = "rejected" if status >= 400 else ("warning" if request_notes else "ok")
            rows.append({"event": result.index, "type": event.get("type"), "name": event_name(event),
                         "endpoint": request.endpoint, "preflight": verdict, "status": status, "code": code,
                         "reason": reason, "notes": "; ".join(request_notes)})
    return pd.DataFrame(rows, columns=PREFLIGHT_COLUMNS)


def requests_with_preflight(results: MappingResults, *, project_type: str = "hybrid") -> pd.DataFrame:
    """`results.requests_frame()` with `preflight` and `preflight_reason` columns after `endpoint`."""
    frame = results.requests_frame()
    checked = preflight(results, project_type=project_type)
    reason = checked["reason"].where(checked["preflight"] == "rejected", checked["notes"])
    at = list(frame.columns).index("endpoint") + 1
    frame.insert(at, "preflight", checked["preflight"].to_numpy())
    frame.insert(at + 1, "preflight_reason", reason.to_numpy())
    return frame


def _answer(mock: MockIterable, request: Request) -> tuple[int, str, str, list[str]]:
    """Iterable's status, code and a one-line reason for one request (its wire form), and notes."""
    url, body, notes = _wire_form(mock, request)
    headers = {k: v for k, v in request.headers.items() if str(k).lower() not in SECRET_HEADERS}
    headers["Api-Key"] = _THROWAWAY_KEY
    response = mock.handle(request.method, url, headers, orjson.dumps(body) if body is not None else b"")
    try:
        answer = response.json()
    except orjson.JSONDecodeError:
        return response.status, "", response.body.decode("utf-8", "replace"), notes
    if not isinstance(answer, dict):
        return response.status, "", "", notes
    code = str(answer.get("code") or answer.get("error") or "")
    if 200 <= response.status < 300:
        return response.status, code, "", notes
    params = answer.get("params")
    message = answer.get("msg") or answer.get("message") or ""
    if answer.get("code") == "BadJsonBody" and isinstance(params, dict) and params:
        message = "; ".join(f"{path}: {problem}" for path, problem in params.items())
    return response.status, code, f"{code}: {message}" if code else str(message), notes


def _wire_form(mock: MockIterable, request: Request) -> tuple[str, Any, list[str]]:
    """The request as it goes on the wire, with what it presumes set up in the throwaway project.

    RudderStack's processor emits one catalog item as {update, catalogId}; its router always sends
    catalog items as {documents, replaceUploadedFieldsOnly}, to a catalog that must already exist.
    An alias (users/updateEmail) presumes the profile it moves exists. Preflight creates both, and
    a note says so.
    """
    body = request.json
    data_center = data_center_of(request.url)
    parts = request.endpoint.split("/")
    if len(parts) == 3 and parts[0] == "catalogs" and parts[2] == "items" and isinstance(body, dict):
        try:
            mock.create_catalogs_for([request])
        except ValueError:
            pass  # a name Iterable refuses: the request then says why
        return request.url, catalog_documents([body]), \
            [f"the catalog {parts[1]!r} must already exist in your Iterable project"]
    if request.endpoint == "users/updateEmail" and isinstance(body, dict):
        email, user_id = body.get("currentEmail"), body.get("currentUserId")
        if mock.get_user(email=email, user_id=user_id, data_center=data_center) is None and (email or user_id):
            try:
                mock.create_user(email=email, user_id=user_id, data_center=data_center)
            except ValueError:
                return request.url, body, []  # an identifier Iterable refuses: the request says why
            return request.url, body, [f"assumes {email or user_id!r} already has a profile in Iterable"]
    return request.url, body, []


def _notes_by_endpoint(event: Any, settings: Any) -> dict[str, list[str]]:
    """Values a conversion (parseFloat, parseInt, new Date) turned into null although the event had one."""
    try:
        trace = explain(event, settings)
    except MappingError:
        return {}
    notes: dict[str, list[str]] = {}
    row: Any  # a row of explain()'s table: its columns' values are what the trace holds
    for row in trace.itertuples(index=False):
        if row.value is not None or not row.conversion or row.source.startswith(("(", "settings.")):
            continue
        original = js_get(event, split_path(row.source))
        if original is None or not isinstance(original, (str, int, float, bool)):
            continue
        notes.setdefault(row.endpoint, []).append(
            f"{row.field} is null: {row.source} was {original!r} ({row.conversion.split(';')[0]})")
    return notes


def _name_notes(request: Request) -> list[str]:
    body = request.json if isinstance(request.json, dict) else {}
    kind = _UNNAMED_EVENTS.get(str(body.get("eventName")))
    if kind is None:
        return []
    return [f"eventName is {body['eventName']!r}: the {kind} has no name, and Track All Pages sends it anyway"]
