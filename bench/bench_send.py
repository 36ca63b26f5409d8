"""Benchmark: end-to-end send() to the in-process mock Iterable (run by hand, prints figures).

    python bench/bench_send.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

Each pass maps, routes and delivers every event, parsed from the file just before it (not timed),
to a fresh in-process mock Iterable (on simulated time, pacing on: the mock's rate limits never
answer 429) and attributes every outcome; the share of time in the garbage collector is shown. Events per
second is the median of --runs passes after a warm-up, in this one process; also shown: the outcome
counts (delivered + rejected + failed == sent), the calls made, what the mock stored, the simulated
time the send takes at Iterable's rate limits, and the same with asend() at --concurrency.
"""
from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any, Callable

from benchdata import bench_arguments, fresh_passes, load_lines, load_settings, rate_line

from iterable_sim import MockIterable, SendReport, Settings, asend, send
from iterable_sim.clock import ManualClock


def fresh_mock(settings: Settings) -> MockIterable:
    mock = MockIterable(clock=ManualClock())
    for key in (settings.api_key, settings.register_device_or_browser_api_key):
        if key:
            mock.add_api_key(key)
    return mock


def timed(run: Callable[[list[dict], MockIterable], SendReport], lines: list[bytes], settings: Settings,
          runs: int) -> tuple[list[float], list[float], SendReport, MockIterable]:
    """Passes of `run`, each on events parsed just before it and a fresh mock; the collector's seconds too."""
    mocks: list[MockIterable] = []

    def work(events: list[dict]) -> SendReport:
        mocks[:] = [fresh_mock(settings)]
        return run(events, mocks[0])

    timings, collector, report = fresh_passes(lines, runs, work)
    return timings, collector, report, mocks[0]


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    lines = load_lines(args.events)
    settings = load_settings(args.settings, args.rudderstack)
    options: dict[str, Any] = {"progress": False, "stable_event_ids": True}

    timings, collector, report, mock = timed(lambda events, mock: send(events, settings, to=mock, **options),
                                             lines, settings, args.runs)
    s = report.summary()
    print(f"events: {len(lines):,}")
    print(rate_line("send (sync)", len(lines), timings, collector))
    print(f"  sent {s['sent']:,} = delivered {s['delivered']:,} + rejected {s['rejected']:,} + failed {s['failed']:,}; "
          f"{s['requests']:,} calls; {s['retried']:,} events retried")
    reasons = Counter(re.sub(r"\S+@\S+", "<email>", o.reason) for o in report.outcomes if o.fate != "delivered")
    for reason, count in reasons.most_common(5):
        print(f"  not delivered, {count:,}x: {reason}")
    print(f"  the mock stored {len(mock.users_frame()):,} profiles, {len(mock.events_frame()):,} events, "
          f"{len(mock.purchases_frame()):,} purchases, {len(mock.devices_frame()):,} devices")
    print(f"  simulated time at Iterable's rate limits: {report.duration:,.1f} s")

    def run_async(events: list[dict], mock: MockIterable) -> SendReport:
        return asyncio.run(asend(events, settings, to=mock, concurrency=args.concurrency, **options))

    async_timings, async_collector, async_report, _ = timed(run_async, lines, settings, args.runs)
    a = async_report.summary()
    print(rate_line(f"asend (concurrency {args.concurrency})", len(lines), async_timings, async_collector))
    print(f"  delivered {a['delivered']:,}, rejected {a['rejected']:,}, failed {a['failed']:,}; "
          f"simulated time {async_report.duration:,.1f} s")


if __name__ == "__main__":
    main()
