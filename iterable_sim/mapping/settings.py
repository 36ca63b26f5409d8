"""The Iterable destination's settings, built directly or read from a RudderStack destination config."""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal, Mapping

from iterable_sim.exceptions import IterableSimError
from iterable_sim.hosts import BASE_URLS
from iterable_sim.mapping.jsvalues import js_string, truthy
from iterable_sim.mapping.releases import LATEST, RULES_BY_NAME, Release, resolve_release
from iterable_sim.pipeline.definition import KNOWN_KEYS
from iterable_sim.pipeline.run import PipelineConfig
from iterable_sim.pipeline.usertransform import UserTransformation
from iterable_sim.pipeline.workspace import IterableDestination
from iterable_sim.redact import mask


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
PAGE_FLAGS = ("track_all_pages", "track_categorised_pages", "track_named_pages")


class SettingsError(IterableSimError, ValueError):
    """A setting given directly has a value Settings does not accept."""


class SettingsTypeError(IterableSimError, TypeError):
    """Something other than a Settings given as the settings (such as the RudderStack Config to read one from)."""


class EventsTypeError(IterableSimError, TypeError):
    """One event (or text) given where a collection of events is expected."""


@dataclass(frozen=True, repr=False)
class Settings:
    """RudderStack's Iterable destination settings.

    Built directly, every value is checked. `Settings.from_rudder(config)` instead reads a
    RudderStack destination Config as RudderStack does: values pass through unchanged, and each
    surprise RudderStack would not tell you about is recorded in `warnings`.

    `rudder_server` (default on) puts rudder-server's steps in front of the mapping, as a deployment
    does: the gateway's enrichment, the `integrations` object, consent, the supported message types and
    a user transformation (`iterable_sim.pipeline`); off, the events are taken as the transformer's own
    input, as the conformance checks feed it. `pipeline` gives those steps a context beyond the Config
    (destination and source IDs, a user transformation): see `pipeline_config()`.

    The page settings differ between the two: built directly, Track All Pages is on unless you say
    otherwise; read from a Config, a page setting the Config does not hold is off, as RudderStack's
    code reads it (`if (trackAllPages)`), and so it is for the command line's flags.
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
    # The destination these settings were read for (for_destination): its ID, source and the file it came from.
    destination: IterableDestination | None = field(default=None, init=False, compare=False, repr=False)
    # The RudderStack Config these settings were read from (from_rudder), as given: it decides the
    # null api_key header and, as RudderStack's router groups events, which jobs share batches.
    rudder_config: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    rudder_server: bool = True
    pipeline: PipelineConfig | None = field(default=None, compare=False, repr=False)
    rudderstack: str = LATEST

    def __post_init__(self) -> None:
        if not isinstance(self.data_center, str) or self.data_center not in BASE_URLS:
            raise SettingsError(f"data_center must be 'USDC' or 'EUDC', got {self.data_center!r}")
        for name in KEY_FIELDS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise SettingsError(f"{name} must be a string or None, got {type(value).__name__}")
        for name in (*FLAGS, "rudder_server"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise SettingsError(f"{name} must be True or False, got {value!r}")
        _check_pipeline(self.pipeline)
        object.__setattr__(self, "warnings", tuple(self.warnings) + _release_warnings(self) + tuple(_page_warnings(self)))
        object.__setattr__(self, "rudder_config", None)  # built directly (or replaced): no Config stands behind it

    @classmethod
    def from_rudder(cls, config: Mapping[str, Any] | None, *, rudder_server: bool = True,
                    pipeline: PipelineConfig | None = None, rudderstack: str = LATEST) -> "Settings":
        """Read a RudderStack destination Config exactly as RudderStack's Iterable destination does.

        Any value is taken as RudderStack takes it (with a warning when that surprises); only a
        `config` that is not a mapping at all raises SettingsError. A whole destination as RudderStack
        exports it (`{"id": ..., "config": {...}}`) is read by its config. `rudder_server`, `pipeline`
        and `rudderstack` are the fields of that name.
        """
        if config is not None and not isinstance(config, Mapping):
            raise SettingsError(f"Settings.from_rudder takes a RudderStack destination Config, a mapping such as "
                                f"{{'apiKey': ..., 'trackAllPages': True}}, not a value of type {type(config).__name__}")
        config, warnings = _settings_of(dict(config or {}))
        warnings += _unknown_key_warnings(config)
        values = {name: config[key] for name, key in RUDDER_KEYS.items() if key in config}
        values["data_center"], surprises = _data_center(values.get("data_center", "USDC"))
        warnings += surprises
        warnings += _value_warnings(values)
        for name in PAGE_FLAGS:
            values.setdefault(name, False)
        settings = cls.__new__(cls)
        if not isinstance(rudder_server, bool):
            raise SettingsError(f"rudder_server must be True or False, got {rudder_server!r}")
        _check_pipeline(pipeline)
        values.update(rudder_server=rudder_server, pipeline=pipeline, rudderstack=rudderstack)
        for f in fields(cls):
            if f.name != "rudder_config":
                object.__setattr__(settings, f.name, values.get(f.name, f.default))
        object.__setattr__(settings, "warnings", tuple(warnings) + _release_warnings(settings) + tuple(_page_warnings(settings)))
        object.__setattr__(settings, "rudder_config", config)  # a copy: dict(config) above
        return settings

    def to_rudder(self) -> dict[str, Any]:
        """The RudderStack destination Config these settings stand for."""
        return {key: getattr(self, name) for name, key in RUDDER_KEYS.items()}

    def pipeline_config(self) -> PipelineConfig | None:
        """What rudder-server's steps read for these settings (None when `rudder_server` is off): the
        `pipeline` given, with this Config as its destination Config (the one the consent and
        connection-mode filters read: `rudder_config`, else `to_rudder()`)."""
        if not self.rudder_server:
            return None
        config = dict(self.rudder_config) if self.rudder_config is not None else self.to_rudder()
        if self.pipeline is None:
            return PipelineConfig(destination_config=config)
        return replace(self.pipeline, destination_config=config)

    @cached_property
    def release(self) -> Release:
        """The known rudder-transformer release these settings map as (`rudderstack` resolved)."""
        return resolve_release(self.rudderstack)[0]

    @cached_property
    def base_url(self) -> str:
        """Where every request goes: the data center's host; the US host for every data center on a
        release before v1.85.0 (rule eu_data_center: EUDC came with 1c134f846)."""
        if not self.release.has("eu_data_center"):
            return BASE_URLS["USDC"]
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

    @classmethod
    def for_destination(cls, destination: IterableDestination, *, rudder_server: bool = True,
                        user_transformation: UserTransformation | None = None) -> "Settings":
        """The settings of one destination of a RudderStack config (`iterable_sim.read_settings`, or
        `iterable_sim.pipeline.read_rudder_config(...).choose()`): its Config read as `from_rudder` reads it,
        and rudder-server's context for it (destination and source IDs, the definition's message types:
        `pipeline_config()`); `user_transformation` stands for its user transformation."""
        if not isinstance(destination, IterableDestination):
            raise SettingsTypeError(f"Settings.for_destination takes an IterableDestination (read_rudder_config(...)"
                                    f".choose()), not {type(destination).__name__}: for a Config, use from_rudder")
        settings = cls.from_rudder(destination.config, rudder_server=rudder_server,
                                   pipeline=destination.pipeline_config(user_transformation=user_transformation))
        if destination.transformations and user_transformation is None and rudder_server:
            ids = ", ".join(destination.transformations)
            object.__setattr__(settings, "warnings", settings.warnings + (
                f"{destination.describe()} has a user transformation ({ids}): iterable_sim does not run its "
                f"JavaScript, so the events reach the transformer as they are (give a Python user_transformation)",))
        object.__setattr__(settings, "destination", destination)
        return settings

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            if f.name in ("warnings", "rudder_config", "pipeline", "destination") or (f.name == "rudder_server" and self.rudder_server) \
                    or (f.name == "rudderstack" and self.rudderstack == LATEST):
                continue
            value = getattr(self, f.name)
            parts.append(f"{f.name}={mask(value) if f.name in KEY_FIELDS and value is not None else repr(value)}")
        if self.warnings:
            parts.append(f"warnings=<{len(self.warnings)}>")
        return f"Settings({', '.join(parts)})"


def _release_warnings(settings: Settings) -> tuple[str, ...]:
    """Resolve `rudderstack` (refusing what is not a known release, or older than all), with the warning
    when another release stands in for it."""
    release, warning = resolve_release(settings.rudderstack)
    object.__setattr__(settings, "release", release)
    warnings: tuple[str, ...] = (warning,) if warning else ()
    if settings.data_center == "EUDC" and not release.has("eu_data_center"):
        rule = RULES_BY_NAME["eu_data_center"]
        warnings += (f"dataCenter is 'EUDC', but rudder-transformer {release.tag} has no EU data center (it came in "
                     f"{rule.since}, {rule.commit}): every request, deleteUsers included, goes to the US host "
                     f"({BASE_URLS['USDC']})",)
    return warnings


def _check_pipeline(pipeline: Any) -> None:
    if pipeline is not None and not isinstance(pipeline, PipelineConfig):
        raise SettingsTypeError(f"pipeline must be an iterable_sim.pipeline.PipelineConfig or None, not "
                                f"{type(pipeline).__name__}")


def require_settings(settings: Any) -> None:
    """A clear TypeError for what is not a Settings, such as the RudderStack Config it could be read from."""
    if not isinstance(settings, Settings):
        raise SettingsTypeError(f"settings must be a Settings, not {type(settings).__name__}: Settings(api_key=...), or "
                                f"Settings.from_rudder(config) for a RudderStack destination Config")


def require_events(events: Any) -> None:
    """A clear TypeError for one event (or text) given where a collection of events is expected."""
    if isinstance(events, (Mapping, str, bytes)):
        raise EventsTypeError(f"events must be a collection of events (a list of dicts), not a {type(events).__name__}: "
                              f"for one event, pass [event]")


def header_problem(name: str, key: Any) -> str | None:
    """Why the key `name` cannot travel in an HTTP header (a placeholder such as "…", a key pasted with
    a line break), or None; the key itself is never quoted. Absent keys and numbers travel."""
    if key is None or isinstance(key, (int, float)):
        return None
    if not isinstance(key, str):
        return f"{name} is a {type(key).__name__}: an HTTP header cannot carry it. Nothing was sent"
    bad = next((i for i, char in enumerate(key) if not " " <= char <= "~"), None)
    if bad is None:
        return None
    return (f"{name} has a character an HTTP header cannot carry at position {bad} (only printable ASCII can "
            f"travel: is it a placeholder, or pasted with a line break?). Nothing was sent")


def _settings_of(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The Config itself, and a warning, when `config` is a whole destination as RudderStack exports
    it (`{"id": ..., "config": {...}}`, holding none of the Config's keys itself)."""
    inner = config.get("config", config.get("Config"))
    if isinstance(inner, Mapping) and not set(config) & KNOWN_KEYS:
        return dict(inner), ["a whole destination was given: pass its 'Config' (its settings were read from there)"]
    return config, []


def _unknown_key_warnings(config: Mapping[Any, Any]) -> list[str]:
    """A warning per key that neither Iterable's destination definition declares nor rudder-server reads
    (`iterable_sim.pipeline.definition.KNOWN_KEYS`), with the known key it resembles. The definition's other
    keys (consent, connection mode, device-mode and client-side filtering settings) are taken quietly."""
    warnings = []
    for key in config:
        if key not in KNOWN_KEYS:
            hint = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1) if isinstance(key, str) else []
            if key == "Config" and isinstance(config[key], Mapping):
                suffix = " (a whole destination was given: pass its 'Config')"
            else:
                suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
            warnings.append(f"unknown key {key!r} is ignored{suffix}")
    return warnings


def _data_center(center: Any) -> tuple[str, list[str]]:
    """The data center RudderStack sends to for a Config's dataCenter, and what surprises in it:
    JavaScript looks BASE_URL[dataCenter] up by the value's string form, and a value that is neither
    USDC nor EUDC silently sends to the US host."""
    warnings = []
    if center is not None and not isinstance(center, str):
        warnings.append(f"dataCenter is a {type(center).__name__}, not a string: JavaScript reads it as "
                        f"{js_string(center)!r}")
        center = js_string(center)
    if center not in BASE_URLS:
        warnings.append(
            f"dataCenter {center!r} is neither 'USDC' nor 'EUDC': RudderStack silently sends to the US host "
            f"({BASE_URLS['USDC']})")
        center = "USDC"
    return center, warnings


def _value_warnings(values: Mapping[str, Any]) -> list[str]:
    """A warning per key or flag whose type RudderStack passes on unchecked: keys that are not
    strings, booleans that are not booleans (sent as they are, or read as JavaScript reads them)."""
    warnings = []
    for name in KEY_FIELDS:
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            warnings.append(f"{RUDDER_KEYS[name]} is a {type(value).__name__}, not a string: it is sent as it is")
    for name in ("prefer_user_id", "merge_nested_objects"):
        if name in values and not isinstance(values[name], bool):
            warnings.append(
                f"{RUDDER_KEYS[name]} is {values[name]!r}, not a boolean: RudderStack sends it as it is, "
                f"and Iterable rejects such a request (BadJsonBody: Boolean value expected)")
    for name in PAGE_FLAGS:
        if name in values and not isinstance(values[name], bool):
            state = "on" if truthy(values[name]) else "off"
            warnings.append(f"{RUDDER_KEYS[name]} is {values[name]!r}, not a boolean: JavaScript counts it as {state}")
    if "map_to_single_event" in values and not isinstance(values["map_to_single_event"], bool):
        warnings.append(
            f"mapToSingleEvent is {values['map_to_single_event']!r}: RudderStack only honours the boolean true, "
            f"so pages and screens keep their own names")
    return warnings


def _headers(key: Any, keep_null: bool = False) -> Mapping[str, str]:
    headers = {"Content-Type": "application/json"}
    if key is not None or keep_null:
        headers["api_key"] = key
    return MappingProxyType(headers)


def _page_warnings(settings: Settings) -> list[str]:
    if any(truthy(getattr(settings, name)) for name in PAGE_FLAGS):
        return []
    return ["trackAllPages, trackCategorisedPages and trackNamedPages are all off: "
            "every page and screen event is rejected ('Invalid page call')"]


def check_keys(settings: Settings) -> None:
    """Refuse, before anything is sent, a key that no HTTP header can carry (a placeholder such as
    "…", a key pasted with a line break): every request would otherwise fail before reaching Iterable."""
    for name in KEY_FIELDS:
        problem = header_problem(RUDDER_KEYS[name], getattr(settings, name))
        if problem:
            raise SettingsError(problem)
