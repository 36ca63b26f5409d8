"""The drift report: what the current mapping would send, request by request, against a cassette.

For each cassette in the manifest, its events are mapped and sent again, under the settings it was
recorded with (optionally with some changed), to a fresh in-process mock; the calls made are
compared with the recorded ones. Calls are paired in order by method and path, so a call that is no
longer made, or a new one, shows as one row; paired calls are compared field by field. Do not call
it inside an open cassette: vcrpy would answer the in-process mock's calls from it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import pandas as pd
from vcr.serialize import deserialize

from ..clock import ManualClock
from ..mock import MockIterable
from .bodydiff import MISSING, describe_who, diff_bodies, pair_indexes, show, who
from .matchers import subjects
from .manifest import CassetteEntry, load_manifest
from .serializer import CassetteSerializer

COLUMNS = ["cassette", "request", "method", "endpoint", "item", "userId", "email", "eventName", "field", "change",
           "recorded", "now"]


@dataclass(frozen=True)
class Call:
    """One HTTP call as the drift report compares it."""

    method: str
    host: str
    path: str
    body: Any

    @property
    def endpoint(self) -> str:
        return self.path.split("/api/", 1)[-1]


def recorded_calls(path: str | Path) -> list[Call]:
    """The calls a cassette holds, in the order they were made."""
    requests, *_ = deserialize(Path(path).read_text("utf-8"), CassetteSerializer())
    return [Call(r.method, r.host or "", r.path, _json(r.body)) for r in requests]


def current_calls(entry: CassetteEntry, directory: str | Path, settings: Mapping[str, Any] | None = None) -> list[Call]:
    """The calls the current mapping makes for a cassette's events and settings (`settings`: Config
    keys to change), sent to a fresh in-process mock on a simulated clock."""
    from ..send import send

    resolved = entry.load_settings(settings)
    mock = MockIterable(entry.project_type, rate_limits=False, clock=ManualClock())
    mock.accept_keys_of(resolved)
    report = send(entry.load_events(directory), resolved, to=mock, progress=False, pace=False,
                  stable_event_ids=entry.stable_event_ids)
    return [Call(d.request.method, urlsplit(d.request.url).hostname or "", urlsplit(d.request.url).path,
                 _json(d.request.body_bytes())) for d in report.deliveries]


def compare_calls(cassette: str, recorded: Sequence[Call], now: Sequence[Call]) -> list[dict[str, Any]]:
    """Rows (COLUMNS) for every difference between recorded and current calls; none when equal.

    Calls are paired by method, path and who they are about (as `iterable_who` matches); calls
    left over are paired by method and path alone, in order, and compared field by field."""
    rows: list[dict[str, Any]] = []
    for i, j in pair_indexes(recorded, now, key=lambda c: (c.method, c.path, json.dumps(subjects(c.body), default=str)),
                       fallback=lambda c: (c.method, c.path)):
        if j is None:
            rows.append(_row(cassette, i, recorded[i], None, who(recorded[i].body), "", "request removed",
                             recorded[i].body, MISSING))
        elif i is None:
            rows.append(_row(cassette, None, now[j], None, who(now[j].body), "", "request added", MISSING, now[j].body))
        else:
            rows += _paired(cassette, i, recorded[i], now[j])
    return rows


def drift_frame(directory: str | Path = "cassettes", *, settings: Mapping[str, Any] | None = None,
                cassettes: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per difference between what each cassette recorded and what would be sent now.

    `settings`: RudderStack Config keys to change on top of each cassette's recorded settings
    (`{"trackNamedPages": True}`) — to see what a settings change would do. `cassettes`: names to
    compare (default: every one in the manifest). An empty frame means no drift.
    """
    rows: list[dict[str, Any]] = []
    for entry in _entries(directory, cassettes):
        recorded = recorded_calls(Path(directory) / entry.file)
        rows += compare_calls(entry.name, recorded, current_calls(entry, directory, settings))
    return pd.DataFrame(rows, columns=COLUMNS)


def drift_report(frame: pd.DataFrame, compared: int) -> str:
    """The drift frame as text for a terminal: by cassette and call, then by item and person."""
    if frame.empty:
        return f"no drift: the current mapping sends exactly what the {compared} cassette(s) recorded"
    lines = [f"drift: {len(frame)} difference(s) in {frame['cassette'].nunique()} of {compared} cassette(s)"]
    shown = frame.astype(object).where(frame.notna(), None)
    for (cassette, request, endpoint), group in shown.groupby(["cassette", "request", "endpoint"], dropna=False,
                                                               sort=False):
        where = f"call {int(request)}" if request is not None and request == request else "new call"
        lines.append(f"\n{cassette}.yaml, {where}: {group['method'].iloc[0]} {endpoint}")
        subject = None
        for row in group.to_dict("records"):
            people = describe_who({k: row[k] for k in ("userId", "email", "eventName") if row[k] is not None})
            if (row["item"], people) != subject:
                subject = (row["item"], people)
                lines.append(f"  {row['item'] + ' — ' if row['item'] else ''}{people}:")
            if row["field"]:
                lines.append(f"    {row['field']}: recorded {row['recorded']}, now {row['now']}")
            else:
                lines.append(f"    {row['change']}")
    return "\n".join(lines)


def _entries(directory: str | Path, names: Sequence[str] | None) -> Iterator[CassetteEntry]:
    entries = load_manifest(directory)
    known = {entry.name for entry in entries}
    unknown = [name for name in names or () if name not in known]
    if unknown:
        raise KeyError(f"no cassette named {', '.join(unknown)} in the manifest (known: {', '.join(sorted(known))})")
    return (entry for entry in entries if names is None or entry.name in names)


def _paired(cassette: str, index: int, recorded: Call, now: Call) -> list[dict[str, Any]]:
    rows = []
    if recorded.host != now.host:
        rows.append(_row(cassette, index, now, None, who(now.body), "host", "changed", recorded.host, now.host))
    for change in diff_bodies(recorded.body, now.body):
        kind = f"item {change.kind}" if not change.path else change.kind
        rows.append(_row(cassette, index, now, change.item, change.who, change.path, kind, change.recorded, change.now))
    return rows


def _row(cassette: str, request: int | None, call: Call, item: str | None, identity: Mapping[str, Any], field: str,
         change: str, recorded: Any, now: Any) -> dict[str, Any]:
    return {"cassette": cassette, "request": request, "method": call.method, "endpoint": call.endpoint, "item": item,
            "userId": identity.get("userId"), "email": identity.get("email"), "eventName": identity.get("eventName"),
            "field": field, "change": change, "recorded": show(recorded), "now": show(now)}


def _json(body: Any) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body
