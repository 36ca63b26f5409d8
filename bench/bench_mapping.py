"""Benchmark: map_event throughput on a file of RudderStack events (run by hand, prints figures).

    python bench/bench_mapping.py ../shared/bench/events-10k.jsonl.gz ../shared/bench/settings.json

Events per second is the median of --runs timed passes over all events, after one warm-up pass,
in this one process; peak memory is tracemalloc's peak during one extra pass that keeps every request.
"""
from __future__ import annotations

import resource
import statistics
import time
import tracemalloc

from benchdata import bench_arguments, load_events, load_settings

from iterable_sim import MappingError, Settings, map_event



def one_pass(events: list[dict], settings: Settings, keep: list | None = None) -> tuple[float, int, int]:
    requests = errors = 0
    start = time.perf_counter()
    for event in events:
        try:
            mapped = map_event(event, settings)
        except MappingError:
            errors += 1
            continue
        requests += len(mapped)
        if keep is not None:
            keep.append(mapped)
    return time.perf_counter() - start, requests, errors


def main() -> None:
    parser = bench_arguments(__doc__)
    args = parser.parse_args()
    events = load_events(args.events)
    settings = load_settings(args.settings)

    one_pass(events, settings)  # warm-up
    timings = []
    for _ in range(args.runs):
        seconds, requests, errors = one_pass(events, settings)
        timings.append(seconds)
    tracemalloc.start()
    kept: list = []
    one_pass(events, settings, kept)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    median = statistics.median(timings)
    print(f"events: {len(events):,}  requests: {requests:,}  mapping errors: {errors:,}")
    print(f"map_event: {len(events) / median:,.0f} events/s (median of {args.runs}; "
          f"best {len(events) / min(timings):,.0f}, worst {len(events) / max(timings):,.0f})")
    print(f"peak memory mapping all events and keeping every request (tracemalloc): {peak / 2**20:.1f} MiB; "
          f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
