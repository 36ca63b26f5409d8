"""pandas views of mapping results: one row per request, one row per error."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .results import MappingResults

REQUEST_COLUMNS = ["event", "type", "name", "endpoint", "email", "userId", "eventName"]


def _identity(body: dict[str, Any]) -> tuple[Any, Any]:
    user = body.get("user") if isinstance(body.get("user"), dict) else body
    email = user.get("email", body.get("currentEmail"))
    return email, user.get("userId")


def event_name(event: Any) -> Any:
    """The name a person knows an event by: a track's `event`, a page's or screen's `name`."""
    if not isinstance(event, dict):
        return None
    return event.get("event") if str(event.get("type", "")).lower() == "track" else event.get("name")


def flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    """Nested objects become dotted columns; lists stay whole, as one cell."""
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}", out)
    else:
        out[prefix] = value
    return out


def requests_frame(results: "MappingResults") -> pd.DataFrame:
    rows = []
    for result in results:
        event = result.event if isinstance(result.event, dict) else {}
        for request in result.requests:
            body = request.json
            email, user_id = _identity(body)
            row = {"event": result.index, "type": event.get("type"), "name": event_name(event),
                   "endpoint": request.endpoint, "email": email, "userId": user_id,
                   "eventName": body.get("eventName")}
            data = body.get("dataFields")
            if isinstance(data, dict):
                flatten(data, "dataFields", row)
            elif "dataFields" in body:
                row["dataFields"] = data
            rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else REQUEST_COLUMNS)
    frame.attrs["warnings"] = list(results.warnings)
    return frame


def errors_frame(results: "MappingResults") -> pd.DataFrame:
    rows = [{"event": r.index, "type": r.event.get("type") if isinstance(r.event, dict) else None,
             "name": event_name(r.event), "status": r.error.status, "error": str(r.error),
             "field": r.error.field}
            for r in results.errors if r.error is not None]
    return pd.DataFrame(rows, columns=["event", "type", "name", "status", "error", "field"])
