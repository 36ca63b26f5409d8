"""What the RudderStack delivery model reports: each job's status sequence, and the summary RudderStack's own
reporting would show (succeeded, aborted and filtered counts, delivery latency, calls per endpoint).

Memory beyond the per-event report is bounded by simulated time, not by the input: calls are counted per
endpoint and per minute, never kept one by one, and the router's queue is sampled once a simulated minute.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple

if TYPE_CHECKING:
    import pandas as pd

    from iterable_sim.rudder_router.config import RouterConfig
    from iterable_sim.rudder_router.rudderstack import Timing
    from iterable_sim.rudder_router.timeline import TimelineChart
    from iterable_sim.mock import MockIterable

TERMINAL = ("succeeded", "aborted", "filtered")
# where rudder-server's gateway or processor stopped an event before the router (iterable_sim.pipeline.fates)
BEFORE_ROUTER = ("filtered", "aborted", "rejected", "suppressed")
MINUTE = 60.0


class JobStep(NamedTuple):
    """One status of a job: when (seconds since the start), which state, after how many attempts, the code."""

    time: float
    state: str
    attempt: int
    code: int | None
    note: str | None


@dataclass(slots=True)
class JobRecord:
    """One event's router job: its ordering key, its status sequence and its end."""

    job_id: int
    index: int
    user_key: str
    created_at: float
    state: str = "not_picked_yet"
    attempts: int = 0
    code: int | None = None
    retry_time: float = 0.0
    first_attempted_at: float | None = None
    error: str | None = None
    ended_at: float | None = None
    waited_times: int = 0
    held_seconds: float = 0.0  # time the pickup held it back behind its user's blocked job (no status is written)
    held_from: float | None = None
    history: list[tuple[float, str, int, int | None, str | None]] = field(default_factory=list)

    def mark(self, now: float, state: str, code: int | None = None, note: str | None = None) -> None:
        self.state = state
        self.history.append((now, state, self.attempts, code, note))

    @property
    def outcome(self) -> str:
        if self.job_id == 0:  # stopped before the router
            return self.state
        return self.state if self.state in TERMINAL else "unfinished"


@dataclass(slots=True)
class QueueSample:
    """The router's jobs at one pickup: waiting behind a blocked user (an earlier job of theirs failed or is
    waiting), in back-off after their own failure, being executed, and done."""

    time: float
    behind_blocked_user: int
    in_backoff: int
    executing: int
    done: int


@dataclass
class DeliveryReport:
    """The result of `deliver_like_rudderstack`: `jobs` (one per event, in event order), `summary()`,
    `steps_frame()` (every status of every job), `timeline()` (the chart)."""

    started: float
    config: RouterConfig
    timing: Timing
    finished: float = 0.0
    jobs: list[JobRecord] = field(default_factory=list)
    stopped: list[JobRecord] = field(default_factory=list)  # events rudder-server stopped before the router (job_id 0)
    events: int = 0
    calls: Counter[tuple[str, int]] = field(default_factory=Counter)  # (endpoint, status) -> calls
    calls_per_minute: dict[int, Counter[str]] = field(default_factory=dict)  # minute -> outcome class -> calls
    transform_calls: int = 0
    batch_sizes: Counter[int] = field(default_factory=Counter)  # jobs per routerTransform call -> how many calls
    bytes_sent: int = 0
    samples: list[QueueSample] = field(default_factory=list)
    disabled_keys: list[tuple[float, str]] = field(default_factory=list)
    mock: MockIterable | None = None

    def record_call(self, when: float, endpoint: str, status: int, size: int) -> None:
        self.calls[(endpoint, status)] += 1
        self.bytes_sent += size
        minute = int((when - self.started) // MINUTE)
        self.calls_per_minute.setdefault(minute, Counter())[call_class(status)] += 1

    # ---- figures --------------------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Simulated seconds from the start to the last status."""
        return self.finished - self.started

    def records(self) -> list[JobRecord]:
        """Every event's records in event order: its router jobs, or where rudder-server stopped it before (job_id 0)."""
        if not self.stopped:
            return self.jobs
        return sorted(self.jobs + self.stopped, key=lambda r: (r.index, r.job_id))

    def calls_per_endpoint(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for (endpoint, _), n in self.calls.items():
            counts[endpoint] += n
        return dict(sorted(counts.items()))

    def calls_by_status(self) -> dict[int, int]:
        counts: Counter[int] = Counter()
        for (_, status), n in self.calls.items():
            counts[status] += n
        return dict(sorted(counts.items()))

    def latencies(self) -> list[float]:
        """Seconds from each delivered (succeeded) job's creation to its success."""
        return sorted(j.ended_at - j.created_at for j in self.jobs if j.state == "succeeded" and j.ended_at is not None)

    def first_attempt_delays(self) -> list[float]:
        """Seconds from each job's creation to its first delivery attempt (how long it waited to be tried:
        behind a blocked user, or for a worker)."""
        delays = []
        for job in self.jobs:
            tried = next((t for t, state, *_ in job.history if state in ("failed",) + TERMINAL), None)
            if tried is not None:
                delays.append(tried - job.created_at)
        return delays

    def summary(self) -> dict[str, Any]:
        """What RudderStack's reporting shows for the run (succeeded, aborted, filtered; `reported_failed` as its
        `failed` count), the delivery latency percentiles (nearest rank, succeeded jobs), and the calls made."""
        outcomes = Counter(record.outcome for record in self.records())
        latencies = self.latencies()
        return {
            "events": self.events, "router_jobs": len(self.jobs),
            "succeeded": outcomes["succeeded"], "aborted": outcomes["aborted"], "filtered": outcomes["filtered"],
            "unfinished": outcomes["unfinished"],
            # stopped by rudder-server's gateway (refused, or a suppressed user's): never stored, never reported
            "rejected_at_gateway": outcomes["rejected"], "suppressed": outcomes["suppressed"],
            "stopped_before_router": len(self.stopped),
            "retried_events": sum(1 for j in self.jobs if any(s[1] == "failed" for s in j.history)),
            # RudderStack's reporting counts `failed` only on attempt 1 and not for 599 (router/handle.go:458-570)
            "reported_failed": sum(1 for j in self.jobs for s in j.history if s[1] == "failed" and s[2] == 1
                                   and s[3] != 599),
            "waiting_events": sum(1 for j in self.jobs if j.waited_times),
            "held_events": sum(1 for j in self.jobs if j.held_seconds),
            "held_seconds_max": max((j.held_seconds for j in self.jobs), default=0.0),
            "attempts": sum(j.attempts for j in self.jobs),
            "calls": sum(self.calls.values()),
            "calls_per_endpoint": self.calls_per_endpoint(),
            "calls_by_status": self.calls_by_status(),
            "router_transform_calls": self.transform_calls,
            "jobs_per_transform": _mean(self.batch_sizes),
            "latency_p50": _percentile(latencies, 50), "latency_p90": _percentile(latencies, 90),
            "latency_p99": _percentile(latencies, 99), "latency_max": latencies[-1] if latencies else None,
            "first_attempt_after_max": max(self.first_attempt_delays(), default=None),
            "simulated_seconds": self.duration,
            "ordering_switched_off": len(self.disabled_keys),
        }

    def steps(self, index: int) -> list[JobStep]:
        """The status sequence of event `index` (of its jobs, one after the other, when a user transformation
        fanned it out), times in seconds since the start."""
        return [step for i, step in self.iter_steps() if i == index] if self.stopped or len(self.jobs) != self.events \
            else [JobStep(t - self.started, s, a, c, n) for t, s, a, c, n in self.jobs[index].history]

    def iter_steps(self) -> Iterator[tuple[int, JobStep]]:
        for job in self.records():
            for t, s, a, c, n in job.history:
                yield job.index, JobStep(t - self.started, s, a, c, n)

    def steps_frame(self) -> pd.DataFrame:
        """One row per status of every job: event, job_id, user, seconds, state, attempt, code, note."""
        import pandas as pd

        rows = [(job.index, job.job_id, user_of(job.user_key), t - self.started, s, a, c, n)
                for job in self.records() for t, s, a, c, n in job.history]
        return pd.DataFrame(rows, columns=["event", "job_id", "user", "seconds", "state", "attempt", "code", "note"])

    def outcomes_frame(self) -> pd.DataFrame:
        """One row per event: its outcome, attempts, last code, latency, the seconds the pickup held it behind its
        user's blocked job, and the times it was set `waiting`."""
        import pandas as pd

        rows = [(job.index, job.job_id, user_of(job.user_key), job.outcome, job.attempts, job.code,
                 None if job.ended_at is None else job.ended_at - job.created_at, job.held_seconds, job.waited_times,
                 job.error) for job in self.records()]
        return pd.DataFrame(rows, columns=["event", "job_id", "user", "outcome", "attempts", "code", "latency",
                                           "held_seconds", "times_waiting", "error"])

    def outcomes_per_minute(self) -> dict[int, Counter[str]]:
        minutes: dict[int, Counter[str]] = {}
        for job in self.records():
            if job.ended_at is not None:
                minutes.setdefault(int((job.ended_at - self.started) // MINUTE), Counter())[job.outcome] += 1
        return minutes

    def timeline(self, title: str = "RudderStack delivery, minute by minute") -> TimelineChart:
        """The chart: calls per minute by answer, events waiting behind a blocked user, outcomes over time."""
        from iterable_sim.rudder_router.timeline import TimelineChart

        return TimelineChart.from_report(self, title)

    def headline(self) -> str:
        s = self.summary()
        p50 = "-" if s["latency_p50"] is None else f"{s['latency_p50']:.0f}s"
        p99 = "-" if s["latency_p99"] is None else f"{s['latency_p99']:.0f}s"
        stopped = f" ({s['stopped_before_router']:,} before the router)" if s["stopped_before_router"] else ""
        return (f"{s['events']:,} events{stopped}: {s['succeeded']:,} succeeded, {s['aborted']:,} aborted, {s['filtered']:,} "
                f"filtered, {s['unfinished']:,} unfinished; {s['calls']:,} calls; latency p50 {p50}, p99 {p99}; "
                f"{_clock(self.duration)} simulated")

    def __repr__(self) -> str:
        return f"DeliveryReport({self.headline()})"


def user_of(key: str) -> str:
    """The userId (or anonymousId) part of an order key `workspace:destination:<hdr><<>><anon or user><<>><user>`."""
    parts = key.split("<<>>")
    if len(parts) != 3:
        return key
    return parts[2] or parts[1]


def call_class(status: int) -> str:
    """An answer's class for the charts: ok (2xx), refused (other 4xx and 3xx), retried (408, 429, 5xx, none)."""
    if 200 <= status < 300:
        return "ok"
    if 300 <= status < 500 and status not in (408, 429):
        return "refused"
    return "retried"


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return None
    rank = max(1, math.ceil(q / 100 * len(values)))
    return values[rank - 1]


def _mean(counts: Counter[int]) -> float | None:
    total = sum(counts.values())
    return None if not total else sum(size * n for size, n in counts.items()) / total


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"
