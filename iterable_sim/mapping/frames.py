"""pandas views of mapping results: one row per request, one row per error."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from iterable_sim.mapping.names import event_name, identity

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


def errors_frame(results: "MappingResults") -> pd.DataFrame:
    rows = [{"event": r.index, "type": r.event.get("type") if isinstance(r.event, dict) else None,
             "name": event_name(r.event), "status": r.error.status, "error": str(r.error),
             "field": r.error.field}
            for r in results.errors if r.error is not None]
    return pd.DataFrame(rows, columns=["event", "type", "name", "status", "error", "field"])
