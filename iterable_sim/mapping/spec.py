"""Field mappings as data: the JSON specs beside this file, loaded and compiled once.

Each spec names an Iterable request body's fields, where each comes from (source paths in priority
order, the first present one wins, as in RudderStack's `constructPayload`), whether it is required,
and a named conversion. `FieldRule.resolve` is the one place values are looked up, for mapping
and for `explain` alike.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Callable

from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping.jsvalues import (UNDEFINED, date_ms, js_get, js_string, parse_float, parse_int, path_getter, present,
                        split_path, truthy)

SPEC_NAMES = ("identify", "track", "page", "purchase", "product", "device", "browser", "alias", "catalog")

APPLE_PLATFORMS = frozenset({"ios", "watchos", "ipados", "tvos"})


class SpecError(IterableSimError, ValueError):
    """A spec file (specs/*.json) names a conversion that does not exist, or a field without its origin."""


def _to_string(value: Any) -> Any:
    return UNDEFINED if value is UNDEFINED or value is None else js_string(value)


def _parse_int_if_truthy(value: Any) -> Any:
    return parse_int(value) if truthy(value) else UNDEFINED


def _to_string_if_truthy(value: Any) -> Any:
    return js_string(value) if truthy(value) else UNDEFINED


def _split_commas(value: Any) -> Any:
    return value.split(",") if isinstance(value, str) and value else value


def _push_platform(value: Any) -> str:
    return "APNS" if isinstance(value, str) and value.lower() in APPLE_PLATFORMS else "GCM"


# name -> (applies before the presence check?, function, what it does in words)
CONVERSIONS: dict[str, tuple[bool, Callable[[Any], Any], str]] = {
    "toString": (True, _to_string, "String(value)"),
    "epochMillis": (False, date_ms, "new Date(value).getTime(): epoch ms; null when missing or unparseable"),
    "parseIntIfTruthy": (False, _parse_int_if_truthy, "parseInt(value, 10) when truthy, else left out; null when not a number"),
    "toStringIfTruthy": (False, _to_string_if_truthy, "value.toString() when truthy, else left out"),
    "parseFloat": (False, parse_float, "parseFloat(value); null when not a number"),
    "parseInt": (False, parse_int, "parseInt(value, 10); null when not a number"),
    "splitCommas": (False, _split_commas, "a string is split on commas into a list"),
    "pushPlatform": (False, _push_platform, "APNS for Apple device types, GCM otherwise"),
    "pageEventName": (False, lambda v: v, "'<name> page' / '<name> screen', or 'Loaded a Page' / 'Loaded a Screen'"),
}


@dataclass(frozen=True)
class FieldRule:
    """One destination field: where its value comes from and what is done to it."""

    spec: str
    field: str
    sources: tuple[str, ...]
    sources_text: str  # as RudderStack's error messages write the source keys (JSON.stringify)
    required: bool = False
    convert: str | None = None
    setting: str | None = None
    note: str = ""
    origin: str = ""  # the RudderStack file and entry the rule follows
    # dataclasses.field, not field: in this class that name is the attribute above
    key: str = dataclasses.field(default="", init=False, repr=False, compare=False)  # the last part of a dotted field
    # lookup(message): the value RudderStack's constructPayload would set, or UNDEFINED; compiled per rule.
    lookup: Callable[[Any], Any] = dataclasses.field(  # type: ignore[assignment]
        default=None, init=False, repr=False, compare=False)
    _getters: tuple[Callable[[Any], Any], ...] = dataclasses.field(default=(), init=False, repr=False, compare=False)
    _after: Callable[[Any], Any] | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.field.rpartition(".")[2])
        object.__setattr__(self, "_getters", tuple(path_getter(split_path(s)) for s in self.sources))
        before = after = None
        if self.convert is not None:
            is_before, fn, _ = CONVERSIONS[self.convert]
            before, after = (fn, None) if is_before else (None, fn)
        object.__setattr__(self, "lookup", _compile_lookup(self._getters, before, self.sources))
        object.__setattr__(self, "_after", after)

    def resolve(self, message: Any) -> tuple[Any, str | None]:
        """`lookup`, and which source path gave the value (None when none did)."""
        value = self.lookup(message)
        if value is UNDEFINED:
            return value, None
        for get, text in zip(self._getters, self.sources, strict=True):
            if _usable(get(message)):
                return value, text
        return value, None

    def finish(self, value: Any) -> Any:
        """The conversion RudderStack applies after building the payload (UNDEFINED: leave the field out)."""
        return value if self._after is None else self._after(value)


def _usable(value: Any) -> bool:
    """What getValueFromMessage accepts from a source path: anything but undefined, null, "" and NaN."""
    return value is not UNDEFINED and value is not None and value != "" and not (type(value) is float and value != value)


def _compile_lookup(getters: tuple[Callable[[Any], Any], ...], before: Callable[[Any], Any] | None,
                    sources: tuple[str, ...]) -> Callable[[Any], Any]:
    if len(getters) == 1 and before is None and len(split_path(sources[0])) <= 2:
        return _compile_short_lookup(split_path(sources[0]))
    if len(getters) == 1 and before is None:
        (get,) = getters

        def lookup_one(message: Any) -> Any:
            value = get(message)
            if value is UNDEFINED or value is None or value == "" or (type(value) is float and value != value):
                return UNDEFINED
            return value
        return lookup_one

    def lookup_first(message: Any) -> Any:
        for get in getters:  # _usable, inlined: this loop is the hottest of all
            value = get(message)
            if value is not UNDEFINED and value is not None and value != "" and not (
                    type(value) is float and value != value):
                break
        else:
            value = UNDEFINED
        if before is not None:
            value = before(value)
            if not present(value):
                return UNDEFINED
        return value
    return lookup_first


def _compile_short_lookup(segments: tuple[str, ...]) -> Callable[[Any], Any]:
    """lookup_one for a path of one or two keys, with the path walk inlined (path_getter's rules)."""
    if len(segments) == 1:
        (a,) = segments

        def lookup_key(message: Any) -> Any:
            value = message.get(a, UNDEFINED) if type(message) is dict else js_get(message, segments)
            if value is UNDEFINED or value is None or value == "" or (type(value) is float and value != value):
                return UNDEFINED
            return value
        return lookup_key
    a, b = segments
    joined = f"{a}.{b}"

    def lookup_pair(message: Any) -> Any:
        if type(message) is dict and joined not in message:
            node = message.get(a, UNDEFINED)
            if type(node) is dict:
                value = node.get(b, UNDEFINED)
            elif type(node) is list:
                value = js_get(message, segments)
            else:
                return UNDEFINED
        else:
            value = js_get(message, segments)
        if value is UNDEFINED or value is None or value == "" or (type(value) is float and value != value):
            return UNDEFINED
        return value
    return lookup_pair


@dataclass(frozen=True)
class Spec:
    name: str
    endpoint: str
    about: str
    rules: tuple[FieldRule, ...]
    rudderstack: str = ""  # the RudderStack mapping file and builder the spec follows

    def rule(self, field_name: str) -> FieldRule:
        return next(r for r in self.rules if r.field == field_name)


def _read(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(resources.files(__package__).joinpath("specs", f"{name}.json").read_text("utf-8"))
    return spec


@cache
def load_generic() -> dict[str, Any]:
    """The shared source-path lists (specs/generic.json)."""
    return _read("generic")


@cache
def load_specs() -> dict[str, Spec]:
    generic = load_generic()
    specs = {}
    for name in SPEC_NAMES:
        raw = _read(name)
        rules = []
        for entry in raw["fields"]:
            sources = entry.get("sources", [])
            if isinstance(sources, str) and sources.startswith("@"):
                sources = generic[sources[1:]]
            listed = [sources] if isinstance(sources, str) else list(sources)
            if entry.get("convert") and entry["convert"] not in CONVERSIONS:
                raise SpecError(f"spec {name}.json, field {entry['field']}: unknown convert {entry['convert']!r}")
            if not entry.get("origin"):
                raise SpecError(f"spec {name}.json, field {entry['field']}: no origin (the RudderStack rule it follows)")
            rules.append(FieldRule(
                spec=name, field=entry["field"], sources=tuple(listed),
                sources_text=json.dumps(sources, separators=(",", ":")), required=entry.get("required", False),
                convert=entry.get("convert"), setting=entry.get("setting"), note=entry.get("note", ""),
                origin=entry["origin"]))
        specs[name] = Spec(name, raw["endpoint"], raw["about"], tuple(rules), raw["rudderstack"])
    return specs
