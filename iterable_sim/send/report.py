"""What a send reports: every event's outcome (`EventOutcome`), the calls made, and `resend()` of what failed."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal

from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping.settings import Settings
from iterable_sim.mock import MockIterable
from iterable_sim.pipeline.fates import FILTERED, STEPS, SUPPRESSED, Stopped
from iterable_sim.send.answers import answer_fields, item_count
from iterable_sim.send.client import Delivery

if TYPE_CHECKING:
    import pandas as pd

Fate = Literal["delivered", "filtered", "rejected", "failed"]
# Where a failure (or a drop) happened: the mapping, rudder-server's step (iterable_sim.pipeline.STEPS),
# the delivery, or an interrupted send.
Stage = Literal["mapping", "gateway", "destination_filter", "user_transformer", "event_filter", "delivery",
                "interrupted"]
UNSENDABLE_STAGES = frozenset(("mapping", *STEPS))  # failed before any call: sending again changes nothing
UNAUTHORIZED = 401
KEY_REFUSED = "every call was refused with 401: is the key right?"


def key_note(calls: int, unauthorized: int) -> str:
    """KEY_REFUSED when there were calls and Iterable answered every one 401 (the key, not the events), else ""."""
    return KEY_REFUSED if calls and unauthorized == calls else ""


class ResendError(IterableSimError, RuntimeError):
    """resend() on a report that no send made."""


class NoOutcomeError(IterableSimError, AssertionError):
    """An event of a send was left with no outcome: a bug in iterable_sim's bookkeeping, never the event's
    fault (every event maps to calls or to a mapping failure, and every call to an answer or an error)."""


@dataclass(slots=True)
class EventOutcome:
    """The fate of one event sent."""

    index: int
    fate: Fate
    status: int | None
    reason: str
    stage: Stage | None = None  # where a failure or a drop happened
    endpoints: list[str] = field(default_factory=list)
    attempts: int = 0
    # how many extra copies Iterable may hold: the times a call carrying it, which Iterable cannot
    # deduplicate, was sent again after an attempt that got no answer (timeout, dropped connection)
    possible_duplicates: int = 0

    @property
    def possibly_duplicated(self) -> bool:
        """Iterable may hold this event (an updateCart, an event or purchase without id) more than once."""
        return self.possible_duplicates > 0


@dataclass(slots=True)
class Leg:
    """What one request (or the mapping) did for one event; an event's fate is its worst leg."""

    fate: Fate
    status: int | None
    reason: str
    stage: Stage | None
    attempts: int
    endpoint: str | None = None


def stopped_leg(stopped: Stopped) -> Leg:
    """The outcome of an event rudder-server stops before the transformer: filtered (a drop, 298) or failed
    at that step (aborted, rejected), with rudder-server's status and words."""
    fate: Fate = "filtered" if stopped.state in (FILTERED, SUPPRESSED) else "failed"
    reason = f"{stopped.text}: {stopped.reason}" if stopped.text else stopped.reason
    return Leg(fate, stopped.status, reason, stopped.step, 0)  # type: ignore[arg-type]


_SEVERITY = {"failed": 0, "rejected": 1, "filtered": 2, "delivered": 3}


@dataclass
class SendReport:
    """Every event's outcome, the HTTP calls made, and one call to re-send what failed."""

    events: list[Any]
    settings: Settings
    outcomes: list[EventOutcome]
    deliveries: list[Delivery]
    target: str
    interrupted: bool = False
    started: float = 0.0
    finished: float = 0.0
    mock: MockIterable | None = None  # the MockIterable that received the events, when send() made one
    resent: str = ""  # on a report from resend(): what was re-sent, what was left out and why
    _resend_options: dict[str, Any] = field(default_factory=dict, repr=False)
    _send: Callable[..., SendReport] | None = field(default=None, repr=False)  # what resend() calls: send
    _exposed: set[int] = field(default_factory=set, repr=False)  # events with an item Iterable cannot deduplicate
    _duplicates: Counter[int] = field(default_factory=Counter, repr=False)  # ... their possible extra copies

    @property
    def duration(self) -> float:
        """Seconds the send took on the clock it ran on (simulated time on a ManualClock)."""
        return self.finished - self.started

    def summary(self) -> dict[str, int]:
        counts = {"sent": len(self.outcomes), "delivered": 0, "filtered": 0, "rejected": 0, "failed": 0}
        for outcome in self.outcomes:
            counts[outcome.fate] += 1
        counts["requests"] = len(self.deliveries)
        counts["retried"] = sum(1 for o in self.outcomes if o.attempts > 1)
        counts["possibly_duplicated"] = sum(1 for o in self.outcomes if o.possibly_duplicated)
        counts["possible_duplicates"] = sum(o.possible_duplicates for o in self.outcomes)
        return counts

    def frame(self) -> "pd.DataFrame":
        """One row per event: its fate, Iterable's status and reason, endpoints, attempts, and how
        many extra copies of it Iterable may hold (`possible_duplicates`)."""
        import pandas as pd

        rows = []
        for o in self.outcomes:
            event = self.events[o.index] if isinstance(self.events[o.index], dict) else {}
            rows.append({"event": o.index, "type": event.get("type"), "name": event.get("event", event.get("name")),
                         "fate": o.fate, "status": o.status, "reason": o.reason, "stage": o.stage,
                         "endpoints": ", ".join(o.endpoints), "attempts": o.attempts,
                         "possible_duplicates": o.possible_duplicates})
        frame = pd.DataFrame(rows, columns=["event", "type", "name", "fate", "status", "reason", "stage",
                                            "endpoints", "attempts", "possible_duplicates"])
        return frame.astype({"status": "Int64"})  # an event never answered has none: 200, not 200.0, for the rest

    def requests_frame(self) -> "pd.DataFrame":
        """One row per HTTP call: endpoint, status and Iterable's code and message, items carried,
        attempts, seconds waited, and the transport error when there was no answer."""
        import pandas as pd

        columns = ["endpoint", "status", "code", "msg", "items", "attempts", "waited", "error"]
        frame = pd.DataFrame([{"endpoint": d.request.endpoint, "status": d.status, **answer_fields(d.body),
                               "items": item_count(d.request), "attempts": d.attempts, "waited": round(d.waited, 6),
                               "error": d.error} for d in self.deliveries], columns=columns)
        return frame.astype({"status": "Int64"})  # a call never answered has none

    @property
    def key_note(self) -> str:
        """KEY_REFUSED when Iterable refused every call with 401, else ""."""
        return key_note(len(self.deliveries), sum(1 for d in self.deliveries if d.status == UNAUTHORIZED))

    def failed_events(self, *, include_rejected: bool = False) -> list[Any]:
        fates = ("failed", "rejected") if include_rejected else ("failed",)
        return [self.events[o.index] for o in self.outcomes if o.fate in fates]

    def resend(self, *, include_rejected: bool = False, include_unmappable: bool = False,
               **overrides: Any) -> "SendReport":
        """Send again, to the same place, the events that can succeed unchanged: those that failed in
        delivery (no answer, or 429/5xx after every retry) or were never sent (interrupted).

        Left out unless asked: events RudderStack would not map, or too large for Iterable, which fail
        the same way again (`include_unmappable=True`), and events Iterable rejected
        (`include_rejected=True`). The new report's `resent` says what was re-sent and what was left out.
        An event whose last attempt got no answer may be in Iterable already: sent again on a call
        Iterable cannot deduplicate, it counts one more possible duplicate in the new report.
        """
        chosen: dict[str, list[int]] = {"failed in delivery": [], "unmappable": [], "rejected": []}
        for o in self.outcomes:
            if o.fate == "failed":
                chosen["unmappable" if o.stage in UNSENDABLE_STAGES else "failed in delivery"].append(o.index)
            elif o.fate == "rejected":
                chosen["rejected"].append(o.index)
        sent, left = list(chosen["failed in delivery"]), []
        for reason, wanted, flag in (("unmappable", include_unmappable, "include_unmappable"),
                                     ("rejected", include_rejected, "include_rejected")):
            if wanted:
                sent += chosen[reason]
            elif chosen[reason]:
                left.append(f"{len(chosen[reason])} {_LEFT_OUT[reason]} (events {_indexes(chosen[reason])}; "
                            f"{flag}=True sends them)")
        sent.sort()
        if self._send is None:
            raise ResendError("this report was not made by send() or asend(): there is nothing to re-send it with")
        options = {**self._resend_options, **overrides}
        if isinstance(options.get("through_gateway"), list):  # one flag per event: those of the events re-sent
            options["through_gateway"] = [options["through_gateway"][i] for i in sent]
        again = self._send([self.events[i] for i in sent], self.settings, **options)
        for before, after in zip((self.outcomes[i] for i in sent), again.outcomes, strict=True):
            if before.status is None and before.stage == "delivery" and after.index in again._exposed \
                    and after.attempts > 0:
                after.possible_duplicates += 1
        again.resent = (f"re-sent events {_indexes(sent)} of the previous send" if sent else "nothing re-sent") + \
            ("; left out " + ", ".join(left) if left else "")
        return again

    def __repr__(self) -> str:
        s = self.summary()
        state = ", interrupted" if self.interrupted else ""
        doubts = f", {s['possibly_duplicated']} possibly stored more than once" if s["possibly_duplicated"] else ""
        resent = f"; {self.resent}" if self.resent else ""
        key = f"; {self.key_note}" if self.key_note else ""
        return (f"<SendReport to {self.target}: {s['sent']} sent, {s['delivered']} delivered, "
                f"{s['filtered']} filtered, {s['rejected']} rejected, "
                f"{s['failed']} failed{doubts}; {s['requests']} requests{state}{resent}{key}>")


_LEFT_OUT = {"unmappable": "that cannot succeed unchanged (rudder-server or RudderStack's mapping refuses them, or "
                           "they are too large for Iterable): fix them first",
             "rejected": "rejected by Iterable"}


def _indexes(indexes: list[int], shown: int = 10) -> str:
    text = ", ".join(map(str, indexes[:shown]))
    return text + (f", … {len(indexes) - shown} more" if len(indexes) > shown else "")


def outcome_of(index: int, legs: list[Leg] | None) -> EventOutcome:
    if not legs:  # cannot happen: every event maps to calls or to a mapping failure
        raise NoOutcomeError(f"event {index} has no outcome")
    if len(legs) == 1:
        leg = legs[0]
        return EventOutcome(index, leg.fate, leg.status, leg.reason, leg.stage,
                            [leg.endpoint] if leg.endpoint else [], leg.attempts)
    worst = min(legs, key=lambda leg: _SEVERITY[leg.fate])
    return EventOutcome(index, worst.fate, worst.status, worst.reason, worst.stage,
                        [leg.endpoint for leg in legs if leg.endpoint], max(leg.attempts for leg in legs))
