"""send(): map, route, deliver and attribute a set of events, and account for every one of them.

The report says, for each event sent, what became of it: delivered; rejected, with Iterable's
reason; failed (in mapping, or undeliverable after retries); and how many attempts it took.
delivered + rejected + failed == sent, always, interrupted or not. Events go to an in-process mock
Iterable unless the caller names a URL, or names live Iterable *and* gives an API key.
"""
from __future__ import annotations

import asyncio
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Literal, Sequence, Union

import orjson
from tqdm.auto import tqdm

from iterable_sim.mapping.attribution import attribute
from iterable_sim.mapping.batching import Batch, route
from iterable_sim.collector import without_collector
from iterable_sim.clock import Clock, ManualClock
from iterable_sim.send.client import AsyncIterableClient, Delivery, IterableClient, RetryPolicy
from iterable_sim.exceptions import IterableSimError
from iterable_sim.hosts import is_iterable_url
from iterable_sim.limits import MAX_BODY_BYTES, MAX_BULK_ITEMS, PAYLOAD_TOO_LARGE
from iterable_sim.mapping.request import size_problem
from iterable_sim.mock import MockIterable
from iterable_sim.mapping.request import Request
from iterable_sim.mapping.settings import (KEY_FIELDS, RUDDER_KEYS, Settings, SettingsError, header_problem, require_events,
                       require_settings)

if TYPE_CHECKING:
    import pandas as pd

MOCK_JOURNAL_LIMIT = 10_000  # the journal of a mock send() makes keeps its last entries: memory stays bounded
LIVE = "live"
"""Pass `to=LIVE` (with a Settings that holds your API key) to send to Iterable itself."""

STABLE_ID_NAMESPACE = uuid.UUID("5c0a4f8e-7f3b-4d55-9a51-2e8f3e0b6a11")
STABLE_ID_BYTES = len(',"id":""') + 36
_BULK_LISTS = {"users/bulkUpdate": "users", "events/trackBulk": "events"}
_IDEMPOTENT_BY_ID = frozenset({"events/track", "events/trackBulk", "commerce/trackPurchase"})
_NEVER_IDEMPOTENT = frozenset({"commerce/updateCart"})  # the cart is replaced, but each call logs an event
_BULK_ITEM = re.compile(r"obj\.(users|events)\[(\d+)\]")

Client = Union[IterableClient, AsyncIterableClient]
Target = Union[MockIterable, str, None]
"""Where send() goes: None (a fresh in-process mock), a MockIterable, a base URL, or LIVE."""

Fate = Literal["delivered", "rejected", "failed"]


class LiveSendRefused(IterableSimError, ValueError):
    """Sending to live Iterable was asked for without an explicit API key."""


@dataclass(slots=True)
class EventOutcome:
    """The fate of one event sent."""

    index: int
    fate: Fate
    status: int | None
    reason: str
    stage: Literal["mapping", "delivery", "interrupted"] | None = None  # where a failure happened
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
class _Leg:
    """What one request (or the mapping) did for one event; an event's fate is its worst leg."""

    fate: Fate
    status: int | None
    reason: str
    stage: Literal["mapping", "delivery"] | None
    attempts: int
    endpoint: str | None = None


_SEVERITY = {"failed": 0, "rejected": 1, "delivered": 2}


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
    _exposed: set[int] = field(default_factory=set, repr=False)  # events with an item Iterable cannot deduplicate
    _duplicates: Counter[int] = field(default_factory=Counter, repr=False)  # ... their possible extra copies

    @property
    def duration(self) -> float:
        """Seconds the send took on the clock it ran on (simulated time on a ManualClock)."""
        return self.finished - self.started

    def summary(self) -> dict[str, int]:
        counts = {"sent": len(self.outcomes), "delivered": 0, "rejected": 0, "failed": 0}
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
        return pd.DataFrame(rows, columns=["event", "type", "name", "fate", "status", "reason", "stage",
                                           "endpoints", "attempts", "possible_duplicates"])

    def requests_frame(self) -> "pd.DataFrame":
        """One row per HTTP call: endpoint, status and Iterable's code and message, items carried,
        attempts, seconds waited, and the transport error when there was no answer."""
        import pandas as pd

        columns = ["endpoint", "status", "code", "msg", "items", "attempts", "waited", "error"]
        return pd.DataFrame([{"endpoint": d.request.endpoint, "status": d.status, **_answer(d.body),
                              "items": _item_count(d.request), "attempts": d.attempts, "waited": round(d.waited, 6),
                              "error": d.error} for d in self.deliveries], columns=columns)

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
                chosen["unmappable" if o.stage == "mapping" else "failed in delivery"].append(o.index)
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
        again = send([self.events[i] for i in sent], self.settings, **{**self._resend_options, **overrides})
        for before, after in zip((self.outcomes[i] for i in sent), again.outcomes):
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
        return (f"<SendReport to {self.target}: {s['sent']} sent, {s['delivered']} delivered, {s['rejected']} rejected, "
                f"{s['failed']} failed{doubts}; {s['requests']} requests{state}{resent}>")


_LEFT_OUT = {"unmappable": "that cannot succeed unchanged (RudderStack would not map them, or they are too large "
                           "for Iterable): fix them first",
             "rejected": "rejected by Iterable"}


def _indexes(indexes: list[int], shown: int = 10) -> str:
    text = ", ".join(map(str, indexes[:shown]))
    return text + (f", … {len(indexes) - shown} more" if len(indexes) > shown else "")


@without_collector
def send(events: Iterable[Any], settings: Settings, to: Target = None, *, stable_event_ids: bool = False,
         progress: bool = True, retry: RetryPolicy | None = None, timeout: float = 10.0, pace: bool = True,
         clock: Clock | None = None) -> SendReport:
    """Map, route, deliver and attribute `events`, and report every event's fate.

    `to`: None (a fresh in-process MockIterable on simulated time, kept on the report as `report.mock`),
    a MockIterable,
    a base URL (the mock server, a proxy), or `LIVE` for Iterable itself, which also requires
    `settings.api_key`. `stable_event_ids` gives track, page and screen events, and purchases, that
    have no `id` one derived from their messageId, so a retry after a timeout updates the event or
    purchase instead of duplicating it (RudderStack sends no such id: see docs/differences.md).
    Events sent again after an attempt that got no answer, on a call Iterable cannot deduplicate,
    are marked `possibly_duplicated` in the report, with how many extra copies Iterable may hold.
    Interrupting it (Ctrl-C, Jupyter's stop button) ends the send early and still returns the report.
    """
    require_events(events)
    events = list(events)
    options = {"retry": retry, "timeout": timeout, "pace": pace, "clock": clock}
    target, client, mock = _connect(to, settings, IterableClient, **options)
    report, plan, legs = _prepare(events, settings, to, target, client, mock, stable_event_ids, progress, options)
    bar = _progress_bar(plan, target, progress)
    done = 0
    try:
        with client:
            for call in plan:
                while call is not None:
                    call = _take(report, legs, client.send(call[0]), call[1])
                done += 1
                bar.update(1)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        bar.close()
    return _finish(report, legs, plan[done:], client.clock.now())


@without_collector
async def asend(events: Iterable[Any], settings: Settings, to: Target = None, *, concurrency: int = 8,
                stable_event_ids: bool = False, progress: bool = True, retry: RetryPolicy | None = None,
                timeout: float = 10.0, pace: bool = True, clock: Clock | None = None) -> SendReport:
    """`send`, from asyncio, with up to `concurrency` requests in flight (`await asend(...)` in Jupyter).

    Calls that carry the same event (a user's bulk update, then their device token) still go in
    order; other calls travel side by side, as RudderStack's router sends batches.
    """
    require_events(events)
    events = list(events)
    options = {"retry": retry, "timeout": timeout, "pace": pace, "clock": clock}
    target, client, mock = _connect(to, settings, AsyncIterableClient, max_concurrency=concurrency, **options)
    report, plan, legs = _prepare(events, settings, to, target, client, mock, stable_event_ids, progress, options)
    bar = _progress_bar(plan, target, progress)
    sent: set[int] = set()

    async def deliver(steps: list[int]) -> None:
        for step in steps:
            call: tuple[Request, list[Any]] | None = plan[step]
            while call is not None:
                call = _take(report, legs, await client.send(call[0]), call[1])
            sent.add(step)
            bar.update(1)

    try:
        async with client:
            await asyncio.gather(*(deliver(steps) for steps in _lanes(plan)))
    except (KeyboardInterrupt, asyncio.CancelledError):
        report.interrupted = True
    finally:
        bar.close()
    return _finish(report, legs, [call for step, call in enumerate(plan) if step not in sent], client.clock.now())


# ---------------------------------------------------------------- helpers


def fresh_mock(settings: Settings, clock: Clock | None = None, **limits: Any) -> MockIterable:
    """The mock a send makes when given none: it accepts the settings' keys, keeps a bounded journal,
    and runs on simulated time (pacing a large send costs no real time, and report.duration says how
    long it would take at Iterable's rate limits)."""
    mock = MockIterable(clock=clock or ManualClock(), journal_limit=MOCK_JOURNAL_LIMIT, **limits)
    mock.accept_keys_of(settings)
    return mock


def _connect(to: Target, settings: Settings, client_class: type[Client],
             **options: Any) -> tuple[str, Any, MockIterable | None]:
    require_settings(settings)
    check_keys(settings)
    clock = options["clock"]
    if to is None or isinstance(to, MockIterable):
        mock = to
        if mock is None:
            mock = fresh_mock(settings, clock)
        options["clock"] = clock or mock.clock
        return "the in-process mock Iterable", client_class(transport=mock.transport(), **options), \
            (mock if to is None else None)
    if not isinstance(to, str):
        raise TypeError(f"send(to=...) takes None (a new mock), a MockIterable, a URL or LIVE, not {type(to).__name__}")
    if to == LIVE or is_iterable_url(to):
        if not (isinstance(settings.api_key, str) and settings.api_key.strip()):
            raise LiveSendRefused("sending to live Iterable needs your API key, given explicitly: "
                                  "Settings(api_key=...) or Settings.from_rudder({'apiKey': ...})")
        return f"live Iterable ({settings.base_url})", client_class(**options), None
    if not to.startswith(("http://", "https://")):
        raise ValueError(f"send(to={to!r}): give a URL such as 'http://127.0.0.1:8080', or its.LIVE "
                         f"(the string 'live') for Iterable itself")
    return to, client_class(base_url=to, **options), None


def check_keys(settings: Settings) -> None:
    """Refuse, before anything is sent, a key that no HTTP header can carry (a placeholder such as
    "…", a key pasted with a line break): every request would otherwise fail before reaching Iterable."""
    for name in KEY_FIELDS:
        problem = header_problem(RUDDER_KEYS[name], getattr(settings, name))
        if problem:
            raise SettingsError(problem)


Plan = list[tuple[Request, list[Any]]]  # each HTTP call to make, with the jobs (event indexes) it carries


def _prepare(events: list[Any], settings: Settings, to: Target, target: str, client: Client,
             mock: MockIterable | None,
             stable_event_ids: bool, progress: bool, options: dict[str, Any],
             ) -> tuple[SendReport, Plan, dict[int, list[_Leg]]]:
    """Route the events: the report to fill, the calls to make, and the mapping failures already known."""
    # a stable id adds ,"id":"<uuid>" to each item: leave room for it in every bulk body
    max_bytes = MAX_BODY_BYTES - (STABLE_ID_BYTES * MAX_BULK_ITEMS if stable_event_ids else 0)
    batches = route([(index, event, settings) for index, event in enumerate(events)], max_bytes=max_bytes)
    if stable_event_ids:
        _give_stable_ids(batches, events)
    resend_options = {"to": mock if to is None else to, "stable_event_ids": stable_event_ids, "progress": progress,
                      **options}
    report = SendReport(events, settings, [], [], target, mock=mock, started=client.clock.now(),
                        _resend_options=resend_options)
    legs: dict[int, list[_Leg]] = {}
    plan: Plan = []
    for batch in batches:
        if not batch.requests:
            for job in batch.job_ids:
                legs.setdefault(job, []).append(_Leg("failed", batch.status, batch.error or "", "mapping", 0))
        for request, jobs in zip(batch.requests, batch.request_job_ids):
            if not jobs:
                continue  # the empty bulk call RudderStack makes before an oversized item: it carries no event
            too_large = size_problem(request) if len(jobs) == 1 and request.endpoint in _BULK_LISTS else None
            if too_large:  # an item alone over Iterable's limit: not sent, as preflight says
                legs.setdefault(jobs[0], []).append(_Leg("failed", PAYLOAD_TOO_LARGE, too_large, "mapping", 0))
                continue
            plan.append((request, jobs))
    report._exposed = {job for request, jobs in plan for job in _undeduplicable(request, jobs)}
    return report, plan, legs


def _lanes(plan: Plan) -> list[list[int]]:
    """The plan's steps in lanes: calls that carry a common event share a lane, and go in order."""
    lanes: dict[int, list[int]] = {}
    lane_of: dict[Any, int] = {}
    for step, (_, jobs) in enumerate(plan):
        lane = next((lane_of[job] for job in jobs if job in lane_of), step)
        for job in jobs:
            lane_of.setdefault(job, lane)
        lanes.setdefault(lane, []).append(step)
    return list(lanes.values())


PROGRESS_DELAY = 2.0
"""Seconds a send runs before its progress bar appears: a short send finishes without one."""


def _progress_bar(plan: Plan, target: str, progress: bool) -> Any:
    return tqdm(total=len(plan), desc=f"sending to {target}", unit="req", disable=not progress or not plan,
                delay=PROGRESS_DELAY)


def _finish(report: SendReport, legs: dict[int, list[_Leg]], unsent: Plan, now: float) -> SendReport:
    """Every event gets its outcome: one with a call never made failed, even if its other calls went."""
    for request, jobs in unsent:
        for job in jobs:
            legs.setdefault(job, []).append(_Leg("failed", None, "not sent: the send was interrupted", "interrupted",
                                                 0, request.endpoint))
    report.finished = now
    report.outcomes = [_fate(index, legs.get(index)) for index in range(len(report.events))]
    for index, copies in report._duplicates.items():
        report.outcomes[index].possible_duplicates = copies
    return report


def _record(legs: dict[int, list[_Leg]], delivery: Delivery, jobs: list[Any]) -> None:
    endpoint = delivery.request.endpoint
    if delivery.status is None:
        for job in jobs:
            legs.setdefault(job, []).append(_Leg("failed", None, f"no answer: {delivery.error}", "delivery",
                                                 delivery.attempts, endpoint))
        return
    delivered: dict[int, _Leg] = {}  # legs are never changed: one per status serves every item delivered
    for outcome in attribute(delivery.request, jobs, delivery.status, delivery.body):
        if 200 <= outcome.status < 300:
            leg = delivered.get(outcome.status)
            if leg is None:
                leg = delivered[outcome.status] = _Leg("delivered", outcome.status, "", None, delivery.attempts,
                                                       endpoint)
        elif outcome.retryable:
            leg = _Leg("failed", outcome.status, _readable(outcome.error), "delivery", delivery.attempts, endpoint)
        else:
            leg = _Leg("rejected", outcome.status, _readable(outcome.error) + _after_silence(delivery), None,
                       delivery.attempts, endpoint)
        legs.setdefault(outcome.job_id, []).append(leg)


def _after_silence(delivery: Delivery) -> str:
    """A refusal that follows an attempt with no answer may be the first attempt's doing (an email
    already changed answers "User does not exist"): the reason says so."""
    if not delivery.unanswered:
        return ""
    return (f" (after {delivery.unanswered} attempt(s) that got no answer: Iterable may have applied one of "
            "them; check before re-sending)")


def _take(report: SendReport, legs: dict[int, list[_Leg]], delivery: Delivery,
          jobs: list[Any]) -> tuple[Request, list[Any]] | None:
    """Note a call's answer on its events; the call to make next when some of its items were set aside."""
    report.deliveries.append(delivery)
    if delivery.unanswered:
        for job in _undeduplicable(delivery.request, jobs):
            report._duplicates[job] += delivery.unanswered
    rest = _set_aside(delivery, jobs, legs)
    if rest is None:
        _record(legs, delivery, jobs)
    return rest


def _set_aside(delivery: Delivery, jobs: list[Any], legs: dict[int, list[_Leg]]) -> tuple[Request, list[Any]] | None:
    """One bad item makes Iterable refuse a whole bulk call (400 BadJsonBody naming `obj.events[2]...`).

    So that one bad event never sinks its batch, the items Iterable named are rejected with its
    reason, and the call is made again with the rest; returns that call, or None when Iterable's
    answer does not single out some (but not all) of the items.
    """
    key = _BULK_LISTS.get(delivery.request.endpoint)
    body = delivery.body
    if key is None or delivery.status != 400 or not isinstance(body, dict) or not isinstance(body.get("params"), dict):
        return None
    items = delivery.request.json[key]
    named: dict[int, dict[str, Any]] = {}
    for path, problem in body["params"].items():
        match = _BULK_ITEM.match(path)
        if not match or match[1] != key or int(match[2]) >= len(items):
            return None  # a problem with the call itself
        named.setdefault(int(match[2]), {})[path] = problem
    if not named or len(named) == len(items):
        return None
    for index, params in named.items():
        reason = _readable({"msg": body.get("msg"), "code": body.get("code"), "params": params})
        legs.setdefault(jobs[index], []).append(_Leg("rejected", 400, reason, None, delivery.attempts,
                                                     delivery.request.endpoint))
    kept = [index for index in range(len(items)) if index not in named]
    request = delivery.request
    rest = Request(request.method, request.url, request.headers, {**request.json, key: [items[i] for i in kept]})
    return rest, [jobs[i] for i in kept]


def _fate(index: int, legs: list[_Leg] | None) -> EventOutcome:
    if not legs:  # cannot happen: every event maps to calls or to a mapping failure
        raise AssertionError(f"event {index} has no outcome")
    if len(legs) == 1:
        leg = legs[0]
        return EventOutcome(index, leg.fate, leg.status, leg.reason, leg.stage,
                            [leg.endpoint] if leg.endpoint else [], leg.attempts)
    worst = min(legs, key=lambda leg: _SEVERITY[leg.fate])
    return EventOutcome(index, worst.fate, worst.status, worst.reason, worst.stage,
                        [leg.endpoint for leg in legs if leg.endpoint], max(leg.attempts for leg in legs))


def _items(request: Request) -> list[Any]:
    """The items a call carries, one per job: a bulk call's list, or the call's body itself."""
    key = _BULK_LISTS.get(request.endpoint)
    return request.json[key] if key else [request.json]


def _undeduplicable(request: Request, jobs: list[Any]) -> list[Any]:
    """The jobs whose item Iterable stores again each time it arrives: an updateCart (the cart is
    replaced, but every call logs an updateCart event), and an event or purchase without an `id`
    (with one, Iterable updates what it holds). Profile, device and catalog writes are updates by nature."""
    if request.endpoint in _NEVER_IDEMPOTENT:
        return list(jobs)
    if request.endpoint not in _IDEMPOTENT_BY_ID:
        return []
    return [job for item, job in zip(_items(request), jobs) if not (isinstance(item, dict) and item.get("id"))]


def _give_stable_ids(batches: Sequence[Batch], events: list[Any]) -> None:
    """Events and purchases without an id get one derived from their event's messageId."""
    for batch in batches:
        for request, jobs in zip(batch.requests, batch.request_job_ids):
            if request.endpoint not in _IDEMPOTENT_BY_ID:
                continue
            for item, job in zip(_items(request), jobs):
                message_id = events[job].get("messageId") if isinstance(events[job], dict) else None
                if "id" not in item and isinstance(message_id, str) and message_id:
                    item["id"] = str(uuid.uuid5(STABLE_ID_NAMESPACE, message_id))


def _readable(error: Any) -> str:
    """Iterable's answer in a line: "BadJsonBody: Invalid JSON body (obj.events[2].eventName: Missing
    required field)", from its JSON (attribution passes whole-request answers on as JSON text)."""
    body = error
    if isinstance(error, str) and error.startswith("{"):
        try:
            body = orjson.loads(error)
        except orjson.JSONDecodeError:
            return error
    if not isinstance(body, dict):
        return str(error)
    answer = _answer(body)
    message = str(answer["msg"] or "").split("] ", 1)[-1]  # Iterable prefixes its msg with "[/api/path] "
    params = body.get("params")
    details = "; ".join(f"{k}: {v}" for k, v in params.items()) if isinstance(params, dict) and params else ""
    return f"{answer['code']}: {message}" + (f" ({details})" if details else "")


def _answer(body: Any) -> dict[str, Any]:
    """Iterable's code and message from an answer (its API and its catalog API word them differently)."""
    if not isinstance(body, dict):
        return {"code": None, "msg": body if isinstance(body, str) else None}
    return {"code": body.get("code"), "msg": body.get("msg", body.get("message"))}


def _item_count(request: Request) -> int:
    body = request.json if isinstance(request.json, dict) else {}
    for key in ("users", "events"):
        if isinstance(body.get(key), list):
            return len(body[key])
    if isinstance(body.get("documents"), dict):
        return len(body["documents"])
    return 1
