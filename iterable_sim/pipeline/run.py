"""rudder-server's steps in front of the Iterable transformer, in its order, for a list of events.

1. gateway: the request is read and each event enriched (`gateway/handle.go:301-553`), unless the events were
   stored by a gateway already (archived events: `already_through_gateway=True`);
2. destination availability: the `integrations` object, then consent (`processor/processor.go:2196`,
   `isDestinationAvailable` `processor/processor.go:4167-4196`); a drop is reported `destination_filter` 298;
3. `request_ip` and the time fields (`processor/processor.go:2222-2226`);
4. the user transformation, if the destination has one (`processor/processor.go:3259-3484`);
5. the event filter: message types, connection mode, `listOfConversions` (`processor/processor.go:3498-3557`);
6. what is left is stored as a router job and given to the Iterable router transform untransformed
   (`transform_at: "router"`, `processor/processor.go:3596-3603, 3925-3932`).

Bot, event-blocking and dedup steps, tracking plans, geo enrichment and the drain list are not reproduced
(they depend on inputs from outside the events and the destination's Config; see docs/pipeline.md).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Callable, Collection, Iterable, Mapping, Sequence

from iterable_sim.clock import Clock, SystemClock
from iterable_sim.exceptions import IterableSimError
from iterable_sim.pipeline.consent import consent_allows, consent_explanation
from iterable_sim.pipeline.eventfilter import FILTER_EVENT_CODE, filter_event
from iterable_sim.pipeline.fates import (ABORTED, DESTINATION_FILTER, EVENT_FILTER, FILTERED, GATEWAY, REJECTED,
                                         SUPPRESSED, USER_TRANSFORMER, Fate, Passed, Stopped)
from iterable_sim.pipeline.gateway import (NOT_RUDDER_EVENT, OK, STATUS_OF_TEXT, GatewayOptions, read_batch,
                                           size_for_limit, uuid4_source)
from iterable_sim.pipeline.gojson import as_gateway_values, clean_identifier, go_json, stringify_any
from iterable_sim.pipeline.gotime import GoTime, parse_rfc3339
from iterable_sim.pipeline.integrations import ITERABLE_DISPLAY_NAME, ITERABLE_NAME, allows_iterable
from iterable_sim.pipeline.processor import processor_fields, strip_activation_metadata
from iterable_sim.pipeline.usertransform import UserTransformation, run_user_transformation

# The ITERABLE definition lists its cloud-mode types as {"cloud": [...], "device": {...}}
# (intcfg@src/configurations/destinations/iterable/db-config.json:55-60); rudder-server filters only by a
# list (processor/eventfilter/eventfilter.go:26-28). iterable_sim assumes the control plane sends the list
# for the connection's source type, "cloud", as rudder-server's own test data shows
# (backend-config/testdata/sample_namespace.json): pipeline.md "What the source does not tell" 1.
ITERABLE_SUPPORTED_MESSAGE_TYPES = ("identify", "page", "screen", "track", "alias")


class PipelineError(IterableSimError, ValueError):
    """A pipeline was asked for with arguments it cannot take."""


class PipelineTypeError(IterableSimError, TypeError):
    """An argument of the wrong type (events that are not a list, a config that is not one)."""


@dataclass(frozen=True)
class PipelineConfig:
    """The settings rudder-server's steps read for the Iterable destination, and the context of the request.

    `destination_config` is the destination's Config (the dict `Settings.from_rudder` reads): the steps here
    read `oneTrustCookieCategories`, `ketchConsentPurposes`, `consentManagement`, `connectionMode`,
    `enableServerSideIdentify` and `listOfConversions` from it. `supported_message_types` is what the
    definition's `supportedMessageTypes` holds when it reaches rudder-server (None: the object form, with
    which rudder-server filters no type). `transform_at` is `Processor.ITERABLE.transformAt` ("none" skips the
    event filter). `one_request`: the events are the batch of one HTTP request (a rejected request stops them
    all; one event's `request_ip` becomes the request's), else each event is a request of its own.
    """

    destination_config: Mapping[str, Any] = field(default_factory=dict)
    supported_message_types: tuple[str, ...] | None = ITERABLE_SUPPORTED_MESSAGE_TYPES
    user_transformation: UserTransformation | None = None
    transform_at: str = "router"
    destination_enabled: bool = True
    one_request: bool = False
    request_ip: str = ""
    anonymous_id_header: str = ""
    allow_events_without_ids: bool = False
    suppressed_user_ids: Collection[str] = frozenset()
    source_id: str = ""
    source_name: str = ""
    source_category: str = ""  # "warehouse" for reverse-ETL sources
    source_definition_type: str = ""  # e.g. "web"; read by the hybrid connection-mode filter
    workspace_id: str = ""
    destination_id: str = ""
    destination_name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.destination_config, Mapping):
            raise PipelineTypeError(f"destination_config must be a mapping (the destination's Config), not "
                                    f"{type(self.destination_config).__name__}")
        if self.user_transformation is not None and not callable(self.user_transformation):
            raise PipelineTypeError("user_transformation must be a callable transform_event(event, metadata)")
        if not isinstance(self.transform_at, str) or self.transform_at not in ("router", "processor", "none"):
            raise PipelineError(f"transform_at must be 'router', 'processor' or 'none', not {self.transform_at!r}")
        if self.supported_message_types is not None:
            if isinstance(self.supported_message_types, str) or not all(
                    isinstance(t, str) for t in self.supported_message_types):
                raise PipelineTypeError("supported_message_types must be a sequence of strings, or None")
            object.__setattr__(self, "supported_message_types", tuple(self.supported_message_types))
        object.__setattr__(self, "destination_config", MappingProxyType(dict(self.destination_config)))
        object.__setattr__(self, "suppressed_user_ids", frozenset(self.suppressed_user_ids))

    def destination(self) -> dict[str, Any]:
        """The destination in rudder-server's `backendconfig.DestinationT` shape, for the event filter."""
        definition_config: dict[str, Any] = {"transformAtV1": "router"}
        if self.supported_message_types is not None:
            definition_config["supportedMessageTypes"] = list(self.supported_message_types)
        return {"ID": self.destination_id, "Name": self.destination_name, "Enabled": self.destination_enabled,
                "IsProcessorEnabled": True, "Config": dict(self.destination_config),
                "DestinationDefinition": {"Name": ITERABLE_NAME, "DisplayName": ITERABLE_DISPLAY_NAME,
                                          "Config": definition_config}}


def as_pipeline_config(config: Any) -> PipelineConfig:
    """A PipelineConfig from a PipelineConfig, a destination Config (mapping), None, or an object carrying a
    RudderStack Config (`Settings`: its `rudder_config`, else `to_rudder()`)."""
    if isinstance(config, PipelineConfig):
        return config
    if config is None:
        return PipelineConfig()
    if isinstance(config, Mapping):
        inner = config.get("config", config.get("Config"))
        return PipelineConfig(destination_config=inner if isinstance(inner, Mapping) else config)
    rudder = getattr(config, "rudder_config", None)
    if isinstance(rudder, Mapping):
        return PipelineConfig(destination_config=rudder)
    if callable(getattr(config, "to_rudder", None)):
        return PipelineConfig(destination_config=config.to_rudder())
    raise PipelineTypeError(f"config must be a PipelineConfig, a destination Config (a mapping) or Settings, "
                            f"not {type(config).__name__}")


def time_of(received_at: Any, clock: Clock | None = None) -> GoTime:
    """The gateway's clock reading for `received_at` (see `run_pipeline`), else `clock.now()`."""
    if received_at is None:
        return GoTime.from_unix((clock or SystemClock()).now())
    if isinstance(received_at, GoTime):
        return received_at
    if isinstance(received_at, datetime):
        return GoTime.from_datetime(received_at)
    if isinstance(received_at, (int, float)) and not isinstance(received_at, bool):
        return GoTime.from_unix(float(received_at))
    if isinstance(received_at, str):
        parsed = parse_rfc3339(received_at)
        if parsed is None:
            raise PipelineError(f"received_at {received_at!r} is not an RFC 3339 time such as "
                                f"'2026-01-05T10:00:07.123Z'")
        return parsed
    raise PipelineTypeError(f"received_at must be a datetime, seconds since the epoch or an RFC 3339 string, "
                            f"not {type(received_at).__name__}")


@dataclass(frozen=True)
class _Stored:
    """An event as the gateway job holds it, with the job's batch-level fields."""

    event: dict[str, Any]
    user_id: str
    request_ip: str
    received_at: GoTime


def _gateway_stop(index: int, text: str, event: Any) -> Stopped:
    return Stopped(index, GATEWAY, STATUS_OF_TEXT.get(text, 500), REJECTED, text,
                   f"the gateway rejects the request: {text} (gateway/handle.go:301-553)", event)


def _through_gateway(events: Sequence[Any], config: PipelineConfig, now: GoTime,
                     new_id: Callable[[], str]) -> list[_Stored | Stopped]:
    options = GatewayOptions(received_at=now, request_ip=config.request_ip,
                             anonymous_id_header=config.anonymous_id_header, source_id=config.source_id,
                             destination_id="", allow_without_ids=config.allow_events_without_ids,
                             suppressed_user_ids=config.suppressed_user_ids, new_id=new_id)
    groups = [list(range(len(events)))] if config.one_request else [[i] for i in range(len(events))]
    results: list[_Stored | Stopped | None] = [None] * len(events)
    for group in groups:
        batch = [events[i] for i in group]
        size = size_for_limit(batch, options.max_request_bytes) if all(
            isinstance(e, dict) for e in batch) else 0
        read = read_batch(batch, options, body_bytes=size)
        if read.error is not None:
            for i in group:
                results[i] = _gateway_stop(i, read.error, events[i])
            continue
        jobs = iter(read.jobs)
        for i in group:
            if read.suppressed or _is_suppressed(events[i], config):
                results[i] = Stopped(i, GATEWAY, 200, SUPPRESSED, OK,
                                     "the user is suppressed: the gateway skips the event and answers 200 ok "
                                     "(gateway/handle.go:423-426, 474-477)", events[i])
                continue
            job = next(jobs)
            results[i] = _Stored(job.event, job.user_id, job.request_ip, parse_rfc3339(job.received_at) or now)
    return results  # type: ignore[return-value]


def _is_suppressed(event: Any, config: PipelineConfig) -> bool:
    if not config.suppressed_user_ids or not isinstance(event, dict):
        return False
    return clean_identifier(event.get("userId")) in config.suppressed_user_ids


def _as_stored(index: int, event: Any, now: GoTime) -> _Stored | Stopped:
    """An event a gateway stored already (an archived payload): its receivedAt and request_ip stand for the
    job's batch-level values, which the archive does not keep (formats.md section 3)."""
    if not isinstance(event, dict):
        return _gateway_stop(index, NOT_RUDDER_EVENT, event)
    copy = as_gateway_values(event)
    received = parse_rfc3339(copy.get("receivedAt"))
    ip = copy.get("request_ip")
    return _Stored(copy, "", ip if isinstance(ip, str) else "", received if received is not None else now)


def _metadata(stored: _Stored, event: Mapping[str, Any], config: PipelineConfig) -> dict[str, Any]:
    """The metadata a user transformation's `metadata(event)` returns (types.Metadata JSON names,
    processor/types/types.go:152-202; set at processor/processor.go:1058-1093, 2440-2464)."""
    metadata = {"workspaceId": config.workspace_id, "rudderId": stored.user_id,
                "receivedAt": stored.received_at.format_milli(), "messageId": stringify_any(event.get("messageId")),
                "sourceId": config.source_id, "sourceName": config.source_name,
                "sourceCategory": config.source_category, "destinationId": config.destination_id,
                "destinationName": config.destination_name, "destinationType": ITERABLE_NAME}
    for key, name in (("eventName", "event"), ("eventType", "type")):
        if isinstance(event.get(name), str) and event[name]:
            metadata[key] = event[name]
    return metadata


def _filter_outputs(index: int, outputs: Sequence[dict[str, Any]], config: PipelineConfig,
                    fanned_out: bool) -> Fate:
    destination = config.destination()
    passed, stopped = [], []
    for position, output in enumerate(outputs):
        response = filter_event(output, destination, source_definition_type=config.source_definition_type,
                                transform_at=config.transform_at)
        if response is None:
            passed.append(output)
            continue
        state = FILTERED if response.status == FILTER_EVENT_CODE else ABORTED
        stopped.append(Stopped(index, EVENT_FILTER, response.status, state, response.error,
                               f"event filter: {response.error} (type {output.get('type')!r}; "
                               f"processor/eventfilter/eventfilter.go:126-178, processor/processor.go:3836-3936)",
                               output, position if fanned_out else None))
    if passed:
        return Passed(index, tuple(passed), tuple(stopped))
    return replace(stopped[0], more=tuple(stopped[1:]))


def _process(index: int, stored: _Stored, config: PipelineConfig) -> Fate:
    event = stored.event
    if config.source_category == "warehouse":  # processor/processor.go:1931-1936
        event = strip_activation_metadata(event)
    # Destination availability (processor/processor.go:2196-2217, 4167-4196): reported once, 298.
    if not config.destination_enabled:
        return Stopped(index, DESTINATION_FILTER, FILTER_EVENT_CODE, FILTERED, "",
                       "the destination is disabled: no destination is left (processor/processor.go:979-1003)",
                       event)
    if not allows_iterable(event):
        return Stopped(index, DESTINATION_FILTER, FILTER_EVENT_CODE, FILTERED, "",
                       f"the integrations object {go_json(event.get('integrations'))} does not let the event go to "
                       f"Iterable (processor/integrations/integrations.go:33-74)", event)
    if not consent_allows(event, config.destination_config):
        return Stopped(index, DESTINATION_FILTER, FILTER_EVENT_CODE, FILTERED, "",
                       consent_explanation(event, config.destination_config), event)
    event = processor_fields(event, request_ip=stored.request_ip, received_at=stored.received_at)
    outputs: Sequence[dict[str, Any]] = (event,)
    if config.user_transformation is not None:
        outcome = run_user_transformation(config.user_transformation, event, _metadata(stored, event, config))
        if outcome.stopped:
            dropped = outcome.status == FILTER_EVENT_CODE
            reason = ("the user transformation returned no event: dropped" if dropped else
                      f"the user transformation failed: {outcome.error}")
            return Stopped(index, USER_TRANSFORMER, outcome.status, FILTERED if dropped else ABORTED,
                           outcome.error, f"{reason} (processor/processor.go:3441-3449)", event)
        outputs = outcome.events
    return _filter_outputs(index, outputs, config, fanned_out=config.user_transformation is not None)


def run_pipeline(events: Iterable[Any], config: Any = None, *, already_through_gateway: bool = False,
                 received_at: Any = None, clock: Clock | None = None, seed: int | None = None,
                 new_id: Callable[[], str] | None = None) -> list[Fate]:
    """Each event's fate in front of the Iterable transformer, in input order: `Passed` with the event(s) the
    transformer receives, or `Stopped` naming the step, rudder-server's status code and text.

    `config`: a PipelineConfig, or the destination's Config (a mapping) or `Settings`. `received_at` is the
    gateway's clock (a datetime, seconds since the epoch or an RFC 3339 string); else `clock.now()` (default
    the system clock). `already_through_gateway=True` takes the events as a gateway stored them (archived
    events): their `receivedAt`, `request_ip`, `rudderId` and `messageId` are kept. Missing `messageId`s are
    new random UUIDs, repeatable with `seed`, or made by `new_id()`.
    """
    if isinstance(events, (Mapping, str, bytes)):
        raise PipelineTypeError(f"events must be a collection of events (a list of dicts), not a "
                                f"{type(events).__name__}: for one event, pass [event]")
    try:
        events = list(events)
    except TypeError:
        raise PipelineTypeError(f"events must be a collection of events, not {type(events).__name__}") from None
    config = as_pipeline_config(config)
    if new_id is not None and not callable(new_id):
        raise PipelineTypeError("new_id must be a callable returning a new messageId")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise PipelineTypeError("seed must be an int")
    now = time_of(received_at, clock)
    if already_through_gateway:
        stored = [_as_stored(i, event, now) for i, event in enumerate(events)]
    else:
        stored = _through_gateway(events, config, now, new_id or uuid4_source(seed))
    return [item if isinstance(item, Stopped) else _process(i, item, config) for i, item in enumerate(stored)]


@dataclass(frozen=True)
class TransformerInput:
    """`events_for_transformer`'s answer: what to map, by input index, and the events that stop before."""

    events: tuple[tuple[int, dict[str, Any]], ...]
    stopped: Mapping[int, Stopped]
    fates: tuple[Fate, ...] = field(repr=False)


def events_for_transformer(events: Iterable[Any], config: Any = None, **options: Any) -> TransformerInput:
    """The events to hand to the Iterable mapping, each with its input index (a user transformation's fan-out
    gives one index several events, in order), and the fate of each event that stops before it, by index.
    Takes `run_pipeline`'s arguments."""
    fates = run_pipeline(events, config, **options)
    to_map = tuple((fate.index, event) for fate in fates if isinstance(fate, Passed) for event in fate.events)
    stopped = MappingProxyType({fate.index: fate for fate in fates if isinstance(fate, Stopped)})
    return TransformerInput(to_map, stopped, tuple(fates))
