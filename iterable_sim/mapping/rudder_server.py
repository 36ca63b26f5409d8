"""rudder-server's steps in front of the mapping, one event at a time, as `Settings.rudder_server` asks.

A deployment never hands an SDK's event to the Iterable transformer as it is: rudder-server's gateway
enriches it, and its processor may stop it (the `integrations` object, consent, a message type Iterable's
definition does not support, a user transformation) or rewrite its time fields, which become Iterable's
`createdAt` (`iterable_sim.pipeline`, docs/pipeline.md). `RudderServer` runs those steps for each event
of a stream, so that memory does not grow with it.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from iterable_sim.clock import Clock, SystemClock
from iterable_sim.mapping.settings import Settings
from iterable_sim.pipeline.fates import Fate, Passed
from iterable_sim.pipeline.gateway import uuid4_source
from iterable_sim.pipeline.gotime import GoTime
from iterable_sim.pipeline.run import PipelineConfig, run_pipeline, time_of


class RudderServer:
    """Each event's fate in front of the transformer under `settings` (`Passed` unchanged when its
    `rudder_server` is off).

    `received_at`: the gateway's clock for events that have not been through one (a datetime, seconds since
    the epoch or an RFC 3339 string); else `clock.now()` (default the system clock) when the run starts: one
    instant for every event of a run, so that two tools given the same events at once agree.
    `through_gateway=True` takes the events as a gateway stored them (archived payloads), keeping their own
    `receivedAt` and `request_ip`. `seed` makes the messageIds given to events without one repeatable."""

    def __init__(self, settings: Settings, *, received_at: Any = None, clock: Clock | None = None,
                 through_gateway: bool = False, seed: int | None = None) -> None:
        self.config: PipelineConfig | None = settings.pipeline_config()
        self.received_at: GoTime = time_of(received_at, clock or SystemClock())
        self.through_gateway = through_gateway
        self._new_id: Callable[[], str] = uuid4_source(seed)

    @property
    def on(self) -> bool:
        return self.config is not None

    def fate(self, index: int, event: Any, *, through_gateway: bool | None = None) -> Fate:
        """The fate of the event at `index`; `through_gateway` overrides the stream's for this event (an
        archive's record knows whether a gateway stored it)."""
        if self.config is None:
            return Passed(index, (event,))
        through = self.through_gateway if through_gateway is None else through_gateway
        fate, = run_pipeline([event], self.config, already_through_gateway=through, received_at=self.received_at,
                             new_id=self._new_id)
        return _at(fate, index) if index else fate


def _at(fate: Any, index: int) -> Any:
    """`fate` of the event at `index` (run_pipeline numbers the one event it was given 0)."""
    if isinstance(fate, Passed):
        return replace(fate, index=index, stopped=tuple(_at(s, index) for s in fate.stopped))
    return replace(fate, index=index, more=tuple(_at(m, index) for m in fate.more))
