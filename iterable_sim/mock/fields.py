"""Profile and event data fields: how Iterable types them, locks a field's type at its first value,
and merges an update into what is stored.

Types are Iterable's: string, date, long, double, boolean, object, nested (arrays of objects), and
arrays take their elements' type. A string is a `date` when it looks like one of the date formats
clients send (see `DATE`); Iterable stores dates as "YYYY-MM-DD HH:MM:SS +00:00".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

# 2020-01-01 | 2020-01-01 10:00:00[ +00:00] | 2020-01-01T10:00[:00[.000]][Z|+01:00]
# ("2020-04-13 14:04:09.000", space-separated with a fraction, is a string to Iterable.)
DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:"
                  r"( (\d{2}):(\d{2}):(\d{2})(?: ([+-]\d{2}):?(\d{2}))?)"
                  r"|(T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|([+-]\d{2}):?(\d{2}))?)"
                  r")?$")
INCOMING_TYPES = {"string": ["string", "keyword"], "date": ["date", "string", "keyword"], "long": ["long"],
                  "double": ["double"], "boolean": ["boolean"], "object": ["object"], "nested": ["nested"]}


def parse_date(text: str) -> datetime | None:
    m = DATE.match(text)
    if m is None:
        return None
    g = m.groups()
    year, month, day = int(g[0]), int(g[1]), int(g[2])
    if g[3]:
        hour, minute, second, tz_h, tz_m = g[4], g[5], g[6], g[7], g[8]
    elif g[9]:
        hour, minute, second, tz_h, tz_m = g[10], g[11], g[12] or "0", g[14], g[15]
    else:
        hour = minute = second = tz_h = tz_m = None
    try:
        moment = datetime(year, month, day, int(hour or 0), int(minute or 0), int(second or 0),
                          tzinfo=timezone.utc)
    except ValueError:
        return None
    if tz_h:
        sign = -1 if tz_h.startswith("-") else 1
        moment -= timedelta(minutes=sign * (abs(int(tz_h)) * 60 + int(tz_m or 0)))
    return moment


def format_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S +00:00")


def format_timestamp(seconds: float) -> str:
    return format_date(datetime.fromtimestamp(seconds, tz=timezone.utc))


def value_type(value: Any) -> str | None:
    """Iterable's type of a JSON value; None for null and for an empty array (no type yet)."""
    kind = type(value)
    if kind is str:
        return "date" if value[:1].isdigit() and parse_date(value) is not None else "string"
    if kind is bool:
        return "boolean"
    if kind is int:
        return "long"
    if kind is float:
        return "double"
    if kind is dict:
        return "object"
    if kind is list:
        for item in value:
            if type(item) is dict:
                return "nested"
            if item is not None:
                return value_type(item)
    return None


def _compatible(expected: str, incoming: str) -> bool:
    return (expected == incoming or (expected == "double" and incoming == "long")
            or (expected == "string" and incoming == "date"))


_PLAIN_TYPES = {bool: "boolean", int: "long", float: "double", dict: "object"}  # value_type's, for these


def _typed_paths(data: Mapping[str, Any], prefix: str = "",
                 found: list[tuple[str, str, Any]] | None = None) -> list[tuple[str, str, Any]]:
    """(path, type, value) for every field, nested ones as 'parent.child' (each after its parent)."""
    if found is None:
        found = []
    for name, value in data.items():
        kind = _PLAIN_TYPES.get(type(value)) or value_type(value)
        if kind is None:
            continue
        path = prefix + name
        found.append((path, kind, value))
        if kind == "object":
            _typed_paths(value, path + ".", found)
        elif kind == "nested":
            for item in value:
                if type(item) is dict:
                    _typed_paths(item, path + ".", found)
    return found


@dataclass(slots=True)
class FieldPlan:
    """What storing `data` would do: the fields kept, created and filtered out, and type clashes."""

    data: dict[str, Any]
    created: list[str] = field(default_factory=list)
    filtered: list[str] = field(default_factory=list)
    mismatches: dict[str, dict[str, Any]] = field(default_factory=dict)


def plan_fields(data: dict[str, Any], known: Mapping[str, str], pending: dict[str, str], *,
                category: str, key_prefix: str = "", create_new: bool = True) -> FieldPlan:
    """Check `data` against the locked types in `known`, recording new types into `pending`.

    `pending` holds the types this request introduces so far, so that two items of one bulk call
    must agree too; the caller merges it into `known` once the whole request is accepted.
    """
    plan = FieldPlan(data=data if create_new else dict(data))
    for path, kind, value in _typed_paths(data):
        key = key_prefix + path
        expected = known.get(key) or pending.get(key)
        if expected is None:
            top = path.split(".", 1)[0]
            if not create_new and (key_prefix + top) not in known:
                if top in plan.data:
                    del plan.data[top]
                    plan.filtered.append(top)
                continue
            pending[key] = kind
            plan.created.append(path)
        elif expected != kind and not _compatible(expected, kind):
            plan.mismatches[key] = {"incomingTypes": INCOMING_TYPES[kind], "expectedType": expected,
                                    "_type": "UnexpectedType", "offendingValue": value, "category": category}
    return plan


def normalize_dates(value: Any) -> Any:
    """Date strings as Iterable stores them ("YYYY-MM-DD HH:MM:SS +00:00"), at any depth."""
    kind = type(value)
    if kind is str:
        if value[:1].isdigit():
            moment = parse_date(value)
            if moment is not None:
                return format_date(moment)
        return value
    if kind is dict:
        return {k: normalize_dates(v) for k, v in value.items()}
    if kind is list:
        return [normalize_dates(v) for v in value]
    return value


def merge_fields(stored: dict[str, Any], incoming: Mapping[str, Any], merge_nested: bool) -> None:
    """Apply an update: null removes a field; objects replace wholesale unless `merge_nested`."""
    for name, value in incoming.items():
        if value is None:
            stored.pop(name, None)
        elif merge_nested and type(value) is dict and type(stored.get(name)) is dict:
            merged = dict(stored[name])
            for sub, sub_value in value.items():
                if sub_value is None:
                    merged.pop(sub, None)
                else:
                    merged[sub] = sub_value
            stored[name] = merged
        else:
            stored[name] = value
