"""Benchmark: the events through the RudderStack delivery model (rudder-server's router, simulated) on the
in-process mock, with Iterable's rate limits on (run by hand, prints figures).

    python bench/bench_rudderstack.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

Prints the outcomes (succeeded, aborted, filtered), the calls per endpoint and by status (against the 2,009
calls of send()'s calls of 1,000 items), the routerTransform calls and their mean size, the delivery
latency percentiles, the simulated time the delivery takes, and the wall time of the simulation. A
`--outage MINUTES` adds a 503 on events/trackBulk from minute 5 for that long.
"""
from __future__ import annotations

import time
import tracemalloc

from benchdata import bench_arguments, load_events, load_settings

from iterable_sim import MockIterable
from iterable_sim.clock import ManualClock
from iterable_sim.rudder_router import RouterConfig, deliver_like_rudderstack


def main() -> None:
    parser = bench_arguments(__doc__)
    parser.add_argument("--outage", type=float, default=0.0, help="minutes of 503 on events/trackBulk from minute 5")
    parser.add_argument("--proxy", action="store_true", help="Router.ITERABLE.transformerProxy on")
    parser.add_argument("--no-rate-limits", action="store_true")
    parser.add_argument("--memory", action="store_true", help="trace the peak memory (tracemalloc slows the run)")
    args = parser.parse_args()
    events = load_events(args.events)
    settings = load_settings(args.settings, args.rudderstack)
    mock = MockIterable(clock=ManualClock(), rate_limits=not args.no_rate_limits, journal_limit=1000)
    mock.accept_keys_of(settings)
    if args.outage:
        t0 = mock.clock.now()
        mock.faults.add("5xx", "events/trackBulk", status=503, start=t0 + 300, end=t0 + 300 + args.outage * 60)
    if args.memory:
        tracemalloc.start()
    started = time.perf_counter()
    report = deliver_like_rudderstack(events, settings, mock, config=RouterConfig(transformer_proxy=args.proxy))
    wall = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if args.memory else 0
    s = report.summary()
    print(f"events: {s['events']:,}")
    print(report.headline())
    print(f"  succeeded {s['succeeded']:,}, aborted {s['aborted']:,}, filtered {s['filtered']:,}, "
          f"unfinished {s['unfinished']:,}; {s['retried_events']:,} events retried; {s['held_events']:,} held behind a "
          f"blocked user (at most {s['held_seconds_max']:.0f} s), {s['waiting_events']:,} set waiting")
    print(f"  calls: {s['calls']:,} (send() with calls of 1,000 items: 2,009); by status {s['calls_by_status']}")
    for endpoint, n in s["calls_per_endpoint"].items():
        print(f"    {endpoint:32} {n:6,}")
    print(f"  routerTransform calls: {s['router_transform_calls']:,}, {s['jobs_per_transform']:.1f} jobs each on average")
    print(f"  latency p50 {s['latency_p50']:.1f}s, p90 {s['latency_p90']:.1f}s, p99 {s['latency_p99']:.1f}s, "
          f"max {s['latency_max']:.1f}s")
    memory = f"; peak traced memory {peak / 1e6:.0f} MB" if args.memory else ""
    print(f"  simulated time: {report.duration:,.0f} s ({report.duration / 60:.1f} min); wall time {wall:.1f} s{memory}")


if __name__ == "__main__":
    main()
