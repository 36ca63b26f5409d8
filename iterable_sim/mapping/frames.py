"""pandas views of mapping results: one row per request, one row per error."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iterable_sim.lazy import LazyModule
from iterable_sim.mapping.names import event_name, identity

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

if TYPE_CHECKING:
    from iterable_sim.mapping.results import MappingResults

REQUEST_COLUMNS = ["event", "type", "name", "endpoint", "email", "userId", "eventName"]


def flatten(value: Any, prefix: str, out: dict[str, Any]) -> dict[str, Any]:
    """Nested objects become dotted columns; lists stay whole, as one cell."""
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}", out)
    else:
        out[prefix] = value
    return out


def requests_frame(results: "MappingResults") -> pd.DataFrame:
    """Built column by column (a row dict per request would cost gigabytes at a million requests); a
    cell a request does not have is NaN, as in a frame built from rows."""
    columns: dict[str, list[Any]] = {name: [] for name in REQUEST_COLUMNS}
    fixed = [columns[name].append for name in REQUEST_COLUMNS]
    row = 0
    for result in results:
        event = result.event if isinstance(result.event, dict) else {}
        kind, name = event.get("type"), event_name(event)
        for request in result.requests:
            body = request.json
            email, user_id = identity(body)
            for append, value in zip(fixed, (result.index, kind, name, request.endpoint, email, user_id,
                                             body.get("eventName")), strict=True):
                append(value)
            data = body.get("dataFields")
            if isinstance(data, dict):
                for key, value in flatten(data, "dataFields", {}).items():
                    _put(columns, key, row, value)
            elif "dataFields" in body:
                _put(columns, "dataFields", row, data)
            row += 1
    for cells in columns.values():
        cells.extend([_MISSING] * (row - len(cells)))
    frame = pd.DataFrame(columns, columns=list(columns)) if row else pd.DataFrame(columns=REQUEST_COLUMNS)
    frame.attrs["warnings"] = list(results.warnings)
    return frame


_MISSING = float("nan")


def _put(columns: dict[str, list[Any]], key: str, row: int, value: Any) -> None:
    cells = columns.get(key)
    if cells is None:
        cells = columns[key] = []
    if len(cells) < row:
        cells.extend([_MISSING] * (row - len(cells)))
    cells.append(value)


ERROR_COLUMNS = ["event", "type", "name", "step", "status", "error", "field"]
FILTERED_COLUMNS = ["event", "type", "name", "step", "status", "reason"]


def errors_frame(results: "MappingResults") -> pd.DataFrame:
    """The events refused: `step` is "transformer" (RudderStack's Iterable code) or the rudder-server step."""
    rows = [{"event": r.index, "type": _type(r.event), "name": event_name(r.event), "step": r.step,
             "status": r.status, "error": r.message, "field": r.error.field if r.error is not None else None}
            for r in results.errors]
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


def filtered_frame(results: "MappingResults") -> pd.DataFrame:
    """The events rudder-server drops on purpose, with the rule that drops each and its source."""
    rows = [{"event": r.index, "type": _type(r.event), "name": event_name(r.event), "step": r.step,
             "status": r.status, "reason": r.stopped.reason if r.stopped is not None else ""}
            for r in results.filtered]
    return pd.DataFrame(rows, columns=FILTERED_COLUMNS)


def _type(event: Any) -> Any:
    return event.get("type") if isinstance(event, dict) else None
