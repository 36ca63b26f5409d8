"""RudderStack's delivery to Iterable: rudder-server's router as a discrete-event simulation on the mock's clock.

`deliver_like_rudderstack(events, settings, mock)` first runs rudder-server's gateway and processor steps
(`settings.rudder_server`, on by default; iterable_sim.pipeline): an event they stop never reaches the router
and is reported where it stopped. Every other event becomes a router job (job IDs in event order) and it runs
rudder-server's router against the in-process MockIterable, whose ManualClock the simulation moves from
one event to the next (hours of outage take seconds). Each rule cites rudder-server at f2655fbbe (paths relative
to ../shared/rudderstack/server/source; the rules are summarised in ../shared/rudderstack/server/pipeline.md
section 3):

* Pickup (`router/handle.go:170-397, 674-804`): every `Router.readSleep` (1 s, `router/handle_lifecycle.go:358,
  425`) the jobs not yet terminal are read in job-ID order, at most `Router.jobQueryBatchSize`; for each, in
  order: drain or retry limit (aborted by its worker, code 410, `router/handle.go:695, 761-800`,
  `router/worker.go:83-119`); back-off (`shouldBackoff`, `router/handle.go:802-804`: not picked and its key is
  blocked for this pickup, `router/handle.go:728-731`); a slot in worker `fnv32a(workspace:destination:user) %
  Router.noOfWorkers` (`router/misc.go:58-60`, `utils/misc/misc.go:115-119`); the ordering barrier
  (`router/handle.go:739-748`). With ordering off for the key any worker with a free slot takes it
  (`router/handle.go:696-718`). A picked job is `executing`.
* Worker batching (`router/worker_batch_loop.go:27-85`): a worker collects its jobs until
  `Router.noOfJobsToBatchInAWorker` (20) or its `Router.jobsBatchTimeout` (5 s) timer fires (the timer restarts
  after each batch, `router/worker_batch_loop.go:53-54`), then one routerTransform call for the batch
  (`router/worker.go:235-261`), reproduced by `iterable_sim.mapping.batching.route`. A job whose user has a
  failed job must wait (`router/worker.go:121-160`): state `waiting`.
* Delivery (`router/worker.go:448-612`), items in job-ID order (`router/worker.go:442-444`); an item holding a
  user whose earlier item in this call failed is not sent: 500 (`router/worker.go:454, 613-621, 838-851,
  903-927`). Direct (default, `Router.transformerProxy` false, `router/handle_lifecycle.go:352`): the item's
  requests in order, the first non-2xx stops the rest and one status applies to every job of the item
  (`router/worker.go:504-562, 594-595, 892-901`); the body re-encoded by Go's encoding/json (sorted keys, `<>&`
  escaped, `router/network.go:102-199`) with `User-Agent: RudderLabs` (`router/network.go:224-231`); a transport
  error or a timeout after `Router.httpTimeout` is 504 (`router/network.go:233-286`). Proxy: per job codes from
  rudder-transformer's Iterable v1 proxy (`../shared/rudderstack/source/src/v1/destinations/iterable`), the last
  request's codes win, a non-terminal code in a non-last request makes every job 500 (`router/worker.go:523-542`).
* Status (`router/worker.go:644-717, 972-1084`, `router/misc.go:19-35`): 2xx succeeded (298 filtered), 3xx/4xx
  but 408 and 429 aborted, the rest failed with `RetryTime = now + min(maxRetryBackoff, minRetryBackoff *
  2^(attempt-1))` (no back-off once the retry limit is reached, `router/worker.go:1052`); of several
  non-terminal jobs of one key in a call only the lowest fails, the rest wait without an attempt
  (`router/worker.go:670-692`). A failed job becomes its key's barrier (`router/worker.go:1057-1073`).
* Retry limit (`router/handle.go:773-800`): last code >= 500 and not 599, more than `Router.retryTimeWindow`
  since the first failure and `AttemptNum >= Router.maxFailedCountForJob`: aborted, "retry limit reached";
  older than `Router.jobRetention`: aborted, "job expired" (`router/utils/utils.go:141-176`).

What the source cannot say and this model assumes (`Timing`): how long an Iterable call and a routerTransform call
take, and when the events reach the router. Status writes are taken as immediate (rudder-server batches them,
`Router.updateStatusBatchSize` / `maxStatusUpdateWait`, `router/handle_lifecycle.go:447-468`); throttling is off,
as the repository configures none for ITERABLE (`config/config.yaml:121-133`).
"""
from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterable, Sequence

import orjson

from iterable_sim.clock import ManualClock
from iterable_sim.rudder_router.barrier import Barrier
from iterable_sim.rudder_router.config import RouterConfig
from iterable_sim.rudder_router.report import MINUTE, DeliveryReport, JobRecord, QueueSample
from iterable_sim.exceptions import IterableSimError
from iterable_sim.mapping.batching import Batch, route
from iterable_sim.mapping.rudder_server import RudderServer
from iterable_sim.mapping.settings import Settings, require_events, require_settings
from iterable_sim.mock import MockIterable
from iterable_sim.pipeline.gateway import job_user_id
from iterable_sim.pipeline.fates import Stopped
from iterable_sim.pipeline.gojson import go_json
from iterable_sim.pipeline.gotime import GoTime
from iterable_sim.pipeline.router import is_job_terminated, job_state

USER_AGENT = "RudderLabs"  # router/network.go:372-374
DRAIN_ERROR_CODE = 410  # routerutils.DRAIN_ERROR_CODE, router/worker.go:90
SKIPPED_BODY = "skipping sending to destination because previous job (of user) in batch failed."  # worker.go:613-621
UNMARSHAL_ERROR_CODE = 599  # types.RouterUnMarshalErrorCode, router/types/types.go:15
BULK_LISTS = {"users/bulkUpdate": "users", "events/trackBulk": "events"}
# rudder-transformer src/v0/destinations/iterable/config.js:88-104 (read by src/v1/destinations/iterable/utils.ts:32-102)
USER_ID_PATHS = ("invalidUserIds", "failedUpdates.invalidUserIds", "failedUpdates.notFoundUserIds",
                 "failedUpdates.forgottenUserIds", "failedUpdates.conflictUserIds", "failedUpdates.invalidDataUserIds")
EMAIL_PATHS = ("invalidEmails", "failedUpdates.invalidEmails", "failedUpdates.notFoundEmails",
               "failedUpdates.forgottenEmails", "failedUpdates.conflictEmails", "failedUpdates.invalidDataEmails")


class DeliverySetupError(IterableSimError, ValueError):
    """The simulation needs an in-process MockIterable on a ManualClock."""


@dataclass(frozen=True, slots=True)
class Timing:
    """What rudder-server's source cannot tell, so the simulation assumes it (all in seconds).

    `call_seconds`: an Iterable request's round trip, on top of the mock's injected latency; `transform_seconds`:
    one routerTransform call; `arrival_interval`: the time between two events reaching the router (0: all are in
    the router's database when it starts). `workspace_id` / `destination_id` make the ordering key."""

    call_seconds: float = 0.1
    transform_seconds: float = 0.01
    arrival_interval: float = 0.0
    workspace_id: str = "workspace"
    destination_id: str = "iterable-destination"


def fnv32a(text: str) -> int:
    """Go's hash/fnv New32a of the text's UTF-8 bytes (misc.GetHash, utils/misc/misc.go:115-119)."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def order_key(message: Any, timing: Timing) -> str:
    """The barrier key `workspace:destination:UserID` (`BarrierKey.String`, eventorder.go:136-138) of an event;
    its UserID as the gateway builds it (`gateway/handle.go:566-571`), with no anonymous-id header."""
    anonymous_id = user_id = ""
    if isinstance(message, dict):
        anonymous_id = message.get("anonymousId") or ""
        user_id = message.get("userId") or ""
        anonymous_id = anonymous_id if isinstance(anonymous_id, str) else str(anonymous_id)
        user_id = user_id if isinstance(user_id, str) else str(user_id)
    return f"{timing.workspace_id}:{timing.destination_id}:{job_user_id('', anonymous_id, user_id)}"


@dataclass(slots=True)
class _Worker:
    index: int
    queue: deque[tuple[JobRecord, str | None]] = field(default_factory=deque)
    batch: list[JobRecord] = field(default_factory=list)
    busy: bool = False
    slots: int = 0  # jobs assigned and not yet given a status
    last_reset: float = 0.0
    timer: int = 0  # the generation of the pending timer event (a later one cancels it)


Step = Generator[float, None, None]


class RudderStackRouter:
    """One run of rudder-server's router for a list of events (use `deliver_like_rudderstack`)."""

    def __init__(self, settings: Settings, mock: MockIterable, config: RouterConfig | None = None,
                 timing: Timing | None = None, seed: int = 0) -> None:
        if not isinstance(mock, MockIterable) or not isinstance(mock.clock, ManualClock):
            raise DeliverySetupError("the RudderStack delivery model runs against an in-process MockIterable on a "
                                     "ManualClock: MockIterable(clock=ManualClock())")
        self.settings, self.mock, self.clock = settings, mock, mock.clock
        self.config = config or RouterConfig()
        self.timing = timing or Timing()
        cfg = self.config
        self.barrier = Barrier(cfg.event_order_key_threshold, cfg.event_order_drained_concurrency_limit,
                               cfg.event_order_disabled_state_duration, cfg.event_order_half_enabled_state_duration)
        self.workers = [_Worker(i) for i in range(cfg.no_of_workers)]
        self._rng = random.Random(seed)
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.jobs: list[JobRecord] = []
        self.messages: list[Any] = []
        self.pending: dict[int, JobRecord] = {}  # not terminal and not executing, by job ID
        self.executing = 0
        self.report: DeliveryReport | None = None

    # ---- the event loop ------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.clock.now()

    def _at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), action))

    def _run_step(self, step: Step) -> None:
        """Advance a generator process (a worker's batch) to its next wait."""
        try:
            wait = next(step)
        except StopIteration:
            return
        self._at(self.now + max(0.0, wait), lambda: self._run_step(step))

    def run(self, events: Sequence[Any]) -> DeliveryReport:
        start = self.now
        self.report = report = DeliveryReport(start, self.config, self.timing)
        # rudder-server's gateway and processor first (settings.rudder_server, on by default): an event they stop
        # never becomes a router job; its record says where it stopped (pipeline.md sections 1-2)
        server = RudderServer(self.settings, received_at=start)
        for index, event in enumerate(events):
            created = start + index * self.timing.arrival_interval
            if self.timing.arrival_interval:  # the gateway stamps each event as it arrives (receivedAt)
                server.received_at = GoTime.from_unix(created)
            fate = server.fate(index, event)
            stops = [fate] if isinstance(fate, Stopped) else list(fate.stopped)
            for stop in stops:
                record = JobRecord(0, index, order_key(event, self.timing), created)
                record.code, record.error, record.ended_at = stop.status, f"{stop.step}: {stop.text or stop.reason}", created
                record.mark(created, stop.state, stop.status, record.error)
                report.stopped.append(record)
            if isinstance(fate, Stopped):
                continue
            for output in fate.events:  # one job per output (a user transformation may fan an event out)
                job = JobRecord(len(self.jobs) + 1, index, order_key(output, self.timing), created)
                self.jobs.append(job)
                self.messages.append(output)
                self.pending[job.job_id] = job
        report.jobs, report.events = self.jobs, len(events)
        for worker in self.workers:
            worker.last_reset = start
        self._at(start, self._pickup)
        while self._heap:
            when, _, action = heapq.heappop(self._heap)
            if when > self.now:
                self.clock.advance(when - self.now)
            action()
        report.finished = self.now
        report.disabled_keys = list(self.barrier.disabled_keys)
        self.messages = []
        return report

    # ---- pickup (router/handle.go:170-397, 674-804) -------------------------------------------------

    def _pickup(self) -> None:
        now, cfg = self.now, self.config
        self.barrier.sync()  # router/handle.go:184-186
        blocked: set[str] = set()
        picked = behind = in_backoff = 0
        next_retry: float | None = None
        not_arrived: float | None = None
        for count, job_id in enumerate(sorted(self.pending)):
            if count >= cfg.job_query_batch_size:
                break
            job = self.pending[job_id]
            if job.created_at > now:  # not in the router's database yet
                not_arrived = job.created_at
                break
            key = job.user_key
            ordering_off = not cfg.guarantee_user_event_order or self.barrier.disabled(key, now)
            reason = self._drain_reason(job, now)
            backoff = job.state == "failed" and job.attempts > 0 and job.retry_time > now  # router/handle.go:802-804
            if ordering_off:  # router/handle.go:696-718
                worker = self._any_worker()
                if worker is None:
                    continue
                if reason is None and backoff:
                    in_backoff += 1
                    next_retry = job.retry_time if next_retry is None else min(next_retry, job.retry_time)
                    continue
                self._assign(worker, job, reason)
                picked += 1
                continue
            if key in blocked:  # router/handle.go:720-725
                behind += 1
                self._hold(job, now)
                continue
            if reason is None and backoff:  # router/handle.go:728-731
                in_backoff += 1
                blocked.add(key)
                next_retry = job.retry_time if next_retry is None else min(next_retry, job.retry_time)
                continue
            worker = self.workers[fnv32a(key) % cfg.no_of_workers]  # router/handle.go:732
            if worker.slots >= cfg.no_of_jobs_per_channel:  # router/handle.go:733-737
                blocked.add(key)
                continue
            entered, _ = self.barrier.enter(key, job.job_id, now)  # router/handle.go:739-748
            if not entered:
                behind += 1
                self._hold(job, now)
                blocked.add(key)
                continue
            self._assign(worker, job, reason)
            picked += 1
        self._sample(now, behind, in_backoff)
        if not self.pending and not self.executing:
            return
        following = now + cfg.read_sleep
        if not picked and not self.executing:  # idle: nothing can change before a retry time, an arrival or an expiry
            expiry = min(job.created_at for job in self.pending.values()) + cfg.job_retention + cfg.read_sleep
            wake = min(t for t in (next_retry, not_arrived, expiry) if t is not None)
            if wake > following:
                ticks = -(-(wake - now) // cfg.read_sleep)  # the first pickup of the read_sleep grid at or after it
                following = now + ticks * cfg.read_sleep
        self._at(following, self._pickup)

    def _sample(self, now: float, behind: int, in_backoff: int) -> None:
        """Keep the first pickup of each simulated minute (and the last one) for the timeline."""
        assert self.report is not None
        samples = self.report.samples
        sample = QueueSample(now, behind, in_backoff, self.executing, len(self.jobs) - len(self.pending) - self.executing)
        if samples and int((samples[-1].time - self.report.started) // MINUTE) == int((now - self.report.started) // MINUTE) \
                and len(samples) > 1 and int((samples[-2].time - self.report.started) // MINUTE) == \
                int((now - self.report.started) // MINUTE):
            samples[-1] = sample  # the minute's first sample stays; its latest replaces the previous latest
        else:
            samples.append(sample)

    def _drain_reason(self, job: JobRecord, now: float) -> str | None:
        """Why the job is aborted at pickup, if it is (router/handle.go:761-800, router/utils/utils.go:141-176)."""
        cfg = self.config
        if now - job.created_at > cfg.job_retention:
            return "job expired"
        if job.state == "failed" and self._retry_limit_reached(job, now):
            return "retry limit reached"
        return None

    def _retry_limit_reached(self, job: JobRecord, now: float) -> bool:
        """`retryLimitReached` (router/handle.go:773-800): only for a last code >= 500 other than 599."""
        code = job.code
        if code is None or code < 500 or code == UNMARSHAL_ERROR_CODE:
            return False
        first = job.first_attempted_at if job.first_attempted_at is not None else now
        return now - first > self.config.retry_time_window and job.attempts >= self.config.max_failed_count_for_job

    def _any_worker(self) -> _Worker | None:
        """`reserveAnyWorkerSlot`: a random start, then the first worker with a free slot."""
        workers, limit = self.workers, self.config.no_of_jobs_per_channel
        start = self._rng.randrange(len(workers))
        for offset in range(len(workers)):
            worker = workers[(start + offset) % len(workers)]
            if worker.slots < limit:
                return worker
        return None

    @staticmethod
    def _hold(job: JobRecord, now: float) -> None:
        """The pickup held the job back behind its user's blocked job (it stays as it was: no status)."""
        if job.held_from is None and job.state != "failed":
            job.held_from = now

    def _assign(self, worker: _Worker, job: JobRecord, reason: str | None) -> None:
        if job.held_from is not None:
            job.held_seconds += self.now - job.held_from
            job.held_from = None
        del self.pending[job.job_id]
        self.executing += 1
        worker.slots += 1
        job.mark(self.now, "executing", note=f"worker {worker.index}")
        worker.queue.append((job, reason))
        if not worker.busy:
            self._take(worker)

    # ---- a worker (router/worker_batch_loop.go:27-85, router/worker.go:76-160) -----------------------

    def _take(self, worker: _Worker) -> None:
        """The worker reads its queue into its batch; a full batch is processed at once."""
        cfg = self.config
        while worker.queue:
            job, reason = worker.queue.popleft()
            if reason is not None:  # router/worker.go:83-119: aborted without being sent
                self._finish(worker, job, "aborted", DRAIN_ERROR_CODE, reason, count_attempt=False)
                continue
            if cfg.guarantee_user_event_order:
                blocking = self.barrier.wait(job.user_key, job.job_id)  # router/worker.go:121-160
                if blocking is not None:
                    self._back_to_pending(worker, job, "waiting", f"blocking_id {blocking}")
                    continue
            worker.batch.append(job)
            if len(worker.batch) >= cfg.no_of_jobs_to_batch_in_a_worker:
                self._start(worker)
                return
        if worker.batch:
            timeout = cfg.jobs_batch_timeout
            elapsed = self.now - worker.last_reset
            ticks = max(1.0, -(-elapsed // timeout))
            worker.timer += 1
            generation = worker.timer
            self._at(worker.last_reset + ticks * timeout, lambda: self._timer(worker, generation))

    def _timer(self, worker: _Worker, generation: int) -> None:
        if generation == worker.timer and not worker.busy and worker.batch:
            self._start(worker)

    def _start(self, worker: _Worker) -> None:
        batch, worker.batch = worker.batch, []
        worker.busy = True
        worker.timer += 1
        self._run_step(self._process(worker, batch))

    def _process(self, worker: _Worker, jobs: list[JobRecord]) -> Step:
        """One routerTransform call and the delivery of its output (router/worker.go:235-717)."""
        assert self.report is not None
        report = self.report
        report.transform_calls += 1
        report.batch_sizes[len(jobs)] += 1
        yield self.timing.transform_seconds
        by_id = {job.job_id: job for job in jobs}
        batches = route([(job.job_id, self.messages[job.job_id - 1], self.settings, self.timing.destination_id)
                         for job in jobs])
        batches.sort(key=lambda b: min(b.job_ids))  # router/worker.go:442-444
        codes: dict[int, tuple[int, str]] = {}
        failed_keys: set[str] = set()
        for batch in batches:
            members = [by_id[j] for j in batch.job_ids]
            if batch.error is not None or not batch.requests:  # "error at transformation" (router/worker.go:638-642)
                item = {j: (batch.status, batch.error or "") for j in batch.job_ids}
            elif self.config.guarantee_user_event_order and any(
                    m.user_key in failed_keys and not self.barrier.disabled(m.user_key, self.now) for m in members):
                item = {j: (500, SKIPPED_BODY) for j in batch.job_ids}  # router/worker.go:613-621, 903-927
            else:
                item = {}
                yield from self._deliver(batch, item)
            codes.update(item)
            for member in members:  # router/worker.go:838-851
                if not is_job_terminated(item[member.job_id][0]) and not self.barrier.disabled(member.user_key, self.now):
                    failed_keys.add(member.user_key)
        first_failed: dict[str, int] = {}
        for job in sorted(jobs, key=lambda j: j.job_id):  # router/worker.go:644-717
            code, body = codes[job.job_id]
            if not is_job_terminated(code):
                blocking = first_failed.get(job.user_key)
                if blocking is not None:  # router/worker.go:670-692
                    self._back_to_pending(worker, job, "waiting", f"blocking_id {blocking}: attempted to send in a batch",
                                          code=code)
                    continue
                first_failed[job.user_key] = job.job_id
            state = job_state(code)
            self._finish(worker, job, state, code, body)
        worker.busy = False
        worker.last_reset = self.now  # router/worker_batch_loop.go:53-54
        self._take(worker)

    def _deliver(self, batch: Batch, item: dict[int, tuple[int, str]]) -> Step:
        """Send one destination job's requests; fill `item` with each job's code and body."""
        proxy = self.config.transformer_proxy
        last = len(batch.requests) - 1
        for position, request in enumerate(batch.requests):
            status, body = yield from self._call(request, proxy)
            if not proxy:  # router/worker.go:544-562: the first non-2xx stops; one code for every job
                if not 200 <= status < 300 or position == last:
                    item.update((j, (status, body)) for j in batch.job_ids)
                    return
                continue
            per_job = _proxy_codes(request, status, body, batch.job_ids)
            if position < last and any(not is_job_terminated(c) for c, _ in per_job.values()):  # worker.go:530-542
                item.update((j, (500, body)) for j in batch.job_ids)
                return
            item.clear()
            item.update(per_job)

    def _call(self, request: Any, proxy: bool) -> Generator[float, None, tuple[int, str]]:
        """One HTTP request to the mock, now; waits for its answer (the call's round trip and its latency)."""
        assert self.report is not None
        if proxy:  # rudder-transformer sends it (axios, JSON as is)
            headers = dict(request.headers)
            body = orjson.dumps(request.json)
        else:  # router/network.go:102-199, 224-231
            headers = {**request.headers, "User-Agent": USER_AGENT}
            body = go_json(request.json).encode()
        sent = self.now
        answer = self.mock.handle(request.method, request.url, headers, body)
        timeout = self.config.http_timeout
        if answer.dropped or (not proxy and answer.delay > timeout):
            waited = min(answer.delay, timeout) if not answer.dropped else 0.0
            status, text = 504, f'504 Unable to make "{request.method}" request for URL : "{request.url}"'
        else:
            waited = answer.delay
            status, text = answer.status, answer.body.decode("utf-8", "replace")
        self.report.record_call(sent, request.endpoint, status, len(body))
        yield self.timing.call_seconds + waited
        return status, text

    # ---- statuses ----------------------------------------------------------------------------------

    def _finish(self, worker: _Worker, job: JobRecord, state: str, code: int, body: str,
                count_attempt: bool = True) -> None:
        now = self.now
        if count_attempt:
            job.attempts += 1  # router/worker.go:695
        job.code, job.error = code, (None if state in ("succeeded", "filtered") else body[:500])
        if state == "failed":
            if job.first_attempted_at is None:
                job.first_attempted_at = now
            job.retry_time = now
            if not self._retry_limit_reached(job, now):  # router/worker.go:1052-1055, router/misc.go:30-35
                attempt = max(1, job.attempts)
                job.retry_time = now + min(self.config.max_retry_backoff,
                                           self.config.min_retry_backoff * 2.0 ** (attempt - 1))
            job.mark(now, "failed", code, body[:200])
            if self.config.guarantee_user_event_order:
                self.barrier.failed(job.user_key, job.job_id)  # router/worker.go:1057-1073
            worker.slots -= 1
            self.executing -= 1
            self.pending[job.job_id] = job
            return
        job.mark(now, state, code, None if state == "succeeded" else body[:200])
        job.ended_at = now
        worker.slots -= 1
        self.executing -= 1
        self.barrier.changed(job.user_key, job.job_id, state)

    def _back_to_pending(self, worker: _Worker, job: JobRecord, state: str, note: str, code: int | None = None) -> None:
        job.mark(self.now, state, code, note)
        job.waited_times += 1
        worker.slots -= 1
        self.executing -= 1
        self.pending[job.job_id] = job
        self.barrier.changed(job.user_key, job.job_id, state)


def _path(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _proxy_codes(request: Any, status: int, body: str, job_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """rudder-transformer's Iterable v1 proxy answer per job (src/v1/destinations/iterable/strategies/*.ts)."""
    if not 200 <= status < 300:  # generic.ts:34-54, track-identify.ts:45-65: every job gets Iterable's status
        return {j: (status, body) for j in job_ids}
    list_key = BULK_LISTS.get(request.endpoint)
    if list_key is None:  # generic.ts:13-32
        return {j: (status, body) for j in job_ids}
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        answer = {}
    if not isinstance(answer, dict) or answer.get("failCount") == 0:  # utils.ts: no check when failCount is 0
        return {j: (status, body) for j in job_ids}
    user_ids = {v for p in USER_ID_PATHS for v in (_path(answer, p) or []) if isinstance(_path(answer, p), list)}
    emails = {v for p in EMAIL_PATHS for v in (_path(answer, p) or []) if isinstance(_path(answer, p), list)}
    names = set(answer.get("disallowedEventNames") or []) if isinstance(answer.get("disallowedEventNames"), list) else set()
    items = request.json.get(list_key) if isinstance(request.json, dict) else None
    codes: dict[int, tuple[int, str]] = {}
    for index, job_id in enumerate(job_ids):  # track-identify.ts:10-43: element i is metadata i
        element = items[index] if isinstance(items, list) and index < len(items) else {}
        element = element if isinstance(element, dict) else {}
        errors = []
        if element.get("userId") and _hashable(element["userId"]) and element["userId"] in user_ids:
            errors.append(f'userId error:"{element["userId"]}"')
        if element.get("email") and _hashable(element["email"]) and element["email"] in emails:
            errors.append(f'email error:"{element["email"]}"')
        if element.get("eventName") and _hashable(element["eventName"]) and element["eventName"] in names:
            errors.append(f'eventName error:"{element["eventName"]}" in "disallowedEventNames"')
        codes[job_id] = (400, ".".join(errors)) if errors else (200, body)
    return codes


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def deliver_like_rudderstack(events: Iterable[Any], settings: Settings, mock: MockIterable | None = None, *,
                             config: RouterConfig | None = None, timing: Timing | None = None,
                             seed: int = 0) -> DeliveryReport:
    """Deliver `events` as rudder-server's router would, to `mock` (a fresh MockIterable on a ManualClock when
    None, accepting the settings' keys), and report every job's status sequence.

    `config`: rudder-server's router settings (`RouterConfig.from_keys({...})` reads its keys); `timing`: what
    the simulation assumes about durations and arrivals. Faults declared on `mock.faults` with `start`/`end`
    (the mock clock's time: `mock.clock.now() + 300` is "minute 5") act when the simulation reaches them."""
    require_events(events)
    require_settings(settings)
    events = list(events)
    if mock is None:
        mock = MockIterable(clock=ManualClock())
        mock.accept_keys_of(settings)
    router = RudderStackRouter(settings, mock, config, timing, seed)
    report = router.run(events)
    report.mock = mock
    return report
