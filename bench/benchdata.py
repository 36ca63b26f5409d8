"""What the benchmark scripts share: reading the events file and the destination Config."""
from __future__ import annotations

import argparse
import gc
import gzip
import json
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import orjson

from iterable_sim import Settings


def load_events(path: Path) -> list[dict]:
    """One RudderStack event per line of a JSONL file (.gz allowed)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_settings(path: Path | None, rudderstack: str = "latest") -> Settings:
    """A RudderStack destination Config from a JSON file (without one, Track All Pages and a test key), mapped
    as the rudder-transformer release `rudderstack`."""
    config = json.loads(path.read_text()) if path else {"apiKey": "k", "trackAllPages": True}
    return Settings.from_rudder(config, rudderstack=rudderstack)


def bench_arguments(doc: str) -> argparse.ArgumentParser:
    """The arguments every benchmark takes: the events file, the Config, how many timed passes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("events", type=Path, help="JSONL file of events (.gz allowed)")
    parser.add_argument("settings", type=Path, nargs="?", help="RudderStack destination Config JSON")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rudderstack", metavar="RELEASE", default="latest",
                        help="the rudder-transformer release to map as (iterable-sim --version lists them)")
    return parser


def load_lines(path: Path) -> list[bytes]:
    """The file's JSON lines, unparsed: each timed pass parses them afresh, as users have events."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as lines:
        return [line for line in lines if line.strip()]


class CollectorClock:
    """Seconds spent in the garbage collector while active (gc.callbacks)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> "CollectorClock":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def fresh_passes(lines: list[bytes], runs: int, work: Callable[[list[dict]], Any]) -> tuple[list[float], list[float], Any]:
    """`runs` timed passes of `work` (after one warm-up), each over events parsed from `lines` just
    before it (parsing not timed, then a full collection, as RudderStack's bench does): the seconds of each pass, the collector's seconds in each, the last result."""
    timings, collector = [], []
    work([orjson.loads(line) for line in lines])  # warm-up
    result = None
    for _ in range(runs):
        result = None  # the pass before is garbage, as in a fresh process
        events = [orjson.loads(line) for line in lines]
        gc.collect()  # as RudderStack's bench does between passes (it runs node's gc())
        with CollectorClock() as clock:
            start = time.perf_counter()
            result = work(events)
            timings.append(time.perf_counter() - start)
        collector.append(clock.seconds)
    return timings, collector, result


def rate_line(name: str, count: int, timings: list[float], collector: list[float]) -> str:
    median = statistics.median(timings)
    share = sum(collector) / sum(timings)
    return (f"{name}: {count / median:,.0f} events/s (median of {len(timings)} fresh passes; best "
            f"{count / min(timings):,.0f}, worst {count / max(timings):,.0f}); garbage collector {share:.0%} of the time")
