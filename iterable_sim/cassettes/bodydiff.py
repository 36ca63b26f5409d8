"""Field-level differences between a recorded Iterable request body and the one sent now.

Bulk calls (`users/bulkUpdate`, `events/trackBulk`) are compared item by item. Lists of the same
length pair by position; otherwise items pair by who and when they are about (email, userId,
createdAt, id), so a dropped or added event shows as one removed or added item rather than as
every later item shifting. Values compare as JSON with
their types: `1`, `1.0` and `true` all differ, as they do to Iterable's field types.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Literal, Sequence

BULK_KEYS = ("users", "events")


def bulk_items(body: Any) -> list[Any]:
    """The items of a bulk body (its `users` or `events` list), else the body as the one item."""
    if isinstance(body, dict):
        for key in BULK_KEYS:
            if isinstance(body.get(key), list):
                return body[key]
    return [body]
WHO_KEYS = ("userId", "email", "eventName", "currentEmail", "catalogId")
_PAIRING_KEYS = ("email", "userId", "createdAt", "id")
MAX_VALUE_CHARS = 80


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


MISSING: Any = _Missing()
"""The value of a field that is not in the body."""

Kind = Literal["changed", "added", "removed"]


@dataclass(frozen=True)
class Change:
    """One difference. `item` is a bulk item ("events[3]") or None for the body itself; `path` the
    field within it ("dataFields.plan"), "" when the whole item was added or removed."""

    item: str | None
    path: str
    kind: Kind
    recorded: Any = MISSING
    now: Any = MISSING
    who: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        if not self.path:
            return "recorded, not sent now" if self.kind == "removed" else "sent now, not recorded"
        return f"{self.path}: recorded {show(self.recorded)}, now {show(self.now)}"


def show(value: Any) -> str:
    """A value as JSON (so `true`, `null`, `"text"`), cut short when long."""
    if value is MISSING:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def who(body: Any) -> dict[str, Any]:
    """Who and what a body or bulk item is about: userId, email, eventName (also from `user`)."""
    if not isinstance(body, dict):
        return {}
    found = {key: body[key] for key in WHO_KEYS if body.get(key) is not None}
    user = body.get("user")
    if isinstance(user, dict):
        found = {**{k: user[k] for k in ("userId", "email") if user.get(k) is not None}, **found}
    return found


def describe_who(identity: dict[str, Any]) -> str:
    return ", ".join(f"{key} {show(value)}" for key, value in identity.items()) or "no userId, email or eventName"


def same(a: Any, b: Any) -> bool:
    """JSON equality that also compares types (Python's `1 == 1.0 == True` does not)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def diff_bodies(recorded: Any, now: Any) -> list[Change]:
    """Every difference between two parsed JSON bodies, bulk items paired by who they are about."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        bulk = next((key for key in BULK_KEYS if isinstance(recorded.get(key), list) and isinstance(now.get(key), list)),
                    None)
        if bulk is not None:
            rest = list(_diff(_without(recorded, bulk), _without(now, bulk), "", None, who(recorded) or who(now)))
            return rest + list(_diff_items(bulk, recorded[bulk], now[bulk]))
    return list(_diff(recorded, now, "", None, who(recorded) or who(now)))


def describe(changes: list[Change], title: str = "") -> str:
    """The changes as indented text, grouped by bulk item, each naming who it is about."""
    lines = [title] if title else []
    seen: tuple[str | None, str] | None = None
    for change in changes:
        group = (change.item, describe_who(change.who))
        if group != seen:
            label = f"{change.item} — " if change.item else ""
            lines.append(f"  {label}{group[1]}:")
            seen = group
        lines.append(f"    {change.describe()}")
    return "\n".join(lines)


def _without(body: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != key}


def _pairing_key(item: Any) -> str:
    if not isinstance(item, dict):
        return json.dumps(item, sort_keys=True, default=str)
    return json.dumps([item.get(k) for k in _PAIRING_KEYS], default=str)


def pair_indexes(recorded: Sequence[Any], now: Sequence[Any], key: Callable[[Any], Any],
                 fallback: Callable[[Any], Any] | None = None) -> Iterator[tuple[int | None, int | None]]:
    """(recorded index, current index) pairs in order, matched by `key` (then `fallback` within
    unmatched runs); None on one side for an element only the other has."""
    matcher = difflib.SequenceMatcher(None, [key(c) for c in recorded], [key(c) for c in now], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            yield from zip(range(i1, i2), range(j1, j2), strict=True)
        elif fallback is not None:
            for i, j in pair_indexes(recorded[i1:i2], now[j1:j2], fallback):
                yield (None if i is None else i + i1), (None if j is None else j + j1)
        else:
            yield from ((i, None) for i in range(i1, i2))
            yield from ((None, j) for j in range(j1, j2))


def _diff_items(bulk: str, recorded: list[Any], now: list[Any]) -> Iterator[Change]:
    if len(recorded) == len(now):
        pairs: Iterable[tuple[int | None, int | None]] = zip(range(len(recorded)), range(len(now)), strict=True)
    else:  # other events: the recorded ones are gone, the current ones new
        pairs = pair_indexes(recorded, now, _pairing_key)
    for i, j in pairs:
        if i is None:
            assert j is not None  # each pair has one side at least
            yield Change(f"{bulk}[{j}]", "", "added", MISSING, now[j], who(now[j]))
        elif j is None:
            yield Change(f"{bulk}[{i}]", "", "removed", recorded[i], MISSING, who(recorded[i]))
        else:
            label = f"{bulk}[{i}]" if i == j else f"{bulk}[{i}] (now {bulk}[{j}])"
            yield from _diff(recorded[i], now[j], "", label, who(recorded[i]) or who(now[j]))


def _diff(recorded: Any, now: Any, path: str, item: str | None, identity: dict[str, Any]) -> Iterator[Change]:
    if same(recorded, now):
        return
    children = _children(recorded, now, path)
    if children is None:
        yield Change(item, path or "(body)", "changed", recorded, now, identity)
        return
    for sub, before, after in children:
        if before is MISSING:
            yield Change(item, sub, "added", MISSING, after, identity)
        elif after is MISSING:
            yield Change(item, sub, "removed", before, MISSING, identity)
        else:
            yield from _diff(before, after, sub, item, identity)


def _children(recorded: Any, now: Any, path: str) -> list[tuple[str, Any, Any]] | None:
    """(path, recorded, now) of each field or item of two objects or two lists; None for anything else."""
    if isinstance(recorded, dict) and isinstance(now, dict):
        keys = [*recorded, *(k for k in now if k not in recorded)]
        return [(f"{path}.{key}" if path else str(key), recorded.get(key, MISSING), now.get(key, MISSING))
                for key in keys]
    if isinstance(recorded, list) and isinstance(now, list):
        return [(f"{path}[{index}]", recorded[index] if index < len(recorded) else MISSING,
                 now[index] if index < len(now) else MISSING) for index in range(max(len(recorded), len(now)))]
    return None
