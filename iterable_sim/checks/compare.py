"""What changing the destination's settings does to each event: dropped, now sent, renamed, moved."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from iterable_sim.lazy import LazyModule
from iterable_sim.clock import SystemClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.hosts import data_center_of
from iterable_sim.mapping.jsvalues import UNDEFINED
from iterable_sim.mapping import map_events
from iterable_sim.mapping.names import event_name
from iterable_sim.mapping.results import EventResult
from iterable_sim.mapping.request import Request
from iterable_sim.mapping.settings import KEY_FIELDS, RUDDER_KEYS, Settings

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = LazyModule("pandas")

CHANGES = ("dropped", "now sent", "refused differently", "moved", "request added", "request removed", "renamed",
           "body changed", "unchanged")
"""The kinds of change `compare_settings` reports, most drastic first."""


class CompareError(IterableSimError, ValueError):
    """compare_settings() given the same label for both sides."""



def compare_settings(events: Iterable[Any], a: Settings, b: Settings, *, labels: Sequence[str] = ("a", "b"),
                     changes_only: bool = False, received_at: Any = None) -> pd.DataFrame:
    """One row per event: what it maps to under settings `a` and under `b`, side by side, and the change.

    `change` joins the kinds in `CHANGES` that apply ("renamed, body changed"); `detail` says what
    changed ("eventName: 'Pricing page' → 'Loaded a Page'"). The `labels` name the two columns that
    describe each side. `changes_only` keeps only the events whose outcome differs. Both sides are mapped
    as received by rudder-server's gateway at one instant, `received_at` (default now), so that only the
    settings differ.
    """
    label_a, label_b = labels
    if label_a == label_b:
        raise CompareError("compare_settings needs two different labels")
    events = list(events)
    rows = []
    received_at = received_at if received_at is not None else SystemClock().now()
    for left, right in zip(map_events(events, a, received_at=received_at),
                           map_events(events, b, received_at=received_at), strict=True):
        change, detail = _change(left, right)
        event = left.event if isinstance(left.event, dict) else {}
        rows.append({"event": left.index, "type": event.get("type"), "name": event_name(event), "change": change,
                     label_a: describe(left), label_b: describe(right), "detail": detail})
    frame = pd.DataFrame(rows, columns=["event", "type", "name", "change", label_a, label_b, "detail"])
    frame.attrs["settings"] = changed_settings(a, b)
    if changes_only:
        frame = frame[frame["change"] != "unchanged"].reset_index(drop=True)
    return frame


def changed_settings(a: Settings, b: Settings) -> dict[str, tuple[Any, Any]]:
    """The RudderStack setting names whose values differ, with (a, b); keys only as set / not set."""
    changed = {}
    for name, key in RUDDER_KEYS.items():
        left, right = getattr(a, name), getattr(b, name)
        if name in KEY_FIELDS:
            left, right = ("set" if left else "not set"), ("set" if right else "not set")
        if left != right:
            changed[key] = (left, right)
    return changed


def describe(result: EventResult) -> str:
    """A short account of one event's outcome: its requests ("events/track 'Pricing page'"), or its refusal."""
    if result.filtered:
        return f"filtered by rudder-server ({result.step}): {result.message}"
    if result.stopped is not None:
        return f"refused by rudder-server ({result.step}): {result.message}"
    if result.error is not None:
        return f"refused: {result.error}"
    if not result.requests:
        return "nothing sent"
    return " + ".join(_describe_request(r) for r in result.requests)


def _describe_request(request: Request) -> str:
    text = request.endpoint
    body = request.json if isinstance(request.json, dict) else {}
    if "eventName" in body:
        text += f" {body['eventName']!r}"
    if data_center_of(request.url) == "EU":
        text += " (EU)"
    return text


def _change(left: EventResult, right: EventResult) -> tuple[str, str]:
    """What the second settings do to an event against the first: the kinds of change ("moved",
    "renamed", ...) and their details, or ("unchanged", "")."""
    if not left.ok or not right.ok:
        return _refusal_change(left, right)
    kinds: list[str] = []
    details: list[str] = []
    for part_kinds, part_details in (_host_change(left, right), _endpoint_change(left, right),
                                     _body_changes(left, right)):
        kinds += part_kinds
        details += part_details
    return (", ".join(kinds), "; ".join(details)) if kinds else ("unchanged", "")


ChangeParts = tuple[list[str], list[str]]  # kinds of change, and their details


def _refusal_change(left: EventResult, right: EventResult) -> tuple[str, str]:
    """The change for an event that one of the settings (or both) refuse or filter."""
    if left.ok:
        return "dropped", describe(right)
    if right.ok:
        return "now sent", f"was {describe(left)}"
    if describe(left) != describe(right):
        return "refused differently", f"{left.message} → {right.message}"
    return "unchanged", ""


def _host_change(left: EventResult, right: EventResult) -> ChangeParts:
    hosts = ({_host(r) for r in left.requests}, {_host(r) for r in right.requests})
    if hosts[0] == hosts[1]:
        return [], []
    return ["moved"], [f"host: {', '.join(sorted(hosts[0]))} → {', '.join(sorted(hosts[1]))}"]


def _endpoint_change(left: EventResult, right: EventResult) -> ChangeParts:
    """Requests only added, only removed, or else the endpoints moved."""
    before = [r.endpoint for r in left.requests]
    after = [r.endpoint for r in right.requests]
    if before == after:
        return [], []
    added = [e for e in after if e not in before]
    removed = [e for e in before if e not in after]
    if added and not removed:
        return ["request added"], [f"+ {', '.join(added)}"]
    if removed and not added:
        return ["request removed"], [f"- {', '.join(removed)}"]
    return ["moved"], [f"endpoint: {', '.join(before)} → {', '.join(after)}"]


def _body_changes(left: EventResult, right: EventResult) -> ChangeParts:
    """Each field that differs between the bodies of requests to the same endpoint: a new eventName
    is "renamed", any other field "body changed"."""
    details: list[str] = []
    renamed = body_changed = False
    for old in left.requests:
        new = next((r for r in right.requests if r.endpoint == old.endpoint), None)
        if new is None:
            continue
        for path, (x, y) in _differences(old.json, new.json).items():
            if path == "eventName":
                renamed = True
            else:
                body_changed = True
            details.append(f"{path}: {x!r} → {y!r}")
    return (["renamed"] if renamed else []) + (["body changed"] if body_changed else []), details


def _host(request: Request) -> str:
    return request.url.split("://", 1)[-1].split("/", 1)[0]



def _differences(x: Any, y: Any, prefix: str = "") -> dict[str, tuple[Any, Any]]:
    """Leaf paths where two JSON bodies differ (a missing key reads `undefined`); lists are compared whole."""
    if isinstance(x, dict) and isinstance(y, dict):
        out: dict[str, tuple[Any, Any]] = {}
        for key in list(x) + [k for k in y if k not in x]:
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(_differences(x.get(key, UNDEFINED), y.get(key, UNDEFINED), path))
        return out
    return {} if x == y and type(x) is type(y) else {prefix: (x, y)}
