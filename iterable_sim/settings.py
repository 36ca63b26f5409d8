"""The Iterable destination's settings, built directly or read from a RudderStack destination config."""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal, Mapping
from urllib.parse import urlsplit

from .jsvalues import truthy
from .redact import mask

BASE_URLS = MappingProxyType({"USDC": "https://api.iterable.com/api/", "EUDC": "https://api.eu.iterable.com/api/"})
HOSTS = MappingProxyType({"api.iterable.com": "US", "api.eu.iterable.com": "EU"})  # Iterable's hosts, their data center


def data_center_of(url: str) -> str:
    """"EU" for a URL on Iterable's EU host, else "US"."""
    return HOSTS.get(urlsplit(url).hostname or "", "US")


# Pythonic field name -> the key of RudderStack's destination Config.
RUDDER_KEYS = MappingProxyType({
    "api_key": "apiKey",
    "data_center": "dataCenter",
    "register_device_or_browser_api_key": "registerDeviceOrBrowserApiKey",
    "prefer_user_id": "preferUserId",
    "merge_nested_objects": "mergeNestedObjects",
    "map_to_single_event": "mapToSingleEvent",
    "track_all_pages": "trackAllPages",
    "track_categorised_pages": "trackCategorisedPages",
    "track_named_pages": "trackNamedPages",
})
FLAGS = ("prefer_user_id", "merge_nested_objects", "map_to_single_event", "track_all_pages",
         "track_categorised_pages", "track_named_pages")  # the on/off settings
KEY_FIELDS = ("api_key", "register_device_or_browser_api_key")
_PAGE_FLAGS = ("track_all_pages", "track_categorised_pages", "track_named_pages")


class SettingsError(ValueError):
    """A setting given directly has a value Settings does not accept."""


@dataclass(frozen=True, repr=False)
class Settings:
    """RudderStack's Iterable destination settings.

    Built directly, every value is checked. `Settings.from_rudder(config)` instead reads a
    RudderStack destination Config as RudderStack does: values pass through unchanged, and each
    surprise RudderStack would not tell you about is recorded in `warnings`.
    """

    api_key: str | None = None
    data_center: Literal["USDC", "EUDC"] = "USDC"
    register_device_or_browser_api_key: str | None = None
    prefer_user_id: bool = True
    merge_nested_objects: bool = True
    map_to_single_event: bool = False
    track_all_pages: bool = True
    track_categorised_pages: bool = False
    track_named_pages: bool = False
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # The RudderStack Config these settings were read from (from_rudder), as given: it decides the
    # null api_key header and, as RudderStack's router groups events, which jobs share batches.
    rudder_config: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.data_center not in BASE_URLS:
            raise SettingsError(f"data_center must be 'USDC' or 'EUDC', got {self.data_center!r}")
        for name in KEY_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise SettingsError(f"{name} must be a string or None, got {type(value).__name__}")
        for name in FLAGS:
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise SettingsError(f"{name} must be True or False, got {value!r}")
        object.__setattr__(self, "warnings", tuple(self.warnings) + tuple(_page_warnings(self)))
        object.__setattr__(self, "rudder_config", None)  # built directly (or replaced): no Config stands behind it

    @classmethod
    def from_rudder(cls, config: Mapping[str, Any] | None) -> "Settings":
        """Read a RudderStack destination Config exactly as RudderStack's Iterable destination does."""
        config = dict(config or {})
        values: dict[str, Any] = {}
        warnings: list[str] = []
        known = set(RUDDER_KEYS.values())
        for key in config:
            if key not in known:
                hint = difflib.get_close_matches(key, known, n=1)
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
                warnings.append(f"unknown key {key!r} is ignored{suffix}")
        for name, key in RUDDER_KEYS.items():
            if key not in config:
                continue
            values[name] = config[key]
        center = values.get("data_center", "USDC")
        if center not in BASE_URLS:
            warnings.append(
                f"dataCenter {center!r} is neither 'USDC' nor 'EUDC': RudderStack silently sends to the US host "
                f"({BASE_URLS['USDC']})")
            values["data_center"] = "USDC"
        for name in KEY_FIELDS:
            value = values.get(name)
            if value is not None and not isinstance(value, str):
                warnings.append(f"{RUDDER_KEYS[name]} is a {type(value).__name__}, not a string: it is sent as it is")
        for name in ("prefer_user_id", "merge_nested_objects"):
            if name in values and not isinstance(values[name], bool):
                warnings.append(
                    f"{RUDDER_KEYS[name]} is {values[name]!r}, not a boolean: RudderStack sends it as it is, "
                    f"and Iterable rejects such a request (BadJsonBody: Boolean value expected)")
        for name in _PAGE_FLAGS:
            if name in values and not isinstance(values[name], bool):
                state = "on" if truthy(values[name]) else "off"
                warnings.append(f"{RUDDER_KEYS[name]} is {values[name]!r}, not a boolean: JavaScript counts it as {state}")
        if "map_to_single_event" in values and not isinstance(values["map_to_single_event"], bool):
            warnings.append(
                f"mapToSingleEvent is {values['map_to_single_event']!r}: RudderStack only honours the boolean true, "
                f"so pages and screens keep their own names")
        for name in _PAGE_FLAGS:
            values.setdefault(name, False)
        settings = cls.__new__(cls)
        for f in fields(cls):
            if f.name != "rudder_config":
                object.__setattr__(settings, f.name, values.get(f.name, f.default))
        object.__setattr__(settings, "warnings", tuple(warnings) + tuple(_page_warnings(settings)))
        object.__setattr__(settings, "rudder_config", config)  # a copy: dict(config) above
        return settings

    def to_rudder(self) -> dict[str, Any]:
        """The RudderStack destination Config these settings stand for."""
        return {key: getattr(self, name) for name, key in RUDDER_KEYS.items()}

    @cached_property
    def base_url(self) -> str:
        return BASE_URLS[self.data_center]

    @cached_property
    def headers(self) -> Mapping[str, str]:
        """The headers of every request but token registrations (read-only, shared by all requests):
        `api_key: destination.Config.apiKey` (transform.js responseBuilder), so a Config's null apiKey
        is sent as null and an absent one not at all."""
        config = self.rudder_config
        return _headers(self.api_key, keep_null=config is not None and "apiKey" in config)

    @cached_property
    def group_key(self) -> str:
        """What RudderStack's router groups a destination's events by besides its ID: the Config,
        stably stringified (groupRouterTransformEvents in src/v0/util/index.js)."""
        config = dict(self.rudder_config) if self.rudder_config is not None else self.to_rudder()
        return json.dumps(config, sort_keys=True, separators=(",", ":"), default=repr)

    @cached_property
    def device_headers(self) -> Mapping[str, str]:
        """Token registrations are sent with registerDeviceOrBrowserApiKey."""
        return _headers(self.register_device_or_browser_api_key)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            if f.name in ("warnings", "rudder_config"):
                continue
            value = getattr(self, f.name)
            parts.append(f"{f.name}={mask(value) if f.name in KEY_FIELDS and value is not None else repr(value)}")
        if self.warnings:
            parts.append(f"warnings=<{len(self.warnings)}>")
        return f"Settings({', '.join(parts)})"


def _headers(key: Any, keep_null: bool = False) -> Mapping[str, str]:
    headers = {"Content-Type": "application/json"}
    if key is not None or keep_null:
        headers["api_key"] = key
    return MappingProxyType(headers)


def _page_warnings(settings: Settings) -> list[str]:
    if any(truthy(getattr(settings, name)) for name in _PAGE_FLAGS):
        return []
    return ["trackAllPages, trackCategorisedPages and trackNamedPages are all off: "
            "every page and screen event is rejected ('Invalid page call')"]
