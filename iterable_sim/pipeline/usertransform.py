"""A user transformation as a Python callable with RudderStack's `transformEvent(event, metadata)` contract.

rudder-server sends the events to rudder-transformer's user-transform service with `X-Feature-Filter-Code: ?1`
(`processor/internal/transformer/user_transformer/user_transformer.go:420`), and reads each output by its
status: 200 goes on with the output as the new event, anything else stops it
(`user_transformer.go:229-234`); 298 is reported `filtered`, other codes `aborted`
(`processor/processor.go:3441-3449, 1419-1462`). rudder-transformer (src/services/userTransform.ts, the
transformEvent wrapper) answers:

* the function returns None (JavaScript null/undefined), or a list with no event: the input's message ID is
  missing from the output, so it is answered 298 with no error text;
* a dict: that event, status 200; a list of dicts: each, status 200 (one event fans out);
* a list holding something that is not a dict: one 400 "returned event in events array from
  transformEvent(event) is not an object", and none of the list's events;
* anything else: 400 "returned event from transformEvent(event) is not an object";
* the function raises: 400 with the error's text. RudderStack sends a JavaScript error's stack up to the
  `transformEvent` frame; iterable_sim gives `"<ExceptionType>: <message>"`, the first line of that form.

`metadata` is a function, as in RudderStack: `metadata(event)` returns the event's metadata (a dict copy).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from iterable_sim.pipeline.eventfilter import FILTER_EVENT_CODE
from iterable_sim.pipeline.gojson import as_gateway_values

UserTransformation = Callable[[dict, Callable[..., dict]], Any]

NOT_AN_OBJECT_IN_LIST = "returned event in events array from transformEvent(event) is not an object"
NOT_AN_OBJECT = "returned event from transformEvent(event) is not an object"


@dataclass(frozen=True)
class TransformOutcome:
    """The user transformation's answer for one input event: its output events (status 200 each), or the
    status and error text that stop it."""

    events: tuple[dict[str, Any], ...] = ()
    status: int = 200
    error: str = ""

    @property
    def stopped(self) -> bool:
        return self.status != 200


def run_user_transformation(transform: UserTransformation, event: Mapping[str, Any],
                            metadata: Mapping[str, Any]) -> TransformOutcome:
    """Call `transform(event, metadata)` on a copy of the event and read its answer as rudder-server does."""
    frozen_metadata = dict(metadata)

    def metadata_of(_event: Any = None) -> dict[str, Any]:
        return dict(frozen_metadata)

    try:
        result = transform(as_gateway_values(event), metadata_of)
    except Exception as error:  # noqa: BLE001 - a user's function may raise anything
        return TransformOutcome(status=400, error=f"{type(error).__name__}: {error}")
    if result is None:
        return TransformOutcome(status=FILTER_EVENT_CODE)
    if isinstance(result, (list, tuple)):
        if not all(isinstance(item, dict) for item in result):
            return TransformOutcome(status=400, error=NOT_AN_OBJECT_IN_LIST)
        if not result:
            return TransformOutcome(status=FILTER_EVENT_CODE)
        # The outputs travel back as JSON: copies holding what rudder-server decodes.
        return TransformOutcome(events=tuple(as_gateway_values(item) for item in result))
    if not isinstance(result, dict):
        return TransformOutcome(status=400, error=NOT_AN_OBJECT)
    return TransformOutcome(events=(as_gateway_values(result),))
