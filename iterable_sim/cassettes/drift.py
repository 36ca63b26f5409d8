"""The drift report: what the current mapping would send, call by call, against a cassette.

For each cassette recorded by iterable_sim (it notes its events and settings, `sources.py`), the
events are read from where they are now, mapped and sent again under the recorded settings
(optionally with some changed) to a fresh in-process mock, and the Iterable calls made are compared
with the recorded ones. Calls are paired in order by method, path and who they are about, so a call
no longer made, or a new one, shows as one row; paired calls are compared field by field. Both
sides are compared with personal data pseudonymised, as a cassette may store it. Compared under
another rudder-transformer release than the one a cassette was recorded under, the cassette has one
row more, naming the rules that changed between the two. Do not call it
inside an open cassette: vcrpy would answer the in-process mock's calls from it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from vcr.serialize import deserialize
from vcr.serializers import jsonserializer

from iterable_sim.lazy import LazyModule
from iterable_sim.clock import ManualClock
from iterable_sim.mock import MockIterable
from iterable_sim.cassettes.bodydiff import MISSING, describe_who, diff_bodies, pair_indexes, show, who
from iterable_sim.cassettes.matchers import subjects
from iterable_sim.cassettes.scrub import Scrubber, iterable_host, request_dict
from iterable_sim.cassettes.serializer import CassetteSerializer
from iterable_sim.cassettes.sources import Send, SourceError, cassette_sends, find_cassettes, release_change
from iterable_sim.mapping.releases import UnknownReleaseError, resolve_release

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

COLUMNS = ["cassette", "request", "method", "endpoint", "item", "userId", "email", "eventName", "field", "change",
           "recorded", "now"]
_COMPARED = Scrubber(personal_data=True)
RELEASE_CHANGE = "release"  # the change of a cassette's row compared under another release ("now": what changed)


@dataclass(frozen=True)
class ComparedCall:
    """One HTTP call as the drift report compares it."""

    method: str
    host: str
    path: str
    body: Any

    @property
    def endpoint(self) -> str:
        return self.path.split("/api/", 1)[-1]


def _call(data: dict[str, Any]) -> ComparedCall:
    data = _COMPARED.request(data)
    parts = urlsplit(data["uri"])
    return ComparedCall(data["method"], parts.hostname or "", parts.path, _json(data.get("body")))


def recorded_calls(path: str | os.PathLike[str]) -> list[ComparedCall]:
    """The Iterable calls a cassette holds, in the order they were made."""
    path = Path(path)
    serializer = jsonserializer if path.suffix == ".json" else CassetteSerializer()
    requests, *_ = deserialize(path.read_text("utf-8"), serializer)
    return [_call(request_dict(r)) for r in requests if iterable_host(r.uri, r.headers) is not None]


def current_calls(sends: Sequence[Send], settings: Mapping[str, Any] | None = None,
                  rudderstack: str | None = None) -> list[ComparedCall]:
    """The calls the current mapping makes for each send's events and settings (their files read now, as the
    recording tool read them; `settings`: Config keys to change; under the release recorded, or `rudderstack`),
    sent to a fresh in-process mock on a simulated clock, which is also rudder-server's gateway clock, as
    `record` and the pytest plugin have it."""
    from iterable_sim.send import send

    calls: list[ComparedCall] = []
    for entry in sends:
        resolved = entry.load_settings(settings, rudderstack)
        mock = MockIterable(entry.project_type, rate_limits=False, clock=ManualClock())
        mock.accept_keys_of(resolved)
        report = send(entry.load_events(), resolved, to=mock, progress=False, pace=False, clock=mock.clock,
                      stable_event_ids=entry.stable_event_ids)  # the gateway's clock as recording reads it
        calls += [_call({"method": d.request.method, "uri": d.request.url, "headers": dict(d.request.headers),
                         "body": d.request.body_bytes()}) for d in report.deliveries]
    return calls


def compare_calls(cassette: str, recorded: Sequence[ComparedCall], now: Sequence[ComparedCall]) -> list[dict[str, Any]]:
    """Rows (COLUMNS) for every difference between recorded and current calls; none when equal.

    Calls are paired by method, path and who they are about; calls left over are paired by method
    and path alone, in order, and compared field by field."""
    rows: list[dict[str, Any]] = []
    for i, j in pair_indexes(recorded, now, key=lambda c: (c.method, c.path, json.dumps(subjects(c.body), default=str)),
                             fallback=lambda c: (c.method, c.path)):
        if j is None:
            assert i is not None  # each pair has one side at least
            rows.append(_row(cassette, i, recorded[i], None, who(recorded[i].body), "", "request removed",
                             recorded[i].body, MISSING))
        elif i is None:
            rows.append(_row(cassette, None, now[j], None, who(now[j].body), "", "request added", MISSING, now[j].body))
        else:
            rows += _paired(cassette, i, recorded[i], now[j])
    return rows


def drift_frame(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = "cassettes", *,
                settings: Mapping[str, Any] | None = None, cassettes: Sequence[str] | None = None,
                rudderstack: str | None = None) -> pd.DataFrame:
    """One row per difference between what each cassette recorded and what would be sent now.

    `paths`: cassette files, or directories searched for them (pytest's `tests/cassettes` too);
    cassettes iterable_sim did not record are skipped. `settings`: RudderStack Config keys to change
    on top of each cassette's recorded settings (`{"trackNamedPages": True}`), to see what a
    settings change would do. `cassettes`: names (file stems) to compare. `rudderstack`: the rudder-transformer
    release to map as (default: the one each cassette was recorded under); a cassette recorded under another
    has a row (change "release") naming the rules that changed between the two. Empty: no drift.
    """
    rows: list[dict[str, Any]] = []
    for path, sends, label in _found(paths, cassettes):
        if rudderstack is not None:
            rows += _release_rows(label, sends[0].rudderstack, rudderstack)
        rows += compare_calls(label, recorded_calls(path), current_calls(sends, settings, rudderstack))
    return pd.DataFrame(rows, columns=COLUMNS)


def iterable_cassettes(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                       names: Sequence[str] | None = None) -> list[tuple[Path, list[Send]]]:
    """(path, sends) of every cassette under `paths` that iterable_sim recorded."""
    return [(path, sends) for path, sends, _ in _found(paths, names)]


def _found(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
           names: Sequence[str] | None) -> list[tuple[Path, list[Send], str]]:
    given = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    found = []
    for path, label in find_cassettes(given):
        try:
            sends = cassette_sends(path)
        except SourceError:
            continue
        if sends and (names is None or path.stem in names):
            found.append((path, sends, label))
    missing = [name for name in names or () if name not in {p.stem for p, _, _ in found}]
    if missing:
        raise SourceError(f"no cassette named {', '.join(missing)} recorded by iterable_sim under "
                          f"{', '.join(map(str, given))}")
    return found


def _release_rows(cassette: str, recorded: str, rudderstack: str) -> list[dict[str, Any]]:
    """The row of a cassette compared under another release than the one it was recorded under (none for the same)."""
    try:
        now = resolve_release(rudderstack)[0]
    except UnknownReleaseError as err:
        raise SourceError(str(err)) from None
    change = release_change(recorded, now, "compared")
    if change is None:
        return []
    return [{**dict.fromkeys(COLUMNS), "cassette": cassette, "field": "", "change": RELEASE_CHANGE,
             "recorded": recorded, "now": change}]


def drift_report(frame: pd.DataFrame, compared: int) -> str:
    """The drift frame as text for a terminal: each cassette compared under another release than its own, then
    by cassette and call, then by item and person."""
    if frame.empty:
        return f"no drift: the current mapping sends exactly what the {compared} cassette(s) recorded"
    lines = [f"drift: {len(frame)} difference(s) in {frame['cassette'].nunique()} of {compared} cassette(s)"]
    releases = frame["change"] == RELEASE_CHANGE
    lines += [f"\n{row['cassette']}: {row['now']}" for row in frame[releases].to_dict("records")]
    shown = frame[~releases].astype(object).where(frame[~releases].notna(), None)
    request: Any  # the recorded call's index, None for a new call
    for (cassette, request, endpoint), group in shown.groupby(["cassette", "request", "endpoint"], dropna=False,
                                                               sort=False):
        where = f"call {int(request) + 1}" if request is not None and request == request else "new call"
        lines.append(f"\n{cassette}, {where}: {group['method'].iloc[0]} {endpoint}")
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


def _paired(cassette: str, index: int, recorded: ComparedCall, now: ComparedCall) -> list[dict[str, Any]]:
    rows = []
    if recorded.host != now.host:
        rows.append(_row(cassette, index, now, None, who(now.body), "host", "changed", recorded.host, now.host))
    for change in diff_bodies(recorded.body, now.body):
        kind = f"item {change.kind}" if not change.path else change.kind
        rows.append(_row(cassette, index, now, change.item, change.who, change.path, kind, change.recorded, change.now))
    return rows


def _row(cassette: str, request: int | None, call: ComparedCall, item: str | None, identity: Mapping[str, Any], field: str,
         change: str, recorded: Any, now: Any) -> dict[str, Any]:
    return {"cassette": cassette, "request": request, "method": call.method, "endpoint": call.endpoint, "item": item,
            "userId": identity.get("userId"), "email": identity.get("email"),
            "eventName": identity.get("eventName"), "field": field, "change": change,
            "recorded": show(recorded), "now": show(now)}


def _json(body: Any) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body
