"""Failures on demand: latency, 5xx, 429 and dropped connections, for chosen endpoints or a
fraction of requests, drawn from a seeded random generator so a run can be repeated exactly.

A fault may also be limited in time and by traffic, both read off the mock's clock (so a ManualClock
runs an hour's outage in no real time, and the in-process and the HTTP mock, which both answer through
`MockIterable.handle`, see the same faults):

* `start` / `end`: it fires only for requests made at `start <= now < end` (seconds since the epoch on
  the mock's clock; None: no bound), e.g. "503 on events/trackBulk from minute 5 to minute 25";
* `above`: it fires only for the requests beyond `above` per second to its endpoint, counted over the
  last second (the requests it refused do not count), e.g. "429 above 5 req/s".
"""
from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Iterator, Literal, get_args

from iterable_sim.mock.errors import MockSetupError

FaultKind = Literal["latency", "5xx", "429", "drop"]
KINDS: tuple[FaultKind, ...] = get_args(FaultKind)


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    endpoint: str | None  # an endpoint template such as "events/trackBulk"; None matches every request
    rate: float           # the fraction of matching requests it hits
    status: int           # for "5xx"
    seconds: float        # for "latency"
    times: int | None     # how many more times it may fire; None = no limit
    start: float | None = None  # fires only from this time on (the mock's clock), None: always
    end: float | None = None    # ... and before this time
    above: float | None = None  # fires only for requests beyond this many per second
    _recent: deque[float] = field(default_factory=deque, repr=False, compare=False)  # times let through (above)

    def matches(self, endpoint: str) -> bool:
        return self.endpoint is None or self.endpoint == endpoint

    def active(self, now: float | None) -> bool:
        """Whether `now` is inside the fault's time window (always, when it has none or no time is given)."""
        if now is None:
            return True
        return (self.start is None or now >= self.start) and (self.end is None or now < self.end)

    def over_rate(self, now: float | None) -> bool:
        """For an `above` fault: whether this request is beyond the rate (else it is counted as let through)."""
        if self.above is None or now is None:
            return True
        recent = self._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) + 1 > self.above:
            return True
        recent.append(now)
        return False


@dataclass(slots=True)
class Injection:
    """What the faults decided for one request: extra delay, and the failure that replaces it."""

    delay: float = 0.0
    failure: Fault | None = None


class Faults:
    """`mock.faults`: add, remove and clear faults; the mock asks `decide` on every request."""

    def __init__(self, seed: int | None = 0) -> None:
        self._rng = random.Random(seed)
        self._faults: list[Fault] = []

    def add(self, kind: FaultKind, endpoint: str | None = None, rate: float = 1.0, *, status: int = 500,
            seconds: float = 1.0, times: int | None = None, start: float | None = None, end: float | None = None,
            above: float | None = None) -> Fault:
        """Inject `kind` ("latency", "5xx", "429" or "drop") into `rate` of the requests to `endpoint`
        (e.g. "events/trackBulk", or None for all): a `status` 5xx answer, `seconds` of latency, a
        429 RateLimitExceeded, or a connection closed without an answer. `times` caps how often.
        `start` / `end` (the mock clock's seconds since the epoch) limit it to a time window; `above`
        to the requests beyond that many per second to the endpoint."""
        if kind not in KINDS:
            raise MockSetupError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        if kind == "5xx" and not 500 <= status <= 599:
            raise MockSetupError("a 5xx fault needs a status from 500 to 599")
        if not 0.0 <= rate <= 1.0:
            raise MockSetupError("rate is a fraction from 0 to 1")
        if start is not None and end is not None and end < start:
            raise MockSetupError("a fault's end comes before its start")
        if above is not None and above < 0:
            raise MockSetupError("above is a number of requests per second, at least 0")
        if endpoint is not None:
            endpoint = endpoint.split("/api/", 1)[-1].strip("/")
        fault = Fault(kind, endpoint, rate, status, seconds, times, start, end, above)
        self._faults.append(fault)
        return fault

    def remove(self, fault: Fault) -> None:
        self._faults.remove(fault)

    def clear(self) -> None:
        self._faults.clear()

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._faults))

    def __len__(self) -> int:
        return len(self._faults)

    def decide(self, endpoint: str, now: float | None = None) -> Injection | None:
        """Roll every matching fault for one request to `endpoint` made at `now` (the mock's clock;
        None: time windows and rates are not checked); None when nothing fires."""
        if not self._faults:
            return None
        injection = Injection()
        fired = False
        for fault in self._faults:
            if not fault.matches(endpoint) or fault.times == 0 or not fault.active(now):
                continue
            if fault.kind != "latency" and injection.failure is not None:
                continue
            if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                continue
            if fault.above is not None and not fault.over_rate(now):
                continue
            if fault.times is not None:
                fault.times -= 1
            fired = True
            if fault.kind == "latency":
                injection.delay += fault.seconds
            else:
                injection.failure = fault
        return injection if fired else None
