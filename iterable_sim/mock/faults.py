"""Failures on demand: latency, 5xx, 429 and dropped connections, for chosen endpoints or a
fraction of requests, drawn from a seeded random generator so a run can be repeated exactly."""
from __future__ import annotations

import random
from dataclasses import dataclass
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

    def matches(self, endpoint: str) -> bool:
        return self.endpoint is None or self.endpoint == endpoint


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
            seconds: float = 1.0, times: int | None = None) -> Fault:
        """Inject `kind` ("latency", "5xx", "429" or "drop") into `rate` of the requests to `endpoint`
        (e.g. "events/trackBulk", or None for all): a `status` 5xx answer, `seconds` of latency, a
        429 RateLimitExceeded, or a connection closed without an answer. `times` caps how often."""
        if kind not in KINDS:
            raise MockSetupError(f"unknown fault kind {kind!r}; expected one of {KINDS}")
        if kind == "5xx" and not 500 <= status <= 599:
            raise MockSetupError("a 5xx fault needs a status from 500 to 599")
        if not 0.0 <= rate <= 1.0:
            raise MockSetupError("rate is a fraction from 0 to 1")
        if endpoint is not None:
            endpoint = endpoint.split("/api/", 1)[-1].strip("/")
        fault = Fault(kind, endpoint, rate, status, seconds, times)
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

    def decide(self, endpoint: str) -> Injection | None:
        """Roll every matching fault for one request to `endpoint`; None when nothing fires."""
        if not self._faults:
            return None
        injection = Injection()
        fired = False
        for fault in self._faults:
            if not fault.matches(endpoint) or fault.times == 0:
                continue
            if fault.kind != "latency" and injection.failure is not None:
                continue
            if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                continue
            if fault.times is not None:
                fault.times -= 1
            fired = True
            if fault.kind == "latency":
                injection.delay += fault.seconds
            else:
                injection.failure = fault
        return injection if fired else None
