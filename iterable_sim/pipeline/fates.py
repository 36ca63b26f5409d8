"""What rudder-server does with one event before the Iterable transformer: it goes on, or a step stops it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

# The steps, named as rudder-server reports them (utils/types/reporting_types.go:24-43); "gateway" is the
# gateway's answer to the HTTP request (a rejection is a response, not a report).
GATEWAY = "gateway"
DESTINATION_FILTER = "destination_filter"
USER_TRANSFORMER = "user_transformer"
EVENT_FILTER = "event_filter"
STEPS = (GATEWAY, DESTINATION_FILTER, USER_TRANSFORMER, EVENT_FILTER)

# States: a reported drop (298) is "filtered", a reported error "aborted" (processor/processor.go:1428-1459);
# the gateway "rejected" the request (HTTP 4xx) or "suppressed" the user's event (answering 200 ok).
FILTERED, ABORTED, REJECTED, SUPPRESSED = "filtered", "aborted", "rejected", "suppressed"


@dataclass(frozen=True)
class Stopped:
    """The event does not reach the transformer: `step` decided, with rudder-server's `status` and `text`
    (its own words, "" where it gives none); `reason` is iterable_sim's account with the rule's source.

    `event` is the event as the deciding step saw it. For an output of a user transformation's fan-out,
    `output` is its position; `more` holds the other outputs of that fan-out when they were stopped too."""

    index: int
    step: str
    status: int
    state: str
    text: str
    reason: str
    event: Any = field(default=None, compare=False, repr=False)
    output: int | None = None
    more: tuple["Stopped", ...] = ()

    passed: ClassVar[Literal[False]] = False  # a Fate's tag: `if fate.passed` tells Passed from Stopped


@dataclass(frozen=True)
class Passed:
    """The event goes on to the transformer as `events` (one, or several after a user transformation fanned it
    out); `stopped` lists outputs of that fan-out that the event filter stopped."""

    index: int
    events: tuple[dict[str, Any], ...] = field(compare=False)
    stopped: tuple[Stopped, ...] = ()

    passed: ClassVar[Literal[True]] = True


Fate = Union[Passed, Stopped]
