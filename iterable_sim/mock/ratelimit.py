"""Iterable's documented rate limits (iterable_sim.limits), as leaky buckets on the mock's clock.

A bucket holds up to `rate * burst_seconds` requests and drains at `rate` per second; a request
that finds it full is answered 429 RateLimitExceeded and does not count. Not thread-safe by itself:
the mock calls it under its own lock.
"""
from __future__ import annotations

from typing import Mapping

from iterable_sim.limits import DAILY_CAPS, PER_API_KEY, RATE_LIMITS

DAY = 86_400.0


class Bucket:
    __slots__ = ("capacity", "rate", "level", "last")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate, self.capacity, self.level, self.last = rate, capacity, 0.0, now

    def _level(self, now: float) -> float:
        return max(0.0, self.level - (now - self.last) * self.rate)

    def has_room(self, now: float) -> bool:
        # epoch-sized floats carry ~1e-7 s of noise; a thousandth of a request absorbs it
        return self._level(now) + 1 <= self.capacity + 1e-3

    def take(self, now: float) -> None:
        self.level = self._level(now) + 1
        self.last = now


class DailyWindow:
    """At most `cap` requests per 24-hour window, the window opening at its first request."""

    __slots__ = ("cap", "count", "opened")

    def __init__(self, cap: int, now: float) -> None:
        self.cap, self.count, self.opened = cap, 0, now

    def has_room(self, now: float) -> bool:
        return now - self.opened >= DAY or self.count < self.cap

    def take(self, now: float) -> None:
        if now - self.opened >= DAY:
            self.count, self.opened = 0, now
        self.count += 1


class RateLimiter:
    def __init__(self, rates: Mapping[str, float | None] | None = None, burst_seconds: float = 1.0) -> None:
        merged: dict[str, float | None] = {**RATE_LIMITS, **(rates or {})}
        self.rates = {name: float(rate) for name, rate in merged.items() if rate}
        self.burst_seconds = burst_seconds
        self._buckets: dict[tuple[str, str], list[Bucket | DailyWindow]] = {}

    def admit(self, endpoint: str, project: str, api_key: str, now: float) -> bool:
        """Count one request to `endpoint` ("POST events/track"); False when it is over the limit."""
        rate = self.rates.get(endpoint)
        if rate is None:
            return True
        scope = api_key if endpoint in PER_API_KEY else project
        buckets = self._buckets.get((endpoint, scope))
        if buckets is None:
            buckets = [Bucket(rate, max(1.0, rate * self.burst_seconds), now)]
            if endpoint in DAILY_CAPS:
                buckets.append(DailyWindow(DAILY_CAPS[endpoint], now))
            self._buckets[(endpoint, scope)] = buckets
        if not all(b.has_room(now) for b in buckets):
            return False
        for b in buckets:
            b.take(now)
        return True

    def reset(self) -> None:
        self._buckets.clear()
