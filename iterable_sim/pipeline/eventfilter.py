"""The processor's event filter before the destination transform (rudder-server f2655fbbe).

`ConvertToFilteredTransformerResponse` (`processor/processor.go:3836-3936`) runs unless `transformAt` is
`none` (`processor/processor.go:3498-3513`): the supported message types and the connection mode
(`processor/eventfilter/eventfilter.go`), then `listOfConversions`. Destinations are the Go
`backendconfig.DestinationT` shape: `{"Config": {...}, "IsProcessorEnabled": bool, "DestinationDefinition":
{"Config": {...}}}`.

rudder-server does not read `eventFilteringOption` / `whitelistedEvents` / `blacklistedEvents`: no file of
rudder-server at f2655fbbe mentions them outside test data (`backend-config/testdata/sample_namespace.json`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from iterable_sim.pipeline.gojson import trim_space

FILTER_EVENT_CODE = 298  # reportingtypes.FilterEventCode (utils/types/types.go:13)
INVALID_MESSAGE_TYPE = "Invalid message type. Type assertion failed"  # eventfilter.go:134
MESSAGE_TYPE_NOT_SUPPORTED = "Message type not supported"  # eventfilter.go:148
HYBRID_MODE_FILTERED = "Filtering event based on hybridModeFilter"  # eventfilter.go:172
INVALID_MESSAGE_EVENT = "Invalid message event. Type assertion failed"  # processor.go:3899
EVENT_NOT_SUPPORTED = "Event not supported"  # processor.go:3910
HYBRID_MODE = "hybrid"  # eventfilter.go:17
HYBRID_MODE_FILTER_KEY = "hybridModeCloudEventsFilter"  # eventfilter.go:16


@dataclass(frozen=True)
class FilterResponse:
    """The failed-event response the filter gives (`types.TransformerResponse` StatusCode and Error)."""

    status: int
    error: str


def _config(mapping: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def go_lower(text: str) -> str:
    """Go's strings.ToLower (simple case mapping: U+0130 becomes a plain 'i', as Go's unicode.ToLower does)."""
    return text.replace("\u0130", "i").lower() if not text.isascii() else text.lower()


def message_type(message: Mapping[str, Any]) -> str:
    """`getMessageType` (eventfilter.go:103-115): the `type` string, or "" when absent or not a string."""
    value = message.get("type")
    return value if isinstance(value, str) else ""


def supported_message_types(destination: Mapping[str, Any]) -> tuple[list[str] | None, bool]:
    """`GetSupportedMessageTypes` (eventfilter.go:24-44): the definition's `supportedMessageTypes` when it is a
    list (non-strings read as ""), without `identify` when the destination Config has
    `enableServerSideIdentify: false` (eventfilter.go:46-53); `(None, False)` when it is absent or not a list."""
    types = _config(_config(destination, "DestinationDefinition"), "Config").get("supportedMessageTypes")
    if not isinstance(types, list):
        return None, False
    identify_off = _config(destination, "Config").get("enableServerSideIdentify") is False
    values = [t if isinstance(t, str) else "" for t in types]
    return [t for t in values if not (t == "identify" and identify_off)], True


def supported_message_events(destination: Mapping[str, Any]) -> tuple[list[str] | None, bool]:
    """`GetSupportedMessageEvents` (eventfilter.go:57-85): `listOfConversions[].conversions`, only when every
    entry has a string there."""
    conversions = _config(destination, "Config").get("listOfConversions")
    if not isinstance(conversions, list):
        return None, False
    names = [entry["conversions"] for entry in conversions
             if isinstance(entry, dict) and isinstance(entry.get("conversions"), str)]
    if len(names) != len(conversions):
        return None, False
    return names, True


def convert_to_array_of_strings(value: Any) -> list[str]:
    """`ConvertToArrayOfType[string]` (eventfilter.go:278-294): a list of strings, or [] if any is not one."""
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return []


def filter_events_for_hybrid_mode(destination: Mapping[str, Any], source_type: str, message_type_: str,
                                  default_behaviour: bool) -> bool:
    """`FilterEventsForHybridMode` (eventfilter.go:205-269). Only with Config `connectionMode: "hybrid"`, a source
    type, and `hybridModeCloudEventsFilter[<source type>]` a non-empty object does the definition restrict
    types; its keys are visited in the mapping's order (Go visits a map in random order, which matters only
    when keys other than `messageType` are present)."""
    source_type = trim_space(source_type)
    if source_type == "":
        return default_behaviour
    mode = _config(destination, "Config").get("connectionMode")
    if not isinstance(mode, str) or mode != HYBRID_MODE:
        return default_behaviour
    definition_config = _config(_config(destination, "DestinationDefinition"), "Config")
    per_source = definition_config.get(HYBRID_MODE_FILTER_KEY)
    properties = per_source.get(source_type) if isinstance(per_source, Mapping) else None
    if not isinstance(properties, Mapping) or not properties:
        return default_behaviour
    allow = default_behaviour
    for name, values in properties.items():
        if not allow:
            allow = default_behaviour
            break
        if name == "messageType":
            allowed = convert_to_array_of_strings(values)
            if not allowed:
                allow = default_behaviour
                continue
            allow = message_type_ in allowed and default_behaviour
    return allow


def allow_event_to_dest_transformation(message: Mapping[str, Any], destination: Mapping[str, Any],
                                       supported_types: list[str], *,
                                       source_definition_type: str = "") -> tuple[bool, FilterResponse | None]:
    """`AllowEventToDestTransformation` (eventfilter.go:126-178): the type (lower-cased, trimmed) must be present
    (else 400) and supported (else 298), then allowed by the connection mode (else 298)."""
    kind = trim_space(go_lower(message_type(message)))
    if kind == "":
        return False, FilterResponse(400, INVALID_MESSAGE_TYPE)
    supported = kind in supported_types
    if not supported:
        return False, FilterResponse(FILTER_EVENT_CODE, MESSAGE_TYPE_NOT_SUPPORTED)
    default = bool(destination.get("IsProcessorEnabled")) and supported
    if not filter_events_for_hybrid_mode(destination, source_definition_type, kind, default):
        return False, FilterResponse(FILTER_EVENT_CODE, HYBRID_MODE_FILTERED)
    return True, None


def filter_event(message: Mapping[str, Any], destination: Mapping[str, Any], *, source_definition_type: str = "",
                 transform_at: str = "router") -> FilterResponse | None:
    """One event through `ConvertToFilteredTransformerResponse` (processor.go:3836-3936), drain aside: None when
    it goes on to the destination transform, else the response that stops it."""
    if transform_at == "none":  # processor.go:3513
        return None
    supported, known = supported_message_types(destination)
    if known:
        allow, failed = allow_event_to_dest_transformation(message, destination, supported or [],
                                                           source_definition_type=source_definition_type)
        if not allow:
            return failed
    events, restricted = supported_message_events(destination)
    if restricted:
        name = message.get("event")
        if not isinstance(name, str):
            return FilterResponse(400, INVALID_MESSAGE_EVENT)
        if name not in (events or []):
            return FilterResponse(FILTER_EVENT_CODE, EVENT_NOT_SUPPORTED)
    return None
