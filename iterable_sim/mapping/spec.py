"""Field mappings as data: the JSON specs beside this file, loaded and compiled once.

Each spec names an Iterable request body's fields, where each comes from (source paths in priority
order, the first present one wins, as in RudderStack's `constructPayload`), whether it is required,
and a named conversion. `FieldRule.resolve` is the one place values are looked up, for mapping
and for `explain` alike.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Callable

from ..jsvalues import (UNDEFINED, date_ms, fast_get, js_get, js_string, parse_float, parse_int, present,
                        split_path, truthy)

SPEC_NAMES = ("identify", "track", "page", "purchase", "product", "device", "browser", "alias", "catalog")

APPLE_PLATFORMS = frozenset({"ios", "watchos", "ipados", "tvos"})


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
    _paths: tuple[tuple[str, ...], ...] = field(default=(), repr=False, compare=False)

    @property
    def dest(self) -> tuple[str, ...]:
        return tuple(self.field.split("."))

    def resolve(self, message: Any) -> tuple[Any, str | None]:
        """(value, source path that gave it); UNDEFINED and None when nothing did.

        Only conversions RudderStack makes while looking values up are applied here; `finish` does the rest.

        Raises KeyError(rule) when a required value is missing; the caller words the error.
        """
        value, source = UNDEFINED, None
        for path, text in zip(self._paths, self.sources):
            candidate = fast_get(message, path) if type(message) is dict else js_get(message, path)
            if present(candidate):
                value, source = candidate, text
                break
        if self.convert is not None and CONVERSIONS[self.convert][0]:
            value = CONVERSIONS[self.convert][1](value)
            if not present(value):
                value, source = UNDEFINED, None
        return self._require(value), source

    def finish(self, value: Any) -> Any:
        """The conversion RudderStack applies after building the payload (UNDEFINED: leave the field out)."""
        if self.convert is None or CONVERSIONS[self.convert][0]:
            return value
        return CONVERSIONS[self.convert][1](value)

    def _require(self, value: Any) -> Any:
        if self.required and value is UNDEFINED:
            raise KeyError(self)
        return value


@dataclass(frozen=True)
class Spec:
    name: str
    endpoint: str
    about: str
    rules: tuple[FieldRule, ...]

    def rule(self, field_name: str) -> FieldRule:
        return next(r for r in self.rules if r.field == field_name)


def _read(name: str) -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("specs", f"{name}.json").read_text("utf-8"))


@cache
def load_specs() -> dict[str, Spec]:
    generic = _read("generic")
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
                raise ValueError(f"spec {name}.json, field {entry['field']}: unknown convert {entry['convert']!r}")
            rules.append(FieldRule(
                spec=name, field=entry["field"], sources=tuple(listed),
                sources_text=json.dumps(sources, separators=(",", ":")), required=entry.get("required", False),
                convert=entry.get("convert"), setting=entry.get("setting"), note=entry.get("note", ""),
                _paths=tuple(split_path(s) for s in listed)))
        specs[name] = Spec(name, raw["endpoint"], raw["about"], tuple(rules))
    return specs
