"""send(): map, route, deliver and attribute a set of events, and account for every one of them.

The report says, for each event sent, what became of it: delivered; filtered by rudder-server's steps
before the transformer (298 and the like); rejected, with Iterable's reason; failed (at a step of
rudder-server, in mapping, or undeliverable after retries); and how many attempts it took.
delivered + filtered + rejected + failed == sent, always, interrupted or not. Events go to an in-process mock
Iterable unless the caller names a URL, or names live Iterable *and* gives an API key.
"""
from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any, Iterable, Sequence, Union

from tqdm.auto import tqdm

from iterable_sim.clock import Clock
from iterable_sim.collector import without_collector
from iterable_sim.exceptions import IterableSimError
from iterable_sim.limits import MAX_BODY_BYTES, MAX_BULK_ITEMS, PAYLOAD_TOO_LARGE
from iterable_sim.mapping.attribution import attribute
from iterable_sim.mapping.batching import Batch, route
from iterable_sim.mapping.request import Request, size_problem
from iterable_sim.mapping.rudder_server import RudderServer
from iterable_sim.mapping.settings import Settings, check_keys, require_events, require_settings
from iterable_sim.mock import MockIterable
from iterable_sim.pipeline.fates import Stopped
from iterable_sim.progress import PROGRESS_DELAY
from iterable_sim.send.answers import readable
from iterable_sim.send.client import AsyncIterableClient, Delivery, IterableClient, RetryPolicy
from iterable_sim.send.report import Leg, SendReport, outcome_of, stopped_leg
from iterable_sim.send.targets import LiveSendRefused, Target, fresh_mock, resolve_target

STABLE_ID_NAMESPACE = uuid.UUID("5c0a4f8e-7f3b-4d55-9a51-2e8f3e0b6a11")
STABLE_ID_BYTES = len(',"id":""') + 36
_BULK_LISTS = {"users/bulkUpdate": "users", "events/trackBulk": "events"}
_IDEMPOTENT_BY_ID = frozenset({"events/track", "events/trackBulk", "commerce/trackPurchase"})
_NEVER_IDEMPOTENT = frozenset({"commerce/updateCart"})  # the cart is replaced, but each call logs an event
_BULK_ITEM = re.compile(r"obj\.(users|events)\[(\d+)\]")

Client = Union[IterableClient, AsyncIterableClient]


class SendArgumentError(IterableSimError, ValueError):
    """send() given arguments that do not fit together (per-event flags for another number of events)."""


@without_collector
def send(events: Iterable[Any], settings: Settings, to: Target = None, *, stable_event_ids: bool = False,
         progress: bool = True, retry: RetryPolicy | None = None, timeout: float = 10.0, pace: bool = True,
         clock: Clock | None = None, received_at: Any = None,
         through_gateway: bool | Sequence[bool] = False) -> SendReport:
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
    With `settings.rudder_server` on, rudder-server's steps come first, as in `map_events` (`received_at`
    defaults to `clock`'s time when one is given, else now, not the mock's simulated time: the gateway is
    rudder-server's, not Iterable's; `through_gateway` as there, or one flag per event): an event they drop is
    `filtered`, one they refuse `failed` at that step, and neither is sent.
    """
    require_events(events)
    events = list(events)
    options = {"retry": retry, "timeout": timeout, "pace": pace, "clock": clock}
    target, client, mock = _connect(to, settings, IterableClient, **options)
    gateway = _gateway(received_at, clock, through_gateway)
    report, plan, legs = _prepare(events, settings, to, target, client, mock, stable_event_ids, progress, options,
                                  gateway)
    bar = _progress_bar(plan, target, progress)
    done = 0
    call: tuple[Request, list[Any]] | None  # a plan's call, then the call _take says comes next
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
                timeout: float = 10.0, pace: bool = True, clock: Clock | None = None, received_at: Any = None,
                through_gateway: bool | Sequence[bool] = False) -> SendReport:
    """`send`, from asyncio, with up to `concurrency` requests in flight (`await asend(...)` in Jupyter).

    Calls that carry the same event (a user's bulk update, then their device token) still go in
    order; other calls travel side by side, as RudderStack's router sends batches.
    """
    require_events(events)
    events = list(events)
    options = {"retry": retry, "timeout": timeout, "pace": pace, "clock": clock}
    target, client, mock = _connect(to, settings, AsyncIterableClient, max_concurrency=concurrency, **options)
    gateway = _gateway(received_at, clock, through_gateway)
    report, plan, legs = _prepare(events, settings, to, target, client, mock, stable_event_ids, progress, options,
                                  gateway)
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


def _gateway(received_at: Any, clock: Clock | None, through_gateway: bool | Sequence[bool]) -> dict[str, Any]:
    """rudder-server's gateway for a send: its clock reading, once, and whether the events went through one."""
    if received_at is None and clock is not None:
        received_at = clock.now()
    return {"received_at": received_at, "through_gateway": through_gateway}


def _connect(to: Target, settings: Settings, client_class: type[Client],
             **options: Any) -> tuple[str, Any, MockIterable | None]:
    require_settings(settings)
    check_keys(settings)
    clock = options["clock"]
    destination = resolve_target(to, "send", lambda: fresh_mock(settings, clock))
    if destination.mock is not None:
        options["clock"] = clock or destination.mock.clock
        return destination.description, client_class(transport=destination.mock.transport(), **options), \
            (destination.mock if destination.made else None)
    if destination.live:
        if not (isinstance(settings.api_key, str) and settings.api_key.strip()):
            raise LiveSendRefused("sending to live Iterable needs your API key, given explicitly: "
                                  "Settings(api_key=...) or Settings.from_rudder({'apiKey': ...})")
        return f"live Iterable ({settings.base_url})", client_class(**options), None
    return destination.description, client_class(base_url=destination.url, **options), None


CallPlan = list[tuple[Request, list[Any]]]  # each HTTP call to make, with the jobs (event indexes) it carries


def _prepare(events: list[Any], settings: Settings, to: Target, target: str, client: Client,
             mock: MockIterable | None,
             stable_event_ids: bool, progress: bool, options: dict[str, Any], gateway: dict[str, Any],
             ) -> tuple[SendReport, CallPlan, dict[int, list[Leg]]]:
    """rudder-server's steps, then route the events: the report to fill, the calls to make, and the
    outcomes already known (events stopped before the transformer, mapping failures)."""
    through = gateway["through_gateway"]
    server = RudderServer(settings, received_at=gateway["received_at"],
                          through_gateway=through if isinstance(through, bool) else False)
    flags = None if isinstance(through, bool) else list(through)
    if flags is not None and len(flags) != len(events):
        raise SendArgumentError(f"through_gateway has {len(flags)} flags for {len(events)} events: one each, "
                                f"or one bool for all")
    legs: dict[int, list[Leg]] = {}
    router_jobs: list[tuple[int, Any, Settings]] = []  # what rudder-server stores for its router: (event, output)
    for index, event in enumerate(events):
        fate = server.fate(index, event, through_gateway=None if flags is None else bool(flags[index]))
        if isinstance(fate, Stopped):
            legs[index] = [stopped_leg(fate)]
        else:
            router_jobs.extend((index, output, settings) for output in fate.events)
    # a stable id adds ,"id":"<uuid>" to each item: leave room for it in every bulk body
    max_bytes = MAX_BODY_BYTES - (STABLE_ID_BYTES * MAX_BULK_ITEMS if stable_event_ids else 0)
    batches = route(router_jobs, max_bytes=max_bytes)
    if stable_event_ids:
        _give_stable_ids(batches, events)
    resend_options = {"to": mock if to is None else to, "stable_event_ids": stable_event_ids, "progress": progress,
                      **options, **gateway, "through_gateway": through if flags is None else flags}
    report = SendReport(events, settings, [], [], target, mock=mock, started=client.clock.now(),
                        _resend_options=resend_options, _send=send)
    plan: CallPlan = []
    for batch in batches:
        if not batch.requests:
            for job in batch.job_ids:
                legs.setdefault(job, []).append(Leg("failed", batch.status, batch.error or "", "mapping", 0))
        for request, jobs in zip(batch.requests, batch.request_job_ids, strict=True):
            if not jobs:
                continue  # the empty bulk call RudderStack makes before an oversized item: it carries no event
            too_large = size_problem(request) if len(jobs) == 1 and request.endpoint in _BULK_LISTS else None
            if too_large:  # an item alone over Iterable's limit: not sent, as preflight says
                legs.setdefault(jobs[0], []).append(Leg("failed", PAYLOAD_TOO_LARGE, too_large, "mapping", 0))
                continue
            plan.append((request, jobs))
    report._exposed = {job for request, jobs in plan for job in _undeduplicable(request, jobs)}
    return report, plan, legs


def _lanes(plan: CallPlan) -> list[list[int]]:
    """The plan's steps in lanes: calls that carry a common event share a lane, and go in order."""
    lanes: dict[int, list[int]] = {}
    lane_of: dict[Any, int] = {}
    for step, (_, jobs) in enumerate(plan):
        lane = next((lane_of[job] for job in jobs if job in lane_of), step)
        for job in jobs:
            lane_of.setdefault(job, lane)
        lanes.setdefault(lane, []).append(step)
    return list(lanes.values())


def _progress_bar(plan: CallPlan, target: str, progress: bool) -> Any:
    return tqdm(total=len(plan), desc=f"sending to {target}", unit="req", disable=not progress or not plan,
                delay=PROGRESS_DELAY)


def _finish(report: SendReport, legs: dict[int, list[Leg]], unsent: CallPlan, now: float) -> SendReport:
    """Every event gets its outcome: one with a call never made failed, even if its other calls went."""
    for request, jobs in unsent:
        for job in jobs:
            legs.setdefault(job, []).append(Leg("failed", None, "not sent: the send was interrupted", "interrupted",
                                                 0, request.endpoint))
    report.finished = now
    report.outcomes = [outcome_of(index, legs.get(index)) for index in range(len(report.events))]
    for index, copies in report._duplicates.items():
        report.outcomes[index].possible_duplicates = copies
    return report


def _record(legs: dict[int, list[Leg]], delivery: Delivery, jobs: list[Any]) -> None:
    endpoint = delivery.request.endpoint
    if delivery.status is None:
        for job in jobs:
            legs.setdefault(job, []).append(Leg("failed", None, f"no answer: {delivery.error}", "delivery",
                                                 delivery.attempts, endpoint))
        return
    delivered: dict[int, Leg] = {}  # legs are never changed: one per status serves every item delivered
    for outcome in attribute(delivery.request, jobs, delivery.status, delivery.body):
        if 200 <= outcome.status < 300:
            leg = delivered.get(outcome.status)
            if leg is None:
                leg = delivered[outcome.status] = Leg("delivered", outcome.status, "", None, delivery.attempts,
                                                       endpoint)
        elif outcome.retryable:
            leg = Leg("failed", outcome.status, readable(outcome.error), "delivery", delivery.attempts, endpoint)
        else:
            leg = Leg("rejected", outcome.status, readable(outcome.error) + _after_silence(delivery), None,
                       delivery.attempts, endpoint)
        legs.setdefault(outcome.job_id, []).append(leg)


def _after_silence(delivery: Delivery) -> str:
    """A refusal that follows an attempt with no answer may be the first attempt's doing (an email
    already changed answers "User does not exist"): the reason says so."""
    if not delivery.unanswered:
        return ""
    return (f" (after {delivery.unanswered} attempt(s) that got no answer: Iterable may have applied one of "
            "them; check before re-sending)")


def _take(report: SendReport, legs: dict[int, list[Leg]], delivery: Delivery,
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


def _set_aside(delivery: Delivery, jobs: list[Any], legs: dict[int, list[Leg]]) -> tuple[Request, list[Any]] | None:
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
        reason = readable({"msg": body.get("msg"), "code": body.get("code"), "params": params})
        legs.setdefault(jobs[index], []).append(Leg("rejected", 400, reason, None, delivery.attempts,
                                                     delivery.request.endpoint))
    kept = [index for index in range(len(items)) if index not in named]
    request = delivery.request
    rest = Request(request.method, request.url, request.headers, {**request.json, key: [items[i] for i in kept]})
    return rest, [jobs[i] for i in kept]


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
    return [job for item, job in zip(_items(request), jobs, strict=True)
            if not (isinstance(item, dict) and item.get("id"))]


def _give_stable_ids(batches: Sequence[Batch], events: list[Any]) -> None:
    """Events and purchases without an id get one derived from their event's messageId."""
    for batch in batches:
        for request, jobs in zip(batch.requests, batch.request_job_ids, strict=True):
            if request.endpoint not in _IDEMPOTENT_BY_ID:
                continue
            for item, job in zip(_items(request), jobs, strict=True):
                message_id = events[job].get("messageId") if isinstance(events[job], dict) else None
                if "id" not in item and isinstance(message_id, str) and message_id:
                    item["id"] = str(uuid.uuid5(STABLE_ID_NAMESPACE, message_id))


