"""Clocks that time is read from: the real one, or a manual one that tests and notebooks move by hand.

The mock Iterable (rate limits, latency, timestamps, its journal) and the delivery client (pacing,
retry back-off) both read `clock.now()` and wait with `clock.sleep()`, so with one `ManualClock`
shared between them a test of 429 handling is instant and deterministic, and a notebook can simulate
an hour of sending without waiting an hour.
"""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Protocol, runtime_checkable

from iterable_sim.exceptions import IterableSimError

# 2024-01-01T00:00:00Z: a manual clock starts at a realistic date so profile dates read sensibly.
DEFAULT_MANUAL_START = 1_704_067_200.0


class ClockError(IterableSimError, ValueError):
    """A ManualClock asked to go backwards."""


@runtime_checkable
class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""

    def sleep(self, seconds: float) -> None:
        """Let `seconds` pass (blocking the caller when the clock is real)."""

    async def asleep(self, seconds: float) -> None:
        """Let `seconds` pass without blocking the event loop."""


class SystemClock:
    """Wall-clock time; sleeping really waits."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


class ManualClock:
    """Time that only moves when told to: `advance(seconds)`, or a simulated `sleep`."""

    def __init__(self, start: float = DEFAULT_MANUAL_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward and return the new time."""
        if seconds < 0:
            raise ClockError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r})"


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (any year)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468
