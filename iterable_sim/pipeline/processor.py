"""The processor's rewrites of an event before any destination sees it (rudder-server f2655fbbe).

* `enhance_with_time_fields`: `processor/processor.go:1037-1056`. `originalTimestamp` and `sentAt` parsed, else
  the batch `receivedAt` (`getTimestampFromEvent`, `processor/processor.go:1028-1035`); `timestamp` kept when it
  parses, else `receivedAt - (sentAt - originalTimestamp)` (`utils/misc/misc.go:279-283`); `receivedAt` set to
  the batch value (overwriting the client's, `processor/processor.go:1052`); all four written with
  `2006-01-02T15:04:05.000Z07:00` (`utils/misc/misc.go:53`).
* `request_ip` set to the batch-level `requestIP` (`processor/processor.go:2224`).
* rETL (`warehouse` category) sources lose `context.activation.fingerprint` / `.origin`
  (`processor/processor.go:1012-1026, 1931-1936`).
"""
from __future__ import annotations

from typing import Any, Mapping

from iterable_sim.pipeline.gotime import GoTime, parse_any

TIME_FIELDS = ("receivedAt", "originalTimestamp", "sentAt", "timestamp")


def parsed_timestamp(value: Any) -> GoTime | None:
    """`misc.GetParsedTimestamp` (`utils/misc/misc.go:719-731`): only strings are parsed."""
    return parse_any(value) if isinstance(value, str) else None


def timestamp_from_event(event: Mapping[str, Any], name: str, default: GoTime) -> GoTime:
    """`getTimestampFromEvent` (`processor/processor.go:1028-1035`): the field parsed, else `default`."""
    parsed = parsed_timestamp(event.get(name))
    return parsed if parsed is not None else default


def time_fields(event: Mapping[str, Any], received_at: GoTime) -> dict[str, str]:
    """The four time fields the processor writes for `event` given the batch `receivedAt`."""
    original = timestamp_from_event(event, "originalTimestamp", received_at)
    sent = timestamp_from_event(event, "sentAt", received_at)
    timestamp = parsed_timestamp(event.get("timestamp"))
    if timestamp is None:  # processor.go:1044-1049: timestamp = receivedAt - (sentAt - originalTimestamp)
        timestamp = received_at.add(-sent.minus(original))
    return {"receivedAt": received_at.format_milli(), "originalTimestamp": original.format_milli(),
            "sentAt": sent.format_milli(), "timestamp": timestamp.format_milli()}


def enhance_with_time_fields(event: Mapping[str, Any], received_at: GoTime) -> dict[str, Any]:
    """A copy of `event` (top level) with the processor's four time fields."""
    return {**event, **time_fields(event, received_at)}


def strip_activation_metadata(event: Mapping[str, Any]) -> dict[str, Any]:
    """`stripActivationMetadata` (`processor/processor.go:1012-1026`), applied to rETL sources only: a copy of
    `event` without `context.activation.fingerprint` and `.origin`, and without `context.activation` if that
    leaves it empty."""
    context = event.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("activation"), dict):
        return dict(event)
    activation = {k: v for k, v in context["activation"].items() if k not in ("fingerprint", "origin")}
    context = {k: v for k, v in context.items() if k != "activation"}
    if activation:
        context["activation"] = activation
    return {**event, "context": context}


def processor_fields(event: Mapping[str, Any], *, request_ip: str, received_at: GoTime) -> dict[str, Any]:
    """The event as the processor hands it on after preprocessing (`processor/processor.go:2222-2226`): the
    batch `request_ip`, then the time fields."""
    return enhance_with_time_fields({**event, "request_ip": request_ip}, received_at)
